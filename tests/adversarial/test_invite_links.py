"""Invite links under attack (issue 11, defect 8), on SQLite and PostgreSQL.

(a) A refused link runs the same SQL statements whatever the reason (never issued, expired, revoked, used
up, round closed, malformed): counted with a SQLAlchemy event listener, never timed.
(b) Failed guesses are throttled per browser session and per client address, counted in the database, so
replicas share the count.
(c) Starting reserves a place; a place is released after 24 hours without an answer; a 25-use link never
has more than 25 respondents, also when they all start at once.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, update

from assessment.storage import services as s
from assessment.storage.db import make_engine, make_session_factory
from assessment.storage.invitations import INVALID_INVITATION_MESSAGE, GuessLimits, hash_token
from assessment.storage.models import InvitationFailureRow, InvitationRow, RespondentRow, utcnow
from tests.integration.conftest import ADMIN

ROUND = "kent-2026-h1"
CLOSED_ROUND = "kent-2025-h2"
ROOMY = GuessLimits(per_browser=1_000, per_address=1_000)


@pytest.fixture
def rounds(db, mini_v1):
    """Kent's open round, and an earlier round of Kent's that is closed."""
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
        for period in ("2025-H2", "2026-H1"):
            s.create_round(session, "kent", period, questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
            s.open_round(session, f"kent-{period.lower()}", actor=ADMIN)
    return ROUND


def invite(db, round_key: str = ROUND, *, max_uses: int = 1, count: int = 1) -> list[str]:
    with db.sessions.begin() as session:
        links = s.create_invitations(session, round_key, "police", count, max_uses=max_uses, actor=ADMIN,
                                     base_url="https://x.example")
    return [link.split("invite=", 1)[1] for link in links]


def start(db, token: str) -> str:
    with db.sessions.begin() as session:
        return s.start_respondent(session, token).respondent


def check(db, token: str, *, browser: str | None = None, address: str | None = None,
          limits: GuessLimits = ROOMY, sessions=None):
    with (sessions or db.sessions).begin() as session:
        return s.check_invitation(session, token, browser=browser or secrets.token_hex(8), address=address,
                                  limits=limits)


# -- (a) the same statements for every refusal --------------------------------------------------------------

@pytest.fixture
def refused_tokens(db, rounds) -> dict[str, str]:
    """One token per way a link can be refused."""
    never_issued = secrets.token_urlsafe(32)
    expired, revoked, used, closed, lost = invite(db) + invite(db) + invite(db) + invite(db, CLOSED_ROUND) + invite(db)
    (full,) = invite(db, max_uses=2)
    for _ in range(2):
        start(db, full)
    who = start(db, used)
    with db.sessions.begin() as session:
        s.save_answer(session, ROUND, who, "governance.joint_board", "3")
        s.submit_respondent(session, ROUND, who)
        session.execute(update(InvitationRow).where(InvitationRow.token_hash == hash_token(expired))
                        .values(expires_at=dt.datetime(2020, 1, 1)))
        s.revoke_invitation(session, revoked, actor=ADMIN)
        lost_link = session.scalar(select(InvitationRow.id).where(InvitationRow.token_hash == hash_token(lost)))
        s.reissue_link(session, lost_link, actor=ADMIN, base_url="https://x.example")  # the lost token is revoked
        s.close_round(session, CLOSED_ROUND, actor=ADMIN)
    return {"never issued": never_issued, "expired": expired, "revoked": revoked, "replaced by a re-issue": lost,
            "used up (single use)": used,
            "used up (all places taken)": full, "round closed": closed, "too short": "abc",
            "too long": "x" * 500, "forged": expired[:-4] + ("AAAA" if not expired.endswith("AAAA") else "BBBB")}


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs (text only; values differ)."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_every_refusal_runs_the_same_statements_and_says_the_same(db, refused_tokens):
    for name, call in {
        "check_invitation": lambda session, token: s.check_invitation(
            session, token, browser=secrets.token_hex(8), address=None, limits=ROOMY),
        "resolve_invitation": s.resolve_invitation,
        "start_respondent": s.start_respondent,
    }.items():
        runs: dict[str, list[str]] = {}
        messages: set[str] = set()
        for outcome, token in refused_tokens.items():
            with statements(db.engine) as seen:
                try:
                    with db.sessions.begin() as session:
                        assert call(session, token) is None, f"{name} admitted a {outcome} link"
                except s.InvalidInvitation as refused:
                    messages.add(str(refused))
            runs[outcome] = seen
        distinct = {tuple(run) for run in runs.values()}
        assert len(distinct) == 1, f"{name} runs different statements: " + "; ".join(
            f"{outcome}: {len(run)}" for outcome, run in runs.items())
        assert messages <= {INVALID_INVITATION_MESSAGE}
        assert any("invitations" in statement for statement in runs["never issued"])
    with db.sessions() as session:  # check_invitation recorded one failed guess per refusal
        assert session.scalar(select(func.count()).select_from(InvitationFailureRow)) == len(refused_tokens)


# -- (b) throttling failed guesses --------------------------------------------------------------------------

def test_a_browser_session_that_keeps_guessing_must_wait_even_with_a_good_link(db, rounds):
    (good,) = invite(db)
    limits = GuessLimits(per_browser=3, per_address=100)
    for _ in range(3):
        assert check(db, secrets.token_urlsafe(32), browser="tab-1", address="203.0.113.9", limits=limits) is None
    with pytest.raises(s.TooManyGuesses, match="Wait 60 minutes"):
        check(db, good, browser="tab-1", address="203.0.113.9", limits=limits)
    # Another browser session elsewhere is not held back.
    assert check(db, good, browser="tab-2", address="198.51.100.7", limits=limits).round == ROUND


def test_an_address_that_keeps_guessing_must_wait_across_browser_sessions(db, rounds):
    (good,) = invite(db)
    limits = GuessLimits(per_browser=100, per_address=4)
    for n in range(4):  # a new browser session for every guess, as a script would
        assert check(db, secrets.token_urlsafe(32), browser=f"fresh-{n}", address="203.0.113.9",
                     limits=limits) is None
    with pytest.raises(s.TooManyGuesses):
        check(db, good, browser="fresh-new", address="203.0.113.9", limits=limits)
    assert check(db, good, browser="fresh-new", address="203.0.113.10", limits=limits) is not None


def test_app_replicas_share_the_count(db, rounds):
    """A second engine on the same database (another replica's pool) sees the failures of the first."""
    limits = GuessLimits(per_browser=2, per_address=100)
    other = make_engine(db.engine.url.render_as_string(hide_password=False))
    try:
        replica = make_session_factory(other)
        assert check(db, "not-a-real-token-but-long-enough", browser="tab", limits=limits) is None
        assert check(db, secrets.token_urlsafe(32), browser="tab", limits=limits, sessions=replica) is None
        with pytest.raises(s.TooManyGuesses):
            check(db, invite(db)[0], browser="tab", limits=limits, sessions=replica)
        with pytest.raises(s.TooManyGuesses):
            check(db, invite(db)[0], browser="tab", limits=limits)
    finally:
        other.dispose()


def test_guesses_older_than_the_window_stop_counting_and_are_removed(db, rounds):
    limits = GuessLimits(per_browser=2, per_address=100, window=dt.timedelta(minutes=15))
    for _ in range(2):
        check(db, secrets.token_urlsafe(32), browser="tab", limits=limits)
    with pytest.raises(s.TooManyGuesses, match="Wait 15 minutes"):
        check(db, invite(db)[0], browser="tab", limits=limits)
    with db.sessions.begin() as session:
        session.execute(update(InvitationFailureRow).values(at=utcnow() - dt.timedelta(minutes=16)))
    assert check(db, secrets.token_urlsafe(32), browser="tab", limits=limits) is None
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InvitationFailureRow)) == 1


