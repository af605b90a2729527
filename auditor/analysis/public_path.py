"""The public path: to the service's public addresses, out by an internet or a NAT gateway.

AWS publishes no dedicated range for ssm, ssmmessages or ec2messages, so the destination is some
address, unknown which, of the public space. Rules and routes that cover only part of that
space split it (``ipspace.split_public``): each part, which every rule and route on the way
covers fully or not at all, is proved on its own, and the parts are joined: reachable (or
blocked) when every part is, unknown when the answer depends on the service's address.

Each crossing is proved both ways (``hops``): the agent's subnet to a NAT gateway and back, the
NAT gateway (or the agent) to the internet gateway and the replies back through its ingress
route table. A chain of NAT gateways that never reaches an internet gateway is blocked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Network

from auditor import aws_facts
from auditor.analysis.beyond import Beyond, Landing, join
from auditor.analysis.hops import VIA_BY_TARGET, HopEvaluator, Place, Source, host, unknown_data
from auditor.analysis.ipspace import (
    PUBLIC,
    Addresses,
    Coverage,
    cidr_coverage,
    describe_peer,
    split_public,
)
from auditor.analysis.results import (
    ALLOW,
    BLOCKED,
    DENY,
    REACHABLE,
    THE_INSTANCE,
    UNKNOWN,
    Check,
    Finding,
    Hop,
    combine,
)
from auditor.analysis.routes import describe_route, is_gateway_endpoint_route, select_route
from auditor.model import NatGateway, Route

# More parts than this and the public space is proved whole (unknown where rules split it).
MAX_PUBLIC_PARTS = 64
HTTPS = aws_facts.HTTPS_PORT


@dataclass
class PathOutcome:
    """A path proved for no service in particular (``findings`` carry ``service=None``)."""

    status: str
    via: str
    hops: list[Hop]
    findings: list[Finding]


def _towards(part: Addresses) -> str:
    return "the internet (no 0.0.0.0/0 route)" if part == PUBLIC else describe_peer(part)


class PublicPaths:
    def __init__(self, hops: HopEvaluator) -> None:
        self.hops = hops
        self.graph = hops.graph
        self.estate = hops.estate
        self.beyond = Beyond(hops)
        self._proofs: dict[tuple, PathOutcome] = {}
        self._parts: dict[tuple, list[Addresses]] = {}
        self._cuts: dict[tuple, frozenset[IPv4Network]] = {}
        self._ways_out: dict[tuple, tuple[str, list[Check]]] = {}
        self._onward: dict[tuple, list[Check]] = {}

    def prove(self, source: Source) -> PathOutcome:
        """The same for the three services: proved once, labelled for each by the caller."""
        key = source.alike()
        if key not in self._proofs:
            outcomes = []
            for part in self._parts_of(source):
                checks = [self.hops.sg_check(
                    None, step="sg_egress", direction="egress", group_ids=source.group_ids,
                    peer=part, peer_group_ids=(), port=HTTPS, finding_code="SG_EGRESS_BLOCKS",
                    owner="the instance")]
                via, way = self._way_out(source, part)
                checks += way
                status, findings = combine(checks)
                outcomes.append((part, via, checks, status, findings))
            self._proofs[key] = _join(outcomes)
        return self._proofs[key]

    # --- the public space, cut where rules and routes cut it -------------------------------

    def _parts_of(self, source: Source) -> list[Addresses]:
        key = (source.subnet_id, source.group_ids)
        if key not in self._parts:
            cuts = self._subnet_cuts(source.subnet_id).union(
                *(self._group_cuts(group_id) for group_id in source.group_ids))
            self._parts[key] = (split_public(PUBLIC, cuts, MAX_PUBLIC_PARTS) if cuts
                                else [PUBLIC])
        return self._parts[key]

    def _partial(self, cidrs: list[IPv4Network]) -> frozenset[IPv4Network]:
        """The CIDRs that cut the public space (most rules and routes cover all or none)."""
        return frozenset(c for c in cidrs if cidr_coverage(c, PUBLIC) == Coverage.PARTIAL)

    def _group_cuts(self, group_id: str) -> frozenset[IPv4Network]:
        """Where the egress rules of a group cut the public space."""
        key = ("group", group_id)
        if key not in self._cuts:
            group = self.estate.security_groups.get(group_id)
            self._cuts[key] = self._partial([
                cidr for rule in (group.egress if group else ())
                for cidr in ([rule.cidr] if rule.cidr else self._prefix_list(rule.prefix_list_id))])
        return self._cuts[key]

    def _subnet_cuts(self, subnet_id: str) -> frozenset[IPv4Network]:
        """Where the ACLs and route tables on the way out of a subnet cut the public space: its
        own, those of the NAT gateways its routes lead to, and, through a transit gateway, the
        gateway's route table and the far attachments' subnets (for routes that carry part of
        the public space)."""
        key = ("subnet", subnet_id)
        if key not in self._cuts:
            estate = self.estate
            cidrs: list[IPv4Network] = []
            seen: set[str] = set()
            subnets = [subnet_id]
            while subnets:
                current = subnets.pop()
                if current in seen:
                    continue
                seen.add(current)
                nacl = self.graph.nacl_of(current)
                cidrs += [entry.cidr for entry in nacl.entries if entry.cidr] if nacl else []
                table_and_kind = self.graph.route_table_of(current)
                for route in table_and_kind[0].routes if table_and_kind else ():
                    if is_gateway_endpoint_route(estate, route):
                        continue
                    cidrs += ([route.destination_cidr] if route.destination_cidr
                              else self._prefix_list(route.destination_prefix_list_id))
                    nat = estate.nat_gateways.get(route.target_id)
                    if route.target_kind == "nat_gateway" and nat is not None:
                        subnets.append(nat.subnet_id)
                    elif route.target_kind == "transit_gateway" and _carries_public(route):
                        subnets += self._beyond_cuts(current, route.target_id, cidrs)
            self._cuts[key] = self._partial(cidrs)
        return self._cuts[key]

    def _beyond_cuts(self, subnet_id: str, tgw_id: str, cidrs: list[IPv4Network]) -> list[str]:
        """The gateway route table's destinations (added to ``cidrs``) and the subnets of the
        far attachments its public routes lead to."""
        subnet = self.graph.subnet(subnet_id)
        attachment = self.graph.vpc_attachment(subnet.vpc_id, tgw_id) if subnet else None
        table = self.estate.transit_gateway_route_tables.get(
            attachment.route_table_id or "") if attachment else None
        far: list[str] = []
        for route in (table.routes or []) if table else []:
            cidrs += ([route.destination_cidr] if route.destination_cidr
                      else self._prefix_list(route.destination_prefix_list_id))
            target = self.estate.transit_gateway_attachments.get(route.target_id)
            if target is not None and _carries_public(route):
                far += target.subnet_ids or []
        return far

    def _prefix_list(self, prefix_list_id: str | None) -> list[IPv4Network]:
        prefix_list = self.estate.prefix_lists.get(prefix_list_id or "")
        return list(prefix_list.cidrs or []) if prefix_list is not None else []

    # --- the way out -----------------------------------------------------------------------

    def _way_out(self, source: Source, part: Addresses) -> tuple[str, list[Check]]:
        """Memoised: the way out depends neither on the groups nor on the service."""
        key = (source.alike(with_groups=False), part)
        if key not in self._ways_out:
            self._ways_out[key] = self._prove_way_out(source, part)
        return self._ways_out[key]

    def _prove_way_out(self, source: Source, part: Addresses) -> tuple[str, list[Check]]:
        return self._route_on(source.place(), source.vpc_id, source.has_public_ip, part, None)

    def _route_on(self, near: Place, vpc_id: str, has_public_ip: bool, part: Addresses,
                  landing: Landing | None) -> tuple[str, list[Check]]:
        """The way on from ``near``: the agent in its subnet, or where its traffic landed in
        another VPC (``landing``), by that subnet's route table."""
        subnet_id = near.subnet_id or ""
        side, step = ("far_", "far_route") if landing else ("", "route")
        table_and_kind = self.graph.route_table_of(subnet_id)
        if table_and_kind is None:
            return "none", [self.hops.no_route_table(subnet_id, None, step)]
        table, association = table_and_kind
        choice = select_route(self.estate, table, part)
        route = choice.route
        where = f"{table.route_table_id} ({association} route table of {subnet_id})"
        purpose = "the agent's connection"
        leg = self.hops.leaves(near, None, part, HTTPS, purpose, side)
        if choice.uncertain:
            routes = "; ".join(describe_route(table, r) for r in choice.uncertain)
            message = (f"{where} sends part of {describe_peer(part)} elsewhere ({routes}); "
                       "whether the service's addresses fall in it cannot be known.")
            return "unknown", [Check(Hop(step, table.route_table_id, UNKNOWN, routes),
                                     Finding("DESTINATION_UNCERTAIN", table.route_table_id,
                                             message, None, "warning"))]
        if route is None:
            message = f"{where} has no route to {_towards(part)}."
            return "none", [*leg, Check(Hop(step, table.route_table_id, DENY,
                                            "no matching route"),
                                        Finding("NO_ROUTE_TO_DESTINATION", table.route_table_id,
                                                message, None))]
        text = describe_route(table, route)
        route_hop = Check(Hop(step, table.route_table_id, ALLOW, f"{text} ({association} "
                                                                  "table)"))
        via = VIA_BY_TARGET.get(route.target_kind, route.target_kind)
        if route.state == "blackhole":
            message = (f"{where} sends {route.destination()} to {route.target_id}, which no "
                       "longer exists (blackhole route).")
            return via, [*leg, Check(Hop(step, table.route_table_id, DENY, text),
                                     Finding("BLACKHOLE_ROUTE", table.route_table_id, message,
                                             None, details={"target": route.target_id}))]
        if route.target_kind == "internet_gateway":
            gateway = _internet_gateway(route.target_id, part)
            return via, [*leg, route_hop,
                         self._igw_check(vpc_id, has_public_ip, route, landing),
                         *self.hops.arrives(near, gateway, HTTPS, gateway.name, f"{side}igw_")]
        if route.target_kind == "nat_gateway":
            return via, self._via_nat(near, route, route_hop, part, side)
        if route.target_kind in ("transit_gateway", "vpc_peering") and landing is None:
            return via, [route_hop, *self._beyond(near, vpc_id, route, part)]
        return via, [*leg, self.hops.unmodeled(table.route_table_id, route, None, text, step)]

    def _beyond(self, near: Place, vpc_id: str, route: Route, part: Addresses) -> list[Check]:
        """Through a transit gateway or peering connection, then on from where it lands (a
        central NAT gateway, say) as from the agent's own subnet."""
        crossing = self.beyond.cross(near, vpc_id, route, part, HTTPS, "the agent's connection")
        if not crossing.landings:
            return crossing.checks
        outcomes = []
        for landing in crossing.landings:
            _, onward = self._route_on(landing.place, landing.vpc_id, False, part, landing)
            checks = [*crossing.checks, *onward]
            outcomes.append((combine(checks)[0], checks))
        return join(outcomes)[1]

    def _igw_check(self, vpc_id: str, has_public_ip: bool, route: Route,
                   landing: Landing | None) -> Check:
        if not self.graph.igw_attached_to(route.target_id, vpc_id):
            if "internet_gateways" in self.estate.unavailable:
                return unknown_data("internet_gateway", route.target_id,
                                    self.estate.unavailable["internet_gateways"], None)
            message = f"Internet gateway {route.target_id} is not attached to {vpc_id}."
            return Check(Hop("internet_gateway", route.target_id, DENY, "not attached"),
                         Finding("BLACKHOLE_ROUTE", route.target_id, message, None))
        if landing is not None:
            message = (f"The agent's traffic reaches {vpc_id} through {landing.place.name} and "
                       f"is routed to internet gateway {route.target_id}, but it keeps the "
                       "instance's private address, which an internet gateway does not "
                       "translate: it is dropped (a central egress needs a NAT gateway).")
            return Check(Hop("internet_gateway", route.target_id, DENY,
                             "private source address from another VPC"),
                         Finding("IGW_NO_PUBLIC_IP", THE_INSTANCE, message, None,
                                 details={"internet_gateway": route.target_id}))
        if not has_public_ip:
            message = (f"The instance routes to internet gateway {route.target_id} but has no "
                       "public IPv4 address, so its traffic cannot leave the VPC.")
            return Check(Hop("internet_gateway", route.target_id, DENY, "no public IPv4"),
                         Finding("IGW_NO_PUBLIC_IP", THE_INSTANCE, message, None,
                                 details={"internet_gateway": route.target_id}))
        return Check(Hop("internet_gateway", route.target_id, ALLOW,
                         "attached; instance has a public IPv4 address"))

    # --- NAT gateways ----------------------------------------------------------------------

    def _via_nat(self, agent: Place, route: Route, route_hop: Check,
                 part: Addresses, side: str = "") -> list[Check]:
        nat = self.estate.nat_gateways.get(route.target_id)
        leg = self.hops.leaves(agent, nat.subnet_id if nat else None, part, HTTPS,
                               "the agent's connection", side)
        state = self._nat_state(route.target_id)
        if state.status != REACHABLE or nat is None:
            return [*leg, route_hop, state]
        place = self._nat_place(nat)
        return [*leg, route_hop, state,
                *self.hops.arrives(agent, place, HTTPS, place.name, "nat_"),
                *self._nat_onward(nat, part, ())]

    def _nat_state(self, nat_id: str) -> Check:
        nat = self.estate.nat_gateways.get(nat_id)
        if nat is None:
            reason = self.estate.unavailable.get("nat_gateways")
            if reason:
                return unknown_data("nat_gateway", nat_id, reason, None)
            message = f"NAT gateway {nat_id} no longer exists (blackhole route)."
            return Check(Hop("nat_gateway", nat_id, DENY, "does not exist"),
                         Finding("BLACKHOLE_ROUTE", nat_id, message, None))
        if nat.state != aws_facts.NAT_GATEWAY_AVAILABLE:
            message = f"NAT gateway {nat.nat_gateway_id} is {nat.state}, not available."
            return Check(Hop("nat_gateway", nat.nat_gateway_id, DENY, f"state {nat.state}"),
                         Finding("NAT_GATEWAY_NOT_AVAILABLE", nat.nat_gateway_id, message,
                                 None))
        return Check(Hop("nat_gateway", nat.nat_gateway_id, ALLOW,
                         f"available, {nat.connectivity_type}, in {nat.subnet_id}"))

    def _nat_place(self, nat: NatGateway) -> Place:
        subnet = self.graph.subnet(nat.subnet_id)
        address = (host(nat.private_ips[0]) if nat.private_ips
                   else subnet.cidr if subnet else PUBLIC)
        return Place(nat.nat_gateway_id, nat.subnet_id, address,
                     aws_facts.NAT_GATEWAY_EPHEMERAL_PORTS, f"NAT gateway {nat.nat_gateway_id}")

    def _nat_onward(self, nat: NatGateway, part: Addresses,
                    chain: tuple[str, ...]) -> list[Check]:
        """From the NAT gateway to the internet: its subnet's ACL and route table."""
        key = (nat.nat_gateway_id, part, chain)
        if key not in self._onward:
            place = self._nat_place(nat)
            leg = self.hops.leaves(place, None, part, HTTPS,
                                   f"NAT gateway {nat.nat_gateway_id} to the internet",
                                   "nat_internet_")
            self._onward[key] = leg + self._nat_route(nat, place, part, chain)
        return self._onward[key]

    def _nat_route(self, nat: NatGateway, place: Place, part: Addresses,
                   chain: tuple[str, ...]) -> list[Check]:
        table_and_kind = self.graph.route_table_of(nat.subnet_id)
        if table_and_kind is None:
            reason = self.estate.unavailable.get("route_tables",
                                                 f"no route table for {nat.subnet_id}")
            return [unknown_data("nat_route", nat.subnet_id, reason, None)]
        table, association = table_and_kind
        choice = select_route(self.estate, table, part)
        route = choice.route
        where = f"{table.route_table_id} ({association} route table of NAT subnet {nat.subnet_id})"
        if choice.uncertain:
            routes = "; ".join(describe_route(table, r) for r in choice.uncertain)
            return [Check(Hop("nat_route", table.route_table_id, UNKNOWN, routes),
                          Finding("DESTINATION_UNCERTAIN", table.route_table_id,
                                  f"{where} sends part of {describe_peer(part)} elsewhere "
                                  f"({routes}).", None, "warning"))]

        def no_internet(why: str, rule: str) -> list[Check]:
            message = f"NAT gateway {nat.nat_gateway_id} cannot reach the internet: {why}."
            return [Check(Hop("nat_route", table.route_table_id, DENY, rule),
                          Finding("NAT_GATEWAY_NO_INTERNET_ROUTE", nat.nat_gateway_id, message,
                                  None, details={"route_table": table.route_table_id}))]

        if route is None:
            return no_internet(f"{where} has no route to {_towards(part)}", "no matching route")
        text = describe_route(table, route)
        if route.state == "blackhole":
            return no_internet(f"{where} sends {route.destination()} to a target that no longer "
                               "exists", text)
        if route.target_kind == "internet_gateway":
            if nat.connectivity_type != "public":
                return no_internet("it is a private NAT gateway, and an internet gateway drops "
                                   "its traffic", text)
            if not self.graph.igw_attached_to(route.target_id, nat.vpc_id):
                if "internet_gateways" in self.estate.unavailable:
                    return [unknown_data("nat_route", route.target_id,
                                         self.estate.unavailable["internet_gateways"], None)]
                return no_internet(f"{route.target_id} is not attached to {nat.vpc_id}", text)
            gateway = _internet_gateway(route.target_id, part)
            return [Check(Hop("nat_route", table.route_table_id, ALLOW, text)),
                    *self.hops.arrives(place, gateway, HTTPS, gateway.name, "nat_igw_")]
        if route.target_kind == "nat_gateway":
            return self._chained_nat(nat, route, part, chain, no_internet, text,
                                     table.route_table_id)
        return [self.hops.unmodeled(table.route_table_id, route, None, text, step="nat_route")]

    def _chained_nat(self, nat: NatGateway, route: Route, part: Addresses,
                     chain: tuple[str, ...], no_internet: Callable[[str, str], list[Check]],
                     text: str,
                     table_id: str) -> list[Check]:
        """A NAT gateway whose subnet routes on to a NAT gateway: blocked when the chain loops
        or never reaches the internet; not proved otherwise (AWS documents no such chain)."""
        target = route.target_id
        if target == nat.nat_gateway_id or target in chain:
            return no_internet(f"its route table sends {route.destination()} back to {target}, "
                               "a routing loop", text)
        following = self.estate.nat_gateways.get(target)
        if following is None:
            if "nat_gateways" in self.estate.unavailable:
                return [unknown_data("nat_route", target, self.estate.unavailable["nat_gateways"],
                                     None)]
            return no_internet(f"its route table sends {route.destination()} to {target}, which "
                               "does not exist", text)
        if following.state != aws_facts.NAT_GATEWAY_AVAILABLE:
            return no_internet(f"its route table sends {route.destination()} to {target}, which "
                               f"is {following.state}", text)
        onward = self._nat_onward(following, part, (*chain, nat.nat_gateway_id))
        status, findings = combine(onward)
        if status == BLOCKED:
            why = findings[0].message if findings else "it cannot either"
            return no_internet(f"its route table sends {route.destination()} to {target}: {why}",
                               text)
        message = (f"{table_id} sends the traffic of NAT gateway {nat.nat_gateway_id} on to NAT "
                   f"gateway {target}; AWS does not document a chain of NAT gateways, so the "
                   "path is not proved.")
        return [Check(Hop("nat_route", table_id, UNKNOWN, text),
                      Finding("UNMODELED_HOP", target, message, None, "warning",
                              {"route_table": table_id, "target_kind": route.target_kind}))]


