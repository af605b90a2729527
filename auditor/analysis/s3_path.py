"""Can the instance open HTTPS to S3? Through a gateway endpoint, an interface endpoint or out.

A route to the region's S3 prefix list whose target is an S3 gateway endpoint (the route the
endpoint adds to each route table it is given) takes S3's addresses out of the public path: it
is more specific than ``0.0.0.0/0``. The connection then needs the instance's security groups
to admit TCP 443 to S3's addresses and the subnet's network ACL to pass it both ways; the
endpoint carries it to S3 in the same region only. Without such a route, S3 is one more service
for the network prover: its name resolves to an S3 interface endpoint with private DNS, else to
the public addresses, and the same hops decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor import aws_facts
from auditor.analysis import nacl as nacl_eval
from auditor.analysis import security_groups as sg_eval
from auditor.analysis.ipspace import PUBLIC, Peer
from auditor.analysis.prover import NetworkProver, Source
from auditor.analysis.results import (
    ALLOW,
    BLOCKED,
    DENY,
    UNKNOWN,
    Check,
    Finding,
    Hop,
    ServiceProof,
    combine,
)
from auditor.analysis.routes import describe_route, select_route
from auditor.capability_facts import S3_SERVICE
from auditor.model import Instance, PrefixList, Route, RouteTable, VpcEndpoint

GATEWAY_ENDPOINT = "gateway_endpoint"


@dataclass
class _GatewayRoute:
    table: RouteTable
    route: Route
    endpoint: VpcEndpoint
    prefix_list: PrefixList | None
    notes: list[Finding] = field(default_factory=list)


class S3Paths:
    """S3 reachability for the instances of one prover's estate, memoised like the prover's."""

    def __init__(self, prover: NetworkProver) -> None:
        self.prover = prover
        self.estate = prover.estate
        self._memo: dict[tuple, ServiceProof] = {}
        self._checks: dict[tuple, Check] = {}

    def prove(self, instance: Instance, bucket_region: str | None = None) -> ServiceProof:
        """The path to S3 for a bucket in ``bucket_region`` (None or the estate's: this
        region's S3, which a gateway endpoint serves)."""
        source = self.prover.source_of(instance)
        region = self.estate.region
        same_region = bucket_region in (None, region)
        if source is None:
            return self.prover.prove_service(instance, None, S3_SERVICE)
        key = (source.alike(), same_region)
        if key not in self._memo:
            self._memo[key] = self._prove(instance, source, same_region, bucket_region)
        return self._memo[key].bound_to(instance.instance_id)

    def _prove(self, instance: Instance, source: Source, same_region: bool,
               bucket_region: str | None) -> ServiceProof:
        gateway = self._gateway_route(source) if same_region else None
        if gateway is not None:
            return self._via_gateway(source, gateway)
        proof = self.prover.prove_service(instance, source, S3_SERVICE)
        if not same_region and proof.via == "interface_endpoint":
            hostname = aws_facts.service_hostname(bucket_region or "", S3_SERVICE)
            message = (f"The bucket is in {bucket_region}; S3 in {self.estate.region} resolves to "
                       f"interface endpoint {proof.endpoint_id}, and whether {hostname} goes "
                       "through it or out cannot be told from the API.")
            return ServiceProof(S3_SERVICE, UNKNOWN, proof.via, hostname, proof.resolves_to,
                                proof.path, [Finding("DESTINATION_UNCERTAIN",
                                                     proof.endpoint_id or "", message, None,
                                                     "warning")], proof.endpoint_id)
        return proof

    # --- the gateway endpoint ----------------------------------------------------------------

    def _gateway_route(self, source: Source) -> _GatewayRoute | None:
        found = self.prover.graph.route_table_of(source.subnet_id)
        if found is None:
            return None
        table, _ = found
        wanted = aws_facts.endpoint_service_name(self.estate.region, S3_SERVICE)
        for route in table.routes:
            endpoint = self.estate.vpc_endpoints.get(route.target_id)
            if (route.destination_prefix_list_id and endpoint is not None
                    and endpoint.endpoint_type.lower() == "gateway"
                    and endpoint.service_name == wanted
                    and endpoint.state not in aws_facts.ENDPOINT_GONE_STATES):
                return _GatewayRoute(table, route, endpoint,
                                     self.estate.prefix_lists.get(
                                         route.destination_prefix_list_id))
        return None

    def _via_gateway(self, source: Source, gateway: _GatewayRoute) -> ServiceProof:
        region = self.estate.region
        hostname = aws_facts.service_hostname(region, S3_SERVICE)
        endpoint, route, table = gateway.endpoint, gateway.route, gateway.table
        listed = gateway.prefix_list
        resolves = f"S3's addresses (prefix list {route.destination_prefix_list_id})"
        if endpoint.state != aws_facts.ENDPOINT_AVAILABLE or route.state == "blackhole":
            why = (f"is {endpoint.state}" if endpoint.state != aws_facts.ENDPOINT_AVAILABLE
                   else "is gone (blackhole route)")
            message = (f"{table.route_table_id} sends S3's addresses to gateway endpoint "
                       f"{endpoint.endpoint_id}, which {why}: connections to S3 fail.")
            return ServiceProof(S3_SERVICE, BLOCKED, GATEWAY_ENDPOINT, hostname, resolves,
                                [Hop("route", table.route_table_id, DENY,
                                     describe_route(table, route))],
                                [Finding("ENDPOINT_NOT_AVAILABLE", endpoint.endpoint_id,
                                         message)], endpoint.endpoint_id)
        peers: list[Peer] = list(listed.cidrs) if listed and listed.cidrs else [PUBLIC]
        checks = [Check(Hop("route", table.route_table_id, ALLOW,
                            f"{describe_route(table, route)} (S3 gateway endpoint)"))]
        checks += self._more_specific_routes(table, peers)
        checks.append(self._security_groups(source, peers, route.destination_prefix_list_id))
        checks += self._nacls(source, peers)
        status, findings = combine(checks)
        return ServiceProof(S3_SERVICE, status, GATEWAY_ENDPOINT, hostname, resolves,
                            [check.hop for check in checks], findings, endpoint.endpoint_id)

    def _more_specific_routes(self, table: RouteTable, peers: list[Peer]) -> list[Check]:
        """A CIDR route more specific than the prefix list's entry takes that part elsewhere."""
        taken = [describe_route(table, route) for peer in peers if peer != PUBLIC
                 for route in select_route(self.estate, table, peer).uncertain
                 if route.destination_cidr is not None
                 and route.destination_cidr.prefixlen > peer.prefixlen]
        if not taken:
            return []
        routes = "; ".join(dict.fromkeys(taken))
        message = (f"{table.route_table_id} sends part of S3's addresses elsewhere ({routes}), "
                   "ahead of the gateway endpoint's route.")
        return [Check(Hop("route", table.route_table_id, UNKNOWN, routes),
                      Finding("DESTINATION_UNCERTAIN", table.route_table_id, message, None,
                              "warning"))]

    def _security_groups(self, source: Source, peers: list[Peer], prefix_list_id: str | None
                         ) -> Check:
        """TCP 443 to every S3 address; a rule naming S3's prefix list covers them all."""
        estate = self.estate
        for group_id in source.group_ids:
            group = estate.security_groups.get(group_id)
            for rule in group.egress if group else []:
                if (rule.prefix_list_id and rule.prefix_list_id == prefix_list_id
                        and rule.ports.protocol in ("-1", aws_facts.TCP)
                        and rule.ports.from_port <= aws_facts.HTTPS_PORT <= rule.ports.to_port):
                    return Check(Hop("sg_egress", group_id, ALLOW,
                                     sg_eval.describe_rule(group_id, rule)))
        checks = [self._memo_check(("sg", source.group_ids, peer), lambda peer=peer:
                                   sg_eval.evaluate(estate, step="sg_egress", direction="egress",
                                                    group_ids=source.group_ids, peer=peer,
                                                    peer_group_ids=(),
                                                    port=aws_facts.HTTPS_PORT, service=None,
                                                    finding_code="SG_EGRESS_BLOCKS",
                                                    owner="the instance"))
                  for peer in peers]
        return _together(checks)

    def _nacls(self, source: Source, peers: list[Peer]) -> list[Check]:
        nacl = self.prover.graph.nacl_of(source.subnet_id)
        replies = aws_facts.EPHEMERAL_PORTS.get(source.platform, aws_facts.EPHEMERAL_PORTS["linux"])
        legs = (("nacl_outbound", True, (aws_facts.HTTPS_PORT, aws_facts.HTTPS_PORT),
                 "the connection to S3"),
                ("nacl_inbound_return", False, replies, "replies from S3"))
        checks = []
        for step, egress, ports, purpose in legs:
            checks.append(_together([self._memo_check(
                ("nacl", nacl.nacl_id if nacl else None, source.subnet_id, step, peer, ports),
                lambda peer=peer, step=step, egress=egress, ports=ports, purpose=purpose:
                nacl_eval.evaluate(self.estate, nacl, step=step, subnet_id=source.subnet_id,
                                   egress=egress, peer=peer, ports=ports, service=None,
                                   purpose=purpose)) for peer in peers]))
        return checks

    def _memo_check(self, key: tuple, evaluate) -> Check:
        if key not in self._checks:
            self._checks[key] = evaluate()
        return self._checks[key]


def _together(checks: list[Check]) -> Check:
    """One hop for a check made against each of S3's ranges: the first that does not allow."""
    for decision in (DENY, UNKNOWN):
        for check in checks:
            if check.hop.decision == decision:
                return check
    return checks[0]
