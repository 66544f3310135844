"""Action plans: a partnership's agreed actions, stored, changed and listed with their review.

An action belongs to a partnership and a domain (optionally one item of it) and is agreed from the
results of a closed round (its baseline: by default the partnership's latest closed round when it is
added). ``what``, ``owner`` and ``notes`` are the lead's words, stored as given and shown as plain text.
Every field is checked before anything is written, and every problem is reported at once, each naming
its field (:class:`assessment.errors.ValidationFailed`); a refused change writes nothing. Adding and
changing an action is recorded in the audit trail (which fields changed, never their text).

:func:`list_actions` is what the Actions page, the board pack and ``assessment actions list`` read: the
stored actions with their review at the next round's close (:func:`assessment.actions.review_actions`),
computed from the stored scores and the same trends as the Trends page each time it is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from assessment import actions as review
from assessment.disclosure import blank_suppressed
from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.questionnaire.schema import Questionnaire
from assessment.storage._common import NotFound, audit, get_partnership, get_round
from assessment.storage.catalogue import (
    list_questionnaire_versions,
    published_questionnaire,
    questionnaire_of_version_id,
)
from assessment.storage.limits import comment_problems
from assessment.storage.models import ActionRow, PartnershipRow, RoundRow, utcnow
from assessment.storage.scores import partnership_scores, respondent_scores
from assessment.trends import TREND_COLUMNS, domain_trends
from assessment.vocabulary import ACTION_STATUSES

__all__ = [
    "ACTION_COLUMNS",
    "EDITABLE_FIELDS",
    "LIST_COLUMNS",
    "Action",
    "action_counts",
    "action_partnership",
    "add_action",
    "list_actions",
    "stored_actions",
    "update_action",
]

#: The stored columns, as :func:`stored_actions` returns them (``action`` is the action's number).
ACTION_COLUMNS = ("action", "partnership", "round", "period", "domain", "item", "what", "owner", "target_level",
                  "due", "status", "notes", "created_at", "created_by", "updated_at", "updated_by")
#: What :func:`list_actions` returns: the stored columns, ``overdue`` and the review.
LIST_COLUMNS = (*ACTION_COLUMNS, "overdue", *review.REVIEW_COLUMNS)
#: Fields a lead may change after the action is added.
EDITABLE_FIELDS = ("domain", "item", "what", "owner", "target_level", "due", "status", "notes")
_OWNER_LIMIT = ActionRow.__table__.c.owner.type.length


class Action(dict):
    """One stored action as a plain mapping of :data:`ACTION_COLUMNS` (never the ORM row)."""

    @property
    def id(self) -> int:
        return int(self["action"])


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def status_key(value: Any) -> str:
    """``in_progress``, ``In-progress`` and ``in progress`` are the same status."""
    return " ".join(_text(value).strip().lower().replace("_", " ").replace("-", " ").split())


def _date(value: Any, field: str, problems: list[Problem], source: str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(_text(value).strip())
    except ValueError:
        if not _text(value).strip():
            problems.append(Problem.make(ErrorCode.FIELD_REQUIRED, file=source, path=field, field=field,
                                         hint="the date the action is due, YYYY-MM-DD"))
        else:
            problems.append(Problem.make(ErrorCode.NOT_A_DATE, file=source, path=field, field=field,
                                         value=_text(value)[:40]))
        return None


def _questionnaire(session: Session, partnership_id: int, round_row: RoundRow | None) -> Questionnaire | None:
    """The questionnaire the action's domain belongs to: its baseline round's, else the partnership's
    latest round's, else None (no round yet: any published questionnaire's domains are accepted)."""
    if round_row is None:
        round_row = session.scalar(select(RoundRow).where(RoundRow.partnership_id == partnership_id)
                                   .order_by(RoundRow.period.desc()).limit(1))
    return None if round_row is None else questionnaire_of_version_id(session, round_row.questionnaire_version_id)


def _published_domains(session: Session) -> dict[str, Questionnaire]:
    listed = list_questionnaire_versions(session)
    found: dict[str, Questionnaire] = {}
    for q, v in zip(listed["questionnaire"], listed["version"], strict=True):
        model = published_questionnaire(session, q, v)
        found.update({d.id: model for d in model.domains})
    return found


def _check_scope(values: dict, questionnaire: Questionnaire | None, session: Session, source: str) -> list[Problem]:
    """The domain, the item and the target level against the questionnaire."""
    problems: list[Problem] = []
    domain = _text(values.get("domain")).strip()
    if not domain:
        return [Problem.make(ErrorCode.FIELD_REQUIRED, file=source, path="domain", field="domain",
                             hint="the domain whose gap the action answers")]
    if questionnaire is None or domain not in {d.id for d in questionnaire.domains}:
        if questionnaire is None:
            questionnaire = _published_domains(session).get(domain)
        if questionnaire is None or domain not in {d.id for d in questionnaire.domains}:
            q = questionnaire
            return [Problem.make(ErrorCode.UNKNOWN_DOMAIN, file=source, path="domain", id=domain[:120],
                                 questionnaire=q.id if q else "(any published)", version=q.version if q else "")]
    item = _text(values.get("item")).strip()
    if item and item not in {i.id for i in questionnaire.domain(domain).items}:
        code = ErrorCode.ITEM_NOT_IN_DOMAIN if item in {i.id for i in questionnaire.items} else ErrorCode.UNKNOWN_ITEM
        problems.append(Problem.make(code, file=source, path="item", item=item[:120], domain=domain,
                                     questionnaire=questionnaire.id, version=questionnaire.version))
    levels = sorted({band.level for band in questionnaire.bands} & set(range(1, 6)))
    target = values.get("target_level")
    try:
        ok = float(target) == int(float(target)) and int(float(target)) in levels
    except (TypeError, ValueError):
        ok = False
    if not ok:
        problems.append(Problem.make(ErrorCode.TARGET_LEVEL, file=source, path="target_level",
                                     value=_text(target)[:20], questionnaire=questionnaire.id,
                                     version=questionnaire.version, allowed=", ".join(map(str, levels))))
    return problems


def _owner_problems(owner: str, source: str) -> list[Problem]:
    """An owner is a role or an agency on one line: no control character, at most the column's length."""
    problems: list[Problem] = []
    control = re.search(r"[\x00-\x1f\x7f]", owner)
    if control and control.group() == "\x00":
        problems.append(Problem.make(ErrorCode.NUL_CHARACTER, file=source, path="owner"))
    elif control:
        problems.append(Problem.make(ErrorCode.CONTROL_CHARACTER, file=source, path="owner",
                                     character=f"U+{ord(control.group()):04X}", where=" (an owner is one line)"))
    if len(owner) > _OWNER_LIMIT:
        problems.append(Problem.make(ErrorCode.TEXT_TOO_LONG, file=source, path="owner", column="owner",
                                     length=len(owner), limit=_OWNER_LIMIT))
    return problems


