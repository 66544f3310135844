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

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from assessment.disclosure import (
    PRACTICE_FIGURES,
    DisclosureRule,
    peer_figures,
    scope_figures,
    score_hidden,
    yes_no_column,
)
from assessment.periods import in_window, period_bounds
from assessment.questionnaire.crosswalk import compare_versions
from assessment.questionnaire.schema import Questionnaire, version_key
from assessment.vocabulary import BUILT_IN_PEER_GROUPS, WIDENING_ORDER

__all__ = [
    "COMPARISON_COLUMNS",
    "PRACTICE_COLUMNS",
    "REASON_NO_CLOSED_ROUND",
    "REASON_NO_SCORE",
    "REASON_NOT_COMPARABLE",
    "REASON_SUPPRESSED",
    "REGION_COLUMNS",
    "compare_regions",
    "compare_with_peers",
    "describe_peer_periods",
    "latest_period",
    "peer_group_members",
    "peer_window",
    "promising_practices",
    "region_matrix",
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
PRACTICE_COLUMNS = ("domain", "period", "partnership", "round", "named", *PRACTICE_FIGURES, "comment")


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


def _partnership_frame(partnerships: pd.DataFrame) -> pd.DataFrame:
    """The Partnerships frame with text identifiers, a ``groups`` text column and boolean opt-ins."""
    _require(partnerships, ("partnership", "nation", "region"), "partnerships")
    out = pd.DataFrame(
        {
            "partnership": partnerships["partnership"].astype(str),
            "nation": partnerships["nation"].astype("string").fillna("").astype(str),
            "region": partnerships["region"].astype("string").fillna("").astype(str),
            "groups": (partnerships["groups"].map(_groups_text) if "groups" in partnerships else ""),
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
    out = pd.DataFrame(
        {
            "partnership": scores["partnership"].astype(str),
            "round": scores["round"].astype(str),
            "domain": scores["domain"].astype(str),
            "score": pd.to_numeric(scores["score"], errors="coerce").astype(float),
        },
        index=scores.index,
    )
    # Without a period column the round value is the period (the CLI's stateless mode).
    # (and so is it where a period column is present but empty: `assessment score` always writes one).
    out["period"] = _period_or_round(scores, out["round"])
    bounds = period_bounds(out["period"])
    # Labels of the grammar in their canonical form (2026-h1 = 2026-H1); free text kept, compared by label.
    out["period"] = bounds["label"].where(bounds["label"] != "", out["period"]).astype(str)
    out["end_month"] = bounds["end_month"].to_numpy()
    out["has_versions"] = "questionnaire" in scores and "version" in scores
    out["questionnaire"] = scores["questionnaire"].astype(str) if "questionnaire" in scores else ""
    out["version"] = scores["version"].astype(str) if "version" in scores else ""
    out["suppressed"] = score_hidden(scores).to_numpy(dtype=bool)
    # A round is official when it is closed. Frames without a round status hold closed rounds only.
    if "closed" in scores:
        out["closed"] = yes_no_column(scores["closed"], "closed")
    elif "round_status" in scores:
        out["closed"] = scores["round_status"].astype("string").fillna("").str.lower().eq("closed").astype(bool)
    else:
        out["closed"] = True
    return out.reset_index(drop=True)


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
) -> str | None:
    """The next wider peer group that is large enough, when the chosen one is too small.

    A group is *large enough* when no domain is suppressed (every domain has at least ``min_peers`` peers).
    Widening goes region → nation → all; a custom group widens to the region first. Returns None when the
    chosen group is already large enough or no wider group is; a wider group with exactly the same
    members as the chosen one is skipped.
    """

    def members(group: str) -> list[str]:
        return peer_group_members(partnerships, partnership, group)

    def large_enough(group: str) -> bool:
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


def _select_period(frame: pd.DataFrame, period: str | None, round: str | None,
                   months: int = DEFAULT_WINDOW_MONTHS) -> pd.DataFrame:
    """The rows of a round, or of the peer window ending with a period (default: the latest period)."""
    if period is not None and round is not None:
        raise ValueError("give a period or a round, not both")
    if round is not None:
        return frame[frame["round"] == str(round)]
    if frame.empty:
        return frame
    if period is None:
        period = latest_period(frame)
    bounds = period_bounds(pd.Series([str(period)]))
    label = bounds["label"].iloc[0] or str(period)
    return frame[peer_window(frame, label, int(bounds["end_month"].iloc[0]), months)]


def latest_period(frame: pd.DataFrame) -> str:
    """The latest period of a frame with ``period`` and ``end_month``: the latest end (then the latest label);
    free-text labels only when no label follows the grammar."""
    order = frame[["end_month", "period"]].drop_duplicates().sort_values(["end_month", "period"], kind="stable")
    return str(order["period"].iloc[-1])


def _comparable_rows(frame: pd.DataFrame, questionnaires: Questionnaires | None) -> pd.DataFrame:
    """Keep, per questionnaire, the rows of its newest version and rows of older versions comparable for
    their domain (so regions never pool scores that measure different things)."""
    if frame.empty or not bool(frame["has_versions"].iloc[0]):
        return frame
    keep = np.zeros(len(frame), dtype=bool)
    for qid, part in frame.groupby("questionnaire", sort=False):
        newest = max(part["version"].unique(), key=version_key)
        for version, rows in part.groupby("version", sort=False):
            verdict = _comparable_domains((qid, newest), (qid, version), questionnaires)
            ok = np.ones(len(rows), bool) if verdict is None else rows["domain"].map(verdict).fillna(False).to_numpy(bool)
            keep[frame.index.get_indexer(rows.index)] = ok
    return frame[keep]


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
    when the crosswalk says that domain is comparable with the newest version.

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
    places = _partnership_frame(partnerships)[["partnership", "nation", "region"]]
    frame = _select_period(frame[frame["closed"]], period, round, window_months)
    frame = _latest_per_partnership(frame)
    frame = frame[frame["score"].notna() & ~frame["suppressed"]]
    frame = _comparable_rows(frame, questionnaires)
    frame = frame.merge(places, on="partnership", how="inner")
    domain_order = {d: i for i, d in enumerate(dict.fromkeys(frame["domain"]))}
    out = scope_figures(frame, "score", "domain", rule)
    out["suppressed"] = out["median"].isna()
    out["_scope"] = out["scope"].map({"nation": 0, "region": 1})
    out["_domain"] = out["domain"].map(domain_order)
    out = out.sort_values(["_scope", "nation", "region", "_domain"], kind="stable")
    out = out[list(REGION_COLUMNS)].reset_index(drop=True)
    return out.astype({"partnerships": int, "suppressed": bool, "median": float, "q1": float, "q3": float})


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
    merged.loc[~merged["named"], ["partnership", "round"]] = ""
    merged = merged.sort_values(["domain", "period", "_position"], kind="stable")
    return merged[list(PRACTICE_COLUMNS)].reset_index(drop=True)
