"""What may be shown: the one disclosure rule every page, command, chart and export goes through.

Two kinds of figure leave the system, and each has one rule here (docs/scoring.md, "Suppression";
docs/benchmarking.md, "What is shown"):

* **Figures of a partnership's own respondents** (score frames). The scoring engine decides *why* a
  figure is hidden (:mod:`assessment.scoring.suppression`) and writes typed columns: ``suppressed``
  (some figure of the row is hidden), ``suppression_reason`` (``small_group`` / ``complementary``),
  ``score_hidden`` (the row's score, or an item's mean, is hidden) and ``hidden`` (a code, a key of
  :data:`HIDDEN_FIGURES`, naming which figures of the row are hidden). :func:`blank_suppressed` is the only
  function that turns those columns into blank cells; :func:`score_hidden` is the only reader of "is this
  score hidden" (peers, regions, practices). A round's score across rounds (Trends, Portfolio) is hidden by
  :func:`blank_small_rounds` with the same ``min_group_size``.
* **Figures over several partnerships** (peer groups, regions, the promising-practices threshold).
  :func:`peer_figures` computes the median, quartiles and range of the contributing scores and returns
  only those :func:`shown_peer_figures` allows: the median needs ``min_peers`` partnerships, Q1 and Q3 need
  ``min_peers_spread`` and the minimum and maximum ``min_peers_extremes``; and whatever the settings, a set
  of figures that would pin down every contributing score (or every score but one, which an insider who
  knows their own could then complete) is cut back (range first, then quartiles, then the median).
* **Counts of an outcome indicator** (section 136 detentions...): a count from 1 to N−1 is shown as
  "fewer than N" (N is the catalogue's ``fewer_than``); 0 is shown. :func:`small_counts` is the rule and
  :func:`fewer_than_text` the words; :mod:`assessment.indicators.figures` hides every percent, rate,
  difference and ratio computed from a hidden count through it.
* **A promising practice** shows only that its partnership is in the top quartile of its group, with the
  threshold (:data:`PRACTICE_FIGURES`), never the partnership's exact score: beside a region's Q1, median
  and Q3 an exact score is one more equation, and two such scores with 5 partnerships give four of five.

This module imports only the vocabulary, so scoring, peers, trends, charts, storage and the
app all use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assessment.vocabulary import parse_yes_no

__all__ = [
    "FLAG_COLUMNS",
    "HIDDEN_FIGURES",
    "PEER_FIGURES",
    "PRACTICE_FIGURES",
    "DisclosureRule",
    "blank_small_rounds",
    "blank_suppressed",
    "fewer_than_text",
    "peer_figures",
    "scope_figures",
    "score_hidden",
    "shown_peer_figures",
    "small_counts",
    "with_typed_flags",
    "yes_no_column",
]

# -- score frames ----------------------------------------------------------------------------------------

#: Which figures of a row each ``hidden`` code hides (a column missing from a frame is simply skipped;
#: ``count_*`` means every ``count_<value>`` column of the item frame).
HIDDEN_FIGURES: Mapping[str, tuple[str, ...]] = {
    "": (),
    # the group itself is too small: every figure of the row
    "all": ("score", "level", "level_label", "respondent_mean", "median", "sd", "agency_gap", "split",
            "mean", "count_*"),
    # the score (and what is read off it) would let a hidden figure be worked out
    "score": ("score", "level", "level_label", "mean", "count_*"),
    # an agency mean is hidden: the figures that can equal or pin one agency's mean
    "agreement": ("median", "sd", "agency_gap", "split"),
    # ... and the respondent mean, which with the score would give a hidden agency mean
    "agreement_and_mean": ("respondent_mean", "median", "sd", "agency_gap", "split"),
}
#: The codes whose figures include the row's score.
_SCORE_CODES = frozenset(code for code, figures in HIDDEN_FIGURES.items() if "score" in figures)
#: The typed suppression columns every score frame carries.
FLAG_COLUMNS = ("suppressed", "suppression_reason", "score_hidden", "hidden")


def _legacy_code(figures: str, reason: str) -> str:
    """The ``hidden`` code of a row stored before the typed columns (``suppressed_figures`` text)."""
    listed = {f.strip() for f in str(figures or "").split(";") if f.strip()}
    if not listed:
        return ""
    if "respondent_mean" in listed:
        return "all" if "score" in listed else "agreement_and_mean"
    if "score" in listed or "mean" in listed:
        return "all" if reason == "small_group" else "score"
    return "agreement"


def with_typed_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """A score frame with the typed columns; rows stored before them (a ``suppressed_figures`` text
    column, no ``hidden`` code) are converted once, here, and the text column dropped. A frame mixing old
    and new rows (several rounds read together) gets each old row converted. Other frames come back
    unchanged."""
    if "suppressed_figures" not in frame.columns:
        return frame
    out = frame.drop(columns="suppressed_figures")
    hidden = (frame["hidden"].astype("string") if "hidden" in frame.columns
              else pd.Series(pd.NA, index=frame.index, dtype="string"))
    old = hidden.isna().to_numpy()
    if old.any():
        reasons = (frame["suppression_reason"].astype("string").fillna("")
                   if "suppression_reason" in frame else pd.Series("", index=frame.index, dtype="string"))
        figures = frame["suppressed_figures"].astype("string").fillna("")
        pairs = list(zip(figures[old], reasons[old], strict=True))
        codes = {pair: _legacy_code(*pair) for pair in set(pairs)}
        hidden = hidden.copy()
        hidden[old] = [codes[pair] for pair in pairs]
    out["hidden"] = hidden.astype(str).to_numpy(dtype=object)
    derived = out["hidden"].isin(_SCORE_CODES).to_numpy(dtype=bool)
    if "score_hidden" in frame.columns:
        stored = frame["score_hidden"]
        derived = np.where(stored.isna().to_numpy(), derived, stored.fillna(False).astype(bool).to_numpy())
    out["score_hidden"] = derived
    return out


def score_hidden(frame: pd.DataFrame) -> pd.Series:
    """Whether each row's score itself is hidden (so it is never shown and never a peer value).

    Reads ``score_hidden``; a frame written before that column (a CSV of an older ``assessment score``)
    is read through :func:`with_typed_flags`, else ``suppression_reason == "small_group"``, else the
    ``suppressed`` flag. A frame with none of them hides nothing.
    """
    frame = with_typed_flags(frame)
    if "score_hidden" in frame:
        return yes_no_column(frame["score_hidden"], "score_hidden")
    if "suppression_reason" in frame:
        return frame["suppression_reason"].astype("string").fillna("").eq("small_group").astype(bool)
    if "suppressed" in frame:
        return yes_no_column(frame["suppressed"], "suppressed")
    return pd.Series(False, index=frame.index)


def yes_no_column(series: pd.Series, column: str) -> pd.Series:
    """A column of bools or yes/no text as bools (missing is no), each value read by
    :func:`assessment.vocabulary.parse_yes_no`; a ValueError names the column and the value."""
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool)
    text = series.astype("string").fillna("")
    try:
        table = {value: parse_yes_no(value) for value in text.unique()}
    except ValueError as exc:
        raise ValueError(f"column {column}: {exc}") from exc
    return text.map(table).astype(bool)


def _hidden_columns(code: str, columns: Iterable[str]) -> list[str]:
    wanted = HIDDEN_FIGURES.get(code)
    if wanted is None:
        raise ValueError(f"unknown suppression code {code!r} in column hidden; known: "
                         + ", ".join(repr(c) for c in HIDDEN_FIGURES))
    columns = list(columns)
    out = [c for c in wanted if c in columns]
    if "count_*" in wanted:
        out += [c for c in columns if c.startswith("count_")]
    return out


def blank_suppressed(frame: pd.DataFrame) -> pd.DataFrame:
    """What may be shown of a score frame: every figure its ``hidden`` code hides set to missing.

    The one place that turns suppression flags into blank cells (pages, exports, charts and commands all
    call it). Works on any frame of :class:`~assessment.scoring.Scores` (and on the stored frames of older
    rounds, see :func:`with_typed_flags`); a frame without flags is returned unchanged. Boolean and integer
    columns become pandas nullable types so that they can hold the gap.
    """
    frame = with_typed_flags(frame)
    if "hidden" not in frame.columns:
        return frame.copy()
    out = frame.copy()
    codes = out["hidden"].astype("string").fillna("").to_numpy(dtype=object)
    for code in pd.unique(codes):
        rows = codes == code
        for column in _hidden_columns(str(code), out.columns):
            dtype = out[column].dtype
            if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
                out[column] = out[column].astype("boolean")
            elif pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
                out[column] = out[column].astype("Int64")
            elif isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype):
                out[column] = out[column].astype("string")
            out.loc[rows, column] = np.nan if pd.api.types.is_float_dtype(out[column].dtype) else pd.NA
    return out


# -- figures over several partnerships -------------------------------------------------------------------

#: The peer figures, in the order they are cut back when too few partnerships contribute.
PEER_FIGURES = ("median", "q1", "q3", "min", "max")
_PERCENT = {"median": 50.0, "q1": 25.0, "q3": 75.0, "min": 0.0, "max": 100.0}


@dataclass(frozen=True)
class DisclosureRule:
    """The thresholds of the disclosure rule (settings ``min_group_size``, ``min_peers``,
    ``min_peers_spread``, ``min_peers_extremes``)."""

    min_group_size: int = 3
    min_peers: int = 3
    min_peers_spread: int = 5
    min_peers_extremes: int = 10

    def __post_init__(self) -> None:
        for name in ("min_group_size", "min_peers", "min_peers_spread", "min_peers_extremes"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")

    @classmethod
    def of(cls, settings) -> DisclosureRule:
        """The rule from :class:`~assessment.settings.Settings`."""
        return cls(min_group_size=settings.min_group_size, min_peers=settings.min_peers,
                   min_peers_spread=settings.min_peers_spread, min_peers_extremes=settings.min_peers_extremes)


def _weights(n: int, figure: str) -> np.ndarray:
    """A figure as weights on the sorted values x_1..x_n (``numpy.percentile``, linear interpolation:
    position ``h = (n - 1) p``, value ``x_floor(h) + (h - floor(h)) (x_ceil(h) - x_floor(h))``)."""
    h = (n - 1) * _PERCENT[figure] / 100
    low = int(np.floor(h))
    weights = np.zeros(n)
    weights[low] += 1 - (h - low)
    if h > low:
        weights[low + 1] += h - low
    return weights


def shown_peer_figures(n: int, rule: DisclosureRule = DisclosureRule()) -> tuple[str, ...]:
    """Which of :data:`PEER_FIGURES` may be shown for ``n`` contributing partnerships.

    By threshold: median from ``min_peers``, Q1 and Q3 from ``min_peers_spread``, min and max from
    ``min_peers_extremes``. Then the guard that holds for any setting: the shown figures are linear
    equations in the sorted scores; while they would determine ``n - 1`` or more of them (the rank of the
    equations, so an insider who knows their own score could complete the rest), the range goes, then the
    quartiles, then the median. E.g. with 3 partnerships Q1, median and Q3 give ``a = 2·q1 − median``,
    ``b = median``, ``c = 2·q3 − median``: only the median may be shown, and with 2 not even that.
    """
    if n < 1:
        return ()
    allowed = [f for f, need in (("median", rule.min_peers), ("q1", rule.min_peers_spread),
                                 ("q3", rule.min_peers_spread), ("min", rule.min_peers_extremes),
                                 ("max", rule.min_peers_extremes)) if n >= need]
    for cut in (("min", "max"), ("q1", "q3"), ("median",)):
        matrix = np.array([_weights(n, f) for f in allowed]) if allowed else np.zeros((0, n))
        if not allowed or np.linalg.matrix_rank(matrix) <= n - 2:
            break
        allowed = [f for f in allowed if f not in cut]
    return tuple(allowed)


def peer_figures(values, rule: DisclosureRule = DisclosureRule()) -> dict[str, float]:
    """median, q1, q3, min, max of the contributing scores; NaN for every figure that may not be shown."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    out = dict.fromkeys(PEER_FIGURES, np.nan)
    shown = shown_peer_figures(len(values), rule)
    if shown:
        computed = np.percentile(values, [_PERCENT[f] for f in shown])
        out.update({f: float(v) for f, v in zip(shown, computed, strict=True)})
    return out