def _check_text(values: dict, source: str) -> list[Problem]:
    problems: list[Problem] = []
    what, owner = _text(values.get("what")), _text(values.get("owner"))
    if not what.strip():
        problems.append(Problem.make(ErrorCode.FIELD_REQUIRED, file=source, path="what", field="what",
                                     hint="what will be done, in a sentence"))
    if not owner.strip():
        problems.append(Problem.make(ErrorCode.FIELD_REQUIRED, file=source, path="owner", field="owner",
                                     hint="who owns the action: a role or an agency"))
    problems += comment_problems(what, source=source, path="what")
    problems += comment_problems(_text(values.get("notes")), source=source, path="notes")
    problems += _owner_problems(owner.strip(), source)
    if status_key(values.get("status")) not in ACTION_STATUSES:
        problems.append(Problem.make(ErrorCode.ACTION_STATUS, file=source, path="status",
                                     value=_text(values.get("status"))[:40], allowed=", ".join(ACTION_STATUSES)))
    return problems


def _validated(session: Session, values: dict, partnership_id: int, round_row: RoundRow | None,
               source: str) -> dict:
    """The values to store, or ValidationFailed with every problem (each naming its field)."""
    problems = _check_text(values, source)
    due = _date(values.get("due"), "due", problems, source)
    problems += _check_scope(values, _questionnaire(session, partnership_id, round_row), session, source)
    if problems:
        raise ValidationFailed(problems, f"the action was not saved: {len(problems)} problem(s) "
                               + "; ".join(f"{p.path}: {p.message}" for p in problems))
    return {"domain": _text(values["domain"]).strip(), "item": _text(values.get("item")).strip() or None,
            "what": _text(values["what"]).strip(), "owner": _text(values["owner"]).strip(),
            "target_level": int(float(values["target_level"])), "due": due,
            "status": status_key(values["status"]), "notes": _text(values.get("notes")).strip()}


def _baseline(session: Session, partnership_id: int, partnership: str, round_key: str | None) -> RoundRow | None:
    if round_key:
        row = get_round(session, round_key)
        if row.partnership_id != partnership_id:
            raise ValidationFailed([Problem.make(ErrorCode.INVALID_VALUE, file="action", path="round",
                                                 detail=f"round '{round_key}' is not a round of '{partnership}'")])
        return row
    return session.scalar(select(RoundRow).where(RoundRow.partnership_id == partnership_id,
                                                 RoundRow.status == "closed")
                          .order_by(RoundRow.period.desc()).limit(1))


