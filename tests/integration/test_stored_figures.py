"""Stored trend and peer figures (issue 17): what the Portfolio, Trends and Results read equals what the library
computes from the scores now, after every change of an input (close, reopen, peer-group edit, settings), on
SQLite and PostgreSQL, and the migration fills them for a database in use."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from assessment import peers, service, trends
from assessment.permissions import Principal
from assessment.storage import figures
from assessment.storage import services as s
from assessment.vocabulary import BUILT_IN_PEER_GROUPS

ADMIN = "admin@example.org"
OTHER = figures.FigureOptions(resamples=300, seed=7, min_respondents=3, min_group_size=3, min_peers=2,
                              min_peers_spread=3, min_peers_extremes=4, window_months=6)


@pytest.fixture
def demo_world(db, mini_v1, mini_v2):
    """A small demo (6 partnerships, 2 questionnaire versions, several periods, 2 rounds still open)."""
    from assessment.demo import seed_demo

    with db.sessions.begin() as session:
        seed_demo(session, [mini_v1, mini_v2], partnerships=6, open_rounds=2)
    return db


def fresh_trends(session, options: figures.FigureOptions) -> pd.DataFrame:
    """Trends computed now from the stored respondent scores (what pages computed before issue 17)."""
    return trends.domain_trends(s.respondent_scores(session), partnership=None,
                                questionnaires=service._questionnaires(session), **options.trend_options())


def fresh_peers(session, options: figures.FigureOptions) -> pd.DataFrame:
    """Every closed round against the built-in groups and each of its partnership's own custom groups."""
    places = s.list_partnerships(session)
    own = {p: set(str(g).split(";")) - {""} for p, g in zip(places["partnership"], places["groups"], strict=True)}
    custom = sorted(set().union(*own.values()))
    table = peers.compare_all_with_peers(s.partnership_scores(session), places,
                                         peer_groups=[*BUILT_IN_PEER_GROUPS, *custom],
                                         questionnaires=service._questionnaires(session), **options.peer_options())
    offered = [g in BUILT_IN_PEER_GROUPS or g in own[p] for p, g in zip(table["partnership"], table["peer_group"],
                                                                         strict=True)]
    return table[offered].reset_index(drop=True)


