"""Manage › Rounds: print a questionnaire version to share before a round opens (HTML, and PDF when the
``[pdf]`` extra is installed). The file is made when a download button is clicked
(``assessment.service.printable_questionnaire``, the same as ``assessment report --questionnaire``)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app_pages import _resources as resources
from assessment import service
from assessment.reports.board_pack import PDF_HELP, pdf_available
from assessment.vocabulary import AGENCIES, agency_label

__all__ = ["questionnaire_downloads"]


def _render(questionnaire: str, number: str, fmt: str, agency: str | None) -> Callable[[], bytes]:
    """The file, made on click as the person on the page (the click runs outside the page's run)."""
    who, factory = resources.principal(), resources.database().factory

    def render() -> bytes:
        with factory() as session:
            return service.printable_questionnaire(session, who, questionnaire, number, fmt=fmt, agency=agency)

    return render


def questionnaire_downloads(version: str) -> None:
    with st.expander("Print a questionnaire to share before a round opens", icon=":material/print:"):
        versions = resources.questionnaire_versions(version)
        offered = list(zip(versions["questionnaire"], versions["version"], strict=True))
        if not offered:
            st.caption("No questionnaire is published yet.")
            return
        latest = service.default_round_version(versions)  # the highest published version
        choice = st.selectbox("Questionnaire version", offered, index=offered.index(latest) if latest else 0,
                              format_func="@".join,
                              key="manage_print_version")
        agency = st.selectbox("For", [None, *AGENCIES], key="manage_print_agency",
                              format_func=lambda a: "every agency (each item says who is asked it)" if a is None
                              else f"{agency_label(a)} only (the items this agency is asked)")
        stem = f"{choice[0]}-{choice[1]}" + (f"-{agency}" if agency else "")
        left, right = st.columns(2)
        left.download_button("Questionnaire (HTML)", data=_render(*choice, "html", agency), file_name=f"{stem}.html",
                             mime="text/html", key="manage_print_html", icon=":material/description:")
        if pdf_available():
            right.download_button("Questionnaire (PDF)", data=_render(*choice, "pdf", agency),
                                  file_name=f"{stem}.pdf", mime="application/pdf", key="manage_print_pdf",
                                  icon=":material/picture_as_pdf:")
        else:
            right.caption(PDF_HELP)
