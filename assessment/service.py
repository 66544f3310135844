"""The service layer: every operation a person can perform, checked against the permission table.

Each function takes the SQLAlchemy ``Session`` and the acting :class:`~assessment.permissions.Principal`
first, asks the table (:data:`assessment.permissions.PERMISSIONS`) whether the principal may do it on the
partnership concerned, and then either refuses with :class:`~assessment.permissions.AccessDenied`
("you do not have access to ...") before anything is read or written, filters a list down to what the
principal may see, or calls the storage layer (:mod:`assessment.storage.services`) with the principal's
name as the audit actor. The app calls only this module; the CLI acts as administrator (shell access to
the server is administrator access). Like the storage functions, none of these commits: the caller owns
the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assessment import peers, trends
from assessment.errors import ValidationFailed
from assessment.periods import period_bounds
from assessment.permissions import ADMINISTRATOR, ANALYST, PARTNERSHIP_LEAD, AccessDenied, Principal
from assessment.questionnaire.schema import Questionnaire
from assessment.reports import ReportContext, ResultsModel, build_results_model
from assessment.settings import Settings, load_settings
from assessment.storage import actions as action_store
from assessment.storage import figures
from assessment.storage import resume as resume_store
from assessment.storage import services as storage
from assessment.storage import users as user_store
from assessment.storage._common import StorageError, audit
from assessment.storage.catalogue import default_round_version
from assessment.storage.imports import problems_frame
from assessment.storage.invitations import (
    INVALID_INVITATION_MESSAGE,
    INVITE_PARAMETER,
    GuessLimits,
    InvalidInvitation,
    TooManyGuesses,
)
from assessment.storage.resume import RESUME_PARAMETER
from assessment.vocabulary import peer_group_label

__all__ = [
    "action_counts",
    "add_action",
    "list_actions",
    "update_action",
    "INVALID_INVITATION_MESSAGE",
    "INVITE_PARAMETER",
    "AccessDenied",
    "GuessLimits",
    "TooManyGuesses",
    "check_invitation",
    "check_resume_key",
    "issue_resume_key",
    "respondent_partnership_name",
    "RESUME_PARAMETER",
    "default_round_version",
    "InvalidInvitation",
    "StorageError",
    "ValidationFailed",
    "invitation_partnership_name",
    "problems_frame",
    "region_periods",
    "respondent_questionnaire",
    "Principal",
    "add_organisation",
    "add_partnership",
    "add_user",
    "answer_comments",
    "audit_log",
    "backup",
    "board_pack",
    "close_round",
    "compare_regions",
    "create_invitations",
    "create_round",
    "custodian_export",
    "data_version",
    "export_round",
    "grant_role",
    "import_responses",
    "import_indicator_values",
    "indicator_association",
    "indicator_catalogue",
    "indicator_periods",
    "indicator_values",
    "partnership_indicators",
    "region_indicator_medians",
    "save_indicator_values",
    "PartnershipIndicators",
    "list_organisations",
    "list_partnerships",
    "list_questionnaire_versions",
    "list_rounds",
    "list_users",
    "open_round",
    "partnership_scores",
    "partnership_trends",
    "close_preview",
    "list_links",
    "peer_comparison",
    "reissue_link",
    "withdraw_link",
    "period_warning",
    "portfolio_trends",
    "promising_practices",
    "publish_questionnaire",
    "purge_answers",
    "published_questionnaire",
    "reopen_round",
    "resolve_invitation",
    "respondent_answers",
    "printable_questionnaire",
    "respondent_scores",
    "response_counts",
    "results_model",
    "restore",
    "revoke_role",
    "revoke_round_invitations",
    "round_answers",
    "round_info",
    "round_scores",
    "save_answer",
    "set_peer_groups",
    "sign_in",
    "signed_in_principal",
    "start_respondent",
    "submit_respondent",
    "update_partnership",
]


def _round_partnership(session: Session, round_key: str) -> str:
    return storage.round_info(session, round_key).partnership


def _visible(principal: Principal, operation: str) -> frozenset[str] | None:
    """Partnerships a filtered operation may show (None: all); refuses roles that may not list at all."""
    permission = principal.require(operation)
    return principal.partnerships(permission.roles)


def _only(frame: pd.DataFrame, allowed: frozenset[str] | None, column: str = "partnership") -> pd.DataFrame:
    if allowed is None:
        return frame
    return frame[frame[column].isin(allowed)].reset_index(drop=True)


def _questionnaires(session: Session) -> dict[tuple[str, str], Questionnaire]:
    listed = storage.list_questionnaire_versions(session)
    return {(q, v): storage.published_questionnaire(session, q, v)
            for q, v in zip(listed["questionnaire"], listed["version"], strict=True)}


# -- national ---------------------------------------------------------------------------------------------------
def data_version(session: Session, principal: Principal) -> str:
    principal.require("data_version")
    return storage.data_version(session)


def sign_in(session: Session, principal: Principal, *, issuer: str, subject: str, email: str | None,
            name: str = "", configured_issuers: Sequence[str], admins: Sequence[str] = ()) -> Principal | None:
    """The signed-in user's principal (their grants), or None for a user nobody has granted anything."""
    principal.require("sign_in")
    result = user_store.sign_in(session, issuer=issuer, subject=subject, email=email, name=name,
                                configured_issuers=configured_issuers, admins=admins)
    if result.user is None:
        return None
    return Principal.with_grants(result.user.email, result.user.grants)


