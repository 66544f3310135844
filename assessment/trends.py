"""Trends across rounds: domain scores with bootstrap intervals, change verdicts and comparability breaks.

Pure functions over the score frame of respondents (``Scores.respondents`` from
:func:`assessment.scoring.score_responses`: ``partnership, round, respondent, agency, domain, score, status``
plus the carried ``questionnaire, version, period``).

Rules (PRODUCT.md, "Benchmark rules"; docs/benchmarking.md):

* A round's domain score is agency-balanced: the mean over agencies of each agency's mean respondent score.
* Its interval, and the change from the previous round, come from a 95% percentile bootstrap: 2,000
  resamples, seeded, respondents resampled with replacement *within their agency*, each round separately.
  The change distribution is the difference of the two rounds' independent resample distributions.
* Verdict: ``improved`` only when the change interval's low end is above 0, ``declined`` only when its high
  end is below 0, otherwise ``no clear change``; ``too few respondents`` (and no interval) when either round
  has fewer than 5 scored respondents in the domain; ``not comparable`` (and no change) when the two rounds'
  questionnaire versions are not comparable for the domain (a break in the trend line).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assessment.disclosure import blank_small_rounds
from assessment.questionnaire.crosswalk import compare_versions
from assessment.questionnaire.schema import Questionnaire

__all__ = [
    "PORTFOLIO_FIRST_ROUND",
    "TREND_COLUMNS",
    "VERDICTS",
    "agency_balanced_score",
    "bootstrap_agency_balanced",
    "change_verdict",
    "domain_trends",
    "percentile_interval",
    "portfolio",
    "portfolio_changes",
    "portfolio_selection",
]

TREND_COLUMNS = (
    "partnership", "round", "period", "questionnaire", "version", "domain", "score", "ci_low", "ci_high",
    "n_respondents", "comparable_with_previous", "break_reason", "change", "change_low", "change_high", "verdict",
)
IMPROVED, DECLINED, NO_CLEAR_CHANGE = "improved", "declined", "no clear change"
TOO_FEW, NOT_COMPARABLE = "too few respondents", "not comparable"
VERDICTS = (IMPROVED, DECLINED, NO_CLEAR_CHANGE, TOO_FEW, NOT_COMPARABLE)
#: What the portfolio shows for a domain whose latest round is its first (there is no change yet).
PORTFOLIO_FIRST_ROUND = "first round"

_REQUIRED = ("partnership", "round", "respondent", "agency", "domain", "score")

Questionnaires = Mapping[tuple[str, str], Questionnaire]


# -- statistics -------------------------------------------------------------------------------------------


def _agency_codes(agencies) -> np.ndarray:
    """Integer agency codes in alphabetical order of agency (independent of row order)."""
    return pd.factorize(pd.Series(agencies, dtype=object).astype(str), sort=True)[0]


def _balanced(values: np.ndarray, codes: np.ndarray) -> float:
    if values.size == 0:
        return float("nan")
    sums = np.bincount(codes, weights=values)
    counts = np.bincount(codes)
    present = counts > 0
    return float(np.mean(sums[present] / counts[present]))


def _bootstrap(values: np.ndarray, codes: np.ndarray, resamples: int, rng) -> np.ndarray:
    order = np.argsort(codes, kind="stable")
    values, codes = values[order], codes[order]
    _, codes = np.unique(codes, return_inverse=True)  # dense 0..K-1, still in agency order
    sizes = np.bincount(codes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    draws = rng.random((resamples, values.size))
    index = starts[codes] + np.floor(draws * sizes[codes]).astype(np.int64)
    agency_means = np.add.reduceat(values[index], starts, axis=1) / sizes
    return agency_means.mean(axis=1)


def agency_balanced_score(scores: np.ndarray, agencies: np.ndarray) -> float:
    """Mean over agencies of each agency's mean respondent score (NaN when there are no scores).

    :math:`S = \\frac{1}{K} \\sum_{k=1}^{K} \\bar{x}_k`, with :math:`\\bar{x}_k` the mean score of the
    respondents of agency *k* (PRODUCT.md, scoring rule 2). E.g. police 2, 2, 2, 2 and NHS 4 give 3.0,
    where the plain respondent mean would be 2.4.
    """
    return _balanced(np.asarray(scores, dtype=float), _agency_codes(agencies))


def bootstrap_agency_balanced(
    scores: np.ndarray, agencies: np.ndarray, *, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap distribution of the agency-balanced score, resampling respondents within agency.

    Each resample draws, for every agency with :math:`n_k` respondents, :math:`n_k` respondents of that
    agency with replacement, and recomputes the agency-balanced score (stratified bootstrap; Efron &
    Tibshirani 1993, ch. 6 and 8.4). Vectorised: one ``(resamples, n)`` matrix of uniform draws
    ``rng.random`` is laid over the respondents grouped by agency (agencies in alphabetical order, rows in
    their given order within an agency); draw :math:`u` in an agency of :math:`n_k` picks its respondent
    :math:`\\lfloor u \\, n_k \\rfloor`. Agency means come from ``numpy.add.reduceat``.

    Returns an array of ``resamples`` values (empty when there are no scores).
    """
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        return np.empty(0)
    return _bootstrap(scores, _agency_codes(agencies), resamples, rng)


