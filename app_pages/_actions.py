"""Action plans in the app: the cached reads, the actions table, the add and edit panels, and the two small
panels other pages call in one line (Results: "add an action" beside the gaps; Portfolio: the counts).

Every read and write goes through :mod:`assessment.service` (leads change their partnership's actions;
board members and commissioners read them). The lead's words (what, owner, notes) are shown in tables
and inputs, which show text as it is, or through ``widgets.plain``: never as Markdown or HTML.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment import service
from assessment.actions import actions_table
from assessment.permissions import Principal
from assessment.questionnaire.schema import Questionnaire
from assessment.tabular import to_csv_bytes, to_xlsx_bytes
from assessment.vocabulary import ACTION_STATUSES

FLASH_KEY = "actions_flash"
COLUMNS = {"action": "No.", "domain_title": "Domain", "item_text": "Item", "what": "What", "owner": "Owner",
           "target_level": "Target level", "due": "Due", "status": "Status", "overdue": "Overdue",
           "review_period": "Reviewed at", "review_level": "Level then", "target_met": "Target met",
           "verdict": "Change", "notes": "Notes"}


# -- reads (cached on the data version, per principal) ---------------------------------------------------------
@resources._cached
def partnership_actions(version: str, who: Principal, partnership: str) -> pd.DataFrame:
    """The partnership's actions with their review, read through the Trends page's own cached trends."""
    trends = resources.partnership_trends(version, partnership)
    with resources.reading() as session:
        return service.list_actions(session, who, partnership, trends=trends)


@resources._cached
def open_actions(version: str, who: Principal, partnership: str) -> pd.DataFrame:
    """The partnership's open actions without their review (no trends computed: Results stays quick)."""
    with resources.reading() as session:
        return service.list_actions(session, who, partnership, status=list(ACTION_STATUSES[:2]),
                                    review_rounds=False)


@resources._cached
def portfolio_counts(version: str, who: Principal) -> pd.DataFrame:
    """Per partnership the principal may see: actions, open, overdue and met (the reviews read the stored
    trends of the partnerships with actions only)."""
    with resources.reading() as session:
        return service.action_counts(session, who, **resources.trend_options())


def may_edit(partnership: str) -> bool:
    return resources.principal().may("add_action", partnership)


def baseline_questionnaire(version: str, partnership: str) -> Questionnaire | None:
    """The questionnaire of the partnership's latest closed round (else its latest round): its domains."""
    rounds = widgets.partnership_rounds(version, partnership)
    if rounds.empty:
        return None
    closed = rounds[rounds["status"] == "closed"]
    latest = (closed if not closed.empty else rounds).iloc[-1]
    return resources.questionnaires(version).get((latest["questionnaire"], latest["version"]))


# -- showing ----------------------------------------------------------------------------------------------------
def readable(frame: pd.DataFrame, questionnaire: Questionnaire | None, version: str) -> pd.DataFrame:
    titles = widgets.all_domain_titles(version)
    items = {i.id: i.text for i in questionnaire.items} if questionnaire else {}
    return frame.assign(domain_title=frame["domain"].map(lambda d: titles.get(d, d)),
                        item_text=frame["item"].map(lambda i: items.get(i, i) if isinstance(i, str) else ""))


def show_table(frame: pd.DataFrame, key: str) -> None:
    widgets.table(frame[list(COLUMNS)], hide_index=True, key=key, width="stretch",
                 column_config={**COLUMNS,
                                "due": st.column_config.DateColumn("Due", format="D MMM YYYY"),
                                "review_level": st.column_config.NumberColumn("Level then", format="%d"),
                                "what": st.column_config.TextColumn("What", width="large")})


