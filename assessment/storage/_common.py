"""Shared pieces of the storage services: the audit trail, checks of keys and look-ups by public key.

The exceptions live in :mod:`assessment.storage.errors` (imported here for the modules that use them).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from assessment.storage.errors import Conflict, InvalidInput, NotFound, StateError, StorageError
from assessment.storage.models import AuditEvent, PartnershipRow, QuestionnaireVersionRow, RoundRow, utcnow
from assessment.vocabulary import AGENCIES

__all__ = [
    "Conflict",
    "InvalidInput",
    "NotFound",
    "StateError",
    "StorageError",
    "audit",
    "check_agency",
    "check_key",
    "get_partnership",
    "get_round",
    "get_version",
]

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,119}$")


def check_key(kind: str, key: str) -> str:
    """Keys are lower-case letters, digits, ``-``, ``_`` and ``.`` (they appear in links and CSV files)."""
    if isinstance(key, str) and not key.strip():
        raise InvalidInput(f"a {kind} key is required (lower-case letters, digits, '-', '_' or '.')")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidInput(f"{kind} key {key!r} must be lower-case letters, digits, '-', '_' or '.', starting "
                         "with a letter or digit (at most 120 characters)")
    return key


def check_agency(agency: str) -> str:
    if agency not in AGENCIES:
        raise InvalidInput(f"agency {agency!r} is not one of: {', '.join(AGENCIES)}")
    return agency


def audit(session: Session, actor: str, action: str, entity: str, entity_key: str, **detail: Any) -> None:
    """Record a state change (who, what, when) in the same transaction as the change itself."""
    if not actor or not isinstance(actor, str):
        raise ValueError("every change needs an actor (who made it) for the audit trail")
    session.execute(insert(AuditEvent).values(at=utcnow(), actor=actor, action=action, entity=entity,
                                              entity_key=entity_key, detail=detail))


def get_partnership(session: Session, key: str) -> PartnershipRow:
    row = session.scalar(select(PartnershipRow).where(PartnershipRow.key == key))
    if row is None:
        raise NotFound(f"no partnership '{key}' (add it with `assessment partnership add`)")
    return row


def get_round(session: Session, key: str, *, for_update: bool = False, for_share: bool = False) -> RoundRow:
    """The round by key, read afresh when locked.

    ``for_update`` locks it against other changes (a state transition); ``for_share`` lets many answer
    saves and imports proceed together but waits for a transition. On PostgreSQL these are row locks; on
    SQLite the write transaction (``BEGIN IMMEDIATE``) already holds the database's write lock, and a
    session without it is refused, because a status read there could change before the write lands.
    """
    query = select(RoundRow).where(RoundRow.key == key)
    if for_update or for_share:
        from assessment.storage.db import holds_write_lock

        if not holds_write_lock(session):
            raise RuntimeError("changing a round's answers or status needs a write transaction: open the "
                               "session with `factory.begin()` (assessment.storage.db.make_session_factory)")
        query = query.with_for_update(read=not for_update).execution_options(populate_existing=True)
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"no round '{key}' (list rounds with `assessment round list`)")
    return row


def get_version(session: Session, questionnaire: str, version: str) -> QuestionnaireVersionRow:
    row = session.scalar(select(QuestionnaireVersionRow).where(
        QuestionnaireVersionRow.questionnaire == questionnaire, QuestionnaireVersionRow.version == version))
    if row is None:
        raise NotFound(f"questionnaire {questionnaire} {version} is not published "
                       "(publish it with `assessment questionnaire publish PATH`)")
    return row
