"""Storage: engine/session factory, models, repository functions and Alembic migrations."""
