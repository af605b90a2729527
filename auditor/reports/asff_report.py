"""AWS Security Finding Format (ASFF), for Security Hub's ``BatchImportFindings``.

One finding per instance and code, for the instances that are not manageable or unknown (the
codes of their errors and warnings; an instance with none gets one finding for its verdict).
The instance is the resource (``AwsEc2Instance``, its ARN); the severity is the one the report
gives the code for that instance (the catalogue's, lowered to a warning where it does not
decide); the catalogue's fix is the remediation text. Ids are stable
(``ssm-auditor/ACCOUNT/REGION/INSTANCE/CODE``): importing a later run updates the same findings
instead of adding new ones.

By default a finding is the instance's account's own (``AwsAccountId`` and the default product
ARN of that account and region): Security Hub takes it from that account. ``Product`` names
another account (an audit account importing for its members, with its own product ARN).

Built from the instances as the JSON report gives them, so that the findings of a unit report
(``auditor.organization.audit_unit``) are made by the same code as the command line's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from auditor.aws_facts import partition
from auditor.catalogue import CATALOGUE
from auditor.errors import UsageError
from auditor.reports import RenderOptions
from auditor.reports.json_report import instance_dicts
from auditor.vocabulary import NOT_MANAGEABLE, UNKNOWN

if TYPE_CHECKING:
    from auditor.audit import AuditReport

SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = "Software and Configuration Checks/AWS Security Best Practices"
REPORTED_VERDICTS = (NOT_MANAGEABLE, UNKNOWN)
SEVERITY_LABELS = {"error": "HIGH", "warning": "MEDIUM", "info": "INFORMATIONAL"}
VERDICT_LABELS = {NOT_MANAGEABLE: "HIGH", UNKNOWN: "MEDIUM"}
COMPLIANCE = {NOT_MANAGEABLE: "FAILED", UNKNOWN: "WARNING"}
VERDICT_CODE = "VERDICT"  # the finding of an instance without error or warning findings
# ASFF's limits (Security Hub refuses longer values).
TITLE_MAX = 256
DESCRIPTION_MAX = 1024
REMEDIATION_MAX = 512
PRODUCT_FIELD_MAX = 2048


@dataclass(frozen=True)
class Product:
    """Which account and region import the findings (None: each instance's own)."""

    account_id: str | None = None
    region: str | None = None


def findings_of(instance: dict[str, Any], now: str, product: Product = Product()
                ) -> list[dict[str, Any]]:
    """The ASFF findings of one instance as the JSON report gives it (none when it is
    manageable or not applicable)."""
    verdict = instance["verdict"]
    if verdict not in REPORTED_VERDICTS:
        return []
    account = instance.get("account_id")
    region = instance.get("region")
    if not account or not region:
        missing = "no account" if not account else "no region"
        raise UsageError(f"--format asff needs the account and region of each instance; "
                         f"{instance['instance_id']} has {missing} (audit a live account or "
                         "a snapshot with its answers)")
    by_code: dict[str, list[dict]] = {}
    for finding in instance.get("findings") or []:
        if finding["severity"] in ("error", "warning"):
            by_code.setdefault(finding["code"], []).append(finding)
    if not by_code:
        by_code[VERDICT_CODE] = []
    return [_finding(instance, code, found, now, product) for code, found in by_code.items()]


def _finding(instance: dict, code: str, found: list[dict], now: str, product: Product
             ) -> dict[str, Any]:
    account, region = instance["account_id"], instance["region"]
    arn_partition = partition(region)
    importer = product.account_id or account
    product_region = product.region or region
    instance_id = instance["instance_id"]
    entry = CATALOGUE.get(code)
    verdict = instance["verdict"]
    if found:
        severity = min((f["severity"] for f in found), key=list(SEVERITY_LABELS).index)
        label = SEVERITY_LABELS[severity]
        title = f"{code}: {entry.title}" if entry else code
        description = " ".join(dict.fromkeys(f["message"] for f in found))
    else:
        severity, label = verdict, VERDICT_LABELS[verdict]
        title = f"SSM Agent {verdict.replace('_', ' ')}"
        description = "; ".join(instance.get("verdict_reasons") or []) or verdict
    name = instance.get("name") or instance_id
    resources = sorted({f["resource_id"] for f in found if f.get("resource_id")})
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": f"ssm-auditor/{account}/{region}/{instance_id}/{code}",
        "ProductArn": f"arn:{arn_partition}:securityhub:{product_region}:{importer}:product/"
                      f"{importer}/default",
        "ProductName": "ssm-auditor",
        "CompanyName": "ssm-auditor",
        "GeneratorId": f"ssm-auditor/{code}",
        "AwsAccountId": importer,
        "Region": region,
        "Types": [FINDING_TYPE],
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": label, "Original": severity},
        "Title": _cut(f"{title} ({name})", TITLE_MAX),
        "Description": _cut(f"SSM Agent on {instance_id} in {account} {region} is "
                            f"{verdict.replace('_', ' ')}: {description}", DESCRIPTION_MAX),
        "Resources": [_resource(instance, arn_partition)],
        "Compliance": {"Status": COMPLIANCE[verdict]},
        "RecordState": "ACTIVE",
        "ProductFields": {
            "ssm-auditor/verdict": verdict,
            "ssm-auditor/code": code,
            "ssm-auditor/resources": _cut(", ".join(resources), PRODUCT_FIELD_MAX),
        },
    }
    if entry is not None:
        finding["Remediation"] = {"Recommendation": {"Text": _cut(entry.fix, REMEDIATION_MAX)}}
    return finding


def _resource(instance: dict, arn_partition: str) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for field, key in (("vpc_id", "VpcId"), ("subnet_id", "SubnetId")):
        if instance.get(field):
            details[key] = instance[field]
    resource: dict[str, Any] = {
        "Type": "AwsEc2Instance",
        "Id": f"arn:{arn_partition}:ec2:{instance['region']}:{instance['account_id']}:instance/"
              f"{instance['instance_id']}",
        "Partition": arn_partition,
        "Region": instance["region"],
    }
    if details:
        resource["Details"] = {"AwsEc2Instance": details}
    if instance.get("name"):
        resource["Tags"] = {"Name": instance["name"]}
    return resource


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def timestamp(moment: datetime | None = None) -> str:
    """ASFF's timestamps: ISO 8601 in UTC with milliseconds and Z."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render(report: AuditReport, options: RenderOptions | None = None) -> str:
    now = timestamp()
    findings = [finding for instance in instance_dicts(report)
                for finding in findings_of(instance, now)]
    return json.dumps(findings, indent=2 if len(findings) <= 100 else None)


class UnitWriter:
    """``--org``: the findings of each unit as it finishes, one JSON list in all."""

    def __init__(self, out: IO[str], options: RenderOptions | None = None) -> None:
        self.out = out
        self.now = timestamp()
        self.first = True

    def begin(self, source: dict[str, Any]) -> None:
        self.out.write("[")

    def unit(self, document: dict[str, Any]) -> None:
        for instance in document["instances"]:
            for finding in findings_of(instance, self.now):
                self.out.write("\n" if self.first else ",\n")
                self.out.write(json.dumps(finding))
                self.first = False

    def end(self, units: list[dict[str, Any]], summary: dict[str, int]) -> None:
        self.out.write("\n]\n")
