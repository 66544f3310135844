"""The scoring engine: respondent, agency, partnership, overall and item figures from encoded answers.

Every figure comes from a few ``numpy.bincount`` passes over the encoded answer columns and from
array arithmetic on (respondent, domain) and (partnership-round, domain, agency) grids; there is no
Python loop per answer or per respondent. The rules, with formulas and a worked example, are in
docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from assessment.disclosure import HIDDEN_FIGURES
from assessment.questionnaire.schema import Questionnaire
from assessment.scoring.encoding import (
    CARRIED_COLUMNS,
    MISSING_CODE,
    EncodedAnswers,
    encode_answers,
)
from assessment.scoring.suppression import COMPLEMENTARY, NONE, REASONS, SMALL_GROUP, agency_suppression
from assessment.vocabulary import AGENCIES

__all__ = ["FRAMES", "STATUSES", "TOLERANCE", "Scores", "score_encoded", "score_responses"]

#: The frames scoring can build, in the order of :class:`Scores`' fields (``frames=`` picks some of them).
FRAMES = ("respondents", "agencies", "partnerships", "overall", "items")

STATUSES = ("scored", "insufficient", "not_applicable", "not_asked")
# Thresholds are compared with this tolerance so that a value that is exactly on a threshold in
# arithmetic (coverage 0.5, a score of 2.6) is not pushed below it by floating-point rounding.
TOLERANCE = 1e-9

SCORE_HIDING = frozenset(code for code, figures in HIDDEN_FIGURES.items() if "score" in figures)


@dataclass(frozen=True)
class Scores:
    """Every scoring output, as tidy DataFrames sorted by their key columns.

    A frame that was not asked for (``frames=`` of :func:`score_encoded`) is ``None``; by default every
    frame is built.

    Attributes
    ----------
    respondents : pandas.DataFrame
        One row per respondent and domain: partnership, round, respondent, agency, domain, score,
        coverage, n_answered, n_na, n_dk, status (``scored``, ``insufficient``, ``not_applicable`` or
        ``not_asked``) (+ questionnaire, version, period).
    agencies : pandas.DataFrame
        One row per partnership, round, domain and agency that has respondents in the round and is asked
        at least one item of the domain (``answered_by``): score
        (mean of its scored respondents), n_respondents, suppressed, suppression_reason,
        score_hidden, hidden (+ carried columns).
    partnerships : pandas.DataFrame
        One row per partnership, round and domain: score (agency-balanced), level, level_label,
        respondent_mean, median, sd, n_respondents, n_agencies, dk_rate, agency_gap, split, suppressed,
        suppression_reason, score_hidden, hidden (+ carried columns).
    overall : pandas.DataFrame
        One row per partnership and round: score (domain-weighted), level, level_label,
        n_domains_scored, suppressed, suppression_reason, score_hidden, hidden (+ carried columns).
    items : pandas.DataFrame
        One row per partnership, round and item: domain, mean, n_answered, n_na, n_dk, dk_rate,
        count_<value> per scale value, suppressed, suppression_reason, score_hidden, hidden (+ carried).
    """

    respondents: pd.DataFrame | None
    agencies: pd.DataFrame | None
    partnerships: pd.DataFrame | None
    overall: pd.DataFrame | None
    items: pd.DataFrame | None


def _check_parameters(min_coverage: float, split_threshold: float, min_group_size: int) -> None:
    if not 0 <= min_coverage <= 1:
        raise ValueError(f"min_coverage must lie between 0 and 1, got {min_coverage}")
    if not split_threshold > 0:
        raise ValueError(f"split_threshold must be greater than 0, got {split_threshold}")
    if int(min_group_size) != min_group_size or min_group_size < 1:
        raise ValueError(f"min_group_size must be a whole number of at least 1, got {min_group_size}")


def _wanted(frames: Iterable[str] | str | None) -> frozenset[str]:
    """The frames asked for (all by default), or a ValueError naming the unknown ones."""
    if frames is None:
        return frozenset(FRAMES)
    wanted = frozenset([frames] if isinstance(frames, str) else frames)
    unknown = sorted(wanted - set(FRAMES))
    if unknown:
        raise ValueError(f"unknown score frame(s) {', '.join(map(repr, unknown))}: choose from {', '.join(FRAMES)}")
    if not wanted:
        raise ValueError(f"frames is empty: ask for at least one of {', '.join(FRAMES)}")
    return wanted


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0."""
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _levels(questionnaire: Questionnaire, scores: np.ndarray) -> tuple[pd.array, pd.array]:
    """Maturity level and label per score: the highest band with ``score >= lower_bound``."""
    bands = sorted(questionnaire.bands, key=lambda band: band.lower_bound)
    bounds = np.array([band.lower_bound for band in bands])
    position = np.searchsorted(bounds, np.nan_to_num(scores, nan=-np.inf) + TOLERANCE, side="right") - 1
    found = ~np.isnan(scores) & (position >= 0)
    numbers = np.array([band.level for band in bands], dtype=np.int64)
    safe = np.clip(position, 0, len(bands) - 1)
    level = pd.arrays.IntegerArray(np.where(found, numbers[safe], 0), ~found)
    labels = pd.array([band.label for band in bands] + [None], dtype="str")
    return level, labels.take(np.where(found, safe, len(bands)))


