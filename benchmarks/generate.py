"""Deterministic synthetic answers at three scales, as pre-encoded integer columns and as the text frame.

Scales (PRODUCT.md "Scale to design for"):

============== ============= ============ ======= ======================================
scale          partnerships  respondents  rounds  answers (shipped questionnaire, ~60 items)
============== ============= ============ ======= ======================================
board          1             40           1       about 2.2 thousand
national       150           25           4       about 0.8 million
international  2,000         30           8       about 25 million
============== ============= ============ ======= ======================================

The model behind the numbers is simple but gives every branch of the scoring rules something to do:
each partnership has a latent maturity (normal, mean 2.9, SD 0.55) that rises a little each round, with a
per-domain offset, an agency offset (police rate themselves higher, lived-experience members lower), a
respondent offset and item noise; the answer is the latent value rounded and clipped to the scale.
About 4% of items are NA, and 2% of respondent-domains are NA throughout (domain "not applicable");
DK runs at about 5%, with one respondent in eight answering DK to about 45% of items (so some
domains fall below coverage); one respondent in ten stops part way through (the rest of the questionnaire
is missing: no rows) and 1% of the remaining items are skipped.

Everything is vectorised numpy with a seeded generator: the same scale and seed give the same answers,
and 25 million answers take a few seconds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assessment.errors import ValidationFailed
from assessment.questionnaire import Questionnaire, load_questionnaire
from assessment.vocabulary import AGENCIES  # the one list of agency codes

__all__ = [
    "AGENCIES",
    "DK_CODE",
    "NA_CODE",
    "SCALES",
    "Layout",
    "ScaleSpec",
    "SyntheticAnswers",
    "default_questionnaire",
    "default_questionnaire_path",
    "encode_frame",
    "generate",
]

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "questionnaires" / "police-mental-health" / "1.0.0.yaml"
MINI = ROOT / "tests" / "data" / "questionnaires" / "mini-partnership" / "1.0.0.yaml"

#: Value codes in the encoded ``value`` column: scale values are themselves; these two are the others.
NA_CODE = -1
DK_CODE = -2

# The mix a partnership board usually invites (share of respondents), and how each agency rates on average.
_AGENCY_MIX = np.array([0.30, 0.22, 0.08, 0.08, 0.08, 0.10, 0.07, 0.05, 0.02])
_AGENCY_OFFSET = np.array([0.25, -0.05, 0.10, -0.15, 0.0, -0.10, -0.20, -0.40, 0.0])
_AGENCY_DK_HEAVY = np.array([0.08, 0.08, 0.10, 0.15, 0.12, 0.12, 0.20, 0.25, 0.15])

# ONS regions of England plus Wales (PRODUCT.md "Peer group"), with their nation.
_REGIONS = (
    ("England", "North East"),
    ("England", "North West"),
    ("England", "Yorkshire and the Humber"),
    ("England", "East Midlands"),
    ("England", "West Midlands"),
    ("England", "East of England"),
    ("England", "London"),
    ("England", "South East"),
    ("England", "South West"),
    ("Wales", "Wales"),
)


@dataclass(frozen=True)
class ScaleSpec:
    """How many partnerships, respondents per partnership-round, and rounds per partnership."""

    name: str
    partnerships: int
    respondents: int
    rounds: int

    @property
    def respondent_count(self) -> int:
        return self.partnerships * self.respondents * self.rounds


SCALES = {
    "board": ScaleSpec("board", 1, 40, 1),
    "national": ScaleSpec("national", 150, 25, 4),
    "international": ScaleSpec("international", 2000, 30, 8),
}


def default_questionnaire_path() -> Path:
    """The shipped questionnaire when it exists, else the small test questionnaire."""
    return SHIPPED if SHIPPED.exists() else MINI


def default_questionnaire() -> Questionnaire:
    """The shipped questionnaire; the small test questionnaire (with a warning) while that is not valid."""
    path = default_questionnaire_path()
    try:
        return load_questionnaire(path)
    except ValidationFailed:
        if path == MINI:
            raise
        warnings.warn(f"{path} is not valid yet: using {MINI.name} of mini-partnership", stacklevel=2)
        return load_questionnaire(MINI)


@dataclass(frozen=True)
class Layout:
    """A questionnaire reduced to arrays: item order, each item's domain index and weight."""

    item_ids: tuple[str, ...]
    domain_ids: tuple[str, ...]
    item_domain: np.ndarray  # int16, index into domain_ids
    item_weight: np.ndarray  # float64
    scale_values: tuple[int, ...]

    @classmethod
    def from_questionnaire(cls, questionnaire: Questionnaire) -> Layout:
        domain_ids = tuple(domain.id for domain in questionnaire.domains)
        items = [(item, d) for d, domain in enumerate(questionnaire.domains) for item in domain.items]
        return cls(
            item_ids=tuple(item.id for item, _ in items),
            domain_ids=domain_ids,
            item_domain=np.array([d for _, d in items], dtype=np.int16),
            item_weight=np.array([item.weight for item, _ in items], dtype=np.float64),
            scale_values=questionnaire.scale.values,
        )

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_domains(self) -> int:
        return len(self.domain_ids)

    @cached_property
    def domain_weight_total(self) -> np.ndarray:
        """Sum of item weights per domain (the applicable weight when nothing is NA)."""
        return np.bincount(self.item_domain, weights=self.item_weight, minlength=self.n_domains)


