"""Respondents and their answers: start (from an invite), save as they go, submit once; read back.

An answer is one row per respondent and item: a scale value (``"1"``..``"5"`` on the shipped scale),
``"NA"`` (not applicable here) or ``"DK"`` (don't know), plus an optional evidence comment stored exactly
as written. Saving is an idempotent upsert; it is refused once the respondent has submitted or the round
is not open.

A save or a submission and the round's closing never cross: the round's status is checked under the round
lock (``FOR SHARE`` on PostgreSQL, the write transaction on SQLite) that closing must take exclusively, so an
answer whose save reported success is in the closed round's scores, or the save is refused with "this round
has closed".
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import case, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.questionnaire.schema import DONT_KNOW, NOT_APPLICABLE
from assessment.scoring.encoding import DK_CODE, MISSING_CODE, NA_CODE, VALUE_PROBLEMS, value_codes
from assessment.storage import checkpoints
from assessment.storage._common import StateError, audit, get_round
from assessment.storage.catalogue import questionnaire_of_version_id
from assessment.storage.invitations import RESERVATION, InvalidInvitation, reserve_place
from assessment.storage.limits import comment_problems
from assessment.storage.models import (
    AnswerRow,
    InvitationRow,
    PartnershipRow,
    QuestionnaireVersionRow,
    RespondentRow,
    ResumeKeyRow,
    RoundRow,
    utcnow,
)

__all__ = [
    "ANSWER_EXPORT_COLUMNS",
    "RespondentContext",
    "answer_comments",
    "respondent_answers",
    "response_counts",
    "round_answers",
    "save_answer",
    "save_answers",
    "start_respondent",
    "submit_respondent",
]

ANSWER_EXPORT_COLUMNS = ("partnership", "round", "respondent", "agency", "item", "value", "comment",
                         "questionnaire", "version", "period")


@dataclass(frozen=True)
class RespondentContext:
    round: str
    respondent: str
    agency: str
    partnership: str
    questionnaire: str
    version: str
    period: str
    resumed: bool
    submitted: bool


# -- respondents --------------------------------------------------------------------------------------------

def _context(session: Session, respondent: RespondentRow, resumed: bool) -> RespondentContext:
    found = session.execute(
        select(RoundRow.key, PartnershipRow.key, QuestionnaireVersionRow.questionnaire,
               QuestionnaireVersionRow.version, RoundRow.period)
        .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
        .join(QuestionnaireVersionRow, QuestionnaireVersionRow.id == RoundRow.questionnaire_version_id)
        .where(RoundRow.id == respondent.round_id)).one()
    return RespondentContext(found[0], respondent.key, respondent.agency, found[1], found[2], found[3], found[4],
                             resumed, respondent.submitted_at is not None)


def start_respondent(session: Session, token: str) -> RespondentContext:
    """Start answering from an invite token (raises :class:`InvalidInvitation` for any bad token).

    A single-use link resumes the respondent it started before (until that respondent submits); a
    multi-use link creates a new respondent on every call, so the app calls this once per browser session
    and keeps the returned respondent key in that session. Starting reserves one of the link's uses (see
    :func:`assessment.storage.invitations.reserve_place`): a link never has more respondents than uses.
    """
    invitation = reserve_place(session, token)
    if invitation.respondent is not None:
        existing = session.scalar(select(RespondentRow).where(
            RespondentRow.invitation_id == invitation.invitation_id, RespondentRow.key == invitation.respondent))
        return _context(session, existing, True)
    round_id = session.scalar(select(RoundRow.id).where(RoundRow.key == invitation.round))
    row = RespondentRow(key=f"r-{secrets.token_hex(6)}", round_id=round_id, agency=invitation.agency,
                        invitation_id=invitation.invitation_id, started_at=utcnow())
    session.add(row)
    session.flush()
    checkpoints.reached("respondent.started", session, round=invitation.round, respondent=row.key)
    return _context(session, row, False)


def _respondent(session: Session, round_key: str, respondent_key: str, *,
                for_share: bool = False) -> tuple[RoundRow, RespondentRow]:
    round_row = get_round(session, round_key, for_share=for_share)
    respondent = session.scalar(select(RespondentRow).where(RespondentRow.round_id == round_row.id,
                                                            RespondentRow.key == respondent_key))
    if respondent is None:
        raise StateError(f"no respondent '{respondent_key}' in round '{round_key}' (a place on a multi-use link "
                         "is released after 24 hours without an answer: open the link again to start afresh)")
    return round_row, respondent


def _check_can_answer(session: Session, round_row: RoundRow, respondent: RespondentRow, *,
                      submitting: bool = False) -> None:
    if respondent.submitted_at is not None:
        raise StateError("these answers were already submitted and can no longer be changed")
    if round_row.status == "closed":
        raise StateError(f"this round has closed: round '{round_row.key}' no longer accepts answers")
    if round_row.status != "open":
        raise StateError(f"round '{round_row.key}' is {round_row.status}: answers can only be saved while it is open")
    if respondent.invitation_id is not None:
        # The link's row lock (PostgreSQL; SQLite's write transaction holds the database): shared by saves,
        # exclusive for a submission (it counts the use) and for a start (it counts the places), so a start
        # never gives away a place whose holder is saving their first answer at that moment.
        link = session.execute(select(InvitationRow.revoked, InvitationRow.expires_at, InvitationRow.max_uses)
                               .where(InvitationRow.id == respondent.invitation_id)
                               .with_for_update(read=not submitting)).one()
        now = utcnow()
        # A withdrawn or expired link stops working at once, also for someone part-way through.
        if link.revoked or link.expires_at <= now:
            raise InvalidInvitation()
        if link.max_uses > 1 and respondent.started_at <= now - RESERVATION and not session.scalar(
                select(exists().where(AnswerRow.respondent_id == respondent.id))):
            raise StateError("your place on this link was released after 24 hours without an answer: open the "
                             "invitation link again to start afresh")


def _upsert(session: Session, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # any other engine: delete then insert, in the caller's transaction
        for row in rows:
            session.execute(delete(AnswerRow).where(AnswerRow.respondent_id == row["respondent_id"],
                                                    AnswerRow.item == row["item"]))
        session.execute(insert(AnswerRow), rows)
        return
    statement = dialect_insert(AnswerRow)
    statement = statement.on_conflict_do_update(
        index_elements=[AnswerRow.respondent_id, AnswerRow.item],
        set_={"value": statement.excluded.value, "comment": statement.excluded.comment,
              "updated_at": statement.excluded.updated_at})
    session.execute(statement, rows)


def _checked_answers(session: Session, round_row: RoundRow, respondent: RespondentRow,
                     records: list[dict]) -> tuple[list[dict], list[str]]:
    """The rows to upsert and the items to clear, or ``ValidationFailed`` with every problem."""
    questionnaire = questionnaire_of_version_id(session, round_row.questionnaire_version_id)
    items = {item.id: item for item in questionnaire.items}
    accepted = questionnaire.scale.accepted_answers()
    allowed = ", ".join(accepted) + " or empty"
    texts = ["" if record.get("value") is None else str(record.get("value")).strip() for record in records]
    codes = value_codes(questionnaire, texts)
    now = utcnow()
    upserts, clears, problems = [], [], []
    for record, text, code in zip(records, texts, codes.tolist(), strict=True):
        item = str(record.get("item", ""))
        comment = "" if record.get("comment") is None else str(record.get("comment"))
        where = f"item {_shown(item)}"
        if item not in items:
            problems.append(Problem.make(ErrorCode.UNKNOWN_ITEM, path=where, item=_shown(item),
                                         questionnaire=questionnaire.id, version=questionnaire.version))
            continue
        asked = items[item].answered_by
        if asked is not None and respondent.agency not in asked and (text or comment):
            problems.append(Problem.make(ErrorCode.ITEM_NOT_ASKED, path=where, item=item, agency=respondent.agency,
                                         answered_by=", ".join(asked)))
            continue
        if code in VALUE_PROBLEMS:
            problems.append(Problem.make(VALUE_PROBLEMS[code], path=f"{where}, value", value=_shown(text),
                                         allowed=allowed))
        found = comment_problems(comment, path=f"{where}, comment")
        problems += found
        if code in VALUE_PROBLEMS or found:
            continue
        value = {NA_CODE: NOT_APPLICABLE, DK_CODE: DONT_KNOW, MISSING_CODE: ""}.get(code)
        value = accepted[code] if value is None else value
        if not value and not comment:
            clears.append(item)
        else:
            upserts.append({"respondent_id": respondent.id, "item": item, "value": value, "comment": comment,
                            "updated_at": now})
    if problems:
        raise ValidationFailed(problems, "the answer was not saved: " + "; ".join(p.message for p in problems[:3])
                               + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))
    return upserts, clears


def _shown(value: str, width: int = 60) -> str:
    return value if len(value) <= width else value[:width] + "…"


def save_answers(session: Session, round_key: str, respondent_key: str,
                 answers: Iterable[Mapping[str, object]] | pd.DataFrame) -> int:
    """Save (insert or replace) several answers: each has ``item``, ``value`` and optionally ``comment``.

    A value of ``""``/None with no comment clears the answer (missing). Every item and value is checked
    against the round's questionnaire version first, by the importer's rules (a scale value written with
    the digits 0-9, ``NA`` or ``DK`` where the scale allows them; the comment without NUL or control
    characters and within the length limit of :mod:`assessment.storage.limits`); nothing is saved if one
    is wrong. Returns the number of answers written.

    Raises
    ------
    ValidationFailed
        With every problem (error codes from :mod:`assessment.errors`; ``path`` "item ID, value").
    """
    records = answers.to_dict("records") if isinstance(answers, pd.DataFrame) else [dict(a) for a in answers]
    # FOR SHARE on the round (PostgreSQL): saves run side by side, but never across a close.
    round_row, respondent = _respondent(session, round_key, respondent_key, for_share=True)
    _check_can_answer(session, round_row, respondent)
    upserts, clears = _checked_answers(session, round_row, respondent, records)
    checkpoints.reached("answers.checked", session, round=round_key, respondent=respondent_key)
    if clears:
        session.execute(delete(AnswerRow).where(AnswerRow.respondent_id == respondent.id, AnswerRow.item.in_(clears)))
    if upserts:
        _upsert(session, upserts)
    return len(upserts) + len(clears)


def save_answer(session: Session, round_key: str, respondent_key: str, item: str, value: object,
                comment: str = "") -> None:
    """Save one answer (see :func:`save_answers`)."""
    save_answers(session, round_key, respondent_key, [{"item": item, "value": value, "comment": comment}])


def submit_respondent(session: Session, round_key: str, respondent_key: str, *, actor: str = "respondent") -> None:
    """Submit once: the answers are frozen and the invitation's use is counted.

    Raises :class:`InvalidInvitation` if the link was revoked, expired or used up in the meantime.
    """
    round_row, respondent = _respondent(session, round_key, respondent_key, for_share=True)
    _check_can_answer(session, round_row, respondent, submitting=True)
    checkpoints.reached("answers.checked", session, round=round_key, respondent=respondent_key)
    now = utcnow()
    if respondent.invitation_id is not None:
        counted = session.execute(
            update(InvitationRow)
            .where(InvitationRow.id == respondent.invitation_id, InvitationRow.uses < InvitationRow.max_uses,
                   InvitationRow.revoked.is_(False), InvitationRow.expires_at > now)
            .values(uses=InvitationRow.uses + 1)).rowcount
        if counted != 1:
            raise InvalidInvitation()
    respondent.submitted_at = now
    session.execute(delete(ResumeKeyRow).where(ResumeKeyRow.respondent_id == respondent.id))  # nothing to resume
    session.flush()
    audit(session, actor, "submit", "respondent", f"{round_key}/{respondent_key}", agency=respondent.agency)


def respondent_answers(session: Session, round_key: str, respondent_key: str) -> pd.DataFrame:
    """One respondent's saved answers (to resume): columns item, value, comment, updated_at."""
    _round, respondent = _respondent(session, round_key, respondent_key)
    rows = session.execute(select(AnswerRow.item, AnswerRow.value, AnswerRow.comment, AnswerRow.updated_at)
                           .where(AnswerRow.respondent_id == respondent.id).order_by(AnswerRow.item)).all()
    return pd.DataFrame(rows, columns=["item", "value", "comment", "updated_at"])


