"""Issue 11, defect 2: no hidden figure is shown or can be worked out, on any page, command, chart or export.

Three layers of attack:

* the algebra: every set of figures over partnerships that the rule lets through, for any settings, leaves
  at least two scores undetermined (so even an insider who knows their own cannot complete the rest); the
  ``a = 2·q1 − median`` recovery with 3 and 5 partnerships; trends and practices from too few;
* the walk, on both engines: a world with a round of 2 respondents and an agency of 1
  (tests/adversarial/disclosure_world.py), every export, command and library output searched for the
  hidden figures; the board export cannot be rescored; the custodian export is audited and re-keyed;
* the pages, through AppTest: every page, for the small round and the small agency, searched the same way
  (tables, texts, metrics and the data inside every chart).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from assessment import peers, trends
from assessment.disclosure import PEER_FIGURES, DisclosureRule, _weights, peer_figures, shown_peer_figures
from assessment.errors import ValidationFailed
from assessment.scoring import read_answers_csv, score_responses
from assessment.storage import services as s
from assessment.storage.models import AuditEvent
from tests.adversarial import disclosure_world as world
from tests.integration.conftest import ADMIN

ROOT = Path(__file__).resolve().parents[2]


# -- the algebra ----------------------------------------------------------------------------------------------

@given(n=st.integers(1, 16), median=st.integers(1, 12), spread=st.integers(1, 12), extremes=st.integers(1, 12))
def test_no_shown_set_pins_every_score_even_for_an_insider(n, median, spread, extremes):
    rule = DisclosureRule(min_peers=median, min_peers_spread=spread, min_peers_extremes=extremes)
    shown = shown_peer_figures(n, rule)
    equations = [_weights(n, figure) for figure in shown]
    if n == 1:  # a lone partnership: nothing over it is shown
        assert shown == ()
        return
    for own in range(n):  # the insider knows one score (whichever place it has)
        known = np.vstack([*equations, np.eye(n)[own]])
        assert np.linalg.matrix_rank(known) < n, (n, shown, own)
    if n >= max(median, 3):
        assert "median" in shown  # the guard takes away no more than it must


def regions_of(values: list[float]) -> pd.Series:
    names = [f"P{i}" for i in range(len(values))]
    scores = pd.DataFrame({"partnership": names, "round": "2026-H1", "domain": "triage", "score": values})
    places = pd.DataFrame({"partnership": names, "nation": "England", "region": "South West"})
    table = peers.compare_regions(scores, places)
    return table[table["scope"] == "region"].iloc[0]


def test_the_recovery_attack_fails_with_three_partnerships():
    a, b, c = 1.7, 2.9, 3.6
    figures = regions_of([a, b, c])
    assert figures["median"] == b and figures["partnerships"] == 3
    assert pd.isna(figures["q1"]) and pd.isna(figures["q3"])
    attack = (2 * figures["q1"] - figures["median"], 2 * figures["q3"] - figures["median"])
    assert all(pd.isna(x) for x in attack)
    # the same three as peers of a fourth partnership, and as the practices threshold
    scores = pd.DataFrame({"partnership": ["Own", "A", "B", "C"], "round": "2026-H1", "domain": "triage",
                           "score": [3.0, a, b, c]})
    places = pd.DataFrame({"partnership": ["Own", "A", "B", "C"], "nation": "England", "region": "South West",
                           "share_practice": True})
    row = peers.compare_with_peers(scores, places, partnership="Own", round="2026-H1").iloc[0]
    assert row[list(PEER_FIGURES)].isna().tolist() == [False, True, True, True, True]
    comments = pd.DataFrame({"partnership": ["C"], "round": ["2026-H1"], "domain": ["triage"], "comment": ["x"]})
    assert peers.promising_practices(comments, scores[scores["partnership"] != "Own"], places).empty


def test_the_recovery_attack_fails_with_five_partnerships():
    values = [1.2, 2.1, 2.6, 3.3, 4.4]
    figures = regions_of(values)
    assert (figures["q1"], figures["median"], figures["q3"]) == pytest.approx((2.1, 2.6, 3.3))
    attack = {round(2 * figures["q1"] - figures["median"], 6), round(2 * figures["q3"] - figures["median"], 6)}
    assert not attack & {1.2, 4.4}  # the lowest and highest stay unknown
    shown = {round(v, 6) for v in figures[["q1", "median", "q3"]]}
    assert len(shown | attack & set(values)) <= 3  # at most the 2nd to 4th, never all five
    assert np.isnan(peer_figures(values)["min"]) and np.isnan(peer_figures(values)["max"])


def practice_attack(values: list[float], named: bool) -> set[float]:
    """The scores of a region of ``values`` that its table and its promising practices give away (every
    number either shows, and the ``a = 2·q1 − median`` recovery), as figures rounded to 6 places."""
    names = [f"P{i}" for i in range(len(values))]
    scores = pd.DataFrame({"partnership": names, "round": "2026-H1", "domain": "triage", "score": values})
    places = pd.DataFrame({"partnership": names, "nation": "England", "region": "South West",
                           "share_practice": True, "named_to_peers": named})
    region = peers.compare_regions(scores, places)
    region = region[region["scope"] == "region"].iloc[0]
    comments = pd.DataFrame({"partnership": names, "round": "2026-H1", "domain": "triage",
                             "comment": [f"evidence {i}" for i in range(len(values))]})
    practices = peers.promising_practices(comments, scores, places)
    assert len(practices) >= 2  # the top quartile is listed: the attack has something to read
    shown = [float(v) for v in region[["q1", "median", "q3"]].dropna()]
    shown += [float(v) for column in practices.select_dtypes("number") for v in practices[column].dropna()]
    if not pd.isna(region["q1"]):
        shown += [2 * region["q1"] - region["median"], 2 * region["q3"] - region["median"]]
    return {round(v, 6) for v in shown} & {round(v, 6) for v in values}


@pytest.mark.parametrize("named", [False, True])
def test_promising_practices_with_the_region_figures_leave_two_of_five_scores_unknown(named):
    # 5 partnerships, all sharing practice: Q1, median and Q3 are the 2nd to 4th scores, and the 4th and
    # 5th are the top quartile, listed as practices. Before the fix the practices carried the exact scores
    # 3.3 and 4.4, so 4 of 5 were known and the lowest partnership, knowing its own, had all five.
    values = [1.2, 2.1, 2.6, 3.3, 4.4]
    known = practice_attack(values, named)
    assert known == {2.1, 2.6, 3.3}
    assert len(values) - len(known) >= 2  # even an insider who knows their own cannot complete the rest
    # and with 10: nothing beyond what the region table already shows
    values = [round(v, 3) for v in np.linspace(1.1, 4.7, 10)]
    assert len(values) - len(practice_attack(values, named)) >= 2
    assert "score" not in peers.PRACTICE_COLUMNS


def test_min_and_max_need_ten_partnerships():
    assert shown_peer_figures(9) == ("median", "q1", "q3")
    assert shown_peer_figures(10) == ("median", "q1", "q3", "min", "max")


def test_a_round_of_two_respondents_shows_no_trend_score_and_no_change_into_or_out_of_it():
    rows = []
    for round_key, period, people in (("r1", "2025-H2", [("a", "police", 2.0)] * 5),
                                      ("r2", "2026-H1", [("b", "police", 4.5), ("c", "icb", 4.0)]),
                                      ("r3", "2026-H2", [("d", "police", 2.5)] * 5)):
        rows += [{"partnership": "Kent", "round": round_key, "period": period, "respondent": f"{who}{n}",
                  "agency": agency, "domain": "triage", "score": score, "status": "scored"}
                 for n, (who, agency, score) in enumerate(people)]
    table = trends.domain_trends(pd.DataFrame(rows), partnership="Kent", questionnaires=None, resamples=200,
                                 min_group_size=3, min_respondents=2).set_index("round")
    assert table.loc["r2", ["score", "ci_low", "ci_high", "change"]].isna().all()
    assert table.loc["r2", "n_respondents"] == 2 and table.loc["r2", "verdict"] == trends.TOO_FEW
    assert table.loc["r3", ["change", "change_low", "change_high"]].isna().all()  # r3 − r2 would give r2 back
    assert table.loc["r3", "verdict"] == trends.TOO_FEW and table.loc["r3", "score"] == 2.5
    shown = trends.domain_trends(pd.DataFrame(rows), partnership="Kent", questionnaires=None, resamples=200,
                                 min_group_size=2, min_respondents=2).set_index("round")
    assert shown.loc["r2", "score"] == pytest.approx(4.25)  # the rule, not the data, hid it


# -- the walk over exports, commands and library outputs, on both engines ----------------------------------

@pytest.fixture
def world_db(db, mini_v1):
    with db.sessions.begin() as session:
        rounds = world.build(session, mini_v1)
    with db.sessions() as session:
        hidden = world.hidden_values(session, rounds)
    return db, rounds, hidden


def xlsx_cells(content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [cell for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row]


def test_no_export_or_library_output_shows_a_hidden_figure(world_db):
    db, rounds, hidden = world_db
    outputs = []
    with db.sessions() as session:
        closed = s.list_rounds(session).query("status == 'closed'")["round"].tolist()
        for round_key in closed:
            tables = s.export_tables(session, round_key)
            assert tables and not any("respondent" in t.columns or "value" in t.columns for t in tables.values())
            outputs += list(tables.values())
            outputs += xlsx_cells(s.export_round(session, round_key, "xlsx"))
            outputs += [s.export_round(session, round_key, "csv", table=t).decode("utf-8-sig") for t in tables]
        scores, places = s.partnership_scores(session), s.list_partnerships(session)
        respondents, comments = s.respondent_scores(session), s.answer_comments(session)
    for round_key in closed:
        partnership = round_key.rsplit("-2026", 1)[0]
        for group in ("all", "region", "nation"):
            outputs.append(peers.compare_with_peers(scores, places, partnership=partnership, round=round_key,
                                                    peer_group=group))
    regions = peers.compare_regions(scores, places, period="2026-H1")
    north_east = regions[(regions["scope"] == "region") & (regions["region"] == "North East")]
    assert set(north_east["partnerships"]) == {1}  # lone only: tiny's hidden round is not counted
    practices = peers.promising_practices(comments, scores, places)
    assert world.SECRET_COMMENT not in " ".join(practices["comment"])
    all_trends = trends.domain_trends(respondents, partnership=None, questionnaires=None, resamples=200,
                                      min_group_size=3)
    outputs += [regions, peers.region_matrix(regions), practices, all_trends,
                trends.portfolio(all_trends, places)]
    assert world.leaks(outputs, hidden) == []


def test_no_command_prints_a_hidden_figure(world_db, tmp_path):
    db, rounds, hidden = world_db
    env = {"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "ASSESSMENT_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    from assessment.cli import main

    printed = []
    for args in (["round", "list"], ["round", "responses", rounds["tiny_hidden"]], ["partnership", "list"]):
        result = runner.invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        printed.append(result.output)
    for round_key in (rounds["tiny_hidden"], rounds["tiny_shown"], rounds["lone"]):
        for fmt in ("csv", "xlsx"):
            out = tmp_path / f"{round_key}.{fmt}"
            result = runner.invoke(main, ["export", "--round", round_key, "--format", fmt, "--out", str(out)], env=env)
            assert result.exit_code == 0, result.output
    for path in tmp_path.glob("*.csv"):
        printed.append(path.read_text(encoding="utf-8-sig"))
    for path in tmp_path.glob("*.xlsx"):
        printed += xlsx_cells(path.read_bytes())
    assert len(printed) > 10 and world.leaks(printed, hidden) == []
    refused = runner.invoke(main, ["export", "--round", rounds["tiny_hidden"], "--format", "csv", "--table", "answers",
                                   "--out", str(tmp_path / "x.csv")], env=env)
    assert refused.exit_code == 2  # there is no answers table in the board export


def test_a_board_export_cannot_be_rescored(world_db, mini_v1):
    db, rounds, _ = world_db
    with db.sessions() as session:
        book = openpyxl.load_workbook(io.BytesIO(s.export_round(session, rounds["tiny_hidden"], "xlsx")))
    for sheet in book:
        frame = pd.DataFrame(list(sheet.iter_rows(values_only=True))[1:],
                             columns=[c.value for c in sheet[1]]).astype(str)
        assert not {"respondent", "value"} & set(frame.columns), sheet.title
        with pytest.raises(ValidationFailed, match="column"):  # no sheet holds answers to rescore
            score_responses(mini_v1, read_answers_csv(io.StringIO(frame.to_csv(index=False))))
    with db.sessions() as session, pytest.raises(ValueError, match="custodian"):
        s.export_round(session, rounds["tiny_hidden"], "csv", table="answers")


def test_the_custodian_export_is_audited_and_re_keyed_so_two_cannot_be_joined(world_db):
    db, rounds, _ = world_db
    round_key = rounds["lone"]
    with db.sessions.begin() as session:
        first = s.custodian_export(session, round_key, actor="custodian@example.org", purpose="evaluation")
        second = s.custodian_export(session, round_key, actor="custodian@example.org", purpose="evaluation")
    with db.sessions() as session:
        stored = s.round_answers(session, round_key)
        events = session.execute(select(AuditEvent.actor, AuditEvent.entity_key, AuditEvent.detail)
                                 .where(AuditEvent.action == "custodian-export")).all()
    a, b = first["answers"], second["answers"]
    assert len(a) == len(b) == len(stored)
    assert a["respondent"].nunique() == stored["respondent"].nunique() == 7
    assert not set(a["respondent"]) & set(b["respondent"])
    assert not (set(a["respondent"]) | set(b["respondent"])) & set(stored["respondent"])
    # the answers themselves are the custodian's to have: the same multiset of rows
    key = ["agency", "item", "value"]
    pd.testing.assert_frame_equal(a[key].sort_values(key).reset_index(drop=True),
                                  stored[key].sort_values(key).reset_index(drop=True))
    assert [(actor, entity) for actor, entity, _ in events] == [("custodian@example.org", round_key)] * 2
    assert events[0][2]["respondents"] == 7 and events[0][2]["purpose"] == "evaluation"
    with db.sessions.begin() as session, pytest.raises(ValueError, match="purpose"):
        s.custodian_export(session, round_key, actor=ADMIN, purpose=" ")


# -- the pages ------------------------------------------------------------------------------------------------

def rendered(at) -> list:
    """Everything an AppTest run drew: table values, texts, and every chart's spec and data."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    found: list = []

    def walk(node) -> None:
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                walk(child)
            return
        proto = getattr(node, "proto", None)
        value = getattr(node, "value", None)
        if isinstance(value, pd.DataFrame):
            found.append(value)
        elif getattr(node, "type", "") in ("vega_lite_chart", "arrow_vega_lite_chart"):
            found.append(proto.spec)
            found.extend(convert_arrow_bytes_to_pandas_df(d.data.data) for d in proto.datasets)
        elif proto is not None:
            found.append(str(proto))

    walk(at._tree)
    return found


