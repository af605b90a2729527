"""``Fn::ForEach`` of the ``AWS::LanguageExtensions`` transform, expanded in ``Resources``.

``Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]`` repeats its fragment
once per item of the collection: ``${Identifier}`` and ``&{Identifier}`` (the item without its
non-alphanumeric characters) are replaced in keys and strings, ``Ref: Identifier`` by the item.
A loop whose collection is known only at deployment cannot be expanded: it is returned with
the reason, so that what it would create is reported unknown rather than left out. CloudFormation's
quotas apply to the template the loops produce: more copies than its resources quota, or more
values than ``limits.EXPANDED_VALUES``, is refused in one line before they are made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from auditor import limits
from auditor.errors import UsageError
from auditor.sources.bounded_read import beyond, count_values
from auditor.sources.template.intrinsics import Resolver, as_text, first_unresolved

PREFIX = "Fn::ForEach::"


@dataclass(frozen=True)
class Unexpanded:
    key: str  # Fn::ForEach::Name
    reason: str
    types: tuple[str, ...]  # the resource types its fragment would create


def is_loop(key: Any, value: Any) -> bool:
    return isinstance(key, str) and key.startswith(PREFIX) and isinstance(value, list) \
        and len(value) == 3


def _substitute(value: Any, identifier: str, item: str) -> Any:
    if isinstance(value, str):
        return value.replace(f"${{{identifier}}}", item).replace(
            f"&{{{identifier}}}", re.sub(r"[^A-Za-z0-9]", "", item))
    if isinstance(value, list):
        return [_substitute(entry, identifier, item) for entry in value]
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        return {_substitute(key, identifier, item): _substitute(entry, identifier, item)
                for key, entry in value.items()}
    return value


def _types(fragment: Any) -> tuple[str, ...]:
    found: list[str] = []
    for key, value in (fragment.items() if isinstance(fragment, dict) else []):
        if is_loop(key, value):
            found += _types(value[2])
        elif isinstance(value, dict) and isinstance(value.get("Type"), str):
            found.append(value["Type"])
    return tuple(found)


class Budget:
    """What the loops of one template may still make (copies of fragments, values)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.copies = limits.TEMPLATE_RESOURCES.value
        self.values = limits.EXPANDED_VALUES.value

    def spend(self, key: str, fragment: Any) -> None:
        self.copies -= 1
        self.values -= count_values(fragment)
        if self.copies < 0:
            raise UsageError(f"{self.what}: {key} makes more copies than "
                             f"{beyond(limits.TEMPLATE_RESOURCES)}")
        if self.values < 0:
            raise UsageError(f"{self.what}: {key} expands the template past "
                             f"{beyond(limits.EXPANDED_VALUES)}")


def expand(resources: dict[str, Any], resolver: Resolver, budget: Budget
           ) -> tuple[dict[str, Any], list[Unexpanded]]:
    """The resources with every loop expanded, and the loops that could not be."""
    expanded: dict[str, Any] = {}
    unexpanded: list[Unexpanded] = []
    for key, value in resources.items():
        if not is_loop(key, value):
            expanded[key] = value
            continue
        identifier, collection, fragment = value
        items = resolver.resolve(collection)
        found = first_unresolved(items)
        if found or not isinstance(items, list) or not isinstance(identifier, str) \
                or not isinstance(fragment, dict):
            reason = found.reason if found else "its identifier, collection or fragment " \
                                                "is not of the form Fn::ForEach takes"
            unexpanded.append(Unexpanded(key, reason, _types(fragment)))
            continue
        for item in items:
            budget.spend(key, fragment)
            inner, loops = expand(_substitute(fragment, identifier, as_text(item)), resolver,
                                  budget)
            expanded.update(inner)
            unexpanded += loops
    return expanded, unexpanded