def scope_figures(frame: pd.DataFrame, value: str, by: str, rule: DisclosureRule = DisclosureRule()) -> pd.DataFrame:
    """The shown median, Q1 and Q3 of ``value`` per nation and per region, for each ``by`` (domain, indicator).

    ``frame`` has one row per partnership and ``by`` with ``nation`` and ``region``. Returns columns nation,
    region, ``by``, partnerships (the count), median, q1, q3 and scope (``nation`` rows first, their region
    empty); a figure :func:`peer_figures` may not show is NaN. Region comparison of scores and of outcome
    indicators both read this.
    """
    parts = []
    for scope, keys in (("nation", ["nation"]), ("region", ["nation", "region"])):
        grouped = frame.groupby([*keys, by], sort=True)[value]
        table = grouped.agg(partnerships="count").reset_index()
        figures = pd.DataFrame([peer_figures(values.to_numpy(dtype=float), rule) for _, values in grouped],
                               columns=list(PEER_FIGURES))
        table[["median", "q1", "q3"]] = figures[["median", "q1", "q3"]].to_numpy(dtype=float).reshape(-1, 3)
        table["scope"] = scope
        if scope == "nation":
            table["region"] = ""
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


# -- counts of outcome indicators ------------------------------------------------------------------------

def small_counts(counts, fewer_than: int) -> np.ndarray:
    """Which counts are hidden: 1 to ``fewer_than - 1`` (0 is shown: some zeros are the point, e.g. no
    child taken to a police station). Missing counts (NaN) are not small; they are blank anyway.

    >>> small_counts([0, 1, 4, 5, float("nan")], 5).tolist()
    [False, True, True, False, False]
    """
    if int(fewer_than) != fewer_than or fewer_than < 2:
        raise ValueError(f"fewer_than must be a whole number of at least 2, got {fewer_than!r}")
    values = np.asarray(counts, dtype=float)
    with np.errstate(invalid="ignore"):
        return (values > 0) & (values < fewer_than)


