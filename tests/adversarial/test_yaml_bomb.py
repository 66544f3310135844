"""Issue 11, defect 6: a 535-byte YAML file stopped the app starting (nine levels of nine aliases).

Questionnaire files may not use anchors or aliases: the file is refused (``yaml-alias``, with the line) from
the parser's event stream, before any node is composed, so no alias is ever expanded. The proof runs in a
subprocess limited to 256 MB of address space (``RLIMIT_AS``): the command and the folder loader finish
there, while expanding the same file (the control) runs out of memory under the same limit. A folder with
bad files still starts: the valid versions load and publish, and each problem is listed.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assessment.errors import ErrorCode
from assessment.questionnaire import list_questionnaires, load_folder, validate_file, validate_text
from assessment.safe_yaml import MAX_DEPTH, MAX_FILE_BYTES, yaml_problems

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "data" / "questionnaires" / "mini-partnership" / "1.0.0.yaml"
LIMIT = 256 * 1024 * 1024


def alias_bomb() -> str:
    """Nine levels of nine aliases, padded with a comment to the reported 535 bytes: 9**9 'lol's when expanded."""
    lines = ["id: mini-partnership", "version: 1.0.0", 'lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        lines.append(f"lol{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    text = "# nine levels of nine aliases" + "." * (535 - len(text) - 30) + "\n" + text
    assert len(text.encode()) == 535
    return text


def _limited() -> None:  # runs in the child before exec: 256 MB of address space
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run_limited(code: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                        "MKL_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          env=env, preexec_fn=_limited, timeout=120, cwd=ROOT)


@pytest.fixture
def bomb_folder(tmp_path) -> Path:
    """A questionnaires folder: the valid mini questionnaire, the bomb, and a file that is plainly broken."""
    folder = tmp_path / "questionnaires"
    (folder / "mini-partnership").mkdir(parents=True)
    shutil.copy(MINI, folder / "mini-partnership" / "1.0.0.yaml")
    (folder / "bomb").mkdir()
    (folder / "bomb" / "1.0.0.yaml").write_text(alias_bomb(), encoding="utf-8")
    (folder / "broken").mkdir()
    (folder / "broken" / "1.0.0.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    return folder


def test_the_bomb_is_refused_from_the_event_stream_with_every_line():
    problems = yaml_problems(alias_bomb(), "bomb.yaml")
    assert {p.code for p in problems} == {ErrorCode.YAML_ALIAS}
    assert problems[0].line == 4 and "&a0" in problems[0].message
    assert problems[1].line == 5 and "&a1" in problems[1].message and "*a0" in problems[2].message
    result = validate_text(alias_bomb(), file="bomb.yaml")
    assert result.questionnaire is None and result.problems == tuple(problems)


def test_the_control_expanding_the_bomb_exhausts_256_mb():
    """Without the check, walking the expanded data (as validation did) cannot finish under the limit."""
    child = run_limited("""
        import json, sys, yaml
        data = yaml.safe_load(sys.argv[1])
        print(len(json.dumps(data)))
        """, alias_bomb())
    assert child.returncode != 0 and "MemoryError" in child.stderr, (child.returncode, child.stdout, child.stderr)


def test_questionnaire_validate_refuses_the_bomb_under_256_mb(tmp_path):
    path = tmp_path / "1.0.0.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    child = run_limited("""
        import sys
        from assessment.cli import main
        sys.argv = ["assessment", "questionnaire", "validate", sys.argv[1]]
        main()
        """, str(path))
    assert child.returncode == 1, (child.stdout, child.stderr)
    assert "Traceback" not in child.stderr
    assert f"{path}:4: yaml-alias: YAML anchor '&a0': anchors and aliases are not allowed" in child.stderr


def test_loading_the_folder_skips_the_bomb_under_256_mb(bomb_folder):
    child = run_limited("""
        import sys
        from assessment.questionnaire import load_folder
        contents = load_folder(sys.argv[1])
        print(sorted(contents.questionnaires))
        print(sorted({p.code.code for p in contents.problems}))
        print(len(contents.invalid_files))
        """, str(bomb_folder))
    assert child.returncode == 0, child.stderr
    assert child.stdout.splitlines() == ["[('mini-partnership', '1.0.0')]", "['yaml-alias', 'yaml-syntax']", "2"]


def test_the_loaders_list_the_bad_files_and_keep_the_good_one(bomb_folder):
    contents = load_folder(bomb_folder)
    assert list(contents.questionnaires) == [("mini-partnership", "1.0.0")]
    assert {Path(f).parent.name for f in contents.invalid_files} == {"bomb", "broken"}
    listing = {row.id: row for row in list_questionnaires(bomb_folder)}
    assert listing["mini-partnership"].valid and not listing["bomb"].valid and listing["bomb"].problems >= 1
    assert load_folder(bomb_folder / "missing").questionnaires == {}


def test_the_database_starts_with_a_bad_file_in_the_folder(db, bomb_folder):
    """``prepare_database`` (the app's and the demo's start) publishes the good file and lists the problems."""
    from assessment.demo import prepare_database
    from assessment.settings import load_settings
    from assessment.storage import services

    settings = load_settings({"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
                              "ASSESSMENT_QUESTIONNAIRES_DIR": str(bomb_folder), "ASSESSMENT_DEMO": "1"})
    report = prepare_database(db.engine, settings)
    assert report.published == ("mini-partnership@1.0.0",)
    assert any("bomb" in line and "yaml-alias" in line and ":4:" in line for line in report.problems)
    assert any("broken" in line and "yaml-syntax" in line for line in report.problems)
    with db.sessions() as session:
        versions = services.list_questionnaire_versions(session)
    assert versions["questionnaire"].tolist() == ["mini-partnership"]


def test_the_app_starts_and_shows_the_problem(bomb_folder, tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("ASSESSMENT_DATABASE_URL", raising=False)
    monkeypatch.setenv("ASSESSMENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSESSMENT_QUESTIONNAIRES_DIR", str(bomb_folder))
    monkeypatch.setenv("ASSESSMENT_DEMO", "0")
    monkeypatch.setenv("ASSESSMENT_AUTH", "none")  # the laptop operator (administrator), on a loopback address
    from streamlit import config as st_config

    address = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
        assert not app.exception
        app.switch_page("app_pages/manage.py").run()
        assert not app.exception
        warnings = " ".join(w.value for w in app.warning).replace("\\", "")  # as shown: Markdown escapes read
        assert "yaml-alias" in warnings and "bomb" in warnings, warnings
    finally:
        st_config.set_option("server.address", address)
        st.cache_resource.clear()
        st.cache_data.clear()


def test_size_and_depth_limits_are_checked_before_parsing(tmp_path):
    big = tmp_path / "big" / "1.0.0.yaml"
    big.parent.mkdir()
    big.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\nid: big\n")
    [problem] = validate_file(big).problems
    assert problem.code is ErrorCode.FILE_TOO_LARGE and f"{MAX_FILE_BYTES:,}" in problem.message
    deep = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    [problem] = yaml_problems(deep, "deep.yaml")
    assert problem.code is ErrorCode.YAML_TOO_DEEP and problem.line == 1


def test_a_merge_key_is_an_alias_too():
    text = "base: &base {weight: 1}\ndomain:\n  <<: *base\n  id: x\n"
    assert [(p.code, p.line) for p in yaml_problems(text)] == [(ErrorCode.YAML_ALIAS, 1), (ErrorCode.YAML_ALIAS, 3)]


def test_peer_group_files_refuse_aliases_too():
    from assessment.errors import ValidationFailed
    from assessment.peer_groups import parse_peer_groups

    with pytest.raises(ValidationFailed) as refused:
        parse_peer_groups(alias_bomb(), format="yaml", file="groups.yaml")
    assert {p.code for p in refused.value.problems} == {ErrorCode.YAML_ALIAS}
