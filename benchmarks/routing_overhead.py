"""What routing (``answered_by``) costs: encoding and scoring the same answers with and without it.

``python -m benchmarks.routing_overhead [RESPONDENTS]`` (default 40,000). Each respondent answers every item
of the shipped 2.0.0 asked of their agency (random agency, random answers including NA and DK). The same
answer rows are then encoded and scored twice: against 2.0.0 (routed) and against a copy of 2.0.0 with
every ``answered_by`` removed (every item asked of everyone, so the absent items count as missing).
Prints the median of three timed runs of each step.
"""

from __future__ import annotations

import sys
import time
from statistics import median

import numpy as np
import pandas as pd

from assessment.questionnaire import Questionnaire, get_questionnaire
from assessment.scoring import encode_answers, score_encoded
from assessment.vocabulary import AGENCIES


def _unrouted(q: Questionnaire) -> Questionnaire:
    data = q.model_dump(mode="json", by_alias=True)
    for domain in data["domains"]:
        for item in domain["items"]:
            item.pop("answered_by", None)
    return Questionnaire.model_validate(data)


def _answers(q: Questionnaire, n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    agency = rng.choice(np.array(AGENCIES), size=n)
    parts = []
    for code in AGENCIES:
        who = np.flatnonzero(agency == code)
        ids = np.array([item.id for item in q.items_for(code)])
        parts.append(pd.DataFrame({"respondent": np.repeat(who, len(ids)), "agency": code,
                                   "item": np.tile(ids, len(who))}))
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "partnership", (frame["respondent"] % 400).astype(str))
    frame.insert(1, "round", "R1")
    frame["respondent"] = frame["respondent"].astype(str)
    frame["value"] = rng.choice(["1", "2", "3", "4", "5", "NA", "DK"], size=len(frame))
    return frame


def _timed(step, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return median(times)


def main(n: int = 40_000) -> None:
    routed = get_questionnaire("police-mental-health", "2.0.0")
    answers = _answers(routed, n)
    print(f"{n:,} respondents, {len(answers):,} answers (questionnaire 2.0.0)")
    for label, q in (("routed (answered_by)", routed), ("answered_by removed", _unrouted(routed))):
        encoded = encode_answers(q, answers)
        encode = _timed(lambda q=q: encode_answers(q, answers))
        score = _timed(lambda encoded=encoded: score_encoded(encoded))
        print(f"  {label:<22} encode {encode:.3f} s   score {score:.3f} s   (medians of 3)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40_000)
