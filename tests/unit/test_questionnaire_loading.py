"""Loading, listing, content hash and the crosswalk on the small test questionnaire."""

from __future__ import annotations

import shutil

import pytest
import yaml
from pydantic import ValidationError

from assessment.errors import ValidationFailed
from assessment.questionnaire import (
    build_crosswalk,
    compare_versions,
    content_hash,
    get_questionnaire,
    list_questionnaires,
    load_directory,
    load_questionnaire,
    normalised_definition,
    validate_text,
)
from tests.conftest import TEST_QUESTIONNAIRES


def test_load_fills_defaults_and_is_frozen(mini_v1):
    assert mini_v1.id == "mini-partnership"
    assert [d.id for d in mini_v1.domains] == ["governance", "triage", "safety"]
    assert mini_v1.domain("governance").items[1].weight == 1.0  # weight omitted in the file
    assert mini_v1.item("safety.conveyance").weight == 0.5
    assert mini_v1.scale.values == (1, 2, 3, 4, 5)
    with pytest.raises(ValidationError):
        mini_v1.title = "changed"


def test_level_for_uses_the_unrounded_score(mini_v1):
    assert mini_v1.level_for(1.0).level == 1
    assert mini_v1.level_for(1.7999999).level == 1
    assert mini_v1.level_for(1.8).level == 2  # exactly on a lower bound reaches that band
    assert mini_v1.level_for(5.0).label == "Leading"


def test_load_invalid_raises_with_every_problem(tmp_path):
    folder = tmp_path / "mini-partnership"
    folder.mkdir()
    text = (TEST_QUESTIONNAIRES / "mini-partnership" / "1.0.0.yaml").read_text()
    text = text.replace("weight: 0.5", "weight: 0").replace("guidance: Check the escalation", "guidence: Check the escalation")
    (folder / "1.0.0.yaml").write_text(text)
    with pytest.raises(ValidationFailed) as info:
        load_questionnaire(folder / "1.0.0.yaml")
    assert {p.code.code for p in info.value.problems} == {"weight-not-positive", "unknown-key"}


def test_content_hash_ignores_formatting_and_key_order(mini_v1_path, mini_v1, tmp_path):
    data = yaml.safe_load(mini_v1_path.read_text())
    reordered = dict(reversed(list(data.items())))
    folder = tmp_path / "mini-partnership"
    folder.mkdir()
    path = folder / "1.0.0.yaml"
    path.write_text(yaml.safe_dump(reordered, sort_keys=True, default_flow_style=False, width=60))
    assert content_hash(load_questionnaire(path)) == content_hash(mini_v1)


def test_content_hash_changes_with_any_content(mini_v1_path, mini_v1, tmp_path):
    folder = tmp_path / "mini-partnership"
    folder.mkdir()
    path = folder / "1.0.0.yaml"
    path.write_text(mini_v1_path.read_text().replace("meets at least quarterly", "meets at least monthly"))
    assert content_hash(load_questionnaire(path)) != content_hash(mini_v1)


def test_normalised_definition_uses_the_yaml_key_names(mini_v1):
    data = normalised_definition(mini_v1)
    assert data["scale"]["levels"][0] == {"value": 1, "label": "Initial"}
    assert data["bands"][1] == {"lower_bound": 1.8, "level": 2, "label": "Developing"}
    item = data["domains"][0]["items"][1]
    assert item["id"] == "governance.escalation" and item["weight"] == 1.0
    assert set(item["descriptors"]) == {"1", "2", "3", "4", "5"}


def test_list_and_get(tmp_path):
    rows = list_questionnaires(TEST_QUESTIONNAIRES)
    assert [(r.id, r.version, r.valid) for r in rows] == [
        ("mini-partnership", "1.0.0", True), ("mini-partnership", "1.1.0", True)
    ]
    assert get_questionnaire("mini-partnership", directory=TEST_QUESTIONNAIRES).version == "1.1.0"
    assert get_questionnaire("mini-partnership", "1.0.0", TEST_QUESTIONNAIRES).version == "1.0.0"
    with pytest.raises(ValidationFailed, match="not found"):
        get_questionnaire("mini-partnership", "9.9.9", TEST_QUESTIONNAIRES)


def test_questionnaires_dir_setting_is_used(tmp_path, monkeypatch):
    shutil.copytree(TEST_QUESTIONNAIRES, tmp_path / "q")
    monkeypatch.setenv("ASSESSMENT_QUESTIONNAIRES_DIR", str(tmp_path / "q"))
    assert set(load_directory()) == {("mini-partnership", "1.0.0"), ("mini-partnership", "1.1.0")}


def test_crosswalk_item_mapping_and_domains(mini_v1, mini_v2):
    walk = build_crosswalk(mini_v1, mini_v2)
    kinds = {(c.change, c.subject) for c in walk.items if c.change != "unchanged"}
    assert kinds == {
        ("reworded", "governance.escalation"),
        ("split", "triage.clinician"),
        ("removed", "safety.conveyance"),
        ("added", "safety.police_station_use"),
    }
    assert walk.item_mapping["triage.clinician"] == ("triage.control_room_clinician", "triage.advice_line")
    assert walk.item_mapping["safety.conveyance"] == ()
    assert walk.is_comparable("governance")
    assert not walk.is_comparable("triage") and "split" in walk.reason("triage")
    assert not walk.is_comparable("safety")


def test_declared_comparable_domain_overrides(mini_v1, mini_v2):
    declared = mini_v2.model_copy(update={"comparable_domains": ("safety",)})
    walk = build_crosswalk(mini_v1, declared)
    assert walk.is_comparable("safety")
    assert walk.reason("safety").startswith("declared comparable")


def test_compare_versions_either_order_and_same_version(mini_v1, mini_v2):
    versions = {"1.0.0": mini_v1, "1.1.0": mini_v2}
    forward = compare_versions(mini_v1, mini_v2, versions)
    backward = compare_versions(mini_v2, mini_v1, versions)
    assert {d: v.comparable for d, v in forward.items()} == {d: v.comparable for d, v in backward.items()}
    assert forward["governance"].comparable and not forward["triage"].comparable
    assert all(v.comparable for v in compare_versions(mini_v2, mini_v2, versions).values())


def test_compare_versions_across_a_chain(mini_v1, mini_v2):
    # 1.2.0 changes nothing: governance stays comparable from 1.0.0 to 1.2.0; triage broke at 1.1.0.
    v3 = mini_v2.model_copy(update={"version": "1.2.0", "previous": "1.1.0", "changes": ()})
    versions = {"1.0.0": mini_v1, "1.1.0": mini_v2, "1.2.0": v3}
    result = compare_versions(mini_v1, v3, versions)
    assert result["governance"].comparable
    assert not result["triage"].comparable and result["triage"].reason.startswith("1.1.0")


def test_validate_text_without_a_path_skips_file_checks(mini_v1_path):
    result = validate_text(mini_v1_path.read_text(), file="inline")
    assert result.ok
