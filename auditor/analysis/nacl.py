"""Network ACLs: stateless, per subnet boundary, rule-number order, first match wins.

Rules are matched per packet, so a flow (a set of addresses times a port range) is decided over
(address, port) boxes: adjacent allows cover a range together, and a deny takes only what it
covers.
"""

from __future__ import annotations

from functools import lru_cache

from auditor.analysis import ipspace
from auditor.analysis.ipspace import Box, Peer, describe_peer
from auditor.analysis.results import ALLOW, DENY, UNKNOWN, Check, Finding, Hop
from auditor.model import Estate, NaclEntry, NetworkAcl

_TCP_NUMBERS = ("-1", "6", "tcp")
IMPLICIT_DENY = "implicit deny (no rule matches)"


@lru_cache(maxsize=65536)
def describe_entry(entry: NaclEntry) -> str:
    action = "allow" if entry.allow else "deny"
    if entry.protocol == "-1":
        what = "all traffic"
    elif entry.from_port is None:
        what = f"protocol {entry.protocol}"
    else:
        what = f"tcp {entry.from_port}-{entry.to_port}"
    number = "*" if entry.rule_number == 32767 else str(entry.rule_number)
    direction = "outbound" if entry.egress else "inbound"
    return f"{direction} rule {number} {action} {what} {entry.cidr}"


@lru_cache(maxsize=65536)
def _box(entry: NaclEntry) -> Box | None:
    """What a rule matches of TCP traffic: its addresses times its ports."""
    if entry.cidr is None or entry.protocol not in _TCP_NUMBERS:
        return None
    low, high = ipspace.network_interval(entry.cidr)
    if entry.protocol == "-1" or entry.from_port is None:
        return low, high, 0, ipspace.LAST_PORT
    return low, high, entry.from_port, entry.to_port if entry.to_port is not None else 0


def decide(nacl: NetworkAcl, egress: bool, peer: Peer,
           ports: tuple[int, int]) -> tuple[str, str, bool]:
    """(decision, deciding rules in words, whether the flow is treated in more than one way).

    The flow is TCP with ``peer`` on ``ports`` (the destination ports of the packets). An
    address is admitted when every port of the flow is (the client picks any port of its
    ephemeral range, so a port refused fails some connections): ALLOW when every address of the
    peer is admitted, DENY when none is, UNKNOWN when it depends on the peer's address.
    """
    # Entries in rule-number order (NetworkAcl keeps them so); many hops of a fleet ask the
    # same ACL the same question, and a plan may change an ACL's entries: key on them.
    return _decide(tuple(nacl.entries), egress, peer, ports)


@lru_cache(maxsize=65536)
def _decide(entries: tuple[NaclEntry, ...], egress: bool, peer: Peer,
            ports: tuple[int, int]) -> tuple[str, str, bool]:
    rules = [(box, entry) for entry in entries
             if entry.egress == egress and (box := _box(entry)) is not None]
    found = ipspace.first_match(rules, ipspace.boxes(peer, ports))
    allowed = [entry for _, entry in found.matched if entry.allow]
    denied_boxes = [box for box, entry in found.matched if not entry.allow] + found.unmatched
    involved = sorted({id(entry): entry for _, entry in found.matched}.values(),
                      key=lambda entry: entry.rule_number)
    words = [describe_entry(entry) for entry in involved]
    if found.unmatched:
        words.append(IMPLICIT_DENY)
    if not denied_boxes:
        return ALLOW, "; ".join(words), False
    split = bool(allowed)
    rule = "; then ".join(words) if split else "; ".join(words)
    if ipspace.covers_all(ipspace.addresses_of(denied_boxes), peer):
        return DENY, rule, split
    return UNKNOWN, rule, True


def evaluate(estate: Estate, nacl: NetworkAcl | None, *, step: str, subnet_id: str, egress: bool,
             peer: Peer, ports: tuple[int, int], service: str | None, purpose: str) -> Check:
    if nacl is None:
        reason = estate.unavailable.get("network_acls", "no network ACL for it in the data")
        return Check(Hop(step, subnet_id, UNKNOWN, reason),
                     Finding("DATA_UNAVAILABLE", subnet_id,
                             f"Cannot tell which network ACL guards {subnet_id} ({reason}).",
                             service, "warning"))
    decision, rule, split = decide(nacl, egress, peer, ports)
    hop = Hop(step, nacl.nacl_id, decision, rule)
    if decision == ALLOW:
        return Check(hop)
    direction = "outbound" if egress else "inbound"
    port_text = str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"
    flow = (f"{direction} TCP {port_text} {'to' if egress else 'from'} {describe_peer(peer)} "
            f"({purpose})")
    if decision == UNKNOWN:
        return Check(hop, Finding(
            "DESTINATION_UNCERTAIN", nacl.nacl_id,
            f"Network ACL {nacl.nacl_id} of {subnet_id} treats part of {flow} differently "
            f"({rule}); whether the service's addresses fall in it cannot be known.",
            service, "warning"))
    verb = "does not admit all of" if split else "denies"
    return Check(hop, Finding(
        "NACL_BLOCKS", nacl.nacl_id,
        f"Network ACL {nacl.nacl_id} of {subnet_id} {verb} {flow}: {rule}.",
        service, details={"subnet_id": subnet_id, "direction": direction, "ports": port_text,
                          "rule": rule}))
