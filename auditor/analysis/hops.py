"""The hops of a path, each crossed both ways, evaluated once and shared.

A path is a list of places (the agent's ENI, a NAT gateway, an endpoint ENI, an internet
gateway...). Going from one place to the next is a crossing, proved in both directions:

- leaving: the near place's subnet ACL lets the request out and its reply back in
  (``leaves``), and the near place's route table sends the request on (the caller's route hop);
- arriving: the far place's subnet ACL lets the request in and the reply out, and the far
  place's route table (an internet gateway's: its ingress route table) sends the reply straight
  back to the near place (``arrives``). A reply sent elsewhere (a route more specific than
  ``local`` towards an appliance) is asymmetric: not proved, never reachable.

Nothing is crossed between two places of one subnet. A place reached through a transit gateway
or a peering connection (``Place.back``) keeps the agent's address, and the far side's replies
must take that gateway back: a route to it, not ``local``.

Checks are memoised: thousands of instances share their groups, subnets and gateways; a check
is evaluated for no service and labelled with one afterwards (``for_service``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Network
from typing import Any

from auditor import aws_facts
from auditor.analysis import nacl as nacl_eval
from auditor.analysis import security_groups as sg_eval
from auditor.analysis.graph import EstateGraph
from auditor.analysis.ipspace import Peer, describe_peer
from auditor.analysis.results import ALLOW, DENY, THE_INSTANCE, UNKNOWN, Check, Finding, Hop
from auditor.analysis.routes import RouteChoice, describe_route, select_route
from auditor.model import Cidr, NetworkAcl, Route, RouteTable

VIA_BY_TARGET = {
    "internet_gateway": "internet_gateway",
    "nat_gateway": "nat_gateway",
    "transit_gateway": "transit_gateway",
    "vpc_peering": "vpc_peering",
    "virtual_private_gateway": "virtual_private_gateway",
    "vpc_endpoint": "firewall_or_gwlb_endpoint",
    "network_interface": "network_interface",
    "instance": "nat_instance",
    "local_gateway": "local_gateway",
    "core_network": "core_network",
    "carrier_gateway": "carrier_gateway",
}


@dataclass(frozen=True)
class Source:
    """The agent's end of the connection: what every hop's rules are matched against.

    Instances with equal sources get the same proof; findings about the instance itself name
    ``THE_INSTANCE`` and are bound to each instance's id afterwards.
    """

    subnet_id: str
    vpc_id: str
    address: str  # the primary private IPv4 address
    group_ids: tuple[str, ...]
    has_public_ip: bool
    platform: str
    # What rules that match the agent's address are evaluated against: the whole subnet first
    # (a rule that covers all of it or none of it decides alike for every instance in it),
    # the exact address only when some rule splits the subnet.
    peer: IPv4Network
    # Of the instance's type (aws_facts.hypervisor): whether it gets a DNS server in a VPC
    # without a DHCP option set.
    hypervisor: str = aws_facts.NITRO

    def alike(self, with_groups: bool = True) -> tuple:
        """What a proof depends on: the exact address only when it is the peer."""
        return (self.subnet_id, self.vpc_id, self.peer, self.has_public_ip, self.platform,
                self.hypervisor, self.group_ids if with_groups else None)

    @property
    def ephemeral_ports(self) -> tuple[int, int]:
        return aws_facts.EPHEMERAL_PORTS.get(self.platform, aws_facts.EPHEMERAL_PORTS["linux"])

    def place(self) -> Place:
        return Place(THE_INSTANCE, self.subnet_id, self.peer, self.ephemeral_ports, "the agent")


@dataclass(frozen=True)
class Place:
    """A stop on a path: where a route table sends the traffic on, and the replies back."""

    resource_id: str
    subnet_id: str | None  # None for a gateway at the VPC's edge
    # What the far side's rules and routes see as this place's address (the source address of
    # what leaves it), and the ports its replies come back to.
    address: Peer
    reply_ports: tuple[int, int]
    describe: str = ""  # in words, for messages ("the agent", "NAT gateway nat-...")
    # Reached through a gateway: (route target kind, target id) that replies to this place
    # must be routed to ("transit_gateway", "tgw-..."), or None: the VPC's local route.
    back: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        return self.describe or self.resource_id


def unknown_data(step: str, resource: str, reason: str, service: str | None) -> Check:
    return Check(Hop(step, resource, UNKNOWN, reason),
                 Finding("DATA_UNAVAILABLE", resource, f"Cannot read {resource}: {reason}.",
                         service, "warning"))


def for_service(check: Check, service: str | None) -> Check:
    """A check evaluated once for all services, its finding labelled with one of them."""
    if check.finding is None or check.finding.service == service:
        return check
    return Check(check.hop, check.finding.for_service(service))


@lru_cache(maxsize=65536)
def host(address: str) -> IPv4Network:
    return Cidr(f"{address}/32")


class HopEvaluator:
    """Memoised evaluation of the hops every path is made of."""

    def __init__(self, graph: EstateGraph) -> None:
        self.graph = graph
        self.estate = graph.estate
        self._checks: dict[tuple, Any] = {}

    # --- security groups and network ACLs --------------------------------------------------

    def sg_check(self, service: str | None, **arguments: Any) -> Check:
        """Security group evaluation: thousands of instances share their groups."""
        arguments["peer_group_ids"] = tuple(arguments["peer_group_ids"])
        arguments["group_ids"] = tuple(arguments["group_ids"])
        key = ("sg", *arguments.values())
        if key not in self._checks:
            self._checks[key] = sg_eval.evaluate(self.estate, service=None, **arguments)
        return for_service(self._checks[key], service)

    def nacl_check(self, nacl: NetworkAcl | None, service: str | None, **arguments: Any) -> Check:
        key = ("nacl", nacl.nacl_id if nacl else None, *arguments.values())
        if key not in self._checks:
            self._checks[key] = nacl_eval.evaluate(self.estate, nacl, service=None, **arguments)
        return for_service(self._checks[key], service)

    # --- a crossing, both ways -------------------------------------------------------------

    def leaves(self, near: Place, far_subnet: str | None, destination: Peer, port: int,
               purpose: str, side: str = "") -> list[Check]:
        """The ACL of the near place's subnet: the request out to ``destination``, the reply
        back in on the near place's ports; nothing when the far place is in the same subnet.

        ``side`` prefixes the step names ("nat_internet_") when the place is not the agent.
        """
        if near.subnet_id is None or near.subnet_id == far_subnet:
            return []
        nacl = self.graph.nacl_of(near.subnet_id)
        return [
            self.nacl_check(nacl, None, step=f"{side}nacl_outbound", subnet_id=near.subnet_id,
                            egress=True, peer=destination, ports=(port, port), purpose=purpose),
            self.nacl_check(nacl, None, step=f"{side}nacl_inbound_return",
                            subnet_id=near.subnet_id, egress=False, peer=destination,
                            ports=near.reply_ports, purpose=f"reply to {purpose}"),
        ]

    def arrives(self, near: Place, far: Place, port: int, purpose: str,
                side: str) -> list[Check]:
        """Where the request enters the far place: its subnet's ACL (in from the near place,
        the reply out to it), and the route the reply takes back. ``side`` prefixes the steps
        ("endpoint_", "nat_", "igw_")."""
        if far.subnet_id is not None and far.subnet_id == near.subnet_id:
            if near.back is None:
                return []
            # Behind a gateway whose interface shares the subnet: the replies go from the far
            # place to that interface (the subnet's ACL both ways) by the subnet's route table.
            return [*self.to_gateway_in_subnet(far.subnet_id, far.address, near.address,
                                               near.reply_ports, f"replies from {purpose}",
                                               f"{side}reply_"),
                    self.return_route(far, near, f"{side}return_route")]
        checks = []
        if far.subnet_id is not None:
            nacl = self.graph.nacl_of(far.subnet_id)
            checks += [
                self.nacl_check(nacl, None, step=f"{side}nacl_inbound", subnet_id=far.subnet_id,
                                egress=False, peer=near.address, ports=(port, port),
                                purpose=f"from {near.name} to {purpose}"),
                self.nacl_check(nacl, None, step=f"{side}nacl_outbound_return",
                                subnet_id=far.subnet_id, egress=True, peer=near.address,
                                ports=near.reply_ports, purpose=f"reply from {purpose}"),
            ]
        checks.append(self.return_route(far, near, f"{side}return_route"))
        return checks

    def return_route(self, far: Place, near: Place, step: str) -> Check:
        """The reply leaves by the far place's route table: it must go straight back."""
        key = ("return", step, far.resource_id, far.subnet_id, near.address, near.back)
        if key not in self._checks:
            self._checks[key] = self._return_route(far, near, step)
        return self._checks[key]

    def _return_route(self, far: Place, near: Place, step: str) -> Check:
        if far.subnet_id is None:
            table = self.graph.ingress_route_table_of(far.resource_id)
            if table is None:
                return Check(Hop(step, far.resource_id, ALLOW,
                                 f"no ingress route table: replies to {describe_peer(near.address)}"
                                 " are delivered by the VPC's local route"))
            where = f"{table.route_table_id} (ingress route table of {far.resource_id})"
        else:
            table_and_kind = self.graph.route_table_of(far.subnet_id)
            if table_and_kind is None:
                reason = self.estate.unavailable.get("route_tables",
                                                     f"no route table for {far.subnet_id}")
                return unknown_data(step, far.subnet_id, reason, None)
            table, association = table_and_kind
            where = f"{table.route_table_id} ({association} route table of {far.subnet_id})"
        return _reply_route(table, where, far, near, step,
                            select_route(self.estate, table, near.address))

    def to_gateway_in_subnet(self, subnet_id: str, source: Peer, destination: Peer,
                             ports: tuple[int, int], purpose: str, side: str) -> list[Check]:
        """Traffic from a resource to a transit gateway attachment's interface in the same
        subnet: the subnet's ACL applies its outbound rules to the destination and its inbound
        rules to the source (and nothing to what the gateway sends into the subnet)."""
        nacl = self.graph.nacl_of(subnet_id)
        return [
            self.nacl_check(nacl, None, step=f"{side}nacl_outbound", subnet_id=subnet_id,
                            egress=True, peer=destination, ports=ports, purpose=purpose),
            self.nacl_check(nacl, None, step=f"{side}nacl_inbound", subnet_id=subnet_id,
                            egress=False, peer=source, ports=ports,
                            purpose=f"{purpose}, into the transit gateway's interface"),
        ]

    # --- what the model does not prove ------------------------------------------------------

    def unmodeled(self, table_id: str, route: Route, service: str | None, text: str,
                  step: str = "route") -> Check:
        kind = VIA_BY_TARGET.get(route.target_kind, route.target_kind).replace("_", " ")
        message = (f"{table_id} sends the traffic to {route.target_id} ({kind}); what lies "
                   "beyond it is outside what this VPC's description proves.")
        return Check(Hop(step, table_id, UNKNOWN, text),
                     Finding("UNMODELED_HOP", route.target_id, message, service, "warning",
                             {"route_table": table_id, "target_kind": route.target_kind}))

    def no_route_table(self, subnet_id: str, service: str | None, step: str = "route") -> Check:
        reason = self.estate.unavailable.get("route_tables", f"no route table for {subnet_id}")
        return unknown_data(step, subnet_id, reason, service)


def _reply_route(table: RouteTable, where: str, far: Place, near: Place, step: str,
                 choice: RouteChoice) -> Check:
    route = choice.route
    towards = describe_peer(near.address)
    if near.back is not None and not choice.uncertain:
        return _reply_through(table, where, far, near, step, route)
    if choice.uncertain:
        routes = "; ".join(describe_route(table, r) for r in choice.uncertain)
        message = (f"{where} sends part of the replies from {far.name} to {towards} elsewhere "
                   f"({routes}): whether they come straight back is not known.")
        return Check(Hop(step, table.route_table_id, UNKNOWN, routes),
                     Finding("ASYMMETRIC_RETURN_ROUTE", table.route_table_id, message, None,
                             "warning", {"route_table": table.route_table_id}))
    if route is None:
        message = f"{where} has no route back to {towards}: the replies from {far.name} are lost."
        return Check(Hop(step, table.route_table_id, DENY, "no matching route"),
                     Finding("NO_ROUTE_TO_DESTINATION", table.route_table_id, message, None))
    text = describe_route(table, route)
    if route.target_kind == "local":
        return Check(Hop(step, table.route_table_id, ALLOW, f"replies: {text}"))
    if route.state == "blackhole":
        message = (f"{where} sends the replies from {far.name} to {towards} to "
                   f"{route.target_id}, which no longer exists (blackhole route).")
        return Check(Hop(step, table.route_table_id, DENY, text),
                     Finding("BLACKHOLE_ROUTE", table.route_table_id, message, None,
                             details={"target": route.target_id}))
    kind = VIA_BY_TARGET.get(route.target_kind, route.target_kind).replace("_", " ")
    message = (f"{where} sends the replies from {far.name} to {towards} through "
               f"{route.target_id} ({kind}), by a route more specific than local: they do not "
               "come straight back the way the request went, so the path is not proved (a "
               "stateful appliance that sees only one direction drops it).")
    return Check(Hop(step, table.route_table_id, UNKNOWN, text),
                 Finding("ASYMMETRIC_RETURN_ROUTE", table.route_table_id, message, None,
                         "warning", {"route_table": table.route_table_id,
                                     "target": route.target_id,
                                     "target_kind": route.target_kind}))


