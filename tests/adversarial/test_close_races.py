"""Closing a round while answers arrive: nothing accepted is lost (issue 11, defect 1), on both engines.

The interleaving that lost answers is forced with the storage checkpoints (assessment.storage.checkpoints),
not with sleeps: one transaction stops at the moment a race turns on (its round status checked, its write
about to land; or the close done but not committed), and from there the test tries the competing change.

- A competing change that refuses to wait for locks (SQLite: busy timeout 0; PostgreSQL: a short
  lock_timeout) must fail with a lock error: the lock is really held at that moment. Before the fix it went
  through, and the answers written next were missing from the stored scores.
- The real competing change, started from the same point in another thread, waits; when it finishes,
  every answer whose save, submission or import reported success is in the closed round, and everything
  else was refused with "this round has closed".
"""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError

from assessment.storage import services as s
from assessment.storage.checkpoints import stepping_in
from assessment.storage.db import make_engine, make_session_factory
from assessment.storage.models import AnswerRow, RespondentRow
from tests.integration.conftest import ADMIN, ITEMS

ROUND = "kent-2026-h1"
AGENCIES = ("police", "mental_health_trust", "ambulance")
LOCKED = r"database is locked|lock timeout|could not obtain lock"


@pytest.fixture
def open_round(db, mini_v1):
    """Kent's partnership with an open round on the mini questionnaire (seven items)."""
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"],
                          actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
        s.open_round(session, ROUND, actor=ADMIN)
    return ROUND


def responses_file(respondents: int) -> bytes:
    """A valid responses file: ``respondents`` people x the seven items (2,858 people = 20,006 rows)."""
    lines = ["partnership,round,respondent,agency,item,value,comment"]
    for n in range(respondents):
        agency = AGENCIES[n % len(AGENCIES)]
        lines.extend(f"kent,{ROUND},imp-{n:05d},{agency},{item},{(n + i) % 5 + 1}," for i, item in enumerate(ITEMS))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def impatient(db):
    """Sessions on a second engine whose lock waits fail at once (SQLite) or after 50 ms (PostgreSQL)."""
    url = db.engine.url.render_as_string(hide_password=False)
    if db.kind == "sqlite":
        engine = make_engine(url)
        # Registered after make_engine's own listener, so it overrides the 15-second busy timeout.
        event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout=0"))
    else:
        engine = make_engine(url, connect_args={"options": "-c lock_timeout=50"})
    yield make_session_factory(engine)
    engine.dispose()


def wait_until_queued(db, started: threading.Event) -> None:
    """Return once the competing thread is about to ask for the lock (SQLite) or is waiting for it
    (PostgreSQL, where the server says so)."""
    assert started.wait(60), "the competing thread did not start"
    if db.kind != "postgresql":
        return
    deadline = time.monotonic() + 60
    with db.engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one()
            connection.rollback()
            if waiting:
                return
            time.sleep(0.005)
    raise AssertionError("the competing transaction never waited for the round lock")


class Competitor(threading.Thread):
    """Runs ``action`` in its own write transaction; keeps its result or its exception."""

    def __init__(self, db, action) -> None:
        super().__init__(daemon=True)
        self.db, self.action = db, action
        self.started_work = threading.Event()
        self.result = self.error = None

    def run(self) -> None:
        try:
            self.started_work.set()
            with self.db.sessions.begin() as session:
                self.result = self.action(session)
        except BaseException as exc:  # reported by the test
            self.error = exc


def close(session):
    return s.close_round(session, ROUND, actor=ADMIN)


def scored_respondents(db) -> set[str]:
    with db.sessions() as session:
        assert s.round_info(session, ROUND).status == "closed"
        scores = s.respondent_scores(session, [ROUND])
    return set(scores["respondent"].astype(str)) if not scores.empty else set()


# -- import against close ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_close_during_an_import_waits_for_it_and_scores_every_imported_respondent(db, open_round, impatient):
    data = responses_file(2_858)
    closer = Competitor(db, close)
    probe: list[BaseException] = []

    def at_the_write(session, **_):
        try:  # the close that will not wait must find the round locked
            with impatient.begin() as other:
                close(other)
        except OperationalError as exc:
            probe.append(exc)
        closer.start()
        wait_until_queued(db, closer.started_work)

    with stepping_in("import.checked", at_the_write), db.sessions.begin() as session:
        report = s.import_responses(session, open_round, data, actor=ADMIN)
    closer.join(120)
    assert len(probe) == 1, "a close went through while the import held the round"
    assert not closer.is_alive() and closer.error is None, closer.error
    assert re.search(LOCKED, str(probe[0]))
    assert (report.rows, report.respondents) == (20_006, 2_858)
    imported = {f"imp-{n:05d}" for n in range(2_858)}
    assert imported - scored_respondents(db) == set(), "imported respondents missing from the stored scores"


