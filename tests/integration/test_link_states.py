"""Invite links as the lead sees them (issue 15): each link's state, re-issuing a lost link, withdrawing one,
and response rates on links issued and not withdrawn. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from assessment.storage import services as s
from assessment.storage.errors import StateError
from assessment.storage.resume import check_resume_key, issue_resume_key

ADMIN = "board.secretary@example.org"
ROUND = "kent-2026-h1"


@pytest.fixture
def four_links(db, mini_v1):
    """Four single-use police links: one untouched, one started, one submitted, one withdrawn."""
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent", members=["kent"], actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, actor=ADMIN)
        s.open_round(session, ROUND, actor=ADMIN)
        tokens = [link.split("invite=")[1] for link in
                  s.create_invitations(session, ROUND, "police", 4, actor=ADMIN, base_url="http://x")]
    with db.sessions.begin() as session:
        started = s.start_respondent(session, tokens[1]).respondent
        done = s.start_respondent(session, tokens[2]).respondent
        s.save_answer(session, ROUND, done, "governance.joint_board", "3")
        s.submit_respondent(session, ROUND, done)
        links = s.list_links(session, ROUND).sort_values("link")["link"].tolist()
        s.withdraw_link(session, links[3], actor=ADMIN)
    return dict(zip(("issued", "started", "submitted", "withdrawn"), links, strict=True)), tokens, started


def states(db) -> dict[int, str]:
    with db.sessions() as session:
        links = s.list_links(session, ROUND)
    return dict(zip(links["link"], links["state"], strict=True))


def test_each_link_shows_its_state(db, four_links):
    links, _, _ = four_links
    assert states(db) == {links[state]: state for state in links}


def test_response_rates_count_links_issued_and_not_withdrawn(db, four_links):
    with db.sessions() as session:
        police = s.response_counts(session, ROUND).set_index("agency").loc["police"]
    assert (police["invited"], police["submitted"]) == (3, 1)
    assert police["response_rate"] == pytest.approx(1 / 3)
    with db.sessions.begin() as session:  # withdrawing the unused links leaves the started one alone
        assert s.revoke_round_invitations(session, ROUND, actor=ADMIN) == 1
    with db.sessions() as session:
        police = s.response_counts(session, ROUND).set_index("agency").loc["police"]
    assert (police["invited"], police["submitted"]) == (2, 1)  # the started link and the submitted one
    links, _, _ = four_links
    assert states(db)[links["started"]] == "started"


def test_a_lost_link_is_reissued_the_old_token_fails_and_the_respondent_continues(db, four_links):
    links, tokens, started = four_links
    with db.sessions.begin() as session:
        key = issue_resume_key(session, ROUND, started)
        new_link = s.reissue_link(session, links["started"], actor=ADMIN, base_url="http://x")
    assert new_link.link.startswith("http://x/?invite=")
    with db.sessions() as session, pytest.raises(s.InvalidInvitation):
        s.resolve_invitation(session, tokens[1])
    with db.sessions() as session:  # the same respondent, under a new key (a session on the old link has lost it)
        resumed = s.resolve_invitation(session, new_link.token).respondent
        assert resumed is not None and resumed != started
        assert len(s.respondent_answers(session, ROUND, resumed)) == 0
        with pytest.raises(StateError):
            s.respondent_answers(session, ROUND, started)
        after = s.list_links(session, ROUND).set_index("link")
        police = s.response_counts(session, ROUND).set_index("agency").loc["police"]
    assert after.loc[links["started"], "state"] == "withdrawn"
    replacement = int(after.loc[links["started"], "replaced_by"])
    assert after.loc[replacement, "state"] == "started"
    assert police["invited"] == 3  # the replacement takes the old link's place; nothing is counted twice
    with db.sessions.begin() as session:  # a resume key made from the lost link no longer opens the respondent
        assert check_resume_key(session, key, browser="b", address=None) is None


def test_withdrawn_and_submitted_links_cannot_be_reissued_or_withdrawn_again(db, four_links):
    links, _, _ = four_links
    with db.sessions.begin() as session, pytest.raises(StateError, match="already withdrawn"):
        s.reissue_link(session, links["withdrawn"], actor=ADMIN, base_url="http://x")
    with db.sessions.begin() as session, pytest.raises(StateError, match="already withdrawn"):
        s.withdraw_link(session, links["withdrawn"], actor=ADMIN)
    with db.sessions.begin() as session, pytest.raises(StateError, match="nothing to re-issue"):
        s.reissue_link(session, links["submitted"], actor=ADMIN, base_url="http://x")
