"""Summarize: every unit's entry, the run's totals, and the findings into Security Hub.

Event: the state machine's state, ``{"bucket", "units_key", "run", "count", "map":
{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}}``, or ``"map_error": {"Error",
"Cause"}`` in place of ``"map"`` when the map failed (past its tolerated failures).

Every unit of ``units.json`` is in the summary, never one dropped: its entry comes from the
map's results (what the unit function returned), else from the map's failures (the function
failed or timed out: the error and its cause), else from the report the unit function wrote in
this run (the results may be missing when the map failed), else it says that no result exists.
Returns the totals, ``failed_units`` and ``import_failed``, which the state machine tests (more
than zero units failed, or Security Hub refused a finding or the import: the execution fails,
after the summary and the import, like the command's exit status). The summary is written
before the import, so a Security Hub that is not enabled or refuses the call loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from auditor.lambdas import security_hub
from auditor.lambdas.environment import Settings, own_account
from auditor.lambdas.store import Run, Store
from auditor.organization import ERROR, OK, OrganizationRun, unit_entry
from auditor.sources.organization import Unit

NO_RESULT = ("no result: its function did not finish (see the map run{})")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    settings = Settings.from_environ()
    store = Store(settings.bucket)
    run = Run.from_dict(event["run"])
    units = [Unit.from_dict(item) for item in store.get_json(event["units_key"])]
    results = map_results(store, event.get("map"))
    map_error = event.get("map_error")
    totals = OrganizationRun(total=len(units))
    for unit in units:
        totals.add(results.get(unit.key) or _from_report(store, run, unit, map_error))
    summary = {"run": run.to_dict(), "total": totals.total, "failed_units": totals.failed,
               "instances": totals.instances, "summary": totals.summary,
               "map_error": map_error, "units": totals.sorted_units()}
    answer = {"summary_key": run.summary_key, "total": totals.total,
              "failed_units": totals.failed, "instances": totals.instances,
              "summary": totals.summary, "import_failed": False}
    # Written before the import: the summary stands whatever Security Hub answers.
    store.put_json(run.summary_key, summary)
    if settings.security_hub:
        outcome = import_to_security_hub(store, totals.units, settings, context)
        answer.update(outcome, import_failed=bool(outcome["findings_failed"]
                                                  or outcome["import_error"]))
        summary["security_hub"] = outcome
        store.put_json(run.summary_key, summary)
    return answer


def map_results(store: Store, details: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The unit entries the map's ResultWriter wrote (``ACCOUNT/REGION`` -> entry): what the
    unit function returned, or, for a child execution that failed, an error entry with the
    error and its cause."""
    writer = (details or {}).get("ResultWriterDetails") or {}
    if not writer.get("Key"):
        return {}
    manifest = store.get_json(writer["Key"], missing=None) or {}
    found: dict[str, dict[str, Any]] = {}
    files = manifest.get("ResultFiles") or {}
    for status in ("SUCCEEDED", "FAILED"):
        for result_file in files.get(status) or []:
            for execution in store.get_json(result_file["Key"], missing=[]) or []:
                unit = Unit.from_dict(_json(execution.get("Input")).get("unit"))
                if status == "SUCCEEDED":
                    found[unit.key] = _json(execution.get("Output"))
                else:
                    reason = " ".join(f"the unit's function failed: "
                                      f"{execution.get('Error') or '?'}: "
                                      f"{execution.get('Cause') or ''}".split())[:1000]
                    found[unit.key] = unit_entry(unit, ERROR, reason)
    return found


def _from_report(store: Store, run: Run, unit: Unit,
                 map_error: dict[str, Any] | None) -> dict[str, Any]:
    report_key = run.report_key(unit.account_id, unit.region)
    document = store.get_json(report_key, missing=None)
    if document and document.get("run") == run.to_dict():
        return {**document["unit"], "report_key": report_key,
                "findings_key": run.findings_key(unit.account_id, unit.region)}
    why = f": {map_error.get('Error')}" if isinstance(map_error, dict) else ""
    return unit_entry(unit, ERROR, NO_RESULT.format(why))


def import_to_security_hub(store: Store, entries: list[dict[str, Any]], settings: Settings,
                           context: Any) -> dict[str, Any]:
    """Every finding of the units read in this run, into this account's Security Hub; then
    the stale ones archived (for the units read successfully only)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    partition, account = own_account(context)
    product = security_hub.product_arn(partition, settings.region, account)
    client = boto3.client("securityhub", region_name=settings.region)
    current: set[str] = set()

    def findings() -> Iterator[dict[str, Any]]:
        for entry in entries:
            # A unit that found nothing says so (0): its file is not read (most regions of an
            # organization are empty, and reading 10,000 files costs minutes).
            if entry.get("status") != OK or not entry.get("findings_key") \
                    or entry.get("findings") == 0:
                continue
            for finding in store.get_json(entry["findings_key"], missing=[]) or []:
                current.add(finding["Id"])
                yield finding

    imported = security_hub.ImportResult()
    archived = security_hub.ImportResult()
    error = None
    try:
        security_hub.import_findings(client, findings(), imported)
        audited = {f"{entry['account_id']}/{entry['region']}" for entry in entries
                   if entry.get("status") == OK}
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        security_hub.archive_stale(client, product, current, audited, now, archived)
    except (BotoCoreError, ClientError) as failure:
        # Security Hub not enabled here, the role refused, throttled past the retries: said in
        # the summary and failing the execution, not lost with the function.
        error = " ".join(str(failure).split())[:1000]
    refused = imported.failed + archived.failed
    return {"findings_imported": imported.imported, "findings_archived": archived.imported,
            "findings_failed": refused[:20], "findings_failed_count": len(refused),
            "import_error": error}


def _json(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
