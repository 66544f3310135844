"""While the first start loads the synthetic demo (8-20 s), staff pages work and say so, with the time so far;
when it is ready the whole page is drawn again once. The loading itself: ``_resources.FirstStart``."""

from __future__ import annotations

import streamlit as st

from app_pages import _resources as resources

USUALLY = "usually 8 to 20 seconds"


@st.fragment(run_every=2)
def _progress() -> None:
    preparation = resources.database().start
    if preparation.done.is_set():
        st.rerun(scope="app")  # the demo is in: every figure on the page is read again
    seconds = preparation.elapsed()
    st.progress(min(seconds / 20, 0.95),
                text=f"Loading the synthetic demo (first start only, {USUALLY}): {seconds:.0f} s so far. The pages "
                     "work meanwhile and fill in when it is ready.")


def notice(access) -> None:
    """The loading indicator on staff pages, only while the demo is loading; a failed load is said plainly."""
    if access.principal is None or not access.principal.is_staff:
        return
    preparation = resources.database().start
    if preparation.error is not None and preparation.done.is_set():
        st.error(f"The synthetic demo could not be loaded: {type(preparation.error).__name__}. The app works "
                 "without it; run `assessment demo --reset` to try again.", icon=":material/error:")
    elif resources.demo_loading():
        _progress()
