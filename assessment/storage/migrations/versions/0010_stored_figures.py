"""stored figures: trend verdicts and peer figures of closed rounds as typed rows, with their fingerprint

``trend_figures`` holds each closed round's domain trend (score, interval, change, its interval and verdict),
``peer_figures`` each closed round's domain against each peer group the partnership can choose, and
``figure_states`` the fingerprint of the inputs each kind was computed from
(:mod:`assessment.storage.figures`). A database with closed rounds is backfilled with the settings'
defaults; a deployment with other settings has its figures recomputed at the app's next start (or on the
first read: readers never trust rows whose fingerprint differs from the inputs). An empty database stays
empty (a restore needs one).

The backfill runs the storage code of this revision (:func:`assessment.storage.figures.refresh`): if a
later migration changes a table it reads, freeze the reads here or drop the backfill (readers recompute).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "figure_states",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_figure_states")),
    )
    op.create_table(
        "trend_figures",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("ci_low", sa.Double(), nullable=True),
        sa.Column("ci_high", sa.Double(), nullable=True),
        sa.Column("n_respondents", sa.Integer(), nullable=False),
        sa.Column("comparable_with_previous", sa.Boolean(), nullable=True),
        sa.Column("break_reason", sa.Text(), nullable=False),
        sa.Column("change", sa.Double(), nullable=True),
        sa.Column("change_low", sa.Double(), nullable=True),
        sa.Column("change_high", sa.Double(), nullable=True),
        sa.Column("verdict", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_trend_figures_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "domain", name=op.f("pk_trend_figures")),
    )
    op.create_table(
        "peer_figures",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("peer_group", sa.String(length=160), nullable=False),
        sa.Column("domain", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("n_peers", sa.Integer(), nullable=False),
        sa.Column("median", sa.Double(), nullable=True),
        sa.Column("q1", sa.Double(), nullable=True),
        sa.Column("q3", sa.Double(), nullable=True),
        sa.Column("min", sa.Double(), nullable=True),
        sa.Column("max", sa.Double(), nullable=True),
        sa.Column("percentile_rank", sa.Double(), nullable=True),
        sa.Column("gap_to_median", sa.Double(), nullable=True),
        sa.Column("gap_to_top_quartile", sa.Double(), nullable=True),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("n_excluded", sa.Integer(), nullable=False),
        sa.Column("excluded_reasons", sa.Text(), nullable=False),
        sa.Column("peer_periods", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_peer_figures_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "peer_group", "domain", name=op.f("pk_peer_figures")),
    )
    op.create_index("ix_peer_figures_peer_group", "peer_figures", ["peer_group"], unique=False)
    _backfill()


def _backfill() -> None:
    from sqlalchemy.orm import Session

    from assessment.storage import figures

    bind = op.get_bind()
    rounds = sa.table("rounds", sa.column("status", sa.String))
    if not bind.scalar(sa.select(sa.func.count()).select_from(rounds).where(rounds.c.status == "closed")):
        return
    with Session(bind=bind) as session:
        figures.refresh(session, figures.FigureOptions(), force=True)
        session.flush()


def downgrade() -> None:
    op.drop_index("ix_peer_figures_peer_group", table_name="peer_figures")
    op.drop_table("peer_figures")
    op.drop_table("trend_figures")
    op.drop_table("figure_states")
