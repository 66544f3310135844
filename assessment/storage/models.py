"""The database tables as typed SQLAlchemy 2 models.

Public identifiers are short text keys (``partnership.key``, ``round.key``, ``respondent.key``); integer
primary keys stay inside the storage layer. Times are naive UTC (``utcnow()``) so that they compare equal on
every engine and survive a backup from SQLite into PostgreSQL and back. Service functions in
:mod:`assessment.storage.services` never hand these objects to the UI: they return dataclasses or frames.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from assessment.vocabulary import ACTION_STATUSES

__all__ = [
    "ActionRow",
    "AnswerRow",
    "AuditEvent",
    "Base",
    "IndicatorValueRow",
    "InvitationFailureRow",
    "InvitationRow",
    "OrganisationRow",
    "PartnershipMember",
    "PartnershipRow",
    "PeerGroupMember",
    "PeerGroupRow",
    "QuestionnaireVersionRow",
    "ROUND_STATUSES",
    "RespondentRow",
    "ResumeKeyRow",
    "RoundRow",
    "AgencyScoreRow",
    "ItemCountRow",
    "ItemScoreRow",
    "OverallScoreRow",
    "PartnershipScoreRow",
    "RespondentScoreRow",
    "ScoreRoundRow",
    "FigureStateRow",
    "PeerFigureRow",
    "TrendFigureRow",
    "UserGrantRow",
    "UserRow",
    "utcnow",
]

#: A round's statuses, in order: draft -> open -> closed (a closed round can be reopened).
ROUND_STATUSES = ("draft", "open", "closed")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now in UTC, without tzinfo (stored the same way on SQLite and PostgreSQL)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, dt.datetime: DateTime(), dt.date: Date()}


class OrganisationRow(Base):
    """A police force, NHS trust, ICB, ambulance service, local authority, VCSE body..."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # an agency: police, mental_health_trust, icb, ...
    nation: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(60))
    reference: Mapped[bool] = mapped_column(Boolean, default=False)  # shipped reference data (forces)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PartnershipRow(Base):
    """A named set of organisations, usually one police force area."""

    __tablename__ = "partnerships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    nation: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(60))
    share_practice: Mapped[bool] = mapped_column(Boolean, default=False)  # evidence comments in the practice library
    named_to_peers: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PartnershipMember(Base):
    __tablename__ = "partnership_members"
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


class PeerGroupRow(Base):
    """A named custom peer group (e.g. ``metropolitan``, ``rcrp-pilot``)."""

    __tablename__ = "peer_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class PeerGroupMember(Base):
    __tablename__ = "peer_group_members"
    peer_group_id: Mapped[int] = mapped_column(ForeignKey("peer_groups.id", ondelete="CASCADE"), primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True)


class QuestionnaireVersionRow(Base):
    """A published, immutable questionnaire version: its normalised definition and content hash."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    questionnaire: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]]
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(120))


class RoundRow(Base):
    """One assessment of one partnership with one questionnaire version in one period."""

    __tablename__ = "rounds"
    __table_args__ = (
        UniqueConstraint("partnership_id", "period"),
        CheckConstraint(f"status IN {ROUND_STATUSES!r}", name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    period: Mapped[str] = mapped_column(String(20))
    opens_on: Mapped[dt.date | None]
    closes_on: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(10), default="draft")  # one of ROUND_STATUSES
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    purged_at: Mapped[dt.datetime | None]  # respondent-level answers removed after the retention period


class InvitationRow(Base):
    """An invite link's scope and limits; only the SHA-256 of the token is stored, never the token."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    agency: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[dt.datetime]
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    # Withdrawn (revoked) when, and the link that replaced it when the lead re-issued a lost link.
    withdrawn_at: Mapped[dt.datetime | None]
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))


class InvitationFailureRow(Base):
    """One invite-link guess that failed: when, and from which browser session and client address.

    Both are stored as SHA-256 digests, never as given. Counted to throttle guessing (the count lives in
    the database, so every app replica sees the same); rows older than the throttle window are removed.
    """

    __tablename__ = "invitation_failures"
    __table_args__ = (Index("ix_invitation_failures_browser_at", "browser", "at"),
                      Index("ix_invitation_failures_address_at", "address", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    browser: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))


class RespondentRow(Base):
    """A pseudonymous respondent in one round, under one agency."""

    __tablename__ = "respondents"
    __table_args__ = (UniqueConstraint("round_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    agency: Mapped[str] = mapped_column(String(40))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]


class ResumeKeyRow(Base):
    """A respondent's resume key (it stands in the address bar once the invite token has left it): only its
    SHA-256 is stored. Valid until the respondent submits or for ``RESUME_IDLE`` without use or answer."""

    __tablename__ = "resume_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AnswerRow(Base):
    """One answer per respondent and item: a scale value, ``NA`` or ``DK`` (text, as in the CSV format)."""

    __tablename__ = "answers"
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True)
    item: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class _ScoreFlags:
    """The typed suppression columns of :mod:`assessment.disclosure` (``FLAG_COLUMNS``) on a score table."""

    suppressed: Mapped[bool] = mapped_column(Boolean)
    suppression_reason: Mapped[str] = mapped_column(String(20))  # "", small_group, complementary
    score_hidden: Mapped[bool] = mapped_column(Boolean)
    hidden: Mapped[str] = mapped_column(String(30))  # a key of disclosure.HIDDEN_FIGURES


def _round_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)


