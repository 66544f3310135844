"""Time the service calls of a first visit to a period on Compare regions (no Streamlit cache involved).

``python -m benchmarks.regions_first_visit DB [REPEATS]``: for each of the three latest periods, the page's two
reads of the period, ``service.compare_regions`` and ``service.promising_practices`` (first domain), each in a
fresh session, REPEATS times (default 5); prints the median seconds of each and of their sum, and the
median CPU seconds of the sum (less moved by other work on a shared machine). DB is a SQLite
file, e.g. the national filled database under ``benchmarks/results/cache/`` (``benchmarks.filled_cache``).
"""

from __future__ import annotations

import statistics
import sys
import time

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from assessment import service
from assessment.permissions import Principal


def main(path: str, repeats: int = 5) -> None:
    engine = create_engine(f"sqlite:///{path}")
    who = Principal.administrator("benchmark")
    with Session(engine) as session:
        periods = service.region_periods(session, who)["period"].tolist()[:3]
        domain = next(iter(service.compare_regions(session, who, periods[0])["domain"]))
    for period in periods:
        regions, practices, cpu = [], [], []
        for _ in range(repeats):
            with Session(engine) as session:
                start, begin = time.perf_counter(), time.process_time()
                service.compare_regions(session, who, period)
                middle = time.perf_counter()
                service.promising_practices(session, who, domain, period=period)
                regions.append(middle - start)
                practices.append(time.perf_counter() - middle)
                cpu.append(time.process_time() - begin)
        both = [a + b for a, b in zip(regions, practices, strict=True)]
        print(f"{period}: compare_regions {statistics.median(regions):.3f} s, promising_practices "
              f"{statistics.median(practices):.3f} s, both {statistics.median(both):.3f} s, CPU "
              f"{statistics.median(cpu):.3f} s (median of {repeats})")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
