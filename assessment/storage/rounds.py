"""Rounds: draft -> open -> closed (reopen audited).

Closing a round stores its scores (:mod:`assessment.storage.scores`); reopening withdraws them (a reopened
round has no official scores) and closing it again recomputes them. Both keep the stored trend and peer
figures current in the same transaction (:mod:`assessment.storage.figures`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from assessment.periods import PeriodError, in_window, parse_period, period_bounds, period_label, window_text
from assessment.storage import checkpoints, figures
from assessment.storage._common import (
    Conflict,
    StateError,
    audit,
    check_key,
    get_partnership,
    get_round,
    get_version,
)
from assessment.storage.catalogue import latest_published_version, questionnaire_of_version_id
from assessment.storage.errors import InvalidInput
from assessment.storage.models import (
    ROUND_STATUSES,
    AuditEvent,
    PartnershipRow,
    QuestionnaireVersionRow,
    RespondentRow,
    RoundRow,
    utcnow,
)
from assessment.storage.scores import store_scores, withdraw_scores

__all__ = [
    "ROUND_STATUSES",
    "ClosePreview",
    "RoundInfo",
    "close_preview",
    "close_round",
    "create_round",
    "data_version",
    "list_rounds",
    "open_round",
    "period_warning",
    "reopen_round",
    "round_info",
    "round_questionnaire",
]



@dataclass(frozen=True)
class RoundInfo:
    key: str
    partnership: str
    questionnaire: str
    version: str
    period: str
    status: str
    opens_on: dt.date | None
    closes_on: dt.date | None


def _info(session: Session, row: RoundRow) -> RoundInfo:
    partnership = session.scalar(select(PartnershipRow.key).where(PartnershipRow.id == row.partnership_id))
    qv = session.get(QuestionnaireVersionRow, row.questionnaire_version_id)
    return RoundInfo(row.key, partnership or "", qv.questionnaire, qv.version, row.period, row.status,
                     row.opens_on, row.closes_on)


def round_info(session: Session, key: str) -> RoundInfo:
    """The round's partnership, questionnaire version, period, status and dates."""
    return _info(session, get_round(session, key))


def round_questionnaire(session: Session, key: str):
    """The published questionnaire version the round uses (a frozen ``Questionnaire``)."""
    return questionnaire_of_version_id(session, get_round(session, key).questionnaire_version_id)


def create_round(session: Session, partnership: str, period: str, *, questionnaire: str,
                 version: str | None = None, actor: str, key: str | None = None, opens_on: dt.date | None = None,
                 closes_on: dt.date | None = None) -> RoundInfo:
    """Create a draft round of a partnership on a published questionnaire version in a period (``2026-H1``).

    The period follows the grammar of :mod:`assessment.periods` (``2026``, ``2026-H1``, ``2026-Q1``,
    ``2025-26``) and is stored in its canonical form; anything else is refused naming the value.

    The round's key defaults to ``<partnership>-<period>`` in lower case (``kent-2026-h1``); the version to
    the highest published version of the questionnaire.
    """
    try:
        period = period_label(period)
    except PeriodError as exc:
        raise InvalidInput(f"a round needs a period: {exc}") from None
    if opens_on and closes_on and closes_on < opens_on:
        raise InvalidInput(f"the round closes ({closes_on}) before it opens ({opens_on})")
    prow = get_partnership(session, partnership)
    version = version or latest_published_version(session, questionnaire)
    qv = get_version(session, questionnaire, version)
    key = check_key("round", key or f"{partnership}-{period}".lower())
    if session.scalar(select(RoundRow.id).where(RoundRow.key == key)) is not None:
        raise Conflict(f"round '{key}' already exists")
    if session.scalar(select(RoundRow.key).where(RoundRow.partnership_id == prow.id, RoundRow.period == period)):
        raise Conflict(f"partnership '{partnership}' already has a round in period {period}")
    row = RoundRow(key=key, partnership_id=prow.id, questionnaire_version_id=qv.id, period=period,
                   opens_on=opens_on, closes_on=closes_on, status="draft")
    session.add(row)
    session.flush()
    audit(session, actor, "create", "round", key, partnership=partnership, questionnaire=questionnaire,
          version=version, period=period, opens_on=opens_on and opens_on.isoformat(),
          closes_on=closes_on and closes_on.isoformat())
    return _info(session, row)


