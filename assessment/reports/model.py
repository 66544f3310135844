"""The results model: everything a partnership's round shows, built once from the stored frames.

The Results page and the board pack (HTML and PDF) both render :class:`ResultsModel`, so the two can never
disagree. :func:`build_results_model` is a pure function: the service layer reads the frames
(:func:`assessment.service.results_model`) and passes them in; nothing here touches the database or the
clock.

What the model holds (issue 14, "One results model, two renderers"):

* the **headline**: overall score and maturity level, respondents (n) and the response rate by agency;
* the **domains**: score, level, the domain's band text at the current and the next level, agency
  disagreement (gap between agency means, SD, the split flag), the gap to the chosen peer group and the
  change since the previous round with its 95% interval and verdict;
* **strengths and priorities** (:func:`assessment.charts.strengths_and_priorities`);
* the **agencies** (each agency's mean per domain) and the **items** (mean, counts, the descriptors at the
  item's current and next level);
* the **actions** (the partnership's action plan with review verdicts);
* the **suppression notes**: what is not shown and why.

Disclosure: the own figures are blanked with :func:`assessment.disclosure.blank_suppressed` (the same call
the pages make); peer figures arrive as :func:`assessment.disclosure.peer_figures` let them through; trend
rows as :func:`assessment.disclosure.blank_small_rounds` left them. A gap or change measured from a hidden
score is hidden with it.

Numbers are rounded for reading: scores, gaps and changes to two decimals, rates to whole percentages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assessment.charts import strengths_and_priorities
from assessment.disclosure import blank_suppressed
from assessment.questionnaire.schema import Questionnaire
from assessment.vocabulary import agency_label

__all__ = [
    "ACTION_COLUMNS",
    "DOMAIN_COLUMNS",
    "Headline",
    "ReportContext",
    "ResultsModel",
    "build_results_model",
    "percent",
    "score_2dp",
    "suppression_text",
]

#: The columns of an action plan row as the model carries it (the actions service provides them).
ACTION_COLUMNS = ("domain", "item", "what", "owner", "target_level", "due", "status", "notes", "verdict",
                  "target_met")

#: The columns of :attr:`ResultsModel.domains`, in order.
DOMAIN_COLUMNS = (
    "domain", "domain_title", "score", "level", "level_label", "n_respondents", "n_agencies", "dk_rate",
    "agency_gap", "sd", "split", "note", "band_now", "next_level", "next_level_label", "band_next",
    "n_peers", "peer_median", "peer_q1", "peer_q3", "gap_to_median", "gap_to_top_quartile", "percentile_rank",
    "previous_period", "ci_low", "ci_high", "change", "change_low", "change_high", "verdict", "break_reason",
)

_REASONS = {
    "small_group": "fewer than the minimum number of respondents",
    "complementary": "hidden so that a small group's figure cannot be worked out from the others",
}


def suppression_text(reason: object) -> str:
    """Plain words for a suppression reason code (``small_group``, ``complementary``)."""
    text = "" if reason is None or reason is pd.NA or (isinstance(reason, float) and np.isnan(reason)) else str(reason)
    return _REASONS.get(text, text)


def score_2dp(values) -> pd.Series:
    """Scores, gaps and changes as shown: two decimals (missing stays missing)."""
    return pd.to_numeric(pd.Series(values), errors="coerce").astype(float).round(2)


def percent(values) -> pd.Series:
    """A share (0..1) as a whole percentage (nullable integer; missing stays missing)."""
    share = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
    return (share * 100).round().astype("Int64")


@dataclass(frozen=True)
class ReportContext:
    """What every chart and page of the pack names: who, when, which questionnaire and peer group."""

    partnership: str
    partnership_name: str
    round: str
    period: str
    questionnaire: str
    version: str
    peer_group: str = "all"
    peer_group_label: str = "all partnerships"

    def line(self, n: int | None = None) -> str:
        """The context line under a chart's title: partnership · period · questionnaire · peer group · n."""
        parts = [self.partnership_name, self.period, f"questionnaire {self.version}",
                 f"peers: {self.peer_group_label}"]
        if n is not None:
            parts.append(f"n = {n}")
        return " · ".join(parts)


