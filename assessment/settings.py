"""Settings, read from the environment by ``load_settings(env)``; nothing is read at import time.

Every setting is listed in ``SETTINGS`` with its environment variable, default and meaning, and
documented in docs/settings.md (a test keeps the two in step).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["SETTINGS", "Setting", "Settings", "default_questionnaires_dir", "load_settings"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_questionnaires_dir() -> Path:
    """The repository's questionnaires/ in a checkout; the installed package data otherwise."""
    in_repo = REPO_ROOT / "questionnaires"
    if in_repo.is_dir():
        return in_repo
    # A data-only folder installed as a namespace package: ask the import system where it lives.
    from importlib.util import find_spec

    spec = find_spec("assessment.shipped_questionnaires")
    if spec is None or not spec.submodule_search_locations:
        return in_repo
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class Setting:
    env: str
    field: str
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ASSESSMENT_DATA_DIR", "data_dir", "./data", "Folder for the embedded SQLite database and backups."),
    Setting("ASSESSMENT_DATABASE_URL", "database_url", "sqlite:///<data_dir>/assessment.db",
            "SQLAlchemy URL; e.g. postgresql+psycopg://user@host:5432/db for multi-user deployments."),
    Setting("ASSESSMENT_QUESTIONNAIRES_DIR", "questionnaires_dir", "the repository's questionnaires/",
            "Folder of questionnaire files <id>/<version>.yaml."),
    Setting("ASSESSMENT_BASE_URL", "base_url", "http://localhost:8501", "Address invite links are built on."),
    Setting("ASSESSMENT_DEMO", "demo", "1", "Seed the synthetic demo dataset on first start (0 starts empty)."),
    Setting("ASSESSMENT_MIN_COVERAGE", "min_coverage", "0.5",
            "Share of applicable item weight a respondent must answer to get a domain score."),
    Setting("ASSESSMENT_SPLIT_THRESHOLD", "split_threshold", "1.0",
            "Agency gap or SD at which a domain is flagged split."),
    Setting("ASSESSMENT_MIN_GROUP_SIZE", "min_group_size", "3", "Smallest group of respondents whose figures are shown."),
    Setting("ASSESSMENT_MIN_PEERS", "min_peers", "3", "Fewest other partnerships for peer statistics."),
    Setting("ASSESSMENT_BOOTSTRAP_RESAMPLES", "bootstrap_resamples", "2000", "Bootstrap resamples for change intervals."),
    Setting("ASSESSMENT_BOOTSTRAP_SEED", "bootstrap_seed", "20260101", "Seed of the bootstrap (results are repeatable)."),
    Setting("ASSESSMENT_MIN_RESPONDENTS_FOR_CHANGE", "min_respondents_for_change", "5",
            "Fewest scored respondents per round for a change interval."),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    questionnaires_dir: Path
    base_url: str
    demo: bool
    min_coverage: float
    split_threshold: float
    min_group_size: int
    min_peers: int
    bootstrap_resamples: int
    bootstrap_seed: int
    min_respondents_for_change: int


def _truthy(text: str) -> bool:
    return text.strip().lower() not in ("0", "false", "no", "off", "")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    raw = {s.field: env.get(s.env, s.default) for s in SETTINGS}
    data_dir = Path(raw["data_dir"]).expanduser()
    url = env.get("ASSESSMENT_DATABASE_URL") or f"sqlite:///{(data_dir / 'assessment.db').as_posix()}"
    qdir = env.get("ASSESSMENT_QUESTIONNAIRES_DIR")
    types = {f.name: f.type for f in fields(Settings)}
    values: dict = {}
    for name, text in raw.items():
        kind = types[name]
        try:
            if kind == "float":
                values[name] = float(text)
            elif kind == "int":
                values[name] = int(text)
            elif kind == "bool":
                values[name] = _truthy(text)
            else:
                values[name] = text
        except ValueError as exc:
            env_name = next(s.env for s in SETTINGS if s.field == name)
            raise ValueError(f"setting {env_name}={text!r} is not a valid {kind}") from exc
    values.update(
        data_dir=data_dir,
        database_url=url,
        questionnaires_dir=Path(qdir).expanduser() if qdir else default_questionnaires_dir(),
        base_url=raw["base_url"].rstrip("/"),
    )
    return Settings(**values)
