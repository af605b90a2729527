"""Findings into the audit account's Security Hub, 100 a call.

**Where they are imported.** Security Hub takes a finding from the account named in its
``AwsAccountId`` only (the default product of a custom integration). The organization audit
imports every finding **in the audit account**, with the member's instance as the resource
(its ARN names the member account and region), rather than from each member account through a
second, import-only role:

- the member accounts hold one role, and it stays read-only: nothing in them may write, and a
  compromised audit function cannot put findings into a member's Security Hub;
- one identity, one region, one call per 100 findings: no Security Hub needed in every member
  account and region (the import would fail where it is not enabled), no second StackSet;
- the audit account is the delegated administrator, where the security team looks already.

What it costs: in Security Hub the finding's account is the audit account; filter on the
resource (``ResourceId`` holds the member's account and region). A member account's own
Security Hub does not show them. The findings themselves are the ASFF report's
(``auditor.reports.asff_report.findings_of`` with the audit account as ``Product``).

**Findings that no longer hold** (the instance was fixed, or is gone) are archived: after a run,
every active finding of this product whose instance lies in a unit audited successfully, and
that the run did not produce again, is imported once more with ``RecordState: ARCHIVED``. A unit
that failed keeps its findings as they were: not being able to look is not an all clear.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

BATCH_SIZE = 100  # BatchImportFindings takes at most 100 findings a call
ARCHIVED = "ARCHIVED"
ACTIVE = "ACTIVE"


@dataclass
class ImportResult:
    imported: int = 0
    failed: list[str] = field(default_factory=list)  # "ID: error" of refused findings

    def add(self, answer: dict[str, Any]) -> None:
        self.imported += int(answer.get("SuccessCount") or 0)
        self.failed += [f"{item.get('Id')}: {item.get('ErrorCode')} {item.get('ErrorMessage')}"
                        for item in answer.get("FailedFindings") or []]


def product_arn(partition: str, region: str, account_id: str) -> str:
    """The default product of a custom integration in ``account_id``."""
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


def import_findings(client: Any, findings: Iterable[dict[str, Any]],
                    result: ImportResult | None = None) -> ImportResult:
    """BatchImportFindings, ``BATCH_SIZE`` at a time (the SDK's retries absorb throttling),
    counted into ``result`` as the calls answer (so a call that raises leaves the count of
    those before it)."""
    result = result if result is not None else ImportResult()
    for batch in _batches(findings, BATCH_SIZE):
        result.add(client.batch_import_findings(Findings=batch))
    return result


def unit_of(finding: dict[str, Any]) -> str | None:
    """``ACCOUNT/REGION`` of the finding's resource (an ARN), None when it has no ARN."""
    for resource in finding.get("Resources") or []:
        parts = str(resource.get("Id") or "").split(":")
        if len(parts) > 5 and parts[0] == "arn":
            return f"{parts[4]}/{parts[3]}"
    return None


def archive_stale(client: Any, product: str, current_ids: set[str], audited_units: set[str],
                  now: str, result: ImportResult | None = None) -> ImportResult:
    """Archive the product's active findings that the run did not produce again, for the
    units it audited successfully (``"ACCOUNT/REGION"``) only."""
    stale = []
    paginator = client.get_paginator("get_findings")
    filters = {"ProductArn": [{"Value": product, "Comparison": "EQUALS"}],
               "RecordState": [{"Value": ACTIVE, "Comparison": "EQUALS"}]}
    for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": 100}):
        for finding in page.get("Findings") or []:
            # The filters again: an emulator (or a future API) may ignore them.
            if (unit_of(finding) in audited_units and finding.get("Id") not in current_ids
                    and finding.get("ProductArn") == product
                    and finding.get("RecordState", ACTIVE) == ACTIVE):
                archived = copy.deepcopy(finding)
                archived["RecordState"] = ARCHIVED
                archived["UpdatedAt"] = now
                stale.append(_importable(archived))
    return import_findings(client, stale, result)


# Fields GetFindings returns that BatchImportFindings does not take from a provider.
_NOT_IMPORTED = ("ProductName", "CompanyName", "Region", "Workflow", "WorkflowState", "Note",
                 "UserDefinedFields", "VerificationState", "ProcessedAt")


def _importable(finding: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in finding.items() if key not in _NOT_IMPORTED}


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