def period_warning(session: Session, partnership: str, period: str, *, window_months: int = 12) -> str | None:
    """A warning when no other partnership has a round with this period label (None otherwise).

    The round can still be created: its peers then come from other periods in the peer window
    (:func:`assessment.peers.peer_window`); the warning says how many partnerships have a round there.
    """
    own = parse_period(period)
    rows = session.execute(select(PartnershipRow.key, RoundRow.period).join(
        PartnershipRow, RoundRow.partnership_id == PartnershipRow.id).where(PartnershipRow.key != partnership)).all()
    others = pd.DataFrame(rows, columns=["partnership", "period"])
    bounds = period_bounds(others["period"])
    if (bounds["label"] == own.label).any():
        return None
    near = others.loc[in_window(bounds["end_month"].to_numpy(), own.end_month, window_months), "partnership"]
    return (f"No other partnership has a round in {own.label}. Its peers will be each other partnership's most "
            f"recent closed round in {window_text(own.label, window_months)}: {near.nunique()} partnership(s) "
            "have a round there. To compare like with like, use the period label the others use.")


def _transition(session: Session, key: str, actor: str, allowed_from: str, to: str, action: str,
                **detail) -> RoundRow:
    row = get_round(session, key, for_update=True)
    if row.status != allowed_from:
        raise StateError(f"round '{key}' is {row.status}: only a {allowed_from} round can be {action}")
    row.status = to
    row.updated_at = utcnow()
    row.closed_at = row.updated_at if to == "closed" else None
    session.flush()
    audit(session, actor, action, "round", key, status_from=allowed_from, status_to=to, **detail)
    return row


def open_round(session: Session, key: str, *, actor: str) -> RoundInfo:
    """draft -> open: invitations can be used and answers saved."""
    return _info(session, _transition(session, key, actor, "draft", "open", "opened"))


def close_round(session: Session, key: str, *, actor: str, min_coverage: float = 0.5,
                split_threshold: float = 1.0, min_group_size: int = 3,
                figure_options: figures.FigureOptions | None = None) -> RoundInfo:
    """open -> closed: answers are frozen and the round's scores are computed and stored (official).

    The stored trend and peer figures are brought up to date in the same transaction
    (:func:`assessment.storage.figures.round_changed`, with ``figure_options``: the deployment's settings;
    default, those the stored figures were computed with).

    The round is locked first (``FOR UPDATE`` on PostgreSQL, the write transaction on SQLite), so the close
    waits for every save, submission and import in flight and the scores include them; anything that
    comes after sees the round closed and is refused.
    """
    before = figures.begin_change(session)
    row = _transition(session, key, actor, "open", "closed", "closed", min_coverage=min_coverage,
                      split_threshold=split_threshold, min_group_size=min_group_size)
    store_scores(session, row, min_coverage=min_coverage, split_threshold=split_threshold,
                 min_group_size=min_group_size)
    info = _info(session, row)
    figures.round_changed(session, key, before=before, options=figure_options)
    checkpoints.reached("round.closing", session, round=key)
    return info


@dataclass(frozen=True)
class ClosePreview:
    """What closing a round now would give: the responses per agency (``response_counts`` columns), how many
    respondents started but have not submitted (their answers will not count), and the agencies whose figures
    will be hidden (``agency, domains``: the domains where the scoring's small-group rule hides them)."""

    counts: pd.DataFrame
    unsubmitted: int
    suppressed: pd.DataFrame


