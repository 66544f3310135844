"""Peer benchmarks: peer groups, a partnership's place among its peers, regions compared, promising practices.

Pure functions over partnership-level score frames (the ``partnerships`` frame of
:func:`assessment.scoring.score_responses`, or the same columns read from a CSV) and the Partnerships frame
(``partnership, nation, region, groups`` with optional ``share_practice`` and ``named_to_peers``). Nothing here
reads a file, the database or the clock (custom peer group files are read by :mod:`assessment.peer_groups`).

Rules (PRODUCT.md, "Benchmark rules"; docs/benchmarking.md):

* The peers of a partnership are the *other* partnerships in the chosen peer group, each with its most recent
  closed round whose period ends within the peer window (default 12 months) ending with the round's own period
  (:func:`peer_window` over :func:`assessment.periods.in_window`), on a questionnaire version comparable
  for the domain. The partnership itself is never a peer. ``peer_periods`` says which periods the rounds used
  came from.
* Per domain: peer count, median, Q1, Q3 (``numpy.percentile``, linear interpolation), min, max, the
  partnership's percentile rank among its peers (``scipy.stats.percentileofscore(peers, own, kind="mean")``),
  gap to the median (own − median) and gap to the top quartile (own − Q3).
* Fewer than ``min_peers`` (default 3) peers: the domain is suppressed (the peer count is still given).
* Every candidate peer that is left out is counted, with the reason.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from assessment.disclosure import (
    PRACTICE_FIGURES,
    DisclosureRule,
    peer_figures,
    score_hidden,
    shown_peer_figures,
    yes_no_column,
)
from assessment.periods import PeriodError, in_window, parse_period, period_bounds
from assessment.questionnaire.crosswalk import compare_versions
from assessment.questionnaire.schema import Questionnaire, version_key
from assessment.vocabulary import BUILT_IN_PEER_GROUPS, WIDENING_ORDER

__all__ = [
    "COMPARISON_COLUMNS",
    "STRONGEST_COLUMNS",
    "PRACTICE_COLUMNS",
    "REASON_NO_CLOSED_ROUND",
    "REASON_NO_SCORE",
    "REASON_NOT_COMPARABLE",
    "REASON_SUPPRESSED",
    "REGION_COLUMNS",
    "compare_all_with_peers",
    "compare_regions",
    "compare_with_peers",
    "describe_peer_periods",
    "latest_period",
    "peer_group_members",
    "peer_window",
    "promising_practices",
    "region_matrix",
    "strongest_regions",
    "wider_peer_group",
    "with_peer_groups",
]

COMPARISON_COLUMNS = (
    "partnership", "round", "peer_group", "domain", "score", "n_peers", "median", "q1", "q3", "min", "max",
    "percentile_rank", "gap_to_median", "gap_to_top_quartile", "suppressed", "n_excluded", "excluded_reasons",
    "peer_periods",
)
#: The peer window's default length in months (ASSESSMENT_PEER_WINDOW_MONTHS).
DEFAULT_WINDOW_MONTHS = 12
REGION_COLUMNS = ("scope", "nation", "region", "domain", "partnerships", "median", "q1", "q3", "suppressed")
PRACTICE_COLUMNS = ("domain", "period", "region", "partnership", "round", "named", *PRACTICE_FIGURES, "item",
                    "comment")
STRONGEST_COLUMNS = ("domain", "nation", "region", "median", "partnerships")


REASON_NO_CLOSED_ROUND = "no closed round in the peer window"
REASON_NOT_COMPARABLE = "version not comparable"
REASON_NO_SCORE = "no score"
REASON_SUPPRESSED = "score suppressed"
_REASON_ORDER = (REASON_NO_CLOSED_ROUND, REASON_NOT_COMPARABLE, REASON_NO_SCORE, REASON_SUPPRESSED)

_SCORE_COLUMNS = ("partnership", "round", "domain", "score")

Questionnaires = Mapping[tuple[str, str], Questionnaire]


# -- input frames ------------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s) {', '.join(missing)}")


def _groups_text(value: object) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ";".join(str(v) for v in value)
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _groups_column(groups: pd.Series) -> pd.Series:
    """The ``groups`` column as ``;``-separated text (lists joined, missing empty)."""
    if isinstance(groups.dtype, pd.StringDtype):  # text already: no lists to join
        return groups.fillna("").astype(str)
    return groups.map(_groups_text)


def _partnership_frame(partnerships: pd.DataFrame) -> pd.DataFrame:
    """The Partnerships frame with text identifiers, a ``groups`` text column and boolean opt-ins."""
    _require(partnerships, ("partnership", "nation", "region"), "partnerships")
    out = pd.DataFrame(
        {
            "partnership": partnerships["partnership"].astype(str),
            "nation": partnerships["nation"].astype("string").fillna("").astype(str),
            "region": partnerships["region"].astype("string").fillna("").astype(str),
            "groups": _groups_column(partnerships["groups"]) if "groups" in partnerships else "",
        },
        index=partnerships.index,
    )
    for flag in ("share_practice", "named_to_peers"):
        out[flag] = yes_no_column(partnerships[flag], flag) if flag in partnerships else False
    if out["partnership"].duplicated().any():
        dup = sorted(out.loc[out["partnership"].duplicated(), "partnership"].unique())
        raise ValueError(f"partnership(s) listed twice in the partnerships frame: {', '.join(dup)}")
    return out.reset_index(drop=True)


def _memberships(frame: pd.DataFrame) -> pd.DataFrame:
    """Long (partnership, group) pairs from the ``;``-separated ``groups`` column."""
    pairs = frame[["partnership"]].assign(group=frame["groups"].astype(str).str.split(";")).explode("group")
    pairs["group"] = pairs["group"].astype(str).str.strip()
    return pairs[pairs["group"] != ""].drop_duplicates()


def _score_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """Partnership scores with text keys, numeric scores, an eligibility flag and a period key."""
    _require(scores, _SCORE_COLUMNS, "scores")
    rounds = scores["round"].astype(str)
    # Without a period column the round value is the period (the CLI's stateless mode).
    # (and so is it where a period column is present but empty: `assessment score` always writes one).
    # Periods are parsed once per distinct value (a handful), then taken by code.
    periods, distinct = pd.factorize(_period_or_round(scores, rounds))
    bounds = period_bounds(pd.Series(distinct, dtype=object))
    # Labels of the grammar in their canonical form (2026-h1 = 2026-H1); free text kept, compared by label.
    labels = bounds["label"].where(bounds["label"] != "", pd.Series(distinct, dtype=object)).astype(str)
    has_versions = "questionnaire" in scores and "version" in scores
    columns = {
        "partnership": scores["partnership"].astype(str).array,
        "round": rounds.array,
        "domain": scores["domain"].astype(str).array,
        "score": pd.to_numeric(scores["score"], errors="coerce").astype(float).to_numpy(),
        "period": labels.array.take(periods),
        "end_month": bounds["end_month"].to_numpy(dtype=np.int64)[periods],
        "has_versions": has_versions,
        "questionnaire": scores["questionnaire"].astype(str).array if "questionnaire" in scores else "",
        "version": scores["version"].astype(str).array if "version" in scores else "",
        "suppressed": score_hidden(scores).to_numpy(dtype=bool),
    }
    # A round is official when it is closed. Frames without a round status hold closed rounds only.
    if "closed" in scores:
        columns["closed"] = yes_no_column(scores["closed"], "closed").to_numpy(dtype=bool)
    elif "round_status" in scores:
        columns["closed"] = scores["round_status"].astype("string").fillna("").str.lower().eq("closed").to_numpy(
            dtype=bool)
    else:
        columns["closed"] = True
    return pd.DataFrame(columns, index=pd.RangeIndex(len(scores)))


def _period_or_round(frame: pd.DataFrame, rounds: pd.Series) -> pd.Series:
    """The period of each row; the round value where the period is missing or empty."""
    if "period" not in frame:
        return rounds
    period = frame["period"].astype("string").fillna("").str.strip()
    return period.where(period != "", rounds).astype(str)


def _round_order(rounds: pd.Series) -> np.ndarray:
    """Sort key of round values: numbers as numbers (round 10 after round 9), otherwise as text."""
    numeric = pd.to_numeric(rounds, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=float)
    return pd.factorize(rounds.astype(str), sort=True)[0].astype(float)


def _latest_per_partnership(frame: pd.DataFrame) -> pd.DataFrame:
    """One round per partnership: the most recent in the selection (the latest period end, then the latest
    round value); rows of other rounds dropped."""
    if frame.empty:
        return frame
    pairs = frame[["partnership", "round", "end_month"]].drop_duplicates(["partnership", "round"])
    if not pairs["partnership"].duplicated().any():
        return frame  # the usual case: one round per partnership in the window
    pairs = pairs.assign(_order=_round_order(pairs["round"]))
    pairs = pairs.sort_values(["end_month", "_order"], kind="stable")
    last = pairs.groupby("partnership")["round"].last()
    return frame[frame["round"] == frame["partnership"].map(last)]


def _comparable_domains(
    own_key: tuple[str, str], other_key: tuple[str, str], questionnaires: Questionnaires | None
) -> dict[str, bool] | None:
    """Domain -> comparable between two (questionnaire, version) keys; None means 'all comparable'."""
    if own_key == other_key:
        return None
    if questionnaires is None or own_key not in questionnaires or other_key not in questionnaires:
        return {}  # nothing can be shown to be comparable: every domain is excluded
    versions = {v: q for (qid, v), q in questionnaires.items() if qid == own_key[0]}
    verdicts = compare_versions(questionnaires[own_key], questionnaires[other_key], versions)
    return {domain: v.comparable for domain, v in verdicts.items()}


# -- peer groups -------------------------------------------------------------------------------------------


def peer_group_members(partnerships: pd.DataFrame, partnership: str, peer_group: str) -> list[str]:
    """The other partnerships in a peer group (sorted; the partnership itself is never included).

    Parameters
    ----------
    partnerships : DataFrame
        The Partnerships frame: ``partnership, nation, region, groups`` (groups ``;``-separated).
    partnership : str
        Whose peers.
    peer_group : str
        ``"all"``, ``"nation"``, ``"region"`` or the name of a custom group. A partnership may be compared
        with a custom group it does not belong to.

    Raises
    ------
    ValueError
        When the partnership is not listed (needed for nation and region) or the custom group is unknown.
    """
    frame = _partnership_frame(partnerships)
    partnership = str(partnership)
    others = frame[frame["partnership"] != partnership]
    if peer_group == "all":
        chosen = others["partnership"]
    elif peer_group in ("nation", "region"):
        own = frame.loc[frame["partnership"] == partnership, peer_group]
        if own.empty:
            raise ValueError(f"partnership '{partnership}' is not in the partnerships frame")
        chosen = others.loc[others[peer_group] == own.iloc[0], "partnership"]
    else:
        pairs = _memberships(frame)
        if not (pairs["group"] == peer_group).any():
            known = sorted(pairs["group"].unique())
            raise ValueError(
                f"unknown peer group '{peer_group}': use {', '.join(BUILT_IN_PEER_GROUPS)}"
                + (f" or one of {', '.join(known)}" if known else "")
            )
        chosen = pairs.loc[(pairs["group"] == peer_group) & (pairs["partnership"] != partnership), "partnership"]
    return sorted(chosen.unique().tolist())


def with_peer_groups(partnerships: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """The Partnerships frame with custom groups merged into its ``groups`` column.

    Partnerships named in ``groups`` but absent from the frame are ignored (they have no nation or region
    and no scores to compare).
    """
    frame = _partnership_frame(partnerships)
    extra: dict[str, list[str]] = {}
    for group, members in groups.items():
        for member in members:
            extra.setdefault(str(member), []).append(str(group))

    def merged(row_partnership: str, current: str) -> str:
        have = [g.strip() for g in current.split(";") if g.strip()]
        return ";".join(have + [g for g in extra.get(row_partnership, []) if g not in have])

    frame["groups"] = [merged(p, g) for p, g in zip(frame["partnership"], frame["groups"], strict=True)]
    return frame


# -- peer comparison -------------------------------------------------------------------------------------


def _describe_exclusions(counts: Mapping[str, int]) -> str:
    return "; ".join(f"{counts[r]} {r}" for r in _REASON_ORDER if counts.get(r, 0))


def _peer_statistics(values: np.ndarray, own: float, rule: DisclosureRule) -> dict[str, float]:
    """The peer figures the disclosure rule allows (:func:`assessment.disclosure.peer_figures`: median, q1,
    q3, min, max by ``numpy.percentile``, linear), the percentile rank (kind="mean") beside a shown median,
    and each gap beside the figure it is measured from."""
    figures = peer_figures(values, rule)
    median, q3 = figures["median"], figures["q3"]
    # scipy's (left + right) / 2 can land a rounding step outside [0, 100] (11 equal peers: 100.00000000000001)
    rank = (float(np.clip(stats.percentileofscore(values, own, kind="mean"), 0.0, 100.0))
            if np.isfinite(own) and not np.isnan(median) else np.nan)
    return {**figures, "percentile_rank": rank, "gap_to_median": own - median, "gap_to_top_quartile": own - q3}


def compare_with_peers(
    scores: pd.DataFrame,
    partnerships: pd.DataFrame,
    *,
    partnership: str,
    round: str,
    peer_group: str = "all",
    min_peers: int = 3,
    questionnaires: Questionnaires | None = None,
    min_peers_spread: int = 5,
    min_peers_extremes: int = 10,
    window_months: int = DEFAULT_WINDOW_MONTHS,
) -> pd.DataFrame:
    """Where a partnership stands among its peers, per domain, in one round.

    Parameters
    ----------
    scores : DataFrame
        Partnership-level scores: ``partnership, round, domain, score``; optional ``period`` (without it the
        round value is the period), ``questionnaire`` and ``version`` (comparability),
        ``score_hidden`` (files of older versions: ``suppressed_figures``, ``suppression_reason`` or
        ``suppressed``; a score hidden for a small group is not used as a peer value, a score whose agreement
        figures alone are hidden is; see :func:`assessment.disclosure.score_hidden`) and ``closed`` or
        ``round_status`` (only closed rounds are peers; without either column every row is taken as a
        closed round).
    partnerships : DataFrame
        The Partnerships frame (``partnership, nation, region, groups``).
    partnership, round : str
        The partnership compared and its round.
    peer_group : str
        ``"all"``, ``"nation"``, ``"region"`` or a custom group name (see :func:`peer_group_members`).
    min_peers : int
        Fewest peers for a median; with fewer the domain is ``suppressed`` and only ``n_peers`` is given.
    questionnaires : mapping, optional
        ``{(id, version): Questionnaire}`` from ``load_directory()``; needed to compare rounds on different
        versions (without it a peer on another version is excluded as not comparable).
    min_peers_spread, min_peers_extremes : int
        Fewest peers for Q1 and Q3 (default 5), and for min and max (default 10). What is shown follows
        :func:`assessment.disclosure.shown_peer_figures`; a figure not shown is empty, and so is the gap
        or percentile rank measured from it.
    window_months : int
        The peer window (default 12 months ending with this round's period; :func:`peer_window`).

    Returns
    -------
    DataFrame
        One row per domain of the partnership's round, columns :data:`COMPARISON_COLUMNS`.

    Notes
    -----
    With peer scores :math:`x_1..x_n` (the other partnerships only) and own score :math:`s`:
    ``median, q1, q3 = numpy.percentile(x, [50, 25, 75])`` (linear interpolation between order statistics,
    Hyndman & Fan 1996 definition 7); ``percentile_rank = 100 * (#{x < s} + #{x <= s}) / (2 n)``, i.e.
    ``scipy.stats.percentileofscore(x, s, kind="mean")``; ``gap_to_median = s - median``;
    ``gap_to_top_quartile = s - q3``.

    Examples: peers 2.1, 2.8, 3, 3, 3.4, 3.9, 4.2 and own 3: median 3.0, q1 2.9, q3 3.65, percentile rank 42.86.
    """
    rule = _rule(min_peers, min_peers_spread, min_peers_extremes)
    _require(scores, _SCORE_COLUMNS, "scores")
    partnership, round_ = str(partnership), str(round)
    frame = _score_frame(_rows_of_window(scores, partnership, round_, window_months))
    own, own_scores = _own_round(frame, partnership, round_)
    members = peer_group_members(partnerships, partnership, peer_group)
    has_versions = bool(own["has_versions"].iloc[0])
    own_key = (own["questionnaire"].iloc[0], own["version"].iloc[0])

    candidates, n_peer_rounds, n_without_round = _peer_rounds(frame, members, own.iloc[0], window_months)
    candidates, n_not_comparable = _comparable_peers(candidates, own_key, has_versions, questionnaires)
    domains = _domain_order(own, questionnaires.get(own_key) if (questionnaires and has_versions) else None)
    by_domain = dict(tuple(candidates.groupby("domain", sort=False)))
    rows = []
    for domain in domains:
        counts = {REASON_NO_CLOSED_ROUND: n_without_round, REASON_NOT_COMPARABLE: n_not_comparable(domain)}
        figures = _domain_comparison(by_domain.get(domain, candidates.iloc[0:0]), float(own_scores.get(domain, np.nan)),
                                     n_peer_rounds, counts, rule)
        rows.append({"partnership": partnership, "round": round_, "peer_group": peer_group, "domain": domain,
                     **figures})
    out = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    return out.astype({"n_peers": int, "n_excluded": int, "suppressed": bool, "score": float})


def _own_round(frame: pd.DataFrame, partnership: str, round_: str) -> tuple[pd.DataFrame, pd.Series]:
    """The partnership's rows in the round, and its score per domain: shown only where it is not hidden (a
    round of too few respondents)."""
    own = frame[(frame["partnership"] == partnership) & (frame["round"] == round_)]
    if own.empty:
        raise ValueError(f"no scores for partnership '{partnership}' in round '{round_}'")
    own_scores = own.drop_duplicates("domain").set_index("domain")
    return own, own_scores["score"].where(~own_scores["suppressed"])


def peer_window(frame: pd.DataFrame, own_period: str, own_end_month: int, months: int) -> np.ndarray:
    """The peer window rule: which rows' periods are in the ``months`` months ending with the own period.

    ``frame`` needs ``period`` and ``end_month`` (as made by ``_score_frame``). A period of the grammar
    (:mod:`assessment.periods`) is in when it ends within the window (the same period included, a later one
    never); an own period outside the grammar (free text of older files) matches the same label only.
    The caller keeps, per partnership, the most recent closed round of these rows
    (``_latest_per_partnership``).
    """
    if own_end_month < 0:
        return (frame["period"] == own_period).to_numpy(dtype=bool)
    return in_window(frame["end_month"].to_numpy(), int(own_end_month), months)


def _peer_rounds(frame: pd.DataFrame, members, own: pd.Series, months: int) -> tuple[pd.DataFrame, int, int]:
    """The peers' most recent closed rounds in the window, how many peers have one, and how many have none.

    ``own`` is one row of the partnership's round (its ``period`` and ``end_month``)."""
    window = peer_window(frame, own["period"], own["end_month"], months)
    candidates = _latest_per_partnership(frame[frame["partnership"].isin(members) & window & frame["closed"]])
    n_peer_rounds = candidates["partnership"].nunique()
    return candidates, n_peer_rounds, len(members) - n_peer_rounds


def _comparable_peers(candidates: pd.DataFrame, own_key: tuple, has_versions: bool,
                      questionnaires: Questionnaires | None):
    """Drop each peer row whose version is not comparable with the partnership's for its domain.

    Comparability is decided once per distinct version (a handful), never per peer. Returns the rows kept
    and a function giving, per domain, how many peers were dropped as not comparable.
    """
    version_counts = (candidates.drop_duplicates("partnership").groupby(["questionnaire", "version"]).size()
                      if has_versions else pd.Series(dtype=int))
    verdicts = {key: _comparable_domains(own_key, key, questionnaires) for key in version_counts.index}

    def n_not_comparable(domain: str) -> int:
        return int(sum(n for key, n in version_counts.items()
                       if verdicts[key] is not None and not verdicts[key].get(domain, False)))

    if has_versions:
        present = candidates["domain"].unique()
        table = pd.Series(
            {(q, v, d): verdict is None or verdict.get(d, False)
             for (q, v), verdict in verdicts.items() for d in present}, dtype=bool)
        keys = pd.MultiIndex.from_arrays([candidates["questionnaire"], candidates["version"], candidates["domain"]])
        candidates = candidates[table.reindex(keys).fillna(False).to_numpy(dtype=bool)]
    return candidates, n_not_comparable


def _domain_comparison(usable: pd.DataFrame, own_value: float, n_peer_rounds: int, counts: dict[str, int],
                       rule: DisclosureRule) -> dict:
    """One domain's figures from its comparable peer rows; ``counts`` (peers excluded, per reason) gains
    those with no score and those whose score is hidden."""
    scored = usable[usable["score"].notna()]
    counts[REASON_NO_SCORE] = n_peer_rounds - counts[REASON_NOT_COMPARABLE] - len(scored)
    values = scored.loc[~scored["suppressed"], "score"].to_numpy(dtype=float)
    counts[REASON_SUPPRESSED] = len(scored) - len(values)
    statistics = _peer_statistics(values, own_value, rule)
    return {
        "score": own_value, "n_peers": len(values), **statistics,
        "suppressed": bool(np.isnan(statistics["median"])),
        "n_excluded": sum(counts.values()),
        "excluded_reasons": _describe_exclusions(counts),
        "peer_periods": describe_peer_periods(scored.loc[~scored["suppressed"], ["period", "end_month"]]),
    }


def describe_peer_periods(used: pd.DataFrame) -> str:
    """Which periods the peer rounds used came from, latest first: ``2026-H1: 30; 2025-H2: 8``.

    ``used`` has one row per peer round used, with ``period`` and ``end_month``. Peers are never named, so
    the rounds are told by period and count.
    """
    if used.empty:
        return ""
    counts = used.groupby(["end_month", "period"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(["end_month", "period"], ascending=[False, True], kind="stable")
    return "; ".join(f"{period}: {n}" for period, n in zip(counts["period"], counts["n"], strict=True))


def _rule(min_peers: int, min_peers_spread: int, min_peers_extremes: int) -> DisclosureRule:
    if min_peers < 1:
        raise ValueError(f"min_peers must be at least 1, not {min_peers}")
    return DisclosureRule(min_peers=min_peers, min_peers_spread=min_peers_spread,
                          min_peers_extremes=min_peers_extremes)


def _rows_of_window(scores: pd.DataFrame, partnership: str, round_: str, months: int) -> pd.DataFrame:
    """The partnership's round and every row in its peer window (labels parsed once per distinct label, so
    the full conversion runs on the window, not the whole history)."""
    rounds = scores["round"].astype(str)
    own = ((scores["partnership"].astype(str) == partnership) & (rounds == round_)).to_numpy(dtype=bool)
    periods = _period_or_round(scores, rounds)
    bounds = period_bounds(periods)
    labels = bounds["label"].where(bounds["label"] != "", periods)
    window_frame = pd.DataFrame({"period": labels.to_numpy(), "end_month": bounds["end_month"].to_numpy()})
    keep = own.copy()
    for label, end_month in set(zip(window_frame["period"][own], window_frame["end_month"][own], strict=True)):
        keep |= peer_window(window_frame, label, end_month, months)
    return scores[keep]


def _domain_order(own: pd.DataFrame, questionnaire: Questionnaire | None) -> list[str]:
    present = list(dict.fromkeys(own["domain"]))
    if questionnaire is None:
        return present
    listed = [d.id for d in questionnaire.domains]
    return [d for d in listed if d in present] + [d for d in present if d not in listed]


def wider_peer_group(
    scores: pd.DataFrame,
    partnerships: pd.DataFrame,
    *,
    partnership: str,
    round: str,
    peer_group: str,
    min_peers: int = 3,
    questionnaires: Questionnaires | None = None,
    window_months: int = DEFAULT_WINDOW_MONTHS,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> str | None:
    """The next wider peer group that is large enough, when the chosen one is too small.

    A group is *large enough* when no domain is suppressed (every domain has at least ``min_peers`` peers).
    Widening goes region → nation → all; a custom group widens to the region first. Returns None when the
    chosen group is already large enough or no wider group is; a wider group with exactly the same
    members as the chosen one is skipped. ``tables``: the partnership's round already compared with some
    groups (:func:`compare_with_peers` tables by group, e.g. the stored figures), used instead of comparing
    again.
    """

    def members(group: str) -> list[str]:
        return peer_group_members(partnerships, partnership, group)

    def large_enough(group: str) -> bool:
        if tables is not None and group in tables:
            return not tables[group]["suppressed"].astype(bool).any()
        table = compare_with_peers(scores, partnerships, partnership=partnership, round=round,
                                   peer_group=group, min_peers=min_peers, questionnaires=questionnaires,
                                   window_months=window_months)
        return not table["suppressed"].any()

    if large_enough(peer_group):
        return None
    start = WIDENING_ORDER.index(peer_group) + 1 if peer_group in WIDENING_ORDER else 0
    chosen = set(members(peer_group))
    for group in WIDENING_ORDER[start:]:
        if set(members(group)) != chosen and large_enough(group):
            return group
    return None


# -- regions ----------------------------------------------------------------------------------------------


def _period_rows(frame: pd.DataFrame, period: str | None, round: str | None,
                 months: int = DEFAULT_WINDOW_MONTHS) -> np.ndarray:
    """Which rows a regional comparison reads: those of a round, or of the peer window ending with a period
    (default: the latest period of a closed round)."""
    if period is not None and round is not None:
        raise ValueError("give a period or a round, not both")
    if round is not None:
        return (frame["round"] == str(round)).to_numpy(dtype=bool)
    closed = frame[frame["closed"]]
    if closed.empty:
        return np.zeros(len(frame), dtype=bool)
    text = str(latest_period(closed) if period is None else period)
    try:
        parsed = parse_period(text)
        label, end_month = parsed.label, parsed.end_month
    except PeriodError:  # free text of older files: that label only
        label, end_month = text, -1
    return peer_window(frame, label, end_month, months)


def latest_period(frame: pd.DataFrame) -> str:
    """The latest period of a frame with ``period`` and ``end_month``: the latest end (then the latest label);
    free-text labels only when no label follows the grammar."""
    order = frame[["end_month", "period"]].drop_duplicates().sort_values(["end_month", "period"], kind="stable")
    return str(order["period"].iloc[-1])


def compare_regions(
    scores: pd.DataFrame,
    partnerships: pd.DataFrame,
    *,
    period: str | None = None,
    round: str | None = None,
    min_peers: int = 3,
    questionnaires: Questionnaires | None = None,
    min_peers_spread: int = 5,
    window_months: int = DEFAULT_WINDOW_MONTHS,
) -> pd.DataFrame:
    """Domain score distributions per nation and per region, for one period (default: the latest).

    The same rule as for peers (:func:`peer_window`): each partnership counts once, with its most recent
    closed round whose period ends within the ``window_months`` months ending with ``period`` (a ``round``
    selects that round value only); suppressed and missing scores
    are left out; partnerships absent from the Partnerships frame have no region and are left out. When
    several versions of a questionnaire were used, rows of an older version are used for a domain only
    when the crosswalk says that domain is comparable with the newest version (the newest of the rounds
    used).

    Computed on the codes of :func:`compare_all_with_peers`: the window's rounds as dense partnership ×
    domain arrays, then one sorted array per (nation or region, domain) and the quantiles read off it.

    Returns
    -------
    DataFrame
        Columns :data:`REGION_COLUMNS`; ``scope`` is ``nation`` (``region`` empty) or ``region``. What is
        shown follows :func:`assessment.disclosure.shown_peer_figures`: a group whose median may not be shown
        (fewer than ``min_peers`` partnerships) is ``suppressed`` (median, q1, q3 empty; the count shown);
        q1 and q3 need ``min_peers_spread`` (default 5). Quantiles are linear (``numpy.percentile``).
    """
    rule = _rule(min_peers, min_peers_spread, DisclosureRule().min_peers_extremes)
    frame = _score_frame(scores)
    places = _partnership_frame(partnerships)
    keys = _Keys.of(frame, places)
    candidates = _Candidates.of(keys, _period_rows(frame, period, round, window_months) & keys.closed)
    shown = ~np.isnan(candidates.value) & ~candidates.hidden
    used = shown & _comparable_with_newest(candidates, shown, keys, questionnaires)
    at, domain = np.nonzero(used)
    # domains in the order they first come in the scores
    first = np.full(len(keys.domain_names), len(frame), dtype=np.int64)
    np.minimum.at(first, domain, candidates.row[at, domain])
    domain_rank = np.argsort(np.argsort(first, kind="stable"), kind="stable")
    nation, nations = pd.factorize(places["nation"])
    region_of, regions = pd.factorize(places["region"])
    region, _ = pd.factorize(nation.astype(np.int64) * max(len(regions), 1) + region_of)
    lead = _first_rows(region)
    parts = []
    for scope, instance, nation_of, region_name in ((0, nation, np.arange(len(nations)), None),
                                                    (1, region, nation[lead], region_of[lead])):
        segment, count, figures = _segment_figures(instance[at], domain, candidates.value[at, domain],
                                                   max(len(keys.domain_names), 1), rule)
        group = segment // max(len(keys.domain_names), 1)
        parts.append({"scope": np.full(len(segment), scope), "nation": nation_of[group],
                      "region": region_name[group] if region_name is not None else np.full(len(segment), -1),
                      "domain": segment % max(len(keys.domain_names), 1), "partnerships": count, **figures})
    part = {c: np.concatenate([x[c] for x in parts]) for c in parts[0]}
    nation_names = np.asarray(nations, dtype=object)
    region_names = np.asarray(list(regions) + [""], dtype=object)  # -1: the nation rows' empty region
    nation_rank = np.argsort(np.argsort(nation_names, kind="stable"), kind="stable")
    region_rank = np.argsort(np.argsort(region_names, kind="stable"), kind="stable")
    order = np.lexsort((domain_rank[part["domain"]], region_rank[part["region"]], nation_rank[part["nation"]],
                        part["scope"]))
    return pd.DataFrame({
        "scope": _text_array(["nation", "region"]).take(part["scope"][order]),
        "nation": _text_array(nation_names).take(part["nation"][order]),
        "region": _text_array(region_names).take(part["region"][order]),
        "domain": _text_array(keys.domain_names).take(part["domain"][order]),
        "partnerships": part["partnerships"][order].astype(np.int64),
        "median": part["median"][order], "q1": part["q1"][order], "q3": part["q3"][order],
        "suppressed": np.isnan(part["median"][order]),
    })


def _comparable_with_newest(candidates: _Candidates, shown: np.ndarray, keys: _Keys,
                            questionnaires: Questionnaires | None) -> np.ndarray:
    """Per questionnaire, every domain of the rounds on its newest version (of those with a score shown), and
    the domains of older versions that the crosswalk finds comparable with the newest (so regions never pool
    scores that measure different things)."""
    keep = np.ones_like(shown)
    if not keys.has_versions:
        return keep
    present = [int(v) for v in pd.unique(candidates.version[shown.any(axis=1)])]
    newest: dict[str, str] = {}
    for qid in dict.fromkeys(keys.version_keys[v][0] for v in present):
        newest[qid] = max((keys.version_keys[v][1] for v in present if keys.version_keys[v][0] == qid),
                          key=version_key)
    for v in present:
        qid, version = keys.version_keys[v]
        verdict = _comparable_domains((qid, newest[qid]), (qid, version), questionnaires)
        if verdict is not None:
            keep[candidates.version == v] = np.array([verdict.get(d, False) for d in keys.domain_names], dtype=bool)
    return keep


def _segment_figures(instance: np.ndarray, domain: np.ndarray, value: np.ndarray, n_domains: int,
                     rule: DisclosureRule) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The shown median, Q1 and Q3 of the values of each (instance, domain) segment that has any, read off one
    sorted array (:func:`assessment.disclosure.peer_figures`' figures, without a loop over groups)."""
    segment = instance.astype(np.int64) * n_domains + domain
    order = np.lexsort((value, segment))
    x = value[order]
    segments, start, count = np.unique(segment[order], return_index=True, return_counts=True)
    none_left_out = np.full(len(segments), -1, dtype=np.int64)
    distinct, inverse = np.unique(count, return_inverse=True)
    figures = {}
    for figure, percent in (("median", 50.0), ("q1", 25.0), ("q3", 75.0)):
        allowed = np.array([figure in _shown(int(m), rule) for m in distinct], dtype=bool)[inverse.reshape(-1)]
        figures[figure] = np.where(allowed, _loo_percentile(x, start, none_left_out, count, percent), np.nan)
    return segments, count, figures


def region_matrix(regions_frame: pd.DataFrame) -> pd.DataFrame:
    """Region × domain medians (suppressed cells empty), rows sorted by region, domains in their order.

    Input: the output of :func:`compare_regions`. The index is named ``region``.
    """
    _require(regions_frame, ("scope", "region", "domain", "median", "suppressed"), "regions")
    rows = regions_frame[regions_frame["scope"] == "region"]
    values = rows["median"].where(~rows["suppressed"].astype(bool))
    matrix = rows.assign(median=values).pivot_table(
        index="region", columns="domain", values="median", aggfunc="first", dropna=False, sort=True
    )
    domains = list(dict.fromkeys(rows["domain"]))
    matrix = matrix.reindex(columns=domains)
    matrix.columns.name = "domain"
    return matrix


# -- promising practices ---------------------------------------------------------------------------------


def promising_practices(
    comments: pd.DataFrame,
    scores: pd.DataFrame,
    partnerships: pd.DataFrame,
    *,
    peer_partnerships: Sequence[str] | None = None,
    min_peers: int = 3,
    min_peers_spread: int = 5,
) -> pd.DataFrame:
    """Evidence comments from partnerships at or above the peer group's top quartile, per domain.

    Parameters
    ----------
    comments : DataFrame
        ``partnership, round, domain, comment``; an optional ``share_practice`` column gives the opt-in per
        round (otherwise the partnership's ``share_practice`` flag is used).
    scores : DataFrame
        Partnership-level scores as for :func:`compare_with_peers`.
    partnerships : DataFrame
        The Partnerships frame, with ``share_practice`` and ``named_to_peers`` (missing means no).
    peer_partnerships : sequence of str, optional
        The partnerships forming the peer group, e.g. from :func:`peer_group_members` (default: all).
    min_peers, min_peers_spread : int
        The disclosure rule's thresholds: a top quartile (Q3) is drawn only where
        :func:`assessment.disclosure.shown_peer_figures` allows a Q3 for the scored partnerships of the
        period and domain (at least ``min_peers_spread``, default 5), since it is shown beside a
        practice (from 3 partnerships, Q3 and one score give another score away).

    Returns
    -------
    DataFrame
        Columns :data:`PRACTICE_COLUMNS`, ordered by domain, period, then as the comments came (never by
        score). ``partnership`` and ``round`` are empty unless the partnership agreed to be named.
        ``q3`` is the linear 75th percentile of the group's scores in that period, questionnaire version
        and domain; a listed practice's partnership scores at or above it. Its exact score is never
        returned, named or not (:data:`assessment.disclosure.PRACTICE_FIGURES` says why).
    """
    _require(comments, ("partnership", "round", "domain", "comment"), "comments")
    frame = _score_frame(scores)
    places = _partnership_frame(partnerships)
    frame = frame[frame["closed"] & frame["score"].notna() & ~frame["suppressed"]]
    if peer_partnerships is not None:
        frame = frame[frame["partnership"].isin([str(p) for p in peer_partnerships])]
    keys = ["period", "questionnaire", "version", "domain"]
    grouped = frame.groupby(keys)["score"]
    rule = _rule(min_peers, min_peers_spread, DisclosureRule().min_peers_extremes)
    top = grouped.apply(lambda values: peer_figures(values.to_numpy(dtype=float), rule)["q3"])
    top = top.rename("q3").reset_index()
    top = top[top["q3"].notna()]
    frame = frame.merge(top[[*keys, "q3"]], on=keys, how="inner")
    frame = frame[frame["score"] >= frame["q3"]]

    notes = pd.DataFrame(
        {
            "partnership": comments["partnership"].astype(str),
            "round": comments["round"].astype(str),
            "domain": comments["domain"].astype(str),
            "item": comments["item"].astype(str) if "item" in comments else "",
            "comment": comments["comment"].astype("string").fillna("").astype(str),
        }
    )
    if "share_practice" in comments:
        notes["share"] = yes_no_column(comments["share_practice"], "share_practice").to_numpy()
    else:
        notes["share"] = notes["partnership"].map(places.set_index("partnership")["share_practice"]).fillna(False)
    notes["_position"] = np.arange(len(notes))
    notes = notes[notes["share"].astype(bool) & (notes["comment"].str.strip() != "")]
    merged = notes.merge(frame[["partnership", "round", "domain", "period", "score", "q3"]],
                         on=["partnership", "round", "domain"], how="inner")
    merged["named"] = merged["partnership"].map(places.set_index("partnership")["named_to_peers"]).fillna(False)
    merged["named"] = merged["named"].astype(bool)
    merged["region"] = merged["partnership"].map(places.set_index("partnership")["region"]).fillna("").astype(str)
    merged.loc[~merged["named"], ["partnership", "round"]] = ""
    merged = merged.sort_values(["domain", "period", "_position"], kind="stable")
    # The same words said twice in a period (several respondents, or the same comment on several items) are
    # listed once; said again in a later period they are listed there too (a page shows one period).
    words = merged["comment"].str.split().str.join(" ").str.casefold()
    merged = merged[~merged.assign(_words=words).duplicated(["domain", "period", "_words"])]
    return merged[list(PRACTICE_COLUMNS)].reset_index(drop=True)


def strongest_regions(regions_frame: pd.DataFrame) -> pd.DataFrame:
    """The region with the highest shown median in each domain (ties: each of them), columns
    :data:`STRONGEST_COLUMNS`, domains in their order. Input: :func:`compare_regions`; suppressed regions never
    count (their median is not shown)."""
    _require(regions_frame, ("scope", "nation", "region", "domain", "median", "suppressed"), "regions")
    rows = regions_frame[(regions_frame["scope"] == "region") & ~regions_frame["suppressed"].astype(bool)
                         & regions_frame["median"].notna()]
    best = rows.groupby("domain", sort=False)["median"].transform("max")
    rows = rows[rows["median"] == best]
    # compare_regions sorts by region first: put the rows back in the domains' order (then region).
    position = {d: i for i, d in enumerate(dict.fromkeys(regions_frame["domain"]))}
    rows = rows.iloc[np.argsort(rows["domain"].map(position).to_numpy(), kind="stable")]
    return rows[list(STRONGEST_COLUMNS)].reset_index(drop=True)


# -- every partnership at once -----------------------------------------------------------------------------


def compare_all_with_peers(
    scores: pd.DataFrame,
    partnerships: pd.DataFrame,
    *,
    peer_groups: Sequence[str] = ("all",),
    rounds: Sequence[str] | None = None,
    min_peers: int = 3,
    questionnaires: Questionnaires | None = None,
    min_peers_spread: int = 5,
    min_peers_extremes: int = 10,
    window_months: int = DEFAULT_WINDOW_MONTHS,
) -> pd.DataFrame:
    """:func:`compare_with_peers` for every partnership's round, domain and peer group, in one pass.

    Equal, row by row, to calling :func:`compare_with_peers` for each (partnership, round) of ``scores``
    (or of ``rounds``) listed in ``partnerships`` and each of ``peer_groups`` (tested to 1e-9 on the demo
    and a generated national set), but without a loop over partnerships. The keys (partnership, round,
    domain, questionnaire version, period) are factorised once to integer codes. Per peer window (one per
    distinct own period) each partnership's candidate peer round is chosen once and laid out as dense
    partnership × domain arrays; per group (all, each nation, each region, each custom group) and domain
    the peer scores are sorted once; each partnership's figures are then read off the sorted array by
    index arithmetic with its own score left out (the partnership is never its own peer), and its
    percentile rank by ``searchsorted``. Texts (excluded reasons, peer periods) are made once per distinct
    combination. Quantiles are ``numpy.percentile``'s linear interpolation; what is shown follows
    :func:`assessment.disclosure.shown_peer_figures`.

    Returns
    -------
    DataFrame
        Columns :data:`COMPARISON_COLUMNS`, ordered by partnership, round, peer group, then domain as
        :func:`compare_with_peers` orders them.
    """
    rule = _rule(min_peers, min_peers_spread, min_peers_extremes)
    frame = _score_frame(scores)
    places = _partnership_frame(partnerships)
    keys = _Keys.of(frame, places)
    owners = _Owners.of(keys, rounds, questionnaires)
    groups: dict[str, _Group] = {}
    verdicts: dict[tuple[int, int], np.ndarray] = {}
    texts = _Texts()
    parts = []
    for window in pd.unique(owners.window):
        in_window_ = owners.window == window
        inside = peer_window(frame, keys.period_labels[window], int(keys.period_ends[window]), window_months)
        candidates = _Candidates.of(keys, inside & keys.closed)
        for version in pd.unique(owners.version[in_window_]):
            mine = np.flatnonzero(in_window_ & (owners.version == version))
            usable = candidates.usable(int(version), keys, questionnaires, verdicts)
            own_ranks = usable.ranks_of(owners.own[mine])
            for g, name in enumerate(peer_groups):
                if name not in groups:
                    groups[name] = _Group.of(places, name)
                parts.append(_group_pass(usable, owners, mine, own_ranks, groups[name], g, rule, keys, texts))
    if not parts:
        return pd.DataFrame(columns=list(COMPARISON_COLUMNS)).astype(
            {"n_peers": int, "n_excluded": int, "suppressed": bool, "score": float})
    return _assemble(parts, keys, owners, places, peer_groups, texts)


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Where each code first occurs, for codes numbered in order of appearance (``pd.factorize``)."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)


def _text_array(values) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")


@dataclass(frozen=True)
class _Keys:
    """The score frame's keys as integer codes, factorised once (one entry per row of ``_score_frame``)."""

    partnership: np.ndarray  # position in the Partnerships frame, -1 when not listed
    pair: np.ndarray  # (partnership, round), numbered in order of appearance
    round: np.ndarray
    domain: np.ndarray
    version: np.ndarray  # (questionnaire, version)
    period: np.ndarray  # the period label (its end month follows from it)
    end_month: np.ndarray
    score: np.ndarray
    hidden: np.ndarray
    closed: np.ndarray
    round_names: pd.api.extensions.ExtensionArray
    round_number: np.ndarray  # per round code: the value as a number (NaN when not a number)
    round_rank: np.ndarray  # per round code: its place in text order
    domain_names: list[str]
    version_keys: list[tuple[str, str]]
    period_labels: list[str]
    period_ends: np.ndarray
    has_versions: bool
    n_partnerships: int

    @classmethod
    def of(cls, frame: pd.DataFrame, places: pd.DataFrame) -> _Keys:
        everyone, names = pd.factorize(frame["partnership"])
        listed = pd.Index(places["partnership"]).get_indexer(names)[everyone] if len(names) else everyone
        round_, round_names = pd.factorize(frame["round"])
        pair, _ = pd.factorize(everyone.astype(np.int64) * max(len(round_names), 1) + round_)
        domain, domain_names = pd.factorize(frame["domain"])
        questionnaire, q_names = pd.factorize(frame["questionnaire"])
        version_, v_names = pd.factorize(frame["version"])
        width = max(len(v_names), 1)
        version, version_pairs = pd.factorize(questionnaire.astype(np.int64) * width + version_)
        period, period_labels = pd.factorize(frame["period"])
        end_month = frame["end_month"].to_numpy(dtype=np.int64)
        names = np.asarray(round_names, dtype=object)
        return cls(
            partnership=listed, pair=pair, round=round_, domain=domain, version=version, period=period,
            end_month=end_month, score=frame["score"].to_numpy(dtype=float),
            hidden=frame["suppressed"].to_numpy(dtype=bool), closed=frame["closed"].to_numpy(dtype=bool),
            round_names=_text_array(names),
            round_number=pd.to_numeric(pd.Series(names, dtype=object), errors="coerce").to_numpy(dtype=float),
            round_rank=np.argsort(np.argsort(names, kind="stable"), kind="stable"),
            domain_names=[str(d) for d in domain_names],
            version_keys=[(str(q_names[k // width]), str(v_names[k % width])) for k in version_pairs],
            period_labels=[str(p) for p in period_labels],
            period_ends=end_month[_first_rows(period)],
            has_versions=bool(frame["has_versions"].iloc[0]) if len(frame) else False,
            n_partnerships=len(places),
        )


@dataclass(frozen=True)
class _Owners:
    """One entry per compared (partnership, round, domain): the first such row of the score frame."""

    row: np.ndarray
    partnership: np.ndarray
    domain: np.ndarray
    window: np.ndarray  # the period code of the round (its first row)
    version: np.ndarray  # the (questionnaire, version) code of the round (its first row)
    own: np.ndarray  # the own score, NaN where hidden
    order: np.ndarray  # the domain's place in compare_with_peers' order

    @classmethod
    def of(cls, keys: _Keys, rounds, questionnaires: Questionnaires | None) -> _Owners:
        mask = keys.partnership >= 0
        if rounds is not None:
            wanted = pd.Index(keys.round_names).get_indexer([str(r) for r in rounds])
            mask &= np.isin(keys.round, wanted[wanted >= 0])
        chosen = np.flatnonzero(mask)
        n_domains = max(len(keys.domain_names), 1)
        cells, _ = pd.factorize(keys.pair[chosen].astype(np.int64) * n_domains + keys.domain[chosen])
        row = chosen[_first_rows(cells)]
        lead = _first_rows(keys.pair)[keys.pair[row]]  # the round's first row gives its period and version
        version = keys.version[lead]
        return cls(row=row, partnership=keys.partnership[row], domain=keys.domain[row], window=keys.period[lead],
                   version=version, own=np.where(keys.hidden[row], np.nan, keys.score[row]),
                   order=_domain_ranks(keys, row, version, questionnaires))


def _domain_ranks(keys: _Keys, row: np.ndarray, version: np.ndarray, questionnaires) -> np.ndarray:
    """Domains of a round in :func:`_domain_order`: those the questionnaire lists in its order, then the others
    as they came."""
    listed = np.full((len(keys.version_keys), len(keys.domain_names)), np.nan)
    n_listed = np.zeros(len(keys.version_keys))
    if questionnaires and keys.has_versions:
        code = {d: i for i, d in enumerate(keys.domain_names)}
        for v, key in enumerate(keys.version_keys):
            q = questionnaires.get(key)
            if q is not None:
                n_listed[v] = len(q.domains)
                for place, domain in enumerate(q.domains):
                    if domain.id in code:
                        listed[v, code[domain.id]] = place
    pair = keys.pair[row]
    by_pair = np.argsort(pair, kind="stable")
    starts = np.r_[True, pair[by_pair][1:] != pair[by_pair][:-1]] if len(row) else np.zeros(0, bool)
    positions = np.arange(len(row))
    appearance = np.empty(len(row))
    appearance[by_pair] = positions - np.maximum.accumulate(np.where(starts, positions, 0))
    rank = listed[version, keys.domain[row]] if len(row) else np.zeros(0)
    return np.where(np.isnan(rank), n_listed[version] + appearance, rank)


@dataclass(frozen=True)
class _Candidates:
    """Each listed partnership's most recent closed round in one peer window, as dense partnership × domain
    arrays (the first row of each partnership and domain)."""

    has_round: np.ndarray  # (P,)
    version: np.ndarray  # (P,) the round's (questionnaire, version) code, -1 without a round
    value: np.ndarray  # (P, D) score, NaN when missing
    hidden: np.ndarray  # (P, D)
    period: np.ndarray  # (P, D) period code, -1 when missing
    row: np.ndarray  # (P, D) the score frame's row, -1 when missing

    @classmethod
    def of(cls, keys: _Keys, rows: np.ndarray) -> _Candidates:
        """From the rows (a mask) of a peer window's closed rounds."""
        n, d = keys.n_partnerships, max(len(keys.domain_names), 1)
        rows = np.flatnonzero(rows & (keys.partnership >= 0))
        # the most recent round per partnership (_latest_per_partnership): latest period end, then round value
        pairs, _ = pd.factorize(keys.pair[rows])
        first = rows[_first_rows(pairs)]
        order_key = keys.round_number[keys.round[first]]
        if np.isnan(order_key).any():
            order_key = keys.round_rank[keys.round[first]].astype(float)
        owner = keys.partnership[first]
        order = np.lexsort((np.arange(len(first)), order_key, keys.end_month[first], owner))
        latest = order[np.r_[owner[order][1:] != owner[order][:-1], True]] if len(order) else order
        chosen = np.zeros(len(first), dtype=bool)
        chosen[latest] = True
        rows = rows[chosen[pairs]]
        cell, cells = pd.factorize(keys.partnership[rows].astype(np.int64) * d + keys.domain[rows])
        lead = rows[_first_rows(cell)]
        value = np.full(n * d, np.nan)
        value[cells] = keys.score[lead]
        hidden = np.zeros(n * d, dtype=bool)
        hidden[cells] = keys.hidden[lead]
        period = np.full(n * d, -1, dtype=np.int64)
        period[cells] = keys.period[lead]
        row = np.full(n * d, -1, dtype=np.int64)
        row[cells] = lead
        who, whos = pd.factorize(keys.partnership[rows])
        has_round = np.zeros(n, dtype=bool)
        has_round[whos] = True
        version = np.full(n, -1, dtype=np.int64)
        version[whos] = keys.version[rows[_first_rows(who)]]
        return cls(has_round, version, value.reshape(n, d), hidden.reshape(n, d), period.reshape(n, d),
                   row.reshape(n, d))

    def usable(self, own: int, keys: _Keys, questionnaires, verdicts: dict) -> _Usable:
        """Which candidate rows are comparable with a round on version ``own``, scored, and used (not hidden)."""
        table = np.zeros((len(keys.version_keys), self.value.shape[1]), dtype=bool)
        for other in pd.unique(self.version[self.has_round]):
            if (own, other) not in verdicts:
                verdict = (_comparable_domains(keys.version_keys[own], keys.version_keys[other], questionnaires)
                           if keys.has_versions else None)
                verdicts[(own, other)] = (np.ones(table.shape[1], dtype=bool) if verdict is None else
                                          np.array([verdict.get(d, False) for d in keys.domain_names], dtype=bool))
            table[other] = verdicts[(own, other)]
        comparable = self.has_round[:, None] & table[np.maximum(self.version, 0)]
        scored = comparable & ~np.isnan(self.value)
        used = scored & ~self.hidden
        # every used value's rank among them all (how many are below it): sort keys shared by every group
        mine = self.value[used]
        order = np.argsort(mine, kind="stable")
        values = mine[order]
        rank = np.zeros(used.shape, dtype=np.int64)
        rank[used] = _in_order(order, np.searchsorted(values, values, side="left"))
        return _Usable(self, comparable, scored, used, values, rank)


@dataclass(frozen=True)
class _Usable:
    candidates: _Candidates
    comparable: np.ndarray  # (P, D)
    scored: np.ndarray
    used: np.ndarray
    values: np.ndarray  # every used value, sorted
    rank: np.ndarray  # (P, D) a used value's place in ``values`` (the number below it)

    def ranks_of(self, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How many used values are below each own score, and how many are at or below it (NaN: none)."""
        finite = np.where(np.isfinite(own), own, -np.inf)
        order = np.argsort(finite, kind="stable")  # searchsorted is several times faster on sorted queries
        return (_in_order(order, np.searchsorted(self.values, finite[order], side="left")),
                _in_order(order, np.searchsorted(self.values, finite[order], side="right")))


def _in_order(order: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` computed on ``x[order]``, put back in the order of ``x``."""
    out = np.empty_like(values)
    out[order] = values
    return out


@dataclass(frozen=True)
class _Group:
    """A peer group as codes: the instance each partnership is compared with (its nation, its region; the one
    instance of all or of a custom group) and each instance's members."""

    instance: np.ndarray  # (P,) the instance each partnership is compared with
    members: np.ndarray  # member partnerships, ordered by instance
    member_instance: np.ndarray
    starts: np.ndarray  # where each instance's members start in ``members``
    sizes: np.ndarray
    member_at: np.ndarray  # (P,) the partnership's place in ``members``, -1 when it is not a member

    @classmethod
    def of(cls, places: pd.DataFrame, group: str) -> _Group:
        n = len(places)
        instance = np.zeros(n, dtype=np.int64)
        if group == "all":
            members = np.arange(n)
        elif group in ("nation", "region"):
            instance = pd.factorize(places[group])[0].astype(np.int64)
            members = np.argsort(instance, kind="stable")
        else:
            pairs = _memberships(places)
            if not (pairs["group"] == group).any():
                peer_group_members(places, places["partnership"].iloc[0], group)  # raises the unknown-group error
            named = pairs.loc[pairs["group"] == group, "partnership"]
            members = np.sort(pd.Index(places["partnership"]).get_indexer(named))
        member_instance = instance[members]
        sizes = np.bincount(member_instance, minlength=int(instance.max(initial=-1)) + 1)
        member_at = np.full(n, -1, dtype=np.int64)
        member_at[members] = np.arange(len(members))
        return cls(instance, members, member_instance, np.r_[0, np.cumsum(sizes)[:-1]], sizes, member_at)


class _Texts:
    """Peer-period texts numbered as they are first made (one text per distinct vector of counts)."""

    def __init__(self) -> None:
        self.code: dict[str, int] = {"": 0}

    def number(self, text: str) -> int:
        return self.code.setdefault(text, len(self.code))

    def array(self) -> pd.api.extensions.ExtensionArray:
        return _text_array(list(self.code))


def _group_pass(usable: _Usable, owners: _Owners, mine: np.ndarray, own_ranks: tuple[np.ndarray, np.ndarray],
                group: _Group, g: int, rule: DisclosureRule, keys: _Keys, texts: _Texts) -> dict[str, np.ndarray]:
    """Every compared row ``mine`` (owner entries of one window and version) against one peer group, the
    partnership itself left out."""
    n_domains = usable.used.shape[1]
    p, d = owners.partnership[mine], owners.domain[mine]
    instance, at = group.instance[p], group.member_at[p]
    member = at >= 0

    def totals(flags: np.ndarray) -> np.ndarray:  # per (instance, domain), over the members
        return np.add.reduceat(flags[group.members].astype(np.int64), group.starts, axis=0)

    n_rounds = totals(usable.candidates.has_round)[instance]
    self_round = member & usable.candidates.has_round[p]
    n_peer_rounds = n_rounds - self_round
    n_comparable = totals(usable.comparable)[instance, d] - (member & usable.comparable[p, d])
    n_scored = totals(usable.scored)[instance, d] - (member & usable.scored[p, d])
    self_used = member & usable.used[p, d]
    n_used = totals(usable.used)[instance, d] - self_used
    n_not_comparable = n_peer_rounds - n_comparable
    reasons = np.stack([group.sizes[instance] - member - n_peer_rounds, n_not_comparable,
                        n_peer_rounds - n_not_comparable - n_scored, n_scored - n_used])

    # one sorted array of used peer scores per (instance, domain) segment
    at_member, at_domain = np.nonzero(usable.used[group.members])
    segment = group.member_instance[at_member] * n_domains + at_domain
    # sorted by one integer key: the segment, then the value's rank among all used values
    width = len(usable.values) + 1
    key = segment * width + usable.rank[group.members[at_member], at_domain]
    order = np.argsort(key, kind="stable")
    key, sorted_segment = key[order], segment[order]
    x = usable.candidates.value[group.members[at_member], at_domain][order]
    position = np.full((len(group.members), n_domains), -1, dtype=np.int64)
    position[at_member[order], at_domain[order]] = np.arange(len(order))
    row_segment = instance * n_domains + d
    start = np.searchsorted(sorted_segment, row_segment, side="left")
    k = np.where(self_used, position[np.maximum(at, 0), d] - start, -1)
    figures = _loo_figures(x, start, k, n_used, owners.own[mine], rule)
    figures["percentile_rank"] = _loo_rank(x, key, start, row_segment * width, own_ranks, k, n_used,
                                           owners.own[mine], figures["median"])

    # peer periods: counts per (segment, period), the row's own round taken off; one text per combination
    n_periods = max(len(keys.period_labels), 1)
    periods = usable.candidates.period[group.members[at_member], at_domain]
    tally = np.bincount(segment * n_periods + periods,
                        minlength=len(group.sizes) * n_domains * n_periods).reshape(-1, n_periods)
    own_period = np.where(self_used, usable.candidates.period[p, d], -1)
    combination, combinations = pd.factorize(row_segment * (n_periods + 1) + own_period + 1)
    period_order = sorted(range(len(keys.period_labels)), key=lambda c: (-keys.period_ends[c], keys.period_labels[c]))
    codes = np.empty(len(combinations), dtype=np.int64)
    for j, value in enumerate(combinations):
        counts = tally[value // (n_periods + 1)].copy()
        if value % (n_periods + 1):
            counts[value % (n_periods + 1) - 1] -= 1
        codes[j] = texts.number("; ".join(f"{keys.period_labels[c]}: {counts[c]}" for c in period_order
                                          if counts[c] > 0))
    return {"owner": mine, "group": np.full(len(mine), g), "n_peers": n_used, **figures, "reasons": reasons,
            "peer_periods": codes[combination]}


def _assemble(parts: list[dict], keys: _Keys, owners: _Owners, places: pd.DataFrame, peer_groups, texts: _Texts):
    """The output frame: every part's rows, ordered by partnership, round, peer group and domain."""
    part = {c: np.concatenate([x[c] for x in parts], axis=-1) for c in parts[0]}
    owner = part["owner"]
    p, r = owners.partnership[owner], keys.round[owners.row[owner]]
    names = np.asarray(places["partnership"], dtype=object)
    name_rank = np.argsort(np.argsort(names, kind="stable"), kind="stable")
    order = np.lexsort((owners.order[owner], part["group"], keys.round_rank[r], name_rank[p]))
    reason_code, reasons_texts = _reasons_text(part["reasons"][:, order])
    figures = {f: part[f][order] for f in ("median", "q1", "q3", "min", "max", "percentile_rank", "gap_to_median",
                                           "gap_to_top_quartile")}
    out = pd.DataFrame({
        "partnership": _text_array(names).take(p[order]),
        "round": keys.round_names.take(r[order]),
        "peer_group": _text_array([str(g) for g in peer_groups]).take(part["group"][order]),
        "domain": _text_array(keys.domain_names).take(owners.domain[owner][order]),
        "score": owners.own[owner][order],
        "n_peers": part["n_peers"][order].astype(np.int64),
        **figures,
        "suppressed": np.isnan(figures["median"]),
        "n_excluded": part["reasons"][:, order].sum(axis=0).astype(np.int64),
        "excluded_reasons": reasons_texts.take(reason_code),
        "peer_periods": texts.array().take(part["peer_periods"][order]),
    })
    return out


@functools.lru_cache(maxsize=4096)
def _shown(n: int, rule: DisclosureRule) -> tuple[str, ...]:
    return shown_peer_figures(n, rule)


def _loo_figures(x: np.ndarray, start: np.ndarray, k: np.ndarray, n: np.ndarray, own: np.ndarray,
                 rule: DisclosureRule) -> dict[str, np.ndarray]:
    """Median, quartiles, range and gaps of each row's peers, read off the sorted values ``x`` of its segment
    (from ``start``) with the row's own value (at offset ``k``, -1 when it is not among them) left out."""
    out = {}
    distinct, inverse = np.unique(n, return_inverse=True)
    for figure, percent in (("median", 50.0), ("q1", 25.0), ("q3", 75.0), ("min", 0.0), ("max", 100.0)):
        allowed = np.array([figure in _shown(int(m), rule) for m in distinct], dtype=bool)[inverse.reshape(-1)]
        out[figure] = np.where(allowed, _loo_percentile(x, start, k, n, percent), np.nan)
    out["gap_to_median"] = own - out["median"]
    out["gap_to_top_quartile"] = own - out["q3"]
    return out


def _loo_percentile(x: np.ndarray, start: np.ndarray, k: np.ndarray, n: np.ndarray, percent: float) -> np.ndarray:
    """``numpy.percentile(..., percent)`` (linear) of each row's ``n`` values: its segment of ``x`` from
    ``start`` without the value at offset ``k`` (none when ``k`` is -1)."""
    ok = n > 0
    h = np.where(ok, (n - 1) * percent / 100.0, 0.0)
    low = np.floor(h).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(n - 1, 0))
    frac = h - low

    def at(j):
        index = start + j + ((k >= 0) & (j >= k))
        return x[np.clip(index, 0, max(len(x) - 1, 0))] if len(x) else np.full(len(j), np.nan)

    a, b = at(low), at(high)
    value = np.where(frac >= 0.5, b - (b - a) * (1 - frac), a + (b - a) * frac)
    return np.where(ok, value, np.nan)


def _loo_rank(x, keys, start, row_base, own_ranks, k, n, own, median) -> np.ndarray:
    """``percentileofscore(peers, own, kind="mean")`` per row, by ``searchsorted`` on the sorted segment keys
    (segment × width + the value's rank among all used values). With ``below`` the number of used values
    under ``own`` and ``upto`` the number at or under it, a peer ``x`` is ``< own`` exactly when its rank is
    below ``below`` and ``<= own`` when it is below ``upto``."""
    if not len(x):
        return np.full(len(own), np.nan)
    below_all, upto_all = own_ranks
    query = row_base + below_all
    order = np.argsort(query, kind="stable")  # searchsorted is several times faster on sorted queries
    below, at_or_below = np.empty(len(own), dtype=np.int64), np.empty(len(own), dtype=np.int64)
    below[order] = np.searchsorted(keys, query[order], side="left")
    at_or_below[order] = np.searchsorted(keys, (row_base + upto_all)[order], side="left")
    below, at_or_below = below - start, at_or_below - start
    removed = np.where(k >= 0, x[np.clip(start + np.maximum(k, 0), 0, len(x) - 1)], np.nan)
    below = below - ((k >= 0) & (removed < own))
    at_or_below = at_or_below - ((k >= 0) & (removed <= own))
    with np.errstate(invalid="ignore", divide="ignore"):
        rank = np.clip(100.0 * (below + at_or_below) / (2.0 * n), 0.0, 100.0)
    return np.where(np.isfinite(own) & ~np.isnan(median) & (n > 0), rank, np.nan)


def _reasons_text(counts: np.ndarray) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """``excluded_reasons`` of every row (``counts``: one row per reason in :data:`_REASON_ORDER`, one column
    per output row), as codes into one text per distinct combination of counts."""
    low = int(counts.min(initial=0))
    base = int(counts.max(initial=0)) - low + 1
    if base ** len(_REASON_ORDER) < 2**62:
        key = np.zeros(counts.shape[1], dtype=np.int64)
        for row in counts:
            key = key * base + (row - low)
        code, distinct = pd.factorize(key)
        combos = np.zeros((len(distinct), len(_REASON_ORDER)), dtype=np.int64)
        rest = distinct.copy()
        for j in range(len(_REASON_ORDER) - 1, -1, -1):
            combos[:, j] = rest % base + low
            rest //= base
    else:
        combos, code = np.unique(counts.T, axis=0, return_inverse=True)
        code = code.reshape(-1)
    texts = [_describe_exclusions(dict(zip(_REASON_ORDER, (int(c) for c in combo), strict=True))) for combo in combos]
    return code, _text_array(texts)
