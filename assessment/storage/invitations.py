"""Invite links: random tokens, stored only as SHA-256 hashes, scoped to a round and an agency.

A token is ``secrets.token_urlsafe(32)`` (256 bits). The plain token is returned once, inside the links,
and never stored; the database keeps its SHA-256. Every refusal (unknown, forged, expired, used up,
revoked, round not open) raises :class:`InvalidInvitation` with the same message, so a link reveals
nothing about why it fails; and every refusal runs the same SQL statements (one look-up that finds the
link, its round and its places together, then the same decisions in Python), so the database's work does
not tell the outcomes apart either.

Places: a use of a link is reserved when a respondent starts and held while they answer; a respondent who
starts and saves no answer within :data:`RESERVATION` (24 hours) releases it. So a multi-use link (a
workshop) never has more respondents than uses, even when many people open it at once (starting takes
the link's row lock: ``FOR UPDATE`` on PostgreSQL, the write transaction on SQLite). A single-use link
resumes its own respondent until they submit.

Guessing is throttled: :func:`check_invitation` counts the failed guesses of a browser session and of a
client address in the ``invitation_failures`` table (shared by every app replica) and refuses to look at
any token once either passes its limit within the window (:class:`GuessLimits`, from the settings).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from assessment.storage._common import StateError, audit, check_agency, get_round
from assessment.storage.errors import InvalidInput
from assessment.storage.models import (
    AnswerRow,
    InvitationFailureRow,
    InvitationRow,
    PartnershipRow,
    QuestionnaireVersionRow,
    RespondentRow,
    RoundRow,
    utcnow,
)

__all__ = [
    "INVALID_INVITATION_MESSAGE",
    "RESERVATION",
    "GuessLimits",
    "InvalidInvitation",
    "InvitationContext",
    "TooManyGuesses",
    "check_invitation",
    "guarded_guess",
    "create_invitations",
    "hash_token",
    "invitation_link",
    "issue_invitations",
    "IssuedInvitation",
    "reserve_place",
    "resolve_invitation",
    "revoke_invitation",
]

INVALID_INVITATION_MESSAGE = ("This invitation link is not valid: it may be mistyped, expired, withdrawn or "
                              "already used. Ask the person who sent it for a new link.")
INVITE_PARAMETER = "invite"
#: A respondent who starts and saves no answer for this long releases their place on the link.
RESERVATION = dt.timedelta(hours=24)


class InvalidInvitation(Exception):
    """Every refusal of an invite token, with one message whatever the reason."""

    def __init__(self) -> None:
        super().__init__(INVALID_INVITATION_MESSAGE)


class TooManyGuesses(Exception):
    """Too many invite links that did not work were tried from this browser session or client address."""

    def __init__(self, window: dt.timedelta) -> None:
        minutes = max(1, round(window.total_seconds() / 60))
        super().__init__("Too many invitation links that do not work were tried from this browser or network. "
                         f"Wait {minutes} minutes, then open the link you were sent again.")


@dataclass(frozen=True)
class GuessLimits:
    """Failed guesses allowed within ``window`` per browser session and per client address
    (settings ``ASSESSMENT_INVITE_GUESSES_PER_BROWSER``, ``..._PER_ADDRESS``, ``..._WINDOW_MINUTES``)."""

    per_browser: int = 10
    per_address: int = 50
    window: dt.timedelta = dt.timedelta(minutes=60)

    @classmethod
    def from_settings(cls, settings) -> GuessLimits:
        """The limits an ``assessment.settings.Settings`` asks for."""
        return cls(settings.invite_guesses_per_browser, settings.invite_guesses_per_address,
                   dt.timedelta(minutes=settings.invite_guess_window_minutes))

    def __post_init__(self) -> None:
        if self.per_browser < 1 or self.per_address < 1:
            raise ValueError("the guess limits must allow at least one failed guess")
        if self.window <= dt.timedelta(0):
            raise ValueError("the guess window must be longer than zero")


@dataclass(frozen=True)
class IssuedInvitation:
    token: str  # shown once, never stored
    link: str
    expires_at: dt.datetime
    max_uses: int


@dataclass(frozen=True)
class InvitationContext:
    """What a valid token gives access to."""

    invitation_id: int
    round: str
    partnership: str
    agency: str
    questionnaire: str
    version: str
    period: str
    single_use: bool
    uses_left: int
    respondent: str | None  # single-use link: the respondent it already started (resume), if any


def hash_token(token: str) -> str:
    """SHA-256 hex of a token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_link(base_url: str, token: str) -> str:
    """The one place links are built: ``<base_url>/?invite=<token>``."""
    return f"{base_url.rstrip('/')}/?{INVITE_PARAMETER}={token}"