@dataclass(frozen=True, eq=False)
class SyntheticAnswers:
    """Synthetic answers as pre-encoded, pre-validated integer columns (one entry per answer row).

    ``group`` is the partnership-round index ``partnership * rounds + round``; ``respondent`` a global
    respondent index (respondents are numbered in group order); ``agency`` indexes :data:`AGENCIES`;
    ``item`` indexes ``layout.item_ids``; ``value`` is the scale value, :data:`NA_CODE` or :data:`DK_CODE`.
    Missing answers have no row. Rows are sorted by respondent, then item.
    """

    spec: ScaleSpec
    layout: Layout
    questionnaire: Questionnaire
    group: np.ndarray  # int32
    respondent: np.ndarray  # int32
    agency: np.ndarray  # int8
    item: np.ndarray  # int16
    value: np.ndarray  # int8
    respondent_group: np.ndarray  # int32, per respondent
    respondent_agency: np.ndarray  # int8, per respondent
    partnership_ids: tuple[str, ...]
    round_ids: tuple[str, ...]
    seed: int
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_answers(self) -> int:
        return int(self.value.size)

    @property
    def n_groups(self) -> int:
        return self.spec.partnerships * self.spec.rounds

    @property
    def n_respondents(self) -> int:
        return int(self.respondent_group.size)

    def group_labels(self) -> pd.DataFrame:
        """partnership and round text for every group index (row i is group i)."""
        groups = np.arange(self.n_groups)
        return pd.DataFrame(
            {
                "partnership": np.array(self.partnership_ids, dtype=object)[groups // self.spec.rounds],
                "round": np.array(self.round_ids, dtype=object)[groups % self.spec.rounds],
            }
        )

    def respondent_ids(self) -> list[str]:
        """Pseudonymous respondent ids, one per respondent index, unique across partnerships and rounds
        (a respondent id belongs to one partnership), sorted within each partnership-round:
        ``partnership-001/2026-H1/R07``."""
        labels = self.group_labels()
        prefix = (labels["partnership"] + "/" + labels["round"] + "/R").tolist()
        width = max(2, len(str(self.spec.respondents)))
        local = np.arange(self.n_respondents) - np.searchsorted(self.respondent_group, self.respondent_group)
        return [
            f"{prefix[g]}{i + 1:0{width}d}"
            for g, i in zip(self.respondent_group.tolist(), local.tolist(), strict=True)
        ]

    def answers_frame(self, *, with_period: bool = False) -> pd.DataFrame:
        """The same answers as the text frame scoring reads (ANSWER_COLUMNS), every column text.

        Built with ``pyarrow.compute.take`` so 25 million rows take seconds, in pandas' default string
        dtype so the frame looks exactly like one read from CSV with ``dtype=str``.
        """
        key = ("answers", with_period)
        if key in self._cache:
            return self._cache[key]
        rounds = self.spec.rounds
        partnership_code = self.group // rounds
        round_code = self.group % rounds
        value_labels = {NA_CODE: "NA", DK_CODE: "DK"} | {v: str(v) for v in self.layout.scale_values}
        value_codes = np.array(sorted(value_labels), dtype=np.int16)
        value_index = np.searchsorted(value_codes, self.value)
        respondent_names = self.respondent_ids()

        def text(codes, categories) -> pd.Series:
            taken = pc.take(pa.array(list(categories), pa.large_string()), pa.array(codes))
            return pd.Series(pd.array(taken, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))

        columns = {
            "partnership": text(partnership_code, self.partnership_ids),
            "round": text(round_code, self.round_ids),
            "respondent": text(self.respondent, respondent_names),
            "agency": text(self.agency, AGENCIES),
            "item": text(self.item, self.layout.item_ids),
            "value": text(value_index, [value_labels[int(c)] for c in value_codes]),
        }
        if with_period:
            zeros = np.zeros(self.n_answers, dtype=np.int8)
            columns["questionnaire"] = text(zeros, [self.questionnaire.id])
            columns["version"] = text(zeros, [self.questionnaire.version])
            columns["period"] = columns["round"].copy()
        frame = pd.DataFrame(columns)
        self._cache[key] = frame
        return frame

    def partnerships_frame(self) -> pd.DataFrame:
        """The Partnerships frame peers.py reads: partnership, nation, region, groups, share_practice, named_to_peers."""
        n = self.spec.partnerships
        region = np.arange(n) % len(_REGIONS)
        rng = np.random.default_rng(self.seed + 1)
        groups = np.where(np.arange(n) % 5 == 0, "rcrp-early-adopters", "")
        return pd.DataFrame(
            {
                "partnership": list(self.partnership_ids),
                "nation": [_REGIONS[r][0] for r in region],
                "region": [_REGIONS[r][1] for r in region],
                "groups": groups.tolist(),
                "share_practice": (rng.random(n) < 0.7).tolist(),
                "named_to_peers": (rng.random(n) < 0.5).tolist(),
            }
        )


def _periods(rounds: int) -> tuple[str, ...]:
    """Half-year periods ending with 2026-H2: 8 rounds run 2023-H1 .. 2026-H2."""
    end = 2026 * 2 + 1
    return tuple(f"{i // 2}-H{i % 2 + 1}" for i in range(end - rounds + 1, end + 1))


def generate(
    scale: str | ScaleSpec = "board",
    questionnaire: Questionnaire | None = None,
    *,
    seed: int = 20260101,
) -> SyntheticAnswers:
    """Make the synthetic answers for a scale (``board``, ``national``, ``international``).

    Parameters
    ----------
    scale
        A name in :data:`SCALES` or a :class:`ScaleSpec`.
    questionnaire
        Defaults to the shipped questionnaire (the small test one until the shipped one exists).
    seed
        Seed for ``numpy.random.default_rng``; the same seed gives the same answers.
    """
    spec = SCALES[scale] if isinstance(scale, str) else scale
    if spec.partnerships < 1 or spec.respondents < 1 or spec.rounds < 1:
        raise ValueError(f"every count in the scale must be at least 1, got {spec}")
    if questionnaire is None:
        questionnaire = default_questionnaire()
    layout = Layout.from_questionnaire(questionnaire)
    rng = np.random.default_rng(seed)
    n_p, n_r, n_rounds = spec.partnerships, spec.respondents, spec.rounds
    n_groups = n_p * n_rounds
    n_resp = spec.respondent_count
    n_items, n_domains = layout.n_items, layout.n_domains
    lo, hi = min(layout.scale_values), max(layout.scale_values)

    # Per partnership: maturity, domain profile and agency mix.
    maturity = rng.normal(2.9, 0.55, n_p)
    domain_offset = rng.normal(0.0, 0.4, (n_p, n_domains))
    mix = rng.dirichlet(_AGENCY_MIX * 40, n_p)
    cum_mix = np.cumsum(mix, axis=1)
    cum_mix[:, -1] = 1.0

    # Per respondent: group, agency, offset, DK propensity, drop-out point.
    respondent_group = np.repeat(np.arange(n_groups, dtype=np.int32), n_r)
    partnership_of = respondent_group // n_rounds
    round_of = respondent_group % n_rounds
    u = rng.random(n_resp)
    respondent_agency = (u[:, None] > cum_mix[partnership_of]).sum(axis=1).astype(np.int8)
    respondent_offset = rng.normal(0.0, 0.35, n_resp)
    dk_heavy = rng.random(n_resp) < _AGENCY_DK_HEAVY[respondent_agency]
    dk_rate = np.where(dk_heavy, 0.45, 0.03)
    stops = rng.random(n_resp) < 0.10
    stop_at = np.where(stops, rng.integers(n_items // 3, n_items, n_resp), n_items)
    domain_na = rng.random((n_resp, n_domains)) < 0.02

    # Per answer cell (respondent x item), built in blocks to keep the temporaries small.
    latent_base = (
        maturity[partnership_of] + 0.08 * round_of + _AGENCY_OFFSET[respondent_agency] + respondent_offset
    ).astype(np.float32)
    item_domain = layout.item_domain.astype(np.intp)
    item_index = np.arange(n_items, dtype=np.int16)
    block = max(1, 2_000_000 // n_items)
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, n_resp, block):
        rows = np.arange(start, min(start + block, n_resp))
        k = rows.size
        latent = (
            latent_base[rows, None]
            + domain_offset[partnership_of[rows]][:, item_domain].astype(np.float32)
            + rng.normal(0.0, 0.7, (k, n_items)).astype(np.float32)
        )
        value = np.clip(np.rint(latent), lo, hi).astype(np.int8)
        draw = rng.random((k, n_items), dtype=np.float32)
        value[draw < dk_rate[rows, None]] = DK_CODE
        na = (rng.random((k, n_items), dtype=np.float32) < 0.04) | domain_na[rows][:, item_domain]
        value[na] = NA_CODE
        present = (item_index[None, :] < stop_at[rows, None]) & (
            rng.random((k, n_items), dtype=np.float32) >= 0.01
        )
        r_idx, i_idx = np.nonzero(present)
        pieces.append(((r_idx + start).astype(np.int32), i_idx.astype(np.int16), value[r_idx, i_idx]))

    respondent = np.concatenate([p[0] for p in pieces])
    item = np.concatenate([p[1] for p in pieces])
    value = np.concatenate([p[2] for p in pieces])
    width = max(3, len(str(n_p)))
    return SyntheticAnswers(
        spec=spec,
        layout=layout,
        questionnaire=questionnaire,
        group=respondent_group[respondent],
        respondent=respondent,
        agency=respondent_agency[respondent],
        item=item,
        value=value,
        respondent_group=respondent_group,
        respondent_agency=respondent_agency,
        partnership_ids=tuple(f"partnership-{i + 1:0{width}d}" for i in range(n_p)),
        round_ids=_periods(n_rounds),
        seed=seed,
    )


def encode_frame(questionnaire: Questionnaire, answers: pd.DataFrame) -> SyntheticAnswers:
    """Encode a (valid) text answers frame into the integer columns the references read.

    For hand-made cases in tests: no validation beyond what indexing needs; partnerships and rounds are
    numbered in sorted order and every partnership gets every round index (groups may be empty).
    """
    layout = Layout.from_questionnaire(questionnaire)
    frame = answers.reset_index(drop=True)
    partnership_ids = tuple(sorted(frame["partnership"].unique()))
    round_ids = tuple(sorted(frame["round"].unique()))
    p_code = pd.Index(partnership_ids).get_indexer(frame["partnership"])
    r_code = pd.Index(round_ids).get_indexer(frame["round"])
    group = (p_code * len(round_ids) + r_code).astype(np.int32)
    order = np.lexsort((frame["respondent"].to_numpy(dtype=object).astype(str), group))
    frame, group = frame.iloc[order].reset_index(drop=True), group[order]
    keys = pd.MultiIndex.from_arrays([group, frame["respondent"].to_numpy(dtype=object)])
    respondent, uniques = pd.factorize(keys, sort=False)
    first = np.unique(respondent, return_index=True)[1]
    agency = pd.Index(AGENCIES).get_indexer(frame["agency"]).astype(np.int8)
    item = pd.Index(layout.item_ids).get_indexer(frame["item"]).astype(np.int16)
    codes = {"NA": NA_CODE, "DK": DK_CODE} | {str(v): v for v in layout.scale_values}
    value = frame["value"].map(codes).to_numpy(dtype=np.int8)
    if (agency < 0).any() or (item < 0).any():
        raise ValueError("the frame has an agency or item the questionnaire does not know")
    respondents_per_group = np.bincount(group[first], minlength=len(partnership_ids) * len(round_ids))
    spec = ScaleSpec("custom", len(partnership_ids), int(respondents_per_group.max()), len(round_ids))
    return SyntheticAnswers(
        spec=spec,
        layout=layout,
        questionnaire=questionnaire,
        group=group,
        respondent=respondent.astype(np.int32),
        agency=agency,
        item=item,
        value=value,
        respondent_group=group[first],
        respondent_agency=agency[first],
        partnership_ids=partnership_ids,
        round_ids=round_ids,
        seed=0,
    )
