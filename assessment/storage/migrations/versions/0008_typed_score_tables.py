"""typed score tables: the JSON score frames become typed rows; BI views over them

Each ``score_frames`` row (one JSON frame per round and table) becomes typed rows in ``score_respondents``,
``score_agencies``, ``score_partnerships``, ``score_overall``, ``score_items`` and ``score_item_counts``
(and the round in ``score_rounds``); frames stored before the typed suppression columns are converted with
``assessment.disclosure.with_typed_flags`` on the way. Downgrading writes the frames back as JSON. The
column lists below are frozen here (this migration must keep reading the frames of the revision before).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 19:37:18.761583
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic import op

from assessment.disclosure import with_typed_flags
from assessment.storage import bi_views


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_group_tables()
    _create_round_tables()
    _frames_to_rows(op.get_bind())
    op.drop_table('score_frames')
    for statement in bi_views.create_statements():
        op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        for statement in bi_views.grant_statements():
            op.execute(statement)


def _create_group_tables() -> None:
    """Agencies, items, overall and partnerships: the figures over a group of respondents."""
    op.create_table('score_agencies',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=120), nullable=False),
    sa.Column('agency', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('n_respondents', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.Column('suppression_reason', sa.String(length=20), nullable=False),
    sa.Column('score_hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_score_agencies_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'domain', 'agency', name=op.f('pk_score_agencies'))
    )
    op.create_table('score_items',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=120), nullable=False),
    sa.Column('domain', sa.String(length=120), nullable=False),
    sa.Column('mean', sa.Double(), nullable=True),
    sa.Column('n_answered', sa.Integer(), nullable=False),
    sa.Column('n_na', sa.Integer(), nullable=False),
    sa.Column('n_dk', sa.Integer(), nullable=False),
    sa.Column('dk_rate', sa.Double(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.Column('suppression_reason', sa.String(length=20), nullable=False),
    sa.Column('score_hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_score_items_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'item', name=op.f('pk_score_items'))
    )
    op.create_table('score_overall',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('level_label', sa.String(length=80), nullable=True),
    sa.Column('n_domains_scored', sa.Integer(), nullable=False),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.Column('suppression_reason', sa.String(length=20), nullable=False),
    sa.Column('score_hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_score_overall_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_score_overall'))
    )
    op.create_table('score_partnerships',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=120), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('level_label', sa.String(length=80), nullable=True),
    sa.Column('respondent_mean', sa.Double(), nullable=True),
    sa.Column('median', sa.Double(), nullable=True),
    sa.Column('sd', sa.Double(), nullable=True),
    sa.Column('n_respondents', sa.Integer(), nullable=False),
    sa.Column('n_agencies', sa.Integer(), nullable=False),
    sa.Column('dk_rate', sa.Double(), nullable=True),
    sa.Column('agency_gap', sa.Double(), nullable=True),
    sa.Column('split', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.Column('suppression_reason', sa.String(length=20), nullable=False),
    sa.Column('score_hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_score_partnerships_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'domain', name=op.f('pk_score_partnerships'))
    )
    with op.batch_alter_table('score_partnerships', schema=None) as batch_op:
        batch_op.create_index('ix_score_partnerships_domain', ['domain'], unique=False)


def _create_round_tables() -> None:
    """Respondents, the scored rounds and the item counts."""
    op.create_table('score_respondents',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('respondent', sa.String(length=120), nullable=False),
    sa.Column('domain', sa.String(length=120), nullable=False),
    sa.Column('agency', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('coverage', sa.Double(), nullable=True),
    sa.Column('n_answered', sa.Integer(), nullable=False),
    sa.Column('n_na', sa.Integer(), nullable=False),
    sa.Column('n_dk', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_score_respondents_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'respondent', 'domain', name=op.f('pk_score_respondents'))
    )
    op.create_table('score_rounds',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_score_rounds_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_score_rounds'))
    )
    op.create_table('score_item_counts',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=120), nullable=False),
    sa.Column('value', sa.String(length=8), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id', 'item'], ['score_items.round_id', 'score_items.item'], name=op.f('fk_score_item_counts_round_id_score_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'item', 'value', name=op.f('pk_score_item_counts'))
    )



def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    for statement in bi_views.drop_statements():
        op.execute(statement)
    op.create_table('score_frames',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('frame', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_score_frames_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'level', name=op.f('pk_score_frames'))
    )
    _rows_to_frames(op.get_bind())
    op.drop_table('score_item_counts')
    op.drop_table('score_rounds')
    op.drop_table('score_respondents')
    with op.batch_alter_table('score_partnerships', schema=None) as batch_op:
        batch_op.drop_index('ix_score_partnerships_domain')

    op.drop_table('score_partnerships')
    op.drop_table('score_overall')
    op.drop_table('score_items')
    op.drop_table('score_agencies')
    # ### end Alembic commands ###


# -- moving the data (frozen at this revision) ------------------------------------------------------------

_FLAGS = ("suppressed", "suppression_reason", "score_hidden", "hidden")
_FLAG_DEFAULTS = {"suppressed": False, "suppression_reason": "", "score_hidden": False, "hidden": ""}
#: frame -> (table, columns stored, whether rows carry their position)
_TABLES = {
    "respondents": ("score_respondents", ("respondent", "agency", "domain", "score", "coverage", "n_answered", "n_na",
                                          "n_dk", "status"), True),
    "agencies": ("score_agencies", ("domain", "agency", "score", "n_respondents", *_FLAGS), True),
    "partnerships": ("score_partnerships", ("domain", "score", "level", "level_label", "respondent_mean", "median",
                                            "sd", "n_respondents", "n_agencies", "dk_rate", "agency_gap", "split",
                                            *_FLAGS), True),
    "overall": ("score_overall", ("score", "level", "level_label", "n_domains_scored", *_FLAGS), False),
    "items": ("score_items", ("item", "domain", "mean", "n_answered", "n_na", "n_dk", "dk_rate", *_FLAGS), True),
}
_DEFAULTS = {**_FLAG_DEFAULTS, "split": False, "n_respondents": 0, "n_agencies": 0, "n_answered": 0, "n_na": 0,
             "n_dk": 0, "n_domains_scored": 0, "status": "", "agency": "", "domain": ""}


def _plain(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def _frame_rows(round_id: int, level: str, blob: str) -> tuple[str, list[dict], list[dict]]:
    """One stored JSON frame as insert parameters for its typed table (and the item counts)."""
    table, columns, ordered = _TABLES[level]
    parsed = json.loads(blob)
    frame = with_typed_flags(pd.DataFrame(parsed["data"], columns=parsed["columns"]))
    rows = []
    for n, record in enumerate(frame.to_dict("records")):
        row = {"round_id": round_id, **({"position": n} if ordered else {})}
        for column in columns:
            value = _plain(record.get(column))
            row[column] = _DEFAULTS.get(column) if value is None and column in _DEFAULTS else value
            if column in ("suppressed", "score_hidden", "split"):
                row[column] = bool(row[column])
        rows.append(row)
    counts = []
    if level == "items":
        count_columns = [c for c in frame.columns if c.startswith("count_")]
        for record in frame.to_dict("records"):
            counts += [{"round_id": round_id, "item": record["item"], "value": c[len("count_"):], "position": p,
                        "count": int(_plain(record[c]) or 0)} for p, c in enumerate(count_columns)]
    return table, rows, counts


def _frames_to_rows(bind) -> None:
    found = bind.execute(sa.text("SELECT round_id, level, frame, computed_at FROM score_frames "
                                 "ORDER BY round_id, level")).all()
    meta = sa.MetaData()
    meta.reflect(bind, only=[*(t for t, _, _ in _TABLES.values()), "score_rounds", "score_item_counts"])
    when: dict = {}  # datetimes (PostgreSQL) or their stored text (SQLite), passed through as read
    for round_id, level, blob, computed_at in found:
        when[round_id] = max(when.get(round_id, computed_at), computed_at)
        if level not in _TABLES:
            continue
        table, rows, counts = _frame_rows(round_id, level, blob)
        if rows:
            bind.execute(meta.tables[table].insert(), rows)
        if counts:
            bind.execute(meta.tables["score_item_counts"].insert(), counts)
    if when:
        bind.execute(sa.text("INSERT INTO score_rounds (round_id, computed_at) VALUES (:round_id, :computed_at)"),
                     [{"round_id": r, "computed_at": t} for r, t in when.items()])


def _json_value(value):
    value = _plain(value)
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return value


def _rows_to_frames(bind) -> None:
    """Downgrade: every round's typed rows back into one JSON frame per table (the form of the revision before)."""
    keys = pd.read_sql(sa.text(
        "SELECT r.id AS round_id, p.key AS partnership, r.key AS round, q.questionnaire, q.version, r.period "
        "FROM rounds r JOIN partnerships p ON p.id = r.partnership_id "
        "JOIN questionnaire_versions q ON q.id = r.questionnaire_version_id"), bind).set_index("round_id")
    when = dict(bind.execute(sa.text("SELECT round_id, computed_at FROM score_rounds")).all())
    counts = pd.read_sql(sa.text("SELECT round_id, item, value, position, count FROM score_item_counts"), bind)
    out = []
    for level, (table, columns, ordered) in _TABLES.items():
        rows = pd.read_sql(sa.text(f"SELECT * FROM {table}"), bind)
        for round_id, part in rows.groupby("round_id", sort=True):
            part = part.sort_values("position") if ordered else part
            frame = part[list(columns)].reset_index(drop=True)
            if level == "items":
                mine = counts[counts["round_id"] == round_id].sort_values("position")
                wide = mine.pivot(index="item", columns="value", values="count")
                at = list(frame.columns).index("suppressed")
                for i, value in enumerate(dict.fromkeys(mine["value"])):
                    frame.insert(at + i, f"count_{value}", frame["item"].map(wide[value]).astype("int64"))
            for i, column in enumerate(("partnership", "round")):
                frame.insert(i, column, keys.at[round_id, column])
            for column in ("questionnaire", "version", "period"):
                frame[column] = keys.at[round_id, column]
            for column in ("suppressed", "score_hidden", "split"):
                if column in frame:
                    frame[column] = frame[column].astype(bool)
            if "level" in frame:
                frame["level"] = frame["level"].astype("Int64")
            data = [[_json_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]
            blob = json.dumps({"columns": [str(c) for c in frame.columns],
                               "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()}, "data": data},
                              separators=(",", ":"), allow_nan=False)
            out.append({"round_id": int(round_id), "level": level, "frame": blob, "computed_at": when[round_id]})
    if out:
        bind.execute(sa.text("INSERT INTO score_frames (round_id, level, frame, computed_at) "
                             "VALUES (:round_id, :level, :frame, :computed_at)"), out)
