"""Manage as a partnership lead uses it (issue 15): period grammar and warnings at round creation."""

from __future__ import annotations

from tests.app.test_pages import app, assert_no_exception, click, demo_database  # noqa: F401 (fixtures)


def test_a_round_period_outside_the_grammar_is_refused_and_a_lonely_one_is_warned_about(app):  # noqa: F811
    app.run()
    app.switch_page("app_pages/manage.py").run()
    app.text_input(key="manage_round_period").input("Spring 2026")
    click(app, "Create round")
    assert_no_exception(app)
    assert any("period 'Spring 2026' is not a period: use YYYY" in e.value.replace("\\", "") for e in app.error)

    app.text_input(key="manage_round_period").input("2026-q2")
    click(app, "Create round")
    assert_no_exception(app)
    assert any("2026-q2" in s.value.replace("\\", "") for s in app.success)
    assert any(w.value.replace("\\", "").startswith("No other partnership has a round in 2026-Q2") for w in app.warning)