def test_guesses_made_at_once_are_counted_one_at_a_time(db, rounds):
    limits = GuessLimits(per_browser=5, per_address=100)
    outcomes: list[object] = []
    barrier = threading.Barrier(16)

    def guess() -> None:
        barrier.wait()
        try:
            outcomes.append(check(db, secrets.token_urlsafe(32), browser="tab", limits=limits))
        except s.TooManyGuesses as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(outcomes) == 16
    assert sum(o is None for o in outcomes) == 5
    assert sum(isinstance(o, s.TooManyGuesses) for o in outcomes) == 11
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InvitationFailureRow)) == 5


def test_the_browser_and_address_are_stored_only_as_digests(db, rounds):
    check(db, secrets.token_urlsafe(32), browser="tab-7f3a", address="203.0.113.9")
    with db.sessions() as session:
        stored = session.execute(select(InvitationFailureRow.browser, InvitationFailureRow.address)).one()
    assert "tab-7f3a" not in stored.browser and "203.0.113.9" not in stored.address
    assert len(stored.browser) == len(stored.address) == 64


# -- (c) places on a multi-use link --------------------------------------------------------------------------

def link_respondents(db, token: str) -> int:
    with db.sessions() as session:
        link = session.scalar(select(InvitationRow.id).where(InvitationRow.token_hash == hash_token(token)))
        return session.scalar(select(func.count()).select_from(RespondentRow).where(RespondentRow.invitation_id == link))


