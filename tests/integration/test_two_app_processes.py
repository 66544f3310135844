"""Two app processes on one PostgreSQL database serve the same data (issue 17).

Each process runs the app (AppTest from ``streamlit_app.py``) with its own engine and its own caches. A round
created and opened through the Manage page of one process shows on the other's Home page at its next rerun,
in both directions: the cached reads are keyed on the database's data version, not cleared per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKER = Path(__file__).with_name("_app_process.py")
ROOT = Path(__file__).resolve().parents[2]


class AppProcess:
    def __init__(self, env: dict, log: Path) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, str(WORKER)], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True)

    def read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the app process stopped (code {self.process.poll()}); see {self.log.name}")
        answer = json.loads(line)
        assert "error" not in answer, answer["error"]
        return answer

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture
def shared_database(postgres_server, tmp_path):
    """A PostgreSQL database holding a small demo (4 partnerships, 1 open round)."""
    from assessment.demo import prepare_database, seed_demo, shipped_questionnaires
    from assessment.settings import load_settings
    from assessment.storage.db import make_engine, make_session_factory

    url = postgres_server.create()
    env = {**os.environ, "ASSESSMENT_DATABASE_URL": url, "ASSESSMENT_DATA_DIR": str(tmp_path),
           "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "none", "ASSESSMENT_BOOTSTRAP_RESAMPLES": "200"}
    settings = load_settings(env)
    engine = make_engine(url)
    try:
        prepare_database(engine, settings)
        found, _ = shipped_questionnaires(settings)
        with make_session_factory(engine).begin() as session:
            seed_demo(session, found, partnerships=4, open_rounds=1)
    finally:
        engine.dispose()
    return env


def test_a_round_opened_in_one_app_process_shows_in_the_other_at_its_next_rerun(shared_database, tmp_path):
    first = AppProcess(shared_database, tmp_path / "first.log")
    second = AppProcess(shared_database, tmp_path / "second.log")
    try:
        a, b = first.read()["ready"], second.read()["ready"]
        assert a != b  # two OS processes, so two engines and two sets of caches
        before = second.ask(do="home")["open_now"]
        assert first.ask(do="home")["open_now"] == before  # both cached the same figure

        first.ask(do="open_new_round", period="2027-H1")
        assert second.ask(do="home")["open_now"] == str(int(before) + 1)

        second.ask(do="open_new_round", period="2027-H2")
        assert first.ask(do="home")["open_now"] == str(int(before) + 2)
        assert second.ask(do="home")["open_now"] == str(int(before) + 2)
    finally:
        first.stop()
        second.stop()
