"""AuditUnit: one unit (an account and a region) read through the member account's role and
audited by ``auditor.organization.unit.audit_unit``, the very function ``--org`` runs per unit;
its report and its findings (ASFF) written to the bucket.

Event (the map's ItemSelector): ``{"unit": {"account_id", "region"[, "error"]}, "run": {"date",
"execution", "organization_key"}}``. Returns the unit's ``units`` entry with the keys of what it
wrote and the number of findings: small, since the map's ResultWriter collects it.

A unit that cannot be read is not an error of the function: its entry says ``status: "error"``
and why. The function fails only when it cannot write (and then the map records the failure).
"""

from __future__ import annotations

from typing import Any

from auditor.lambdas.environment import Settings, own_account
from auditor.lambdas.store import Run, Store
from auditor.organization import audit_unit
from auditor.sources.organization import LiveUnits, OrganizationAccess, OrganizationAnswers, Unit

# Seconds kept for writing the report when the unit outlives the function's time.
WRITE_MARGIN = 30.0

_cache: dict[str, Any] = {}  # per container: the caller's session, the organization of a run


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    settings = Settings.from_environ()
    run = Run.from_dict(event["run"])
    unit = Unit.from_dict(event["unit"])
    store = Store(settings.bucket)
    # A new source for every unit: nothing read for one run is kept for the next.
    source = LiveUnits(_access(settings), _organization(store, event["run"]["organization_key"]))
    document = audit_unit(unit, source, timeout=_time_left(context))
    findings = unit_findings(document, own_account(context)[1], settings.region)
    report_key = run.report_key(unit.account_id, unit.region)
    findings_key = run.findings_key(unit.account_id, unit.region)
    # The run beside the report: a summary of this run never takes an earlier one's report.
    store.put_json(report_key, {**document, "run": run.to_dict()})
    store.put_json(findings_key, findings)
    return {**document["unit"], "report_key": report_key, "findings_key": findings_key,
            "findings": len(findings)}


def unit_findings(document: dict[str, Any], audit_account: str,
                  region: str) -> list[dict[str, Any]]:
    """The unit's findings in the AWS Security Finding Format, made by ``--format asff``'s own
    code, as the audit account imports them (its account and product, in its region)."""
    from auditor.reports.asff_report import Product, findings_of, timestamp

    now = timestamp()
    product = Product(account_id=audit_account, region=region)
    return [finding for instance in document["instances"]
            for finding in findings_of(instance, now, product)]


def _access(settings: Settings) -> OrganizationAccess:
    key = f"access:{settings.role_name}:{settings.external_id}:{settings.region}"
    if key not in _cache:
        _cache[key] = OrganizationAccess(role_name=settings.role_name,
                                         external_id=settings.external_id,
                                         region=settings.region)
    return _cache[key]


def _organization(store: Store, key: str) -> OrganizationAnswers:
    cached = _cache.get("organization")
    if cached is None or cached[0] != key:
        cached = (key, OrganizationAnswers.from_dict(store.get_json(key)))
        _cache["organization"] = cached
    return cached[1]


def _time_left(context: Any) -> float | None:
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return max(1.0, context.get_remaining_time_in_millis() / 1000 - WRITE_MARGIN)
