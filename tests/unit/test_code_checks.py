"""Code checks that are part of the suite: ruff, the import contracts, and documented settings."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys

import pytest

from assessment.settings import SETTINGS, Settings, allowed_values, load_settings
from tests.conftest import ROOT


def _tool(name: str) -> list[str]:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run pip install -e '.[test]'")
    return [found]


def test_ruff_is_clean():
    result = subprocess.run([*_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_hold():
    """The library never imports streamlit, and data flows one way (pyproject.toml [tool.importlinter])."""
    result = subprocess.run([*_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_library_imports_without_streamlit():
    code = (
        "import sys, importlib, pkgutil, assessment\n"
        "for m in pkgutil.walk_packages(assessment.__path__, 'assessment.'):\n"
        "    if '.migrations' in m.name or m.name.endswith('.__main__'): continue  # __main__ runs the CLI\n"
        "    importlib.import_module(m.name)\n"
        "assert 'streamlit' not in sys.modules, 'streamlit imported by the library'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert re.search(rf"`{setting.env}`", doc), f"{setting.env} missing from docs/settings.md"
    assert {s.field for s in SETTINGS} == set(Settings.model_fields)
    rows = {line.split("`")[1]: line for line in doc.splitlines() if line.startswith("| `")}
    for setting in SETTINGS:
        if Settings.model_fields[setting.field].metadata:  # a setting with a range documents the range
            assert allowed_values(setting.field) in rows[setting.env], f"{setting.env}: range not in docs/settings.md"


def test_settings_read_from_env_and_reject_bad_values(tmp_path):
    settings = load_settings({"ASSESSMENT_DATA_DIR": str(tmp_path), "ASSESSMENT_MIN_PEERS": "4", "ASSESSMENT_DEMO": "0"})
    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/assessment.db"
    assert settings.min_peers == 4 and settings.demo is False
    with pytest.raises(ValueError, match="ASSESSMENT_MIN_COVERAGE"):
        load_settings({"ASSESSMENT_MIN_COVERAGE": "half"})


# Functions a reader can hold (issue 18, part 3): no library function is longer than this many lines.
MAX_FUNCTION_LINES = 80
# Functions not yet split, each with the reason. Remove an entry when its function is split; an entry
# whose function is short (or gone) fails the test, so the list only shrinks.
LONG_FUNCTIONS_ALLOWED = {
    # an Alembic migration is a frozen record of the schema at one revision: never edited after landing
    "assessment/storage/migrations/versions/0001_initial_schema.py:upgrade",
}


def _long_functions() -> dict[str, int]:
    found = {}
    for path in sorted((ROOT / "assessment").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found[f"{path.relative_to(ROOT).as_posix()}:{node.name}"] = length
    return found


def test_library_functions_are_short():
    found = _long_functions()
    too_long = {name: length for name, length in found.items() if name not in LONG_FUNCTIONS_ALLOWED}
    assert not too_long, f"functions longer than {MAX_FUNCTION_LINES} lines (split them into named steps): {too_long}"
    stale = LONG_FUNCTIONS_ALLOWED - set(found)
    assert not stale, f"now short or gone, remove from LONG_FUNCTIONS_ALLOWED: {sorted(stale)}"


def test_every_table_of_the_app_draws_missing_values_as_empty_cells():
    """Issue 15: empty cells showed the word None. Pages draw tables through ``widgets.table``/``widgets.editor``
    (``placeholder=""``), never ``st.dataframe``/``st.data_editor`` directly."""
    direct = re.compile(r"\.(dataframe|data_editor)\(")
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in [*sorted((ROOT / "app_pages").glob("*.py")), ROOT / "streamlit_app.py"]
                 if path.name != "_widgets.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if direct.search(line)]
    assert not offenders, offenders
