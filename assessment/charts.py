"""Chart builders: pure functions ``DataFrame -> alt.Chart`` for the app and the board report.

Every builder takes a frame in the column format of the stage that produced it (scoring, peers, trends),
aggregates in pandas first (so a chart never ships per-answer rows to the browser), and returns a chart
with a title, a description (read by screen readers and shown under the chart) and ``n`` in its labels or
tooltips. Colours come from the Okabe-Ito palette, which stays distinguishable under the common forms of
colour blindness (Okabe & Ito, 2008, *Color Universal Design*); categorical marks also vary in shape so
colour is never the only cue.

Builders are tested through ``chart.to_dict()``; they never import streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from assessment.vocabulary import AGENCY_LABELS, agency_label

__all__ = [
    "AGENCY_COLOURS",
    "ANSWER_COLOURS",
    "OKABE_ITO",
    "VERDICT_COLOURS",
    "build_agency_chart",
    "build_association_chart",
    "build_domain_scores_chart",
    "build_gap_chart",
    "build_item_distribution_chart",
    "build_portfolio_chart",
    "build_region_distribution_chart",
    "build_region_heatmap",
    "build_trend_chart",
    "strengths_and_priorities",
]

#: Okabe-Ito colour-blind-safe palette (Okabe & Ito, 2008).
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
GREY = "#999999"
LIGHT_GREY = "#DDDDDD"

#: One fixed colour per agency, the same in every chart; the ninth agency ("other") is grey.
AGENCY_COLOURS = dict(
    zip(
        AGENCY_LABELS.values(),
        [*(OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange",
                                   "sky_blue", "yellow", "black")), GREY],
        strict=True,
    )
)
_AGENCY_SHAPES = ["circle", "square", "diamond", "triangle-up", "triangle-down", "cross",
                  "triangle-left", "triangle-right", "stroke"]

#: Answer categories of the five-level scale, from lowest to highest, then DK and NA.
ANSWER_COLOURS = {
    "1": OKABE_ITO["vermillion"],
    "2": OKABE_ITO["orange"],
    "3": OKABE_ITO["yellow"],
    "4": OKABE_ITO["sky_blue"],
    "5": OKABE_ITO["blue"],
    "Don't know": GREY,
    "Not applicable": LIGHT_GREY,
}

VERDICT_COLOURS = {
    "improved": OKABE_ITO["blue"],
    "no clear change": LIGHT_GREY,
    "declined": OKABE_ITO["vermillion"],
    "too few respondents": "#F7F7F7",
    "not comparable": OKABE_ITO["yellow"],
    "first round": "#FFFFFF",
}
_VERDICT_SYMBOLS = {
    "improved": "▲",
    "declined": "▼",
    "no clear change": "●",
    "too few respondents": "n<5",
    "not comparable": "≠",
    "first round": "–",
}

_SCALE_DOMAIN = [1, 5]
_FONT = "Source Sans Pro, Arial, sans-serif"
_LEVEL_TICKS = alt.Axis(values=[1, 2, 3, 4, 5])


# -- helpers ---------------------------------------------------------------------------------------
def _require(frame: pd.DataFrame, columns: Sequence[str], builder: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{builder}: the frame has no column(s) {', '.join(missing)}")


def _with_titles(frame: pd.DataFrame, titles: Mapping[str, str] | None) -> pd.DataFrame:
    """Add ``domain_title`` (from ``titles`` or an existing column, falling back to the domain id)."""
    out = frame.copy()
    out["domain"] = out["domain"].astype(str)  # stored frames may hold categories
    if titles is not None:
        out["domain_title"] = out["domain"].map(lambda d: titles.get(d, d)).astype(str)
        # Rows in the order of ``titles`` (the questionnaire's order), whatever order the frame came in.
        position = {d: i for i, d in enumerate(titles)}
        out = out.iloc[np.argsort(out["domain"].map(position).fillna(len(position)).to_numpy(), kind="stable")]
    elif "domain_title" not in out.columns:
        out["domain_title"] = out["domain"]
    else:
        out["domain_title"] = out["domain_title"].astype(str)
    return out


def _order(values: pd.Series) -> list[str]:
    """Categories in order of first appearance (questionnaire order, not alphabetical)."""
    return list(dict.fromkeys(values.astype(str).tolist()))


def _round(series: pd.Series, digits: int = 2) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype(float).round(digits)


def _finish(chart, title: str, subtitle: str, description: str, context: str = ""):
    """Title, subtitle and description; ``context`` (partnership · period · questionnaire · peer group · n)
    becomes the subtitle's first line, so a chart saved on its own still says what it shows."""
    lines = [context, subtitle] if context else subtitle
    return chart.properties(
        title=alt.Title(title, subtitle=lines, anchor="start", font=_FONT),
        description=description,
    ).configure_view(stroke=None)


def _score_axis(field: str, title: str = "Score (1 = Initial … 5 = Leading)") -> alt.X:
    return alt.X(field, title=title, scale=alt.Scale(domain=_SCALE_DOMAIN, nice=False), axis=_LEVEL_TICKS)