def issue_invitations(session: Session, round_key: str, agency: str, count: int, *, actor: str, base_url: str,
                      expires_days: int = 30, max_uses: int = 1) -> list[IssuedInvitation]:
    """Create ``count`` invitations for one agency in a round; the plain tokens are in the result only."""
    check_agency(agency)
    if count < 1 or count > 10_000:
        raise InvalidInput("count must be between 1 and 10,000")
    if expires_days < 1:
        raise InvalidInput("expires_days must be at least 1")
    if max_uses < 1:
        raise InvalidInput("max_uses must be at least 1")
    row = get_round(session, round_key)
    if row.status == "closed":
        raise StateError(f"round '{round_key}' is closed: reopen it before inviting more people")
    now = utcnow()
    expires_at = now + dt.timedelta(days=expires_days)
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    session.execute(insert(InvitationRow), [
        {"token_hash": hash_token(t), "round_id": row.id, "agency": agency, "expires_at": expires_at,
         "max_uses": max_uses, "uses": 0, "revoked": False, "created_at": now, "created_by": actor}
        for t in tokens])
    audit(session, actor, "invite", "round", round_key, agency=agency, count=count, max_uses=max_uses,
          expires_at=expires_at.isoformat())
    return [IssuedInvitation(t, invitation_link(base_url, t), expires_at, max_uses) for t in tokens]


def create_invitations(session: Session, round_key: str, agency: str, count: int, *, actor: str, base_url: str,
                       expires_days: int = 30, max_uses: int = 1) -> list[str]:
    """Create ``count`` invitations and return their links (the only time the tokens exist in clear)."""
    return [i.link for i in issue_invitations(session, round_key, agency, count, actor=actor, base_url=base_url,
                                              expires_days=expires_days, max_uses=max_uses)]


_NO_TOKEN = hashlib.sha256(b"").hexdigest()  # what a malformed token is looked up as: matches no link


def _digest(token: object) -> str:
    """The SHA-256 to look up; a token of the wrong type or length is looked up too (as a digest no link
    has), so it costs the same statements as any other refusal."""
    return hash_token(token) if isinstance(token, str) and 20 <= len(token) <= 100 else _NO_TOKEN


def _holding_place(cutoff: dt.datetime):
    """Respondents who hold a place on their link: submitted, answered, or started after ``cutoff``."""
    return or_(RespondentRow.submitted_at.is_not(None), RespondentRow.started_at > cutoff,
               exists().where(AnswerRow.respondent_id == RespondentRow.id))


