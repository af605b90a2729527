"""The JSON report of the contract (schema_version 1), with more fields than the minimum.

With a locator (a report of templates), each instance and finding also says where its resource
is written: ``logical_id``, ``resource_type``, ``template`` (path and line), ``construct_path``.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.analysis.credentials import CredentialResult, PermissionsResult
from auditor.analysis.results import Finding, ServiceProof
from auditor.audit import AuditReport, InstanceAudit
from auditor.catalogue import CATALOGUE
from auditor.reports import RenderOptions
from auditor.reports.capabilities_json import capabilities_dict, encoded_capabilities
from auditor.reports.locations import Locator, nowhere


def finding_dict(finding: Finding, locate: Locator = nowhere) -> dict[str, Any]:
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
    if finding.capability:
        data["capability"] = finding.capability
    if finding.details:
        data["details"] = finding.details
    located = locate(finding.resource_id or "")
    if located is not None:
        data["logical_id"] = located.logical_id
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
        "path": [{"step": hop.step, "resource_id": hop.resource_id, "decision": hop.decision,
                  "rule": hop.rule} for hop in proof.path],
        "findings": sorted({finding.code for finding in proof.findings}),
    }


def _ssm_view(audit: InstanceAudit) -> dict[str, Any] | None:
    view = audit.ssm_view
    if view is None:
        return None
    data: dict[str, Any] = {"status": view.status, "agent_version": view.agent_version}
    if view.reason:
        data["reason"] = view.reason
    return data


def _log_fields(audit: InstanceAudit) -> dict[str, Any]:
    """With --logs: the agent log symptoms (each confirmed, unexplained or contradicted)."""
    if audit.logs is None:
        return {}
    return {"symptoms": audit.logs["symptoms"],
            "logs": {key: value for key, value in audit.logs.items() if key != "symptoms"}}


def credentials_dict(chain: CredentialResult) -> dict[str, Any]:
    return {"status": chain.status, "source": chain.source, "role": chain.role_arn,
            "chain": chain.chain}


def permissions_dict(permitted: PermissionsResult) -> dict[str, Any]:
    return {"status": permitted.status, "missing_actions": permitted.missing_actions,
            "by_service": permitted.by_service}


def _instance_fields(audit: InstanceAudit, locate: Locator,
                     capabilities: bool = True) -> dict[str, Any]:
    """Everything about one instance but its services and where it is written (and its
    capabilities when not ``capabilities``: the compact report splices them in)."""
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
        "imds": {"status": imds.status, "http_endpoint": imds.http_endpoint,
                 "http_tokens": imds.http_tokens, "hop_limit": imds.hop_limit},
        "credentials": credentials_dict(audit.credentials),
        "permissions": permissions_dict(audit.permissions),
        "ssm_view": _ssm_view(audit),
        "findings": [finding_dict(finding, locate) for finding in audit.findings],
        **(_capability_fields(audit) if capabilities else {}),
        **_log_fields(audit),
    }


def _capability_fields(audit: InstanceAudit) -> dict[str, Any]:
    """Contract section 7: ``capabilities``, with the proofs of the services they reach."""
    if not audit.capabilities:
        return {}
    return {"capabilities": capabilities_dict(audit)}


def _where(audit: InstanceAudit, locate: Locator) -> dict[str, Any]:
    """Where the instance is written, when it comes from a template."""
    located = locate(audit.instance.instance_id)
    if located is None:
        return {}
    where: dict[str, Any] = {"logical_id": located.logical_id,
                             "resource_type": located.resource_type,
                             "template": {"path": located.path, "line": located.line}}
    if located.construct_path:
        where["construct_path"] = located.construct_path
    return where


def instance_dict(audit: InstanceAudit, locate: Locator = nowhere) -> dict[str, Any]:
    fields = _instance_fields(audit, locate)
    fields["services"] = {name: service_dict(proof) for name, proof in audit.services.items()}
    fields.update(_where(audit, locate))
    return fields


def summary(report: AuditReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for audit in report.instances:
        counts[audit.verdict] = counts.get(audit.verdict, 0) + 1
    return counts


def catalogue_dict(report: AuditReport) -> dict[str, Any]:
    """How to fix each code the report holds, said once rather than in every finding."""
    codes = sorted({finding.code for audit in report.instances for finding in audit.findings})
    entries = {}
    for code in codes:
        entry = CATALOGUE.get(code)
        if entry is not None:
            entries[code] = {"title": entry.title, "category": entry.category,
                             "fix": entry.fix, "stack": entry.stack,
                             "doc": f"docs/FINDINGS.md#{code.lower()}"}
    return entries


def _header(report: AuditReport) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "source": report.source.to_dict(),
            "summary": summary(report), "catalogue": catalogue_dict(report)}


def _trailer(report: AuditReport) -> dict[str, Any]:
    """What a report of templates could not resolve or read, after the instances."""
    trailer: dict[str, Any] = {}
    if report.unresolved is not None:
        trailer["unresolved"] = report.unresolved
    if report.not_read is not None:
        trailer["not_read"] = report.not_read
    if report.template_warnings is not None:
        trailer["template_warnings"] = report.template_warnings
    return trailer


def _render_compact(report: AuditReport, locate: Locator) -> str:
    """The same document on one line, each shared proof encoded once and spliced in."""
    encoded: dict[int, str] = {}  # instances alike share their proof objects
    capabilities: dict[tuple, str] = {}  # and their capabilities' evidence

    def proof_text(proof: ServiceProof) -> str:
        if id(proof) not in encoded:
            encoded[id(proof)] = json.dumps(service_dict(proof))
        return encoded[id(proof)]

    instances = []
    for audit in report.instances:
        services = [f"{json.dumps(name)}: {proof_text(proof)}"
                    for name, proof in audit.services.items()]
        fields = json.dumps(_instance_fields(audit, locate, capabilities=False))
        if audit.capabilities:
            fields = f"{fields[:-1]}, {encoded_capabilities(audit, capabilities)}}}"
        where = json.dumps(_where(audit, locate))[1:-1] if locate is not nowhere else ""
        where = f", {where}" if where else ""
        instances.append(f'{fields[:-1]}, "services": {{{", ".join(services)}}}{where}}}')
    header = json.dumps(_header(report))
    trailer = json.dumps(_trailer(report))[1:-1]
    trailer = f", {trailer}" if trailer else ""
    return f'{header[:-1]}, "instances": [{", ".join(instances)}]{trailer}}}'  # one copy


def render(report: AuditReport, options: RenderOptions | None = None,
           indent: bool | None = None) -> str:
    """Indented up to ``INDENT_UP_TO`` instances unless ``indent`` (or the options') says
    otherwise."""
    options = options or RenderOptions()
    locate = options.locate or nowhere
    if indent is None:
        indent = options.indent
    if indent is None:
        indent = len(report.instances) <= INDENT_UP_TO
    if not indent:
        return _render_compact(report, locate)
    document = _header(report)
    document["instances"] = [instance_dict(audit, locate) for audit in report.instances]
    document.update(_trailer(report))
    return json.dumps(document, indent=2)


def instance_fields(audit: InstanceAudit, locate: Locator = nowhere) -> dict[str, Any]:
    """An instance's entry but its services, for reports that share the proofs themselves."""
    return {**_instance_fields(audit, locate), **_where(audit, locate)}


def report_fields(report: AuditReport) -> dict[str, Any]:
    """The document's fields but its instances: what comes before and after them."""
    return {**_header(report), **_trailer(report)}
