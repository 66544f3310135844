"""`assessment benchmark`, `assessment regions` and `assessment trends`: the CLI agrees with the library."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from assessment.cli import main
from assessment.peers import COMPARISON_COLUMNS, REGION_COLUMNS, compare_regions, compare_with_peers
from tests.conftest import ROOT, TEST_QUESTIONNAIRES

PEERS = ROOT / "tests" / "data" / "peers"
SCORES = PEERS / "scores.csv"
PARTNERSHIPS = PEERS / "partnerships.csv"

BENCHMARK_HEADER = ("partnership,round,peer_group,domain,score,n_peers,median,q1,q3,min,max,percentile_rank,"
                    "gap_to_median,gap_to_top_quartile,suppressed,n_excluded,excluded_reasons,peer_periods")
REGIONS_HEADER = "scope,nation,region,domain,partnerships,median,q1,q3,suppressed"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def library_inputs():
    scores = pd.read_csv(SCORES, dtype=str, keep_default_na=False)
    scores["score"] = pd.to_numeric(scores["score"].replace("", np.nan))
    return scores, pd.read_csv(PARTNERSHIPS, dtype=str, keep_default_na=False)


def assert_same(cli: pd.DataFrame, library: pd.DataFrame) -> None:
    assert list(cli.columns) == list(library.columns)
    for column in library.columns:
        if pd.api.types.is_float_dtype(library[column]):
            np.testing.assert_allclose(cli[column].to_numpy(float), library[column].to_numpy(float), rtol=0, atol=5e-7)
        else:
            assert cli[column].astype("string").fillna("").tolist() == library[column].astype(str).tolist(), column


def test_benchmark_prints_the_documented_header_and_hand_computed_values():
    result = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS,
                 "--partnership", "Avon and Somerset", "--round", "2026-H1", "--peer-group", "region")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == BENCHMARK_HEADER
    table = read(result.stdout).set_index("domain")
    # South West governance peers 2.1, 2.8, 3.6, 4.0: median 3.2; own 3.2 -> rank 50. With 4 peers the
    # quartiles (5 needed) and min and max (10 needed) are empty.
    assert tuple(table.loc["governance", ["median", "percentile_rank"]]) == pytest.approx((3.2, 50.0))
    assert table.loc["governance", ["q1", "q3", "min", "max", "gap_to_top_quartile"]].isna().all()
    # safety: Dorset has no score -> 3 peers 2.7, 3.1, 3.3; own 3.9 -> rank 100, gap to the median 3.9 - 3.1.
    assert table.at["safety", "n_peers"] == 3 and table.at["safety", "excluded_reasons"] == "1 no score"
    assert table.at["safety", "gap_to_median"] == pytest.approx(0.8)
    # the thresholds are options: with --min-peers-spread 3 the quartiles of 3 peers still stay empty,
    # since Q1, median and Q3 of three scores would give all three away
    lowered = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--partnership",
                  "Avon and Somerset", "--round", "2026-H1", "--peer-group", "region", "--min-peers-spread", "3")
    assert read(lowered.stdout).set_index("domain").loc["safety", ["q1", "q3"]].isna().all()
    assert set(result.stdout.splitlines()[1].split(",")[14:15]) == {"False"}


def test_benchmark_agrees_with_the_library_for_every_peer_group():
    scores, partnerships = library_inputs()
    for group in ("all", "nation", "region", "rural"):
        result = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS,
                     "--partnership", "Dyfed-Powys", "--round", "2026-H1", "--peer-group", group)
        assert result.exit_code == 0, result.output
        library = compare_with_peers(scores, partnerships, partnership="Dyfed-Powys", round="2026-H1",
                                     peer_group=group)
        assert_same(read(result.stdout), library)


def test_a_suppressed_benchmark_names_the_wider_group_on_stderr(tmp_path):
    out = tmp_path / "gwent.csv"
    result = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--partnership", "Gwent",
                 "--round", "2026-H1", "--peer-group", "nation", "--out", out)
    assert result.exit_code == 0, result.output
    assert "3 domain(s) have fewer than 3 peers in 'nation'" in result.stderr
    assert "the 'all' peer group has enough peers" in result.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == BENCHMARK_HEADER
    assert [line.split(",")[5] for line in text.splitlines()[1:]] == ["1", "1", "1"]  # n_peers still written
    assert all(line.split(",")[14] == "True" for line in text.splitlines()[1:])


def test_custom_groups_come_from_the_partnerships_file_or_a_groups_file():
    result = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--partnership", "Dorset",
                 "--round", "2026-H1", "--peer-group", "peninsula", "--groups", PEERS / "groups.yaml")
    assert result.exit_code == 0, result.output
    assert read(result.stdout)["n_peers"].tolist() == [3, 3, 3]
    result = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--partnership", "Dorset",
                 "--round", "2026-H1", "--peer-group", "peninsula")
    assert result.exit_code == 1
    assert "unknown peer group 'peninsula'" in result.stderr


def test_min_peers_option():
    result = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--partnership",
                 "Avon and Somerset", "--round", "2026-H1", "--peer-group", "region", "--min-peers", "4")
    assert result.exit_code == 0
    assert read(result.stdout)["suppressed"].tolist() == [False, False, True]
    assert "the 'nation' peer group has enough peers" in result.stderr


def test_bad_input_is_reported_with_file_row_and_column(tmp_path):
    scores = tmp_path / "scores.csv"
    scores.write_text("partnership,round,score\nKent,2026-H1,high\nKent,2026-H1,3.1\n", encoding="utf-8")
    result = run("benchmark", "--scores", scores, "--partnerships", PARTNERSHIPS, "--partnership", "Kent",
                 "--round", "2026-H1")
    assert result.exit_code == 1
    assert "missing-column: required column 'domain' is missing" in result.stderr
    assert f"{scores}:2: invalid-value at row 2, column score: 'high' is not a number" in result.stderr
    result = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--partnership", "Kent",
                 "--round", "2024-H1")
    assert result.exit_code == 1 and "no scores for partnership 'Kent' in round '2024-H1'" in result.stderr


def test_exported_text_is_formula_safe(tmp_path):
    scores = tmp_path / "scores.csv"
    partnerships = tmp_path / "partnerships.csv"
    names = ["=HYPERLINK(\"http://example.org\")", "Kent", "Surrey", "Sussex"]
    pd.DataFrame({"partnership": names, "round": "2026-H1", "domain": "triage",
                  "score": [3.0, 2.0, 2.5, 3.5]}).to_csv(scores, index=False)
    pd.DataFrame({"partnership": names, "nation": "England", "region": "South East"}).to_csv(partnerships, index=False)
    result = run("benchmark", "--scores", scores, "--partnerships", partnerships, "--partnership", names[0],
                 "--round", "2026-H1")
    assert result.exit_code == 0, result.output
    assert read(result.stdout).at[0, "partnership"] == "'" + names[0]


def test_mixed_versions_are_compared_through_the_crosswalk(tmp_path):
    scores = tmp_path / "scores.csv"
    rows = []
    for name, version, score in [("Own", "1.1.0", 3.0), ("A", "1.1.0", 2.0), ("B", "1.1.0", 2.5),
                                 ("C", "1.1.0", 3.5), ("D", "1.0.0", 4.0)]:
        for domain in ("governance", "triage"):
            rows.append({"partnership": name, "round": f"{name} 2026-H1", "period": "2026-H1", "domain": domain,
                         "score": score, "questionnaire": "mini-partnership", "version": version})
    pd.DataFrame(rows).to_csv(scores, index=False)
    partnerships = tmp_path / "partnerships.csv"
    pd.DataFrame({"partnership": ["Own", "A", "B", "C", "D"], "nation": "England",
                  "region": "North West"}).to_csv(partnerships, index=False)
    result = run("benchmark", "--scores", scores, "--partnerships", partnerships, "--partnership", "Own",
                 "--round", "Own 2026-H1", "--questionnaires", TEST_QUESTIONNAIRES)
    assert result.exit_code == 0, result.output
    table = read(result.stdout).set_index("domain")
    assert table.at["governance", "n_peers"] == 4
    assert table.at["triage", "n_peers"] == 3
    assert table.at["triage", "excluded_reasons"] == "1 version not comparable"


def test_regions_agree_with_the_library():
    scores, partnerships = library_inputs()
    result = run("regions", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--round", "2026-H1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == REGIONS_HEADER
    cli = read(result.stdout)
    cli["region"] = cli["region"].fillna("")
    assert_same(cli, compare_regions(scores, partnerships, round="2026-H1"))
    assert tuple(cli.columns) == REGION_COLUMNS


def test_regions_take_a_round_or_a_period_not_both():
    result = run("regions", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--round", "2026-H1",
                 "--period", "2026-H1")
    assert result.exit_code == 2 and "not both" in result.output
    result = run("regions", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--period", "2025-H2")
    assert result.exit_code == 0
    south_west = read(result.stdout).query("scope == 'region' and domain == 'governance'")
    assert south_west["partnerships"].tolist() == [4]


def test_benchmark_columns_match_the_library_constant():
    assert tuple(BENCHMARK_HEADER.split(",")) == COMPARISON_COLUMNS


def _documented_benchmarks():
    """The `assessment benchmark` examples in docs/benchmarking.md: (arguments, printed lines)."""
    import re
    import shlex

    doc = (ROOT / "docs" / "benchmarking.md").read_text(encoding="utf-8")
    for block in re.findall(r"```console\n(.*?)```", doc, flags=re.S):
        text = block.replace("\\\n", " ")
        command, *printed = text.strip().splitlines()
        if command.startswith("$ assessment benchmark"):
            yield shlex.split(command[2:])[1:], printed


def test_the_worked_examples_in_the_docs_are_what_the_cli_prints(monkeypatch):
    monkeypatch.chdir(ROOT)
    examples = list(_documented_benchmarks())
    assert len(examples) == 2
    for args, printed in examples:
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [line for line in printed if not line.startswith("note:")]
        assert [line for line in printed if line.startswith("note:")] == result.stderr.splitlines()


# -- trends ---------------------------------------------------------------------------------------------------


def write_answers(path, *, bad_value_for=None):
    """Two rounds of the mini questionnaire for Avon and Somerset (1.0.0 then 1.1.0) and one for Kent.

    Twelve respondents per round, four from each of three agencies; answers rise by one level between
    the rounds (capped at 5), with a spread so that the intervals are not degenerate.
    """
    from assessment.questionnaire import load_directory

    questionnaires = load_directory(TEST_QUESTIONNAIRES)
    rows = []
    plan = [("Avon and Somerset", "2025-H2", "1.0.0", 0), ("Avon and Somerset", "2026-H1", "1.1.0", 1),
            ("Kent", "2026-H1", "1.1.0", 0)]
    for partnership, period, version, lift in plan:
        items = questionnaires[("mini-partnership", version)].items
        for i in range(12):
            agency = ("police", "mental_health_trust", "local_authority")[i % 3]
            for j, item in enumerate(items):
                value = str(min(5, 1 + (i + j) % 3 + lift))
                rows.append({"partnership": partnership, "round": f"{partnership} {period}",
                             "respondent": f"{partnership[:4]}-{period}-{i}", "agency": agency,
                             "item": item.id, "value": value, "questionnaire": "mini-partnership",
                             "version": version, "period": period})
    frame = pd.DataFrame(rows)
    if bad_value_for is not None:
        frame.loc[bad_value_for, "value"] = "7"
    frame.to_csv(path, index=False)
    return frame


def test_trends_agree_with_the_library_and_break_where_versions_differ(tmp_path):
    from assessment.questionnaire import load_directory
    from assessment.scoring import score_responses
    from assessment.trends import TREND_COLUMNS, domain_trends

    answers_path = tmp_path / "answers.csv"
    answers = write_answers(answers_path)
    result = run("trends", "--responses", answers_path, "--partnership", "Avon and Somerset",
                 "--questionnaires", TEST_QUESTIONNAIRES)
    assert result.exit_code == 0, result.output
    cli = read(result.stdout)
    assert tuple(cli.columns) == TREND_COLUMNS
    last = cli[cli["period"] == "2026-H1"].set_index("domain")
    assert last.at["governance", "verdict"] == "improved"
    assert last.at["triage", "verdict"] == "not comparable"
    assert "triage.clinician split" in last.at["triage", "break_reason"]
    assert set(cli["partnership"]) == {"Avon and Somerset"}

    questionnaires = load_directory(TEST_QUESTIONNAIRES)
    own = answers[answers["partnership"] == "Avon and Somerset"]
    respondents = pd.concat([
        score_responses(questionnaires[("mini-partnership", v)], rows.reset_index(drop=True)).respondents
        for v, rows in own.groupby("version")])
    library = domain_trends(respondents, partnership="Avon and Somerset", questionnaires=questionnaires)
    for column in ("score", "ci_low", "ci_high", "change", "change_low", "change_high"):
        np.testing.assert_allclose(cli[column].to_numpy(float), library[column].to_numpy(float), atol=5e-7)
    assert cli["verdict"].fillna("").tolist() == library["verdict"].tolist()


def test_trends_report_bad_answers_with_the_row_of_the_whole_file(tmp_path):
    answers_path = tmp_path / "answers.csv"
    answers = write_answers(answers_path, bad_value_for=len(write_answers(tmp_path / "x.csv")) - 1)
    # the last row of the file belongs to Kent: Avon and Somerset is scored cleanly
    assert run("trends", "--responses", answers_path, "--partnership", "Avon and Somerset",
               "--questionnaires", TEST_QUESTIONNAIRES).exit_code == 0
    result = run("trends", "--responses", answers_path, "--partnership", "Kent",
                 "--questionnaires", TEST_QUESTIONNAIRES)
    assert result.exit_code == 1
    assert f"row {len(answers) + 1}, column value" in result.stderr


def test_trends_need_the_version_columns(tmp_path):
    answers_path = tmp_path / "answers.csv"
    write_answers(answers_path).drop(columns=["period"]).to_csv(answers_path, index=False)
    result = run("trends", "--responses", answers_path, "--partnership", "Kent", "--questionnaires", TEST_QUESTIONNAIRES)
    assert result.exit_code == 1
    assert "required column 'period' is missing" in result.stderr


def test_the_output_of_assessment_score_feeds_benchmark(tmp_path):
    """`assessment score --table partnership` for two rounds, then `assessment benchmark` on its output."""
    answers_path = tmp_path / "answers.csv"
    answers = write_answers(answers_path)
    one_version = answers[answers["version"] == "1.1.0"].drop(columns=["questionnaire", "version", "period"])
    # three more South West partnerships in 2026-H1, so that Kent has peers ("all")
    extra = []
    for k, name in enumerate(["Dorset", "Wiltshire", "Gloucestershire"]):
        part = one_version[one_version["partnership"] == "Kent"].copy()
        part["partnership"], part["round"] = name, f"{name} 2026-H1"
        part["respondent"] = part["respondent"].str.replace("Kent", name[:4])
        part["value"] = ((part["value"].astype(int) + k) % 5 + 1).astype(str)
        extra.append(part)
    one_version = pd.concat([one_version, *extra])
    one_version["round"] = "2026-H1"  # stateless mode: the round value is the period
    one_version.to_csv(answers_path, index=False)
    scores_path = tmp_path / "scores.csv"
    scored = run("score", "--questionnaire", TEST_QUESTIONNAIRES / "mini-partnership" / "1.1.0.yaml",
                 "--responses", answers_path, "--table", "partnership", "--out", scores_path)
    assert scored.exit_code == 0, scored.output
    partnerships = tmp_path / "partnerships.csv"
    pd.DataFrame({"partnership": ["Avon and Somerset", "Kent", "Dorset", "Wiltshire", "Gloucestershire"],
                  "nation": "England", "region": ["South West", "South East", "South West", "South West",
                                                  "South West"]}).to_csv(partnerships, index=False)
    result = run("benchmark", "--scores", scores_path, "--partnerships", partnerships, "--partnership", "Kent",
                 "--round", "2026-H1")
    assert result.exit_code == 0, result.output
    table = read(result.stdout)
    assert sorted(table["domain"]) == ["governance", "safety", "triage"]
    assert table["n_peers"].tolist() == [4, 4, 4] and not table["suppressed"].any()
    scores = pd.read_csv(scores_path)
    kent = scores[scores["partnership"] == "Kent"].set_index("domain")["score"]
    np.testing.assert_allclose(table.set_index("domain")["score"], kent.loc[table["domain"]], atol=5e-7)


def test_benchmark_all_compares_every_partnership_in_one_pass_with_the_same_figures():
    scores, partnerships = library_inputs()
    result = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS, "--all", "--round", "2026-H1",
                 "--peer-group", "region")
    assert result.exit_code == 0, result.output
    every = read(result.stdout)
    listed = set(partnerships["partnership"])
    pairs = scores.loc[(scores["round"] == "2026-H1") & scores["partnership"].isin(listed), "partnership"].unique()
    assert sorted(every["partnership"].unique()) == sorted(pairs)
    for partnership in pairs:
        library = compare_with_peers(scores, partnerships, partnership=partnership, round="2026-H1",
                                     peer_group="region")
        assert_same(every[every["partnership"] == partnership].reset_index(drop=True), library)
    refused = run("benchmark", "--scores", SCORES, "--partnerships", PARTNERSHIPS)
    assert refused.exit_code != 0 and "give --partnership and --round, or --all" in refused.output
