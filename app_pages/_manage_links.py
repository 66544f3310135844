"""Manage › invitations: each link of the round with its state; re-issue a lost link, withdraw one."""

from __future__ import annotations

import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from app_pages._manage_catalogue import done
from assessment import service
from assessment.settings import invite_base_url
from assessment.vocabulary import agency_label

REISSUED = "manage_reissued_link"


def blank_missing(frame):
    """The frame for display: missing values as empty cells (a table never shows the word None); dates and
    times as ``YYYY-MM-DD HH:MM``. Numbers with a gap become text, so only use it on tables that are read."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_datetime64_any_dtype(values) or values.map(lambda v: hasattr(v, "strftime")).any():
            values = pd.to_datetime(values, errors="coerce").dt.strftime("%Y-%m-%d %H:%M")
        if values.isna().any():
            out[column] = values.astype("string").fillna("").astype(str)
        else:
            out[column] = values
    return out


def served_root() -> str | None:
    """The address this app is served at, as the browser sees it (scheme, host, port, base path), or None."""
    from urllib.parse import urlsplit

    url = st.context.url
    if not url:
        return None
    parts = urlsplit(url)
    base_path = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{parts.scheme}://{parts.netloc}" + (f"/{base_path}" if base_path else "")


def invite_base() -> str:
    """The address new invite links are built on; a warning on the page when it is probably wrong."""
    base, warning = invite_base_url(resources.settings().base_url, served_root())
    if warning:
        st.warning(widgets.plain(warning), icon=":material/link_off:")
    return base


def links_panel(round_key: str, base_url: str) -> None:
    """The round's links and the two actions on one link."""
    st.markdown("**Links of this round**")
    st.caption("Issued: nobody has opened it yet. Started: someone is answering. Submitted: done. Withdrawn: it no "
               "longer works (withdrawn, or replaced by a re-issued link). Response rates count the places on "
               "links issued and not withdrawn.")
    if reissued := st.session_state.get(REISSUED):
        st.success(f"New link for link {reissued['old']}: send it to the same person. The old link no longer works; "
                   "whatever they had answered carries on with the new one.")
        st.code(reissued["link"], language=None)
    with resources.reading() as session:
        links = service.list_links(session, resources.principal(), round_key)
    if links.empty:
        st.caption("No links yet.")
        return
    shown = blank_missing(links.assign(agency=links["agency"].map(agency_label)))
    widgets.table(shown, hide_index=True, key="manage_links_table",
                 column_config={"link": "Link", "agency": "Agency", "state": "State", "places": "Places",
                                "started": "Started", "submitted": "Submitted", "created_at": "Issued at",
                                "expires_at": "Expires", "withdrawn_at": "Withdrawn at",
                                "replaced_by": "Re-issued as"})
    live = links[links["state"] != "withdrawn"]
    if live.empty:
        return
    labels = {int(r.link): f"Link {r.link} · {agency_label(r.agency)} · {r.state}" for r in live.itertuples()}
    chosen = st.selectbox("Link", list(labels), index=None, format_func=labels.get, key="manage_link_choice",
                          placeholder="Choose a link to re-issue or withdraw")
    if chosen is None:
        return
    left, right = st.columns(2)
    if left.button("Re-issue (a new link; the old one stops working)", key="manage_link_reissue"):
        new = _act(lambda session: service.reissue_link(session, resources.principal(), chosen, base_url=base_url))
        st.session_state[REISSUED] = {"old": chosen, "link": new}
        st.rerun()
    if right.button("Withdraw this link", key="manage_link_withdraw"):
        _act(lambda session: service.withdraw_link(session, resources.principal(), chosen))
        st.session_state.pop(REISSUED, None)
        done(f"Link {chosen} is withdrawn: it no longer works and no longer counts as invited.")


def _act(action):
    """Run one change in its own transaction; a refusal is shown and stops the page."""
    try:
        with resources.writing() as session:
            return action(session)
    except service.StorageError as exc:
        st.error(widgets.plain(exc))
        st.stop()
