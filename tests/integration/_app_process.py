"""One app process for tests/integration/test_two_app_processes.py: the Streamlit app through AppTest, in its
own OS process with its own engine (``ASSESSMENT_DATABASE_URL`` from the environment).

Reads one JSON command a line on stdin and answers one JSON line on stdout (everything else the app prints goes
to stderr). Commands: ``{"do": "home"}`` reruns Home and returns the "Rounds open now" figure and the rounds it
lists; ``{"do": "open_new_round", "period": ...}`` creates and opens a round through the Manage page.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")


def _table_with(at, *columns: str):
    for element in at.dataframe:
        if set(columns) <= set(element.value.columns):
            return element.value
    raise AssertionError(f"no table with columns {columns}")


def _check(at) -> None:
    if at.exception:
        raise RuntimeError("\n".join([at.exception[0].message, *at.exception[0].stack_trace]))


def _home(at) -> dict:
    at.switch_page("app_pages/home.py").run()
    _check(at)
    metrics = {m.label: m.value for m in at.metric}
    return {"open_now": metrics["Rounds open now"], "pid": os.getpid()}


def _open_new_round(at, period: str) -> dict:
    at.switch_page("app_pages/manage.py").run()
    _check(at)
    partnership = at.selectbox(key="manage_round_partnership").value
    at.text_input(key="manage_round_period").input(period)
    next(b for b in at.button if b.label == "Create round").click().run()
    _check(at)
    key = f"{partnership}-{period.lower()}"
    at.selectbox(key="manage_round_choice").set_value(key).run()
    at.button(key="manage_open_round").click().run()
    _check(at)
    if not any("is open" in s.value for s in at.success):
        raise RuntimeError(f"round {key} was not opened: {[s.value for s in at.success + at.error]}")
    return {"round": key, "pid": os.getpid()}


def main() -> None:
    reply = sys.stdout
    sys.stdout = sys.stderr  # the app's own output must not mix with the replies
    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    st_config.set_option("server.address", "127.0.0.1")  # the operator on a laptop (ASSESSMENT_AUTH=none)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    _check(at)
    reply.write(json.dumps({"ready": os.getpid()}) + "\n")
    reply.flush()
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["do"] == "home":
                answer = _home(at)
            elif command["do"] == "open_new_round":
                answer = _open_new_round(at, command["period"])
            else:
                raise ValueError(f"unknown command {command['do']!r}")
        except Exception as exc:  # reported to the test, which fails with it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


if __name__ == "__main__":
    main()
