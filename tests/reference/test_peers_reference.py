"""Peer statistics pinned against hand-computed values (the working is in each comment).

Quartiles: numpy.percentile's default linear interpolation (Hyndman & Fan 1996, definition 7): the p-th
percentile of sorted x_0..x_{n-1} sits at position h = (n-1)p/100, value x_floor(h) + (h - floor h)(x_ceil(h) -
x_floor(h)). Percentile rank, kind="mean": 100 (#{x < s} + #{x <= s}) / (2n).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assessment.peers import compare_regions, compare_with_peers
from assessment.questionnaire import load_directory

ROOT = Path(__file__).resolve().parent.parent.parent
TEST_QUESTIONNAIRES = ROOT / "tests" / "data" / "questionnaires"


def compare(own: float, peers: list[float], **kwargs) -> pd.Series:
    names = [f"Partnership {chr(65 + i)}" for i in range(len(peers))]
    scores = pd.DataFrame({"partnership": ["Own", *names], "round": "2026-H1", "domain": "triage",
                           "score": [own, *peers]})
    partnerships = pd.DataFrame({"partnership": ["Own", *names], "nation": "England", "region": "London"})
    table = compare_with_peers(scores, partnerships, partnership="Own", round="2026-H1", **kwargs)
    return table.iloc[0]


def test_ties_follow_the_mean_kind_of_percentile_rank():
    # TECH_NOTES.md: peers [2.1, 2.8, 3, 3, 3.4, 3.9, 4.2], own 3 -> rank 50 (rank), 57 (weak), 29 (strict),
    # 43 (mean). Mean: (#{x < 3} = 2 + #{x <= 3} = 4) / (2 * 7) * 100 = 42.857...
    # n = 7: q1 at h = 1.5 -> 2.8 + 0.5 * 0.2 = 2.9; median at h = 3 -> 3.0; q3 at h = 4.5 -> 3.4 + 0.5 * 0.5 = 3.65.
    # Min and max need 10 peers by default (min_peers_extremes); here the threshold is lowered to 7.
    assert pd.isna(compare(3.0, [2.1, 2.8, 3, 3, 3.4, 3.9, 4.2])["min"])
    r = compare(3.0, [2.1, 2.8, 3, 3, 3.4, 3.9, 4.2], min_peers_extremes=7)
    assert r["n_peers"] == 7
    assert r["percentile_rank"] == pytest.approx(300 / 7)
    assert (r["q1"], r["median"], r["q3"]) == pytest.approx((2.9, 3.0, 3.65))
    assert (r["min"], r["max"]) == (2.1, 4.2)
    assert r["gap_to_median"] == pytest.approx(0.0)
    assert r["gap_to_top_quartile"] == pytest.approx(-0.65)


def test_even_number_of_peers():
    # peers 1, 2, 3, 4 (n = 4); own 2.5. q1 at h = 0.75 -> 1 + 0.75 = 1.75; median at h = 1.5 -> 2.5;
    # q3 at h = 2.25 -> 3 + 0.25 = 3.25. Rank: (2 + 2) / 8 * 100 = 50. Gap to the median: 0.
    # The quartiles are not shown, even with min_peers_spread lowered to 4: q1 = 0.25 x1 + 0.75 x2,
    # median = (x2 + x3) / 2 and q3 = 0.75 x3 + 0.25 x4 are three independent equations in four scores,
    # so a peer who knows their own score could work out the other three.
    r = compare(2.5, [4.0, 1.0, 3.0, 2.0], min_peers_spread=4)
    assert r["median"] == pytest.approx(2.5) and pd.isna(r["q1"]) and pd.isna(r["q3"])
    assert r["percentile_rank"] == pytest.approx(50.0)
    assert r["gap_to_median"] == pytest.approx(0.0) and pd.isna(r["gap_to_top_quartile"])


def test_every_peer_tied_with_the_partnership():
    # peers 3, 3, 3; own 3: (0 + 3) / 6 * 100 = 50; all quartiles 3.
    # (3 peers: the median alone is shown.)
    r = compare(3.0, [3.0, 3.0, 3.0])
    assert r["percentile_rank"] == pytest.approx(50.0)
    assert (r["median"], r["gap_to_median"]) == pytest.approx((3, 0))
    assert pd.isna(r["q1"]) and pd.isna(r["q3"]) and pd.isna(r["gap_to_top_quartile"])


def test_tie_at_the_top():
    # peers 2.2, 3.0, 4.6, 4.6; own 4.6: (#{<} = 2 + #{<=} = 4) / 8 * 100 = 75.
    # q1 at h = 0.75 -> 2.2 + 0.75 * 0.8 = 2.8; median at 1.5 -> 3.0 + 0.5 * 1.6 = 3.8; q3 at 2.25 -> 4.6.
    # (4 peers: the median alone is shown.)
    r = compare(4.6, [2.2, 3.0, 4.6, 4.6])
    assert r["percentile_rank"] == pytest.approx(75.0)
    assert r["median"] == pytest.approx(3.8) and pd.isna(r["q1"]) and pd.isna(r["q3"])
    assert r["gap_to_median"] == pytest.approx(0.8)


def test_self_is_excluded_from_every_statistic():
    # With the partnership (5.0) counted, the median of 1, 2, 3, 5 would be 2.5 and its rank 87.5;
    # among the other three only: median 2, rank 100 (the max, 3, is not shown with 3 peers).
    r = compare(5.0, [1.0, 2.0, 3.0])
    assert (r["median"], r["percentile_rank"], r["n_peers"]) == (2.0, 100.0, 3) and pd.isna(r["max"])


@pytest.mark.parametrize(("n_peers", "suppressed"), [(2, True), (3, False)])
def test_suppression_at_two_and_three_peers(n_peers, suppressed):
    r = compare(3.0, [2.0, 4.0, 3.5][:n_peers])
    assert bool(r["suppressed"]) is suppressed
    assert r["n_peers"] == n_peers
    assert pd.isna(r["median"]) is suppressed


def test_region_quartiles_by_hand():
    # South West governance: 2.1, 2.8, 3.2, 3.6, 4.0 (n = 5): q1 at h = 1 -> 2.8; median 3.2; q3 at h = 3 -> 3.6.
    # London governance: 1.0, 2.0, 4.0 (n = 3): q1 at h = 0.5 -> 1.5; median 2.0; q3 at h = 1.5 -> 3.0; but
    # with 3 partnerships only the median is shown (1.5, 2.0, 3.0 would give 2·1.5 − 2 = 1 and 2·3 − 2 = 4).
    # England: all eight: 1, 2, 2.1, 2.8, 3.2, 3.6, 4, 4: q1 at h = 1.75 -> 2 + 0.75 * 0.1 = 2.075;
    # median at 3.5 -> 2.8 + 0.5 * 0.4 = 3.0; q3 at 5.25 -> 3.6 + 0.25 * 0.4 = 3.7.
    south_west = {"Avon and Somerset": 3.2, "Devon and Cornwall": 2.8, "Dorset": 3.6,
                  "Gloucestershire": 2.1, "Wiltshire": 4.0}
    london = {"Metropolitan Police": 1.0, "City of London": 2.0, "London Ambulance area": 4.0}
    scores = pd.DataFrame({"partnership": [*south_west, *london], "round": "2026-H1", "domain": "governance",
                           "score": [*south_west.values(), *london.values()]})
    partnerships = pd.DataFrame({"partnership": [*south_west, *london], "nation": "England",
                                 "region": ["South West"] * 5 + ["London"] * 3})
    table = compare_regions(scores, partnerships).set_index(["scope", "region"])
    assert tuple(table.loc[("region", "South West"), ["q1", "median", "q3"]]) == pytest.approx((2.8, 3.2, 3.6))
    london_row = table.loc[("region", "London")]
    assert london_row["median"] == 2.0 and pd.isna(london_row["q1"]) and pd.isna(london_row["q3"])
    assert tuple(table.loc[("nation", ""), ["q1", "median", "q3"]]) == pytest.approx((2.075, 3.0, 3.7))
    assert table.loc[("nation", ""), "partnerships"] == 8


def _versioned_scores(questionnaire: str, own_version: str, other_version: str, domains: list[str]) -> pd.DataFrame:
    """Own on the newer version; peers A, B, C on the newer version and D, E on the older one."""
    rows = []
    for name, version, score in [("Own", own_version, 3.0), ("A", own_version, 2.0), ("B", own_version, 2.5),
                                 ("C", own_version, 3.5), ("D", other_version, 4.0), ("E", other_version, 4.5)]:
        for domain in domains:
            rows.append({"partnership": name, "round": "2026-H1", "domain": domain, "score": score,
                         "questionnaire": questionnaire, "version": version, "period": "2026-H1"})
    return pd.DataFrame(rows)


def test_a_domain_not_comparable_across_versions_excludes_those_peers():
    # mini-partnership 1.0.0 -> 1.1.0: governance only reworded (comparable); triage.clinician split and
    # safety.conveyance removed (not comparable).
    questionnaires = load_directory(TEST_QUESTIONNAIRES)
    scores = _versioned_scores("mini-partnership", "1.1.0", "1.0.0", ["governance", "triage", "safety"])
    partnerships = pd.DataFrame({"partnership": ["Own", "A", "B", "C", "D", "E"], "nation": "England",
                                 "region": "North East"})
    table = compare_with_peers(scores, partnerships, partnership="Own", round="2026-H1",
                               questionnaires=questionnaires).set_index("domain")
    assert table.at["governance", "n_peers"] == 5 and table.at["governance", "n_excluded"] == 0
    # governance peers 2, 2.5, 3.5, 4, 4.5 -> median 3.5; triage/safety peers 2, 2.5, 3.5 -> median 2.5.
    assert table.at["governance", "median"] == 3.5
    for domain in ("triage", "safety"):
        assert table.at[domain, "n_peers"] == 3
        assert table.at[domain, "median"] == 2.5
        assert table.at[domain, "n_excluded"] == 2
        assert table.at[domain, "excluded_reasons"] == "2 version not comparable"


def test_regions_use_older_versions_only_for_comparable_domains():
    questionnaires = load_directory(TEST_QUESTIONNAIRES)
    scores = _versioned_scores("mini-partnership", "1.1.0", "1.0.0", ["governance", "triage"])
    partnerships = pd.DataFrame({"partnership": ["Own", "A", "B", "C", "D", "E"], "nation": "England",
                                 "region": "North East"})
    table = compare_regions(scores, partnerships, questionnaires=questionnaires)
    nation = table[table["scope"] == "nation"].set_index("domain")
    assert nation.at["governance", "partnerships"] == 6
    assert nation.at["triage", "partnerships"] == 4  # the 1.0.0 triage scores measure something else


def test_shipped_versions_exclude_exactly_the_domains_the_crosswalk_breaks():
    from assessment.questionnaire import compare_versions, versions_of

    questionnaires = load_directory(ROOT / "questionnaires")
    old = questionnaires[("police-mental-health", "1.0.0")]
    new = questionnaires[("police-mental-health", "1.1.0")]
    verdicts = compare_versions(old, new, versions_of(questionnaires, "police-mental-health"))
    broken = {d for d, v in verdicts.items() if not v.comparable}
    # 1.1.0's change list: data.s136_figures removed, crisis_response.capacity added,
    # health_settings.absence_protocol split; the two rewordings keep their domains comparable.
    assert broken == {"data", "crisis_response", "health_settings"}
    domains = [d.id for d in new.domains]
    scores = _versioned_scores("police-mental-health", "1.1.0", "1.0.0", domains)
    partnerships = pd.DataFrame({"partnership": ["Own", "A", "B", "C", "D", "E"], "nation": "England",
                                 "region": "North East"})
    table = compare_with_peers(scores, partnerships, partnership="Own", round="2026-H1",
                               questionnaires=questionnaires).set_index("domain")
    assert list(table.index) == domains
    for domain in domains:
        expected = 3 if domain in broken else 5
        assert table.at[domain, "n_peers"] == expected, domain
        assert (table.at[domain, "excluded_reasons"] == "2 version not comparable") is (domain in broken)