def signed_in_principal(session: Session, principal: Principal, *, issuer: str, subject: str) -> Principal | None:
    """The principal of an already signed-in user with their grants as they are now (a revoked role is gone
    on the next page view), or None when the identity is not (or no longer) a user."""
    principal.require("signed_in_principal")
    user = user_store.user_by_identity(session, issuer=issuer, subject=subject)
    return None if user is None else Principal.with_grants(user.email, user.grants)


def list_questionnaire_versions(session: Session, principal: Principal) -> pd.DataFrame:
    principal.require("list_questionnaire_versions")
    return storage.list_questionnaire_versions(session)


def published_questionnaire(session: Session, principal: Principal, questionnaire: str, version: str) -> Questionnaire:
    principal.require("published_questionnaire")
    return storage.published_questionnaire(session, questionnaire, version)


def publish_questionnaire(session: Session, principal: Principal, questionnaire: Questionnaire):
    principal.require("publish_questionnaire")
    return storage.publish_questionnaire(session, questionnaire, actor=principal.name)


def list_organisations(session: Session, principal: Principal) -> pd.DataFrame:
    principal.require("list_organisations")
    return storage.list_organisations(session)


def add_organisation(session: Session, principal: Principal, key: str, name: str, **details: Any):
    principal.require("add_organisation")
    return storage.add_organisation(session, key, name, actor=principal.name, **details)


def add_partnership(session: Session, principal: Principal, key: str, name: str, **details: Any):
    principal.require("add_partnership")
    return storage.add_partnership(session, key, name, actor=principal.name, **details)


def list_users(session: Session, principal: Principal) -> pd.DataFrame:
    principal.require("list_users")
    return user_store.list_users(session)


def add_user(session: Session, principal: Principal, email: str, *, name: str = ""):
    principal.require("add_user")
    return user_store.add_user(session, email, actor=principal.name, name=name)


def grant_role(session: Session, principal: Principal, email: str, role: str, *, partnership: str | None = None):
    principal.require("grant_role")
    return user_store.grant_role(session, email, role, actor=principal.name, partnership=partnership)


def revoke_role(session: Session, principal: Principal, email: str, role: str, *, partnership: str | None = None):
    principal.require("revoke_role")
    return user_store.revoke_role(session, email, role, actor=principal.name, partnership=partnership)


def audit_log(session: Session, principal: Principal, **filters: Any) -> pd.DataFrame:
    principal.require("audit_log")
    return user_store.audit_log(session, **filters)


def backup(engine: Engine, principal: Principal, path: str | Path, *, key=None):
    """Back up the whole database (signed with ``key`` when given); the storage layer records who did it."""
    principal.require("backup")
    return storage.backup(engine, path, key=key, actor=principal.name)


def restore(engine: Engine, principal: Principal, path: str | Path, *, key=None, accept_unsigned: bool = False):
    """Check a backup completely and restore it into an empty database; recorded in the restored database."""
    principal.require("restore")
    return storage.restore(engine, path, key=key, accept_unsigned=accept_unsigned, actor=principal.name)


def purge_answers(session: Session, principal: Principal, *, older_than_days: int, dry_run: bool = False):
    """Remove respondent-level answers and comments of rounds closed more than ``older_than_days`` ago
    (stored scores stay; each purged round is audited)."""
    principal.require("purge_answers")
    return storage.purge_answers(session, older_than_days=older_than_days, actor=principal.name, dry_run=dry_run)


def compare_regions(session: Session, principal: Principal, period: str, *, min_peers: int = 3,
                    min_peers_spread: int = 5, window_months: int = 12,
                    min_group_size: int | None = None) -> pd.DataFrame:
    """Region × domain figures of the peer window ending with a period (aggregates only: no partnership is
    named; a score hidden under ``min_group_size``, None: the deployment's, is no peer value)."""
    principal.require("compare_regions")
    return peers.compare_regions(storage.partnership_scores(session, min_group_size=min_group_size), storage.list_partnerships(session),
                                 period=period, min_peers=min_peers, min_peers_spread=min_peers_spread,
                                 questionnaires=_questionnaires(session), window_months=window_months)