# -- results ---------------------------------------------------------------------------------------
def build_domain_scores_chart(partnership_scores: pd.DataFrame, *, titles: Mapping[str, str] | None = None,
                              partnership: str = "", context: str = "",
                              thresholds: Sequence[tuple[float, str]] = ()) -> alt.Chart:
    """Horizontal bars of a partnership's domain scores with their maturity level and n.

    ``partnership_scores`` is ``Scores.partnerships`` for one partnership and round (suppressed figures
    already blanked). Suppressed or unscored domains keep their row with no bar. ``thresholds`` are the
    maturity bands' ``(lower_bound, label)``: each is drawn as a dashed vertical line labelled at the top.
    """
    _require(partnership_scores, ("domain", "score", "level_label", "n_respondents"), "build_domain_scores_chart")
    data = _with_titles(partnership_scores, titles)
    data = data.assign(score=_round(data["score"]), n_respondents=data["n_respondents"].fillna(0).astype(int),
                       level_label=data["level_label"].fillna("").astype(str))
    split = data["split"].fillna(False).astype(bool) if "split" in data else pd.Series(False, index=data.index)
    data["label"] = np.where(data["score"].notna(),
                             data["score"].map("{:.2f}".format) + " " + data["level_label"]
                             + np.where(split, " (split)", ""),
                             "not shown")
    data["label_x"] = data["score"].fillna(_SCALE_DOMAIN[0])
    data = data[["domain_title", "score", "level_label", "n_respondents", "label", "label_x"]]
    y = alt.Y("domain_title:N", sort=_order(data["domain_title"]), title=None, axis=alt.Axis(labelLimit=260))
    base = alt.Chart(data)
    # The scale runs on past 5 so the labels after the longest bars have room.
    x = alt.X("score:Q", title="Score (1 = Initial … 5 = Leading)", axis=_LEVEL_TICKS,
              scale=alt.Scale(domain=[_SCALE_DOMAIN[0], _SCALE_DOMAIN[1] + 1.2], nice=False))
    bars = base.mark_bar(color=OKABE_ITO["blue"], height={"band": 0.7}).encode(
        x=x, x2=alt.datum(_SCALE_DOMAIN[0]), y=y,
        tooltip=[alt.Tooltip("domain_title:N", title="Domain"), alt.Tooltip("score:Q", title="Score", format=".2f"),
                 alt.Tooltip("level_label:N", title="Maturity level"),
                 alt.Tooltip("n_respondents:Q", title="Respondents (n)")],
    )
    labels = base.mark_text(align="left", dx=4, font=_FONT).encode(x="label_x:Q", y=y, text="label:N")
    layers = [bars, labels]
    cuts = [(float(b), str(label)) for b, label in thresholds if _SCALE_DOMAIN[0] < float(b) <= _SCALE_DOMAIN[1]]
    if cuts:
        bands = pd.DataFrame(cuts, columns=["bound", "band"])
        rule = alt.Chart(bands).mark_rule(color=GREY, strokeDash=[4, 3]).encode(
            x="bound:Q", tooltip=[alt.Tooltip("band:N", title="Maturity level"),
                                  alt.Tooltip("bound:Q", title="From score", format=".2f")])
        text = alt.Chart(bands).mark_text(align="left", baseline="bottom", dx=2, dy=-2, fontSize=9, color="#555555",
                                          font=_FONT).encode(x="bound:Q", y=alt.value(0), text="band:N")
        layers = [rule, *layers, text]
    n = int(data["n_respondents"].max()) if len(data) else 0
    return _finish(
        alt.layer(*layers, data=data).properties(width="container", height=alt.Step(26)),
        f"{partnership}: domain scores and maturity levels" if partnership else "Domain scores and maturity levels",
        f"Agency-balanced score per domain; dashed lines = where each maturity level starts; up to n = {n} "
        "respondents per domain",
        "Bar chart of the partnership's score in each domain on the 1 to 5 scale, labelled with the score "
        "and maturity level, with a dashed line where each maturity level starts. Domains with too few "
        "respondents are listed without a bar.",
        context,
    )


