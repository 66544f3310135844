"""Stored figures: trend verdicts and peer figures kept as typed rows, so pages read rather than compute.

Two kinds of figure are stored for every closed round:

- ``trends`` (table ``trend_figures``): each domain's score with its bootstrap interval, the change from
  the partnership's previous round, its interval and verdict (:func:`assessment.trends.domain_trends`);
- ``peers`` (table ``peer_figures``): each domain against each peer group the partnership can choose (all,
  nation, region and its own custom groups), as :func:`assessment.peers.compare_all_with_peers` gives them.

Both are stored as pages show them: the disclosure rule (:mod:`assessment.disclosure`) has already blanked
what may not be shown (a small round's score, interval and change; peer figures with too few peers), so a
suppressed value never reaches these tables.

Each kind has one ``figure_states`` row with the *fingerprint* of everything its figures were computed
from: the settings that matter (:class:`FigureOptions`), the published questionnaire versions (they decide
comparability), the closed rounds and, for peers, every partnership's nation, region and custom groups. A
reader computes the fingerprint of the inputs as they are now (a few small queries) and trusts the stored
rows only when it matches; otherwise the figures are recomputed (:func:`read_trends`, :func:`read_peers`).
Writers keep them current in their own transaction: closing or reopening a round recomputes that
partnership's trends and every peer figure (:func:`round_changed`), adding a partnership or editing its peer
groups every peer figure (:func:`partnerships_changed`); a settings change is caught by the fingerprint and the app refreshes
at start (:func:`refresh`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from assessment.peers import COMPARISON_COLUMNS, compare_all_with_peers
from assessment.periods import in_window, period_bounds
from assessment.trends import TREND_COLUMNS, domain_trends
from assessment.vocabulary import BUILT_IN_PEER_GROUPS

__all__ = [
    "KINDS",
    "FigureOptions",
    "fingerprint",
    "is_current",
    "begin_change",
    "deferred",
    "partnerships_changed",
    "read_peers",
    "read_trends",
    "refresh",
    "round_changed",
    "stored_options",
]

TRENDS, PEERS = "trends", "peers"
KINDS = (TRENDS, PEERS)
#: Raised when the way a kind is computed changes, so figures stored by older code are recomputed.
FORMULA = {TRENDS: 1, PEERS: 1}


@dataclass(frozen=True)
class FigureOptions:
    """The settings the stored figures depend on (defaults: the settings' defaults)."""

    resamples: int = 2000
    seed: int = 20260101
    min_respondents: int = 5
    min_group_size: int = 3
    min_peers: int = 3
    min_peers_spread: int = 5
    min_peers_extremes: int = 10
    window_months: int = 12

    @classmethod
    def from_settings(cls, settings) -> FigureOptions:
        return cls(resamples=settings.bootstrap_resamples, seed=settings.bootstrap_seed,
                   min_respondents=settings.min_respondents_for_change, min_group_size=settings.min_group_size,
                   min_peers=settings.min_peers, min_peers_spread=settings.min_peers_spread,
                   min_peers_extremes=settings.min_peers_extremes, window_months=settings.peer_window_months)

    @classmethod
    def from_dict(cls, values: dict) -> FigureOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in values.items() if k in names})

    def trend_options(self) -> dict:
        """Keywords of :func:`assessment.trends.domain_trends`."""
        return {"resamples": self.resamples, "seed": self.seed, "min_respondents": self.min_respondents,
                "min_group_size": self.min_group_size}

    def peer_options(self) -> dict:
        """Keywords of :func:`assessment.peers.compare_all_with_peers`."""
        return {"min_peers": self.min_peers, "min_peers_spread": self.min_peers_spread,
                "min_peers_extremes": self.min_peers_extremes, "window_months": self.window_months}

    def of(self, kind: str) -> dict:
        """The options a kind's figures depend on: the peer figures also on ``min_group_size`` (a score hidden
        under it is no peer value, :mod:`assessment.storage.scores`)."""
        if kind == TRENDS:
            return self.trend_options()
        return {**self.peer_options(), "min_group_size": self.min_group_size}


# -- the inputs and their fingerprint ---------------------------------------------------------------------------

def _questionnaires(session: Session) -> dict:
    from assessment.storage.catalogue import list_questionnaire_versions, published_questionnaire

    listed = list_questionnaire_versions(session)
    return {(q, v): published_questionnaire(session, q, v)
            for q, v in zip(listed["questionnaire"], listed["version"], strict=True)}


