"""One verdict per instance, per the contract's definition of manageable, decided here only.

Manageable needs credentials, the heartbeat on ``ssm`` and at least one message channel.
Any disproved part makes the instance not manageable; any undecided part, unknown. A blocker
in the model always wins over an "all clear". ``judge`` takes the typed results of every
evaluator and returns the verdict with its reasons and the findings as reported: what is left
blocking only a path the agent does not need is a warning, and nothing rests on a value that is
not known yet (a template's unresolved parameter).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from auditor.analysis import ssm_view as ssm_view_eval
from auditor.analysis import unresolved as unresolved_eval
from auditor.analysis.capabilities import (
    CapabilityInput,
    CapabilityResult,
    Evidence,
    combine_parts,
    settle,
)
from auditor.analysis.credentials import CredentialResult
from auditor.analysis.imds import ImdsResult
from auditor.analysis.results import BLOCKED, REACHABLE, Finding, ServiceProof
from auditor.aws_facts import (
    HEARTBEAT_SERVICE,
    INSTANCE_PENDING,
    INSTANCE_RUNNING,
    INSTANCE_STATES,
    MESSAGE_CHANNELS,
)
from auditor.catalogue import severity_rank
from auditor.model import Estate, Instance
from auditor.vocabulary import (
    FAIL,
    MANAGEABLE,
    NOT_APPLICABLE,
    NOT_MANAGEABLE,
    OK,
    SESSION_MANAGER,
    UNKNOWN,
)


def _usable(proof: ServiceProof, permitted: str) -> str:
    """A service the agent can use: reachable, and its calls there allowed."""
    if proof.status == BLOCKED or permitted == FAIL:
        return BLOCKED
    return REACHABLE if proof.status == REACHABLE and permitted == OK else UNKNOWN


def channel_status(services: dict[str, ServiceProof],
                   permitted: dict[str, str] | None = None,
                   channels: tuple[str, ...] = MESSAGE_CHANNELS) -> str:
    """reachable if any message channel is usable, blocked if none can be, else unknown.

    Without ``permitted``, only the network is considered. ``channels``: those the agent
    knows (an agent older than 3.3.40.0 only ec2messages).
    """
    statuses = [_usable(services[channel], (permitted or {}).get(channel, OK))
                for channel in channels]
    if REACHABLE in statuses:
        return REACHABLE
    return BLOCKED if all(status == BLOCKED for status in statuses) else UNKNOWN


def decide(state: str, services: dict[str, ServiceProof], parts: dict[str, str],
           permitted: dict[str, str] | None = None,
           channels: tuple[str, ...] = MESSAGE_CHANNELS) -> tuple[str, list[str]]:
    """(verdict, reasons). ``parts`` maps "imds", "credentials", "permissions" to
    ok | fail | unknown; ``permitted`` maps each service to whether the agent's calls there
    are allowed (ok | fail | unknown), so that a channel counts only when reachable and
    allowed."""
    reasons: list[str] = []
    heartbeat = _usable(services[HEARTBEAT_SERVICE],
                        (permitted or {}).get(HEARTBEAT_SERVICE, OK))
    channel = channel_status(services, permitted, channels)
    if heartbeat == BLOCKED:
        reasons.append(f"{HEARTBEAT_SERVICE} (heartbeat) is blocked or refused")
    if channel == BLOCKED:
        reasons.append(f"no message channel ({', '.join(channels)}) is both reachable and "
                       "allowed")
    reasons += [f"{name} check failed" for name, status in parts.items() if status == FAIL]
    blocked = bool(reasons)
    if not blocked:
        if heartbeat != REACHABLE:
            reasons.append(f"{HEARTBEAT_SERVICE} (heartbeat) is not proven usable")
        if channel != REACHABLE:
            reasons.append("no message channel is proven usable")
        reasons += [f"{name} not proven" for name, status in parts.items() if status != OK]
    if state not in INSTANCE_STATES:  # not read exactly: it may be running
        return UNKNOWN, ["whether the instance is running is unknown", *reasons]
    if state not in (INSTANCE_RUNNING, INSTANCE_PENDING):
        return NOT_APPLICABLE, [f"instance is {state}", *reasons]
    # A pending instance is launching: what its configuration allows once it runs decides.
    pending = [f"instance is {state}: judged as it will run"] if state == INSTANCE_PENDING else []
    if blocked:
        return NOT_MANAGEABLE, [*reasons, *pending]
    return (UNKNOWN, [*reasons, *pending]) if reasons else (MANAGEABLE, pending)


@dataclass
class Judgement:
    """The verdict of one instance, why, the findings as reported and Systems Manager's view."""

    verdict: str
    reasons: list[str]
    findings: list[Finding]
    ssm_view: ssm_view_eval.SsmView
    # Each capability settled against the verdict (none when not evaluated).
    capabilities: dict[str, CapabilityResult] = field(default_factory=dict)


