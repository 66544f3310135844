"""Role-aware menus: a respondent sees only the assessment; everyone else (until login lands) sees all."""

from __future__ import annotations

import pytest

from app_pages._frame import menu_for


def test_a_respondent_sees_only_the_assessment():
    assert menu_for("respondent") == {"Partnership": ["take"]}


def test_the_trusted_deployment_menu_has_every_page_with_home_first():
    menu = menu_for("administrator")
    assert list(menu) == ["Partnership", "National view", "Administration"]
    assert menu["Partnership"][0] == "home"
    assert sorted(key for keys in menu.values() for key in keys) == [
        "home", "manage", "portfolio", "regions", "results", "take", "trends"]


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        menu_for("commissioner")
