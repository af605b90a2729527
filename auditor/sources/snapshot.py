"""Snapshot directories: the raw API answers on disk, one folder per region.

Layout::

    DIR/manifest.json                 {"schema_version": 1, "account_id": ..., "regions": [...],
                                       "captured_at": ..., "errors": {region: {kind: reason}}}
    DIR/<region>/describe-instances.json   (and the other per-region files named in api_calls)
    DIR/account/get-account-authorization-details.json   (the account-wide, IAM, answers)

The account-wide answers are written once, in ``DIR/account``, and read into every region.
Errors of account-wide kinds are kept once too, under the manifest's ``errors["account"]``.

A directory that holds the ``describe-*.json`` files directly (no region folders) is one region,
named by ``manifest.json``'s ``region`` or inferred from the subnets' availability zones. That is
what a user gets by running ``aws ec2 describe-... > FILE`` into an empty folder; the IAM files
may sit beside them or in an ``account`` folder.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import limits
from auditor.errors import UsageError
from auditor.sources import api_calls, bounded_read
from auditor.sources.api_calls import ApiCall
from auditor.sources.raw import RawRegion

# The manifest's keys and the JSON type each must have (all optional).
_MANIFEST_KEYS = {"account_id": "text", "region": "text", "regions": "a list",
                  "captured_at": "text", "errors": "a mapping"}


# Every byte but the comma, the bracket and the brace: what deleting leaves is what counts
# (one pass, a third of the time of three counts).
_ALL_BUT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b",{[")


class _Budget:
    """What one run may read of a snapshot: ``limits.SNAPSHOT_BYTES`` and
    ``limits.SNAPSHOT_VALUES``, counted as the bytes arrive, before anything is parsed."""

    def __init__(self) -> None:
        self.bytes = 0
        self.values = 0
        self.what = ""

    def meter(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        # Every JSON value but the first of a container follows a comma, and containers open
        # with a bracket or a brace: their count bounds the values (and so the memory).
        self.values += len(chunk.translate(None, _ALL_BUT_STRUCTURE))
        if self.bytes > limits.SNAPSHOT_BYTES.value:
            raise UsageError(f"{self.what}: the snapshot is larger than "
                             f"{bounded_read.beyond(limits.SNAPSHOT_BYTES)}")
        if self.values > limits.SNAPSHOT_VALUES.value:
            raise UsageError(f"{self.what}: the snapshot holds more values than "
                             f"{bounded_read.beyond(limits.SNAPSHOT_VALUES)}")


class _Reader:
    """Reads the files of one snapshot within one budget, each file once."""

    def __init__(self) -> None:
        self.budget = _Budget()
        self.answers: dict[Path, Any] = {}

    def json(self, path: Path, fast: bool = True) -> Any:
        """A file's JSON, read within the budget: refused in one line when it is not a
        regular file, not UTF-8 JSON, or past a limit."""
        if path not in self.answers:
            what = f"snapshot file {path}"
            self.budget.what = what
            text = bounded_read.read_text(path, what, limits.SNAPSHOT_BYTES, self.budget.meter)
            self.answers[path] = bounded_read.parse_json(text, what, fast=fast)
        return self.answers[path]

    def answer(self, path: Path, call: ApiCall) -> Any:
        """The answer ``path`` holds, checked against ``call``'s output shape; None when the
        snapshot has no such file (nothing at all by that name)."""
        if bounded_read.file_kind(path) == "missing":
            return None
        fresh = path not in self.answers
        answer = self.json(path)
        if fresh:
            from auditor.sources.shapes import check_answer

            check_answer(call, answer, f"snapshot file {path}")
        return answer


def _region_errors(manifest: dict, manifest_path: Path, region: str) -> dict[str, str]:
    """The kinds the manifest records as unreadable in ``region`` (account-wide ones too)."""
    errors: dict[str, str] = {}
    for scope in (api_calls.ACCOUNT_FOLDER, region):
        recorded = manifest.get("errors", {}).get(scope) or {}
        if not isinstance(recorded, dict):
            raise UsageError(f"snapshot file {manifest_path}: errors.{scope}: expected a "
                             f"mapping, found {bounded_read.describe(recorded)}")
        for kind, reason in recorded.items():
            if not isinstance(reason, str):
                raise UsageError(f"snapshot file {manifest_path}: errors.{scope}.{kind}: "
                                 f"expected text, found {bounded_read.describe(reason)}")
            errors[kind] = reason
    if api_calls.INSTANCES.kind in errors:  # nothing audited is not all clear
        raise UsageError(f"the snapshot has no instances of {region}: "
                         f"{api_calls.INSTANCES.operation} could not be read when it was "
                         f"captured ({errors[api_calls.INSTANCES.kind]})")
    return errors


def _read_region_dir(reader: _Reader, folder: Path, account_folder: Path, region: str,
                     account_id: str, errors: dict[str, str]) -> RawRegion:
    """One region's answers; account-wide kinds come from ``account_folder`` when it has them
    (read once, shared by every region)."""
    raw = RawRegion(region=region, account_id=account_id, errors=dict(errors))
    for call in api_calls.ALL_CALLS:
        if call.kind in raw.errors:
            continue
        answer = None
        if call.account_wide:
            answer = reader.answer(account_folder / call.file_name, call)
        if answer is None:
            answer = reader.answer(folder / call.file_name, call)
        if answer is not None:
            raw.answers[call.kind] = answer
    return raw


def _infer_region(reader: _Reader, folder: Path) -> str:
    subnets = reader.answer(folder / api_calls.SUBNETS.file_name, api_calls.SUBNETS)
    for subnet in (subnets or {}).get("Subnets") or []:
        zone = subnet.get("AvailabilityZone") or ""
        if isinstance(zone, str) and zone:
            return zone.rstrip("abcdefghijklmnopqrstuvwxyz") if zone[-1].isalpha() else zone
    raise UsageError(f"cannot tell the region of snapshot {folder}: add manifest.json with "
                     '{"region": "..."} or use one folder per region')


def _manifest(reader: _Reader, path: Path) -> dict:
    if bounded_read.file_kind(path) == "missing":
        return {}
    what = f"snapshot file {path}"
    manifest = bounded_read.expect(reader.json(path, fast=False), "a mapping", what)
    for key, kind in _MANIFEST_KEYS.items():
        if manifest.get(key) is not None:
            bounded_read.expect(manifest[key], kind, what, (key,))
    for index, region in enumerate(manifest.get("regions") or []):
        bounded_read.expect(region, "text", what, ("regions", index))
    return {key: value for key, value in manifest.items() if value is not None}


def read_snapshot(directory: str | Path, regions: list[str] | None = None) -> list[RawRegion]:
    """Read a snapshot directory; ``regions`` restricts which region folders are read.

    Every file is read within ``limits.SNAPSHOT_BYTES`` and ``limits.SNAPSHOT_VALUES`` (for
    the whole run) and checked against its operation's output shape (``shapes``); anything
    unusable is a one-line ``UsageError``, never an empty answer.
    """
    root = Path(directory)
    if not str(directory):
        raise UsageError("the snapshot directory is empty text")
    if bounded_read.file_kind(root) != "directory":
        raise UsageError(f"snapshot directory {root} does not exist")
    reader = _Reader()
    manifest_path = root / api_calls.MANIFEST_FILE
    manifest = _manifest(reader, manifest_path)
    account_id = manifest.get("account_id", "")
    account_folder = root / api_calls.ACCOUNT_FOLDER

    if bounded_read.file_kind(root / api_calls.INSTANCES.file_name) != "missing":
        region = manifest.get("region") or _infer_region(reader, root)
        if regions and region not in regions:
            raise UsageError(f"snapshot {root} holds region {region}, not {', '.join(regions)}")
        return [_read_region_dir(reader, root, account_folder, region, account_id,
                                 _region_errors(manifest, manifest_path, region))]

    found = sorted(path.name for path in root.iterdir()
                   if bounded_read.file_kind(path) == "directory"
                   and bounded_read.file_kind(path / api_calls.INSTANCES.file_name) != "missing")
    if not found:
        raise UsageError(f"{root} is not a snapshot: no {api_calls.INSTANCES.file_name} in it "
                         "or in a region folder")
    wanted = [region for region in found if not regions or region in regions]
    if not wanted:
        raise UsageError(f"snapshot {root} holds {', '.join(found)}, not {', '.join(regions)}")
    return [_read_region_dir(reader, root / region, account_folder, region, account_id,
                             _region_errors(manifest, manifest_path, region))
            for region in wanted]


def write_snapshot(directory: str | Path, captures: list[RawRegion],
                   captured_at: str | None = None) -> None:
    """Write captures in the layout ``read_snapshot`` reads, with a manifest.

    Account-wide answers (the same in every capture) are written once, in ``DIR/account``,
    from the first capture that has them; their errors go to the manifest's
    ``errors["account"]``.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    account_answers: dict[str, Any] = {}
    account_errors: dict[str, str] = {}
    region_errors: dict[str, dict[str, str]] = {}
    for capture in captures:
        folder = root / capture.region
        folder.mkdir(exist_ok=True)
        for kind, answer in capture.answers.items():
            call = api_calls.BY_KIND[kind]
            if call.account_wide:
                account_answers.setdefault(kind, answer)
            else:
                _write_json(folder / call.file_name, answer)
        for kind, reason in capture.errors.items():
            if api_calls.BY_KIND[kind].account_wide:
                account_errors.setdefault(kind, reason)
            else:
                region_errors.setdefault(capture.region, {})[kind] = reason
    for kind in account_answers:  # an answer read anywhere beats an error elsewhere
        account_errors.pop(kind, None)
    if account_answers:
        account_folder = root / api_calls.ACCOUNT_FOLDER
        account_folder.mkdir(exist_ok=True)
        for kind, answer in account_answers.items():
            _write_json(account_folder / api_calls.BY_KIND[kind].file_name, answer)
    errors: dict[str, dict[str, str]] = {}
    if account_errors:
        errors[api_calls.ACCOUNT_FOLDER] = account_errors
    errors.update(region_errors)
    manifest = {
        "schema_version": 1,
        "account_id": next((c.account_id for c in captures if c.account_id), ""),
        "regions": [capture.region for capture in captures],
        "captured_at": captured_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "errors": errors,
    }
    with (root / api_calls.MANIFEST_FILE).open("w") as handle:
        json.dump(manifest, handle, indent=1)


