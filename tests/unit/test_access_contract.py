"""The permission table is the contract: every service function is in it, docs/access.md is rendered from
it, and every storage service function is either guarded by the service layer or named here with why not."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from assessment import service
from assessment.permissions import (
    ADMINISTRATOR,
    ANALYST,
    PERMISSIONS,
    SCOPED_ROLES,
    AccessDenied,
    Principal,
    access_table_markdown,
    check_role,
)
from assessment.storage import services as storage

ROOT = Path(__file__).resolve().parents[2]
# Storage functions the app never calls directly, and why no guarded form exists.
STORAGE_ONLY = {
    "invitation_link": "builds a link from a token; touches no data",
    "problems_frame": "formats import problems; touches no data",
    "issue_invitations": "the CLI's form of create_invitations (the CLI acts as administrator)",
    "revoke_invitation": "CLI only: revokes one link by its token",
    "save_answers": "CLI and import only: many answers of one respondent at once",
    "default_round_version": "picks a version from a list already read; touches no data",
    "latest_published_version": "the CLI's default version for a new round (the CLI acts as administrator)",
    "export_tables": "the CLI's form of export_round",
    "round_questionnaire": "reached through round_info and published_questionnaire",
    "agency_scores": "reached through round_scores",
    "item_scores": "reached through round_scores",
    "overall_scores": "reached through round_scores",
    "link_round": "finds a link's round for the checks of list_links, reissue_link and withdraw_link",
}


def service_functions() -> dict[str, object]:
    return {name: obj for name, obj in vars(service).items()
            if inspect.isfunction(obj) and obj.__module__ == service.__name__ and not name.startswith("_")}


def test_every_public_service_function_is_in_the_table_and_exported():
    functions = service_functions()
    assert set(functions) == set(PERMISSIONS), (
        f"missing from the table: {sorted(set(functions) - set(PERMISSIONS))}; "
        f"in the table but not a service function: {sorted(set(PERMISSIONS) - set(functions))}")
    assert set(functions) <= set(service.__all__)


@pytest.mark.parametrize("name", sorted(PERMISSIONS))
def test_every_service_function_takes_the_acting_principal_second(name):
    parameters = list(inspect.signature(getattr(service, name)).parameters)
    assert parameters[:2] in (["session", "principal"], ["engine", "principal"]), parameters


def test_every_storage_service_function_is_guarded_or_named_with_a_reason():
    public = {name for name in storage.__all__ if inspect.isfunction(getattr(storage, name))}
    unguarded = public - set(PERMISSIONS) - set(STORAGE_ONLY)
    assert not unguarded, f"storage functions with no service-layer check: {sorted(unguarded)}"
    assert set(STORAGE_ONLY) <= public


def test_docs_access_md_is_rendered_from_the_table():
    doc = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    assert access_table_markdown() in doc, ("docs/access.md is out of date: regenerate the table with "
                                            "python -c \"from assessment.permissions import access_table_markdown "
                                            "as m; print(m(), end='')\"")


def test_the_app_pages_never_call_the_storage_layer_directly():
    """Pages go through the service layer; _resources.py only builds the engine and session factory."""
    for page in sorted((ROOT / "app_pages").glob("*.py")):
        text = page.read_text(encoding="utf-8")
        if page.name == "_resources.py":
            text = text.replace("from assessment.storage.db import make_engine, make_session_factory", "")
        assert "assessment.storage" not in text, f"{page.name} imports the storage layer: use assessment.service"
    assert (ROOT / "streamlit_app.py").read_text(encoding="utf-8").count("assessment.storage") == 0


def test_analysts_act_on_no_single_partnership():
    assert all(ANALYST not in p.roles for p in PERMISSIONS.values() if p.scope == "partnership")


def test_a_scoped_grant_reaches_only_its_partnership():
    lead = Principal.with_grants("lee", [("partnership_lead", "kent"), ("board_member", "essex")])
    assert lead.may("close_round", "kent")
    assert not lead.may("close_round", "essex")
    assert lead.may("round_scores", "essex")
    with pytest.raises(AccessDenied, match=r"^you do not have access to closing rounds for partnership 'essex'"):
        lead.require("close_round", "essex")
    assert Principal.administrator("ann").may("close_round", "anywhere")
    # without a partnership: "on at least one"
    assert lead.may("close_round") and not Principal.with_grants("bea", [("board_member", "kent")]).may("close_round")
    assert not Principal.with_grants("visitor", [("administrator", None)], read_only=True).may("close_round")
    assert not Principal.anonymous().may("round_scores")


def test_roles_are_named_in_the_users_words():
    assert check_role("partnership-lead") == "partnership_lead"
    assert check_role("Board member") == "board_member"
    assert set(SCOPED_ROLES) | {ADMINISTRATOR, ANALYST} == {check_role(r) for r in
                                                             ("administrator", "partnership lead", "board member",
                                                              "commissioner", "analyst")}
    with pytest.raises(ValueError, match="is not one of"):
        check_role("superuser")
