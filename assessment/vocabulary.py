"""The product's shared words, defined once: every other module imports them from here.

Agencies (sectors) are the groups respondents belong to; the order is the order the product lists them in
(police first, then the NHS bodies, the local authority, the voluntary sector, lived experience, other).
This module sits at the bottom of the layers (it imports nothing from the library), so the questionnaire
format, the scoring engine, storage, charts and the app can all use it.
"""

from __future__ import annotations

__all__ = ["AGENCIES", "AGENCY_LABELS", "agency_label"]

#: Agency code -> the label users read. The keys, in this order, are the only valid agency codes.
AGENCY_LABELS: dict[str, str] = {
    "police": "Police",
    "mental_health_trust": "Mental health trust",
    "icb": "Integrated care board",
    "acute_trust": "Acute hospital trust",
    "ambulance": "Ambulance service",
    "local_authority": "Local authority",
    "vcse": "Voluntary sector (VCSE)",
    "lived_experience": "Lived experience",
    "other": "Other",
}

#: The agency codes, in the product's order.
AGENCIES: tuple[str, ...] = tuple(AGENCY_LABELS)


def agency_label(code: str) -> str:
    """The label of an agency code; an unknown code is returned as it is."""
    return AGENCY_LABELS.get(code, code)
