"""Manage as a partnership lead uses it (issue 15): period grammar and warnings at round creation."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from assessment.storage.invitations import hash_token
from assessment.storage.models import InvitationRow
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


def test_close_round_has_nothing_preselected_and_asks_for_confirmation_with_what_closing_gives(
        app, demo_database):  # noqa: F811
    from assessment.storage import services

    with demo_database() as session:
        rounds = services.list_rounds(session)
    round_key = rounds.loc[rounds["status"] == "open", "round"].iloc[0]
    app.run()
    app.switch_page("app_pages/manage.py").run()
    assert app.selectbox(key="manage_round_choice").value is None  # nothing preselected
    assert not [b for b in app.button if b.key in ("manage_close_round", "manage_close_confirmed")]

    app.selectbox(key="manage_round_choice").set_value(round_key).run()
    app.button(key="manage_close_round").click().run()
    assert_no_exception(app)
    with demo_database() as session:
        assert services.round_info(session, round_key).status == "open"  # one click closes nothing
    with demo_database() as session:
        preview = services.close_preview(session, round_key)
    counts = next(d.value for d in app.dataframe if "Links issued" in str(d.proto.columns) or
                  list(d.value.columns) == ["agency", "invited", "started", "submitted", "response_rate"])
    assert len(counts) == len(preview.counts)
    assert next(m for m in app.metric if m.label == "Started but not submitted").value == str(preview.unsubmitted)
    if preview.suppressed.empty:
        assert any(c.value == "No agency's figures will be hidden." for c in app.caption)
    else:
        from assessment.vocabulary import agency_label
        warning = next(w.value for w in app.warning if "will be hidden" in w.value)
        assert all(agency_label(a) in warning.replace("\\", "") for a in preview.suppressed["agency"])

    app.button(key="manage_close_cancel").click().run()
    with demo_database() as session:
        assert services.round_info(session, round_key).status == "open"
    assert not [b for b in app.button if b.key == "manage_close_confirmed"]

    app.button(key="manage_close_round").click().run()
    app.button(key="manage_close_confirmed").click().run()
    assert_no_exception(app)
    with demo_database() as session:
        assert services.round_info(session, round_key).status == "closed"
    assert any("is closed" in s.value for s in app.success)


def test_the_lead_sees_each_links_state_reissues_a_lost_one_and_withdraws_one(app, demo_database):  # noqa: F811
    from assessment.storage import services

    app.run()
    app.switch_page("app_pages/manage.py").run()
    round_key = app.selectbox(key="manage_invite_round").value
    app.selectbox(key="manage_invite_agency").set_value("lived_experience")
    app.number_input(key="manage_invite_count").set_value(2)
    click(app, "Generate links")
    assert_no_exception(app)
    table = next(d.value for d in app.dataframe if {"link", "state", "replaced_by"} <= set(d.value.columns))
    mine = table[table["agency"] == "Lived experience"].nlargest(2, "link")  # the two just generated
    assert set(mine["state"]) == {"issued"} and set(table["state"]) <= {"issued", "started", "submitted", "withdrawn"}
    lost, unused = (int(x) for x in mine["link"])

    app.selectbox(key="manage_link_choice").set_value(lost).run()
    app.button(key="manage_link_reissue").click().run()
    assert_no_exception(app)
    new_link = app.code[0].value
    assert "?invite=" in new_link
    with demo_database() as session:
        links = services.list_links(session, round_key).set_index("link")
        assert links.loc[lost, "state"] == "withdrawn" and not pd.isna(links.loc[lost, "replaced_by"])
        old_hash = session.scalar(select(InvitationRow.token_hash).where(InvitationRow.id == lost))
        (old_token,) = [t for t in (link.split("invite=")[1] for link in app.session_state["manage_links"]["link"])
                        if hash_token(t) == old_hash]
        with pytest.raises(services.InvalidInvitation):  # the lost token no longer works
            services.resolve_invitation(session, old_token)
        assert services.resolve_invitation(session, new_link.split("invite=")[1]).agency == "lived_experience"
        before = services.response_counts(session, round_key).set_index("agency").loc["lived_experience", "invited"]

    app.selectbox(key="manage_link_choice").set_value(unused).run()
    app.button(key="manage_link_withdraw").click().run()
    assert_no_exception(app)
    assert any(f"Link {unused} is withdrawn" in s.value for s in app.success)
    with demo_database() as session:
        assert services.list_links(session, round_key).set_index("link").loc[unused, "state"] == "withdrawn"
        after = services.response_counts(session, round_key).set_index("agency").loc["lived_experience", "invited"]
    assert after == before - 1


def test_smaller_manage_fixes(app):  # noqa: F811
    """Tables show no None; a blank Add partnership form says "required"; the examples follow the force."""
    app.run()
    app.switch_page("app_pages/manage.py").run()
    rounds = next(d.value for d in app.dataframe if {"round", "closed_at", "status"} <= set(d.value.columns))
    assert (rounds["status"] != "closed").any()  # open rounds have no closed_at
    assert not rounds.isna().any().any() and not (rounds.astype(str) == "None").any().any()

    click(app, "Add partnership")
    assert_no_exception(app)
    assert any("name and key are required" in e.value for e in app.error)

    app.selectbox(key="manage_new_force").set_value("dorset").run()
    placeholder = app.text_input(key="manage_new_name").placeholder
    assert "Dorset" in placeholder and "Kent" not in placeholder
    assert app.text_input(key="manage_new_key").placeholder == "dorset"
