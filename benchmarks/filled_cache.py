"""A database holding every round of a scale, closed through ``close_round``, built once and reused.

Filling the national database (600 rounds, each closed through the project's ``close_round``, which
scores it and stores the score tables) takes about a minute on a quiet 2-core machine and ten under load.
Sections that only *read* such a database (the browser section) take a copy of a cached file instead. The
cache is keyed by the scale, the generator's seed and a hash of everything that decides what is stored:
the migrations (the schema), the scoring engine, the storage layer, the generator and the raw import.
Any change to those builds a new file; nothing is ever patched. The file lives under
``benchmarks/results/cache/`` (ignored by git) with a JSON note of how long each close took when built.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(__file__).resolve().parent / "results" / "cache"
SEED = 20260101  # benchmarks.generate.generate's default
#: What decides the stored data: storage (with the migrations), scoring, questionnaires, generator, raw import.
_KEYED = ("assessment/storage", "assessment/scoring", "assessment/questionnaire", "assessment/disclosure.py",
          "benchmarks/generate.py", "benchmarks/storage_bench.py")


def cache_key(scale: str) -> str:
    digest = hashlib.sha256()
    for name in _KEYED:
        path = ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.exists() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode())
                digest.update(file.read_bytes())
    return f"{scale}-seed{SEED}-{digest.hexdigest()[:16]}"


def build(data, path: Path, log: Callable[[str], None] = print) -> list[float]:
    """Fill ``path`` (SQLite) with every round of ``data`` and close each through ``close_round``, in one
    transaction with the stored trend and peer figures brought up to date once at its end (as the demo
    does); return the seconds each close took."""
    from assessment.storage import services
    from benchmarks.storage_bench import import_raw_sqlite, round_data, setup_database

    start = time.perf_counter()
    db = setup_database(f"sqlite:///{path}", data, list(data.partnership_ids))
    rounds = round_data(data, list(range(data.n_groups)))
    import_raw_sqlite(str(path), rounds, db.round_ids)
    filled = time.perf_counter() - start
    closes = []
    with db.factory.begin() as session, _deferred(session):  # stored figures computed once, at the end
        for r in rounds:
            begin = time.perf_counter()
            services.open_round(session, r.key, actor="benchmark")
            services.close_round(session, r.key, actor="benchmark")
            closes.append(time.perf_counter() - begin)
        begin = time.perf_counter()
    figures_s = time.perf_counter() - begin
    db.engine.dispose()
    log(f"   filled {len(rounds)} rounds in {filled:.0f} s, closed them in {sum(closes):.0f} s and stored the "
        f"trend and peer figures in {figures_s:.0f} s")
    return closes


def _deferred(session):
    """The storage layer's bulk mode for stored figures (as the demo loads), when it has one."""
    try:
        from assessment.storage.figures import deferred
    except ImportError:
        return contextlib.nullcontext()
    return deferred(session)


def filled_copy(ctx, target: Path) -> tuple[str, list[float], bool]:
    """A copy of the cached filled database of ``ctx.scale`` at ``target`` (built first if missing).

    Returns the SQLAlchemy URL, the close times recorded when the cache was built, and whether the cache
    was reused."""
    key = cache_key(ctx.scale)
    cached = CACHE_DIR / f"{key}.db"
    note = CACHE_DIR / f"{key}.json"
    reused = cached.exists() and note.exists()
    if not reused:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        building = CACHE_DIR / f"{key}.building.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        ctx.log(f"   building the filled database cache {cached.name} (once per scale and code)")
        closes = build(ctx.data, building, log=ctx.log)
        with sqlite3.connect(building) as connection:  # fold the WAL in: one self-contained file
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        building.replace(cached)
        note.write_text(json.dumps({"built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                    "closes_s": closes}), encoding="utf-8")
    else:
        ctx.log(f"   reusing the filled database cache {cached.name}")
    shutil.copyfile(cached, target)
    return f"sqlite:///{target}", json.loads(note.read_text(encoding="utf-8"))["closes_s"], reused
