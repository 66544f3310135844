"""Purging respondent-level answers past the retention period, on both engines: answers and comments go,
stored scores stay, the round cannot be reopened, every purge is audited; the CLI reads the setting."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from assessment.storage import services as s
from assessment.storage.models import utcnow
from assessment.storage.retention import purge_answers
from assessment.storage.users import audit_log

ADMIN = "admin@example.org"


@pytest.fixture
def closed_round(db, mini_v1, responses_csv):
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent crisis care partnership", members=["kent"], actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
        s.create_round(session, "kent", "2026-H2", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
        s.import_responses(session, "kent-2026-h1", responses_csv().encode(), actor=ADMIN)
        s.import_responses(session, "kent-2026-h2", responses_csv("kent-2026-h2").encode(), actor=ADMIN)
        s.open_round(session, "kent-2026-h1", actor=ADMIN)
        s.close_round(session, "kent-2026-h1", actor=ADMIN)
    return "kent-2026-h1"


def test_answers_past_the_period_go_and_the_scores_stay(db, closed_round):
    with db.sessions() as session:
        scores_before = s.partnership_scores(session, [closed_round])
        assert len(s.round_answers(session, closed_round)) > 0
    later = utcnow() + dt.timedelta(days=400)
    with db.sessions.begin() as session:
        dry = purge_answers(session, older_than_days=365, actor=ADMIN, dry_run=True, now=later)
    assert dry.rounds == (closed_round,) and dry.answers == 63
    with db.sessions() as session:
        assert len(s.round_answers(session, closed_round)) == 63  # the dry run changed nothing
    with db.sessions.begin() as session:
        report = purge_answers(session, older_than_days=365, actor=ADMIN, now=later)
    assert report.rounds == (closed_round,) and report.answers == 63
    with db.sessions() as session:
        assert s.round_answers(session, closed_round).empty
        assert s.answer_comments(session, [closed_round]).empty
        assert s.partnership_scores(session, [closed_round]).equals(scores_before)
        assert len(s.round_answers(session, "kent-2026-h2", submitted_only=False)) == 63  # an open round is kept
        log = audit_log(session, action="purge")
    assert list(log["entity_key"]) == [closed_round] and log["detail"].iloc[0]["answers"] == 63
    with db.sessions.begin() as session, pytest.raises(s.StateError, match="purged"):
        s.reopen_round(session, closed_round, actor=ADMIN, reason="a late file")


def test_rounds_inside_the_period_are_kept(db, closed_round):
    with db.sessions.begin() as session:
        report = purge_answers(session, older_than_days=30, actor=ADMIN)
    assert report.rounds == () and report.answers == 0
    with db.sessions() as session:
        assert len(s.round_answers(session, closed_round)) == 63


def test_the_cli_purges_with_the_setting_and_refuses_without_one(sqlite_db, monkeypatch):
    from assessment.cli import main

    monkeypatch.setenv("ASSESSMENT_DATABASE_URL", sqlite_db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ASSESSMENT_RETENTION_DAYS", "0")
    refused = CliRunner().invoke(main, ["purge"])
    assert refused.exit_code == 1 and "--older-than" in refused.output
    monkeypatch.setenv("ASSESSMENT_RETENTION_DAYS", "365")
    done = CliRunner().invoke(main, ["purge", "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "would remove 0 answer(s) from 0 round(s)" in done.output