@dataclass(frozen=True)
class Headline:
    """The one-line summary: overall score and level, respondents, agencies, and responses by agency."""

    score: float | None
    level: int | None
    level_label: str
    n_respondents: int
    n_agencies: int
    n_domains_scored: int
    n_domains: int
    note: str
    responses: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class ResultsModel:
    """A partnership's round as the page and the pack show it (every figure already disclosure-checked)."""

    context: ReportContext
    headline: Headline
    domains: pd.DataFrame
    strengths: pd.DataFrame
    priorities: pd.DataFrame
    agencies: pd.DataFrame
    items: pd.DataFrame
    actions: pd.DataFrame
    bands: pd.DataFrame
    suppression_notes: tuple[str, ...]
    peer_notes: tuple[str, ...]
    wider_peer_group: str | None
    min_group_size: int
    #: Police and NHS figures of an outcome indicator that differ by more than the tolerance in this period
    #: (assessment.indicators.tables.data_quality_notes).
    data_quality_notes: tuple[str, ...] = ()
    wider_peer_group_label: str = ""

    # -- the frames the chart builders take (the page and the pack draw the same charts) --
    @property
    def titles(self) -> dict[str, str]:
        return dict(zip(self.domains["domain"], self.domains["domain_title"], strict=True))

    @property
    def thresholds(self) -> list[tuple[float, str]]:
        """Where each maturity level starts: ``(lower bound, "level label")`` for the domain chart."""
        return [(float(b), str(label)) for b, label in zip(self.bands["lower_bound"], self.bands["label"], strict=True)]

    def gap_frame(self) -> pd.DataFrame:
        """The domains in the column names of :func:`assessment.peers.compare_with_peers`."""
        frame = self.domains.rename(columns={"peer_median": "median", "peer_q1": "q1", "peer_q3": "q3"})
        return frame.assign(suppressed=frame["median"].isna(),
                            n_peers=frame["n_peers"].fillna(0).astype(int))[
            ["domain", "domain_title", "score", "median", "q1", "q3", "n_peers", "gap_to_median",
             "gap_to_top_quartile", "percentile_rank", "suppressed"]]

    @property
    def split_domains(self) -> list[str]:
        return self.domains.loc[self.domains["split"].fillna(False).astype(bool), "domain"].tolist()

    def chart_context(self, n: int | None = None) -> str:
        return self.context.line(n)


# -- the pieces ------------------------------------------------------------------------------------------------
def _first(frame: pd.DataFrame, column: str, default=None):
    if frame.empty or column not in frame.columns:
        return default
    value = frame[column].iloc[0]
    return default if pd.isna(value) else value


def _headline(overall: pd.DataFrame, responses: pd.DataFrame, domains: pd.DataFrame) -> Headline:
    shown = blank_suppressed(overall)
    score = _first(shown, "score")
    level = _first(shown, "level")
    counts = responses.copy()
    for column in ("invited", "submitted", "imported"):
        counts[column] = pd.to_numeric(counts.get(column, 0), errors="coerce").fillna(0).astype(int)
    counts["responses"] = counts["submitted"] + counts["imported"]
    rate = counts["submitted"].where(counts["invited"] > 0) / counts["invited"].where(counts["invited"] > 0)
    counts = counts.assign(agency_name=counts["agency"].map(agency_label), response_rate=percent(rate).array)
    counts = counts[counts["responses"] + counts["invited"] > 0]
    note = "" if score is not None or overall.empty else suppression_text(_first(overall, "suppression_reason", ""))
    return Headline(
        score=None if score is None else round(float(score), 2),
        level=None if level is None else int(level),
        level_label="" if score is None else str(_first(shown, "level_label", "")),
        n_respondents=int(counts["responses"].sum()),
        n_agencies=int((counts["responses"] > 0).sum()),
        n_domains_scored=int(pd.to_numeric(domains["score"], errors="coerce").notna().sum()),
        n_domains=len(domains), note=note,
        responses=counts[["agency", "agency_name", "invited", "submitted", "imported", "responses",
                          "response_rate"]].reset_index(drop=True),
    )


def _in_order(frame: pd.DataFrame, order: Sequence[str], column: str = "domain") -> pd.DataFrame:
    position = {d: i for i, d in enumerate(order)}
    rank = frame[column].astype(str).map(position).fillna(len(position)).to_numpy()
    return frame.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def _band_texts(questionnaire: Questionnaire, domains: pd.DataFrame) -> pd.DataFrame:
    """The domain's band text at its current level and the next (blank where the score is hidden)."""
    top = max(band.level for band in questionnaire.bands)
    labels = {band.level: band.label for band in questionnaire.bands}
    texts = {d.id: d.level_descriptions for d in questionnaire.domains}
    level = pd.to_numeric(domains["level"], errors="coerce")
    following = level.where(level < top) + 1
    return pd.DataFrame({
        "band_now": [texts.get(d, {}).get(int(v), "") if pd.notna(v) else "" for d, v in zip(domains["domain"], level, strict=True)],
        "next_level": following.astype("Int64").array,
        "next_level_label": [labels.get(int(v), "") if pd.notna(v) else "" for v in following],
        "band_next": [texts.get(d, {}).get(int(v), "") if pd.notna(v) else "" for d, v in zip(domains["domain"], following, strict=True)],
    }, index=domains.index)