def _labels_at(labels, index: np.ndarray) -> pd.array:
    """Text labels for codes (a pandas string array); ``labels`` is a small sequence or a Series."""
    if isinstance(labels, pd.Series) and isinstance(labels.dtype, pd.CategoricalDtype):
        categories = pd.array(labels.cat.categories.to_numpy(dtype=object), dtype="str")
        return categories.take(labels.cat.codes.to_numpy()[index])
    array = labels.array if isinstance(labels, pd.Series) else pd.array(list(labels), dtype="str")
    return array.take(index)


def _categorical(labels, index: np.ndarray) -> pd.Categorical:
    """Labels for codes as a categorical with sorted categories: cheap for frames with millions of rows."""
    if isinstance(labels, pd.Series) and isinstance(labels.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(labels.cat.codes.to_numpy()[index], dtype=labels.dtype, validate=False)
    labels = np.asarray(labels.to_numpy(dtype=object) if isinstance(labels, pd.Series) else list(labels), dtype=object)
    categories, inverse = np.unique(labels.astype(str), return_inverse=True)
    return _from_codes(inverse.reshape(-1).astype(_code_type(len(categories)))[index], categories)


def _code_type(n_categories: int) -> type:
    """The integer type pandas keeps categorical codes in: gathering codes in it avoids a conversion."""
    return np.int8 if n_categories < 127 else np.int16 if n_categories < 32767 else np.int32


def _from_codes(codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical from codes we made ourselves (always in range: no validation pass)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype="str"), validate=False)


def _flags(reason: np.ndarray, hidden: tuple[str, ...], kind: np.ndarray | None = None) -> dict[str, pd.array]:
    """The typed suppression columns from a reason code per row (NONE, SMALL_GROUP, COMPLEMENTARY).

    ``hidden`` gives the ``hidden`` code (a key of ``HIDDEN_FIGURES``) of each reason in this frame, or,
    with ``kind``, of each kind of row (``kind`` indexes ``hidden``).
    """
    index = reason if kind is None else kind
    hides_score = np.array([code in SCORE_HIDING for code in hidden])
    return {
        "suppressed": reason != NONE,
        "suppression_reason": _labels_at(REASONS, reason),
        "score_hidden": hides_score[index],
        "hidden": _labels_at(hidden, index),
    }


# The (respondent x item) grid of value codes is used when it is not much larger than the answers
# (every respondent answers most items); otherwise the counts come from bincount passes over the rows.
DENSE_LIMIT_FACTOR = 4