# A reply route that does not lead back over the gateway the request came by: what it means.
_MISSING_BACK = {"transit_gateway": "RETURN_ROUTE_MISSING", "vpc_peering": "PEERING_ROUTE_MISSING"}
# Targets from which a reply can never come back to an address behind a gateway.
_DEAD_ENDS = ("internet_gateway", "nat_gateway", "local", "egress_only_internet_gateway")


def _reply_through(table: RouteTable, where: str, far: Place, near: Place, step: str,
                   route: Route | None) -> Check:
    """The reply to a place behind a gateway (``near.back``) must be routed to that gateway."""
    kind, gateway = near.back or ("", "")
    towards = describe_peer(near.address)
    code = _MISSING_BACK.get(kind, "RETURN_ROUTE_MISSING")
    details = {"route_table": table.route_table_id, "destination": towards, "gateway": gateway}
    if route is None:
        message = (f"{where} has no route back to {towards} through {gateway}: the replies from "
                   f"{far.name} are lost.")
        return Check(Hop(step, table.route_table_id, DENY, "no matching route"),
                     Finding(code, table.route_table_id, message, None, details=details))
    text = describe_route(table, route)
    if route.target_kind == kind and route.target_id == gateway:
        if route.state == "blackhole":
            message = (f"{where} sends the replies from {far.name} to {towards} to {gateway}, "
                       "which no longer carries them (blackhole route).")
            return Check(Hop(step, table.route_table_id, DENY, text),
                         Finding("BLACKHOLE_ROUTE", table.route_table_id, message, None,
                                 details={"target": gateway}))
        return Check(Hop(step, table.route_table_id, ALLOW, f"replies: {text}"))
    if route.state == "blackhole" or route.target_kind in _DEAD_ENDS:
        message = (f"{where} sends the replies from {far.name} to {towards} to "
                   f"{route.target_id} ({route.destination()}), not back through {gateway}: "
                   "they never reach the agent.")
        return Check(Hop(step, table.route_table_id, DENY, text),
                     Finding(code, table.route_table_id, message, None, details=details))
    message = (f"{where} sends the replies from {far.name} to {towards} through "
               f"{route.target_id}, not back through {gateway}: whether they come back is not "
               "known (an asymmetric path).")
    return Check(Hop(step, table.route_table_id, UNKNOWN, text),
                 Finding("ASYMMETRIC_RETURN_ROUTE", table.route_table_id, message, None,
                         "warning", {"route_table": table.route_table_id,
                                     "target": route.target_id,
                                     "target_kind": route.target_kind}))
