"""Manage › import responses (validation report, progress bar), export a round, back up the database."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from app_pages._manage_catalogue import done
from assessment import service
from assessment.errors import ValidationFailed


def _round_labels(version: str, statuses: tuple[str, ...]) -> dict[str, str]:
    rounds = resources.rounds(version)
    names = widgets.partnership_names(version)
    rounds = rounds[rounds["status"].isin(statuses)]
    return {r.round: f"{names.get(r.partnership, r.partnership)} · {r.period} · {r.status}" for r in rounds.itertuples()}


def import_section(version: str) -> None:
    st.subheader("Import responses")
    st.caption("A CSV file with the columns partnership, round, respondent, agency, item, value and optionally "
               "comment (the format of `assessment score`). The whole file is checked first: if anything is "
               "wrong, nothing is imported and every problem is listed with its row and column.")
    labels = _round_labels(version, ("draft", "open"))
    if not labels:
        st.info("No draft or open round to import into.")
        return
    round_key = st.selectbox("Into round", list(labels), format_func=labels.get, key="manage_import_round")
    upload = st.file_uploader("Responses file (CSV, UTF-8)", type=["csv"], key="manage_import_file")
    if upload is None or not st.button("Check and import", key="manage_import", type="primary"):
        return
    bar = st.progress(0.0, text="Checking the file…")

    def progress(done_rows: int, total: int) -> None:
        bar.progress(done_rows / total if total else 1.0, text=f"Saving answers: {done_rows:,} of {total:,}")

    try:
        with resources.writing() as session:
            report = service.import_responses(session, resources.principal(), round_key, upload.getvalue(),
                                               progress=progress)
    except ValidationFailed as exc:
        bar.empty()
        # The import's own summary may already end "; nothing was imported": say it once.
        summary = re.sub(r"[;,.]?\s*nothing was imported\.?$", "", exc.summary or "The file has problems",
                         flags=re.IGNORECASE)
        st.error(f"{widgets.plain(summary)}. Nothing was imported.", icon=":material/error:")
        widgets.table(service.problems_frame(exc.problems), hide_index=True, key="manage_import_report",
                     column_config={"row": "Row", "column": "Column", "code": "Code", "problem": "Problem"})
        return
    except service.StorageError as exc:
        bar.empty()
        st.error(widgets.plain(exc))
        return
    done(f"Imported {report.answers:,} answers from {report.respondents} respondents into {widgets.plain(round_key)}.")


def export_section(version: str) -> None:
    st.subheader("Export a closed round")
    labels = _round_labels(version, ("closed",))
    if labels:
        round_key = st.selectbox("Round", list(labels), format_func=labels.get, key="manage_export_round")

        def workbook() -> bytes:
            with resources.reading() as session:
                return service.export_round(session, resources.principal(), round_key, "xlsx")

        def domain_scores_csv() -> bytes:
            with resources.reading() as session:
                return service.export_round(session, resources.principal(), round_key, "csv", table="domain_scores")

        left, right = st.columns(2)
        left.download_button("Every score table (Excel)", data=workbook, file_name=f"{round_key}.xlsx",
                             mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             key="manage_export_xlsx", icon=":material/download:")
        right.download_button("Domain scores (CSV)", data=domain_scores_csv, file_name=f"{round_key}-domain-scores.csv",
                              mime="text/csv", key="manage_export_csv", icon=":material/download:")
        st.caption("Board exports carry figures only, with the figures of small groups left blank. Respondents' "
                   "answers leave only through the data custodian's export (`assessment custodian-export`), "
                   "which is recorded in the audit trail. Exports are formula-safe.")
    else:
        st.info("No closed round yet: a round's scores can be exported once it closes.")

    if not resources.principal().may("backup"):
        return
    st.subheader("Back up the database")
    st.caption("One file with every table; restore it into an empty database with `assessment restore`. "
               "Restored invite links come back revoked.")
    if resources.settings().backup_key is None:
        st.warning("ASSESSMENT_BACKUP_KEY is not set, so backups are unsigned: restoring one will need "
                   "`--accept-unsigned`. See docs/settings.md.")
    if st.button("Make a backup", key="manage_backup"):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"assessment-backup-{stamp}.zip"
            info = service.backup(resources.database().engine, resources.principal(), path,
                                  key=resources.settings().backup_key)
            st.session_state["manage_backup_file"] = (path.name, path.read_bytes(), sum(info.rows.values()))
    if saved := st.session_state.get("manage_backup_file"):
        name, content, rows = saved
        st.download_button(f"Download {name} ({rows:,} rows)", data=content, file_name=name,
                           mime="application/zip", key="manage_backup_download", icon=":material/download:")
