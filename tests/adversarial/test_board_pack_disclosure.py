"""The board pack shows no figure the disclosure rule hides (the same world as the page walk in
test_disclosure.py: a round of two respondents, a round with a lone ambulance respondent, and the change
between a hidden round and a shown one)."""

from __future__ import annotations

import re

from assessment import service
from assessment.permissions import Principal
from assessment.settings import load_settings
from tests.adversarial import disclosure_world as world

ADMIN = Principal.administrator("test")


def _text(document: str) -> str:
    """What a reader sees: the text of the HTML and of its SVG charts (drawing coordinates dropped)."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", document, flags=re.S))


def test_no_hidden_figure_reaches_the_board_pack(sqlite_db, mini_v1):
    with sqlite_db.sessions.begin() as session:
        rounds = world.build(session, mini_v1)
    settings = load_settings({"ASSESSMENT_BOOTSTRAP_RESAMPLES": "200"})
    seen = {}
    with sqlite_db.sessions() as session:
        hidden = world.hidden_values(session, rounds)
        for name in ("tiny_hidden", "tiny_shown", "lone"):
            for group in ("all", "region"):
                document = service.board_pack(session, ADMIN, rounds[name], group, settings=settings).decode()
                seen[(name, group)] = _text(document)
    found = {where: world.leaks([text], hidden) for where, text in seen.items()}
    assert {where: numbers for where, numbers in found.items() if numbers} == {}
    assert all("not shown" in text for text in seen.values())
    assert not any(world.SECRET_COMMENT in text for text in seen.values())  # comments never go in the pack
    # the search is honest: it finds hidden figures where they would be printed
    assert world.leaks([" ".join(f"{h:.2f}" for h in sorted(hidden))], hidden)
