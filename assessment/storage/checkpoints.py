"""Named points inside write transactions where a test can step in, to force a race without sleeping.

The storage code calls :func:`reached` at the moments a race turns on: a round's status has been checked
under the round lock and the write is about to happen (``"answers.checked"``, ``"import.checked"``), or a
round is closed and its scores are computed but not yet committed (``"round.closing"``), or a respondent has
just started on a link, not yet committed (``"respondent.started"``). Nothing is
registered in production, so the call costs one dictionary look-up. A test registers a callback with
:func:`stepping_in` and, from inside it, tries the competing change on another connection, which must wait
for (or be refused by) the lock this transaction holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

__all__ = ["CHECKPOINTS", "reached", "stepping_in"]

CHECKPOINTS = ("answers.checked", "import.checked", "round.closing", "respondent.started")

Callback = Callable[..., None]
_callbacks: dict[str, list[Callback]] = {}
_lock = threading.Lock()


def reached(name: str, session: Session, **detail: Any) -> None:
    """Run the callbacks registered for ``name`` (none in production) with the session and ``detail``."""
    for callback in tuple(_callbacks.get(name, ())):
        callback(session, **detail)


@contextmanager
def stepping_in(name: str, callback: Callback) -> Iterator[None]:
    """Call ``callback(session, **detail)`` each time any thread reaches checkpoint ``name`` in this block."""
    if name not in CHECKPOINTS:
        raise ValueError(f"no checkpoint {name!r} (there are: {', '.join(CHECKPOINTS)})")
    with _lock:
        _callbacks.setdefault(name, []).append(callback)
    try:
        yield
    finally:
        with _lock:
            _callbacks[name].remove(callback)