def stored_rows(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def assert_stored_equal_fresh(db, options: figures.FigureOptions = figures.FigureOptions()) -> None:
    """The stored figures are current, and equal (to 1e-12) what the library computes from the scores now."""
    with db.sessions() as session:
        assert figures.is_current(session, "trends", options) and figures.is_current(session, "peers", options)
        stored_trends = figures.read_trends(session, options)
        stored_peers = figures.read_peers(session, options)
        expected_trends = fresh_trends(session, options)
        expected_peers = fresh_peers(session, options)
    assert len(stored_trends) and len(stored_peers)
    pd.testing.assert_frame_equal(stored_trends, expected_trends.reset_index(drop=True), check_dtype=False,
                                  rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(stored_peers, expected_peers, check_dtype=False, rtol=1e-12, atol=1e-12)


def _closed(db) -> list[str]:
    with db.sessions() as session:
        rounds = s.list_rounds(session)
    return list(rounds.loc[rounds["status"] == "closed", "round"])


def _open(db) -> list[str]:
    with db.sessions() as session:
        rounds = s.list_rounds(session)
    return list(rounds.loc[rounds["status"] == "open", "round"])


def test_figures_are_stored_with_the_demo_and_equal_fresh_ones(demo_world):
    assert_stored_equal_fresh(demo_world)


def test_after_a_reopen_and_a_close_the_stored_figures_equal_fresh_ones(demo_world):
    key = _closed(demo_world)[-1]
    with demo_world.sessions.begin() as session:
        s.reopen_round(session, key, actor=ADMIN, reason="a late batch of paper forms")
    assert_stored_equal_fresh(demo_world)
    with demo_world.sessions() as session:  # the reopened round has no stored figures
        assert key not in set(figures.read_trends(session, figures.FigureOptions())["round"])
        assert key not in set(figures.read_peers(session, figures.FigureOptions())["round"])
    with demo_world.sessions.begin() as session:
        s.close_round(session, key, actor=ADMIN)
    assert_stored_equal_fresh(demo_world)
    opened = _open(demo_world)[0]  # a round closing for the first time (its partnership's newest)
    with demo_world.sessions.begin() as session:
        s.close_round(session, opened, actor=ADMIN)
    assert_stored_equal_fresh(demo_world)
    with demo_world.sessions() as session:
        assert opened in set(figures.read_trends(session, figures.FigureOptions())["round"])


def test_a_peer_group_edit_and_a_new_partnership_update_the_peer_figures(demo_world):
    with demo_world.sessions() as session:
        places = s.list_partnerships(session)
    first, second = places["partnership"].iloc[0], places["partnership"].iloc[1]
    with demo_world.sessions.begin() as session:
        s.set_peer_groups(session, first, ["coastal", "pilot-sites"], actor=ADMIN)
        s.set_peer_groups(session, second, ["coastal"], actor=ADMIN)
    assert_stored_equal_fresh(demo_world)
    with demo_world.sessions() as session:
        groups = set(figures.read_peers(session, figures.FigureOptions(), partnership=first)["peer_group"])
    assert {"coastal", "pilot-sites"} <= groups
    with demo_world.sessions.begin() as session:
        s.add_partnership(session, "newcomer", "Newcomer partnership", members=["durham"], actor=ADMIN,
                          groups=["coastal"])
    assert_stored_equal_fresh(demo_world)  # a new partnership is a peer without a round (n_excluded)


def test_a_settings_change_is_detected_and_a_refresh_stores_the_new_figures(demo_world):
    with demo_world.sessions() as session:
        assert not figures.is_current(session, "trends", OTHER)
        # read before any refresh: computed afresh under the new settings, not the stored rows of the old
        lazily = figures.read_trends(session, OTHER)
        pd.testing.assert_frame_equal(lazily, fresh_trends(session, OTHER).reset_index(drop=True), check_dtype=False)
        latest = figures.read_trends(session, OTHER, latest_only=True)
        pd.testing.assert_frame_equal(trends.portfolio_changes(latest), trends.portfolio_changes(lazily),
                                      check_dtype=False)
        lazy_peers = figures.read_peers(session, OTHER)
        pd.testing.assert_frame_equal(lazy_peers, fresh_peers(session, OTHER), check_dtype=False)
    with demo_world.sessions.begin() as session:
        assert figures.refresh(session, OTHER) == ["trends", "peers"]
        assert figures.refresh(session, OTHER) == []  # current now: nothing to do
    assert_stored_equal_fresh(demo_world, OTHER)
    key = _closed(demo_world)[0]  # a later close keeps the stored settings
    with demo_world.sessions.begin() as session:
        s.reopen_round(session, key, actor=ADMIN, reason="checking the settings are kept")
    assert_stored_equal_fresh(demo_world, OTHER)


def test_a_close_with_other_settings_recomputes_everything_with_them(demo_world):
    key = _open(demo_world)[0]
    with demo_world.sessions.begin() as session:
        s.close_round(session, key, actor=ADMIN, figure_options=OTHER)
    assert_stored_equal_fresh(demo_world, OTHER)


def test_the_service_reads_the_stored_trends_and_filters_them_by_access(demo_world, monkeypatch):
    admin = Principal.with_grants(ADMIN, [("administrator", None)])
    with demo_world.sessions() as session:
        places = s.list_partnerships(session)
        expected = fresh_trends(session, figures.FigureOptions())
        mine = places["partnership"].iloc[:2].tolist()
        commissioner = Principal.with_grants("c@example.org", [("board_member", p) for p in mine])
        monkeypatch.setattr(trends, "domain_trends", _refuse)  # nothing is computed: every row is read
        everything = service.portfolio_trends(session, admin, resamples=2000, seed=20260101, min_respondents=5,
                                              min_group_size=3)
        theirs = service.portfolio_trends(session, commissioner, resamples=2000, seed=20260101,
                                          min_respondents=5, min_group_size=3)
        one = service.partnership_trends(session, admin, mine[0])
        latest = service.portfolio_trends(session, admin, latest_only=True, resamples=2000, seed=20260101,
                                          min_respondents=5, min_group_size=3)
    pd.testing.assert_frame_equal(everything, expected.reset_index(drop=True), check_dtype=False)
    assert set(theirs["partnership"]) == set(mine) & set(expected["partnership"])
    assert set(one["partnership"]) == {mine[0]}
    # the portfolio grid reads each partnership's latest round per domain only: the same cells
    pd.testing.assert_frame_equal(trends.portfolio_changes(latest), trends.portfolio_changes(expected),
                                  check_dtype=False)
    assert len(latest) < len(everything) and not latest.duplicated(["partnership", "domain"]).any()


def _refuse(*args, **kwargs):
    raise AssertionError("figures were computed on a read: the stored figures should have been read")


def test_the_migration_backfills_a_database_in_use(demo_world, table_dump):
    from alembic import command

    from assessment.storage.db import alembic_config, current_revision, head_revision, upgrade

    before = table_dump(demo_world.engine)
    assert before["trend_figures"] and before["peer_figures"] and len(before["figure_states"]) == 2
    with demo_world.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0009")
        connection.commit()
    assert current_revision(demo_world.engine) == "0009"
    upgrade(demo_world.engine)
    assert current_revision(demo_world.engine) == head_revision()
    after = table_dump(demo_world.engine)
    assert after["trend_figures"] == before["trend_figures"]
    assert after["peer_figures"] == before["peer_figures"]
    assert_stored_equal_fresh(demo_world)


def test_the_migration_leaves_an_empty_database_empty(db, table_dump):
    """A restore needs an empty database: the upgrade stores no figure state where no round is closed."""
    dump = table_dump(db.engine)
    assert dump["figure_states"] == [] and dump["trend_figures"] == [] and dump["peer_figures"] == []


def test_the_results_peer_table_is_read_from_the_stored_figures_and_equals_one_computed(demo_world, monkeypatch):
    admin = Principal.with_grants(ADMIN, [("administrator", None)])
    with demo_world.sessions.begin() as session:
        s.set_peer_groups(session, s.list_partnerships(session)["partnership"].iloc[0], ["coastal"], actor=ADMIN)
        s.set_peer_groups(session, s.list_partnerships(session)["partnership"].iloc[1], ["coastal"], actor=ADMIN)
    with demo_world.sessions() as session:
        places = s.list_partnerships(session)
        groups = dict(zip(places["partnership"], places["groups"], strict=True))
        scores, qs = s.partnership_scores(session), service._questionnaires(session)
        cases = [(p, r, g) for p, r in scores[["partnership", "round"]].drop_duplicates().itertuples(index=False)
                 for g in (*BUILT_IN_PEER_GROUPS, *[x for x in groups[p].split(";") if x])]
        expected = {case: peers.compare_with_peers(scores, places, partnership=case[0], round=case[1],
                                                   peer_group=case[2], questionnaires=qs) for case in cases}
        wider = {case: peers.wider_peer_group(scores, places, partnership=case[0], round=case[1], peer_group=case[2],
                                              questionnaires=qs)
                 for case in cases if expected[case]["suppressed"].all()}
        monkeypatch.setattr(peers, "compare_with_peers", _refuse)  # every table below is read, not computed
        for case in cases:
            table, wider_group = service.peer_comparison(session, admin, *case)
            pd.testing.assert_frame_equal(table, expected[case], check_dtype=False, rtol=1e-12, atol=1e-12)
            assert wider_group == wider.get(case)
    assert any(g == "coastal" for _, _, g in cases) and any(w is not None for w in wider.values())


def test_two_closes_at_once_leave_the_stored_figures_current(demo_world):
    """Two closes in two transactions at the same time (PostgreSQL: they take the figures' lock in turn)."""
    import threading

    first, second = _open(demo_world)[:2]
    barrier, errors = threading.Barrier(2), []

    def close(key: str) -> None:
        try:
            with demo_world.sessions.begin() as session:
                barrier.wait(timeout=30)
                s.close_round(session, key, actor=ADMIN)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=close, args=(key,)) for key in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and set(_closed(demo_world)) >= {first, second}
    assert_stored_equal_fresh(demo_world)
