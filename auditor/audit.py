"""Audit instances of one or more estates: the proofs, the verdicts, nothing rendered.

``audit_raws`` audits raw answers as read (a snapshot, a live read); ``run_audit`` audits
estates, the entry point the command line, ``--verify-plan``, the prelaunch check and the CDK
plugin share; ``audit_instances`` proves chosen instances of one estate (the planner's rounds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from auditor.analysis import capability_checks
from auditor.analysis import credentials as credentials_eval
from auditor.analysis import dns as dns_eval
from auditor.analysis import imds as imds_eval
from auditor.analysis import ssm_view as ssm_view_eval
from auditor.analysis import unresolved as unresolved_eval
from auditor.analysis.capabilities import CapabilityResult
from auditor.analysis.credentials import CredentialResult, PermissionsResult
from auditor.analysis.graph import EstateGraph
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import Finding, ServiceProof
from auditor.analysis.verdict import judge
from auditor.errors import UsageError
from auditor.model import Estate, Instance
from auditor.sources.description import SourceDescription
from auditor.sources.far_sides import build_estates
from auditor.sources.raw import RawRegion
from auditor.vocabulary import MANAGEABLE, NOT_APPLICABLE, NOT_MANAGEABLE, OK, SESSION_MANAGER

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
    credentials: CredentialResult
    permissions: PermissionsResult
    findings: list[Finding]
    ssm_view: ssm_view_eval.SsmView | None = None
    logs: dict | None = None  # with --logs: the agent log symptoms, correlated
    # Session Manager and patching, settled against the verdict (contract section 7)
    capabilities: dict[str, CapabilityResult] = field(default_factory=dict)

    def healthy(self) -> bool:
        """Manageable, and every capability ok."""
        return self.verdict == MANAGEABLE and all(
            result.status == OK for result in self.capabilities.values())


@dataclass(frozen=True)
class AuditOptions:
    """What an audit adds on request: the principals ``--operator`` names, and whether
    ``--operators`` lists every role and user that may start a session (on each instance
    asked for by id, or that is not healthy)."""

    operators: tuple[str, ...] = ()
    list_operators: bool = False


@dataclass
class AuditReport:
    source: SourceDescription
    instances: list[InstanceAudit] = field(default_factory=list)
    # A report of templates: the resources whose values could not be resolved, and what the
    # auditor did not read (nested stacks, custom resources); None for other estates.
    unresolved: dict[str, str] | None = None
    not_read: dict[str, str] | None = None
    # One line per template CloudFormation would refuse (check it with cfn-lint).
    template_warnings: list[str] | None = None
    # With --plan: the remediation plan made from this report (the plan file's dictionary),
    # for the reports that show each instance before and after it.
    plan: dict | None = None

    def exit_code(self) -> int:
        verdicts = {audit.verdict for audit in self.instances}
        if NOT_MANAGEABLE in verdicts:
            return EXIT_NOT_MANAGEABLE
        if verdicts <= {MANAGEABLE, NOT_APPLICABLE}:
            return EXIT_ALL_CLEAR
        return EXIT_UNKNOWN


def audit_instance(prover: NetworkProver, instance: Instance, memo: dict | None = None,
                   options: AuditOptions | None = None, selected: bool = False
                   ) -> InstanceAudit:
    """``memo``: one dict per estate, for answers instances share (credentials).
    ``selected``: the instance was asked for by id (``--operators`` lists its operators)."""
    estate = prover.estate
    memo = {} if memo is None else memo
    options = options or AuditOptions()
    services = prover.prove(instance)
    imds = imds_eval.evaluate(instance)
    node = estate.managed_nodes.get(instance.instance_id)
    chain = credentials_eval.evaluate(estate, instance, services, imds.status,
                                      node.agent_version if node else "", memo)
    capabilities = capability_checks.evaluate(prover, instance, services, chain, memo,
                                              options.operators)
    judged = judge(estate, instance, services, imds, chain,
                   unresolved_eval.reasons(prover.graph, instance), capabilities)
    audit = InstanceAudit(instance, judged.verdict, judged.reasons, services, imds, chain,
                          chain.permissions, judged.findings, judged.ssm_view,
                          capabilities=judged.capabilities)
    if options.list_operators and (selected or not audit.healthy()):
        audit.capabilities[SESSION_MANAGER].operator_listing = \
            capability_checks.operator_listing(prover, instance, memo)
    return audit


def audit_instances(estate: Estate, instances: list[Instance],
                    scope: set[str] | None = None, options: AuditOptions | None = None,
                    selected: bool = False) -> list[InstanceAudit]:
    """These instances of one estate, proved over the VPCs in ``scope`` (None: all) and those
    their names lead to (an endpoint in another VPC that a private hosted zone names)."""
    if scope is not None:
        scope = scope | dns_eval.reached_vpcs(estate, scope)
    prover = NetworkProver(EstateGraph(estate, scope))
    memo: dict = {}
    return [audit_instance(prover, instance, memo, options, selected)
            for instance in instances]


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


def audit_raws(raws: list[RawRegion], instance_ids: list[str] | None,
               source: SourceDescription, options: AuditOptions | None = None
               ) -> tuple[AuditReport, list[Estate]]:
    """The audit of raw answers (a snapshot's, or a live read's of one or more regions): the
    report, and the estates it was proved on. Answers of several accounts of one region (an
    organization's) complete each other's far sides (``sources.far_sides``)."""
    estates = build_estates(raws, instance_ids)
    return run_audit(estates, instance_ids, source.describe(estates), options), estates


def run_audit(estates: list[Estate], instance_ids: list[str] | None,
              source: SourceDescription, options: AuditOptions | None = None) -> AuditReport:
    """Every requested instance (all when ``instance_ids`` is empty) of these estates."""
    report = AuditReport(source)
    for estate, instances in select_instances(estates, instance_ids):
        if instances:
            report.instances.extend(audit_instances(
                estate, instances, vpcs_of(instances) if instance_ids else None, options,
                selected=bool(instance_ids)))
    return report