def add_action(session: Session, partnership: str, *, domain: str, what: str, owner: str, target_level: int,
               due: dt.date | str, actor: str, item: str | None = None, status: str = "planned",
               notes: str = "", round: str | None = None) -> Action:
    """Add an action to the partnership's plan; ``round`` is its baseline (default: the latest closed)."""
    prow = get_partnership(session, partnership)
    base = _baseline(session, prow.id, partnership, round)
    values = _validated(session, {"domain": domain, "item": item, "what": what, "owner": owner, "notes": notes,
                                  "target_level": target_level, "due": due, "status": status},
                        prow.id, base, "new action")
    now = utcnow()
    row = ActionRow(partnership_id=prow.id, round_id=base.id if base is not None else None, created_at=now,
                    created_by=actor, updated_at=now, updated_by=actor, **values)
    session.add(row)
    session.flush()
    audit(session, actor, "add", "action", str(row.id), partnership=partnership, domain=values["domain"],
          status=values["status"])
    return _action(session, row)


def update_action(session: Session, action: int, *, actor: str, **changes: Any) -> Action:
    """Change some of :data:`EDITABLE_FIELDS` of an action (the others keep their values)."""
    row = _row(session, action)
    unknown = [f for f in changes if f not in EDITABLE_FIELDS]
    if unknown:
        raise ValidationFailed([Problem.make(ErrorCode.UNKNOWN_ACTION_FIELD, file=f"action {action}", path=f,
                                             field=f, allowed=", ".join(EDITABLE_FIELDS)) for f in unknown])
    current = {f: getattr(row, f) for f in EDITABLE_FIELDS}
    values = _validated(session, {**current, **changes}, row.partnership_id,
                        session.get(RoundRow, row.round_id) if row.round_id else None, f"action {action}")
    changed = sorted(f for f in EDITABLE_FIELDS if values[f] != current[f])
    if not changed:
        return _action(session, row)
    for field in changed:
        setattr(row, field, values[field])
    row.updated_at, row.updated_by = utcnow(), actor
    session.flush()
    detail = {"fields": changed}
    if "status" in changed:
        detail.update(status_from=current["status"], status_to=values["status"])
    audit(session, actor, "update", "action", str(row.id), **detail)
    return _action(session, row)


def _row(session: Session, action: int) -> ActionRow:
    try:
        number = int(action)
    except (TypeError, ValueError):
        number = None
    row = session.get(ActionRow, number) if number is not None else None
    if row is None:
        raise NotFound(f"no action {action} (list actions with `assessment actions list --partnership KEY`)")
    return row


def action_partnership(session: Session, action: int) -> str:
    """The key of the partnership the action belongs to (what the permission check needs)."""
    row = _row(session, action)
    return session.scalar(select(PartnershipRow.key).where(PartnershipRow.id == row.partnership_id))


def _action(session: Session, row: ActionRow) -> Action:
    frame = stored_actions(session, action=row.id)
    return Action(frame.iloc[0].to_dict())


def stored_actions(session: Session, partnerships: Sequence[str] | None = None, *,
                   action: int | None = None) -> pd.DataFrame:
    """The stored actions (columns :data:`ACTION_COLUMNS`), by partnership, then due date and number."""
    query = (select(ActionRow.id, PartnershipRow.key, RoundRow.key, RoundRow.period, ActionRow.domain,
                    ActionRow.item, ActionRow.what, ActionRow.owner, ActionRow.target_level, ActionRow.due,
                    ActionRow.status, ActionRow.notes, ActionRow.created_at, ActionRow.created_by,
                    ActionRow.updated_at, ActionRow.updated_by)
             .join(PartnershipRow, PartnershipRow.id == ActionRow.partnership_id)
             .outerjoin(RoundRow, RoundRow.id == ActionRow.round_id)
             .order_by(PartnershipRow.key, ActionRow.due, ActionRow.id))
    if partnerships is not None:
        query = query.where(PartnershipRow.key.in_(list(partnerships)))
    if action is not None:
        query = query.where(ActionRow.id == action)
    frame = pd.DataFrame(session.execute(query).all(), columns=list(ACTION_COLUMNS))
    frame["action"] = frame["action"].astype("int64")
    frame["target_level"] = frame["target_level"].astype("int64")
    for column in ("partnership", "domain", "what", "owner", "status", "notes", "created_by", "updated_by"):
        frame[column] = frame[column].astype(object)
    return frame


