"""Action plans in storage, on SQLite and PostgreSQL: add, change, list with the review, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from assessment.errors import ValidationFailed
from assessment.storage import services as s
from assessment.storage.actions import action_partnership, stored_actions
from assessment.storage.models import ActionRow, AuditEvent, PartnershipRow
from assessment.trends import domain_trends

ADMIN = "board.secretary@example.org"
LEAD = "lead@kent.example.org"
TREND = {"resamples": 200, "seed": 11, "min_respondents": 5, "min_group_size": 3}


@pytest.fixture
def kent_two_rounds(db, mini_v1, responses_csv):
    """Kent with two closed rounds on the mini questionnaire (the same answers in both)."""
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
        for period in ("2025-H2", "2026-H1"):
            key = f"kent-{period.lower()}"
            s.create_round(session, "kent", period, questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
            s.open_round(session, key, actor=ADMIN)
            s.import_responses(session, key, responses_csv(key).encode(), actor=ADMIN)
    return "kent-2025-h2", "kent-2026-h1"


@pytest.fixture
def kent_one_round(db, mini_v1, responses_csv):
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
        s.create_round(session, "kent", "2025-H2", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
        s.open_round(session, "kent-2025-h2", actor=ADMIN)
        s.import_responses(session, "kent-2025-h2", responses_csv("kent-2025-h2").encode(), actor=ADMIN)
        s.close_round(session, "kent-2025-h2", actor=ADMIN)
    return "kent-2025-h2"


def _add(session, **overrides):
    values = {"domain": "governance", "what": "Agree terms of reference for the joint board",
              "owner": "Police mental health lead", "target_level": 3, "due": dt.date(2026, 3, 31), "actor": LEAD}
    values.update(overrides)
    return s.add_action(session, "kent", **values)


def test_an_action_is_added_changed_and_audited(db, kent_one_round):
    with db.sessions.begin() as session:
        added = _add(session, item="governance.joint_board", notes="From the board meeting of 12 January")
    assert added["round"] == kent_one_round and added["period"] == "2025-H2"  # baseline: the latest closed
    assert (added["status"], added["target_level"], added["item"]) == ("planned", 3, "governance.joint_board")
    assert added["created_by"] == LEAD and added["updated_by"] == LEAD
    with db.sessions.begin() as session:
        changed = s.update_action(session, added.id, actor=ADMIN, status="in_progress", notes="Draft circulated")
    assert changed["status"] == "in progress" and changed["notes"] == "Draft circulated"
    assert changed["updated_by"] == ADMIN and changed["created_by"] == LEAD
    assert changed["updated_at"] >= changed["created_at"]
    with db.sessions() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.detail)
                                 .where(AuditEvent.entity == "action").order_by(AuditEvent.id)).all()
        assert action_partnership(session, added.id) == "kent"
    assert [(e[0], e[1]) for e in events] == [("add", LEAD), ("update", ADMIN)]
    assert events[1][2] == {"fields": ["notes", "status"], "status_from": "planned", "status_to": "in progress"}
    assert "Draft circulated" not in str(events)  # the audit names fields, not the lead's text


def test_every_bad_field_is_named_and_nothing_is_written(db, kent_one_round, snapshot):
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught, db.sessions.begin() as session:
        _add(session, domain="governance", item="triage.clinician", what="  ", owner="a\x07b", target_level=7,
             due="31/03/2026", status="finished", notes="ok")
    found = {(p.path, p.code.code) for p in caught.value.problems}
    assert found == {("what", "field-required"), ("owner", "control-character"), ("target_level", "target-level"),
                     ("due", "not-a-date"), ("status", "action-status"), ("item", "item-not-in-domain")}
    assert snapshot() == before
    with pytest.raises(ValidationFailed) as caught, db.sessions.begin() as session:
        _add(session, domain="custody")
    assert [(p.path, p.code.code) for p in caught.value.problems] == [("domain", "unknown-domain")]
    assert snapshot() == before


def test_a_refused_change_keeps_the_action_as_it_was(db, kent_one_round):
    with db.sessions.begin() as session:
        number = _add(session).id
    with pytest.raises(ValidationFailed) as caught, db.sessions.begin() as session:
        s.update_action(session, number, actor=LEAD, status="done", target_level=0, created_by="someone")
    assert [p.path for p in caught.value.problems] == ["created_by"]
    with pytest.raises(ValidationFailed), db.sessions.begin() as session:
        s.update_action(session, number, actor=LEAD, status="done", target_level=0)
    with db.sessions() as session:
        kept = stored_actions(session, ["kent"]).iloc[0]
    assert (kept["status"], kept["target_level"]) == ("planned", 3)
    with pytest.raises(s.NotFound), db.sessions.begin() as session:
        s.update_action(session, 999, actor=LEAD, status="done")


def test_the_database_refuses_a_status_or_target_level_outside_the_lists(db, kent_one_round):
    """The CHECK constraints hold even for a write that bypasses the library's checks."""
    with db.sessions() as session:
        partnership_id = session.scalar(select(PartnershipRow.id).where(PartnershipRow.key == "kent"))
    row = {"partnership_id": partnership_id, "domain": "governance", "what": "x", "owner": "y", "target_level": 3,
           "due": dt.date(2026, 1, 1), "status": "planned", "notes": "", "created_at": dt.datetime(2026, 1, 1),
           "created_by": ADMIN, "updated_at": dt.datetime(2026, 1, 1), "updated_by": ADMIN}
    for bad in ({"status": "finished"}, {"target_level": 6}, {"target_level": 0}):
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(insert(ActionRow).values(**{**row, **bad}))
    with db.engine.begin() as connection:
        connection.execute(insert(ActionRow).values(**{**row, "status": "in progress"}))
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ActionRow)) == 1