def percentile_interval(distribution: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval: the (1−confidence)/2 and (1+confidence)/2 quantiles (``numpy.percentile``,
    linear interpolation). Efron & Tibshirani (1993), section 13.3."""
    if distribution.size == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(distribution, [tail, 100 - tail])
    return float(low), float(high)


def change_verdict(change_low: float, change_high: float, *, comparable: bool = True,
                   enough_respondents: bool = True) -> str:
    """The verdict on a change between two rounds.

    ``not comparable`` when the versions are not comparable for the domain; ``too few respondents`` when
    either round has fewer than the minimum of scored respondents; ``improved`` only when the interval's
    low end is above 0; ``declined`` only when its high end is below 0; otherwise ``no clear change`` (an
    interval touching 0 is no clear change).
    """
    if not comparable:
        return NOT_COMPARABLE
    if not enough_respondents:
        return TOO_FEW
    if change_low > 0:
        return IMPROVED
    if change_high < 0:
        return DECLINED
    return NO_CLEAR_CHANGE


def _stream(seed: int, partnership: str, round_: str, domain: str) -> np.random.Generator:
    """A random stream of its own for each partnership, round and domain, so an interval never depends on
    which other rounds or domains are in the frame."""
    name = "\x1f".join((partnership, round_, domain)).encode("utf-8")
    return np.random.default_rng([int(seed), zlib.crc32(name)])


# -- trends -----------------------------------------------------------------------------------------------


def _comparability(
    previous: tuple[str, str], current: tuple[str, str], domain: str, questionnaires: Questionnaires | None
) -> tuple[bool, str]:
    if previous == current:
        return True, ""
    if questionnaires is None or previous not in questionnaires or current not in questionnaires:
        return False, f"no definition of {previous[0]} {previous[1]} and {current[0]} {current[1]} to compare"
    versions = {v: q for (qid, v), q in questionnaires.items() if qid == current[0]}
    verdict = compare_versions(questionnaires[previous], questionnaires[current], versions).get(domain)
    if verdict is None:
        return False, f"domain not in {current[0]} {current[1]}"
    return verdict.comparable, ("" if verdict.comparable else verdict.reason)


def domain_trends(
    respondent_scores: pd.DataFrame,
    *,
    partnership: str | None,
    questionnaires: Questionnaires | None,
    resamples: int = 2000,
    seed: int = 20260101,
    min_respondents: int = 5,
    confidence: float = 0.95,
    latest_only: bool = False,
    min_group_size: int = 3,
) -> pd.DataFrame:
    """A partnership's domain scores round by round, with intervals, changes and verdicts.

    Parameters
    ----------
    respondent_scores : DataFrame
        ``partnership, round, respondent, agency, domain, score`` and optionally ``status`` (only
        ``scored`` rows count), ``questionnaire``, ``version`` and ``period`` (rounds are ordered by period,
        then round; without a period the round value is the period).
    partnership : str or None
        The partnership (None: every partnership in the frame, e.g. for :func:`portfolio`).
    questionnaires : mapping or None
        ``{(id, version): Questionnaire}`` from ``load_directory()``: gives each round's domains and the
        comparability of consecutive versions. Rounds on different versions without definitions are
        treated as not comparable.
    resamples, seed, confidence : int, int, float
        Bootstrap resamples, seed and confidence of the intervals (defaults: 2,000, 20260101, 95%).
    min_respondents : int
        Fewest scored respondents in a domain, in both rounds, for an interval and a change verdict.
    latest_only : bool
        Only each partnership's latest round and the one before it: all that :func:`portfolio` needs.
    min_group_size : int
        The disclosure rule (:func:`assessment.disclosure.blank_small_rounds`): a round's domain with 1 to
        ``min_group_size - 1`` scored respondents shows no score, interval or change (its stored score is
        hidden for the same reason), nor does the change out of it; its verdict is ``too few respondents``.

    Returns
    -------
    DataFrame
        Columns :data:`TREND_COLUMNS`, one row per partnership, round and domain, rounds in period order.
        The first round of a partnership has no change: ``comparable_with_previous`` is missing and
        ``verdict`` empty.

    Notes
    -----
    score = agency-balanced mean; [ci_low, ci_high] = 2.5th and 97.5th percentiles of the bootstrap
    distribution :math:`S^*_b` (:func:`bootstrap_agency_balanced`); change = S(current) − S(previous) with
    interval from the percentiles of :math:`S^*_{b,\\mathrm{current}} - S^*_{b,\\mathrm{previous}}`, the two
    rounds resampled independently.
    """
    missing = [c for c in _REQUIRED if c not in respondent_scores.columns]
    if missing:
        raise ValueError(f"respondent scores frame lacks column(s) {', '.join(missing)}")
    if min_respondents < 1:
        raise ValueError(f"min_respondents must be at least 1, not {min_respondents}")
    frame = _trend_frame(respondent_scores, partnership)
    rounds = _rounds(frame, latest_only)
    # Positions of each partnership/round/domain's scored respondents: one groupby, then plain numpy.
    scored_rows = frame[frame["scored"]]
    cells = _Cells(
        values=scored_rows["score"].to_numpy(float),
        codes=scored_rows["code"].to_numpy(),
        rows=scored_rows.groupby(["partnership", "round", "domain"], sort=False).indices,
        seen_domains={key: list(dict.fromkeys(part))
                      for key, part in frame.groupby(["partnership", "round"], sort=False)["domain"]},
    )
    rule = _TrendRule(questionnaires, resamples, seed, min_respondents, confidence)
    rows: list[dict] = []
    for partnership_id, its_rounds in rounds.groupby("partnership", sort=True):
        rows += _partnership_rows(partnership_id, its_rounds, cells, rule)
    out = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
    out = out.astype({"n_respondents": int, "comparable_with_previous": "boolean", "score": float,
                      "ci_low": float, "ci_high": float, "change": float, "change_low": float,
                      "change_high": float})
    return blank_small_rounds(out, min_group_size)


@dataclass(frozen=True)
class _Cells:
    """The scored respondents' scores and agency codes, and the positions of each (partnership, round,
    domain)'s; the domains seen in the data per (partnership, round)."""

    values: np.ndarray
    codes: np.ndarray
    rows: dict
    seen_domains: dict

    def at(self, partnership: str, round_: str, domain: str) -> tuple[np.ndarray, np.ndarray]:
        where = self.rows.get((partnership, round_, domain), np.empty(0, dtype=np.int64))
        return self.values[where], self.codes[where]


