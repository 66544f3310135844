"""Invite links as the lead sees them: each link's state, re-issuing a lost link, withdrawing one.

A link's **state**: ``withdrawn`` (revoked: by the lead, by a re-issue, or with the round's unused links),
else ``submitted`` (every respondent who came through it has submitted), ``started`` (someone is answering
through it), or ``issued`` (nobody has opened it yet). Links are told apart by their number (the row id);
the token itself is never stored, so a lost link cannot be shown again: it is **re-issued** instead. The
new link gets a new token, the old one is revoked (its holder gets the same refusal as a forged link), and
whoever had started on the old link continues on the new one (their resume keys are withdrawn, so only the
new link's holder can go on).

Response rates count the places on links issued and not withdrawn; a withdrawn link still counts the
respondents who submitted through it (see :func:`invited_places`).
"""

from __future__ import annotations

import secrets

import pandas as pd
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from assessment.storage._common import StateError, audit, get_round
from assessment.storage.errors import NotFound
from assessment.storage.invitations import IssuedInvitation, hash_token, issue_invitations
from assessment.storage.models import InvitationRow, RespondentRow, ResumeKeyRow, RoundRow, utcnow

__all__ = ["LINK_COLUMNS", "LINK_STATES", "invited_places", "link_round", "list_links", "reissue_link",
           "withdraw_link"]

LINK_STATES = ("issued", "started", "submitted", "withdrawn")
LINK_COLUMNS = ("link", "agency", "state", "places", "started", "submitted", "created_at", "expires_at",
                "withdrawn_at", "replaced_by")


def invited_places(round_id: int):
    """Per agency, the places invited in a round: a live link's ``max_uses``; a withdrawn link's submitted
    respondents (they did answer). A select of ``agency, invited``."""
    submitted = (select(func.count()).select_from(RespondentRow)
                 .where(RespondentRow.invitation_id == InvitationRow.id, RespondentRow.submitted_at.is_not(None))
                 .scalar_subquery())
    places = case((InvitationRow.revoked.is_(False), InvitationRow.max_uses), else_=submitted)
    return (select(InvitationRow.agency, func.sum(places).label("invited"))
            .where(InvitationRow.round_id == round_id).group_by(InvitationRow.agency))


def list_links(session: Session, round_key: str) -> pd.DataFrame:
    """Every link of a round with its state, newest first. Columns :data:`LINK_COLUMNS`."""
    row = get_round(session, round_key)
    counts = (select(RespondentRow.invitation_id, func.count().label("started"),
                     func.sum(case((RespondentRow.submitted_at.is_not(None), 1), else_=0)).label("submitted"))
              .group_by(RespondentRow.invitation_id).subquery())
    found = session.execute(
        select(InvitationRow.id, InvitationRow.agency, InvitationRow.revoked, InvitationRow.max_uses,
               func.coalesce(counts.c.started, 0), func.coalesce(counts.c.submitted, 0), InvitationRow.created_at,
               InvitationRow.expires_at, InvitationRow.withdrawn_at, InvitationRow.replaced_by_id)
        .outerjoin(counts, counts.c.invitation_id == InvitationRow.id)
        .where(InvitationRow.round_id == row.id).order_by(InvitationRow.id.desc())).all()
    frame = pd.DataFrame(found, columns=["link", "agency", "revoked", "places", "started", "submitted", "created_at",
                                         "expires_at", "withdrawn_at", "replaced_by"])
    frame = frame.astype({"link": "int64", "places": "int64", "started": "int64", "submitted": "int64"})
    revoked = frame["revoked"].astype(bool)
    frame["state"] = "issued"
    frame.loc[frame["started"] > 0, "state"] = "started"
    frame.loc[(frame["submitted"] > 0) & (frame["submitted"] == frame["started"]), "state"] = "submitted"
    frame.loc[revoked, "state"] = "withdrawn"
    frame["replaced_by"] = frame["replaced_by"].astype("Int64")
    return frame[list(LINK_COLUMNS)]