def build_gap_chart(comparison: pd.DataFrame, *, titles: Mapping[str, str] | None = None,
                    peer_group_label: str = "all partnerships", context: str = "",
                    sort_by_gap: bool = False) -> alt.Chart:
    """Own score against the peer group's median and interquartile range, per domain (a dumbbell).

    ``comparison`` is the frame of :func:`assessment.peers.compare_with_peers`. For each domain the chart
    draws the peers' interquartile range (Q1–Q3) as a band, the peer median as a tick, the partnership's
    own score as a diamond and a line from the median to the own score (the gap). Labels give the gap to
    the median and to the top quartile (own − Q3). Suppressed peer figures are left out of the marks.
    The diamond itself is coloured by its side of the median; the legend sits above the plot.
    ``sort_by_gap`` puts the largest gap below the median first (domains without a gap last).
    """
    _require(comparison, ("domain", "score", "median", "q1", "q3", "n_peers", "gap_to_median",
                          "gap_to_top_quartile"), "build_gap_chart")
    data = _with_titles(comparison, titles)
    suppressed = data["suppressed"].fillna(False).astype(bool) if "suppressed" in data else False
    for col in ("score", "median", "q1", "q3", "gap_to_median", "gap_to_top_quartile"):
        data[col] = _round(data[col])
    for col in ("median", "q1", "q3", "gap_to_median", "gap_to_top_quartile"):
        data.loc[suppressed, col] = np.nan
    data["n_peers"] = pd.to_numeric(data["n_peers"], errors="coerce").fillna(0).astype(int)
    # Only the figures the disclosure rule let through are labelled (a quartile needs more peers than a median).
    top = np.where(data["gap_to_top_quartile"].notna(),
                   " · vs top quartile " + data["gap_to_top_quartile"].map("{:+.2f}".format), "")
    data["gap_label"] = np.where(
        data["gap_to_median"].notna(),
        "vs median " + data["gap_to_median"].map("{:+.2f}".format) + top + " · n = " + data["n_peers"].astype(str),
        "peer figures not shown (fewer than the minimum peers)",
    )
    data["direction"] = np.select(
        [data["gap_to_median"] > 0, data["gap_to_median"] < 0], ["above median", "below median"], "at median"
    )
    data = data[["domain_title", "score", "median", "q1", "q3", "n_peers", "gap_to_median",
                 "gap_to_top_quartile", "gap_label", "direction"]]
    if sort_by_gap:
        data = data.iloc[np.argsort(data["gap_to_median"].fillna(np.inf).to_numpy(), kind="stable")]
    y = alt.Y("domain_title:N", sort=_order(data["domain_title"]), title=None, axis=alt.Axis(labelLimit=260))
    tooltip = [
        alt.Tooltip("domain_title:N", title="Domain"),
        alt.Tooltip("score:Q", title="Own score", format=".2f"),
        alt.Tooltip("median:Q", title="Peer median", format=".2f"),
        alt.Tooltip("q1:Q", title="Peer Q1", format=".2f"),
        alt.Tooltip("q3:Q", title="Peer Q3", format=".2f"),
        alt.Tooltip("gap_to_median:Q", title="Gap to median", format="+.2f"),
        alt.Tooltip("gap_to_top_quartile:Q", title="Gap to top quartile", format="+.2f"),
        alt.Tooltip("n_peers:Q", title="Peers (n)"),
    ]
    base = alt.Chart(data)
    iqr = base.mark_bar(color=OKABE_ITO["sky_blue"], opacity=0.45, height={"band": 0.55}).encode(
        x=_score_axis("q1:Q"), x2="q3:Q", y=y, tooltip=tooltip
    )
    direction = alt.Color("direction:N", title="Own score",
                          scale=alt.Scale(domain=["above median", "below median", "at median"],
                                          range=[OKABE_ITO["blue"], OKABE_ITO["vermillion"], GREY]),
                          legend=alt.Legend(orient="top", direction="horizontal"))
    gap = base.mark_rule(strokeWidth=2.5).encode(x="median:Q", x2="score:Q", y=y, color=direction, tooltip=tooltip)
    median = base.mark_tick(color=OKABE_ITO["black"], thickness=2, size=18).encode(x="median:Q", y=y,
                                                                                   tooltip=tooltip)
    # the own score's marker carries the above/below colour itself (with a dark outline for contrast)
    own = base.mark_point(shape="diamond", filled=True, size=150, stroke=OKABE_ITO["black"], strokeWidth=0.8,
                          opacity=1).encode(x="score:Q", y=y, color=direction, tooltip=tooltip)
    text = base.mark_text(align="left", baseline="top", dy=9, fontSize=10, color="#333333", font=_FONT).encode(
        x=alt.value(0), y=y, text="gap_label:N"
    )
    n_max = int(data["n_peers"].max()) if len(data) else 0
    return _finish(
        alt.layer(iqr, gap, median, own, text, data=data).properties(width="container", height=alt.Step(44)),
        f"Gap to peers: {peer_group_label}",
        f"Diamond = own score (blue above, vermillion below the median); tick = peer median; band = peer "
        f"interquartile range; up to n = {n_max} peers",
        "Dumbbell chart per domain: the partnership's own score (diamond) against the peer group's median "
        "(tick) and interquartile range (shaded band). The diamond and the line joining it to the median are "
        "blue when above the median and vermillion when below; labels give the gaps to the median and top "
        "quartile.",
        context,
    )


