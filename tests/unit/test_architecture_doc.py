"""docs/architecture.md names only modules, functions and files that exist, so the map cannot rot silently.

Every backticked name in the doc is checked: ``assessment.x.y`` is imported (the longest importable prefix,
then attributes); ``Name``, ``name()``, ``Owner.name()`` must be defined (a def, a class, an assignment or a
class field) in the project's Python files, where ``Owner`` is a class or a module's file name; a file or
folder path must exist.
"""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path

from tests.conftest import ROOT

DOC = ROOT / "docs" / "architecture.md"
SOURCES = ("assessment", "app_pages", "tests", "benchmarks")
EXTERNAL = {"Session"}  # sqlalchemy's, named for the convention "the caller owns the session"
FILE_SUFFIXES = (".py", ".md", ".toml", ".csv", ".yaml")


def backticked() -> list[str]:
    return re.findall(r"`([^`\n]+)`", DOC.read_text(encoding="utf-8"))


@cache
def definitions() -> tuple[frozenset[str], frozenset[str]]:
    """(every top-level or class-level name defined, every 'Owner.name' with Owner a class or module file)."""
    names: set[str] = set()
    qualified: set[str] = set()
    files = [ROOT / "streamlit_app.py", *(p for d in SOURCES for p in (ROOT / d).rglob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owners = [(path.stem, tree.body)]
        owners += [(node.name, node.body) for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
        for owner, body in owners:
            for node in body:
                found: list[str] = []
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    found = [node.name]
                elif isinstance(node, ast.Assign):
                    found = [t.id for t in node.targets if isinstance(t, ast.Name)]
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    found = [node.target.id]
                names.update(found)
                qualified.update(f"{owner}.{name}" for name in found)
    return frozenset(names), frozenset(qualified)


def resolves_in_package(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def problem(span: str) -> str | None:
    """Why a backticked span names nothing that exists (None when it exists or is not a name)."""
    if " " in span:
        return None  # commands and code, not a name
    if span.endswith(FILE_SUFFIXES) or "/" in span:
        path = span
        if (ROOT / path).exists() or any(ROOT.rglob(Path(path).name)):
            return None
        return f"no file or folder {path}"
    if not re.fullmatch(r"[A-Za-z_][\w.]*(\(\))?", span):
        return None  # code and arrows: not a name
    name = span.removesuffix("()")
    if name in EXTERNAL:
        return None
    if name == "assessment" or name.startswith("assessment."):
        return None if resolves_in_package(name) else f"cannot import or find {name}"
    names, qualified = definitions()
    if "." in name:
        return None if name in qualified else f"{name} is not defined (no such class/module member)"
    return None if name in names else f"{name} is not defined in {', '.join(SOURCES)} or streamlit_app.py"


def test_every_name_in_the_architecture_doc_exists():
    spans = backticked()
    assert len(spans) > 80, "the doc should name its modules and functions in backticks"
    problems = sorted({f"`{s}`: {p}" for s in spans if (p := problem(s))})
    assert not problems, "docs/architecture.md names things that do not exist:\n" + "\n".join(problems)


def test_the_checker_catches_a_wrong_name():
    assert problem("assessment.storage.answers.save_answers()") is None
    assert problem("Scale.accepted_answers()") is None
    assert problem("assessment.storage.answerz") is not None
    assert problem("assessment.storage.answers.save_answerz()") is not None
    assert problem("Scale.accepted_answerz()") is not None
    assert problem("no_such_function()") is not None
    assert problem("app_pages/no_such_page.py") is not None


def test_every_layer_of_the_contract_is_in_the_doc():
    import tomllib

    contract = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in contract["contracts"] if c["type"] == "layers")["layers"]
    modules = {m for layer in layers for m in re.findall(r"assessment(?:\.\w+)*", layer)}
    doc = DOC.read_text(encoding="utf-8")
    missing = sorted(m for m in modules if m not in doc)
    assert not missing, f"layers of pyproject.toml's contract missing from docs/architecture.md: {missing}"


def test_the_readme_links_the_architecture_doc():
    assert "docs/architecture.md" in (ROOT / "README.md").read_text(encoding="utf-8")