def region_periods(session: Session, principal: Principal) -> pd.DataFrame:
    """Periods with closed rounds and how many partnerships closed one in each (newest first)."""
    principal.require("region_periods")
    rounds = storage.list_rounds(session)
    closed = rounds[rounds["status"] == "closed"]
    counts = closed.groupby("period")["partnership"].nunique()
    frame = pd.DataFrame({"period": counts.index.astype(str), "partnerships": counts.to_numpy()})
    frame["_end"] = period_bounds(frame["period"])["end_month"].to_numpy()  # latest period first, by its end
    return (frame.sort_values(["_end", "period"], ascending=False, kind="stable").drop(columns="_end")
            .reset_index(drop=True))


def promising_practices(session: Session, principal: Principal, domain: str, *, period: str | None = None,
                        min_peers: int = 3, min_peers_spread: int = 5,
                        min_group_size: int | None = None) -> pd.DataFrame:
    """Evidence from top-quartile partnerships that opted in to share it; the partnership's name only where
    it opted to be named (column ``partnership_name``, empty otherwise; the key is never returned)."""
    principal.require("promising_practices")
    # Only comments that can be listed: on the domain's items, from partnerships that opted in to share.
    comments = storage.answer_comments(session, domain=domain, shared_only=True)
    places = storage.list_partnerships(session)
    scores = storage.partnership_scores(session, min_group_size=min_group_size)
    practices = peers.promising_practices(comments, scores, places,
                                          min_peers=min_peers, min_peers_spread=min_peers_spread)
    if period is not None:
        practices = practices[practices["period"] == period]
    names = dict(zip(places["partnership"], places["name"], strict=True))
    named = practices["named"].astype(bool)
    # A partnership that opted to be named can be contacted: through its partnership leads' addresses.
    users = user_store.list_users(session)
    leads = users[users["role"] == "partnership_lead"].groupby("partnership")["email"].agg(", ".join)
    practices = practices.assign(
        partnership_name=[names.get(p, "") if n else "" for p, n in zip(practices["partnership"], named, strict=True)],
        contact=[leads.get(p, "") if n else "" for p, n in zip(practices["partnership"], named, strict=True)])
    return practices.drop(columns=["partnership"]).reset_index(drop=True)


# -- lists, filtered ---------------------------------------------------------------------------------------------
def list_partnerships(session: Session, principal: Principal) -> pd.DataFrame:
    """Administrators see every partnership; scoped roles their own; analysts those that opted to be named."""
    allowed = _visible(principal, "list_partnerships")
    frame = storage.list_partnerships(session)
    if allowed is None:
        return frame
    shown = frame["partnership"].isin(allowed)
    if ANALYST in principal.roles:
        shown |= frame["named_to_peers"].astype(bool)
    return frame[shown].reset_index(drop=True)


def list_rounds(session: Session, principal: Principal, partnership: str | None = None) -> pd.DataFrame:
    return _only(storage.list_rounds(session, partnership), _visible(principal, "list_rounds"))


def partnership_scores(session: Session, principal: Principal) -> pd.DataFrame:
    """Stored partnership domain scores of the closed rounds the principal may see."""
    return _only(storage.partnership_scores(session), _visible(principal, "partnership_scores"))


def portfolio_trends(session: Session, principal: Principal, **options: Any) -> pd.DataFrame:
    """The trends of every partnership the principal may see (a commissioner's portfolio): read from the
    stored figures (options: ``resamples``, ``seed``, ``min_respondents``, ``min_group_size``, and
    ``latest_only``: each partnership's latest round per domain only, what the portfolio grid shows)."""
    allowed = _visible(principal, "portfolio_trends")
    latest_only = bool(options.pop("latest_only", False))
    if set(options) <= _STORED_TREND_OPTIONS:
        return figures.read_trends(session, figures.FigureOptions(**options),
                                   None if allowed is None else sorted(allowed), latest_only=latest_only)
    keys = storage.list_partnerships(session)["partnership"]
    frames = [_trends(session, key, latest_only=latest_only, **options) for key in keys
              if allowed is None or key in allowed]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(trends.TREND_COLUMNS))


def action_counts(session: Session, principal: Principal, *, today=None, **options: Any) -> pd.DataFrame:
    """Per partnership the principal may see (a commissioner's portfolio): actions, open, overdue and met
    at review (options: the trend options, as for ``partnership_trends``)."""
    allowed = _visible(principal, "action_counts")
    keys = list(storage.list_partnerships(session)["partnership"])
    keys = [k for k in keys if allowed is None or k in allowed]
    return storage.action_counts(session, keys, today=today, **options)


# -- one partnership ---------------------------------------------------------------------------------------------
def update_partnership(session: Session, principal: Principal, key: str, **changes: Any):
    principal.require("update_partnership", key)
    return storage.update_partnership(session, key, actor=principal.name, **changes)


def set_peer_groups(session: Session, principal: Principal, key: str, groups: Sequence[str]):
    principal.require("set_peer_groups", key)
    return storage.set_peer_groups(session, key, groups, actor=principal.name)


def round_info(session: Session, principal: Principal, key: str):
    info = storage.round_info(session, key)
    principal.require("round_info", info.partnership)
    return info


