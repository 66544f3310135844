"""The storage layer's refusals: what the CLI, the app and scripts catch (``from assessment.storage.errors``).

Each is a ``StorageError`` (itself a ``ValueError``, so older callers keep working) whose message says what
to do instead. Anything else that escapes a storage function is a bug, not a refusal.
"""

from __future__ import annotations

__all__ = ["Conflict", "InvalidInput", "NotFound", "SchemaOutOfDate", "StateError", "StorageError"]


class StorageError(ValueError):
    """A request the stored data does not allow; the message says what to do instead."""


class NotFound(StorageError):
    """No partnership, round, questionnaire version... with that key."""


class Conflict(StorageError):
    """The request clashes with what is stored (a key in use, a different published file...)."""


class StateError(StorageError):
    """The request is not allowed in the current state (a closed round, a submitted respondent...)."""


class InvalidInput(StorageError):
    """A value given by the user is not allowed (a key's characters, an unknown agency, an empty name...)."""


class SchemaOutOfDate(StorageError):
    """The database schema is older than this software (or absent): ``assessment db upgrade`` brings it up."""
