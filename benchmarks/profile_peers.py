"""``python -m benchmarks.profile_peers [--scale S] [--calls N] [--what latest|every|regions]``: where the one
pass spends its time.

Profiles (pyinstrument) the same calls the ``peers`` section times, on the same generated scores:
``latest`` is every partnership's latest round against its region (the figure with the ≤ 5× target),
``every`` is every round against all, nation and region, ``regions`` is ``compare_regions``, ``floor`` is the
reference (one groupby quantile pass over the latest round). Prints the call
tree with times summed over ``--calls`` calls (after one untimed call).
"""

from __future__ import annotations

import argparse

from benchmarks.generate import SCALES, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_peers", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="national")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--what", choices=("latest", "every", "regions", "floor"), default="latest")
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    from assessment import peers, scoring

    data = generate(args.scale)
    encoded = scoring.encode_answers(data.questionnaire, data.answers_frame(with_period=True))
    scores = scoring.score_encoded(encoded).partnerships
    partnerships = data.partnerships_frame()
    latest = data.round_ids[-1]
    region_of = partnerships.set_index("partnership")["region"]

    def floor() -> None:  # as benchmarks.suite.section_peers times it
        frame = scores[scores["round"] == latest]
        frame = frame.assign(region=frame["partnership"].map(region_of))
        frame.groupby(["region", "domain"])["score"].quantile([0.25, 0.5, 0.75])

    calls = {
        "latest": lambda: peers.compare_all_with_peers(scores, partnerships, peer_groups=["region"], rounds=[latest]),
        "every": lambda: peers.compare_all_with_peers(scores, partnerships, peer_groups=["all", "nation", "region"]),
        "regions": lambda: peers.compare_regions(scores, partnerships),
        "floor": floor,
    }
    call = calls[args.what]
    call()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.calls):
        call()
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
