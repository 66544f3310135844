"""invitation failures: failed invite-link guesses, counted to throttle guessing (issue 11, defect 8)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitation_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("browser", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_failures")),
    )
    with op.batch_alter_table("invitation_failures", schema=None) as batch_op:
        batch_op.create_index("ix_invitation_failures_address_at", ["address", "at"], unique=False)
        batch_op.create_index("ix_invitation_failures_browser_at", ["browser", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitation_failures_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitation_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_failures_at"))
        batch_op.drop_index("ix_invitation_failures_browser_at")
        batch_op.drop_index("ix_invitation_failures_address_at")
    op.drop_table("invitation_failures")
