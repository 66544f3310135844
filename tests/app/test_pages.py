"""The Streamlit app through AppTest, on a synthetic demo database (SQLite in a temporary folder).

Every page renders without an exception and shows its key elements; a respondent completes an assessment
from an invite link (leaving halfway and resuming with the same link); a bad link gets the uniform message;
an import with errors shows the report and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import seeded_app_database

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 30


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    """A demo database with 12 partnerships (3 with an open round), and the environment pointing at it."""
    with seeded_app_database(tmp_path_factory, "app-data", resamples=500, partnerships=12, open_rounds=3) as (
            factory, _):
        yield factory


@pytest.fixture
def app(demo_database) -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def open_round(factory) -> str:
    from assessment.storage import services

    with factory() as session:
        rounds = services.list_rounds(session)
    return rounds.loc[rounds["status"] == "open", "round"].iloc[0]


def new_invite(factory, agency: str = "police") -> str:
    from assessment.storage import services

    with factory.begin() as session:
        link = services.create_invitations(session, open_round(factory), agency, 1, actor="test",
                                           base_url="http://localhost:8501")[0]
    return link.rsplit("invite=", 1)[1]


def table_with(at: AppTest, *columns: str):
    """The first table on the page that has these columns (tables carry no key in AppTest)."""
    for element in at.dataframe:
        if set(columns) <= set(element.value.columns):
            return element.value
    raise AssertionError(f"no table with columns {columns}")


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, ["\n".join([e.message, *e.stack_trace]) for e in at.exception]


# -- every page renders ----------------------------------------------------------------------------------
def test_home_explains_the_tool_shows_the_demo_banner_and_round_status(app):
    app.run()
    assert_no_exception(app)
    assert app.title[0].value == "Police–mental health partnership maturity assessment"
    assert any("Synthetic demo data" in w.value for w in app.warning)
    assert any("no sign-in on this laptop" in c.value for c in app.caption)
    assert [m.label for m in app.metric][:2] == ["Partnerships", "Rounds open now"]
    assert app.metric[0].value == "12"
    assert app.selectbox(key="home_partnership").value
    assert len(table_with(app, "period", "status", "submitted")) >= 2


@pytest.mark.parametrize(
    ("page", "title", "key_elements"),
    [
        ("results", "Results", ["Domain scores and maturity levels", "Gap to peers",
                                "How each agency sees the partnership", "Item detail"]),
        ("regions", "Compare regions", ["Median score by region and domain", "Spread within each region",
                                        "Promising practices"]),
        ("trends", "Trends", []),
        ("portfolio", "Portfolio", []),
        ("manage", "Manage", []),
    ],
)
def test_every_page_renders_with_its_key_elements(app, page, title, key_elements):
    app.run()
    app.switch_page(f"app_pages/{page}.py").run()
    assert_no_exception(app)
    assert app.title[0].value == title
    headers = [h.value for h in app.header]
    for element in key_elements:
        assert element in headers
    assert app.get("vega_lite_chart") or page == "manage"  # the page drew its charts


def test_results_offer_peer_groups_the_tables_and_a_download(app):
    app.run()
    app.switch_page("app_pages/results.py").run()
    assert app.selectbox(key="results_peer_group").options[:3][0] == "All partnerships"
    assert len(table_with(app, "domain_title", "score", "level_label", "n_respondents", "looks_like")) >= 10
    assert len(table_with(app, "n_peers", "median", "q1", "q3", "gap_to_median", "gap_to_top_quartile")) >= 10
    assert len(table_with(app, "text", "mean", "n_answered", "dk_rate")) >= 3
    assert [s.value for s in app.subheader][:2] == ["Strengths", "Priorities"]
    assert app.get("download_button")
    app.selectbox(key="results_peer_group").set_value("region").run()
    assert_no_exception(app)


def test_trends_show_change_verdicts(app):
    app.run()
    app.switch_page("app_pages/trends.py").run()
    assert [m.label for m in app.metric] == ["Improved", "No clear change", "Declined", "Not comparable"]
    assert len(table_with(app, "period", "score", "ci_low", "ci_high", "verdict")) >= 12


def test_manage_tracks_responses_per_agency_against_invitations(app):
    app.run()
    app.switch_page("app_pages/manage.py").run()
    assert [t.label for t in app.tabs] == ["Questionnaires", "Partnerships", "Rounds", "Invitations",
                                           "Response tracking", "Import", "Export and backup", "Users", "Audit log"]
    tracking = table_with(app, "agency", "invited", "started", "submitted", "response_rate")
    assert (tracking["invited"] > tracking["submitted"]).all()


# -- the respondent's journey ----------------------------------------------------------------------------
def answer_domain(at: AppTest, values: list[str]) -> list[str]:
    """Answer the first items of the domain on screen; return the ids of the items answered."""
    radios = [r for r in at.radio if r.key and r.key.startswith("take_value_")][: len(values)]
    for radio, value in zip(radios, values, strict=True):
        radio.set_value(value).run()
    return [r.key.removeprefix("take_value_") for r in radios]


def test_a_respondent_answers_leaves_halfway_resumes_and_submits(demo_database):
    from assessment.storage import services

    token = new_invite(demo_database, "mental_health_trust")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["invite"] = token
    at.run()
    assert_no_exception(at)
    assert "invite" not in at.query_params  # the token left the address bar
    assert "Mental health trust" in at.markdown[0].value
    at.button(key="take_confirm").click().run()
    first = answer_domain(at, ["4", "3", "NA", "DK"])
    at.text_area(key=f"take_evidence_{first[0]}").input("Joint triage car runs Thursday to Saturday.").run()
    at.button(key="take_next").click().run()
    second = answer_domain(at, ["2", "2"])
    assert_no_exception(at)

    # Halfway: the browser is closed. The same link, opened again, resumes with the saved answers.
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params["invite"] = token
    again.run()
    assert_no_exception(again)
    assert again.radio(key=f"take_value_{first[0]}").value == "4"
    assert again.radio(key=f"take_value_{first[2]}").value == "NA"
    assert again.text_area(key=f"take_evidence_{first[0]}").value == "Joint triage car runs Thursday to Saturday."
    while again.button(key="take_next").label != "Review and submit":
        again.button(key="take_next").click().run()
    again.button(key="take_next").click().run()
    assert any("not answered" in w.value for w in again.warning)
    again.button(key="take_submit").click().run()
    assert_no_exception(again)
    assert "Thank you" in again.success[0].value

    with demo_database() as session:
        rounds = services.list_rounds(session)
        round_key = open_round(demo_database)
        answers = services.round_answers(session, round_key)
    respondent = again.session_state["take_respondent"].respondent
    saved = answers[answers["respondent"] == respondent].set_index("item")
    assert set(saved["agency"]) == {"mental_health_trust"}
    assert set(saved.index) == set(first + second)
    assert saved.loc[first[0], "value"] == "4" and saved.loc[first[2], "value"] == "NA"
    assert saved.loc[first[3], "value"] == "DK" and saved.loc[second[0], "value"] == "2"
    assert saved.loc[first[0], "comment"] == "Joint triage car runs Thursday to Saturday."
    assert rounds.set_index("round").loc[round_key, "submitted"] >= 1

    # The link is used up: opening it once more gets the uniform message.
    used = AppTest.from_file(APP, default_timeout=TIMEOUT)
    used.query_params["invite"] = token
    used.run()
    from assessment.storage.invitations import INVALID_INVITATION_MESSAGE

    assert [e.value for e in used.error] == [INVALID_INVITATION_MESSAGE]


@pytest.mark.parametrize("token", ["not-a-token", "A" * 43])
def test_an_invalid_link_gets_the_uniform_message_and_leaves_the_address_bar(demo_database, token):
    from assessment.storage.invitations import INVALID_INVITATION_MESSAGE

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["invite"] = token
    at.run()
    assert_no_exception(at)
    assert [e.value for e in at.error] == [INVALID_INVITATION_MESSAGE]
    assert "invite" not in at.query_params
    assert not at.radio  # nothing of the questionnaire is shown


def test_a_revoked_link_gets_the_same_message(demo_database):
    from assessment.storage import services
    from assessment.storage.invitations import INVALID_INVITATION_MESSAGE

    token = new_invite(demo_database)
    with demo_database.begin() as session:
        services.revoke_invitation(session, token, actor="test")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["invite"] = token
    at.run()
    assert [e.value for e in at.error] == [INVALID_INVITATION_MESSAGE]


# -- import ----------------------------------------------------------------------------------------------
def test_an_import_with_errors_shows_the_report_and_changes_nothing(app, demo_database):
    from assessment.storage import services

    round_key = open_round(demo_database)
    with demo_database() as session:
        before = services.round_answers(session, round_key, submitted_only=False)
        version_before = services.data_version(session)
    partnership = before["partnership"].iloc[0]
    item = before["item"].iloc[0]
    csv = (
        "partnership,round,respondent,agency,item,value\n"
        f"{partnership},{round_key},new-1,police,{item},4\n"
        f"{partnership},{round_key},new-1,police,governance.no_such_item,3\n"
        f"{partnership},{round_key},new-2,ambulance,{item},9\n"
    ).encode()
    app.run()
    app.switch_page("app_pages/manage.py").run()
    app.selectbox(key="manage_import_round").set_value(round_key).run()
    app.file_uploader(key="manage_import_file").set_value(("responses.csv", csv, "text/csv")).run()
    app.button(key="manage_import").click().run()
    assert_no_exception(app)
    assert any("Nothing was imported" in e.value for e in app.error)
    assert all(e.value.lower().count("nothing was imported") <= 1 for e in app.error)  # said once (issue 15)
    report = table_with(app, "row", "column", "code", "problem")
    assert report["row"].tolist() == [3, 4]
    assert set(report["column"]) == {"item", "value"}
    with demo_database() as session:
        after = services.round_answers(session, round_key, submitted_only=False)
        assert services.data_version(session) == version_before
    assert len(after) == len(before)


# -- administration ---------------------------------------------------------------------------------------
def click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()


def test_manage_creates_opens_a_round_and_generates_links_that_show_up_at_once(app, demo_database):
    from assessment.storage import services

    app.run()
    app.switch_page("app_pages/manage.py").run()
    partnership = app.selectbox(key="manage_round_partnership").value
    app.text_input(key="manage_round_period").input("2026-H2")
    click(app, "Create round")
    assert_no_exception(app)
    round_key = f"{partnership}-2026-h2"
    assert any(round_key in s.value.replace("\\", "") for s in app.success)  # Markdown escapes read
    assert round_key in table_with(app, "round", "partnership", "period", "status")["round"].tolist()

    app.selectbox(key="manage_round_choice").set_value(round_key).run()
    app.button(key="manage_open_round").click().run()
    assert any("is open" in s.value for s in app.success)

    app.selectbox(key="manage_invite_round").set_value(round_key).run()
    app.selectbox(key="manage_invite_agency").set_value("lived_experience")
    app.number_input(key="manage_invite_count").set_value(4)
    click(app, "Generate links")
    assert_no_exception(app)
    assert any("4 link(s) generated" in s.value for s in app.success)
    assert app.get("download_button")
    app.selectbox(key="manage_track_round").set_value(round_key).run()
    tracking = table_with(app, "agency", "invited", "started", "submitted", "response_rate")
    assert tracking.set_index("agency").loc["Lived experience", "invited"] == 4

    with demo_database() as session:
        assert services.round_info(session, round_key).status == "open"
    app.switch_page("app_pages/home.py").run()
    assert app.metric[1].value == "4"  # three demo rounds open, plus the new one


def test_manage_saves_opt_in_flags_and_peer_groups(app, demo_database):
    from assessment.storage import services

    with demo_database() as session:
        before = services.list_partnerships(session).iloc[0]
    app.run()
    app.switch_page("app_pages/manage.py").run()
    app.session_state["manage_partnerships_editor"] = {
        "edited_rows": {0: {"share_practice": not bool(before["share_practice"]), "groups": "coastal;metropolitan"}},
        "added_rows": [], "deleted_rows": []}
    app.run()
    app.button(key="manage_partnerships_save").click().run()
    assert_no_exception(app)
    with demo_database() as session:
        after = services.list_partnerships(session).set_index("partnership").loc[before["partnership"]]
    assert bool(after["share_practice"]) is not bool(before["share_practice"])
    assert after["groups"] == "coastal;metropolitan"


def test_promising_practices_show_the_top_quartile_never_a_score(app):
    # issue 11 defect 2: an exact score beside a practice, with the region's quartiles, gave scores away
    app.run()
    app.switch_page("app_pages/regions.py").run()
    assert_no_exception(app)
    listed: list[str] = []
    # the page opens on the latest period (9cffa2e); this small demo's practices may be in an earlier one
    for period in app.selectbox(key="regions_period").options:
        app.selectbox(key="regions_period").set_value(period).run()
        assert_no_exception(app)
        listed = [c.value for c in app.caption if "top quartile" in c.value]
        if listed:
            break
    assert listed  # the demo lists practices: the check below has something to read
    assert not any("score " in caption for caption in listed), listed