def build_agency_chart(agency_scores: pd.DataFrame, *, titles: Mapping[str, str] | None = None,
                       split_domains: Sequence[str] = (), context: str = "") -> alt.Chart:
    """Each agency's mean score per domain (a dot plot), with split domains flagged.

    ``agency_scores`` is ``Scores.agencies`` for one partnership and round. Suppressed agency figures
    (``suppressed`` true) are left out; the caller lists them with their reason beside the chart.
    ``split_domains`` are domain ids flagged split (agency gap or SD of one level or more).
    """
    _require(agency_scores, ("domain", "agency", "score", "n_respondents"), "build_agency_chart")
    data = _with_titles(agency_scores, titles)
    order = _order(data["domain_title"])
    split = set(split_domains)
    flag = {t: f"{t} ⚑ split" for t in data.loc[data["domain"].isin(split), "domain_title"]}
    order = [flag.get(t, t) for t in order]
    data["domain_title"] = data["domain_title"].map(lambda t: flag.get(t, t))
    if "suppressed" in data:
        data = data[~data["suppressed"].fillna(False).astype(bool)]
    data = data[data["score"].notna()].assign(
        score=lambda d: _round(d["score"]),
        agency_name=lambda d: d["agency"].astype(str).map(agency_label).astype(str),
        n_respondents=lambda d: d["n_respondents"].astype(int),
        split=lambda d: d["domain"].isin(split),
    )[["domain_title", "agency_name", "score", "n_respondents", "split"]]
    agencies = [a for a in AGENCY_COLOURS if a in set(data["agency_name"])]
    extra = sorted(set(data["agency_name"]) - set(agencies))
    agencies += extra
    colours = [AGENCY_COLOURS.get(a, GREY) for a in agencies]
    shapes = [_AGENCY_SHAPES[list(AGENCY_COLOURS).index(a)] if a in AGENCY_COLOURS else "circle"
              for a in agencies]
    y = alt.Y("domain_title:N", sort=order, scale=alt.Scale(domain=order), title=None,
              axis=alt.Axis(labelLimit=280))
    base = alt.Chart(data)
    spread = base.mark_rule(color=LIGHT_GREY, strokeWidth=6).encode(
        x=alt.X("min(score):Q", title="Agency mean score (1 … 5)", scale=alt.Scale(domain=_SCALE_DOMAIN, nice=False),
                  axis=_LEVEL_TICKS),
        x2="max(score):Q", y=y,
    )
    dots = base.mark_point(filled=True, size=110, opacity=0.9).encode(
        x="score:Q", y=y,
        color=alt.Color("agency_name:N", title="Agency", scale=alt.Scale(domain=agencies, range=colours),
                        legend=alt.Legend(orient="bottom", columns=3)),
        shape=alt.Shape("agency_name:N", title="Agency", scale=alt.Scale(domain=agencies, range=shapes),
                        legend=alt.Legend(orient="bottom", columns=3)),
        tooltip=[alt.Tooltip("domain_title:N", title="Domain"), alt.Tooltip("agency_name:N", title="Agency"),
                 alt.Tooltip("score:Q", title="Agency mean", format=".2f"),
                 alt.Tooltip("n_respondents:Q", title="Respondents (n)")],
    )
    total = int(data.groupby("agency_name")["n_respondents"].max().sum()) if len(data) else 0
    return _finish(
        alt.layer(spread, dots, data=data).properties(width="container", height=alt.Step(28)),
        "How each agency sees the partnership",
        f"Mean score per agency and domain; ⚑ split = agencies differ by a level or more; n = {total} "
        "respondents in shown groups",
        "Dot plot per domain: one coloured, shaped mark per agency at that agency's mean score; the grey bar "
        "spans the lowest to the highest agency. Domains where agencies differ by one level or more are "
        "marked split. Agencies with too few respondents are not shown.",
        context,
    )


def build_item_distribution_chart(items: pd.DataFrame, *, item_texts: Mapping[str, str] | None = None,
                                  context: str = "") -> alt.Chart:
    """Stacked bars of the answer distribution of each item: levels 1–5, Don't know and Not applicable.

    ``items`` is ``Scores.items`` (one partnership and round, optionally one domain). Shares are of all
    answers given to the item; n (answers including DK and NA) is in the tooltip and the label.
    """
    counts = [f"count_{k}" for k in range(1, 6)]
    _require(items, ("item", *counts, "n_dk", "n_na"), "build_item_distribution_chart")
    frame = items.copy()
    frame["item"] = frame["item"].astype(str)
    frame["item_label"] = frame["item"].map(lambda i: (item_texts or {}).get(i, i)).astype(str)
    long = frame.melt(id_vars=["item", "item_label"], value_vars=[*counts, "n_dk", "n_na"],
                      var_name="category", value_name="count")
    long["category"] = long["category"].map(
        lambda c: {"n_dk": "Don't know", "n_na": "Not applicable"}.get(c, c.removeprefix("count_"))
    )
    long["count"] = pd.to_numeric(long["count"], errors="coerce").fillna(0).astype(int)
    total = long.groupby("item")["count"].transform("sum")
    long["share"] = np.where(total > 0, long["count"] / total.where(total > 0, 1), 0.0).round(4)
    long["n"] = total.astype(int)
    long["order"] = long["category"].map({c: i for i, c in enumerate(ANSWER_COLOURS)})
    long["item_label"] = long["item_label"] + " (n = " + long["n"].astype(str) + ")"
    order = _order(long["item_label"])
    chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("share:Q", stack="normalize", title="Share of answers", axis=alt.Axis(format="%")),
        y=alt.Y("item_label:N", sort=order, title=None, axis=alt.Axis(labelLimit=420)),
        color=alt.Color("category:N", title="Answer", sort=list(ANSWER_COLOURS),
                        scale=alt.Scale(domain=list(ANSWER_COLOURS), range=list(ANSWER_COLOURS.values())),
                        legend=alt.Legend(orient="bottom", direction="horizontal")),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("item_label:N", title="Item"), alt.Tooltip("category:N", title="Answer"),
                 alt.Tooltip("count:Q", title="Answers"), alt.Tooltip("share:Q", title="Share", format=".0%"),
                 alt.Tooltip("n:Q", title="All answers (n)")],
    ).properties(width="container", height=alt.Step(24))
    return _finish(
        chart,
        "How respondents answered each item",
        "Levels 1 (Initial) to 5 (Leading), Don't know and Not applicable; n = answers per item",
        "Stacked horizontal bars, one per item, showing the share of answers at each level from 1 to 5, "
        "don't know and not applicable. The number of answers is given after each item.",
        context,
    )