def judge(estate: Estate, instance: Instance, services: dict[str, ServiceProof],
          imds: ImdsResult, credentials: CredentialResult,
          pending: dict[str, str] | None = None,
          capabilities: CapabilityInput | None = None) -> Judgement:
    """The verdict from the proofs, the metadata service, the credential chain and what it
    allows. ``pending``: the unresolved resources the instance depends on, with why
    (``analysis.unresolved.reasons``). ``capabilities``: what Session Manager and patching
    need on their own (``analysis.capability_checks``), settled against the verdict; they never
    change it, and their findings come after the agent's."""
    permitted = credentials.permissions
    parts = {"imds": imds.status, "credentials": credentials.status,
             "permissions": permitted.status}
    verdict, reasons = decide(instance.state, services, parts, permitted.by_service or None,
                              ssm_view_eval.message_channels(estate, instance))
    # Systems Manager's own view is evidence beside the verdict: how much it says depends on
    # whether the configuration proves the instance manageable.
    if instance.instance_id in estate.planned_instances:
        view = ssm_view_eval.SsmView("not_launched", reason="a planned instance")
    else:
        view = ssm_view_eval.evaluate(estate, instance, verdict)
    state = [Finding("DATA_UNAVAILABLE", instance.instance_id,
                     f"The state of {instance.instance_id} is unknown: "
                     f"{instance.state_problem}.", None, "warning")
             ] if instance.state_problem else []
    findings = _findings_of(services, imds,
                            credentials.findings + permitted.findings + view.findings + state)
    if verdict == MANAGEABLE:  # what is left blocks only a path the agent does not need
        findings = [replace(f, severity="warning") if f.severity == "error" else f
                    for f in findings]
    if pending:
        verdict, reasons, findings = _with_unresolved(verdict, reasons, findings, pending)
    if capabilities is None:
        return Judgement(verdict, reasons, findings, view)
    settled = {name: settle(verdict, _unresolved_evidence(evidence, pending or {}))
               for name, evidence in capabilities.evidence.items()}
    if capabilities.operators and SESSION_MANAGER in settled:
        settled[SESSION_MANAGER].operators = dict(capabilities.operators)
    own = [f for result in settled.values() for f in result.findings]
    own += [f for operator in capabilities.operators.values() for f in operator.findings]
    # Where the agent itself is blocked (or the instance is stopped), the capabilities fail
    # because of it first: their own blockers follow, a step down.
    quieter = {NOT_MANAGEABLE: "warning", NOT_APPLICABLE: "info"}.get(verdict)
    if quieter:
        own = [replace(f, severity=quieter) if f.severity == "error" else f for f in own]
    return Judgement(verdict, reasons, findings + _findings_of({}, None, own), view, settled)


def _findings_of(services: dict[str, ServiceProof], imds: ImdsResult | None,
                 more: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    findings: list[Finding] = []
    network = [f for proof in services.values() for f in proof.findings]
    for finding in network + (imds.findings if imds else []) + more:
        key = (finding.code, finding.service, finding.resource_id, finding.message,
               finding.capability)
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    return sorted(findings, key=lambda f: severity_rank(f.severity))


def _unresolved_evidence(evidence: Evidence, pending: dict[str, str]) -> Evidence:
    """A capability's blockers that rest on a value not known yet are warnings, and the
    capability is then unknown rather than failed."""
    if not pending:
        return evidence
    everything = unresolved_eval.ANY_RESOURCE in pending
    parts = []
    for part in evidence.parts:
        uncertain = [f for f in part.findings if f.severity == "error"
                     and (everything or f.resource_id in pending)]
        if not uncertain:
            parts.append(part)
            continue
        findings = [replace(f, severity="warning", message=f"{f.message} (This rests on "
                            f"{f.resource_id}, whose values are not all known before "
                            "deployment: it may not hold.)") if f in uncertain else f
                    for f in part.findings]
        status = FAIL if any(f.severity == "error" for f in findings) else UNKNOWN
        parts.append(replace(part, findings=findings, status=status))
    return replace(evidence, parts=parts, status=combine_parts(parts))


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
