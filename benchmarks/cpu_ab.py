"""CPU time of scoring and of the import, for comparing commits on a busy machine.

``python benchmarks/cpu_ab.py scoring [RUNS]`` times ``encode_answers`` and ``score_encoded`` on the national
synthetic answers; ``python benchmarks/cpu_ab.py import [ANSWERS]`` times ``import_responses`` on SQLite
(whole partnerships until about ANSWERS answers, default 60,000) beside the raw ``sqlite3`` reference. Each
prints the median **CPU time** (``time.process_time``) of its runs after a warm-up.
``python benchmarks/cpu_ab.py partnerships [RUNS] [SCALE]`` times the partnership figures
(``score_encoded(..., frames=["partnerships"])``) and the numpy limit in turn, CPU and wall clock (issue 17).

Wall-clock figures (``python -m benchmarks``) are the product's figures, but on a machine shared with other
jobs they swing by a factor of two from run to run; CPU time hardly moves, so an A/B between commits reads
it. Run it as a file, with ``PYTHONPATH`` naming a checkout of the commit to measure (the script imports that
checkout's ``assessment`` and ``benchmarks``), and alternate the commits::

    git worktree add --detach /tmp/at-a766d07 a766d07
    PYTHONPATH=/tmp/at-a766d07 python benchmarks/cpu_ab.py scoring
    PYTHONPATH=$PWD python benchmarks/cpu_ab.py scoring
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def scoring(runs: int) -> str:
    from assessment.scoring import encode_answers, score_encoded
    from benchmarks.generate import generate

    data = generate("national")
    frame = data.answers_frame(with_period=True)
    encoded = encode_answers(data.questionnaire, frame)
    score_encoded(encoded)
    encode, score = [], []
    for _ in range(runs):
        start = time.process_time()
        encode_answers(data.questionnaire, frame)
        encode.append(time.process_time() - start)
        start = time.process_time()
        score_encoded(encoded)
        score.append(time.process_time() - start)
    return (f"CPU encode {statistics.median(encode) * 1e3:.1f} ms, score {statistics.median(score) * 1e3:.1f} ms "
            f"({data.n_answers:,} answers, median of {runs})")


def partnerships(runs: int, scale: str = "national") -> str:
    from assessment.scoring import encode_answers, score_encoded
    from benchmarks.generate import generate
    from benchmarks.references import numpy_scores

    data = generate(scale)
    encoded = encode_answers(data.questionnaire, data.answers_frame(with_period=True))
    data._cache.clear()  # the text frame: large, and no input of either
    timed = {"partnership figures": lambda: score_encoded(encoded, frames=["partnerships"]),
             "numpy limit": lambda: numpy_scores(data)}
    cpu: dict[str, list[float]] = {name: [] for name in timed}
    wall: dict[str, list[float]] = {name: [] for name in timed}
    for fn in timed.values():
        fn()
    for _ in range(runs):
        for name, fn in timed.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return "\n".join(f"{name}: CPU median {statistics.median(cpu[name]):.3f} s (fastest {min(cpu[name]):.3f}), wall "
                     f"median {statistics.median(wall[name]):.3f} s ({data.n_answers:,} answers, {runs} runs)"
                     for name in timed)


def imports(limit: int, runs: int = 5) -> str:
    from benchmarks.generate import generate
    from benchmarks.storage_bench import import_raw_sqlite, import_through_project, round_data, setup_database

    data = generate("national")
    per = np.bincount(data.group // data.spec.rounds, minlength=data.spec.partnerships)
    count = min(int(np.searchsorted(np.cumsum(per), limit) + 1), data.spec.partnerships)
    rounds = round_data(data, list(range(count * data.spec.rounds)))
    project, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "cpu_ab.db")
        db = setup_database(f"sqlite:///{path}", data, list(data.partnership_ids[:count]))
        for run in range(runs + 1):  # run 0 warms up
            db.clear_answers()
            start = time.process_time()
            import_through_project(db, rounds)
            took = time.process_time() - start
            db.clear_answers()
            start = time.process_time()
            import_raw_sqlite(path, rounds, db.round_ids)
            if run:
                project.append(took)
                raw.append(time.process_time() - start)
        db.engine.dispose()
    answers = sum(r.n_answers for r in rounds)
    mine, reference = statistics.median(project), statistics.median(raw)
    return (f"CPU import {mine:.3f} s, raw sqlite3 {reference:.3f} s, ratio {mine / reference:.2f} "
            f"({answers:,} answers, {len(rounds)} round files, median of {runs})")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "scoring"
    if what not in ("scoring", "import", "partnerships"):
        sys.exit("usage: python benchmarks/cpu_ab.py scoring [RUNS] | import [ANSWERS] | partnerships [RUNS] [SCALE]")
    number = int(sys.argv[2]) if len(sys.argv) > 2 else None
    if what == "partnerships":
        print(partnerships(number or 5, sys.argv[3] if len(sys.argv) > 3 else "national"))
    else:
        print(scoring(number or 7) if what == "scoring" else imports(number or 60_000))
