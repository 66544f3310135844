"""Published questionnaire versions, organisations, partnerships and custom peer groups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from assessment.questionnaire import Questionnaire, content_hash, normalised_definition
from assessment.questionnaire.schema import version_key
from assessment.storage import figures
from assessment.storage._common import (
    Conflict,
    NotFound,
    audit,
    check_agency,
    check_key,
    get_partnership,
    get_version,
)
from assessment.storage.errors import InvalidInput
from assessment.storage.models import (
    OrganisationRow,
    PartnershipMember,
    PartnershipRow,
    PeerGroupMember,
    PeerGroupRow,
    QuestionnaireVersionRow,
)
from assessment.vocabulary import BUILT_IN_PEER_GROUPS

__all__ = [
    "PARTNERSHIP_COLUMNS",
    "NewOrganisation",
    "Organisation",
    "Partnership",
    "PublishedQuestionnaire",
    "add_organisation",
    "add_partnership",
    "count_partnerships",
    "default_round_version",
    "latest_published_version",
    "list_organisations",
    "list_partnerships",
    "list_questionnaire_versions",
    "publish_questionnaire",
    "published_questionnaire",
    "set_peer_groups",
    "update_partnership",
]

PARTNERSHIP_COLUMNS = ("partnership", "name", "nation", "region", "groups", "share_practice", "named_to_peers",
                       "icbs", "police_forces")


@dataclass(frozen=True)
class PublishedQuestionnaire:
    questionnaire: str
    version: str
    title: str
    content_hash: str
    published_at: dt.datetime
    newly_published: bool


@dataclass(frozen=True)
class Organisation:
    key: str
    name: str
    kind: str
    nation: str
    region: str


@dataclass(frozen=True)
class NewOrganisation:
    """A member organisation to add together with its partnership (it takes the partnership's place)."""

    key: str
    kind: str
    name: str


@dataclass(frozen=True)
class Partnership:
    key: str
    name: str
    nation: str
    region: str
    members: tuple[str, ...]
    groups: tuple[str, ...]
    share_practice: bool
    named_to_peers: bool


# -- questionnaire versions ---------------------------------------------------------------------------

def publish_questionnaire(session: Session, questionnaire: Questionnaire, *, actor: str) -> PublishedQuestionnaire:
    """Record a questionnaire version as published (idempotent for the same content).

    Publishing the same id and version again with identical content does nothing. Different content
    under an already published id and version is refused: published versions never change, a fix is a
    new version.
    """
    digest = content_hash(questionnaire)
    existing = session.scalar(select(QuestionnaireVersionRow).where(
        QuestionnaireVersionRow.questionnaire == questionnaire.id,
        QuestionnaireVersionRow.version == questionnaire.version))
    if existing is not None:
        if existing.content_hash != digest:
            raise Conflict(
                f"questionnaire {questionnaire.id} {questionnaire.version} is already published with different "
                f"content (sha256 {existing.content_hash[:12]}, this file {digest[:12]}): published versions "
                "never change; publish the change as a new version (raise the version number and set `previous`)")
        return PublishedQuestionnaire(existing.questionnaire, existing.version, existing.title,
                                      existing.content_hash, existing.published_at, False)
    row = QuestionnaireVersionRow(questionnaire=questionnaire.id, version=questionnaire.version,
                                  title=questionnaire.title, content_hash=digest,
                                  definition=normalised_definition(questionnaire), published_by=actor)
    session.add(row)
    session.flush()
    audit(session, actor, "publish", "questionnaire", questionnaire.key, content_hash=digest)
    return PublishedQuestionnaire(row.questionnaire, row.version, row.title, row.content_hash,
                                  row.published_at, True)


_PARSED: dict[str, Questionnaire] = {}  # content hash -> model; published versions never change


def _model(session: Session, condition) -> Questionnaire | None:
    """The published version matching ``condition``, parsed once per content hash.

    Only the hash is read on every call: the stored definition is loaded and validated the first time a
    hash is seen (imports and page reads ask for the same version again and again).
    """
    digest = session.scalar(select(QuestionnaireVersionRow.content_hash).where(condition))
    if digest is None:
        return None
    if digest not in _PARSED:
        definition = session.scalar(select(QuestionnaireVersionRow.definition).where(condition))
        _PARSED[digest] = Questionnaire.model_validate(definition)
    return _PARSED[digest]


def published_questionnaire(session: Session, questionnaire: str, version: str) -> Questionnaire:
    """The published version as a validated, frozen model."""
    found = _model(session, (QuestionnaireVersionRow.questionnaire == questionnaire)
                   & (QuestionnaireVersionRow.version == version))
    if found is None:
        get_version(session, questionnaire, version)  # raises NotFound with the usual message
    return found


def questionnaire_of_version_id(session: Session, version_id: int) -> Questionnaire:
    """The published version with this row id (what a round points at)."""
    found = _model(session, QuestionnaireVersionRow.id == version_id)
    if found is None:
        raise ValueError(f"no published questionnaire version with id {version_id}")
    return found


def default_round_version(versions: pd.DataFrame) -> tuple[str, str] | None:
    """The (questionnaire, version) new rounds start on: the highest version (by MAJOR.MINOR.PATCH, so
    10.0.0 comes after 9.0.0) of the questionnaire published most recently; None when nothing is published.

    ``versions`` is :func:`list_questionnaire_versions` (rows in publication order).
    """
    if versions.empty:
        return None
    questionnaire = str(versions["questionnaire"].iloc[-1])
    own = versions.loc[versions["questionnaire"] == questionnaire, "version"].astype(str)
    return questionnaire, max(own, key=version_key)


def latest_published_version(session: Session, questionnaire: str) -> str:
    """The highest published version of a questionnaire (MAJOR.MINOR.PATCH order)."""
    found = session.scalars(select(QuestionnaireVersionRow.version)
                            .where(QuestionnaireVersionRow.questionnaire == questionnaire)).all()
    if not found:
        raise NotFound(f"questionnaire {questionnaire} has no published version "
                       "(publish one with `assessment questionnaire publish PATH`)")
    return max(found, key=version_key)


def list_questionnaire_versions(session: Session) -> pd.DataFrame:
    """Columns: questionnaire, version, title, content_hash, published_at, published_by."""
    rows = session.execute(select(
        QuestionnaireVersionRow.questionnaire, QuestionnaireVersionRow.version, QuestionnaireVersionRow.title,
        QuestionnaireVersionRow.content_hash, QuestionnaireVersionRow.published_at,
        QuestionnaireVersionRow.published_by).order_by(QuestionnaireVersionRow.id)).all()
    return pd.DataFrame(rows, columns=["questionnaire", "version", "title", "content_hash", "published_at",
                                       "published_by"])


# -- organisations ------------------------------------------------------------------------------------

def add_organisation(session: Session, key: str, name: str, *, kind: str, nation: str, region: str,
                     actor: str) -> Organisation:
    """Add an organisation; ``kind`` is an agency word (police, mental_health_trust, icb, ...)."""
    check_key("organisation", key)
    check_agency(kind)
    if not name.strip():
        raise InvalidInput("an organisation needs a name")
    clash = session.scalar(select(OrganisationRow).where((OrganisationRow.key == key) | (OrganisationRow.name == name)))
    if clash is not None:
        raise Conflict(f"an organisation with key '{clash.key}' or name '{clash.name}' already exists")
    session.add(OrganisationRow(key=key, name=name.strip(), kind=kind, nation=nation, region=region))
    session.flush()
    audit(session, actor, "add", "organisation", key, name=name, kind=kind, nation=nation, region=region)
    return Organisation(key, name.strip(), kind, nation, region)


def list_organisations(session: Session) -> pd.DataFrame:
    """Columns: organisation, name, kind, nation, region, reference (shipped forces are reference data)."""
    rows = session.execute(select(OrganisationRow.key, OrganisationRow.name, OrganisationRow.kind,
                                  OrganisationRow.nation, OrganisationRow.region, OrganisationRow.reference)
                           .order_by(OrganisationRow.name)).all()
    return pd.DataFrame(rows, columns=["organisation", "name", "kind", "nation", "region", "reference"])


def _organisation_ids(session: Session, members: Iterable[str]) -> list[tuple[int, OrganisationRow]]:
    members = list(dict.fromkeys(members))
    if not members:
        return []
    rows = session.scalars(select(OrganisationRow).where(
        OrganisationRow.key.in_(members) | OrganisationRow.name.in_(members))).all()
    found = {r.key: r for r in rows} | {r.name: r for r in rows}
    missing = [m for m in members if m not in found]
    if missing:
        raise NotFound(f"no organisation {', '.join(repr(m) for m in missing)} (members are named by key or "
                       "name; the 44 police forces are shipped, add others with add_organisation)")
    return [(found[m].id, found[m]) for m in members]


# -- partnerships and peer groups ---------------------------------------------------------------------

def add_partnership(session: Session, key: str, name: str, *, actor: str, members: Sequence[str] = (),
                    nation: str | None = None, region: str | None = None, groups: Sequence[str] = (),
                    share_practice: bool = False, named_to_peers: bool = False,
                    new_organisations: Sequence[NewOrganisation] = ()) -> Partnership:
    """Add a partnership of existing organisations (by key or name) and, optionally, new ones.

    Nation and region default to those of the partnership's police force member, so
    ``add_partnership(s, "kent", "Kent crisis care partnership", members=["kent"], actor=...)`` is enough.
    ``new_organisations`` are added first as members, in the partnership's nation and region.
    ``groups`` are custom peer-group names (created when new). The two flags are the partnership's
    opt-ins: share evidence comments in the practice library, and be named to peers.
    """
    if not name.strip() and not key.strip():
        raise InvalidInput("a partnership's name and key are required")
    if not name.strip():
        raise InvalidInput("a partnership's name is required")
    check_key("partnership", key)
    if session.scalar(select(PartnershipRow.id).where(PartnershipRow.key == key)) is not None:
        raise Conflict(f"partnership '{key}' already exists")
    orgs = _organisation_ids(session, members)
    police = [org for _, org in orgs if org.kind == "police"]
    if nation is None or region is None:
        if not police:
            raise InvalidInput("give nation and region, or include a police force among the members")
        nation = nation or police[0].nation
        region = region or police[0].region
    for new in new_organisations:
        add_organisation(session, new.key, new.name, kind=new.kind, nation=nation, region=region, actor=actor)
    orgs += [org for org in _organisation_ids(session, [new.key for new in new_organisations])
             if org not in orgs]
    row = PartnershipRow(key=key, name=name.strip(), nation=nation, region=region,
                         share_practice=bool(share_practice), named_to_peers=bool(named_to_peers))
    session.add(row)
    session.flush()
    if orgs:
        session.execute(insert(PartnershipMember), [{"partnership_id": row.id, "organisation_id": oid} for oid, _ in orgs])
    _set_groups(session, row.id, groups)
    figures.partnerships_changed(session)  # a new partnership is a peer without a round ("n_excluded")
    audit(session, actor, "add", "partnership", key, name=name, nation=nation, region=region,
          members=[org.key for _, org in orgs], groups=sorted(set(groups)),
          share_practice=bool(share_practice), named_to_peers=bool(named_to_peers))
    return _partnership(session, row)


def update_partnership(session: Session, key: str, *, actor: str, share_practice: bool | None = None,
                       named_to_peers: bool | None = None, name: str | None = None) -> Partnership:
    """Change a partnership's name or opt-in flags (audited)."""
    row = get_partnership(session, key)
    changes = {}
    for field, value in (("share_practice", share_practice), ("named_to_peers", named_to_peers), ("name", name)):
        if value is not None and getattr(row, field) != value:
            changes[field] = [getattr(row, field), value]
            setattr(row, field, value)
    if changes:
        session.flush()
        audit(session, actor, "update", "partnership", key, **changes)
    return _partnership(session, row)


def set_peer_groups(session: Session, key: str, groups: Sequence[str], *, actor: str) -> Partnership:
    """Replace a partnership's custom peer groups (names; new groups are created)."""
    row = get_partnership(session, key)
    session.execute(delete(PeerGroupMember).where(PeerGroupMember.partnership_id == row.id))
    _set_groups(session, row.id, groups)
    figures.partnerships_changed(session)
    audit(session, actor, "set-groups", "partnership", key, groups=sorted(set(groups)))
    return _partnership(session, row)


def _set_groups(session: Session, partnership_id: int, groups: Sequence[str]) -> None:
    names = sorted({g.strip() for g in groups if g.strip()})
    for name in names:
        if name in BUILT_IN_PEER_GROUPS or ";" in name:
            raise InvalidInput(f"'{name}' cannot name a custom peer group (reserved word or contains ';')")
    if not names:
        return
    existing = dict(session.execute(select(PeerGroupRow.name, PeerGroupRow.id).where(PeerGroupRow.name.in_(names))).all())
    for name in names:
        if name not in existing:
            group = PeerGroupRow(name=name, description="")
            session.add(group)
            session.flush()
            existing[name] = group.id
    session.execute(insert(PeerGroupMember), [{"peer_group_id": existing[n], "partnership_id": partnership_id}
                                              for n in names])


def _partnership(session: Session, row: PartnershipRow) -> Partnership:
    members = session.scalars(select(OrganisationRow.key).join(
        PartnershipMember, PartnershipMember.organisation_id == OrganisationRow.id)
        .where(PartnershipMember.partnership_id == row.id).order_by(OrganisationRow.key)).all()
    groups = session.scalars(select(PeerGroupRow.name).join(
        PeerGroupMember, PeerGroupMember.peer_group_id == PeerGroupRow.id)
        .where(PeerGroupMember.partnership_id == row.id).order_by(PeerGroupRow.name)).all()
    return Partnership(row.key, row.name, row.nation, row.region, tuple(members), tuple(groups),
                       row.share_practice, row.named_to_peers)


def list_partnerships(session: Session) -> pd.DataFrame:
    """The partnerships frame peers and trends read.

    Columns: partnership, name, nation, region, groups (custom peer-group names joined with ";"),
    share_practice, named_to_peers, icbs and police_forces (the names of its member ICBs and police forces,
    joined with ";": a commissioner's ICB footprint or police force area); one row per partnership, ordered
    by key.
    """
    rows = session.execute(select(PartnershipRow.id, PartnershipRow.key, PartnershipRow.name, PartnershipRow.nation,
                                  PartnershipRow.region, PartnershipRow.share_practice,
                                  PartnershipRow.named_to_peers).order_by(PartnershipRow.key)).all()
    frame = pd.DataFrame(rows, columns=["id", "partnership", "name", "nation", "region", "share_practice",
                                        "named_to_peers"])
    groups = session.execute(select(PeerGroupMember.partnership_id, PeerGroupRow.name)
                             .join(PeerGroupRow, PeerGroupRow.id == PeerGroupMember.peer_group_id)
                             .order_by(PeerGroupRow.name)).all()
    joined = pd.DataFrame(groups, columns=["id", "group"]).groupby("id")["group"].agg(";".join)
    # No peer group at all gives an all-NaN float column: cast to text before filling (pandas 3 warns otherwise).
    frame["groups"] = frame["id"].map(joined).astype("string").fillna("").astype(str)
    members = pd.DataFrame(session.execute(
        select(PartnershipMember.partnership_id, OrganisationRow.kind, OrganisationRow.name)
        .join(OrganisationRow, OrganisationRow.id == PartnershipMember.organisation_id)
        .where(OrganisationRow.kind.in_(["icb", "police"])).order_by(OrganisationRow.name)).all(),
        columns=["id", "kind", "name"])
    for column, kind in (("icbs", "icb"), ("police_forces", "police")):
        named = members[members["kind"] == kind].groupby("id")["name"].agg(";".join)
        frame[column] = frame["id"].map(named).astype("string").fillna("").astype(str)
    frame["share_practice"] = frame["share_practice"].astype(bool)
    frame["named_to_peers"] = frame["named_to_peers"].astype(bool)
    return frame[list(PARTNERSHIP_COLUMNS)].reset_index(drop=True)


def count_partnerships(session: Session) -> int:
    """How many partnerships are stored (0 on a fresh database)."""
    return session.scalar(select(func.count()).select_from(PartnershipRow)) or 0
