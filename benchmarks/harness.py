"""Timing, memory and reporting helpers for the speed suite.

Every timed figure is the median of at least three runs after one warm-up run (``time.perf_counter``),
and every reference is measured in the same process, in the same run, right beside what it is compared with.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "Measurement",
    "Skip",
    "Timing",
    "format_table",
    "machine_info",
    "rss_bytes",
    "time_interleaved",
    "time_it",
    "write_json",
]


class Skip(Exception):
    """A section cannot run here (the piece it measures has not landed, or a server is missing)."""


@dataclass(frozen=True)
class Timing:
    """Median and every run, in seconds of wall-clock time; ``cpu`` is the process CPU time of each run
    (all threads), which shows how much of a wall-clock figure was waiting for a busy machine."""

    median: float
    runs: tuple[float, ...]
    cpu: tuple[float, ...] = ()

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    @property
    def spread(self) -> float:
        return max(self.runs) - min(self.runs)


def time_it(
    fn: Callable[[], object], *, runs: int = 3, warmup: int = 1, setup: Callable[[], None] | None = None
) -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``runs`` times timed; the median of the timed runs.

    ``setup`` runs untimed before each call (e.g. to empty a table). The garbage collector is run
    before each timed call so one run's garbage is not collected inside the next.
    """
    if runs < 3:
        raise ValueError(f"a measurement needs at least 3 runs, got {runs}")
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    times, cpu = [], []
    for _ in range(runs):
        if setup:
            setup()
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return Timing(statistics.median(times), tuple(times), tuple(cpu))


def time_interleaved(
    fns: dict[str, Callable[[], object]],
    *,
    runs: int = 3,
    warmup: int = 1,
    setup: Callable[[], None] | None = None,
) -> dict[str, Timing]:
    """Like :func:`time_it` for several functions, taking turns: run 1 of each, then run 2 of each...

    On a shared machine the load changes from minute to minute; taking turns puts each figure and its
    reference under the same conditions, so their ratio stays meaningful even when both move.
    """
    if runs < 3:
        raise ValueError(f"a measurement needs at least 3 runs, got {runs}")
    for _ in range(warmup):
        for fn in fns.values():
            if setup:
                setup()
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            if setup:
                setup()
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {
        name: Timing(statistics.median(times[name]), tuple(times[name]), tuple(cpu[name])) for name in fns
    }


@dataclass
class Measurement:
    """One line of the results table.

    ``value`` and ``reference_value`` are in ``unit``; ``ratio`` = value / reference value. The target is
    met when the ratio is at most ``max_ratio`` and/or the value is at most ``max_value`` (whichever is set).
    """

    section: str
    name: str
    value: float
    unit: str = "s"
    reference: str = ""
    reference_value: float | None = None
    max_ratio: float | None = None
    max_value: float | None = None
    target_note: str = ""
    runs: tuple[float, ...] = ()
    reference_runs: tuple[float, ...] = ()
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.reference_value in (None, 0):
            return None
        return self.value / self.reference_value

    @property
    def target(self) -> str:
        parts = []
        if self.max_ratio is not None:
            parts.append(f"ratio ≤ {self.max_ratio:g}")
        if self.max_value is not None:
            parts.append(f"≤ {_fmt(self.max_value, self.unit)}")
        text = " and ".join(parts)
        return f"{text} {self.target_note}".strip()

    @property
    def met(self) -> bool | None:
        if self.max_ratio is None and self.max_value is None:
            return None
        ok = True
        if self.max_ratio is not None:
            ok &= self.ratio is not None and self.ratio <= self.max_ratio
        if self.max_value is not None:
            ok &= self.value <= self.max_value
        return bool(ok)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(ratio=self.ratio, target=self.target, met=self.met)
        return data


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.0f} µs"
        if value < 1:
            return f"{value * 1e3:.1f} ms"
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    return f"{value:g} {unit}"


def format_table(measurements: list[Measurement]) -> str:
    """A plain-text table: measurement, value, reference, reference value, ratio, target, met?"""
    header = ("measurement", "value", "reference", "reference value", "ratio", "target", "met?")
    rows = [header]
    for m in measurements:
        rows.append(
            (
                m.name,
                _fmt(m.value, m.unit),
                m.reference,
                _fmt(m.reference_value, m.unit),
                "" if m.ratio is None else f"{m.ratio:.2f}×",
                m.target,
                {True: "yes", False: "NO", None: ""}[m.met],
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def rss_bytes() -> tuple[int, int]:
    """(current resident set size, its high-water mark) of this process, from /proc/self/status."""
    current = peak = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return current, peak


def reset_peak_rss() -> bool:
    """Reset this process's RSS high-water mark (Linux ``clear_refs`` 5); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> int:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def machine_info() -> dict:
    """Platform, CPU, cores, memory, library versions and the BLAS-related environment."""
    import numpy
    import pandas

    versions = {"python": sys.version.split()[0], "numpy": numpy.__version__, "pandas": pandas.__version__}
    for name in ("duckdb", "pyarrow", "sqlalchemy", "psycopg", "streamlit"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - an optional library may be missing or broken; record that
            versions[name] = None
    try:
        with open("/proc/loadavg") as handle:
            load = handle.read().split()[:3]
    except OSError:
        load = []
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(_memory_total() / 2**30, 1),
        "load_average_at_start": load,
        "versions": versions,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def write_json(
    path: str | Path,
    *,
    scale: str,
    measurements: list[Measurement],
    skipped: dict,
    machine: dict,
    command: str,
) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "scale": scale,
        "command": command,
        "machine": machine,
        "measurements": [m.as_dict() for m in measurements],
        "skipped": skipped,
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