# -- reading a round ------------------------------------------------------------------------------------------

def response_counts(session: Session, round_key: str) -> pd.DataFrame:
    """Responses per agency against invitations.

    Columns: agency; invited (places on links issued and not withdrawn: a workshop link counts its maximum
    uses; a withdrawn link counts only the respondents who submitted through it); started and
    submitted (respondents who came through a link); response_rate (submitted / invited); imported
    (respondents loaded from a file, who had no link).
    """
    round_row = get_round(session, round_key)
    from assessment.storage.links import invited_places

    invited = dict(session.execute(invited_places(round_row.id)).all())
    linked = RespondentRow.invitation_id.is_not(None)
    rows = session.execute(
        select(RespondentRow.agency,
               func.sum(case((linked, 1), else_=0)),
               func.sum(case((linked & RespondentRow.submitted_at.is_not(None), 1), else_=0)),
               func.sum(case((linked, 0), else_=1)))
        .where(RespondentRow.round_id == round_row.id).group_by(RespondentRow.agency)).all()
    counts = {agency: (int(a or 0), int(b or 0), int(c or 0)) for agency, a, b, c in rows}
    agencies = sorted(set(invited) | set(counts))
    frame = pd.DataFrame({
        "agency": pd.Series(agencies, dtype=str),
        "invited": pd.Series([int(invited.get(a) or 0) for a in agencies], dtype="int64"),
        "started": pd.Series([counts.get(a, (0, 0, 0))[0] for a in agencies], dtype="int64"),
        "submitted": pd.Series([counts.get(a, (0, 0, 0))[1] for a in agencies], dtype="int64"),
        "imported": pd.Series([counts.get(a, (0, 0, 0))[2] for a in agencies], dtype="int64"),
    })
    frame["response_rate"] = (frame["submitted"] / frame["invited"].where(frame["invited"] > 0)).astype(float)
    return frame[["agency", "invited", "started", "submitted", "response_rate", "imported"]]