@dataclass(frozen=True)
class _Layout:
    """The questionnaire as arrays, with domains, items and agencies in alphabetical (output) order."""

    domain_ids: np.ndarray
    domain_weight: np.ndarray
    item_ids: np.ndarray
    item_rank: np.ndarray  # questionnaire item position -> alphabetical position
    item_domain: np.ndarray
    item_class: np.ndarray  # weight class per item: the items of one domain with one weight
    class_weight: np.ndarray
    class_items: np.ndarray
    class_starts: np.ndarray  # first class of each domain (classes are sorted by domain)
    agency_ids: np.ndarray
    agency_rank: np.ndarray  # AGENCIES position -> alphabetical position
    scale_values: np.ndarray
    # routing (answered_by): what each agency (alphabetical) is asked
    class_asked: np.ndarray  # (agencies, classes): items of the class asked of the agency
    item_asked: np.ndarray  # (agencies, items): the item is asked of the agency
    domain_asked: np.ndarray  # (domains, agencies): the agency is asked at least one item of the domain

    @classmethod
    def of(cls, q: Questionnaire) -> _Layout:
        domain_ids = np.array(sorted(domain.id for domain in q.domains), dtype=object)
        domain_pos = {domain_id: index for index, domain_id in enumerate(domain_ids)}
        items = sorted((item.id, item.weight, domain.id) for domain in q.domains for item in domain.items)
        item_ids = np.array([item[0] for item in items], dtype=object)
        item_pos = {item_id: index for index, item_id in enumerate(item_ids)}
        item_domain = np.array([domain_pos[item[2]] for item in items], dtype=np.int64)
        item_weight = np.array([item[1] for item in items], dtype=float)
        pairs = sorted({(int(d), float(w)) for d, w in zip(item_domain, item_weight, strict=True)})
        class_of = {pair: index for index, pair in enumerate(pairs)}
        item_class = np.array([class_of[(int(d), float(w))] for d, w in zip(item_domain, item_weight, strict=True)])
        class_domain = np.array([pair[0] for pair in pairs])
        agency_ids = np.array(sorted(AGENCIES), dtype=object)
        answered_by = {item.id: item for item in q.items}
        item_asked = np.array([[answered_by[item_id].asked_of(agency) for item_id in item_ids] for agency in agency_ids],
                              dtype=bool)
        class_asked = np.zeros((len(agency_ids), len(pairs)))
        np.add.at(class_asked, (slice(None), item_class), item_asked.astype(float))
        asked_per_domain = np.zeros((len(domain_ids), len(agency_ids)))
        np.add.at(asked_per_domain, item_domain, item_asked.T.astype(float))
        return cls(
            domain_ids=domain_ids,
            domain_weight=np.array([q.domain(domain_id).weight for domain_id in domain_ids], dtype=float),
            item_ids=item_ids,
            item_rank=np.array([item_pos[item.id] for item in q.items], dtype=np.int64),
            item_domain=item_domain,
            item_class=item_class,
            class_weight=np.array([pair[1] for pair in pairs]),
            class_items=np.bincount(item_class, minlength=len(pairs)).astype(float),
            class_starts=np.searchsorted(class_domain, np.arange(len(domain_ids))),
            agency_ids=agency_ids,
            agency_rank=np.array([list(agency_ids).index(agency) for agency in AGENCIES], dtype=np.int64),
            scale_values=np.array(q.scale.values, dtype=np.int64),
            class_asked=class_asked,
            item_asked=item_asked,
            domain_asked=asked_per_domain > 0,
        )

    def per_domain(self, per_class: np.ndarray, weighted: bool = False) -> np.ndarray:
        """Sum (respondent, class) figures into (respondent, domain), optionally times the class weight."""
        values = per_class * self.class_weight if weighted else per_class
        if len(self.class_weight) == len(self.domain_ids):
            return np.asarray(values, dtype=float)
        return np.add.reduceat(values, self.class_starts, axis=1).astype(float)


def _class_counts_dense(encoded: EncodedAnswers, layout: _Layout, respondent_group: np.ndarray, n_groups: int,
                        with_items: bool = True):
    """Per (respondent, weight class): answered, NA, DK counts and value sums; per (group, item, code) counts
    (``None`` without ``with_items``).

    Builds the (respondent x item) int8 grid of value codes (MISSING where a respondent has no row), then
    sums it per weight class with one float32 matrix product (see :func:`_packed_class_sums`).
    """
    n_respondents, n_items = len(respondent_group), len(layout.item_ids)
    # the grid's columns are the questionnaire's item order (no per-answer reordering); the small
    # results are put in alphabetical order at the end
    grid = np.full(n_respondents * n_items, MISSING_CODE, dtype=np.int8)
    cell = encoded.respondent.astype(np.int32 if n_respondents * n_items < 2**31 - 1 else np.int64)
    cell *= n_items
    cell += encoded.item
    grid[cell] = encoded.value
    del cell
    shifted = (grid + np.int8(3)).reshape(n_respondents, n_items)  # 0 missing, 1 DK, 2 NA, 3.. levels
    del grid
    width = len(layout.scale_values) + 3
    answered, value_sum, na, dk = _packed_class_sums(shifted, layout)
    if not with_items:
        return answered, value_sum, na, dk, None
    key = np.add.outer(respondent_group * (n_items * width), np.arange(n_items, dtype=np.int64) * width)
    key += shifted
    del shifted
    item_counts = np.bincount(key.reshape(-1), minlength=n_groups * n_items * width)
    del key
    alphabetical = np.argsort(layout.item_rank)  # alphabetical position -> questionnaire position
    return answered, value_sum, na, dk, item_counts.reshape(n_groups, n_items, width)[:, alphabetical]


