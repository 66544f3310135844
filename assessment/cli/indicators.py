"""``assessment indicators ...``: the indicator catalogue (show, validate, JSON Schema) and the stored values
(import, list, export)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from assessment.cli._common import fail_with, validate_each, write_json_schema
from assessment.errors import ValidationFailed
from assessment.indicators.catalogue import Catalogue, catalogue_rows, get_catalogue, validate_catalogue_file


@click.group()
def indicators() -> None:
    """Outcome indicators: the catalogue (indicators/<catalogue-id>/<version>.yaml) and the values stored per
    partnership, period, indicator and agency."""


@indicators.command()
@click.option("--id", "catalogue_id", default="outcome-indicators", show_default=True, help="Catalogue id.")
@click.option("--version", default=None, help="Catalogue version (default: the newest).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
def catalogue(catalogue_id: str, version: str | None, fmt: str) -> None:
    """Print the shipped catalogue: one row per indicator (csv) or the whole catalogue (json)."""
    try:
        cat = get_catalogue(catalogue_id, version)
    except ValidationFailed as exc:
        fail_with(exc.problems, exc.summary or "the catalogue is not valid:")
        return
    if fmt == "json":
        sys.stdout.write(json.dumps(cat.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
        return
    import pandas as pd

    from assessment.tabular import to_csv_text

    sys.stdout.write(to_csv_text(pd.DataFrame(catalogue_rows(cat))))


@indicators.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate catalogue files; print a summary per valid file, or every problem and exit 1."""
    def describe(result) -> str:
        cat = result.catalogue
        return (f"{cat.id} {cat.version}, {len(cat.indicators)} indicators, "
                f"questionnaire {cat.questionnaire.id} {cat.questionnaire.version}")

    validate_each(paths, validate_catalogue_file, describe)


@indicators.command()
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of the catalogue format (for editors' YAML support)."""
    write_json_schema(Catalogue, "Outcome indicator catalogue version", out)


# -- values: import, list, export (the CLI acts as administrator) -----------------------------------------
def _catalogue_or_fail(version: str | None) -> Catalogue:
    try:
        return get_catalogue(version=version)
    except ValidationFailed as exc:
        fail_with(exc.problems, exc.summary or "the catalogue is not valid:")
        raise  # pragma: no cover - fail_with exits


@indicators.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--catalogue-version", default=None, help="Check against this catalogue version (default: the newest).")
@click.option("--actor", default=None, help="Who is importing (recorded in the audit trail; default cli:<login name>).")
def import_values(file: Path, catalogue_version: str | None, actor: str | None) -> None:
    """Import indicator values from a CSV (partnership, period, indicator, agency, value[, note]): all or nothing.

    Every problem is listed with its row and column (row 1 is the header); a value already stored for the
    same partnership, period, indicator and agency is replaced.
    """
    from assessment.cli.database import default_actor, transaction
    from assessment.storage.indicators import import_indicator_values

    cat = _catalogue_or_fail(catalogue_version)
    with transaction() as session:
        report = import_indicator_values(session, file, actor=actor or default_actor(), catalogue=cat)
    click.echo(f"stored {report.rows} value(s) ({report.replaced} replacing stored ones) for "
               f"{len(report.partnerships)} partnership(s), period(s) {', '.join(report.periods)}")


def _stored(partnership: tuple[str, ...], period: tuple[str, ...]):
    from assessment.cli.database import transaction
    from assessment.storage.indicators import indicator_values

    with transaction(writes=False) as session:
        return indicator_values(session, partnership or None, period or None)


@indicators.command(name="list")
@click.option("--partnership", multiple=True, help="Only this partnership (repeatable).")
@click.option("--period", multiple=True, help="Only this period (repeatable).")
@click.option("--figures", is_flag=True,
              help="The figures as shown (computed percentages and rates; counts from 1 to N-1 as 'fewer than N').")
def list_values(partnership: tuple[str, ...], period: tuple[str, ...], figures: bool) -> None:
    """List stored indicator values (or, with --figures, every figure as the app shows it) as CSV."""
    from assessment.tabular import to_csv_text

    values = _stored(partnership, period)
    if figures:
        from assessment.indicators.tables import indicator_figures

        frame = indicator_figures(_catalogue_or_fail(None), values)
        sys.stdout.write(to_csv_text(frame.drop(columns=["value"])))
        return
    sys.stdout.write(to_csv_text(values.drop(columns=["catalogue", "catalogue_version"])))


@indicators.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@click.option("--partnership", multiple=True, help="Only this partnership (repeatable).")
@click.option("--period", multiple=True, help="Only this period (repeatable).")
def export_values(fmt: str, out: Path | None, partnership: tuple[str, ...], period: tuple[str, ...]) -> None:
    """Export stored indicator values: CSV in the import format (formula-safe; imports again) or JSON."""
    from assessment.cli.database import default_actor, transaction
    from assessment.storage._common import audit
    from assessment.storage.indicators import export_indicator_values, indicator_values

    with transaction(writes=False) as session:
        values = indicator_values(session, partnership or None, period or None)
        audit(session, default_actor(), "export", "indicator_values", ";".join(partnership)[:120] or "all",
              format=fmt, rows=len(values), periods=list(period))
    content = export_indicator_values(values, fmt)
    if out is not None:
        out.write_bytes(content)
        click.echo(f"wrote {len(values)} value(s) to {out}", err=True)
    else:
        sys.stdout.buffer.write(content)
