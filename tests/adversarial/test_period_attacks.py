"""Malformed periods under attack (issue 15, the period grammar of assessment/periods.py), on SQLite and
PostgreSQL: a year and month order swapped (``2026-25`` for ``2025-26``), a quarter or half that does not
exist, an invisible or full-width character, a control character, a huge value. Each is refused with a
message naming the value (cut, for a huge one), and nothing is written: not the round, not an audit event.
Digits of another script are read as the digits they are and stored in the canonical ASCII form, so the
round's key and its peers' periods stay plain."""

from __future__ import annotations

import pytest

from assessment.storage import services as s
from assessment.storage.errors import InvalidInput
from tests.integration.conftest import ADMIN

BAD = {
    "2026-25": "not a financial year",  # the years in the wrong order
    "2026-Q5": "is not a period",
    "2026-H3": "is not a period",
    "2026-Q0": "is not a period",
    "2025-2026": "is not a period",
    "2026\u200b-H1": "is not a period",  # a zero-width space
    "2026-\uff281": "is not a period",  # a full-width H
    "2026-H1\x00": "is not a period",
    "1899-H1": "1900 or later",
}


@pytest.fixture
def kent(db, mini_v1):
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent", members=["kent"], actor=ADMIN)
    return mini_v1


@pytest.mark.parametrize("bad", list(BAD))
def test_a_malformed_period_is_refused_naming_it_and_nothing_is_written(db, kent, snapshot, bad):
    before = snapshot()
    with db.sessions.begin() as session, pytest.raises(InvalidInput) as caught:
        s.create_round(session, "kent", bad, questionnaire=kent.id, actor=ADMIN)
    message = str(caught.value)
    assert f"'{bad}'" in message and BAD[bad] in message, message
    assert snapshot() == before


def test_a_huge_period_is_refused_in_a_message_of_readable_length(db, kent, snapshot):
    before = snapshot()
    with db.sessions.begin() as session, pytest.raises(InvalidInput) as caught:
        s.create_round(session, "kent", "2026-H1" + "x" * 100_000, questionnaire=kent.id, actor=ADMIN)
    assert "is not a period" in str(caught.value) and len(str(caught.value)) < 500
    assert snapshot() == before


@pytest.mark.parametrize(("text", "label"), [
    ("\uff12\uff10\uff12\uff16-H1", "2026-H1"), ("\u0662\u0660\u0662\u0666-H1", "2026-H1"), (" 2026-h1\n", "2026-H1"),
    ("2025-\u0662\u0666", "2025-26"), ("\uff12\uff10\uff12\uff15-\uff12\uff16", "2025-26")])
def test_other_digits_and_surrounding_space_are_stored_in_the_canonical_form(db, kent, text, label):
    with db.sessions.begin() as session:
        info = s.create_round(session, "kent", text, questionnaire=kent.id, actor=ADMIN)
    assert (info.period, info.key) == (label, f"kent-{label.lower()}")
