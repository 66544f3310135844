"""Small storage functions the app and the demo command need beyond the core services.

``clear_database`` drops every table (the demo's ``--reset``); ``holds_real_data`` tells whether anyone
other than the demo loader and the first-start step has changed the database (so a reset never wipes real
work by accident); ``has_changes_by`` whether an actor (e.g. the demo loader) changed it at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, exists, select, text
from sqlalchemy.orm import Session

from assessment.storage.bi_views import drop_statements
from assessment.storage.models import AuditEvent, Base

__all__ = ["clear_database", "has_changes_by", "holds_real_data"]


def clear_database(engine: Engine) -> None:
    """Drop the BI views, every table of the schema and Alembic's version table (run ``upgrade`` to start
    again)."""
    with engine.begin() as connection:
        for statement in drop_statements():
            connection.execute(text(statement))
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def holds_real_data(session: Session, loaders: Iterable[str]) -> bool:
    """Whether an actor other than ``loaders`` (e.g. the demo loader, first start) changed the database."""
    return bool(session.scalar(select(exists().where(AuditEvent.actor.not_in(list(loaders))))))


def has_changes_by(session: Session, actor: str) -> bool:
    """Whether ``actor`` appears in the audit trail (made any change)."""
    return bool(session.scalar(select(exists().where(AuditEvent.actor == actor))))
