"""The JSON report of the contract (schema_version 1), with more fields than the minimum."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from auditor.analysis.results import Finding, ServiceProof
from auditor.audit import AuditReport, InstanceAudit
from auditor.catalogue import CATALOGUE


def finding_dict(finding: Finding) -> dict[str, Any]:
    entry = CATALOGUE.get(finding.code)
    data: dict[str, Any] = {
        "code": finding.code,
        "service": finding.service,
        "resource_id": finding.resource_id,
        "severity": finding.severity,
        "message": finding.message,
    }
    if entry is not None:
        data["title"] = entry.title
        data["fix"] = entry.fix
        if entry.stack:
            data["stack"] = entry.stack
    if finding.details:
        data["details"] = finding.details
    return data


SCHEMA_VERSION = 1
# Above this many instances the report is written compactly: indenting forces json's slow
# pure-Python encoder, and nobody reads 10,000 instances unindented or not.
INDENT_UP_TO = 100


def service_dict(proof: ServiceProof) -> dict[str, Any]:
    return {
        "status": proof.status,
        "via": proof.via,
        "hostname": proof.hostname,
        "resolves_to": proof.resolves_to,
        "path": [asdict(hop) for hop in proof.path],
        "findings": sorted({finding.code for finding in proof.findings}),
    }


def instance_dict(audit: InstanceAudit,
                  rendered: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``rendered`` memoises service dicts: instances alike share their proof objects."""
    rendered = {} if rendered is None else rendered
    services = {}
    for name, proof in audit.services.items():
        if id(proof) not in rendered:
            rendered[id(proof)] = service_dict(proof)
        services[name] = rendered[id(proof)]
    instance = audit.instance
    imds = audit.imds
    return {
        "instance_id": instance.instance_id,
        "name": instance.name,
        "region": instance.region,
        "state": instance.state,
        "platform": instance.platform,
        "vpc_id": instance.vpc_id,
        "subnet_id": instance.subnet_id,
        "private_ip": instance.private_ip,
        "public_ip": instance.public_ip,
        "security_groups": instance.group_ids,
        "verdict": audit.verdict,
        "verdict_reasons": audit.verdict_reasons,
        "services": services,
        "imds": {"status": imds.status, "http_endpoint": imds.http_endpoint,
                 "http_tokens": imds.http_tokens, "hop_limit": imds.hop_limit},
        "credentials": audit.credentials,
        "permissions": audit.permissions,
        "findings": [finding_dict(finding) for finding in audit.findings],
    }


def summary(report: AuditReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for audit in report.instances:
        counts[audit.verdict] = counts.get(audit.verdict, 0) + 1
    return counts


def render(report: AuditReport) -> str:
    rendered: dict[int, dict[str, Any]] = {}
    document = {
        "schema_version": SCHEMA_VERSION,
        "source": report.source,
        "summary": summary(report),
        "instances": [instance_dict(audit, rendered) for audit in report.instances],
    }
    indent = 2 if len(report.instances) <= INDENT_UP_TO else None
    return json.dumps(document, indent=indent)