# -- regions ---------------------------------------------------------------------------------------
def _regions_only(regions: pd.DataFrame) -> pd.DataFrame:
    if "scope" in regions.columns and (regions["scope"] == "region").any():
        return regions[regions["scope"] == "region"]
    return regions


def build_region_heatmap(regions: pd.DataFrame, *, titles: Mapping[str, str] | None = None) -> alt.Chart:
    """Region × domain heatmap of the median partnership score, with n partnerships in every cell.

    ``regions`` is the long frame of :func:`assessment.peers.compare_regions`. Region rows give one column
    each; nation rows (when present) give a national median column per nation, first. The highest shown
    region median of each domain is marked ★ (:func:`assessment.peers.strongest_regions`). Suppressed cells
    (too few partnerships) are drawn blank, with their n.
    """
    _require(regions, ("region", "domain", "partnerships", "median"), "build_region_heatmap")
    data = _with_titles(_heatmap_columns(regions), titles)
    suppressed = data["suppressed"].fillna(False).astype(bool) if "suppressed" in data else False
    data["median"] = _round(data["median"])
    data.loc[suppressed, "median"] = np.nan
    data["partnerships"] = pd.to_numeric(data["partnerships"], errors="coerce").fillna(0).astype(int)
    n_text = "n=" + data["partnerships"].astype(str)
    star = np.where(data["strongest"], "★ ", "")
    data["label"] = np.where(data["median"].notna(), star + data["median"].map("{:.1f}".format) + " · " + n_text,
                             n_text)
    data["best"] = np.where(data["strongest"], "highest region in this domain", "")
    order = list(dict.fromkeys(data["region"]))
    data = data[["region", "domain_title", "median", "partnerships", "label", "best"]]
    # Domains down the side (long names read horizontally), national columns first, then regions A-Z.
    y = alt.Y("domain_title:N", sort=_order(data["domain_title"]), title=None, axis=alt.Axis(labelLimit=280))
    x = alt.X("region:N", title=None, sort=order,
              axis=alt.Axis(labelAngle=-40, labelLimit=180, labelOverlap=False, orient="top"))
    tooltip = [alt.Tooltip("region:N", title="Region"), alt.Tooltip("domain_title:N", title="Domain"),
               alt.Tooltip("median:Q", title="Median score", format=".2f"),
               alt.Tooltip("partnerships:Q", title="Partnerships (n)"), alt.Tooltip("best:N", title="Note")]
    base = alt.Chart(data)
    # The cells are decoration for screen readers (aria=False): each cell's text mark reads its value or n, and
    # an empty layer (every cell suppressed) would otherwise be an unlabelled graphic (axe: svg-img-alt).
    blank = base.mark_rect(color="#F2F2F2", stroke="white", aria=False).encode(x=x, y=y, tooltip=tooltip)
    cells = base.mark_rect(stroke="white", aria=False).encode(
        x=x, y=y,
        color=alt.Color("median:Q", title="Median score",
                        scale=alt.Scale(scheme="viridis", domain=_SCALE_DOMAIN)),
        tooltip=tooltip,
    )
    text = base.mark_text(fontSize=10, font=_FONT).encode(
        x=x, y=y, text="label:N",
        color=alt.condition("datum.median > 3.2 || !isValid(datum.median)", alt.value("black"), alt.value("white")),
    )
    return _finish(
        alt.layer(blank, cells, text, data=data).properties(width="container", height=alt.Step(30)),
        "Median partnership score by region and domain",
        "Colour = median score (viridis); each cell gives n partnerships; ★ = highest region in the domain; "
        "blank cells have too few partnerships to show",
        "Heatmap with one row per domain, a national median column per nation, then one column per region; each "
        "cell's colour and label give the median score and the number of partnerships; the highest region in "
        "each domain is starred. Cells with too few partnerships are blank.",
    )


