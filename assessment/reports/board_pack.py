"""The board pack: a partnership's round as one self-contained HTML file, and as a PDF made from it.

Renders :class:`~assessment.reports.model.ResultsModel` and nothing else, so every figure is the one the
Results page shows. Order: a one-page summary (headline, strengths and priorities, the domain chart), the
charts, then one section per domain (score and level, the band text now and at the next level, each item's
descriptors now and next, the gap to peers, where the agencies disagree, the change since the previous
round, the domain's actions), the action plan, and an appendix (items and response counts, suppression
notes, how the scores are made).

Self-contained: charts are inline SVG made by ``vl-convert`` (no script, no web font, no image file, no
external address); CSS for print, A4. Every piece of user text (partnership name, period, action text) is
escaped. The PDF is WeasyPrint's rendering of the same HTML (the optional ``[pdf]`` extra), tagged PDF/UA-1,
with the partnership and period in the page header and page numbers in the footer.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd

from assessment import charts
from assessment.reports.model import ResultsModel

__all__ = ["PDF_HELP", "PdfUnavailable", "chart_svg", "pdf_available", "render", "render_html", "render_pdf"]

#: What a user reads when PDF output is asked for without WeasyPrint.
PDF_HELP = ("PDF output needs WeasyPrint: install the pdf extra (pip install 'partnership-assessment[pdf]') "
            "and the Pango library (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core); "
            "docs/board-pack.md. The HTML pack prints the same content from any browser.")

_WIDTH = 620  # px: the charts' width on an A4 page with 18 mm margins

_CSS = """
@page { size: A4; margin: 20mm 16mm 18mm 16mm;
  @top-left { content: element(running); }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #444; } }
html { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10pt; color: #111; line-height: 1.35; }
body { max-width: 190mm; margin: 0 auto; }
.running { position: running(running); font-size: 8pt; color: #444; }
h1 { font-size: 18pt; margin: 0 0 2mm; } h2 { font-size: 14pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; }
.context { color: #333; margin: 0 0 3mm; }
.metrics { display: flex; gap: 4mm; margin: 3mm 0; }
.metric { border: 1px solid #bbb; border-radius: 2mm; padding: 2mm 3mm; flex: 1; }
.metric .value { font-size: 16pt; font-weight: bold; } .metric .label { font-size: 8pt; color: #333; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #ccc; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; } td.num, th.num { text-align: right; white-space: nowrap; }
.two { display: flex; gap: 6mm; } .two > div { flex: 1; }
figure { margin: 2mm 0; break-inside: avoid; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 8pt; color: #333; }
.summary, .charts { break-after: page; } section.domain { break-before: page; }
.band { border-left: 3px solid #0072B2; padding-left: 2mm; margin: 1mm 0; }
.note { font-size: 8.5pt; color: #333; }
.summary h1 { font-size: 16pt; } .summary h3 { margin: 2.5mm 0 0.5mm; } .summary ul { margin: 0; padding-left: 5mm; }
.summary table { font-size: 8pt; margin-bottom: 1mm; } .summary th, .summary td { padding: 0.5mm 1.5mm; }
.summary .metric { padding: 1.5mm 2.5mm; } .summary .metric .value { font-size: 14pt; }
@media screen { body { padding: 8mm; } section.domain { border-top: 2px solid #999; margin-top: 8mm; } }
"""


# -- formatting ---------------------------------------------------------------------------------------------
def _e(value: object) -> str:
    """User or data text, escaped for HTML."""
    return html.escape("" if value is None or value is pd.NA else str(value), quote=True)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _score(value, signed: bool = False) -> str:
    if _missing(value):
        return "—"
    return f"{float(value):+.2f}" if signed else f"{float(value):.2f}"


def _pct(value) -> str:
    return "—" if _missing(value) else f"{int(value)}%"


def _int(value) -> str:
    return "—" if _missing(value) else str(int(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """A table of already-escaped cells; columns in ``numeric`` right-aligned."""
    head = "".join(f'<th scope="col"{" class=num" if i in numeric else ""}>{h}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fixed_width(spec, width: int):
    """A Vega-Lite spec with every ``width: "container"`` set to ``width`` (there is no container offline)."""
    if isinstance(spec, dict):
        return {k: (width if k == "width" and v == "container" else _fixed_width(v, width)) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_fixed_width(v, width) for v in spec]
    return spec


def chart_svg(chart, width: int = _WIDTH) -> str:
    """An Altair chart as inline SVG (vl-convert; no browser, no network), inside a described figure."""
    import vl_convert

    spec = _fixed_width(chart.to_dict(), width)
    svg = vl_convert.vegalite_to_svg(spec)
    svg = svg[svg.index("<svg"):]  # drop any XML declaration: the SVG sits inside the HTML
    description = _e(spec.get("description", ""))
    return f'<figure role="img" aria-label="{description}">{svg}<figcaption>{description}</figcaption></figure>'


# -- sections -----------------------------------------------------------------------------------------------
def _metric(value: str, label: str) -> str:
    return f'<div class="metric"><div class="value">{value}</div><div class="label">{label}</div></div>'


def _summary(model: ResultsModel) -> str:
    c, h = model.context, model.headline
    overall = f"{_score(h.score)} {_e(h.level_label)}" if h.score is not None else "not shown"
    responses = _table(
        ["Agency", "Responses (n)", "Invited", "Response rate"],
        [[_e(r.agency_name), _int(r.responses), _int(r.invited) if r.invited else "—",
          _pct(r.response_rate) if not _missing(r.response_rate) else "no invitations (imported)"]
         for r in h.responses.itertuples()], numeric=(1, 2))
    def listed(frame: pd.DataFrame) -> str:
        return "<ul>" + "".join(f"<li><strong>{_e(r.domain_title)}</strong>: {_score(r.score)} ({_e(r.level_label)})"
                                + (" — agencies see this a level or more apart" if r.split else "") + "</li>"
                                for r in frame.itertuples()) + "</ul>"
    glance = _table(["Domain", "Score", "Maturity level", "Gap to peer median", "Change since last round"],
                    [[_e(r.domain_title), _score(r.score), _e(r.level_label) or "not shown",
                      _score(r.gap_to_median, signed=True), _e(r.verdict) or "first round"]
                     for r in model.domains.itertuples()], numeric=(1, 3))
    return f"""<section class="summary" aria-label="Summary">
<h1>Board pack: {_e(c.partnership_name)}</h1>
<p class="context">Round {_e(c.period)} · questionnaire {_e(c.version)} · peer group: {_e(c.peer_group_label)}</p>
<div class="metrics">{_metric(overall, "Overall score and maturity level (1–5)")}
{_metric(str(h.n_respondents), "Respondents (n)")}{_metric(str(h.n_agencies), "Agencies that responded")}
{_metric(f"{h.n_domains_scored} of {h.n_domains}", "Domains with a score shown")}</div>
<div class="two"><div><h3>Strengths</h3>{listed(model.strengths)}</div>
<div><h3>Priorities</h3>{listed(model.priorities)}</div></div>
<h3>All domains at a glance</h3>{glance}
<h3>Responses by agency</h3>{responses}
</section>"""


def _charts(model: ResultsModel) -> str:
    n = model.headline.n_respondents
    domain_chart = charts.build_domain_scores_chart(model.domains, titles=model.titles,
                                                    context=model.chart_context(n), thresholds=model.thresholds)
    parts = [chart_svg(domain_chart)]
    gaps = model.gap_frame()
    if gaps["median"].notna().any():
        parts.append(chart_svg(charts.build_gap_chart(gaps, titles=model.titles,
                                                      peer_group_label=model.context.peer_group_label,
                                                      context=model.chart_context(n))))
    shown = model.agencies[~model.agencies["suppressed"]]
    if not shown.empty:
        parts.append(chart_svg(charts.build_agency_chart(model.agencies, titles=model.titles,
                                                         split_domains=model.split_domains,
                                                         context=model.chart_context(n))))
    notes = "".join(f'<p class="note">{_e(t)}</p>' for t in model.peer_notes)
    return f'<section class="charts" aria-label="Charts"><h2>Scores, peers and agencies</h2>{"".join(parts)}{notes}</section>'


def _domain_figures(row) -> str:
    peers = (f"Gap to the peer median {_score(row.gap_to_median, True)} (median {_score(row.peer_median)}, "
             f"n = {_int(row.n_peers)} peers); to the top quartile {_score(row.gap_to_top_quartile, True)}."
             if not _missing(row.gap_to_median) else
             f"Peer figures not shown (n = {_int(row.n_peers)} comparable peers).")
    if row.verdict in ("", "not comparable", "too few respondents") or _missing(row.change):
        trend = (f"Change since {_e(row.previous_period) or 'the previous round'}: {_e(row.verdict)}"
                 + (f" ({_e(row.break_reason)})" if row.break_reason else "") + "."
                 if row.verdict else "First round: no change to report yet.")
    else:
        trend = (f"Change since {_e(row.previous_period)}: {_score(row.change, True)} (95% interval "
                 f"{_score(row.change_low, True)} to {_score(row.change_high, True)}): {_e(row.verdict)}.")
    agree = ("Agency agreement figures not shown." if _missing(row.agency_gap) else
             f"Agencies' means differ by up to {_score(row.agency_gap)} (SD {_score(row.sd)})"
             + (": <strong>split</strong>, agencies see this domain a level or more apart." if row.split else "."))
    return f"<p>{peers}</p><p>{agree}</p><p>{trend}</p>"


def _domain(model: ResultsModel, row) -> str:
    level = (f"{_score(row.score)} — level {_int(row.level)} {_e(row.level_label)}" if not _missing(row.score)
             else f"not shown ({_e(row.note)})")
    bands = ""
    if row.band_now:
        bands += f'<p class="band"><strong>Now ({_e(row.level_label)}):</strong> {_e(row.band_now)}</p>'
    if row.band_next:
        bands += f'<p class="band"><strong>Next ({_e(row.next_level_label)}):</strong> {_e(row.band_next)}</p>'
    items = model.items[model.items["domain"] == row.domain]
    item_rows = [[_e(i.text), _score(i.mean), _e(i.descriptor_now) or "—", _e(i.descriptor_next) or "—"]
                 for i in items.itertuples()]
    agencies = model.agencies[model.agencies["domain"] == row.domain]
    agency_text = "; ".join(f"{_e(a.agency_name)} {_score(a.score)}" + (f" (n = {_int(a.n_respondents)})")
                            for a in agencies.itertuples() if not a.suppressed)
    actions = model.actions[model.actions["domain"] == row.domain]
    return f"""<section class="domain" aria-label="{_e(row.domain_title)}">
<h2>{_e(row.domain_title)}</h2>
<p><strong>Score:</strong> {level} · respondents n = {_int(row.n_respondents)} · agencies {_int(row.n_agencies)}
· don't know {_pct(row.dk_rate)}</p>
{bands}{_domain_figures(row)}
<p class="note">Agency means: {agency_text or "none shown"}.</p>
<h3>Items: what the current level and the next look like</h3>
{_table(["Item", "Mean", "Now", "Next level"], item_rows, numeric=(1,))}
<h3>Actions</h3>{_action_table(actions) if not actions.empty else '<p class="note">No actions recorded for this domain.</p>'}
</section>"""


def _review(action) -> str:
    """The action's review at the next round's close: when, target met or not, and the change verdict."""
    met, when = getattr(action, "target_met", None), getattr(action, "review_period", None)
    parts = ["" if _missing(when) or not when else f"at {when}",
             {True: "target level met", False: "target level not met"}.get(None if _missing(met) else bool(met), ""),
             "" if _missing(action.verdict) else str(action.verdict)]
    shown = [p for p in parts if p]
    return " · ".join(shown) if shown else "not reviewed yet (reviewed when the next round closes)"


def _action_table(actions: pd.DataFrame) -> str:
    def status(action) -> str:
        late = getattr(action, "overdue", False)
        return _e(action.status) + (" (overdue)" if not _missing(late) and bool(late) else "")

    return _table(["Domain", "What", "Owner", "Target level", "Due", "Status", "Review"],
                  [[_e(a.domain_title), _e(a.what), _e(a.owner), _e(a.target_level), _e(a.due), status(a),
                    _e(_review(a))] for a in actions.itertuples()])


def _data_quality(model: ResultsModel) -> str:
    """Outcome indicators whose police and NHS figures disagree in the period (nothing when none do)."""
    if not model.data_quality_notes:
        return ""
    return "<h3>Data quality</h3><ul>" + "".join(f"<li>{_e(t)}</li>" for t in model.data_quality_notes) + "</ul>\n"


def _appendix(model: ResultsModel) -> str:
    counts = [c for c in model.items.columns if c.startswith("count_")]
    rows = [[_e(i.text), _e(i.answered_by) or "every agency", _score(i.mean), _int(i.n_answered), _int(i.n_dk),
             _int(i.n_na), *(_int(getattr(i, c)) for c in counts)] for i in model.items.itertuples()]
    notes = "".join(f"<li>{_e(t)}</li>" for t in (*model.suppression_notes, *model.peer_notes)) or "<li>None.</li>"
    bands = ", ".join(f"{_e(r.label)} from {r.lower_bound:.2f}" for r in model.bands.itertuples())
    return f"""<section class="appendix" aria-label="Appendix" style="break-before: page">
<h2>Appendix</h2>
<h3>Items and response counts</h3>
{_table(["Item", "Asked of", "Mean", "Answered", "Don't know", "Not applicable", *[c[-1] for c in counts]], rows,
        numeric=tuple(range(2, 6 + len(counts))))}
{_data_quality(model)}<h3>What is not shown, and why</h3><ul>{notes}</ul>
<h3>How the scores are made</h3>
<p>Each respondent rates each item asked of their agency on five cumulative levels (1 Initial to 5 Leading);
"don't know" and "not applicable" are not scored. A respondent's domain score is the weighted mean of their
answered items when they answered enough of the domain. A domain's score is agency-balanced: the mean of each
agency's mean respondent score, so no agency outweighs another because more of its staff answered. The
overall score is the weighted mean of the domain scores. Maturity levels: {bands}.</p>
<p>Figures of a group with fewer than {model.min_group_size} respondents are not shown, nor any figure from
which one could be worked out. Peer figures are the median and quartiles of other partnerships' scores in the
same period on a comparable questionnaire version, shown only when enough partnerships contribute; peers are
never named. A change is reported with a 95% bootstrap interval: "improved" or "declined" only when the whole
interval is above or below zero. Scores are rounded to two decimals, rates to whole percentages.</p>
</section>"""


# -- the document -------------------------------------------------------------------------------------------
def render_html(model: ResultsModel) -> str:
    """The board pack as one self-contained HTML document (UTF-8 text)."""
    c = model.context
    title = f"Board pack: {c.partnership_name}, {c.period}"
    domains = "".join(_domain(model, row) for row in model.domains.itertuples())
    plan = (_action_table(model.actions) if not model.actions.empty
            else '<p class="note">No actions recorded yet for this partnership.</p>')
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{_e(title)}</title>
<meta name="description" content="{_e(title)} (questionnaire {_e(c.version)})"><style>{_CSS}</style></head>
<body><p class="running">{_e(c.partnership_name)} · {_e(c.period)} · questionnaire {_e(c.version)}</p>
<main>{_summary(model)}{_charts(model)}{domains}
<section class="actions" aria-label="Action plan" style="break-before: page"><h2>Action plan</h2>{plan}</section>
{_appendix(model)}</main></body></html>"""


class PdfUnavailable(RuntimeError):
    """WeasyPrint (the ``[pdf]`` extra) or its system libraries are missing; the message says how to add them."""


def pdf_available() -> bool:
    """Whether WeasyPrint and its libraries load (the app offers PDF only then)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def render_pdf(document: str) -> bytes:
    """An HTML document (the board pack or the printable questionnaire) as a tagged PDF (PDF/UA-1)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(PDF_HELP) from exc
    # base_url None and no url_fetcher needed: the document refers to nothing outside itself
    return HTML(string=document).write_pdf(pdf_variant="pdf/ua-1")


def render(model: ResultsModel, fmt: str = "html") -> bytes:
    """The board pack as bytes: ``html`` (UTF-8) or ``pdf``."""
    if fmt not in ("html", "pdf"):
        raise ValueError(f"format must be html or pdf, not {fmt!r}")
    document = render_html(model)
    return document.encode("utf-8") if fmt == "html" else render_pdf(document)
