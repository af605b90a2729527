"""What Systems Manager itself says about an instance, set beside the proof.

This is evidence, not proof: it never turns a proven verdict into another. Where it disagrees
with the model (the model proves the agent can work, the service has lost it), the cause lies
outside what the API shows, and the finding lists what to check on the instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor import aws_facts
from auditor.analysis.results import Finding
from auditor.model import Estate, Instance, ManagedNode
from auditor.vocabulary import MANAGEABLE, UNKNOWN

ON_THE_INSTANCE = ("the agent is installed and running (systemctl status amazon-ssm-agent, "
                   "or Get-Service AmazonSSMAgent)", "an OS firewall or a proxy between the "
                   "agent and the endpoints (the agent needs https_proxy and no_proxy="
                   "169.254.169.254 when a proxy is required)", "the instance clock",
                   "the agent's hibernation back-off after earlier failures: restart the "
                   "agent or wait up to an hour")


@dataclass
class SsmView:
    status: str  # "online" | "connection_lost" | "inactive" | "not_registered" | "unknown"
    agent_version: str = ""
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)


def _disagreement(verdict: str, what: str) -> tuple[str, str]:
    """(severity, sentence) of a service-side failure, by whether the model explains it."""
    if verdict == MANAGEABLE:
        checks = "; ".join(ON_THE_INSTANCE)
        return "warning", (f"{what}, yet the configuration lets the agent work: the cause lies "
                           f"outside what the API shows. Check {checks}.")
    return "info", f"{what}, as the findings above explain."


def evaluate(estate: Estate, instance: Instance, verdict: str) -> SsmView:
    if "instance_information" in estate.unavailable:
        return SsmView(UNKNOWN, reason=estate.unavailable["instance_information"])
    node = estate.managed_nodes.get(instance.instance_id)
    if instance.state != "running":
        return SsmView("inactive" if node is None else _status(node),
                       node.agent_version if node else "")
    if node is None:
        severity, message = _disagreement(verdict, "Systems Manager has never registered "
                                          f"{instance.instance_id}")
        return SsmView("not_registered", findings=[Finding(
            "NOT_REGISTERED", instance.instance_id, message, None, severity)])
    view = SsmView(_status(node), node.agent_version)
    if node.ping_status == "ConnectionLost":
        severity, message = _disagreement(
            verdict, f"Systems Manager reports {instance.instance_id} as ConnectionLost "
            f"(last ping {node.last_ping or 'unknown'})")
        view.findings.append(Finding("CONNECTION_LOST", instance.instance_id, message, None,
                                     severity))
    version = aws_facts.agent_version(node.agent_version)
    if node.is_latest_version is False or (
            version is not None and version < aws_facts.SSMMESSAGES_CHANNEL_AGENT_VERSION):
        view.findings.append(Finding(
            "AGENT_OUTDATED", instance.instance_id,
            f"SSM Agent {node.agent_version or '(unknown version)'} is not the latest"
            + (": it predates the ssmmessages channel (3.3.40.0) and uses ec2messages"
               if version is not None and version < aws_facts.SSMMESSAGES_CHANNEL_AGENT_VERSION
               else "") + ".", None, "warning", {"agent_version": node.agent_version}))
    return view


def _status(node: ManagedNode) -> str:
    return {"Online": "online", "ConnectionLost": "connection_lost"}.get(
        node.ping_status, "inactive")


def message_channels(estate: Estate, instance: Instance) -> tuple[str, ...]:
    """The channels this instance's agent can use: older agents know only ec2messages."""
    node = estate.managed_nodes.get(instance.instance_id)
    return aws_facts.agent_channels(node.agent_version if node else "")
