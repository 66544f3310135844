"""Manage › users (add by email, grant or revoke a role and scope) and the audit log (filter, download)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from app_pages._manage_catalogue import done
from assessment import service
from assessment.permissions import ROLE_LABELS, SCOPED_ROLES, STAFF_ROLES
from assessment.tabular import to_csv_bytes


def users_section(version: str) -> None:
    st.subheader("Users")
    st.caption("Add people by the email their organisation's sign-in uses. The grant binds to their account "
               "at their first sign-in; until then nobody can use it. Partnership leads, board members and "
               "commissioners are granted per partnership (a commissioner's portfolio is one grant per partnership).")
    with resources.reading() as session:
        users = service.list_users(session, resources.principal())
    names = widgets.partnership_names(version)
    shown = users.assign(role=users["role"].map(lambda r: ROLE_LABELS.get(r, "") if isinstance(r, str) else ""),
                         partnership=users["partnership"].map(lambda p: names.get(p, p) if isinstance(p, str) else ""))
    widgets.table(shown, hide_index=True, key="manage_users_table",
                 column_config={"email": "Email", "name": "Name", "role": "Role", "partnership": "Partnership",
                                "signed_in": "Has signed in",
                                "last_sign_in": st.column_config.DatetimeColumn("Last sign-in (UTC)")})
    with st.form("manage_grant_form"):
        st.markdown("**Grant or revoke a role**")
        email = st.text_input("Email", key="manage_grant_email")
        role = st.selectbox("Role", STAFF_ROLES, format_func=ROLE_LABELS.get, key="manage_grant_role")
        partnership = st.selectbox("Partnership (partnership lead, board member, commissioner)",
                                   ["", *names], format_func=lambda k: names.get(k, "—"), key="manage_grant_partnership")
        grant, revoke = st.columns(2)
        granted = grant.form_submit_button("Grant", type="primary")
        revoked = revoke.form_submit_button("Revoke")
    if granted or revoked:
        scope = partnership if role in SCOPED_ROLES else None
        try:
            with resources.writing() as session:
                change = service.grant_role if granted else service.revoke_role
                change(session, resources.principal(), email, role, partnership=scope or None)
        except (service.StorageError, ValueError) as exc:
            st.error(str(exc))
        else:
            done(f"{'Granted' if granted else 'Revoked'}: {ROLE_LABELS[role]} "
                 f"{'to' if granted else 'from'} {email.strip().lower()}.")


def audit_section(version: str) -> None:
    st.subheader("Audit log")
    st.caption("Sign-ins, grant changes, round state changes, imports, exports, backups and restores: who, what, "
               "when and on what. Times are UTC.")
    cols = st.columns(4)
    since = cols[0].date_input("From", value=dt.date.today() - dt.timedelta(days=30), key="manage_audit_since")
    until = cols[1].date_input("To", value=dt.date.today(), key="manage_audit_until")
    actor = cols[2].text_input("Who (contains)", key="manage_audit_actor")
    action = cols[3].text_input("Action (exact, e.g. sign-in, grant, closed)", key="manage_audit_action")
    with resources.reading() as session:
        log = service.audit_log(session, resources.principal(),
                                since=dt.datetime.combine(since, dt.time()),
                                until=dt.datetime.combine(until + dt.timedelta(days=1), dt.time()),
                                actor=actor.strip() or None, action=action.strip() or None)
    log = log.assign(detail=log["detail"].map(lambda d: ", ".join(f"{k}={v}" for k, v in (d or {}).items())))
    widgets.table(log, hide_index=True, key="manage_audit_table",
                 column_config={"at": st.column_config.DatetimeColumn("When (UTC)"), "actor": "Who",
                                "action": "Action", "entity": "On", "entity_key": "Which", "detail": "Detail"})
    st.download_button("Download the audit log (CSV)", data=to_csv_bytes(log), file_name="audit-log.csv",
                       mime="text/csv", key="manage_audit_download", icon=":material/download:")
