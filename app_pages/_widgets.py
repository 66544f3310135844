"""Widgets several pages share: the partnership and round pickers, domain titles, empty-state messages.

The chosen partnership and round live in the non-widget keys ``app_partnership`` and ``app_round`` so the
choice follows the user from page to page; each page's own widget keys carry the page's prefix.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from app_pages import _resources as resources
from assessment.questionnaire.schema import Questionnaire

# Every ASCII punctuation character (CommonMark lets any of them be backslash-escaped).
_MARKDOWN_CHARACTERS = re.compile(r"([!-/:-@\[-`{-~])")
# Where GitHub-flavoured Markdown would find a bare link in the text itself (after escapes are read):
# between "http(s):" and "//", between "www" and ".", after the "@" of an e-mail address.
_BARE_LINKS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
_WORD_JOINER = "\u2060"  # invisible; breaks the pattern without changing what the reader sees


def plain(text: object) -> str:
    """User text (names, periods, round keys, comments, questionnaire text) made safe for any place
    Streamlit reads Markdown: labels, captions, st.write/markdown/info, buttons, radio options, help.

    The one helper every page uses for such text (tables, selectbox options and ``st.text`` show text as
    it is and need none). Every Markdown character is escaped, so ``[a](https://x)`` and ``![b](...)``
    show as written and never become a link or an image; bare addresses get an invisible word joiner so
    they are not turned into links; line breaks become spaces, so no heading, list or quote can start.
    """
    one_line = " ".join(str(text).split())
    return _MARKDOWN_CHARACTERS.sub(r"\\\1", _BARE_LINKS.sub(_WORD_JOINER, one_line))


def partnership_names(version: str) -> dict[str, str]:
    places = resources.partnerships(version)
    return dict(zip(places["partnership"], places["name"], strict=True))


def pick_partnership(prefix: str, version: str) -> str | None:
    """A partnership selectbox whose choice is shared across pages; None when there are none."""
    names = partnership_names(version)
    if not names:
        st.info("No partnerships yet. Add one on the **Manage** page, or start with the synthetic demo "
                "(`assessment demo --reset`).")
        return None
    options = list(names)
    current = st.session_state.get("app_partnership")
    choice = st.selectbox("Partnership", options, index=options.index(current) if current in options else 0,
                          format_func=names.get, key=f"{prefix}_partnership")
    if choice != current:
        st.session_state["app_partnership"] = choice
        st.session_state.pop("app_round", None)
    return choice


def partnership_rounds(version: str, partnership: str, *, status: str | None = None) -> pd.DataFrame:
    frame = resources.rounds(version)
    frame = frame[frame["partnership"] == partnership]
    if status is not None:
        frame = frame[frame["status"] == status]
    return frame.sort_values("period").reset_index(drop=True)


def pick_round(prefix: str, version: str, partnership: str, *, status: str | None = None) -> str | None:
    """A round selectbox (latest first) for the partnership; the choice is shared across pages."""
    frame = partnership_rounds(version, partnership, status=status)
    if frame.empty:
        which = f"{status} " if status else ""
        st.info(f"This partnership has no {which}rounds yet.")
        return None
    frame = frame.iloc[::-1]
    labels = {r.round: f"{r.period} · questionnaire {r.version} · {r.status}" for r in frame.itertuples()}
    options = list(labels)
    current = st.session_state.get("app_round")
    choice = st.selectbox("Round", options, index=options.index(current) if current in options else 0,
                          format_func=labels.get, key=f"{prefix}_round")
    st.session_state["app_round"] = choice
    return choice


def domain_titles(questionnaire: Questionnaire | None) -> dict[str, str]:
    return {} if questionnaire is None else {d.id: d.title for d in questionnaire.domains}


def all_domain_titles(version: str) -> dict[str, str]:
    """Domain id -> title across every published version (the newest title wins)."""
    titles: dict[str, str] = {}
    for questionnaire in resources.questionnaires(version).values():
        titles.update(domain_titles(questionnaire))
    return titles


def in_domain_order(frame: pd.DataFrame, questionnaire: Questionnaire | None) -> pd.DataFrame:
    """Rows sorted into the questionnaire's domain order (stored frames come sorted by domain id)."""
    if questionnaire is None or frame.empty:
        return frame.reset_index(drop=True)
    position = {d.id: i for i, d in enumerate(questionnaire.domains)}
    order = frame["domain"].map(position).fillna(len(position))
    return frame.assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def round_questionnaire(version: str, round_key: str) -> Questionnaire | None:
    row = resources.rounds(version).set_index("round").loc[round_key]
    return resources.questionnaires(version).get((row["questionnaire"], row["version"]))


def suppression_note(reason: str) -> str:
    """Plain words for a suppression reason code."""
    return {
        "small_group": "fewer than the minimum number of respondents",
        "complementary": "hidden so that a small group's figure cannot be worked out from the others",
    }.get(reason, reason or "")


def table(data, **options):
    """``st.dataframe`` with missing values drawn as empty cells: a table never shows the word None (issue 15).
    Every table of the app goes through here (``tests/unit/test_code_checks.py``)."""
    return st.dataframe(data, placeholder="", **options)


def editor(data, **options):
    """``st.data_editor`` with missing values drawn as empty cells, as :func:`table`."""
    return st.data_editor(data, placeholder="", **options)
