"""Small-group and complementary suppression.

The rule (docs/scoring.md, "Suppression"): a mean over fewer than ``min_group_size`` scored respondents is
not shown, and no combination of shown figures may reveal it. Per partnership, round and domain:

1. Fewer than ``min_group_size`` scored respondents in the whole partnership: every figure of the row
   (score, level, respondent mean, median, SD, agency gap, split) and every agency mean is hidden
   (``small_group``); so are the partnership's overall score and the domain's item figures
   (``complementary``).
2. Otherwise each agency with 1 to ``min_group_size - 1`` scored respondents is hidden (``small_group``).
   If exactly one is hidden, the agency-balanced score (the mean of agency means) would reveal it, so the
   next-smallest shown agency is hidden too (``complementary``; ties broken alphabetically).
3. When any agency is hidden, the median, SD, agency gap and split flag are hidden (``complementary``):
   each can equal or pin down one agency's mean. The domain's item figures (item means and answer counts)
   are hidden too: with one item they are the respondents' score distribution.
4. The respondent mean gives a second equation ``sum(n_a * m_a)`` over the hidden agencies beside the
   agency-balanced score's ``sum(m_a)``. Hidden mean ``m_j`` is determined by the two exactly when every
   other hidden agency has the same size ``c`` and ``n_j != c``; then the respondent mean is hidden
   (``complementary``).

Suppression never changes a score: the figures are computed first, then flagged. The flags are typed
columns (``suppressed``, ``suppression_reason``, ``score_hidden``, ``hidden``); which figures each ``hidden``
code hides, and blanking them for display, is :mod:`assessment.disclosure`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NONE", "SMALL_GROUP", "COMPLEMENTARY", "REASONS", "agency_suppression"]

NONE, SMALL_GROUP, COMPLEMENTARY = 0, 1, 2
REASONS = ("", "small_group", "complementary")


def agency_suppression(n_scored: np.ndarray, alphabetical_rank: np.ndarray, min_group_size: int):
    """Flag agency means and partnership figures per (partnership-round, domain).

    Parameters
    ----------
    n_scored : numpy.ndarray
        Shape (groups, domains, agencies): scored respondents per agency.
    alphabetical_rank : numpy.ndarray
        Shape (agencies,): each agency's position in alphabetical order (breaks ties).
    min_group_size : int

    Returns
    -------
    agency_reason : numpy.ndarray
        (groups, domains, agencies) int8: NONE, SMALL_GROUP or COMPLEMENTARY.
    row_small : numpy.ndarray
        (groups, domains) bool: the whole partnership has 1 to min_group_size - 1 scored respondents.
    any_hidden : numpy.ndarray
        (groups, domains) bool: some agency mean is hidden (median, SD, agency gap, split hidden).
    mean_hidden : numpy.ndarray
        (groups, domains) bool: the respondent mean is hidden.
    """
    n_scored = np.asarray(n_scored, dtype=np.int64)
    total = n_scored.sum(axis=2)
    row_small = (total >= 1) & (total < min_group_size)
    small = (n_scored >= 1) & (n_scored < min_group_size)
    reason = np.where(small, SMALL_GROUP, NONE).astype(np.int8)

    # step 2: a lone hidden agency takes the next-smallest shown agency with it
    n_agencies = n_scored.shape[2]
    lone = (small.sum(axis=2) == 1) & ~row_small
    candidate = np.where(n_scored >= min_group_size, n_scored * n_agencies + alphabetical_rank, np.iinfo(np.int64).max)
    pick = np.argmin(candidate, axis=2)
    g, d = np.nonzero(lone)
    reason[g, d, pick[g, d]] = COMPLEMENTARY

    hidden = reason != NONE
    any_hidden = hidden.any(axis=2) | row_small

    # step 4: does (sum m_a, sum n_a m_a) over the hidden agencies determine one of them?
    big = np.iinfo(np.int64).max
    sizes_low = np.where(hidden, n_scored, big)
    sizes_high = np.where(hidden, n_scored, -1)
    low = sizes_low.min(axis=2, keepdims=True)
    high = sizes_high.max(axis=2, keepdims=True)
    n_low = (hidden & (n_scored == low)).sum(axis=2)
    n_high = (hidden & (n_scored == high)).sum(axis=2)
    n_hidden = hidden.sum(axis=2)
    two_sizes = (low[..., 0] != high[..., 0]) & (n_low + n_high == n_hidden)
    mean_hidden = (two_sizes & ((n_low == 1) | (n_high == 1))) | row_small
    return reason, row_small, any_hidden, mean_hidden
