"""The network prover: can the agent on an instance open TCP 443 to each service?

For each service the name is resolved first (``dns``), then every hop of the one path that name
leads to is evaluated, each crossed both ways (``hops``): the instance's security groups, the
network ACLs of each subnet crossed, the route there and the route the replies take back, and
the far side (endpoint ENIs and their security groups, or a NAT or internet gateway:
``public_path``), through a transit gateway or peering connection when the way leaves the VPC
(``beyond``: a central NAT gateway or a central endpoint in a hub VPC). All hops must allow.
Hops the model does not cover (VPN, firewalls, appliances...) make the answer unknown, never
reachable.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from ipaddress import IPv4Network

from auditor import aws_facts
from auditor.analysis.beyond import VPC_PEERING, join
from auditor.analysis.dns import RESOLVES_ADDRESSES, RESOLVES_ENDPOINT, Resolution, resolve
from auditor.analysis.graph import EstateGraph
from auditor.analysis.hops import HopEvaluator, Place, Source, for_service, host, unknown_data
from auditor.analysis.ipspace import Peer, describe_peer
from auditor.analysis.public_path import PublicPaths
from auditor.analysis.results import (
    ALLOW,
    BLOCKED,
    DENY,
    REACHABLE,
    UNKNOWN,
    Check,
    Finding,
    Hop,
    ServiceProof,
    combine,
)
from auditor.analysis.routes import describe_route, select_route
from auditor.model import Instance, Route, RouteTable, VpcEndpoint

__all__ = ["NetworkProver", "Source"]


@dataclass(frozen=True)
class _Target:
    """The far end of a hop inside the VPC: an endpoint ENI, or a subnet when ENIs are unknown."""

    resource_id: str
    subnet_id: str
    peer: Peer
    group_ids: tuple[str, ...] = ()  # the security groups guarding it, for an endpoint ENI

    def place(self) -> Place:
        return Place(self.resource_id, self.subnet_id, self.peer,
                     (aws_facts.HTTPS_PORT, aws_facts.HTTPS_PORT), self.resource_id)


@dataclass
class _TargetOutcome:
    target: _Target
    status: str
    hops: list[Hop]
    findings: list[Finding]
    via: str = "interface_endpoint"


class NetworkProver:
    def __init__(self, graph: EstateGraph) -> None:
        self.graph = graph
        self.estate = graph.estate
        self.hops = HopEvaluator(graph)
        self.public = PublicPaths(self.hops)
        self._cache: dict[tuple, ServiceProof] = {}
        self._resolutions: dict[tuple[str, str, str], Resolution] = {}

    # --- entry points ---------------------------------------------------------------------

    def source_of(self, instance: Instance) -> Source | None:
        primary = instance.primary_interface()
        subnet_id = instance.subnet_id or (primary.subnet_id if primary else None)
        if not subnet_id or not instance.private_ip or not instance.vpc_id:
            return None
        subnet = self.graph.subnet(subnet_id)
        address = instance.private_ip
        peer = subnet.cidr if subnet and _contains(subnet.cidr, address) else host(address)
        # A stopped instance has lost its automatic public IPv4 address; it gets one again at
        # start when its subnet hands them out.
        public = bool(instance.public_ip) or (instance.state != "running" and subnet is not None
                                              and subnet.map_public_ip_on_launch)
        return Source(subnet_id, instance.vpc_id, address, tuple(instance.group_ids), public,
                      instance.platform, peer, aws_facts.hypervisor(instance.instance_type))

    def prove(self, instance: Instance) -> dict[str, ServiceProof]:
        source = self.source_of(instance)
        return {service: self.prove_service(instance, source, service)
                for service in aws_facts.SERVICES}

    def prove_service(self, instance: Instance, source: Source | None,
                      service: str | None) -> ServiceProof:
        hostname = aws_facts.service_hostname(self.estate.region, service)
        if source is None:
            message = f"{instance.instance_id} has no subnet or private IPv4 address in the data."
            return ServiceProof(service, UNKNOWN, "none", hostname, "unknown",
                                findings=[Finding("DATA_UNAVAILABLE", instance.instance_id,
                                                  message, service, "warning")])
        proof = self._cached_proof(source, service, hostname)
        if proof.status == UNKNOWN and source.peer.prefixlen != 32:
            # Some rule may split the subnet: decide for this very address.
            proof = self._cached_proof(replace(source, peer=host(source.address)), service,
                                       hostname)
        return proof.bound_to(instance.instance_id)

    def _cached_proof(self, source: Source, service: str | None, hostname: str) -> ServiceProof:
        """Instances with equal sources share one proof."""
        key = (service, *source.alike())
        if key not in self._cache:
            self._cache[key] = self._prove(source, service, hostname)
        return self._cache[key]

    # --- the proof ------------------------------------------------------------------------

    def _prove(self, source: Source, service: str | None, hostname: str) -> ServiceProof:
        subnet = self.graph.subnet(source.subnet_id)
        vpc = self.graph.vpc(source.vpc_id)
        if subnet is None or vpc is None:
            missing = source.subnet_id if subnet is None else source.vpc_id
            kind = "subnets" if subnet is None else "vpcs"
            reason = self.estate.unavailable.get(kind, "not in the collected data")
            check = unknown_data("source", missing, reason, service)
            return ServiceProof(service, UNKNOWN, "none", hostname, "unknown", [check.hop],
                                [check.finding] if check.finding else [])
        key = (vpc.vpc_id, service, source.hypervisor)
        if key not in self._resolutions:
            self._resolutions[key] = resolve(self.graph, vpc, self.estate.region, service,
                                             source.hypervisor)
        resolution = self._resolutions[key]
        if resolution.target is None:
            check = resolution.check
            answer = "no address" if check.status == BLOCKED else "unknown"
            return ServiceProof(service, check.status, "none", hostname, answer, [check.hop],
                                [check.finding, *resolution.notes] if check.finding
                                else list(resolution.notes))
        if resolution.target == RESOLVES_ENDPOINT and resolution.endpoint is not None:
            proof = self._via_endpoint(source, service, hostname, resolution.endpoint,
                                       resolution.interface_ids)
            proof.endpoint_id = resolution.endpoint.endpoint_id
        elif resolution.target == RESOLVES_ADDRESSES:
            proof = self._via_addresses(source, service, hostname, resolution)
        else:
            proof = self._via_public(source, service, hostname)
        proof.path.insert(0, resolution.check.hop)
        proof.findings.extend(resolution.notes)
        return proof

    # --- endpoint path --------------------------------------------------------------------

    def _endpoint_targets(self, endpoint: VpcEndpoint,
                          interface_ids: tuple[str, ...] | None = None) -> list[_Target]:
        """The endpoint's ENIs (those the name resolves to, when the DNS names only some).

        Read from the estate, not the graph: a name may lead to an endpoint in a VPC beyond
        the instance's (a hub's, shared through a private hosted zone)."""
        interfaces = [self.estate.network_interfaces[eni_id]
                      for eni_id in endpoint.network_interface_ids
                      if eni_id in self.estate.network_interfaces
                      and (interface_ids is None or eni_id in interface_ids)]
        if interfaces:
            # An endpoint always has a group (AWS gives it the VPC's default one); when its
            # description lists none, its ENIs tell which.
            return [_Target(eni.eni_id, eni.subnet_id, host(eni.private_ip),
                            tuple(endpoint.group_ids or eni.group_ids))
                    for eni in interfaces if eni.private_ip]
        # ENIs unknown: each endpoint subnet stands for the ENI somewhere in it.
        return [_Target(subnet_id, subnet_id, subnet.cidr, tuple(endpoint.group_ids))
                for subnet_id in endpoint.subnet_ids
                if (subnet := self.graph.subnet(subnet_id)) is not None]

    def _via_endpoint(self, source: Source, service: str | None, hostname: str,
                      endpoint: VpcEndpoint,
                      interface_ids: tuple[str, ...] | None = None) -> ServiceProof:
        resolves = f"interface endpoint {endpoint.endpoint_id}"
        if endpoint.state != aws_facts.ENDPOINT_AVAILABLE:
            message = (f"Interface endpoint {endpoint.endpoint_id} answers for {hostname} but "
                       f"is {endpoint.state}, not available: connections to it fail.")
            hop = Hop("endpoint", endpoint.endpoint_id, DENY, f"state {endpoint.state}")
            return ServiceProof(service, BLOCKED, "interface_endpoint", hostname, resolves,
                                [hop], [Finding("ENDPOINT_NOT_AVAILABLE", endpoint.endpoint_id,
                                                message, service)])
        targets = self._endpoint_targets(endpoint, interface_ids)
        if not targets:
            reason = self.estate.unavailable.get("network_interfaces",
                                                 "no ENI or subnet of it in the data")
            check = unknown_data("endpoint", endpoint.endpoint_id, reason, service)
            return ServiceProof(service, UNKNOWN, "interface_endpoint", hostname, resolves,
                                [check.hop], [check.finding] if check.finding else [])
        outcomes = []
        for target in targets:
            via = "interface_endpoint"
            if endpoint.vpc_id != source.vpc_id:  # a central endpoint, in another VPC
                via, checks = self._far_endpoint_checks(source, service, endpoint, target)
            else:
                checks = self._endpoint_target_checks(source, service, endpoint, target)
            status, findings = combine(checks)
            outcomes.append(_TargetOutcome(target, status, [c.hop for c in checks], findings,
                                           via))
        return self._aggregate_targets(service, hostname, resolves, endpoint, outcomes)

    def _endpoint_target_checks(self, source: Source, service: str | None, endpoint: VpcEndpoint,
                                target: _Target) -> list[Check]:
        agent, eni = source.place(), target.place()
        purpose = f"endpoint {endpoint.endpoint_id}"
        checks = [
            self.hops.sg_check(None, step="sg_egress", direction="egress",
                               group_ids=source.group_ids, peer=target.peer,
                               peer_group_ids=target.group_ids, port=aws_facts.HTTPS_PORT,
                               finding_code="SG_EGRESS_BLOCKS", owner="the instance"),
            self._local_route_check(source, None, target),
            *self.hops.leaves(agent, eni.subnet_id, target.peer, aws_facts.HTTPS_PORT,
                              f"the agent's connection to {purpose}"),
            *self.hops.arrives(agent, eni, aws_facts.HTTPS_PORT, purpose, "endpoint_"),
            self.hops.sg_check(None, step="endpoint_sg_ingress", direction="ingress",
                               group_ids=target.group_ids, peer=source.peer,
                               peer_group_ids=source.group_ids, port=aws_facts.HTTPS_PORT,
                               finding_code="ENDPOINT_SG_INGRESS_BLOCKS", owner=purpose),
        ]
        return [for_service(check, service) for check in checks]

    def _far_endpoint_checks(self, source: Source, service: str | None, endpoint: VpcEndpoint,
                             target: _Target) -> tuple[str, list[Check]]:
        """To an endpoint interface in another VPC: out by the agent's route table, through a
        transit gateway or peering connection, and from where it lands to the interface."""
        agent, eni = source.place(), target.place()
        purpose = f"endpoint {endpoint.endpoint_id} in {endpoint.vpc_id}"
        table_and_kind = self.graph.route_table_of(source.subnet_id)
        if table_and_kind is None:
            return "none", [for_service(self.hops.no_route_table(source.subnet_id, None),
                                        service)]
        table, association = table_and_kind
        choice = select_route(self.estate, table, target.peer)
        route = choice.route
        text = describe_route(table, route) if route else "no matching route"
        if (route is None or choice.uncertain or route.state == "blackhole"
                or route.target_kind not in ("transit_gateway", "vpc_peering")):
            egress = self._endpoint_egress(source, target, False)
            return "none", [for_service(c, service) for c in
                            (egress, self._far_route_refused(table, route, choice.uncertain,
                                                             endpoint, target))]
        route_hop = Check(Hop("route", table.route_table_id, ALLOW,
                              f"{text} ({association} table)"))
        crossing = self.public.beyond.cross(agent, source.vpc_id, route, target.peer,
                                            aws_facts.HTTPS_PORT, purpose)
        egress = self._endpoint_egress(source, target, crossing.via == VPC_PEERING)
        if not crossing.landings:
            return crossing.via, [for_service(c, service)
                                  for c in (egress, route_hop, *crossing.checks)]
        outcomes = []
        for landing in crossing.landings:
            if landing.vpc_id != endpoint.vpc_id:
                message = (f"The traffic for {target.resource_id} lands in {landing.vpc_id}, "
                           f"not in {endpoint.vpc_id} where endpoint {endpoint.endpoint_id} "
                           "is: what that VPC does with it is not proved.")
                onward = [Check(Hop("far_vpc", landing.vpc_id, UNKNOWN, "another VPC"),
                                Finding("UNMODELED_HOP", landing.vpc_id, message, None,
                                        "warning", {"target_kind": crossing.via}))]
            else:
                onward = self.public.beyond.deliver(landing, eni, aws_facts.HTTPS_PORT, purpose,
                                                    "endpoint_")
            ingress = self.hops.sg_check(
                None, step="endpoint_sg_ingress", direction="ingress",
                group_ids=target.group_ids, peer=source.peer,
                peer_group_ids=source.group_ids if landing.references_groups else (),
                port=aws_facts.HTTPS_PORT, finding_code="ENDPOINT_SG_INGRESS_BLOCKS",
                owner=purpose + ("" if landing.references_groups else
                                 ", where references to the instance's security groups do not "
                                 "hold"))
            checks = [egress, route_hop, *crossing.checks, *onward, ingress]
            outcomes.append((combine(checks)[0], checks))
        return crossing.via, [for_service(c, service) for c in join(outcomes)[1]]

    def _endpoint_egress(self, source: Source, target: _Target, references: bool) -> Check:
        """The instance's egress to an endpoint interface (references to the endpoint's groups
        hold across a peering connection, not across a transit gateway)."""
        return self.hops.sg_check(None, step="sg_egress", direction="egress",
                                  group_ids=source.group_ids, peer=target.peer,
                                  peer_group_ids=target.group_ids if references else (),
                                  port=aws_facts.HTTPS_PORT, finding_code="SG_EGRESS_BLOCKS",
                                  owner="the instance")

    def _far_route_refused(self, table: RouteTable, route: Route | None,
                           uncertain: list[Route], endpoint: VpcEndpoint,
                           target: _Target) -> Check:
        """The agent's route table does not send the endpoint's address to a transit gateway
        or peering connection."""
        where = f"{table.route_table_id}"
        what = f"{target.resource_id} (endpoint {endpoint.endpoint_id} in {endpoint.vpc_id})"
        if uncertain:
            routes = "; ".join(describe_route(table, r) for r in uncertain)
            return Check(Hop("route", table.route_table_id, UNKNOWN, routes),
                         Finding("DESTINATION_UNCERTAIN", table.route_table_id,
                                 f"{where} sends part of {what} elsewhere ({routes}).", None,
                                 "warning"))
        if route is None:
            message = (f"{where} has no route to {what}: the name resolves to an endpoint in "
                       "another VPC, which needs a route through a transit gateway or peering "
                       "connection.")
            return Check(Hop("route", table.route_table_id, DENY, "no matching route"),
                         Finding("NO_ROUTE_TO_DESTINATION", table.route_table_id, message, None,
                                 details={"destination": describe_peer(target.peer),
                                          "endpoint_vpc": endpoint.vpc_id}))
        if route.state == "blackhole":
            message = (f"{where} sends the traffic for {what} to {route.target_id}, which no "
                       "longer exists (blackhole route).")
            return Check(Hop("route", table.route_table_id, DENY, describe_route(table, route)),
                         Finding("BLACKHOLE_ROUTE", table.route_table_id, message, None,
                                 details={"target": route.target_id}))
        return self.hops.unmodeled(table.route_table_id, route, None,
                                   describe_route(table, route))

    def _local_route_check(self, source: Source, service: str | None, target: _Target) -> Check:
        table_and_kind = self.graph.route_table_of(source.subnet_id)
        if table_and_kind is None:
            return self.hops.no_route_table(source.subnet_id, service)
        table, _ = table_and_kind
        choice = select_route(self.estate, table, target.peer)
        route = choice.route
        if route is not None and route.target_kind == "local" and not choice.uncertain:
            return Check(Hop("route", table.route_table_id, ALLOW, describe_route(table, route)))
        if route is None:
            message = f"{table.route_table_id} has no route to {target.resource_id}."
            return Check(Hop("route", table.route_table_id, DENY, "no matching route"),
                         Finding("NO_ROUTE_TO_DESTINATION", table.route_table_id, message,
                                 service))
        if route.state == "blackhole" and not choice.uncertain:
            message = (f"{table.route_table_id} sends the traffic for {target.resource_id} to "
                       f"{route.target_id}, which no longer exists (blackhole route).")
            return Check(Hop("route", table.route_table_id, DENY, describe_route(table, route)),
                         Finding("BLACKHOLE_ROUTE", table.route_table_id, message, service,
                                 details={"target": route.target_id}))
        return self.hops.unmodeled(table.route_table_id, route, service,
                                   describe_route(table, route))

    def _aggregate_targets(self, service: str | None, hostname: str, resolves: str,
                           endpoint: VpcEndpoint, outcomes: list[_TargetOutcome]
                           ) -> ServiceProof:
        """Reachable when one ENI is: DNS hands out all of them and the agent tries each."""
        reachable = [o for o in outcomes if o.status == REACHABLE]
        if reachable:
            first = reachable[0]
            proof = ServiceProof(service, REACHABLE, first.via, hostname, resolves,
                                 first.hops, list(first.findings))
            others = [o for o in outcomes if o.status != REACHABLE]
            if others:
                names = ", ".join(o.target.resource_id for o in others)
                proof.findings.append(Finding(
                    "ENDPOINT_PARTIALLY_REACHABLE", endpoint.endpoint_id,
                    f"{hostname} resolves to {len(outcomes)} ENIs of {endpoint.endpoint_id}; "
                    f"{names} cannot be reached, so some connection attempts time out first.",
                    service, "warning",
                    {"unreachable": [f.message for o in others for f in o.findings]}))
            return proof
        status = UNKNOWN if any(o.status == UNKNOWN for o in outcomes) else BLOCKED
        hops = [hop for o in outcomes for hop in o.hops]
        findings = _unique([f for o in outcomes for f in o.findings])
        return ServiceProof(service, status, outcomes[0].via, hostname, resolves,
                            _unique(hops), findings)

    # --- addresses a private hosted zone names -----------------------------------------------

    def _via_addresses(self, source: Source, service: str | None, hostname: str,
                       resolution: Resolution) -> ServiceProof:
        """A zone's A records holding addresses the model does not tie to an interface
        endpoint: proved as far as the data allows. What stands on the agent's side (its
        security groups, its subnet's ACL, its route table) may block every address; what
        answers at them is never known, so the best answer is unknown."""
        resolves = f"addresses {', '.join(resolution.addresses)}"
        outcomes = []
        for address in resolution.addresses:
            target = _Target(address, "", host(address))
            checks = [for_service(check, service) for check in (
                self.hops.sg_check(None, step="sg_egress", direction="egress",
                                   group_ids=source.group_ids, peer=target.peer,
                                   peer_group_ids=(), port=aws_facts.HTTPS_PORT,
                                   finding_code="SG_EGRESS_BLOCKS", owner="the instance"),
                self._route_to_address(source, address),
                *self.hops.leaves(source.place(), None, target.peer, aws_facts.HTTPS_PORT,
                                  f"the agent's connection to {address}"))]
            status, findings = combine(checks)
            outcomes.append(_TargetOutcome(target, status, [c.hop for c in checks], findings))
        hops = _unique([hop for outcome in outcomes for hop in outcome.hops])
        zone = resolution.zone_id or "a private hosted zone"
        if outcomes and all(outcome.status == BLOCKED for outcome in outcomes):
            decided = Finding("PRIVATE_HOSTED_ZONE_OVERRIDE", zone,
                              f"{hostname} resolves, through {zone}, to {resolves}, not to the "
                              "public addresses, and the instance cannot send to them.",
                              service, "info", {"addresses": list(resolution.addresses)})
            findings = _unique([*(f for outcome in outcomes for f in outcome.findings),
                                decided])
            return ServiceProof(service, BLOCKED, "private_hosted_zone", hostname, resolves,
                                hops, findings)
        message = (f"{hostname} resolves, through {zone}, to {resolves}, which are no interface "
                   "endpoint the auditor knows: whether they serve "
                   f"{service} (a proxy, an endpoint in another account...) is not known.")
        unknown = Finding("PRIVATE_HOSTED_ZONE_OVERRIDE", zone, message, service, "warning",
                          {"addresses": list(resolution.addresses)})
        findings = _unique([unknown, *(f for o in outcomes for f in o.findings)])
        return ServiceProof(service, UNKNOWN, "private_hosted_zone", hostname, resolves,
                            [*hops, Hop("dns_target", zone, UNKNOWN, message)], findings)

    def _route_to_address(self, source: Source, address: str) -> Check:
        """The source subnet's route towards an address: blocked without a route or by a
        blackhole; otherwise allowed here (where it leads is what stays unknown)."""
        table_and_kind = self.graph.route_table_of(source.subnet_id)
        if table_and_kind is None:
            return self.hops.no_route_table(source.subnet_id, None)
        table, _ = table_and_kind
        choice = select_route(self.estate, table, host(address))
        route = choice.route
        if route is None and not choice.uncertain:
            message = f"{table.route_table_id} has no route to {address}."
            return Check(Hop("route", table.route_table_id, DENY, "no matching route"),
                         Finding("NO_ROUTE_TO_DESTINATION", table.route_table_id, message))
        if route is not None and route.state == "blackhole" and not choice.uncertain:
            message = (f"{table.route_table_id} sends the traffic for {address} to "
                       f"{route.target_id}, which no longer exists (blackhole route).")
            return Check(Hop("route", table.route_table_id, DENY, describe_route(table, route)),
                         Finding("BLACKHOLE_ROUTE", table.route_table_id, message,
                                 details={"target": route.target_id}))
        text = describe_route(table, route) if route is not None else "several routes"
        return Check(Hop("route", table.route_table_id, ALLOW, text))

    # --- public path ----------------------------------------------------------------------

    def _via_public(self, source: Source, service: str | None, hostname: str) -> ServiceProof:
        """The public path is the same for the three services: proved once, labelled each."""
        outcome = self.public.prove(source)
        return ServiceProof(service, outcome.status, outcome.via, hostname, "public addresses",
                            list(outcome.hops), [f.for_service(service) for f in outcome.findings])


def _contains(cidr: IPv4Network, address: str) -> bool:
    """``address in cidr`` without building an address object for each of 10,000 instances."""
    as_int = int.from_bytes(socket.inet_aton(address), "big")
    return as_int & int(cidr.netmask) == int(cidr.network_address)


def _unique(items: list) -> list:
    seen = set()
    result = []
    for item in items:
        # One finding per code and resource: the same SG blocking two ENIs is one fix.
        key = (item.code, item.resource_id) if isinstance(item, Finding) else item
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result
