"""Format 2.0.0 keys: answered_by, min_items, scale.instruction, level_descriptions, respondent burden.

The keys are optional; a file without them is read, hashed and validated exactly as before.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from assessment.errors import ErrorCode
from assessment.questionnaire import (
    content_hash,
    load_questionnaire,
    normalised_definition,
    validate_file,
    validate_text,
)
from assessment.questionnaire.schema import Questionnaire
from assessment.settings import default_questionnaires_dir
from assessment.vocabulary import AGENCIES
from tests.conftest import ROOT

ROUTED = ROOT / "tests" / "data" / "routed" / "routed-partnership" / "1.0.0.yaml"

# The hashes the published versions carry in every database they were published to (sha256 of the
# normalised definition before format 2.0.0 existed). They must never change.
PUBLISHED_HASHES = {
    "1.0.0": "92c367a7dc85948e6e40859495f6bf0bc57ebb8861ff8b3b7f65d001bfcb4cad",
    "1.1.0": "1fe624c4db0c4e5f77b3af3f2215a3198fd4ea23a6ed83c4a38d49baa4502d2f",
}


@pytest.mark.parametrize("version", sorted(PUBLISHED_HASHES))
def test_published_versions_keep_their_content_hash(version):
    q = load_questionnaire(default_questionnaires_dir() / "police-mental-health" / f"{version}.yaml")
    assert content_hash(q) == PUBLISHED_HASHES[version]


def test_absent_new_keys_are_left_out_of_the_definition(mini_v1):
    data = normalised_definition(mini_v1)
    assert "min_items" not in data and "instruction" not in data["scale"]
    assert all("level_descriptions" not in d for d in data["domains"])
    assert all("answered_by" not in i for d in data["domains"] for i in d["items"])
    assert mini_v1.min_items == 1 and mini_v1.scale.instruction == ""
    assert all(item.answered_by is None for item in mini_v1.items)


def _mini_data(mini_v1_path) -> dict:
    return yaml.safe_load(mini_v1_path.read_text(encoding="utf-8"))


def test_each_new_key_changes_the_hash_when_given(mini_v1_path, mini_v1):
    base = content_hash(mini_v1)
    edits = [
        lambda d: d.update(min_items=2),
        lambda d: d["scale"].update(instruction="Choose the highest level that is fully true."),
        lambda d: d["domains"][0]["items"][0].update(answered_by=["police"]),
        lambda d: d["domains"][0].update(level_descriptions={lv: f"level {lv}" for lv in range(1, 6)}),
    ]
    for edit in edits:
        data = _mini_data(mini_v1_path)
        edit(data)
        assert content_hash(Questionnaire.model_validate(data)) != base
    # the default written out means the same as leaving it out, so it hashes the same
    data = _mini_data(mini_v1_path)
    data["min_items"] = 1
    assert content_hash(Questionnaire.model_validate(data)) == base


def test_routed_file_validates_and_round_trips():
    q = load_questionnaire(ROUTED)
    assert q.min_items == 2 and q.scale.instruction.startswith("Choose the highest level")
    assert q.item("response.ambulance_time").answered_by == ("ambulance",)
    assert [i.id for i in q.items_for("police")] == [
        "governance.board", "governance.escalation", "response.control_room", "response.handover",
        "justice.custody_assessment", "justice.liaison",
    ]
    assert q.domain("justice").items_for("ambulance") == ()
    assert q.domain("governance").level_descriptions[5].startswith("The board publishes")
    assert q.level_description("governance", 5) == q.domain("governance").level_descriptions[5]
    assert q.level_description("governance", None) == "" and q.level_description("nowhere", 3) == ""
    again = Questionnaire.model_validate(normalised_definition(q))
    assert again == q and content_hash(again) == content_hash(q)


def test_answered_by_accepts_only_vocabulary_agencies(mini_v1_path):
    for agency in AGENCIES:
        data = _mini_data(mini_v1_path)
        data["domains"][0]["items"][0]["answered_by"] = [agency]
        assert Questionnaire.model_validate(data).items[0].answered_by == (agency,)
    data = _mini_data(mini_v1_path)
    data["domains"][0]["items"][0]["answered_by"] = ["Police"]
    result = validate_text(yaml.safe_dump(data))
    assert [(p.code, p.path) for p in result.problems] == [
        (ErrorCode.UNKNOWN_AGENCY, "domains[0].items[0].answered_by[0]")
    ]


def _big(mini_v1_path, version: str, n_items: int, routed_to: int = 0) -> str:
    """The mini questionnaire padded to ``n_items`` items; the first ``routed_to`` extra items police only."""
    data = _mini_data(mini_v1_path)
    data["version"] = version
    template = data["domains"][2]["items"][2]
    extra = n_items - 7
    for n in range(extra):
        item = copy.deepcopy(template)
        item["id"] = f"safety.extra_{n}"
        if n < routed_to:
            item["answered_by"] = ["police"]
        data["domains"][2]["items"].append(item)
    return yaml.safe_dump(data, sort_keys=False)


def test_burden_limits_hold_from_version_2(mini_v1_path):
    assert validate_text(_big(mini_v1_path, "1.0.0", 61)).ok  # the published 1.x predate the limits
    assert validate_text(_big(mini_v1_path, "2.0.0", 45)).ok
    codes = [p.code for p in validate_text(_big(mini_v1_path, "2.0.0", 60)).problems]
    assert codes == [ErrorCode.TOO_MANY_ITEMS_FOR_AGENCY]
    assert "every agency 60" in validate_text(_big(mini_v1_path, "2.0.0", 60)).problems[0].message
    # 60 items, 15 of them police only: every other agency is asked 45 (allowed), police 60 (refused)
    problems = validate_text(_big(mini_v1_path, "2.0.0", 60, routed_to=15)).problems
    assert [p.message for p in problems] == [
        "too many items for one respondent (police 60); at most 45 for any one agency"
    ]
    codes = [p.code for p in validate_text(_big(mini_v1_path, "2.0.0", 61, routed_to=61)).problems]
    assert codes == [ErrorCode.TOO_MANY_ITEMS, ErrorCode.TOO_MANY_ITEMS_FOR_AGENCY]


def test_min_items_counts_each_agencys_asked_items(mini_v1_path):
    data = _mini_data(mini_v1_path)
    data["min_items"] = 2
    assert validate_text(yaml.safe_dump(data)).ok  # every domain has two or more items for everyone
    data["min_items"] = 3
    problems = validate_text(yaml.safe_dump(data)).problems
    assert [(p.code, p.path) for p in problems] == [
        (ErrorCode.TOO_FEW_ITEMS_FOR_AGENCY, "domains[0].id"), (ErrorCode.TOO_FEW_ITEMS_FOR_AGENCY, "domains[1].id")
    ]
    # an agency asked none of a domain's items is fine: it takes no part in that domain
    data["min_items"] = 2
    for item in data["domains"][0]["items"]:
        item["answered_by"] = ["police", "ambulance"]
    assert validate_text(yaml.safe_dump(data)).ok
    data["min_items"] = 0
    assert [p.code for p in validate_text(yaml.safe_dump(data)).problems] == [ErrorCode.INVALID_VALUE]


# -- crosswalk: a changed answered_by breaks comparability -----------------------------------------------------

def _revision(mini_v1_path, edit) -> Questionnaire:
    data = _mini_data(mini_v1_path)
    data.update(version="1.0.1", previous="1.0.0")
    edit(data)
    return Questionnaire.model_validate(data)


def _route(item_id: str, agencies):
    def edit(data):
        for domain in data["domains"]:
            for item in domain["items"]:
                if item["id"] == item_id:
                    item["answered_by"] = agencies
    return edit


def test_a_changed_answered_by_makes_the_domain_not_comparable(mini_v1_path, mini_v1, tmp_path):
    from assessment.questionnaire import build_crosswalk, compare_versions

    new = _revision(mini_v1_path, _route("safety.conveyance", ["police", "ambulance"]))
    walk = build_crosswalk(mini_v1, new)
    # the item itself is unchanged (nothing to declare in `changes`); its domain is not comparable
    assert {c.change for c in walk.items} == {"unchanged"}
    assert not walk.is_comparable("safety")
    assert walk.reason("safety") == (
        "safety.conveyance answered_by changed (every agency -> police, ambulance)")
    assert walk.is_comparable("governance") and walk.is_comparable("triage")
    assert not compare_versions(mini_v1, new, {"1.0.0": mini_v1, "1.0.1": new})["safety"].comparable
    # the validator does not ask for a change entry: the revision validates beside 1.0.0
    folder = tmp_path / "mini-partnership"
    folder.mkdir()
    (folder / "1.0.0.yaml").write_text(mini_v1_path.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "1.0.1.yaml").write_text(yaml.safe_dump(normalised_definition(new)), encoding="utf-8")
    result = validate_file(folder / "1.0.1.yaml")
    assert result.ok, [str(p) for p in result.problems]


def test_a_declared_comparable_domain_stays_comparable_after_rerouting(mini_v1_path, mini_v1):
    from assessment.questionnaire import build_crosswalk

    def edit(data):
        _route("safety.conveyance", ["police", "ambulance"])(data)
        data["comparable_domains"] = ["safety"]

    walk = build_crosswalk(mini_v1, _revision(mini_v1_path, edit))
    assert walk.is_comparable("safety")
    assert walk.reason("safety").startswith("declared comparable despite: safety.conveyance answered_by changed")


def test_naming_every_agency_is_the_same_as_leaving_answered_by_out(mini_v1_path, mini_v1):
    from assessment.questionnaire import build_crosswalk

    walk = build_crosswalk(mini_v1, _revision(mini_v1_path, _route("safety.conveyance", list(AGENCIES))))
    assert walk.is_comparable("safety") and walk.reason("safety") == "items map one to one"
    # and routing back and forth between two revisions is seen from either side
    a = _revision(mini_v1_path, _route("governance.escalation", ["police"]))
    b = _revision(mini_v1_path, _route("governance.escalation", ["police", "icb"]))
    assert not build_crosswalk(a, b).is_comparable("governance")