def fewer_than_text(n: int) -> str:
    """What users read in place of a small count."""
    return f"fewer than {n}"


# -- promising practices ---------------------------------------------------------------------------------

#: The figures a promising-practice row may show: the group's top-quartile threshold (itself a peer
#: figure, drawn only where :func:`shown_peer_figures` allows a Q3), never the partnership's own score,
#: named or not. Why: a region of 5 partnerships shows Q1, median and Q3, exactly the 2nd to 4th scores;
#: the 4th and 5th are the top quartile, so their exact scores beside a practice would make four of five
#: known, and the lowest partnership, knowing its own, would have all five. An exact score is an equation
#: in every group the partnership belongs to (its region, its nation, each peer group), and the groups
#: overlap, so no per-group check could clear it; "at or above the top quartile" is an inequality and pins
#: nothing. A maturity-level band is left out too (a band beside a quartile can narrow a score to a
#: sliver). A partnership that wants its score seen by peers is named to them in the peer comparison.
PRACTICE_FIGURES = ("q3",)


# -- a partnership's rounds over time --------------------------------------------------------------------

def blank_small_rounds(trends: pd.DataFrame, min_group_size: int) -> pd.DataFrame:
    """Trend rows (:data:`assessment.trends.TREND_COLUMNS`) as they may be shown.

    A round whose domain has 1 to ``min_group_size - 1`` scored respondents shows no score and no
    interval (its stored score is hidden for the same reason); the change into and out of it is hidden
    too (with the other round's score it would give the hidden one back) and its verdict becomes
    ``too few respondents``.
    """
    if int(min_group_size) != min_group_size or min_group_size < 1:
        raise ValueError(f"min_group_size must be a whole number of at least 1, not {min_group_size!r}")
    if trends.empty:
        return trends.copy()
    out = trends.copy()
    n = pd.to_numeric(out["n_respondents"], errors="coerce").fillna(0)
    small = ((n >= 1) & (n < min_group_size)).to_numpy(dtype=bool)
    keys = [out[c] for c in ("partnership", "domain") if c in out.columns]
    # the row after a small round (same partnership and domain) has its change hidden too
    if keys:
        previous_small = np.array(pd.Series(small, index=out.index).groupby(keys, sort=False)
                                  .shift(1, fill_value=False).astype(bool), dtype=bool)
    else:
        previous_small = np.r_[False, small[:-1]]
    out.loc[small, [c for c in ("score", "ci_low", "ci_high") if c in out.columns]] = np.nan
    change_columns = [c for c in ("change", "change_low", "change_high") if c in out.columns]
    affected = small | previous_small
    out.loc[affected, change_columns] = np.nan
    if "verdict" in out.columns:
        has_verdict = out["verdict"].astype("string").fillna("").ne("").to_numpy(dtype=bool)
        out.loc[affected & has_verdict & (out["verdict"] != "not comparable").to_numpy(bool),
                "verdict"] = "too few respondents"
    return out
