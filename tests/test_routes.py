"""Routing: which table routes a subnet, longest prefix match, and where the route leads."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from auditor.analysis.graph import EstateGraph
from auditor.analysis.ipspace import PUBLIC
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import BLOCKED, DENY, REACHABLE, UNKNOWN
from auditor.analysis.routes import select_route
from auditor.model import Estate, PrefixList, Route, RouteTable, VpcEndpoint
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder

SERVICES = ("ssm", "ssmmessages", "ec2messages")

# --- select_route on hand-made tables -------------------------------------------------------

LOCAL = Route("local", "local", "active", ip_network("10.0.0.0/16"))
TO_IGW = Route("internet_gateway", "igw-1", "active", ip_network("0.0.0.0/0"))
TO_NAT = Route("nat_gateway", "nat-1", "active", ip_network("0.0.0.0/0"))
TGW_PUBLIC = Route("transit_gateway", "tgw-1", "active", ip_network("52.0.0.0/8"))
TGW_PRIVATE = Route("transit_gateway", "tgw-1", "active", ip_network("192.168.0.0/16"))
IGW_PUBLIC_SPECIFIC = Route("internet_gateway", "igw-1", "active", ip_network("52.0.0.0/8"))
PEERING_SUBNET = Route("vpc_peering", "pcx-1", "active", ip_network("10.0.5.0/24"))
FIREWALL_SUBNET = Route("vpc_endpoint", "vpce-fw", "active", ip_network("10.0.20.0/24"))
S3_GATEWAY = Route("vpc_endpoint", "vpce-s3", "active", destination_prefix_list_id="pl-s3")
UNKNOWN_PL_TO_TGW = Route("transit_gateway", "tgw-1", "active",
                          destination_prefix_list_id="pl-unknown")
KNOWN_PL_TO_TGW = Route("transit_gateway", "tgw-1", "active",
                        destination_prefix_list_id="pl-corp")
IPV6_DEFAULT = Route("egress_only_internet_gateway", "eigw-1", "active", destination_ipv6="::/0")


def route_estate() -> Estate:
    estate = Estate("eu-west-1")
    estate.vpc_endpoints["vpce-s3"] = VpcEndpoint(
        "vpce-s3", "vpc-1", "com.amazonaws.eu-west-1.s3", "Gateway", "available", False)
    estate.prefix_lists["pl-s3"] = PrefixList("pl-s3", cidrs=[ip_network("52.218.0.0/17")])
    estate.prefix_lists["pl-unknown"] = PrefixList("pl-unknown", cidrs=None)
    estate.prefix_lists["pl-corp"] = PrefixList("pl-corp", cidrs=[ip_network("10.0.5.0/24")])
    return estate


# (routes, peer, chosen route, uncertain routes)
SELECT_CASES = [
    pytest.param([LOCAL, TO_IGW], PUBLIC, TO_IGW, [], id="default-route-for-public"),
    pytest.param([LOCAL], PUBLIC, None, [], id="local-only-no-public-route"),
    pytest.param([LOCAL, TO_IGW], "10.0.20.10/32", LOCAL, [], id="local-wins-for-vpc-address"),
    pytest.param([TO_IGW, LOCAL, PEERING_SUBNET], "10.0.5.7/32", PEERING_SUBNET, [],
                 id="longest-prefix-beats-local"),
    pytest.param([TO_IGW, PEERING_SUBNET, LOCAL], "10.0.6.7/32", LOCAL, [],
                 id="longest-prefix-beats-default"),
    pytest.param([LOCAL, FIREWALL_SUBNET], "10.0.20.10/32", FIREWALL_SUBNET, [],
                 id="firewall-route-more-specific-than-local"),
    pytest.param([LOCAL, TO_IGW, TGW_PUBLIC], PUBLIC, TO_IGW, [TGW_PUBLIC],
                 id="public-range-to-tgw-makes-public-uncertain"),
    pytest.param([LOCAL, TO_IGW, TGW_PRIVATE], PUBLIC, TO_IGW, [],
                 id="private-range-to-tgw-does-not-touch-public"),
    pytest.param([LOCAL, TO_IGW, IGW_PUBLIC_SPECIFIC], PUBLIC, TO_IGW, [],
                 id="specific-route-to-same-gateway-is-harmless"),
    pytest.param([LOCAL, TO_IGW, S3_GATEWAY], PUBLIC, TO_IGW, [],
                 id="s3-gateway-endpoint-prefix-list-ignored"),
    pytest.param([LOCAL, TO_IGW, UNKNOWN_PL_TO_TGW], PUBLIC, TO_IGW, [UNKNOWN_PL_TO_TGW],
                 id="unknown-prefix-list-to-tgw-uncertain"),
    pytest.param([LOCAL, TO_IGW, KNOWN_PL_TO_TGW], PUBLIC, TO_IGW, [],
                 id="known-private-prefix-list-harmless"),
    pytest.param([LOCAL, TO_IGW, KNOWN_PL_TO_TGW], "10.0.5.7/32", KNOWN_PL_TO_TGW, [],
                 id="known-prefix-list-longest-match"),
    pytest.param([LOCAL, IPV6_DEFAULT], PUBLIC, None, [], id="ipv6-route-never-carries-ipv4"),
]


@pytest.mark.parametrize(("routes", "peer", "chosen", "uncertain"), SELECT_CASES)
def test_select_route(routes, peer, chosen, uncertain):
    table = RouteTable("rtb-1", "vpc-1", routes)
    peer = peer if peer == PUBLIC else ip_network(peer)
    choice = select_route(route_estate(), table, peer)
    assert choice.route == chosen
    assert choice.uncertain == uncertain


# --- which table routes a subnet ------------------------------------------------------------


@pytest.mark.parametrize(("explicit", "expected_table", "association"), [
    pytest.param(False, "main", "main", id="no-association-falls-back-to-main"),
    pytest.param(True, "explicit", "explicit", id="explicit-association-overrides-main"),
])
def test_route_table_of(explicit, expected_table, association):
    b = EstateBuilder()
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    other = b.subnet(vpc, "10.0.2.0/24")
    tables = {"main": b.main_route_table(vpc),
              "explicit": b.route_table(vpc, [subnet] if explicit else [other])}
    graph = EstateGraph(build_estate(b.raw()))
    table, kind = graph.route_table_of(subnet)
    assert (table.route_table_id, kind) == (tables[expected_table], association)


# --- whole paths ----------------------------------------------------------------------------


def prove(builder: EstateBuilder, instance_id: str):
    estate = build_estate(builder.raw())
    return NetworkProver(EstateGraph(estate)).prove(estate.instances[instance_id])


def main_table_reachable():
    """No explicit association: the main table's 0.0.0.0/0 -> IGW applies."""
    b = EstateBuilder()
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    main = b.main_route_table(vpc)
    b.add_route(main, "0.0.0.0/0", b.internet_gateway(vpc))
    return b, b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.1"), main


