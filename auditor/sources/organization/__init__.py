"""A whole AWS Organization as units of (account, region): floor 1 of ``--org``.

The library entry points (the command line and the Step Functions Lambdas use the same):

- ``Unit(account_id, region)``, ``Selection.from_flags(accounts, regions, shard)``,
  ``Shard.parse("I/N")``: what a run covers (``units``).
- ``OrganizationAccess(profile, role_name, external_id, region)``: the caller's session and each
  member's read-only role (``access``).
- ``read_organization(access)`` -> ``OrganizationAnswers``: the organization's own answers
  (accounts, tree, SCPs), read once; ``to_dict``/``from_dict`` to carry them between steps.
- ``list_units(organization, selection, access)`` -> the sorted units of the selection.
- ``LiveUnits(access, organization).read(unit, deadline)`` -> one unit's ``RawRegion``
  (``UnitFailure`` with the reason when it cannot be read); ``SnapshotUnits(DIR)`` the same
  from an organization snapshot, ``SnapshotWriter`` writes one.

The audit of a unit (``audit_unit``) is in ``auditor.organization``.
"""

from __future__ import annotations

from auditor.sources.organization.access import OrganizationAccess, UnitTimeout
from auditor.sources.organization.answers import OrganizationAnswers
from auditor.sources.organization.live import (
    LiveUnits,
    enabled_regions,
    list_units,
    open_live,
    read_organization,
    select_accounts,
)
from auditor.sources.organization.pool import run_pool
from auditor.sources.organization.snapshot import (
    SnapshotUnits,
    SnapshotWriter,
    is_organization_snapshot,
    organization_raws,
)
from auditor.sources.organization.units import (
    ALL_REGIONS,
    Selection,
    Shard,
    Unit,
    UnitFailure,
    UnitSource,
)

__all__ = [
    "ALL_REGIONS", "LiveUnits", "OrganizationAccess", "OrganizationAnswers", "Selection",
    "Shard", "SnapshotUnits", "SnapshotWriter", "Unit", "UnitFailure", "UnitSource", "UnitTimeout",
    "enabled_regions", "is_organization_snapshot", "list_units", "open_live", "organization_raws",
    "read_organization", "run_pool", "select_accounts",
]
