"""Re-issued invite links under attack (issue 15), on SQLite and PostgreSQL.

A lead re-issues a link because it was lost, or because it reached the wrong person. Promise
(docs/storage.md, assessment/storage/links.py): the old token stops working, whoever had started continues on
the new link, "only the new link's holder can go on", and response rates count each place once.

Attacks:
(a) a browser session still open on the old link (it holds the round and respondent, not the token) keeps
    reading, saving and submitting the answers that now belong to the new link's holder;
(b) a workshop (multi-use) link with submissions is re-issued: the new link must not hand out the places
    already used a second time, nor count them twice in the response rate.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assessment.storage import services as s
from assessment.storage.errors import StateError
from assessment.storage.invitations import InvalidInvitation, hash_token
from assessment.storage.models import InvitationRow, RespondentRow
from tests.adversarial.test_invite_links import ROUND, invite, rounds, start  # noqa: F401
from tests.integration.conftest import ADMIN

ITEM = "governance.joint_board"
REFUSED = (StateError, InvalidInvitation)


def _link_of(db, token: str) -> int:
    with db.sessions() as session:
        return session.scalar(select(InvitationRow.id).where(InvitationRow.token_hash == hash_token(token)))


def _reissue(db, token: str) -> str:
    with db.sessions.begin() as session:
        issued = s.reissue_link(session, _link_of(db, token), actor=ADMIN, base_url="https://x.example")
    return issued.token


def test_a_session_still_open_on_the_old_link_can_no_longer_read_save_or_submit(db, rounds):  # noqa: F811
    (old,) = invite(db)
    who = start(db, old)  # the browser that holds the lost link keeps (round, respondent) in its session
    with db.sessions.begin() as session:
        s.save_answer(session, ROUND, who, ITEM, "4", "our joint board meets monthly")
    new = _reissue(db, old)

    with db.sessions.begin() as session:  # the new link's holder continues with the saved answer
        context = s.start_respondent(session, new)
    assert context.resumed
    with db.sessions() as session:
        assert s.respondent_answers(session, ROUND, context.respondent)["value"].tolist() == ["4"]

    # the old session: nothing to read, nothing to save, nothing to submit
    with db.sessions() as session, pytest.raises(REFUSED):
        s.respondent_answers(session, ROUND, who)
    with db.sessions.begin() as session, pytest.raises(REFUSED):
        s.save_answer(session, ROUND, who, ITEM, "1", "overwritten by whoever found the link")
    with db.sessions.begin() as session, pytest.raises(REFUSED):
        s.submit_respondent(session, ROUND, who)
    with db.sessions() as session:
        answers = s.respondent_answers(session, ROUND, context.respondent)
    assert answers[["value", "comment"]].values.tolist() == [["4", "our joint board meets monthly"]]

    with db.sessions.begin() as session:  # and the new holder can still finish
        s.save_answer(session, ROUND, context.respondent, ITEM, "5")
        s.submit_respondent(session, ROUND, context.respondent)


def test_a_reissued_workshop_link_keeps_its_places_and_counts_them_once(db, rounds):  # noqa: F811
    (old,) = invite(db, max_uses=3)
    done = [start(db, old) for _ in range(2)]
    with db.sessions.begin() as session:
        for who in done:
            s.save_answer(session, ROUND, who, ITEM, "3")
            s.submit_respondent(session, ROUND, who)
    answering = start(db, old)
    with db.sessions.begin() as session:
        s.save_answer(session, ROUND, answering, ITEM, "2")
    with db.sessions() as session:
        before = s.response_counts(session, ROUND).set_index("agency").loc["police"]
    assert before["invited"] == 3

    new = _reissue(db, old)
    with db.sessions() as session:
        after = s.response_counts(session, ROUND).set_index("agency").loc["police"]
    assert after["invited"] == 3  # two places used, one held: the link still has three, counted once
    assert after["submitted"] == 2
    with db.sessions.begin() as session, pytest.raises(InvalidInvitation):
        s.start_respondent(session, new)  # all three places are taken: a fourth person is refused
    with db.sessions() as session:
        total = session.scalar(select(func.count()).select_from(RespondentRow))
    assert total == 3


def test_withdrawing_the_unused_links_leaves_alone_one_being_started_at_that_moment(db, rounds):  # noqa: F811
    """The lead withdraws the round's unused links while someone is starting on one: the start holds the
    link's lock; the withdrawal waits for it and must then see the new respondent and leave the link alone
    (PostgreSQL judged it unused on its older snapshot and withdrew it: the respondent's first save was
    refused)."""
    import threading

    from assessment.storage.checkpoints import stepping_in
    from tests.adversarial.test_close_races import wait_until_queued

    (token,) = invite(db)
    outcome: dict[str, object] = {}
    queued = threading.Event()

    def withdraw_unused() -> None:
        queued.set()
        try:
            with db.sessions.begin() as session:
                outcome["withdrawn"] = s.revoke_round_invitations(session, ROUND, actor=ADMIN)
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            outcome["withdrawn"] = exc

    lead = threading.Thread(target=withdraw_unused, daemon=True)

    def step_in(session, **detail) -> None:
        lead.start()
        if db.kind == "postgresql":
            wait_until_queued(db, queued)  # the withdrawal waits for the start's lock on the link
        else:
            queued.wait(60)

    with stepping_in("respondent.started", step_in), db.sessions.begin() as session:
        who = s.start_respondent(session, token).respondent
    lead.join(120)
    assert outcome.get("withdrawn") == 0, outcome
    with db.sessions.begin() as session:
        s.save_answer(session, ROUND, who, ITEM, "3")  # the link is still theirs