def explicit_overrides_main():
    """The main table reaches the internet; the subnet's explicit table does not."""
    b = EstateBuilder()
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.add_route(b.main_route_table(vpc), "0.0.0.0/0", b.internet_gateway(vpc))
    explicit = b.route_table(vpc, [subnet])
    return b, b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.1"), explicit


def explicit_reachable_main_empty():
    b = EstateBuilder()
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    explicit = b.route_table(vpc, [subnet], [("0.0.0.0/0", b.internet_gateway(vpc))])
    return b, b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.1"), explicit


def public_subnet(routes, *, public_ip="198.51.100.1", extra=None):
    """One subnet with an IGW attached to its VPC and the given routes (igw as "IGW")."""
    def factory():
        b = EstateBuilder()
        vpc = b.vpc()
        subnet = b.subnet(vpc, "10.0.1.0/24")
        igw = b.internet_gateway(vpc)
        table = b.route_table(vpc, [subnet], [(d, igw if t == "IGW" else t) for d, t in routes])
        if extra:
            extra(b, vpc, table)
        instance = b.instance(subnet, [b.security_group(vpc)], public_ip=public_ip)
        return b, instance, {"table": table, "igw": igw, "instance": instance}
    return factory


def behind_nat(*, state="available", connectivity="public", nat_route="IGW"):
    def factory():
        b = EstateBuilder()
        vpc = b.vpc()
        public = b.subnet(vpc, "10.0.0.0/24")
        private = b.subnet(vpc, "10.0.10.0/24")
        igw = b.internet_gateway(vpc)
        nat_table = b.route_table(vpc, [public])
        if nat_route:
            b.add_route(nat_table, "0.0.0.0/0", igw if nat_route == "IGW" else nat_route)
        nat = b.nat_gateway(public, state=state, connectivity=connectivity)
        table = b.route_table(vpc, [private], [("0.0.0.0/0", nat)])
        instance = b.instance(private, [b.security_group(vpc)])
        return b, instance, {"table": table, "nat": nat, "nat_table": nat_table, "igw": igw}
    return factory


