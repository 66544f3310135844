"""``assessment report``: the board pack of a closed round, or a printable questionnaire (HTML or PDF).

Goes through the service layer (:func:`assessment.service.board_pack`,
:func:`assessment.service.printable_questionnaire`) as administrator, like every command (shell access to
the server is administrator access). Read-only: nothing is stored.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assessment.cli.database import transaction
from assessment.settings import load_settings
from assessment.vocabulary import AGENCIES

__all__ = ["report"]


@click.command()
@click.option("--round", "round_key", default=None, help="The closed round (its key, e.g. kent-2026-h1).")
@click.option("--peer-group", default="all", show_default=True,
              help="Peer group for the gap to peers: all, nation, region or a custom group name.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="pdf needs the [pdf] extra (WeasyPrint and Pango; docs/board-pack.md).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@click.option("--questionnaire", "printable", is_flag=True,
              help="Write the printable questionnaire instead of the board pack: the round's version, or "
                   "--version QUESTIONNAIRE@VERSION.")
@click.option("--version", "version", default=None, metavar="QUESTIONNAIRE@VERSION",
              help="With --questionnaire and no --round: which published version to print.")
@click.option("--agency", type=click.Choice(AGENCIES), default=None,
              help="With --questionnaire: only the items asked of this agency (routed).")
def report(round_key, peer_group, fmt, out, printable, version, agency) -> None:
    """The board pack of a closed round (one self-contained HTML file, or a PDF), or with --questionnaire
    a printable questionnaire to share before a round opens.

    \b
    assessment report --round kent-2026-h1 --format pdf --out kent-board-pack.pdf
    assessment report --round kent-2026-h1 --peer-group region --format html --out pack.html
    assessment report --questionnaire --round kent-2026-h1 --format pdf --out questionnaire.pdf
    assessment report --questionnaire --version police-mental-health@2.0.0 --agency police --out q.html
    """
    from assessment import service
    from assessment.permissions import Principal
    from assessment.reports.board_pack import PdfUnavailable

    if round_key is None and not (printable and version):
        raise click.UsageError("give --round (or --questionnaire with --version QUESTIONNAIRE@VERSION)")
    if version is not None and "@" not in version:
        raise click.UsageError(f"--version {version!r}: write it as QUESTIONNAIRE@VERSION, e.g. police-mental-health@2.0.0")
    acting = Principal.administrator("cli")
    try:
        with transaction(writes=False) as session:
            if printable:
                if version is None:
                    info = service.round_info(session, acting, round_key)
                    qid, number = info.questionnaire, info.version
                else:
                    qid, number = version.split("@", 1)
                content = service.printable_questionnaire(session, acting, qid, number, fmt=fmt, agency=agency)
            else:
                content = service.board_pack(session, acting, round_key, peer_group, settings=load_settings(),
                                             fmt=fmt)
    except PdfUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    out.write_bytes(content)
    click.echo(f"wrote {out} ({len(content):,} bytes)")
