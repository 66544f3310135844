"""Home: what the tool is for, pick a partnership and round, round status at a glance."""

import streamlit as st

from app_pages import _frame as app_frame
from app_pages import _resources as resources
from app_pages import _widgets as widgets

version = resources.data_version()
st.title("Police–mental health partnership maturity assessment")
st.write(
    "A partnership board scores its police–mental health partnership against the components of successful "
    "partnerships found in the national and international evidence (Crisis Care Concordat, Right Care "
    "Right Person, CIT core elements and others), sees where its agencies see things differently, compares "
    "itself with peer partnerships and tracks improvement from round to round."
)

all_rounds = resources.rounds(version)
places = resources.partnerships(version)
left, middle, right, last = st.columns(4)
left.metric("Partnerships", len(places))
middle.metric("Rounds open now", int((all_rounds["status"] == "open").sum()))
right.metric("Closed rounds", int((all_rounds["status"] == "closed").sum()))
last.metric("Submitted responses", int(all_rounds["submitted"].sum()))

st.subheader("Your partnership")
partnership = widgets.pick_partnership("home", version)
if partnership is not None:
    row = places.set_index("partnership").loc[partnership]
    groups = ", ".join(widgets.plain(g) for g in row["groups"].split(";") if g)
    st.write(f"{widgets.plain(row['name'])} · {widgets.plain(row['region'])}, {widgets.plain(row['nation'])}"
             + (f" · peer groups: {groups}" if groups else ""))
    chosen = widgets.pick_round("home", version, partnership)
    frame = widgets.partnership_rounds(version, partnership)
    widgets.table(
        frame[["period", "version", "status", "respondents", "submitted", "closed_at"]],
        hide_index=True, width="stretch",
        column_config={"period": "Period", "version": "Questionnaire version", "status": "Status",
                       "respondents": st.column_config.NumberColumn("Started"),
                       "submitted": st.column_config.NumberColumn("Submitted"),
                       "closed_at": st.column_config.DatetimeColumn("Closed", format="D MMM YYYY")},
        key="home_rounds",
    )
    if chosen is not None:
        status = frame.set_index("round").loc[chosen, "status"]
        if status == "closed":
            st.success("This round is closed: its scores are official.", icon=":material/task_alt:")
        elif status == "open":
            st.info("This round is open: responses are still coming in. Track them on **Manage**.",
                    icon=":material/hourglass_top:")
        else:
            st.info("This round is a draft: open it on **Manage** to send invitations.")
    menu = {key for keys in app_frame.menu_for(resources.principal().roles).values() for key in keys}
    links = [(key, label, icon) for key, label, icon in (
        ("results", "See the results", ":material/bar_chart:"), ("trends", "Follow the trends", ":material/trending_up:"),
        ("regions", "Compare regions", ":material/map:")) if key in menu]
    for col, (key, label, icon) in zip(st.columns(3), links, strict=False):
        col.page_link(f"app_pages/{key}.py", label=label, icon=icon)
