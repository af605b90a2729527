"""Semantics an independent evaluator, written from AWS documentation alone, found wrong (issue
16): one test per corrected mechanism, each failing on the code before the correction.

- A VPC with no DHCP option set: Xen-based instance types get no DNS server.
- Every path is proved in both directions: the reply leaves by the far side's route table.
- A trust policy's ``{"AWS": "*"}`` is no proof that EC2 (or Systems Manager) is trusted.
- Network ACLs are decided over address and port intervals, not rule by rule.
- ``ec2messages:GetEndpoint`` is not required: the agent never calls it.
- Cases left unknown that the data decides: NAT loops, partial routes and rules over the public
  space, an undecided condition on a credential path whose every branch ends alike.
"""

from __future__ import annotations

import gzip
import json
from ipaddress import ip_network
from pathlib import Path

import moto
import pytest

from auditor import aws_facts
from auditor.analysis import nacl as nacl_eval
from auditor.analysis.graph import EstateGraph
from auditor.analysis.ipspace import PUBLIC, Addresses, network_interval
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import ALLOW, BLOCKED, DENY, REACHABLE, UNKNOWN
from auditor.audit import run_audit
from auditor.model import NaclEntry, NetworkAcl
from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder

SERVICES = ("ssm", "ssmmessages", "ec2messages")
APPLIANCE = "eni-0appliance00000000"
NAT_REPLY_PORTS = aws_facts.NAT_GATEWAY_EPHEMERAL_PORTS


def prove(builder: EstateBuilder, instance_id: str):
    estate = build_estate(builder.raw())
    return NetworkProver(EstateGraph(estate)).prove(estate.instances[instance_id])


def audit(builder: EstateBuilder, instance_id: str):
    report = run_audit([build_estate(builder.raw())], [instance_id],
                       SourceDescription("snapshot"))
    return report.instances[0]


def codes(proof) -> list[str]:
    return [finding.code for finding in proof.findings]


