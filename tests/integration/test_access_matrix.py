"""Role × service operation × own/other partnership, generated from the permission table, on both engines.

For every row of ``assessment.permissions.PERMISSIONS`` and every role, the test calls the service function
as that role on its own partnership and on another one. What the table allows must get past the access
check (filtered lists must hold only what the role may see); what it refuses must raise ``AccessDenied``
with a "you do not have access to ..." message and leave the database exactly as it was, even when the
transaction is then committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from assessment import service
from assessment.permissions import (
    ADMINISTRATOR,
    ANALYST,
    ANYONE,
    PERMISSIONS,
    RESPONDENT,
    SCOPED_ROLES,
    STAFF_ROLES,
    AccessDenied,
    Principal,
)
from assessment.settings import load_settings
from assessment.storage import services as s
from assessment.storage._common import StorageError
from assessment.storage.users import grant_role

ADMIN = "admin@example.org"
ITEMS = ["governance.joint_board", "governance.escalation", "triage.clinician", "triage.referral_routes",
         "safety.hbpos", "safety.handover", "safety.conveyance"]
AGENCIES = ["police", "mental_health_trust", "ambulance"]
FORCES = {"own": "kent", "other": "essex"}
OTHER = {"own": "other", "other": "own"}
NAMED = {"own": False, "other": True}  # the analyst may see "other" by name only


def _csv(partnership: str, round_key: str, prefix: str = "r") -> bytes:
    lines = ["partnership,round,respondent,agency,item,value,comment"]
    for n in range(9):
        agency = AGENCIES[n // 3]
        for i, item in enumerate(ITEMS):
            lines.append(f"{partnership},{round_key},{prefix}{n},{agency},{item},{(n + i) % 5 + 1},evidence {n}")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class World:
    engine: Any
    mini_v1: Any
    mini_v2: Any
    tokens: dict[str, str]
    respondent: Principal
    backup_file: Path
    tmp: Path
    resume_key: str

    @staticmethod
    def closed(t: str) -> str:
        return f"{t}-2026-h1"

    @staticmethod
    def open(t: str) -> str:
        return f"{t}-2026-h2"

    @staticmethod
    def draft(t: str) -> str:
        return f"{t}-2027-h1"


@pytest.fixture
def world(db, mini_v1, mini_v2, tmp_path) -> World:
    admin = Principal.administrator(ADMIN)
    tokens: dict[str, str] = {}
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        for t, force in FORCES.items():
            s.add_partnership(session, t, f"The {t} partnership", members=[force], actor=ADMIN,
                              share_practice=True, named_to_peers=NAMED[t])
            for period in ("2026-H1", "2026-H2", "2027-H1"):
                s.create_round(session, t, period, questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
            s.import_responses(session, World.closed(t), _csv(t, World.closed(t)), actor=ADMIN)
            s.open_round(session, World.closed(t), actor=ADMIN)
            s.close_round(session, World.closed(t), actor=ADMIN)
            s.open_round(session, World.open(t), actor=ADMIN)
            issued = s.issue_invitations(session, World.open(t), "police", 1, actor=ADMIN,
                                         base_url="http://localhost:8501", max_uses=50)
            tokens[t] = issued[0].token
            s.add_action(session, t, domain="governance", what="Agree the board's terms of reference",
                         owner="Police lead", target_level=3, due="2026-09-30", actor=ADMIN)
        grant_role(session, ADMIN, ADMINISTRATOR, actor="test")
        grant_role(session, "lead@example.org", "partnership_lead", partnership="own", actor="test")
        context = service.start_respondent(session, admin, tokens["own"])
        respondent = Principal.for_respondent(context.round, context.respondent)
        resume_key = service.issue_resume_key(session, respondent)
    backup_file = tmp_path / "world.zip"
    s.backup(db.engine, backup_file)
    return World(db.engine, mini_v1, mini_v2, tokens, respondent, backup_file, tmp_path, resume_key)


Call = Callable[[Session, Principal, World, str], Any]


def _action_of(session: Session, t: str) -> int:
    from assessment.storage.actions import stored_actions

    return int(stored_actions(session, [t])["action"].iloc[0])

TRENDS = {"resamples": 20, "seed": 1, "min_respondents": 5}
REPORT_SETTINGS = load_settings({"ASSESSMENT_BOOTSTRAP_RESAMPLES": "100"})


def _live_link(session, world, target) -> int:
    links = s.list_links(session, world.open(target))
    return int(links.loc[links["state"] != "withdrawn", "link"].iloc[0])

# One call per operation; ``t`` is the partnership acted on ("own" or "other").
CALLS: dict[str, Call] = {
    "data_version": lambda ss, p, w, t: service.data_version(ss, p),
    "sign_in": lambda ss, p, w, t: service.sign_in(ss, p, issuer="https://idp.example", subject="someone",
                                                   email="nobody@example.org", configured_issuers=["https://idp.example"]),
    "signed_in_principal": lambda ss, p, w, t: service.signed_in_principal(ss, p, issuer="https://idp.example",
                                                                           subject="someone"),
    "list_questionnaire_versions": lambda ss, p, w, t: service.list_questionnaire_versions(ss, p),
    "published_questionnaire": lambda ss, p, w, t: service.published_questionnaire(ss, p, w.mini_v1.id,
                                                                                   w.mini_v1.version),
    "publish_questionnaire": lambda ss, p, w, t: service.publish_questionnaire(ss, p, w.mini_v2),
    "list_organisations": lambda ss, p, w, t: service.list_organisations(ss, p),
    "add_organisation": lambda ss, p, w, t: service.add_organisation(ss, p, "new-org", "A new organisation",
                                                                     kind="vcse", nation="England", region="London"),
    "add_partnership": lambda ss, p, w, t: service.add_partnership(ss, p, "newp", "New partnership", members=["surrey"]),
    "list_users": lambda ss, p, w, t: service.list_users(ss, p),
    "add_user": lambda ss, p, w, t: service.add_user(ss, p, "new@example.org"),
    "grant_role": lambda ss, p, w, t: service.grant_role(ss, p, "new@example.org", ANALYST),
    "revoke_role": lambda ss, p, w, t: service.revoke_role(ss, p, "lead@example.org", "partnership_lead",
                                                           partnership="own"),
    "audit_log": lambda ss, p, w, t: service.audit_log(ss, p, action="close"),
    "backup": lambda ss, p, w, t: service.backup(w.engine, p, w.tmp / "matrix.zip"),
    "restore": lambda ss, p, w, t: service.restore(w.engine, p, w.backup_file),
    "export_round": lambda ss, p, w, t: service.export_round(ss, p, w.closed(t), "csv"),
    "custodian_export": lambda ss, p, w, t: service.custodian_export(ss, p, w.closed(t), purpose="matrix test"),
    "round_answers": lambda ss, p, w, t: service.round_answers(ss, p, w.closed(t)),
    "respondent_scores": lambda ss, p, w, t: service.respondent_scores(ss, p, t),
    "purge_answers": lambda ss, p, w, t: service.purge_answers(ss, p, older_than_days=1),
    "compare_regions": lambda ss, p, w, t: service.compare_regions(ss, p, "2026-H1"),
    "region_periods": lambda ss, p, w, t: service.region_periods(ss, p),
    "promising_practices": lambda ss, p, w, t: service.promising_practices(ss, p, "governance", min_peers=1),
    "list_partnerships": lambda ss, p, w, t: service.list_partnerships(ss, p),
    "list_rounds": lambda ss, p, w, t: service.list_rounds(ss, p),
    "partnership_scores": lambda ss, p, w, t: service.partnership_scores(ss, p),
    "portfolio_trends": lambda ss, p, w, t: service.portfolio_trends(ss, p, **TRENDS),
    "update_partnership": lambda ss, p, w, t: service.update_partnership(ss, p, t, name="Renamed"),
    "set_peer_groups": lambda ss, p, w, t: service.set_peer_groups(ss, p, t, ["metropolitan"]),
    "round_info": lambda ss, p, w, t: service.round_info(ss, p, w.closed(t)),
    "create_round": lambda ss, p, w, t: service.create_round(ss, p, t, "2027-H2", questionnaire=w.mini_v1.id,
                                                             version=w.mini_v1.version),
    "period_warning": lambda ss, p, w, t: service.period_warning(ss, p, t, "2027-H2"),
    "close_preview": lambda ss, p, w, t: service.close_preview(ss, p, w.open(t)),
    "list_links": lambda ss, p, w, t: service.list_links(ss, p, w.open(t)),
    "reissue_link": lambda ss, p, w, t: service.reissue_link(ss, p, _live_link(ss, w, t), base_url="http://x"),
    "withdraw_link": lambda ss, p, w, t: service.withdraw_link(ss, p, _live_link(ss, w, t)),
    "open_round": lambda ss, p, w, t: service.open_round(ss, p, w.draft(t)),
    "close_round": lambda ss, p, w, t: service.close_round(ss, p, w.open(t)),
    "reopen_round": lambda ss, p, w, t: service.reopen_round(ss, p, w.closed(t), reason="a late file"),
    "create_invitations": lambda ss, p, w, t: service.create_invitations(ss, p, w.open(t), "police", 2,
                                                                         base_url="http://localhost:8501"),
    "revoke_round_invitations": lambda ss, p, w, t: service.revoke_round_invitations(ss, p, w.open(t)),
    "response_counts": lambda ss, p, w, t: service.response_counts(ss, p, w.open(t)),
    "import_responses": lambda ss, p, w, t: service.import_responses(ss, p, w.draft(t), _csv(t, w.draft(t), "x")),
    "round_scores": lambda ss, p, w, t: service.round_scores(ss, p, w.closed(t)),
    "peer_comparison": lambda ss, p, w, t: service.peer_comparison(ss, p, t, w.closed(t), "all"),
    "partnership_trends": lambda ss, p, w, t: service.partnership_trends(ss, p, t, **TRENDS),
    "results_model": lambda ss, p, w, t: service.results_model(ss, p, w.closed(t), "all", settings=REPORT_SETTINGS),
    "board_pack": lambda ss, p, w, t: service.board_pack(ss, p, w.closed(t), "all", settings=REPORT_SETTINGS),
    "printable_questionnaire": lambda ss, p, w, t: service.printable_questionnaire(ss, p, w.mini_v1.id,
                                                                                   w.mini_v1.version),
    "answer_comments": lambda ss, p, w, t: service.answer_comments(ss, p, w.closed(t)),
    "list_actions": lambda ss, p, w, t: service.list_actions(ss, p, t, **TRENDS),
    "add_action": lambda ss, p, w, t: service.add_action(ss, p, t, domain="triage", what="Street triage pilot",
                                                         owner="ICB", target_level=2, due="2026-12-31"),
    "update_action": lambda ss, p, w, t: service.update_action(ss, p, _action_of(ss, t), status="done"),
    "action_counts": lambda ss, p, w, t: service.action_counts(ss, p, **TRENDS),
    "resolve_invitation": lambda ss, p, w, t: service.resolve_invitation(ss, p, w.tokens[t]),
    "check_invitation": lambda ss, p, w, t: service.check_invitation(ss, p, w.tokens[t], browser="matrix",
                                                                     address="127.0.0.1"),
    "invitation_partnership_name": lambda ss, p, w, t: service.invitation_partnership_name(ss, p, w.tokens[t]),
    "respondent_questionnaire": lambda ss, p, w, t: service.respondent_questionnaire(ss, p),
    "start_respondent": lambda ss, p, w, t: service.start_respondent(ss, p, w.tokens[t]),
    "respondent_answers": lambda ss, p, w, t: service.respondent_answers(ss, p),
    "save_answer": lambda ss, p, w, t: service.save_answer(ss, p, "governance.joint_board", "3"),
    "submit_respondent": lambda ss, p, w, t: service.submit_respondent(ss, p),
    "respondent_partnership_name": lambda ss, p, w, t: service.respondent_partnership_name(ss, p),
    "issue_resume_key": lambda ss, p, w, t: service.issue_resume_key(ss, p),
    "check_resume_key": lambda ss, p, w, t: service.check_resume_key(ss, p, w.resume_key, browser="matrix",
                                                                     address="127.0.0.1"),
    "indicator_catalogue": lambda ss, p, w, t: service.indicator_catalogue(ss, p),
    "indicator_periods": lambda ss, p, w, t: service.indicator_periods(ss, p),
    "region_indicator_medians": lambda ss, p, w, t: service.region_indicator_medians(ss, p, "2026-H1"),
    "indicator_association": lambda ss, p, w, t: service.indicator_association(ss, p, "governance", "s136-detentions",
                                                                               "2026-H1", resamples=50),
    "indicator_values": lambda ss, p, w, t: service.indicator_values(ss, p, t),
    "save_indicator_values": lambda ss, p, w, t: service.save_indicator_values(
        ss, p, t, "2026-H1", pd.DataFrame({"indicator": ["s136-detentions"], "agency": ["police"], "value": ["40"]})),
    "import_indicator_values": lambda ss, p, w, t: service.import_indicator_values(
        ss, p, t, f"partnership,period,indicator,agency,value\n{t},2026-H1,s136-detentions,police,41\n".encode()),
    "partnership_indicators": lambda ss, p, w, t: service.partnership_indicators(ss, p, t, tolerance=0.1),
}
#: Operations that may be refused by the stored state after passing the access check (not an access question).
STATE_REFUSALS = {"restore"}
ACTORS = ("anonymous", *STAFF_ROLES, RESPONDENT)


def principal_of(role: str, world: World) -> Principal:
    if role == "anonymous":
        return Principal.anonymous()
    if role == RESPONDENT:
        return world.respondent
    if role in SCOPED_ROLES:
        return Principal.with_grants(f"{role}@example.org", [(role, "own")])
    return Principal.with_grants(f"{role}@example.org", [(role, None)])


def expected(operation: str, role: str, target: str) -> bool:
    permission = PERMISSIONS[operation]
    if ANYONE in permission.roles:
        return True
    if role not in permission.roles:
        return False
    if permission.scope == "partnership" and role in SCOPED_ROLES:
        return target == "own"
    return True


def visible(role: str) -> set[str]:
    """The partnerships a filtered list may show to ``role``."""
    if role == ADMINISTRATOR:
        return {"own", "other"}
    if role == ANALYST:
        return {"other"}
    return {"own"}


def _partnerships_in(result: Any) -> set[str]:
    frame = result if isinstance(result, pd.DataFrame) else None
    if frame is None or "partnership" not in frame.columns:
        raise AssertionError(f"a filtered operation returned {type(result).__name__} without a partnership column")
    return set(frame["partnership"].dropna())


def test_every_operation_has_a_call():
    assert set(CALLS) == set(PERMISSIONS)


def test_the_role_operation_partnership_matrix(db, world, table_dump):
    problems: list[str] = []
    checked = 0
    for operation, permission in PERMISSIONS.items():
        targets = ("own",) if permission.scope in ("national", "filtered", "invitation") else ("own", "other")
        for role in ACTORS:
            for target in targets:
                checked += 1
                principal = principal_of(role, world)
                allowed = expected(operation, role, target)
                where = f"{operation} as {role} on {target}"
                before = table_dump(db.engine) if not allowed else None
                try:
                    if operation in ENGINE_OPERATIONS:  # they open their own transactions
                        check(operation, permission, role, allowed, where, lambda: CALLS[operation](
                            None, principal, world, target), problems)
                    else:
                        with db.sessions.begin() as session:
                            check(operation, permission, role, allowed, where, lambda: CALLS[operation](
                                session, principal, world, target), problems)
                except _Rollback:
                    pass
                if before is not None and table_dump(db.engine) != before:
                    problems.append(f"{where}: refused, but the database changed")
    assert checked > 300
    assert not problems, "\n".join(problems)


class _Rollback(Exception):
    """Raised inside ``session.begin()`` to roll an allowed call back."""


ENGINE_OPERATIONS = {"backup", "restore"}


def check(operation, permission, role, allowed, where, call, problems) -> None:
    """Call; note where the outcome differs from the table. Returns normally after a refusal (so the caller's
    transaction commits whatever was written) and raises ``_Rollback`` after an allowed call."""
    try:
        result = call()
    except AccessDenied as exc:
        if allowed:
            problems.append(f"{where}: refused but the table allows it ({exc})")
        elif not str(exc).startswith("you do not have access to"):
            problems.append(f"{where}: unclear refusal {exc!r}")
        return
    except StorageError as exc:
        if not allowed or operation not in STATE_REFUSALS:
            problems.append(f"{where}: {type(exc).__name__}: {exc}")
        raise _Rollback from exc
    if not allowed:
        problems.append(f"{where}: allowed but the table refuses it")
    elif permission.scope == "filtered":
        extra = _partnerships_in(result) - visible(role)
        if extra:
            problems.append(f"{where}: shows partnerships it may not see: {sorted(extra)}")
    raise _Rollback  # an allowed change must not leak into the next call


def test_a_board_member_gets_comments_only_from_large_agencies_and_without_the_agency(db, world):
    board = principal_of("board_member", world)
    lead = principal_of("partnership_lead", world)
    with db.sessions() as session:
        full = service.answer_comments(session, lead, world.closed("own"))
        assert "agency" in full.columns and len(full) == 63
        assert service.answer_comments(session, lead, world.closed("own"), min_group_size=4, small_groups=False).empty
        shown = service.answer_comments(session, board, world.closed("own"), min_group_size=3)
        assert "agency" not in shown.columns and len(shown) == 63
        fewer = service.answer_comments(session, board, world.closed("own"), min_group_size=4)
        assert fewer.empty  # every agency has three respondents


def test_the_demo_visitor_without_sign_in_may_read_but_not_change(db, world):
    visitor = Principal.with_grants("demo visitor", [(ADMINISTRATOR, None)], read_only=True)
    with db.sessions() as session:
        assert not service.list_rounds(session, visitor).empty
        with pytest.raises(AccessDenied, match="read-only"):
            service.close_round(session, visitor, world.open("own"))


def test_promising_practices_never_return_a_partnership_key(db, world):
    analyst = principal_of(ANALYST, world)
    with db.sessions() as session:
        practices = service.promising_practices(session, analyst, "governance", min_peers=1)
    assert "partnership" not in practices.columns
    assert set(practices["partnership_name"]) <= {"", "The other partnership"}


def test_the_resume_key_in_the_matrix_opens_the_respondent(db, world):
    with db.sessions.begin() as session:
        context = service.check_resume_key(session, Principal.anonymous(), world.resume_key, browser="matrix",
                                           address="127.0.0.1")
        assert context is not None and context.resumed
        assert Principal.for_respondent(context.round, context.respondent) == world.respondent
        assert service.respondent_partnership_name(session, world.respondent) == "The own partnership"
