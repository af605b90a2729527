"""Network ACLs: stateless, rule-number order, first full match wins, implicit deny.

The first half drives ``nacl.decide``/``nacl.evaluate`` on hand-made ACLs; the second proves
whole paths so the ephemeral-port ranges of the return traffic are checked where they apply.
"""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from auditor.analysis import nacl as nacl_eval
from auditor.analysis.graph import EstateGraph
from auditor.analysis.ipspace import PUBLIC
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import ALLOW, BLOCKED, DENY, REACHABLE, UNKNOWN
from auditor.model import Estate, NaclEntry, NetworkAcl
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder

LINUX = (32768, 60999)
WINDOWS = (49152, 65535)
NAT = (1024, 65535)
HTTPS = (443, 443)
ENI = ip_network("10.0.20.10/32")


def entry(number, action, cidr="0.0.0.0/0", ports=None, *, egress=False, protocol=None):
    if protocol is None:
        protocol = "-1" if ports is None else "6"
    return NaclEntry(number, egress, action == "allow", protocol,
                     ip_network(cidr) if cidr else None,
                     ports[0] if ports else None, ports[1] if ports else None)


def acl(*entries: NaclEntry) -> NetworkAcl:
    return NetworkAcl("acl-test", "vpc-1", False, list(entries), ["subnet-1"])


STAR_IN = entry(32767, "deny")
STAR_OUT = entry(32767, "deny", egress=True)