def _heatmap_columns(regions: pd.DataFrame) -> pd.DataFrame:
    """Heatmap rows: nation rows as '<nation> (national median)' columns first, then the regions A-Z, each
    with a ``strongest`` flag (the highest shown region median of its domain)."""
    from assessment.peers import strongest_regions

    if "scope" not in regions.columns:
        return regions.assign(region=regions["region"].astype(str), strongest=False)
    nations = regions[regions["scope"] == "nation"].assign(
        region=lambda f: f["nation"].astype(str) + " (national median)", strongest=False)
    areas = regions[regions["scope"] == "region"].sort_values("region", kind="stable")
    best = strongest_regions(regions)
    keys = set(zip(best["domain"], best["region"], strict=True))
    areas = areas.assign(region=areas["region"].astype(str),
                         strongest=[(d, r) in keys for d, r in zip(areas["domain"], areas["region"], strict=True)])
    return pd.concat([nations, areas], ignore_index=True)


def build_region_distribution_chart(regions: pd.DataFrame, *, titles: Mapping[str, str] | None = None,
                                    columns: int = 3) -> alt.FacetChart:
    """Spread of partnership scores per region, one small panel per domain.

    Uses the region rows of :func:`assessment.peers.compare_regions`: the interquartile range (Q1–Q3) as a
    bar and the median as a tick, so no single partnership is shown. Layers are faceted with
    ``alt.layer(..., data=...).facet(...)`` (layers cannot carry row/column encodings).
    """
    _require(regions, ("region", "domain", "partnerships", "median", "q1", "q3"), "build_region_distribution_chart")
    data = _with_titles(_regions_only(regions), titles)
    if "suppressed" in data:
        data = data[~data["suppressed"].fillna(False).astype(bool)]
    for col in ("median", "q1", "q3"):
        data[col] = _round(data[col])
    data = data[data["median"].notna()]
    data["partnerships"] = data["partnerships"].astype(int)
    data = data[["region", "domain_title", "median", "q1", "q3", "partnerships"]]
    y = alt.Y("region:N", title=None, sort=sorted(data["region"].astype(str).unique()))
    tooltip = [alt.Tooltip("region:N", title="Region"), alt.Tooltip("domain_title:N", title="Domain"),
               alt.Tooltip("median:Q", title="Median", format=".2f"), alt.Tooltip("q1:Q", title="Q1", format=".2f"),
               alt.Tooltip("q3:Q", title="Q3", format=".2f"), alt.Tooltip("partnerships:Q", title="Partnerships (n)")]
    iqr = alt.Chart().mark_bar(color=OKABE_ITO["sky_blue"], height=10).encode(
        x=alt.X("q1:Q", title="Score", scale=alt.Scale(domain=_SCALE_DOMAIN, nice=False), axis=_LEVEL_TICKS),
        x2="q3:Q", y=y,
        tooltip=tooltip,
    )
    median = alt.Chart().mark_tick(color=OKABE_ITO["black"], thickness=2, size=14).encode(
        x="median:Q", y=y, tooltip=tooltip
    )
    chart = alt.layer(iqr, median, data=data).properties(width=220, height=alt.Step(20)).facet(
        facet=alt.Facet("domain_title:N", title=None, sort=_order(data["domain_title"]),
                        header=alt.Header(labelFontWeight="bold", labelLimit=220)),
        columns=columns,
    )
    return _finish(
        chart,
        "Spread of partnership scores by region",
        "Bar = interquartile range (middle half of partnerships); tick = median; n partnerships in the tooltip",
        "One panel per domain; in each, one row per region with a bar from the lower to the upper quartile "
        "of its partnerships' scores and a tick at the median.",
    )


# -- trends and portfolio --------------------------------------------------------------------------
# Trend points: improved and declined stand out by colour (and by shape, for those who cannot tell colours).
_TREND_POINT_COLOURS = {"improved": OKABE_ITO["blue"], "declined": OKABE_ITO["vermillion"],
                        "no clear change": "#666666", "not comparable": "#666666",
                        "too few respondents": "#666666", "first round": "#666666"}
_TREND_POINT_SHAPES = {"improved": "triangle-up", "declined": "triangle-down"}


