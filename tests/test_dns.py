"""Where the agent's name for each service resolves: endpoint ENIs, public addresses, or
nobody knows."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from auditor import aws_facts
from auditor.analysis.dns import RESOLVES_ENDPOINT, RESOLVES_PUBLIC, resolve
from auditor.analysis.graph import EstateGraph
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import BLOCKED, REACHABLE, UNKNOWN
from auditor.model import DhcpOptions, Estate, Vpc, VpcEndpoint
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder

REGION = "eu-west-1"
VPC_ID = "vpc-1"


def endpoint(service: str, *, private_dns: bool = True, state: str = "available",
             endpoint_type: str = "Interface", endpoint_id: str | None = None) -> VpcEndpoint:
    return VpcEndpoint(endpoint_id or f"vpce-{service}", VPC_ID,
                       f"com.amazonaws.{REGION}.{service}", endpoint_type, state, private_dns)


def run(endpoints=(), *, service="ssm", dns_support=True, dns_hostnames=True,
        dns_servers=None, unavailable=None, hypervisor=aws_facts.NITRO):
    vpc = Vpc(VPC_ID, [ip_network("10.0.0.0/16")], "default", dns_support, dns_hostnames)
    estate = Estate(REGION, unavailable=dict(unavailable or {}))
    if dns_servers is not None:
        vpc.dhcp_options_id = "dopt-1"
        if dns_servers != "missing":
            estate.dhcp_options["dopt-1"] = DhcpOptions("dopt-1", list(dns_servers))
    estate.vpcs[VPC_ID] = vpc
    estate.vpc_endpoints = {e.endpoint_id: e for e in endpoints}
    return resolve(EstateGraph(estate), vpc, REGION, service, hypervisor)


# (endpoints, options, expected status, target, chosen endpoint id, finding code, note codes)
CASES = [
    pytest.param([], {}, REACHABLE, RESOLVES_PUBLIC, None, None, [], id="no-endpoint-public"),
    pytest.param([endpoint("ssm")], {}, REACHABLE, RESOLVES_ENDPOINT, "vpce-ssm", None, [],
                 id="endpoint-with-private-dns"),
    pytest.param([endpoint("ssm", private_dns=False)], {}, REACHABLE, RESOLVES_PUBLIC, None,
                 None, ["ENDPOINT_PRIVATE_DNS_DISABLED"], id="private-dns-disabled"),
    pytest.param([endpoint("ssm")], {"dns_hostnames": False}, REACHABLE, RESOLVES_PUBLIC, None,
                 None, ["VPC_DNS_HOSTNAMES_DISABLED"], id="dns-hostnames-off"),
    pytest.param([], {"dns_hostnames": False}, REACHABLE, RESOLVES_PUBLIC, None, None, [],
                 id="dns-hostnames-off-without-endpoint-is-silent"),
    pytest.param([endpoint("ssm")], {"dns_support": False}, BLOCKED, None, None,
                 "VPC_DNS_SUPPORT_DISABLED", [], id="dns-support-off"),
    pytest.param([endpoint("ssm")], {"dns_servers": ["10.0.0.53", "10.0.1.53"]}, UNKNOWN, None,
                 None, "CUSTOM_DNS_SERVERS", [], id="custom-dns-servers"),
    pytest.param([endpoint("ssm")], {"dns_servers": ["AmazonProvidedDNS", "10.0.0.53"]},
                 UNKNOWN, None, None, "CUSTOM_DNS_SERVERS", [],
                 id="amazon-plus-custom-dns-servers"),
    pytest.param([], {"dns_servers": ["10.0.0.53"], "dns_support": False}, UNKNOWN, None, None,
                 "CUSTOM_DNS_SERVERS", [], id="custom-dns-servers-even-without-dns-support"),
    pytest.param([endpoint("ssm")], {"dns_servers": ["AmazonProvidedDNS"]}, REACHABLE,
                 RESOLVES_ENDPOINT, "vpce-ssm", None, [], id="dhcp-amazon-provided-dns"),
    pytest.param([endpoint("ssm")], {"dns_servers": ["169.254.169.253"]}, REACHABLE,
                 RESOLVES_ENDPOINT, "vpce-ssm", None, [], id="dhcp-169-254-169-253"),
    pytest.param([endpoint("ssm")], {"dns_servers": ["10.0.0.2"]}, REACHABLE,
                 RESOLVES_ENDPOINT, "vpce-ssm", None, [], id="dhcp-vpc-base-plus-two"),
    pytest.param([endpoint("ssm")], {"dns_servers": []}, REACHABLE, RESOLVES_ENDPOINT,
                 "vpce-ssm", None, [], id="dhcp-options-without-dns-servers"),
    pytest.param([endpoint("ssm")], {"dns_servers": "missing"}, UNKNOWN, None, None,
                 "DATA_UNAVAILABLE", [], id="dhcp-options-not-in-data"),
    pytest.param([endpoint("ssm")], {"dns_support": None}, UNKNOWN, None, None,
                 "DATA_UNAVAILABLE", [], id="dns-support-unreadable"),
    pytest.param([endpoint("ssm")], {"dns_hostnames": None}, UNKNOWN, None, None,
                 "DATA_UNAVAILABLE", [], id="dns-hostnames-unreadable-with-endpoint"),
    pytest.param([endpoint("ssm")], {"unavailable": {"vpc_endpoints": "AccessDenied"}}, UNKNOWN,
                 None, None, "DATA_UNAVAILABLE", [], id="endpoints-unreadable"),
    # exact service names: look-alikes never answer for the agent's services
    pytest.param([endpoint("ec2")], {"service": "ec2messages"}, REACHABLE, RESOLVES_PUBLIC, None,
                 None, [], id="ec2-is-not-ec2messages"),
    pytest.param([endpoint("ec2messages")], {"service": "ec2messages"}, REACHABLE,
                 RESOLVES_ENDPOINT, "vpce-ec2messages", None, [], id="ec2messages-endpoint"),
    pytest.param([endpoint("ssm-contacts"), endpoint("ssm-incidents")], {}, REACHABLE,
                 RESOLVES_PUBLIC, None, None, [], id="ssm-contacts-incidents-are-not-ssm"),
    pytest.param([endpoint("ssm")], {"service": "ssmmessages"}, REACHABLE, RESOLVES_PUBLIC,
                 None, None, [], id="ssm-endpoint-is-not-ssmmessages"),
    pytest.param([endpoint("ssmmessages")], {}, REACHABLE, RESOLVES_PUBLIC, None, None, [],
                 id="ssmmessages-endpoint-is-not-ssm"),
    pytest.param([endpoint("ssm", endpoint_type="Gateway")], {}, REACHABLE, RESOLVES_PUBLIC,
                 None, None, [], id="gateway-type-is-not-interface"),
    pytest.param([endpoint("ssm", state="deleted")], {}, REACHABLE, RESOLVES_PUBLIC, None,
                 None, [], id="deleted-endpoint-ignored"),
    pytest.param([endpoint("ssm", state="pending")], {}, REACHABLE, RESOLVES_ENDPOINT,
                 "vpce-ssm", None, [], id="pending-endpoint-still-answers"),
    pytest.param([endpoint("ssm", private_dns=False, endpoint_id="vpce-a"),
                  endpoint("ssm", endpoint_id="vpce-b")], {}, REACHABLE, RESOLVES_ENDPOINT,
                 "vpce-b", None, ["ENDPOINT_PRIVATE_DNS_DISABLED"],
                 id="second-endpoint-with-private-dns-answers"),
]


@pytest.mark.parametrize(("endpoints", "options", "status", "target", "endpoint_id", "code",
                          "notes"), CASES)
def test_resolve(endpoints, options, status, target, endpoint_id, code, notes):
    resolution = run(endpoints, **options)
    assert resolution.check.status == status
    assert resolution.target == target
    assert (resolution.endpoint.endpoint_id if resolution.endpoint else None) == endpoint_id
    assert (resolution.check.finding.code if resolution.check.finding else None) == code
    assert [note.code for note in resolution.notes] == notes
    assert all(note.severity == "warning" for note in resolution.notes)


def test_custom_dns_servers_named():
    resolution = run([], dns_servers=["10.0.0.53", "10.0.1.53"])
    finding = resolution.check.finding
    assert finding.resource_id == "dopt-1"
    assert "10.0.0.53, 10.0.1.53" in finding.message
    assert finding.severity == "warning"


# --- whole paths ----------------------------------------------------------------------------


def estate_with_nat(**vpc_options):
    """A private instance with a working NAT path, and one endpoint-subnet for endpoints."""
    b = EstateBuilder(region=REGION)
    vpc = b.vpc("10.0.0.0/16", **vpc_options)
    public = b.subnet(vpc, "10.0.0.0/24")
    private = b.subnet(vpc, "10.0.10.0/24")
    endpoints = b.subnet(vpc, "10.0.20.0/24", "b")
    b.route_table(vpc, [public], [("0.0.0.0/0", b.internet_gateway(vpc))])
    b.route_table(vpc, [private], [("0.0.0.0/0", b.nat_gateway(public))])
    open_sg = b.security_group(vpc, "endpoints", ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    return b, vpc, private, endpoints, open_sg


def prove(builder: EstateBuilder, instance_id: str):
    estate = build_estate(builder.raw())
    return NetworkProver(EstateGraph(estate)).prove(estate.instances[instance_id])


def test_partial_coverage_each_service_resolved_alone():
    b, vpc, private, endpoint_subnet, open_sg = estate_with_nat()
    ssm_endpoint = b.interface_endpoint(vpc, "ssm", [endpoint_subnet], [open_sg])
    instance = b.instance(private, [b.security_group(vpc)])
    proofs = prove(b, instance)
    assert {s: (p.status, p.via) for s, p in proofs.items()} == {
        "ssm": (REACHABLE, "interface_endpoint"),
        "ssmmessages": (REACHABLE, "nat_gateway"),
        "ec2messages": (REACHABLE, "nat_gateway"),
    }
    assert proofs["ssm"].resolves_to == f"interface endpoint {ssm_endpoint}"
    assert proofs["ssmmessages"].resolves_to == "public addresses"


def test_partial_coverage_private_service_blocked_public_one_fine():
    """ssm resolves to an endpoint whose SG blocks; ssmmessages goes out through the NAT."""
    b, vpc, private, endpoint_subnet, _ = estate_with_nat()
    closed = b.security_group(vpc, "closed", ingress=[("tcp", 443, 443, "192.168.0.0/16")])
    b.interface_endpoint(vpc, "ssm", [endpoint_subnet], [closed])
    instance = b.instance(private, [b.security_group(vpc)])
    proofs = prove(b, instance)
    assert (proofs["ssm"].status, proofs["ssm"].via) == (BLOCKED, "interface_endpoint")
    assert (proofs["ssmmessages"].status, proofs["ssmmessages"].via) == (REACHABLE,
                                                                         "nat_gateway")


# (vpc options, endpoint private DNS, expected status, via, finding codes, code resource key)
PATH_CASES = [
    pytest.param({}, False, REACHABLE, "nat_gateway", ["ENDPOINT_PRIVATE_DNS_DISABLED"],
                 "endpoint", id="private-dns-disabled-goes-public"),
    pytest.param({"dns_hostnames": False}, True, REACHABLE, "nat_gateway",
                 ["VPC_DNS_HOSTNAMES_DISABLED"], "vpc", id="dns-hostnames-off-goes-public"),
    pytest.param({"dns_support": False}, True, BLOCKED, "none", ["VPC_DNS_SUPPORT_DISABLED"],
                 "vpc", id="dns-support-off-blocks"),
    pytest.param({"dns_servers": ["10.0.0.53"]}, True, UNKNOWN, "none", ["CUSTOM_DNS_SERVERS"],
                 "dopt", id="custom-dns-servers-unknown"),
    pytest.param({"dns_servers": ["AmazonProvidedDNS"]}, True, REACHABLE, "interface_endpoint",
                 [], None, id="dhcp-amazon-provided-dns-normal"),
    pytest.param({"dns_servers": ["169.254.169.253"]}, True, REACHABLE, "interface_endpoint",
                 [], None, id="dhcp-169-254-169-253-normal"),
]


@pytest.mark.parametrize(("vpc_options", "private_dns", "status", "via", "codes", "key"),
                         PATH_CASES)
def test_dns_decides_the_path(vpc_options, private_dns, status, via, codes, key):
    b, vpc, private, endpoint_subnet, open_sg = estate_with_nat(**vpc_options)
    endpoint_id = b.interface_endpoint(vpc, "ssm", [endpoint_subnet], [open_sg],
                                       private_dns=private_dns)
    instance = b.instance(private, [b.security_group(vpc)])
    estate = build_estate(b.raw())
    ids = {"endpoint": endpoint_id, "vpc": vpc, "dopt": estate.vpcs[vpc].dhcp_options_id}
    proof = NetworkProver(EstateGraph(estate)).prove(estate.instances[instance])["ssm"]
    assert (proof.status, proof.via) == (status, via)
    assert [f.code for f in proof.findings] == codes
    if key:
        assert proof.findings[0].resource_id == ids[key]
    assert proof.path[0].step == "dns"


def test_dns_support_off_blocks_every_service():
    b, vpc, private, _, _ = estate_with_nat(dns_support=False)
    instance = b.instance(private, [b.security_group(vpc)])
    for proof in prove(b, instance).values():
        assert proof.status == BLOCKED
        assert [(f.code, f.resource_id) for f in proof.findings] == [
            ("VPC_DNS_SUPPORT_DISABLED", vpc)]
