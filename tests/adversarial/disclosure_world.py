"""A small world for the disclosure walk: figures that must never be shown, among figures that may.

* Five South East partnerships (Hampshire, Kent, Surrey, Sussex, Thames Valley), each with a closed 2026-H1
  round of nine respondents (three police, three mental health trust, three ambulance) answering 1 to 3.
* ``tiny`` (Durham, North East): its 2026-H1 round has **two respondents** answering 4 and 5, with an
  evidence comment it agreed to share; its 2026-H2 round has nine respondents answering 1 (so Trends has a
  shown round beside the hidden one); a 2027-H1 round is open (the invite page).
* ``lone`` (Cleveland, North East): a 2026-H1 round where the ambulance agency has **one respondent**
  answering 4 and 5, beside three police and three mental health trust respondents answering 1 to 3.

Every figure from the shown data is at most 3 (a mean of answers 1 to 3), so every hidden figure of the
high answers (above 3.5) is a value that no page may show; :func:`hidden_values` lists them, with the
change into and out of the hidden round that Trends would compute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assessment.disclosure import blank_suppressed
from assessment.storage import services as s
from tests.integration.conftest import ADMIN, ITEMS

SOUTH_EAST = ("hampshire", "kent", "surrey", "sussex", "thames-valley")
AGENCIES3 = ("police", "mental_health_trust", "ambulance")
SECRET_COMMENT = "TINY-PRACTICE joint rota"


def _rows(partnership: str, round_key: str, people: list[tuple[str, str, list[int]]], comment: str = "") -> list[str]:
    lines = []
    for who, agency, values in people:
        for i, item in enumerate(ITEMS):
            text = comment if (comment and i == 0 and who == people[0][0]) else ""
            lines.append(f"{partnership},{round_key},{who},{agency},{item},{values[i % len(values)]},{text}")
    return lines


def _import(session, round_key: str, lines: list[str]) -> None:
    content = "\n".join(["partnership,round,respondent,agency,item,value,comment", *lines]) + "\n"
    s.import_responses(session, round_key, content.encode(), actor=ADMIN)


def _round(session, partnership: str, period: str, lines: list[str], *, close: bool = True) -> str:
    key = s.create_round(session, partnership, period, questionnaire="mini-partnership", version="1.0.0",
                         actor=ADMIN).key
    s.open_round(session, key, actor=ADMIN)
    if lines:
        _import(session, key, lines)
    if close:
        s.close_round(session, key, actor=ADMIN)
    return key


def _nine(partnership: str, round_key: str, low: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    people = [(f"{agency[:3]}{n}", agency, [int(v) for v in rng.integers(low, 4, size=len(ITEMS))])
              for agency in AGENCIES3 for n in range(3)]
    return _rows(partnership, round_key, people)


def build(session, questionnaire, *, name_of=lambda key: f"{key.title()} partnership") -> dict[str, str]:
    """The world in one transaction; returns the round keys by role."""
    s.publish_questionnaire(session, questionnaire, actor=ADMIN)
    for index, force in enumerate(SOUTH_EAST):
        s.add_partnership(session, force, name_of(force), members=[force], actor=ADMIN, share_practice=True)
        _round(session, force, "2026-H1", _nine(force, f"{force}-2026-h1", 1, index))
    s.add_partnership(session, "tiny", name_of("tiny"), members=["durham"], actor=ADMIN, share_practice=True,
                      named_to_peers=True)
    s.add_partnership(session, "lone", name_of("lone"), members=["cleveland"], actor=ADMIN)
    rounds = {
        "tiny_hidden": _round(session, "tiny", "2026-H1", _rows(
            "tiny", "tiny-2026-h1", [("t1", "police", [5, 4]), ("t2", "mental_health_trust", [4, 5])],
            comment=SECRET_COMMENT)),
        "tiny_shown": _round(session, "tiny", "2026-H2", _rows(
            "tiny", "tiny-2026-h2", [(f"u{n}", agency, [1]) for n, agency in enumerate(AGENCIES3 * 3)])),
        "tiny_open": _round(session, "tiny", "2027-H1", [], close=False),
        "lone": _round(session, "lone", "2026-H1", [
            *_nine("lone", "lone-2026-h1", 1, 99)[: 6 * len(ITEMS)],
            *_rows("lone", "lone-2026-h1", [("amb-only", "ambulance", [4, 5])])]),
    }
    return rounds


def hidden_values(session, rounds: dict[str, str]) -> set[float]:
    """Every hidden figure above 3.5 (rounded to 2 decimals) and the changes Trends would derive from them."""
    found: set[float] = set()
    keys = [rounds["tiny_hidden"], rounds["tiny_shown"], rounds["lone"]]
    for read in (s.partnership_scores, s.agency_scores, s.overall_scores, s.item_scores):
        frame = read(session, keys)
        shown = blank_suppressed(frame)
        for column in frame.columns:
            if not pd.api.types.is_float_dtype(frame[column]):
                continue
            gone = shown[column].isna() & frame[column].notna()
            found |= {round(float(v), 2) for v in frame.loc[gone, column] if abs(v) > 3.5}
    # (the answers are chosen so that no hidden figure is a whole number, which counts could match)
    domains = s.partnership_scores(session, [rounds["tiny_hidden"], rounds["tiny_shown"]])
    wide = domains.pivot_table(index="domain", columns="round", values="score")
    change = wide[rounds["tiny_shown"]] - wide[rounds["tiny_hidden"]]
    found |= {round(float(v), 2) for v in change} | {round(-float(v), 2) for v in change}
    assert found, "the world has no hidden figure to look for"
    return found


def numbers_in(values) -> list[float]:
    """Every number in a mix of frames, texts and numbers."""
    import re

    out: list[float] = []
    for value in values:
        if isinstance(value, pd.DataFrame):
            for column in value.columns:
                numeric = pd.to_numeric(value[column], errors="coerce")
                out += [float(v) for v in numeric.dropna()]
                if not pd.api.types.is_numeric_dtype(value[column]):
                    out += numbers_in(value[column].dropna().astype(str).tolist())
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | float | np.number):
            if not np.isnan(value):
                out.append(float(value))
        elif isinstance(value, str):
            out += [float(x) for x in re.findall(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", value)]
    return out


def leaks(values, hidden: set[float]) -> list[float]:
    """The numbers among ``values`` that equal a hidden figure (to the 2 decimals a page shows)."""
    return sorted({x for x in numbers_in(values) for h in hidden if abs(x - h) < 0.0051})