def link_round(session: Session, link: int) -> str:
    """The key of the round a link belongs to (:class:`NotFound` when there is no such link)."""
    key = session.scalar(select(RoundRow.key).join(InvitationRow, InvitationRow.round_id == RoundRow.id)
                         .where(InvitationRow.id == int(link)))
    if key is None:
        raise NotFound(f"no invite link number {link}")
    return key


def _live_link(session: Session, link: int, doing: str) -> InvitationRow:
    row = session.scalar(select(InvitationRow).where(InvitationRow.id == int(link)).with_for_update())
    if row is None:
        raise NotFound(f"no invite link number {link}")
    if row.revoked:
        raise StateError(f"link {link} is already withdrawn: it cannot be {doing}")
    return row


def _unsubmitted(link_id: int):
    return (RespondentRow.invitation_id == link_id) & RespondentRow.submitted_at.is_(None)


def reissue_link(session: Session, link: int, *, actor: str, base_url: str,
                 expires_days: int = 30) -> IssuedInvitation:
    """A new link in place of a lost one: same round, agency and places; the old token stops working and
    whoever had started on it continues on the new link, under a new respondent key (a browser session still
    open on the old link can no longer read, save or submit). A multi-use link's submitted respondents move
    to the new link too, with its count of uses, so its places are not handed out or counted twice.
    Refused for a withdrawn or fully submitted link."""
    old = _live_link(session, link, "re-issued")
    started, submitted = session.execute(
        select(func.count(), func.sum(case((RespondentRow.submitted_at.is_not(None), 1), else_=0)))
        .where(RespondentRow.invitation_id == old.id)).one()
    if started and (submitted or 0) >= old.max_uses:
        raise StateError(f"link {link} has been used and submitted: there is nothing to re-issue")
    round_key = session.scalar(select(RoundRow.key).where(RoundRow.id == old.round_id))
    issued = issue_invitations(session, round_key, old.agency, 1, actor=actor, base_url=base_url,
                               expires_days=expires_days, max_uses=old.max_uses)[0]
    new_id = session.scalar(select(InvitationRow.id).where(InvitationRow.token_hash == hash_token(issued.token)))
    now = utcnow()
    moved = select(RespondentRow.id).where(_unsubmitted(old.id))
    session.execute(delete(ResumeKeyRow).where(ResumeKeyRow.respondent_id.in_(moved)))
    # Whoever is still answering continues on the new link under a new pseudonymous key: a browser session
    # still open on the old link knows only the old key, so it can no longer read, save or submit them.
    for respondent_id in session.scalars(moved).all():
        session.execute(update(RespondentRow).where(RespondentRow.id == respondent_id)
                        .values(key=f"r-{secrets.token_hex(6)}", invitation_id=new_id))
    if old.max_uses > 1:  # a workshop link's used places move with it: never handed out or counted twice
        session.execute(update(RespondentRow).where(RespondentRow.invitation_id == old.id).values(invitation_id=new_id))
        session.execute(update(InvitationRow).where(InvitationRow.id == new_id).values(uses=old.uses))
    session.execute(update(InvitationRow).where(InvitationRow.id == old.id)
                    .values(revoked=True, withdrawn_at=now, replaced_by_id=new_id))
    audit(session, actor, "reissue", "invitation", str(old.id), round=round_key, replaced_by=new_id)
    return issued


def withdraw_link(session: Session, link: int, *, actor: str) -> None:
    """Withdraw one link: its token stops working (the uniform refusal) and its unused places stop counting
    as invited. Whoever had started on it can no longer answer; submitted answers stay."""
    row = _live_link(session, link, "withdrawn")
    now = utcnow()
    session.execute(delete(ResumeKeyRow).where(ResumeKeyRow.respondent_id.in_(
        select(RespondentRow.id).where(_unsubmitted(row.id)))))
    session.execute(update(InvitationRow).where(InvitationRow.id == row.id).values(revoked=True, withdrawn_at=now))
    audit(session, actor, "withdraw", "invitation", str(row.id))

