"""Home: what the tool is for."""

import streamlit as st

st.title("Police–mental health partnership maturity assessment")
st.write(
    "Score a police–mental health partnership against the components of successful partnerships, "
    "compare it with peers and track improvement across assessment rounds."
)
