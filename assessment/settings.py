"""Settings, read from the environment by ``load_settings(env)``; nothing is read at import time.

Every setting is listed in ``SETTINGS`` with its environment variable, default and meaning, and
documented in docs/settings.md (a test keeps the two in step). ``Settings`` types each one and holds its
allowed range (pydantic): a bad value stops the app or command at start with the variable, its value
and the range. Adding a setting is two lines: a ``Setting(...)`` entry and a ``Settings`` field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError

from assessment.vocabulary import parse_yes_no

__all__ = ["COMMAND_LINE_BASE_URL", "SETTINGS", "Setting", "Settings", "SettingsError", "allowed_values",
           "default_questionnaires_dir", "invite_base_url", "load_settings", "shipped_data_dir"]

#: Where the command line builds invite links when ASSESSMENT_BASE_URL is unset (Streamlit's default address).
COMMAND_LINE_BASE_URL = "http://localhost:8501"

REPO_ROOT = Path(__file__).resolve().parent.parent


def shipped_data_dir(folder: str, package: str) -> Path:
    """The repository's ``folder`` in a checkout; the installed package data (``package``) otherwise."""
    in_repo = REPO_ROOT / folder
    if in_repo.is_dir():
        return in_repo
    # A data-only folder installed as a namespace package: ask the import system where it lives.
    from importlib.util import find_spec

    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return in_repo
    return Path(next(iter(spec.submodule_search_locations)))


def default_questionnaires_dir() -> Path:
    """The repository's questionnaires/ in a checkout; the installed package data otherwise."""
    return shipped_data_dir("questionnaires", "assessment.shipped_questionnaires")


#: A yes/no setting, read by the product's one yes/no parser.
YesNo = Annotated[bool, BeforeValidator(parse_yes_no)]

#: The fewest characters of a backup key: a short key can be guessed offline against a stolen backup.
BACKUP_KEY_MIN_CHARS = 32


