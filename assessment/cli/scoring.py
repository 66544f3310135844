"""``assessment score``: score an answers CSV against one questionnaire version."""

from __future__ import annotations

from pathlib import Path

import click

from assessment.cli._common import fail_with
from assessment.errors import ValidationFailed
from assessment.questionnaire import load_questionnaire
from assessment.scoring import read_answers_csv, score_responses
from assessment.settings import load_settings
from assessment.tabular import to_csv_text

__all__ = ["score"]

#: The tables of figures ``--table`` writes (the name users give -> the ``Scores`` attribute).
SCORE_TABLES = {
    "respondent": "respondents",
    "agency": "agencies",
    "partnership": "partnerships",
    "overall": "overall",
    "item": "items",
}


def _chosen_table(table: str | None, old_table: str | None) -> str:
    """``--table``, or the deprecated ``--level`` (kept so that existing scripts still run, with a warning)."""
    if old_table is not None:
        if table is not None and table != old_table:
            raise click.UsageError(f"--level {old_table} and --table {table} disagree: use --table only")
        click.echo("Warning: --level is deprecated and will be removed; use --table (same values).", err=True)
    return table or old_table or "partnership"


@click.command()
@click.option("--questionnaire", "questionnaire_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The questionnaire version file (questionnaires/<id>/<version>.yaml).")
@click.option("--responses", "responses_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Answers CSV: partnership, round, respondent, agency, item, value "
                   "(+ optional questionnaire, version, period, comment).")
@click.option("--table", type=click.Choice(list(SCORE_TABLES)), default=None,
              help="Which table of figures to write (default: partnership).")
@click.option("--level", "old_table", type=click.Choice(list(SCORE_TABLES)), default=None, hidden=True,
              help="The old name of --table (deprecated; 'level' means the maturity level).")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Output CSV (default: stdout).")
@click.option("--min-coverage", type=float, default=None,
              help="Answered share of the applicable weight needed for a score (default: setting, 0.5).")
@click.option("--split-threshold", type=float, default=None,
              help="Agency gap or SD that flags a domain as split (default: setting, 1.0).")
@click.option("--min-group-size", type=int, default=None,
              help="Smallest group whose mean is shown (default: setting, 3).")
def score(questionnaire_path: Path, responses_path: Path, table: str | None, old_table: str | None,
          out_path: Path | None, min_coverage: float | None, split_threshold: float | None,
          min_group_size: int | None) -> None:
    """Score answers and write one table of figures as CSV (respondent, agency, partnership, overall, item).

    Every value is written at full precision, with the suppression flags (suppressed,
    suppression_reason, score_hidden, hidden) beside it: this is the analyst's view of data the analyst
    already holds. The app and the exports blank the flagged figures.
    """
    table = _chosen_table(table, old_table)
    settings = load_settings()
    try:
        questionnaire = load_questionnaire(questionnaire_path)
        answers = read_answers_csv(responses_path, source=str(responses_path))
        scores = score_responses(
            questionnaire,
            answers,
            min_coverage=settings.min_coverage if min_coverage is None else min_coverage,
            split_threshold=settings.split_threshold if split_threshold is None else split_threshold,
            min_group_size=settings.min_group_size if min_group_size is None else min_group_size,
            source=str(responses_path),
            frames=[SCORE_TABLES[table]],
        )
    except ValidationFailed as exc:
        fail_with(exc.problems, exc.summary)
        return
    frame = getattr(scores, SCORE_TABLES[table])
    # The one formula-safe CSV writer (assessment.tabular): respondent ids and names are user text. Full
    # precision (docs/scoring.md): the text parses back to exactly what the library computed.
    text = to_csv_text(frame, decimals=None)
    if out_path is None:
        click.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8", newline="")