def build_trend_chart(trends: pd.DataFrame, *, titles: Mapping[str, str] | None = None,
                      columns: int = 3, context: str = "") -> alt.FacetChart:
    """Domain scores across rounds with 95% intervals; a dashed rule marks a comparability break.

    ``trends`` is the frame of :func:`assessment.trends.domain_trends`. Lines only join rounds that are
    comparable (each comparable run is its own line segment); where ``comparable_with_previous`` is false
    a dashed vertical rule is drawn at that period with the reason in its tooltip. Each point is coloured
    by its change verdict: improved (blue, ▲) and declined (vermillion, ▼) stand out from the grey rest.
    """
    _require(trends, ("period", "domain", "score", "comparable_with_previous"), "build_trend_chart")
    data = _with_titles(trends, titles)
    domain_order = _order(data["domain_title"])
    data = data.sort_values(["domain", "period"], kind="stable").reset_index(drop=True)
    for col in ("score", "ci_low", "ci_high"):
        data[col] = _round(data[col]) if col in data else np.nan
    comparable = data["comparable_with_previous"].astype("boolean").fillna(True).astype(bool)
    first = ~data["domain"].duplicated()
    data["break"] = ~comparable & ~first
    data["segment"] = data.groupby("domain")["break"].cumsum().astype(int)
    data["n_respondents"] = (pd.to_numeric(data["n_respondents"], errors="coerce").fillna(0).astype(int)
                             if "n_respondents" in data else 0)
    for col in ("break_reason", "verdict", "version"):
        data[col] = data[col].fillna("").astype(str) if col in data else ""
    data["change_shown"] = data["verdict"].replace("", "first round")
    data = data[["domain_title", "period", "version", "score", "ci_low", "ci_high", "n_respondents", "segment",
                 "break", "break_reason", "verdict", "change_shown"]]
    shown = [v for v in _TREND_POINT_COLOURS if v in set(data["change_shown"])] + sorted(
        set(data["change_shown"]) - set(_TREND_POINT_COLOURS))
    periods = sorted(data["period"].astype(str).unique())
    x = alt.X("period:O", title="Round (period)", sort=periods, axis=alt.Axis(labelAngle=0))
    score_y = alt.Y("score:Q", title="Score", scale=alt.Scale(domain=_SCALE_DOMAIN, nice=False), axis=_LEVEL_TICKS)
    tooltip = [alt.Tooltip("domain_title:N", title="Domain"), alt.Tooltip("period:O", title="Period"),
               alt.Tooltip("version:N", title="Questionnaire version"),
               alt.Tooltip("score:Q", title="Score", format=".2f"),
               alt.Tooltip("ci_low:Q", title="95% interval low", format=".2f"),
               alt.Tooltip("ci_high:Q", title="95% interval high", format=".2f"),
               alt.Tooltip("n_respondents:Q", title="Respondents (n)"),
               alt.Tooltip("verdict:N", title="Change")]
    line = alt.Chart().mark_line(color=GREY, strokeWidth=2).encode(
        x=x, y=score_y, detail="segment:N"
    )
    bars = alt.Chart().mark_rule(color=OKABE_ITO["sky_blue"], strokeWidth=4, opacity=0.8).encode(
        x=x, y=alt.Y("ci_low:Q", scale=alt.Scale(domain=_SCALE_DOMAIN, nice=False), title="Score"), y2="ci_high:Q",
        tooltip=tooltip,
    )
    points = alt.Chart().mark_point(filled=True, size=70, opacity=1).encode(
        x=x, y=score_y, tooltip=tooltip,
        color=alt.Color("change_shown:N", title="Change since the previous round", scale=alt.Scale(
            domain=shown, range=[_TREND_POINT_COLOURS.get(v, GREY) for v in shown])),
        shape=alt.Shape("change_shown:N", title="Change since the previous round", scale=alt.Scale(
            domain=shown, range=[_TREND_POINT_SHAPES.get(v, "circle") for v in shown])),
    )
    breaks = alt.Chart().transform_filter("datum['break']").mark_rule(  # aria=False: the description says it
        color=OKABE_ITO["vermillion"], strokeDash=[5, 4], strokeWidth=2, xOffset=-20, aria=False
    ).encode(x=x, tooltip=[alt.Tooltip("period:O", title="Break before"),
                           alt.Tooltip("break_reason:N", title="Not comparable because")])
    chart = alt.layer(bars, line, points, breaks, data=data).properties(width=220, height=150).facet(
        facet=alt.Facet("domain_title:N", title=None, sort=domain_order,
                        header=alt.Header(labelFontWeight="bold", labelLimit=220)),
        columns=columns,
    )
    return _finish(
        chart,
        "Domain scores across rounds",
        "Points = score with 95% bootstrap interval, blue ▲ improved, vermillion ▼ declined; dashed vermillion "
        "line = questionnaire change, not comparable",
        "One panel per domain showing the score in each round with its 95% interval; a point is blue when the "
        "domain improved and vermillion when it declined since the previous round. Lines join only rounds "
        "that can be compared; a dashed vertical line marks a break where the questionnaire changed.",
        context,
    )