def _backup_key(text: object) -> object:
    """Empty means no key (backups are unsigned); anything else must be long enough to be a secret."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, str) and len(text) < BACKUP_KEY_MIN_CHARS:
        raise ValueError(f"a backup key needs at least {BACKUP_KEY_MIN_CHARS} characters")
    return text


#: A secret: hidden in the settings' repr and never echoed in an error message.
BackupKey = Annotated[SecretStr | None, BeforeValidator(_backup_key)]


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
    Setting("ASSESSMENT_BASE_URL", "base_url", "",
            "Address invite links are built on. Unset: the address the app is served at (the app warns when a set "
            "address differs from it); the command line then uses http://localhost:8501."),
    Setting("ASSESSMENT_DEMO", "demo", "1", "Seed the synthetic demo dataset on first start (0 starts empty)."),
    Setting("ASSESSMENT_MIN_COVERAGE", "min_coverage", "0.5",
            "Share of applicable item weight a respondent must answer to get a domain score."),
    Setting("ASSESSMENT_SPLIT_THRESHOLD", "split_threshold", "1.0",
            "Agency gap or SD at which a domain is flagged split."),
    Setting("ASSESSMENT_MIN_GROUP_SIZE", "min_group_size", "3", "Smallest group of respondents whose figures are shown."),
    Setting("ASSESSMENT_MIN_PEERS", "min_peers", "3", "Fewest other partnerships for peer statistics."),
    Setting("ASSESSMENT_MIN_PEERS_SPREAD", "min_peers_spread", "5",
            "Fewest contributing partnerships for a Q1 and Q3 (peer groups, regions, promising practices)."),
    Setting("ASSESSMENT_MIN_PEERS_EXTREMES", "min_peers_extremes", "10",
            "Fewest contributing partnerships for a minimum and maximum."),
    Setting("ASSESSMENT_PEER_WINDOW_MONTHS", "peer_window_months", "12",
            "Months, ending with a round's own period, in which each peer's most recent closed round is used."),
    Setting("ASSESSMENT_BOOTSTRAP_RESAMPLES", "bootstrap_resamples", "2000", "Bootstrap resamples for change intervals."),
    Setting("ASSESSMENT_BOOTSTRAP_SEED", "bootstrap_seed", "20260101", "Seed of the bootstrap (results are repeatable)."),
    Setting("ASSESSMENT_MIN_RESPONDENTS_FOR_CHANGE", "min_respondents_for_change", "5",
            "Fewest scored respondents per round for a change interval."),
    Setting("ASSESSMENT_INVITE_GUESSES_PER_BROWSER", "invite_guesses_per_browser", "10",
            "Invitation links that do not work a browser session may try within the window before it must wait."),
    Setting("ASSESSMENT_INVITE_GUESSES_PER_ADDRESS", "invite_guesses_per_address", "50",
            "The same for one client address (several people may share one, e.g. an office network)."),
    Setting("ASSESSMENT_INVITE_GUESS_WINDOW_MINUTES", "invite_guess_window_minutes", "60",
            "The window, in minutes, in which failed invitation links are counted."),
    Setting("ASSESSMENT_RECONCILIATION_TOLERANCE", "reconciliation_tolerance", "0.10",
            "Police and NHS figures for the same indicator are flagged when they differ by more than this share "
            "of the larger."),
    Setting("ASSESSMENT_BACKUP_KEY", "backup_key", "",
            "Secret that signs backups (HMAC-SHA256) and checks them on restore; unset: backups are unsigned."),
    Setting("ASSESSMENT_AUTH", "auth", "oidc",
            "How staff sign in: oidc (st.login, the [auth] section of .streamlit/secrets.toml) or none (a single "
            "operator as administrator, only on a loopback server.address)."),
    Setting("ASSESSMENT_SESSION_HOURS", "session_hours", "8", "Hours after sign-in before staff must sign in again."),
    Setting("ASSESSMENT_RETENTION_DAYS", "retention_days", "0",
            "Days after a round closes before `assessment purge` removes its respondent-level answers (0: keep)."),
    Setting("ASSESSMENT_ADMINS", "admins", "",
            "Comma-separated emails that become administrators at their first sign-in."),
)


class Settings(BaseModel):
    """The settings, typed and range-checked: each field is one ``Setting`` above (same name)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    data_dir: Path
    database_url: str
    questionnaires_dir: Path
    base_url: str
    demo: YesNo
    min_coverage: float = Field(gt=0, le=1)
    split_threshold: float = Field(gt=0)
    min_group_size: int = Field(ge=2)
    min_peers: int = Field(ge=1)
    min_peers_spread: int = Field(ge=1)
    min_peers_extremes: int = Field(ge=1)
    peer_window_months: int = Field(ge=1, le=120)
    bootstrap_resamples: int = Field(ge=100)
    bootstrap_seed: int = Field(ge=0)
    min_respondents_for_change: int = Field(ge=2)
    invite_guesses_per_browser: int = Field(ge=1)
    invite_guesses_per_address: int = Field(ge=1)
    invite_guess_window_minutes: int = Field(ge=1, le=10_080)
    reconciliation_tolerance: float = Field(ge=0, lt=1)
    backup_key: BackupKey = None
    auth: Literal["oidc", "none"]
    session_hours: float = Field(gt=0, le=24 * 30)
    admins: tuple[str, ...]
    retention_days: int = Field(ge=0)


class SettingsError(ValueError):
    """One or more settings have a value outside their allowed range; the message names each variable."""


#: Settings whose value is never echoed back (an error names the variable and the rule, not the value).
SECRET_FIELDS = {"backup_key": f"empty, or a secret of at least {BACKUP_KEY_MIN_CHARS} characters"}

_BOUND_WORDS = ((Gt, "gt", ">"), (Ge, "ge", ">="), (Lt, "lt", "<"), (Le, "le", "<="))