def downloads(frame: pd.DataFrame, partnership: str) -> None:
    table = actions_table(frame)
    left, right = st.columns(2)
    left.download_button("Download the actions (CSV)", data=to_csv_bytes(table), mime="text/csv",
                         file_name=f"{partnership}-actions.csv", key="actions_download_csv",
                         icon=":material/download:")
    right.download_button("Download the actions (Excel)", data=to_xlsx_bytes({"actions": table}),
                          file_name=f"{partnership}-actions.xlsx", key="actions_download_xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          icon=":material/download:")


def flash() -> None:
    """The outcome of the last change (kept across the rerun that shows it)."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(widgets.plain(message), icon=":material/task_alt:")


# -- changing ---------------------------------------------------------------------------------------------------
def _save(change, done: str) -> None:
    """Run one change in one transaction; show every problem (each names its field) or rerun with the news."""
    try:
        with resources.writing() as session:
            change(session)
    except service.ValidationFailed as exc:
        st.error("The action was not saved:\n\n" + "\n\n".join(
            f"- **{widgets.plain(p.path)}**: {widgets.plain(p.message)}" for p in exc.problems))
        return
    except (service.StorageError, service.AccessDenied) as exc:
        st.error(widgets.plain(str(exc)))
        return
    st.session_state[FLASH_KEY] = done
    st.rerun()


def _item_choice(prefix: str, questionnaire: Questionnaire, domain: str, current: str | None = None) -> str | None:
    items = {"": "The whole domain"} | {i.id: i.text for i in questionnaire.domain(domain).items}
    options = list(items)
    index = options.index(current) if current in options else 0
    return st.selectbox("Item (optional)", options, index=index, format_func=items.get, key=f"{prefix}_item") or None


def _levels(questionnaire: Questionnaire) -> dict[int, str]:
    return {b.level: f"{b.level} {b.label}" for b in questionnaire.bands if 1 <= b.level <= 5}


def add_panel(prefix: str, partnership: str, questionnaire: Questionnaire, *, domains: dict[str, str],
              round_key: str | None = None, levels_now: dict[str, int] | None = None) -> None:
    """Fields for a new action on one of ``domains`` (id -> label) and the button that adds it; the target
    level starts one above the domain's level now (``levels_now``) when it is known."""
    domain = st.selectbox("Domain", list(domains), format_func=domains.get, key=f"{prefix}_domain")
    item = _item_choice(prefix, questionnaire, domain)
    what = st.text_area("What will be done", key=f"{prefix}_what", max_chars=10_000)
    left, middle, right = st.columns(3)
    owner = left.text_input("Owner (a role or an agency)", key=f"{prefix}_owner", max_chars=200)
    levels = _levels(questionnaire)
    now = (levels_now or {}).get(domain)
    start = list(levels).index(min(now + 1, max(levels))) if now in levels else min(2, len(levels) - 1)
    target = middle.selectbox("Target level", list(levels), index=start, format_func=levels.get,
                              key=f"{prefix}_target_{domain}")
    due = right.date_input("Due", value=dt.date.today() + dt.timedelta(days=180), key=f"{prefix}_due",
                           format="YYYY-MM-DD")
    if st.button("Add the action", key=f"{prefix}_add", type="primary", icon=":material/add_task:"):
        _save(lambda session: service.add_action(session, resources.principal(), partnership, domain=domain,
                                                 item=item, what=what, owner=owner, target_level=target, due=due,
                                                 round=round_key),
              f"Action added to {domains.get(domain, domain)}.")


def edit_panel(frame: pd.DataFrame, questionnaire: Questionnaire) -> None:
    """Pick an action by number and change its status, target, due date, owner, text or notes."""
    labels = {int(r.action): f"{int(r.action)} · {r.domain_title} · {r.status}" for r in frame.itertuples()}
    number = st.selectbox("Action", list(labels), format_func=labels.get, key="actions_edit_action")
    row = frame.set_index("action").loc[number]
    prefix = f"actions_edit_{number}"  # fresh widgets per action, filled with its stored values
    status = st.selectbox("Status", ACTION_STATUSES, index=ACTION_STATUSES.index(row["status"]),
                          key=f"{prefix}_status")
    levels = _levels(questionnaire)
    left, right = st.columns(2)
    target = left.selectbox("Target level", list(levels), index=list(levels).index(int(row["target_level"]))
                            if int(row["target_level"]) in levels else 0, format_func=levels.get,
                            key=f"{prefix}_target")
    due = right.date_input("Due", value=row["due"], key=f"{prefix}_due", format="YYYY-MM-DD")
    owner = st.text_input("Owner", value=row["owner"], key=f"{prefix}_owner", max_chars=200)
    what = st.text_area("What will be done", value=row["what"], key=f"{prefix}_what", max_chars=10_000)
    notes = st.text_area("Notes", value=row["notes"], key=f"{prefix}_notes", max_chars=10_000)
    if st.button("Save the changes", key="actions_edit_save", type="primary", icon=":material/save:"):
        _save(lambda session: service.update_action(session, resources.principal(), number, status=status,
                                                    target_level=target, due=due, owner=owner, what=what,
                                                    notes=notes),
              f"Action {number} saved.")


# -- the one-line panels on other pages -------------------------------------------------------------------------
def add_from_gaps(version: str, partnership: str, round_key: str, gaps: pd.DataFrame,
                  questionnaire: Questionnaire | None) -> None:
    """Results: turn a domain's gap into an action (leads), and how many actions each domain already has."""
    if questionnaire is None:
        return
    actions = open_actions(version, partnership)
    titles = {d.id: d.title for d in questionnaire.domains}
    gap = gaps.set_index("domain")["gap_to_median"] if not gaps.empty else pd.Series(dtype=float)
    order = sorted(titles, key=lambda d: (pd.isna(gap.get(d)), gap.get(d, 0.0)))  # widest gap below peers first
    labels = {d: titles[d] + ("" if pd.isna(gap.get(d)) else f" (gap to peer median {gap[d]:+.2f})") for d in order}
    counts = actions["domain"].value_counts()
    if len(counts):
        st.caption("Open actions: " + " · ".join(f"{widgets.plain(titles.get(d, d))}: {n}" for d, n in counts.items()))
    if not may_edit(partnership):
        return
    with st.expander("Add an action for a domain's gap", icon=":material/add_task:"):
        flash()
        add_panel("results_action", partnership, questionnaire, domains=labels, round_key=round_key,
                  levels_now=_levels_now(gaps, questionnaire))
    st.page_link("app_pages/actions.py", label="See every action", icon=":material/checklist:")


def _levels_now(gaps: pd.DataFrame, questionnaire: Questionnaire) -> dict[str, int]:
    """Each domain's maturity level from its shown score in the gap table (hidden scores give none)."""
    if gaps.empty or "score" not in gaps.columns:
        return {}
    shown = gaps.dropna(subset=["score"])
    return {d: band.level for d, score in zip(shown["domain"], shown["score"], strict=True)
            if (band := questionnaire.level_for(float(score))) is not None}


def portfolio_panel(version: str, keys: list[str]) -> None:
    """Portfolio: per partnership of the chosen set (``keys``), how many actions are open, overdue and met at
    review."""
    counts = portfolio_counts(version)
    counts = counts[counts["partnership"].astype(str).isin(keys)]
    st.subheader("Action plans")
    if counts.empty or not int(counts["actions"].sum()):
        st.caption("No actions agreed yet in these partnerships.")
        return
    names = widgets.partnership_names(version)
    widgets.table(counts.assign(partnership=counts["partnership"].map(lambda p: names.get(p, p))), hide_index=True,
                 key="portfolio_actions_table",
                 column_config={"partnership": "Partnership", "actions": "Actions", "open": "Open",
                                "overdue": "Overdue", "met": "Target met at review"})
