"""Cached reads of outcome indicators for the pages (through the service layer, keyed on the data version).

Registered with ``_resources._cached``, so each read is per principal and fresh after any write.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _resources as resources
from app_pages._resources import _cached, reading
from assessment import service
from assessment.permissions import Principal


@st.cache_resource(show_spinner=False)
def catalogue():
    """The shipped indicator catalogue (files only: the same for everyone), checked against the shipped
    questionnaire it links to (a deployment may serve only some questionnaire versions)."""
    from assessment.indicators import get_catalogue
    from assessment.settings import default_questionnaires_dir

    return get_catalogue(questionnaires_dir=default_questionnaires_dir())


@_cached
def partnership_indicators(version: str, who: Principal, partnership: str) -> service.PartnershipIndicators:
    with reading() as session:
        return service.partnership_indicators(session, who, partnership,
                                              tolerance=resources.settings().reconciliation_tolerance,
                                              catalogue=catalogue())


@_cached
def indicator_entered_values(version: str, who: Principal, partnership: str) -> pd.DataFrame:
    with reading() as session:
        return service.indicator_values(session, who, partnership)


@_cached
def indicator_periods(version: str, who: Principal) -> pd.DataFrame:
    with reading() as session:
        return service.indicator_periods(session, who)


@_cached
def indicator_region_medians(version: str, who: Principal, period: str) -> pd.DataFrame:
    config = resources.settings()
    with reading() as session:
        return service.region_indicator_medians(session, who, period, min_peers=config.min_peers,
                                                min_peers_spread=config.min_peers_spread, catalogue=catalogue())


@_cached
def indicator_association_points(version: str, who: Principal, domain: str, indicator: str, period: str):
    config = resources.settings()
    with reading() as session:
        return service.indicator_association(session, who, domain, indicator, period,
                                             resamples=config.bootstrap_resamples, seed=config.bootstrap_seed,
                                             catalogue=catalogue())
