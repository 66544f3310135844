"""Retention: remove respondent-level answers and comments of closed rounds past the retention period.

The round's stored scores (every level the scoring engine wrote when it closed, including respondent domain
scores without their answers) stay, so results, peers and trends still work; the round is marked purged and
can no longer be reopened (its scores could not be computed again). Each purged round is recorded in the audit
trail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assessment.storage._common import audit
from assessment.storage.models import AnswerRow, RespondentRow, RoundRow, utcnow

__all__ = ["PurgeReport", "purge_answers"]


@dataclass(frozen=True)
class PurgeReport:
    cutoff: dt.datetime
    rounds: tuple[str, ...]  # purged (or, on a dry run, to be purged)
    answers: int
    dry_run: bool


def purge_answers(session: Session, *, older_than_days: int, actor: str, dry_run: bool = False,
                  now: dt.datetime | None = None) -> PurgeReport:
    """Delete the answers (values and comments) of rounds closed more than ``older_than_days`` days ago."""
    if not isinstance(older_than_days, int) or older_than_days < 1:
        raise ValueError(f"the retention period must be a whole number of days, at least 1 (got {older_than_days!r})")
    cutoff = (now or utcnow()) - dt.timedelta(days=older_than_days)
    rounds = session.execute(
        select(RoundRow.id, RoundRow.key).where(RoundRow.status == "closed", RoundRow.closed_at < cutoff)
        .order_by(RoundRow.key)).all()
    total = 0
    purged: list[str] = []
    for round_id, key in rounds:
        respondents = select(RespondentRow.id).where(RespondentRow.round_id == round_id)
        count = session.scalar(select(func.count()).select_from(AnswerRow)
                               .where(AnswerRow.respondent_id.in_(respondents))) or 0
        already = session.scalar(select(RoundRow.purged_at).where(RoundRow.id == round_id))
        if count == 0 and already is not None:
            continue
        purged.append(key)
        total += count
        if dry_run:
            continue
        session.execute(delete(AnswerRow).where(AnswerRow.respondent_id.in_(respondents)))
        session.get(RoundRow, round_id).purged_at = utcnow()
        audit(session, actor, "purge", "round", key, answers=count, older_than_days=older_than_days)
    return PurgeReport(cutoff, tuple(purged), total, dry_run)