def test_list_actions_reviews_each_action_with_the_trends_verdict(db, kent_two_rounds):
    first, second = kent_two_rounds
    with db.sessions.begin() as session:
        s.close_round(session, first, actor=ADMIN)
        met = _add(session, domain="governance", target_level=1).id
        missed = _add(session, domain="triage", target_level=5, status="in progress", due=dt.date(2026, 1, 1)).id
        listed = s.list_actions(session, "kent", today=dt.date(2026, 2, 1), **TREND)
    assert listed["review_round"].isna().all() and (listed["verdict"] == "").all()  # the next round is open
    assert listed.set_index("action")["overdue"].to_dict() == {met: False, missed: True}
    with db.sessions.begin() as session:
        s.close_round(session, second, actor=ADMIN)
        listed = s.list_actions(session, "kent", today=dt.date(2026, 2, 1), **TREND).set_index("action")
        trends = domain_trends(s.respondent_scores(session, partnership="kent"), partnership="kent",
                               questionnaires=None, **TREND)
        scores = s.partnership_scores(session, [second]).set_index("domain")
    expected = trends[trends["round"] == second].set_index("domain")["verdict"]
    assert listed.loc[met, "review_round"] == second
    assert listed.loc[met, "verdict"] == expected["governance"] == "no clear change"  # the same answers twice
    assert listed.loc[missed, "verdict"] == expected["triage"]
    assert listed.loc[met, "review_level"] == scores.loc["governance", "level"]
    assert bool(listed.loc[met, "target_met"]) is True and bool(listed.loc[missed, "target_met"]) is False
    # reopening the review round withdraws its scores: the review waits for the next close again
    with db.sessions.begin() as session:
        s.reopen_round(session, second, actor=ADMIN, reason="late import")
        listed = s.list_actions(session, "kent", **TREND)
    assert listed["review_round"].isna().all() and listed["target_met"].isna().all()


def test_list_actions_keeps_to_its_partnership_and_filters_by_status(db, kent_one_round):
    with db.sessions.begin() as session:
        s.add_partnership(session, "surrey", "Surrey crisis care partnership", members=["surrey"], actor=ADMIN)
        _add(session)
        _add(session, status="done", domain="safety")
        s.add_action(session, "surrey", domain="triage", what="Street triage pilot", owner="ICB", target_level=2,
                     due=dt.date(2026, 6, 30), actor=ADMIN)
        kent = s.list_actions(session, "kent", **TREND)
        done = s.list_actions(session, "kent", status=["done"], **TREND)
        quick = s.list_actions(session, "kent", review_rounds=False, today=dt.date(2026, 4, 1))
        counts = s.action_counts(session, ["kent", "surrey"], today=dt.date(2026, 4, 1), **TREND)
        with pytest.raises(s.NotFound):
            s.list_actions(session, "nowhere", **TREND)
    assert set(kent["partnership"]) == {"kent"} and len(kent) == 2
    assert done["domain"].tolist() == ["safety"]
    assert list(quick.columns) == list(kent.columns) and (quick["verdict"] == "").all()
    assert quick["overdue"].tolist() == [True, False]  # due 2026-03-31: the planned one is overdue, done is not
    assert counts.to_dict(orient="records") == [
        {"partnership": "kent", "actions": 2, "open": 1, "overdue": 1, "met": 0},
        {"partnership": "surrey", "actions": 1, "open": 1, "overdue": 0, "met": 0}]
    assert {"domain", "item", "what", "owner", "target_level", "due", "status", "notes", "verdict",
            "target_met"} <= set(kent.columns)
