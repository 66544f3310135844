"""Sign in: the only page for a visitor who is not signed in (and for a signed-in user with no access yet)."""

import streamlit as st

from app_pages import _frame as frame

gate = st.session_state.get(frame.GATE_KEY) or "sign_in"
st.title("Partnership maturity assessment")

if gate == "auth_none_exposed":
    st.error("This app is not started. ASSESSMENT_AUTH=none runs without sign-in, as administrator, so it is "
             "allowed only when Streamlit listens on a loopback address (this machine only). Start it with "
             "`streamlit run streamlit_app.py --server.address 127.0.0.1`, or configure sign-in: set "
             "ASSESSMENT_AUTH=oidc and add an [auth] section to .streamlit/secrets.toml (see docs/access.md).",
             icon=":material/block:")
    st.stop()

if gate == "no_access":
    st.warning("You have no access yet; ask an administrator to grant you a role.", icon=":material/lock:")
    if st.button("Sign out", key="signin_logout", icon=":material/logout:"):
        frame.sign_out()
    st.stop()

st.write("Staff of the partnership's organisations sign in with their own organisation's account. If you "
         "were sent an invitation link to answer the assessment, open that link instead: it needs no account.")
configured = frame.providers()
if not configured:
    st.info("Sign-in is not configured on this server: add an [auth] section with one [auth.<name>] provider "
            "per organisation to .streamlit/secrets.toml (see docs/access.md).", icon=":material/info:")
for name in configured:
    if st.button(f"Sign in with {name.replace('-', ' ').replace('_', ' ')}", key=f"signin_{name}", type="primary",
                 icon=":material/login:"):
        st.login(name)
