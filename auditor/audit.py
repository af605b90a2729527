"""Audit instances of one or more estates: the proofs, the verdicts, nothing rendered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from auditor.analysis import credentials as credentials_eval
from auditor.analysis import imds as imds_eval
from auditor.analysis import ssm_view as ssm_view_eval
from auditor.analysis import unresolved as unresolved_eval
from auditor.analysis.graph import EstateGraph
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import Finding, ServiceProof
from auditor.analysis.verdict import MANAGEABLE, NOT_APPLICABLE, NOT_MANAGEABLE, UNKNOWN, decide
from auditor.catalogue import severity_rank
from auditor.errors import UsageError
from auditor.model import Estate, Instance

# Exit statuses of an audit (the contract's; 2, bad usage, is the command line's).
EXIT_ALL_CLEAR = 0
EXIT_NOT_MANAGEABLE = 1
EXIT_UNKNOWN = 3


@dataclass
class InstanceAudit:
    instance: Instance
    verdict: str
    verdict_reasons: list[str]
    services: dict[str, ServiceProof]
    imds: imds_eval.ImdsResult
    credentials: dict[str, Any]
    permissions: dict[str, Any]
    findings: list[Finding]
    ssm_view: ssm_view_eval.SsmView | None = None
    logs: dict[str, Any] | None = None  # with --logs: the agent log symptoms, correlated


@dataclass
class AuditReport:
    source: dict[str, Any]
    instances: list[InstanceAudit] = field(default_factory=list)

    def exit_code(self) -> int:
        verdicts = {audit.verdict for audit in self.instances}
        if NOT_MANAGEABLE in verdicts:
            return EXIT_NOT_MANAGEABLE
        if verdicts <= {MANAGEABLE, NOT_APPLICABLE}:
            return EXIT_ALL_CLEAR
        return EXIT_UNKNOWN


def _findings_of(services: dict[str, ServiceProof], imds: imds_eval.ImdsResult,
                 more: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    findings: list[Finding] = []
    network = [f for proof in services.values() for f in proof.findings]
    for finding in network + imds.findings + more:
        key = (finding.code, finding.service, finding.resource_id, finding.message)
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    return sorted(findings, key=lambda f: severity_rank(f.severity))


def audit_instance(prover: NetworkProver, instance: Instance,
                   memo: dict | None = None) -> InstanceAudit:
    """``memo``: one dict per estate, for answers instances share (credentials)."""
    estate = prover.estate
    services = prover.prove(instance)
    imds = imds_eval.evaluate(instance)
    node = estate.managed_nodes.get(instance.instance_id)
    chain = credentials_eval.evaluate(estate, instance, services, imds.status,
                                      node.agent_version if node else "", memo)
    permitted = chain.permissions
    credentials = {"status": chain.status, "source": chain.source, "role": chain.role_arn,
                   "chain": chain.chain}
    permissions = {"status": permitted.status, "missing_actions": permitted.missing_actions,
                   "by_service": permitted.by_service}
    parts = {"imds": imds.status, "credentials": chain.status, "permissions": permitted.status}
    verdict, reasons = decide(instance.state, services, parts, permitted.by_service or None,
                              ssm_view_eval.message_channels(estate, instance))
    if instance.instance_id in estate.planned_instances:
        view = ssm_view_eval.SsmView("not_launched", reason="a planned instance")
    else:
        view = ssm_view_eval.evaluate(estate, instance, verdict)
    findings = _findings_of(services, imds, chain.findings + permitted.findings + view.findings)
    if verdict == MANAGEABLE:  # what is left blocks only a path the agent does not need
        findings = [replace(f, severity="warning") if f.severity == "error" else f
                    for f in findings]
    pending = unresolved_eval.reasons(prover.graph, instance)
    if pending:
        verdict, reasons, findings = _with_unresolved(verdict, reasons, findings, pending)
    return InstanceAudit(instance, verdict, reasons, services, imds, credentials, permissions,
                         findings, view)


def _with_unresolved(verdict: str, reasons: list[str], findings: list[Finding],
                     pending: dict[str, str]) -> tuple[str, list[str], list[Finding]]:
    """Never an all-clear, nor a blocker, resting on a value that is not known yet."""
    notes = [Finding("TEMPLATE_VALUE_UNRESOLVED", resource_id, f"{resource_id}: {reason}",
                     None, "warning") for resource_id, reason in pending.items()]
    everything = unresolved_eval.ANY_RESOURCE in pending
    uncertain = [f for f in findings
                 if f.severity == "error" and (everything or f.resource_id in pending)]
    blockers = [f for f in findings if f.severity == "error"]
    explained = bool(blockers) and len(uncertain) == len(blockers)
    # A blocker found on a resource whose values are not all known may not hold: say so.
    findings = [replace(f, severity="warning",
                        message=f"{f.message} (This rests on {f.resource_id}, whose values are "
                                "not all known before deployment: it may not hold.)")
                if f in uncertain else f for f in findings]
    if verdict in (MANAGEABLE, UNKNOWN) or (verdict == NOT_MANAGEABLE and explained):
        what = "; ".join(f"{resource_id}: {reason}" for resource_id, reason in pending.items())
        return UNKNOWN, [*reasons, f"depends on values unknown before deployment ({what})"], \
            [*findings, *notes]
    return verdict, reasons, [*findings, *notes]


def select_instances(estates: list[Estate], instance_ids: list[str] | None
                     ) -> list[tuple[Estate, list[Instance]]]:
    """The requested instances per estate; an id found nowhere is a usage error."""
    if not instance_ids:
        return [(estate, sorted(estate.instances.values(), key=lambda i: i.instance_id))
                for estate in estates]
    wanted = list(dict.fromkeys(instance_ids))
    missing = [iid for iid in wanted if not any(iid in e.instances for e in estates)]
    if missing:
        regions = ", ".join(estate.region for estate in estates) or "no region"
        raise UsageError(f"instance {', '.join(missing)} not found (searched {regions})")
    return [(estate, [estate.instances[iid] for iid in wanted if iid in estate.instances])
            for estate in estates]


def vpcs_of(instances: Iterable[Instance]) -> set[str]:
    return {instance.vpc_id for instance in instances if instance.vpc_id}


def run_audit(estates: list[Estate], instance_ids: list[str] | None,
              source: dict[str, Any]) -> AuditReport:
    report = AuditReport(source)
    for estate, instances in select_instances(estates, instance_ids):
        if not instances:
            continue
        scope = vpcs_of(instances) if instance_ids else None
        prover = NetworkProver(EstateGraph(estate, scope))
        memo: dict = {}
        report.instances.extend(audit_instance(prover, instance, memo)
                                for instance in instances)
    return report
