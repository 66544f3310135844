"""The load section's small helpers (issue 17): the opt-in timing log, its parser, the progress line and the
summary. The load itself runs in the benchmark suite only (``python -m benchmarks --only load``), not here."""

from __future__ import annotations

from assessment.timing import TIMING_LOG, read_timings, timed
from benchmarks.load import PROGRESS, summary


def test_timed_appends_one_line_per_call_only_when_the_log_is_named(tmp_path, monkeypatch):
    log = tmp_path / "timing.log"
    monkeypatch.delenv(TIMING_LOG, raising=False)
    with timed("save_answer"):
        pass
    assert not log.exists()
    monkeypatch.setenv(TIMING_LOG, str(log))
    with timed("save_answer"):
        pass
    try:
        with timed("save_answer"):
            raise ValueError("a failed save is still timed")
    except ValueError:
        pass
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("save_answer\t") for line in lines)


def test_read_timings_keeps_the_named_lines_and_skips_malformed_ones():
    text = "save_answer\t0.012\t1.0\nother\t5\t1.0\nsave_answer\tnot-a-number\t1.0\nbroken\nsave_answer\t0.5\t2.0\n"
    assert read_timings(text, "save_answer") == [0.012, 0.5]
    assert read_timings("", "save_answer") == []


def test_the_progress_line_gives_the_count_answered():
    found = PROGRESS.match("3 of 41 statements answered · saved as you go")
    assert found is not None and found.group(1) == "3"
    assert PROGRESS.match("Your last answer could not be saved") is None


def test_summary_p95_and_empty():
    values = [float(v) for v in range(1, 101)]
    found = summary(values)
    assert found["n"] == 100 and found["median"] == 50.5 and found["max"] == 100.0
    assert abs(found["p95"] - 95.05) < 1e-9
    assert summary([])["n"] == 0
