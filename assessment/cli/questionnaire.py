"""``assessment questionnaire ...``: validate, list, show, diff and the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assessment.cli._common import fail_with, validate_each, write_json_schema
from assessment.errors import ValidationFailed
from assessment.questionnaire import (
    build_crosswalk,
    compare_versions,
    content_hash,
    list_questionnaires,
    load_questionnaire,
    normalised_definition,
    validate_file,
)
from assessment.questionnaire.schema import Questionnaire


@click.group()
def questionnaire() -> None:
    """Work with questionnaire files (questionnaires/<id>/<version>.yaml)."""


@questionnaire.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate files; print a summary per valid file, or every problem and exit 1."""
    def describe(result) -> str:
        q = result.questionnaire
        return f"{q.id} {q.version}, {len(q.domains)} domains, {len(q.items)} items, sha256 {content_hash(q)[:12]}"

    validate_each(paths, validate_file, describe)


@questionnaire.command(name="list")
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
def list_(directory: Path | None) -> None:
    """List the questionnaire versions in DIRECTORY (default: the questionnaires folder)."""
    rows = list_questionnaires(directory)
    if not rows:
        click.echo("no questionnaire files found")
        return
    for row in rows:
        if row.valid:
            click.echo(f"{row.id}\t{row.version}\t{row.published}\t{row.domains} domains\t{row.items} items\t{row.title}")
        else:
            click.echo(f"{row.id}\t{row.version}\tINVALID ({row.problems} problems: run validate)\t{row.path}")


def _load(path: Path) -> Questionnaire:
    try:
        return load_questionnaire(path)
    except ValidationFailed as exc:
        fail_with(exc.problems, exc.summary)
        raise  # unreachable: fail_with exits


@questionnaire.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
def show(path: Path, fmt: str) -> None:
    """Print the normalised definition (YAML key names, defaults filled in)."""
    data = normalised_definition(_load(path))
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@questionnaire.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(old: Path, new: Path, fmt: str) -> None:
    """Item changes and per-domain comparability between two versions."""
    a, b = _load(old), _load(new)
    if b.previous == a.version and a.id == b.id:
        walk = build_crosswalk(a, b)
        items = [(c.change, c.old or "", ", ".join(c.new), c.old_domain or "", c.new_domain or "") for c in walk.items]
        domains = [(d.domain, d.comparable, d.reason) for d in walk.domains]
    else:
        versions = {q.version: q for q in (a, b)}
        for sibling in Path(new).parent.glob("*.yaml"):
            try:
                q = load_questionnaire(sibling)
            except ValidationFailed:
                continue
            versions.setdefault(q.version, q)
        items = []
        domains = [(d.domain, d.comparable, d.reason) for d in compare_versions(a, b, versions).values()]
    if fmt == "json":
        click.echo(json.dumps({
            "questionnaire": b.id, "old": a.version, "new": b.version,
            "items": [dict(zip(("change", "old", "new", "old_domain", "new_domain"), row, strict=True)) for row in items],
            "domains": [dict(zip(("domain", "comparable", "reason"), row, strict=True)) for row in domains],
        }, indent=2))
        return
    click.echo(f"{b.id}: {a.version} -> {b.version}")
    if items:
        click.echo("\nItems:")
        for change, old_id, new_ids, _old_domain, new_domain in items:
            if change in ("unchanged", "reworded", "rescaled"):
                click.echo(f"  {change:<10} {old_id}")
            elif change == "moved":
                click.echo(f"  {change:<10} {old_id} -> domain {new_domain}")
            elif change == "added":
                click.echo(f"  {change:<10} {new_ids}")
            elif change == "removed":
                click.echo(f"  {change:<10} {old_id}")
            else:
                click.echo(f"  {change:<10} {old_id} -> {new_ids}")
    click.echo("\nDomains:")
    for domain, comparable, reason in domains:
        click.echo(f"  {'comparable' if comparable else 'NOT comparable':<15} {domain}: {reason}")


@questionnaire.command()
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of the file format (for editors' YAML support)."""
    write_json_schema(Questionnaire, "Police–mental health partnership questionnaire version", out)


@questionnaire.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--actor", default=None, help="Who publishes (audit trail; default cli:<login name>).")
def publish(path: Path, actor: str | None) -> None:
    """Publish a questionnaire version into the database (refused if that version was published with
    different content: publish a new version instead)."""
    from assessment.cli.database import default_actor, transaction
    from assessment.storage.services import publish_questionnaire

    q = _load(path)
    with transaction() as session:
        published = publish_questionnaire(session, q, actor=actor or default_actor())
    state = "published" if published.newly_published else "already published (same content)"
    click.echo(f"{published.questionnaire} {published.version} {state}, sha256 {published.content_hash[:12]}")