def _peer_columns(peers: pd.DataFrame, shown_score: pd.Series) -> pd.DataFrame:
    """Gap to the peer group per domain (no gap where the own score is hidden)."""
    columns = {"n_peers": "n_peers", "median": "peer_median", "q1": "peer_q1", "q3": "peer_q3",
               "gap_to_median": "gap_to_median", "gap_to_top_quartile": "gap_to_top_quartile",
               "percentile_rank": "percentile_rank"}
    if peers.empty:
        return pd.DataFrame({c: pd.Series(np.nan, index=shown_score.index) for c in columns.values()})
    table = peers.drop_duplicates("domain").set_index("domain")
    out = pd.DataFrame({new: shown_score.index.map(table[old]) for old, new in columns.items()},
                       index=shown_score.index).apply(pd.to_numeric, errors="coerce")
    hidden = shown_score.isna().to_numpy()
    out.loc[hidden, ["gap_to_median", "gap_to_top_quartile", "percentile_rank"]] = np.nan
    out["n_peers"] = out["n_peers"].astype("Int64")
    out["percentile_rank"] = out["percentile_rank"].round().astype("Int64")
    for column in ("peer_median", "peer_q1", "peer_q3", "gap_to_median", "gap_to_top_quartile"):
        out[column] = score_2dp(out[column]).to_numpy()
    return out


def _trend_columns(trends: pd.DataFrame, round_key: str, domains: pd.Series) -> pd.DataFrame:
    """This round's change against the round before it (interval and verdict), per domain."""
    names = ["previous_period", "ci_low", "ci_high", "change", "change_low", "change_high", "verdict", "break_reason"]
    if trends.empty:
        return pd.DataFrame({c: pd.Series(pd.NA, index=domains.index, dtype="object") for c in names})
    ordered = trends.sort_values(["domain", "period", "round"], kind="stable")
    ordered = ordered.assign(previous_period=ordered.groupby("domain")["period"].shift(1))
    now = ordered[ordered["round"] == round_key].drop_duplicates("domain").set_index("domain")
    out = pd.DataFrame({c: domains.map(now[c]) if c in now else pd.NA for c in names}, index=domains.index)
    for column in ("ci_low", "ci_high", "change", "change_low", "change_high"):
        out[column] = score_2dp(out[column]).to_numpy()
    for column in ("previous_period", "verdict", "break_reason"):
        out[column] = out[column].astype("string").fillna("").astype(str)
    return out


def _domain_table(questionnaire: Questionnaire, domains: pd.DataFrame, peers: pd.DataFrame,
                  trends: pd.DataFrame, round_key: str) -> pd.DataFrame:
    order = [d.id for d in questionnaire.domains]
    shown = _in_order(blank_suppressed(domains), order)
    titles = {d.id: d.title for d in questionnaire.domains}
    table = pd.DataFrame({
        "domain": shown["domain"].astype(str),
        "domain_title": shown["domain"].astype(str).map(lambda d: titles.get(d, d)),
        "score": score_2dp(shown["score"]).to_numpy(),
        "level": pd.to_numeric(shown["level"], errors="coerce").astype("Int64").array,
        "level_label": shown["level_label"].astype("string").fillna("").astype(str).to_numpy(),
        "n_respondents": pd.to_numeric(shown["n_respondents"], errors="coerce").astype("Int64").array,
        "n_agencies": pd.to_numeric(shown["n_agencies"], errors="coerce").astype("Int64").array,
        "dk_rate": percent(shown["dk_rate"]).array,
        "agency_gap": score_2dp(shown["agency_gap"]).to_numpy(),
        "sd": score_2dp(shown["sd"]).to_numpy(),
        "split": shown["split"].astype("boolean").array,
        "note": shown["suppression_reason"].map(suppression_text).to_numpy(),
    })
    table = pd.concat([table, _band_texts(questionnaire, table)], axis=1)
    score = table.set_index("domain")["score"]
    table = pd.concat([table, _peer_columns(peers, score).reset_index(drop=True)], axis=1)
    table = pd.concat([table, _trend_columns(trends, round_key, table["domain"])], axis=1)
    hidden = table["score"].isna()
    table.loc[hidden, ["change", "change_low", "change_high"]] = np.nan
    return table[list(DOMAIN_COLUMNS)]