def _find(session: Session, token: object, now: dt.datetime):
    """The one look-up of a token: the link, its round, how many places are held, and (single-use) the
    respondent to resume, in a single statement; then the decision, in Python. ``None`` for any refusal."""
    digest = _digest(token)
    held = (select(func.count()).select_from(RespondentRow)
            .where(RespondentRow.invitation_id == InvitationRow.id, _holding_place(now - RESERVATION))
            .scalar_subquery())
    resumable = (select(RespondentRow.key)
                 .where(RespondentRow.invitation_id == InvitationRow.id, RespondentRow.submitted_at.is_(None))
                 .order_by(RespondentRow.id).limit(1).scalar_subquery())
    found = session.execute(
        select(InvitationRow.id, InvitationRow.token_hash, InvitationRow.agency, InvitationRow.expires_at,
               InvitationRow.max_uses, InvitationRow.revoked, RoundRow.key.label("round"), RoundRow.status,
               PartnershipRow.key.label("partnership"), QuestionnaireVersionRow.questionnaire,
               QuestionnaireVersionRow.version, RoundRow.period, held.label("held"),
               resumable.label("resumable"))
        .join(RoundRow, RoundRow.id == InvitationRow.round_id)
        .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
        .join(QuestionnaireVersionRow, QuestionnaireVersionRow.id == RoundRow.questionnaire_version_id)
        .where(InvitationRow.token_hash == digest)).one_or_none()
    # The index finds the row; compare_digest keeps the final comparison constant-time.
    admitted = (found is not None and hmac.compare_digest(found.token_hash, digest) and not found.revoked
                and found.expires_at > now and found.status == "open"
                and ((found.max_uses == 1 and found.resumable is not None) or found.held < found.max_uses))
    return found if admitted else None


def _context(found) -> InvitationContext:
    single = found.max_uses == 1
    return InvitationContext(found.id, found.round, found.partnership, found.agency, found.questionnaire,
                             found.version, found.period, single, max(found.max_uses - found.held, 0),
                             found.resumable if single else None)


def resolve_invitation(session: Session, token: str) -> InvitationContext:
    """Check a token and say what it opens; raise :class:`InvalidInvitation` for any refusal.

    This does not count failed guesses: the app calls :func:`check_invitation`, which does.
    """
    found = _find(session, token, utcnow())
    if found is None:
        raise InvalidInvitation()
    return _context(found)


def _client_digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _advisory_key(digest: str) -> int:
    return int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)


def check_invitation(session: Session, token: str, *, browser: str, address: str | None,
                     limits: GuessLimits = GuessLimits()) -> InvitationContext | None:
    """Check a token for the app, counting failed guesses: what it opens, or ``None`` for any refusal.

    ``browser`` identifies the browser session, ``address`` the client's address (``None`` when unknown).
    A refusal is recorded in the caller's transaction, which must commit it (that is why this returns
    ``None`` instead of raising). Raises :class:`TooManyGuesses`, before looking at the token, once the
    browser session or the address has ``limits.per_browser`` / ``limits.per_address`` failed guesses
    within ``limits.window``. Needs a write transaction (``factory.begin()``).
    """
    found = None
    with guarded_guess(session, browser=browser, address=address, limits=limits) as guess:
        found = _find(session, token, utcnow())
        guess.failed = found is None
    return None if found is None else _context(found)


@dataclass
class Guess:
    """One look-up of a secret from the address bar (an invite token or a resume key); see :func:`guarded_guess`."""

    failed: bool = True


@contextmanager
def guarded_guess(session: Session, *, browser: str, address: str | None, limits: GuessLimits):
    """Throttle one look-up of a secret: refuse with :class:`TooManyGuesses` before the look-up once the browser
    session or the client address has too many failed guesses in the window, and record a failure unless the
    body sets ``guess.failed = False``. Invite tokens and resume keys share the count (one budget for both)."""
    from assessment.storage.db import holds_write_lock

    if not isinstance(browser, str) or not browser:
        raise ValueError("checking a link needs the browser session's id")
    if not holds_write_lock(session):
        raise RuntimeError("checking a link records failed guesses: open the session with `factory.begin()`")
    now = utcnow()
    since = now - limits.window
    by_browser = _client_digest("browser", browser)
    by_address = _client_digest("address", address) if address else None
    if session.get_bind().dialect.name == "postgresql":
        # Guesses from one browser or address are counted one at a time, also across replicas (on SQLite
        # the write transaction already serialises them).
        session.execute(text("SELECT pg_advisory_xact_lock(:b), pg_advisory_xact_lock(:a)"),
                        {"b": _advisory_key(by_browser), "a": _advisory_key(by_address or by_browser)})
    failures = InvitationFailureRow
    counts = session.execute(
        select(func.count().filter(failures.browser == by_browser),
               func.count().filter(failures.address == (by_address or "")))
        .where(failures.at > since, or_(failures.browser == by_browser, failures.address == (by_address or "")))
    ).one()
    if counts[0] >= limits.per_browser or counts[1] >= limits.per_address:
        raise TooManyGuesses(limits.window)
    guess = Guess()
    yield guess
    if guess.failed:
        session.execute(insert(failures).values(at=now, browser=by_browser, address=by_address))
        session.execute(delete(failures).where(failures.at <= since))


