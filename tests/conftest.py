"""Shared test configuration: hypothesis profile and paths to the test questionnaires."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# A 2-core machine: no per-example deadline (TECH_NOTES.md).
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

ROOT = Path(__file__).resolve().parent.parent
TEST_QUESTIONNAIRES = ROOT / "tests" / "data" / "questionnaires"
MINI_DIR = TEST_QUESTIONNAIRES / "mini-partnership"


@pytest.fixture
def mini_v1_path() -> Path:
    return MINI_DIR / "1.0.0.yaml"


@pytest.fixture
def mini_v2_path() -> Path:
    return MINI_DIR / "1.1.0.yaml"


@pytest.fixture
def mini_v1(mini_v1_path):
    from assessment.questionnaire import load_questionnaire

    return load_questionnaire(mini_v1_path)


@pytest.fixture
def mini_v2(mini_v2_path):
    from assessment.questionnaire import load_questionnaire

    return load_questionnaire(mini_v2_path)
