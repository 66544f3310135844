"""Peak memory of one scoring run beyond its inputs, measured in a fresh process.

``python -m benchmarks.memory INPUTS.pickle engine|numpy`` loads the pickled inputs (the engine's
``EncodedAnswers`` and the generator's integer columns), records the resident set size, resets the
kernel's high-water mark (``/proc/self/clear_refs``), scores once, and prints one JSON line:
``peak_beyond_inputs`` = high-water mark after scoring − resident size before it (bytes), and
``tracemalloc_peak`` from a second run under ``tracemalloc`` (allocations Python and numpy report).
A fresh process keeps memory freed by earlier work (the text frame) from hiding the peak.
"""

from __future__ import annotations

import gc
import json
import pickle
import sys
import tracemalloc

from benchmarks.harness import reset_peak_rss, rss_bytes


def main(argv: list[str]) -> None:
    path, what = argv
    with open(path, "rb") as handle:
        encoded, data = pickle.load(handle)
    if what == "engine":
        from assessment.scoring import score_encoded

        def run():
            return score_encoded(encoded)
    elif what == "numpy":
        from benchmarks.references import numpy_scores

        def run():
            return numpy_scores(data)
    else:
        raise ValueError(f"unknown scorer {what!r}")
    gc.collect()
    before, _ = rss_bytes()
    reset = reset_peak_rss()
    result = run()
    _, peak = rss_bytes()
    del result
    gc.collect()
    tracemalloc.start()
    result = run()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    print(
        json.dumps(
            {
                "what": what,
                "rss_before": before,
                "rss_peak": peak,
                "peak_reset": reset,
                "peak_beyond_inputs": peak - before,
                "tracemalloc_peak": traced,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
