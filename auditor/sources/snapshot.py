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

from auditor.errors import UsageError
from auditor.sources import api_calls
from auditor.sources.raw import RawRegion


def _load_json(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise UsageError(f"malformed snapshot file {path}: {error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"malformed snapshot file {path}: not UTF-8 JSON") from None
    except OSError as error:
        raise UsageError(f"cannot read snapshot file {path}: {error.strerror}") from None


def _read_region_dir(folder: Path, account_folder: Path, region: str, account_id: str,
                     errors: dict[str, str], account_answers: dict[Path, Any]) -> RawRegion:
    """One region's answers; account-wide kinds come from ``account_folder`` when it has them.

    ``account_answers`` caches the account-wide files so that every region shares one copy.
    """
    raw = RawRegion(region=region, account_id=account_id, errors=dict(errors))
    for call in api_calls.ALL_CALLS:
        if call.kind in raw.errors:
            continue
        if call.account_wide:
            path = account_folder / call.file_name
            if path.is_file():
                if path not in account_answers:
                    account_answers[path] = _load_json(path)
                raw.answers[call.kind] = account_answers[path]
                continue
        path = folder / call.file_name
        if path.is_file():
            raw.answers[call.kind] = _load_json(path)
    return raw


def _infer_region(folder: Path) -> str:
    subnets_file = folder / api_calls.SUBNETS.file_name
    if subnets_file.is_file():
        answer = _load_json(subnets_file)
        for subnet in (answer or {}).get("Subnets", []) if isinstance(answer, dict) else []:
            zone = subnet.get("AvailabilityZone", "")
            if zone:
                return zone.rstrip("abcdefghijklmnopqrstuvwxyz") if zone[-1].isalpha() else zone
    raise UsageError(f"cannot tell the region of snapshot {folder}: add manifest.json with "
                     '{"region": "..."} or use one folder per region')


def read_snapshot(directory: str | Path, regions: list[str] | None = None) -> list[RawRegion]:
    """Read a snapshot directory; ``regions`` restricts which region folders are read."""
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"snapshot directory {root} does not exist")
    manifest_path = root / api_calls.MANIFEST_FILE
    manifest = _load_json(manifest_path) if manifest_path.is_file() else {}
    if not isinstance(manifest, dict):
        raise UsageError(f"malformed snapshot file {manifest_path}: expected a JSON object")
    account_id = str(manifest.get("account_id", ""))
    errors = manifest.get("errors") or {}
    if not isinstance(errors, dict):
        raise UsageError(f"malformed snapshot file {manifest_path}: \"errors\" is not an object")
    account_errors = errors.get(api_calls.ACCOUNT_FOLDER) or {}
    account_folder = root / api_calls.ACCOUNT_FOLDER
    account_answers: dict[Path, Any] = {}

    def region_errors(region: str) -> dict[str, str]:
        return {**account_errors, **(errors.get(region) or {})}

    if (root / api_calls.INSTANCES.file_name).is_file():
        region = manifest.get("region") or _infer_region(root)
        if regions and region not in regions:
            raise UsageError(f"snapshot {root} holds region {region}, not {', '.join(regions)}")
        return [_read_region_dir(root, account_folder, region, account_id,
                                 region_errors(region), account_answers)]

    found = sorted(path.name for path in root.iterdir()
                   if path.is_dir() and (path / api_calls.INSTANCES.file_name).is_file())
    if not found:
        raise UsageError(f"{root} is not a snapshot: no {api_calls.INSTANCES.file_name} in it "
                         "or in a region folder")
    wanted = [region for region in found if not regions or region in regions]
    if not wanted:
        raise UsageError(f"snapshot {root} holds {', '.join(found)}, not {', '.join(regions)}")
    return [_read_region_dir(root / region, account_folder, region, account_id,
                             region_errors(region), account_answers)
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


# For organization snapshots (auditor/sources/organization/snapshot.py): one unit is one region
# folder of this layout.
load_json = _load_json
read_region_dir = _read_region_dir
write_json = _write_json
