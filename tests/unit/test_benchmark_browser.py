"""The browser benchmark's pure helpers: the profile summary and the filled-database cache key."""

from __future__ import annotations

from benchmarks import browser, filled_cache


def test_profile_summary_counts_only_the_script_thread_and_project_frames(tmp_path):
    root = str(browser.ROOT)
    raw = tmp_path / "raw.txt"
    raw.write_text(
        f"run (script_runner.py:1);page ({root}/app_pages/results.py:3);f (assessment/trends.py:10);g (pandas/a.py:2) 30\n"
        "run (script_runner.py:1);page (results.py:3) 10\n"
        "serve (tornado/web.py:5);h (assessment/other.py:1) 500\n",
        encoding="utf-8")
    summary = dict((where, share) for share, where in browser.summarise_profile(raw))
    assert summary["page (app_pages/results.py:3)"] == 100.0
    assert summary["f (assessment/trends.py:10)"] == 75.0
    assert not any("other.py" in where for where in summary)  # not the script thread


def test_the_quiet_gap_is_written_into_the_injected_script():
    assert "QUIET_MS" not in browser._INIT_JS
    assert f">= {browser.QUIET_MS})" in browser._INIT_JS


def test_the_cache_key_names_the_scale_and_seed_and_follows_the_code():
    key = filled_cache.cache_key("national")
    assert key.startswith(f"national-seed{filled_cache.SEED}-")
    assert key == filled_cache.cache_key("national")
    assert key != filled_cache.cache_key("board")
