"""Deterministic synthetic demo data: partnerships, rounds and answers that look like a national programme.

Everything here is **synthetic**: the partnerships are named after real police force areas so the regions
and nations look familiar, but no answer comes from a real person or a real partnership. The app shows a
"synthetic demo data" banner whenever this data is loaded.

:func:`generate_demo` is pure (a seeded ``numpy.random.Generator``; the same arguments give the same data).
It draws each answer from a latent score

    latent = 3 + partnership + region + domain + partnership×domain + agency (+ split) + trend × round
             + respondent + item + noise

rounded to the scale and clipped to 1–5, so a few domains are weak or strong nationally, each partnership
has its own weak and strong areas, some partnerships improve across rounds, and in some partnerships the
police and the mental health trust see one domain a level apart (a ``split`` domain). Some answers are
``NA`` or ``DK`` (more often from agencies further from the work), some items are left unanswered, and a
few high answers carry an evidence comment.

:func:`seed_demo` loads the generated data through the storage service functions, as a real deployment
would: publish the questionnaires, add partnerships, create, open and close rounds, import answers; the
latest round of a few partnerships stays open with invitations so response tracking has something to show.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from assessment.questionnaire.schema import Questionnaire, version_key
from assessment.settings import COMMAND_LINE_BASE_URL

__all__ = [
    "DEMO_ACTIONS",
    "generate_demo_actions",
    "AGENCY_TURNOUT",
    "DEMO_ACTOR",
    "DEMO_PERIODS",
    "DEMO_SEED",
    "DemoData",
    "DemoSummary",
    "StartReport",
    "demo_partnership_name",
    "generate_demo",
    "generate_indicator_values",
    "is_demo_loaded",
    "prepare_database",
    "seed_demo",
    "shipped_questionnaires",
]

DEMO_SEED = 20260101
DEMO_ACTOR = "synthetic-demo"
DEMO_PERIODS = ("2025-H1", "2025-H2", "2026-H1")
#: Per agency: the chance it takes part in a round, and its range of respondents when it does (low
#: inclusive, high exclusive). Police-heavy; ICBs, ambulance services and lived experience take part less.
AGENCY_TURNOUT = {
    "police": (1.0, 4, 10),
    "mental_health_trust": (1.0, 3, 7),
    "local_authority": (0.8, 3, 6),
    "acute_trust": (0.6, 3, 5),
    "ambulance": (0.55, 3, 5),
    "icb": (0.5, 3, 4),
    "vcse": (0.5, 3, 5),
    "lived_experience": (0.5, 3, 6),
    "other": (0.15, 3, 4),
}
# How each agency tends to rate the partnership (police a little higher, lived experience lower).
_AGENCY_EFFECT = {
    "police": 0.12, "mental_health_trust": -0.05, "local_authority": 0.0, "acute_trust": -0.08, "ambulance": 0.04,
    "icb": 0.08, "vcse": -0.1, "lived_experience": -0.25, "other": 0.0,
}
# Agencies further from day-to-day joint work answer "don't know" more often.
_AGENCY_DK = {
    "police": 0.04, "mental_health_trust": 0.04, "local_authority": 0.06, "acute_trust": 0.08, "ambulance": 0.07,
    "icb": 0.09, "vcse": 0.12, "lived_experience": 0.14, "other": 0.10,
}
_METROPOLITAN = {"greater-manchester", "merseyside", "metropolitan", "northumbria", "south-yorkshire",
                 "west-midlands", "west-yorkshire"}
_EVIDENCE = (
    "A mental health nurse sits in the force control room from 8am to midnight and advises on every "
    "flagged call; the rota is shared weekly.",
    "The joint board reviews a monthly dashboard of s136 detentions, conveyance and handover times.",
    "Partners run quarterly case reviews of repeat contacts, with minutes and actions sent to the board.",
    "Joint training with the crisis team is part of every new officer's first year; lived experience "
    "trainers co-deliver it.",
    "The health-based place of safety accepts people who have been drinking when they are medically stable, "
    "under a protocol signed by both trusts.",
    "An information-sharing agreement covers the street triage team and is reviewed every year.",
    "Ambulance and police share a conveyance protocol; police vehicles are used only when the ambulance "
    "clinician agrees.",
    "People with lived experience sit on the board and chair the quarterly learning review.",
    "Escalations between the duty inspector and the crisis team manager are logged and discussed at the "
    "weekly huddle.",
    "Right Care, Right Person calls are reviewed jointly each month and the findings shared with the ICB.",
)


@dataclass(frozen=True)
class DemoData:
    """The synthetic dataset.

    partnerships : partnership, name, force, nation, region, groups (";"-separated), share_practice,
        named_to_peers
    rounds : round, partnership, period, questionnaire, version, status ("closed" or "open"), respondents
    answers : partnership, round, respondent, agency, item, value, comment (+ questionnaire, version, period);
        value is "1".."5", "NA" or "DK"; unanswered items have no row
    invitations : round, agency, count — invitations to issue for the open rounds (more than have answered)
    """

    partnerships: pd.DataFrame
    rounds: pd.DataFrame
    answers: pd.DataFrame
    invitations: pd.DataFrame


@dataclass(frozen=True)
class DemoSummary:
    partnerships: int
    rounds: int
    respondents: int
    answers: int
    seconds: float


def demo_partnership_name(force_name: str) -> str:
    """``Cumbria Constabulary`` -> ``Cumbria crisis care partnership``."""
    place = force_name
    for suffix in (" Police Service", " Constabulary", " Police"):
        place = place.removesuffix(suffix)
    if place == "Metropolitan":
        place = "London (Metropolitan)"
    return f"{place} crisis care partnership"


def _choose_forces(forces: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` territorial forces; when fewer than all, leave out forces of the largest regions first so
    every region keeps enough partnerships for peer statistics."""
    territorial = forces[forces["nation"].isin(["England", "Wales"])].reset_index(drop=True)
    if n >= len(territorial):
        return territorial
    remaining = territorial["region"].value_counts().to_dict()
    drop: list[int] = []
    for _ in range(len(territorial) - n):  # a handful of forces at most: one region at a time
        largest = max(remaining.values())
        ties = sorted(r for r, k in remaining.items() if k == largest)
        region = ties[int(rng.integers(0, len(ties)))]
        candidates = territorial.index[(territorial["region"] == region) & ~territorial.index.isin(drop)]
        drop.append(int(rng.choice(candidates)))
        remaining[region] -= 1
    return territorial.drop(index=drop).reset_index(drop=True)