def test_a_25_use_link_cannot_start_26_respondents(db, rounds):
    (workshop,) = invite(db, max_uses=25)
    for _ in range(25):
        start(db, workshop)
    with pytest.raises(s.InvalidInvitation):
        start(db, workshop)
    assert check(db, workshop) is None
    assert link_respondents(db, workshop) == 25


def test_a_25_use_link_opened_by_40_people_at_once_starts_25(db, rounds):
    (workshop,) = invite(db, max_uses=25)
    started: list[str] = []
    refused: list[BaseException] = []
    barrier = threading.Barrier(40)

    def open_link() -> None:
        barrier.wait()
        try:
            started.append(start(db, workshop))
        except s.InvalidInvitation as exc:
            refused.append(exc)

    threads = [threading.Thread(target=open_link) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert (len(started), len(refused)) == (25, 15)
    assert link_respondents(db, workshop) == 25


def test_a_place_is_released_after_24_hours_without_an_answer(db, rounds):
    (workshop,) = invite(db, max_uses=3)
    idle, answered, submitted = (start(db, workshop) for _ in range(3))
    with db.sessions.begin() as session:
        s.save_answer(session, ROUND, answered, "governance.joint_board", "2")
        s.save_answer(session, ROUND, submitted, "governance.joint_board", "4")
        s.submit_respondent(session, ROUND, submitted)
    with pytest.raises(s.InvalidInvitation):
        start(db, workshop)
    with db.sessions.begin() as session:
        session.execute(update(RespondentRow).values(started_at=utcnow() - dt.timedelta(hours=25)))
    # The idle respondent's place is gone: an answer now is refused, and someone else can take the place.
    with db.sessions.begin() as session, pytest.raises(s.StateError, match="released after 24 hours"):
        s.save_answer(session, ROUND, idle, "governance.joint_board", "5")
    newcomer = start(db, workshop)
    with pytest.raises(s.InvalidInvitation):
        start(db, workshop)
    # Whoever answered keeps their place however long they take.
    with db.sessions.begin() as session:
        s.save_answer(session, ROUND, answered, "governance.escalation", "3")
        s.submit_respondent(session, ROUND, answered)
        s.save_answer(session, ROUND, newcomer, "governance.joint_board", "1")
    assert link_respondents(db, workshop) == 3
    with db.sessions.begin() as session, pytest.raises(s.StateError, match="no respondent"):
        s.save_answer(session, ROUND, idle, "governance.joint_board", "5")