def _packed_class_sums(shifted: np.ndarray, layout: _Layout):
    """Answered, value sum, NA and DK per (respondent, weight class) from the shifted code grid.

    Each code is looked up as one number, ``answered + B na + B**2 dk + B**3 (value - low)`` (``B`` one
    more than the largest class, ``low`` the lowest scale value or 0), and a float32 matrix product sums
    them per class: exact, since every partial sum is a whole number below 2**24. When the numbers would
    not fit, the counts and the value sums take two products (float64 if need be).
    """
    n_items, n_classes = shifted.shape[1], len(layout.class_weight)
    width = len(layout.scale_values) + 3
    base = int(layout.class_items.max(initial=0)) + 1
    low = min(int(layout.scale_values.min()), 0)
    top = int(layout.scale_values.max()) - low
    one = base**3 * (top * (base - 1) + 1) < 2**24
    exact = np.float32 if one or (base**3 < 2**24 and np.abs(layout.scale_values).max() * n_items < 2**24) \
        else np.float64
    to_class = np.zeros((n_items, n_classes), dtype=exact)
    to_class[np.arange(n_items), layout.item_class[layout.item_rank]] = 1
    pack = np.zeros(width, dtype=exact)
    pack[3:] = 1
    pack[2] = base
    pack[1] = base * base
    if one:
        pack[3:] += base**3 * (layout.scale_values - low)
    packed = np.rint(pack[shifted] @ to_class).astype(np.int32 if exact is np.float32 else np.int64)
    rest, answered = np.divmod(packed, base)
    rest, na = np.divmod(rest, base)
    if one:
        shifted_sum, dk = np.divmod(rest, base)
        value_sum = shifted_sum.astype(float)
        if low:
            value_sum += low * answered
    else:
        dk = rest
        value_table = np.concatenate([np.zeros(3), layout.scale_values]).astype(exact)
        value_sum = (value_table[shifted] @ to_class).astype(float)
    return answered, value_sum, na, dk


def _class_counts_sparse(encoded: EncodedAnswers, layout: _Layout, respondent_group: np.ndarray, n_groups: int,
                         with_items: bool = True):
    """The same counts from bincount passes over the answer rows (for sparse answers)."""
    n_respondents, n_items = len(respondent_group), len(layout.item_ids)
    n_classes = len(layout.class_weight)
    width = len(layout.scale_values) + 3
    item = layout.item_rank[encoded.item]
    value = encoded.value.astype(np.int64) + 3
    key = encoded.respondent.astype(np.int64) * n_classes
    key += layout.item_class[item]
    key *= width
    key += value
    counts = np.bincount(key, minlength=n_respondents * n_classes * width).reshape(n_respondents, n_classes, width)
    answered = counts[:, :, 3:].sum(axis=2)
    value_sum = (counts[:, :, 3:] * layout.scale_values).sum(axis=2).astype(float)
    if not with_items:
        return answered, value_sum, counts[:, :, 2], counts[:, :, 1], None
    key = respondent_group[encoded.respondent] * n_items
    key += item
    key *= width
    key += value
    item_counts = np.bincount(key, minlength=n_groups * n_items * width).reshape(n_groups, n_items, width)
    return answered, value_sum, counts[:, :, 2], counts[:, :, 1], item_counts


