"""Users and grants in storage, on SQLite and PostgreSQL: email grants bind at the first sign-in through a
configured provider only, unknown sign-ins are recorded, the last administrator stays, grants are audited."""

from __future__ import annotations

import pytest

from assessment.storage import services as s
from assessment.storage.users import add_user, audit_log, grant_role, list_users, revoke_role, sign_in

IDP = "https://login.example.org/tenant-a/v2.0"
OTHER_IDP = "https://evil.example.net"


@pytest.fixture
def kent(db):
    with db.sessions.begin() as session:
        s.add_partnership(session, "kent", "Kent crisis care partnership", members=["kent"], actor="test")


def _sign_in(db, subject, email, issuer=IDP, admins=()):
    with db.sessions.begin() as session:
        return sign_in(session, issuer=issuer, subject=subject, email=email, configured_issuers=[IDP], admins=admins)


def test_an_email_grant_binds_at_the_first_sign_in_through_a_configured_provider(db, kent):
    with db.sessions.begin() as session:
        grant_role(session, "Lee@Example.org", "partnership-lead", partnership="kent", actor="admin@example.org")
    assert _sign_in(db, "lee-at-other", "lee@example.org", issuer=OTHER_IDP).user is None  # never binds
    first = _sign_in(db, "lee-sub", "lee@example.org")
    assert first.bound_now and first.user.grants == (("partnership_lead", "kent"),)
    again = _sign_in(db, "lee-sub", "someone.else@example.org")  # known by issuer and subject, not by email
    assert not again.bound_now and again.user.email == "lee@example.org"
    assert _sign_in(db, "another-sub", "lee@example.org").user is None  # the email is bound already
    with db.sessions() as session:
        log = audit_log(session)
    assert set(log["action"]) >= {"grant", "sign-in", "sign-in-unknown"}
    assert (log["actor"] == "admin@example.org").any()


def test_assessment_admins_become_administrators_at_their_first_sign_in_only(db):
    first = _sign_in(db, "ann-sub", "ann@example.org", admins=["ANN@example.org"])
    assert first.user.grants == (("administrator", None),)
    with db.sessions.begin() as session:
        grant_role(session, "bob@example.org", "administrator", actor="ann@example.org")
        revoke_role(session, "ann@example.org", "administrator", actor="bob@example.org")
    later = _sign_in(db, "ann-sub", "ann@example.org", admins=["ann@example.org"])
    assert later.user.grants == ()  # a revoked administrator is not made one again by the setting


def test_roles_need_the_right_scope_and_the_last_administrator_stays(db, kent):
    with db.sessions.begin() as session:
        with pytest.raises(ValueError, match="granted on a partnership"):
            grant_role(session, "cal@example.org", "commissioner", actor="test")
        with pytest.raises(ValueError, match="national"):
            grant_role(session, "ana@example.org", "analyst", partnership="kent", actor="test")
        with pytest.raises(ValueError, match="is not one of"):
            grant_role(session, "x@example.org", "superuser", actor="test")
    with db.sessions.begin() as session:
        grant_role(session, "ann@example.org", "administrator", actor="test")
        grant_role(session, "ann@example.org", "administrator", actor="test")  # already held: nothing changes
        add_user(session, "dan@example.org", actor="test")
    with db.sessions.begin() as session, pytest.raises(s.Conflict, match="last administrator"):
        revoke_role(session, "ann@example.org", "administrator", actor="test")
    with db.sessions.begin() as session, pytest.raises(s.Conflict, match="already exists"):
        add_user(session, "DAN@example.org", actor="test")
    with db.sessions() as session:
        users = list_users(session)
        grants = (audit_log(session, action="grant")["entity_key"] == "ann@example.org").sum()
    assert list(users["email"]) == ["ann@example.org", "dan@example.org"]
    assert grants == 1