def reserve_place(session: Session, token: str) -> InvitationContext:
    """Take a place on the link for a respondent who starts (the caller creates the respondent), or raise
    :class:`InvalidInvitation`. A single-use link's context names the respondent to resume, if any.

    The link's row is locked first (``FOR UPDATE`` on PostgreSQL; on SQLite the write transaction holds the
    database), so concurrent starts are counted one at a time; places released after :data:`RESERVATION`
    without an answer are given back by removing those respondents, who never answered anything.
    """
    from assessment.storage.db import holds_write_lock

    if not holds_write_lock(session):
        raise RuntimeError("starting a respondent needs a write transaction: open the session with `factory.begin()`")
    now = utcnow()
    session.execute(select(InvitationRow.id).where(InvitationRow.token_hash == _digest(token)).with_for_update())
    found = _find(session, token, now)
    if found is None:
        raise InvalidInvitation()
    if found.max_uses > 1:
        cutoff = now - RESERVATION
        session.execute(delete(RespondentRow).where(
            RespondentRow.invitation_id == found.id, RespondentRow.submitted_at.is_(None),
            RespondentRow.started_at <= cutoff, ~exists().where(AnswerRow.respondent_id == RespondentRow.id)))
    return _context(found)


def _lookup(session: Session, token: str) -> InvitationRow:
    row = session.scalar(select(InvitationRow).where(InvitationRow.token_hash == _digest(token)))
    if row is None:
        raise InvalidInvitation()
    return row


def revoke_invitation(session: Session, token: str, *, actor: str) -> None:
    """Withdraw a link (the holder then gets the uniform refusal)."""
    inv = _lookup(session, token)
    session.execute(update(InvitationRow).where(InvitationRow.id == inv.id).values(revoked=True,
                                                                                   withdrawn_at=utcnow()))
    audit(session, actor, "revoke", "invitation", str(inv.id))


def revoke_round_invitations(session: Session, round_key: str, *, actor: str, agency: str | None = None) -> int:
    """Withdraw every unused link of a round (optionally one agency's): links nobody has started on; links in
    use are left to their respondents. Return how many."""
    row = get_round(session, round_key)
    live = (InvitationRow.round_id == row.id) & InvitationRow.revoked.is_(False)
    if agency is not None:
        live = live & (InvitationRow.agency == check_agency(agency))
    # Lock the links first (a start holds its link's row lock until it commits), then look for respondents in
    # a new statement: one started at this moment is seen, and its link left to it. (A single UPDATE ... NOT
    # EXISTS waited for the lock but judged "unused" on its older snapshot, on PostgreSQL.)
    links = session.scalars(select(InvitationRow.id).where(live).with_for_update()).all()
    unused = ~exists().where(RespondentRow.invitation_id == InvitationRow.id)
    count = 0
    if links:
        count = session.execute(update(InvitationRow).where(InvitationRow.id.in_(links), unused)
                                .values(revoked=True, withdrawn_at=utcnow())).rowcount or 0
    audit(session, actor, "revoke-all", "round", round_key, agency=agency, count=count)
    return count