def _questionnaire_pair(questionnaires: Sequence[Questionnaire]) -> tuple[Questionnaire, Questionnaire | None]:
    if not questionnaires:
        raise ValueError("generate_demo needs at least one questionnaire version")
    ordered = sorted(questionnaires, key=lambda q: version_key(q.version))
    return ordered[0], (ordered[-1] if len(ordered) > 1 else None)


def _demo_partnerships(forces: pd.DataFrame, partnerships: int, rng: np.random.Generator) -> pd.DataFrame:
    """The partnerships: one per chosen force area, with peer groups and sharing choices."""
    chosen = _choose_forces(forces, partnerships, rng)
    n_p = len(chosen)
    rcrp = rng.random(n_p) < 0.3
    groups = np.where(chosen["key"].isin(_METROPOLITAN), "metropolitan", "county")
    groups = np.where(rcrp, np.char.add(groups.astype(str), ";rcrp-early-adopters"), groups)
    return pd.DataFrame({
        "partnership": chosen["key"].astype(str),
        "name": chosen["name"].map(demo_partnership_name),
        "force": chosen["key"].astype(str),
        "nation": chosen["nation"].astype(str),
        "region": chosen["region"].astype(str),
        "groups": groups,
        "share_practice": rng.random(n_p) < 0.7,
        "named_to_peers": rng.random(n_p) < 0.5,
    })


