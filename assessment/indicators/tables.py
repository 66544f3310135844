"""Indicator figures beside maturity: the tables the pages, the CLI and the board pack show.

Pure functions over frames (no database): the caller passes stored values
(:func:`assessment.storage.indicators.indicator_values`) and stored scores.

* :func:`indicator_figures`: every entered and computed figure, as it may be shown ("fewer than N",
  hidden rates), from the stored values (:func:`~assessment.indicators.figures.compute_figures`).
* :func:`reconciliation_table` and :func:`data_quality_notes`: police and NHS figures for the same
  indicator and period side by side, flagged above the tolerance, and the notes a board reads from them.
* :func:`domain_indicators`: the indicators linked to each domain (the catalogue's ``domains``) with the
  partnership's figures, to stand next to the domain's score and trend.
* :func:`region_indicator_medians`: per nation and region, the median (and quartiles) of the partnerships'
  figures, under the same disclosure rule as scores (:func:`assessment.disclosure.peer_figures`).
* :func:`association_points`: one row per partnership with its domain score and its figure, for the
  association across partnerships (:mod:`assessment.indicators.association`).

Figures across partnerships (medians, association) use the figure of the agency that owns the indicator's
source (the police count of section 136 detentions, not the NHS one), so each partnership counts once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assessment.disclosure import DisclosureRule, scope_figures
from assessment.indicators.catalogue import Catalogue
from assessment.indicators.figures import compute_figures, reconcile

__all__ = [
    "DOMAIN_INDICATOR_COLUMNS",
    "REGION_INDICATOR_COLUMNS",
    "association_points",
    "beside_scores",
    "data_quality_notes",
    "domain_indicators",
    "indicators_by_period",
    "indicator_figures",
    "owner_figures",
    "reconciliation_table",
    "region_indicator_medians",
]

DOMAIN_INDICATOR_COLUMNS = ("domain", "indicator", "name", "unit", "direction", "agency", "period", "value",
                            "shown", "hidden", "reason")
REGION_INDICATOR_COLUMNS = ("scope", "nation", "region", "indicator", "name", "unit", "partnerships", "median",
                            "q1", "q3", "suppressed")


def indicator_figures(catalogue: Catalogue, values: pd.DataFrame) -> pd.DataFrame:
    """Every figure of the stored ``values`` as it may be shown (:data:`~assessment.indicators.figures.FIGURE_COLUMNS`).

    No reference denominator is confirmed in the shipped catalogue, so rates per 100,000 are blank with
    the catalogue's reason. Values of indicators a newer catalogue dropped are left out.
    """
    known = {i.id for i in catalogue.indicators if not i.computed}
    frame = values[values["indicator"].isin(known)][["partnership", "period", "agency", "indicator", "value"]]
    frame = frame.astype({"partnership": str, "period": str, "agency": str, "indicator": str, "value": float})
    return compute_figures(catalogue, frame.reset_index(drop=True))


def owner_figures(catalogue: Catalogue, figures: pd.DataFrame) -> pd.DataFrame:
    """The figures reported by the agency that owns each indicator's source (one per partnership, period and
    indicator)."""
    owner = pd.Series({i.id: i.agency for i in catalogue.indicators})
    return figures[figures["agency"].to_numpy() == figures["indicator"].map(owner).to_numpy()].reset_index(drop=True)


def reconciliation_table(catalogue: Catalogue, values: pd.DataFrame, *, tolerance: float) -> pd.DataFrame:
    """Where two agencies report the same count for the same period: both, the difference, the ratio and the
    flag (:func:`~assessment.indicators.figures.reconcile`), with the indicator's name."""
    frame = values[["partnership", "period", "agency", "indicator", "value"]].astype(
        {"partnership": str, "period": str, "agency": str, "indicator": str, "value": float})
    table = reconcile(catalogue, frame, tolerance=tolerance)
    names = {i.id: i.name for i in catalogue.indicators}
    table.insert(3, "name", table["indicator"].map(names))
    return table


def data_quality_notes(reconciliation: pd.DataFrame, *, tolerance: float) -> list[str]:
    """One sentence per flagged pair (for Results and the board pack): what differs, by how much, and why
    it matters. Pairs whose difference is hidden (a small count) say so without a figure."""
    from assessment.vocabulary import agency_label

    notes = []
    for row in reconciliation.itertuples(index=False):  # a handful of pairs per partnership
        first, other = agency_label(row.agency), agency_label(row.other_agency)
        if row.flagged is True:
            larger = max(row.value, row.other_value)
            share = abs(row.difference) / larger if larger else 0.0
            notes.append(f"{row.period}: {first} and {other} figures for \"{row.name}\" differ by "
                         f"{abs(row.difference):,.0f} ({share:.0%} of the larger; more than the {tolerance:.0%} "
                         f"tolerance): {row.shown} against {row.other_shown}. Check both sources count the "
                         "same thing before comparing or reporting either.")
        elif row.reason and "fewer than" in row.reason:
            notes.append(f"{row.period}: {first} and {other} figures for \"{row.name}\" cannot be compared "
                         f"here ({row.reason}).")
    return notes


