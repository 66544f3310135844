"""Action plans reviewed against the next round: target level met or not, and the Trends page's verdict.

Pure functions over frames (no database, no clock: ``today`` is an argument). An action is agreed from the
results of a closed round, its *baseline*; it is reviewed at the close of the partnership's next round,
the first closed round whose period comes after the baseline's (rounds in period order, then by key, as
:func:`assessment.trends.domain_trends` orders them). For that round and the action's domain:

* ``review_score`` and ``review_level``: the partnership's domain score and maturity level as the
  disclosure rule lets them through (a hidden score gives no level, so ``target_met`` is unknown);
* ``target_met``: ``review_level >= target_level`` (unknown until reviewed, or when the level is hidden);
* ``verdict``: the change verdict of that round and domain in the trends frame, exactly as the Trends page
  shows it (improved, no clear change, declined, too few respondents, not comparable): the change from
  the previous closed round, which is the baseline when the action was agreed from the latest results.
  ``first round`` when the review round is the partnership's first (an action agreed before any round
  closed has no change to show); ``not comparable`` when the review round does not score the domain (the
  questionnaire version dropped it). Empty while the next round has not closed.

Why computed when read and not stored at close: every input can change after the close (an action's
target, domain or baseline is edited; an action is added after the round it is reviewed by; a round is
reopened, which withdraws its scores), and the verdict itself is the Trends page's, so reading it from the
same trends frame means the two can never disagree. Nothing has to be recomputed on reopen.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from assessment.trends import NOT_COMPARABLE, PORTFOLIO_FIRST_ROUND
from assessment.vocabulary import OPEN_ACTION_STATUSES

__all__ = ["ACTION_COUNT_COLUMNS", "EXPORT_COLUMNS", "REVIEW_COLUMNS", "action_counts", "actions_table", "overdue",
           "review_actions"]

REVIEW_COLUMNS = ("review_round", "review_period", "review_score", "review_level", "target_met", "verdict")
ACTION_COUNT_COLUMNS = ("partnership", "actions", "open", "overdue", "met")
#: The columns of the actions export (CSV, XLSX, JSON), in order; the baseline round is ``round``.
EXPORT_COLUMNS = ("action", "partnership", "domain", "item", "what", "owner", "target_level", "due", "status",
                  "overdue", "notes", "round", "period", *REVIEW_COLUMNS, "created_at", "created_by",
                  "updated_at", "updated_by")
_ACTION_NEEDS = ("action", "partnership", "round", "period", "domain", "target_level")


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s) {', '.join(missing)}")


def _review_rounds(actions: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """``action, review_round, review_period``: the first closed round after each action's baseline."""
    closed = (scores[["partnership", "round", "period"]].astype(str).drop_duplicates()
              .rename(columns={"round": "review_round", "period": "review_period"}))
    base = pd.DataFrame({"action": actions["action"], "partnership": actions["partnership"].astype(str),
                         "base_period": actions["period"].astype("string")})
    pairs = base.merge(closed, on="partnership", how="inner")
    # A partnership has one round per period, so "after the baseline's period" never picks the baseline;
    # without a baseline every closed round is after it (any period sorts after the empty text).
    later = pairs["review_period"].to_numpy(dtype=object) > pairs["base_period"].fillna("").to_numpy(dtype=object)
    pairs = pairs[later.astype(bool)]
    first = pairs.sort_values(["action", "review_period", "review_round"], kind="stable").drop_duplicates("action")
    return first[["action", "review_round", "review_period"]]