@dataclass(frozen=True)
class _TrendRule:
    questionnaires: Questionnaires | None
    resamples: int
    seed: int
    min_respondents: int
    confidence: float


def _rounds(frame: pd.DataFrame, latest_only: bool) -> pd.DataFrame:
    """Each partnership's rounds in period order (only the latest two with ``latest_only``)."""
    rounds = (
        frame[["partnership", "round", "period", "questionnaire", "version"]]
        .drop_duplicates(["partnership", "round"])
        .sort_values(["partnership", "period", "round"], kind="stable")
    )
    if latest_only:
        rounds = rounds.groupby("partnership", sort=False).tail(2)
    return rounds


def _trend_frame(respondent_scores: pd.DataFrame, partnership: str | None) -> pd.DataFrame:
    """The columns trends need, as text and floats: one partnership's rows (or all), a period per row (the
    round value when empty), whether the row is scored, and the agency's code."""
    if partnership is not None:
        # Select first, convert after: one partnership is a small slice of a national frame.
        names = respondent_scores["partnership"]
        if not pd.api.types.is_string_dtype(names):
            names = names.astype(str)
        respondent_scores = respondent_scores[(names == str(partnership)).to_numpy(dtype=bool)]
    frame = pd.DataFrame(
        {
            "partnership": respondent_scores["partnership"].astype(str),
            "round": respondent_scores["round"].astype(str),
            "agency": respondent_scores["agency"].astype(str),
            "domain": respondent_scores["domain"].astype(str),
            "score": pd.to_numeric(respondent_scores["score"], errors="coerce").astype(float),
        }
    )
    frame["period"] = frame["round"]
    if "period" in respondent_scores:  # an empty period falls back to the round value
        period = respondent_scores["period"].astype("string").fillna("").str.strip().to_numpy(dtype=object)
        frame["period"] = np.where(period != "", period, frame["round"].to_numpy(dtype=object))
    for column in ("questionnaire", "version"):
        frame[column] = respondent_scores[column].astype(str).to_numpy() if column in respondent_scores else ""
    scored = frame["score"].notna()
    if "status" in respondent_scores:
        scored &= respondent_scores["status"].astype(str).eq("scored").to_numpy()
    frame["scored"] = scored
    frame["code"] = _agency_codes(frame["agency"])
    return frame