def create_round(session: Session, principal: Principal, partnership: str, period: str, **details: Any):
    principal.require("create_round", partnership)
    return storage.create_round(session, partnership, period, actor=principal.name, **details)


def period_warning(session: Session, principal: Principal, partnership: str, period: str, *,
                   window_months: int = 12) -> str | None:
    """Said when a round is created in a period no other partnership uses (peers then come from the window)."""
    principal.require("period_warning", partnership)
    return storage.period_warning(session, partnership, period, window_months=window_months)


def close_preview(session: Session, principal: Principal, key: str, **options: Any):
    """What closing the round now would give (responses per agency, unsubmitted, hidden agencies)."""
    principal.require("close_preview", _round_partnership(session, key))
    return storage.close_preview(session, key, **options)


def list_links(session: Session, principal: Principal, round_key: str) -> pd.DataFrame:
    """Each invite link of a round with its state (issued, started, submitted, withdrawn); never a token."""
    principal.require("list_links", _round_partnership(session, round_key))
    return storage.list_links(session, round_key)


def reissue_link(session: Session, principal: Principal, link: int, *, base_url: str, expires_days: int = 30):
    """A new link in place of a lost one (the old token stops working); its plain link, shown once."""
    principal.require("reissue_link", _round_partnership(session, storage.link_round(session, link)))
    return storage.reissue_link(session, link, actor=principal.name, base_url=base_url,
                                expires_days=expires_days).link


def withdraw_link(session: Session, principal: Principal, link: int) -> None:
    principal.require("withdraw_link", _round_partnership(session, storage.link_round(session, link)))
    storage.withdraw_link(session, link, actor=principal.name)


def open_round(session: Session, principal: Principal, key: str):
    principal.require("open_round", _round_partnership(session, key))
    return storage.open_round(session, key, actor=principal.name)


def _figure_options(settings: Settings | None) -> figures.FigureOptions | None:
    return None if settings is None else figures.FigureOptions.from_settings(settings)


def close_round(session: Session, principal: Principal, key: str, *, settings: Settings | None = None,
                **options: Any):
    """Close a round: its scores, and the stored trend and peer figures (with ``settings``' thresholds)."""
    principal.require("close_round", _round_partnership(session, key))
    return storage.close_round(session, key, actor=principal.name, figure_options=_figure_options(settings),
                               **options)


def reopen_round(session: Session, principal: Principal, key: str, *, reason: str,
                 settings: Settings | None = None):
    principal.require("reopen_round", _round_partnership(session, key))
    return storage.reopen_round(session, key, actor=principal.name, reason=reason,
                                figure_options=_figure_options(settings))


def create_invitations(session: Session, principal: Principal, round_key: str, agency: str, count: int,
                       **options: Any) -> list[str]:
    principal.require("create_invitations", _round_partnership(session, round_key))
    return storage.create_invitations(session, round_key, agency, count, actor=principal.name, **options)


def revoke_round_invitations(session: Session, principal: Principal, round_key: str, *,
                             agency: str | None = None) -> int:
    principal.require("revoke_round_invitations", _round_partnership(session, round_key))
    return storage.revoke_round_invitations(session, round_key, actor=principal.name, agency=agency)


def response_counts(session: Session, principal: Principal, round_key: str) -> pd.DataFrame:
    principal.require("response_counts", _round_partnership(session, round_key))
    return storage.response_counts(session, round_key)


def import_responses(session: Session, principal: Principal, round_key: str, source, **options: Any):
    principal.require("import_responses", _round_partnership(session, round_key))
    return storage.import_responses(session, round_key, source, actor=principal.name, **options)


def export_round(session: Session, principal: Principal, round_key: str, fmt: str = "xlsx", *,
                 table: str = "domain_scores") -> bytes:
    """The board export of a closed round (score tables only, small groups blank), recorded."""
    principal.require("export_round", _round_partnership(session, round_key))
    content = storage.export_round(session, round_key, fmt, table=table)
    audit(session, principal.name, "export", "round", round_key, format=fmt, table=table if fmt == "csv" else "all")
    return content


def custodian_export(session: Session, principal: Principal, round_key: str, *, purpose: str) -> dict[str, pd.DataFrame]:
    """The data-custodian export (respondent-level answers, re-keyed): administrators only; the storage layer
    records it with the purpose."""
    principal.require("custodian_export", _round_partnership(session, round_key))
    return storage.custodian_export(session, round_key, actor=principal.name, purpose=purpose)


def round_answers(session: Session, principal: Principal, round_key: str, *, submitted_only: bool = True):
    principal.require("round_answers", _round_partnership(session, round_key))
    return storage.round_answers(session, round_key, submitted_only=submitted_only)


def respondent_scores(session: Session, principal: Principal, partnership: str) -> pd.DataFrame:
    principal.require("respondent_scores", partnership)
    return storage.respondent_scores(session, partnership=partnership)


