"""round status check: a round's status is one of draft, open, closed (issue 18, part 4)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:00:00

On SQLite the constraint needs the ``rounds`` table rebuilt (batch mode); env.py turns foreign-key
enforcement off while migrating, so the rebuild neither cascades into nor refuses the tables that refer to
rounds (respondents, invitations, stored scores).
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_rounds_status"), "status IN ('draft', 'open', 'closed')")


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_rounds_status"), type_="check")