def _scores(session: Session, read, partnerships: Sequence[str]) -> pd.DataFrame:
    """One partnership's stored scores read alone (a page or the pack); several read together and filtered."""
    if len(partnerships) == 1:
        return read(session, partnership=partnerships[0])
    frame = read(session)
    return frame[frame["partnership"].isin(list(partnerships))] if not frame.empty else frame


def _trends(session: Session, partnerships: Sequence[str], options: Mapping[str, Any]) -> pd.DataFrame:
    if set(options) <= {"resamples", "seed", "min_respondents", "min_group_size"}:  # stored when rounds close
        from assessment.storage import figures

        return figures.read_trends(session, figures.FigureOptions(**options), list(partnerships))
    respondents = _scores(session, respondent_scores, partnerships)
    if respondents.empty:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    listed = list_questionnaire_versions(session)
    questionnaires = {(q, v): published_questionnaire(session, q, v)
                      for q, v in zip(listed["questionnaire"], listed["version"], strict=True)}
    return domain_trends(respondents, partnership=None, questionnaires=questionnaires, **options)


def _unreviewed(frame: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    out = frame.assign(overdue=review.overdue(frame, today) if len(frame) else pd.Series(dtype=bool),
                       review_round=pd.Series(pd.NA, index=frame.index, dtype="string"),
                       review_period=pd.Series(pd.NA, index=frame.index, dtype="string"),
                       review_score=float("nan"), review_level=float("nan"),
                       target_met=pd.Series(pd.NA, index=frame.index, dtype="boolean"), verdict="")
    return out[list(LIST_COLUMNS)]


def reviewed_actions(session: Session, partnerships: Sequence[str], *, today: dt.date | None = None,
                     trends: pd.DataFrame | None = None, review_rounds: bool = True,
                     **trend_options: Any) -> pd.DataFrame:
    """:func:`list_actions` for several partnerships (columns :data:`LIST_COLUMNS`)."""
    frame = stored_actions(session, partnerships)
    if frame.empty or not review_rounds:
        return _unreviewed(frame, today or dt.date.today())
    places = sorted(set(frame["partnership"]))
    scores = _scores(session, partnership_scores, places)
    scores = blank_suppressed(scores) if not scores.empty else pd.DataFrame(
        columns=["partnership", "round", "period", "domain", "score", "level"])
    if trends is None:
        trends = _trends(session, places, trend_options)
    reviewed = review.review_actions(frame, scores, trends)
    reviewed["overdue"] = review.overdue(reviewed, today or dt.date.today())
    return reviewed[list(LIST_COLUMNS)]


def list_actions(session: Session, partnership: str, *, status: Sequence[str] | None = None,
                 today: dt.date | None = None, trends: pd.DataFrame | None = None, review_rounds: bool = True,
                 **trend_options: Any) -> pd.DataFrame:
    """A partnership's actions with their review: what the Actions page, the board pack and the CLI show.

    Columns :data:`LIST_COLUMNS`: the stored ``action`` (number), ``partnership``, ``round`` and
    ``period`` (the baseline), ``domain``, ``item``, ``what``, ``owner``, ``target_level``, ``due``,
    ``status``, ``notes``, created/updated by and at; ``overdue`` (open and past ``due`` on ``today``);
    the review (:data:`assessment.actions.REVIEW_COLUMNS`): ``review_round``, ``review_period``,
    ``review_score``, ``review_level``, ``target_met`` (nullable boolean) and ``verdict``.

    ``trends`` is the partnership's :func:`assessment.trends.domain_trends` frame when the caller has it
    (the app caches the Trends page's); otherwise it is computed with ``trend_options`` (``resamples``,
    ``seed``, ``min_respondents``, ``min_group_size``: pass the settings the Trends page uses).
    ``status`` keeps only those statuses. ``review_rounds=False`` leaves the review empty (no trends are
    computed: for a quick count of open actions).
    """
    get_partnership(session, partnership)  # NotFound for an unknown key
    frame = reviewed_actions(session, [partnership], today=today, trends=trends, review_rounds=review_rounds,
                             **trend_options)
    if status:
        frame = frame[frame["status"].isin([status_key(s) for s in status])]
    return frame.reset_index(drop=True)


def action_counts(session: Session, partnerships: Sequence[str], *, today: dt.date | None = None,
                  **trend_options: Any) -> pd.DataFrame:
    """Per partnership: actions, open, overdue and met (:func:`assessment.actions.action_counts`)."""
    frame = reviewed_actions(session, partnerships, today=today, **trend_options)
    return review.action_counts(frame, today or dt.date.today(), partnerships)
