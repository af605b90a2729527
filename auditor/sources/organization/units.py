"""The units of an organization audit: one account and one region each, and how a run picks
them (``--accounts``, ``--regions``, ``--shard``).

Plain data: nothing here talks to AWS. ``Unit.to_dict`` / ``from_dict`` is the form a unit
travels in (a Step Functions item, a snapshot manifest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from auditor.errors import UsageError

if TYPE_CHECKING:
    from auditor.sources.description import SourceDescription
    from auditor.sources.live import Progress
    from auditor.sources.raw import RawRegion

ALL_REGIONS = "all"  # --regions all: every region enabled in each account
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


class UnitFailure(Exception):
    """A unit could not be read: the role is missing or refused, the region is disabled, the
    calls were throttled past the retries, it timed out. The message is the one-line reason."""


class UnitSource(Protocol):
    """Where units are read from: ``LiveUnits`` (through the accounts' roles) or
    ``SnapshotUnits`` (an organization snapshot)."""

    def read(self, unit: Unit, deadline: float | None = None,
             progress: Progress | None = None) -> RawRegion:
        """The unit's raw answers; ``UnitFailure`` (the reason) when it cannot be read."""

    def description(self) -> SourceDescription:
        """The report's ``source``."""

    def read_network(self, unit: Unit, deadline: float | None = None) -> RawRegion:
        """The network answers of another account's region (a unit's far side: the transit
        gateway tables and hub VPC a network account holds), whether or not it has
        instances; ``UnitFailure`` when they cannot be read."""


@dataclass(frozen=True, order=True)
class Unit:
    """One account and one region. ``error``: why it cannot be read, known before reading it
    (its account's regions could not be listed: ``region`` is then ``all``)."""

    account_id: str
    region: str
    error: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"

    def to_dict(self) -> dict[str, str]:
        data = {"account_id": self.account_id, "region": self.region}
        if self.error:
            data["error"] = self.error
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unit:
        if not isinstance(data, dict) or not isinstance(data.get("account_id"), str) \
                or not isinstance(data.get("region"), str):
            raise UsageError(f"not a unit: {str(data)[:120]} (expected "
                             '{"account_id": "...", "region": "..."})')
        return cls(data["account_id"], data["region"], str(data.get("error") or ""))


@dataclass(frozen=True)
class Shard:
    """``--shard I/N``: the I-th of N contiguous, equal (to one unit) slices of the sorted
    units. Contiguous, so that an account's regions mostly stay on one runner (its IAM is read
    once); deterministic for the same organization and selection."""

    index: int  # 1..count
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match:
            raise UsageError(f"--shard {text!r}: expected I/N, e.g. 2/8 (the second of eight)")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"--shard {text}: I counts from 1 to N (N at least 1)")
        return cls(index, count)

    def pick(self, units: list[Unit]) -> list[Unit]:
        ordered = sorted(units)
        start = (self.index - 1) * len(ordered) // self.count
        end = self.index * len(ordered) // self.count
        return ordered[start:end]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Selection:
    """Which units a run covers. ``accounts`` empty: every ACTIVE account; ``regions`` empty:
    the caller's region; ``all_regions``: the regions enabled in each account."""

    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    all_regions: bool = False
    shard: Shard | None = None

    @classmethod
    def from_flags(cls, accounts: str | list[str] | None, regions: str | list[str] | None,
                   shard: str | None) -> Selection:
        """From ``--accounts A,B`` (repeatable), ``--regions R,S|all`` (repeatable) and
        ``--shard I/N``; a malformed value is a ``UsageError``."""
        account_ids = _split(accounts, "--accounts")
        bad = [value for value in account_ids if not ACCOUNT_ID.match(value)]
        if bad:
            raise UsageError(f"--accounts {bad[0]!r}: an account id is 12 digits")
        region_names = _split(regions, "--regions")
        every = ALL_REGIONS in region_names
        if every and len(region_names) > 1:
            raise UsageError("--regions all stands alone (every region enabled in each account)")
        bad = [value for value in region_names if not every and not REGION_NAME.match(value)]
        if bad:
            raise UsageError(f"--regions {bad[0]!r}: not a region name (e.g. eu-west-1), "
                             "or give --regions all")
        return cls(tuple(account_ids), () if every else tuple(region_names), every,
                   Shard.parse(shard) if shard is not None else None)

    def to_dict(self) -> dict[str, Any]:
        return {"accounts": list(self.accounts) or None,
                "regions": ALL_REGIONS if self.all_regions else (list(self.regions) or None),
                "shard": str(self.shard) if self.shard else None}


def _split(values: str | list[str] | None, flag: str) -> list[str]:
    if values is None:
        return []
    texts = [values] if isinstance(values, str) else values
    parts = [[part.strip() for part in text.split(",") if part.strip()] for text in texts]
    if not all(parts):  # "" or "," (unset variables) never widen the selection to everything
        raise UsageError(f"{flag}: empty value (an unset variable?)")
    return list(dict.fromkeys(part for listed in parts for part in listed))


def units_of(accounts: list[str], regions_of: dict[str, list[str] | str],
             shard: Shard | None) -> list[Unit]:
    """Every (account, region) pair, sorted, then the shard's slice. ``regions_of`` maps an
    account to its regions, or to the reason they could not be listed (one ``all`` unit in
    error)."""
    units = []
    for account in accounts:
        regions = regions_of[account]
        if isinstance(regions, str):
            units.append(Unit(account, ALL_REGIONS, regions))
        else:
            units.extend(Unit(account, region) for region in regions)
    units.sort()
    return shard.pick(units) if shard else units
