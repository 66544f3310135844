"""Resume keys under attack (issue 15), on SQLite and PostgreSQL.

A resume key stands in the address bar once the invite token has left it. It must not be guessable
(256 random bits, stored only as a SHA-256), must stop working after submission and after 7 idle days,
when its link is withdrawn and when a newer key is issued, and wrong keys are throttled with the invite
links' own counter (one budget for both).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pytest
from sqlalchemy import func, select, update

from assessment.storage import services as s
from assessment.storage.invitations import GuessLimits, TooManyGuesses
from assessment.storage.models import AnswerRow, ResumeKeyRow, utcnow
from assessment.storage.resume import RESUME_IDLE, check_resume_key, issue_resume_key
from tests.adversarial.test_invite_links import ROOMY, ROUND, check, invite, rounds, start  # noqa: F401

ITEM = "governance.joint_board"


def resume(db, key: str, *, browser: str | None = None, address: str | None = None, limits: GuessLimits = ROOMY):
    with db.sessions.begin() as session:
        return check_resume_key(session, key, browser=browser or secrets.token_hex(8), address=address,
                                limits=limits)


def key_for(db, respondent: str) -> str:
    with db.sessions.begin() as session:
        return issue_resume_key(session, ROUND, respondent)


@pytest.fixture
def started(db, rounds):  # noqa: F811 - the fixture imported above
    """A respondent who started on a single-use link and saved one answer, and their resume key."""
    (token,) = invite(db)
    who = start(db, token)
    with db.sessions.begin() as session:
        s.save_answer(session, ROUND, who, ITEM, "3")
    return who, key_for(db, who)


def test_a_key_opens_its_own_respondent_and_is_stored_only_as_a_hash(db, started):
    who, key = started
    assert len(key) >= 43  # secrets.token_urlsafe(32): 256 bits
    context = resume(db, key)
    assert context is not None and context.respondent == who and context.round == ROUND and context.resumed
    with db.sessions() as session:
        stored = session.scalars(select(ResumeKeyRow.key_hash)).all()
    assert stored == [hashlib.sha256(key.encode()).hexdigest()]
    assert key not in str(stored)


@pytest.mark.parametrize("forged", ["", "abc", "x" * 500, "A" * 43])
def test_a_wrong_or_malformed_key_opens_nothing(db, started, forged):
    _, key = started
    assert resume(db, forged) is None
    assert resume(db, key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")) is None
    assert resume(db, key) is not None  # wrong guesses do not spoil the real key


def test_a_key_stops_working_after_submission(db, started):
    who, key = started
    with db.sessions.begin() as session:
        s.submit_respondent(session, ROUND, who)
    assert resume(db, key) is None
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ResumeKeyRow)) == 0


def test_a_key_stops_working_after_seven_idle_days_but_not_while_answers_are_saved(db, started):
    who, key = started
    long_ago = utcnow() - RESUME_IDLE - dt.timedelta(minutes=1)
    with db.sessions.begin() as session:  # the key was last used 7 days ago, but an answer was saved since
        session.execute(update(ResumeKeyRow).values(last_used_at=long_ago, created_at=long_ago))
    assert resume(db, key) is not None
    with db.sessions.begin() as session:  # now neither the key nor any answer in 7 days
        session.execute(update(ResumeKeyRow).values(last_used_at=long_ago, created_at=long_ago))
        session.execute(update(AnswerRow).values(updated_at=long_ago))
    assert resume(db, key) is None
    with db.sessions.begin() as session:
        session.execute(update(AnswerRow).values(updated_at=utcnow()))
    assert resume(db, key) is None  # a refused key is gone for good


def test_a_key_stops_working_when_the_link_is_withdrawn_or_the_round_closes(db, started):
    who, key = started
    with db.sessions.begin() as session:
        links = s.list_links(session, ROUND)
        s.withdraw_link(session, int(links.loc[links["state"] == "started", "link"].iloc[0]), actor="admin")
    assert resume(db, key) is None


def test_a_new_key_withdraws_the_old_one(db, started):
    who, key = started
    newer = key_for(db, who)
    assert newer != key
    assert resume(db, key) is None
    assert resume(db, newer).respondent == who


def test_a_submitted_respondent_gets_no_key(db, started):
    who, _ = started
    with db.sessions.begin() as session:
        s.submit_respondent(session, ROUND, who)
    with pytest.raises(s.StateError), db.sessions.begin() as session:
        issue_resume_key(session, ROUND, who)


def test_wrong_keys_share_the_invite_links_guess_budget(db, started):
    _, key = started
    limits = GuessLimits(per_browser=3, per_address=1_000)
    browser = "one-browser"
    assert check(db, secrets.token_urlsafe(32), browser=browser, limits=limits) is None  # a wrong invite token
    for _ in range(2):
        assert resume(db, secrets.token_urlsafe(32), browser=browser, limits=limits) is None
    with pytest.raises(TooManyGuesses):  # even the right key is not looked at now
        resume(db, key, browser=browser, limits=limits)
    with pytest.raises(TooManyGuesses):
        check(db, secrets.token_urlsafe(32), browser=browser, limits=limits)
    assert resume(db, key, browser="another-browser", limits=limits) is not None


def test_a_released_place_takes_its_key_with_it(db, rounds):  # noqa: F811
    (token,) = invite(db, max_uses=3)
    who = start(db, token)
    key = key_for(db, who)
    with db.sessions.begin() as session:  # started more than 24 hours ago, no answer: the place is released
        from assessment.storage.models import RespondentRow

        session.execute(update(RespondentRow).values(started_at=utcnow() - dt.timedelta(hours=25)))
    for _ in range(3):
        start(db, token)
    assert resume(db, key) is None
