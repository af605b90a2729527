"""JSON Lines: one instance a line, as the JSON report gives it (for very large runs: a line
can be processed as soon as it is written, and nothing needs the whole document).

In organization mode (``--org``) each unit's instances are followed by one line
``{"unit": {...}}``, the unit's entry of the JSON report's ``units`` (also for a unit that
could not be read). An instance line always has ``instance_id``, a unit line never.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

from auditor.reports import RenderOptions
from auditor.reports.json_report import encode_instance, instance_dicts

if TYPE_CHECKING:
    from auditor.audit import AuditReport


def render(report: AuditReport, options: RenderOptions | None = None) -> str:
    encoded: dict[int, str] = {}
    return "\n".join(encode_instance(instance, encoded) for instance in instance_dicts(report))


class UnitWriter:
    """``--org``: each unit's instances, then its ``{"unit": ...}`` line, as it finishes."""

    def __init__(self, out: IO[str], options: RenderOptions | None = None) -> None:
        self.out = out

    def begin(self, source: dict[str, Any]) -> None:
        pass

    def unit(self, document: dict[str, Any]) -> None:
        encoded: dict[int, str] = {}
        for instance in document["instances"]:
            self.out.write(encode_instance(instance, encoded) + "\n")
        self.out.write(json.dumps({"unit": document["unit"]}) + "\n")

    def end(self, units: list[dict[str, Any]], summary: dict[str, int]) -> None:
        pass
