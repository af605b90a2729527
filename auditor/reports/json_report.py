"""The JSON report of the contract (schema_version 1), with more fields than the minimum.

With a locator (a report of templates), each instance and finding also says where its resource
is written: ``logical_id``, ``resource_type``, ``template`` (path and line), ``construct_path``.
"""

from __future__ import annotations

import json
from typing import IO, Any

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
        "account_id": instance.account_id or None,
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


def instance_dict(audit: InstanceAudit, locate: Locator = nowhere,
                  shared: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``shared``: service dicts by proof, for instances that share their proofs to share them
    (``instance_dicts``)."""
    fields = _instance_fields(audit, locate)
    shared = {} if shared is None else shared
    services = {}
    for name, proof in audit.services.items():
        if id(proof) not in shared:
            shared[id(proof)] = service_dict(proof)
        services[name] = shared[id(proof)]
    fields["services"] = services
    fields.update(_where(audit, locate))
    return fields


def instance_dicts(report: AuditReport, locate: Locator = nowhere) -> list[dict[str, Any]]:
    """``instance_dict`` of every instance, alike instances sharing one dict per shared proof
    (small for a fleet; the report must stay alive while they are used)."""
    shared: dict[int, dict[str, Any]] = {}
    return [instance_dict(audit, locate, shared) for audit in report.instances]


def summary(report: AuditReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for audit in report.instances:
        counts[audit.verdict] = counts.get(audit.verdict, 0) + 1
    return counts


def catalogue_dict(report: AuditReport) -> dict[str, Any]:
    """How to fix each code the report holds, said once rather than in every finding."""
    return catalogue_of({finding.code for audit in report.instances for finding in audit.findings})


def catalogue_of(codes: set[str]) -> dict[str, Any]:
    """The catalogue entries of these codes, sorted (the report's ``catalogue``)."""
    entries = {}
    for code in sorted(codes):
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


def encode_instance(document: dict[str, Any], encoded: dict[int, str]) -> str:
    """One instance (as ``instance_dict`` gives it) as compact JSON, each service dict shared
    between instances encoded once (``encoded``: by the dict's id, while the dicts live)."""
    services = []
    for name, service in document["services"].items():
        if id(service) not in encoded:
            encoded[id(service)] = json.dumps(service)
        services.append(f"{json.dumps(name)}: {encoded[id(service)]}")
    fields = json.dumps({key: value for key, value in document.items() if key != "services"})
    return f'{fields[:-1]}, "services": {{{", ".join(services)}}}}}'


class UnitWriter:
    """``--org``: the JSON report written as units finish. The instances come first, as they
    are audited; ``units``, ``summary`` and ``catalogue`` follow them."""

    def __init__(self, out: IO[str], options: RenderOptions | None = None) -> None:
        self.out = out
        self.first = True
        self.codes: set[str] = set()

    def begin(self, source: dict[str, Any]) -> None:
        self.out.write(f'{{"schema_version": {SCHEMA_VERSION}, "source": {json.dumps(source)}, '
                       '"instances": [')

    def unit(self, document: dict[str, Any]) -> None:
        encoded: dict[int, str] = {}
        for instance in document["instances"]:
            self.out.write("\n" if self.first else ",\n")
            self.out.write(encode_instance(instance, encoded))
            self.first = False
            self.codes.update(finding["code"] for finding in instance["findings"])

    def end(self, units: list[dict[str, Any]], summary: dict[str, int]) -> None:
        tail = {"units": units, "summary": summary, "catalogue": catalogue_of(self.codes)}
        self.out.write(f"\n], {json.dumps(tail)[1:]}\n")


def instance_fields(audit: InstanceAudit, locate: Locator = nowhere) -> dict[str, Any]:
    """An instance's entry but its services, for reports that share the proofs themselves."""
    return {**_instance_fields(audit, locate), **_where(audit, locate)}


def report_fields(report: AuditReport) -> dict[str, Any]:
    """The document's fields but its instances: what comes before and after them."""
    return {**_header(report), **_trailer(report)}