def _agency_table(questionnaire: Questionnaire, agencies: pd.DataFrame) -> pd.DataFrame:
    titles = {d.id: d.title for d in questionnaire.domains}
    shown = _in_order(blank_suppressed(agencies), [d.id for d in questionnaire.domains])
    return pd.DataFrame({
        "domain": shown["domain"].astype(str),
        "domain_title": shown["domain"].astype(str).map(lambda d: titles.get(d, d)),
        "agency": shown["agency"].astype(str),
        "agency_name": shown["agency"].astype(str).map(agency_label),
        "score": score_2dp(shown["score"]).to_numpy(),
        "n_respondents": pd.to_numeric(shown["n_respondents"], errors="coerce").astype("Int64").array,
        "suppressed": shown["suppressed"].astype("boolean").fillna(False).astype(bool).to_numpy(),
        "note": shown["suppression_reason"].map(suppression_text).to_numpy(),
    })


def _item_table(questionnaire: Questionnaire, items: pd.DataFrame) -> pd.DataFrame:
    """Each item's mean and counts, and its descriptors at the level its mean reaches and the next."""
    order = [item.id for item in questionnaire.items]
    shown = _in_order(blank_suppressed(items), order, column="item")
    known = {item.id: item for item in questionnaire.items}
    bounds = np.array([band.lower_bound for band in questionnaire.bands])
    levels = np.array([band.level for band in questionnaire.bands])
    mean = pd.to_numeric(shown["mean"], errors="coerce").astype(float)
    reached = np.searchsorted(np.sort(bounds), mean.fillna(-np.inf).to_numpy(), side="right") - 1
    level = pd.Series(np.where(mean.notna() & (reached >= 0), levels[np.argsort(bounds)][reached.clip(0)], -1),
                      index=shown.index).where(lambda v: v > 0).astype("Int64")
    following = level.where(level < levels.max()) + 1

    def descriptor(item_id: str, value) -> str:
        return "" if pd.isna(value) or item_id not in known else known[item_id].descriptors.get(int(value), "")

    ids = shown["item"].astype(str)
    counts = [c for c in shown.columns if c.startswith("count_")]
    return pd.DataFrame({
        "domain": shown["domain"].astype(str), "item": ids,
        "text": ids.map(lambda i: known[i].text if i in known else i),
        "mean": score_2dp(mean).to_numpy(),
        "n_answered": pd.to_numeric(shown["n_answered"], errors="coerce").astype("Int64").array,
        "n_na": pd.to_numeric(shown["n_na"], errors="coerce").astype("Int64").array,
        "n_dk": pd.to_numeric(shown["n_dk"], errors="coerce").astype("Int64").array,
        "dk_rate": percent(shown["dk_rate"]).array,
        "level": level.array, "descriptor_now": [descriptor(i, v) for i, v in zip(ids, level, strict=True)],
        "next_level": following.array,
        "descriptor_next": [descriptor(i, v) for i, v in zip(ids, following, strict=True)],
        "answered_by": ids.map(lambda i: ", ".join(agency_label(a) for a in (known[i].answered_by or ()))
                               if i in known else ""),
        **{c: pd.to_numeric(shown[c], errors="coerce").astype("Int64").array for c in counts},
    })


def _action_table(actions: pd.DataFrame | None, titles: Mapping[str, str]) -> pd.DataFrame:
    if actions is None or actions.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in ACTION_COLUMNS})
    else:
        frame = actions.copy()
        for column in ACTION_COLUMNS:
            if column not in frame.columns:
                frame[column] = ""
    frame["domain_title"] = frame["domain"].astype(str).map(lambda d: titles.get(d, d))
    return frame.reset_index(drop=True)


def _suppression_notes(overall: pd.DataFrame, domains: pd.DataFrame, agencies: pd.DataFrame,
                       items: pd.DataFrame, min_group_size: int) -> tuple[str, ...]:
    """What is not shown and why, in plain words (one line per hidden figure group)."""
    need = f"(at least {min_group_size} respondents are needed in each agency group)"
    notes = []
    shown_overall = blank_suppressed(overall)
    if not overall.empty and _first(shown_overall, "score") is None:
        notes.append(f"The overall score is not shown: {suppression_text(_first(overall, 'suppression_reason'))} {need}.")
    for row in domains[domains["score"].isna()].itertuples():
        notes.append(f"{row.domain_title}: the score is not shown — {row.note or 'not enough answers'} {need}.")
    partly = domains["score"].notna() & domains["note"].ne("")
    for row in domains[partly].itertuples():
        notes.append(f"{row.domain_title}: the agreement figures are not shown — {row.note} {need}.")
    hidden = agencies[agencies["suppressed"]]
    for (name, note), rows in hidden.groupby(["agency_name", "note"], sort=True):
        notes.append(f"{name}: the agency's figures in {len(rows)} domain(s) are not shown — {note} {need}.")
    blank = items[items["mean"].isna()]
    for domain, rows in blank.groupby("domain", sort=False):
        title = domains.set_index("domain")["domain_title"].get(domain, domain)
        notes.append(f"{title}: the answers to {len(rows)} item(s) are not shown {need}.")
    return tuple(notes)


