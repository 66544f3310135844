"""Role-aware menus: a respondent sees only the assessment; each staff role sees the pages its row allows."""

from __future__ import annotations

import pytest

from app_pages._frame import menu_for


def test_a_respondent_sees_only_the_assessment():
    assert menu_for("respondent") == {"Partnership": ["take"]}


def test_the_administrator_menu_has_every_page_with_home_first():
    menu = menu_for("administrator")
    assert list(menu) == ["Partnership", "National view", "Administration"]
    assert menu["Partnership"][0] == "home"
    assert sorted(key for keys in menu.values() for key in keys) == [
        "actions", "home", "indicators", "manage", "outcomes", "portfolio", "regions", "results", "take", "trends"]


@pytest.mark.parametrize(("role", "pages"), [
    ("partnership_lead", ["home", "results", "trends", "actions", "indicators", "portfolio", "manage"]),
    ("board_member", ["home", "results", "trends", "actions"]),
    ("commissioner", ["home", "results", "trends", "actions", "portfolio"]),
    ("analyst", ["regions", "outcomes"]),
])
def test_each_staff_role_sees_its_pages(role, pages):
    assert [key for keys in menu_for(role).values() for key in keys] == pages


def test_several_grants_see_the_union_in_menu_order():
    menu = menu_for(["analyst", "board_member"])
    assert [key for keys in menu.values() for key in keys] == ["home", "results", "trends", "actions", "regions",
                                                               "outcomes"]


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        menu_for("superuser")
