"""The raw answers of an estate: from a snapshot, else from the account (live).

The one way every command and pipeline reads them. Progress of a live read goes to the
``progress`` callback the caller passes (the command line shows it on a terminal).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from auditor.errors import UsageError
from auditor.sources.description import SourceDescription
from auditor.sources.raw import RawRegion

if TYPE_CHECKING:  # the live reader (and boto3) loads only for a live read
    from auditor.sources.live import Progress


def read_raws(snapshot: str | None, regions: list[str] | None, profile: str | None,
              instance_ids: list[str] | None = None, progress: Progress | None = None,
              accounts: list[str] | None = None
              ) -> tuple[list[RawRegion], SourceDescription]:
    """The raw answers from a snapshot, else from the account, and where they came from.

    An organization snapshot gives the units of ``accounts``, else of the accounts holding
    ``instance_ids``, else all of them (``pick_region`` then asks for one account)."""
    if snapshot is not None:  # "" is not "no snapshot": read_snapshot refuses it
        from auditor.sources.organization.snapshot import (
            is_organization_snapshot,
            organization_raws,
        )
        from auditor.sources.snapshot import read_snapshot

        if is_organization_snapshot(snapshot):
            return (organization_raws(snapshot, regions, accounts, instance_ids),
                    SourceDescription("snapshot", path=snapshot))

        return read_snapshot(snapshot, regions), SourceDescription("snapshot", path=snapshot)
    from auditor.sources.live import collect

    return (collect(regions, profile, instance_ids, progress),
            SourceDescription("aws", profile=profile or os.environ.get("AWS_PROFILE")))


def pick_region(raws: list[RawRegion], region: str | None) -> RawRegion:
    """The one region a plan is laid over: the only one, or the one ``region`` names."""
    if len(raws) == 1:
        return raws[0]
    one_account(raws)
    chosen = [raw for raw in raws if raw.region == region]
    if not chosen:
        raise UsageError(f"the estate holds {', '.join(r.region for r in raws)}: say which "
                         "region the plan is for with --region")
    return chosen[0]


def one_account(raws: list[RawRegion] | list[str]) -> None:
    """A plan is for one account: refuse raw answers (or account ids) of several, as an
    organization snapshot holds."""
    accounts = sorted({raw if isinstance(raw, str) else raw.account_id for raw in raws} - {""})
    if len(accounts) > 1:
        shown = ", ".join(accounts[:5]) + (", ..." if len(accounts) > 5 else "")
        raise UsageError(f"the organization snapshot holds {len(accounts)} accounts "
                         f"({shown}): say which one with --accounts ID")


def one_account_of(snapshot: str | None, accounts: list[str] | None) -> None:
    """Before reading a snapshot for a plan: an organization snapshot of several accounts
    needs ``accounts`` to name one."""
    from auditor.sources.organization import Selection, SnapshotUnits, is_organization_snapshot

    if snapshot and not accounts and is_organization_snapshot(snapshot):
        one_account([unit.account_id for unit in SnapshotUnits(snapshot).units(Selection())])
