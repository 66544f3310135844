"""Manage: questionnaires, partnerships, rounds, invitations, response tracking, import, export, backup, users,
audit log.

Each tab is a section in its own module (app_pages/_manage_*.py) and is shown only to roles the permission
table allows (the service layer refuses the rest anyway); every change goes through a service function in one
transaction and is recorded in the audit trail under the signed-in user.
"""

import streamlit as st

from app_pages import _manage_access as access
from app_pages import _manage_catalogue as catalogue
from app_pages import _manage_data as data
from app_pages import _manage_rounds as rounds
from app_pages import _resources as resources

version = resources.data_version()
principal = resources.principal()
st.title("Manage")
if message := st.session_state.pop("manage_message", None):
    st.success(message, icon=":material/check_circle:")
if warning := st.session_state.pop("manage_warning", None):
    st.warning(warning, icon=":material/warning:")

SECTIONS = [  # (tab, operation the section needs, section)
    ("Questionnaires", "publish_questionnaire", catalogue.questionnaires_section),
    ("Partnerships", "add_partnership", catalogue.partnerships_section),
    ("Rounds", "create_round", rounds.rounds_section),
    ("Invitations", "create_invitations", rounds.invitations_section),
    ("Response tracking", "response_counts", rounds.tracking_section),
    ("Import", "import_responses", data.import_section),
    ("Export and backup", "export_round", data.export_section),
    ("Users", "list_users", access.users_section),
    ("Audit log", "audit_log", access.audit_section),
]
# A partnership-scoped operation is shown when the role may do it on at least one partnership.
shown = [(tab, section) for tab, operation, section in SECTIONS if principal.may(operation)]
if not shown:
    st.info("There is nothing for you to manage.")
    st.stop()
# Keyed and tracked, so the page stays on the tab where the user acted (after a change and its rerun).
tabs = st.tabs([tab for tab, _ in shown], key="manage_tab", on_change="rerun")
for tab, (_, section) in zip(tabs, shown, strict=True):
    with tab:
        section(version)
