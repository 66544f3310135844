"""actions: a partnership's action plan (issue 14)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 19:50:00

One row per agreed action: partnership, baseline round, domain, optional item, what, owner, target
maturity level (1-5, checked), due date, status (planned, in progress, done, dropped; checked), notes,
who created and last changed it and when.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("domain", sa.String(length=120), nullable=False),
        sa.Column("item", sa.String(length=120), nullable=True),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("target_level", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.CheckConstraint("status IN ('planned', 'in progress', 'done', 'dropped')", name=op.f("ck_actions_status")),
        sa.CheckConstraint("target_level BETWEEN 1 AND 5", name=op.f("ck_actions_target_level")),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnerships.id"],
                                name=op.f("fk_actions_partnership_id_partnerships"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_actions_round_id_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actions_partnership_id"), ["partnership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_actions_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_round_id"))
        batch_op.drop_index(batch_op.f("ix_actions_partnership_id"))
    op.drop_table("actions")