def s3_gateway_endpoint(b, vpc, table):
    s3_list = b.prefix_list("com.amazonaws.eu-west-1.s3", ["52.218.0.0/17", "3.5.64.0/21"],
                            owner="AWS")
    b.gateway_endpoint(vpc, "s3", [table], s3_list)


def s3_gateway_endpoint_entries_unknown(b, vpc, table):
    s3_list = b.prefix_list("com.amazonaws.eu-west-1.s3", None, owner="AWS")
    b.gateway_endpoint(vpc, "s3", [table], s3_list)


# (factory, status, via, finding code, key of the finding's resource in the ids)
PATH_CASES = [
    pytest.param(public_subnet([("0.0.0.0/0", "IGW")]), REACHABLE, "internet_gateway", None,
                 None, id="igw-with-public-ip"),
    pytest.param(public_subnet([("0.0.0.0/0", "IGW")], public_ip=None), BLOCKED,
                 "internet_gateway", "IGW_NO_PUBLIC_IP", "instance", id="igw-without-public-ip"),
    pytest.param(public_subnet([]), BLOCKED, "none", "NO_ROUTE_TO_DESTINATION", "table",
                 id="no-default-route"),
    pytest.param(public_subnet([("0.0.0.0/0", "blackhole:nat-0deleted00000000000")]), BLOCKED,
                 "nat_gateway", "BLACKHOLE_ROUTE", "table", id="blackhole-default-route"),
    pytest.param(public_subnet([("0.0.0.0/0", "nat-0gone0000000000000")]), BLOCKED,
                 "nat_gateway", "BLACKHOLE_ROUTE", None, id="route-to-nat-not-in-estate"),
    pytest.param(public_subnet([("0.0.0.0/0", "igw-0other000000000000")]), BLOCKED,
                 "internet_gateway", "BLACKHOLE_ROUTE", None, id="route-to-detached-igw"),
    # Gateways the data does not hold (tests/test_beyond.py proves the ones it does).
    pytest.param(public_subnet([("0.0.0.0/0", "tgw-0123456789abcdef0")]), UNKNOWN,
                 "transit_gateway", "DATA_UNAVAILABLE", None, id="transit-gateway-not-in-data"),
    pytest.param(public_subnet([("0.0.0.0/0", "pcx-0123456789abcdef0")]), UNKNOWN,
                 "vpc_peering", "DATA_UNAVAILABLE", None, id="peering-not-in-data"),
    pytest.param(public_subnet([("0.0.0.0/0", "vgw-0123456789abcdef0")]), UNKNOWN,
                 "virtual_private_gateway", "UNMODELED_HOP", None, id="virtual-private-gateway"),
    pytest.param(public_subnet([("0.0.0.0/0", "vpce-0firewall000000000")]), UNKNOWN,
                 "firewall_or_gwlb_endpoint", "UNMODELED_HOP", None, id="firewall-endpoint"),
    pytest.param(public_subnet([("0.0.0.0/0", "eni-0appliance00000000")]), UNKNOWN,
                 "network_interface", "UNMODELED_HOP", None, id="eni-appliance"),
    pytest.param(public_subnet([("0.0.0.0/0", "i-0natinstance0000000")]), UNKNOWN,
                 "nat_instance", "UNMODELED_HOP", None, id="nat-instance"),
    pytest.param(public_subnet([("0.0.0.0/0", "IGW"),
                                ("192.168.0.0/16", "tgw-0123456789abcdef0")]),
                 REACHABLE, "internet_gateway", None, None, id="private-range-to-tgw-beside-igw"),
    pytest.param(public_subnet([("0.0.0.0/0", "IGW")], extra=s3_gateway_endpoint),
                 REACHABLE, "internet_gateway", None, None, id="s3-gateway-endpoint-route"),
    pytest.param(public_subnet([("0.0.0.0/0", "IGW")], extra=s3_gateway_endpoint_entries_unknown),
                 REACHABLE, "internet_gateway", None, None,
                 id="s3-gateway-endpoint-route-entries-unknown"),
    pytest.param(behind_nat(), REACHABLE, "nat_gateway", None, None, id="nat-available"),
    pytest.param(behind_nat(state="pending"), BLOCKED, "nat_gateway",
                 "NAT_GATEWAY_NOT_AVAILABLE", "nat", id="nat-pending"),
    pytest.param(behind_nat(state="failed"), BLOCKED, "nat_gateway",
                 "NAT_GATEWAY_NOT_AVAILABLE", "nat", id="nat-failed"),
    pytest.param(behind_nat(nat_route=None), BLOCKED, "nat_gateway",
                 "NAT_GATEWAY_NO_INTERNET_ROUTE", "nat", id="nat-subnet-without-igw-route"),
    pytest.param(behind_nat(nat_route="blackhole:igw-0gone000000000000"), BLOCKED,
                 "nat_gateway", "NAT_GATEWAY_NO_INTERNET_ROUTE", "nat",
                 id="nat-subnet-blackhole-route"),
    pytest.param(behind_nat(nat_route="igw-0detached00000000"), BLOCKED, "nat_gateway",
                 "NAT_GATEWAY_NO_INTERNET_ROUTE", "nat", id="nat-subnet-route-to-detached-igw"),
    pytest.param(behind_nat(connectivity="private"), BLOCKED, "nat_gateway",
                 "NAT_GATEWAY_NO_INTERNET_ROUTE", "nat", id="private-nat-gateway"),
    pytest.param(behind_nat(connectivity="private", nat_route="igw-0detached00000000"), BLOCKED,
                 "nat_gateway", "NAT_GATEWAY_NO_INTERNET_ROUTE", "nat",
                 id="private-nat-gateway-route-to-detached-igw"),
    pytest.param(behind_nat(nat_route="tgw-0123456789abcdef0"), UNKNOWN, "nat_gateway",
                 "UNMODELED_HOP", None, id="nat-subnet-routes-to-tgw"),
]


