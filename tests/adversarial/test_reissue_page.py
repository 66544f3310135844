"""The respondent's page when the lead re-issues the link a browser is answering on (issue 15): the browser
session still open on the old link gets the one invalid-link box at its next rerun, never the staff
navigation, never the answers (which now belong to the new link's holder), and the new link's holder resumes
them."""

from __future__ import annotations

from sqlalchemy import select

from assessment.service import INVALID_INVITATION_MESSAGE
from tests.app.test_respondent_resume import (  # noqa: F401  (the fixture, found by pytest by name)
    ROUND,
    answer_section,
    is_respondent_view,
    link,
    ok,
    open_url,
    started,
)


def _reissue(token: str) -> str:
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory
    from assessment.storage.invitations import hash_token
    from assessment.storage.models import InvitationRow

    engine = make_engine(load_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            link_id = session.scalar(select(InvitationRow.id).where(InvitationRow.token_hash == hash_token(token)))
            return services.reissue_link(session, link_id, actor="lead", base_url="http://localhost:8501").token
    finally:
        engine.dispose()


def test_a_browser_still_on_a_reissued_link_gets_the_invalid_link_box_and_no_answers(link):  # noqa: F811
    at = started(link)
    answer_section(at)  # the finder of the lost link answers the first section
    new = _reissue(link)
    ok(at.run())  # their next rerun (any click)
    assert is_respondent_view(at)
    assert [e.value for e in at.error] == [INVALID_INVITATION_MESSAGE]
    assert not at.radio  # no section, no saved answers shown
    holder = open_url(invite=new)  # the new link's holder resumes the answers
    assert is_respondent_view(holder)
    assert holder.header[0].value.startswith("2 of 3:"), [h.value for h in holder.header]


def test_a_browser_whose_workshop_place_was_released_gets_the_box_not_a_crash(link):  # noqa: F811
    """A multi-use link: a browser starts and leaves the page open for more than 24 hours without answering;
    someone else opens the link, which releases the place (the empty start is removed). The first browser's
    next click used to crash the page (the respondent was gone); it gets the invalid-link box."""
    import datetime as dt

    from sqlalchemy import update

    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory
    from assessment.storage.models import RespondentRow, utcnow

    engine = make_engine(load_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            workshop = services.create_invitations(session, ROUND, "police", 1, max_uses=2, actor="lead",
                                                   base_url="http://localhost:8501")[0].rsplit("invite=", 1)[1]
        at = started(workshop)
        with make_session_factory(engine).begin() as session:
            session.execute(update(RespondentRow).values(started_at=utcnow() - dt.timedelta(hours=25)))
            services.start_respondent(session, workshop)  # someone else: the idle place is released
    finally:
        engine.dispose()
    ok(at.run())
    assert is_respondent_view(at)
    assert [e.value for e in at.error] == [INVALID_INVITATION_MESSAGE]
    assert not at.radio


def test_a_browser_answering_on_a_withdrawn_link_gets_the_box_at_its_next_answer(link):  # noqa: F811
    """The lead withdraws the link while its respondent is answering: the next answer is refused (storage),
    and the page then gives the one invalid-link box instead of the form (it kept showing the form, each
    answer met by "could not be saved")."""
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory

    at = started(link)
    engine = make_engine(load_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            (number,) = services.list_links(session, ROUND)["link"].tolist()
            services.withdraw_link(session, number, actor="lead")
    finally:
        engine.dispose()
    ok(at.radio[0].set_value("3").run())
    assert is_respondent_view(at)
    assert [e.value for e in at.error] == [INVALID_INVITATION_MESSAGE]
    assert not at.radio
