"""Actions: a partnership's action plan, each action reviewed at the next round's close; leads add and edit."""

import datetime as dt

import streamlit as st

from app_pages import _actions as actions
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment.vocabulary import ACTION_STATUSES

version = resources.data_version()
st.title("Actions")
st.write("The actions the partnership agreed from its results: who owns each, the maturity level it aims "
         "for and when it is due. When the next round closes, each action shows whether its domain reached the "
         "target level and the change the Trends page shows for it (**improved**, **no clear change**, "
         "**declined**, **too few respondents**, **not comparable**).")
partnership = widgets.pick_partnership("actions", version)
if partnership is None:
    st.stop()
actions.flash()
questionnaire = actions.baseline_questionnaire(version, partnership)
frame = actions.readable(actions.partnership_actions(version, partnership), questionnaire, version)

left, middle, right = st.columns([2, 1, 1])
statuses = left.multiselect("Status", ACTION_STATUSES, default=list(ACTION_STATUSES), key="actions_status")
only_overdue = middle.toggle("Only overdue", key="actions_overdue")
shown = frame[frame["status"].isin(statuses)]
if only_overdue:
    shown = shown[shown["overdue"]]
open_ = frame["status"].isin(ACTION_STATUSES[:2])
cols = st.columns(4)
cols[0].metric("Open", int(open_.sum()))
cols[1].metric("Overdue", int(frame["overdue"].sum()))
cols[2].metric("Target met at review", int(frame["target_met"].fillna(False).astype(bool).sum()))
cols[3].metric("Awaiting review", int(frame["review_round"].isna().sum()))
if frame.empty:
    st.info("No actions yet." + (" Add one below, or from a domain's gap on the Results page."
                                 if actions.may_edit(partnership) else ""))
else:
    actions.show_table(shown, key="actions_table")
    right.caption(f"{len(shown)} of {len(frame)} action(s) · today {dt.date.today():%d %b %Y}")
    actions.downloads(shown, partnership)

if not actions.may_edit(partnership):
    st.caption("Only the partnership lead (or an administrator) can add or change actions.")
    st.stop()
if questionnaire is None:
    st.info("Actions are added once the partnership has a round: its questionnaire names the domains.")
    st.stop()
add, edit = st.tabs(["Add an action", "Edit an action"])
with add:
    actions.add_panel("actions_add", partnership, questionnaire,
                      domains={d.id: d.title for d in questionnaire.domains})
with edit:
    if frame.empty:
        st.caption("No actions to edit yet.")
    else:
        actions.edit_panel(frame, questionnaire)