def _inputs(session: Session, kind: str) -> list:
    """What a kind's figures are computed from, besides the options, as plain values (small queries)."""
    from assessment.storage.catalogue import list_partnerships
    from assessment.storage.models import PartnershipRow, QuestionnaireVersionRow, RoundRow

    versions = session.execute(select(QuestionnaireVersionRow.questionnaire, QuestionnaireVersionRow.version,
                                      QuestionnaireVersionRow.content_hash)
                               .order_by(QuestionnaireVersionRow.id)).all()
    closed = session.execute(select(PartnershipRow.key, RoundRow.key, RoundRow.period,
                                    RoundRow.questionnaire_version_id, RoundRow.closed_at)
                             .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
                             .where(RoundRow.status == "closed").order_by(RoundRow.id)).all()
    inputs = [[list(map(str, v)) for v in versions], [list(map(str, r)) for r in closed]]
    if kind == PEERS:
        places = list_partnerships(session)[["partnership", "nation", "region", "groups"]].astype(str)
        inputs.append(places.to_numpy().tolist())
    return inputs


def fingerprint(session: Session, kind: str, options: FigureOptions) -> str:
    """SHA-256 of the formula version, the kind's options and its inputs as they are now."""
    text = json.dumps({"kind": kind, "formula": FORMULA[kind], "options": options.of(kind),
                       "inputs": _inputs(session, kind)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_options(session: Session, kind: str = TRENDS) -> FigureOptions | None:
    """The options the stored figures of a kind were last computed with (None: nothing stored yet)."""
    from assessment.storage.models import FigureStateRow

    state = session.get(FigureStateRow, kind)
    return None if state is None else FigureOptions.from_dict(state.options)


def _state(session: Session, kind: str):
    from assessment.storage.models import FigureStateRow

    return session.get(FigureStateRow, kind)


def _set_state(session: Session, kind: str, options: FigureOptions) -> None:
    from assessment.storage.models import FigureStateRow, utcnow

    print_ = fingerprint(session, kind, options)  # before the row is added (a query would flush it half-made)
    state = session.get(FigureStateRow, kind)
    if state is None:
        state = FigureStateRow(kind=kind, fingerprint=print_, options=asdict(options), computed_at=utcnow())
        session.add(state)
    else:
        state.fingerprint, state.options, state.computed_at = print_, asdict(options), utcnow()
    session.flush()


# -- computing and writing ---------------------------------------------------------------------------------------

def _plain(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


_TREND_STORED = ("score", "ci_low", "ci_high", "n_respondents", "comparable_with_previous", "break_reason",
                 "change", "change_low", "change_high", "verdict")
_PEER_STORED = tuple(c for c in COMPARISON_COLUMNS if c not in ("partnership", "round", "peer_group", "domain"))


def _round_ids(session: Session, keys: Iterable[str]) -> dict[str, int]:
    from assessment.storage.models import RoundRow

    keys = list(dict.fromkeys(str(k) for k in keys))
    if not keys:
        return {}
    return dict(session.execute(select(RoundRow.key, RoundRow.id).where(RoundRow.key.in_(keys))).all())


def _records(frame: pd.DataFrame, columns: Sequence[str], ids: dict[str, int], extra: Sequence[str]) -> list[dict]:
    part = frame[["round", *extra, *columns]].astype(object)
    part = part.where(part.notna(), None)
    return [{"round_id": ids[row[0]], "position": n,
             **{c: _plain(v) for c, v in zip([*extra, *columns], row[1:], strict=True)}}
            for n, row in enumerate(part.itertuples(index=False, name=None))]


def _compute_trends(session: Session, options: FigureOptions, partnership: str | None) -> pd.DataFrame:
    from assessment.storage.scores import respondent_scores

    respondents = respondent_scores(session, partnership=partnership)
    if respondents.empty:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    return domain_trends(respondents, partnership=partnership, questionnaires=_questionnaires(session),
                         **options.trend_options())


def _write_trends(session: Session, options: FigureOptions, partnership: str | None) -> None:
    """Recompute and store the trends of one partnership (or every partnership), replacing the stored ones."""
    from assessment.storage.models import PartnershipRow, RoundRow, TrendFigureRow

    rounds = select(RoundRow.id)
    if partnership is not None:
        rounds = rounds.join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id).where(
            PartnershipRow.key == partnership)
    session.execute(delete(TrendFigureRow).where(TrendFigureRow.round_id.in_(rounds)))
    frame = _compute_trends(session, options, partnership)
    if not frame.empty:
        records = _records(frame, _TREND_STORED, _round_ids(session, frame["round"]), ["domain"])
        session.execute(insert(TrendFigureRow), records)


def _compute_peers(session: Session, options: FigureOptions, rounds: Sequence[str] | None = None) -> pd.DataFrame:
    from assessment.storage.catalogue import list_partnerships
    from assessment.storage.scores import partnership_scores

    scores = partnership_scores(session, min_group_size=options.min_group_size)
    places = list_partnerships(session)
    if scores.empty or places.empty:
        return pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    own_groups = {p: [g for g in str(text).split(";") if g]
                  for p, text in zip(places["partnership"], places["groups"], strict=True)}
    custom = sorted({g for groups in own_groups.values() for g in groups})
    table = compare_all_with_peers(scores, places, peer_groups=[*BUILT_IN_PEER_GROUPS, *custom], rounds=rounds,
                                   questionnaires=_questionnaires(session), **options.peer_options())
    if custom and not table.empty:  # a partnership chooses among the built-in groups and its own
        offered = [g in BUILT_IN_PEER_GROUPS or g in own_groups.get(p, ())
                   for p, g in zip(table["partnership"], table["peer_group"], strict=True)]
        table = table[np.asarray(offered, dtype=bool)].reset_index(drop=True)
    return table


def _affected_rounds(session: Session, changed: str, months: int) -> dict[str, int]:
    """The closed rounds whose peer window holds the period of round ``changed`` (their peer figures may
    change when it closes or reopens), and that round itself: key -> id."""
    from assessment.storage.models import RoundRow

    rows = session.execute(select(RoundRow.key, RoundRow.id, RoundRow.period).where(
        (RoundRow.status == "closed") | (RoundRow.key == changed))).all()
    frame = pd.DataFrame(rows, columns=["round", "id", "period"])
    bounds = period_bounds(frame["period"].astype(str))
    frame["label"] = bounds["label"].where(bounds["label"] != "", frame["period"]).astype(str)
    frame["end_month"] = bounds["end_month"].to_numpy()
    own = frame[frame["round"] == changed].iloc[0]
    if own["end_month"] < 0:  # a period outside the grammar is a peer only of the same label
        hit = (frame["label"] == own["label"]).to_numpy(dtype=bool)
    else:
        hit = np.array([in_window(np.array([own["end_month"]]), int(end), months)[0] if end >= 0 else False
                        for end in frame["end_month"]], dtype=bool)
    hit |= (frame["round"] == changed).to_numpy(dtype=bool)
    return dict(zip(frame.loc[hit, "round"], frame.loc[hit, "id"], strict=True))


def _write_peers(session: Session, options: FigureOptions, changed: str | None = None) -> None:
    """Recompute and store every peer figure, or (``changed``: a round that just closed or reopened) those of
    the rounds whose peer window holds it (one pass over those rounds)."""
    from assessment.storage.models import PeerFigureRow

    if changed is None:
        session.execute(delete(PeerFigureRow))
        frame = _compute_peers(session, options)
    else:
        affected = _affected_rounds(session, changed, options.window_months)
        session.execute(delete(PeerFigureRow).where(PeerFigureRow.round_id.in_(list(affected.values()))))
        frame = _compute_peers(session, options, rounds=sorted(affected))
    if not frame.empty:
        records = _records(frame, _PEER_STORED, _round_ids(session, frame["round"]), ["peer_group", "domain"])
        session.execute(insert(PeerFigureRow), records)


def _any_closed(session: Session) -> bool:
    from assessment.storage.models import RoundRow

    return session.scalar(select(RoundRow.id).where(RoundRow.status == "closed").limit(1)) is not None


def refresh(session: Session, options: FigureOptions | None = None, *, kinds: Sequence[str] = KINDS,
            force: bool = False) -> list[str]:
    """Recompute and store every figure of each kind whose fingerprint differs from the inputs now (all of
    them with ``force``); ``options`` default to those stored before (else the defaults). Returns the kinds
    recomputed. Nothing is stored while no round is closed (so an empty database stays empty). Does not
    commit."""
    if not _any_closed(session):
        return []
    _lock_writers(session)  # a replica starting at the same moment refreshes first; then these are current
    done = []
    for kind in kinds:
        chosen = options or stored_options(session, kind) or FigureOptions()
        if not force and is_current(session, kind, chosen):
            continue
        if kind == TRENDS:
            _write_trends(session, chosen, None)
        else:
            _write_peers(session, chosen)
        _set_state(session, kind, chosen)
        done.append(kind)
    return done


def round_changed(session: Session, round_key: str, *, before: dict[str, str],
                  options: FigureOptions | None = None) -> None:
    """Keep the stored figures current after a round closed or reopened (same transaction).

    ``before`` holds each stored kind's fingerprint taken just before the change (:func:`begin_change`).
    When the stored figures were current then, and ``options`` (default: those stored) are the ones they
    were computed with, only the round's partnership's trends are recomputed (trends read no other
    partnership's rounds) and the peer figures of the rounds whose peer window holds the round (one pass);
    otherwise everything of the kind, with ``options`` (else the
    defaults: a database with closed rounds always has its figures stored, as the migration leaves it)."""
    if session.info.get(_DEFERRED):
        return
    for kind in KINDS:
        state = _state(session, kind)
        stored = None if state is None else FigureOptions.from_dict(state.options)
        chosen = options or stored or FigureOptions()
        current = (stored is not None and state.fingerprint == before.get(kind)
                   and stored.of(kind) == chosen.of(kind))
        if kind == TRENDS:
            _write_trends(session, chosen, _partnership_of(session, round_key) if current else None)
        else:
            _write_peers(session, chosen, round_key if current else None)
        _set_state(session, kind, chosen)


def _partnership_of(session: Session, round_key: str) -> str:
    from assessment.storage.models import PartnershipRow, RoundRow

    return session.scalar(select(PartnershipRow.key).join(RoundRow, RoundRow.partnership_id == PartnershipRow.id)
                          .where(RoundRow.key == round_key))


_DEFERRED = "stored_figures_deferred"


@contextmanager
def deferred(session: Session, *, refresh_at_end: bool = True) -> Iterator[None]:
    """Within the block, closes, reopens and partnership edits leave the stored figures alone; at its end
    they are brought up to date once (:func:`refresh` with the stored options, else the defaults; not with
    ``refresh_at_end=False``, for a bulk load spread over several transactions that refreshes after the
    last). For bulk loads such as the demo, which would otherwise recompute peer figures after every close.
    Readers never use figures left stale meanwhile (their fingerprint no longer matches)."""
    outer = session.info.get(_DEFERRED, False)
    session.info[_DEFERRED] = True
    try:
        yield
    finally:
        session.info[_DEFERRED] = outer
    if not outer and refresh_at_end:
        refresh(session)


def begin_change(session: Session) -> dict[str, str]:
    """Before a change to the figures' inputs: lock the ``figure_states`` rows (PostgreSQL: writers of
    stored figures take turns, so two closes never write the same rows at once; SQLite's write transaction
    already does) and return each stored kind's fingerprint of the inputs as they are now, for
    :func:`round_changed`."""
    from assessment.storage.models import FigureStateRow

    _lock_writers(session)
    states = session.scalars(select(FigureStateRow).order_by(FigureStateRow.kind).with_for_update()
                             .execution_options(populate_existing=True)).all()
    return {state.kind: fingerprint(session, state.kind, FigureOptions.from_dict(state.options))
            for state in states}


#: PostgreSQL advisory lock taken by every writer of stored figures (see :func:`_lock_writers`).
WRITERS_LOCK_KEY = 7_246_513_906_021_017


def _lock_writers(session: Session) -> None:
    """PostgreSQL: writers of stored figures take turns on one transaction-scoped advisory lock. The
    ``figure_states`` rows alone cannot serialise them before the first close of a deployment (no row to lock
    yet): two first closes, or two app replicas refreshing at start, then both inserted the same rows and
    one failed on the key. SQLite's write transaction already serialises writers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITERS_LOCK_KEY})


def partnerships_changed(session: Session) -> None:
    """Recompute every stored peer figure after a partnership was added or its peer groups changed (same
    transaction; the ``figure_states`` rows are locked first, as in :func:`begin_change`)."""
    if session.info.get(_DEFERRED):
        return
    begin_change(session)
    state = _state(session, PEERS)
    if state is not None:
        options = FigureOptions.from_dict(state.options)
        _write_peers(session, options)
        _set_state(session, PEERS, options)


# -- reading -----------------------------------------------------------------------------------------------------

def is_current(session: Session, kind: str, options: FigureOptions) -> bool:
    """Whether the stored figures of a kind are those of ``options`` and the inputs as they are now."""
    state = _state(session, kind)
    return state is not None and state.fingerprint == fingerprint(session, kind, options)


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    """Each partnership's latest round per domain (period order, as :func:`assessment.trends.portfolio`)."""
    return (frame.sort_values(["partnership", "period", "round"], kind="stable")
            .drop_duplicates(["partnership", "domain"], keep="last").reset_index(drop=True))


def read_trends(session: Session, options: FigureOptions, partnerships: Sequence[str] | None = None, *,
                latest_only: bool = False) -> pd.DataFrame:
    """The stored trends (:data:`assessment.trends.TREND_COLUMNS`) of the partnerships asked for (None: all),
    computed afresh (not stored) when the stored ones are not those of ``options`` and the inputs now.

    ``latest_only``: only each partnership's latest round per domain (what the portfolio shows), picked in
    SQL: a partnership's rows are stored in period order, so its latest round of a domain is the row with
    the highest position."""
    from assessment.storage.models import (
        PartnershipRow,
        QuestionnaireVersionRow,
        RoundRow,
        TrendFigureRow,
    )

    if not is_current(session, TRENDS, options):
        if partnerships is None:
            frame = _compute_trends(session, options, None)
        else:
            parts = [_compute_trends(session, options, str(p)) for p in partnerships]
            parts = [p for p in parts if not p.empty]
            frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(TREND_COLUMNS))
        return _latest(frame) if latest_only and not frame.empty else frame
    query = (select(PartnershipRow.key, RoundRow.key, RoundRow.period, QuestionnaireVersionRow.questionnaire,
                    QuestionnaireVersionRow.version, TrendFigureRow.domain,
                    *(getattr(TrendFigureRow, c) for c in _TREND_STORED))
             .join(RoundRow, RoundRow.id == TrendFigureRow.round_id)
             .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
             .join(QuestionnaireVersionRow, QuestionnaireVersionRow.id == RoundRow.questionnaire_version_id)
             .order_by(PartnershipRow.key, TrendFigureRow.position))
    if latest_only:
        last = (select(RoundRow.partnership_id, TrendFigureRow.domain,
                       func.max(TrendFigureRow.position).label("position"))
                .join(RoundRow, RoundRow.id == TrendFigureRow.round_id)
                .group_by(RoundRow.partnership_id, TrendFigureRow.domain).subquery())
        query = query.join(last, (last.c.partnership_id == RoundRow.partnership_id)
                           & (last.c.domain == TrendFigureRow.domain) & (last.c.position == TrendFigureRow.position))
    if partnerships is not None:
        query = query.where(PartnershipRow.key.in_([str(p) for p in partnerships]))
    frame = pd.DataFrame(session.execute(query).all(), columns=list(TREND_COLUMNS))
    for column in ("partnership", "round", "period", "questionnaire", "version", "domain", "break_reason",
                   "verdict"):
        frame[column] = frame[column].astype(str)
    frame["n_respondents"] = frame["n_respondents"].astype(int)
    frame["comparable_with_previous"] = frame["comparable_with_previous"].astype("boolean")
    for column in ("score", "ci_low", "ci_high", "change", "change_low", "change_high"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame.reset_index(drop=True)


def read_peers(session: Session, options: FigureOptions, *, partnership: str | None = None,
               round_key: str | None = None, peer_group: str | None = None) -> pd.DataFrame:
    """The stored peer figures (:data:`assessment.peers.COMPARISON_COLUMNS`) asked for, computed afresh (not
    stored) when the stored ones are not those of ``options`` and the inputs now."""
    from assessment.storage.models import PartnershipRow, PeerFigureRow, RoundRow

    if not is_current(session, PEERS, options):
        table = _compute_peers(session, options)
        keep = np.ones(len(table), dtype=bool)
        for column, value in (("partnership", partnership), ("round", round_key), ("peer_group", peer_group)):
            if value is not None:
                keep &= (table[column] == value).to_numpy(dtype=bool)
        return table[keep].reset_index(drop=True)
    query = (select(PartnershipRow.key, RoundRow.key, PeerFigureRow.peer_group, PeerFigureRow.domain,
                    *(getattr(PeerFigureRow, c) for c in _PEER_STORED))
             .join(RoundRow, RoundRow.id == PeerFigureRow.round_id)
             .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
             .order_by(PartnershipRow.key, RoundRow.key, PeerFigureRow.position))
    if partnership is not None:
        query = query.where(PartnershipRow.key == partnership)
    if round_key is not None:
        query = query.where(RoundRow.key == round_key)
    if peer_group is not None:
        query = query.where(PeerFigureRow.peer_group == peer_group)
    frame = pd.DataFrame(session.execute(query).all(), columns=list(COMPARISON_COLUMNS))
    for column in ("partnership", "round", "peer_group", "domain", "excluded_reasons", "peer_periods"):
        frame[column] = frame[column].astype(str)
    for column in ("score", "median", "q1", "q3", "min", "max", "percentile_rank", "gap_to_median",
                   "gap_to_top_quartile"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame.astype({"n_peers": int, "n_excluded": int, "suppressed": bool}).reset_index(drop=True)
