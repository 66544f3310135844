"""Who may do what: the one permission table, the acting principal and the access error.

``PERMISSIONS`` is the contract. Every public function of :mod:`assessment.service` (the service layer
the app calls) has one row here; ``docs/access.md`` is rendered from it (:func:`access_table_markdown`)
and the role × operation × own/other partnership test is generated from it. A test fails when a service
function is missing from the table, or the table names a function that does not exist.

Scopes of an operation:

- ``national``: no partnership is involved (questionnaires, users, the audit log, backups); the role decides.
- ``partnership``: the operation acts on one partnership's data. Administrators may act on every
  partnership; partnership leads, board members and commissioners only on partnerships granted to them.
- ``filtered``: a list; each role gets only the rows it may see (nothing is refused, rows are left out).
- ``invitation``: the respondent's own invite link and answers (respondents never sign in).

This module is plain data and checks: it touches no database and imports nothing from the project.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "ADMINISTRATOR",
    "ANALYST",
    "ANYONE",
    "BOARD_MEMBER",
    "COMMISSIONER",
    "PARTNERSHIP_LEAD",
    "PERMISSIONS",
    "RESPONDENT",
    "ROLES",
    "ROLE_LABELS",
    "SCOPED_ROLES",
    "STAFF_ROLES",
    "AccessDenied",
    "Permission",
    "Principal",
    "access_table_markdown",
    "check_role",
    "is_loopback",
]

ADMINISTRATOR = "administrator"
PARTNERSHIP_LEAD = "partnership_lead"
BOARD_MEMBER = "board_member"
COMMISSIONER = "commissioner"
ANALYST = "analyst"
RESPONDENT = "respondent"
#: Not a role: marks operations open to anyone, signed in or not (the invite link itself is the key).
ANYONE = "anyone"

#: Roles a user can be granted (respondents are not users: their invite link is their key).
STAFF_ROLES = (ADMINISTRATOR, PARTNERSHIP_LEAD, BOARD_MEMBER, COMMISSIONER, ANALYST)
ROLES = (*STAFF_ROLES, RESPONDENT)
#: Roles granted per partnership; the others are national (no partnership named in the grant).
SCOPED_ROLES = (PARTNERSHIP_LEAD, BOARD_MEMBER, COMMISSIONER)
ROLE_LABELS = {
    ADMINISTRATOR: "administrator",
    PARTNERSHIP_LEAD: "partnership lead",
    BOARD_MEMBER: "board member",
    COMMISSIONER: "commissioner",
    ANALYST: "analyst (course group)",
    RESPONDENT: "respondent",
}
ROLE_SCOPES = {
    ADMINISTRATOR: "everything",
    PARTNERSHIP_LEAD: "one or more partnerships",
    BOARD_MEMBER: "one or more partnerships",
    COMMISSIONER: "a named portfolio of partnerships",
    ANALYST: "national (no partnership named unless it opted to be named)",
    RESPONDENT: "one invite link",
}
SCOPES = ("national", "partnership", "filtered", "invitation")


class AccessDenied(PermissionError):
    """The acting principal may not do this; the message starts "you do not have access to ..."."""


def check_role(role: str) -> str:
    """The role key for ``role`` (``partnership-lead`` and ``partnership lead`` are accepted too)."""
    key = str(role).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in STAFF_ROLES:
        raise ValueError(f"role {role!r} is not one of: {', '.join(STAFF_ROLES)}")
    return key


@dataclass(frozen=True)
class Permission:
    """One row of the table: which roles may perform an operation, on what scope."""

    operation: str
    what: str  # completes "you do not have access to ..."
    roles: frozenset[str]
    scope: str
    changes: bool = False

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"{self.operation}: scope {self.scope!r} is not one of {', '.join(SCOPES)}")
        unknown = set(self.roles) - set(ROLES) - {ANYONE}
        if unknown:
            raise ValueError(f"{self.operation}: unknown roles {sorted(unknown)}")


def _p(operation: str, what: str, roles: Iterable[str], scope: str, *, changes: bool = False) -> Permission:
    return Permission(operation, what, frozenset(roles), scope, changes)


_ADMIN = (ADMINISTRATOR,)
_LEAD = (ADMINISTRATOR, PARTNERSHIP_LEAD)
_RESULTS = (ADMINISTRATOR, PARTNERSHIP_LEAD, BOARD_MEMBER, COMMISSIONER)
_STAFF = STAFF_ROLES
_EVERYONE = (*ROLES, ANYONE)

PERMISSIONS: dict[str, Permission] = {p.operation: p for p in (
    # -- national: questionnaires, organisations, users, audit, backups ---------------------------------------
    _p("data_version", "the data version", _EVERYONE, "national"),
    _p("sign_in", "signing in", _EVERYONE, "national", changes=True),
    _p("signed_in_principal", "your own grants", _EVERYONE, "national"),
    _p("list_questionnaire_versions", "the list of questionnaire versions", _STAFF, "national"),
    _p("published_questionnaire", "a published questionnaire", _STAFF, "national"),
    _p("printable_questionnaire", "a printable questionnaire", _STAFF, "national"),
    _p("publish_questionnaire", "publishing questionnaires", _ADMIN, "national", changes=True),
    _p("list_organisations", "the list of organisations", _STAFF, "national"),
    _p("add_organisation", "adding organisations", _ADMIN, "national", changes=True),
    _p("add_partnership", "adding partnerships", _ADMIN, "national", changes=True),
    _p("list_users", "the users and their grants", _ADMIN, "national"),
    _p("add_user", "adding users", _ADMIN, "national", changes=True),
    _p("grant_role", "granting roles", _ADMIN, "national", changes=True),
    _p("revoke_role", "revoking roles", _ADMIN, "national", changes=True),
    _p("audit_log", "the audit log", _ADMIN, "national"),
    _p("backup", "backups", _ADMIN, "national", changes=True),
    _p("restore", "restoring backups", _ADMIN, "national", changes=True),
    _p("custodian_export", "the data-custodian export (respondent-level answers)", _ADMIN, "partnership",
       changes=True),
    _p("round_answers", "respondent-level answers", _ADMIN, "partnership"),
    _p("respondent_scores", "respondent-level scores", _ADMIN, "partnership"),
    _p("purge_answers", "purging respondent-level answers past the retention period", _ADMIN, "national",
       changes=True),
    _p("compare_regions", "the regional comparison", (ADMINISTRATOR, ANALYST), "national"),
    _p("region_periods", "the periods of the regional comparison", (ADMINISTRATOR, ANALYST), "national"),
    _p("promising_practices", "the promising practices library", (ADMINISTRATOR, ANALYST), "national"),
    # -- lists: each role sees only what it may ----------------------------------------------------------------
    _p("list_partnerships", "the list of partnerships", _STAFF, "filtered"),
    _p("list_rounds", "the list of rounds", _RESULTS, "filtered"),
    _p("partnership_scores", "partnership domain scores", _RESULTS, "filtered"),
    _p("portfolio_trends", "the portfolio of partnerships", _RESULTS, "filtered"),
    _p("action_counts", "the action counts of the portfolio", _RESULTS, "filtered"),
    # -- one partnership ---------------------------------------------------------------------------------------
    _p("update_partnership", "changing partnerships", _ADMIN, "partnership", changes=True),
    _p("set_peer_groups", "changing peer groups", _ADMIN, "partnership", changes=True),
    _p("round_info", "this partnership's rounds", _RESULTS, "partnership"),
    _p("create_round", "creating rounds", _LEAD, "partnership", changes=True),
    _p("period_warning", "the warning when a new round's period matches no other partnership", _LEAD,
       "partnership"),
    _p("open_round", "opening rounds", _LEAD, "partnership", changes=True),
    _p("close_round", "closing rounds", _LEAD, "partnership", changes=True),
    _p("list_links", "the invite links of a round and their states", _LEAD, "partnership"),
    _p("reissue_link", "re-issuing a lost invite link", _LEAD, "partnership", changes=True),
    _p("withdraw_link", "withdrawing an invite link", _LEAD, "partnership", changes=True),
    _p("close_preview", "what closing a round would give (responses, hidden agencies)", _LEAD, "partnership"),
    _p("reopen_round", "reopening rounds", _LEAD, "partnership", changes=True),
    _p("create_invitations", "invitations", _LEAD, "partnership", changes=True),
    _p("revoke_round_invitations", "revoking invitations", _LEAD, "partnership", changes=True),
    _p("response_counts", "response tracking", _LEAD, "partnership"),
    _p("import_responses", "importing responses", _LEAD, "partnership", changes=True),
    _p("export_round", "board exports (score tables)", _LEAD, "partnership"),
    _p("round_scores", "this partnership's results", _RESULTS, "partnership"),
    _p("peer_comparison", "this partnership's comparison with peers", _RESULTS, "partnership"),
    _p("partnership_trends", "this partnership's trends", _RESULTS, "partnership"),
    _p("results_model", "this partnership's results", _RESULTS, "partnership"),
    _p("board_pack", "this partnership's board pack", _RESULTS, "partnership"),
    _p("answer_comments", "this partnership's comments", (ADMINISTRATOR, PARTNERSHIP_LEAD, BOARD_MEMBER),
       "partnership"),
    _p("list_actions", "this partnership's action plan", _RESULTS, "partnership"),
    _p("add_action", "adding actions", _LEAD, "partnership", changes=True),
    _p("update_action", "changing actions", _LEAD, "partnership", changes=True),
    # -- outcome indicators (issue 16) -------------------------------------------------------------------------
    _p("indicator_catalogue", "the indicator catalogue", _STAFF, "national"),
    _p("indicator_periods", "the periods with indicator figures", (ADMINISTRATOR, ANALYST), "national"),
    _p("region_indicator_medians", "indicator medians per region", (ADMINISTRATOR, ANALYST), "national"),
    _p("indicator_association", "the association of maturity and indicators across partnerships",
       (ADMINISTRATOR, ANALYST), "national"),
    _p("indicator_values", "this partnership's entered indicator values", _LEAD, "partnership"),
    _p("save_indicator_values", "entering indicator values", _LEAD, "partnership", changes=True),
    _p("import_indicator_values", "importing indicator values", _LEAD, "partnership", changes=True),
    _p("partnership_indicators", "this partnership's indicator figures", _RESULTS, "partnership"),
    # -- the respondent's own invite link ----------------------------------------------------------------------
    _p("resolve_invitation", "this invite link", _EVERYONE, "invitation"),
    _p("check_invitation", "this invite link", _EVERYONE, "invitation", changes=True),
    _p("invitation_partnership_name", "this invite link", _EVERYONE, "invitation"),
    _p("start_respondent", "this invite link", _EVERYONE, "invitation", changes=True),
    _p("respondent_questionnaire", "this questionnaire", (RESPONDENT,), "invitation"),
    _p("respondent_partnership_name", "this partnership's name", (RESPONDENT,), "invitation"),
    _p("respondent_answers", "these answers", (RESPONDENT,), "invitation"),
    _p("save_answer", "these answers", (RESPONDENT,), "invitation", changes=True),
    _p("submit_respondent", "these answers", (RESPONDENT,), "invitation", changes=True),
    _p("issue_resume_key", "these answers", (RESPONDENT,), "invitation", changes=True),
    _p("check_resume_key", "this resume link", _EVERYONE, "invitation", changes=True),
)}


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user with their grants, the CLI, a demo visitor, or a respondent.

    ``grants`` holds ``(role, partnership)`` pairs; national roles (administrator, analyst) carry ``None``.
    ``respondent`` is ``(round, respondent key)`` for someone answering through an invite link.
    ``read_only`` refuses every change (the demo's "view as" visitor without sign-in).
    ``name`` is shown in the app and recorded in the audit trail.
    """

    name: str
    grants: frozenset[tuple[str, str | None]] = field(default_factory=frozenset)
    respondent: tuple[str, str] | None = None
    read_only: bool = False

    # -- constructors --
    @classmethod
    def administrator(cls, name: str) -> Principal:
        return cls(name, frozenset({(ADMINISTRATOR, None)}))

    @classmethod
    def for_respondent(cls, round_key: str, respondent_key: str) -> Principal:
        return cls(f"respondent:{round_key}/{respondent_key}", respondent=(round_key, respondent_key))

    @classmethod
    def anonymous(cls) -> Principal:
        """A visitor holding nothing but (perhaps) an invite link."""
        return cls("anonymous")

    @classmethod
    def with_grants(cls, name: str, grants: Iterable[tuple[str, str | None]], *, read_only: bool = False) -> Principal:
        return cls(name, frozenset(grants), read_only=read_only)

    # -- questions --
    @property
    def roles(self) -> frozenset[str]:
        found = {role for role, _ in self.grants}
        if self.respondent is not None:
            found.add(RESPONDENT)
        return frozenset(found)

    @property
    def is_administrator(self) -> bool:
        return (ADMINISTRATOR, None) in self.grants

    @property
    def is_staff(self) -> bool:
        return bool(self.grants)

    @property
    def cache_key(self) -> str:
        """A stable text naming everything that decides what this principal sees (for cached reads)."""
        parts = sorted(f"{r}@{p or '*'}" for r, p in self.grants)
        return f"{self.name}|{','.join(parts)}|{self.respondent}|{self.read_only}"

    def partnerships(self, roles: Iterable[str]) -> frozenset[str] | None:
        """Partnerships on which the principal holds one of ``roles``; ``None`` means every partnership."""
        roles = set(roles)
        if ADMINISTRATOR in roles and self.is_administrator:
            return None
        return frozenset(p for r, p in self.grants if r in roles and r in SCOPED_ROLES and p is not None)

    def may(self, operation: str, partnership: str | None = None) -> bool:
        """Whether the table allows the operation (on ``partnership`` for partnership-scoped operations;
        without one, on at least one partnership)."""
        permission = PERMISSIONS[operation]
        if permission.scope == "partnership" and partnership is None:
            if permission.changes and self.read_only:
                return False
            if ANYONE not in permission.roles and not self.roles & permission.roles:
                return False
            allowed = self.partnerships(permission.roles)
            return allowed is None or bool(allowed)
        try:
            self.require(operation, partnership)
        except AccessDenied:
            return False
        return True

    def require(self, operation: str, partnership: str | None = None) -> Permission:
        """The table row when allowed; :class:`AccessDenied` naming what was refused otherwise."""
        permission = PERMISSIONS.get(operation)
        if permission is None:
            raise KeyError(f"operation {operation!r} is not in the permission table (assessment.permissions)")
        if permission.changes and self.read_only:
            raise AccessDenied(f"you do not have access to {permission.what}: this view is read-only "
                               "(the demo without sign-in); sign in to make changes")
        if ANYONE not in permission.roles and not self.roles & permission.roles:
            raise AccessDenied(f"you do not have access to {permission.what}"
                               f"{self._as_whom()}; ask an administrator for a grant")
        if permission.scope == "partnership":
            if partnership is None:
                raise ValueError(f"{operation} acts on one partnership: name it")
            allowed = self.partnerships(permission.roles)
            if allowed is not None and partnership not in allowed:
                raise AccessDenied(f"you do not have access to {permission.what} for partnership "
                                   f"'{partnership}'{self._as_whom()}")
        return permission

    def _as_whom(self) -> str:
        roles = sorted(self.roles)
        if not roles:
            return " (you have no role yet)"
        return " (as " + ", ".join(ROLE_LABELS[r] for r in roles) + ")"


def is_loopback(address: str | None) -> bool:
    """Whether a server address accepts connections from this machine only (unset means every interface)."""
    import ipaddress

    text = (address or "").strip().strip("[]")
    if not text:
        return False
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def access_table_markdown() -> str:
    """The permission table as Markdown (the generated part of docs/access.md)."""
    columns = [*ROLES, ANYONE]
    labels = {**ROLE_LABELS, ANYONE: "anyone (no sign-in)"}
    header = "| operation | scope | " + " | ".join(labels[r] for r in columns) + " |"
    rule = "|---|---|" + "---|" * len(columns)
    lines = [header, rule]
    for permission in sorted(PERMISSIONS.values(), key=lambda p: (SCOPES.index(p.scope), p.operation)):
        marks = ["yes" if r in permission.roles else "" for r in columns]
        verb = " (changes data)" if permission.changes else ""
        lines.append(f"| `{permission.operation}`: {permission.what}{verb} | {permission.scope} | "
                     + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"