@pytest.mark.parametrize(("factory", "status", "via", "code", "resource_key"), PATH_CASES)
def test_public_path(factory, status, via, code, resource_key):
    builder, instance, ids = factory()
    proofs = prove(builder, instance)
    assert set(proofs) == set(SERVICES)
    for service, proof in proofs.items():
        assert (proof.status, proof.via) == (status, via), service
        assert proof.resolves_to == "public addresses"
        codes = [f.code for f in proof.findings]
        if code is None:
            assert codes == []
            continue
        assert codes == [code]
        if resource_key:
            assert proof.findings[0].resource_id == ids[resource_key]
        if status == UNKNOWN:
            assert proof.findings[0].severity == "warning"
            assert not any(hop.decision == DENY for hop in proof.path)


@pytest.mark.parametrize(("factory", "status", "code"), [
    pytest.param(main_table_reachable, REACHABLE, None, id="main-table-used-without-association"),
    pytest.param(explicit_overrides_main, BLOCKED, "NO_ROUTE_TO_DESTINATION",
                 id="explicit-table-overrides-main"),
    pytest.param(explicit_reachable_main_empty, REACHABLE, None, id="explicit-table-used"),
])
def test_subnet_route_table_choice(factory, status, code):
    builder, instance, table = factory()
    proof = prove(builder, instance)["ssm"]
    assert proof.status == status
    route_hops = [hop for hop in proof.path if hop.step == "route"]
    assert [hop.resource_id for hop in route_hops] == [table]
    assert [(f.code, f.resource_id) for f in proof.findings] == (
        [] if code is None else [(code, table)])


def test_public_range_to_a_transit_gateway_beside_the_igw_is_unknown_and_says_why():
    """The public space is proved part by part: the rest reaches the internet gateway, 52/8
    goes to a transit gateway the model does not prove, so the answer depends on the service's
    address."""
    builder, instance, _ = public_subnet(
        [("0.0.0.0/0", "IGW"), ("52.0.0.0/8", "tgw-0123456789abcdef0")])()
    for proof in prove(builder, instance).values():
        assert (proof.status, proof.via) == (UNKNOWN, "internet_gateway+transit_gateway")
        assert [(f.code, f.severity) for f in proof.findings] == [
            ("DESTINATION_UNCERTAIN", "warning"), ("DATA_UNAVAILABLE", "warning")]
        assert "52.0.0.0/8" in proof.findings[0].message
        assert not any(hop.decision == DENY for hop in proof.path)


def test_unmodeled_hop_names_the_target():
    builder, instance, _ = public_subnet([("0.0.0.0/0", "vgw-0123456789abcdef0")])()
    finding = prove(builder, instance)["ssm"].findings[0]
    assert finding.resource_id == "vgw-0123456789abcdef0"
    assert finding.details["target_kind"] == "virtual_private_gateway"


