"""Where a resource is written, for reports of templates: a file, a line, a logical id.

A ``Locator`` maps a resource id of the audited estate to the template reader's ``LogicalRef``
(path, line, logical id, resource type, CDK construct path), or None when the resource is not
from a template (a live or snapshot estate has none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the type only: a report of a live estate never loads the template reader
    from auditor.sources.template.context import LogicalRef

Locator = Callable[[str], "LogicalRef | None"]


def nowhere(_resource_id: str) -> LogicalRef | None:
    """The locator of an estate that was not written in a template."""
    return None
