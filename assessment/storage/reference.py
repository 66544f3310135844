"""Shipped reference data: the 43 territorial police forces of England and Wales and British Transport Police.

Each force has its nation and region as PRODUCT.md defines them: the ONS region in England, ``Wales`` as
both nation and region, and ``GB`` / ``National`` for British Transport Police. The list is loaded into the
organisations table on first start (and again only for forces that are missing).
"""

from __future__ import annotations

import io
from importlib.resources import files

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from assessment.storage.models import OrganisationRow

__all__ = ["ENGLISH_REGIONS", "forces", "load_reference_data"]

ENGLISH_REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West",
)


def forces() -> pd.DataFrame:
    """The shipped forces: columns key, name, nation, region (44 rows)."""
    text = files("assessment.reference").joinpath("forces.csv").read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def load_reference_data(session: Session) -> int:
    """Insert the shipped forces that are not in the organisations table yet; return how many were added."""
    frame = forces()
    present = set(session.scalars(select(OrganisationRow.key)))
    missing = frame[~frame["key"].isin(present)]
    if missing.empty:
        return 0
    rows = [dict(row, kind="police", reference=True) for row in missing.to_dict("records")]
    session.execute(insert(OrganisationRow), rows)
    return len(rows)