def close_preview(session: Session, key: str, *, min_coverage: float = 0.5, split_threshold: float = 1.0,
                  min_group_size: int = 3) -> ClosePreview:
    """Score the round's submitted answers as a close would (nothing is stored) and say what will be hidden."""
    from assessment.scoring import score_responses
    from assessment.storage.answers import response_counts, round_answers

    row = get_round(session, key)
    counts = response_counts(session, key)
    unsubmitted = int((counts["started"] - counts["submitted"]).clip(lower=0).sum())
    suppressed = pd.DataFrame({"agency": pd.Series(dtype=str), "domains": pd.Series(dtype="int64")})
    answers = round_answers(session, key)
    if not answers.empty:
        questionnaire = questionnaire_of_version_id(session, row.questionnaire_version_id)
        agencies = score_responses(questionnaire, answers.drop(columns=["comment"]), min_coverage=min_coverage,
                                   split_threshold=split_threshold, min_group_size=min_group_size,
                                   frames=["agencies"]).agencies
        hidden = agencies[agencies["suppressed"].astype(bool)]
        suppressed = (hidden.groupby("agency")["domain"].nunique().rename("domains").reset_index()
                      .astype({"agency": str, "domains": "int64"}))
    return ClosePreview(counts, unsubmitted, suppressed)


def reopen_round(session: Session, key: str, *, actor: str, reason: str,
                 figure_options: figures.FigureOptions | None = None) -> RoundInfo:
    """closed -> open, for an administrator, with a reason (audited); the stored scores are withdrawn
    until the round closes again, and the stored figures updated as for :func:`close_round`."""
    if not reason or not reason.strip():
        raise InvalidInput("reopening a closed round needs a reason (it is recorded in the audit trail)")
    if get_round(session, key).purged_at is not None:
        raise StateError(f"round '{key}' cannot be reopened: its respondent-level answers were purged after the "
                         "retention period, so its scores could not be computed again")
    before = figures.begin_change(session)
    row = _transition(session, key, actor, "closed", "open", "reopened", reason=reason.strip())
    withdraw_scores(session, row)
    info = _info(session, row)
    figures.round_changed(session, key, before=before, options=figure_options)
    return info


def list_rounds(session: Session, partnership: str | None = None) -> pd.DataFrame:
    """Columns: round, partnership, questionnaire, version, period, status, opens_on, closes_on,
    respondents, submitted, closed_at, updated_at; ordered by partnership and period."""
    counts = (select(RespondentRow.round_id, func.count().label("respondents"),
                     func.sum(case((RespondentRow.submitted_at.is_not(None), 1), else_=0)).label("submitted"))
              .group_by(RespondentRow.round_id).subquery())
    query = (select(RoundRow.key, PartnershipRow.key, QuestionnaireVersionRow.questionnaire,
                    QuestionnaireVersionRow.version, RoundRow.period, RoundRow.status, RoundRow.opens_on,
                    RoundRow.closes_on, func.coalesce(counts.c.respondents, 0),
                    func.coalesce(counts.c.submitted, 0), RoundRow.closed_at, RoundRow.updated_at)
             .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
             .join(QuestionnaireVersionRow, QuestionnaireVersionRow.id == RoundRow.questionnaire_version_id)
             .outerjoin(counts, counts.c.round_id == RoundRow.id)
             .order_by(PartnershipRow.key, RoundRow.period))
    if partnership is not None:
        query = query.where(PartnershipRow.key == partnership)
    columns = ["round", "partnership", "questionnaire", "version", "period", "status", "opens_on", "closes_on",
               "respondents", "submitted", "closed_at", "updated_at"]
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    frame["respondents"] = frame["respondents"].astype("int64")
    frame["submitted"] = frame["submitted"].astype("int64")
    return frame


def data_version(session: Session) -> str:
    """A short text that changes whenever stored data changes (a cache key for cached reads)."""
    audit_id = session.scalar(select(func.max(AuditEvent.id))) or 0
    respondents = session.execute(select(func.count(), func.max(RespondentRow.id),
                                         func.count(RespondentRow.submitted_at))).one()
    return f"{audit_id}.{respondents[0]}.{respondents[1] or 0}.{respondents[2]}"
