"""How a domain's maturity and an outcome indicator go together across partnerships: an association.

Spearman's rank correlation (rho) between the partnerships' domain scores and their values of a linked
indicator, with the number of partnerships (n) and a percentile bootstrap interval. It describes how the
two go together in these partnerships; it says nothing about cause (larger forces, higher demand and
different recording practice all move both), so the product words it as an association, never an effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = ["ASSOCIATION_WORDING", "Association", "MIN_PARTNERSHIPS", "spearman_association"]

#: Fewest partnerships with both figures for rho and its interval.
MIN_PARTNERSHIPS = 5
#: How the figure is worded wherever it is shown.
ASSOCIATION_WORDING = (
    "Association across partnerships (Spearman's rho), not an effect: maturity and outcomes can move "
    "together for other reasons."
)


@dataclass(frozen=True)
class Association:
    """Spearman's rho with its bootstrap interval, or blank with the reason."""

    n: int
    rho: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    resamples: int
    resamples_used: int
    reason: str = ""
    wording: str = ASSOCIATION_WORDING


def _rank_rows(values: np.ndarray) -> np.ndarray:
    return rankdata(values, axis=-1)  # average ranks for ties, as scipy.stats.spearmanr


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson's r of each row pair; NaN where a row does not vary."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    denom = np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=-1) / denom
    r[denom == 0] = np.nan
    return np.clip(r, -1.0, 1.0)


def spearman_association(frame: pd.DataFrame, *, score: str = "score", indicator: str = "value",
                         resamples: int = 2000, seed: int = 20260101, confidence: float = 0.95,
                         min_n: int = MIN_PARTNERSHIPS) -> Association:
    """Spearman's rho between ``score`` and ``indicator`` over the rows (one per partnership).

    Rows where either figure is missing (blank or hidden) are left out; ``n`` counts the rest.

    rho is Pearson's correlation of the ranks (ties get their average rank); without ties it equals
    ``1 − 6 Σd² / (n (n² − 1))``. The interval is the percentile bootstrap: partnerships are resampled with
    replacement ``resamples`` times (``numpy.random.default_rng(seed)``, so the result is repeatable),
    rho is computed on each resample, and the ``(1 − confidence)/2`` and ``(1 + confidence)/2`` percentiles
    of those values are the bounds. Resamples in which either figure does not vary have no rho and are
    left out (``resamples_used`` counts the others).

    Reference: Spearman C. (1904) The proof and measurement of association between two things.
    Am J Psychol 15:72–101; Efron B., Tibshirani R. (1993) An Introduction to the Bootstrap, ch. 13.

    Raises ``ValueError`` for a missing column, ``resamples < 1`` or ``confidence`` outside (0, 1).

    Examples
    --------
    >>> frame = pd.DataFrame({"score": [1, 2, 3, 4, 5], "value": [2, 1, 4, 3, 5]})
    >>> spearman_association(frame, resamples=200).rho
    0.8
    """
    for column in (score, indicator):
        if column not in frame.columns:
            raise ValueError(f"no column '{column}'")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    pairs = frame[[score, indicator]].apply(pd.to_numeric, errors="raise").dropna()
    x = pairs[score].to_numpy(dtype=float)
    y = pairs[indicator].to_numpy(dtype=float)
    n = len(x)

    def blank(reason: str) -> Association:
        return Association(n, None, None, None, confidence, resamples, 0, reason)

    if n < min_n:
        return blank(f"{n} partnership(s) with both figures; at least {min_n} are needed")
    rho = float(_pearson_rows(_rank_rows(x)[None, :], _rank_rows(y)[None, :])[0])
    if np.isnan(rho):
        return blank("the domain score or the indicator is the same for every partnership")
    rng = np.random.default_rng(seed)
    index = rng.integers(0, n, size=(resamples, n))
    boot = _pearson_rows(_rank_rows(x[index]), _rank_rows(y[index]))
    boot = boot[~np.isnan(boot)]
    if boot.size == 0:
        return Association(n, round(rho, 12), None, None, confidence, resamples, 0,
                           "no resample varied in both figures: no interval")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return Association(n, round(rho, 12), float(low), float(high), confidence, resamples, int(boot.size))