def endpoints_vpc(b: EstateBuilder, **vpc_options):
    """10.0.0.0/16 with interface endpoints (private DNS) for the three services in their own
    subnet, and an app subnet: no way to the internet."""
    vpc = b.vpc("10.0.0.0/16", **vpc_options)
    app = b.subnet(vpc, "10.0.10.0/24", "a")
    endpoints = b.subnet(vpc, "10.0.20.0/24", "b")
    app_table = b.route_table(vpc, [app])
    endpoint_table = b.route_table(vpc, [endpoints])
    endpoint_sg = b.security_group(vpc, "endpoints", ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    for service in SERVICES:
        b.interface_endpoint(vpc, service, [endpoints], [endpoint_sg])
    return {"vpc": vpc, "app": app, "endpoints": endpoints, "app_table": app_table,
            "endpoint_table": endpoint_table}


def nat_vpc(b: EstateBuilder, nat_routes=None, app_routes=None):
    """A public subnet with an internet gateway and a NAT gateway; an app subnet behind it."""
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24", "a")
    app = b.subnet(vpc, "10.0.10.0/24", "a")
    igw = b.internet_gateway(vpc)
    nat_table = b.route_table(vpc, [public])
    nat = b.nat_gateway(public)
    for destination, target in nat_routes if nat_routes is not None else [("0.0.0.0/0", "IGW")]:
        b.add_route(nat_table, destination, {"IGW": igw, "NAT": nat}.get(target, target))
    app_table = b.route_table(vpc, [app])
    for destination, target in app_routes if app_routes is not None else [("0.0.0.0/0", "NAT")]:
        b.add_route(app_table, destination, {"IGW": igw, "NAT": nat}.get(target, target))
    return {"vpc": vpc, "public": public, "app": app, "igw": igw, "nat": nat,
            "nat_table": nat_table, "app_table": app_table}


# --- A VPC with no DHCP option set -----------------------------------------------------------


@pytest.mark.parametrize(("instance_type", "dhcp_options", "status", "expected"), [
    pytest.param("t2.micro", False, BLOCKED, ["NO_DNS_SERVER"], id="xen-gets-no-dns-server"),
    pytest.param("m4.large", False, BLOCKED, ["NO_DNS_SERVER"], id="xen-m4"),
    pytest.param("zz9.mega", False, UNKNOWN, ["NO_DNS_SERVER"], id="unknown-type-is-unknown"),
    pytest.param("", False, UNKNOWN, ["NO_DNS_SERVER"], id="type-not-in-the-data"),
    pytest.param("m5.large", False, REACHABLE, [], id="nitro-keeps-the-amazon-resolver"),
    pytest.param("i3.metal", False, REACHABLE, [], id="bare-metal-is-nitro"),
    pytest.param("t2.micro", True, REACHABLE, [], id="xen-with-a-dhcp-option-set"),
])
def test_no_dhcp_option_set_depends_on_the_hypervisor(instance_type, dhcp_options, status,
                                                      expected):
    b = EstateBuilder()
    ids = endpoints_vpc(b, no_dhcp_options=not dhcp_options)
    instance = b.instance(ids["app"], [b.security_group(ids["vpc"])],
                          instance_type=instance_type)
    for proof in prove(b, instance).values():
        assert proof.status == status
        assert codes(proof) == expected
        if expected:
            assert proof.findings[0].resource_id == ids["vpc"]
            assert proof.findings[0].severity == ("error" if status == BLOCKED else "warning")


@pytest.mark.parametrize(("instance_type", "hypervisor"), [
    ("t2.micro", aws_facts.XEN), ("i3.large", aws_facts.XEN), ("c4.8xlarge", aws_facts.XEN),
    ("m1.small", aws_facts.XEN), ("i3.metal", aws_facts.NITRO), ("i3en.large", aws_facts.NITRO),
    ("t3.micro", aws_facts.NITRO), ("c7i-flex.large", aws_facts.NITRO),
    ("u-6tb1.metal", aws_facts.NITRO), ("planned", aws_facts.UNKNOWN_HYPERVISOR),
    ("", aws_facts.UNKNOWN_HYPERVISOR), ("zz9.mega", aws_facts.UNKNOWN_HYPERVISOR),
])
def test_instance_type_hypervisor(instance_type, hypervisor):
    assert aws_facts.hypervisor(instance_type) == hypervisor


def test_hypervisor_table_agrees_with_describe_instance_types():
    """moto ships a capture of ec2:DescribeInstanceTypes: its Hypervisor field ("nitro",
    "xen", absent for bare metal) must give the table's answer for every type in it."""
    path = Path(moto.__file__).parent / "ec2" / "resources" / "instance_types.json.gz"
    captured = json.loads(gzip.decompress(path.read_bytes()))
    disagreeing = {name: (answer.get("Hypervisor"), aws_facts.hypervisor(name))
                   for name, answer in captured.items()
                   if aws_facts.hypervisor(name) != (answer.get("Hypervisor") or aws_facts.NITRO)}
    assert len(captured) > 500
    assert disagreeing == {}


# --- Both directions --------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "status", "code"), [
    pytest.param(APPLIANCE, UNKNOWN, "ASYMMETRIC_RETURN_ROUTE", id="replies-through-appliance"),
    pytest.param("vpce-0firewall000000000", UNKNOWN, "ASYMMETRIC_RETURN_ROUTE",
                 id="replies-through-firewall-endpoint"),
    pytest.param("blackhole:eni-0gone000000000000", BLOCKED, "BLACKHOLE_ROUTE",
                 id="replies-to-a-blackhole"),
])
def test_endpoint_replies_leave_by_the_endpoint_subnets_table(target, status, code):
    """The request goes by ``local``; the endpoint subnet's table sends the instance's subnet
    elsewhere by a more specific route: the path is not symmetric."""
    b = EstateBuilder()
    ids = endpoints_vpc(b)
    b.add_route(ids["endpoint_table"], "10.0.10.0/24", target)
    instance = b.instance(ids["app"], [b.security_group(ids["vpc"])])
    for proof in prove(b, instance).values():
        assert (proof.status, proof.via) == (status, "interface_endpoint")
        assert [(f.code, f.resource_id) for f in proof.findings] == [
            (code, ids["endpoint_table"])]
        assert [hop.step for hop in proof.path if hop.resource_id == ids["endpoint_table"]] == [
            "endpoint_return_route"]