def domain_indicators(catalogue: Catalogue, figures: pd.DataFrame, domains, *, period: str | None = None) -> pd.DataFrame:
    """The indicators linked to each of ``domains`` (catalogue order) with the partnership's figures.

    ``figures`` is one partnership's :func:`indicator_figures`; ``period`` keeps one period (None: every
    period reported). An indicator with no figure in the period (nor its inputs) has no row. Columns
    :data:`DOMAIN_INDICATOR_COLUMNS`.
    """
    links = pd.DataFrame([{"domain": d, "indicator": i.id, "name": i.name, "direction": i.definition.direction,
                           "order": n} for n, i in enumerate(catalogue.indicators) for d in i.domains
                          if d in set(domains)], columns=["domain", "indicator", "name", "direction", "order"])
    chosen = figures if period is None else figures[figures["period"] == period]
    # a percent whose count was not reported is not a figure of this partnership: no row (a rate left blank
    # because its denominator is not confirmed keeps its row and its reason)
    chosen = chosen[~chosen["reason"].astype(str).str.startswith("no value")]
    table = links.merge(chosen, on="indicator", how="inner")
    domain_order = {d: n for n, d in enumerate(domains)}
    table = table.assign(_d=table["domain"].map(domain_order)).sort_values(
        ["_d", "order", "period", "agency"], kind="stable")
    return table[list(DOMAIN_INDICATOR_COLUMNS)].reset_index(drop=True)


def beside_scores(table: pd.DataFrame, scores: pd.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    """The :func:`domain_indicators` rows with the domain's title, score and maturity level beside them
    (``scores`` as shown: a hidden score is already blank). Every domain of ``titles`` with a linked figure
    gets its rows; the score columns repeat on each row of the domain."""
    columns = ["domain", "score", "level_label"]
    shown = scores[[c for c in columns if c in scores.columns]].drop_duplicates("domain")
    out = table.merge(shown, on="domain", how="left")
    out.insert(1, "domain_title", out["domain"].map(lambda d: titles.get(d, d)))
    return out


def indicators_by_period(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`domain_indicators` over every period, wide: one row per domain, indicator and agency, one
    column per period (oldest first) holding the figure as shown ("fewer than 5", "12.5%", blank)."""
    if table.empty:
        return pd.DataFrame(columns=["domain", "indicator", "name", "agency"])
    keys = ["domain", "indicator", "name", "agency"]
    order = table[keys].drop_duplicates().reset_index(drop=True)
    wide = table.pivot_table(index=keys, columns="period", values="shown", aggfunc="first", sort=False)
    wide = wide[sorted(wide.columns)]
    return order.merge(wide.reset_index(), on=keys, how="left").fillna("")


def region_indicator_medians(catalogue: Catalogue, figures: pd.DataFrame, places: pd.DataFrame, *, period: str,
                             rule: DisclosureRule | None = None) -> pd.DataFrame:
    """Per nation and region: each indicator's median, Q1 and Q3 over the partnerships' figures of ``period``.

    The owning agency's figure of each partnership counts once; hidden ("fewer than N") and blank figures
    are left out, as hidden scores are. What is shown follows :func:`assessment.disclosure.peer_figures`
    (median from ``min_peers`` partnerships, quartiles from ``min_peers_spread``, never a set that pins
    down the contributing figures); a group whose median may not be shown is ``suppressed``.
    """
    rule = rule if rule is not None else DisclosureRule()
    own = owner_figures(catalogue, figures)
    own = own[(own["period"] == period) & own["value"].notna() & ~own["hidden"]]
    own = own.merge(places[["partnership", "nation", "region"]], on="partnership", how="inner")
    names = {i.id: (i.name, i.definition.unit, n) for n, i in enumerate(catalogue.indicators)}
    out = scope_figures(own, "value", "indicator", rule)
    out["name"] = out["indicator"].map(lambda i: names[i][0])
    out["unit"] = out["indicator"].map(lambda i: names[i][1])
    out["suppressed"] = out["median"].isna()
    out = out.assign(_s=out["scope"].map({"nation": 0, "region": 1}), _i=out["indicator"].map(lambda i: names[i][2]))
    out = out.sort_values(["_s", "nation", "region", "_i"], kind="stable")[list(REGION_INDICATOR_COLUMNS)]
    return out.reset_index(drop=True).astype({"partnerships": int, "median": float, "q1": float, "q3": float,
                                              "suppressed": bool})


def association_points(catalogue: Catalogue, figures: pd.DataFrame, scores: pd.DataFrame, places: pd.DataFrame, *,
                       domain: str, indicator: str, period: str) -> pd.DataFrame:
    """One row per partnership with a shown domain score and a shown figure of ``indicator`` in ``period``.

    Columns ``partnership``, ``name`` (empty unless the partnership opted to be named), ``named``, ``score``,
    ``value``. Hidden scores and hidden or blank figures are left out (they are not values to correlate).
    """
    own = owner_figures(catalogue, figures)
    own = own[(own["indicator"] == indicator) & (own["period"] == period) & own["value"].notna() & ~own["hidden"]]
    hidden = scores["score_hidden"].astype(bool) if "score_hidden" in scores else pd.Series(False, index=scores.index)
    chosen = scores[(scores["domain"] == domain) & (scores["period"] == period) & scores["score"].notna() & ~hidden]
    chosen = chosen.sort_values("round").drop_duplicates("partnership", keep="last")
    joined = chosen[["partnership", "score"]].merge(own[["partnership", "value"]], on="partnership", how="inner")
    named = places.set_index("partnership")["named_to_peers"].astype(bool)
    names = places.set_index("partnership")["name"]
    is_named = joined["partnership"].map(named).fillna(False).astype(bool)
    joined["named"] = is_named
    joined["name"] = np.where(is_named, joined["partnership"].map(names).fillna(""), "")
    return joined[["partnership", "name", "named", "score", "value"]].astype({"score": float, "value": float})
