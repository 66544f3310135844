"""Profile the Portfolio page's data on the synthetic demo (40 partnerships): where its time goes.

``python -m benchmarks.profile_portfolio [CALLS]`` loads the demo into a temporary SQLite database, then
runs what ``app_pages/_commissioners.portfolio_view`` asks the service for (the partnerships the person may
see, the stored latest trends, the cells) ``CALLS`` times (default 30) under cProfile and prints the mean
time and the top of the profile.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time


def main(calls: int = 30) -> None:
    from assessment import demo, service, trends
    from assessment.permissions import ADMINISTRATOR, Principal
    from assessment.settings import load_settings
    from assessment.storage import figures
    from assessment.storage.db import make_engine, make_session_factory

    folder = tempfile.mkdtemp(prefix="profile-portfolio-")
    settings = load_settings({"ASSESSMENT_DATABASE_URL": f"sqlite:///{folder}/demo.db", "ASSESSMENT_DEMO": "true"})
    engine = make_engine(settings.database_url)
    demo.prepare_database(engine, settings)
    factory = make_session_factory(engine)
    staff = Principal.with_grants("profile", [(ADMINISTRATOR, None)], read_only=True)
    options = figures.FigureOptions.from_settings(settings)

    def page() -> None:
        with factory() as session:
            chosen = trends.portfolio_selection(service.list_partnerships(session, staff))
            frame = service.portfolio_trends(session, staff, latest_only=True, **options.trend_options())
        trends.portfolio_changes(frame, chosen)

    page()
    start = time.perf_counter()
    for _ in range(calls):
        page()
    print(f"portfolio page data: {(time.perf_counter() - start) / calls * 1000:.1f} ms per call ({calls} calls)")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(calls):
        page()
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    engine.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