def test_nat_replies_leave_by_the_nat_subnets_table():
    b = EstateBuilder()
    ids = nat_vpc(b, nat_routes=[("0.0.0.0/0", "IGW"), ("10.0.10.0/24", APPLIANCE)])
    instance = b.instance(ids["app"], [b.security_group(ids["vpc"])])
    for proof in prove(b, instance).values():
        assert (proof.status, proof.via) == (UNKNOWN, "nat_gateway")
        assert [(f.code, f.resource_id) for f in proof.findings] == [
            ("ASYMMETRIC_RETURN_ROUTE", ids["nat_table"])]
        assert APPLIANCE in proof.findings[0].message


def test_internet_replies_leave_by_the_gateways_ingress_route_table():
    """Ingress routing: the internet gateway's edge table sends the subnet through an
    appliance the requests never crossed."""
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [subnet], [("0.0.0.0/0", igw)])
    edge = b.route_table(vpc, gateways=[igw], routes=[("10.0.1.0/24", APPLIANCE)])
    instance = b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.7")
    for proof in prove(b, instance).values():
        assert (proof.status, proof.via) == (UNKNOWN, "internet_gateway")
        assert [(f.code, f.resource_id) for f in proof.findings] == [
            ("ASYMMETRIC_RETURN_ROUTE", edge)]


def test_an_ingress_route_table_that_returns_locally_proves_the_path():
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [subnet], [("0.0.0.0/0", igw)])
    edge = b.route_table(vpc, gateways=[igw])  # the local route only
    instance = b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.7")
    proof = prove(b, instance)["ssm"]
    assert proof.status == REACHABLE
    assert [(h.step, h.resource_id, h.decision) for h in proof.path
            if h.step == "igw_return_route"] == [("igw_return_route", edge, ALLOW)]


def test_a_return_route_for_half_the_subnet_is_decided_per_instance():
    b = EstateBuilder()
    ids = endpoints_vpc(b)
    b.add_route(ids["endpoint_table"], "10.0.10.128/25", APPLIANCE)
    group = b.security_group(ids["vpc"])
    low = b.instance(ids["app"], [group], private_ip="10.0.10.20")
    high = b.instance(ids["app"], [group], private_ip="10.0.10.200")
    assert prove(b, low)["ssm"].status == REACHABLE
    high_proof = prove(b, high)["ssm"]
    assert high_proof.status == UNKNOWN
    assert codes(high_proof) == ["ASYMMETRIC_RETURN_ROUTE"]


# --- Trust policies ---------------------------------------------------------------------------


@pytest.mark.parametrize(("principal", "verdict", "credentials"), [
    pytest.param({"AWS": "*"}, "unknown", "unknown", id="aws-star-is-no-proof"),
    pytest.param("*", "manageable", "ok", id="everyone-includes-ec2"),
    pytest.param({"Service": "ec2.amazonaws.com"}, "manageable", "ok", id="ec2-service"),
])
def test_trust_policy_principal(principal, verdict, credentials):
    b = EstateBuilder()
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.route_table(vpc, [subnet], [("0.0.0.0/0", b.internet_gateway(vpc))])
    b.role("agent", trust={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]},
        attached=["AmazonSSMManagedInstanceCore"])
    b.instance_profile("agent", ["agent"])
    instance = b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.7",
                          instance_profile="agent")
    result = audit(b, instance)
    assert (result.verdict, result.credentials.status) == (verdict, credentials)
    if verdict == "unknown":
        assert "CONDITION_NOT_EVALUATED" in {f.code for f in result.findings}


# --- Network ACLs over intervals -------------------------------------------------------------


def entry(number, action, cidr="0.0.0.0/0", ports=None, *, egress=False):
    return NaclEntry(number, egress, action == "allow", "-1" if ports is None else "6",
                     ip_network(cidr), *(ports or (None, None)))


