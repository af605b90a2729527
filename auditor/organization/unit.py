"""One unit (an account and a region) read and audited: the one function a ``--org`` run calls
per unit on its pool and the Step Functions Lambda calls per invocation.

The unit report is plain JSON-ready data::

    {"unit": {"account_id", "region", "status": "ok" | "error", "error": str | None,
              "instances": N, "summary": {verdict: count}, "seconds": float,
              "unavailable": {kind: reason}},        # what could not be read, when any
     "instances": [ ... ]}                           # as the JSON report gives them

``unit`` is the entry of the report's ``units``. A unit that cannot be read (role missing or
refused, region disabled, throttled past the retries, out of time) has ``status: "error"`` and
the reason, and no instances.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from auditor.audit import run_audit
from auditor.errors import UsageError
from auditor.reports.json_report import instance_dicts, summary
from auditor.sources.far_sides import accounts_wanted, add_far_sides
from auditor.sources.organization.units import Unit, UnitFailure
from auditor.sources.parse import build_estate

if TYPE_CHECKING:
    from auditor.model import Estate
    from auditor.sources.live import Progress
    from auditor.sources.organization.units import UnitSource

OK = "ok"
ERROR = "error"


def audit_unit(unit: Unit | dict[str, Any], source: UnitSource, *,
               timeout: float | None = None, progress: Progress | None = None
               ) -> dict[str, Any]:
    """Read ``unit`` from ``source`` and audit every instance in it: the unit report.

    ``timeout`` (seconds) bounds the reading: past it the unit fails with "timed out". Never
    raises for a unit that cannot be read or whose answers are malformed: that is the unit's
    ``error``.
    """
    unit = unit if isinstance(unit, Unit) else Unit.from_dict(unit)
    started = time.monotonic()
    deadline = started + timeout if timeout else None
    try:
        estate = build_estate(source.read(unit, deadline, progress))
        if estate.instances:  # proved once, on the estate completed by its far sides
            add_far_sides(estate, _far_sides(source, unit, estate, deadline))
        report = run_audit([estate], None, source.description().describe([estate]))
    except (UnitFailure, UsageError) as failure:
        return {"unit": unit_entry(unit, ERROR, str(failure), started=started),
                "instances": []}
    except Exception as error:  # a bug: this unit fails, the others go on
        if os.environ.get("SSM_AUDITOR_DEBUG"):
            raise
        reason = " ".join(f"internal error: {type(error).__name__}: {error}".split())
        return {"unit": unit_entry(unit, ERROR, reason, started=started), "instances": []}
    entry = unit_entry(unit, OK, None, len(report.instances), summary(report), started)
    unavailable = estate.unavailable if report.instances else {}
    if unavailable:
        entry["unavailable"] = dict(unavailable)
    return {"unit": entry, "instances": instance_dicts(report)}


def _far_sides(source: UnitSource, unit: Unit, estate: Estate, deadline: float | None
               ) -> list[Estate]:
    """The other accounts' estates of the unit's region that its transit gateways and peering
    connections lead to (a network account's gateway tables and hub VPC), those that can be
    read: what cannot stays ``DATA_UNAVAILABLE`` naming the account."""
    neighbours = []
    for account_id in sorted(accounts_wanted(estate)):
        try:
            raw = source.read_network(Unit(account_id, unit.region), deadline)
        except (UnitFailure, UsageError):
            continue
        neighbours.append(build_estate(raw))
    return neighbours


def unit_entry(unit: Unit, status: str, error: str | None, instances: int = 0,
               verdicts: dict[str, int] | None = None, started: float | None = None
               ) -> dict[str, Any]:
    """The report's ``units`` entry of a unit."""
    entry: dict[str, Any] = {"account_id": unit.account_id, "region": unit.region,
                             "status": status, "error": error, "instances": instances,
                             "summary": verdicts or {}}
    if started is not None:
        entry["seconds"] = round(time.monotonic() - started, 3)
    return entry
