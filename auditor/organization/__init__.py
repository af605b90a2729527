"""A whole AWS Organization, audited unit by unit (floor 6, built on the audit).

- ``audit_unit(unit, source, timeout=None)`` -> the unit report (JSON-ready): read one unit
  (an account and a region) from a ``UnitSource`` (``auditor.sources.organization``: live
  through the account's role, or an organization snapshot) and audit it. The ``--org`` run
  calls it per unit on its pool; the Step Functions Lambda calls it per invocation.
- ``audit_organization(units, source, on_unit, concurrency, timeout)`` -> ``OrganizationRun``:
  every unit on a bounded pool, each report handed to ``on_unit`` as it is done.
"""

from __future__ import annotations

from auditor.organization.run import (
    DEFAULT_LIVE_CONCURRENCY,
    DEFAULT_UNIT_TIMEOUT,
    OrganizationRun,
    audit_organization,
    run_source,
)
from auditor.organization.unit import ERROR, OK, audit_unit, unit_entry

__all__ = ["DEFAULT_LIVE_CONCURRENCY", "DEFAULT_UNIT_TIMEOUT", "ERROR", "OK",
           "OrganizationRun", "audit_organization", "audit_unit", "run_source", "unit_entry"]