@pytest.mark.parametrize(("entries", "peer", "ports", "decision"), [
    pytest.param([entry(100, "allow", ports=(1024, 32767)),
                  entry(110, "allow", ports=(32768, 65535))], PUBLIC, NAT_REPLY_PORTS, ALLOW,
                 id="adjacent-allows-compose"),
    pytest.param([entry(100, "allow", ports=(1024, 40000)),
                  entry(110, "allow", ports=(30000, 65535))], PUBLIC, NAT_REPLY_PORTS, ALLOW,
                 id="overlapping-allows-compose"),
    pytest.param([entry(100, "allow", ports=(1024, 32767)),
                  entry(110, "allow", ports=(32769, 65535))], PUBLIC, NAT_REPLY_PORTS, DENY,
                 id="a-one-port-gap-still-blocks"),
    pytest.param([entry(100, "deny", "0.0.0.0/1"), entry(110, "deny", "128.0.0.0/1"),
                  entry(120, "allow")], PUBLIC, (32768, 60999), DENY,
                 id="two-halves-denied-deny-everything"),
    pytest.param([entry(100, "allow", "0.0.0.0/1"), entry(110, "allow", "128.0.0.0/1")],
                 PUBLIC, (32768, 60999), ALLOW, id="two-halves-allowed-allow-everything"),
    pytest.param([entry(100, "deny", "52.0.0.0/8"), entry(110, "allow")],
                 Addresses((network_interval(ip_network("52.0.0.0/8")),)), (443, 443), DENY,
                 id="a-deny-blocks-what-it-covers"),
    pytest.param([entry(100, "deny", "52.0.0.0/8"), entry(110, "allow")],
                 Addresses((network_interval(ip_network("53.0.0.0/8")),)), (443, 443), ALLOW,
                 id="and-only-that"),
])
def test_nacl_rules_compose_over_intervals(entries, peer, ports, decision):
    nacl = NetworkAcl("acl-1", "vpc-1", False, entries, ["subnet-1"])
    assert nacl_eval.decide(nacl, False, peer, ports)[0] == decision


def test_adjacent_allows_admit_the_nat_gateways_replies():
    """Rules 100 (1024-32767) and 110 (32768-65535) together admit the NAT's replies."""
    b = EstateBuilder()
    ids = nat_vpc(b)
    b.network_acl(ids["vpc"], [ids["public"]], [
        (100, True, "allow", "-1", "0.0.0.0/0", None),
        (90, False, "allow", "6", "10.0.0.0/16", (443, 443)),
        (100, False, "allow", "6", "0.0.0.0/0", (1024, 32767)),
        (110, False, "allow", "6", "0.0.0.0/0", (32768, 65535)),
    ])
    instance = b.instance(ids["app"], [b.security_group(ids["vpc"])])
    for proof in prove(b, instance).values():
        assert proof.status == REACHABLE, proof.findings
        hop = next(h for h in proof.path if h.step == "nat_internet_nacl_inbound_return")
        assert "rule 100" in hop.rule and "rule 110" in hop.rule


# --- ec2messages:GetEndpoint ------------------------------------------------------------------


def test_get_endpoint_is_not_required():
    """An agent older than 3.3.40.0 uses ec2messages only: the five calls of its message
    client are enough."""
    b = EstateBuilder()
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.route_table(vpc, [subnet], [("0.0.0.0/0", b.internet_gateway(vpc))])
    b.role("agent", inline={"agent": {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Resource": "*",
        "Action": [*aws_facts.HEARTBEAT_ACTIONS, "ec2messages:GetMessages",
                   "ec2messages:AcknowledgeMessage", "ec2messages:SendReply",
                   "ec2messages:FailMessage", "ec2messages:DeleteMessage"]}]}})
    b.instance_profile("agent", ["agent"])
    instance = b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.7",
                          instance_profile="agent")
    b.managed_node(instance, agent_version="3.2.923.0", is_latest=False)
    result = audit(b, instance)
    assert result.permissions.status == "ok"
    assert result.permissions.by_service["ec2messages"] == "ok"
    assert result.verdict == "manageable"


