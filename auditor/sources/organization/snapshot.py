"""Organization snapshots: an organization's raw answers on disk, unit by unit.

Layout::

    DIR/manifest.json                     written last: {"schema_version": 1,
                                          "kind": "organization", "captured_at": ...,
                                          "organization": {...}, "selection": {...},
                                          "organization_errors": {kind: reason},
                                          "accounts": {ACCOUNT: {"errors": {kind: reason}}},
                                          "units": [{"account_id", "region", "status",
                                                     "error", "errors": {kind: reason}}]}
    DIR/organization/list-accounts.json   the organization's own answers, once
                                          (api_calls.ORGANIZATION_WIDE_CALLS)
    DIR/ACCOUNT/REGION/describe-instances.json ...   each unit's regional answers
    DIR/ACCOUNT/account/get-account-authorization-details.json ...   each account's IAM

Each account's Organizations answers are derived from the organization folder when read, as
they are live. A unit folder is written under a temporary name and renamed when complete; the
manifest is removed when a capture starts and written when it ends, so a capture that stopped
half-way is recognised (a one-line refusal), and a unit folder damaged or missing later makes
that unit an error while the others are audited.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import UsageError
from auditor.sources import api_calls
from auditor.sources.bounded_read import expect
from auditor.sources.description import SourceDescription
from auditor.sources.organization.answers import OrganizationAnswers
from auditor.sources.organization.pool import run_pool
from auditor.sources.organization.units import (
    ALL_REGIONS,
    Selection,
    Unit,
    UnitFailure,
)
from auditor.sources.raw import RawRegion
from auditor.sources.snapshot import load_answer, load_json, read_region_dir, write_json

if TYPE_CHECKING:
    from auditor.sources.live import Progress
    from auditor.sources.organization.live import LiveUnits

KIND = "organization"
OK = "ok"
ERROR = "error"


def is_organization_snapshot(directory: str | Path) -> bool:
    if not str(directory):  # "" (an unset variable) is no directory, not the current one
        return False
    root = Path(directory)
    return (root / api_calls.ORGANIZATION_FOLDER).is_dir()


class SnapshotUnits:
    """An organization snapshot read unit by unit (the ``UnitSource`` of ``--snapshot DIR``)."""

    def __init__(self, directory: str | Path) -> None:
        self.root = Path(directory)
        manifest_path = self.root / api_calls.MANIFEST_FILE
        if not manifest_path.is_file():
            raise UsageError(f"organization snapshot {self.root} is half-written: no "
                             f"{api_calls.MANIFEST_FILE} (the capture stopped before its end; "
                             "capture it again)")
        manifest = load_json(manifest_path)
        if not isinstance(manifest, dict) or manifest.get("kind") != KIND \
                or not isinstance(manifest.get("units"), list):
            raise UsageError(f"malformed snapshot file {manifest_path}: not the manifest of an "
                             "organization snapshot")
        _check_manifest(manifest, f"snapshot file {manifest_path}")
        self.manifest = manifest
        self.organization = _read_organization(self.root, manifest)

    def description(self) -> SourceDescription:
        return SourceDescription("snapshot", path=str(self.root),
                                 organization=self.organization.describe())

    def units(self, selection: Selection) -> list[Unit]:
        """The captured units the selection names (an account not captured: ``UsageError``);
        a unit that failed at capture keeps its reason."""
        units = []
        for entry in self.manifest["units"]:
            try:
                unit = Unit(str(entry["account_id"]), str(entry["region"]))
            except (KeyError, TypeError):
                raise UsageError(f"malformed snapshot file {self.root / api_calls.MANIFEST_FILE}:"
                                 f" a unit without account_id and region") from None
            if entry.get("status") == ERROR:
                unit = Unit(unit.account_id, unit.region,
                            f"not captured: {entry.get('error') or 'no reason recorded'}")
            units.append(unit)
        captured = {unit.account_id for unit in units}
        missing = [account for account in selection.accounts if account not in captured]
        if missing:
            raise UsageError(f"--accounts {missing[0]}: not in organization snapshot "
                             f"{self.root} ({len(captured)} accounts)")
        if selection.accounts:
            units = [unit for unit in units if unit.account_id in selection.accounts]
        if selection.regions:
            regions = sorted({unit.region for unit in units})
            units = [unit for unit in units
                     if unit.region in selection.regions or unit.region == ALL_REGIONS]
            if not units:
                raise UsageError(f"organization snapshot {self.root} holds "
                                 f"{', '.join(regions) or 'no region'}, not "
                                 f"{', '.join(selection.regions)}")
        units.sort()
        return selection.shard.pick(units) if selection.shard else units

    def read(self, unit: Unit, deadline: float | None = None,
             progress: Progress | None = None) -> RawRegion:
        """The unit's raw answers; ``UnitFailure`` when it failed at capture or its folder is
        missing or damaged."""
        if unit.error:
            raise UnitFailure(unit.error)
        folder = self.root / unit.account_id / unit.region
        if not (folder / api_calls.INSTANCES.file_name).is_file():
            raise UnitFailure(f"{folder} is missing from the snapshot (or lacks "
                              f"{api_calls.INSTANCES.file_name})")
        errors = {**self._account_errors(unit.account_id), **self._unit_errors(unit)}
        try:
            raw = read_region_dir(folder, self.root / unit.account_id / api_calls.ACCOUNT_FOLDER,
                                  unit.region, unit.account_id, errors, {})
        except UsageError as error:
            raise UnitFailure(str(error)) from None
        answers, organization_errors = self.organization.account_answers(unit.account_id)
        raw.answers.update(answers)
        raw.errors.update(organization_errors)
        if progress:
            progress(f"{unit.key}: read from {folder}")
        return raw

    def read_network(self, unit: Unit, deadline: float | None = None) -> RawRegion:
        """Another account's region as captured (a region without instances was captured
        without its network: its far sides stay unreadable)."""
        return self.read(unit, deadline)

    def _account_errors(self, account_id: str) -> dict[str, str]:
        accounts = self.manifest.get("accounts") or {}
        return dict(((accounts.get(account_id) or {}).get("errors")) or {})

    def _unit_errors(self, unit: Unit) -> dict[str, str]:
        for entry in self.manifest["units"]:
            if entry.get("account_id") == unit.account_id and entry.get("region") == unit.region:
                return dict(entry.get("errors") or {})
        return {}


def _check_manifest(manifest: dict, what: str) -> None:
    """The parts of the manifest that are read, of the types they are read as (a one-line
    ``UsageError`` naming the path inside it)."""
    for key in ("organization_errors", "accounts"):
        if manifest.get(key) is not None:
            _text_mapping(manifest[key], what, (key,), nested=key == "accounts")
    for index, entry in enumerate(manifest["units"]):
        expect(entry, "a mapping", what, ("units", index))
        for key in ("account_id", "region"):
            expect(entry.get(key), "text", what, ("units", index, key))
        for key in ("status", "error"):
            if entry.get(key) is not None:
                expect(entry[key], "text", what, ("units", index, key))
        if entry.get("errors") is not None:
            _text_mapping(entry["errors"], what, ("units", index, "errors"))


def _text_mapping(value: Any, what: str, path: tuple, nested: bool = False) -> None:
    """{kind: reason} (``nested``: {account: {"errors": {kind: reason}}})."""
    for key, item in expect(value, "a mapping", what, path).items():
        if nested:
            errors = expect(item, "a mapping", what, (*path, key)).get("errors")
            if errors is not None:
                _text_mapping(errors, what, (*path, key, "errors"))
        else:
            expect(item, "text", what, (*path, key))


def _read_organization(root: Path, manifest: dict) -> OrganizationAnswers:
    folder = root / api_calls.ORGANIZATION_FOLDER
    errors = dict(manifest.get("organization_errors") or {})
    answers = {}
    for call in api_calls.ORGANIZATION_WIDE_CALLS:
        path = folder / call.file_name
        if call.kind not in errors and path.is_file():
            answers[call.kind] = load_answer(path, call)
    return OrganizationAnswers(answers, errors, str(manifest.get("caller_account_id") or ""))


class SnapshotWriter:
    """Writes an organization snapshot as its units are read (``add`` from any thread: each
    unit's folder is its own, an account's IAM folder is written by the first of its units)."""

    def __init__(self, directory: str | Path, organization: OrganizationAnswers,
                 selection: Selection) -> None:
        self.root = Path(directory)
        self.organization = organization
        self.selection = selection
        self.units: list[dict[str, Any]] = []
        self.accounts: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / api_calls.MANIFEST_FILE).unlink(missing_ok=True)
            self._replace(self.root / api_calls.ORGANIZATION_FOLDER, {
                api_calls.ORGANIZATION_WIDE_BY_KIND[kind].file_name: answer
                for kind, answer in organization.answers.items()})
        except OSError as error:
            raise UsageError(f"cannot write the snapshot to {self.root}: {error.strerror}"
                             ) from None

    def add(self, unit: Unit, raw: RawRegion | None, error: str | None) -> dict[str, Any]:
        """Write one unit (``raw``), or record why it could not be read; its manifest entry."""
        entry: dict[str, Any] = {"account_id": unit.account_id, "region": unit.region,
                                 "status": OK if raw is not None else ERROR, "error": error}
        if raw is not None:
            regional = {}
            account_wide = {}
            for kind, answer in raw.answers.items():
                call = api_calls.BY_KIND[kind]
                if kind in _DERIVED_KINDS:
                    continue
                (account_wide if call.account_wide else regional)[call.file_name] = answer
            entry["errors"] = {kind: reason for kind, reason in raw.errors.items()
                               if not api_calls.BY_KIND[kind].account_wide}
            wide_errors = {kind: reason for kind, reason in raw.errors.items()
                           if api_calls.BY_KIND[kind].account_wide and kind not in _DERIVED_KINDS}
            with self._lock:
                account = self.accounts.setdefault(unit.account_id, {})
                first = bool(account_wide) and "written" not in account
                if first:
                    account["written"] = True
                if wide_errors and "errors" not in account:
                    account["errors"] = wide_errors
            try:
                self._replace(self.root / unit.account_id / unit.region, regional)
                if first:
                    self._replace(self.root / unit.account_id / api_calls.ACCOUNT_FOLDER,
                                  account_wide)
            except OSError as failure:
                raise UsageError(f"cannot write the snapshot to {self.root}: "
                                 f"{failure.strerror}") from None
        with self._lock:
            self.units.append(entry)
        return entry

    def close(self) -> None:
        """The manifest, last: the snapshot is complete."""
        manifest = {
            "schema_version": 1,
            "kind": KIND,
            "captured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "organization": self.organization.describe(),
            "caller_account_id": self.organization.caller_account_id,
            "selection": self.selection.to_dict(),
            "organization_errors": self.organization.errors,
            "accounts": {account: {"errors": data["errors"]}
                         for account, data in sorted(self.accounts.items()) if "errors" in data},
            "units": sorted(self.units, key=lambda e: (e["account_id"], e["region"])),
        }
        path = self.root / api_calls.MANIFEST_FILE
        partial = path.with_name(f".{path.name}.partial")
        try:
            with partial.open("w") as handle:
                json.dump(manifest, handle, indent=1)
            os.replace(partial, path)
        except OSError as error:
            raise UsageError(f"cannot write the snapshot to {self.root}: {error.strerror}"
                             ) from None

    @staticmethod
    def _replace(folder: Path, files: dict[str, Any]) -> None:
        """``folder`` holding exactly ``files``, written aside and renamed into place."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = folder.with_name(f".{folder.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for name, answer in files.items():
            write_json(partial / name, answer, compact=True)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(partial, folder)


_DERIVED_KINDS = {call.kind for call in api_calls.ORGANIZATION_CALLS}


def capture(source: LiveUnits, units: list[Unit], directory: str | Path, selection: Selection,
            *, concurrency: int, timeout: float | None,
            on_progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """``snapshot --org``: read the units on a bounded pool and write each as it is read; the
    manifest last. Returns the manifest's ``units`` entries (``instances`` added)."""
    writer = SnapshotWriter(directory, source.organization, selection)
    source.expect(units)

    def read(unit: Unit) -> dict[str, Any]:  # on the pool's threads: written as read
        deadline = time.monotonic() + timeout if timeout else None
        try:
            raw = source.read(unit, deadline)
        except UnitFailure as failure:
            raw, error = None, str(failure)
        else:
            error = None
        entry = writer.add(unit, raw, error)
        entry["instances"] = _instance_count(raw) if raw is not None else 0
        return entry

    def done(_unit: Unit, entry: dict[str, Any]) -> None:
        if on_progress is not None:
            on_progress(entry)

    run_pool(units, read, done, concurrency)
    writer.close()
    return writer.units


def _instance_count(raw: RawRegion) -> int:
    answer = raw.answers.get(api_calls.INSTANCES.kind) or {}
    return sum(len(reservation.get("Instances") or [])
               for reservation in answer.get("Reservations") or [])


def organization_raws(directory: str | Path, regions: list[str] | None,
                      accounts: list[str] | None, instance_ids: list[str] | None
                      ) -> list[RawRegion]:
    """An organization snapshot's units as raw answers, for the pipelines that take a few
    accounts at once (``--plan``, ``--verify-plan``, ``prelaunch``, ``--instance``): the
    units of ``accounts``, else of the accounts that hold ``instance_ids``, else all. A unit
    that cannot be read is a ``UsageError`` (those pipelines need every answer), unless it is
    searched for instances that other units hold."""
    source = SnapshotUnits(directory)
    units = source.units(Selection(tuple(accounts or ()), tuple(regions or ())))
    raws, failures = [], []
    for unit in units:
        try:
            raw = source.read(unit)
        except UnitFailure as failure:
            failures.append(f"organization snapshot {directory}, {unit.key}: {failure}")
            continue
        if accounts or not instance_ids or _holds(raw, instance_ids):
            raws.append(raw)
    found = {instance for raw in raws for instance in _instance_ids(raw)}
    if failures and (accounts or not instance_ids or not set(instance_ids) <= found):
        raise UsageError(failures[0])
    return raws


def _holds(raw: RawRegion, instance_ids: list[str]) -> bool:
    return not _instance_ids(raw).isdisjoint(instance_ids)


def _instance_ids(raw: RawRegion) -> set[str]:
    answer = raw.answers.get(api_calls.INSTANCES.kind) or {}
    return {instance.get("InstanceId") for reservation in answer.get("Reservations") or []
            for instance in reservation.get("Instances") or []}
