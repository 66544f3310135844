"""Trends across rounds and the commissioners' portfolio (assessment.trends) on small frames."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from assessment.trends import (
    PORTFOLIO_FIRST_ROUND,
    TREND_COLUMNS,
    bootstrap_agency_balanced,
    domain_trends,
    portfolio,
)


def respondents(partnership: str, period: str, domain: str, scores: dict[str, list[float]], *,
                version: str = "1.0.0", status: str = "scored") -> pd.DataFrame:
    rows = []
    for agency, values in scores.items():
        for i, score in enumerate(values):
            rows.append({"partnership": partnership, "round": f"{partnership} {period}",
                         "respondent": f"{partnership}-{period}-{agency}-{i}", "agency": agency,
                         "domain": domain, "score": score, "status": status,
                         "questionnaire": "mini-partnership", "version": version, "period": period})
    return pd.DataFrame(rows)


LOW = {"police": [1.8, 2.0, 2.2], "local_authority": [2.0, 2.4], "vcse": [1.6, 2.2]}
HIGH = {"police": [3.8, 4.0, 4.2], "local_authority": [4.0, 4.4], "vcse": [3.6, 4.2]}
SAME = {"police": [2.8, 3.0, 3.2], "local_authority": [3.0, 3.4], "vcse": [2.6, 3.2]}


def test_rounds_are_ordered_by_period_and_the_first_has_no_change():
    frame = pd.concat([respondents("Kent", "2026-H1", "triage", HIGH), respondents("Kent", "2025-H2", "triage", LOW)])
    table = domain_trends(frame, partnership="Kent", questionnaires=None)
    assert tuple(table.columns) == TREND_COLUMNS
    assert list(table["period"]) == ["2025-H2", "2026-H1"]
    first = table.iloc[0]
    assert pd.isna(first["comparable_with_previous"]) and first["verdict"] == "" and np.isnan(first["change"])
    assert table.iloc[1]["verdict"] == "improved"


def test_a_decline_and_a_flat_line():
    frame = pd.concat([respondents("Kent", "2025-H1", "triage", HIGH), respondents("Kent", "2025-H2", "triage", SAME),
                       respondents("Kent", "2026-H1", "triage", SAME)])
    table = domain_trends(frame, partnership="Kent", questionnaires=None)
    assert list(table["verdict"]) == ["", "declined", "no clear change"]
    assert table["change"].iloc[2] == pytest.approx(0.0)


def test_only_scored_respondents_count():
    frame = respondents("Kent", "2025-H2", "triage", LOW)
    frame.loc[0, "status"] = "insufficient"
    frame.loc[0, "score"] = np.nan
    frame.loc[1, "status"] = "not_applicable"
    table = domain_trends(frame, partnership="Kent", questionnaires=None)
    assert table["n_respondents"].iloc[0] == 5


def test_other_partnerships_are_left_out_unless_all_are_asked_for():
    frame = pd.concat([respondents("Kent", "2025-H2", "triage", LOW), respondents("Surrey", "2025-H2", "triage", HIGH)])
    assert set(domain_trends(frame, partnership="Kent", questionnaires=None)["partnership"]) == {"Kent"}
    assert set(domain_trends(frame, partnership=None, questionnaires=None)["partnership"]) == {"Kent", "Surrey"}


def test_a_rounds_interval_does_not_depend_on_the_other_domains_in_the_frame():
    alone = respondents("Kent", "2025-H2", "triage", LOW)
    together = pd.concat([alone, respondents("Kent", "2025-H2", "governance", HIGH)])
    a = domain_trends(alone, partnership="Kent", questionnaires=None).set_index("domain")
    b = domain_trends(together, partnership="Kent", questionnaires=None).set_index("domain")
    assert (a.at["triage", "ci_low"], a.at["triage", "ci_high"]) == (b.at["triage", "ci_low"], b.at["triage", "ci_high"])


def test_a_domain_missing_from_the_previous_round_is_a_break():
    frame = pd.concat([respondents("Kent", "2025-H2", "triage", LOW), respondents("Kent", "2026-H1", "triage", HIGH),
                       respondents("Kent", "2026-H1", "governance", HIGH)])
    last = domain_trends(frame, partnership="Kent", questionnaires=None).query("period == '2026-H1'").set_index("domain")
    assert last.at["governance", "verdict"] == "not comparable"
    assert last.at["governance", "break_reason"] == "domain not scored in the previous round"


def test_different_versions_without_definitions_are_not_comparable():
    frame = pd.concat([respondents("Kent", "2025-H2", "triage", LOW),
                       respondents("Kent", "2026-H1", "triage", HIGH, version="1.1.0")])
    last = domain_trends(frame, partnership="Kent", questionnaires=None).iloc[1]
    assert last["verdict"] == "not comparable"
    assert "no definition" in last["break_reason"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="agency"):
        domain_trends(pd.DataFrame({"partnership": [], "round": [], "respondent": [], "domain": [], "score": []}),
                      partnership="Kent", questionnaires=None)
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_agency_balanced(np.array([1.0]), np.array(["police"]), resamples=0,
                                  rng=np.random.default_rng(1))


def test_portfolio_shows_the_latest_verdict_in_alphabetical_order_and_filters_by_region():
    frame = pd.concat([
        respondents("Surrey", "2025-H2", "triage", HIGH), respondents("Surrey", "2026-H1", "triage", LOW),
        respondents("Kent", "2025-H2", "triage", LOW), respondents("Kent", "2026-H1", "triage", HIGH),
        respondents("Gwent", "2026-H1", "triage", SAME),
    ])
    trends = domain_trends(frame, partnership=None, questionnaires=None)
    places = pd.DataFrame({"partnership": ["Gwent", "Kent", "Surrey"], "nation": ["Wales", "England", "England"],
                           "region": ["Wales", "South East", "South East"]})
    table = portfolio(trends, places)
    assert list(table.columns) == ["partnership", "nation", "region", "triage"]
    assert list(table["partnership"]) == ["Gwent", "Kent", "Surrey"]  # never ranked
    assert list(table["triage"]) == [PORTFOLIO_FIRST_ROUND, "improved", "declined"]
    assert list(portfolio(trends, places, region="South East")["partnership"]) == ["Kent", "Surrey"]


def test_portfolio_reads_trends_back_from_a_csv():
    frame = pd.concat([respondents("Kent", "2025-H2", "triage", LOW), respondents("Kent", "2026-H1", "triage", HIGH),
                       respondents("Kent", "2026-H2", "triage", HIGH)])
    trends = domain_trends(frame, partnership="Kent", questionnaires=None)
    # written and read back, the first round's empty verdict becomes missing: still not the latest
    reread = pd.read_csv(io.StringIO(trends.to_csv(index=False)))
    places = pd.DataFrame({"partnership": ["Kent"], "nation": ["England"], "region": ["South East"]})
    assert portfolio(reread, places)["triage"].tolist() == ["no clear change"]


def test_latest_only_computes_the_same_latest_rows():
    frame = pd.concat([respondents("Kent", "2025-H1", "triage", LOW), respondents("Kent", "2025-H2", "triage", SAME),
                       respondents("Kent", "2026-H1", "triage", HIGH)])
    full = domain_trends(frame, partnership="Kent", questionnaires=None)
    latest = domain_trends(frame, partnership="Kent", questionnaires=None, latest_only=True)
    assert list(latest["period"]) == ["2025-H2", "2026-H1"]
    pd.testing.assert_frame_equal(latest.iloc[[1]].reset_index(drop=True), full.iloc[[2]].reset_index(drop=True))


def test_an_empty_period_falls_back_to_the_round_value():
    frame = pd.concat([respondents("Kent", "2026-H1", "triage", HIGH), respondents("Kent", "2025-H2", "triage", LOW)])
    frame["round"] = frame["period"]
    frame["period"] = ""
    table = domain_trends(frame, partnership="Kent", questionnaires=None)
    assert list(table["period"]) == ["2025-H2", "2026-H1"] and table["verdict"].iloc[1] == "improved"


def test_portfolio_selection_and_changes_for_a_commissioners_chosen_set():
    from assessment.trends import portfolio_selection
    places = pd.DataFrame({"partnership": ["b", "a", "c"], "region": ["North", "North", "South"],
                           "groups": ["icb-north;metropolitan", "county", ""]})
    assert portfolio_selection(places, region="North") == ["a", "b"]
    assert portfolio_selection(places, group="icb-north") == ["b"]
    assert portfolio_selection(places, group="icb") == []  # whole group names only
    assert portfolio_selection(places, keys=["c", "zz"]) == ["c"]  # never beyond the frame given
    assert portfolio_selection(places, organisation="NHS North ICB") == []  # no member columns: nothing


def test_portfolio_selection_by_an_icb_footprint_or_a_police_force_area():
    from assessment.trends import member_organisations, portfolio_selection
    places = pd.DataFrame({"partnership": ["b", "a", "c", "d"], "region": ["North", "North", "South", "South"],
                           "groups": ["", "", "", ""],
                           "icbs": ["NHS North ICB", "NHS North ICB;NHS Coast ICB", "NHS South ICB", ""],
                           "police_forces": ["Bee Police", "Ay Police", "Sea Police", "Sea Police"]})
    assert member_organisations(places, "icbs") == ["NHS Coast ICB", "NHS North ICB", "NHS South ICB"]
    assert member_organisations(places, "police_forces") == ["Ay Police", "Bee Police", "Sea Police"]
    assert member_organisations(places.drop(columns="icbs"), "icbs") == []
    assert portfolio_selection(places, organisation="NHS North ICB") == ["a", "b"]
    assert portfolio_selection(places, organisation="NHS Coast ICB") == ["a"]
    assert portfolio_selection(places, organisation="NHS North") == []  # whole names only
    assert portfolio_selection(places, organisation="Sea Police") == ["c", "d"]
    assert portfolio_selection(places, organisation="Sea Police", region="North") == []  # they combine
    assert portfolio_selection(places.iloc[:2], organisation="Sea Police") == []  # never beyond the frame


def test_portfolio_changes_keep_the_chosen_set():
    from assessment.trends import portfolio_changes
    frame = pd.DataFrame({"partnership": ["a", "a", "b"], "round": ["a1", "a2", "b1"],
                          "period": ["2025", "2026", "2026"], "domain": ["d1"] * 3, "n_respondents": [9, 9, 9],
                          "change": [None, -0.456, None], "change_low": [None, -0.8, None],
                          "change_high": [None, -0.1, None], "verdict": ["", "declined", ""]})
    out = portfolio_changes(frame, ["a", "b"])
    assert list(out["cell"]) == ["declined -0.46 (95% -0.80 to -0.10)", "first round"]
    assert portfolio_changes(frame, []).empty