class ScoreRoundRow(Base):
    """A closed round whose scores are stored (the typed ``score_*`` tables), and when they were computed.

    The scores of a round are computed when it closes and removed when it reopens
    (:mod:`assessment.storage.scores`); every ``score_*`` row belongs to one of these.
    """

    __tablename__ = "score_rounds"
    round_id: Mapped[int] = _round_fk()
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IndicatorValueRow(Base):
    """One reported figure of an outcome indicator: a partnership, a period, an indicator and the agency that
    reported it (police and NHS may both report the same indicator: both are kept).

    Only entered figures are stored (counts, hours, minutes); percentages, rates and ratios are computed
    from them when read (:mod:`assessment.indicators.figures`). ``catalogue``/``catalogue_version`` name
    the catalogue the value was checked against; ``note`` is the reporter's own text (e.g. the table it
    came from).
    """

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("partnership_id", "period", "indicator", "agency"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    indicator: Mapped[str] = mapped_column(String(120))
    agency: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    catalogue: Mapped[str] = mapped_column(String(80))
    catalogue_version: Mapped[str] = mapped_column(String(20))
    entered_by: Mapped[str] = mapped_column(String(120))
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RespondentScoreRow(Base):
    """One respondent's domain score (``Scores.respondents``): respondent-level, never in a BI view."""

    __tablename__ = "score_respondents"
    round_id: Mapped[int] = _round_fk()
    respondent: Mapped[str] = mapped_column(String(120), primary_key=True)
    domain: Mapped[str] = mapped_column(String(120), primary_key=True)
    agency: Mapped[str] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Double)
    coverage: Mapped[float | None] = mapped_column(Double)
    n_answered: Mapped[int] = mapped_column(Integer)
    n_na: Mapped[int] = mapped_column(Integer)
    n_dk: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # scored, insufficient, not_applicable, not_asked
    position: Mapped[int] = mapped_column(Integer)  # the row's place in the engine's frame (its order)


class AgencyScoreRow(_ScoreFlags, Base):
    """One agency's domain score in a round (``Scores.agencies``)."""

    __tablename__ = "score_agencies"
    round_id: Mapped[int] = _round_fk()
    domain: Mapped[str] = mapped_column(String(120), primary_key=True)
    agency: Mapped[str] = mapped_column(String(40), primary_key=True)
    score: Mapped[float | None] = mapped_column(Double)
    n_respondents: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # the row's place in the engine's frame (its order)


class PartnershipScoreRow(_ScoreFlags, Base):
    """A partnership's domain score in a round (``Scores.partnerships``): what peers, regions and trends read."""

    __tablename__ = "score_partnerships"
    __table_args__ = (Index("ix_score_partnerships_domain", "domain"),)
    round_id: Mapped[int] = _round_fk()
    domain: Mapped[str] = mapped_column(String(120), primary_key=True)
    score: Mapped[float | None] = mapped_column(Double)
    level: Mapped[int | None] = mapped_column(Integer)
    level_label: Mapped[str | None] = mapped_column(String(80))
    respondent_mean: Mapped[float | None] = mapped_column(Double)
    median: Mapped[float | None] = mapped_column(Double)
    sd: Mapped[float | None] = mapped_column(Double)
    n_respondents: Mapped[int] = mapped_column(Integer)
    n_agencies: Mapped[int] = mapped_column(Integer)
    dk_rate: Mapped[float | None] = mapped_column(Double)
    agency_gap: Mapped[float | None] = mapped_column(Double)
    split: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)  # the row's place in the engine's frame (its order)


class OverallScoreRow(_ScoreFlags, Base):
    """A partnership's overall score in a round (``Scores.overall``)."""

    __tablename__ = "score_overall"
    round_id: Mapped[int] = _round_fk()
    score: Mapped[float | None] = mapped_column(Double)
    level: Mapped[int | None] = mapped_column(Integer)
    level_label: Mapped[str | None] = mapped_column(String(80))
    n_domains_scored: Mapped[int] = mapped_column(Integer)


class ItemScoreRow(_ScoreFlags, Base):
    """One item's figures in a round (``Scores.items``); its answer counts are in ``score_item_counts``."""

    __tablename__ = "score_items"
    round_id: Mapped[int] = _round_fk()
    item: Mapped[str] = mapped_column(String(120), primary_key=True)
    domain: Mapped[str] = mapped_column(String(120))
    mean: Mapped[float | None] = mapped_column(Double)
    n_answered: Mapped[int] = mapped_column(Integer)
    n_na: Mapped[int] = mapped_column(Integer)
    n_dk: Mapped[int] = mapped_column(Integer)
    dk_rate: Mapped[float | None] = mapped_column(Double)
    position: Mapped[int] = mapped_column(Integer)  # the row's place in the engine's frame (its order)


