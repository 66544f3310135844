"""The scoring engine: respondent, agency, partnership, overall and item figures from encoded answers.

Every figure comes from a few ``numpy.bincount`` passes over the encoded answer columns and from
array arithmetic on (respondent, domain) and (partnership-round, domain, agency) grids; there is no
Python loop per answer or per respondent. The rules, with formulas and a worked example, are in
docs/scoring.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from assessment.questionnaire.schema import Questionnaire
from assessment.scoring.encoding import AGENCIES, CARRIED_COLUMNS, EncodedAnswers, encode_answers
from assessment.scoring.suppression import COMPLEMENTARY, REASONS, SMALL_GROUP, agency_suppression

__all__ = ["STATUSES", "TOLERANCE", "Scores", "score_encoded", "score_responses"]

STATUSES = ("scored", "insufficient", "not_applicable")
# Thresholds are compared with this tolerance so that a value that is exactly on a threshold in
# arithmetic (coverage 0.5, a score of 2.6) is not pushed below it by floating-point rounding.
TOLERANCE = 1e-9

PARTNERSHIP_FIGURES = ("score", "level", "level_label", "respondent_mean", "median", "sd", "agency_gap", "split")
AGREEMENT_FIGURES = ("median", "sd", "agency_gap", "split")
OVERALL_FIGURES = ("score", "level", "level_label")


@dataclass(frozen=True)
class Scores:
    """Every scoring output, as tidy DataFrames sorted by their key columns.

    Attributes
    ----------
    respondents : pandas.DataFrame
        One row per respondent and domain: partnership, round, respondent, agency, domain, score,
        coverage, n_answered, n_na, n_dk, status (+ questionnaire, version, period).
    agencies : pandas.DataFrame
        One row per partnership, round, domain and agency that has respondents in the round: score
        (mean of its scored respondents), n_respondents, suppressed, suppression_reason,
        suppressed_figures (+ carried columns).
    partnerships : pandas.DataFrame
        One row per partnership, round and domain: score (agency-balanced), level, level_label,
        respondent_mean, median, sd, n_respondents, n_agencies, dk_rate, agency_gap, split, suppressed,
        suppression_reason, suppressed_figures (+ carried columns).
    overall : pandas.DataFrame
        One row per partnership and round: score (domain-weighted), level, level_label,
        n_domains_scored, suppressed, suppression_reason, suppressed_figures (+ carried columns).
    items : pandas.DataFrame
        One row per partnership, round and item: domain, mean, n_answered, n_na, n_dk, dk_rate,
        count_<value> per scale value, suppressed, suppression_reason, suppressed_figures (+ carried).
    """

    respondents: pd.DataFrame
    agencies: pd.DataFrame
    partnerships: pd.DataFrame
    overall: pd.DataFrame
    items: pd.DataFrame


def _check_parameters(min_coverage: float, split_threshold: float, min_group_size: int) -> None:
    if not 0 <= min_coverage <= 1:
        raise ValueError(f"min_coverage must lie between 0 and 1, got {min_coverage}")
    if not split_threshold > 0:
        raise ValueError(f"split_threshold must be greater than 0, got {split_threshold}")
    if int(min_group_size) != min_group_size or min_group_size < 1:
        raise ValueError(f"min_group_size must be a whole number of at least 1, got {min_group_size}")


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
    labels = np.array([band.label for band in bands], dtype=object)
    safe = np.clip(position, 0, len(bands) - 1)
    level = pd.array(np.where(found, numbers[safe], 0), dtype="Int64")
    level[~found] = pd.NA
    label = pd.array(np.where(found, labels[safe], None), dtype="str")
    return level, label


def _take(labels: pd.Series | np.ndarray, index: np.ndarray) -> pd.array:
    """Text labels for codes, as a pandas string array."""
    array = labels.array if isinstance(labels, pd.Series) else pd.array(np.asarray(labels, dtype=object), dtype="str")
    return array.take(index)


def _categorical(labels: pd.Series | np.ndarray, index: np.ndarray) -> pd.Categorical:
    """Labels for codes as a categorical (categories sorted): cheap for frames with millions of rows."""
    labels = np.asarray(labels.to_numpy(dtype=object) if isinstance(labels, pd.Series) else labels, dtype=object)
    categories, inverse = np.unique(labels.astype(str), return_inverse=True)
    return pd.Categorical.from_codes(inverse.reshape(-1)[index], categories=pd.Index(categories, dtype="str"))


def _reasons(codes: np.ndarray) -> pd.array:
    return pd.array(np.array(REASONS, dtype=object)[codes], dtype="str")


def score_encoded(
    encoded: EncodedAnswers,
    *,
    min_coverage: float = 0.5,
    split_threshold: float = 1.0,
    min_group_size: int = 3,
) -> Scores:
    """Score encoded answers (see :func:`score_responses` for the rules)."""
    _check_parameters(min_coverage, split_threshold, min_group_size)
    q = encoded.questionnaire
    items = q.items
    domain_ids = np.array([domain.id for domain in q.domains], dtype=object)
    n_domains, n_items = len(q.domains), len(items)
    domain_index = {domain.id: index for index, domain in enumerate(q.domains)}
    item_domain = np.array([domain_index[q.domain_of(item.id)] for item in items], dtype=np.int64)
    item_weight = np.array([item.weight for item in items], dtype=float)
    domain_weight = np.array([domain.weight for domain in q.domains], dtype=float)
    scale_values = np.array(q.scale.values, dtype=float)
    n_levels = len(scale_values)
    width = n_levels + 3  # value code + 3: 0 missing, 1 DK, 2 NA, 3.. scale levels

    groups = encoded.groups
    n_groups = len(groups)
    respondent_group = encoded.respondents["group"].to_numpy(dtype=np.int64)
    respondent_agency = encoded.respondents["agency"].to_numpy(dtype=np.int64)
    n_respondents = len(encoded.respondents)
    n_agencies_all = len(AGENCIES)

    # -- one pass: answers per (respondent, weight class, value code) ---------------------------------
    # Items of one domain with the same weight form a weight class; usually a domain is one class.
    pairs = sorted({(int(item_domain[i]), float(item_weight[i])) for i in range(n_items)})
    class_of = {pair: index for index, pair in enumerate(pairs)}
    item_class = np.array([class_of[(int(item_domain[i]), float(item_weight[i]))] for i in range(n_items)])
    n_classes = len(pairs)
    class_domain = np.array([pair[0] for pair in pairs])
    class_weight = np.array([pair[1] for pair in pairs])
    class_items = np.bincount(item_class, minlength=n_classes).astype(float)
    to_domain = np.zeros((n_classes, n_domains))
    to_domain[np.arange(n_classes), class_domain] = 1.0

    row_class = item_class.astype(np.int64)[encoded.item]
    key = encoded.respondent.astype(np.int64) * n_classes
    key += row_class
    key *= width
    key += encoded.value.astype(np.int64) + 3
    counts = np.bincount(key, minlength=n_respondents * n_classes * width)
    del key, row_class
    counts = counts.reshape(n_respondents, n_classes, width)
    # scale values are whole numbers: sum in integers, one level at a time (no float copy of the counts)
    answered_c = np.zeros((n_respondents, n_classes), dtype=np.int64)
    value_sum_c = np.zeros((n_respondents, n_classes), dtype=np.int64)
    for position, value in enumerate(q.scale.values):
        level_count = counts[:, :, 3 + position]
        answered_c += level_count
        value_sum_c += level_count * int(value)
    na_c = counts[:, :, 2].astype(float)
    dk_c = counts[:, :, 1].astype(float)
    answered_c = answered_c.astype(float)
    value_sum_c = value_sum_c.astype(float)
    del counts

    n_answered = answered_c @ to_domain
    n_na = na_c @ to_domain
    n_dk = dk_c @ to_domain
    answered_weight = answered_c @ (to_domain * class_weight[:, None])
    applicable_weight = (class_items[None, :] - na_c) @ (to_domain * class_weight[:, None])
    weighted_sum = value_sum_c @ (to_domain * class_weight[:, None])
    items_per_domain = class_items @ to_domain
    n_applicable = items_per_domain[None, :] - n_na

    coverage = _divide(answered_weight, np.where(n_applicable > 0, applicable_weight, 0.0))
    scored = (n_applicable > 0) & (n_answered > 0) & (coverage >= min_coverage - TOLERANCE)
    status = np.where(n_applicable == 0, 2, np.where(scored, 0, 1)).astype(np.int8)
    score = np.where(scored, _divide(weighted_sum, np.where(scored, answered_weight, 0.0)), np.nan)

    # -- agencies ------------------------------------------------------------------------------------
    grid = n_groups * n_domains * n_agencies_all
    agency_key = ((respondent_group * n_domains)[:, None] + np.arange(n_domains)[None, :]) * n_agencies_all
    agency_key += respondent_agency[:, None]
    n_scored = np.bincount(agency_key[scored], minlength=grid).reshape(n_groups, n_domains, n_agencies_all)
    score_sum = np.bincount(agency_key[scored], weights=score[scored], minlength=grid).reshape(n_scored.shape)
    agency_mean = _divide(score_sum, n_scored)
    present = np.bincount(respondent_group * n_agencies_all + respondent_agency,
                          minlength=n_groups * n_agencies_all).reshape(n_groups, n_agencies_all) > 0

    # -- partnerships ----------------------------------------------------------------------------------
    n_gd = n_scored.sum(axis=2)
    has_agency = n_scored > 0
    n_agencies = has_agency.sum(axis=2)
    balanced = _divide(np.where(has_agency, agency_mean, 0.0).sum(axis=2), n_agencies)
    respondent_mean = _divide(score_sum.sum(axis=2), n_gd)
    gd_key = (respondent_group * n_domains)[:, None] + np.arange(n_domains)[None, :]
    deviation = score - respondent_mean.reshape(-1)[gd_key]
    squares = np.bincount(gd_key[scored], weights=deviation[scored] ** 2, minlength=n_groups * n_domains)
    sd = np.where(n_gd >= 2, np.sqrt(_divide(squares.reshape(n_gd.shape), n_gd - 1.0)), np.nan)
    median = np.full(n_groups * n_domains, np.nan)
    if scored.any():
        medians = pd.Series(score[scored]).groupby(gd_key[scored]).median()
        median[medians.index.to_numpy()] = medians.to_numpy()
    median = median.reshape(n_gd.shape)
    dk_total = np.bincount(gd_key.ravel(), weights=n_dk.ravel(), minlength=n_groups * n_domains)
    slots = np.bincount(gd_key.ravel(), weights=n_applicable.ravel(), minlength=n_groups * n_domains)
    dk_rate = _divide(dk_total, slots).reshape(n_gd.shape)
    highest = np.where(has_agency, agency_mean, -np.inf).max(axis=2)
    lowest = np.where(has_agency, agency_mean, np.inf).min(axis=2)
    agency_gap = np.where(n_agencies >= 2, highest - lowest, np.nan)
    with np.errstate(invalid="ignore"):
        split = (agency_gap >= split_threshold - TOLERANCE) | (sd >= split_threshold - TOLERANCE)

    # -- suppression ----------------------------------------------------------------------------------
    alphabetical = np.argsort(np.argsort(np.array(AGENCIES, dtype=object)))
    agency_reason, row_small, any_hidden, mean_hidden = agency_suppression(n_scored, alphabetical, min_group_size)

    # -- overall ---------------------------------------------------------------------------------------
    has_domain = ~np.isnan(balanced)
    overall_weight = np.where(has_domain, domain_weight[None, :], 0.0).sum(axis=1)
    overall = _divide(np.where(has_domain, balanced * domain_weight[None, :], 0.0).sum(axis=1), overall_weight)
    n_domains_scored = has_domain.sum(axis=1)
    overall_hidden = (row_small & has_domain).any(axis=1)

    # -- items -----------------------------------------------------------------------------------------
    item_key = respondent_group[encoded.respondent] * n_items
    item_key += encoded.item.astype(np.int64)
    item_key *= width
    item_key += encoded.value.astype(np.int64) + 3
    item_counts = np.bincount(item_key, minlength=n_groups * n_items * width).reshape(n_groups, n_items, width)
    del item_key
    level_counts = item_counts[:, :, 3:]
    item_answered = level_counts.sum(axis=2)
    item_na = item_counts[:, :, 2]
    item_dk = item_counts[:, :, 1]
    item_mean = _divide(level_counts @ scale_values, item_answered)
    respondents_in_group = np.bincount(respondent_group, minlength=n_groups)
    item_dk_rate = _divide(item_dk.astype(float), (respondents_in_group[:, None] - item_na).astype(float))
    item_small = (item_answered >= 1) & (item_answered < min_group_size)
    item_domain_hidden = (any_hidden | row_small)[:, item_domain]
    item_reason = np.where(item_small, SMALL_GROUP, np.where(item_domain_hidden & (item_answered >= 1),
                                                             COMPLEMENTARY, 0)).astype(np.int8)

    # -- frames ------------------------------------------------------------------------------------------
    carried = {column: groups[column] for column in CARRIED_COLUMNS}
    domain_order = np.argsort(domain_ids.astype(str), kind="stable")
    agency_order = np.argsort(np.array(AGENCIES, dtype=object).astype(str), kind="stable")
    item_ids = np.array([item.id for item in items], dtype=object)
    item_order = np.argsort(item_ids.astype(str), kind="stable")
    group_labels = {"partnership": groups["partnership"], "round": groups["round"]}

    def with_carried(frame: pd.DataFrame, group_index: np.ndarray, as_categorical: bool = False) -> pd.DataFrame:
        for column in CARRIED_COLUMNS:
            labels = carried[column]
            frame[column] = _categorical(labels, group_index) if as_categorical else _take(labels, group_index)
        return frame

    # respondents: already sorted by (partnership, round, respondent); domains alphabetically.
    # Millions of rows: the labels are categoricals (categories sorted, so sorting matches text order).
    r_index = np.repeat(np.arange(n_respondents), n_domains)
    d_index = np.tile(domain_order, n_respondents)
    r_group = respondent_group[r_index]

    def by_respondent(grid: np.ndarray) -> np.ndarray:
        return grid[:, domain_order].reshape(-1)

    respondents = pd.DataFrame({
        "partnership": _categorical(group_labels["partnership"], r_group),
        "round": _categorical(group_labels["round"], r_group),
        "respondent": _categorical(encoded.respondents["respondent"], r_index),
        "agency": _categorical(np.array(AGENCIES, dtype=object), respondent_agency[r_index]),
        "domain": _categorical(domain_ids, d_index),
        "score": by_respondent(score),
        "coverage": by_respondent(coverage),
        "n_answered": by_respondent(n_answered).astype(np.int64),
        "n_na": by_respondent(n_na).astype(np.int64),
        "n_dk": by_respondent(n_dk).astype(np.int64),
        "status": pd.Categorical.from_codes(by_respondent(status), categories=pd.Index(STATUSES, dtype="str")),
    })
    respondents = with_carried(respondents, r_group, as_categorical=True)

    # agencies: those with respondents in the round
    shown = present[:, None, :] & np.ones((1, n_domains, 1), dtype=bool)
    shown = shown[:, domain_order][:, :, agency_order]
    g_a, d_pos, a_pos = np.nonzero(shown)
    d_a, a_a = domain_order[d_pos], agency_order[a_pos]
    reason_a = agency_reason[g_a, d_a, a_a]
    agencies = pd.DataFrame({
        "partnership": _take(group_labels["partnership"], g_a),
        "round": _take(group_labels["round"], g_a),
        "domain": _take(domain_ids, d_a),
        "agency": _take(np.array(AGENCIES, dtype=object), a_a),
        "score": agency_mean[g_a, d_a, a_a],
        "n_respondents": n_scored[g_a, d_a, a_a].astype(np.int64),
        "suppressed": reason_a != 0,
        "suppression_reason": _reasons(reason_a),
        "suppressed_figures": pd.array(np.where(reason_a != 0, "score", ""), dtype="str"),
    })
    agencies = with_carried(agencies, g_a)

    # partnerships: every partnership, round and domain
    g_p = np.repeat(np.arange(n_groups), n_domains)
    d_p = np.tile(domain_order, n_groups)

    def by_domain(grid: np.ndarray) -> np.ndarray:
        return grid[:, domain_order].reshape(-1)

    level, level_label = _levels(q, by_domain(balanced))
    small_p = by_domain(row_small)
    hidden_p = by_domain(any_hidden)
    mean_p = by_domain(mean_hidden)
    figures = np.full(len(g_p), "", dtype=object)
    complementary_figures = np.where(mean_p, ";".join(("respondent_mean", *AGREEMENT_FIGURES)),
                                     ";".join(AGREEMENT_FIGURES))
    figures[hidden_p] = complementary_figures[hidden_p]
    figures[small_p] = ";".join(PARTNERSHIP_FIGURES)
    reason_p = np.where(small_p, SMALL_GROUP, np.where(hidden_p, COMPLEMENTARY, 0))
    partnerships = pd.DataFrame({
        "partnership": _take(group_labels["partnership"], g_p),
        "round": _take(group_labels["round"], g_p),
        "domain": _take(domain_ids, d_p),
        "score": by_domain(balanced),
        "level": level,
        "level_label": level_label,
        "respondent_mean": by_domain(respondent_mean),
        "median": by_domain(median),
        "sd": by_domain(sd),
        "n_respondents": by_domain(n_gd).astype(np.int64),
        "n_agencies": by_domain(n_agencies).astype(np.int64),
        "dk_rate": by_domain(dk_rate),
        "agency_gap": by_domain(agency_gap),
        "split": by_domain(split),
        "suppressed": reason_p != 0,
        "suppression_reason": _reasons(reason_p),
        "suppressed_figures": pd.array(figures.astype(str), dtype="str"),
    })
    partnerships = with_carried(partnerships, g_p)

    # overall
    g_o = np.arange(n_groups)
    level_o, label_o = _levels(q, overall)
    overall_frame = pd.DataFrame({
        "partnership": _take(group_labels["partnership"], g_o),
        "round": _take(group_labels["round"], g_o),
        "score": overall,
        "level": level_o,
        "level_label": label_o,
        "n_domains_scored": n_domains_scored.astype(np.int64),
        "suppressed": overall_hidden,
        "suppression_reason": _reasons(np.where(overall_hidden, COMPLEMENTARY, 0)),
        "suppressed_figures": pd.array(np.where(overall_hidden, ";".join(OVERALL_FIGURES), ""), dtype="str"),
    })
    overall_frame = with_carried(overall_frame, g_o)

    # items
    g_i = np.repeat(np.arange(n_groups), n_items)
    i_i = np.tile(item_order, n_groups)

    def by_item(grid: np.ndarray) -> np.ndarray:
        return grid[:, item_order].reshape(-1)

    count_columns = [f"count_{value}" for value in q.scale.values]
    reason_i = item_reason[g_i, i_i]
    item_figures = ";".join(("mean", *count_columns))
    item_frame = pd.DataFrame({
        "partnership": _categorical(group_labels["partnership"], g_i),
        "round": _categorical(group_labels["round"], g_i),
        "item": _categorical(item_ids, i_i),
        "domain": _categorical(domain_ids, item_domain[i_i]),
        "mean": by_item(item_mean),
        "n_answered": by_item(item_answered).astype(np.int64),
        "n_na": by_item(item_na).astype(np.int64),
        "n_dk": by_item(item_dk).astype(np.int64),
        "dk_rate": by_item(item_dk_rate),
    })
    for position, column in enumerate(count_columns):
        item_frame[column] = by_item(level_counts[:, :, position]).astype(np.int64)
    item_frame["suppressed"] = reason_i != 0
    item_frame["suppression_reason"] = _reasons(reason_i)
    item_frame["suppressed_figures"] = pd.array(np.where(reason_i != 0, item_figures, ""), dtype="str")
    item_frame = with_carried(item_frame, g_i, as_categorical=True)

    return Scores(respondents=respondents, agencies=agencies, partnerships=partnerships,
                  overall=overall_frame, items=item_frame)


def score_responses(
    questionnaire: Questionnaire,
    answers: pd.DataFrame,
    *,
    min_coverage: float = 0.5,
    split_threshold: float = 1.0,
    min_group_size: int = 3,
    source: str = "",
) -> Scores:
    """Validate, encode and score answers to one questionnaire version.

    Rules (docs/scoring.md has every formula with a worked example):

    - respondent domain score ``s = sum(w_i x_i) / sum(w_i)`` over answered items; NA items leave the
      domain; DK, empty and absent items are unanswered. ``coverage = answered weight / applicable
      weight``; the score exists when ``coverage >= min_coverage``; a domain with every item NA is
      ``not_applicable``.
    - agency score = mean of its scored respondents; partnership score = mean of the agency scores
      (agency-balanced) over agencies with a scored respondent; maturity level = highest band with
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

    Returns
    -------
    Scores

    Raises
    ------
    ValidationFailed
        When any answer row is invalid; nothing is scored.
    ValueError
        For thresholds out of range.
    """
    _check_parameters(min_coverage, split_threshold, min_group_size)
    encoded = encode_answers(questionnaire, answers, source=source)
    return score_encoded(encoded, min_coverage=min_coverage, split_threshold=split_threshold,
                         min_group_size=min_group_size)
