"""The shipped police–mental health questionnaire: complete, sourced, and its revision declared honestly.

These tests read the real files in ``questionnaires/police-mental-health/``. They check what a board and a
reviewer rely on: every item can be rated against five distinct levels, says what evidence to look at and
names sources that resolve; the 1.1.0 change list is exactly what changed since 1.0.0; and the crosswalk
leaves some domain scores comparable across the versions and breaks others.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from assessment.cli import main
from assessment.questionnaire import build_crosswalk, load_questionnaire, validate_file

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "questionnaires" / "police-mental-health"
VERSIONS = ("1.0.0", "1.1.0")
PLACEHOLDER = re.compile(r"lorem|ipsum|\bTODO\b|\bTBD\b|placeholder|\bItem \d|\bxxx\b", re.IGNORECASE)
# A domain description cites its sources in the text, e.g. "(HMICFRS 2018)" or "(CJJI 2021)".
CITATION = re.compile(r"\([^()]*[A-Z][^()]*\)")


def _load(version: str):
    return load_questionnaire(FOLDER / f"{version}.yaml")


@pytest.fixture(scope="module")
def v1():
    return _load("1.0.0")


@pytest.fixture(scope="module")
def v2():
    return _load("1.1.0")


@pytest.fixture(scope="module", params=VERSIONS)
def shipped(request):
    return _load(request.param)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_file_validates_without_problems(version):
    result = validate_file(FOLDER / f"{version}.yaml")

    assert result.problems == ()
    assert result.ok


def test_the_versions_form_a_chain(v1, v2):
    assert v1.id == v2.id == "police-mental-health"
    assert v1.previous is None
    assert v2.previous == v1.version
    assert v2.published > v1.published


def test_there_are_eleven_or_twelve_domains_of_four_to_six_items(shipped):
    assert 11 <= len(shipped.domains) <= 12
    for domain in shipped.domains:
        assert 4 <= len(domain.items) <= 6, f"{domain.id} has {len(domain.items)} items"


def test_the_agreed_partnership_components_are_all_domains(shipped):
    expected = {
        "governance", "purpose", "data", "triage", "crisis_response", "places_of_safety",
        "health_settings", "justice", "information", "workforce", "culture", "prevention",
    }
    assert {domain.id for domain in shipped.domains} == expected


def test_item_ids_belong_to_their_domain(shipped):
    for domain in shipped.domains:
        for item in domain.items:
            assert item.id.startswith(f"{domain.id}."), item.id


def test_the_scale_runs_from_initial_to_leading_with_na_and_dk(shipped):
    assert [(level.value, level.label) for level in shipped.scale.levels] == [
        (1, "Initial"), (2, "Developing"), (3, "Defined"), (4, "Integrated"), (5, "Leading"),
    ]
    assert shipped.scale.allow_na and shipped.scale.allow_dk
    assert [(band.lower_bound, band.level) for band in shipped.bands] == [
        (1.0, 1), (1.8, 2), (2.6, 3), (3.4, 4), (4.2, 5),
    ]


def test_every_item_has_five_distinct_non_empty_descriptors(shipped):
    for item in shipped.items:
        texts = [item.descriptors[level].strip() for level in (1, 2, 3, 4, 5)]
        assert all(texts), item.id
        assert len(set(texts)) == 5, f"{item.id} repeats a descriptor"
        assert item.text not in texts, f"{item.id} repeats its statement as a descriptor"


def test_every_item_says_what_evidence_to_look_at(shipped):
    for item in shipped.items:
        assert item.guidance.strip(), item.id
        assert item.guidance != item.text, item.id


def test_every_item_names_at_least_one_source_that_resolves(shipped):
    for item in shipped.items:
        assert item.sources, item.id
        unresolved = [key for key in item.sources if key not in shipped.bibliography]
        assert not unresolved, f"{item.id}: {unresolved}"


def test_every_bibliography_entry_is_used_and_is_a_full_citation(shipped):
    used = {key for item in shipped.items for key in item.sources}
    assert set(shipped.bibliography) == used
    for key, citation in shipped.bibliography.items():
        assert len(citation) >= 40, f"{key} is not a full citation"


def test_every_domain_says_why_it_matters_and_cites_its_sources(shipped):
    for domain in shipped.domains:
        assert len(domain.description) >= 200, domain.id
        assert CITATION.search(domain.description), f"{domain.id} cites no source in its description"


def test_there_is_no_placeholder_text(shipped):
    texts = [shipped.title, shipped.description, *shipped.bibliography.values()]
    for domain in shipped.domains:
        texts += [domain.title, domain.description]
        for item in domain.items:
            texts += [item.text, item.guidance, *item.descriptors.values()]
    texts += [change.note for change in shipped.changes]
    offending = [text for text in texts if PLACEHOLDER.search(text)]
    assert offending == []


def test_every_item_statement_is_unique(shipped):
    statements = [item.text for item in shipped.items]
    assert len(statements) == len(set(statements))


def test_the_computed_crosswalk_equals_the_declared_changes(v1, v2):
    computed = {
        (row.subject, row.change, row.new if row.change == "split" else ())
        for row in build_crosswalk(v1, v2).items
        if row.change != "unchanged"
    }
    declared = {
        (change.item, change.change, tuple(change.into or ()) if change.change == "split" else ())
        for change in v2.changes
    }
    assert computed == declared


def test_every_declared_change_says_why(v2):
    assert v2.changes
    for change in v2.changes:
        assert len(change.note) >= 40, change.item


def test_the_revision_exercises_each_common_kind_of_change(v2):
    kinds = [change.change for change in v2.changes]
    assert kinds.count("reworded") >= 2
    assert {"split", "added", "removed"} <= set(kinds)


def test_most_items_are_unchanged_by_the_revision(v1, v2):
    rows = build_crosswalk(v1, v2).items
    unchanged = sum(1 for row in rows if row.change == "unchanged")
    assert unchanged >= 0.8 * len(v1.items)


def test_the_revision_reflects_the_mental_health_act_2025(v1, v2):
    assert "Mental Health Act 2025" in v2.item("places_of_safety.police_custody").text
    assert "Mental Health Act 2025" not in v1.item("places_of_safety.police_custody").text
    assert "mha-2025" in v2.bibliography


def test_the_diff_shows_comparable_and_non_comparable_domains(v1, v2):
    verdicts = {d.domain: d.comparable for d in build_crosswalk(v1, v2).domains}

    assert verdicts["governance"] and verdicts["places_of_safety"]  # reworded only
    assert not verdicts["health_settings"]  # split
    assert not verdicts["crisis_response"]  # added
    assert not verdicts["data"]  # removed


def test_the_diff_command_reports_both_kinds_of_domain():
    result = CliRunner().invoke(
        main,
        ["questionnaire", "diff", str(FOLDER / "1.0.0.yaml"), str(FOLDER / "1.1.0.yaml"), "--format", "json"],
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    comparable = {row["domain"]: row["comparable"] for row in report["domains"]}
    assert any(comparable.values()) and not all(comparable.values())
    assert comparable["health_settings"] is False
    assert comparable["governance"] is True


def test_the_board_guide_names_every_domain_and_every_change(v2):
    guide = (ROOT / "docs" / "questionnaire-guide.md").read_text(encoding="utf-8")

    assert [d.id for d in v2.domains if f"`{d.id}`" not in guide] == []
    named = [change.item for change in v2.changes] + [i for c in v2.changes for i in (c.into or ())]
    assert [item for item in named if f"`{item}`" not in guide] == []
    for domain in v2.domains:
        assert f"{len(domain.items)} |" in guide.split(f"(`{domain.id}`)")[1].split("\n")[0]
