"""Issue 11, defect 5: text from users is shown as text, never as Markdown (no link, no image, no heading).

Streamlit reads Markdown in st.write/markdown/caption/info/header, button and widget labels, radio options,
help texts and expander labels (docs.streamlit.io, st.selectbox "label"; st.radio "options"); selectbox
options, tables and st.text show text as it is. Every page, and the respondent's invite page, is run
through AppTest with partnerships and actions named like a phishing message (a period is no longer user
text: it follows the grammar of assessment.periods, and one with a link in it is refused); every
string Streamlit would read as Markdown is rendered with a CommonMark renderer and must hold no link and no
image, and no bare address GitHub-flavoured Markdown would turn into a link. The browser test
(tests/e2e/test_browser.py) checks the same in Chromium, with no request leaving for evil.example.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from assessment.storage import services as s
from tests.adversarial import disclosure_world as world
from tests.integration.conftest import ADMIN

ROOT = Path(__file__).resolve().parents[2]
EVIL = "Lancs [phish](https://evil.example/p) ![b](https://evil.example/b2.png)"
EVIL_PERIOD = "[p](//evil.example)"
LONE_PERIOD = "2026-H2"
PAGES = ("home", "results", "trends", "actions", "indicators", "regions", "outcomes", "portfolio", "manage")
# AppTest element types whose text Streamlit renders as Markdown, and the attributes holding it
MARKDOWN_VALUES = {"markdown", "caption", "latex", "title", "header", "subheader", "heading", "error", "info",
                   "success", "warning", "exception", "toast", "divider"}
MARKDOWN_LABELS = {"button", "checkbox", "radio", "selectbox", "multiselect", "text_input", "text_area",
                   "number_input", "metric", "expander", "tab", "download_button", "toggle", "date_input",
                   "form_submit_button", "page_link", "status"}
_RENDER = MarkdownIt("commonmark")
_BARE_LINK = re.compile(r"https?://|www\.|[\w.+-]@[\w-]+\.", re.IGNORECASE)


def markdown_strings(at) -> list[str]:
    """Every string on the page that Streamlit renders as Markdown (labels, bodies, help, radio options)."""
    found: list[str] = []

    def walk(node) -> None:
        kind = getattr(node, "type", "")
        if kind in MARKDOWN_VALUES and isinstance(getattr(node, "value", None), str):
            found.append(node.value)
        if kind in MARKDOWN_LABELS or kind == "expandable":
            for attribute in ("label", "help"):
                value = getattr(node, attribute, None)
                if isinstance(value, str) and value:
                    found.append(value)
        proto = getattr(node, "proto", None)
        if kind == "radio" and proto is not None:
            found.extend(str(option) for option in proto.options)
        if kind == "expandable" and proto is not None and proto.HasField("expandable"):
            found.append(proto.expandable.label)
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                walk(child)

    walk(at._tree)
    return found


def live(markdown: str) -> list[str]:
    """What in a Markdown string would become a link or an image, or a bare address Streamlit links."""
    html = _RENDER.render(markdown)
    problems = re.findall(r"<(?:a|img)\b[^>]*>", html)
    text = re.sub(r"<[^>]+>", "", html)
    return problems + _BARE_LINK.findall(text)


def test_the_check_would_see_a_link_and_an_image():
    assert len(live(EVIL)) >= 2 and live("see https://evil.example") and live("mail a@b.org")


def test_a_period_with_a_link_in_it_is_refused(sqlite_db, mini_v1):
    from assessment.storage.errors import InvalidInput

    with sqlite_db.sessions.begin() as session:
        world.build(session, mini_v1)
        with pytest.raises(InvalidInput, match="is not a period"):
            s.create_round(session, "lone", EVIL_PERIOD, questionnaire="mini-partnership", version="1.0.0",
                           actor=ADMIN, key="lone-evil")


@pytest.fixture
def evil_app(sqlite_db, mini_v1, tmp_path, monkeypatch):
    import streamlit as stl

    db = sqlite_db
    with db.sessions.begin() as session:
        rounds = world.build(session, mini_v1, name_of=lambda key: f"{key} {EVIL}")
        s.create_round(session, "lone", LONE_PERIOD, questionnaire="mini-partnership", version="1.0.0",
                       actor=ADMIN, key="lone-evil")
        s.open_round(session, "lone-evil", actor=ADMIN)
        for partnership in ("tiny", "lone"):  # an action in the lead's own words (what, owner, notes)
            s.add_action(session, partnership, domain="governance", what=f"Agree {EVIL}", owner=EVIL[:60],
                         notes=EVIL, target_level=3, due="2027-01-31", actor=ADMIN)
        token = s.create_invitations(session, "lone-evil", "police", 1, actor=ADMIN,
                                     base_url="http://localhost:8501")[0].rsplit("invite=", 1)[1]
    monkeypatch.setenv("ASSESSMENT_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ASSESSMENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSESSMENT_DEMO", "0")
    monkeypatch.setenv("ASSESSMENT_BOOTSTRAP_RESAMPLES", "200")
    # walked as the laptop operator (ASSESSMENT_AUTH=none on a loopback address): an administrator sees every page
    monkeypatch.setenv("ASSESSMENT_AUTH", "none")
    from streamlit import config as st_config

    address = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")
    stl.cache_resource.clear()
    stl.cache_data.clear()
    yield rounds, token
    st_config.set_option("server.address", address)
    stl.cache_resource.clear()
    stl.cache_data.clear()


def test_no_page_renders_markdown_from_a_user(evil_app):
    from streamlit.testing.v1 import AppTest

    rounds, token = evil_app
    seen: dict[str, list[str]] = {}
    for partnership, round_key in (("tiny", rounds["tiny_shown"]), ("lone", "lone-evil")):
        for page in PAGES:
            at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
            at.session_state["app_partnership"] = partnership
            at.session_state["app_round"] = round_key
            at.run()
            at.switch_page(f"app_pages/{page}.py").run()
            assert not at.exception, [e.message for e in at.exception]
            seen[f"{page} ({partnership})"] = markdown_strings(at)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["invite"] = token
    at.run()
    seen["invite page"] = markdown_strings(at)
    at.button(key="take_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    seen["assessment"] = markdown_strings(at)

    # the names really are on the pages (as text), so the check is not vacuous
    shown = " ".join(text for texts in seen.values() for text in texts)
    assert "phish" in shown and "Lancs" in shown and "evil" in shown
    assert {where: problems for where, texts in seen.items()
            for problems in [[p for text in texts for p in live(text)]] if problems} == {}
