"""The stored scores of closed rounds: computed once when a round closes, read back across rounds.

When a round closes (:func:`assessment.storage.rounds.close_round`), the scoring engine runs over its
answers and each of its tables is stored as typed rows, one row per round and domain (or item,
respondent and domain, ...): ``score_respondents``, ``score_agencies``, ``score_partnerships``,
``score_overall``, ``score_items`` with ``score_item_counts``, and ``score_rounds`` (when). The ``*_scores``
functions read only the rows asked for (closed rounds; a round list or a partnership) as one frame, with
questionnaire, version and period on every row, in the column order of the engine's frames. The
suppression flags are the typed columns of :mod:`assessment.disclosure` (``FLAG_COLUMNS``): callers blank
flagged figures with ``assessment.disclosure.blank_suppressed`` before showing them. BI tools read the
views of :mod:`assessment.storage.bi_views` instead, which blank them in SQL.

The flags are read under the *current* rule: the stored flags were decided with the minimum group size of
the close, so every ``*_scores`` reader applies the threshold of now (``min_group_size``; by default the
deployment's ``ASSESSMENT_MIN_GROUP_SIZE``) on top (:func:`_current_flags`): the suppression the rule gives
with it from the stored counts, joined with the stored flags. A stricter setting than the close's hides
more; a looser one never un-hides a figure (the stored flags stay).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from assessment.disclosure import FLAG_COLUMNS, HIDDEN_FIGURES
from assessment.scoring import score_responses
from assessment.scoring.suppression import agency_suppression
from assessment.storage.answers import round_answers
from assessment.storage.catalogue import questionnaire_of_version_id
from assessment.storage.models import (
    AgencyScoreRow,
    ItemCountRow,
    ItemScoreRow,
    OverallScoreRow,
    PartnershipRow,
    PartnershipScoreRow,
    QuestionnaireVersionRow,
    RespondentScoreRow,
    RoundRow,
    ScoreRoundRow,
    utcnow,
)

__all__ = [
    "SCORE_TABLES",
    "agency_scores",
    "item_scores",
    "overall_scores",
    "partnership_scores",
    "respondent_scores",
    "store_scores",
    "withdraw_scores",
]

#: The score tables stored for a closed round (the ``Scores`` attribute names).
SCORE_TABLES = ("respondents", "agencies", "partnerships", "overall", "items")


@dataclass(frozen=True)
class _Table:
    """How one ``Scores`` frame is stored: its model and its columns (in the engine's order) by type."""

    model: type
    columns: tuple[str, ...]  # after partnership and round, before the carried columns
    floats: frozenset[str] = frozenset()
    ints: frozenset[str] = frozenset()
    nullable_ints: frozenset[str] = frozenset()
    bools: frozenset[str] = frozenset()


_FLAGS = FLAG_COLUMNS
_FLAG_BOOLS = frozenset({"suppressed", "score_hidden"})
TABLES: dict[str, _Table] = {
    "respondents": _Table(RespondentScoreRow, ("respondent", "agency", "domain", "score", "coverage", "n_answered",
                                               "n_na", "n_dk", "status"),
                          floats=frozenset({"score", "coverage"}), ints=frozenset({"n_answered", "n_na", "n_dk"})),
    "agencies": _Table(AgencyScoreRow, ("domain", "agency", "score", "n_respondents", *_FLAGS),
                       floats=frozenset({"score"}), ints=frozenset({"n_respondents"}), bools=_FLAG_BOOLS),
    "partnerships": _Table(PartnershipScoreRow, (
        "domain", "score", "level", "level_label", "respondent_mean", "median", "sd", "n_respondents", "n_agencies",
        "dk_rate", "agency_gap", "split", *_FLAGS),
        floats=frozenset({"score", "respondent_mean", "median", "sd", "dk_rate", "agency_gap"}),
        ints=frozenset({"n_respondents", "n_agencies"}), nullable_ints=frozenset({"level"}),
        bools=_FLAG_BOOLS | {"split"}),
    "overall": _Table(OverallScoreRow, ("score", "level", "level_label", "n_domains_scored", *_FLAGS),
                      floats=frozenset({"score"}), ints=frozenset({"n_domains_scored"}),
                      nullable_ints=frozenset({"level"}), bools=_FLAG_BOOLS),
    "items": _Table(ItemScoreRow, ("item", "domain", "mean", "n_answered", "n_na", "n_dk", "dk_rate", *_FLAGS),
                    floats=frozenset({"mean", "dk_rate"}), ints=frozenset({"n_answered", "n_na", "n_dk"}),
                    bools=_FLAG_BOOLS),
}
_CARRIED = ("questionnaire", "version", "period")
_COUNT_PREFIX = "count_"


# -- storing -------------------------------------------------------------------------------------------------

def _plain(value):
    """A value the database driver takes: None for missing, Python scalars for numpy ones."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def _records(frame: pd.DataFrame, table: _Table, round_id: int) -> list[dict]:
    """The frame's rows as insert parameters (missing values as None), each with its position."""
    columns = list(table.columns)
    part = frame[columns].astype(object)
    part = part.where(part.notna(), None)
    ordered = "position" in table.model.__table__.columns
    return [{"round_id": round_id, **({"position": n} if ordered else {}),
             **{c: _plain(v) for c, v in zip(columns, row, strict=True)}}
            for n, row in enumerate(part.itertuples(index=False, name=None))]


def _count_records(items: pd.DataFrame, round_id: int) -> list[dict]:
    """One row per item and scale value from the ``count_<value>`` columns."""
    counts = [c for c in items.columns if c.startswith(_COUNT_PREFIX)]
    if not counts:
        return []
    long = items[["item", *counts]].astype({"item": str}).melt(id_vars="item", var_name="column", value_name="count")
    position = {c: i for i, c in enumerate(counts)}
    return [{"round_id": round_id, "item": item, "value": column[len(_COUNT_PREFIX):], "position": position[column],
             "count": int(count)} for item, column, count in long.itertuples(index=False, name=None)]


def store_scores(session: Session, row: RoundRow, *, min_coverage: float, split_threshold: float,
                 min_group_size: int) -> None:
    """Score the round's answers and store every score table (replacing any stored before)."""
    withdraw_scores(session, row)
    answers = round_answers(session, row.key)
    if answers.empty:
        return
    questionnaire = questionnaire_of_version_id(session, row.questionnaire_version_id)
    # every frame: a closed round stores all five score tables
    scores = score_responses(questionnaire, answers.drop(columns=["comment"]), min_coverage=min_coverage,
                             split_threshold=split_threshold, min_group_size=min_group_size)
    session.execute(insert(ScoreRoundRow), [{"round_id": row.id, "computed_at": utcnow()}])
    for name, table in TABLES.items():
        records = _records(getattr(scores, name), table, row.id)
        if records:
            session.execute(insert(table.model), records)
    counts = _count_records(scores.items, row.id)
    if counts:
        session.execute(insert(ItemCountRow), counts)


def withdraw_scores(session: Session, row: RoundRow) -> None:
    """Remove the round's stored scores (a reopened round has no official scores)."""
    for model in (ItemCountRow, *(t.model for t in TABLES.values()), ScoreRoundRow):
        session.execute(delete(model).where(model.round_id == row.id))


# -- reading ------------------------------------------------------------------------------------------------

def _typed_columns(frame: pd.DataFrame, table: _Table) -> pd.DataFrame:
    for column in table.columns:
        if column in table.floats:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        elif column in table.ints:
            frame[column] = frame[column].astype(np.int64)
        elif column in table.nullable_ints:
            frame[column] = frame[column].astype("Int64")
        elif column in table.bools:
            frame[column] = frame[column].astype(bool)
        else:
            frame[column] = frame[column].astype("str")
    return frame


def _with_counts(session: Session, frame: pd.DataFrame, round_ids: Sequence[int]) -> pd.DataFrame:
    """The items frame with its ``count_<value>`` columns (in scale order) before the flags."""
    found = session.execute(select(ItemCountRow.round_id, ItemCountRow.item, ItemCountRow.value,
                                   ItemCountRow.position, ItemCountRow.count)
                            .where(ItemCountRow.round_id.in_(list(round_ids)))).all()
    if not found:
        return frame
    counts = pd.DataFrame(found, columns=["round_id", "item", "value", "position", "count"])
    order = counts.groupby("value")["position"].min().sort_values(kind="stable").index
    wide = counts.pivot_table(index=["round_id", "item"], columns="value", values="count", aggfunc="first")
    wide = wide.reindex(columns=order)
    wide.columns = [f"{_COUNT_PREFIX}{v}" for v in wide.columns]
    keys = pd.MultiIndex.from_arrays([frame["_round_id"], frame["item"]])
    at = frame.columns.get_loc("suppressed")
    for column in wide.columns:
        values = wide[column].reindex(keys).to_numpy()
        frame.insert(at, column, pd.array(values, dtype="Int64") if np.isnan(values).any()
                     else values.astype(np.int64))
        at += 1
    return frame


#: How much each ``hidden`` code hides, per frame: the join of two codes is the one hiding more. Along each
#: chain a code hides every figure of the codes before it (HIDDEN_FIGURES).
_STRICTNESS = {
    "partnerships": ("", "agreement", "agreement_and_mean", "all"),
    "agencies": ("", "score", "all"),
    "overall": ("", "score"),
    "items": ("", "score", "all"),
}
assert all(set(HIDDEN_FIGURES[a]) <= set(HIDDEN_FIGURES[b])
           for chain in _STRICTNESS.values() for a, b in zip(chain, chain[1:], strict=False))


def _deployment_min_group_size() -> int:
    from assessment.settings import load_settings

    return load_settings().min_group_size


def _agency_counts(session: Session, round_ids: Sequence[int]) -> pd.DataFrame:
    found = session.execute(select(AgencyScoreRow.round_id, AgencyScoreRow.domain, AgencyScoreRow.agency,
                                   AgencyScoreRow.n_respondents)
                            .where(AgencyScoreRow.round_id.in_(list(round_ids)))).all()
    columns = ["_round_id", "domain", "agency", "n_respondents"]
    if not found:
        return pd.DataFrame(found, columns=columns)
    # Built column by column: a frame from a list of result rows takes about twice as long (50,000 rows at
    # national scale, read for every peer and region figure).
    return pd.DataFrame(dict(zip(columns, map(list, zip(*found, strict=True)), strict=True)))


def _current_codes(name: str, frame: pd.DataFrame, counts: pd.DataFrame, min_group_size: int) -> np.ndarray:
    """The ``hidden`` code each row of a stored frame gets from the suppression rule at ``min_group_size``
    (:func:`assessment.scoring.suppression.agency_suppression` over the stored agency counts, as at close)."""
    counts = counts.assign(_round_id=counts["_round_id"].astype(np.int64), domain=counts["domain"].astype(str),
                           agency=counts["agency"].astype(str))
    cells = pd.MultiIndex.from_frame(counts[["_round_id", "domain"]]).unique()
    agencies = sorted(counts["agency"].unique())  # the engine breaks ties alphabetically
    n = np.zeros((len(cells), 1, len(agencies)), dtype=np.int64)
    n[cells.get_indexer(pd.MultiIndex.from_frame(counts[["_round_id", "domain"]])), 0,
      pd.Index(agencies).get_indexer(counts["agency"])] = counts["n_respondents"].to_numpy(dtype=np.int64)
    reason, row_small, any_hidden, mean_hidden = agency_suppression(n, np.arange(len(agencies)), min_group_size)
    row_small, any_hidden, mean_hidden = row_small[:, 0], any_hidden[:, 0], mean_hidden[:, 0]
    if name == "overall":  # a hidden domain score would follow from the overall score
        small_rounds = set(cells[row_small].get_level_values(0))
        return np.where(frame["_round_id"].isin(small_rounds).to_numpy(), "score", "")
    at = cells.get_indexer(pd.MultiIndex.from_arrays([frame["_round_id"].astype(np.int64),
                                                      frame["domain"].astype(str)]))
    found = at >= 0
    at = np.where(found, at, 0)
    if name == "partnerships":
        kind = np.where(row_small[at], 3, np.where(any_hidden[at], np.where(mean_hidden[at], 2, 1), 0))
        return np.where(found, np.array(_STRICTNESS[name], dtype=object)[kind], "")
    if name == "agencies":
        agency = pd.Index(agencies).get_indexer(frame["agency"].astype(str))
        code = np.array(["", "all", "score"], dtype=object)[reason[at, 0, np.where(agency >= 0, agency, 0)]]
        return np.where(found & (agency >= 0), code, "")
    answered = frame["n_answered"].to_numpy(dtype=np.int64)  # items
    small = (answered >= 1) & (answered < min_group_size)
    domain_hidden = found & (any_hidden[at] | row_small[at]) & (answered >= 1)
    return np.where(small, "all", np.where(domain_hidden, "score", ""))


def _current_flags(session: Session, name: str, frame: pd.DataFrame, min_group_size: int | None) -> pd.DataFrame:
    """The stored flags joined with those of the rule at ``min_group_size`` (None: the deployment's): a row
    hidden by either is hidden, with the code hiding more (a looser threshold than the close's never un-hides
    a figure)."""
    if name == "respondents" or frame.empty:
        return frame
    min_group_size = _deployment_min_group_size() if min_group_size is None else int(min_group_size)
    counts = frame if name == "agencies" else _agency_counts(session, frame["_round_id"].unique().tolist())
    if counts.empty:
        return frame
    chain = _STRICTNESS[name]
    rank = {code: position for position, code in enumerate(chain)}
    stored = frame["hidden"].astype(str).to_numpy(dtype=object)
    now = _current_codes(name, frame, counts, min_group_size)
    stricter = np.array([rank.get(c, len(chain)) for c in now]) > np.array([rank.get(c, len(chain)) for c in stored])
    if not stricter.any():
        return frame
    frame.loc[stricter, "hidden"] = now[stricter]
    frame.loc[stricter, "suppressed"] = True
    frame.loc[stricter, "suppression_reason"] = np.where(now[stricter] == "all", "small_group", "complementary")
    frame.loc[stricter, "score_hidden"] = [("score" in HIDDEN_FIGURES[c]) for c in now[stricter]]
    return frame


def _read_scores(session: Session, name: str, rounds: Sequence[str] | None, partnership: str | None,
                 min_group_size: int | None = None) -> pd.DataFrame:
    table = TABLES[name]
    model = table.model
    query = (select(model.round_id, PartnershipRow.key, RoundRow.key, QuestionnaireVersionRow.questionnaire,
                    QuestionnaireVersionRow.version, RoundRow.period, *(getattr(model, c) for c in table.columns))
             .join(RoundRow, RoundRow.id == model.round_id)
             .join(QuestionnaireVersionRow, QuestionnaireVersionRow.id == RoundRow.questionnaire_version_id)
             .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
             .where(RoundRow.status == "closed")
             .order_by(PartnershipRow.key, RoundRow.period, RoundRow.key,
                       *([model.position] if "position" in model.__table__.columns else [])))
    if rounds is not None:
        query = query.where(RoundRow.key.in_([str(r) for r in rounds]))
    if partnership is not None:
        query = query.where(PartnershipRow.key == partnership)
    found = session.execute(query).all()
    if not found:
        return pd.DataFrame()
    raw = pd.DataFrame(found, columns=["_round_id", "partnership", "round", *_CARRIED, *table.columns])
    frame = _typed_columns(raw[["_round_id", "partnership", "round", *table.columns]].copy(), table)
    if name == "items":
        frame = _with_counts(session, frame, frame["_round_id"].unique().tolist())
    frame = _current_flags(session, name, frame, min_group_size)
    for column in _CARRIED:
        frame[column] = raw[column].astype(str)
    return frame.drop(columns="_round_id").reset_index(drop=True)


def partnership_scores(session: Session, rounds: Sequence[str] | None = None, *,
                       partnership: str | None = None, min_group_size: int | None = None) -> pd.DataFrame:
    """Partnership domain scores of closed rounds (``Scores.partnerships``) with questionnaire, version, period."""
    return _read_scores(session, "partnerships", rounds, partnership, min_group_size)


def agency_scores(session: Session, rounds: Sequence[str] | None = None, *, partnership: str | None = None, min_group_size: int | None = None) -> pd.DataFrame:
    """Agency domain scores of closed rounds (``Scores.agencies``)."""
    return _read_scores(session, "agencies", rounds, partnership, min_group_size)


def respondent_scores(session: Session, rounds: Sequence[str] | None = None, *,
                      partnership: str | None = None, min_group_size: int | None = None) -> pd.DataFrame:
    """Respondent domain scores of closed rounds (``Scores.respondents``; the input of trends)."""
    return _read_scores(session, "respondents", rounds, partnership, min_group_size)


def overall_scores(session: Session, rounds: Sequence[str] | None = None, *, partnership: str | None = None, min_group_size: int | None = None) -> pd.DataFrame:
    """Overall partnership scores of closed rounds (``Scores.overall``)."""
    return _read_scores(session, "overall", rounds, partnership, min_group_size)


def item_scores(session: Session, rounds: Sequence[str] | None = None, *, partnership: str | None = None, min_group_size: int | None = None) -> pd.DataFrame:
    """Item distributions of closed rounds (``Scores.items``)."""
    return _read_scores(session, "items", rounds, partnership, min_group_size)