PAGES = ("home", "results", "trends", "actions", "indicators", "regions", "outcomes", "portfolio", "manage")


def test_no_page_shows_a_hidden_figure(sqlite_db, mini_v1, tmp_path, monkeypatch):
    import streamlit as stl
    from streamlit.testing.v1 import AppTest

    db = sqlite_db
    with db.sessions.begin() as session:
        rounds = world.build(session, mini_v1)
        token = s.create_invitations(session, rounds["tiny_open"], "police", 1, actor=ADMIN,
                                     base_url="http://localhost:8501")[0].rsplit("invite=", 1)[1]
    with db.sessions() as session:
        hidden = world.hidden_values(session, rounds)
    monkeypatch.setenv("ASSESSMENT_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ASSESSMENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSESSMENT_DEMO", "0")
    monkeypatch.setenv("ASSESSMENT_BOOTSTRAP_RESAMPLES", "200")
    # walked as the laptop operator (an administrator sees the most); docs/access.md covers the other roles
    monkeypatch.setenv("ASSESSMENT_AUTH", "none")
    from streamlit import config as st_config

    address = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")
    stl.cache_resource.clear()
    stl.cache_data.clear()
    try:
        seen = {}
        for partnership, round_key in (("tiny", rounds["tiny_hidden"]), ("tiny", rounds["tiny_shown"]),
                                       ("lone", rounds["lone"])):
            for page in PAGES:
                at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
                at.session_state["app_partnership"] = partnership
                at.session_state["app_round"] = round_key
                at.run()
                at.switch_page(f"app_pages/{page}.py").run()
                assert not at.exception, [e.message for e in at.exception]
                if page == "results":  # every domain's item detail, and every peer group
                    choices = {"results_domain": [d.id for d in mini_v1.domains],
                               "results_peer_group": ["all", "region", "nation"]}
                    for key, options in choices.items():
                        for option in options:
                            at.selectbox(key=key).set_value(option).run()
                            assert not at.exception, [e.message for e in at.exception]
                            seen[(partnership, round_key, page, key, option)] = rendered(at)
                seen[(partnership, round_key, page)] = rendered(at)
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
        at.query_params["invite"] = token
        at.run()
        assert not at.exception
        seen["invite"] = rendered(at)
    finally:
        st_config.set_option("server.address", address)
        stl.cache_resource.clear()
        stl.cache_data.clear()
    assert len(seen) > 18
    found = {where: world.leaks(what, hidden) for where, what in seen.items()}
    assert {where: numbers for where, numbers in found.items() if numbers} == {}
    texts = [str(x) for what in seen.values() for x in what]
    assert not any(world.SECRET_COMMENT in text for text in texts)
    # the walk is honest: the same search finds the figures where they are shown
    assert world.leaks([pd.DataFrame({"score": sorted(hidden)})], hidden)
    assert any("not shown" in text for text in texts)