def _partnership_rows(partnership_id: str, its_rounds: pd.DataFrame, cells: _Cells, rule: _TrendRule) -> list[dict]:
    """One partnership's rows, round by round (in period order), each domain's change from the round before."""
    rows: list[dict] = []
    previous: dict | None = None  # the previous round: key and per-domain (score, n, distribution)
    for record in its_rounds.itertuples(index=False):
        key = (record.questionnaire, record.version)
        domains = _round_domains(rule.questionnaires, key, cells.seen_domains[(partnership_id, record.round)])
        current: dict[str, tuple[float, int, np.ndarray]] = {}
        for domain in domains:
            values, codes = cells.at(partnership_id, record.round, domain)
            n = int(values.size)
            score = _balanced(values, codes)
            if n >= rule.min_respondents:
                dist = _bootstrap(values, codes, rule.resamples, _stream(rule.seed, partnership_id, record.round, domain))
            else:
                dist = np.empty(0)
            current[domain] = (score, n, dist)
            ci_low, ci_high = percentile_interval(dist, rule.confidence)
            row = {
                "partnership": partnership_id, "round": record.round, "period": record.period,
                "questionnaire": record.questionnaire, "version": record.version, "domain": domain,
                "score": score, "ci_low": ci_low, "ci_high": ci_high, "n_respondents": n,
                "comparable_with_previous": pd.NA, "break_reason": "",
                "change": np.nan, "change_low": np.nan, "change_high": np.nan, "verdict": "",
            }
            if previous is not None:
                _add_change(row, previous, key, current[domain], rule)
            rows.append(row)
        previous = {"key": key, "domains": current}
    return rows


def _add_change(row: dict, previous: dict, key: tuple[str, str], now: tuple[float, int, np.ndarray],
                rule: _TrendRule) -> None:
    """The change from the previous round into ``row``: comparability, change, its interval and verdict."""
    domain = row["domain"]
    score, n, dist = now
    comparable, reason = _comparability(previous["key"], key, domain, rule.questionnaires)
    before = previous["domains"].get(domain)
    if before is None and comparable:
        comparable, reason = False, "domain not scored in the previous round"
    row["comparable_with_previous"] = comparable
    row["break_reason"] = reason
    if comparable:
        old_score, old_n, old_dist = before
        enough = n >= rule.min_respondents and old_n >= rule.min_respondents
        row["change"] = score - old_score
        if enough:
            row["change_low"], row["change_high"] = percentile_interval(dist - old_dist, rule.confidence)
        row["verdict"] = change_verdict(row["change_low"], row["change_high"], enough_respondents=enough)
    else:
        row["verdict"] = change_verdict(np.nan, np.nan, comparable=False)


def _round_domains(questionnaires: Questionnaires | None, key: tuple[str, str], seen: list[str]) -> list[str]:
    """The round's domains: the questionnaire's, in file order (so an all-unscored domain still gets a
    row), then any others found in the data."""
    if questionnaires is not None and key in questionnaires:
        listed = [d.id for d in questionnaires[key].domains]
        return listed + [d for d in seen if d not in listed]
    return seen


