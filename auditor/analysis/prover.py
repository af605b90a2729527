"""The network prover: can the agent on an instance open TCP 443 to each service?

For each service the name is resolved first (``dns``), then every hop of the one path that name
leads to is evaluated: the instance's security groups, the network ACLs of each subnet crossed
(both directions, since they are stateless), the route, and the far side (endpoint ENIs and
their security groups, or a NAT or internet gateway). All hops must allow. Hops the model does
not cover (transit gateways, peering, firewalls...) make the answer unknown, never reachable.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from functools import lru_cache
from ipaddress import IPv4Network
from typing import Any

from auditor import aws_facts
from auditor.analysis import nacl as nacl_eval
from auditor.analysis import security_groups as sg_eval
from auditor.analysis.dns import RESOLVES_ENDPOINT, Resolution, resolve
from auditor.analysis.graph import EstateGraph
from auditor.analysis.ipspace import PUBLIC, Peer
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
    ServiceProof,
    combine,
)
from auditor.analysis.routes import describe_route, select_route
from auditor.model import Cidr, Instance, NatGateway, NetworkAcl, Route, VpcEndpoint

_VIA_BY_TARGET = {
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

    def alike(self, with_groups: bool = True) -> tuple:
        """What a proof depends on: the exact address only when it is the peer."""
        return (self.subnet_id, self.vpc_id, self.peer, self.has_public_ip, self.platform,
                self.group_ids if with_groups else None)

    @property
    def ephemeral_ports(self) -> tuple[int, int]:
        return aws_facts.EPHEMERAL_PORTS.get(self.platform, aws_facts.EPHEMERAL_PORTS["linux"])


@dataclass(frozen=True)
class _Target:
    """The far end of a hop inside the VPC: an endpoint ENI, or a subnet when ENIs are unknown."""

    resource_id: str
    subnet_id: str
    peer: Peer
    group_ids: tuple[str, ...] = ()  # the security groups guarding it, for an endpoint ENI


@dataclass
class _TargetOutcome:
    target: _Target
    status: str
    hops: list[Hop]
    findings: list[Finding]


def _unknown_data(step: str, resource: str, reason: str, service: str | None) -> Check:
    return Check(Hop(step, resource, UNKNOWN, reason),
                 Finding("DATA_UNAVAILABLE", resource, f"Cannot read {resource}: {reason}.",
                         service, "warning"))


class NetworkProver:
    def __init__(self, graph: EstateGraph) -> None:
        self.graph = graph
        self.estate = graph.estate
        self._cache: dict[tuple, ServiceProof] = {}
        self._checks: dict[tuple, Check] = {}
        self._routes_out: dict[tuple, tuple[str, list[Check]]] = {}
        self._resolutions: dict[tuple[str, str], Resolution] = {}
        self._public_paths: dict[tuple, tuple[str, list[Check]]] = {}

    # --- entry points ---------------------------------------------------------------------

    def source_of(self, instance: Instance) -> Source | None:
        primary = instance.primary_interface()
        subnet_id = instance.subnet_id or (primary.subnet_id if primary else None)
        if not subnet_id or not instance.private_ip or not instance.vpc_id:
            return None
        subnet = self.graph.subnet(subnet_id)
        address = instance.private_ip
        peer = subnet.cidr if subnet and _contains(subnet.cidr, address) else _host(address)
        # A stopped instance has lost its automatic public IPv4 address; it gets one again at
        # start when its subnet hands them out.
        public = bool(instance.public_ip) or (instance.state != "running" and subnet is not None
                                              and subnet.map_public_ip_on_launch)
        return Source(subnet_id, instance.vpc_id, address, tuple(instance.group_ids), public,
                      instance.platform, peer)

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
            proof = self._cached_proof(replace(source, peer=_host(source.address)), service,
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
            check = _unknown_data("source", missing, reason, service)
            return ServiceProof(service, UNKNOWN, "none", hostname, "unknown", [check.hop],
                                [check.finding] if check.finding else [])
        if (vpc.vpc_id, service) not in self._resolutions:
            self._resolutions[vpc.vpc_id, service] = resolve(self.graph, vpc,
                                                             self.estate.region, service)
        resolution = self._resolutions[vpc.vpc_id, service]
        if resolution.target is None:
            check = resolution.check
            return ServiceProof(service, check.status, "none", hostname, "unknown", [check.hop],
                                [check.finding, *resolution.notes] if check.finding
                                else list(resolution.notes))
        if resolution.target == RESOLVES_ENDPOINT and resolution.endpoint is not None:
            proof = self._via_endpoint(source, service, hostname, resolution.endpoint)
            proof.endpoint_id = resolution.endpoint.endpoint_id
        else:
            proof = self._via_public(source, service, hostname)
        proof.path.insert(0, resolution.check.hop)
        proof.findings.extend(resolution.notes)
        return proof

    # --- endpoint path --------------------------------------------------------------------

    def _endpoint_targets(self, endpoint: VpcEndpoint) -> list[_Target]:
        interfaces = self.graph.interfaces_of(endpoint)
        if interfaces:
            # An endpoint always has a group (AWS gives it the VPC's default one); when its
            # description lists none, its ENIs tell which.
            return [_Target(eni.eni_id, eni.subnet_id, _host(eni.private_ip),
                            tuple(endpoint.group_ids or eni.group_ids))
                    for eni in interfaces if eni.private_ip]
        # ENIs unknown: each endpoint subnet stands for the ENI somewhere in it.
        return [_Target(subnet_id, subnet_id, subnet.cidr, tuple(endpoint.group_ids))
                for subnet_id in endpoint.subnet_ids
                if (subnet := self.graph.subnet(subnet_id)) is not None]

    def _via_endpoint(self, source: Source, service: str | None, hostname: str,
                      endpoint: VpcEndpoint) -> ServiceProof:
        resolves = f"interface endpoint {endpoint.endpoint_id}"
        if endpoint.state != aws_facts.ENDPOINT_AVAILABLE:
            message = (f"Interface endpoint {endpoint.endpoint_id} answers for {hostname} but "
                       f"is {endpoint.state}, not available: connections to it fail.")
            hop = Hop("endpoint", endpoint.endpoint_id, DENY, f"state {endpoint.state}")
            return ServiceProof(service, BLOCKED, "interface_endpoint", hostname, resolves,
                                [hop], [Finding("ENDPOINT_NOT_AVAILABLE", endpoint.endpoint_id,
                                                message, service)])
        targets = self._endpoint_targets(endpoint)
        if not targets:
            reason = self.estate.unavailable.get("network_interfaces",
                                                 "no ENI or subnet of it in the data")
            check = _unknown_data("endpoint", endpoint.endpoint_id, reason, service)
            return ServiceProof(service, UNKNOWN, "interface_endpoint", hostname, resolves,
                                [check.hop], [check.finding] if check.finding else [])
        outcomes = []
        for target in targets:
            checks = self._endpoint_target_checks(source, service, endpoint, target)
            status, findings = combine(checks)
            outcomes.append(_TargetOutcome(target, status, [c.hop for c in checks], findings))
        return self._aggregate_targets(service, hostname, resolves, endpoint, outcomes)

    def _endpoint_target_checks(self, source: Source, service: str | None, endpoint: VpcEndpoint,
                                target: _Target) -> list[Check]:
        checks = [
            self._sg_check(step="sg_egress", direction="egress",
                             group_ids=source.group_ids, peer=target.peer,
                             peer_group_ids=target.group_ids, port=aws_facts.HTTPS_PORT,
                             service=service, finding_code="SG_EGRESS_BLOCKS",
                             owner="the instance"),
            self._local_route_check(source, service, target),
        ]
        checks += self._nacl_crossing(source, service, target.subnet_id, target.peer,
                                      aws_facts.HTTPS_PORT, f"endpoint {endpoint.endpoint_id}")
        checks.append(self._sg_check(
            step="endpoint_sg_ingress", direction="ingress",
            group_ids=target.group_ids, peer=source.peer,
            peer_group_ids=source.group_ids, port=aws_facts.HTTPS_PORT, service=service,
            finding_code="ENDPOINT_SG_INGRESS_BLOCKS", owner=f"endpoint {endpoint.endpoint_id}"))
        return checks

    def _local_route_check(self, source: Source, service: str | None, target: _Target) -> Check:
        table_and_kind = self.graph.route_table_of(source.subnet_id)
        if table_and_kind is None:
            return self._no_route_table(source, service)
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
        return self._unmodeled(table.route_table_id, route, service,
                               describe_route(table, route))

    def _aggregate_targets(self, service: str | None, hostname: str, resolves: str,
                           endpoint: VpcEndpoint, outcomes: list[_TargetOutcome]
                           ) -> ServiceProof:
        """Reachable when one ENI is: DNS hands out all of them and the agent tries each."""
        reachable = [o for o in outcomes if o.status == REACHABLE]
        if reachable:
            first = reachable[0]
            proof = ServiceProof(service, REACHABLE, "interface_endpoint", hostname, resolves,
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
        return ServiceProof(service, status, "interface_endpoint", hostname, resolves,
                            _unique(hops), findings)

    # --- public path ----------------------------------------------------------------------

    def _via_public(self, source: Source, service: str | None, hostname: str) -> ServiceProof:
        """The public path is the same for the three services: proved once, labelled each."""
        key = source.alike()
        if key not in self._public_paths:
            self._public_paths[key] = self._prove_public_path(source)
        via, checks = self._public_paths[key]
        status, findings = combine([_for_service(check, service) for check in checks])
        return ServiceProof(service, status, via, hostname, "public addresses",
                            [c.hop for c in checks], findings)

    def _prove_public_path(self, source: Source) -> tuple[str, list[Check]]:
        checks = [self._sg_check(step="sg_egress", direction="egress",
                                 group_ids=source.group_ids, peer=PUBLIC, peer_group_ids=(),
                                 port=aws_facts.HTTPS_PORT, service=None,
                                 finding_code="SG_EGRESS_BLOCKS", owner="the instance")]
        checks += self._nacl_leg(source.subnet_id, None, PUBLIC, aws_facts.HTTPS_PORT,
                                 source.ephemeral_ports, "the agent's connection")
        via, route_checks = self._route_to_internet(source, None)
        return via, checks + route_checks

    def _route_to_internet(self, source: Source, service: str | None) -> tuple[str, list[Check]]:
        """Memoised: the way out depends neither on the groups nor on the service."""
        key = source.alike(with_groups=False)
        if key not in self._routes_out:
            self._routes_out[key] = self._prove_route_to_internet(source, None)
        via, checks = self._routes_out[key]
        return via, [_for_service(check, service) for check in checks]

    def _prove_route_to_internet(self, source: Source, service: str | None
                                 ) -> tuple[str, list[Check]]:
        table_and_kind = self.graph.route_table_of(source.subnet_id)
        if table_and_kind is None:
            return "none", [self._no_route_table(source, service)]
        table, association = table_and_kind
        choice = select_route(self.estate, table, PUBLIC)
        route = choice.route
        where = f"{table.route_table_id} ({association} route table of {source.subnet_id})"
        if choice.uncertain:
            routes = "; ".join(describe_route(table, r) for r in choice.uncertain)
            message = (f"{where} sends part of the public address space elsewhere ({routes}); "
                       "whether the service's addresses fall in it cannot be known.")
            return "unknown", [Check(Hop("route", table.route_table_id, UNKNOWN, routes),
                                     Finding("DESTINATION_UNCERTAIN", table.route_table_id,
                                             message, service, "warning"))]
        if route is None:
            message = f"{where} has no route to the internet (no 0.0.0.0/0 route)."
            return "none", [Check(Hop("route", table.route_table_id, DENY, "no matching route"),
                                  Finding("NO_ROUTE_TO_DESTINATION", table.route_table_id,
                                          message, service))]
        route_hop = Hop("route", table.route_table_id, ALLOW,
                        f"{describe_route(table, route)} ({association} table)")
        via = _VIA_BY_TARGET.get(route.target_kind, route.target_kind)
        if route.state == "blackhole":
            message = (f"{where} sends 0.0.0.0/0 to {route.target_id}, which no longer exists "
                       "(blackhole route).")
            return via, [Check(Hop("route", table.route_table_id, DENY,
                                   describe_route(table, route)),
                               Finding("BLACKHOLE_ROUTE", table.route_table_id, message,
                                       service, details={"target": route.target_id}))]
        if route.target_kind == "internet_gateway":
            return via, [Check(route_hop), self._igw_check(source, service, route)]
        if route.target_kind == "nat_gateway":
            return via, [Check(route_hop), *self._nat_checks(source, service, route)]
        return via, [self._unmodeled(table.route_table_id, route, service,
                                     describe_route(table, route))]

    def _igw_check(self, source: Source, service: str | None, route: Route) -> Check:
        if not self.graph.igw_attached_to(route.target_id, source.vpc_id):
            if "internet_gateways" in self.estate.unavailable:
                return _unknown_data("internet_gateway", route.target_id,
                                     self.estate.unavailable["internet_gateways"], service)
            message = f"Internet gateway {route.target_id} is not attached to {source.vpc_id}."
            return Check(Hop("internet_gateway", route.target_id, DENY, "not attached"),
                         Finding("BLACKHOLE_ROUTE", route.target_id, message, service))
        if not source.has_public_ip:
            message = (f"The instance routes to internet gateway {route.target_id} but has no "
                       "public IPv4 address, so its traffic cannot leave the VPC.")
            return Check(Hop("internet_gateway", route.target_id, DENY, "no public IPv4"),
                         Finding("IGW_NO_PUBLIC_IP", THE_INSTANCE, message, service,
                                 details={"internet_gateway": route.target_id}))
        return Check(Hop("internet_gateway", route.target_id, ALLOW,
                         "attached; instance has a public IPv4 address"))

    def _nat_checks(self, source: Source, service: str | None, route: Route) -> list[Check]:
        nat = self.estate.nat_gateways.get(route.target_id)
        if nat is None:
            reason = self.estate.unavailable.get("nat_gateways")
            if reason:
                return [_unknown_data("nat_gateway", route.target_id, reason, service)]
            message = f"NAT gateway {route.target_id} no longer exists (blackhole route)."
            return [Check(Hop("nat_gateway", route.target_id, DENY, "does not exist"),
                          Finding("BLACKHOLE_ROUTE", route.target_id, message, service))]
        if nat.state != aws_facts.NAT_GATEWAY_AVAILABLE:
            message = f"NAT gateway {nat.nat_gateway_id} is {nat.state}, not available."
            return [Check(Hop("nat_gateway", nat.nat_gateway_id, DENY, f"state {nat.state}"),
                          Finding("NAT_GATEWAY_NOT_AVAILABLE", nat.nat_gateway_id, message,
                                  service))]
        checks = [Check(Hop("nat_gateway", nat.nat_gateway_id, ALLOW,
                            f"available, {nat.connectivity_type}, in {nat.subnet_id}"))]
        target = _Target(nat.nat_gateway_id, nat.subnet_id, PUBLIC)
        if nat.subnet_id != source.subnet_id:
            checks += self._nacl_far_side(source, service, target, aws_facts.HTTPS_PORT,
                                          f"NAT gateway {nat.nat_gateway_id}", "nat_")
        checks += self._nacl_leg(nat.subnet_id, service, PUBLIC, aws_facts.HTTPS_PORT,
                                 aws_facts.NAT_GATEWAY_EPHEMERAL_PORTS,
                                 f"NAT gateway {nat.nat_gateway_id} to the internet",
                                 "nat_internet_")
        checks.append(self._nat_onward_route(nat, service))
        return checks

    def _nat_onward_route(self, nat: NatGateway, service: str | None) -> Check:
        table_and_kind = self.graph.route_table_of(nat.subnet_id)
        if table_and_kind is None:
            reason = self.estate.unavailable.get("route_tables",
                                                 f"no route table for {nat.subnet_id}")
            return _unknown_data("nat_route", nat.subnet_id, reason, service)
        table, association = table_and_kind
        choice = select_route(self.estate, table, PUBLIC)
        route = choice.route
        where = f"{table.route_table_id} ({association} route table of NAT subnet {nat.subnet_id})"
        if choice.uncertain:
            routes = "; ".join(describe_route(table, r) for r in choice.uncertain)
            return Check(Hop("nat_route", table.route_table_id, UNKNOWN, routes),
                         Finding("DESTINATION_UNCERTAIN", table.route_table_id,
                                 f"{where} sends part of the public address space elsewhere "
                                 f"({routes}).", service, "warning"))

        def no_internet(why: str, rule: str) -> Check:
            message = f"NAT gateway {nat.nat_gateway_id} cannot reach the internet: {why}."
            return Check(Hop("nat_route", table.route_table_id, DENY, rule),
                         Finding("NAT_GATEWAY_NO_INTERNET_ROUTE", nat.nat_gateway_id, message,
                                 service, details={"route_table": table.route_table_id}))

        if route is None:
            return no_internet(f"{where} has no 0.0.0.0/0 route", "no matching route")
        text = describe_route(table, route)
        if route.state == "blackhole":
            return no_internet(f"{where} sends 0.0.0.0/0 to a target that no longer exists",
                               text)
        if route.target_kind == "internet_gateway":
            if nat.connectivity_type != "public":
                return no_internet("it is a private NAT gateway, and an internet gateway drops "
                                   "its traffic", text)
            if not self.graph.igw_attached_to(route.target_id, nat.vpc_id):
                if "internet_gateways" in self.estate.unavailable:
                    return _unknown_data("nat_route", route.target_id,
                                         self.estate.unavailable["internet_gateways"], service)
                return no_internet(f"{route.target_id} is not attached to {nat.vpc_id}", text)
            return Check(Hop("nat_route", table.route_table_id, ALLOW, text))
        return self._unmodeled(table.route_table_id, route, service, text, step="nat_route")

    # --- shared hops ----------------------------------------------------------------------

    def _sg_check(self, service: str | None, **arguments: Any) -> Check:
        """Security group evaluation, memoised: thousands of instances share their groups."""
        arguments["peer_group_ids"] = tuple(arguments["peer_group_ids"])
        arguments["group_ids"] = tuple(arguments["group_ids"])
        key = ("sg", *arguments.values())
        if key not in self._checks:
            self._checks[key] = sg_eval.evaluate(self.estate, service=None, **arguments)
        return _for_service(self._checks[key], service)

    def _nacl_check(self, nacl: NetworkAcl | None, service: str | None, **arguments: Any) -> Check:
        key = ("nacl", nacl.nacl_id if nacl else None, *arguments.values())
        if key not in self._checks:
            self._checks[key] = nacl_eval.evaluate(self.estate, nacl, service=None,
                                                   **arguments)
        return _for_service(self._checks[key], service)

    def _nacl_leg(self, subnet_id: str, service: str | None, peer: Peer, port: int,
                  return_ports: tuple[int, int], purpose: str, side: str = "") -> list[Check]:
        """The ACL of ``subnet_id`` on a connection it opens to ``peer``: out, then the reply.

        ``side`` prefixes the step names ("nat_") when the subnet is not the instance's.
        """
        nacl = self.graph.nacl_of(subnet_id)
        return [
            self._nacl_check(nacl, step=f"{side}nacl_outbound",
                               subnet_id=subnet_id, egress=True, peer=peer, ports=(port, port),
                               service=service, purpose=purpose),
            self._nacl_check(nacl, step=f"{side}nacl_inbound_return",
                               subnet_id=subnet_id, egress=False, peer=peer, ports=return_ports,
                               service=service, purpose=f"reply to {purpose}"),
        ]

    def _nacl_far_side(self, source: Source, service: str | None, target: _Target, port: int,
                       purpose: str, side: str) -> list[Check]:
        """The ACL of the subnet the connection enters: in from the agent, the reply out."""
        nacl = self.graph.nacl_of(target.subnet_id)
        return [
            self._nacl_check(nacl, step=f"{side}nacl_inbound",
                               subnet_id=target.subnet_id, egress=False, peer=source.peer,
                               ports=(port, port), service=service,
                               purpose=f"from the agent to {purpose}"),
            self._nacl_check(nacl, step=f"{side}nacl_outbound_return",
                               subnet_id=target.subnet_id, egress=True, peer=source.peer,
                               ports=source.ephemeral_ports, service=service,
                               purpose=f"reply from {purpose}"),
        ]

    def _nacl_crossing(self, source: Source, service: str | None, subnet_id: str, peer: Peer,
                       port: int, purpose: str) -> list[Check]:
        """Both ACLs of a connection between two subnets; none within one subnet."""
        if subnet_id == source.subnet_id:
            return []
        target = _Target(subnet_id, subnet_id, peer)
        return (self._nacl_leg(source.subnet_id, service, peer, port, source.ephemeral_ports,
                               f"the agent's connection to {purpose}")
                + self._nacl_far_side(source, service, target, port, purpose, "endpoint_"))

    def _no_route_table(self, source: Source, service: str | None) -> Check:
        reason = self.estate.unavailable.get("route_tables",
                                             f"no route table for {source.subnet_id}")
        return _unknown_data("route", source.subnet_id, reason, service)

    def _unmodeled(self, table_id: str, route: Route, service: str | None, text: str,
                   step: str = "route") -> Check:
        kind = _VIA_BY_TARGET.get(route.target_kind, route.target_kind).replace("_", " ")
        message = (f"{table_id} sends the traffic to {route.target_id} ({kind}); what lies "
                   "beyond it is outside what this VPC's description proves.")
        return Check(Hop(step, table_id, UNKNOWN, text),
                     Finding("UNMODELED_HOP", route.target_id, message, service, "warning",
                             {"route_table": table_id, "target_kind": route.target_kind}))


def _for_service(check: Check, service: str | None) -> Check:
    """A check evaluated once for all services, its finding labelled with one of them."""
    if check.finding is None or check.finding.service == service:
        return check
    return Check(check.hop, check.finding.for_service(service))


@lru_cache(maxsize=65536)
def _host(address: str) -> IPv4Network:
    return Cidr(f"{address}/32")


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
