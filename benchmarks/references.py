"""Three reference implementations of the partnership domain score, timed against the scoring engine.

Each implements the full scoring rules of PRODUCT.md over the same pre-encoded integer columns
(:class:`benchmarks.generate.SyntheticAnswers`):

1. respondent domain score = weighted mean of answered items, NA items left out of the domain, DK and
   missing unanswered; no score when nothing is answered or answered weight / applicable weight is below
   ``min_coverage`` (compared with the engine's tolerance of 1e-9, so a coverage that is exactly on the
   threshold in arithmetic is not pushed below it by rounding), and "not applicable" when no item weight is
   applicable;
2. partnership domain score = mean over agencies of each agency's mean respondent score (agency-balanced).

* :func:`numpy_scores` — bare ``numpy.bincount`` (one counting pass over the answers, then small
  array arithmetic): the limit of what a vectorised single-threaded pass over the columns can do (what the engine is compared with: "≤ 1.5× the numpy limit").
* :func:`duckdb_scores` — one DuckDB SQL query over the registered columns: a peer engine (columnar,
  multi-threaded: it uses both cores here).
* :func:`pandas_scores` — a plain pandas ``groupby``: what an analyst would write.

Each returns every partnership-round x domain (``group``, ``domain`` indexes, sorted), with ``score``
(NaN when nobody in the group has a score in that domain) and ``n_respondents`` (respondents with a score).
:func:`labelled` turns the indexes into partnership, round and domain ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.generate import AGENCIES, NA_CODE, SyntheticAnswers

__all__ = [
    "REFERENCES",
    "assert_engine_matches",
    "duckdb_scores",
    "labelled",
    "numpy_scores",
    "pandas_scores",
]

N_AGENCIES = len(AGENCIES)
#: Thresholds are compared with this tolerance, as in the engine (assessment.scoring.TOLERANCE).
TOLERANCE = 1e-9


def _check(answers: SyntheticAnswers, min_coverage: float) -> None:
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage must be between 0 and 1, got {min_coverage}")
    if min(answers.layout.scale_values) < 0:
        raise ValueError("the references read negative codes as NA/DK: scale values must be 0 or more")


def _result(n_groups: int, n_domains: int, score: np.ndarray, n: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": np.repeat(np.arange(n_groups), n_domains),
            "domain": np.tile(np.arange(n_domains), n_groups),
            "score": score,
            "n_respondents": n.astype(np.int64),
        }
    )


def numpy_scores(answers: SyntheticAnswers, *, min_coverage: float = 0.5) -> pd.DataFrame:
    """Partnership domain scores with ``numpy.bincount`` only (the limit).

    One unweighted ``bincount`` counts the answers per (respondent, weight class, value code), where a
    weight class is the items of one domain that share a weight (usually the whole domain). From the
    counts c, per respondent-domain: answered = Σ_class w·Σ_levels c, total = Σ_class w·Σ_levels x·c,
    na = Σ_class w·c_NA; applicable = W_domain − na; score = total / answered when applicable > 0,
    answered > 0 and answered / applicable ≥ min_coverage − 1e-9. Two more ``bincount`` calls give the
    per group-domain-agency sums and counts of scores; the partnership score is the mean of the agency
    means.
    """
    _check(answers, min_coverage)
    layout = answers.layout
    n_d = layout.n_domains
    pairs = sorted({(int(d), float(w)) for d, w in zip(layout.item_domain, layout.item_weight, strict=True)})
    class_of = {pair: index for index, pair in enumerate(pairs)}
    item_class = np.array(
        [class_of[(int(d), float(w))] for d, w in zip(layout.item_domain, layout.item_weight, strict=True)],
        dtype=np.int64,
    )
    n_c = len(pairs)
    to_domain = np.zeros((n_c, n_d))
    to_domain[np.arange(n_c), [d for d, _ in pairs]] = [w for _, w in pairs]
    width = max(layout.scale_values) + 3  # value codes -2 (DK), -1 (NA), 0.. levels -> columns 0, 1, 2..

    key = answers.respondent.astype(np.int64) * n_c
    key += item_class[answers.item]
    key *= width
    key += answers.value
    key += 2
    counts = np.bincount(key, minlength=answers.n_respondents * n_c * width).reshape(-1, n_c, width)
    del key
    levels = counts[:, :, 2:]
    answered = levels.sum(axis=2) @ to_domain
    total = np.einsum("rck,k->rc", levels, np.arange(width - 2, dtype=np.float64)) @ to_domain
    na = counts[:, :, 1] @ to_domain
    del counts, levels

    applicable = layout.domain_weight_total[None, :] - na
    with np.errstate(divide="ignore", invalid="ignore"):
        scored = (applicable > 0) & (answered > 0) & (answered / applicable >= min_coverage - TOLERANCE)
        score = total[scored] / answered[scored]
    respondent, domain = np.nonzero(scored)
    cell = (answers.respondent_group[respondent].astype(np.intp) * n_d + domain) * N_AGENCIES
    cell += answers.respondent_agency[respondent]
    cells = answers.n_groups * n_d * N_AGENCIES
    sums = np.bincount(cell, weights=score, minlength=cells).reshape(-1, N_AGENCIES)
    counts_a = np.bincount(cell, minlength=cells).reshape(-1, N_AGENCIES)
    agencies = (counts_a > 0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        agency_mean = np.where(counts_a > 0, sums / counts_a, 0.0)
        partnership = agency_mean.sum(axis=1) / agencies
    return _result(answers.n_groups, n_d, partnership, counts_a.sum(axis=1))


_SQL = """
WITH respondent_domain AS (
    SELECT a."group", a.agency, a.respondent, i.domain,
           sum(CASE WHEN a.value >= 0 THEN i.weight ELSE 0 END) AS answered,
           sum(CASE WHEN a.value >= 0 THEN i.weight * a.value ELSE 0 END) AS total,
           sum(CASE WHEN a.value = $na THEN i.weight ELSE 0 END) AS na
    FROM answers AS a JOIN items AS i ON a.item = i.item
    GROUP BY a."group", a.agency, a.respondent, i.domain
),
respondent_score AS (
    SELECT r."group", r.agency, r.domain, r.total / r.answered AS score
    FROM respondent_domain AS r JOIN domains AS d ON r.domain = d.domain
    WHERE d.weight - r.na > 0 AND r.answered > 0 AND r.answered / (d.weight - r.na) >= $min_coverage
),
agency_score AS (
    SELECT "group", domain, agency, avg(score) AS score, count(*) AS n
    FROM respondent_score GROUP BY "group", domain, agency
)
SELECT "group", domain, avg(score) AS score, sum(n) AS n_respondents
FROM agency_score GROUP BY "group", domain
"""


def duckdb_scores(answers: SyntheticAnswers, *, min_coverage: float = 0.5, connection=None) -> pd.DataFrame:
    """Partnership domain scores as one DuckDB SQL query over the registered columns (a peer engine).

    The numpy columns are registered as zero-copy pandas frames (``answers``, ``items``, ``domains``);
    the query is the same arithmetic as :func:`numpy_scores` in SQL (see ``_SQL``).
    """
    import duckdb

    _check(answers, min_coverage)
    layout = answers.layout
    con = connection if connection is not None else duckdb.connect()
    con.register(
        "answers",
        pd.DataFrame(
            {
                "group": answers.group,
                "respondent": answers.respondent,
                "agency": answers.agency,
                "item": answers.item,
                "value": answers.value,
            },
            copy=False,
        ),
    )
    con.register(
        "items",
        pd.DataFrame(
            {
                "item": np.arange(layout.n_items, dtype=np.int16),
                "domain": layout.item_domain,
                "weight": layout.item_weight,
            }
        ),
    )
    con.register(
        "domains",
        pd.DataFrame(
            {"domain": np.arange(layout.n_domains, dtype=np.int16), "weight": layout.domain_weight_total}
        ),
    )
    try:
        found = con.execute(_SQL, {"na": NA_CODE, "min_coverage": min_coverage - TOLERANCE}).df()
    finally:
        for name in ("answers", "items", "domains"):
            con.unregister(name)
        if connection is None:
            con.close()
    return _full(answers, found)


def _full(answers: SyntheticAnswers, found: pd.DataFrame) -> pd.DataFrame:
    """Spread (group, domain, score, n_respondents) rows over every group x domain."""
    n_d = answers.layout.n_domains
    size = answers.n_groups * n_d
    at = found["group"].to_numpy(dtype=np.intp) * n_d + found["domain"].to_numpy(dtype=np.intp)
    score = np.full(size, np.nan)
    score[at] = found["score"].to_numpy(dtype=np.float64)
    n = np.zeros(size, dtype=np.int64)
    n[at] = found["n_respondents"].to_numpy(dtype=np.int64)
    return _result(answers.n_groups, n_d, score, n)


def pandas_scores(answers: SyntheticAnswers, *, min_coverage: float = 0.5) -> pd.DataFrame:
    """Partnership domain scores with a plain pandas ``groupby`` (what an analyst would write)."""
    _check(answers, min_coverage)
    layout = answers.layout
    df = pd.DataFrame(
        {
            "group": answers.group,
            "agency": answers.agency,
            "respondent": answers.respondent,
            "item": answers.item,
            "value": answers.value,
        }
    )
    df["domain"] = layout.item_domain[df["item"].to_numpy()]
    weight = layout.item_weight[df["item"].to_numpy()]
    is_level = df["value"] >= 0
    df["answered"] = np.where(is_level, weight, 0.0)
    df["total"] = df["answered"] * df["value"].clip(lower=0)
    df["na"] = np.where(df["value"] == NA_CODE, weight, 0.0)

    per_respondent = (
        df.groupby(["group", "agency", "respondent", "domain"], sort=False)[["answered", "total", "na"]]
        .sum()
        .reset_index()
    )
    applicable = layout.domain_weight_total[per_respondent["domain"].to_numpy()] - per_respondent["na"]
    answered = per_respondent["answered"]
    keep = (applicable > 0) & (answered > 0) & (answered / applicable >= min_coverage - TOLERANCE)
    scored = per_respondent[keep].assign(score=lambda f: f["total"] / f["answered"])
    per_agency = scored.groupby(["group", "domain", "agency"])["score"].agg(["mean", "size"]).reset_index()
    per_partnership = (
        per_agency.groupby(["group", "domain"])
        .agg(score=("mean", "mean"), n_respondents=("size", "sum"))
        .reset_index()
    )
    return _full(answers, per_partnership)


REFERENCES = {"numpy": numpy_scores, "duckdb": duckdb_scores, "pandas": pandas_scores}


def labelled(answers: SyntheticAnswers, result: pd.DataFrame) -> pd.DataFrame:
    """The result with partnership, round and domain ids instead of indexes (for comparing with the engine)."""
    labels = answers.group_labels()
    group = result["group"].to_numpy()
    return pd.DataFrame(
        {
            "partnership": labels["partnership"].to_numpy()[group],
            "round": labels["round"].to_numpy()[group],
            "domain": np.array(answers.layout.domain_ids, dtype=object)[result["domain"].to_numpy()],
            "score": result["score"].to_numpy(),
            "n_respondents": result["n_respondents"].to_numpy(),
        }
    )


def assert_engine_matches(
    answers: SyntheticAnswers, scores, reference: pd.DataFrame, *, atol: float = 1e-9
) -> None:
    """Raise AssertionError unless the engine's partnership ``score`` and ``n_respondents`` equal a reference's.

    ``scores`` is the engine's :class:`assessment.scoring.Scores`; every partnership x round x domain must
    be in both, with scores equal to ``atol`` (both NaN counts as equal) and the same respondent counts.
    """
    expected = labelled(answers, reference)
    got = scores.partnerships[["partnership", "round", "domain", "score", "n_respondents"]]
    merged = expected.merge(
        got.astype({"partnership": object, "round": object, "domain": object}),
        on=["partnership", "round", "domain"],
        how="outer",
        suffixes=("", "_engine"),
        indicator=True,
    )
    if not (merged["_merge"] == "both").all():
        raise AssertionError("the engine and the reference list different partnership/round/domain rows")
    np.testing.assert_allclose(
        merged["score_engine"].to_numpy(float),
        merged["score"].to_numpy(float),
        rtol=0,
        atol=atol,
        equal_nan=True,
        err_msg="engine vs reference scores",
    )
    if not (merged["n_respondents_engine"].to_numpy() == merged["n_respondents"].to_numpy()).all():
        raise AssertionError("the engine's respondent counts differ from the reference's")
