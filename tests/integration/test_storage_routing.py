"""Routed items in the database (SQLite and PostgreSQL): a respondent can save answers only to the items
asked of their agency, and a closed round is scored with routing."""

from __future__ import annotations

import pytest

from assessment.questionnaire import load_questionnaire
from assessment.storage import services as s
from tests.conftest import ROOT

ADMIN = "board.secretary@example.org"
ROUTED = ROOT / "tests" / "data" / "routed" / "routed-partnership" / "1.0.0.yaml"


def _token(link: str) -> str:
    return link.split("invite=", 1)[1]


@pytest.fixture
def routed_round(db):
    q = load_questionnaire(ROUTED)
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, q, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
        s.create_round(session, "kent", "2026-H2", questionnaire=q.id, version=q.version, key="kent-routed",
                       actor=ADMIN)
        s.open_round(session, "kent-routed", actor=ADMIN)
    return "kent-routed"


def test_a_police_respondent_cannot_answer_an_ambulance_only_item(db, routed_round):
    with db.sessions.begin() as session:
        link = s.create_invitations(session, routed_round, "police", 1, actor=ADMIN, base_url="https://x.example")[0]
        who = s.start_respondent(session, _token(link))
        s.save_answer(session, routed_round, who.respondent, "response.control_room", "3")  # asked of police
    with db.sessions.begin() as session, pytest.raises(ValueError, match="not asked of agency 'police'"):
        s.save_answer(session, routed_round, who.respondent, "response.ambulance_time", "4")
    with db.sessions.begin() as session:
        s.save_answer(session, routed_round, who.respondent, "response.ambulance_time", "")  # clearing is harmless
        saved = s.respondent_answers(session, routed_round, who.respondent)
    assert saved["item"].tolist() == ["response.control_room"]
    with db.sessions.begin() as session:
        s.save_answer(session, routed_round, who.respondent, "response.handover", "4")
        s.submit_respondent(session, routed_round, who.respondent)
        s.close_round(session, routed_round, actor=ADMIN)  # scored with routing: no refusal of any answer


def test_a_closed_round_stores_not_asked_domains_and_leaves_the_agency_out(db, routed_round):
    with db.sessions.begin() as session:
        for agency, given in (("ambulance", {"governance.board": "3", "governance.escalation": "4",
                                             "response.control_room": "2", "response.handover": "3"}),
                              ("police", {"justice.custody_assessment": "4", "justice.liaison": "2"})):
            link = s.create_invitations(session, routed_round, agency, 1, actor=ADMIN, base_url="https://x")[0]
            who = s.start_respondent(session, _token(link))
            s.save_answers(session, routed_round, who.respondent, [{"item": i, "value": v} for i, v in given.items()])
            s.submit_respondent(session, routed_round, who.respondent)
        s.close_round(session, routed_round, actor=ADMIN)
    with db.sessions() as session:
        respondents = s.respondent_scores(session, [routed_round])
        agencies = s.agency_scores(session, [routed_round])
    status = {(r.agency, r.domain): r.status for r in respondents.itertuples()}
    assert status[("ambulance", "justice")] == "not_asked"
    assert status[("ambulance", "governance")] == "scored" and status[("police", "justice")] == "scored"
    assert status[("police", "governance")] == "insufficient"  # asked, not answered
    # the ambulance service has no justice row; the police, asked governance, has one without a score
    assert set(agencies.loc[agencies["domain"] == "justice", "agency"]) == {"police"}
    assert set(agencies.loc[agencies["domain"] == "governance", "agency"]) == {"ambulance", "police"}
