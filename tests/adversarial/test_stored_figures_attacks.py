"""Stored trend and peer figures (issue 17, migration 0010) under attack, on SQLite and PostgreSQL.

The stored rows are written with the options the close (or the last refresh) used. Attacks:

(a) the deployment hides more than the stored rows did (a stricter ``ASSESSMENT_MIN_GROUP_SIZE`` than the
    figures were stored with, e.g. rows written by ``assessment db upgrade``'s backfill with the defaults, or
    by a command line whose shell lacked the setting): the Trends and Portfolio reads through the service,
    with the deployment's options, must not show the small round's score, interval or changes; and once the
    app refreshes at start the table itself no longer holds them;
(b) the first two closes of a deployment race (no ``figure_states`` row yet to lock): both must succeed
    and leave the stored figures current (PostgreSQL: the second writer must wait, not fail on the
    ``figure_states`` key).
"""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from sqlalchemy import text

from assessment import service
from assessment.permissions import Principal
from assessment.storage import figures
from assessment.storage import services as s
from assessment.storage.checkpoints import stepping_in
from tests.adversarial.disclosure_world import _nine, _round, _rows
from tests.adversarial.test_close_races import wait_until_queued
from tests.integration.conftest import ADMIN

STRICT = figures.FigureOptions(min_group_size=5)
FOUR = [("p1", "police", [4, 5]), ("p2", "police", [5, 4]), ("m1", "mental_health_trust", [4, 5]),
        ("m2", "mental_health_trust", [5, 5])]


@pytest.fixture
def four_then_nine(db, mini_v1):
    """Kent: a closed 2025-H2 round of four respondents (answers 4 and 5), then a closed 2026-H1 round of nine
    (answers 1 to 3); Surrey: a closed 2026-H1 round of nine. Closed with the default options (min 3)."""
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        for key in ("kent", "surrey"):
            s.add_partnership(session, key, key.title(), members=[key], actor=ADMIN)
        small = _round(session, "kent", "2025-H2", _rows("kent", "kent-2025-h2", FOUR))
        later = _round(session, "kent", "2026-H1", _nine("kent", "kent-2026-h1", 1, 1))
        _round(session, "surrey", "2026-H1", _nine("surrey", "surrey-2026-h1", 1, 2))
    return db, small, later


def _stored_trends(db) -> pd.DataFrame:
    with db.engine.connect() as connection:
        return pd.read_sql(text("SELECT r.key AS round, t.* FROM trend_figures t JOIN rounds r ON r.id = t.round_id"),
                           connection)


def test_a_stricter_deployment_never_shows_what_the_stored_rows_hold(four_then_nine):
    db, small, later = four_then_nine
    stored = _stored_trends(db)
    assert stored.loc[stored["round"] == small, "score"].notna().all()  # stored under min 3: four may be shown

    admin = Principal.administrator(ADMIN)
    with db.sessions() as session:
        read = {"Trends": service.partnership_trends(session, admin, "kent", **STRICT.trend_options()),
                "Portfolio": service.portfolio_trends(session, admin, **STRICT.trend_options())}
        latest = service.portfolio_trends(session, admin, latest_only=True, **STRICT.trend_options())
    grid = latest[latest["partnership"] == "kent"]  # the portfolio grid: Kent's latest round, its change hidden
    assert set(grid["round"]) == {later}
    assert grid[["change", "change_low", "change_high"]].isna().all().all()
    for page, frame in read.items():
        assert (frame["round"] == small).any(), page
        hidden = frame[frame["round"] == small]
        assert hidden[["score", "ci_low", "ci_high"]].isna().all().all(), page
        after = frame[frame["round"] == later]
        assert after[["change", "change_low", "change_high"]].isna().all().all(), page  # later − small

    with db.sessions.begin() as session:  # the app's refresh at start, with the deployment's settings
        assert "trends" in figures.refresh(session, STRICT)
    stored = _stored_trends(db)
    assert stored.loc[stored["round"] == small, ["score", "ci_low", "ci_high"]].isna().all().all()
    assert stored.loc[stored["round"] == later, ["change", "change_low", "change_high"]].isna().all().all()


