"""The product's shared words, defined once: every other module imports them from here.

Agencies (sectors) are the groups respondents belong to; the order is the order the product lists them in
(police first, then the NHS bodies, the local authority, the voluntary sector, lived experience, other).
This module sits at the bottom of the layers (it imports nothing from the library), so the questionnaire
format, the scoring engine, storage, charts and the app can all use it.
"""

from __future__ import annotations

__all__ = [
    "ACTION_STATUSES",
    "AGENCIES",
    "AGENCY_LABELS",
    "BUILT_IN_PEER_GROUPS",
    "FALSE_WORDS",
    "OPEN_ACTION_STATUSES",
    "TRUE_WORDS",
    "WIDENING_ORDER",
    "agency_label",
    "parse_yes_no",
    "peer_group_label",
]

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


#: The built-in peer groups, from narrowest to widest: the partnerships in the same region, in the same
#: nation, and all of them. Any other peer group is a custom group (a named list of partnerships); the
#: built-in names cannot name one. A custom group widens to the region first.
WIDENING_ORDER: tuple[str, ...] = ("region", "nation", "all")
BUILT_IN_PEER_GROUPS: tuple[str, ...] = WIDENING_ORDER[::-1]  # all, nation, region


def peer_group_label(group: str, *, nation: str = "", region: str = "") -> str:
    """What users read for a peer group: ``Same region (South East)``, ``All partnerships``, ``Peer group: x``."""
    if group == "all":
        return "All partnerships"
    if group in ("region", "nation"):
        place = region if group == "region" else nation
        return f"Same {group}" + (f" ({place})" if place else "")
    return f"Peer group: {group}"


#: Text read as yes / no (case and surrounding spaces ignored). Empty text is no: a blank cell or an
#: empty environment variable means the flag is off.
TRUE_WORDS: frozenset[str] = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE_WORDS: frozenset[str] = frozenset({"0", "false", "f", "no", "n", "off", ""})


def parse_yes_no(value: object) -> bool:
    """The one reading of a yes/no value: a bool as it is; text from ``TRUE_WORDS`` or ``FALSE_WORDS``.

    Raises ``ValueError`` for anything else, so a typo ("ture", "maybe") is reported, not guessed.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not yes or no (use one of 1/0, true/false, yes/no, on/off)")


#: An action's statuses (action plans, docs/actions.md), in the order an action moves through them; an
#: action that is planned or in progress is open, and it is overdue when open past its due date.
ACTION_STATUSES: tuple[str, ...] = ("planned", "in progress", "done", "dropped")
OPEN_ACTION_STATUSES: tuple[str, ...] = ACTION_STATUSES[:2]
