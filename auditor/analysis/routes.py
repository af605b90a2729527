"""Route selection: longest prefix match in the table that routes a subnet."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.analysis.ipspace import Addresses, Coverage, Peer, cidr_coverage
from auditor.model import Estate, Route, RouteTable


@dataclass
class RouteChoice:
    route: Route | None
    # Routes that may capture part of the peer's addresses with another target: when the peer
    # is an address we do not know (part of the public space), they make the choice uncertain.
    uncertain: list[Route] = field(default_factory=list)


def describe_route(table: RouteTable, route: Route) -> str:
    blackhole = " (blackhole)" if route.state == "blackhole" else ""
    return f"{table.route_table_id}: {route.destination()} -> {route.target_id}{blackhole}"


def _prefix_list_prefixes(estate: Estate, route: Route, peer: Peer) -> tuple[Coverage, int]:
    prefix_list = estate.prefix_lists.get(route.destination_prefix_list_id or "")
    if prefix_list is None or prefix_list.cidrs is None:
        return Coverage.PARTIAL, 0
    best = (Coverage.NONE, 0)
    for cidr in prefix_list.cidrs:
        coverage = cidr_coverage(cidr, peer)
        if (coverage, cidr.prefixlen) > best:
            best = (coverage, cidr.prefixlen)
    return best


def is_gateway_endpoint_route(estate: Estate, route: Route) -> bool:
    """S3 and DynamoDB gateway endpoint routes never carry the SSM services' addresses."""
    endpoint = estate.vpc_endpoints.get(route.target_id)
    return endpoint is not None and endpoint.endpoint_type.lower() == "gateway"


def select_route(estate: Estate, table: RouteTable, peer: Peer) -> RouteChoice:
    best: Route | None = None
    best_length = -1
    partial: list[Route] = []
    for route in table.routes:
        if route.destination_cidr is not None:
            coverage = cidr_coverage(route.destination_cidr, peer)
            length = route.destination_cidr.prefixlen
        elif route.destination_prefix_list_id is not None:
            if is_gateway_endpoint_route(estate, route):
                continue
            coverage, length = _prefix_list_prefixes(estate, route, peer)
        else:
            continue  # IPv6 routes do not carry IPv4 traffic
        if coverage == Coverage.FULL and length > best_length:
            best, best_length = route, length
        elif coverage == Coverage.PARTIAL:
            partial.append(route)
    if isinstance(peer, Addresses):
        target = best.target_id if best else None
        uncertain = [route for route in partial if route.target_id != target]
    else:
        # A concrete peer is never partly covered by a CIDR; only unknown prefix lists are.
        uncertain = partial
    return RouteChoice(best, uncertain)
