"""The questionnaire file format as strict, frozen pydantic models.

A questionnaire version is data: ``questionnaires/<id>/<MAJOR.MINOR.PATCH>.yaml``. These models are the
only way the rest of the library sees it: unknown keys are rejected, nothing can be reassigned after
loading, and defaults are filled in (so ``model_dump`` gives the normalised definition).
Cross-references (duplicate ids, descriptors for every level, bands, sources, the change list) are
checked in :mod:`assessment.questionnaire.validation`, which reports every problem with its place.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assessment.vocabulary import AGENCIES

__all__ = [
    "ANSWER_LABELS",
    "DONT_KNOW",
    "NOT_APPLICABLE",
    "Agency",
    "Band",
    "Change",
    "ChangeKind",
    "Domain",
    "Item",
    "Questionnaire",
    "Scale",
    "ScaleLevel",
]

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
ITEM_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$"
SEMVER_PATTERN = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"

#: An agency code from :mod:`assessment.vocabulary` (the JSON Schema lists them as an enum).
Agency = Literal[AGENCIES]  # type: ignore[valid-type]  # built from the one list of agencies

ChangeKind = Literal["reworded", "added", "removed", "split", "merged", "moved", "rescaled"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


#: The two answers that are not a scale level, as stored and in answer files; ``ANSWER_LABELS`` is what
#: respondents read for them.
NOT_APPLICABLE = "NA"
DONT_KNOW = "DK"
ANSWER_LABELS = {NOT_APPLICABLE: "Not applicable here", DONT_KNOW: "Don't know"}


class ScaleLevel(_Strict):
    """One point of the response scale, e.g. ``{value: 1, label: Initial}``."""

    value: int = Field(description="The number scored for this level.")
    label: str = Field(min_length=1, description="The level's name, e.g. 'Initial'.")


class Scale(_Strict):
    """The response scale shared by every item; NA = not applicable here, DK = don't know."""

    levels: tuple[ScaleLevel, ...] = Field(min_length=2, description="Levels from lowest to highest.")
    allow_na: bool = Field(True, description="Whether respondents may answer NA (not applicable).")
    allow_dk: bool = Field(True, description="Whether respondents may answer DK (don't know).")
    # Optional keys added in format 2.0.0 leave the content hash alone when absent (``exclude_if``), so
    # versions published before them keep their hashes.
    instruction: str = Field(
        "", exclude_if=lambda v: v == "",
        description="Plain text shown to every respondent above the items, e.g. how to choose a level.",
    )

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(level.value for level in self.levels)

    @property
    def minimum(self) -> int:
        return min(self.values)

    @property
    def maximum(self) -> int:
        return max(self.values)

    def label(self, value: int) -> str:
        return next(level.label for level in self.levels if level.value == value)

    def accepted_answers(self) -> tuple[str, ...]:
        """Every answer a respondent may give, as stored: the levels' values as text (lowest first), then
        ``NA`` and ``DK`` where the scale allows them. An empty answer (not answered) is not listed."""
        special = [answer for answer, allowed in ((NOT_APPLICABLE, self.allow_na), (DONT_KNOW, self.allow_dk))
                   if allowed]
        return (*(str(value) for value in self.values), *special)


class Band(_Strict):
    """Maps scores to maturity levels: a score reaches this band when ``score >= lower_bound``."""

    lower_bound: float = Field(description="Lowest score in this band (inclusive).")
    level: int = Field(description="The maturity level number.")
    label: str = Field(min_length=1, description="The maturity level's name.")


class Item(_Strict):
    """One statement of practice, answered on the scale with an anchored descriptor for every level."""

    id: str = Field(pattern=ITEM_ID_PATTERN, description="Stable id, e.g. 'governance.joint_board'. Never reused.")
    text: str = Field(min_length=1, description="The statement of practice respondents rate.")
    guidance: str = Field("", description="What evidence a board should look at when answering.")
    weight: float = Field(1.0, gt=0, description="Weight within its domain (greater than 0).")
    descriptors: dict[int, str] = Field(description="One concrete, observable descriptor per scale level.")
    sources: tuple[str, ...] = Field((), description="Bibliography keys this item is built from.")
    answered_by: tuple[Agency, ...] | None = Field(
        None, exclude_if=lambda v: v is None,
        description="The agencies this item is asked of (agency codes); absent = every agency.",
    )

    def asked_of(self, agency: str) -> bool:
        """Whether respondents of ``agency`` are asked this item."""
        return self.answered_by is None or agency in self.answered_by


