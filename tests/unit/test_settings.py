"""Settings are typed and range-checked at start; a bad value names the variable, its value and the range."""

from __future__ import annotations

import pytest

from assessment.settings import SettingsError, load_settings
from assessment.vocabulary import parse_yes_no


@pytest.mark.parametrize(("env", "value", "allowed"), [
    ("ASSESSMENT_MIN_GROUP_SIZE", "1", "a whole number >= 2"),
    ("ASSESSMENT_MIN_GROUP_SIZE", "three", "a whole number >= 2"),
    ("ASSESSMENT_MIN_COVERAGE", "0", "a number > 0 and <= 1"),
    ("ASSESSMENT_MIN_COVERAGE", "1.5", "a number > 0 and <= 1"),
    ("ASSESSMENT_MIN_COVERAGE", "nan", "a number > 0 and <= 1"),
    ("ASSESSMENT_MIN_PEERS", "0", "a whole number >= 1"),
    ("ASSESSMENT_BOOTSTRAP_RESAMPLES", "99", "a whole number >= 100"),
    ("ASSESSMENT_BOOTSTRAP_SEED", "-1", "a whole number >= 0"),
    ("ASSESSMENT_SPLIT_THRESHOLD", "0", "a number > 0"),
    ("ASSESSMENT_SPLIT_THRESHOLD", "inf", "a number > 0"),
    ("ASSESSMENT_MIN_RESPONDENTS_FOR_CHANGE", "1", "a whole number >= 2"),
    ("ASSESSMENT_DEMO", "maybe", "yes or no"),
])
def test_a_value_outside_its_range_stops_the_start_with_variable_value_and_range(env, value, allowed):
    with pytest.raises(SettingsError) as caught:
        load_settings({env: value})
    message = str(caught.value)
    assert f"{env}={value!r}" in message and allowed in message


def test_every_bad_value_is_reported_at_once():
    with pytest.raises(SettingsError) as caught:
        load_settings({"ASSESSMENT_MIN_GROUP_SIZE": "1", "ASSESSMENT_MIN_PEERS": "0"})
    assert "ASSESSMENT_MIN_GROUP_SIZE='1'" in str(caught.value)
    assert "ASSESSMENT_MIN_PEERS='0'" in str(caught.value)


@pytest.mark.parametrize(("env", "value", "field", "expected"), [
    ("ASSESSMENT_MIN_GROUP_SIZE", "2", "min_group_size", 2),
    ("ASSESSMENT_MIN_COVERAGE", "1", "min_coverage", 1.0),
    ("ASSESSMENT_MIN_COVERAGE", "0.01", "min_coverage", 0.01),
    ("ASSESSMENT_BOOTSTRAP_RESAMPLES", "100", "bootstrap_resamples", 100),
    ("ASSESSMENT_DEMO", " Off ", "demo", False),
    ("ASSESSMENT_DEMO", "", "demo", False),
    ("ASSESSMENT_DEMO", "yes", "demo", True),
])
def test_values_at_the_edges_of_their_range_are_accepted(env, value, field, expected):
    assert getattr(load_settings({env: value}), field) == expected


def test_settings_are_frozen():
    settings = load_settings({})
    with pytest.raises(ValueError, match="frozen"):
        settings.min_peers = 10


@pytest.mark.parametrize(("text", "expected"), [
    ("1", True), ("TRUE", True), (" yes ", True), ("y", True), ("on", True), ("t", True), (True, True),
    ("0", False), ("false", False), ("No", False), ("n", False), ("off", False), ("", False), (False, False),
])
def test_one_yes_no_parser(text, expected):
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize("text", ["maybe", "ture", "2"])
def test_the_yes_no_parser_reports_text_it_cannot_read(text):
    with pytest.raises(ValueError, match=repr(text)):
        parse_yes_no(text)


def test_a_command_stops_at_start_on_a_bad_setting_without_a_traceback(tmp_path):
    from click.testing import CliRunner

    from assessment.cli import main

    env = {"ASSESSMENT_DATA_DIR": str(tmp_path), "ASSESSMENT_MIN_PEERS": "0", "ASSESSMENT_DEMO": "0"}
    result = CliRunner().invoke(main, ["round", "list"], env=env)
    assert result.exit_code == 1 and not isinstance(result.exception, ValueError)
    assert "ASSESSMENT_MIN_PEERS='0' is not allowed: use a whole number >= 1" in result.output
    assert not (tmp_path / "assessment.db").exists()  # stopped before touching the database


# -- the address invite links are built on (issue 15) ---------------------------------------------------------

def test_invite_links_default_to_the_address_the_app_is_served_at():
    from assessment.settings import invite_base_url

    assert load_settings({}).base_url == ""
    assert invite_base_url("", "http://10.1.2.3:8600/") == ("http://10.1.2.3:8600", None)
    base, warning = invite_base_url("", None)  # not known (e.g. no browser): Streamlit's default, said so
    assert base == "http://localhost:8501" and "not known" in warning


def test_a_set_address_that_differs_from_the_served_one_is_used_with_a_warning_naming_both():
    from assessment.settings import invite_base_url

    base, warning = invite_base_url("http://localhost:8501", "http://127.0.0.1:8600")
    assert base == "http://localhost:8501"
    assert "http://localhost:8501" in warning and "http://127.0.0.1:8600" in warning
    for same in ("https://assess.example.org/", "HTTPS://Assess.Example.org:443"):
        assert invite_base_url(same, "https://assess.example.org") == (same.rstrip("/"), None)
    assert invite_base_url("https://assess.example.org/app", "https://assess.example.org")[1] is not None