def _carries_public(route: Route) -> bool:
    """Whether the route may carry part of the public space (a prefix list: maybe)."""
    return (route.destination_cidr is None
            or cidr_coverage(route.destination_cidr, PUBLIC) != Coverage.NONE)


def _internet_gateway(igw_id: str, part: Addresses) -> Place:
    return Place(igw_id, None, part, (HTTPS, HTTPS), f"internet gateway {igw_id}")


def _join(outcomes: list[tuple]) -> PathOutcome:
    """One outcome for the whole public space from those of its parts."""
    if len(outcomes) == 1:
        _, via, checks, status, findings = outcomes[0]
        return PathOutcome(status, via, [check.hop for check in checks], findings)
    statuses = {status for *_, status, _ in outcomes}
    via = "+".join(dict.fromkeys(via for _, via, *_ in outcomes))
    hops = list(dict.fromkeys(check.hop for _, _, checks, *_ in outcomes for check in checks))
    findings = list(dict.fromkeys(f for *_, findings in outcomes for f in findings))
    if len(statuses) == 1:
        return PathOutcome(statuses.pop(), via, hops, findings)
    # The answer depends on the service's address: say so, and keep what blocks some parts as
    # warnings (they decide nothing alone).
    reachable = [part for part, _, _, status, _ in outcomes if status == REACHABLE]
    others = [(part, found) for part, _, _, status, found in outcomes if status != REACHABLE]
    notes = []
    if reachable:
        rest = "; ".join(f"{describe_peer(part)}: "
                         + (", ".join(f"{f.code} {f.resource_id}" for f in found) or "unknown")
                         for part, found in others)
        resource = next((f.resource_id for _, found in others for f in found), "public")
        notes.append(Finding(
            "DESTINATION_UNCERTAIN", resource,
            f"The way out reaches {', '.join(describe_peer(p) for p in reachable)}, but not "
            f"provably the rest ({rest}); AWS publishes no dedicated range for the service, so "
            "which applies cannot be known.", None, "warning"))
    findings = [f if f.severity != "error" else Finding(
        f.code, f.resource_id, f.message, f.service, "warning", f.details) for f in findings]
    return PathOutcome(UNKNOWN, via, hops, notes + findings)
