"""A hub-and-spoke network as AWS's reference architectures build it, with ``EstateBuilder``.

The hub VPC holds what the spokes share: an attachment subnet per Availability Zone, a NAT
gateway behind an internet gateway (central egress) and interface endpoints for the agent's
three services (central endpoints, admitting the spokes' summary CIDR). The transit gateway has
two route tables: the spokes' (the hub's CIDR propagated, 0.0.0.0/0 to the hub) and the hub's
(every spoke's CIDR propagated). Each spoke routes 0.0.0.0/0 to the transit gateway from its
application subnets and has an attachment subnet per zone.

Used by the tests, the demo estate and the benchmark; ids are the builder's, deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import ip_network

from builders.estate_builder import EstateBuilder

AGENT_SERVICES = ("ssm", "ssmmessages", "ec2messages")
SPOKES_SUMMARY = "10.0.0.0/8"


@dataclass
class Hub:
    vpc: str
    cidr: str
    tgw: str
    spoke_table: str  # the gateway route table spokes are associated with
    hub_table: str  # the one the hub's attachment is associated with
    attachment: str
    tgw_subnets: list[str]
    public_subnet: str
    endpoint_subnets: list[str]
    igw: str
    nat: str
    tgw_subnet_table: str
    public_table: str
    endpoint_table: str
    endpoint_group: str
    endpoints: dict[str, str] = field(default_factory=dict)


@dataclass
class Spoke:
    vpc: str
    cidr: str
    app_subnets: list[str]
    tgw_subnets: list[str]
    app_table: str
    attachment: str


def _pieces(cidr: str, prefix: int) -> list[str]:
    return [str(net) for net in ip_network(cidr).subnets(new_prefix=prefix)]


def build_hub(b: EstateBuilder, cidr: str = "10.100.0.0/16", zones: str = "ab", *,
              sg_referencing: bool = False, endpoints: bool = True,
              summary: str = SPOKES_SUMMARY) -> Hub:
    vpc = b.vpc(cidr)
    quarters = _pieces(cidr, 18)
    tgw_cidrs = _pieces(_pieces(quarters[0], 24)[0], 28)
    tgw_subnets = [b.subnet(vpc, tgw_cidrs[i], zone) for i, zone in enumerate(zones)]
    public = b.subnet(vpc, _pieces(quarters[0], 24)[1], zones[0], public_ip_on_launch=True)
    endpoint_cidrs = _pieces(quarters[1], 24)
    endpoint_subnets = [b.subnet(vpc, endpoint_cidrs[i], zone) for i, zone in enumerate(zones)]
    igw = b.internet_gateway(vpc)
    nat = b.nat_gateway(public)
    tgw = b.transit_gateway(sg_referencing=sg_referencing)
    spoke_table = b.tgw_route_table(tgw)
    hub_table = b.tgw_route_table(tgw)
    attachment = b.tgw_attachment(tgw, vpc, tgw_subnets, route_table=hub_table,
                                  propagate_to=[spoke_table])
    b.tgw_route(spoke_table, "0.0.0.0/0", attachment)
    tgw_subnet_table = b.route_table(vpc, tgw_subnets, [("0.0.0.0/0", nat)])
    public_table = b.route_table(vpc, [public], [("0.0.0.0/0", igw), (summary, tgw)])
    endpoint_table = b.route_table(vpc, endpoint_subnets, [(summary, tgw)])
    group = b.security_group(vpc, "central-endpoints", ingress=[("tcp", 443, 443, summary)])
    hub = Hub(vpc, cidr, tgw, spoke_table, hub_table, attachment, tgw_subnets, public,
              endpoint_subnets, igw, nat, tgw_subnet_table, public_table, endpoint_table, group)
    if endpoints:
        for service in AGENT_SERVICES:
            hub.endpoints[service] = b.interface_endpoint(vpc, service, endpoint_subnets,
                                                          [group])
    return hub


def add_spoke(b: EstateBuilder, hub: Hub, cidr: str, zones: str = "ab", *,
              propagate: bool = True, attachment_zones: str | None = None,
              sg_referencing: bool = True, state: str = "available",
              default_route: str | None = None, route_table: str | None = None) -> Spoke:
    """A spoke VPC attached to the hub's transit gateway. ``attachment_zones``: the zones of
    its attachment subnets (default: all of ``zones``); ``propagate``: its CIDR reaches the
    hub's gateway route table; ``default_route``: the application subnets' 0.0.0.0/0 target
    (default: the transit gateway); ``route_table``: the gateway route table it is associated
    with (default: the spokes')."""
    vpc = b.vpc(cidr)
    halves = _pieces(cidr, _half(cidr))
    tgw_cidrs = _pieces(_pieces(halves[1], 24)[-1], 28)
    app_cidrs = _pieces(halves[0], 24)
    app_subnets = [b.subnet(vpc, app_cidrs[i], zone) for i, zone in enumerate(zones)]
    attached = attachment_zones if attachment_zones is not None else zones
    tgw_subnets = [b.subnet(vpc, tgw_cidrs[i], zone) for i, zone in enumerate(attached)]
    app_table = b.route_table(vpc, app_subnets, [("0.0.0.0/0", default_route or hub.tgw)])
    attachment = b.tgw_attachment(hub.tgw, vpc, tgw_subnets,
                                  route_table=route_table or hub.spoke_table,
                                  propagate_to=[hub.hub_table] if propagate else [],
                                  sg_referencing=sg_referencing, state=state)
    return Spoke(vpc, cidr, app_subnets, tgw_subnets, app_table, attachment)


def _half(cidr: str) -> int:
    return ip_network(cidr).prefixlen + 1


def spoke_cidrs(count: int) -> Sequence[str]:
    """10.<n>.0.0/16 for n = 1, 2, ... skipping the hub's 10.100.0.0/16 (at most 254)."""
    numbers = [n for n in range(1, 256) if n != 100][:count]
    if len(numbers) < count:
        raise ValueError(f"at most 254 spokes, not {count}")
    return [f"10.{n}.0.0/16" for n in numbers]
