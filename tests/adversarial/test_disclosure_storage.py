"""Issue 18 part 1 on both engines: suppression is stored as typed columns, and rounds stored before them
(a ``suppressed_figures`` text column in a JSON score frame) still read back with the same flags and the same
blanks once the typed-score-tables migration has moved them into the typed score tables (issue 17)."""

from __future__ import annotations

import json

import pandas as pd
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from assessment.disclosure import HIDDEN_FIGURES, blank_suppressed
from assessment.storage import services as s
from assessment.storage.db import alembic_config, current_revision, head_revision, upgrade
from tests.integration.conftest import ADMIN, ITEMS


def small_agency_csv(round_key: str = "kent-2026-h1") -> str:
    """Three police, three mental health trust and one ambulance respondent (a small agency)."""
    people = [("p1", "police"), ("p2", "police"), ("p3", "police"), ("m1", "mental_health_trust"),
              ("m2", "mental_health_trust"), ("m3", "mental_health_trust"), ("a1", "ambulance")]
    lines = ["partnership,round,respondent,agency,item,value"]
    for n, (who, agency) in enumerate(people):
        lines += [f"kent,{round_key},{who},{agency},{item},{(n + i) % 5 + 1}" for i, item in enumerate(ITEMS)]
    return "\n".join(lines) + "\n"


def closed_kent_round(db, mini_v1, content: str) -> str:
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway", members=["kent"], actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
        s.import_responses(session, "kent-2026-h1", content.encode(), actor=ADMIN)
        s.open_round(session, "kent-2026-h1", actor=ADMIN)
        s.close_round(session, "kent-2026-h1", actor=ADMIN)
    return "kent-2026-h1"


# The text the engine wrote before the typed columns, per frame and hidden code.
_OLD_TEXT = {
    "partnerships": {"all": "score;level;level_label;respondent_mean;median;sd;agency_gap;split",
                     "agreement": "median;sd;agency_gap;split",
                     "agreement_and_mean": "respondent_mean;median;sd;agency_gap;split"},
    "agencies": {"all": "score", "score": "score"},
    "overall": {"score": "score;level;level_label"},
}


def _to_old_format(blob: str, level: str) -> str:
    frame = json.loads(blob)
    columns = frame["columns"]
    if "hidden" not in columns:
        return blob
    at, drop = columns.index("hidden"), {columns.index("hidden"), columns.index("score_hidden")}
    counts = ";".join(["mean", *[c for c in columns if c.startswith("count_")]])
    texts = {**_OLD_TEXT.get(level, {}), **({"all": counts, "score": counts} if level == "items" else {}), "": ""}
    frame["data"] = [[v for i, v in enumerate(row) if i not in drop] + [texts[row[at]]] for row in frame["data"]]
    frame["columns"] = [c for i, c in enumerate(columns) if i not in drop] + ["suppressed_figures"]
    frame["dtypes"] = {c: t for c, t in frame["dtypes"].items() if c not in ("hidden", "score_hidden")}
    frame["dtypes"]["suppressed_figures"] = "object"
    return json.dumps(frame)


def _read_all(db, round_key):
    with db.sessions() as session:
        return {"partnerships": s.partnership_scores(session, [round_key]),
                "agencies": s.agency_scores(session, [round_key]),
                "overall": s.overall_scores(session, [round_key]),
                "items": s.item_scores(session, [round_key])}


def test_the_engine_stores_typed_flags_and_one_map_says_what_they_hide(db, mini_v1):
    round_key = closed_kent_round(db, mini_v1, small_agency_csv())
    frames = _read_all(db, round_key)
    for name, frame in frames.items():
        assert "suppressed_figures" not in frame.columns, name
        assert frame["score_hidden"].dtype == bool and set(frame["hidden"]) <= set(HIDDEN_FIGURES), name
    agencies = frames["agencies"]
    ambulance = agencies[agencies["agency"] == "ambulance"]
    assert ambulance["score_hidden"].all() and set(ambulance["suppression_reason"]) == {"small_group"}
    domains = frames["partnerships"]
    assert not domains["score_hidden"].any() and set(domains["hidden"]) == {"agreement_and_mean"}


def _before_typed_scores() -> str:
    """The revision before the migration that made the score tables typed (its number follows main's head)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    (typed,) = [r for r in scripts.walk_revisions() if r.path.endswith("_typed_score_tables.py")]
    return typed.down_revision


def _at_previous_head(db) -> None:
    previous = _before_typed_scores()
    with db.engine.connect() as connection:
        command.downgrade(alembic_config(connection), previous)
        connection.commit()
    assert current_revision(db.engine) == previous


def test_a_round_stored_before_the_typed_flags_reads_back_the_same(db, mini_v1):
    round_key = closed_kent_round(db, mini_v1, small_agency_csv())
    new = _read_all(db, round_key)
    _at_previous_head(db)  # the scores are JSON frames again, as the revision before stored them
    with db.engine.begin() as connection:
        stored = connection.execute(text("SELECT round_id, level, frame FROM score_frames")).all()
        assert {level for _, level, _ in stored} == {"respondents", "agencies", "partnerships", "overall", "items"}
        for round_id, level, blob in stored:
            connection.execute(text("UPDATE score_frames SET frame = :frame WHERE round_id = :r AND level = :level"),
                               {"frame": _to_old_format(blob, level), "r": round_id, "level": level})
        raw = connection.scalar(text("SELECT frame FROM score_frames WHERE level = 'partnerships'"))
    assert "suppressed_figures" in json.loads(raw)["columns"]  # the database really holds the old form
    upgrade(db.engine)  # the migration moves the frames into the typed tables
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM score_partnerships")) == len(new["partnerships"])
        assert connection.scalar(text("SELECT count(*) FROM score_item_counts")) == len(new["items"]) * 5
    old = _read_all(db, round_key)
    for name in new:
        columns = list(new[name].columns)
        assert list(old[name].columns) == columns, name
        pd.testing.assert_frame_equal(old[name], new[name], obj=name)
        pd.testing.assert_frame_equal(blank_suppressed(old[name]), blank_suppressed(new[name]), obj=name)
