"""Outcome indicators: a partnership lead enters or imports the period's figures, then sees where police and
NHS figures disagree (reconciliation)."""

import pandas as pd
import streamlit as st

from app_pages import _indicators_beside as beside
from app_pages import _indicators_data as data
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment import service
from assessment.vocabulary import agency_label

version = resources.data_version()
principal = resources.principal()
st.title("Outcome indicators")
st.write("What is happening to people, beside the maturity scores: section 136 detentions, where people were "
         "taken, how long it took. Enter counts, hours and minutes; percentages and rates are computed from them, "
         "never typed in. Police and NHS may both report the same count: both are kept and compared below.")
if message := st.session_state.pop("indicators_message", None):
    st.success(message, icon=":material/check_circle:")
partnership = widgets.pick_partnership("indicators", version)
if partnership is None:
    st.stop()
catalogue = data.catalogue()
may_enter = principal.may("save_indicator_values", partnership)

if may_enter:
    stored = data.indicator_entered_values(version, partnership)
    rounds = widgets.partnership_rounds(version, partnership)
    periods = sorted(set(stored["period"]) | set(rounds["period"]), reverse=True)
    st.header("Enter figures")
    period = st.text_input("Period (YYYY, YYYY-H1, YYYY-Q1 or YYYY-YY)", value=periods[0] if periods else "",
                           key="indicators_period").strip()
    rows = pd.DataFrame([{"indicator": i.id, "name": i.name, "unit": i.definition.unit, "agency": a,
                          "agency_name": agency_label(a)}
                         for i in catalogue.indicators if not i.computed for a in i.reporting_agencies])
    now = stored[stored["period"] == period][["indicator", "agency", "value", "note"]]
    table = rows.merge(now, on=["indicator", "agency"], how="left")
    table["value"] = table["value"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    table["note"] = table["note"].fillna("").astype(str)
    edited = widgets.editor(
        table[["name", "agency_name", "unit", "value", "note"]], hide_index=True, key="indicators_editor",
        disabled=["name", "agency_name", "unit"], width="stretch",
        column_config={"name": "Indicator", "agency_name": "Reported by", "unit": "Unit",
                       "value": st.column_config.TextColumn("Value", help="A whole number for counts; blank removes"),
                       "note": st.column_config.TextColumn("Note (e.g. the source table)")})
    changed = (edited["value"].astype(str).str.strip() != table["value"]) | (edited["note"].astype(str) != table["note"])
    if st.button("Save the figures", key="indicators_save", type="primary", disabled=not changed.any()):
        values = table.loc[changed, ["indicator", "agency"]].assign(value=edited.loc[changed, "value"],
                                                                    note=edited.loc[changed, "note"])
        try:
            with resources.writing() as session:
                report = service.save_indicator_values(session, principal, partnership, period, values,
                                                       catalogue=catalogue)
        except service.ValidationFailed as exc:
            st.error("Nothing was saved: " + widgets.plain(exc.summary))
            widgets.table(service.problems_frame(exc.problems), hide_index=True, key="indicators_save_problems")
        else:
            st.session_state["indicators_message"] = (f"Saved {report.rows} figure(s) for {report.periods[0]} "
                                                      f"({report.removed} removed).")
            st.rerun()

    with st.expander("Import a CSV file (partnership, period, indicator, agency, value, note)"):
        st.caption("All or nothing: every problem is listed with its row and column, and nothing is stored "
                   "unless the whole file is good. The format is in docs/indicators.md.")
        upload = st.file_uploader("Indicator values (CSV)", type=["csv"], key="indicators_upload")
        if upload is not None and st.button("Import", key="indicators_import"):
            try:
                with resources.writing() as session:
                    report = service.import_indicator_values(session, principal, partnership, upload.getvalue(),
                                                             catalogue=catalogue)
            except service.ValidationFailed as exc:
                st.error(widgets.plain(exc.summary))
                widgets.table(service.problems_frame(exc.problems), hide_index=True, key="indicators_import_problems")
            else:
                st.session_state["indicators_message"] = (f"Imported {report.rows} figure(s) "
                                                          f"({report.replaced} replacing stored ones).")
                st.rerun()

st.header("Police and NHS figures side by side")
found = data.partnership_indicators(version, partnership)
st.caption(f"Where two agencies report the same count for a period: both figures, the difference and the ratio. "
           f"A pair is flagged when the two differ by more than {found.tolerance:.0%} of the larger "
           "(the setting ASSESSMENT_RECONCILIATION_TOLERANCE). NHS counts of section 136 leave out people held in "
           "police cells, so some difference is expected: check what each source counts.")
if found.reconciliation.empty:
    st.info("No indicator is reported by two agencies for the same period yet.")
else:
    beside.data_quality_notes(version, partnership)
    pairs = found.reconciliation.assign(agency=found.reconciliation["agency"].map(agency_label),
                                        other_agency=found.reconciliation["other_agency"].map(agency_label))
    widgets.table(pairs[["period", "name", "agency", "shown", "other_agency", "other_shown", "difference", "ratio",
                        "flagged", "reason"]], hide_index=True, key="indicators_reconciliation",
                 column_config={"period": "Period", "name": "Indicator", "agency": "Agency", "shown": "Figure",
                                "other_agency": "Other agency", "other_shown": "Other figure",
                                "difference": st.column_config.NumberColumn("Difference", format="%+.0f"),
                                "ratio": st.column_config.NumberColumn("Ratio", format="%.2f"),
                                "flagged": "Differ by more than the tolerance", "reason": "Blank because"})
