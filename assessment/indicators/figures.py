"""The arithmetic of indicator figures: disclosure of small counts, computed rates, reconciliation.

Every function is pure (data in, data out). Rates are computed here from counts and denominators, never
typed in; a figure computed from a count that is shown as "fewer than N" is hidden too, with the reason.

* :func:`show_count` applies the disclosure rule to one count: 1 to N−1 become "fewer than N"; 0 is shown.
* :func:`percent`, :func:`rate_per_100000` and :func:`ratio` compute one figure from its inputs.
* :func:`compute_figures` applies the catalogue to a long frame of entered values (one row per
  partnership, period, agency and indicator) and returns every entered and computed figure as it may be
  shown.
* :func:`reconcile_pair` and :func:`reconcile` put two agencies' values for the same indicator and
  period side by side: both values, the difference, the ratio and a flag when they differ by more than
  ``tolerance`` (a share of the larger value; ``ASSESSMENT_RECONCILIATION_TOLERANCE``, default 0.10).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from assessment.disclosure import fewer_than_text, small_counts
from assessment.indicators.catalogue import Catalogue

__all__ = [
    "FIGURE_COLUMNS",
    "RECONCILIATION_COLUMNS",
    "Figure",
    "Reconciliation",
    "compute_figures",
    "fewer_than_text",
    "percent",
    "rate_per_100000",
    "ratio",
    "reconcile",
    "reconcile_pair",
    "show_count",
]

#: Columns of :func:`compute_figures`' result.
FIGURE_COLUMNS = ("partnership", "period", "agency", "indicator", "unit", "value", "shown", "hidden", "reason")
#: Columns of :func:`reconcile`'s result.
RECONCILIATION_COLUMNS = (
    "partnership", "period", "indicator", "agency", "value", "other_agency", "other_value", "shown",
    "other_shown", "difference", "ratio", "flagged", "reason",
)

SMALL_COUNT = "a count from 1 to {limit} is shown as \"fewer than {n}\""
FROM_HIDDEN = "computed from a count shown as \"fewer than {n}\""


@dataclass(frozen=True)
class Figure:
    """One figure as it may be shown.

    ``value`` is None when the figure is blank (hidden, or not computable); ``shown`` is the text users
    read; ``hidden`` is True only when the disclosure rule hides it (a small count, or computed from one);
    ``reason`` says why a figure is blank or hidden ("" when it is shown).
    """

    value: float | None
    shown: str
    hidden: bool = False
    reason: str = ""

    @classmethod
    def blank(cls, reason: str, *, hidden: bool = False, shown: str = "") -> Figure:
        return cls(None, shown, hidden, reason)


def _number_text(value: float, decimals: int) -> str:
    if float(value).is_integer() and decimals == 0:
        return f"{int(value):,}"
    return f"{value:,.{decimals}f}"


def show_count(count: float | None, fewer_than: int) -> Figure:
    """The disclosure rule for a count: 1 to ``fewer_than - 1`` is shown as "fewer than N"; 0 is shown.

    >>> show_count(3, 5).shown
    'fewer than 5'
    >>> show_count(0, 5).shown, show_count(12, 5).shown
    ('0', '12')
    """
    if fewer_than < 2:
        raise ValueError(f"fewer_than must be at least 2, got {fewer_than}")
    if count is None or (isinstance(count, float) and math.isnan(count)):
        return Figure.blank("no value reported")
    if count < 0 or not float(count).is_integer():
        raise ValueError(f"a count must be a whole number >= 0, got {count!r}")
    if small_counts([count], fewer_than)[0]:  # the rule lives in assessment.disclosure
        return Figure.blank(SMALL_COUNT.format(limit=fewer_than - 1, n=fewer_than), hidden=True,
                            shown=fewer_than_text(fewer_than))
    return Figure(float(count), _number_text(count, 0))


def percent(numerator: float | None, denominator: float | None, fewer_than: int) -> Figure:
    """100 × numerator ÷ denominator (both counts), hidden when either count, or the rest, is hidden.

    The rest of the denominator (denominator − numerator) is a count of people too: 48 out of 50 would
    give away the 2 who were not, so a small rest hides the percent as well.

    >>> percent(10, 50, 5).value
    20.0
    >>> percent(48, 50, 5).hidden
    True
    """
    num, den = show_count(numerator, fewer_than), show_count(denominator, fewer_than)
    blank = _first_blank(num, den, fewer_than)
    if blank is not None:
        return blank
    assert num.value is not None and den.value is not None
    if den.value == 0:
        return Figure.blank("the denominator is 0")
    if num.value > den.value:
        # entered figures can disagree (a part larger than its whole): no percent, and say why
        return Figure.blank(f"the part ({num.value:,.0f}) is larger than the whole ({den.value:,.0f}): check "
                            "the two figures")
    rest = show_count(den.value - num.value, fewer_than)
    if rest.hidden:
        return Figure.blank(f"the rest of the denominator is shown as \"fewer than {fewer_than}\"", hidden=True)
    value = 100.0 * num.value / den.value
    return Figure(value, f"{value:.1f}%")


def rate_per_100000(count: float | None, population: float | None, fewer_than: int, *,
                    unconfirmed: str = "") -> Figure:
    """100,000 × count ÷ population; blank when the count is hidden or the population is not confirmed.

    ``unconfirmed`` is the reason the population figure cannot be used (its catalogue ``reason``); when
    given, the rate is blank with it whatever the count.

    >>> rate_per_100000(310, 1_550_000, 5).value
    20.0
    """
    if unconfirmed:
        return Figure.blank(f"the denominator is not confirmed: {unconfirmed}")
    shown = show_count(count, fewer_than)
    blank = _first_blank(shown, None, fewer_than)
    if blank is not None:
        return blank
    assert shown.value is not None
    if population is None or (isinstance(population, float) and math.isnan(population)):
        return Figure.blank("no population figure")
    if population <= 0:
        return Figure.blank("the population is not above 0")
    value = 100_000.0 * shown.value / population
    return Figure(value, f"{value:,.1f}")


def ratio(numerator: Figure, denominator: Figure) -> Figure:
    """One computed figure divided by another (e.g. the Black rate over the White rate).

    Blank (and hidden, when either input is hidden) when either input is blank; blank when the
    denominator is 0.

    >>> ratio(Figure(60.0, "60.0"), Figure(20.0, "20.0")).value
    3.0
    """
    for part in (numerator, denominator):
        if part.value is None:
            return Figure.blank(part.reason or "an input is blank", hidden=part.hidden)
    assert numerator.value is not None and denominator.value is not None
    if denominator.value == 0:
        return Figure.blank("the denominator is 0")
    value = numerator.value / denominator.value
    return Figure(value, f"{value:.2f}")


def _first_blank(a: Figure, b: Figure | None, fewer_than: int) -> Figure | None:
    for part in (a, b):
        if part is None:
            continue
        if part.hidden:
            return Figure.blank(FROM_HIDDEN.format(n=fewer_than), hidden=True)
        if part.value is None:
            return Figure.blank(part.reason)
    return None


# -- a whole frame of values ------------------------------------------------------------------------
def compute_figures(catalogue: Catalogue, values: pd.DataFrame,
                    denominators: Mapping[tuple[str, str], float] | None = None) -> pd.DataFrame:
    """Every entered and computed figure of the catalogue, as it may be shown.

    Parameters
    ----------
    catalogue
        The indicator catalogue.
    values
        Long frame of entered values: ``partnership``, ``period``, ``agency``, ``indicator``, ``value``.
        Only indicators whose unit is entered (count, hours, minutes) may appear.
    denominators
        ``(partnership, denominator id) -> value`` for the reference denominators (e.g. population).
        A denominator the catalogue marks as not confirmed is never used, whatever is passed.

    Returns
    -------
    DataFrame with :data:`FIGURE_COLUMNS`: one row per entered value, and one per computed indicator for
    each partnership, period and agency that reported any of its inputs. ``value`` is NaN when the figure
    is blank; ``shown`` is the text users read; ``reason`` says why a figure is blank.
    """
    required = {"partnership", "period", "agency", "indicator", "value"}
    missing = required - set(values.columns)
    if missing:
        raise ValueError(f"values lack column(s): {', '.join(sorted(missing))}")
    known = {i.id: i for i in catalogue.indicators}
    unknown = sorted(set(values["indicator"]) - set(known))
    if unknown:
        raise ValueError(f"indicator(s) not in catalogue {catalogue.id} {catalogue.version}: {', '.join(unknown)}")
    computed_given = sorted(i for i in set(values["indicator"]) if known[i].computed)
    if computed_given:
        raise ValueError(f"computed indicator(s) cannot be entered, only computed: {', '.join(computed_given)}")
    if values.duplicated(["partnership", "period", "agency", "indicator"]).any():
        raise ValueError("more than one value for the same partnership, period, agency and indicator")
    denominators = dict(denominators or {})

    rows: list[dict] = []
    figures: dict[tuple, Figure] = {}
    for rec in values.itertuples(index=False):
        ind = known[rec.indicator]
        key = (rec.partnership, rec.period, rec.agency)
        if ind.definition.unit == "count":
            fig = show_count(rec.value, catalogue.fewer_than(ind.id))
        else:
            number = None if pd.isna(rec.value) else float(rec.value)
            if number is not None and number < 0:
                raise ValueError(f"{ind.id}: a time must be >= 0, got {number:g}")
            fig = Figure(number, _number_text(number, 1)) if number is not None else Figure.blank("no value reported")
        figures[(*key, ind.id)] = fig
        rows.append(_row(key, ind.id, ind.definition.unit, fig))

    keys = sorted({k[:3] for k in figures}, key=lambda k: tuple(str(p) for p in k))
    # rates and percents first (inputs are counts), then ratios (inputs are rates)
    ordered = sorted((i for i in catalogue.indicators if i.computed), key=lambda i: i.definition.unit == "ratio")
    for ind in ordered:
        assert ind.computed_from is not None
        num_id, den_id = ind.computed_from.numerator, ind.computed_from.denominator
        for key in keys:
            num = figures.get((*key, num_id))
            den = figures.get((*key, den_id))
            unit = ind.definition.unit
            if unit == "per_100000":
                if num is None:
                    continue
                fig = _rate_of(num, catalogue, den_id, denominators.get((key[0], den_id)), catalogue.fewer_than(num_id))
            else:
                if num is None and den is None:
                    continue
                if unit == "percent":
                    fig = _percent_of(num, den, num_id, den_id, catalogue.fewer_than(num_id))
                else:
                    fig = ratio(num or Figure.blank(f"no value for {num_id}"), den or Figure.blank(f"no value for {den_id}"))
            figures[(*key, ind.id)] = fig
            rows.append(_row(key, ind.id, unit, fig))
    frame = pd.DataFrame(rows, columns=list(FIGURE_COLUMNS))
    return frame.astype({"value": "float64", "hidden": "bool"})


def _rate_of(num: Figure, catalogue: Catalogue, den_id: str, population: float | None, fewer_than: int) -> Figure:
    denominator = catalogue.denominator(den_id)
    if not denominator.confirmed:
        return Figure.blank(f"the denominator is not confirmed: {denominator.reason.strip()}", hidden=num.hidden)
    if num.hidden:
        return Figure.blank(FROM_HIDDEN.format(n=fewer_than), hidden=True)
    if num.value is None:
        return Figure.blank(num.reason)
    return rate_per_100000(num.value, population, fewer_than)


def _percent_of(num: Figure | None, den: Figure | None, num_id: str, den_id: str, fewer_than: int) -> Figure:
    if num is None:
        return Figure.blank(f"no value for {num_id}")
    if den is None:
        return Figure.blank(f"no value for {den_id}")
    # the figures carry no value once hidden: hide from the flag, never from a guessed number
    if num.hidden or den.hidden:
        return Figure.blank(FROM_HIDDEN.format(n=fewer_than), hidden=True)
    return percent(num.value, den.value, fewer_than)


def _row(key: tuple, indicator: str, unit: str, fig: Figure) -> dict:
    return {"partnership": key[0], "period": key[1], "agency": key[2], "indicator": indicator, "unit": unit,
            "value": math.nan if fig.value is None else fig.value, "shown": fig.shown, "hidden": fig.hidden,
            "reason": fig.reason}


# -- reconciliation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reconciliation:
    """Two agencies' values for the same indicator and period, side by side.

    ``difference`` is ``value − other_value``; ``ratio`` is ``value ÷ other_value``; ``flagged`` is True
    when ``|difference|`` is more than ``tolerance`` × the larger value. Each is None when it cannot be
    shown, with ``reason``.
    """

    value: Figure
    other_value: Figure
    difference: float | None
    ratio: float | None
    flagged: bool | None
    reason: str = ""


def reconcile_pair(value: float | None, other_value: float | None, *, tolerance: float,
                   fewer_than: int) -> Reconciliation:
    """Compare two counts of the same thing (e.g. police and NHS counts of section 136 detentions).

    The rule is symmetric: the flag does not depend on which agency is named first. Exactly ``tolerance``
    apart is not flagged ("more than"). If either count is hidden (fewer than N) or missing, the
    difference, the ratio and the flag are blank too.

    >>> r = reconcile_pair(100, 85, tolerance=0.10, fewer_than=5)
    >>> r.difference, round(r.ratio, 4), r.flagged
    (15.0, 1.1765, True)
    """
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be >= 0 and < 1, got {tolerance}")
    a, b = show_count(value, fewer_than), show_count(other_value, fewer_than)
    for fig in (a, b):
        if fig.hidden:
            return Reconciliation(a, b, None, None, None, FROM_HIDDEN.format(n=fewer_than))
        if fig.value is None:
            return Reconciliation(a, b, None, None, None, "only one agency reported a value")
    assert a.value is not None and b.value is not None
    difference = a.value - b.value
    larger = max(a.value, b.value)
    # "more than" the tolerance; rounding keeps 100 vs 90 at exactly 10% unflagged
    flagged = round(abs(difference) - tolerance * larger, 9) > 0
    if b.value == 0:
        reason = "the other value is 0: no ratio"
        return Reconciliation(a, b, difference, None, flagged, reason)
    return Reconciliation(a, b, difference, a.value / b.value, flagged)


def reconcile(catalogue: Catalogue, values: pd.DataFrame, *, tolerance: float,
              first_agency: str = "police") -> pd.DataFrame:
    """Every pair of agencies reporting the same count indicator for the same partnership and period.

    ``first_agency``'s value is ``value`` (police by default: the difference is police − other); pairs
    without it compare the other agencies in the product's order. Returns :data:`RECONCILIATION_COLUMNS`.
    """
    from assessment.vocabulary import AGENCIES

    order = {agency: i for i, agency in enumerate(AGENCIES)}
    counts = {i.id for i in catalogue.indicators if i.definition.unit == "count"}
    rows = []
    subset = values[values["indicator"].isin(counts)]
    for (partnership, period, indicator), group in subset.groupby(["partnership", "period", "indicator"], sort=True):
        by_agency = dict(zip(group["agency"], group["value"], strict=True))
        if len(by_agency) < 2:
            continue
        agencies = sorted(by_agency, key=lambda a: (a != first_agency, order.get(a, len(order)), a))
        first = agencies[0]
        for other in agencies[1:]:
            value = None if pd.isna(by_agency[first]) else by_agency[first]
            other_value = None if pd.isna(by_agency[other]) else by_agency[other]
            r = reconcile_pair(value, other_value, tolerance=tolerance, fewer_than=catalogue.fewer_than(indicator))
            rows.append({
                "partnership": partnership, "period": period, "indicator": indicator,
                "agency": first, "value": math.nan if r.value.value is None else r.value.value,
                "other_agency": other, "other_value": math.nan if r.other_value.value is None else r.other_value.value,
                "shown": r.value.shown, "other_shown": r.other_value.shown,
                "difference": math.nan if r.difference is None else r.difference,
                "ratio": math.nan if r.ratio is None else r.ratio,
                "flagged": r.flagged, "reason": r.reason,
            })
    return pd.DataFrame(rows, columns=list(RECONCILIATION_COLUMNS))