def portfolio(trends: pd.DataFrame, partnerships: pd.DataFrame, *, region: str | None = None) -> pd.DataFrame:
    """Partnerships × domains with each domain's latest change verdict, for commissioners.

    Parameters
    ----------
    trends : DataFrame
        Output of :func:`domain_trends` for one or more partnerships.
    partnerships : DataFrame
        The Partnerships frame (``partnership, nation, region``).
    region : str, optional
        Keep only partnerships in this region.

    Returns
    -------
    DataFrame
        ``partnership, nation, region`` and one column per domain holding the verdict of the partnership's
        latest round (``first round`` when that round is its first). Rows are in alphabetical order of
        partnership: the portfolio is never ranked.
    """
    missing = [c for c in ("partnership", "period", "round", "domain", "verdict") if c not in trends.columns]
    if missing:
        raise ValueError(f"trends frame lacks column(s) {', '.join(missing)}")
    places = partnerships[["partnership", "nation", "region"]].astype(str).drop_duplicates("partnership")
    latest = (
        trends.assign(partnership=trends["partnership"].astype(str))
        .sort_values(["partnership", "period", "round"], kind="stable")
        .drop_duplicates(["partnership", "domain"], keep="last")
        .reset_index(drop=True)
    )
    latest["verdict"] = latest["verdict"].astype("string").fillna("").replace("", PORTFOLIO_FIRST_ROUND)
    domains = list(dict.fromkeys(trends["domain"].astype(str)))
    wide = latest.pivot(index="partnership", columns="domain", values="verdict").reindex(columns=domains)
    wide.columns.name = None
    out = places.merge(wide.reset_index(), on="partnership", how="right")
    out[["nation", "region"]] = out[["nation", "region"]].fillna("")
    if region is not None:
        out = out[out["region"] == region]
    return out.sort_values("partnership", kind="stable").reset_index(drop=True)


def _listed(column: pd.Series, name: str) -> pd.Series:
    """Whether ``name`` is one of the ";"-joined names of each row."""
    return column.fillna("").astype(str).str.contains(f"(?:^|;){re.escape(name)}(?:;|$)")


def member_organisations(partnerships: pd.DataFrame, column: str) -> list[str]:
    """The distinct names in a ";"-joined column of the partnerships frame (``icbs``, ``police_forces`` or
    ``groups``), sorted; empty when the column is absent."""
    if column not in partnerships:
        return []
    return sorted({name for text in partnerships[column].fillna("").astype(str) for name in text.split(";") if name})


def portfolio_selection(partnerships: pd.DataFrame, *, region: str | None = None, group: str | None = None,
                        keys: Sequence[str] | None = None, organisation: str | None = None) -> list[str]:
    """The partnership keys of a commissioner's chosen set, in alphabetical order of key.

    ``partnerships`` is the frame the principal may see (``partnership, region, groups``, and for
    ``organisation`` also ``icbs, police_forces``), so a choice can never reach beyond it. ``region`` keeps
    one region, ``group`` one custom peer group (the saved sets stored with the partnerships, ``groups``
    joined with ";"), ``organisation`` the partnerships with that member ICB or police force (by name: an
    ICB footprint or a police force area), ``keys`` a hand-picked list; they combine.
    """
    shown = pd.Series(True, index=partnerships.index)
    if region is not None:
        shown &= partnerships["region"].astype(str) == region
    if group is not None:
        shown &= _listed(partnerships["groups"], group)
    if organisation is not None:
        member = pd.Series(False, index=partnerships.index)
        for column in ("icbs", "police_forces"):
            if column in partnerships:
                member |= _listed(partnerships[column], organisation)
        shown &= member
    if keys is not None:
        shown &= partnerships["partnership"].astype(str).isin([str(k) for k in keys])
    return sorted(partnerships.loc[shown, "partnership"].astype(str))


def portfolio_changes(trends: pd.DataFrame, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Long form of the portfolio: each partnership's latest round per domain with its change and interval.

    Columns ``partnership, domain, period, n_respondents, change, change_low, change_high, verdict`` and
    ``cell`` (the verdict with the size of the change and its 95% interval, as the table shows it). Rows are
    in alphabetical order of partnership, never ranked.
    """
    latest = (
        trends.assign(partnership=trends["partnership"].astype(str))
        .sort_values(["partnership", "period", "round"], kind="stable")
        .drop_duplicates(["partnership", "domain"], keep="last")
    )
    if keys is not None:
        latest = latest[latest["partnership"].isin([str(k) for k in keys])]
    out = latest[["partnership", "domain", "period", "n_respondents", "change", "change_low", "change_high",
                  "verdict"]].reset_index(drop=True)
    out["verdict"] = out["verdict"].astype("string").fillna("").replace("", PORTFOLIO_FIRST_ROUND).astype(str)
    for col in ("change", "change_low", "change_high"):
        out[col] = pd.to_numeric(out[col], errors="coerce").round(2)
    sized = out["change"].notna() & out["change_low"].notna() & out["change_high"].notna()
    signed = {col: out[col].map("{:+.2f}".format).astype(str) for col in ("change", "change_low", "change_high")}
    size = signed["change"] + " (95% " + signed["change_low"] + " to " + signed["change_high"] + ")"
    out["cell"] = out["verdict"].where(~sized, out["verdict"] + " " + size.where(sized, ""))
    return out.sort_values(["partnership"], kind="stable").reset_index(drop=True)
