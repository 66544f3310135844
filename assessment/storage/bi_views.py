"""SQL views for BI tools: the stored scores of closed rounds with every suppressed figure blanked in SQL.

A BI tool (Power BI, Metabase, a spreadsheet over ODBC) connects as a role that may read these views and
nothing else: on PostgreSQL the migration creates the role :data:`BI_ROLE` (``NOLOGIN``; grant it to a login
role, docs/storage.md) with ``SELECT`` on the views only. A PostgreSQL view runs with its owner's rights, so
the role reads the blanked figures without any right on the base tables (``score_*``, ``answers``, ...).

Which figure is blank in which row is decided by :data:`assessment.disclosure.HIDDEN_FIGURES`, the same map
:func:`assessment.disclosure.blank_suppressed` applies to frames: each figure becomes
``CASE WHEN hidden IN (<codes hiding it>) THEN NULL ELSE <figure> END``. Respondent-level scores have no
view (they leave only through the data-custodian export).
"""

from __future__ import annotations

from assessment.disclosure import HIDDEN_FIGURES

__all__ = ["BI_ROLE", "BI_VIEWS", "create_statements", "drop_statements", "grant_statements"]

#: The PostgreSQL role that may read the views (and nothing else).
BI_ROLE = "assessment_bi"

_KEYS = ("p.key AS partnership", "r.key AS round", "r.period AS period", "q.questionnaire AS questionnaire",
         "q.version AS version")
_JOINS = ("JOIN rounds r ON r.id = s.round_id JOIN partnerships p ON p.id = r.partnership_id "
          "JOIN questionnaire_versions q ON q.id = r.questionnaire_version_id")
_FLAGS = ("suppressed", "suppression_reason", "hidden")

#: view name -> (base table, its columns in order, any extra join).
BI_VIEWS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "bi_partnership_scores": ("score_partnerships", (
        "domain", "score", "level", "level_label", "respondent_mean", "median", "sd", "n_respondents",
        "n_agencies", "dk_rate", "agency_gap", "split", *_FLAGS), ""),
    "bi_agency_scores": ("score_agencies", ("domain", "agency", "score", "n_respondents", *_FLAGS), ""),
    "bi_overall_scores": ("score_overall", ("score", "level", "level_label", "n_domains_scored", *_FLAGS), ""),
    "bi_item_scores": ("score_items", ("item", "domain", "mean", "n_answered", "n_na", "n_dk", "dk_rate",
                                       *_FLAGS), ""),
    "bi_item_counts": ("score_item_counts", ("item", "value", "count"),
                       " JOIN score_items i ON i.round_id = s.round_id AND i.item = s.item"),
}


def _hiding_codes(column: str) -> list[str]:
    figure = "count_*" if column == "count" else column
    return sorted(code for code, figures in HIDDEN_FIGURES.items() if figure in figures)


def _select_column(column: str, flags_from: str) -> str:
    codes = _hiding_codes(column)
    if not codes:
        return f"s.{column} AS {column}"
    listed = ", ".join(f"'{code}'" for code in codes)
    return f"CASE WHEN {flags_from}.hidden IN ({listed}) THEN NULL ELSE s.{column} END AS {column}"


def create_statements() -> list[str]:
    """``CREATE VIEW`` for every BI view (closed rounds only; suppressed figures NULL)."""
    out = []
    for view, (table, columns, extra) in BI_VIEWS.items():
        flags_from = "i" if extra else "s"
        selected = ", ".join([*_KEYS, *(_select_column(c, flags_from) for c in columns)])
        out.append(f"CREATE VIEW {view} AS SELECT {selected} FROM {table} s {_JOINS}{extra} "
                   "WHERE r.status = 'closed'")
    return out


def drop_statements() -> list[str]:
    return [f"DROP VIEW IF EXISTS {view}" for view in BI_VIEWS]


def grant_statements() -> list[str]:
    """PostgreSQL: the role (created when missing and the migrating user may create roles) and its grants.

    Roles belong to the whole server, so the role is never dropped; a user who may not create roles gets a
    notice, and an administrator runs docs/storage.md's statements instead.
    """
    views = ", ".join(BI_VIEWS)
    return [
        f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{BI_ROLE}') THEN
    CREATE ROLE {BI_ROLE} NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  WHEN insufficient_privilege THEN RAISE NOTICE 'cannot create role {BI_ROLE}: see docs/storage.md';
END $$""",
        f"""DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{BI_ROLE}') THEN
    EXECUTE 'GRANT USAGE ON SCHEMA ' || quote_ident(current_schema()) || ' TO {BI_ROLE}';
    GRANT SELECT ON {views} TO {BI_ROLE};
  END IF;
END $$""",
    ]