def _answers_query(round_ids: Sequence[int] | None, submitted_only: bool):
    query = (select(PartnershipRow.key, RoundRow.key, RespondentRow.key, RespondentRow.agency, AnswerRow.item,
                    AnswerRow.value, AnswerRow.comment, QuestionnaireVersionRow.questionnaire,
                    QuestionnaireVersionRow.version, RoundRow.period)
             .select_from(AnswerRow)
             .join(RespondentRow, RespondentRow.id == AnswerRow.respondent_id)
             .join(RoundRow, RoundRow.id == RespondentRow.round_id)
             .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
             .join(QuestionnaireVersionRow, QuestionnaireVersionRow.id == RoundRow.questionnaire_version_id)
             .order_by(RoundRow.key, RespondentRow.key, AnswerRow.item))
    if round_ids is not None:
        query = query.where(RespondentRow.round_id.in_(list(round_ids)))
    if submitted_only:
        query = query.where(RespondentRow.submitted_at.is_not(None))
    return query


def round_answers(session: Session, round_key: str, *, submitted_only: bool = True) -> pd.DataFrame:
    """The round's answers in the scoring input format, with comment, questionnaire, version and period.

    Columns: partnership, round, respondent, agency, item, value, comment, questionnaire, version, period
    (all text). Only submitted respondents by default: their answers are the ones that count.
    """
    round_row = get_round(session, round_key)
    rows = session.execute(_answers_query([round_row.id], submitted_only)).all()
    return pd.DataFrame(rows, columns=list(ANSWER_EXPORT_COLUMNS)).astype(str)


