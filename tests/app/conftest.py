"""App tests run as the single operator on a laptop (``ASSESSMENT_AUTH=none`` on a loopback address) unless a
test says otherwise; tests/app/test_access.py covers sign-in, roles and the demo's "view as" switch."""

from __future__ import annotations

import pytest
from streamlit import config as st_config


@pytest.fixture(autouse=True)
def loopback_address():
    """Streamlit's ``server.address`` as ``--server.address 127.0.0.1`` would set it."""
    before = st_config.get_option("server.address"), st_config.get_option("client.showErrorDetails")
    st_config.set_option("server.address", "127.0.0.1")
    st_config.set_option("client.showErrorDetails", "full")  # a failing test shows the whole error
    yield
    st_config.set_option("server.address", before[0])
    st_config.set_option("client.showErrorDetails", before[1])
