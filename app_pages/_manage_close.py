"""Manage › rounds: open a draft round, or close an open one after a confirmation that shows what closing
gives (response rate per agency, respondents who started but have not submitted, agencies that will be hidden).

Nothing is preselected: the lead picks the round, and closing takes two clicks.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from app_pages._manage_catalogue import done
from assessment import service
from assessment.vocabulary import agency_label

PENDING = "manage_close_pending"


def round_actions(version: str, rounds: pd.DataFrame) -> tuple[str, str] | None:
    """The "Open or close a round" panel; the round waiting for its close confirmation ``(key, label)``, if any
    (the caller draws :func:`confirm_close` full width, so every column of the response rates shows)."""
    st.markdown("**Open or close a round**")
    live = rounds[rounds["status"] != "closed"]
    if live.empty:
        st.caption("No draft or open rounds.")
        return None
    names = widgets.partnership_names(version)
    labels = {r.round: f"{names.get(r.partnership, r.partnership)} · {r.period} ({r.status})"
              for r in live.itertuples()}
    key = st.selectbox("Round", list(labels), index=None, format_func=labels.get, key="manage_round_choice",
                       placeholder="Choose a draft or open round")
    if key is None:
        st.session_state.pop(PENDING, None)
        return None
    status = live.set_index("round").loc[key, "status"]
    if status == "draft" and st.button("Open round", key="manage_open_round"):
        with resources.writing() as session:
            service.open_round(session, resources.principal(), key)
        done(f"Round {widgets.plain(key)} is open: invitation links now work.")
    if status == "open":
        st.caption("Closing freezes the answers and computes the official scores.")
        if st.button("Close round…", key="manage_close_round"):
            st.session_state[PENDING] = key
        if st.session_state.get(PENDING) == key:
            return key, labels[key]
    return None


def _options() -> dict:
    config = resources.settings()
    return {"min_coverage": config.min_coverage, "split_threshold": config.split_threshold,
            "min_group_size": config.min_group_size}


def confirm_close(key: str, label: str) -> None:
    """What closing gives, and the two buttons (drawn full width under the panel)."""
    with resources.reading() as session:
        preview = service.close_preview(session, resources.principal(), key, **_options())
    with st.container(border=True, key="manage_close_confirm"):
        st.markdown(f"**Close {widgets.plain(label)}?**")
        counts = preview.counts.assign(agency=preview.counts["agency"].map(agency_label))
        widgets.table(counts[["agency", "invited", "started", "submitted", "response_rate"]], hide_index=True,
                     key="manage_close_counts", width="stretch",
                     column_config={"agency": "Agency", "invited": "Links issued", "started": "Started",
                                    "submitted": "Submitted",
                                    "response_rate": st.column_config.NumberColumn("Response rate",
                                                                                   format="percent")})
        st.metric("Started but not submitted", preview.unsubmitted,
                  help="Their answers will not count once the round is closed.")
        if preview.suppressed.empty:
            st.caption("No agency's figures will be hidden.")
        else:
            hidden = ", ".join(f"{agency_label(a)} ({n} domain(s))"
                               for a, n in zip(preview.suppressed["agency"], preview.suppressed["domains"],
                                               strict=True))
            st.warning(f"Figures that will be hidden (fewer than {resources.settings().min_group_size} "
                       f"respondents): {widgets.plain(hidden)}.")
        left, right = st.columns(2)
        if left.button("Yes, close the round", key="manage_close_confirmed", type="primary"):
            with resources.writing() as session:
                service.close_round(session, resources.principal(), key, settings=resources.settings(), **_options())
            st.session_state.pop(PENDING, None)
            done(f"Round {widgets.plain(key)} is closed and its scores are computed.")
        if right.button("Cancel", key="manage_close_cancel"):
            st.session_state.pop(PENDING, None)
            st.rerun()
