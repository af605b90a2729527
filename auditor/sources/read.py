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
              instance_ids: list[str] | None = None, progress: Progress | None = None
              ) -> tuple[list[RawRegion], SourceDescription]:
    """The raw answers from a snapshot, else from the account, and where they came from."""
    if snapshot:
        from auditor.sources.snapshot import read_snapshot

        return read_snapshot(snapshot, regions), SourceDescription("snapshot", path=snapshot)
    from auditor.sources.live import collect

    return (collect(regions, profile, instance_ids, progress),
            SourceDescription("aws", profile=profile or os.environ.get("AWS_PROFILE")))


def pick_region(raws: list[RawRegion], region: str | None) -> RawRegion:
    """The one region a plan is laid over: the only one, or the one ``region`` names."""
    if len(raws) == 1:
        return raws[0]
    chosen = [raw for raw in raws if raw.region == region]
    if not chosen:
        raise UsageError(f"the estate holds {', '.join(r.region for r in raws)}: say which "
                         "region the plan is for with --region")
    return chosen[0]
