"""One verdict per instance, per the contract's definition of manageable.

Manageable needs credentials, the heartbeat on ``ssm`` and at least one message channel.
Any disproved part makes the instance not manageable; any undecided part, unknown. A blocker
in the model always wins over an "all clear".
"""

from __future__ import annotations

from auditor.analysis.results import BLOCKED, REACHABLE, ServiceProof
from auditor.aws_facts import HEARTBEAT_SERVICE, MESSAGE_CHANNELS
from auditor.vocabulary import MANAGEABLE, NOT_APPLICABLE, NOT_MANAGEABLE, UNKNOWN


def _usable(proof: ServiceProof, permitted: str) -> str:
    """A service the agent can use: reachable, and its calls there allowed."""
    if proof.status == BLOCKED or permitted == "fail":
        return BLOCKED
    return REACHABLE if proof.status == REACHABLE and permitted == "ok" else UNKNOWN


def channel_status(services: dict[str, ServiceProof],
                   permitted: dict[str, str] | None = None,
                   channels: tuple[str, ...] = MESSAGE_CHANNELS) -> str:
    """reachable if any message channel is usable, blocked if none can be, else unknown.

    Without ``permitted``, only the network is considered. ``channels``: those the agent
    knows (an agent older than 3.3.40.0 only ec2messages).
    """
    statuses = [_usable(services[channel], (permitted or {}).get(channel, "ok"))
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
                        (permitted or {}).get(HEARTBEAT_SERVICE, "ok"))
    channel = channel_status(services, permitted, channels)
    if heartbeat == BLOCKED:
        reasons.append(f"{HEARTBEAT_SERVICE} (heartbeat) is blocked or refused")
    if channel == BLOCKED:
        reasons.append(f"no message channel ({', '.join(channels)}) is both reachable and "
                       "allowed")
    reasons += [f"{name} check failed" for name, status in parts.items() if status == "fail"]
    blocked = bool(reasons)
    if not blocked:
        if heartbeat != REACHABLE:
            reasons.append(f"{HEARTBEAT_SERVICE} (heartbeat) is not proven usable")
        if channel != REACHABLE:
            reasons.append("no message channel is proven usable")
        reasons += [f"{name} not proven" for name, status in parts.items() if status != "ok"]
    if state != "running":
        return NOT_APPLICABLE, [f"instance is {state}", *reasons]
    if blocked:
        return NOT_MANAGEABLE, reasons
    return (UNKNOWN, reasons) if reasons else (MANAGEABLE, [])
