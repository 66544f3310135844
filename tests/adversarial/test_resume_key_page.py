"""Resume keys on the respondent's page (issue 15): a key that must not work, opened in a new browser session
(a refresh, a bookmark, a forwarded address), gets the one invalid-link box, stays on the respondent's page
(never the staff navigation) and shows no answers. The storage-level refusals are in test_resume_keys.py;
here the page itself is walked for each way a key stops working."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from assessment.service import INVALID_INVITATION_MESSAGE
from tests.app.test_respondent_resume import (  # noqa: F401  (the fixture, found by pytest by name)
    ROUND,
    answer_section,
    is_respondent_view,
    link,
    open_url,
    param,
    started,
)


def _change(how: str) -> None:
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory
    from assessment.storage.models import AnswerRow, InvitationRow, ResumeKeyRow

    engine = make_engine(load_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            if how == "round closed":
                services.close_round(session, ROUND, actor="lead")
            elif how == "link withdrawn":
                (number,) = services.list_links(session, ROUND)["link"].tolist()
                services.withdraw_link(session, number, actor="lead")
            elif how == "seven idle days":
                old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=8)
                session.execute(update(ResumeKeyRow).values(last_used_at=old, created_at=old))
                session.execute(update(AnswerRow).values(updated_at=old))
            elif how == "link expired":
                session.execute(update(InvitationRow).values(expires_at=dt.datetime(2020, 1, 1)))
    finally:
        engine.dispose()


@pytest.mark.parametrize("how", ["forged", "round closed", "link withdrawn", "seven idle days", "link expired"])
def test_a_key_that_must_not_work_gets_the_box_and_nothing_else(link, how):  # noqa: F811
    at = started(link)
    answer_section(at)
    key = param(at, "resume")
    if how == "forged":
        key = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    else:
        _change(how)
    stale = open_url(resume=key)
    assert is_respondent_view(stale)
    assert [e.value for e in stale.error] == [INVALID_INVITATION_MESSAGE]
    assert not stale.radio and not stale.header  # no section, no saved answer
    assert "resume" not in stale.query_params
