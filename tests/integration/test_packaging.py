"""A non-editable install finds the shipped questionnaires and indicator catalogue (package data)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_install_finds_shipped_questionnaires(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("assessment", "questionnaires", "indicators"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(src)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("*.whl"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stderr
    code = (
        "import assessment, sys; from assessment.questionnaire import load_directory\n"
        "assert assessment.__file__.startswith(sys.prefix), assessment.__file__\n"
        "print(sorted(v for _, v in load_directory()))\n"
        "from assessment.indicators import get_catalogue\n"
        "print('catalogue', get_catalogue().version)\n"
    )
    run = subprocess.run([str(python), "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert "'1.0.0'" in run.stdout and "'1.1.0'" in run.stdout
    assert "catalogue 1.0.0" in run.stdout