def test_every_required_action_names_where_the_agent_calls_it():
    required = {*aws_facts.HEARTBEAT_ACTIONS, *aws_facts.SESSION_MANAGER_ACTIONS,
                *(a for actions in aws_facts.CHANNEL_ACTIONS.values() for a in actions)}
    assert required == set(aws_facts.AGENT_ACTION_SOURCES)
    assert all(source.startswith("agent/") for source in aws_facts.AGENT_ACTION_SOURCES.values())
    assert "ec2messages:GetEndpoint" not in required
    assert "ec2messages:GetEndpoint" in aws_facts.RECOMMENDED_NOT_REQUIRED_ACTIONS


# --- Decidable cases that were left unknown ---------------------------------------------------


@pytest.mark.parametrize(("nat_routes", "status", "code"), [
    pytest.param([("0.0.0.0/0", "NAT")], BLOCKED, "NAT_GATEWAY_NO_INTERNET_ROUTE",
                 id="nat-routes-to-itself"),
    pytest.param([("0.0.0.0/1", "blackhole:igw-0gone000000000000"),
                  ("128.0.0.0/1", "blackhole:igw-0gone000000000000")], BLOCKED,
                 "NAT_GATEWAY_NO_INTERNET_ROUTE", id="nat-halves-to-a-blackhole"),
])
def test_nat_gateway_without_a_way_out_is_blocked(nat_routes, status, code):
    b = EstateBuilder()
    ids = nat_vpc(b, nat_routes=nat_routes)
    instance = b.instance(ids["app"], [b.security_group(ids["vpc"])])
    for proof in prove(b, instance).values():
        assert proof.status == status
        assert {(f.code, f.resource_id) for f in proof.findings} == {(code, ids["nat"])}


@pytest.mark.parametrize(("second_routes", "status", "code"), [
    pytest.param("loop", BLOCKED, "NAT_GATEWAY_NO_INTERNET_ROUTE", id="two-nats-in-a-loop"),
    pytest.param([], BLOCKED, "NAT_GATEWAY_NO_INTERNET_ROUTE", id="chain-ends-nowhere"),
    pytest.param([("0.0.0.0/0", "IGW")], UNKNOWN, "UNMODELED_HOP", id="chain-ends-at-igw"),
])
def test_chain_of_nat_gateways(second_routes, status, code):
    b = EstateBuilder()
    ids = nat_vpc(b, nat_routes=[])
    second_subnet = b.subnet(ids["vpc"], "10.0.1.0/24", "b")
    second_table = b.route_table(ids["vpc"], [second_subnet])
    second = b.nat_gateway(second_subnet)
    b.add_route(ids["nat_table"], "0.0.0.0/0", second)
    if second_routes == "loop":
        b.add_route(second_table, "0.0.0.0/0", ids["nat"])
    else:
        for destination, target in second_routes:
            b.add_route(second_table, destination, ids["igw"] if target == "IGW" else target)
    instance = b.instance(ids["app"], [b.security_group(ids["vpc"])])
    for proof in prove(b, instance).values():
        assert proof.status == status
        assert [f.code for f in proof.findings] == [code]


def test_two_halves_of_the_public_space_to_a_blackhole_block():
    b = EstateBuilder()
    ids = nat_vpc(b, app_routes=[("0.0.0.0/1", "blackhole:nat-0gone000000000000"),
                                 ("128.0.0.0/1", "blackhole:nat-0gone000000000000")])
    instance = b.instance(ids["app"], [b.security_group(ids["vpc"])])
    for proof in prove(b, instance).values():
        assert proof.status == BLOCKED
        assert set(codes(proof)) == {"BLACKHOLE_ROUTE"}


def test_half_to_an_internet_gateway_and_half_to_a_working_nat_is_reachable():
    b = EstateBuilder()
    ids = nat_vpc(b, app_routes=[("0.0.0.0/1", "IGW"), ("128.0.0.0/1", "NAT")])
    instance = b.instance(ids["app"], [b.security_group(ids["vpc"])], public_ip="198.51.100.7")
    for proof in prove(b, instance).values():
        assert (proof.status, proof.via) == (REACHABLE, "internet_gateway+nat_gateway")
        assert proof.findings == []


