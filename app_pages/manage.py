"""Manage: questionnaires, partnerships, rounds, invitations, response tracking, import, export, backup.

Each tab is a section in its own module (app_pages/_manage_*.py); every change goes through a storage
service function in one transaction and is recorded in the audit trail with the actor ``app``.
"""

import streamlit as st

from app_pages import _manage_catalogue as catalogue
from app_pages import _manage_data as data
from app_pages import _manage_rounds as rounds
from app_pages import _resources as resources

version = resources.data_version()
st.title("Manage")
if message := st.session_state.pop("manage_message", None):
    st.success(message, icon=":material/check_circle:")

tabs = st.tabs(["Questionnaires", "Partnerships", "Rounds", "Invitations", "Response tracking",
                "Import", "Export and backup"])
with tabs[0]:
    catalogue.questionnaires_section(version)
with tabs[1]:
    catalogue.partnerships_section(version)
with tabs[2]:
    rounds.rounds_section(version)
with tabs[3]:
    rounds.invitations_section(version)
with tabs[4]:
    rounds.tracking_section(version)
with tabs[5]:
    data.import_section(version)
with tabs[6]:
    data.export_section(version)