@pytest.fixture
def two_open_rounds(db, mini_v1):
    """Kent's and Surrey's first rounds, open with nine respondents each: nothing closed yet anywhere."""
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        for n, key in enumerate(("kent", "surrey")):
            s.add_partnership(session, key, key.title(), members=[key], actor=ADMIN)
            _round(session, key, "2026-H1", _nine(key, f"{key}-2026-h1", 1, n), close=False)
    return db


def test_the_first_two_closes_of_a_deployment_both_succeed_and_leave_the_figures_current(two_open_rounds):
    db = two_open_rounds
    outcome: dict[str, object] = {}
    queued = threading.Event()

    def close_surrey() -> None:
        queued.set()
        try:
            with db.sessions.begin() as session:
                s.close_round(session, "surrey-2026-h1", actor=ADMIN)
            outcome["surrey"] = "closed"
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            outcome["surrey"] = exc

    competitor = threading.Thread(target=close_surrey, daemon=True)

    def step_in(session, **detail) -> None:
        if detail.get("round") != "kent-2026-h1" or competitor.is_alive() or "surrey" in outcome:
            return
        competitor.start()
        if db.kind == "postgresql":  # Kent's close holds its locks until it commits: Surrey's must wait
            wait_until_queued(db, queued)
        else:  # SQLite: Surrey's write transaction waits for Kent's (busy timeout); let it reach the wait
            queued.wait(60)

    with stepping_in("round.closing", step_in):
        with db.sessions.begin() as session:
            s.close_round(session, "kent-2026-h1", actor=ADMIN)
        competitor.join(120)
    assert outcome.get("surrey") == "closed", repr(outcome.get("surrey"))
    with db.sessions() as session:
        assert figures.is_current(session, "trends", figures.FigureOptions())
        assert figures.is_current(session, "peers", figures.FigureOptions())
        rounds = set(figures.read_trends(session, figures.FigureOptions())["round"])
    assert rounds == {"kent-2026-h1", "surrey-2026-h1"}


def test_a_commissioner_reads_no_stored_figure_of_a_partnership_outside_their_grants(four_then_nine):
    """Every reader of the stored trend and peer figures, called by a commissioner of Surrey for Kent, is
    refused in the service; their portfolio and their own peer table hold Surrey's rows only."""
    from assessment.permissions import AccessDenied
    from assessment.settings import load_settings

    db, small, later = four_then_nine
    surrey = Principal.with_grants("commissioner@example.org", [("commissioner", "surrey")])
    options = figures.FigureOptions().trend_options()
    with db.sessions() as session:
        assert figures.is_current(session, "trends", figures.FigureOptions())
        assert figures.is_current(session, "peers", figures.FigureOptions())
        for attempt in (lambda: service.partnership_trends(session, surrey, "kent", **options),
                        lambda: service.peer_comparison(session, surrey, "kent", later, "all"),
                        lambda: service.results_model(session, surrey, later, settings=load_settings()),
                        lambda: service.list_actions(session, surrey, "kent", **options)):
            with pytest.raises(AccessDenied):
                attempt()
        with pytest.raises((AccessDenied, ValueError)):  # Surrey's partnership, Kent's round
            service.peer_comparison(session, surrey, "surrey", later, "all")
        portfolio = service.portfolio_trends(session, surrey, **options)
        own, _ = service.peer_comparison(session, surrey, "surrey", "surrey-2026-h1", "all")
    assert set(portfolio["partnership"]) == {"surrey"}
    assert set(own["partnership"]) == {"surrey"} and set(own["round"]) == {"surrey-2026-h1"}


