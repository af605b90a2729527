"""What an instance can do beyond a registered agent: Session Manager and patching.

Each capability is evaluated on its own requirements (``session_manager``, ``patching``) into
``Evidence``: ok, fail or unknown, its own findings (each carrying ``capability``), the proofs of
the services it reaches and the checks it made, in words. ``verdict.judge`` then settles each
one against the instance's verdict (contract section 7): ``fail`` when the agent is not
manageable, at best ``unknown`` when the verdict is unknown, ``not_applicable`` when the instance
is not running. A capability never changes the verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from auditor.analysis.results import REACHABLE, Finding, ServiceProof
from auditor.vocabulary import (
    FAIL,
    MANAGEABLE,
    NOT_APPLICABLE,
    NOT_MANAGEABLE,
    OK,
    PATCHING,
    SESSION_MANAGER,
    UNKNOWN,
)


@dataclass
class Part:
    """One requirement of a capability (the data channel, the KMS key, S3 logging...)."""

    name: str
    status: str  # OK | FAIL | UNKNOWN
    checks: list[str] = field(default_factory=list)  # the proof, in words
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Evidence:
    """A capability's own requirements, before the verdict is known."""

    name: str  # SESSION_MANAGER | PATCHING
    status: str  # OK | FAIL | UNKNOWN
    parts: list[Part] = field(default_factory=list)
    proofs: dict[str, ServiceProof] = field(default_factory=dict)  # kms, logs, s3
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for part in self.parts for f in part.findings]


@dataclass
class OperatorResult:
    """Whether one principal may start a session on the instance (``--operator``)."""

    principal: str  # the ARN given
    kind: str  # role | user | unknown
    status: str  # OK | FAIL | UNKNOWN
    checks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    run_as: str | None = None  # the OS user its sessions run as, with Run As on


@dataclass
class CapabilityResult:
    """A capability as reported: its status against the verdict, and why."""

    name: str
    status: str  # OK | FAIL | UNKNOWN | NOT_APPLICABLE
    reasons: list[str]
    evidence: Evidence
    # Session Manager only: the principals --operator named, and --operators' listing (the
    # principals that may, or might, start a session; None when not asked).
    operators: dict[str, OperatorResult] = field(default_factory=dict)
    operator_listing: list[OperatorResult] | None = None

    @property
    def findings(self) -> list[Finding]:
        return self.evidence.findings


def combine_parts(parts: Iterable[Part]) -> str:
    statuses = {part.status for part in parts}
    if FAIL in statuses:
        return FAIL
    return UNKNOWN if UNKNOWN in statuses else OK


def shape(proof: ServiceProof) -> object:
    """What a capability's answer reads of a proof: how it goes and, when it does not, the
    findings that say why. Its hops name the instance's own subnet and groups, which decide
    nothing more, so instances of many subnets share one answer."""
    if proof.status == REACHABLE:
        return (proof.status, proof.via, proof.hostname, proof.endpoint_id)
    return (proof.status, proof.via, proof.hostname, proof.endpoint_id, proof.service,
            tuple((f.code, f.resource_id, f.message, f.severity, f.service, repr(f.details))
                  for f in proof.findings))


def own_proofs(memo: dict, key: tuple, proofs: Sequence[ServiceProof],
               named: dict[str, ServiceProof]) -> Evidence:
    """The evidence kept in ``memo[key]`` (a tuple ending with it, made for proofs of the same
    shape), with this instance's own proofs (``named``): instances alike in subnet and groups,
    which share their proofs, share one object."""
    own = (*key, "own", *map(id, proofs))
    if own not in memo:
        shared: Evidence = memo[key][-1]
        same = all(shared.proofs.get(name) is proof for name, proof in named.items())
        memo[own] = (proofs, shared if same else replace(shared, proofs=dict(named)))
    return memo[own][1]


def tagged(findings: Iterable[Finding], capability: str) -> list[Finding]:
    return [replace(finding, capability=capability) for finding in findings]


def settle(verdict: str, evidence: Evidence) -> CapabilityResult:
    """The capability's status from the agent's verdict and its own requirements."""
    own = evidence.status
    if verdict == NOT_APPLICABLE:
        return CapabilityResult(evidence.name, NOT_APPLICABLE,
                                ["the instance is not running"], evidence)
    if verdict == NOT_MANAGEABLE:
        return CapabilityResult(evidence.name, FAIL, ["the agent is not manageable",
                                                      *_own_reasons(evidence)], evidence)
    if verdict == UNKNOWN:
        status = FAIL if own == FAIL else UNKNOWN
        return CapabilityResult(evidence.name, status, [
            *_own_reasons(evidence), "whether the agent is manageable is unknown"], evidence)
    if verdict == MANAGEABLE:
        return CapabilityResult(evidence.name, own, _own_reasons(evidence), evidence)
    raise ValueError(f"unknown verdict {verdict!r}")


def _own_reasons(evidence: Evidence) -> list[str]:
    return [f"{part.name} {'failed' if part.status == FAIL else 'not proven'}"
            for part in evidence.parts if part.status != OK]


def unknown_evidence(name: str, why: str) -> Evidence:
    """A capability that cannot be evaluated at all (no credentials to evaluate, say)."""
    return Evidence(name, UNKNOWN, [Part("agent credentials", UNKNOWN, [why])])


CAPABILITY_ORDER = (SESSION_MANAGER, PATCHING)


@dataclass
class CapabilityInput:
    """What ``verdict.judge`` takes about the capabilities: each one's own evidence, and the
    principals ``--operator`` named (their results join the findings; never the verdict)."""

    evidence: dict[str, Evidence]
    operators: dict[str, OperatorResult] = field(default_factory=dict)