@pytest.mark.slow
def test_an_import_that_meets_a_closing_round_is_refused_and_writes_nothing(db, open_round, impatient):
    data = responses_file(2_858)
    importer = Competitor(db, lambda session: s.import_responses(session, ROUND, data, actor=ADMIN))
    probe: list[BaseException] = []

    def closing(session, **_):
        try:
            with impatient.begin() as other:
                s.import_responses(other, ROUND, data, actor=ADMIN)
        except OperationalError as exc:
            probe.append(exc)
        importer.start()
        wait_until_queued(db, importer.started_work)

    with stepping_in("round.closing", closing), db.sessions.begin() as session:
        close(session)
    importer.join(120)
    assert len(probe) == 1, "an import wrote into the round while it was closing"
    assert isinstance(importer.error, s.StateError), importer.error
    assert "this round has closed" in str(importer.error)
    with db.sessions() as session:
        assert session.scalar(select(RespondentRow.id)) is None
        assert session.scalar(select(AnswerRow.item)) is None
    assert scored_respondents(db) == set()


# -- respondents submitting and saving against close --------------------------------------------------------

def _respondents(db, count: int, *, answered: bool) -> list[str]:
    with db.sessions.begin() as session:
        links = s.create_invitations(session, ROUND, "police", count, actor=ADMIN, base_url="https://x.example")
    keys = []
    for link in links:
        with db.sessions.begin() as session:
            who = s.start_respondent(session, link.split("invite=", 1)[1]).respondent
            if answered:
                s.save_answers(session, ROUND, who, [{"item": item, "value": "3"} for item in ITEMS])
        keys.append(who)
    return keys


def _race(db, impatient, checkpoint: str, work: dict[str, callable]) -> tuple[dict, dict, Competitor]:
    """Run every ``work[name](session)`` in its own thread and transaction, all released together; the first
    to reach ``checkpoint`` starts the close from there. Returns (successes, refusals, the closer)."""
    closer = Competitor(db, close)
    probe: list[BaseException] = []
    first = threading.Lock()
    done: dict[str, object] = {}
    refused: dict[str, BaseException] = {}
    barrier = threading.Barrier(len(work))

    def step_in(session, **_):
        if not first.acquire(blocking=False):
            return
        try:
            with impatient.begin() as other:
                close(other)
        except OperationalError as exc:
            probe.append(exc)
        closer.start()
        wait_until_queued(db, closer.started_work)

    def run(name, action):
        barrier.wait()
        try:
            with db.sessions.begin() as session:
                done[name] = action(session)
        except (s.StateError, s.InvalidInvitation) as exc:
            refused[name] = exc

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in work.items()]
    with stepping_in(checkpoint, step_in):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        closer.join(120)
    assert not any(t.is_alive() for t in threads) and not closer.is_alive()
    assert len(probe) == 1, "a close went through while an answer was being written"
    assert closer.error is None, closer.error
    assert set(done) | set(refused) == set(work), "a thread ended with an unexpected error"
    assert all("this round has closed" in str(exc) for exc in refused.values()), refused
    return done, refused, closer


@pytest.mark.slow
def test_every_submission_racing_a_close_is_scored_or_refused_as_closed(db, open_round, impatient):
    people = _respondents(db, 30, answered=True)
    work = {who: (lambda session, who=who: s.submit_respondent(session, ROUND, who)) for who in people}
    submitted, refused, _ = _race(db, impatient, "answers.checked", work)
    assert submitted, "the submission that met the close first must have gone through"
    scored = scored_respondents(db)
    assert set(submitted) - scored == set(), "submissions that reported success are missing from the scores"
    assert scored == set(submitted), "a refused submission was scored"
    assert len(submitted) + len(refused) == 30


@pytest.mark.slow
def test_every_save_racing_a_close_is_kept_or_refused_as_closed(db, open_round, impatient):
    people = _respondents(db, 20, answered=False)
    work = {f"{who}/{item}": (lambda session, who=who, item=item: s.save_answer(session, ROUND, who, item, "4"))
            for who in people for item in ITEMS[:3]}
    saved, refused, _ = _race(db, impatient, "answers.checked", work)
    assert saved
    with db.sessions() as session:
        stored = s.round_answers(session, ROUND, submitted_only=False)
    kept = {f"{who}/{item}" for who, item in zip(stored["respondent"], stored["item"], strict=True)}
    assert set(saved) - kept == set(), "saves that reported success are missing from the closed round"
    assert kept == set(saved)


def test_a_read_session_cannot_change_a_round_on_sqlite(db, open_round):
    """On SQLite only a write transaction (``factory.begin()``) holds the lock a status check relies on."""
    with db.sessions() as session:
        if db.kind == "sqlite":
            with pytest.raises(RuntimeError, match="needs a write transaction"):
                close(session)
        else:  # PostgreSQL's row locks work in any transaction
            close(session)
            session.rollback()