class Domain(_Strict):
    """A component of successful partnerships: a group of items scored together."""

    id: str = Field(pattern=ID_PATTERN, description="Stable domain id, e.g. 'governance'.")
    title: str = Field(min_length=1)
    description: str = Field("", description="Why this component matters, with sources.")
    weight: float = Field(1.0, gt=0, description="Weight in the overall score (greater than 0).")
    items: tuple[Item, ...] = Field(min_length=1)
    level_descriptions: dict[int, str] = Field(
        default_factory=dict, exclude_if=lambda v: not v,
        description="Maturity level (each bands[].level) -> what that level looks like for the domain as a whole.",
    )

    def items_for(self, agency: str) -> tuple[Item, ...]:
        """The items of this domain asked of ``agency``."""
        return tuple(item for item in self.items if item.asked_of(agency))


class Change(_Strict):
    """One entry of the change list against ``previous``.

    ``split``: ``item`` is the old id, ``into`` the new ids. ``merged``: ``item`` is the new id, ``from``
    the old ids. ``moved``: ``item`` keeps its id and moves ``to`` another domain.
    """

    item: str = Field(description="The item the change is about.")
    change: ChangeKind
    into: tuple[str, ...] | None = Field(None, description="For 'split': the new item ids.")
    from_: tuple[str, ...] | None = Field(None, alias="from", description="For 'merged': the old item ids.")
    to: str | None = Field(None, description="For 'moved': the new domain id.")
    note: str = Field("", description="Why the change was made.")


class Questionnaire(_Strict):
    """One immutable questionnaire version."""

    id: str = Field(pattern=ID_PATTERN, description="Questionnaire id; also the folder name.")
    version: str = Field(pattern=SEMVER_PATTERN, description="MAJOR.MINOR.PATCH; also the file name.")
    previous: str | None = Field(None, pattern=SEMVER_PATTERN, description="The version this one revises.")
    title: str = Field(min_length=1)
    description: str = ""
    published: dt.date = Field(description="Publication date, YYYY-MM-DD.")
    scale: Scale
    bands: tuple[Band, ...] = Field(min_length=1)
    domains: tuple[Domain, ...] = Field(min_length=1)
    changes: tuple[Change, ...] = ()
    comparable_domains: tuple[str, ...] = Field(
        (), description="Domains declared comparable with `previous` even though their items changed."
    )
    bibliography: dict[str, str] = Field(default_factory=dict, description="Source key -> full citation.")
    min_items: int = Field(
        1, ge=1, exclude_if=lambda v: v == 1,
        description="Answered items a respondent needs in a domain for a domain score (as well as the coverage).",
    )

    # -- convenient views (pure, derived) --------------------------------------------------------
    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for domain in self.domains for item in domain.items)

    def domain_of(self, item_id: str) -> str:
        for domain in self.domains:
            for item in domain.items:
                if item.id == item_id:
                    return domain.id
        raise KeyError(item_id)

    def domain(self, domain_id: str) -> Domain:
        for domain in self.domains:
            if domain.id == domain_id:
                return domain
        raise KeyError(domain_id)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def items_for(self, agency: str) -> tuple[Item, ...]:
        """The items asked of ``agency``, in questionnaire order."""
        return tuple(item for item in self.items if item.asked_of(agency))

    @property
    def routed(self) -> bool:
        """Whether any item is asked of only some agencies."""
        return any(item.answered_by is not None for item in self.items)

    def level_description(self, domain_id: str, level: int | None) -> str:
        """What maturity ``level`` looks like for the domain (its ``level_descriptions``); "" when none."""
        if level is None or domain_id not in {d.id for d in self.domains}:
            return ""
        return self.domain(domain_id).level_descriptions.get(int(level), "")

    def level_for(self, score: float) -> Band | None:
        """The highest band whose lower bound the (unrounded) score reaches."""
        reached = [band for band in self.bands if score >= band.lower_bound]
        return max(reached, key=lambda band: band.lower_bound) if reached else None


def version_key(version: str) -> tuple[int, int, int]:
    """Sort key for MAJOR.MINOR.PATCH strings."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch
