"""Security groups: stateful, the union of a set of groups' rules admits a flow or not."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network

from auditor.analysis.ipspace import Coverage, Peer, cidr_coverage, cidrs_coverage
from auditor.analysis.ipspace import describe_peer as peer_text
from auditor.analysis.results import ALLOW, DENY, UNKNOWN, Check, Finding, Hop
from auditor.aws_facts import TCP
from auditor.model import Estate, SecurityGroupRule


def describe_rule(group_id: str, rule: SecurityGroupRule) -> str:
    ports = rule.ports
    if ports.protocol == "-1":
        what = "all traffic"
    elif ports.from_port == ports.to_port:
        what = f"{ports.protocol} {ports.from_port}"
    else:
        what = f"{ports.protocol} {ports.from_port}-{ports.to_port}"
    preposition = "to" if rule.direction == "egress" else "from"
    return f"{group_id} {rule.direction} {what} {preposition} {rule.peer()}"


def _admits_port(rule: SecurityGroupRule, protocol: str, port: int) -> bool:
    ports = rule.ports
    return ports.protocol in ("-1", protocol) and ports.from_port <= port <= ports.to_port


def _peer_coverage(estate: Estate, rule: SecurityGroupRule, peer: Peer,
                   peer_group_ids: Sequence[str]) -> Coverage:
    if rule.cidr is not None:
        return cidr_coverage(rule.cidr, peer)
    if rule.group_id is not None:
        return Coverage.FULL if rule.group_id in peer_group_ids else Coverage.NONE
    if rule.prefix_list_id is not None:
        prefix_list = estate.prefix_lists.get(rule.prefix_list_id)
        if prefix_list is None or prefix_list.cidrs is None:
            return Coverage.PARTIAL  # entries unknown: may or may not hold the peer
        return cidrs_coverage(prefix_list.cidrs, peer)
    return Coverage.NONE  # IPv6 rules never match the agent's IPv4 traffic


def _rule_cidrs(estate: Estate, rule: SecurityGroupRule) -> list[IPv4Network]:
    """The addresses a rule names, when known: together, partial rules may cover the peer."""
    if rule.cidr is not None:
        return [rule.cidr]
    prefix_list = estate.prefix_lists.get(rule.prefix_list_id or "")
    return list(prefix_list.cidrs or []) if prefix_list is not None else []


def evaluate(estate: Estate, *, step: str, direction: str, group_ids: Sequence[str],
             peer: Peer, peer_group_ids: Sequence[str], port: int, service: str | None,
             finding_code: str, owner: str) -> Check:
    """Does any rule of ``group_ids`` in ``direction`` admit TCP ``port`` with ``peer``?

    ``peer_group_ids`` are the groups carried by the peer's ENI, matched by group references.
    ``owner`` names what the groups protect, for messages ("instance i-...").
    """
    resource = ",".join(group_ids) or "(no security group)"
    if not group_ids:  # every ENI in a VPC carries at least one: the data is incomplete
        message = f"No security group of {owner} is in the data."
        return Check(Hop(step, resource, UNKNOWN, "no security group known"),
                     Finding("DATA_UNAVAILABLE", resource, message, service, "warning"))
    missing = [gid for gid in group_ids if gid not in estate.security_groups]
    if missing:
        reason = estate.unavailable.get("security_groups", "not in the collected data")
        return Check(Hop(step, resource, UNKNOWN, f"{', '.join(missing)}: {reason}"),
                     Finding("DATA_UNAVAILABLE", missing[0],
                             f"Cannot read security group {', '.join(missing)} ({reason}).",
                             service, "warning"))
    partial: list[str] = []
    union_cidrs = []
    for group_id in group_ids:
        rules = estate.security_groups[group_id]
        for rule in rules.egress if direction == "egress" else rules.ingress:
            if not _admits_port(rule, TCP, port):
                continue
            coverage = _peer_coverage(estate, rule, peer, peer_group_ids)
            if coverage == Coverage.FULL:
                return Check(Hop(step, group_id, ALLOW, describe_rule(group_id, rule)))
            if coverage == Coverage.PARTIAL:
                partial.append(describe_rule(group_id, rule))
                union_cidrs.extend(_rule_cidrs(estate, rule))
    if union_cidrs and cidrs_coverage(union_cidrs, peer) == Coverage.FULL:
        return Check(Hop(step, resource, ALLOW, "together: " + "; ".join(partial)))
    towards = "to" if direction == "egress" else "from"
    if partial:
        message = (f"{direction.capitalize()} rules of {resource} admit TCP {port} only for part "
                   f"of {peer_text(peer)} ({'; '.join(partial)}); whether that covers the "
                   f"traffic {towards} {peer_text(peer)} cannot be known from the API.")
        return Check(Hop(step, resource, UNKNOWN, "; ".join(partial)),
                     Finding("DESTINATION_UNCERTAIN", group_ids[0], message, service, "warning",
                             {"security_groups": list(group_ids)}))
    message = (f"No {direction} rule of {resource} ({owner}) admits TCP {port} {towards} "
               f"{peer_text(peer)}.")
    return Check(Hop(step, resource, DENY, f"no {direction} rule admits tcp {port}"),
                 Finding(finding_code, group_ids[0] if group_ids else resource, message, service,
                         details={"security_groups": list(group_ids), "port": port}))