# (entries, egress, peer, ports, decision, deciding rule text, split)
DECIDE_CASES = [
    pytest.param([entry(100, "allow"), STAR_IN], False, PUBLIC, LINUX,
                 ALLOW, "inbound rule 100 allow all traffic 0.0.0.0/0", False,
                 id="allow-all"),
    pytest.param([entry(90, "deny", ports=HTTPS, egress=True),
                  entry(100, "allow", egress=True), STAR_OUT], True, PUBLIC, HTTPS,
                 DENY, "outbound rule 90 deny tcp 443-443 0.0.0.0/0", False,
                 id="lower-numbered-deny-beats-later-allow"),
    pytest.param([entry(90, "allow", ports=HTTPS, egress=True),
                  entry(100, "deny", egress=True), STAR_OUT], True, PUBLIC, HTTPS,
                 ALLOW, "outbound rule 90 allow tcp 443-443 0.0.0.0/0", False,
                 id="lower-numbered-allow-beats-later-deny"),
    pytest.param([STAR_IN], False, PUBLIC, LINUX,
                 DENY, "inbound rule * deny all traffic 0.0.0.0/0", False,
                 id="only-the-star-rule"),
    pytest.param([], False, PUBLIC, LINUX,
                 DENY, "implicit deny (no rule matches)", False,
                 id="implicit-deny-without-star-entry"),
    pytest.param([entry(100, "allow", egress=True)], False, PUBLIC, LINUX,
                 DENY, "implicit deny (no rule matches)", False,
                 id="outbound-rules-do-not-admit-inbound"),
    pytest.param([entry(100, "allow", ports=(1024, 32767)), STAR_IN], False, PUBLIC, LINUX,
                 DENY, "inbound rule * deny all traffic 0.0.0.0/0", False,
                 id="1024-32767-misses-linux-ephemeral"),
    pytest.param([entry(100, "allow", ports=(1024, 65535)), STAR_IN], False, PUBLIC, LINUX,
                 ALLOW, "inbound rule 100 allow tcp 1024-65535 0.0.0.0/0", False,
                 id="1024-65535-covers-linux"),
    pytest.param([entry(100, "allow", ports=(1024, 65535)), STAR_IN], False, PUBLIC, WINDOWS,
                 ALLOW, "inbound rule 100 allow tcp 1024-65535 0.0.0.0/0", False,
                 id="1024-65535-covers-windows"),
    pytest.param([entry(100, "allow", ports=(1024, 65535)), STAR_IN], False, PUBLIC, NAT,
                 ALLOW, "inbound rule 100 allow tcp 1024-65535 0.0.0.0/0", False,
                 id="1024-65535-covers-nat"),
    pytest.param([entry(100, "allow", ports=LINUX), STAR_IN], False, PUBLIC, WINDOWS,
                 DENY, "inbound rule 100 allow tcp 32768-60999 0.0.0.0/0; "
                       "then inbound rule * deny all traffic 0.0.0.0/0", True,
                 id="linux-range-partly-covers-windows-so-blocked"),
    pytest.param([entry(100, "allow", ports=(32768, 65535)), STAR_IN], False, PUBLIC, NAT,
                 DENY, "inbound rule 100 allow tcp 32768-65535 0.0.0.0/0; "
                       "then inbound rule * deny all traffic 0.0.0.0/0", True,
                 id="high-range-partly-covers-nat-so-blocked"),
    pytest.param([entry(50, "deny", ports=(40000, 40010)), entry(100, "allow"), STAR_IN],
                 False, PUBLIC, LINUX,
                 DENY, "inbound rule 50 deny tcp 40000-40010 0.0.0.0/0; "
                       "then inbound rule 100 allow all traffic 0.0.0.0/0", True,
                 id="deny-of-some-ephemeral-ports-blocks"),
    pytest.param([entry(100, "allow", ports=HTTPS, egress=True, protocol="17"), STAR_OUT],
                 True, PUBLIC, HTTPS, DENY, "outbound rule * deny all traffic 0.0.0.0/0", False,
                 id="udp-rule-never-matches-tcp"),
    pytest.param([entry(100, "deny", "10.0.0.0/8", egress=True), entry(200, "allow", egress=True),
                  STAR_OUT], True, PUBLIC, HTTPS,
                 ALLOW, "outbound rule 200 allow all traffic 0.0.0.0/0", False,
                 id="private-deny-does-not-touch-public"),
    pytest.param([entry(100, "deny", "52.0.0.0/8", egress=True), entry(200, "allow", egress=True),
                  STAR_OUT], True, PUBLIC, HTTPS,
                 UNKNOWN, "outbound rule 100 deny all traffic 52.0.0.0/8; "
                          "then outbound rule 200 allow all traffic 0.0.0.0/0", True,
                 id="public-range-deny-makes-public-unknown"),
    pytest.param([entry(100, "allow", "52.0.0.0/8", egress=True), STAR_OUT], True, PUBLIC, HTTPS,
                 UNKNOWN, "outbound rule 100 allow all traffic 52.0.0.0/8; "
                          "then outbound rule * deny all traffic 0.0.0.0/0", True,
                 id="public-range-allow-only-is-unknown"),
    pytest.param([entry(100, "allow", "10.0.0.0/16", ports=HTTPS, egress=True), STAR_OUT],
                 True, ENI, HTTPS, ALLOW, "outbound rule 100 allow tcp 443-443 10.0.0.0/16", False,
                 id="vpc-cidr-admits-endpoint-eni"),
    pytest.param([entry(100, "allow", "10.0.21.0/24", ports=HTTPS, egress=True), STAR_OUT],
                 True, ENI, HTTPS, DENY, "outbound rule * deny all traffic 0.0.0.0/0", False,
                 id="other-subnet-cidr-misses-eni"),
    pytest.param([NaclEntry(100, False, True, "-1", None), STAR_IN], False, PUBLIC, LINUX,
                 DENY, "inbound rule * deny all traffic 0.0.0.0/0", False,
                 id="ipv6-entry-never-matches"),
]


@pytest.mark.parametrize(("entries", "egress", "peer", "ports", "decision", "rule", "split"),
                         DECIDE_CASES)
def test_decide(entries, egress, peer, ports, decision, rule, split):
    assert nacl_eval.decide(acl(*entries), egress, peer, ports) == (decision, rule, split)


