"""Storage: engine/session factory, models, repository functions and Alembic migrations.

The service functions are in :mod:`assessment.storage.services`; the refusals they raise are public here
(and in :mod:`assessment.storage.errors`): ``StorageError`` and its kinds.
"""

from assessment.storage.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    SchemaOutOfDate,
    StateError,
    StorageError,
)

__all__ = ["Conflict", "InvalidInput", "NotFound", "SchemaOutOfDate", "StateError", "StorageError"]
