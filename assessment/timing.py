"""Opt-in timing of the paths users wait on, for the load benchmark (issue 17).

Off unless ``ASSESSMENT_TIMING_LOG`` names a file: then :func:`timed` appends one line per call,
``<name>\\t<seconds>\\t<unix time at the end>``, with one ``os.write`` on a file opened for appending (whole
lines from several threads or processes do not interleave). Off, it costs one dictionary look-up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["TIMING_LOG", "read_timings", "timed"]

TIMING_LOG = "ASSESSMENT_TIMING_LOG"


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Time the block and append it to the file named by ``ASSESSMENT_TIMING_LOG`` (if set), even when it raises."""
    path = os.environ.get(TIMING_LOG)
    if not path:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        line = f"{name}\t{time.perf_counter() - start:.6f}\t{time.time():.3f}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def read_timings(text: str, name: str) -> list[float]:
    """The seconds logged for ``name`` in the text of a timing log (malformed lines are skipped)."""
    found = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0] == name:
            try:
                found.append(float(parts[1]))
            except ValueError:
                continue
    return found
