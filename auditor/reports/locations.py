"""Where a resource is written, for reports of templates: a file, a line, a logical id.

A ``Locator`` maps a resource id of the audited estate to its ``SourceLocation``, or None when
the resource is not from a template (a live or snapshot estate has none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """Where a resource is written: a template file, its line, its logical id."""

    uri: str
    line: int | None
    logical_id: str
    construct_path: str = ""  # the CDK construct that made the resource, when known
    resource_type: str = ""


Locator = Callable[[str], SourceLocation | None]


def nowhere(_resource_id: str) -> SourceLocation | None:
    """The locator of an estate that was not written in a template."""
    return None