class ItemCountRow(Base):
    """How many respondents gave each scale value to an item (the ``count_<value>`` columns of ``Scores.items``,
    one row per value so that any scale fits; ``position`` is the value's place in the scale)."""

    __tablename__ = "score_item_counts"
    __table_args__ = (ForeignKeyConstraint(["round_id", "item"], ["score_items.round_id", "score_items.item"],
                                           ondelete="CASCADE"),)
    round_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


class FigureStateRow(Base):
    """What the stored figures of one kind (``trends``, ``peers``) were computed from: the fingerprint of
    their inputs (the settings that matter, the published questionnaire versions, the closed rounds and, for
    peers, the peer groups) and those settings (:mod:`assessment.storage.figures`). No row: none stored yet."""

    __tablename__ = "figure_states"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, Any]]
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TrendFigureRow(Base):
    """A closed round's domain trend as pages show it (:data:`assessment.trends.TREND_COLUMNS`, blanked by the
    disclosure rule before it is stored): score, interval, change from the round before and its verdict."""

    __tablename__ = "trend_figures"
    round_id: Mapped[int] = _round_fk()
    domain: Mapped[str] = mapped_column(String(120), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # the row's place in the partnership's trend frame
    score: Mapped[float | None] = mapped_column(Double)
    ci_low: Mapped[float | None] = mapped_column(Double)
    ci_high: Mapped[float | None] = mapped_column(Double)
    n_respondents: Mapped[int] = mapped_column(Integer)
    comparable_with_previous: Mapped[bool | None] = mapped_column(Boolean)
    break_reason: Mapped[str] = mapped_column(Text)
    change: Mapped[float | None] = mapped_column(Double)
    change_low: Mapped[float | None] = mapped_column(Double)
    change_high: Mapped[float | None] = mapped_column(Double)
    verdict: Mapped[str] = mapped_column(String(30))


class PeerFigureRow(Base):
    """A closed round's domain against one peer group as pages show it (:data:`assessment.peers.
    COMPARISON_COLUMNS`: figures the disclosure rule does not allow are empty, never stored)."""

    __tablename__ = "peer_figures"
    __table_args__ = (Index("ix_peer_figures_peer_group", "peer_group"),)
    round_id: Mapped[int] = _round_fk()
    peer_group: Mapped[str] = mapped_column(String(160), primary_key=True)
    domain: Mapped[str] = mapped_column(String(120), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Double)
    n_peers: Mapped[int] = mapped_column(Integer)
    median: Mapped[float | None] = mapped_column(Double)
    q1: Mapped[float | None] = mapped_column(Double)
    q3: Mapped[float | None] = mapped_column(Double)
    min: Mapped[float | None] = mapped_column(Double)
    max: Mapped[float | None] = mapped_column(Double)
    percentile_rank: Mapped[float | None] = mapped_column(Double)
    gap_to_median: Mapped[float | None] = mapped_column(Double)
    gap_to_top_quartile: Mapped[float | None] = mapped_column(Double)
    suppressed: Mapped[bool] = mapped_column(Boolean)
    n_excluded: Mapped[int] = mapped_column(Integer)
    excluded_reasons: Mapped[str] = mapped_column(Text)
    peer_periods: Mapped[str] = mapped_column(Text)


class AuditEvent(Base):
    """Who changed what, when."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class UserRow(Base):
    """A member of staff who signs in. Known by the identity provider's issuer and subject once they have
    signed in; before that only by the email an administrator granted access to."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    name: Mapped[str] = mapped_column(String(200), default="")
    issuer: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    last_sign_in_at: Mapped[dt.datetime | None]


class UserGrantRow(Base):
    """One role of one user: national (administrator, analyst) or on one partnership."""

    __tablename__ = "user_grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(120))


class ActionRow(Base):
    """One agreed action of a partnership's action plan (docs/actions.md).

    It answers a domain's gap (optionally one item) in the results of ``round_id`` (the closed round it was
    agreed from: its baseline) and is reviewed against the next closed round's score; the review is
    computed when read (:mod:`assessment.actions`), never stored. ``what``, ``owner`` and ``notes`` are
    the lead's own words: plain text everywhere. The action's number (``id``) is its public name, like an
    issue number: ``assessment actions update 12``.
    """

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint(f"status IN {ACTION_STATUSES!r}", name="status"),
        CheckConstraint("target_level BETWEEN 1 AND 5", name="target_level"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    domain: Mapped[str] = mapped_column(String(120))
    item: Mapped[str | None] = mapped_column(String(120))
    what: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    target_level: Mapped[int] = mapped_column(Integer)
    due: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(20), default="planned")  # one of ACTION_STATUSES
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