def test_the_walk_covers_every_page():
    listed = {p.stem for p in (ROOT / "app_pages").glob("*.py") if not p.stem.startswith("_")}
    # take_assessment is walked through its invite link; sign_in shows no figures (only sign-in buttons)
    assert listed == {*PAGES, "take_assessment", "sign_in"}


def test_the_stored_trend_and_peer_figures_hold_no_hidden_figure(world_db):
    """Issue 17 stores trends and peer figures for pages to read: the tables themselves (what a BI tool or a
    backup would see) hold only what the disclosure rule lets a page show."""
    from sqlalchemy import text

    db, rounds, hidden = world_db
    with db.engine.connect() as connection:
        stored = {name: pd.read_sql(text(f"SELECT * FROM {name}"), connection)
                  for name in ("trend_figures", "peer_figures")}
        ids = dict(connection.execute(text("SELECT key, id FROM rounds")).all())
    assert len(stored["trend_figures"]) and len(stored["peer_figures"])
    assert world.leaks(list(stored.values()), hidden) == []
    small = stored["trend_figures"][stored["trend_figures"]["round_id"] == ids[rounds["tiny_hidden"]]]
    assert len(small) and small[["score", "ci_low", "ci_high", "change"]].isna().all().all()
    after = stored["trend_figures"][stored["trend_figures"]["round_id"] == ids[rounds["tiny_shown"]]]
    assert after[["change", "change_low", "change_high"]].isna().all().all()  # shown − hidden gives it back
    assert set(after["verdict"]) == {trends.TOO_FEW}
    peer = stored["peer_figures"]
    rule = DisclosureRule()
    assert peer.loc[peer["n_peers"] < rule.min_peers, ["median", "q1", "q3"]].isna().all().all()
    assert peer.loc[peer["n_peers"] < rule.min_peers_spread, ["q1", "q3"]].isna().all().all()
    assert peer.loc[peer["n_peers"] < rule.min_peers_extremes, ["min", "max"]].isna().all().all()
    assert peer.loc[peer["round_id"] == ids[rounds["tiny_hidden"]], "score"].isna().all()