def _peer_notes(peers: pd.DataFrame, wider: str | None, wider_label: str, min_peers: int | None) -> tuple[str, ...]:
    notes = []
    if not peers.empty:
        excluded = int(pd.to_numeric(peers["n_excluded"], errors="coerce").fillna(0).iloc[0])
        if excluded:
            notes.append(f"{excluded} partnership(s) left out of the peers: {peers['excluded_reasons'].iloc[0]}.")
        few = peers["suppressed"].astype(bool)
        if few.any():
            need = f" (at least {min_peers} are needed)" if min_peers else ""
            notes.append(f"Peer figures are not shown for {int(few.sum())} domain(s): too few comparable "
                         f"peers{need}.")
    if wider is not None:
        notes.append(f"Too few comparable peers in this group; the next wider group is {wider_label}.")
    return tuple(notes)


def build_results_model(*, context: ReportContext, questionnaire: Questionnaire, domains: pd.DataFrame,
                        agencies: pd.DataFrame, items: pd.DataFrame, overall: pd.DataFrame,
                        responses: pd.DataFrame, peers: pd.DataFrame, trends: pd.DataFrame,
                        actions: pd.DataFrame | None = None, wider_peer_group: str | None = None,
                        wider_peer_group_label: str = "", min_group_size: int = 3,
                        min_peers: int | None = None, data_quality_notes: Sequence[str] = ()) -> ResultsModel:
    """The results of one partnership's closed round as every renderer shows them.

    Parameters
    ----------
    context : ReportContext
        Partnership, round, period, questionnaire version and peer group (names as shown).
    questionnaire : Questionnaire
        The round's questionnaire version (domain order, titles, bands, level descriptions, descriptors).
    domains, agencies, items, overall : DataFrame
        The round's stored score frames (``Scores.partnerships``, ``.agencies``, ``.items``, ``.overall``),
        as stored: they are blanked here with :func:`assessment.disclosure.blank_suppressed`.
    responses : DataFrame
        Response counts by agency (``agency, invited, submitted, imported``).
    peers : DataFrame
        :func:`assessment.peers.compare_with_peers` for the round and the chosen peer group.
    trends : DataFrame
        :func:`assessment.trends.domain_trends` of the partnership (every round; this round's rows are used).
    actions : DataFrame, optional
        The partnership's actions (:data:`ACTION_COLUMNS`) with their review verdicts.
    data_quality_notes : sequence of str, optional
        Where police and NHS figures of an outcome indicator disagree in the round's period.
    """
    titles = {d.id: d.title for d in questionnaire.domains}
    domain_table = _domain_table(questionnaire, domains, peers, trends, context.round)
    strengths, priorities = strengths_and_priorities(domain_table, titles=titles)
    agency_table = _agency_table(questionnaire, agencies)
    item_table = _item_table(questionnaire, items)
    bands = pd.DataFrame([{"level": b.level, "label": b.label, "lower_bound": b.lower_bound,
                           "description": ""} for b in questionnaire.bands])
    return ResultsModel(
        context=context,
        headline=_headline(overall, responses, domain_table),
        domains=domain_table,
        strengths=strengths.assign(score=score_2dp(strengths["score"]).to_numpy()),
        priorities=priorities.assign(score=score_2dp(priorities["score"]).to_numpy()),
        agencies=agency_table, items=item_table,
        actions=_action_table(actions, titles), bands=bands,
        suppression_notes=_suppression_notes(overall, domain_table, agency_table, item_table, min_group_size),
        peer_notes=_peer_notes(peers, wider_peer_group, wider_peer_group_label or str(wider_peer_group), min_peers),
        wider_peer_group=wider_peer_group, min_group_size=min_group_size,
        data_quality_notes=tuple(data_quality_notes),
        wider_peer_group_label=wider_peer_group_label if wider_peer_group else "",
    )
