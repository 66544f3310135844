"""Each shared word has one home: agency codes and built-in peer groups in assessment/vocabulary.py, the
accepted answers of a scale in ``Scale.accepted_answers`` (assessment/questionnaire/schema.py).

The source of the library and the app is scanned for literal lists, tuples, sets and dict keys that
re-state those words, and for answers built from a scale's levels by hand. A second copy fails here with
the file and line; import the home instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from assessment.questionnaire.schema import DONT_KNOW, NOT_APPLICABLE, Scale, ScaleLevel
from assessment.vocabulary import AGENCIES, BUILT_IN_PEER_GROUPS, WIDENING_ORDER, peer_group_label
from tests.conftest import ROOT

VOCABULARY = Path("assessment/vocabulary.py")
SCHEMA = Path("assessment/questionnaire/schema.py")
SOURCES = sorted([*(ROOT / "assessment").rglob("*.py"), *(ROOT / "app_pages").rglob("*.py"), ROOT / "streamlit_app.py"])


def _strings(node: ast.AST) -> list[str] | None:
    """The string constants of a literal list, tuple, set or dict (its keys); None for anything else."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        elements = node.elts
    elif isinstance(node, ast.Dict):
        elements = [key for key in node.keys if key is not None]
    else:
        return None
    return [e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)]


def _by_hand_answers(node: ast.AST) -> bool:
    """``str(x) for x in <scale>.values`` / ``... in scale["levels"]``: accepted answers built by hand."""
    if not isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        return False
    element = node.key if isinstance(node, ast.DictComp) else node.elt
    is_text = isinstance(element, ast.Call) and isinstance(element.func, ast.Name) and element.func.id == "str"
    source = node.generators[0].iter
    from_scale = (isinstance(source, ast.Attribute) and source.attr in ("values", "levels")
                  and "scale" in ast.unparse(source.value)) or (
        isinstance(source, ast.Subscript) and ast.unparse(source.slice) == "'levels'")
    return is_text and from_scale


def second_copies(path: Path, source: str) -> list[str]:
    """Every place in ``source`` that defines agency codes, built-in peer groups or accepted answers."""
    relative = path.relative_to(ROOT) if path.is_absolute() else path
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{relative}:{getattr(node, 'lineno', '?')}"
        strings = _strings(node)
        if strings is not None and relative != VOCABULARY:
            agencies = [s for s in strings if s in AGENCIES]
            # A complete per-agency table (dict keyed by every agency) is data about each agency, not a list.
            complete_table = isinstance(node, ast.Dict) and set(strings) == set(AGENCIES)
            if len(agencies) >= 3 and not complete_table:
                found.append(f"{where}: agency codes {agencies}: import AGENCIES from assessment.vocabulary")
            if "all" in strings and {"nation", "region"} & set(strings):
                found.append(f"{where}: built-in peer groups: import BUILT_IN_PEER_GROUPS from assessment.vocabulary")
        if strings is not None and relative != SCHEMA and {NOT_APPLICABLE, DONT_KNOW} <= set(strings):
            found.append(f"{where}: NA and DK listed again: use Scale.accepted_answers() or NOT_APPLICABLE, DONT_KNOW")
        if relative != SCHEMA and _by_hand_answers(node):
            found.append(f"{where}: answers built from the scale by hand: use Scale.accepted_answers()")
    return found


def test_agency_codes_peer_groups_and_accepted_answers_live_only_in_their_home():
    found = [line for path in SOURCES for line in second_copies(path, path.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("snippet", [
    'CHOICE = click.Choice(["police", "mental_health_trust", "icb", "acute_trust"])',
    'LABELS = {"police": "Police", "icb": "ICB", "vcse": "VCSE"}',  # a partial table: a second list
    'if name in ("all", "nation", "region"): pass',
    'groups = ["all", "region", *custom]',
    'options = [str(v) for v in scale.values] + ["NA", "DK"]',
    'values = {str(level["value"]) for level in definition["scale"]["levels"]}',
    'allowed = ", ".join(str(v) for v in questionnaire.scale.values)',
])
def test_the_scan_finds_a_second_copy(snippet):
    assert second_copies(Path("assessment/elsewhere.py"), snippet)


@pytest.mark.parametrize("snippet", [
    'EFFECT = {"police": 0.1, "mental_health_trust": 0, "icb": 0, "acute_trust": 0, "ambulance": 0,'
    ' "local_authority": 0, "vcse": 0, "lived_experience": 0, "other": 0}',  # every agency: per-agency data
    'columns = ("partnership", "nation", "region")',
    'count_columns = [f"count_{value}" for value in q.scale.values]',  # column names, not answers
    'if agency in ("police", "ambulance"): pass',
])
def test_the_scan_leaves_other_shapes_alone(snippet):
    assert second_copies(Path("assessment/elsewhere.py"), snippet) == []


def test_accepted_answers_follow_the_scale():
    levels = tuple(ScaleLevel(value=v, label=f"L{v}") for v in (1, 2, 3))
    assert Scale(levels=levels).accepted_answers() == ("1", "2", "3", "NA", "DK")
    assert Scale(levels=levels, allow_na=False).accepted_answers() == ("1", "2", "3", "DK")
    assert Scale(levels=levels, allow_na=False, allow_dk=False).accepted_answers() == ("1", "2", "3")


def test_built_in_peer_groups_and_their_labels():
    assert BUILT_IN_PEER_GROUPS == ("all", "nation", "region") and WIDENING_ORDER == ("region", "nation", "all")
    assert peer_group_label("region", nation="England", region="South East") == "Same region (South East)"
    assert peer_group_label("nation", nation="Wales") == "Same nation (Wales)"
    assert peer_group_label("all") == "All partnerships"
    assert peer_group_label("metropolitan") == "Peer group: metropolitan"
