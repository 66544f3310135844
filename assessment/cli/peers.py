"""``assessment benchmark``, ``assessment regions`` and ``assessment trends``: stateless peer comparison,
region comparison and trends over CSV files, for analysts. Thin wrappers over :mod:`assessment.peers` and
:mod:`assessment.trends`; the rules are in docs/benchmarking.md."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from assessment.cli._common import fail_with
from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.peer_groups import load_peer_groups
from assessment.peers import (
    compare_all_with_peers,
    compare_regions,
    compare_with_peers,
    wider_peer_group,
    with_peer_groups,
)
from assessment.questionnaire import load_directory
from assessment.settings import load_settings
from assessment.tabular import to_csv_bytes, to_csv_text
from assessment.trends import domain_trends

__all__ = ["benchmark", "regions", "trends"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def _read_csv(path: Path, required: tuple[str, ...], numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV as text; report every missing column and every non-numeric value at once."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        fail_with([Problem.make(ErrorCode.ENCODING, file=str(path), detail=str(exc))])
    except pd.errors.EmptyDataError:
        fail_with([Problem.make(ErrorCode.MISSING_COLUMN, file=str(path), column=c) for c in required])
    frame.columns = [str(c).strip() for c in frame.columns]
    problems = [Problem.make(ErrorCode.MISSING_COLUMN, file=str(path), column=c)
                for c in required if c not in frame.columns]
    for column in numeric:
        if column not in frame.columns:
            continue
        text = frame[column].str.strip()
        values = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = values.isna() & (text != "")
        for row in bad[bad].index[:20]:
            problems.append(Problem.make(ErrorCode.INVALID_VALUE, file=str(path), line=int(row) + 2,
                                         path=f"row {int(row) + 2}, column {column}",
                                         detail=f"'{frame.at[row, column]}' is not a number"))
        frame[column] = values.astype(float)
    if problems:
        fail_with(problems, f"{len(problems)} problem(s) in {path}:")
    return frame


def _read_scores(path: Path) -> pd.DataFrame:
    """A partnership scores CSV (``assessment score --table partnership``): the columns peers and regions need."""
    return _read_csv(path, ("partnership", "round", "domain", "score"), numeric=("score",))


def _questionnaires(frame: pd.DataFrame, directory: Path | None):
    """The questionnaire definitions, loaded only when the scores mix versions (comparability needs them)."""
    if "questionnaire" not in frame or "version" not in frame:
        return None
    if len(frame[["questionnaire", "version"]].drop_duplicates()) < 2:
        return None
    try:
        return load_directory(directory or load_settings().questionnaires_dir)
    except ValidationFailed as exc:
        fail_with(exc.problems, exc.summary)


def _write(frame: pd.DataFrame, out: Path | None) -> None:
    # Six decimals: far below any meaningful difference on a 1-5 scale, and no binary noise (2.9000000000000004).
    frame = frame.round(6)
    if out is None:
        click.echo(to_csv_text(frame), nl=False)
    else:
        out.write_bytes(to_csv_bytes(frame))
        click.echo(f"wrote {len(frame)} rows to {out}", err=True)


def _fail_value(exc: ValueError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


_questionnaires_option = click.option(
    "--questionnaires", "questionnaires_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder of questionnaire files, used when rounds are on different versions "
         "(default: ASSESSMENT_QUESTIONNAIRES_DIR or the shipped questionnaires/).")
_min_peers_option = click.option(
    "--min-peers", type=click.IntRange(min=1), default=None,
    help="Fewest partnerships for a median (default: ASSESSMENT_MIN_PEERS, 3).")
_min_peers_spread_option = click.option(
    "--min-peers-spread", type=click.IntRange(min=1), default=None,
    help="Fewest partnerships for Q1 and Q3 (default: ASSESSMENT_MIN_PEERS_SPREAD, 5).")
_scores_option = click.option(
    "--scores", "scores_path", type=_FILE, required=True,
    help="Partnership scores CSV (output of `assessment score --table partnership`).")
_out_option = click.option("--out", type=_OUT, default=None, help="Write the CSV here instead of to stdout.")
_min_peers_extremes_option = click.option(
    "--min-peers-extremes", type=click.IntRange(min=1), default=None,
    help="Fewest partnerships for min and max (default: ASSESSMENT_MIN_PEERS_EXTREMES, 10).")
_window_option = click.option(
    "--window-months", type=click.IntRange(min=1, max=120), default=None,
    help="Peer window in months ending with the round's period (default: ASSESSMENT_PEER_WINDOW_MONTHS, 12).")


@click.command()
@_scores_option
@click.option("--partnerships", "partnerships_path", type=_FILE, required=True,
              help="CSV with partnership, nation, region, groups (groups separated by ';').")
@click.option("--partnership", default=None, help="The partnership to compare (not with --all).")
@click.option("--round", "round_", default=None, help="Its round (the round value); with --all, only this round.")
@click.option("--all", "every", is_flag=True,
              help="Every partnership's round in one pass (compare_all_with_peers) instead of one partnership.")
@click.option("--peer-group", default="all", show_default=True,
              help="all, nation, region or a custom group name.")
@click.option("--groups", "groups_path", type=_FILE, default=None,
              help="Extra custom peer groups: CSV (group, partnership) or YAML ({group: [partnerships]}).")
@_min_peers_option
@_min_peers_spread_option
@_min_peers_extremes_option
@_questionnaires_option
@_window_option
@_out_option
def benchmark(scores_path, partnerships_path, partnership, round_, every, peer_group, groups_path, min_peers,
              min_peers_spread, min_peers_extremes, questionnaires_dir, window_months, out) -> None:
    """Compare one partnership's round with its peers: one row per domain.

    Peers are the other partnerships of the peer group, each with its most recent round whose period ends
    within --window-months months ending with this round's period (the `period` column, or else the
    `round` value; the peer_periods column says which periods were used). Domains with fewer than
    --min-peers peers are suppressed; Q1 and Q3 need --min-peers-spread peers, min and max
    --min-peers-extremes. With --all, every partnership's round (or every partnership's --round) is
    compared in one pass, the same figures row by row.
    """
    if not every and (partnership is None or round_ is None):
        raise click.UsageError("give --partnership and --round, or --all")
    scores = _read_scores(scores_path)
    partnerships = _read_csv(partnerships_path, ("partnership", "nation", "region"))
    if groups_path is not None:
        try:
            partnerships = with_peer_groups(partnerships, load_peer_groups(groups_path))
        except ValidationFailed as exc:
            fail_with(exc.problems, exc.summary)
    settings = load_settings()
    min_peers = min_peers or settings.min_peers
    questionnaires = _questionnaires(scores, questionnaires_dir)
    arguments = dict(partnership=partnership, round=round_, min_peers=min_peers, questionnaires=questionnaires,
                     window_months=window_months or settings.peer_window_months)
    if every:
        _write(_compare_all(scores, partnerships, peer_group, arguments, settings, min_peers_spread,
                            min_peers_extremes), out)
        return
    try:
        table = compare_with_peers(scores, partnerships, peer_group=peer_group, **arguments,
                                   min_peers_spread=min_peers_spread or settings.min_peers_spread,
                                   min_peers_extremes=min_peers_extremes or settings.min_peers_extremes)
        suppressed = int(table["suppressed"].sum())
        if suppressed:
            wider = wider_peer_group(scores, partnerships, peer_group=peer_group, **arguments)
            hint = (f"; the '{wider}' peer group has enough peers in every domain" if wider
                    else "; no wider peer group has enough peers in every domain")
            click.echo(f"note: {suppressed} domain(s) have fewer than {min_peers} peers in "
                       f"'{peer_group}'{hint}", err=True)
    except ValueError as exc:
        _fail_value(exc)
    _write(table, out)


def _compare_all(scores, partnerships, peer_group, arguments, settings, min_peers_spread, min_peers_extremes):
    try:
        return compare_all_with_peers(
            scores, partnerships, peer_groups=[peer_group],
            rounds=None if arguments["round"] is None else [arguments["round"]], min_peers=arguments["min_peers"],
            questionnaires=arguments["questionnaires"], window_months=arguments["window_months"],
            min_peers_spread=min_peers_spread or settings.min_peers_spread,
            min_peers_extremes=min_peers_extremes or settings.min_peers_extremes)
    except ValueError as exc:
        _fail_value(exc)


@click.command()
@_scores_option
@click.option("--partnerships", "partnerships_path", type=_FILE, required=True,
              help="CSV with partnership, nation, region.")
@click.option("--round", "round_", default=None, help="Use the rows with this round value.")
@click.option("--period", default=None,
              help="Use each partnership's most recent round in the window ending with this period "
                   "(default: the latest period).")
@_min_peers_option
@_min_peers_spread_option
@_questionnaires_option
@_window_option
@_out_option
def regions(scores_path, partnerships_path, round_, period, min_peers, min_peers_spread, questionnaires_dir,
            window_months, out) -> None:
    """Domain score medians and quartiles per nation and per region.

    Each partnership counts once: its most recent round whose period ends within --window-months months
    ending with --period (the same rule as for peers).

    Groups of fewer than --min-peers partnerships are suppressed (the count is still shown); Q1 and Q3
    need --min-peers-spread partnerships.
    """
    if round_ is not None and period is not None:
        raise click.UsageError("give --round or --period, not both")
    scores = _read_scores(scores_path)
    partnerships = _read_csv(partnerships_path, ("partnership", "nation", "region"))
    try:
        table = compare_regions(scores, partnerships, round=round_, period=period,
                                min_peers=min_peers or load_settings().min_peers,
                                min_peers_spread=min_peers_spread or load_settings().min_peers_spread,
                                questionnaires=_questionnaires(scores, questionnaires_dir),
                                window_months=window_months or load_settings().peer_window_months)
    except ValueError as exc:
        _fail_value(exc)
    _write(table, out)


@click.command()
@click.option("--responses", "responses_path", type=_FILE, required=True,
              help="Answers CSV as for `assessment score`, plus questionnaire, version and period columns.")
@click.option("--partnership", required=True, help="The partnership whose trends to show.")
@_questionnaires_option
@click.option("--resamples", type=click.IntRange(min=1), default=None,
              help="Bootstrap resamples (default: ASSESSMENT_BOOTSTRAP_RESAMPLES, 2000).")
@click.option("--seed", type=int, default=None, help="Bootstrap seed (default: ASSESSMENT_BOOTSTRAP_SEED).")
@_out_option
def trends(responses_path, partnership, questionnaires_dir, resamples, seed, out) -> None:
    """Domain scores round by round with 95% bootstrap intervals, changes and verdicts.

    Each round is scored with its own questionnaire version; a break is marked wherever two rounds'
    versions are not comparable for a domain.
    """
    from assessment.questionnaire import get_questionnaire
    from assessment.scoring import read_answers_csv, score_responses

    settings = load_settings()
    directory = questionnaires_dir or settings.questionnaires_dir
    source = str(responses_path)
    try:
        answers = read_answers_csv(responses_path, source=source)
    except ValidationFailed as exc:
        fail_with(exc.problems, exc.summary)
    problems = [Problem.make(ErrorCode.MISSING_COLUMN, file=source, column=c)
                for c in ("partnership", "questionnaire", "version", "period") if c not in answers.columns]
    if problems:
        fail_with(problems, f"{len(problems)} problem(s) in {source}:")
    answers = answers[answers["partnership"] == partnership]
    if answers.empty:
        _fail_value(ValueError(f"no answers for partnership '{partnership}' in {source}"))
    respondents = []
    try:
        # The whole folder: comparing 1.0.0 with 1.2.0 walks the crosswalk through 1.1.0.
        questionnaires = load_directory(directory)
        for (qid, version), rows in answers.groupby(["questionnaire", "version"], sort=True):
            definition = questionnaires.get((qid, version)) or get_questionnaire(qid, version, directory)
            try:
                scored = score_responses(definition, rows.reset_index(drop=True), source=source,
                                         min_coverage=settings.min_coverage,
                                         split_threshold=settings.split_threshold,
                                         min_group_size=settings.min_group_size, frames=["respondents"])
            except ValidationFailed as exc:
                raise ValidationFailed(_renumbered(exc.problems, rows.index), exc.summary) from exc
            respondents.append(scored.respondents)
    except ValidationFailed as exc:
        fail_with(exc.problems, exc.summary)
    table = domain_trends(
        pd.concat(respondents, ignore_index=True), partnership=partnership, questionnaires=questionnaires,
        resamples=resamples or settings.bootstrap_resamples,
        seed=settings.bootstrap_seed if seed is None else seed,
        min_respondents=settings.min_respondents_for_change, min_group_size=settings.min_group_size,
    )
    _write(table, out)


def _renumbered(problems, index: pd.Index) -> list[Problem]:
    """Problems found in one version's rows, with row numbers of the whole file (header = row 1)."""
    import dataclasses
    import re

    out = []
    for problem in problems:
        match = re.match(r"row (\d+)(.*)", problem.path)
        if match and int(match.group(1)) - 2 < len(index):
            row = int(index[int(match.group(1)) - 2]) + 2
            problem = dataclasses.replace(problem, path=f"row {row}{match.group(2)}")
        out.append(problem)
    return out
