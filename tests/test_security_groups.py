"""Security group evaluation: the union of a set of groups' rules admits TCP 443 or not."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from auditor.analysis import security_groups as sg_eval
from auditor.analysis.ipspace import PUBLIC
from auditor.analysis.results import ALLOW, DENY, REACHABLE, UNKNOWN
from auditor.model import Estate, PortRange, PrefixList, SecurityGroup, SecurityGroupRule

VPC = "vpc-1"
INSTANCE_SG = "sg-instance"
SECOND_SG = "sg-second"
ENDPOINT_SG = "sg-endpoint"
OTHER_SG = "sg-other"
PL_KNOWN_VPC = "pl-known-vpc"
PL_KNOWN_PRIVATE = "pl-known-private"
PL_KNOWN_WORLD = "pl-known-world"
PL_UNKNOWN = "pl-unknown-entries"
ENI = ip_network("10.0.20.10/32")
ENDPOINT_SUBNET = ip_network("10.0.20.0/24")


def rule(direction: str, protocol: str, ports: tuple[int, int], peer: str) -> SecurityGroupRule:
    port_range = PortRange(protocol, *ports)
    if peer.startswith("sg-"):
        return SecurityGroupRule(direction, port_range, group_id=peer)
    if peer.startswith("pl-"):
        return SecurityGroupRule(direction, port_range, prefix_list_id=peer)
    if ":" in peer:
        return SecurityGroupRule(direction, port_range, ipv6_cidr=peer)
    return SecurityGroupRule(direction, port_range, cidr=ip_network(peer))


def egress(protocol: str, ports: tuple[int, int], peer: str) -> SecurityGroupRule:
    return rule("egress", protocol, ports, peer)


def ingress(protocol: str, ports: tuple[int, int], peer: str) -> SecurityGroupRule:
    return rule("ingress", protocol, ports, peer)


ALL = ("-1", (0, 65535))
HTTPS = ("tcp", (443, 443))


def estate_with(groups: dict[str, list[SecurityGroupRule]]) -> Estate:
    estate = Estate(region="eu-west-1")
    for group_id, rules in groups.items():
        estate.security_groups[group_id] = SecurityGroup(
            group_id, VPC, ingress=[r for r in rules if r.direction == "ingress"],
            egress=[r for r in rules if r.direction == "egress"])
    estate.prefix_lists = {
        PL_KNOWN_VPC: PrefixList(PL_KNOWN_VPC, cidrs=[ip_network("10.0.0.0/16")]),
        PL_KNOWN_PRIVATE: PrefixList(PL_KNOWN_PRIVATE, cidrs=[ip_network("192.168.0.0/16")]),
        PL_KNOWN_WORLD: PrefixList(PL_KNOWN_WORLD, cidrs=[ip_network("0.0.0.0/1"),
                                                          ip_network("128.0.0.0/1")]),
        PL_UNKNOWN: PrefixList(PL_UNKNOWN, cidrs=None),
    }
    return estate


def run_egress(groups, peer, *, group_ids=(INSTANCE_SG,), peer_group_ids=(), port=443):
    return sg_eval.evaluate(
        estate_with(groups), step="sg_egress", direction="egress", group_ids=group_ids,
        peer=peer, peer_group_ids=peer_group_ids, port=port, service="ssm",
        finding_code="SG_EGRESS_BLOCKS", owner="instance i-1")


# (groups, peer, peer groups, expected decision, expected hop resource, expected finding code)
EGRESS_CASES = [
    pytest.param({INSTANCE_SG: [egress(*ALL, "0.0.0.0/0")]}, PUBLIC, (),
                 ALLOW, INSTANCE_SG, None, id="default-allow-all-admits-public"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "0.0.0.0/0")]}, PUBLIC, (),
                 ALLOW, INSTANCE_SG, None, id="https-to-anywhere-admits-public"),
    pytest.param({INSTANCE_SG: [egress("tcp", (5432, 5432), "10.0.0.0/16")]}, PUBLIC, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS",
                 id="custom-egress-rule-removes-default-allow-all"),
    pytest.param({INSTANCE_SG: []}, PUBLIC, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="no-egress-rules-at-all"),
    pytest.param({INSTANCE_SG: [egress("udp", (0, 65535), "0.0.0.0/0")]}, PUBLIC, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="udp-only-does-not-admit-tcp"),
    pytest.param({INSTANCE_SG: [egress("tcp", (80, 80), "0.0.0.0/0")]}, PUBLIC, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="port-80-only"),
    pytest.param({INSTANCE_SG: [egress("-1", (0, 65535), "::/0")]}, PUBLIC, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="ipv6-rule-never-admits-ipv4"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "0.0.0.0/1"), egress(*HTTPS, "128.0.0.0/1")]},
                 PUBLIC, (), ALLOW, INSTANCE_SG, None, id="two-half-spaces-together-admit"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "0.0.0.0/1")],
                  SECOND_SG: [egress(*HTTPS, "128.0.0.0/1")]},
                 PUBLIC, (), ALLOW, f"{INSTANCE_SG},{SECOND_SG}", None,
                 id="half-spaces-in-two-groups-together-admit"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "0.0.0.0/1")]}, PUBLIC, (),
                 UNKNOWN, INSTANCE_SG, "DESTINATION_UNCERTAIN", id="one-half-space-uncertain"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "52.94.0.0/16")]}, PUBLIC, (),
                 UNKNOWN, INSTANCE_SG, "DESTINATION_UNCERTAIN",
                 id="specific-public-range-uncertain"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "10.0.0.0/8")]}, PUBLIC, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="private-range-never-public"),
    pytest.param({INSTANCE_SG: [egress("tcp", (0, 65535), "0.0.0.0/0")],
                  SECOND_SG: []}, PUBLIC, (),
                 ALLOW, INSTANCE_SG, None, id="any-group-of-the-set-admits"),
    # prefix lists
    pytest.param({INSTANCE_SG: [egress(*HTTPS, PL_UNKNOWN)]}, PUBLIC, (),
                 UNKNOWN, INSTANCE_SG, "DESTINATION_UNCERTAIN",
                 id="prefix-list-unknown-entries-public-uncertain"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, PL_KNOWN_WORLD)]}, PUBLIC, (),
                 ALLOW, INSTANCE_SG, None, id="prefix-list-known-world-admits-public"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, PL_KNOWN_PRIVATE)]}, PUBLIC, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS",
                 id="prefix-list-known-private-denies-public"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "pl-not-in-data")]}, PUBLIC, (),
                 UNKNOWN, INSTANCE_SG, "DESTINATION_UNCERTAIN",
                 id="prefix-list-missing-from-data-uncertain"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, PL_KNOWN_VPC)]}, ENI, (),
                 ALLOW, INSTANCE_SG, None, id="prefix-list-known-holds-endpoint-eni"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, PL_KNOWN_PRIVATE)]}, ENI, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="prefix-list-known-misses-eni"),
    # concrete peers: endpoint ENIs
    pytest.param({INSTANCE_SG: [egress(*HTTPS, ENDPOINT_SG)]}, ENI, (ENDPOINT_SG,),
                 ALLOW, INSTANCE_SG, None, id="egress-naming-endpoint-sg-admits"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, OTHER_SG)]}, ENI, (ENDPOINT_SG,),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="egress-naming-other-sg-denies"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, ENDPOINT_SG)]}, PUBLIC, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="sg-reference-never-admits-public"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "10.0.0.0/16")]}, ENI, (),
                 ALLOW, INSTANCE_SG, None, id="vpc-cidr-admits-eni"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "10.0.21.0/24")]}, ENI, (),
                 DENY, INSTANCE_SG, "SG_EGRESS_BLOCKS", id="other-subnet-cidr-denies-eni"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "10.0.20.0/25"),
                                egress(*HTTPS, "10.0.20.128/25")]}, ENDPOINT_SUBNET, (),
                 ALLOW, INSTANCE_SG, None, id="halves-together-cover-endpoint-subnet"),
    pytest.param({INSTANCE_SG: [egress(*HTTPS, "10.0.20.0/25")]}, ENDPOINT_SUBNET, (),
                 UNKNOWN, INSTANCE_SG, "DESTINATION_UNCERTAIN",
                 id="half-of-endpoint-subnet-unknown"),
]


@pytest.mark.parametrize(("groups", "peer", "peer_groups", "decision", "resource", "code"),
                         EGRESS_CASES)
def test_egress(groups, peer, peer_groups, decision, resource, code):
    check = run_egress(groups, peer, group_ids=tuple(groups), peer_group_ids=peer_groups)
    assert check.hop.decision == decision
    assert check.hop.resource_id == resource
    assert check.hop.step == "sg_egress"
    if code is None:
        assert check.finding is None
        assert check.status == REACHABLE
    else:
        assert check.finding is not None
        assert check.finding.code == code
        assert check.finding.resource_id == INSTANCE_SG
        assert check.finding.service == "ssm"
        assert check.finding.severity == ("error" if decision == DENY else "warning")


def test_deciding_rule_is_named():
    check = run_egress({INSTANCE_SG: [egress("tcp", (5432, 5432), "10.0.0.0/16"),
                                      egress(*HTTPS, ENDPOINT_SG)]},
                       ENI, peer_group_ids=(ENDPOINT_SG,))
    assert check.hop.rule == f"{INSTANCE_SG} egress tcp 443 to {ENDPOINT_SG}"


def test_two_half_spaces_name_both_rules():
    check = run_egress({INSTANCE_SG: [egress(*HTTPS, "0.0.0.0/1"),
                                      egress(*HTTPS, "128.0.0.0/1")]}, PUBLIC)
    assert check.hop.rule == (f"together: {INSTANCE_SG} egress tcp 443 to 0.0.0.0/1; "
                              f"{INSTANCE_SG} egress tcp 443 to 128.0.0.0/1")


# Endpoint side: ingress rules matched against the agent's address and groups.
INSTANCE_ADDRESS = ip_network("10.0.10.10/32")


@pytest.mark.parametrize(("rules", "decision", "code"), [
    pytest.param([ingress(*HTTPS, "10.0.0.0/16")], ALLOW, None, id="vpc-cidr-admits-agent"),
    pytest.param([ingress(*HTTPS, INSTANCE_SG)], ALLOW, None, id="instance-sg-reference"),
    pytest.param([ingress(*HTTPS, OTHER_SG)], DENY, "ENDPOINT_SG_INGRESS_BLOCKS",
                 id="other-sg-reference"),
    pytest.param([ingress(*HTTPS, "192.168.0.0/16")], DENY, "ENDPOINT_SG_INGRESS_BLOCKS",
                 id="stale-office-range"),
    pytest.param([ingress("tcp", (80, 80), "10.0.0.0/16")], DENY, "ENDPOINT_SG_INGRESS_BLOCKS",
                 id="http-only"),
    pytest.param([ingress("tcp", (444, 1000), "10.0.0.0/16")], DENY,
                 "ENDPOINT_SG_INGRESS_BLOCKS", id="range-just-above-443"),
    pytest.param([ingress(*ALL, "10.0.10.10/32")], ALLOW, None, id="all-traffic-from-host"),
    pytest.param([egress(*ALL, "0.0.0.0/0")], DENY, "ENDPOINT_SG_INGRESS_BLOCKS",
                 id="egress-rules-do-not-admit-ingress"),
    pytest.param([ingress(*HTTPS, PL_UNKNOWN)], UNKNOWN, "DESTINATION_UNCERTAIN",
                 id="unknown-prefix-list-undecided"),
])
def test_endpoint_ingress(rules, decision, code):
    check = sg_eval.evaluate(
        estate_with({ENDPOINT_SG: rules}), step="endpoint_sg_ingress", direction="ingress",
        group_ids=(ENDPOINT_SG,), peer=INSTANCE_ADDRESS, peer_group_ids=(INSTANCE_SG,),
        port=443, service="ssmmessages", finding_code="ENDPOINT_SG_INGRESS_BLOCKS",
        owner="endpoint vpce-1")
    assert check.hop.decision == decision
    assert check.hop.resource_id == ENDPOINT_SG
    if code is None:
        assert check.finding is None
    else:
        assert check.finding is not None
        assert (check.finding.code, check.finding.resource_id, check.finding.service) == (
            code, ENDPOINT_SG, "ssmmessages")


@pytest.mark.parametrize(("known", "group_ids", "missing"), [
    pytest.param([], (INSTANCE_SG,), INSTANCE_SG, id="only-group-missing"),
    pytest.param([INSTANCE_SG], (INSTANCE_SG, SECOND_SG), SECOND_SG,
                 id="second-group-missing-even-if-first-admits"),
])
def test_missing_group_is_unknown_never_allowed(known, group_ids, missing):
    estate = estate_with({gid: [egress(*ALL, "0.0.0.0/0")] for gid in known})
    estate.unavailable["security_groups"] = "AccessDenied: ec2:DescribeSecurityGroups"
    check = sg_eval.evaluate(estate, step="sg_egress", direction="egress", group_ids=group_ids,
                             peer=PUBLIC, peer_group_ids=(), port=443, service="ssm",
                             finding_code="SG_EGRESS_BLOCKS", owner="instance i-1")
    assert check.status == UNKNOWN
    assert check.finding is not None
    assert check.finding.code == "DATA_UNAVAILABLE"
    assert check.finding.resource_id == missing
    assert "AccessDenied" in check.finding.message


def test_no_group_at_all_is_missing_data_not_a_deny():
    # Every ENI in a VPC carries a group (an endpoint created without one gets the default).
    check = run_egress({}, PUBLIC, group_ids=())
    assert check.status == UNKNOWN
    assert check.finding is not None and check.finding.code == "DATA_UNAVAILABLE"
    assert check.hop.resource_id == "(no security group)"