def round_scores(session: Session, principal: Principal, round_key: str) -> dict[str, pd.DataFrame]:
    """A closed round's stored score frames: ``domains``, ``agencies``, ``items`` and ``overall``."""
    principal.require("round_scores", _round_partnership(session, round_key))
    return {"domains": storage.partnership_scores(session, [round_key]),
            "agencies": storage.agency_scores(session, [round_key]),
            "items": storage.item_scores(session, [round_key]),
            "overall": storage.overall_scores(session, [round_key])}


def peer_comparison(session: Session, principal: Principal, partnership: str, round_key: str, peer_group: str,
                    *, min_peers: int = 3, min_peers_spread: int = 5,
                    min_peers_extremes: int = 10, window_months: int = 12,
                    min_group_size: int | None = None) -> tuple[pd.DataFrame, str | None]:
    """The partnership's gap table against a peer group (peers as a distribution, never named) and the next
    wider group when this one is too small. A score hidden under ``min_group_size`` (None: the deployment's
    ``ASSESSMENT_MIN_GROUP_SIZE``) is neither shown nor a peer value."""
    principal.require("peer_comparison", partnership)
    if _round_partnership(session, round_key) != partnership:
        raise ValueError(f"round '{round_key}' is not a round of partnership '{partnership}'")
    if min_group_size is None:
        min_group_size = load_settings().min_group_size
    options = figures.FigureOptions(min_peers=min_peers, min_peers_spread=min_peers_spread,
                                    min_peers_extremes=min_peers_extremes, window_months=window_months,
                                    min_group_size=min_group_size)
    stored: dict[str, pd.DataFrame] = {}
    if figures.is_current(session, "peers", options):  # the stored figures (issue 17), when they are current
        every = figures.read_peers(session, options, partnership=partnership, round_key=round_key)
        stored = {str(g): t.reset_index(drop=True) for g, t in every.groupby("peer_group", sort=False)}
    places = storage.list_partnerships(session)
    scores = qs = None
    table = stored.get(peer_group)
    if table is None:  # not stored (settings or data changed since, or a group the partnership is not in)
        scores, qs = storage.partnership_scores(session, min_group_size=min_group_size), _questionnaires(session)
        table = peers.compare_with_peers(scores, places, partnership=partnership, round=round_key,
                                         peer_group=peer_group, min_peers=min_peers, questionnaires=qs,
                                         min_peers_spread=min_peers_spread, min_peers_extremes=min_peers_extremes,
                                         window_months=window_months)
    wider = None
    if table.empty or table["suppressed"].astype(bool).all():
        if scores is None:
            scores = storage.partnership_scores(session, min_group_size=min_group_size)
        wider = peers.wider_peer_group(scores, places,
                                       partnership=partnership, round=round_key, peer_group=peer_group,
                                       min_peers=min_peers, window_months=window_months,
                                       questionnaires=_questionnaires(session) if qs is None else qs,
                                       tables=stored)
    return table, wider


_STORED_TREND_OPTIONS = frozenset({"resamples", "seed", "min_respondents", "min_group_size"})


def _trends(session: Session, partnership: str, **options: Any) -> pd.DataFrame:
    if set(options) <= _STORED_TREND_OPTIONS:  # the stored figures (computed afresh when theirs differ)
        return figures.read_trends(session, figures.FigureOptions(**options), [partnership])
    respondents = storage.respondent_scores(session, partnership=partnership)
    if respondents.empty:
        return pd.DataFrame(columns=list(trends.TREND_COLUMNS))
    return trends.domain_trends(respondents, partnership=partnership, questionnaires=_questionnaires(session),
                                **options)


def partnership_trends(session: Session, principal: Principal, partnership: str, **options: Any) -> pd.DataFrame:
    """Domain trends with bootstrap intervals (options: ``resamples``, ``seed``, ``min_respondents``)."""
    principal.require("partnership_trends", partnership)
    return _trends(session, partnership, **options)


# -- the results model and the board pack (issue 14) ------------------------------------------------------------
def _round_actions(session: Session, partnership: str, period: str, trend_table: pd.DataFrame) -> pd.DataFrame:
    """The partnership's actions agreed up to this round (baseline period no later than the round's), with
    their review at the next round's close (:func:`assessment.storage.actions.list_actions`)."""
    actions = storage.list_actions(session, partnership, trends=trend_table)
    return actions[actions["period"].astype(str) <= period].reset_index(drop=True)


