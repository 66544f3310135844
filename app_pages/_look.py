"""How every page looks and works by keyboard (issue 15): the favicon served from this deployment, a clearly
visible focus ring, captions dark enough for WCAG 2.2 AA contrast, and list semantics in the side menu.

Nothing here is fetched from outside the deployment, and no user text goes into the style or the script.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

#: The tab icon, a file of this app: Streamlit serves it itself (a ``:material/...:`` icon is fetched from a
#: font host on the internet, which a network without internet cannot reach).
FAVICON = str(Path(__file__).parent / "assets" / "favicon.png")
FOCUS = "#1d4ed8"  # 6.7:1 on white: WCAG 2.2 asks 3:1 for a focus indicator (2.4.7, 2.4.11, 1.4.11)
CAPTION = "#55575f"  # 7:1 on white (Streamlit's faded caption grey is 3.9:1, under the 4.5:1 of 1.4.3)

_STYLE = f"""<style>
:focus-visible {{ outline: 3px solid {FOCUS} !important; outline-offset: 2px !important; }}
label:has(input:focus-visible), [role="radiogroup"] label:has(input:focus-visible) {{
  outline: 3px solid {FOCUS}; outline-offset: 2px; border-radius: 4px; }}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] [data-testid="stCaptionContainer"] {{ color: {CAPTION} !important; opacity: 1 !important; }}
[data-testid="stElementContainer"]:has([data-look]) {{ display: none; }}
</style>"""

# Streamlit's side menu puts each section's heading and its links in a <div> inside the <ul>, which is not a
# valid list (axe: list, listitem). The menu is marked as a plain group of links instead; the <nav> stays.
_SCRIPT = """<span data-look></span><script>
(function () {
  if (window.lookMenuFixed) return;
  window.lookMenuFixed = true;
  function fix() {
    document.querySelectorAll('[data-testid="stSidebarNavItems"]').forEach(function (list) {
      if (list.getAttribute('role') !== 'none') list.setAttribute('role', 'none');
      list.querySelectorAll('li').forEach(function (item) {
        if (item.getAttribute('role') !== 'none') item.setAttribute('role', 'none');
      });
    });
  }
  fix();
  new MutationObserver(fix).observe(document.body, {childList: true, subtree: true});
})();
</script>"""


def apply() -> None:
    """The style and the menu fix, once per page run (the frame calls it before the page)."""
    st.html(_STYLE)
    st.html(_SCRIPT, unsafe_allow_javascript=True)