def test_an_egress_allow_on_one_prefix_that_the_nat_subnets_acl_denies_is_blocked():
    b = EstateBuilder()
    ids = nat_vpc(b)
    b.network_acl(ids["vpc"], [ids["public"]], [
        (90, True, "deny", "-1", "52.0.0.0/8", None),
        (100, True, "allow", "-1", "0.0.0.0/0", None),
        (100, False, "allow", "-1", "0.0.0.0/0", None)])
    only_52 = b.security_group(ids["vpc"], egress=[("tcp", 443, 443, "52.0.0.0/8")])
    instance = b.instance(ids["app"], [only_52])
    for proof in prove(b, instance).values():
        assert proof.status == BLOCKED
        assert set(codes(proof)) == {"SG_EGRESS_BLOCKS", "NACL_BLOCKS"}


def test_the_same_partial_allow_without_the_deny_stays_unknown():
    b = EstateBuilder()
    ids = nat_vpc(b)
    only_52 = b.security_group(ids["vpc"], egress=[("tcp", 443, 443, "52.0.0.0/8")])
    proof = prove(b, b.instance(ids["app"], [only_52]))["ssm"]
    assert proof.status == UNKNOWN
    assert codes(proof)[0] == "DESTINATION_UNCERTAIN"


UNDECIDABLE_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}


def credential_estate(*, trust, profile_policies, dhmc_trust=None, tokens="required"):
    b = EstateBuilder()
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.route_table(vpc, [subnet], [("0.0.0.0/0", b.internet_gateway(vpc))])
    profile = None
    if trust is not None:
        b.role("agent", trust=trust, attached=profile_policies)
        profile = b.instance_profile("agent", ["agent"]) and "agent"
    b.role("dhmc", path="/service-role/", attached=["AmazonSSMManagedEC2InstanceDefaultPolicy"],
           trust=dhmc_trust or {"Version": "2012-10-17", "Statement": [{
               "Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"},
               "Action": "sts:AssumeRole"}]})
    b.dhmc_setting("service-role/dhmc")
    instance = b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.7",
                          instance_profile=profile, http_tokens=tokens)
    return b, instance


def test_undecided_trust_when_every_branch_falls_back_to_the_same_dhmc():
    """The profile's role may or may not trust EC2, but it may not call the heartbeat either
    way: the agent ends on Default Host Management, which works."""
    b, instance = credential_estate(trust=UNDECIDABLE_TRUST, profile_policies=[])
    result = audit(b, instance)
    assert (result.verdict, result.credentials.status, result.credentials.source) == (
        "manageable", "ok", "dhmc")
    undecided = [f for f in result.findings if f.code == "CONDITION_NOT_EVALUATED"]
    assert undecided and all(f.severity == "info" for f in undecided)


def test_undecided_trust_when_the_branches_differ_stays_unknown():
    b, instance = credential_estate(trust=UNDECIDABLE_TRUST,
                                    profile_policies=["AmazonSSMManagedInstanceCore"],
                                    tokens="optional")  # DHMC cannot rescue an IMDSv1 instance
    assert audit(b, instance).verdict == "unknown"


def test_undecided_dhmc_trust_on_an_instance_dhmc_cannot_serve_is_decided():
    """No profile; the DHMC role's trust is undecided, but the instance allows IMDSv1, which
    Default Host Management refuses whichever way the trust goes."""
    ssm_trust = json.loads(json.dumps(UNDECIDABLE_TRUST).replace("ec2.amazonaws.com",
                                                                  "ssm.amazonaws.com"))
    b, instance = credential_estate(trust=None, profile_policies=[], dhmc_trust=ssm_trust,
                                    tokens="optional")
    result = audit(b, instance)
    assert (result.verdict, result.credentials.status) == ("not_manageable", "fail")
    assert "DHMC_REQUIRES_IMDSV2" in {f.code for f in result.findings}