def review_actions(actions: pd.DataFrame, scores: pd.DataFrame, trends: pd.DataFrame) -> pd.DataFrame:
    """Each action with its review at the next round's close (see the module docstring for the rules).

    Parameters
    ----------
    actions : DataFrame
        One row per action: ``action`` (its number), ``partnership``, ``round`` and ``period`` (the
        baseline round and its period; missing when the action was agreed before any round closed),
        ``domain``, ``target_level``; other columns are kept.
    scores : DataFrame
        Partnership domain scores of the closed rounds, already through
        :func:`assessment.disclosure.blank_suppressed`: ``partnership, round, period, domain, score, level``.
    trends : DataFrame
        :func:`assessment.trends.domain_trends` for the same partnerships (``round, domain, verdict``), with
        the same options as the Trends page.

    Returns
    -------
    DataFrame
        ``actions`` in its order with :data:`REVIEW_COLUMNS` added: ``review_round`` and ``review_period``
        (missing until the next round closes), ``review_score`` and ``review_level`` (float, missing when
        hidden), ``target_met`` (nullable boolean) and ``verdict`` (text, empty until reviewed).

    Examples
    --------
    An action on ``governance`` agreed from round ``r1`` (period 2025) with target level 3, and round
    ``r2`` (period 2026) closed with governance at level 3 and the Trends verdict ``improved``: review
    round ``r2``, ``target_met`` True, ``verdict`` "improved".
    """
    _require(actions, _ACTION_NEEDS, "actions")
    _require(scores, ("partnership", "round", "period", "domain", "score", "level"), "scores")
    _require(trends, ("round", "domain", "verdict"), "trends")
    out = actions.drop(columns=[c for c in REVIEW_COLUMNS if c in actions.columns]).reset_index(drop=True)
    if out.empty:
        return out.assign(**{c: pd.Series(dtype=t) for c, t in _REVIEW_DTYPES.items()})
    reviewed = out[["action", "domain"]].merge(_review_rounds(out, scores), on="action", how="left")
    figures = scores[["round", "domain", "score", "level"]].astype({"round": str, "domain": str}).rename(
        columns={"round": "review_round", "score": "review_score", "level": "review_level"})
    verdicts = (trends[["round", "domain", "verdict"]].astype(str).drop_duplicates(["round", "domain"])
                .rename(columns={"round": "review_round"}))
    reviewed = (reviewed.astype({"domain": str})
                .merge(figures.drop_duplicates(["review_round", "domain"]), on=["review_round", "domain"], how="left")
                .merge(verdicts, on=["review_round", "domain"], how="left"))
    has_review = reviewed["review_round"].notna().to_numpy(dtype=bool)
    verdict = reviewed["verdict"].astype("string")
    verdict = verdict.mask(has_review & verdict.isna().to_numpy(dtype=bool), NOT_COMPARABLE)
    verdict = verdict.mask(has_review & verdict.eq("").fillna(False).to_numpy(dtype=bool), PORTFOLIO_FIRST_ROUND)
    level = pd.to_numeric(reviewed["review_level"], errors="coerce").astype(float)
    target = pd.to_numeric(out["target_level"], errors="coerce").astype(float)
    met = pd.array(np.where(level.notna(), level.to_numpy() >= target.to_numpy(), False), dtype="boolean")
    met[~level.notna().to_numpy(dtype=bool)] = pd.NA
    return out.assign(review_round=reviewed["review_round"].astype("string"),
                      review_period=reviewed["review_period"].astype("string"),
                      review_score=pd.to_numeric(reviewed["review_score"], errors="coerce").astype(float),
                      review_level=level, target_met=met, verdict=verdict.fillna("").astype(str))


_REVIEW_DTYPES = {"review_round": "string", "review_period": "string", "review_score": float,
                  "review_level": float, "target_met": "boolean", "verdict": object}


def overdue(actions: pd.DataFrame, today: dt.date) -> pd.Series:
    """Whether each action is open (planned or in progress) and its due date is before ``today``."""
    _require(actions, ("status", "due"), "actions")
    due = pd.to_datetime(actions["due"], errors="coerce")
    late = (due < pd.Timestamp(today)).fillna(False).to_numpy(dtype=bool)
    return pd.Series(actions["status"].isin(OPEN_ACTION_STATUSES).to_numpy(dtype=bool) & late,
                     index=actions.index, name="overdue")


def action_counts(actions: pd.DataFrame, today: dt.date, partnerships=None) -> pd.DataFrame:
    """Per partnership: how many actions there are, how many are open, overdue, and met at review.

    ``actions`` is :func:`review_actions` output (``partnership, status, due, target_met``);
    ``partnerships`` (optional) lists partnerships to show with zeros when they have no action. Rows in
    alphabetical order of partnership (a portfolio is never ranked). Columns :data:`ACTION_COUNT_COLUMNS`.
    """
    _require(actions, ("partnership", "status", "due", "target_met"), "actions")
    flags = pd.DataFrame({
        "partnership": actions["partnership"].astype(str),
        "actions": 1,
        "open": actions["status"].isin(OPEN_ACTION_STATUSES).astype(int),
        "overdue": overdue(actions, today).astype(int),
        "met": actions["target_met"].astype("boolean").fillna(False).astype(int),
    })
    counts = flags.groupby("partnership", sort=True)[["actions", "open", "overdue", "met"]].sum()
    if partnerships is not None:
        counts = counts.reindex(sorted({*map(str, partnerships), *counts.index}), fill_value=0)
    return counts.rename_axis("partnership").reset_index()[list(ACTION_COUNT_COLUMNS)].astype(
        {c: "int64" for c in ACTION_COUNT_COLUMNS[1:]})


def actions_table(actions: pd.DataFrame) -> pd.DataFrame:
    """The actions as exported (columns :data:`EXPORT_COLUMNS`): scores rounded to two decimals and levels
    as whole numbers for reading (never more precise than the data), dates as dates, the text as written.

    Write it only through :mod:`assessment.tabular` (formula-safe): ``what``, ``owner`` and ``notes`` are
    the lead's own words and may start with ``=``.
    """
    _require(actions, EXPORT_COLUMNS, "actions")
    out = actions[list(EXPORT_COLUMNS)].reset_index(drop=True).copy()
    out["review_score"] = pd.to_numeric(out["review_score"], errors="coerce").round(2)
    out["review_level"] = pd.to_numeric(out["review_level"], errors="coerce").astype("Int64")
    out["item"] = out["item"].astype(object).where(out["item"].notna(), "")
    return out