def results_model(session: Session, principal: Principal, round_key: str, peer_group: str = "all", *,
                  settings: Settings) -> ResultsModel:
    """The results of a closed round as the Results page and the board pack show them
    (:func:`assessment.reports.build_results_model`), with the disclosure thresholds of ``settings``."""
    info = storage.round_info(session, round_key)
    principal.require("results_model", info.partnership)
    if info.status != "closed":
        raise ValueError(f"round '{round_key}' is {info.status}: results exist only for a closed round")
    places = storage.list_partnerships(session).set_index("partnership")
    place = places.loc[info.partnership]
    label = partial(peer_group_label, nation=str(place["nation"] or ""), region=str(place["region"] or ""))
    # the same peer table as the page's gap section (one rule: peer_comparison, with the settings' window)
    peer_table, wider = peer_comparison(session, principal, info.partnership, round_key, peer_group,
                                        min_peers=settings.min_peers, min_peers_spread=settings.min_peers_spread,
                                        min_peers_extremes=settings.min_peers_extremes,
                                        window_months=settings.peer_window_months,
                                        min_group_size=settings.min_group_size)
    qs = _questionnaires(session)
    context = ReportContext(info.partnership, str(place["name"]), round_key, info.period, info.questionnaire,
                            info.version, peer_group, label(peer_group))
    trend_table = _trends(session, info.partnership, resamples=settings.bootstrap_resamples,
                          seed=settings.bootstrap_seed, min_respondents=settings.min_respondents_for_change,
                          min_group_size=settings.min_group_size)
    return build_results_model(
        context=context, questionnaire=qs[(info.questionnaire, info.version)],
        **{frame: read(session, [round_key], min_group_size=settings.min_group_size)
           for frame, read in (("domains", storage.partnership_scores), ("agencies", storage.agency_scores),
                               ("items", storage.item_scores), ("overall", storage.overall_scores))},
        responses=storage.response_counts(session, round_key), peers=peer_table, trends=trend_table,
        actions=_round_actions(session, info.partnership, info.period, trend_table), wider_peer_group=wider,
        wider_peer_group_label=label(wider) if wider else "", min_group_size=settings.min_group_size,
        min_peers=settings.min_peers,
        data_quality_notes=_data_quality_notes(session, info.partnership, info.period,
                                               settings.reconciliation_tolerance))


def board_pack(session: Session | None, principal: Principal, round_key: str, peer_group: str = "all", *,
               settings: Settings, fmt: str = "html", model: ResultsModel | None = None) -> bytes:
    """The board pack of a closed round: one self-contained HTML file, or a PDF (needs the ``[pdf]`` extra).

    ``model`` is the round's :func:`results_model` when the caller already read it as this principal (the
    Results page renders the pack from the model it shows, so the two cannot disagree); without it the
    model is read here."""
    if model is None:
        principal.require("board_pack", _round_partnership(session, round_key))
        model = results_model(session, principal, round_key, peer_group, settings=settings)
    elif (model.context.round, model.context.peer_group) != (round_key, peer_group):
        raise ValueError(f"the results model is of round '{model.context.round}', not '{round_key}'")
    principal.require("board_pack", model.context.partnership)
    from assessment.reports import board_pack as pack

    return pack.render(model, fmt)


def printable_questionnaire(session: Session, principal: Principal, questionnaire: str, version: str, *,
                            fmt: str = "html", agency: str | None = None) -> bytes:
    """A questionnaire version for print (every level descriptor; only ``agency``'s items when given), HTML
    or PDF."""
    principal.require("printable_questionnaire")
    from assessment.reports import printable

    return printable.render(storage.published_questionnaire(session, questionnaire, version), fmt, agency)


def answer_comments(session: Session, principal: Principal, round_key: str, *, min_group_size: int = 3,
                    small_groups: bool = True) -> pd.DataFrame:
    """Evidence comments of a closed round. Administrators and partnership leads get the comments with their
    agency (``small_groups=False`` leaves out agencies with fewer than ``min_group_size`` respondents, as the
    app shows them); board members only comments from agencies with at least ``min_group_size`` respondents,
    and without the agency."""
    partnership = _round_partnership(session, round_key)
    principal.require("answer_comments", partnership)
    frame = storage.answer_comments(session, [round_key])
    full = principal.partnerships((ADMINISTRATOR, PARTNERSHIP_LEAD))
    full_access = full is None or partnership in full
    if full_access and small_groups:
        return frame
    counts = storage.response_counts(session, round_key)
    sizes = counts.set_index("agency")["submitted"] + counts.set_index("agency")["imported"]
    large = set(sizes[sizes >= min_group_size].index)
    frame = frame[frame["agency"].isin(large)].reset_index(drop=True)
    return frame if full_access else frame.drop(columns=["agency"])


def list_actions(session: Session, principal: Principal, partnership: str, **options: Any) -> pd.DataFrame:
    """The partnership's action plan with each action's review at the next round's close
    (:func:`assessment.storage.actions.list_actions`; options: ``status``, ``today``, ``trends`` and the
    trend options)."""
    principal.require("list_actions", partnership)
    return storage.list_actions(session, partnership, **options)


def add_action(session: Session, principal: Principal, partnership: str, **fields: Any):
    """Add an action to the partnership's plan (fields as :func:`assessment.storage.actions.add_action`)."""
    principal.require("add_action", partnership)
    return storage.add_action(session, partnership, actor=principal.name, **fields)


