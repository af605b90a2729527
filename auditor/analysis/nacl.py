"""Network ACLs: stateless, per subnet boundary, rule-number order, first match wins."""

from __future__ import annotations

from auditor.analysis.ipspace import Coverage, Peer, cidr_coverage, describe_peer, port_coverage
from auditor.analysis.results import ALLOW, DENY, UNKNOWN, Check, Finding, Hop
from auditor.model import Estate, NaclEntry, NetworkAcl

_TCP_NUMBERS = ("-1", "6", "tcp")


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


def _coverage(entry: NaclEntry, peer: Peer, ports: tuple[int, int]) -> tuple[Coverage, Coverage]:
    if entry.cidr is None or entry.protocol not in _TCP_NUMBERS:
        return Coverage.NONE, Coverage.NONE
    addresses = cidr_coverage(entry.cidr, peer)
    if entry.protocol == "-1" or entry.from_port is None:
        return addresses, Coverage.FULL
    return addresses, port_coverage(entry.from_port, entry.to_port or 0, ports)


def decide(nacl: NetworkAcl, egress: bool, peer: Peer,
           ports: tuple[int, int]) -> tuple[str, str, bool]:
    """(decision, deciding rule in words, whether part of the flow is treated otherwise).

    The flow is TCP with ``peer`` on ``ports`` (the destination ports of the packets). A rule
    that covers only part of the flow does not decide; if an earlier partial rule acts
    opposite to the deciding one, the answer is split: a split over ports is a deny (some
    connections fail), a split over addresses is unknown (it depends on the service's address).
    """
    partial: list[tuple[NaclEntry, Coverage]] = []
    deciding: NaclEntry | None = None
    for entry in nacl.entries:  # in rule-number order (NetworkAcl keeps them so)
        if entry.egress != egress:
            continue
        addresses, port_cov = _coverage(entry, peer, ports)
        if Coverage.NONE in (addresses, port_cov):
            continue
        if addresses == Coverage.FULL and port_cov == Coverage.FULL:
            deciding = entry
            break
        partial.append((entry, addresses))
    allowed = bool(deciding and deciding.allow)
    rule = describe_entry(deciding) if deciding else "implicit deny (no rule matches)"
    opposite = [(e, a) for e, a in partial if e.allow != allowed]
    if not opposite:
        return (ALLOW if allowed else DENY), rule, False
    earlier = "; ".join(describe_entry(e) for e, _ in opposite)
    if any(addresses == Coverage.PARTIAL for _, addresses in opposite):
        return UNKNOWN, f"{earlier}; then {rule}", True
    return DENY, f"{earlier}; then {rule}", True


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