def answer_comments(session: Session, rounds: Sequence[str] | None = None, *,
                    partnership: str | None = None, domain: str | None = None,
                    shared_only: bool = False) -> pd.DataFrame:
    """Non-empty evidence comments of submitted respondents in closed rounds (the practice library's input).

    Columns: partnership, round, period, questionnaire, version, agency, domain, item, value, comment,
    share_practice (the partnership's opt-in). ``domain`` keeps the comments on that domain's items and
    ``shared_only`` those of partnerships that opted in to share their practice, both in the query (the
    rows kept, and their order, are those of the unfiltered frame that pass the same test).
    """
    query = select(RoundRow.id).join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id).where(
        RoundRow.status == "closed")
    if rounds is not None:
        query = query.where(RoundRow.key.in_(list(rounds)))
    if partnership is not None:
        query = query.where(PartnershipRow.key == partnership)
    if shared_only:
        query = query.where(PartnershipRow.share_practice.is_(True))
    round_ids = list(session.scalars(query))
    columns = ["partnership", "round", "period", "questionnaire", "version", "agency", "domain", "item", "value",
               "comment", "share_practice"]
    if not round_ids:
        return pd.DataFrame({c: pd.Series(dtype=bool if c == "share_practice" else str) for c in columns})
    base = _answers_query(round_ids, True).where(AnswerRow.comment != "")
    item_domains = pd.DataFrame(
        [(qid, version, item["id"], part["id"])
         for qid, version, definition in session.execute(
             select(QuestionnaireVersionRow.questionnaire, QuestionnaireVersionRow.version,
                    QuestionnaireVersionRow.definition))
         for part in definition["domains"] for item in part["items"]],
        columns=["questionnaire", "version", "item", "domain"])
    if domain is not None:  # the domain's items in any version (narrowed exactly below, per version)
        base = base.where(AnswerRow.item.in_(sorted(set(item_domains.loc[item_domains["domain"] == domain, "item"]))))
    frame = pd.DataFrame(session.execute(base).all(), columns=list(ANSWER_EXPORT_COLUMNS))
    frame = frame.merge(item_domains, on=["questionnaire", "version", "item"], how="left")
    frame["domain"] = frame["domain"].fillna("").astype(str)
    if domain is not None:
        frame = frame[frame["domain"] == domain]
    flags = dict(session.execute(select(PartnershipRow.key, PartnershipRow.share_practice)).all())
    frame["share_practice"] = frame["partnership"].map(flags).fillna(False).astype(bool)
    return frame[columns].reset_index(drop=True)
