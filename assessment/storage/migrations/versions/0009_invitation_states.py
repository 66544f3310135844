"""invitation states: when a link was withdrawn and which link replaced it; periods in their canonical form

Invite links get ``withdrawn_at`` and ``replaced_by_id`` (a lost link re-issued by the lead: the old token is
revoked and points at its replacement). Stored round periods that follow the period grammar in another case
(``2026-h1``) are written in its canonical form (``2026-H1``), unless the partnership already has a round
under that form; periods outside the grammar are left as they are (they are compared by their exact label).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("replaced_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_invitations_replaced_by_id_invitations"), "invitations",
                                    ["replaced_by_id"], ["id"])
    _canonical_periods()


def _canonical_periods() -> None:
    from assessment.periods import PeriodError, period_label

    bind = op.get_bind()
    rounds = sa.table("rounds", sa.column("id", sa.Integer), sa.column("partnership_id", sa.Integer),
                      sa.column("period", sa.String))
    rows = bind.execute(sa.select(rounds.c.id, rounds.c.partnership_id, rounds.c.period)).all()
    taken = {(r.partnership_id, r.period) for r in rows}
    for row in rows:
        try:
            label = period_label(row.period)
        except PeriodError:
            continue
        if label != row.period and (row.partnership_id, label) not in taken:
            bind.execute(sa.update(rounds).where(rounds.c.id == row.id).values(period=label))
            taken.add((row.partnership_id, label))


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invitations_replaced_by_id_invitations"), type_="foreignkey")
        batch_op.drop_column("replaced_by_id")
        batch_op.drop_column("withdrawn_at")
