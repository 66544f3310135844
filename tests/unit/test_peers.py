"""Peer groups, peer comparison, regions and promising practices (assessment.peers) on small frames."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.errors import ValidationFailed
from assessment.peer_groups import load_peer_groups, parse_peer_groups
from assessment.peers import (
    COMPARISON_COLUMNS,
    PRACTICE_COLUMNS,
    REGION_COLUMNS,
    compare_regions,
    compare_with_peers,
    peer_group_members,
    promising_practices,
    region_matrix,
    wider_peer_group,
    with_peer_groups,
)

PEERS = Path(__file__).resolve().parent.parent / "data" / "peers"


@pytest.fixture
def partnerships() -> pd.DataFrame:
    return pd.read_csv(PEERS / "partnerships.csv", dtype=str, keep_default_na=False)


@pytest.fixture
def scores() -> pd.DataFrame:
    frame = pd.read_csv(PEERS / "scores.csv", dtype=str, keep_default_na=False)
    frame["score"] = pd.to_numeric(frame["score"].replace("", np.nan))
    return frame


def one_domain(scores_by_partnership: dict[str, float], *, round_="2026-H1", domain="governance") -> pd.DataFrame:
    return pd.DataFrame({"partnership": list(scores_by_partnership), "round": round_, "domain": domain,
                         "score": list(scores_by_partnership.values())})


def everyone_in(names, region="South West") -> pd.DataFrame:
    return pd.DataFrame({"partnership": names, "nation": "England", "region": region, "groups": ""})


def row(table: pd.DataFrame, domain: str) -> pd.Series:
    return table.set_index("domain").loc[domain]


# -- peer groups ---------------------------------------------------------------------------------------------


def test_region_peers_are_the_other_partnerships_of_the_region(partnerships):
    assert peer_group_members(partnerships, "Avon and Somerset", "region") == [
        "Devon and Cornwall", "Dorset", "Gloucestershire", "Wiltshire"]


def test_nation_peers_for_wales_and_all_peers_exclude_self(partnerships):
    assert peer_group_members(partnerships, "Gwent", "nation") == ["Dyfed-Powys"]
    everyone = peer_group_members(partnerships, "Gwent", "all")
    assert "Gwent" not in everyone and len(everyone) == 10


def test_custom_group_is_read_from_the_groups_column(partnerships):
    assert peer_group_members(partnerships, "Avon and Somerset", "rural") == [
        "Devon and Cornwall", "Dyfed-Powys", "Gloucestershire", "Wiltshire"]
    # a partnership may be compared with a group it does not belong to
    assert "Avon and Somerset" in peer_group_members(partnerships, "Kent", "rural")


def test_unknown_peer_group_and_unknown_partnership_are_refused(partnerships):
    with pytest.raises(ValueError, match="unknown peer group 'urban'"):
        peer_group_members(partnerships, "Kent", "urban")
    with pytest.raises(ValueError, match="not in the partnerships frame"):
        peer_group_members(partnerships, "Cleveland", "region")


def test_peer_groups_load_from_yaml_and_csv_alike():
    expected = {"peninsula": ("Avon and Somerset", "Devon and Cornwall", "Dorset", "Gloucestershire")}
    assert load_peer_groups(PEERS / "groups.yaml") == expected
    assert load_peer_groups(PEERS / "groups.csv") == expected


def test_imported_groups_are_merged_into_the_groups_column(partnerships):
    merged = with_peer_groups(partnerships, load_peer_groups(PEERS / "groups.yaml"))
    assert merged.set_index("partnership").at["Avon and Somerset", "groups"] == "rural;coastal;peninsula"
    assert peer_group_members(merged, "Dorset", "peninsula") == [
        "Avon and Somerset", "Devon and Cornwall", "Gloucestershire"]


def test_a_peer_group_file_cannot_reuse_a_built_in_name_and_reports_every_problem():
    with pytest.raises(ValidationFailed) as caught:
        parse_peer_groups("group,partnership\nregion,Kent\nmetro,\n", format="csv", file="groups.csv")
    codes = [p.code.code for p in caught.value.problems]
    assert codes == ["invalid-value", "empty-identifier"]
    assert caught.value.problems[0].path == "row 2"


def test_a_csv_peer_group_file_without_a_group_column_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        parse_peer_groups("name,partnership\nmetro,Kent\n", format="csv")
    assert [p.code.code for p in caught.value.problems] == ["missing-column"]


# -- peer comparison --------------------------------------------------------------------------------------


def test_one_row_per_domain_with_the_documented_columns(scores, partnerships):
    table = compare_with_peers(scores, partnerships, partnership="Avon and Somerset", round="2026-H1",
                               peer_group="region")
    assert tuple(table.columns) == COMPARISON_COLUMNS
    assert list(table["domain"]) == ["governance", "triage", "safety"]
    assert set(table["peer_group"]) == {"region"}


def test_two_peers_are_suppressed_but_their_count_is_written():
    table = compare_with_peers(one_domain({"Own": 3.0, "A": 2.0, "B": 4.0}), everyone_in(["Own", "A", "B"]),
                               partnership="Own", round="2026-H1")
    r = row(table, "governance")
    assert bool(r["suppressed"]) is True and r["n_peers"] == 2
    assert all(math.isnan(r[c]) for c in ("median", "q1", "q3", "min", "max", "percentile_rank",
                                           "gap_to_median", "gap_to_top_quartile"))
    assert r["score"] == 3.0  # the partnership's own score is always shown


def test_three_peers_are_enough():
    table = compare_with_peers(one_domain({"Own": 3.0, "A": 2.0, "B": 4.0, "C": 3.5}),
                               everyone_in(["Own", "A", "B", "C"]), partnership="Own", round="2026-H1")
    r = row(table, "governance")
    assert bool(r["suppressed"]) is False and r["n_peers"] == 3
    # for a median; quartiles need 5 peers and min and max 10 (docs/benchmarking.md, "What is shown")
    assert r["median"] == 3.5 and all(math.isnan(r[c]) for c in ("q1", "q3", "min", "max", "gap_to_top_quartile"))


def test_min_peers_is_a_setting():
    frame = one_domain({"Own": 3.0, "A": 2.0, "B": 4.0, "C": 3.5})
    table = compare_with_peers(frame, everyone_in(["Own", "A", "B", "C"]), partnership="Own",
                               round="2026-H1", min_peers=4)
    assert bool(table["suppressed"].iloc[0]) is True
    with pytest.raises(ValueError, match="min_peers"):
        compare_with_peers(frame, everyone_in(["Own"]), partnership="Own", round="2026-H1", min_peers=0)


def test_the_partnership_is_never_its_own_peer():
    frame = one_domain({"Own": 5.0, "A": 1.0, "B": 2.0, "C": 3.0})
    r = row(compare_with_peers(frame, everyone_in(["Own", "A", "B", "C"]), partnership="Own",
                               round="2026-H1"), "governance")
    assert r["n_peers"] == 3 and r["median"] == 2.0 and r["percentile_rank"] == 100.0


def test_peers_without_a_closed_round_in_the_period_are_counted_as_excluded(scores, partnerships):
    table = compare_with_peers(scores, partnerships, partnership="Avon and Somerset", round="2026-H1")
    # British Transport Police has no scores at all; Dorset has no safety score.
    assert list(table["n_excluded"]) == [1, 1, 2]
    assert row(table, "safety")["excluded_reasons"] == "1 no closed round in the peer window; 1 no score"
    assert list(table["n_peers"]) == [9, 9, 8]


def test_only_closed_rounds_are_peers_when_the_round_status_is_known():
    frame = one_domain({"Own": 3.0, "A": 2.0, "B": 4.0, "C": 3.5, "D": 1.0})
    frame["closed"] = [False, True, True, True, False]  # the partnership's own open round is still compared
    r = row(compare_with_peers(frame, everyone_in(["Own", "A", "B", "C", "D"]), partnership="Own",
                               round="2026-H1"), "governance")
    assert r["n_peers"] == 3 and r["excluded_reasons"] == "1 no closed round in the peer window"


def test_a_suppressed_partnership_score_is_not_used_as_a_peer_value():
    frame = one_domain({"Own": 3.0, "A": 2.0, "B": 4.0, "C": 3.5, "D": 1.0})
    frame["suppressed"] = [False, False, False, False, True]
    r = row(compare_with_peers(frame, everyone_in(["Own", "A", "B", "C", "D"]), partnership="Own",
                               round="2026-H1"), "governance")
    assert r["n_peers"] == 3 and r["median"] == 3.5 and r["excluded_reasons"] == "1 score suppressed"


def test_a_score_whose_agreement_figures_alone_are_hidden_is_still_a_peer_value():
    # `assessment score` flags a row suppressed when only its median, SD, agency gap and split are hidden
    # (a small agency); the score itself is shown. Only a listed `score` keeps it out.
    frame = one_domain({"Own": 3.0, "A": 2.0, "B": 4.0, "C": 3.5, "D": 1.0})
    frame["suppressed"] = [False, False, True, False, True]
    frame["suppression_reason"] = ["", "", "complementary", "", "small_group"]
    frame["suppressed_figures"] = ["", "", "median;sd;agency_gap;split", "",
                                   "score;level;level_label;respondent_mean;median;sd;agency_gap;split"]
    r = row(compare_with_peers(frame, everyone_in(["Own", "A", "B", "C", "D"]), partnership="Own",
                               round="2026-H1"), "governance")
    assert r["n_peers"] == 3 and r["median"] == 3.5 and r["excluded_reasons"] == "1 score suppressed"
    without_figures = frame.drop(columns="suppressed_figures")
    r = row(compare_with_peers(without_figures, everyone_in(["Own", "A", "B", "C", "D"]), partnership="Own",
                               round="2026-H1"), "governance")
    assert r["n_peers"] == 3 and r["excluded_reasons"] == "1 score suppressed"


def test_peers_are_matched_on_period_not_round_name_when_periods_are_given():
    frame = pd.DataFrame({
        "partnership": ["Own", "A", "B", "C", "C"],
        "round": ["own-2", "a-1", "b-7", "c-3", "c-4"],
        "period": ["2026-H1", "2026-H1", "2026-H1", "2025-H2", "2026-H1"],
        "domain": "triage", "score": [3.0, 2.0, 4.0, 1.0, 3.5],
    })
    r = row(compare_with_peers(frame, everyone_in(["Own", "A", "B", "C"]), partnership="Own",
                               round="own-2"), "triage")
    assert r["n_peers"] == 3 and r["median"] == 3.5  # C's 2025-H2 round (1.0) is not a peer value


def window_frame() -> pd.DataFrame:
    """Own (2026-H1) and peers whose most recent rounds fall inside and outside the 12-month window."""
    return pd.DataFrame({
        "partnership": ["Own", "A", "B", "B", "C", "D", "E", "F"],
        "round": ["own", "a-1", "b-1", "b-2", "c-1", "d-1", "e-1", "f-1"],
        "period": ["2026-H1", "2025-H2", "2025-26", "2026-Q2", "2025-H1", "2026-H2", "2026-h1", "2025"],
        "domain": "triage", "score": [3.0, 2.0, 9.0, 4.0, 1.0, 8.0, 3.0, 2.5],
    })


def test_peers_are_each_partnerships_most_recent_closed_round_in_the_twelve_month_window():
    table = compare_with_peers(window_frame(), everyone_in(["Own", *"ABCDEF"]), partnership="Own", round="own")
    r = row(table, "triage")
    # A 2025-H2 (2.0), B's most recent: 2026-Q2 (4.0, not its 2025-26 9.0), E 2026-h1 = 2026-H1 (3.0), F 2025
    # (2.5). C's 2025-H1 ended before the window; D's 2026-H2 is after the round's own period.
    assert r["n_peers"] == 4 and r["median"] == pytest.approx(np.median([2.0, 4.0, 3.0, 2.5]))
    assert r["excluded_reasons"] == "2 no closed round in the peer window"
    assert r["peer_periods"] == "2026-H1: 1; 2026-Q2: 1; 2025: 1; 2025-H2: 1"  # latest end first


def test_the_window_is_a_setting():
    table = compare_with_peers(window_frame(), everyone_in(["Own", *"ABCDEF"]), partnership="Own", round="own",
                               window_months=6, min_peers=1)
    r = row(table, "triage")  # 6 months to June 2026: only B (2026-Q2) and E (2026-H1)
    assert r["n_peers"] == 2 and r["peer_periods"] == "2026-H1: 1; 2026-Q2: 1"


def test_a_new_period_label_no_peer_uses_still_finds_the_peers_of_the_window():
    # The case: a round in 2026-Q2 when everyone else has 2026-H1 or 2025-H2 rounds.
    frame = pd.concat([one_domain({"Own": 3.0}, round_="2026-Q2"),
                       one_domain({"A": 2.0, "B": 4.0}, round_="2025-H2"), one_domain({"C": 3.5}, round_="2026-Q1")])
    r = row(compare_with_peers(frame, everyone_in(["Own", "A", "B", "C"]), partnership="Own", round="2026-Q2"),
            "governance")
    assert r["n_peers"] == 3 and not r["suppressed"] and r["peer_periods"] == "2026-Q1: 1; 2025-H2: 2"


def test_regions_use_the_same_window_rule():
    frame = window_frame().assign(closed=True)
    places = everyone_in(["Own", *"ABCDEF"])
    table = compare_regions(frame, places, period="2026-H1", min_peers=1)
    region = table[table["scope"] == "region"].iloc[0]
    # Own 3.0, A 2.0, B 4.0 (most recent), E 3.0, F 2.5: five partnerships; C and D are outside the window.
    assert region["partnerships"] == 5 and region["median"] == 3.0


def test_an_empty_period_falls_back_to_the_round_value():
    # `assessment score` always writes a period column; it is empty when the answers had none.
    frame = pd.concat([one_domain({"Own": 3.0, "A": 2.0, "B": 4.0, "C": 3.5}),
                       one_domain({"A": 1.0, "B": 1.0, "C": 1.0}, round_="2025-H2")])
    frame["period"] = ""
    r = row(compare_with_peers(frame, everyone_in(["Own", "A", "B", "C"]), partnership="Own",
                               round="2026-H1"), "governance")
    assert r["n_peers"] == 3 and r["median"] == 3.5


def test_a_round_without_scores_is_an_error(scores, partnerships):
    with pytest.raises(ValueError, match="no scores for partnership 'Kent' in round '2024-H1'"):
        compare_with_peers(scores, partnerships, partnership="Kent", round="2024-H1")


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="domain, score"):
        compare_with_peers(pd.DataFrame({"partnership": ["A"], "round": ["1"]}), everyone_in(["A"]),
                           partnership="A", round="1")


def test_a_different_version_without_definitions_is_not_comparable():
    frame = one_domain({"Own": 3.0, "A": 2.0, "B": 4.0, "C": 3.5})
    frame["questionnaire"] = "mini-partnership"
    frame["version"] = ["1.1.0", "1.1.0", "1.1.0", "1.0.0"]
    r = row(compare_with_peers(frame, everyone_in(["Own", "A", "B", "C"]), partnership="Own",
                               round="2026-H1"), "governance")
    assert r["n_peers"] == 2 and r["excluded_reasons"] == "1 version not comparable"


# -- wider peer group ----------------------------------------------------------------------------------------


def test_a_too_small_region_widens_to_the_nation(partnerships, scores):
    # Wales: Gwent has one peer in its region (and nation); the next group large enough is all.
    assert wider_peer_group(scores, partnerships, partnership="Gwent", round="2026-H1",
                            peer_group="region") == "all"
    # South West: four peers, large enough: no wider group is needed.
    assert wider_peer_group(scores, partnerships, partnership="Avon and Somerset", round="2026-H1",
                            peer_group="region") is None


def test_wider_group_stops_at_the_first_group_with_enough_peers(partnerships, scores):
    # Avon and Somerset's region peers lack one safety score (Dorset's: 3 left), so with min_peers=4 the
    # region is too small; England (the nation) has enough.
    assert wider_peer_group(scores, partnerships, partnership="Avon and Somerset", round="2026-H1",
                            peer_group="region", min_peers=4) == "nation"


def test_no_wider_group_when_even_all_is_too_small():
    frame = one_domain({"Own": 3.0, "A": 2.0})
    assert wider_peer_group(frame, everyone_in(["Own", "A"]), partnership="Own", round="2026-H1",
                            peer_group="region") is None


# -- regions --------------------------------------------------------------------------------------------------


def test_regions_give_nation_and_region_rows_and_suppress_small_groups(scores, partnerships):
    table = compare_regions(scores, partnerships, round="2026-H1")
    assert tuple(table.columns) == REGION_COLUMNS
    wales = table[(table["scope"] == "region") & (table["region"] == "Wales")]
    assert wales["suppressed"].all() and set(wales["partnerships"]) == {2}
    assert wales["median"].isna().all()
    england = table[(table["scope"] == "nation") & (table["nation"] == "England")].set_index("domain")
    assert england.at["governance", "partnerships"] == 8
    assert england.at["safety", "partnerships"] == 7  # Dorset has no safety score
    assert set(table.loc[table["scope"] == "nation", "region"]) == {""}


def test_regions_default_to_the_latest_period(scores, partnerships):
    latest = compare_regions(scores, partnerships)
    assert latest.equals(compare_regions(scores, partnerships, period="2026-H1"))
    earlier = compare_regions(scores, partnerships, period="2025-H2")
    south_west = earlier[(earlier["scope"] == "region")].set_index("domain")
    assert south_west.at["governance", "partnerships"] == 4
    with pytest.raises(ValueError, match="not both"):
        compare_regions(scores, partnerships, period="2025-H2", round="2025-H2")


def test_region_matrix_is_region_by_domain_with_suppressed_cells_empty(scores, partnerships):
    matrix = region_matrix(compare_regions(scores, partnerships, round="2026-H1"))
    assert list(matrix.index) == ["South East", "South West", "Wales"]
    assert list(matrix.columns) == ["governance", "triage", "safety"]
    assert matrix.loc["South West", "governance"] == 3.2  # median of 2.1, 2.8, 3.2, 3.6, 4.0
    assert matrix.loc["Wales"].isna().all()


# -- promising practices --------------------------------------------------------------------------------------


@pytest.fixture
def comments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partnership": ["Wiltshire", "Avon and Somerset", "Gloucestershire", "Dorset", "Hampshire"],
            "round": "2026-H1",
            "domain": ["governance", "safety", "governance", "governance", "governance"],
            "comment": [
                "The board publishes a joint annual report with the ICB.",
                "The health-based place of safety has not closed since April.",
                "We are drafting terms of reference.",
                "Escalations are logged and reviewed every quarter.",
                "Pooled budget for the street triage car.",
            ],
        }
    )


def test_promising_practices_come_from_the_top_quartile_and_respect_opt_ins(comments, scores, partnerships):
    region = ["Avon and Somerset", "Devon and Cornwall", "Dorset", "Gloucestershire", "Wiltshire"]
    table = promising_practices(comments, scores, partnerships, peer_partnerships=region)
    assert tuple(table.columns) == PRACTICE_COLUMNS
    # governance q3 in the South West: 2.1, 2.8, 3.2, 3.6, 4.0 -> 3.6. Wiltshire (4.0) shares and is named;
    # Dorset (3.6) is in the top quartile but did not opt in to sharing; Gloucestershire (2.1) is not.
    # safety has 4 scores (2.7, 3.1, 3.3, 3.9; Dorset has none): too few for a top quartile (5 needed), so
    # Avon and Somerset's safety practice is not listed.
    assert list(zip(table["domain"], table["partnership"], strict=True)) == [("governance", "Wiltshire")]
    assert table["q3"].tolist() == pytest.approx([3.6])
    # nor with min_peers_spread lowered to 4: q1, median and q3 of 4 scores would pin down 3 of them
    assert promising_practices(comments, scores, partnerships, peer_partnerships=region,
                               min_peers_spread=4)["domain"].tolist() == ["governance"]


def test_a_partnership_that_shares_but_is_not_named_stays_anonymous(scores, partnerships):
    comments = pd.DataFrame({"partnership": ["Devon and Cornwall"], "round": ["2026-H1"],
                             "domain": ["safety"], "comment": ["Joint review of every s136 over 24 hours."]})
    # safety: 3.1, 2.7, 3.3, 3.5, 3.9 -> q3 3.5: Devon and Cornwall (3.1) is not in the top quartile
    group = ["Devon and Cornwall", "Gloucestershire", "Wiltshire", "Hampshire", "Avon and Somerset"]
    assert promising_practices(comments, scores, partnerships, peer_partnerships=group).empty
    group = ["Devon and Cornwall", "Gloucestershire", "Kent"]  # 3 partnerships: no top quartile is drawn
    assert promising_practices(comments, scores, partnerships, peer_partnerships=group).empty
    # safety: 3.1, 2.7, 2.0, 2.4, 3.0 -> q3 3.0: Devon and Cornwall (3.1) is
    group = ["Devon and Cornwall", "Gloucestershire", "Kent", "Gwent", "Dyfed-Powys"]
    table = promising_practices(comments, scores, partnerships, peer_partnerships=group)
    assert table.loc[0, "partnership"] == "" and table.loc[0, "round"] == ""
    assert bool(table.loc[0, "named"]) is False
    assert table.loc[0, "comment"] == "Joint review of every s136 over 24 hours."


def test_a_round_level_opt_out_overrides_the_partnership_flag(comments, scores, partnerships):
    comments["share_practice"] = False
    assert promising_practices(comments, scores, partnerships).empty


def test_a_practice_said_again_in_a_later_period_is_listed_in_that_period_too():
    """The same words are listed once per domain and period: a practice repeated in a later round is not
    hidden from that period's list because it was listed for an earlier one (the page shows one period)."""
    names = ["Wiltshire", "Dorset", "Gloucestershire", "Hampshire", "Devon and Cornwall"]
    values = {"Wiltshire": 4.0, "Dorset": 2.0, "Gloucestershire": 2.5, "Hampshire": 3.0, "Devon and Cornwall": 2.2}
    scores = pd.concat([one_domain(values, round_="2025-H2"), one_domain(values, round_="2026-H1")])
    places = everyone_in(names).assign(share_practice=True, named_to_peers=True)
    said = "The board publishes a joint annual report with the ICB."
    comments = pd.DataFrame({"partnership": "Wiltshire", "round": ["2025-H2", "2026-H1", "2026-H1"],
                             "domain": "governance", "comment": [said, said, "  the BOARD publishes a joint "
                                                                          "annual report with the ICB. "]})
    table = promising_practices(comments, scores, places)
    assert table["period"].tolist() == ["2025-H2", "2026-H1"]  # once per period, the respaced repeat dropped
    assert table["comment"].tolist() == [said, said]