def update_action(session: Session, principal: Principal, action: int, **changes: Any):
    """Change an action of a partnership the principal leads (``EDITABLE_FIELDS`` only)."""
    principal.require("update_action", action_store.action_partnership(session, action))
    return storage.update_action(session, action, actor=principal.name, **changes)


# -- outcome indicators (issue 16) -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartnershipIndicators:
    """One partnership's indicator figures as they may be shown, and the police–NHS reconciliation."""

    figures: pd.DataFrame  # assessment.indicators.figures.FIGURE_COLUMNS; hidden counts read "fewer than N"
    reconciliation: pd.DataFrame  # RECONCILIATION_COLUMNS with the indicator's name
    notes: tuple[str, ...]  # the "data quality" notes: one per pair that differs by more than the tolerance
    tolerance: float


def indicator_catalogue(session: Session, principal: Principal, version: str | None = None):
    """The shipped indicator catalogue (the newest version unless one is named)."""
    from assessment.indicators import get_catalogue

    principal.require("indicator_catalogue")
    return get_catalogue(version=version)


def _catalogue(catalogue):
    """The catalogue given, or the shipped one (its domains are checked against the shipped questionnaire)."""
    from assessment.indicators import get_catalogue
    from assessment.settings import default_questionnaires_dir

    return catalogue if catalogue is not None else get_catalogue(questionnaires_dir=default_questionnaires_dir())


def _data_quality_notes(session: Session, partnership: str, period: str, tolerance: float) -> tuple[str, ...]:
    """The data quality notes of one partnership and period (none when no indicator values are stored)."""
    from assessment.indicators import tables
    from assessment.storage.indicators import indicator_values as stored

    values = stored(session, [partnership], [period])
    if values.empty:
        return ()
    reconciliation = tables.reconciliation_table(_catalogue(None), values, tolerance=tolerance)
    return tuple(tables.data_quality_notes(reconciliation, tolerance=tolerance))


def indicator_values(session: Session, principal: Principal, partnership: str) -> pd.DataFrame:
    """The values entered for a partnership as stored (small counts too: for the people who enter them)."""
    from assessment.storage.indicators import indicator_values as stored

    principal.require("indicator_values", partnership)
    return stored(session, [partnership])


def save_indicator_values(session: Session, principal: Principal, partnership: str, period: str,
                          values: pd.DataFrame, *, catalogue=None):
    """Save the entry table of one partnership and period (a blank value removes a stored one)."""
    from assessment.storage.indicators import save_indicator_values as save

    principal.require("save_indicator_values", partnership)
    return save(session, partnership, period, values, actor=principal.name, catalogue=_catalogue(catalogue))


def import_indicator_values(session: Session, principal: Principal, partnership: str, source, *, catalogue=None):
    """Import a CSV of indicator values for one partnership: all or nothing (rows of another are refused)."""
    from assessment.storage.indicators import import_indicator_values as load

    principal.require("import_indicator_values", partnership)
    return load(session, source, actor=principal.name, catalogue=_catalogue(catalogue), partnership=partnership)


def partnership_indicators(session: Session, principal: Principal, partnership: str, *, tolerance: float,
                           catalogue=None) -> PartnershipIndicators:
    """The partnership's figures as they may be shown (counts 1 to N−1 as "fewer than N", figures computed
    from them hidden), the reconciliation of agencies reporting the same count, and its data quality notes."""
    from assessment.indicators import tables
    from assessment.storage.indicators import indicator_values as stored

    principal.require("partnership_indicators", partnership)
    cat = _catalogue(catalogue)
    values = stored(session, [partnership])
    reconciliation = tables.reconciliation_table(cat, values, tolerance=tolerance)
    return PartnershipIndicators(tables.indicator_figures(cat, values), reconciliation,
                                 tuple(tables.data_quality_notes(reconciliation, tolerance=tolerance)), tolerance)


def indicator_periods(session: Session, principal: Principal) -> pd.DataFrame:
    """Periods with indicator values and how many partnerships reported in each (newest first)."""
    from assessment.storage.indicators import indicator_values as stored

    principal.require("indicator_periods")
    values = stored(session)
    counts = values.groupby("period")["partnership"].nunique()
    return (pd.DataFrame({"period": counts.index.astype(str), "partnerships": counts.to_numpy(dtype=int)})
            .sort_values("period", ascending=False).reset_index(drop=True))


