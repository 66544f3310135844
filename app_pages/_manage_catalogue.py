"""Manage › questionnaires (versions, differences, publish) and partnerships (opt-ins, peer groups)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment import service
from assessment.demo import shipped_questionnaires
from assessment.questionnaire.crosswalk import build_crosswalk, compare_versions
from assessment.questionnaire.schema import version_key


def done(message: str) -> None:
    st.session_state["manage_message"] = message
    st.rerun()


def questionnaires_section(version: str) -> None:
    st.subheader("Published questionnaire versions")
    published = resources.questionnaire_versions(version)
    widgets.table(published[["questionnaire", "version", "title", "published_at", "published_by", "content_hash"]],
                 hide_index=True, key="manage_versions_table")
    found, problems = shipped_questionnaires(resources.settings())
    done_keys = set(published["questionnaire"] + "@" + published["version"])
    waiting = [q for q in found if q.key not in done_keys]
    for line in problems:
        st.warning(f"Not publishable: {widgets.plain(line)}")
    if waiting:
        choice = st.selectbox("Publish a questionnaire file from the questionnaires folder", [q.key for q in waiting],
                              key="manage_publish_choice")
        if st.button("Publish", key="manage_publish"):
            with resources.writing() as session:
                service.publish_questionnaire(session, resources.principal(), next(q for q in waiting if q.key == choice))
            done(f"Published {widgets.plain(choice)}. Published versions never change; a fix is a new version.")
    else:
        st.caption("Every valid file in the questionnaires folder is published.")

    st.subheader("What changed between two versions")
    versions = resources.questionnaires(version)
    keys = sorted(versions, key=lambda k: (k[0], version_key(k[1])))
    if len(keys) < 2:
        st.caption("Only one version is published.")
        return
    left, right = st.columns(2)
    old = left.selectbox("From", keys, index=0, format_func="@".join, key="manage_diff_old")
    new = right.selectbox("To", keys, index=len(keys) - 1, format_func="@".join, key="manage_diff_new")
    a, b = versions[old], versions[new]
    if b.previous == a.version and a.id == b.id:
        walk = build_crosswalk(a, b)
        widgets.table(pd.DataFrame([{"change": c.change, "old item": c.old or "", "new item(s)": ", ".join(c.new),
                                    "domain": c.new_domain or c.old_domain or ""} for c in walk.items
                                   if c.change != "unchanged"]), hide_index=True, key="manage_diff_items")
    chain = {q.version: q for (qid, _), q in versions.items() if qid == a.id}
    comparability = compare_versions(a, b, chain).values()
    widgets.table(pd.DataFrame([{"domain": d.domain, "comparable": d.comparable, "why": d.reason}
                               for d in comparability]), hide_index=True, key="manage_diff_domains")


def partnerships_section(version: str) -> None:
    st.subheader("Partnerships")
    places = resources.partnerships(version)
    st.caption("Opt-ins: *share practice* puts the partnership's evidence comments in the promising-practice "
               "library when it scores in the top quartile; *named to peers* shows its name there.")
    edited = widgets.editor(
        places[["partnership", "name", "nation", "region", "groups", "share_practice", "named_to_peers"]],
        hide_index=True, key="manage_partnerships_editor", disabled=["partnership", "nation", "region"],
        column_config={"groups": st.column_config.TextColumn("Peer groups (separated by ;)"),
                       "share_practice": "Share practice", "named_to_peers": "Named to peers"},
    )
    if st.button("Save changes", key="manage_partnerships_save"):
        changed = edited.merge(places, on="partnership", suffixes=("", "_before"))
        count = 0
        with resources.writing() as session:
            for row in changed.itertuples():
                if (row.name, row.share_practice, row.named_to_peers) != (
                        row.name_before, row.share_practice_before, row.named_to_peers_before):
                    service.update_partnership(session, resources.principal(), row.partnership, name=row.name,
                                                share_practice=bool(row.share_practice),
                                                named_to_peers=bool(row.named_to_peers))
                    count += 1
                if row.groups != row.groups_before:
                    service.set_peer_groups(session, resources.principal(), row.partnership, [g for g in str(row.groups).split(";")
                                                                       if g.strip()])
                    count += 1
        done(f"Saved {count} change(s).")

    st.markdown("**Add a partnership** (usually one police force area)")
    with resources.reading() as session:
        forces = service.list_organisations(session, resources.principal())
    forces = forces[forces["kind"] == "police"]
    force_names = dict(zip(forces["organisation"], forces["name"], strict=True))
    # Outside the form, so the examples below follow the force chosen.
    force = st.selectbox("Police force", forces["organisation"], format_func=force_names.get, key="manage_new_force")
    with st.form("manage_add_partnership", clear_on_submit=True):
        name = st.text_input("Name (required)", placeholder=f"{force_names.get(force, '')} crisis care partnership",
                             key="manage_new_name")
        key = st.text_input("Key (required; lower case, used in links and files)", placeholder=str(force),
                            key="manage_new_key")
        if st.form_submit_button("Add partnership"):
            try:
                with resources.writing() as session:
                    service.add_partnership(session, resources.principal(), key.strip(), name, members=[force])
            except service.StorageError as exc:
                st.error(widgets.plain(exc))
            else:
                done(f"Added {widgets.plain(name)}.")