def _write_json(path: Path, answer: Any, compact: bool = False) -> None:
    """Indented for a person to read; ``compact`` (an organization's many units): on one line,
    by json's C encoder, several times faster."""
    if compact:
        path.write_text(json.dumps(answer, default=str))
        return
    with path.open("w") as handle:
        json.dump(answer, handle, indent=1, default=str)


# --- For organization snapshots (auditor/sources/organization/snapshot.py): one unit is one
# region folder of this layout, read within its own budget (an organization holds thousands).

def load_json(path: Path) -> Any:
    """One file's JSON, read as every snapshot file is (within the limits, one line else)."""
    return _Reader().json(path, fast=False)


def load_answer(path: Path, call: ApiCall) -> Any:
    """One answer file, checked against ``call``'s output shape; None when there is none."""
    return _Reader().answer(path, call)


def read_region_dir(folder: Path, account_folder: Path, region: str, account_id: str,
                    errors: dict[str, str], account_answers: dict[Path, Any] | None = None
                    ) -> RawRegion:
    """One unit's answers, bounded and shape-checked; ``account_answers`` caches the
    account-wide files between units. A unit whose instances could not be read is a
    ``UsageError``, never an empty fleet."""
    if api_calls.INSTANCES.kind in errors:
        raise UsageError(f"no instances of {account_id} {region}: "
                         f"{api_calls.INSTANCES.operation} could not be read when it was "
                         f"captured ({errors[api_calls.INSTANCES.kind]})")
    reader = _Reader()
    if account_answers is not None:
        reader.answers = account_answers
    return _read_region_dir(reader, folder, account_folder, region, account_id, errors)


write_json = _write_json
