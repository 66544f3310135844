"""Crosswalk between questionnaire versions: how items map, and which domain scores stay comparable.

Pure functions over loaded :class:`~assessment.questionnaire.schema.Questionnaire` models.

Rule (PRODUCT.md, "Benchmark rules"): a domain is comparable between two versions when its items map one
to one, rewording allowed; an added, removed, split, merged, moved or rescaled item breaks it, and so does
an item whose ``answered_by`` changed (other agencies answer it, so the agency means and the
agency-balanced score mean something else), unless the newer file lists the domain in
``comparable_domains``. Across several versions a domain is comparable
only when it is comparable at every step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from assessment.questionnaire.schema import Item, Questionnaire, version_key
from assessment.vocabulary import AGENCIES

__all__ = [
    "Crosswalk",
    "DomainComparability",
    "ItemChange",
    "build_crosswalk",
    "compare_versions",
]

COMPARABLE_KINDS = frozenset({"unchanged", "reworded"})


@dataclass(frozen=True)
class ItemChange:
    """How one item fared between two versions.

    ``old`` is the item id in the older version (None for an added item); ``new`` the ids it maps to in
    the newer version (empty for a removed item).
    """

    change: str
    old: str | None
    new: tuple[str, ...]
    old_domain: str | None
    new_domain: str | None

    @property
    def subject(self) -> str:
        """The id a user would name this change by (the old id, or the new id for added/merged)."""
        if self.change in ("added", "merged"):
            return self.new[0]
        return self.old or self.new[0]


@dataclass(frozen=True)
class DomainComparability:
    domain: str
    comparable: bool
    reason: str


@dataclass(frozen=True)
class Crosswalk:
    """The item mapping and per-domain comparability between ``old`` and ``new``."""

    questionnaire: str
    old_version: str
    new_version: str
    items: tuple[ItemChange, ...]
    domains: tuple[DomainComparability, ...]

    def is_comparable(self, domain: str) -> bool:
        return any(d.domain == domain and d.comparable for d in self.domains)

    def reason(self, domain: str) -> str:
        for d in self.domains:
            if d.domain == domain:
                return d.reason
        return f"domain '{domain}' is in neither version"

    @property
    def item_mapping(self) -> dict[str, tuple[str, ...]]:
        """Old item id -> new item ids (empty tuple when removed)."""
        return {c.old: c.new for c in self.items if c.old is not None}


def _asked(item: Item) -> tuple[str, ...]:
    """The agencies an item is asked of, in vocabulary order (absent ``answered_by`` = every agency)."""
    return tuple(agency for agency in AGENCIES if item.asked_of(agency))


def _agencies(asked: tuple[str, ...]) -> str:
    return "every agency" if asked == AGENCIES else ", ".join(asked)


def _routing_changes(old: Questionnaire, new: Questionnaire, rows: list[ItemChange]) -> dict[str, list[str]]:
    """Domain id -> "item answered_by changed (...)" for kept items asked of other agencies than before."""
    old_items = {item.id: item for item in old.items}
    new_items = {item.id: item for item in new.items}
    out: dict[str, list[str]] = {}
    for row in rows:
        if row.change not in COMPARABLE_KINDS or row.old is None:
            continue  # every other kind breaks the domain already
        before, after = _asked(old_items[row.old]), _asked(new_items[row.new[0]])
        if before != after:
            detail = f"{row.subject} answered_by changed ({_agencies(before)} -> {_agencies(after)})"
            out.setdefault(row.new_domain or "", []).append(detail)
    return out


def _content_same(a, b) -> bool:
    return a.text == b.text and a.descriptors == b.descriptors


def build_crosswalk(old: Questionnaire, new: Questionnaire) -> Crosswalk:
    """Compare two adjacent versions using the newer file's change list and the items themselves.

    The kind of each item change is read from the content (ids present, domain, text, descriptors,
    weight) and the declared ``split``/``merged``/``rescaled`` entries, which the content alone cannot
    tell apart. Validation then checks that this computed diff equals the declared change list.
    """
    old_items = {item.id: item for item in old.items}
    new_items = {item.id: item for item in new.items}
    old_domain = {item.id: d.id for d in old.domains for item in d.items}
    new_domain = {item.id: d.id for d in new.domains for item in d.items}
    split_into = {c.item: tuple(c.into or ()) for c in new.changes if c.change == "split"}
    merged_from = {c.item: tuple(c.from_ or ()) for c in new.changes if c.change == "merged"}
    merged_into = {old_id: new_id for new_id, olds in merged_from.items() for old_id in olds}
    declared = {c.item: c.change for c in new.changes}

    rows: list[ItemChange] = []
    produced: set[str] = set()
    for old_id, item in old_items.items():
        if old_id in split_into and old_id not in new_items:
            targets = tuple(t for t in split_into[old_id] if t in new_items)
            produced.update(targets)
            rows.append(ItemChange("split", old_id, targets, old_domain[old_id], _common(targets, new_domain)))
        elif old_id in merged_into and merged_into[old_id] in new_items:
            target = merged_into[old_id]
            produced.add(target)
            rows.append(ItemChange("merged", old_id, (target,), old_domain[old_id], new_domain[target]))
        elif old_id in new_items:
            produced.add(old_id)
            other = new_items[old_id]
            if old_domain[old_id] != new_domain[old_id]:
                kind = "moved"
            elif declared.get(old_id) == "rescaled" or item.weight != other.weight:
                kind = "rescaled"
            elif _content_same(item, other):
                kind = "unchanged"
            else:
                kind = "reworded"
            rows.append(ItemChange(kind, old_id, (old_id,), old_domain[old_id], new_domain[old_id]))
        else:
            rows.append(ItemChange("removed", old_id, (), old_domain[old_id], None))
    for new_id in new_items:
        if new_id not in produced:
            rows.append(ItemChange("added", None, (new_id,), None, new_domain[new_id]))

    return Crosswalk(
        questionnaire=new.id,
        old_version=old.version,
        new_version=new.version,
        items=tuple(rows),
        domains=_domain_comparability(old, new, rows),
    )


def _common(ids: tuple[str, ...], domain_of: Mapping[str, str]) -> str | None:
    domains = {domain_of[i] for i in ids}
    return domains.pop() if len(domains) == 1 else None


def _domain_comparability(old: Questionnaire, new: Questionnaire, rows: list[ItemChange]) -> tuple:
    old_ids = [d.id for d in old.domains]
    new_ids = [d.id for d in new.domains]
    declared = set(new.comparable_domains)
    rerouted = _routing_changes(old, new, rows)
    out: list[DomainComparability] = []
    for domain in new_ids + [d for d in old_ids if d not in new_ids]:
        if domain not in old_ids:
            out.append(DomainComparability(domain, False, f"new domain in {new.version}"))
            continue
        if domain not in new_ids:
            out.append(DomainComparability(domain, False, f"domain removed in {new.version}"))
            continue
        breaking = [
            f"{row.subject} {row.change}"
            for row in rows
            if domain in (row.old_domain, row.new_domain) and row.change not in COMPARABLE_KINDS
        ] + rerouted.get(domain, [])
        if not breaking:
            reworded = sum(1 for r in rows if r.new_domain == domain and r.change == "reworded")
            why = "items map one to one" + (f" ({reworded} reworded)" if reworded else "")
            out.append(DomainComparability(domain, True, why))
        elif domain in declared:
            out.append(
                DomainComparability(domain, True, "declared comparable despite: " + ", ".join(breaking))
            )
        else:
            out.append(DomainComparability(domain, False, "; ".join(breaking)))
    return tuple(out)


def compare_versions(
    a: Questionnaire, b: Questionnaire, versions: Mapping[str, Questionnaire]
) -> dict[str, DomainComparability]:
    """Per-domain comparability between any two versions of one questionnaire.

    ``versions`` maps version string -> model for that questionnaire id (the chain of ``previous``
    links is walked through it). Order of ``a`` and ``b`` does not matter. Domains are keyed by id; a
    domain is comparable only if it is comparable at every step between the two versions.
    """
    if a.id != b.id:
        domains = {d.id for d in a.domains} | {d.id for d in b.domains}
        return {d: DomainComparability(d, False, f"different questionnaires ({a.id}, {b.id})") for d in domains}
    old, new = sorted((a, b), key=lambda q: version_key(q.version))
    if old.version == new.version:
        return {d.id: DomainComparability(d.id, True, "same version") for d in new.domains}
    chain = [new]
    while chain[-1].version != old.version:
        prev = chain[-1].previous
        if prev is None or prev not in versions or version_key(prev) < version_key(old.version):
            domains = {d.id for d in old.domains} | {d.id for d in new.domains}
            return {
                d: DomainComparability(d, False, f"no crosswalk from {old.version} to {new.version}")
                for d in domains
            }
        chain.append(versions[prev])
    chain.reverse()
    result = {d.id: DomainComparability(d.id, True, "items map one to one") for d in old.domains}
    for before, after in zip(chain, chain[1:], strict=False):
        step = {d.domain: d for d in build_crosswalk(before, after).domains}
        for domain, verdict in list(result.items()):
            if not verdict.comparable:
                continue
            now = step.get(domain)
            if now is None or not now.comparable:
                reason = now.reason if now is not None else f"domain removed in {after.version}"
                result[domain] = DomainComparability(domain, False, f"{after.version}: {reason}")
            elif len(chain) == 2:
                result[domain] = now
        for d in after.domains:
            if d.id not in result:
                result[d.id] = DomainComparability(d.id, False, f"new domain in {after.version}")
    return result