def allowed_values(field: str) -> str:
    """The allowed values of a setting in words, e.g. ``a number > 0 and <= 1`` (from its field's bounds)."""
    info = Settings.model_fields[field]
    if field in SECRET_FIELDS:
        return SECRET_FIELDS[field]
    if info.annotation is bool:
        return "yes or no (1/0, true/false, yes/no, on/off)"
    if get_origin(info.annotation) is Literal:
        return "one of " + ", ".join(get_args(info.annotation))
    if info.annotation == tuple[str, ...]:
        return "a comma-separated list"
    kind = {int: "a whole number", float: "a number", Path: "a folder"}.get(info.annotation, "text")
    bounds = [f"{sign} {getattr(item, attr):g}" for item in info.metadata
              for cls, attr, sign in _BOUND_WORDS if isinstance(item, cls)]
    return f"{kind} {' and '.join(bounds)}" if bounds else kind


def _same_address(a: str, b: str) -> bool:
    from urllib.parse import urlsplit

    one, two = urlsplit(a.rstrip("/")), urlsplit(b.rstrip("/"))
    default = {"http": 80, "https": 443}
    return ((one.scheme.lower(), (one.hostname or "").lower(), one.port or default.get(one.scheme.lower()),
             one.path.rstrip("/"))
            == (two.scheme.lower(), (two.hostname or "").lower(), two.port or default.get(two.scheme.lower()),
                two.path.rstrip("/")))


def invite_base_url(configured: str, served: str | None) -> tuple[str, str | None]:
    """The address invite links are built on, and a warning when it is probably wrong.

    ``configured`` is ``ASSESSMENT_BASE_URL`` (empty: not set); ``served`` the address the app is served at, as
    the browser sees it (None when unknown). Unset: the served address (else the command line's default, with
    a warning). Set and different from the served address: the set one, with a warning naming both.
    """
    configured, served = configured.rstrip("/"), (served or "").rstrip("/") or None
    if not configured:
        if served is None:
            return COMMAND_LINE_BASE_URL, (f"Invite links are built on {COMMAND_LINE_BASE_URL}: the address this app "
                                           "is served at is not known. Set ASSESSMENT_BASE_URL to the address "
                                           "respondents should open.")
        return served, None
    if served is not None and not _same_address(configured, served):
        return configured, (f"Invite links are built on {configured} (ASSESSMENT_BASE_URL), but this app is served at "
                            f"{served}. Check that respondents can open {configured}, or change the setting.")
    return configured, None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from ``env`` (default: the process environment).

    Raises ``SettingsError`` naming every variable whose value is not allowed, with its value and range.
    """
    env = os.environ if env is None else env
    raw = {s.field: env.get(s.env, s.default) for s in SETTINGS}
    data_dir = Path(raw["data_dir"]).expanduser()
    url = env.get("ASSESSMENT_DATABASE_URL") or f"sqlite:///{(data_dir / 'assessment.db').as_posix()}"
    qdir = env.get("ASSESSMENT_QUESTIONNAIRES_DIR")
    texts = dict(raw)
    raw.update(
        data_dir=data_dir,
        database_url=url,
        questionnaires_dir=Path(qdir).expanduser() if qdir else default_questionnaires_dir(),
        base_url=raw["base_url"].rstrip("/"),
        auth=raw["auth"].strip().lower(),
        admins=tuple(a.strip().lower() for a in raw["admins"].split(",") if a.strip()),
    )
    try:
        return Settings(**raw)
    except ValidationError as exc:
        env_of = {s.field: s.env for s in SETTINGS}
        bad = dict.fromkeys(str(error["loc"][0]) for error in exc.errors())
        shown = {name: "(hidden)" if name in SECRET_FIELDS else repr(texts[name]) for name in bad}
        lines = [f"{env_of[name]}={shown[name]} is not allowed: use {allowed_values(name)}" for name in bad]
        raise SettingsError("invalid setting(s):\n  " + "\n  ".join(lines)) from exc