def region_indicator_medians(session: Session, principal: Principal, period: str, *, min_peers: int = 3,
                             min_peers_spread: int = 5, catalogue=None) -> pd.DataFrame:
    """Indicator medians per nation and region for one period (aggregates only: no partnership is named),
    under the disclosure rule of scores."""
    from assessment.disclosure import DisclosureRule
    from assessment.indicators import tables
    from assessment.storage.indicators import indicator_values as stored

    principal.require("region_indicator_medians")
    cat = _catalogue(catalogue)
    figures = tables.indicator_figures(cat, stored(session, periods=[period]))
    rule = DisclosureRule(min_peers=min_peers, min_peers_spread=min_peers_spread,
                          min_peers_extremes=max(DisclosureRule().min_peers_extremes, min_peers_spread))
    return tables.region_indicator_medians(cat, figures, storage.list_partnerships(session), period=period, rule=rule)


def indicator_association(session: Session, principal: Principal, domain: str, indicator: str, period: str, *,
                          resamples: int = 2000, seed: int = 20260101, catalogue=None):
    """Spearman's rho (bootstrap interval, n) between a domain's score and an indicator across partnerships,
    and the scatter points of the partnerships that opted to be named (``name``, ``score``, ``value``; no key,
    no unnamed point: a force-level figure is public, so an unnamed point could be identified by its value)."""
    from assessment.indicators import tables
    from assessment.indicators.association import spearman_association
    from assessment.storage.indicators import indicator_values as stored

    principal.require("indicator_association")
    cat = _catalogue(catalogue)
    figures = tables.indicator_figures(cat, stored(session, periods=[period]))
    points = tables.association_points(cat, figures, storage.partnership_scores(session),
                                       storage.list_partnerships(session), domain=domain, indicator=indicator,
                                       period=period)
    result = spearman_association(points, score="score", indicator="value", resamples=resamples, seed=seed)
    named = points[points["named"]][["name", "score", "value"]].reset_index(drop=True)
    return result, named


# -- the respondent's own invite link ----------------------------------------------------------------------------
def resolve_invitation(session: Session, principal: Principal, token: str):
    principal.require("resolve_invitation")
    return storage.resolve_invitation(session, token)


def check_invitation(session: Session, principal: Principal, token: str, *, browser: str, address: str | None,
                     limits: GuessLimits | None = None):
    """What an invite link opens, or None for any refusal; failed guesses are counted (write transaction)."""
    principal.require("check_invitation")
    return storage.check_invitation(session, token, browser=browser, address=address,
                                    limits=limits if limits is not None else GuessLimits())


def invitation_partnership_name(session: Session, principal: Principal, token: str) -> str:
    """The name of the partnership an invite link is for (shown before the respondent starts)."""
    principal.require("invitation_partnership_name")
    key = storage.resolve_invitation(session, token).partnership
    names = storage.list_partnerships(session).set_index("partnership")["name"]
    return str(names.get(key, key))


def respondent_partnership_name(session: Session, principal: Principal) -> str:
    """The name of the partnership the respondent is assessing (shown above their questions)."""
    round_key, _ = _own(principal, "respondent_partnership_name")
    key = storage.round_info(session, round_key).partnership
    names = storage.list_partnerships(session).set_index("partnership")["name"]
    return str(names.get(key, key))


def respondent_questionnaire(session: Session, principal: Principal) -> Questionnaire:
    """The questionnaire of the respondent's own round."""
    round_key, _ = _own(principal, "respondent_questionnaire")
    return storage.round_questionnaire(session, round_key)


def start_respondent(session: Session, principal: Principal, token: str):
    """Start or resume answering through an invite link; returns the respondent's context. Build the
    respondent's principal from it with ``Principal.for_respondent(context.round, context.respondent)``."""
    principal.require("start_respondent")
    return storage.start_respondent(session, token)


def _own(principal: Principal, operation: str) -> tuple[str, str]:
    principal.require(operation)
    if principal.respondent is None:  # pragma: no cover - require() already refused
        raise AccessDenied("you do not have access to these answers")
    return principal.respondent


def respondent_answers(session: Session, principal: Principal) -> pd.DataFrame:
    round_key, respondent = _own(principal, "respondent_answers")
    return storage.respondent_answers(session, round_key, respondent)


def save_answer(session: Session, principal: Principal, item: str, value: object, comment: str = "") -> None:
    round_key, respondent = _own(principal, "save_answer")
    storage.save_answer(session, round_key, respondent, item, value, comment)


def submit_respondent(session: Session, principal: Principal) -> None:
    round_key, respondent = _own(principal, "submit_respondent")
    storage.submit_respondent(session, round_key, respondent)





def issue_resume_key(session: Session, principal: Principal) -> str:
    """A resume key for the respondent's own answers (shown in the address bar; the previous one stops working)."""
    round_key, respondent = _own(principal, "issue_resume_key")
    return resume_store.issue_resume_key(session, round_key, respondent)


def check_resume_key(session: Session, principal: Principal, key: str, *, browser: str, address: str | None,
                     limits: GuessLimits | None = None):
    """The respondent a resume key opens, or ``None`` (a counted failed guess); see
    :func:`assessment.storage.resume.check_resume_key`."""
    principal.require("check_resume_key")
    return resume_store.check_resume_key(session, key, browser=browser, address=address, limits=limits)
