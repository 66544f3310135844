"""Periods follow one grammar where rounds are created (storage, CLI) and answers imported; a period no other
partnership uses is warned about. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from assessment.errors import ValidationFailed
from assessment.storage import services as s
from assessment.storage.errors import InvalidInput
from assessment.storage.imports import import_responses

ADMIN = "board.secretary@example.org"


@pytest.fixture
def two_partnerships(db, mini_v1):
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
        s.add_partnership(session, "essex", "Essex crisis care partnership", members=["essex"], actor=ADMIN)
        s.create_round(session, "essex", "2026-H1", questionnaire=mini_v1.id, actor=ADMIN)
    return mini_v1


@pytest.mark.parametrize("bad", ["Spring 2026", "2026-H3", "2025-27", " "])
def test_a_round_period_outside_the_grammar_is_refused_naming_it(db, two_partnerships, bad):
    with db.sessions.begin() as session, pytest.raises(InvalidInput) as caught:
        s.create_round(session, "kent", bad, questionnaire=two_partnerships.id, actor=ADMIN)
    message = str(caught.value)
    assert ("YYYY-H1" in message or "2025-26" in message) and (bad.strip() == "" or f"'{bad}'" in message)


def test_a_period_is_stored_in_its_canonical_form(db, two_partnerships):
    with db.sessions.begin() as session:
        info = s.create_round(session, "kent", "2026-h1", questionnaire=two_partnerships.id, actor=ADMIN)
    assert (info.period, info.key) == ("2026-H1", "kent-2026-h1")


def test_a_period_no_other_partnership_uses_gets_a_warning(db, two_partnerships):
    with db.sessions.begin() as session:
        assert s.period_warning(session, "kent", "2026-H1") is None  # essex uses 2026-H1
        warning = s.period_warning(session, "kent", "2026-Q2")
        assert warning.startswith("No other partnership has a round in 2026-Q2")
        assert "the 12 months to June 2026 (2026-Q2): 1 partnership(s)" in warning
        # Essex's own round is not "another partnership" for Essex.
        assert s.period_warning(session, "essex", "2026-H1").startswith("No other partnership")


def test_imported_periods_follow_the_grammar(db, two_partnerships):
    lines = ["partnership,round,respondent,agency,item,value,period",
             "essex,essex-2026-h1,p1,police,governance.joint_board,3,2026-h1",
             "essex,essex-2026-h1,p2,police,governance.joint_board,3,Spring 2026",
             "essex,essex-2026-h1,p3,police,governance.joint_board,3,2026-H2"]
    with db.sessions.begin() as session, pytest.raises(ValidationFailed) as caught:
        import_responses(session, "essex-2026-h1", ("\n".join(lines) + "\n").encode(), actor=ADMIN)
    messages = [p.message for p in caught.value.problems]
    assert any("period 'Spring 2026' is not a period: use YYYY" in m for m in messages), messages
    assert any("period '2026-H2' is not this round's period '2026-H1'" in m for m in messages), messages
    assert not any("2026-h1" in m for m in messages)  # the same period in lower case is accepted


def test_the_cli_refuses_a_bad_period_and_warns_about_a_lonely_one(sqlite_db, mini_v1_path, monkeypatch):
    from assessment.cli import main

    monkeypatch.setenv("ASSESSMENT_DATABASE_URL", str(sqlite_db.engine.url))
    runner = CliRunner()
    assert runner.invoke(main, ["questionnaire", "publish", str(mini_v1_path)]).exit_code == 0
    for key in ("kent", "essex"):
        assert runner.invoke(main, ["partnership", "add", key, "--name", f"{key} partnership",
                                    "--member", key]).exit_code == 0
    bad = runner.invoke(main, ["round", "create", "--partnership", "kent", "--period", "Spring 2026",
                               "--questionnaire", "mini-partnership"])
    assert bad.exit_code != 0 and "period 'Spring 2026' is not a period" in bad.output
    made = runner.invoke(main, ["round", "create", "--partnership", "kent", "--period", "2026-q2",
                                "--questionnaire", "mini-partnership"])
    assert made.exit_code == 0, made.output
    assert "created round kent-2026-q2: kent 2026-Q2" in made.stdout
    assert "warning: No other partnership has a round in 2026-Q2" in made.stderr


def test_close_preview_gives_rates_unsubmitted_and_hidden_agencies_without_closing(db, mini_v1, responses_csv):
    from assessment.storage.imports import import_responses as load

    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent", members=["kent"], actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, actor=ADMIN)
        s.open_round(session, "kent-2026-h1", actor=ADMIN)
        # Ambulance: one respondent only (a1); a2 and a3 are dropped from the file.
        text = "\n".join(line for line in responses_csv().splitlines() if ",a2," not in line and ",a3," not in line)
        load(session, "kent-2026-h1", (text + "\n").encode(), actor=ADMIN)
        links = s.create_invitations(session, "kent-2026-h1", "police", 4, actor=ADMIN, base_url="http://x")
        s.start_respondent(session, links[0].split("invite=")[1])  # started, never submitted
    with db.sessions() as session:
        preview = s.close_preview(session, "kent-2026-h1", min_group_size=3)
        assert s.round_info(session, "kent-2026-h1").status == "open"
    police = preview.counts.set_index("agency").loc["police"]
    assert (police["invited"], police["started"], police["submitted"]) == (4, 1, 0)
    assert preview.unsubmitted == 1
    # Ambulance is too small; the scoring's complementary rule then hides the next-smallest agency too (else
    # the partnership figure and the other agencies' would give ambulance's away).
    assert list(preview.suppressed["agency"]) == ["ambulance", "mental_health_trust"]
    assert (preview.suppressed["domains"] >= 1).all()
