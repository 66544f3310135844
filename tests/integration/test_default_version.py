"""New rounds default to the highest published version of a questionnaire (library, CLI)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from assessment.questionnaire import load_questionnaire
from assessment.storage import services as s
from tests.conftest import MINI_DIR

ADMIN = "board.secretary@example.org"


@pytest.mark.parametrize(("published", "expected"), [
    ([("a", "1.0.0"), ("a", "1.1.0")], ("a", "1.1.0")),
    ([("a", "2.0.0"), ("a", "1.1.0")], ("a", "2.0.0")),  # a fix to an old version published later
    ([("a", "9.0.0"), ("a", "10.0.0"), ("a", "2.0.0")], ("a", "10.0.0")),  # numbers, not text
    ([("a", "3.0.0"), ("b", "1.0.0"), ("b", "1.2.0")], ("b", "1.2.0")),  # the questionnaire published last
    ([], None),
])
def test_default_round_version(published, expected):
    frame = pd.DataFrame(published, columns=["questionnaire", "version"])
    assert s.default_round_version(frame) == expected


def test_a_round_created_without_a_version_takes_the_highest_published(db):
    with db.sessions.begin() as session:
        for version in ("1.1.0", "1.0.0"):  # newest first
            s.publish_questionnaire(session, load_questionnaire(MINI_DIR / f"{version}.yaml"), actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
        info = s.create_round(session, "kent", "2026-H1", questionnaire="mini-partnership", actor=ADMIN)
        assert info.version == "1.1.0"
        assert s.latest_published_version(session, "mini-partnership") == "1.1.0"
        with pytest.raises(s.NotFound, match="no published version"):
            s.create_round(session, "kent", "2026-H2", questionnaire="not-published", actor=ADMIN)


def test_cli_round_create_without_version(db, tmp_path):
    from assessment.cli import main

    env = {"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "ASSESSMENT_DATA_DIR": str(tmp_path / "data")}
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, load_questionnaire(MINI_DIR / "1.1.0.yaml"), actor=ADMIN)
        s.publish_questionnaire(session, load_questionnaire(MINI_DIR / "1.0.0.yaml"), actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
    result = CliRunner().invoke(main, ["round", "create", "--partnership", "kent", "--period", "2026-H1",
                                       "--questionnaire", "mini-partnership", "--actor", ADMIN], env=env)
    assert result.exit_code == 0, result.output
    assert "on mini-partnership 1.1.0" in result.output
