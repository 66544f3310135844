"""Issue 17: BI tools read SQL views that blank suppressed figures, through a role that cannot read the base
tables (docs/storage.md, "Reading scores from a BI tool")."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from assessment.disclosure import blank_suppressed
from assessment.storage import services as s
from assessment.storage.bi_views import BI_ROLE, BI_VIEWS
from tests.adversarial.test_disclosure_storage import closed_kent_round, small_agency_csv


def _view(db, name: str) -> pd.DataFrame:
    with db.engine.connect() as connection:
        return pd.read_sql(text(f"SELECT * FROM {name}"), connection)


def test_the_views_blank_exactly_what_blank_suppressed_blanks(db, mini_v1):
    round_key = closed_kent_round(db, mini_v1, small_agency_csv())
    with db.sessions() as session:
        frames = {"bi_partnership_scores": s.partnership_scores(session, [round_key]),
                  "bi_agency_scores": s.agency_scores(session, [round_key]),
                  "bi_overall_scores": s.overall_scores(session, [round_key]),
                  "bi_item_scores": s.item_scores(session, [round_key])}
    for view, frame in frames.items():
        shown = blank_suppressed(frame)
        got = _view(db, view)
        keys = [c for c in ("domain", "agency", "item") if c in got.columns]
        got = got.sort_values(keys).reset_index(drop=True) if keys else got
        shown = shown.sort_values(keys).reset_index(drop=True) if keys else shown
        assert len(got) == len(shown) and set(got["round"]) == {round_key}, view
        for column in BI_VIEWS[view][1]:
            assert got[column].isna().tolist() == shown[column].isna().tolist(), (view, column)
    agencies = _view(db, "bi_agency_scores")
    assert agencies.loc[agencies["agency"] == "ambulance", "score"].isna().all()  # one respondent: blank
    assert agencies.loc[agencies["agency"] == "police", "score"].notna().all()
    counts = _view(db, "bi_item_counts")
    hidden_items = set(frames["bi_item_scores"].loc[frames["bi_item_scores"]["score_hidden"], "item"])
    assert counts.loc[counts["item"].isin(hidden_items), "count"].isna().all()
    assert counts.loc[~counts["item"].isin(hidden_items), "count"].notna().all()


def test_a_reopened_round_leaves_the_views(db, mini_v1):
    round_key = closed_kent_round(db, mini_v1, small_agency_csv())
    with db.sessions.begin() as session:
        s.reopen_round(session, round_key, actor="board.secretary@example.org", reason="late returns")
    assert _view(db, "bi_partnership_scores").empty


@pytest.mark.postgres
def test_the_bi_role_reads_the_views_and_is_refused_the_base_tables(db, mini_v1):
    if db.kind != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    closed_kent_round(db, mini_v1, small_agency_csv())
    for view in BI_VIEWS:
        with db.engine.connect() as connection:
            connection.execute(text(f"SET ROLE {BI_ROLE}"))
            assert connection.execute(text(f"SELECT count(*) FROM {view}")).scalar() > 0, view
            connection.rollback()
    for table in ("score_partnerships", "score_agencies", "score_items", "score_item_counts", "score_overall",
                  "score_respondents", "answers", "respondents", "rounds", "partnerships", "audit_events"):
        with db.engine.connect() as connection:
            connection.execute(text(f"SET ROLE {BI_ROLE}"))
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text(f"SELECT * FROM {table}"))
            connection.rollback()
