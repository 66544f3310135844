"""`python -m assessment.cli` is the same command line as the `assessment` script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_python_dash_m_runs_the_command_line():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "assessment.cli", "questionnaire", "validate",
                           str(ROOT / "questionnaires" / "police-mental-health" / "1.0.0.yaml")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "police-mental-health 1.0.0" in done.stdout