def test_entries_listed_out_of_order_still_evaluated_by_rule_number():
    """The API lists entries by rule number, but a model built elsewhere may not."""
    nacl = acl(entry(200, "allow", egress=True), entry(100, "deny", ports=HTTPS, egress=True),
               STAR_OUT)
    decision, rule, _ = nacl_eval.decide(nacl, True, PUBLIC, HTTPS)
    assert (decision, rule) == (DENY, "outbound rule 100 deny tcp 443-443 0.0.0.0/0")


@pytest.mark.parametrize(("entries", "status", "code"), [
    pytest.param([entry(100, "allow", egress=True)], REACHABLE, None, id="allowed-no-finding"),
    pytest.param([STAR_OUT], BLOCKED, "NACL_BLOCKS", id="denied"),
    pytest.param([entry(100, "deny", "52.0.0.0/8", egress=True), entry(200, "allow", egress=True)],
                 UNKNOWN, "DESTINATION_UNCERTAIN", id="split-over-addresses"),
])
def test_evaluate_findings(entries, status, code):
    check = nacl_eval.evaluate(Estate("eu-west-1"), acl(*entries), step="nacl_outbound",
                               subnet_id="subnet-1", egress=True, peer=PUBLIC, ports=HTTPS,
                               service="ssm", purpose="the agent's connection")
    assert check.status == status
    assert check.hop.resource_id == "acl-test"
    if code is None:
        assert check.finding is None
    else:
        assert (check.finding.code, check.finding.resource_id) == (code, "acl-test")


def test_evaluate_without_acl_is_unknown_data_unavailable():
    estate = Estate("eu-west-1", unavailable={"network_acls": "AccessDenied: no"})
    check = nacl_eval.evaluate(estate, None, step="nacl_outbound", subnet_id="subnet-1",
                               egress=True, peer=PUBLIC, ports=HTTPS, service="ssm",
                               purpose="x")
    assert check.status == UNKNOWN
    assert (check.finding.code, check.finding.resource_id) == ("DATA_UNAVAILABLE", "subnet-1")
    assert "AccessDenied" in check.finding.message


# --- whole paths ----------------------------------------------------------------------------


def prove(builder: EstateBuilder, instance_id: str):
    estate = build_estate(builder.raw())
    return NetworkProver(EstateGraph(estate)).prove(estate.instances[instance_id])


def igw_estate(inbound_ports, platform=None):
    """A public instance whose subnet ACL admits 443 out and ``inbound_ports`` back in."""
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.0.0/24")
    b.route_table(vpc, [subnet], [("0.0.0.0/0", b.internet_gateway(vpc))])
    nacl = b.network_acl(vpc, [subnet], [(100, True, "allow", "6", "0.0.0.0/0", (443, 443)),
                                         (100, False, "allow", "6", "0.0.0.0/0", inbound_ports)])
    instance = b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.1",
                          platform=platform)
    return b, instance, {"nacl": nacl, "nacl_rule": "inbound rule 100"}


def nat_estate(nat_inbound_ports):
    """A private instance behind a NAT whose subnet ACL admits ``nat_inbound_ports`` back in."""
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24")
    private = b.subnet(vpc, "10.0.10.0/24")
    b.route_table(vpc, [public], [("0.0.0.0/0", b.internet_gateway(vpc))])
    nat = b.nat_gateway(public)
    b.route_table(vpc, [private], [("0.0.0.0/0", nat)])
    nacl = b.network_acl(vpc, [public], [
        (100, True, "allow", "-1", "0.0.0.0/0", None),
        (100, False, "allow", "6", "10.0.0.0/16", (443, 443)),
        (110, False, "allow", "6", "0.0.0.0/0", nat_inbound_ports)])
    instance = b.instance(private, [b.security_group(vpc)])
    return b, instance, {"nacl": nacl}