def test_nat_path_hops_in_order():
    builder, instance, ids = behind_nat()()
    proof = prove(builder, instance)["ssm"]
    assert [hop.step for hop in proof.path] == [
        "dns", "sg_egress", "nacl_outbound", "nacl_inbound_return", "route", "nat_gateway",
        "nat_nacl_inbound", "nat_nacl_outbound_return", "nat_return_route",
        "nat_internet_nacl_outbound", "nat_internet_nacl_inbound_return", "nat_route",
        "nat_igw_return_route"]
    assert [hop.resource_id for hop in proof.path if hop.step in ("route", "nat_route")] == [
        ids["table"], ids["nat_table"]]
    # Both ways: the replies leave the NAT subnet by its table, straight back (local).
    assert [hop.resource_id for hop in proof.path if hop.step == "nat_return_route"] == [
        ids["nat_table"]]
    assert [hop.resource_id for hop in proof.path if hop.step == "nat_igw_return_route"] == [
        ids["igw"]]


def endpoint_behind_firewall_route():
    """The route to the endpoint subnet is more specific than local and goes to a firewall."""
    b = EstateBuilder()
    vpc = b.vpc()
    app = b.subnet(vpc, "10.0.10.0/24")
    endpoints = b.subnet(vpc, "10.0.20.0/24")
    table = b.route_table(vpc, [app], [("10.0.20.0/24", "vpce-0firewall000000000")])
    endpoint_sg = b.security_group(vpc, ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    b.interface_endpoint(vpc, "ssm", [endpoints], [endpoint_sg])
    return b, b.instance(app, [b.security_group(vpc)]), table


def test_route_more_specific_than_local_to_firewall_is_unmodeled():
    builder, instance, table = endpoint_behind_firewall_route()
    proofs = prove(builder, instance)
    ssm = proofs["ssm"]
    assert (ssm.status, ssm.via) == (UNKNOWN, "interface_endpoint")
    assert [(f.code, f.resource_id) for f in ssm.findings] == [
        ("UNMODELED_HOP", "vpce-0firewall000000000")]
    route_hops = [hop for hop in ssm.path if hop.step == "route"]
    assert [(h.resource_id, h.decision) for h in route_hops] == [(table, UNKNOWN)]
    # ssmmessages has no endpoint and the table has no default route.
    assert proofs["ssmmessages"].status == BLOCKED
    assert proofs["ssmmessages"].findings[0].code == "NO_ROUTE_TO_DESTINATION"


def test_private_nat_blocked_whatever_the_igw_data_says():
    builder, instance, ids = behind_nat(connectivity="private")()
    raw = builder.raw()
    raw.answers.pop("internet_gateways")
    raw.errors["internet_gateways"] = "AccessDenied"
    estate = build_estate(raw)
    proof = NetworkProver(EstateGraph(estate)).prove(estate.instances[instance])["ssm"]
    assert proof.status == BLOCKED
    assert [(f.code, f.resource_id) for f in proof.findings] == [
        ("NAT_GATEWAY_NO_INTERNET_ROUTE", ids["nat"])]
    assert "private NAT gateway" in proof.findings[0].message


@pytest.mark.parametrize(("target", "status", "code", "resource"), [
    pytest.param("vpce-0firewall000000000", UNKNOWN, "UNMODELED_HOP", "vpce-0firewall000000000",
                 id="firewall-endpoint-unmodeled"),
    pytest.param("eni-0appliance00000000", UNKNOWN, "UNMODELED_HOP", "eni-0appliance00000000",
                 id="appliance-eni-unmodeled"),
    pytest.param("blackhole:eni-0gone000000000000", BLOCKED, "BLACKHOLE_ROUTE", "table",
                 id="blackhole-route-to-endpoint-subnet-blocks"),
])
def test_route_to_endpoint_subnet_more_specific_than_local(target, status, code, resource):
    b = EstateBuilder()
    vpc = b.vpc()
    app = b.subnet(vpc, "10.0.10.0/24")
    endpoints = b.subnet(vpc, "10.0.20.0/24")
    table = b.route_table(vpc, [app], [("10.0.20.0/24", target)])
    endpoint_sg = b.security_group(vpc, ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    b.interface_endpoint(vpc, "ssm", [endpoints], [endpoint_sg])
    proof = prove(b, b.instance(app, [b.security_group(vpc)]))["ssm"]
    assert (proof.status, proof.via) == (status, "interface_endpoint")
    expected_resource = table if resource == "table" else resource
    assert [(f.code, f.resource_id) for f in proof.findings] == [(code, expected_resource)]
