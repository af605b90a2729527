"""One verdict per instance, per the contract's definition of manageable.

Manageable needs credentials, the heartbeat on ``ssm`` and at least one message channel.
Any disproved part makes the instance not manageable; any undecided part, unknown. A blocker
in the model always wins over an "all clear".
"""

from __future__ import annotations

from auditor.analysis.results import BLOCKED, REACHABLE, ServiceProof
from auditor.aws_facts import HEARTBEAT_SERVICE, MESSAGE_CHANNELS

MANAGEABLE = "manageable"
NOT_MANAGEABLE = "not_manageable"
UNKNOWN = "unknown"
NOT_APPLICABLE = "not_applicable"


def channel_status(services: dict[str, ServiceProof]) -> str:
    """reachable if any message channel is, blocked if all are, else unknown."""
    statuses = [services[channel].status for channel in MESSAGE_CHANNELS]
    if REACHABLE in statuses:
        return REACHABLE
    return BLOCKED if all(status == BLOCKED for status in statuses) else UNKNOWN


def decide(state: str, services: dict[str, ServiceProof], parts: dict[str, str]) -> tuple[
        str, list[str]]:
    """(verdict, reasons). ``parts`` maps "imds", "credentials", "permissions" to
    ok | fail | unknown."""
    reasons: list[str] = []
    heartbeat = services[HEARTBEAT_SERVICE].status
    channel = channel_status(services)
    if heartbeat == BLOCKED:
        reasons.append(f"{HEARTBEAT_SERVICE} (heartbeat) is blocked")
    if channel == BLOCKED:
        reasons.append("no message channel (ssmmessages, ec2messages) is reachable")
    reasons += [f"{name} check failed" for name, status in parts.items() if status == "fail"]
    blocked = bool(reasons)
    if not blocked:
        if heartbeat != REACHABLE:
            reasons.append(f"{HEARTBEAT_SERVICE} reachability is unknown")
        if channel != REACHABLE:
            reasons.append("message channel reachability is unknown")
        reasons += [f"{name} not proven" for name, status in parts.items() if status != "ok"]
    if state != "running":
        return NOT_APPLICABLE, [f"instance is {state}", *reasons]
    if blocked:
        return NOT_MANAGEABLE, reasons
    return (UNKNOWN, reasons) if reasons else (MANAGEABLE, [])
