"""Manage › rounds (create, open, close), invitations (generate, download, revoke), response tracking."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _manage_close as close
from app_pages import _manage_links as link_states
from app_pages import _printable as printable
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from app_pages._manage_catalogue import done
from assessment import service
from assessment.tabular import to_csv_bytes
from assessment.vocabulary import AGENCIES, agency_label


def rounds_section(version: str) -> None:
    rounds = resources.rounds(version)
    names = widgets.partnership_names(version)
    st.subheader("Rounds")
    widgets.table(link_states.blank_missing(rounds.assign(partnership=rounds["partnership"].map(names))[
        ["round", "partnership", "period", "version", "status", "respondents", "submitted", "closed_at"]]),
        hide_index=True, key="manage_rounds_table")
    left, right = st.columns(2)
    with left.form("manage_new_round", clear_on_submit=True):
        st.markdown("**Create a round**")
        partnership = st.selectbox("Partnership", list(names), format_func=names.get, key="manage_round_partnership")
        period = st.text_input("Period", placeholder="2026-H2", key="manage_round_period",
                               help="YYYY, YYYY-H1, YYYY-Q1 or YYYY-YY (a financial year, e.g. 2025-26).")
        versions = resources.questionnaire_versions(version)
        offered = list(zip(versions["questionnaire"], versions["version"], strict=True))
        latest = service.default_round_version(versions)  # the highest published version
        choice = st.selectbox("Questionnaire version", offered, index=offered.index(latest) if latest else 0,
                              format_func="@".join, key="manage_round_version")
        if st.form_submit_button("Create round"):
            try:
                with resources.writing() as session:
                    info = service.create_round(session, resources.principal(), partnership, period.strip(),
                                                questionnaire=choice[0], version=choice[1])
            except service.StorageError as exc:
                st.error(widgets.plain(exc))
            else:
                with resources.reading() as session:
                    warning = service.period_warning(session, resources.principal(), info.partnership, info.period,
                                                     window_months=resources.settings().peer_window_months)
                st.session_state["manage_warning"] = warning and widgets.plain(warning)
                done(f"Created round {widgets.plain(info.key)} (draft). Open it to send invitations.")
    with right:
        pending = close.round_actions(version, rounds)
    if pending is not None:  # full width: a half-width column scrolled the response rates out of sight
        close.confirm_close(*pending)
    printable.questionnaire_downloads(version)


def _open_round_picker(version: str, key: str) -> str | None:
    rounds = resources.rounds(version)
    live = rounds[rounds["status"] == "open"]
    if live.empty:
        st.info("No round is open. Create and open a round first.")
        return None
    names = widgets.partnership_names(version)
    labels = {r.round: f"{names.get(r.partnership, r.partnership)} · {r.period}" for r in live.itertuples()}
    return st.selectbox("Open round", list(labels), format_func=labels.get, key=key)


def invitations_section(version: str) -> None:
    st.subheader("Invitations")
    st.caption("Each link is for one person of one agency and works once (they can stop and resume until "
               "they submit). Links are shown only now: download them and send each to one person. A lost link "
               "can be re-issued below.")
    round_key = _open_round_picker(version, "manage_invite_round")
    if round_key is None:
        return
    base_url = link_states.invite_base()
    with st.form("manage_invite_form"):
        agency = st.selectbox("Agency", list(AGENCIES), format_func=agency_label, key="manage_invite_agency")
        count = st.number_input("How many links", min_value=1, max_value=500, value=10, key="manage_invite_count")
        days = st.number_input("Valid for (days)", min_value=1, max_value=180, value=30, key="manage_invite_days")
        if st.form_submit_button("Generate links"):
            with resources.writing() as session:
                links = service.create_invitations(session, resources.principal(), round_key, agency, int(count),
                                                    base_url=base_url, expires_days=int(days))
            st.session_state["manage_links"] = pd.DataFrame({"round": round_key, "agency": agency, "link": links})
    links = st.session_state.get("manage_links")
    if links is not None:
        st.success(f"{len(links)} link(s) generated. Download them now: they are not stored in clear.")
        st.download_button("Download the links (CSV)", data=to_csv_bytes(links), mime="text/csv",
                           file_name=f"{links['round'].iloc[0]}-{links['agency'].iloc[0]}-links.csv",
                           key="manage_links_download", icon=":material/download:")
    link_states.links_panel(round_key, base_url)
    st.markdown("**Withdraw links**")
    agency = st.selectbox("Agency (unused links)", ["every agency", *AGENCIES], key="manage_revoke_agency",
                          format_func=agency_label)
    if st.button("Withdraw the unused links", key="manage_revoke"):
        with resources.writing() as session:
            count = service.revoke_round_invitations(session, resources.principal(), round_key,
                                                      agency=None if agency == "every agency" else agency)
        done(f"Withdrew {count} link(s); anyone using them now sees the invalid-link message.")


def tracking_section(version: str) -> None:
    st.subheader("Response tracking")
    round_key = _open_round_picker(version, "manage_track_round")
    if round_key is None:
        return
    with resources.reading() as session:
        counts = service.response_counts(session, resources.principal(), round_key)
    counts = counts.assign(agency=counts["agency"].map(agency_label))
    total = counts[["invited", "started", "submitted"]].sum()
    cols = st.columns(3)
    cols[0].metric("Invited", int(total["invited"]))
    cols[1].metric("Started", int(total["started"]))
    cols[2].metric("Submitted", int(total["submitted"]))
    widgets.table(counts, hide_index=True, key="manage_track_table",
                 column_config={"agency": "Agency", "invited": "Invited", "started": "Started",
                                "submitted": "Submitted",
                                "response_rate": st.column_config.ProgressColumn("Response rate", format="percent",
                                                                                 min_value=0, max_value=1)})
    small = counts[(counts["submitted"] > 0) & (counts["submitted"] < resources.settings().min_group_size)]
    if not small.empty:
        st.caption(f"Fewer than {resources.settings().min_group_size} responses so far from: "
                   f"{', '.join(small['agency'])}. Their figures will not be shown unless more people respond.")