# (estate factory, args, status, step of the deciding hop, finding code)
PATH_CASES = [
    pytest.param(igw_estate, ((32768, 60999),), REACHABLE, None, None,
                 id="linux-replies-on-32768-60999"),
    pytest.param(igw_estate, ((1024, 32767),), BLOCKED, "nacl_inbound_return", "NACL_BLOCKS",
                 id="inbound-1024-32767-blocks-linux-replies"),
    pytest.param(igw_estate, ((1024, 32767), "windows"), BLOCKED, "nacl_inbound_return",
                 "NACL_BLOCKS", id="inbound-1024-32767-blocks-windows-replies"),
    pytest.param(igw_estate, ((32768, 60999), "windows"), BLOCKED, "nacl_inbound_return",
                 "NACL_BLOCKS", id="linux-range-partly-covers-windows-replies"),
    pytest.param(igw_estate, ((49152, 65535), "windows"), REACHABLE, None, None,
                 id="windows-replies-on-49152-65535"),
    pytest.param(igw_estate, ((49152, 65535),), BLOCKED, "nacl_inbound_return", "NACL_BLOCKS",
                 id="windows-range-partly-covers-linux-replies"),
    pytest.param(nat_estate, ((1024, 65535),), REACHABLE, None, None,
                 id="nat-subnet-admits-1024-65535"),
    pytest.param(nat_estate, ((32768, 65535),), BLOCKED, "nat_internet_nacl_inbound_return",
                 "NACL_BLOCKS", id="nat-subnet-admitting-32768-up-blocks-nat-replies"),
]


@pytest.mark.parametrize(("factory", "args", "status", "step", "code"), PATH_CASES)
def test_return_traffic_ports(factory, args, status, step, code):
    builder, instance, ids = factory(*args)
    proofs = prove(builder, instance)
    for service, proof in proofs.items():
        assert proof.status == status, service
        if code is None:
            assert proof.findings == []
            continue
        denied = [hop for hop in proof.path if hop.decision == DENY]
        assert [(hop.step, hop.resource_id) for hop in denied] == [(step, ids["nacl"])]
        assert [(f.code, f.resource_id) for f in proof.findings] == [(code, ids["nacl"])]


def test_nat_subnet_acl_checks_agent_side_both_ways():
    """Inside the VPC the NAT subnet's ACL sees the agent's address: in on 443, out on the
    agent's ephemeral ports. Denying the latter blocks."""
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24")
    private = b.subnet(vpc, "10.0.10.0/24")
    b.route_table(vpc, [public], [("0.0.0.0/0", b.internet_gateway(vpc))])
    nat = b.nat_gateway(public)
    b.route_table(vpc, [private], [("0.0.0.0/0", nat)])
    nacl = b.network_acl(vpc, [public], [
        (90, True, "deny", "6", "10.0.10.0/24", (32768, 60999)),
        (100, True, "allow", "-1", "0.0.0.0/0", None),
        (100, False, "allow", "-1", "0.0.0.0/0", None)])
    instance = b.instance(private, [b.security_group(vpc)])
    proof = prove(b, instance)["ssm"]
    assert proof.status == BLOCKED
    denied = [hop for hop in proof.path if hop.decision == DENY]
    assert [(h.step, h.resource_id, h.rule) for h in denied] == [
        ("nat_nacl_outbound_return", nacl, "outbound rule 90 deny tcp 32768-60999 10.0.10.0/24")]


def test_traffic_within_one_subnet_crosses_no_acl():
    """The endpoint ENI sits in the instance's own subnet, whose ACL denies everything."""
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.20.0/24")
    b.route_table(vpc, [subnet])
    b.network_acl(vpc, [subnet], [])  # only the * deny rules
    endpoint_sg = b.security_group(vpc, ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    for service in ("ssm", "ssmmessages", "ec2messages"):
        b.interface_endpoint(vpc, service, [subnet], [endpoint_sg])
    instance = b.instance(subnet, [b.security_group(vpc)])
    for proof in prove(b, instance).values():
        assert proof.status == REACHABLE
        assert proof.via == "interface_endpoint"
        assert not [hop for hop in proof.path if "nacl" in hop.step]
