"""How long the action plan reads take on the 40-partnership synthetic demo (SQLite in a temporary folder).

Run: ``python -m benchmarks.action_plans`` (about a minute, most of it seeding the demo). A standalone
measurement, not a section of ``python -m benchmarks``: the review of each action reuses the trends of the
Trends page, so what it costs on a page is the "trends given" line; "trends computed" is what the CLI and the
board pack pay when nothing is cached. Best of three runs (one for the 40-partnership counts).
"""

from __future__ import annotations

import tempfile
import time

from assessment import service
from assessment.demo import seed_demo, shipped_questionnaires
from assessment.permissions import Principal
from assessment.settings import load_settings
from assessment.storage import services as storage
from assessment.storage.db import make_engine, make_session_factory, upgrade

OPTIONS = {"resamples": 2000, "seed": 20260101, "min_respondents": 5, "min_group_size": 3}


def _best(call, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/demo.db")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_demo(session, shipped_questionnaires(load_settings())[0], partnerships=40)
    admin = Principal.administrator("benchmark")
    with factory() as session:
        keys = sorted(storage.list_partnerships(session)["partnership"])
        one = service.partnership_trends(session, admin, keys[0], **OPTIONS)
        every = service.portfolio_trends(session, admin, **OPTIONS)
        rows = {
            "list_actions, one partnership, the Trends page's trends given":
                _best(lambda: storage.list_actions(session, keys[0], trends=one)),
            "list_actions, one partnership, trends computed":
                _best(lambda: storage.list_actions(session, keys[0], **OPTIONS)),
            "list_actions, review_rounds=False (Results' open-action counts)":
                _best(lambda: storage.list_actions(session, keys[0], review_rounds=False)),
            "action_counts, 40 partnerships, the Portfolio's trends given":
                _best(lambda: storage.action_counts(session, keys, trends=every), runs=1),
            "action_counts, 40 partnerships, trends computed":
                _best(lambda: storage.action_counts(session, keys, **OPTIONS), runs=1),
        }
    engine.dispose()
    for what, seconds in rows.items():
        print(f"{what}: {seconds * 1000:,.0f} ms")


if __name__ == "__main__":
    main()
