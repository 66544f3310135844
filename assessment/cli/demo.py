"""``assessment demo``: load the synthetic demo dataset (``--reset`` rebuilds it from scratch)."""

from __future__ import annotations

import click

__all__ = ["demo"]


@click.command("demo")
@click.option("--reset", is_flag=True, help="Delete everything in the database first, then load the demo.")
@click.option("--force", is_flag=True, help="With --reset: also when the database holds non-demo work.")
@click.option("--partnerships", default=40, show_default=True, type=click.IntRange(3, 43),
              help="How many synthetic partnerships (one per police force area).")
def demo(reset: bool, force: bool, partnerships: int) -> None:
    """Load the deterministic synthetic demo (about 40 partnerships, 2-3 rounds each) into the database.

    The data is made up; the app shows a "synthetic demo data" banner while it is loaded. The database
    is the one the settings name (ASSESSMENT_DATABASE_URL or ASSESSMENT_DATA_DIR).
    """
    from assessment.cli._common import make_engine_from_settings
    from assessment.demo import DEMO_ACTOR, prepare_database, seed_demo, shipped_questionnaires
    from assessment.settings import COMMAND_LINE_BASE_URL, load_settings
    from assessment.storage.app_queries import clear_database, holds_real_data
    from assessment.storage.catalogue import count_partnerships
    from assessment.storage.db import make_session_factory

    settings = load_settings()
    engine = make_engine_from_settings(settings)
    prepare_database(engine, settings, demo=False)
    factory = make_session_factory(engine)
    with factory() as session:
        existing = count_partnerships(session)
        real = holds_real_data(session, (DEMO_ACTOR, "first-start"))
    if existing and not reset:
        raise click.ClickException(f"the database already holds {existing} partnership(s); "
                                   "use --reset to replace everything with the demo")
    if reset and real and not force:
        raise click.ClickException("the database holds work that is not demo data; add --force to delete it "
                                   "(take a backup first: assessment backup)")
    if reset:
        clear_database(engine)
        prepare_database(engine, settings, demo=False)
    found, problems = shipped_questionnaires(settings)
    for line in problems:  # a bad file is skipped, never fatal: say so
        click.echo(f"skipped: {line}", err=True)
    by_id: dict[str, list] = {}
    for questionnaire in found:
        by_id.setdefault(questionnaire.id, []).append(questionnaire)
    if not by_id:
        raise click.ClickException(f"no valid questionnaire in {settings.questionnaires_dir}")
    with factory.begin() as session:
        summary = seed_demo(session, max(by_id.values(), key=len),
                            base_url=settings.base_url or COMMAND_LINE_BASE_URL, partnerships=partnerships)
    click.echo(f"Loaded the synthetic demo: {summary.partnerships} partnerships, {summary.rounds} rounds, "
               f"{summary.respondents} respondents, {summary.answers} answers in {summary.seconds:.1f} s.")
