"""resume keys: a respondent's key to come back after a refresh or in a new tab (issue 15)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resume_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["respondent_id"], ["respondents.id"],
                                name=op.f("fk_resume_keys_respondent_id_respondents"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resume_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_resume_keys_key_hash")),
    )
    with op.batch_alter_table("resume_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resume_keys_respondent_id"), ["respondent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("resume_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resume_keys_respondent_id"))
    op.drop_table("resume_keys")
