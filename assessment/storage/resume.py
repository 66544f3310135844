"""Resume keys: how a respondent comes back after a refresh or in a new tab without the invite link.

The app removes the invite token from the address bar as soon as it has read it; once the respondent has
started, it puts a resume key there instead (``?resume=<key>``). A key is ``secrets.token_urlsafe(32)``
(256 bits, not guessable); the database keeps only its SHA-256, like invite tokens. One key per
respondent: issuing a new one (the invite link opened again) withdraws the old one.

A key opens only its own respondent, and only while all of these hold: the respondent has not submitted
(submitting deletes the key), the round is open, the invite link it came from is neither withdrawn nor
expired, and the key was used or an answer saved within :data:`RESUME_IDLE` (7 days). Every refusal looks
the same to the visitor (the invite link's message). Looking keys up is throttled with the invite links'
counter (:func:`assessment.storage.invitations.guarded_guess`): a wrong key costs the browser and address
one guess from the same budget as a wrong invite token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from assessment.storage._common import StateError
from assessment.storage.answers import RespondentContext, _context, _respondent
from assessment.storage.invitations import GuessLimits, guarded_guess
from assessment.storage.models import AnswerRow, InvitationRow, RespondentRow, ResumeKeyRow, RoundRow, utcnow

__all__ = ["RESUME_IDLE", "RESUME_PARAMETER", "check_resume_key", "issue_resume_key"]

#: A resume key stops working after this long without being used and without an answer saved.
RESUME_IDLE = dt.timedelta(days=7)
RESUME_PARAMETER = "resume"
_NO_KEY = hashlib.sha256(b"").hexdigest()  # what a malformed key is looked up as: matches no key


def _digest(key: object) -> str:
    return (hashlib.sha256(key.encode("utf-8")).hexdigest() if isinstance(key, str) and 20 <= len(key) <= 100
            else _NO_KEY)


def issue_resume_key(session: Session, round_key: str, respondent_key: str) -> str:
    """A new resume key for a respondent who has started and not submitted (the plain key is returned once,
    never stored); the respondent's previous key, if any, stops working."""
    _round, respondent = _respondent(session, round_key, respondent_key)
    if respondent.submitted_at is not None:
        raise StateError("these answers were already submitted: there is nothing to resume")
    key = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(ResumeKeyRow).where(ResumeKeyRow.respondent_id == respondent.id))
    session.add(ResumeKeyRow(key_hash=_digest(key), respondent_id=respondent.id, created_at=now, last_used_at=now))
    session.flush()
    return key


def _find(session: Session, digest: str):
    last_answer = (select(func.max(AnswerRow.updated_at)).where(AnswerRow.respondent_id == RespondentRow.id)
                   .scalar_subquery())
    return session.execute(
        select(ResumeKeyRow.id, ResumeKeyRow.key_hash, ResumeKeyRow.last_used_at, RespondentRow.id.label("respondent"),
               RespondentRow.submitted_at, RoundRow.status, InvitationRow.revoked, InvitationRow.expires_at,
               last_answer.label("last_answer"))
        .join(RespondentRow, RespondentRow.id == ResumeKeyRow.respondent_id)
        .join(RoundRow, RoundRow.id == RespondentRow.round_id)
        .outerjoin(InvitationRow, InvitationRow.id == RespondentRow.invitation_id)
        .where(ResumeKeyRow.key_hash == digest)).one_or_none()


def _admitted(found, digest: str, now: dt.datetime) -> bool:
    if found is None or not hmac.compare_digest(found.key_hash, digest):
        return False
    active = max(found.last_used_at, found.last_answer or found.last_used_at)
    link_ok = found.revoked is None or (not found.revoked and found.expires_at > now)
    return (found.submitted_at is None and found.status == "open" and link_ok
            and active > now - RESUME_IDLE)


def check_resume_key(session: Session, key: str, *, browser: str, address: str | None,
                     limits: GuessLimits | None = None) -> RespondentContext | None:
    """The respondent a resume key opens (``resumed=True``), or ``None`` for any refusal (recorded as a failed
    guess in the caller's write transaction, which must commit). Raises
    :class:`~assessment.storage.invitations.TooManyGuesses` before looking once the browser or address has
    used up its guesses. A refused key that exists (submitted, idle, link withdrawn) is deleted."""
    digest = _digest(key)
    now = utcnow()
    with guarded_guess(session, browser=browser, address=address, limits=limits or GuessLimits()) as guess:
        found = _find(session, digest)
        guess.failed = not _admitted(found, digest, now)
    if guess.failed:
        if found is not None:
            session.execute(delete(ResumeKeyRow).where(ResumeKeyRow.id == found.id))
        return None
    session.execute(update(ResumeKeyRow).where(ResumeKeyRow.id == found.id).values(last_used_at=now))
    respondent = session.get(RespondentRow, found.respondent)
    return _context(session, respondent, True)
