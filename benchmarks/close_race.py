"""``python -m benchmarks.close_race``: the 1M-row reproduction of issue 11, defect 1 (close vs import).

An import of a large responses file (17,242 respondents x the 58 items of the shipped questionnaire =
1,000,036 rows by default) starts into an open round; ``--delay`` seconds later another thread closes the
round. Before the fix the round ended closed with every imported respondent submitted and none of them in
the stored scores. Now the close either waits for the import and scores all of it, or (if it takes the lock
first) the import is refused with "this round has closed" and writes nothing. The script prints, per
engine, what happened and how many submitted respondents are missing from the stored scores, and exits 1
if any are.

This is a reproduction, not a test: it takes minutes, so the test suite forces the same interleaving with
a checkpoint on a 20,000-row file instead (tests/adversarial/test_close_races.py).

    python -m benchmarks.close_race                          # both engines, 1,000,036 rows, close after 1 s
    python -m benchmarks.close_race --engines sqlite --respondents 2000 --delay 0.2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

ACTOR = "close-race"
ROUND = "kent-2026-h1"
AGENCIES = ("police", "mental_health_trust", "ambulance", "local_authority")


def responses_file(questionnaire, respondents: int) -> bytes:
    """Every respondent answers every item (values cycle 1..5), in the import format."""
    items = [item.id for item in questionnaire.items]
    lines = ["partnership,round,respondent,agency,item,value"]
    for n in range(respondents):
        agency = AGENCIES[n % len(AGENCIES)]
        lines.extend(f"kent,{ROUND},r{n:06d},{agency},{item},{(n + i) % 5 + 1}" for i, item in enumerate(items))
    return ("\n".join(lines) + "\n").encode()


def race(url: str, questionnaire, data: bytes, delay: float) -> dict:
    from assessment.storage import services as s
    from assessment.storage.db import make_engine, make_session_factory, upgrade
    from assessment.storage.models import RespondentRow, RoundRow

    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        s.publish_questionnaire(session, questionnaire, actor=ACTOR)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ACTOR)
        s.create_round(session, "kent", "2026-H1", questionnaire=questionnaire.id, version=questionnaire.version,
                       actor=ACTOR)
        s.open_round(session, ROUND, actor=ACTOR)
    outcome: dict = {}

    def importing() -> None:
        started = time.perf_counter()
        try:
            with sessions.begin() as session:
                report = s.import_responses(session, ROUND, data, actor=ACTOR)
            outcome["import"] = f"imported {report.respondents:,} respondents"
        except s.StorageError as exc:
            outcome["import"] = f"refused: {exc}"
        outcome["import_seconds"] = round(time.perf_counter() - started, 1)

    def closing() -> None:
        started = time.perf_counter()
        try:
            with sessions.begin() as session:
                s.close_round(session, ROUND, actor=ACTOR)
            outcome["close"] = "closed"
        except s.StorageError as exc:
            outcome["close"] = f"refused: {exc}"
        outcome["close_seconds"] = round(time.perf_counter() - started, 1)

    importer = threading.Thread(target=importing)
    importer.start()
    time.sleep(delay)  # the reproduction's "1 s later": a real timing, as a board would close the round
    closer = threading.Thread(target=closing)
    closer.start()
    importer.join()
    closer.join()
    with sessions() as session:
        round_id = session.scalar(select(RoundRow.id).where(RoundRow.key == ROUND))
        submitted = set(session.scalars(select(RespondentRow.key).where(
            RespondentRow.round_id == round_id, RespondentRow.submitted_at.is_not(None))))
        status = session.scalar(select(RoundRow.status).where(RoundRow.id == round_id))
        scores = s.respondent_scores(session, [ROUND])
        respondents = session.scalar(select(func.count()).select_from(RespondentRow)
                                     .where(RespondentRow.round_id == round_id))
    scored = set(scores["respondent"].astype(str)) if not scores.empty else set()
    engine.dispose()
    return outcome | {"status": status, "respondents": respondents, "submitted": len(submitted), "scored": len(scored),
                      "missing": len(submitted - scored)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.close_race", description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=17_242, help="respondents in the file (x 58 items)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between the import's start and the close")
    parser.add_argument("--engines", default="sqlite,postgres", help="sqlite, postgres or both (comma-separated)")
    args = parser.parse_args(argv)

    from assessment.questionnaire import load_questionnaire
    from assessment.settings import default_questionnaires_dir
    from benchmarks.storage_bench import postgres_database, sqlalchemy_url

    questionnaire = load_questionnaire(default_questionnaires_dir() / "police-mental-health" / "1.0.0.yaml")
    data = responses_file(questionnaire, args.respondents)
    rows = data.count(b"\n") - 1
    print(f"responses file: {args.respondents:,} respondents, {rows:,} rows, "
          f"{len(data) / 1e6:.1f} MB; close after {args.delay} s")
    missing = 0
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                result = race(f"sqlite:///{Path(folder) / 'race.db'}", questionnaire, data, args.delay)
        elif engine == "postgres":
            import os

            admin = os.environ.get("BENCHMARK_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
            try:
                with postgres_database(admin) as url:
                    result = race(sqlalchemy_url(url), questionnaire, data, args.delay)
            except Exception as exc:  # no server: say so and go on
                if "connect" not in str(exc).lower():
                    raise
                print(f"postgres: skipped ({exc})")
                continue
        else:
            parser.error(f"unknown engine {engine!r} (sqlite or postgres)")
        missing += result["missing"]
        print(f"{engine}: {result}")
    print("OK: every submitted respondent is in the stored scores" if missing == 0
          else f"LOST: {missing:,} submitted respondents missing from the stored scores")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
