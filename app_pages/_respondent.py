"""The respondent's page helpers: reading a pasted link, whom to ask, opening a section at its heading, and
where a returning respondent starts. The page itself is ``app_pages/take_assessment.py``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import streamlit as st

from assessment.service import INVITE_PARAMETER, RESUME_PARAMETER

WHOM_TO_ASK = ("If it still does not work, ask the person who sent you the invitation (usually your partnership's "
               "lead or the board's administrator) for a new link. They can see which links work and send you a "
               "new one; nobody else can.")


def pasted_link(text: str) -> tuple[str, str] | None:
    """``(parameter, secret)`` from a pasted invitation or resume link, or from the bare token; ``None`` if empty."""
    text = (text or "").strip()
    if not text:
        return None
    if "=" in text or "://" in text:
        query = parse_qs(urlsplit(text if "://" in text else f"x://x/?{text.split('?', 1)[-1]}").query)
        for parameter in (INVITE_PARAMETER, RESUME_PARAMETER):
            if query.get(parameter):
                return parameter, query[parameter][0].strip()
    return INVITE_PARAMETER, text


def paste_box(key: str) -> None:
    """A box to paste the link again; a pasted link is opened as if it had been followed."""
    pasted = st.text_input("Paste the invitation link from your email", key=key, type="password",
                           help="Copy the whole link, from https to the end, and paste it here.")
    found = pasted_link(pasted)
    if found is None:
        return
    for name in ("take_token", "take_refused", "take_respondent", "take_step", "take_done", "take_resume_key"):
        st.session_state.pop(name, None)
    parameter, secret = found
    if parameter == RESUME_PARAMETER:
        st.query_params[RESUME_PARAMETER] = secret
    else:
        st.session_state["take_token"] = secret
    st.session_state.pop(key, None)
    st.rerun()


def open_at_heading(step: int, heading: str) -> None:
    """Scroll the section's heading to the top and move the keyboard focus to it, once per section (the script
    runs when the section changes, not on every answer). No user text goes into the script."""
    prefix = heading.split(":", 1)[0] + ":"
    script = f"""<span data-look></span><script data-step="{int(step)}">
(function () {{
  var prefix = {prefix!r}, tries = 0;
  if (window.takeSectionShown === prefix) return;  // reruns of the same section (an answer saved) keep the focus
  window.takeSectionShown = prefix;
  function go() {{
    var found = Array.from(document.querySelectorAll('h2')).find(function (h) {{
      return h.textContent.trim().indexOf(prefix) === 0; }});
    if (!found) {{ if (tries++ < 40) setTimeout(go, 50); return; }}
    found.setAttribute('tabindex', '-1');
    found.scrollIntoView({{block: 'start'}});
    found.focus({{preventScroll: true}});
  }}
  go();
}})();
</script>"""
    st.html(script, unsafe_allow_javascript=True)


def first_unanswered(sections: list[list[str]], values: dict) -> int:
    """The index of the first section with an unanswered item (the review, ``len(sections)``, when none)."""
    for number, items in enumerate(sections):
        if any(not values.get(item) for item in items):
            return number
    return len(sections)