def test_two_replicas_refreshing_at_start_take_turns(four_then_nine, monkeypatch):
    """Two app replicas start together after a settings change: each runs the refresh of prepare_database.
    The first is held inside its rewrite; the second must wait for it (PostgreSQL: the writers' lock) and
    then find the figures current, instead of writing the same rows and failing on their key."""
    db, _small, _later = four_then_nine
    inside, release = threading.Event(), threading.Event()
    real = figures._write_trends
    first = {}

    def held(session, options, partnership):
        if first.setdefault("thread", threading.get_ident()) == threading.get_ident():
            inside.set()
            assert release.wait(60)
        return real(session, options, partnership)

    monkeypatch.setattr(figures, "_write_trends", held)
    done: dict[str, object] = {}

    def refresh(name: str) -> None:
        try:
            with db.sessions.begin() as session:
                done[name] = figures.refresh(session, STRICT)
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            done[name] = exc

    one = threading.Thread(target=refresh, args=("one",), daemon=True)
    one.start()
    assert inside.wait(60)
    two = threading.Thread(target=refresh, args=("two",), daemon=True)
    queued = threading.Event()
    queued.set()
    two.start()
    if db.kind == "postgresql":
        wait_until_queued(db, queued)  # the second replica waits for the first
    release.set()
    one.join(120)
    two.join(120)
    assert done["one"] == ["trends", "peers"], done  # the stricter min group size is an option of both kinds
    assert done["two"] == [], done  # it found them current
    with db.sessions() as session:
        assert figures.is_current(session, "trends", STRICT) and figures.is_current(session, "peers", STRICT)


def test_a_stricter_deployment_hides_the_small_round_on_every_reader_of_its_scores(four_then_nine, monkeypatch):
    """(c) Kent's round of four was closed under min 3 (its stored scores are flagged as shown); the deployment
    now says 5. Results (and the board pack, same model), the round's score frames, the board export, the
    peer table of the stored figures and every partnership's scores must all treat it as hidden."""
    from assessment.disclosure import blank_suppressed, score_hidden
    from assessment.settings import load_settings
    from assessment.storage.exports import export_tables

    db, small, later = four_then_nine
    monkeypatch.setenv("ASSESSMENT_MIN_GROUP_SIZE", "5")
    settings = load_settings({"ASSESSMENT_MIN_GROUP_SIZE": "5"})
    admin = Principal.administrator(ADMIN)
    with db.sessions() as session:
        shown_at_close = s.partnership_scores(session, [small], min_group_size=3)
        assert not score_hidden(shown_at_close).any()  # closed under min 3: four respondents were shown

        model = service.results_model(session, admin, small, settings=settings)
        assert model.domains["score"].isna().all(), "Results shows the 4-respondent round under min 5"
        assert model.agencies["score"].isna().all()
        frames = service.round_scores(session, admin, small)
        for name, frame in frames.items():
            assert score_hidden(frame).all(), name
            assert blank_suppressed(frame)["mean" if name == "items" else "score"].isna().all(), name
        for name, frame in export_tables(session, small).items():
            assert frame["mean" if name == "item_scores" else "score"].isna().all(), name
        every = service.partnership_scores(session, admin)
        assert score_hidden(every[every["round"] == small]).all()
        assert not score_hidden(every[every["round"] == later]).any()

    with db.sessions.begin() as session:  # the app's refresh at start, with the deployment's settings
        figures.refresh(session, figures.FigureOptions.from_settings(settings))
    with db.sessions() as session:
        table, _ = service.peer_comparison(session, admin, "kent", small, "all", min_group_size=5)
        assert table["score"].isna().all()


def test_a_looser_deployment_never_shows_what_was_hidden_at_close(four_then_nine):
    """Kent's round of four (two police, two NHS) hid each agency under min 3; read under min 2 the agencies
    stay hidden: a looser setting never un-hides a figure."""
    from assessment.disclosure import score_hidden

    db, small, _ = four_then_nine
    with db.sessions() as session:
        at_close = s.agency_scores(session, [small], min_group_size=3)
        looser = s.agency_scores(session, [small], min_group_size=2)
    assert score_hidden(at_close).all()
    pd.testing.assert_frame_equal(looser, at_close)
