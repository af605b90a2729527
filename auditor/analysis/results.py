"""What a proof returns: data, rendered later by the reports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from auditor.vocabulary import BLOCKED, REACHABLE, UNKNOWN

ALLOW = "allow"
DENY = "deny"

# The resource id of findings about the audited instance itself, in proofs that instances
# share; ``ServiceProof.bound_to`` puts the instance's own id in its place.
THE_INSTANCE = "<instance>"


@dataclass(frozen=True)
class Finding:
    code: str
    resource_id: str
    message: str
    service: str | None = None
    severity: str = "error"
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    # The capability (vocabulary.CAPABILITIES) whose own blocker this is; None: the agent's.
    capability: str | None = None

    def for_service(self, service: str | None) -> Finding:
        return replace(self, service=service)


@dataclass(frozen=True)
class Hop:
    """One step of a proof: which resource was crossed and the rule or route that decided."""

    step: str  # e.g. "sg_egress", "nacl_outbound", "route", "endpoint_sg_ingress"
    resource_id: str
    decision: str  # ALLOW | DENY | UNKNOWN
    rule: str  # the deciding rule or route, in words


@dataclass(frozen=True)
class Check:
    """The outcome of one evaluator: its hop, and the finding when it did not allow."""

    hop: Hop
    finding: Finding | None = None

    @property
    def status(self) -> str:
        return {ALLOW: REACHABLE, DENY: BLOCKED}.get(self.hop.decision, UNKNOWN)


@dataclass
class ServiceProof:
    service: str
    status: str  # REACHABLE | BLOCKED | UNKNOWN
    via: str  # interface_endpoint | nat_gateway | internet_gateway | ... | none
    hostname: str
    resolves_to: str
    path: list[Hop] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    endpoint_id: str | None = None  # the interface endpoint the name resolves to, if any

    def bound_to(self, instance_id: str) -> ServiceProof:
        """This proof for one instance: findings about "the instance" name it."""
        if not any(finding.resource_id == THE_INSTANCE for finding in self.findings):
            return self
        findings = [replace(f, resource_id=instance_id) if f.resource_id == THE_INSTANCE else f
                    for f in self.findings]
        return replace(self, findings=findings)


def combine(checks: list[Check]) -> tuple[str, list[Finding]]:
    """All hops must allow: any deny blocks; otherwise any unknown makes the path unknown."""
    statuses = {check.status for check in checks}
    findings = [check.finding for check in checks if check.finding]
    if BLOCKED in statuses:
        return BLOCKED, [f for c in checks if c.status == BLOCKED and (f := c.finding)]
    if UNKNOWN in statuses:
        return UNKNOWN, findings
    return REACHABLE, findings
