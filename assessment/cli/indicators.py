"""``assessment indicators ...``: the indicator catalogue (show, validate, JSON Schema)."""

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
    """Outcome indicators: the catalogue (indicators/<catalogue-id>/<version>.yaml)."""


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
