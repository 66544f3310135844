"""A questionnaire version for print: what a lead shares before a round opens (HTML, and PDF from it).

Each domain with what each maturity level looks like, then each item with the agencies it is asked of, the
evidence to look at and its descriptor at every level, as respondents see them. With ``agency`` only the
items asked of that agency are printed (the routed questionnaire one agency answers); without it, every
item, and a table of how many items each agency is asked in each domain. Self-contained like the board
pack (no script, font, image or external address); text from the questionnaire file is escaped.
"""

from __future__ import annotations

import html

from assessment.questionnaire.schema import Questionnaire
from assessment.reports.board_pack import _CSS, render_pdf
from assessment.vocabulary import AGENCIES, agency_label

__all__ = ["render", "render_html"]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _routing(questionnaire: Questionnaire) -> str:
    agencies = [a for a in AGENCIES if questionnaire.items_for(a)]
    head = "".join(f'<th scope="col" class="num">{_e(agency_label(a))}</th>' for a in agencies)
    rows = "".join(
        f"<tr><td>{_e(d.title)}</td>" + "".join(f'<td class="num">{len(d.items_for(a))}</td>' for a in agencies)
        + "</tr>" for d in questionnaire.domains)
    total = "".join(f'<td class="num"><strong>{len(questionnaire.items_for(a))}</strong></td>' for a in agencies)
    return (f'<table><thead><tr><th scope="col">Domain</th>{head}</tr></thead><tbody>{rows}'
            f"<tr><td><strong>Items in all</strong></td>{total}</tr></tbody></table>")


def _item(questionnaire: Questionnaire, item) -> str:
    asked = ("every agency" if item.answered_by is None
             else ", ".join(agency_label(a) for a in item.answered_by))
    levels = "".join(f"<tr><td>{value} {_e(questionnaire.scale.label(value))}</td><td>{_e(text)}</td></tr>"
                     for value, text in sorted(item.descriptors.items()))
    guidance = f'<p class="note">Evidence to look at: {_e(item.guidance)}</p>' if item.guidance else ""
    return (f'<div class="item" style="break-inside: avoid"><h3>{_e(item.text)}</h3>'
            f'<p class="note">Asked of: {_e(asked)} · item {_e(item.id)}</p>{guidance}'
            f'<table><thead><tr><th scope="col" style="width:22%">Level</th><th scope="col">Descriptor</th></tr>'
            f"</thead><tbody>{levels}</tbody></table>"
            '<p class="note">Answer: 1 · 2 · 3 · 4 · 5 · don\'t know · not applicable</p></div>')


def render_html(questionnaire: Questionnaire, agency: str | None = None) -> str:
    """The questionnaire as one self-contained HTML document (only ``agency``'s items when given)."""
    if agency is not None and agency not in AGENCIES:
        raise ValueError(f"agency {agency!r} is not one of: {', '.join(AGENCIES)}")
    who = f" — for {agency_label(agency)}" if agency else ""
    title = f"{questionnaire.title}, version {questionnaire.version}{who}"
    sections = []
    for domain in questionnaire.domains:
        items = domain.items_for(agency) if agency else domain.items
        if not items:
            continue
        bands = "".join(f'<p class="band"><strong>{b.level} {_e(b.label)}:</strong> '
                        f"{_e(domain.level_descriptions.get(b.level, ''))}</p>"
                        for b in questionnaire.bands if domain.level_descriptions.get(b.level))
        sections.append(f'<section class="domain" aria-label="{_e(domain.title)}"><h2>{_e(domain.title)}</h2>'
                        f"<p>{_e(domain.description)}</p>{bands}"
                        + "".join(_item(questionnaire, item) for item in items) + "</section>")
    routing = "" if agency else f"<h2>Who is asked what</h2><p>Items asked of each agency, per domain.</p>{_routing(questionnaire)}"
    scale = ", ".join(f"{lv.value} {lv.label}" for lv in questionnaire.scale.levels)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{_e(title)}</title><style>{_CSS}</style></head>
<body><p class="running">{_e(questionnaire.title)} · version {_e(questionnaire.version)}{_e(who)}</p><main>
<section class="summary" aria-label="About this questionnaire"><h1>{_e(title)}</h1>
<p class="context">Published {questionnaire.published.isoformat()} · scale: {_e(scale)}</p>
<p>{_e(questionnaire.description)}</p><p>{_e(questionnaire.scale.instruction)}</p>{routing}</section>
{"".join(sections)}</main></body></html>"""


def render(questionnaire: Questionnaire, fmt: str = "html", agency: str | None = None) -> bytes:
    """The printable questionnaire as bytes: ``html`` (UTF-8) or ``pdf`` (needs the ``[pdf]`` extra)."""
    if fmt not in ("html", "pdf"):
        raise ValueError(f"format must be html or pdf, not {fmt!r}")
    document = render_html(questionnaire, agency)
    return document.encode("utf-8") if fmt == "html" else render_pdf(document)