def demo_icbs(partnerships: pd.DataFrame) -> pd.DataFrame:
    """The demo's integrated care boards: within each region, the partnerships in order of key are shared out
    2 or 3 to an ICB (one alone when its region has no other), as ICB footprints span force areas. Welsh
    partnerships get none (Wales has local health boards, not ICBs).

    Pure and deterministic (no random draws, so the scores stay those of the seed). Columns: partnership,
    icb (organisation key), icb_name."""
    rows = []
    english = partnerships[partnerships["nation"].astype(str) == "England"]
    for _, region in english.sort_values("partnership").groupby("region", sort=True):
        keys = list(region["partnership"].astype(str))
        places = [str(name).removesuffix(" crisis care partnership") for name in region["name"]]
        bounds = np.array_split(np.arange(len(keys)), max(1, -(-len(keys) // 3)))
        for chunk in bounds:
            members = [places[i] for i in chunk]
            name = "NHS " + (members[0] if len(members) == 1 else ", ".join(members[:-1]) + " and " + members[-1])
            rows += [(keys[i], f"icb-{keys[chunk[0]]}", f"{name} Integrated Care Board") for i in chunk]
    return pd.DataFrame(rows, columns=["partnership", "icb", "icb_name"])


def _latent_effects(old: Questionnaire, new: Questionnaire | None, parts: pd.DataFrame, agencies: np.ndarray,
                    rng: np.random.Generator) -> SimpleNamespace:
    """The effects on the latent score: per domain, partnership (and its region), partnership x domain,
    agency; each partnership's trend; split domains."""
    e = SimpleNamespace()
    n_p = len(parts)
    e.domain_ids = list(dict.fromkeys([d.id for d in old.domains] + ([d.id for d in new.domains] if new else [])))
    n_d = len(e.domain_ids)
    e.domain_effect = rng.normal(0.0, 0.3, size=n_d)
    weak_nationally = rng.choice(n_d, size=min(2, n_d), replace=False)
    e.domain_effect[weak_nationally] -= 0.5
    p_effect = rng.normal(0.0, 0.4, size=n_p)
    regions = sorted(parts["region"].unique())
    region_effect = dict(zip(regions, rng.normal(0.0, 0.2, size=len(regions)), strict=True))
    e.p_effect = p_effect + parts["region"].map(region_effect).to_numpy()
    e.pd_effect = rng.normal(0.0, 0.25, size=(n_p, n_d))
    has_weak, has_strong = rng.random(n_p) < 0.6, rng.random(n_p) < 0.5
    weak_d, strong_d = rng.integers(0, n_d, size=n_p), rng.integers(0, n_d, size=n_p)
    e.pd_effect[np.flatnonzero(has_weak), weak_d[has_weak]] -= 1.0
    e.pd_effect[np.flatnonzero(has_strong), strong_d[has_strong]] += 0.9
    e.trend = rng.normal(0.12, 0.15, size=n_p)  # most partnerships improve a little each round
    # Split domains: in a quarter of partnerships police rate one domain higher and the trust lower.
    e.split_p = rng.random(n_p) < 0.25
    e.split_d = rng.integers(0, n_d, size=n_p)
    e.agency_effect = np.array([_AGENCY_EFFECT[a] for a in agencies])
    e.agency_dk = np.array([_AGENCY_DK[a] for a in agencies])
    return e


def _answer_block(q: Questionnaire, resp: np.ndarray, rounds: pd.DataFrame, respondents: SimpleNamespace,
                  e: SimpleNamespace, rng: np.random.Generator) -> pd.DataFrame:
    """The answers of the respondents ``resp`` (all on version ``q``), vectorised: one row per item asked."""
    items = q.items
    item_domain = np.array([e.domain_ids.index(q.domain_of(item.id)) for item in items])
    item_effect = rng.normal(0.0, 0.25, size=len(items))
    item_na = rng.choice([0.0, 0.01, 0.06], size=len(items), p=[0.5, 0.35, 0.15])
    # Routing (answered_by): a respondent answers only the items asked of their agency.
    agencies = respondents.agencies
    asked = np.array([[item.asked_of(agency) for item in items] for agency in agencies])
    r = np.repeat(resp, len(items))
    i = np.tile(np.arange(len(items)), len(resp))
    rnd = respondents.round[r]
    p = respondents.p_of_round[rnd]
    d = item_domain[i]
    a = respondents.agency[r]
    split = e.split_p[p] & (e.split_d[p] == d)
    latent = (3.0 + e.p_effect[p] + e.domain_effect[d] + e.pd_effect[p, d] + e.agency_effect[a]
              + np.where(split & (a == 0), 0.7, 0.0) + np.where(split & (a == 1), -0.7, 0.0)
              + e.trend[p] * respondents.period_index[rnd] + respondents.effect[r] + item_effect[i]
              + rng.normal(0.0, 0.45, size=len(r)))
    level = np.clip(np.rint(latent), 1, 5).astype(int)
    u = rng.random(len(r))
    na = u < item_na[i]
    dk = ~na & (u < item_na[i] + e.agency_dk[a])
    missing = ~na & ~dk & (u > 0.975)
    value = np.where(na, "NA", np.where(dk, "DK", level.astype(str)))
    with_comment = (~na & ~dk & (level >= 4)) & (rng.random(len(r)) < 0.02)
    comment = np.where(with_comment, np.asarray(_EVIDENCE)[rng.integers(0, len(_EVIDENCE), size=len(r))], "")
    keep = ~missing & asked[a, i]
    return pd.DataFrame({
        "partnership": rounds["partnership"].to_numpy()[rnd[keep]],
        "round": rounds["round"].to_numpy()[rnd[keep]],
        "respondent": respondents.ids[r[keep]],
        "agency": agencies[a[keep]],
        "item": np.asarray([item.id for item in items])[i[keep]],
        "value": value[keep],
        "comment": comment[keep],
        "questionnaire": q.id,
        "version": q.version,
        "period": rounds["period"].to_numpy()[rnd[keep]],
    })


def _open_invitations(rounds: pd.DataFrame, round_of_resp: np.ndarray, agencies: np.ndarray,
                      agency_idx: np.ndarray, opened: np.ndarray) -> pd.DataFrame:
    """Invitations for the open rounds: more links than answers so far."""
    open_resp = pd.DataFrame({"round": rounds["round"].to_numpy()[round_of_resp], "agency": agencies[agency_idx]})
    open_resp = open_resp[np.asarray(opened)[round_of_resp]]
    invitations = open_resp.groupby(["round", "agency"], sort=False).size().rename("answered").reset_index()
    invitations["count"] = (invitations["answered"] * 1.6).round().astype(int) + 1
    return invitations[["round", "agency", "count"]]


def _demo_rounds(parts: pd.DataFrame, old: Questionnaire, new: Questionnaire | None, open_rounds: int,
                 rng: np.random.Generator):
    """The rounds (2 or 3 per partnership, ending in 2025-H2 or 2026-H1) and respondents per round and agency.

    Returns the rounds frame, each round's partnership and period position, which rounds are open, the
    respondent counts (round x agency) and the agencies.
    """
    n_p = len(parts)
    n_rounds = rng.choice([2, 3], size=n_p, p=[0.4, 0.6])
    ends_early = (n_rounds == 2) & (rng.random(n_p) < 0.3)
    first = np.where(n_rounds == 3, 0, np.where(ends_early, 0, 1))
    p_of_round = np.repeat(np.arange(n_p), n_rounds)
    step = np.arange(len(p_of_round)) - np.repeat(np.cumsum(n_rounds) - n_rounds, n_rounds)
    period_index = first[p_of_round] + step
    periods = np.asarray(DEMO_PERIODS)[period_index]
    on_new = (new is not None) & (period_index == 2) & (rng.random(n_p) < 0.6)[p_of_round]
    latest = np.r_[p_of_round[1:] != p_of_round[:-1], True]
    can_open = np.flatnonzero(latest & (period_index == 2))
    opened = np.zeros(len(p_of_round), dtype=bool)
    opened[rng.choice(can_open, size=min(open_rounds, len(can_open)), replace=False)] = True
    # Respondents per round and agency: agencies that take part send at least 3 people; in about one in seven
    # rounds one agency sends only 1 or 2 (its figures are suppressed); open rounds are part-way through.
    agencies = np.asarray(list(AGENCY_TURNOUT))
    chance, low, high = (np.array([t[k] for t in AGENCY_TURNOUT.values()]) for k in range(3))
    n_r, n_a = len(p_of_round), len(agencies)
    counts = np.where(rng.random((n_r, n_a)) < chance, rng.integers(low, high, size=(n_r, n_a)), 0)
    small = rng.random(n_r) < 0.15
    counts[np.flatnonzero(small), rng.integers(2, n_a, size=n_r)[small]] = rng.integers(1, 3, size=n_r)[small]
    counts = np.where(opened[:, None], np.ceil(counts * 0.6).astype(int), counts)
    n_resp = counts.sum(axis=1)
    keys = parts["partnership"].to_numpy()[p_of_round]
    rounds = pd.DataFrame({
        "round": pd.Series(keys) + "-" + pd.Series(periods).str.lower(),
        "partnership": keys,
        "period": periods,
        "questionnaire": old.id,
        "version": np.where(on_new, new.version if new is not None else old.version, old.version),
        "status": np.where(opened, "open", "closed"),
        "respondents": n_resp,
    })

    return rounds, p_of_round, period_index, opened, counts, agencies


def generate_demo(questionnaires: Sequence[Questionnaire], forces: pd.DataFrame, *, partnerships: int = 40,
                  seed: int = DEMO_SEED, open_rounds: int = 4) -> DemoData:
    """Generate the synthetic demo dataset (pure and deterministic for a given ``seed``).

    Parameters
    ----------
    questionnaires : sequence of Questionnaire
        One or two versions of the same questionnaire. Rounds in 2025 use the oldest; about 60% of the
        2026-H1 rounds use the newest, so trends show comparability breaks and both versions appear.
    forces : DataFrame
        The reference forces (``key, name, nation, region``), e.g. ``assessment.storage.reference.forces()``.
    partnerships : int
        How many partnerships (one per force area; at most the number of territorial forces).
    seed : int
        Seed of the ``numpy.random.Generator``.
    open_rounds : int
        How many partnerships keep their latest round (2026-H1) open, part-answered, with invitations
        (at most as many as have a 2026-H1 round).
    """
    if partnerships < 1:
        raise ValueError("partnerships must be at least 1")
    if open_rounds < 0:
        raise ValueError("open_rounds must be 0 or more")
    rng = np.random.default_rng(seed)
    old, new = _questionnaire_pair(questionnaires)

    # -- partnerships ------------------------------------------------------------------------------
    parts = _demo_partnerships(forces, partnerships, rng)

    # -- rounds: 2 or 3 per partnership, ending in 2025-H2 or 2026-H1 ------------------------------------
    rounds, p_of_round, period_index, opened, counts, agencies = _demo_rounds(parts, old, new, open_rounds, rng)
    n_r, n_a = counts.shape
    n_resp = counts.sum(axis=1)

    # -- respondents ---------------------------------------------------------------------------------
    round_of_resp = np.repeat(np.arange(n_r), n_resp)
    agency_idx = np.repeat(np.tile(np.arange(n_a), n_r), counts.ravel())
    start = np.cumsum(n_resp) - n_resp
    number = np.arange(len(round_of_resp)) - np.repeat(start, n_resp) + 1
    respondent_ids = (rounds["round"].to_numpy()[round_of_resp].astype(object) + "-r"
                      + pd.Series(number).map("{:03d}".format).to_numpy().astype(object))
    respondents = SimpleNamespace(round=round_of_resp, agency=agency_idx, ids=respondent_ids,
                                  effect=rng.normal(0.0, 0.25, size=len(round_of_resp)),
                                  p_of_round=p_of_round, period_index=period_index, agencies=agencies)

    # -- effects on the latent score ---------------------------------------------------------------------
    effects = _latent_effects(old, new, parts, agencies, rng)

    # -- answers, one block per questionnaire version (vectorised within each) ---------------------------
    blocks = []
    round_version = rounds["version"].to_numpy()
    for q in [old] + ([new] if new is not None and new.version != old.version else []):
        resp = np.flatnonzero(round_version[round_of_resp] == q.version)
        if len(resp) == 0:
            continue
        blocks.append(_answer_block(q, resp, rounds, respondents, effects, rng))
    answers = pd.concat(blocks, ignore_index=True).astype({c: "string" for c in (
        "partnership", "round", "respondent", "agency", "item", "value", "comment", "questionnaire", "version",
        "period")})

    # -- invitations for the open rounds: more links than answers so far ----------------------------------
    invitations = _open_invitations(rounds, round_of_resp, agencies, agency_idx, opened)
    return DemoData(parts, rounds, answers, invitations)


# -- outcome indicators (synthetic) -------------------------------------------------------------------------
#: The note every synthetic indicator value carries (shown in the entry table and in exports).
SYNTHETIC_NOTE = "synthetic demo data (not a real figure)"


def _maturity(scores: pd.DataFrame, keys: np.ndarray, domain: str) -> np.ndarray:
    """Each partnership's mean stored score of a domain across its rounds (3 where it has none), centred."""
    rows = scores[(scores["domain"] == domain) & scores["score"].notna()]
    mean = rows.groupby("partnership")["score"].mean()
    return pd.Series(keys).map(mean).fillna(3.0).to_numpy(dtype=float) - 3.0


def generate_indicator_values(partnerships: Sequence[str], scores: pd.DataFrame, *, periods: Sequence[str] = DEMO_PERIODS,
                              seed: int = DEMO_SEED) -> pd.DataFrame:
    """Synthetic indicator values for every partnership and period (the import format; pure and seeded).

    Section 136 detentions per half year are drawn around a partnership's own level (roughly 40 to 700); the
    places of safety, conveyance and the other counts are shares of them, nudged by the partnership's stored
    maturity in the linked domain (more mature places of safety: fewer police stations, more ambulances), so
    the association view has something to show. The mental health trust's count of detentions is 91–100% of
    the police count, except in about one partnership-period in five where it is 65–85% (a police–NHS
    mismatch the reconciliation flags). Small counts (fewer than 5) occur, as in real data.
    """
    rng = np.random.default_rng(seed + 16)
    keys = np.repeat(np.asarray(partnerships, dtype=object), len(periods))
    period = np.tile(np.asarray(periods, dtype=object), len(partnerships))
    n = len(keys)
    level = np.repeat(rng.lognormal(np.log(180), 0.6, size=len(partnerships)), len(periods))
    safety, triage = _maturity(scores, keys, "places_of_safety"), _maturity(scores, keys, "triage")
    d = np.maximum(np.round(level * rng.lognormal(0, 0.12, size=n)), 8)

    def share(base, slope, maturity, spread, low=0.0, high=1.0):
        return np.clip(base + slope * maturity + rng.normal(0, spread, size=n), low, high)

    station = np.round(d * share(0.05, -0.04, safety, 0.015, 0.0, 0.2))
    ed = np.round(d * share(0.2, -0.03, safety, 0.04, 0.05, 0.4))
    ambulance = np.round(d * share(0.45, 0.12, safety, 0.08, 0.15, 0.85))
    police_vehicle = np.round((d - ambulance) * 0.95)
    mismatch = rng.random(n) < 0.2
    nhs = np.round(d * np.where(mismatch, rng.uniform(0.65, 0.85, n), rng.uniform(0.91, 1.0, n)))
    people = np.round(d * rng.uniform(0.75, 0.88, n))
    welfare = np.round(d * rng.uniform(6, 12, n))
    columns = {
        ("s136-detentions", "police"): d, ("s136-detentions", "mental_health_trust"): nhs,
        ("s136-pos-police-station", "police"): station, ("s136-pos-emergency-department", "police"): ed,
        ("s136-pos-health-based", "police"): np.round((d - station - ed) * rng.uniform(0.93, 0.99, n)),
        ("s136-conveyed-ambulance", "police"): ambulance, ("s136-conveyed-police-vehicle", "police"): police_vehicle,
        ("s136-police-vehicle-ambulance-delayed", "police"): np.round(police_vehicle * share(0.5, -0.1, safety, 0.1, 0.1, 0.9)),
        ("s136-extended-beyond-24-hours", "mental_health_trust"): np.round(nhs * share(0.03, -0.015, safety, 0.01, 0.0, 0.1)),
        ("s136-handover-median-minutes", "police"): np.round(share(150, -35, safety, 25, 30, 400)),
        ("s136-people-detained", "police"): people,
        ("s136-people-detained-twice-or-more", "police"): np.round(people * share(0.12, -0.02, triage, 0.02, 0.03, 0.3)),
        ("s136-under-18", "police"): np.round(d * rng.uniform(0.03, 0.08, n)),
        ("s136-under-18-pos-police-station", "police"): (rng.random(n) < 0.1).astype(float),
        ("officer-hours-waiting", "police"): np.round(d * share(4.5, -1.0, safety, 0.8, 1.0, 12.0), 1),
        ("rcrp-welfare-calls", "police"): welfare,
        ("rcrp-calls-deployed", "police"): np.round(welfare * share(0.45, -0.08, triage, 0.06, 0.1, 0.9)),
    }
    frames = [pd.DataFrame({"partnership": keys, "period": period, "indicator": indicator, "agency": agency,
                            "value": values}) for (indicator, agency), values in columns.items()]
    out = pd.concat(frames, ignore_index=True).assign(note=SYNTHETIC_NOTE)
    return out.sort_values(["partnership", "period", "indicator", "agency"], kind="stable").reset_index(drop=True)


def _seed_indicators(session, questionnaires: Sequence[Questionnaire], partnerships: Sequence[str], seed: int) -> int:
    """Import the synthetic indicator values as an administrator would (a CSV, all or nothing).

    The catalogue's domains are those of the shipped questionnaire; a demo of other questionnaires (the
    test ones) gets no indicators.
    """
    from assessment.indicators import get_catalogue
    from assessment.settings import default_questionnaires_dir
    from assessment.storage.indicators import import_indicator_values
    from assessment.storage.scores import partnership_scores

    catalogue = get_catalogue(questionnaires_dir=default_questionnaires_dir())
    if catalogue.questionnaire.id not in {q.id for q in questionnaires}:
        return 0
    values = generate_indicator_values(partnerships, partnership_scores(session), seed=seed)
    values["value"] = values["value"].map("{:g}".format)
    # Plain CSV, not the formula-safe export writer: data going in, stored as written.
    csv = values.to_csv(index=False).encode("utf-8")
    return import_indicator_values(session, csv, actor=DEMO_ACTOR, catalogue=catalogue).rows


#: What the demo's actions say (synthetic, in the words a partnership board might use).
DEMO_ACTIONS = (
    "Agree a joint improvement plan for this domain at the partnership board, with a named lead in each agency.",
    "Review ten recent cases together (police, mental health trust, ambulance service) and take the learning "
    "to the board.",
    "Write the agreed way of working into the joint protocol and brief frontline staff and control room "
    "supervisors.",
)
DEMO_OWNERS = ("Police mental health lead", "Mental health trust crisis service manager",
               "ICB mental health commissioner", "Partnership board chair")


def generate_demo_actions(scores: pd.DataFrame) -> pd.DataFrame:
    """Synthetic actions: in each partnership's last two closed rounds, one on the lowest shown domain, aimed
    at the next maturity level; the earlier one is done or in progress (and is reviewed by the later round),
    the later one planned. Due at the end of the year after the round's period (``2025-H2`` -> 2026-12-31).

    Returns ``partnership, round, domain, what, owner, target_level, due, status`` (deterministic).
    """
    shown = scores[scores["level"].notna() & scores["score"].notna()]
    if shown.empty:
        return pd.DataFrame(columns=["partnership", "round", "domain", "what", "owner", "target_level", "due", "status"])
    rounds = shown[["partnership", "round", "period"]].drop_duplicates().sort_values(["partnership", "period"])
    last_two = rounds.groupby("partnership").tail(2)
    last_two = last_two.assign(latest=~last_two.duplicated("partnership", keep="last"))
    lowest = (shown.sort_values(["partnership", "round", "score", "domain"]).drop_duplicates(["partnership", "round"])
              [["partnership", "round", "domain", "level"]])
    out = last_two.merge(lowest, on=["partnership", "round"]).reset_index(drop=True)
    n = np.arange(len(out))
    year = out["period"].str[:4].astype(int) + 1
    return pd.DataFrame({
        "partnership": out["partnership"], "round": out["round"], "domain": out["domain"],
        "what": [DEMO_ACTIONS[i % len(DEMO_ACTIONS)] for i in n],
        "owner": [DEMO_OWNERS[i % len(DEMO_OWNERS)] for i in n],
        "target_level": np.minimum(out["level"].astype(int) + 1, 5),
        "due": [f"{y}-12-31" for y in year],
        "status": np.where(out["latest"], "planned", np.where(n % 2 == 0, "done", "in progress")),
    })


def _seed_actions(session) -> int:
    """Add the synthetic actions through the storage service (as the demo actor)."""
    from assessment.disclosure import blank_suppressed
    from assessment.storage.actions import add_action
    from assessment.storage.scores import partnership_scores

    scores = partnership_scores(session)
    if scores.empty:
        return 0
    actions = generate_demo_actions(blank_suppressed(scores))
    for row in actions.to_dict(orient="records"):
        add_action(session, row.pop("partnership"), actor=DEMO_ACTOR, **row)
    return len(actions)


# -- loading the demo into the database -----------------------------------------------------------------
def is_demo_loaded(session) -> bool:
    """Whether the synthetic demo data is in the database (the app shows a banner when it is)."""
    from assessment.storage.app_queries import has_changes_by

    return has_changes_by(session, DEMO_ACTOR)


@dataclass(frozen=True)
class StartReport:
    """What :func:`prepare_database` did on this start."""

    published: tuple[str, ...]  # questionnaire versions newly published ("id@version")
    problems: tuple[str, ...]  # shipped questionnaire files that could not be loaded
    seeded: DemoSummary | None  # the demo, when it was loaded on this start


def seed_demo(session, questionnaires: Sequence[Questionnaire], *, base_url: str = "http://localhost:8501",
              partnerships: int = 40, seed: int = DEMO_SEED, open_rounds: int = 4,
              progress: Callable[[float, str], None] | None = None) -> DemoSummary:
    """Load the synthetic demo through the storage service functions (the caller commits).

    Publishes the questionnaire versions (idempotent), adds the partnerships (members: their police force),
    creates and opens every round, imports its answers as a CSV file exactly as an administrator would,
    and closes it (which computes and stores its scores); the open rounds stay open with invitations.
    The shipped forces must be loaded already (``assessment.storage.db.upgrade`` loads them).
    """
    from assessment.storage import figures

    with figures.deferred(session):  # one computation of the stored figures at the end, not one per close
        return _seed_demo(session, questionnaires, base_url=base_url, partnerships=partnerships, seed=seed,
                          open_rounds=open_rounds, progress=progress)


def _seed_demo(session, questionnaires, *, base_url, partnerships, seed, open_rounds, progress) -> DemoSummary:
    from assessment.storage import services
    from assessment.storage.imports import import_responses
    from assessment.storage.reference import forces

    started = time.perf_counter()
    data = generate_demo(questionnaires, forces(), partnerships=partnerships, seed=seed, open_rounds=open_rounds)
    for questionnaire in sorted(questionnaires, key=lambda q: version_key(q.version)):
        services.publish_questionnaire(session, questionnaire, actor=DEMO_ACTOR)
    icbs = demo_icbs(data.partnerships)
    for icb in icbs.drop_duplicates("icb").merge(data.partnerships, on="partnership").itertuples():
        services.add_organisation(session, icb.icb, icb.icb_name, kind="icb", nation=icb.nation, region=icb.region,
                                  actor=DEMO_ACTOR)
    icb_of = dict(zip(icbs["partnership"], icbs["icb"], strict=True))
    for row in data.partnerships.itertuples():
        services.add_partnership(session, row.partnership, row.name, actor=DEMO_ACTOR,
                                 members=[row.force, *([icb_of[row.partnership]] if row.partnership in icb_of else [])],
                                 groups=row.groups.split(";"), share_practice=bool(row.share_practice),
                                 named_to_peers=bool(row.named_to_peers))
    columns = ["partnership", "round", "respondent", "agency", "item", "value", "comment"]
    by_round = dict(tuple(data.answers.groupby("round", sort=False)))
    total = len(data.rounds)
    for number, row in enumerate(data.rounds.itertuples(), start=1):
        services.create_round(session, row.partnership, row.period, questionnaire=row.questionnaire,
                              version=row.version, actor=DEMO_ACTOR, key=row.round)
        services.open_round(session, row.round, actor=DEMO_ACTOR)
        # Plain CSV, not the formula-safe export writer: this is data going in, stored exactly as written.
        csv = by_round[row.round][columns].to_csv(index=False).encode("utf-8")
        import_responses(session, row.round, csv, actor=DEMO_ACTOR)
        if row.status == "closed":
            services.close_round(session, row.round, actor=DEMO_ACTOR)
        if progress is not None:
            progress(number / total, f"round {row.round}")
    for row in data.invitations.itertuples():
        services.create_invitations(session, row.round, row.agency, int(row.count), actor=DEMO_ACTOR,
                                    base_url=base_url)
    _seed_indicators(session, questionnaires, list(data.partnerships["partnership"]), seed)
    _seed_actions(session)
    return DemoSummary(len(data.partnerships), len(data.rounds), int(data.rounds["respondents"].sum()),
                       len(data.answers), round(time.perf_counter() - started, 2))


def shipped_questionnaires(settings) -> tuple[list[Questionnaire], list[str]]:
    """The valid questionnaire versions in the settings' folder, and a line per problem of a file that is not.

    An invalid file (bad YAML, an alias, too large, failing validation) is skipped, never fatal: the start
    goes on with the valid versions and lists the problems (the Manage page shows them).
    """
    from assessment.questionnaire import load_folder

    contents = load_folder(settings.questionnaires_dir)
    return list(contents.questionnaires.values()), [str(problem) for problem in contents.problems]


def prepare_database(engine, settings, *, demo: bool | None = None) -> StartReport:
    """First start (and every start): upgrade the schema, load the reference forces, publish the shipped
    questionnaires and, when ``settings.demo`` is on and there are no partnerships yet, seed the demo; then
    bring the stored trend and peer figures up to these settings (:func:`assessment.storage.figures.refresh`).

    Safe to run on every start and from several processes: each step does nothing when already done.
    """
    from assessment.storage import figures, services
    from assessment.storage.catalogue import count_partnerships
    from assessment.storage.db import make_session_factory, upgrade

    upgrade(engine)
    factory = make_session_factory(engine)
    found, problems = shipped_questionnaires(settings)
    published: list[str] = []
    with factory.begin() as session:
        for questionnaire in sorted(found, key=lambda q: (q.id, version_key(q.version))):
            try:
                if services.publish_questionnaire(session, questionnaire, actor="first-start").newly_published:
                    published.append(questionnaire.key)
            except services.Conflict as exc:
                problems.append(str(exc))
    seeded = None
    wanted = settings.demo if demo is None else demo
    if wanted and found:
        with factory.begin() as session:
            if count_partnerships(session) == 0:
                by_id: dict[str, list[Questionnaire]] = {}
                for questionnaire in found:
                    by_id.setdefault(questionnaire.id, []).append(questionnaire)
                versions = max(by_id.values(), key=len)
                seeded = seed_demo(session, versions, base_url=settings.base_url or COMMAND_LINE_BASE_URL)
    with factory.begin() as session:  # stored trend and peer figures under these settings (a no-op when current)
        figures.refresh(session, figures.FigureOptions.from_settings(settings))
    return StartReport(tuple(published), tuple(problems), seeded)
