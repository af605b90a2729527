"""ListUnits: the organization's answers, read once, and its units, written to the bucket for
the Distributed Map (its ItemReader reads ``units.json``, a JSON array of units).

Event: ``{"execution": $$.Execution.Name, "started": $$.Execution.StartTime}``.
Returns ``{"bucket", "units_key", "run": {"date", "execution", "organization_key"}, "count"}``.
A caller that may not read the organization fails the execution with the one-line reason.
"""

from __future__ import annotations

from typing import Any

from auditor.lambdas.environment import Settings
from auditor.lambdas.store import Run, Store
from auditor.sources.organization import (
    OrganizationAccess,
    Selection,
    list_units,
    read_organization,
)


def handler(event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
    settings = Settings.from_environ()
    run = Run.of(str(event.get("started") or ""), str(event.get("execution") or ""))
    access = OrganizationAccess(role_name=settings.role_name,
                                external_id=settings.external_id, region=settings.region)
    organization = read_organization(access)
    selection = Selection.from_flags(settings.accounts or None, settings.regions, None)
    units = list_units(organization, selection, access)
    store = Store(settings.bucket)
    store.put_json(run.organization_key, organization.to_dict())
    store.put_json(run.units_key, [unit.to_dict() for unit in units])
    return {"bucket": settings.bucket, "units_key": run.units_key,
            "run": {**run.to_dict(), "organization_key": run.organization_key},
            "count": len(units)}