def build_portfolio_chart(portfolio: pd.DataFrame, *, titles: Mapping[str, str] | None = None,
                          context: str = "") -> alt.Chart:
    """Partnership × domain grid of the latest change verdicts (listed alphabetically; never ranked).

    ``portfolio`` is the wide frame of :func:`assessment.trends.portfolio` (partnership, nation, region and
    one column per domain holding its verdict) or the same in long form (partnership, domain, verdict), such
    as :func:`assessment.trends.portfolio_changes`, whose change and 95% interval then show on hover.
    """
    if "verdict" not in portfolio.columns and "partnership" in portfolio.columns:
        domains = [c for c in portfolio.columns if c not in ("partnership", "name", "nation", "region")]
        portfolio = portfolio.melt(id_vars=["partnership"], value_vars=domains, var_name="domain",
                                   value_name="verdict")
    _require(portfolio, ("partnership", "domain", "verdict"), "build_portfolio_chart")
    data = _with_titles(portfolio, titles)
    data["verdict"] = data["verdict"].astype("string").fillna("").astype(str).replace("", "first round")
    data["partnership"] = data["partnership"].astype(str)
    data["symbol"] = data["verdict"].map(lambda v: _VERDICT_SYMBOLS.get(v, "?"))
    for col in ("change", "change_low", "change_high"):
        data[col] = _round(data[col]) if col in data else np.nan
    data = data[["partnership", "domain_title", "verdict", "symbol", "change", "change_low", "change_high"]]
    verdicts = [v for v in VERDICT_COLOURS if v in set(data["verdict"])] + sorted(
        set(data["verdict"]) - set(VERDICT_COLOURS))
    x = alt.X("domain_title:N", sort=_order(data["domain_title"]), title=None,
              axis=alt.Axis(labelAngle=-40, labelLimit=200, labelOverlap=False, orient="top"))
    y = alt.Y("partnership:N", sort="ascending", title=None, axis=alt.Axis(labelLimit=280))
    tooltip = [alt.Tooltip("partnership:N", title="Partnership"), alt.Tooltip("domain_title:N", title="Domain"),
               alt.Tooltip("verdict:N", title="Latest change"),
               alt.Tooltip("change:Q", title="Size of change", format="+.2f"),
               alt.Tooltip("change_low:Q", title="95% interval low", format="+.2f"),
               alt.Tooltip("change_high:Q", title="95% interval high", format="+.2f")]
    base = alt.Chart(data)
    cells = base.mark_rect(stroke="#BBBBBB", strokeWidth=0.5).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("verdict:N", title="Latest change",
                        scale=alt.Scale(domain=verdicts, range=[VERDICT_COLOURS.get(v, GREY) for v in verdicts])),
    )
    text = base.mark_text(fontSize=10, font=_FONT).encode(
        x=x, y=y, text="symbol:N",
        color=alt.condition("datum.verdict == 'improved' || datum.verdict == 'declined'",
                            alt.value("white"), alt.value("black")),
    )
    n = data["partnership"].nunique()
    return _finish(
        alt.layer(cells, text, data=data).properties(width="container", height=alt.Step(20)),
        "Latest change per partnership and domain",
        f"▲ improved, ▼ declined, ● no clear change (95% interval); partnerships in alphabetical order; n = {n}",
        "Grid with one row per partnership (alphabetical, not ranked) and one column per domain; each cell "
        "shows whether the domain improved, declined or showed no clear change since the previous round; "
        "hovering a cell gives the size of the change and its 95% interval.",
        context,
    )


# -- tables beside the charts ----------------------------------------------------------------------------
def strengths_and_priorities(partnership_scores: pd.DataFrame, *, titles: Mapping[str, str] | None = None,
                             n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` highest-scoring domains (strengths) and the ``n`` lowest (priorities) of one round.

    Only shown scores count (suppressed figures blanked first); ties keep the questionnaire's order. A
    domain is never both: priorities are taken from the domains that are not strengths. Each table has
    domain, domain_title, score, level_label and split (agencies see the domain a level or more apart).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    _require(partnership_scores, ("domain", "score"), "strengths_and_priorities")
    data = _with_titles(partnership_scores, titles)
    data = data[pd.to_numeric(data["score"], errors="coerce").notna()].copy()
    data["score"] = data["score"].astype(float)
    data["level_label"] = data["level_label"].fillna("").astype(str) if "level_label" in data else ""
    data["split"] = data["split"].astype("boolean").fillna(False).astype(bool) if "split" in data else False
    data["_order"] = np.arange(len(data))
    columns = ["domain", "domain_title", "score", "level_label", "split"]
    strengths = data.sort_values(["score", "_order"], ascending=[False, True], kind="stable").head(n)
    rest = data[~data.index.isin(strengths.index)]
    priorities = rest.sort_values(["score", "_order"], kind="stable").head(n)
    return strengths[columns].reset_index(drop=True), priorities[columns].reset_index(drop=True)


def build_association_chart(points: pd.DataFrame, *, score_title: str, value_title: str) -> alt.Chart:
    """Scatter of a domain score (x) against an indicator figure (y), one labelled point per partnership.

    ``points`` holds only partnerships that agreed to be named (columns ``name``, ``score``, ``value``): the
    caller leaves the others out, because a force's published figures could identify an unnamed point.
    The chart shows how the two go together; it is titled as an association, never an effect.
    """
    _require(points, ("name", "score", "value"), "build_association_chart")
    data = points[["name", "score", "value"]].astype({"name": str, "score": float, "value": float})
    base = alt.Chart(data).encode(
        x=alt.X("score:Q", title=f"{score_title} (score)", scale=alt.Scale(domain=[1, 5])),
        y=alt.Y("value:Q", title=value_title),
        tooltip=[alt.Tooltip("name:N", title="Partnership"), alt.Tooltip("score:Q", title="Score", format=".2f"),
                 alt.Tooltip("value:Q", title=value_title, format=",.1f")])
    dots = base.mark_point(filled=True, size=70, color=OKABE_ITO["blue"])
    labels = base.mark_text(align="left", dx=7, fontSize=11).encode(text="name:N")
    return (dots + labels).properties(
        title=alt.TitleParams("How maturity and the indicator go together (association, not effect)",
                              subtitle="Named partnerships only"),
        description=f"Scatter of {score_title} score against {value_title}, one point per named partnership.")