def _medians(score, scored, respondent_group, n_scored, scored_key, scored_score) -> np.ndarray:
    """Median of the scored respondent scores per (group, domain).

    Respondents are sorted by group, so each group's scores fit a (group, domain, place) array padded
    with NaN; one sort along the last axis puts the NaNs last and the median is read off by position.
    When one group is far larger than the rest (the padding would be wasteful) a pandas groupby does it.
    """
    n_groups, n_domains = n_scored.shape
    starts = np.searchsorted(respondent_group, np.arange(n_groups))
    sizes = np.diff(np.append(starts, len(respondent_group)))
    widest = int(sizes.max(initial=0))
    median = np.full(n_groups * n_domains, np.nan)
    if n_groups * widest > 4 * len(respondent_group) + 4096:
        if len(scored_key):
            found = pd.Series(scored_score).groupby(scored_key).median()
            median[found.index.to_numpy()] = found.to_numpy()
        return median.reshape(n_scored.shape)
    place = np.arange(len(respondent_group)) - starts[respondent_group]
    padded = np.full((n_groups, n_domains, widest), np.nan)
    padded[respondent_group, :, place] = np.where(scored, score, np.nan)
    padded.sort(axis=2)
    n = n_scored.reshape(-1)
    rows = np.flatnonzero(n > 0)
    flat = padded.reshape(n_groups * n_domains, widest)
    low, high = flat[rows, (n[rows] - 1) // 2], flat[rows, n[rows] // 2]
    median[rows] = (low + high) / 2
    return median.reshape(n_scored.shape)


def score_encoded(
    encoded: EncodedAnswers,
    *,
    min_coverage: float = 0.5,
    split_threshold: float = 1.0,
    min_group_size: int = 3,
    frames: Iterable[str] | str | None = None,
) -> Scores:
    """Score encoded answers (see :func:`score_responses` for the rules).

    The steps, each a whole-array pass: respondents' domain scores; agencies' and partnerships' figures
    per (partnership, round, domain); suppression flags; the overall score; item figures; then the frames
    (every grid is already in output order, so columns are reshapes). ``frames`` (names from
    :data:`FRAMES`; default all) limits the work to what those frames need: the per-item answer counts
    are counted only for ``items``, and a frame not asked for is ``None``. The figures of a frame do not
    depend on which other frames are asked for.
    """
    _check_parameters(min_coverage, split_threshold, min_group_size)
    wanted = _wanted(frames)
    layout = _Layout.of(encoded.questionnaire)
    respondent_group = encoded.respondents["group"].to_numpy(dtype=np.int64)
    respondent_agency = layout.agency_rank[encoded.respondents["agency"].to_numpy(dtype=np.int64)]
    r = _respondent_domains(encoded, layout, respondent_group, respondent_agency, min_coverage,
                            with_items="items" in wanted, with_status="respondents" in wanted)
    built = dict.fromkeys(FRAMES)
    if "respondents" in wanted:
        built["respondents"] = _respondents_frame(encoded, layout, r, respondent_group, respondent_agency)
    if wanted - {"respondents"}:
        groups, q = encoded.groups, encoded.questionnaire
        p = _group_domains(layout, r, respondent_group, respondent_agency, len(groups), split_threshold)
        p.agency_reason, p.row_small, p.any_hidden, p.mean_hidden = agency_suppression(
            p.n_scored, np.arange(len(layout.agency_ids)), min_group_size)  # flags only: no value changes
        if "agencies" in wanted:
            built["agencies"] = _agencies_frame(groups, layout, p)
        if "partnerships" in wanted:
            built["partnerships"] = _partnerships_frame(q, groups, layout, p)
        if "overall" in wanted:
            _overall(p, layout)
            built["overall"] = _overall_frame(q, groups, p)
        if "items" in wanted:
            built["items"] = _items_frame(q, groups, layout, _item_figures(layout, r.item_counts, p, min_group_size))
    return Scores(**built)


def _respondent_domains(encoded: EncodedAnswers, layout: _Layout, respondent_group: np.ndarray,
                        respondent_agency: np.ndarray, min_coverage: float, with_items: bool = True,
                        with_status: bool = True) -> SimpleNamespace:
    """Respondents: counts and sums per (respondent, weight class), then per domain; coverage, (with
    ``with_status``) status and score per (respondent, domain); with ``with_items``, answer counts per
    (group, item, code)."""
    q = encoded.questionnaire
    n_respondents, n_items, n_groups = len(respondent_group), len(layout.item_ids), len(encoded.groups)
    if n_respondents * n_items <= DENSE_LIMIT_FACTOR * encoded.n_answers + (1 << 22):
        counts = _class_counts_dense(encoded, layout, respondent_group, n_groups, with_items)
    else:
        counts = _class_counts_sparse(encoded, layout, respondent_group, n_groups, with_items)
    answered_c, value_sum_c, na_c, dk_c, item_counts = counts
    del counts
    r = SimpleNamespace(item_counts=item_counts)
    r.n_answered = layout.per_domain(answered_c)
    r.n_na = layout.per_domain(na_c)
    r.n_dk = layout.per_domain(dk_c)
    answered_weight = layout.per_domain(answered_c, weighted=True)
    # routing: a respondent's items are those asked of their agency; the others are absent (not NA, not
    # missing), so they count in neither the applicable weight nor the applicable items
    class_items = layout.class_asked[respondent_agency] if q.routed else layout.class_items[None, :]
    applicable_weight = layout.per_domain(class_items - na_c, weighted=True)
    weighted_sum = layout.per_domain(value_sum_c, weighted=True)
    n_asked = np.broadcast_to(layout.per_domain(class_items), r.n_na.shape)
    r.n_applicable = n_asked - r.n_na
    del answered_c, value_sum_c, na_c, dk_c, class_items

    r.coverage = _divide(answered_weight, np.where(r.n_applicable > 0, applicable_weight, 0.0))
    # min_items (default 1): one answered item cannot set a domain score when the file asks for more
    r.scored = (r.n_applicable > 0) & (r.n_answered >= max(q.min_items, 1)) & (r.coverage >= min_coverage - TOLERANCE)
    if with_status:
        r.status = np.where(n_asked == 0, 3, np.where(r.n_applicable == 0, 2, np.where(r.scored, 0, 1))).astype(np.int8)
    r.score = np.where(r.scored, _divide(weighted_sum, np.where(r.scored, answered_weight, 0.0)), np.nan)
    return r


def _group_domains(layout: _Layout, r: SimpleNamespace, respondent_group: np.ndarray, respondent_agency: np.ndarray,
                   n_groups: int, split_threshold: float) -> SimpleNamespace:
    """Agencies (mean of scored respondents per (group, domain, agency)) and partnerships (the balanced
    score and the agreement figures per (group, domain))."""
    n_domains, n_agencies_all = len(layout.domain_ids), len(layout.agency_ids)
    score, scored = r.score, r.scored
    p = SimpleNamespace()
    # -- agencies
    grid = n_groups * n_domains * n_agencies_all
    gd_key = (respondent_group * n_domains)[:, None] + np.arange(n_domains)[None, :]
    scored_key = gd_key[scored]
    scored_score = score[scored]
    agency_key = scored_key * n_agencies_all
    agency_key += np.broadcast_to(respondent_agency[:, None], scored.shape)[scored]
    p.n_scored = np.bincount(agency_key, minlength=grid).reshape(n_groups, n_domains, n_agencies_all)
    score_sum = np.bincount(agency_key, weights=scored_score, minlength=grid).reshape(p.n_scored.shape)
    del agency_key
    p.agency_mean = _divide(score_sum, p.n_scored)
    p.in_group = np.bincount(respondent_group * n_agencies_all + respondent_agency,
                             minlength=n_groups * n_agencies_all).reshape(n_groups, n_agencies_all)
    p.present = p.in_group > 0

    # -- partnerships
    p.n_gd = p.n_scored.sum(axis=2)
    has_agency = p.n_scored > 0
    p.n_agencies = has_agency.sum(axis=2)
    p.balanced = _divide(np.where(has_agency, p.agency_mean, 0.0).sum(axis=2), p.n_agencies)
    p.respondent_mean = _divide(score_sum.sum(axis=2), p.n_gd)
    deviation = scored_score - p.respondent_mean.reshape(-1)[scored_key]
    squares = np.bincount(scored_key, weights=deviation * deviation, minlength=n_groups * n_domains)
    p.sd = np.where(p.n_gd >= 2, np.sqrt(_divide(squares.reshape(p.n_gd.shape), p.n_gd - 1.0)), np.nan)
    p.median = _medians(score, scored, respondent_group, p.n_gd, scored_key, scored_score)
    del scored_key, scored_score, deviation
    # respondents are sorted by group: per-group sums of whole numbers are sums over runs of rows
    p.dk_rate = _divide(_group_sums(r.n_dk, respondent_group, n_groups),
                        _group_sums(r.n_applicable, respondent_group, n_groups))
    highest = np.where(has_agency, p.agency_mean, -np.inf).max(axis=2)
    lowest = np.where(has_agency, p.agency_mean, np.inf).min(axis=2)
    p.agency_gap = np.where(p.n_agencies >= 2, highest - lowest, np.nan)
    with np.errstate(invalid="ignore"):
        p.split = (p.agency_gap >= split_threshold - TOLERANCE) | (p.sd >= split_threshold - TOLERANCE)
    return p


def _group_sums(values: np.ndarray, respondent_group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum (respondent, domain) rows per group; respondents are sorted by group (0 for a group without any)."""
    starts = np.searchsorted(respondent_group, np.arange(n_groups))
    sums = np.zeros((n_groups, values.shape[1]))
    present = starts < np.append(starts[1:], len(respondent_group))
    if present.any():
        sums[present] = np.add.reduceat(values, starts[present], axis=0)
    return sums


def _overall(p: SimpleNamespace, layout: _Layout) -> None:
    """The overall score per group: the domain-weighted mean of the scored domains."""
    has_domain = ~np.isnan(p.balanced)
    overall_weight = np.where(has_domain, layout.domain_weight, 0.0).sum(axis=1)
    p.overall = _divide(np.where(has_domain, p.balanced * layout.domain_weight, 0.0).sum(axis=1), overall_weight)
    p.n_domains_scored = has_domain.sum(axis=1)
    p.overall_hidden = (p.row_small & has_domain).any(axis=1)


def _item_figures(layout: _Layout, item_counts: np.ndarray, p: SimpleNamespace, min_group_size: int) -> SimpleNamespace:
    """Items: answer counts per level, mean, NA, DK and their suppression per (group, item)."""
    i = SimpleNamespace()
    i.level_counts = item_counts[:, :, 3:]
    i.answered = i.level_counts.sum(axis=2)
    i.na = item_counts[:, :, 2]
    i.dk = item_counts[:, :, 1]
    i.mean = _divide((i.level_counts * layout.scale_values).sum(axis=2).astype(float), i.answered)
    asked_in_group = p.in_group @ layout.item_asked.astype(np.int64)  # respondents asked each item
    i.dk_rate = _divide(i.dk.astype(float), (asked_in_group - i.na).astype(float))
    item_small = (i.answered >= 1) & (i.answered < min_group_size)
    item_domain_hidden = (p.any_hidden | p.row_small)[:, layout.item_domain]
    i.reason = np.where(item_small, SMALL_GROUP,
                        np.where(item_domain_hidden & (i.answered >= 1), COMPLEMENTARY, NONE)).astype(np.int8)
    return i


# -- frames: every grid is already in output order (sorted keys), so columns are reshapes ----------------


def _carried(groups: pd.DataFrame, group_index: np.ndarray, as_categorical: bool = False) -> dict:
    make = _categorical if as_categorical else _labels_at
    return {column: make(groups[column], group_index) for column in CARRIED_COLUMNS}


def _flat(grid: np.ndarray) -> np.ndarray:
    return grid.reshape(-1)


def _respondents_frame(encoded: EncodedAnswers, layout: _Layout, r: SimpleNamespace, respondent_group: np.ndarray,
                       respondent_agency: np.ndarray) -> pd.DataFrame:
    """Respondents (millions of rows: labels are categoricals with sorted categories)."""
    groups, n_domains, n_respondents = encoded.groups, len(layout.domain_ids), len(respondent_group)
    r_index = np.repeat(np.arange(n_respondents), n_domains)
    d_index = np.tile(np.arange(n_domains, dtype=_code_type(n_domains)), n_respondents)
    r_group = respondent_group[r_index]
    return pd.DataFrame({
        "partnership": _categorical(groups["partnership"], r_group),
        "round": _categorical(groups["round"], r_group),
        "respondent": _categorical(encoded.respondents["respondent"], r_index),
        "agency": _from_codes(respondent_agency.astype(np.int8)[r_index], layout.agency_ids),
        "domain": _from_codes(d_index, layout.domain_ids),
        "score": _flat(r.score),
        "coverage": _flat(r.coverage),
        "n_answered": _flat(r.n_answered).astype(np.int64),
        "n_na": _flat(r.n_na).astype(np.int64),
        "n_dk": _flat(r.n_dk).astype(np.int64),
        "status": _from_codes(_flat(r.status), STATUSES),
        **_carried(groups, r_group, as_categorical=True),
    }, copy=False)


def _agencies_frame(groups: pd.DataFrame, layout: _Layout, p: SimpleNamespace) -> pd.DataFrame:
    """Agencies: those with respondents in the round and asked at least one item of the domain."""
    n_domains, n_agencies_all = len(layout.domain_ids), len(layout.agency_ids)
    cell = np.flatnonzero(p.present[:, None, :] & layout.domain_asked[None, :, :])  # (group, domain, agency)
    g_a, d_a, a_a = cell // (n_domains * n_agencies_all), (cell // n_agencies_all) % n_domains, cell % n_agencies_all
    return pd.DataFrame({
        "partnership": _labels_at(groups["partnership"], g_a),
        "round": _labels_at(groups["round"], g_a),
        "domain": _labels_at(layout.domain_ids, d_a),
        "agency": _labels_at(layout.agency_ids, a_a),
        "score": p.agency_mean.reshape(-1)[cell],
        "n_respondents": p.n_scored.reshape(-1)[cell].astype(np.int64),
        **_flags(p.agency_reason.reshape(-1)[cell], ("", "all", "score")),
        **_carried(groups, g_a),
    }, copy=False)


def _partnerships_frame(q: Questionnaire, groups: pd.DataFrame, layout: _Layout, p: SimpleNamespace) -> pd.DataFrame:
    """Partnerships: every partnership, round and domain."""
    n_groups, n_domains = len(groups), len(layout.domain_ids)
    g_p = np.repeat(np.arange(n_groups), n_domains)
    d_p = np.tile(np.arange(n_domains), n_groups)
    level, level_label = _levels(q, _flat(p.balanced))
    # reason and figures: 0 none, 1 small group (all), 2 agreement figures, 3 agreement + respondent mean
    kind = np.where(_flat(p.row_small), 1, np.where(_flat(p.any_hidden), np.where(_flat(p.mean_hidden), 3, 2), 0))
    return pd.DataFrame({
        "partnership": _labels_at(groups["partnership"], g_p),
        "round": _labels_at(groups["round"], g_p),
        "domain": _labels_at(layout.domain_ids, d_p),
        "score": _flat(p.balanced),
        "level": level,
        "level_label": level_label,
        "respondent_mean": _flat(p.respondent_mean),
        "median": _flat(p.median),
        "sd": _flat(p.sd),
        "n_respondents": _flat(p.n_gd).astype(np.int64),
        "n_agencies": _flat(p.n_agencies).astype(np.int64),
        "dk_rate": _flat(p.dk_rate),
        "agency_gap": _flat(p.agency_gap),
        "split": _flat(p.split),
        **_flags(np.array([NONE, SMALL_GROUP, COMPLEMENTARY, COMPLEMENTARY], dtype=np.int8)[kind],
                 ("", "all", "agreement", "agreement_and_mean"), kind),
        **_carried(groups, g_p),
    }, copy=False)


def _overall_frame(q: Questionnaire, groups: pd.DataFrame, p: SimpleNamespace) -> pd.DataFrame:
    g_o = np.arange(len(groups))
    level_o, label_o = _levels(q, p.overall)
    return pd.DataFrame({
        "partnership": _labels_at(groups["partnership"], g_o),
        "round": _labels_at(groups["round"], g_o),
        "score": p.overall,
        "level": level_o,
        "level_label": label_o,
        "n_domains_scored": p.n_domains_scored.astype(np.int64),
        **_flags(np.where(p.overall_hidden, COMPLEMENTARY, NONE), ("", "", "score")),
        **_carried(groups, g_o),
    }, copy=False)


def _items_frame(q: Questionnaire, groups: pd.DataFrame, layout: _Layout, i: SimpleNamespace) -> pd.DataFrame:
    """Items (labels are categoricals: one row per partnership, round and item)."""
    n_groups, n_items, n_domains = len(groups), len(layout.item_ids), len(layout.domain_ids)
    g_i = np.repeat(np.arange(n_groups), n_items)
    i_i = np.tile(np.arange(n_items, dtype=_code_type(n_items)), n_groups)
    count_columns = [f"count_{value}" for value in q.scale.values]
    return pd.DataFrame({
        "partnership": _categorical(groups["partnership"], g_i),
        "round": _categorical(groups["round"], g_i),
        "item": _from_codes(i_i, layout.item_ids),
        "domain": _from_codes(layout.item_domain.astype(_code_type(n_domains))[i_i], layout.domain_ids),
        "mean": _flat(i.mean),
        "n_answered": _flat(i.answered).astype(np.int64),
        "n_na": _flat(i.na).astype(np.int64),
        "n_dk": _flat(i.dk).astype(np.int64),
        "dk_rate": _flat(i.dk_rate),
        **{column: np.ascontiguousarray(i.level_counts[:, :, position]).reshape(-1).astype(np.int64)
           for position, column in enumerate(count_columns)},
        **_flags(_flat(i.reason), ("", "all", "score")),
        **_carried(groups, g_i, as_categorical=True),
    }, copy=False)


def score_responses(
    questionnaire: Questionnaire,
    answers: pd.DataFrame,
    *,
    min_coverage: float = 0.5,
    split_threshold: float = 1.0,
    min_group_size: int = 3,
    source: str = "",
    frames: Iterable[str] | str | None = None,
) -> Scores:
    """Validate, encode and score answers to one questionnaire version.

    Rules (docs/scoring.md has every formula with a worked example):

    - respondent domain score ``s = sum(w_i x_i) / sum(w_i)`` over answered items; only the items asked
      of the respondent's agency count (``answered_by``; the others are absent, neither NA nor missing);
      NA items leave the domain; DK, empty and absent rows are unanswered. ``coverage = answered weight /
      applicable weight``; the score exists when ``coverage >= min_coverage`` and at least the
      questionnaire's ``min_items`` (default 1) items are answered; a domain with every asked item NA is
      ``not_applicable``, one with no item asked of the agency ``not_asked``.
    - agency score = mean of its scored respondents; partnership score = mean of the agency scores
      (agency-balanced) over agencies with a scored respondent (an agency asked no item of the domain
      takes no part); maturity level = highest band with
      ``score >= lower_bound``.
    - agreement: ``sd`` (ddof = 1) and ``agency_gap`` (highest minus lowest agency score);
      ``split`` when either reaches ``split_threshold``.
    - overall = ``sum(W_d S_d) / sum(W_d)`` over the scored domains (``W_d`` the domain weights).
    - suppression flags (never changing a value): see :mod:`assessment.scoring.suppression`.

    Parameters
    ----------
    questionnaire : Questionnaire
    answers : pandas.DataFrame
        Long-form answers (see :func:`~assessment.scoring.encode_answers`).
    min_coverage, split_threshold, min_group_size
        The thresholds (defaults 0.5, 1.0 and 3).
    source : str, optional
        File name for problem reports.
    frames : iterable of str, optional
        The frames to build, from :data:`FRAMES` (default: all five). The others are ``None`` in the
        result and cost nothing: ask for ``["partnerships"]`` when only partnership figures are needed.

    Returns
    -------
    Scores

    Raises
    ------
    ValidationFailed
        When any answer row is invalid; nothing is scored.
    ValueError
        For thresholds out of range or an unknown frame name.
    """
    _check_parameters(min_coverage, split_threshold, min_group_size)
    frames = _wanted(frames)
    encoded = encode_answers(questionnaire, answers, source=source)
    return score_encoded(encoded, min_coverage=min_coverage, split_threshold=split_threshold,
                         min_group_size=min_group_size, frames=frames)
