"""The network prover on whole estates built as raw AWS answers.

Each scenario builds an estate with ``EstateBuilder``, reads it through ``build_estate`` as the
auditor would, and proves one instance's three services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from auditor.analysis.graph import EstateGraph
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import BLOCKED, DENY, REACHABLE, UNKNOWN
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder

SERVICES = ("ssm", "ssmmessages", "ec2messages")
ACCESS_DENIED = "AccessDenied: not authorized to perform ec2:Describe*"


@dataclass
class Scenario:
    builder: EstateBuilder
    instance: str
    ids: dict[str, str] = field(default_factory=dict)


def prove(scenario: Scenario, unavailable: dict[str, str] | None = None):
    raw = scenario.builder.raw()
    for kind, reason in (unavailable or {}).items():
        raw.answers.pop(kind)
        raw.errors[kind] = reason
    estate = build_estate(raw)
    return NetworkProver(EstateGraph(estate)).prove(estate.instances[scenario.instance])


def private_vpc(b: EstateBuilder, *, nat: bool = True):
    """VPC 10.0.0.0/16: public subnet with IGW and NAT, private subnet routed to the NAT, two
    endpoint subnets in other AZs (their own ACLs can be replaced per test)."""
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24", "a")
    private = b.subnet(vpc, "10.0.10.0/24", "a")
    endpoints_b = b.subnet(vpc, "10.0.20.0/24", "b")
    endpoints_c = b.subnet(vpc, "10.0.21.0/24", "c")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [public], [("0.0.0.0/0", igw)])
    routes = []
    ids = {"vpc": vpc, "public": public, "private": private, "endpoints_b": endpoints_b,
           "endpoints_c": endpoints_c, "igw": igw}
    if nat:
        ids["nat"] = b.nat_gateway(public)
        routes = [("0.0.0.0/0", ids["nat"])]
    ids["private_table"] = b.route_table(vpc, [private], routes)
    return ids


# --- endpoint scenarios ---------------------------------------------------------------------


def endpoint_sg_blocks_beside_nat() -> Scenario:
    b = EstateBuilder()
    ids = private_vpc(b)
    ids["endpoint_sg"] = b.security_group(ids["vpc"], "stale",
                                          ingress=[("tcp", 443, 443, "192.168.0.0/16")])
    ids["endpoint"] = b.interface_endpoint(ids["vpc"], "ssm", [ids["endpoints_b"]],
                                           [ids["endpoint_sg"]])
    return Scenario(b, b.instance(ids["private"], [b.security_group(ids["vpc"])]), ids)


def isolated_all_endpoints(egress_peer: str = "endpoint_sg", ingress_peer: str = "10.0.0.0/16",
                           state: str = "available") -> Callable[[], Scenario]:
    """No NAT: all three services by endpoint. ``egress_peer`` "endpoint_sg" names the
    endpoints' SG in the instance SG's only egress rule; "other_sg" names an unrelated one;
    ``ingress_peer`` "instance_sg" names the instance's SG in the endpoint SG."""
    def factory() -> Scenario:
        b = EstateBuilder()
        ids = private_vpc(b, nat=False)
        ids["other_sg"] = b.security_group(ids["vpc"], "other")
        ids["instance_sg"] = b.security_group(ids["vpc"], "placeholder")  # id reserved below
        ids["endpoint_sg"] = b.security_group(ids["vpc"], "endpoints")
        endpoint_group = next(g for g in b.security_groups if g["GroupId"] == ids["endpoint_sg"])
        peer = ids["instance_sg"] if ingress_peer == "instance_sg" else ingress_peer
        endpoint_group["IpPermissions"] = [b._permission(("tcp", 443, 443, peer))]
        instance_group = next(g for g in b.security_groups if g["GroupId"] == ids["instance_sg"])
        instance_group["IpPermissionsEgress"] = [
            b._permission(("tcp", 443, 443, ids[egress_peer]))]
        for service in SERVICES:
            ids[f"endpoint_{service}"] = b.interface_endpoint(
                ids["vpc"], service, [ids["endpoints_b"]], [ids["endpoint_sg"]], state=state)
        return Scenario(b, b.instance(ids["private"], [ids["instance_sg"]]), ids)
    return factory


def two_enis_one_blocked(second_blocked: bool = False) -> Callable[[], Scenario]:
    def factory() -> Scenario:
        b = EstateBuilder()
        ids = private_vpc(b, nat=False)
        ids["blocking_nacl"] = b.network_acl(ids["vpc"], [ids["endpoints_b"]], [
            (100, False, "deny", "6", "10.0.10.0/24", (443, 443)),
            (200, False, "allow", "-1", "0.0.0.0/0", None),
            (100, True, "allow", "-1", "0.0.0.0/0", None)])
        if second_blocked:
            b.network_acl(ids["vpc"], [ids["endpoints_c"]], [
                (100, False, "allow", "-1", "0.0.0.0/0", None)])  # replies cannot leave
        endpoint_sg = b.security_group(ids["vpc"], ingress=[("tcp", 443, 443, "10.0.0.0/16")])
        for service in SERVICES:
            ids[f"endpoint_{service}"] = b.interface_endpoint(
                ids["vpc"], service, [ids["endpoints_b"], ids["endpoints_c"]], [endpoint_sg])
        return Scenario(b, b.instance(ids["private"], [b.security_group(ids["vpc"])]), ids)
    return factory


def lookalike_endpoints() -> Scenario:
    """ec2, ssm-contacts and ssm-incidents endpoints with private DNS and a closed SG."""
    b = EstateBuilder()
    ids = private_vpc(b)
    closed = b.security_group(ids["vpc"], "closed")
    for service in ("ec2", "ssm-contacts", "ssm-incidents", "ec2messages-fips"):
        b.interface_endpoint(ids["vpc"], service, [ids["endpoints_b"]], [closed])
    return Scenario(b, b.instance(ids["private"], [b.security_group(ids["vpc"])]), ids)


def same_subnet_endpoint_blocked_by_sg() -> Scenario:
    b = EstateBuilder()
    ids = private_vpc(b, nat=False)
    closed = b.security_group(ids["vpc"], "closed")
    ids["endpoint_sg"] = closed
    for service in SERVICES:
        b.interface_endpoint(ids["vpc"], service, [ids["private"]], [closed])
    return Scenario(b, b.instance(ids["private"], [b.security_group(ids["vpc"])]), ids)


# (scenario, {service: (status, via)}, {service: [(code, key of resource id in ids)]})
ALL_ENDPOINT = {s: (REACHABLE, "interface_endpoint") for s in SERVICES}
ENDPOINT_CASES = [
    pytest.param(endpoint_sg_blocks_beside_nat,
                 {"ssm": (BLOCKED, "interface_endpoint"), "ssmmessages": (REACHABLE, "nat_gateway"),
                  "ec2messages": (REACHABLE, "nat_gateway")},
                 {"ssm": [("ENDPOINT_SG_INGRESS_BLOCKS", "endpoint_sg")], "ssmmessages": [],
                  "ec2messages": []},
                 id="endpoint-sg-blocks-nat-does-not-rescue"),
    pytest.param(isolated_all_endpoints(), ALL_ENDPOINT, {s: [] for s in SERVICES},
                 id="egress-naming-endpoint-sg-admits"),
    pytest.param(isolated_all_endpoints(ingress_peer="instance_sg"), ALL_ENDPOINT,
                 {s: [] for s in SERVICES}, id="endpoint-ingress-naming-instance-sg-admits"),
    pytest.param(isolated_all_endpoints(egress_peer="other_sg"),
                 {s: (BLOCKED, "interface_endpoint") for s in SERVICES},
                 {s: [("SG_EGRESS_BLOCKS", "instance_sg")] for s in SERVICES},
                 id="egress-naming-other-sg-blocks"),
    pytest.param(isolated_all_endpoints(state="pending"),
                 {s: (BLOCKED, "interface_endpoint") for s in SERVICES},
                 {s: [("ENDPOINT_NOT_AVAILABLE", f"endpoint_{s}")] for s in SERVICES},
                 id="endpoint-pending"),
    pytest.param(isolated_all_endpoints(state="failed"),
                 {s: (BLOCKED, "interface_endpoint") for s in SERVICES},
                 {s: [("ENDPOINT_NOT_AVAILABLE", f"endpoint_{s}")] for s in SERVICES},
                 id="endpoint-failed"),
    pytest.param(isolated_all_endpoints(state="deleted"),
                 {s: (BLOCKED, "none") for s in SERVICES},
                 {s: [("SG_EGRESS_BLOCKS", "instance_sg"),
                      ("NO_ROUTE_TO_DESTINATION", "private_table")] for s in SERVICES},
                 id="deleted-endpoint-ignored-public-path-has-no-route"),
    pytest.param(two_enis_one_blocked(), ALL_ENDPOINT,
                 {s: [("ENDPOINT_PARTIALLY_REACHABLE", f"endpoint_{s}")] for s in SERVICES},
                 id="two-enis-one-blocked-by-nacl"),
    pytest.param(two_enis_one_blocked(second_blocked=True),
                 {s: (BLOCKED, "interface_endpoint") for s in SERVICES},
                 {s: [("NACL_BLOCKS", "blocking_nacl"), ("NACL_BLOCKS", None)]
                  for s in SERVICES},
                 id="two-enis-both-blocked"),
    pytest.param(lookalike_endpoints,
                 {s: (REACHABLE, "nat_gateway") for s in SERVICES}, {s: [] for s in SERVICES},
                 id="ec2-ssm-contacts-ssm-incidents-are-not-agent-services"),
    pytest.param(same_subnet_endpoint_blocked_by_sg,
                 {s: (BLOCKED, "interface_endpoint") for s in SERVICES},
                 {s: [("ENDPOINT_SG_INGRESS_BLOCKS", "endpoint_sg")] for s in SERVICES},
                 id="same-subnet-endpoint-still-needs-its-sg"),
]


@pytest.mark.parametrize(("factory", "expected", "codes"), ENDPOINT_CASES)
def test_endpoint_paths(factory, expected, codes):
    scenario = factory()
    proofs = prove(scenario)
    assert {s: (p.status, p.via) for s, p in proofs.items()} == expected
    for service, wanted in codes.items():
        found = [(f.code, f.resource_id) for f in proofs[service].findings]
        assert [code for code, _ in found] == [code for code, _ in wanted], service
        for (_, resource), (_, key) in zip(found, wanted, strict=True):
            if key is not None:
                assert resource == scenario.ids[key], service


def test_endpoint_sg_block_path_never_touches_the_nat():
    scenario = endpoint_sg_blocks_beside_nat()
    proof = prove(scenario)["ssm"]
    assert proof.resolves_to == f"interface endpoint {scenario.ids['endpoint']}"
    assert not [hop for hop in proof.path if hop.step.startswith("nat")]
    denied = [(hop.step, hop.resource_id) for hop in proof.path if hop.decision == DENY]
    assert denied == [("endpoint_sg_ingress", scenario.ids["endpoint_sg"])]
    assert proof.findings[0].severity == "error"


def test_partially_reachable_endpoint_names_the_blocked_eni():
    scenario = two_enis_one_blocked()()
    proof = prove(scenario)["ssm"]
    finding = proof.findings[0]
    assert finding.severity == "warning"
    estate = build_estate(scenario.builder.raw())
    endpoint = estate.vpc_endpoints[scenario.ids["endpoint_ssm"]]
    eni_by_subnet = {estate.network_interfaces[e].subnet_id: e
                     for e in endpoint.network_interface_ids}
    assert eni_by_subnet[scenario.ids["endpoints_b"]] in finding.message
    assert eni_by_subnet[scenario.ids["endpoints_c"]] not in finding.message
    assert "inbound rule 100 deny" in finding.details["unreachable"][0]
    # the proof's path is that of the ENI that works, and crosses its subnet's ACL
    assert [hop.decision for hop in proof.path] == ["allow"] * len(proof.path)
    endpoint_acl_hops = {hop.resource_id for hop in proof.path if hop.step.startswith("endpoint_")
                         and "nacl" in hop.step}
    assert endpoint_acl_hops == {estate.network_acls[a].nacl_id for a in estate.network_acls
                                 if scenario.ids["endpoints_c"] in
                                 estate.network_acls[a].subnet_ids}


def test_both_enis_blocked_reports_deciding_rules():
    scenario = two_enis_one_blocked(second_blocked=True)()
    proof = prove(scenario)["ssm"]
    rules = {hop.rule for hop in proof.path if hop.decision == DENY}
    assert rules == {"inbound rule 100 deny tcp 443-443 10.0.10.0/24",
                     "outbound rule * deny all traffic 0.0.0.0/0"}


# --- data that could not be read ------------------------------------------------------------


def nat_scenario() -> Scenario:
    b = EstateBuilder()
    ids = private_vpc(b)
    ids["instance_sg"] = b.security_group(ids["vpc"])
    return Scenario(b, b.instance(ids["private"], [ids["instance_sg"]]), ids)


def igw_scenario() -> Scenario:
    b = EstateBuilder()
    ids = private_vpc(b)
    ids["instance_sg"] = b.security_group(ids["vpc"])
    return Scenario(b, b.instance(ids["public"], [ids["instance_sg"]],
                                  public_ip="198.51.100.7"), ids)


def endpoint_scenario() -> Scenario:
    b = EstateBuilder()
    ids = private_vpc(b, nat=False)
    ids["instance_sg"] = b.security_group(ids["vpc"])
    endpoint_sg = b.security_group(ids["vpc"], ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    for service in SERVICES:
        b.interface_endpoint(ids["vpc"], service, [ids["endpoints_b"]], [endpoint_sg])
    return Scenario(b, b.instance(ids["private"], [ids["instance_sg"]]), ids)


def missing_security_group() -> Scenario:
    b = EstateBuilder()
    ids = private_vpc(b)
    ids["instance_sg"] = "sg-0deleted0000000000"
    return Scenario(b, b.instance(ids["private"], [ids["instance_sg"]]), ids)


# (scenario, unavailable kinds, key of the finding's resource in ids, or None)
DATA_CASES = [
    pytest.param(nat_scenario, ["network_acls"], "private", id="nacls-access-denied-nat"),
    pytest.param(endpoint_scenario, ["network_acls"], "private",
                 id="nacls-access-denied-endpoint"),
    pytest.param(nat_scenario, ["security_groups"], "instance_sg", id="sgs-access-denied"),
    pytest.param(missing_security_group, [], "instance_sg", id="security-group-not-in-data"),
    pytest.param(nat_scenario, ["route_tables"], "private", id="route-tables-access-denied"),
    pytest.param(nat_scenario, ["nat_gateways"], "nat", id="nat-gateways-access-denied"),
    pytest.param(nat_scenario, ["internet_gateways"], "igw",
                 id="igws-access-denied-behind-nat"),
    pytest.param(igw_scenario, ["internet_gateways"], "igw", id="igws-access-denied-public"),
    pytest.param(nat_scenario, ["vpc_attributes"], "vpc", id="vpc-attributes-access-denied"),
    pytest.param(nat_scenario, ["vpc_endpoints"], "vpc", id="vpc-endpoints-access-denied"),
    pytest.param(endpoint_scenario, ["subnets"], "private", id="subnets-access-denied"),
    pytest.param(endpoint_scenario, ["vpcs"], "vpc", id="vpcs-access-denied"),
]


@pytest.mark.parametrize(("factory", "kinds", "key"), DATA_CASES)
def test_unreadable_data_is_unknown_never_reachable(factory, kinds, key):
    scenario = factory()
    proofs = prove(scenario, {kind: ACCESS_DENIED for kind in kinds})
    for service, proof in proofs.items():
        assert proof.status == UNKNOWN, service
        codes = {f.code for f in proof.findings}
        assert codes == {"DATA_UNAVAILABLE"}, service
        assert scenario.ids[key] in {f.resource_id for f in proof.findings}, service
        assert not any(hop.decision == DENY for hop in proof.path), service


def test_unreadable_acls_still_reachable_when_no_acl_is_crossed():
    """Endpoint ENIs in the instance's own subnet: no ACL is crossed, so none is needed."""
    b = EstateBuilder()
    ids = private_vpc(b, nat=False)
    endpoint_sg = b.security_group(ids["vpc"], ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    for service in SERVICES:
        b.interface_endpoint(ids["vpc"], service, [ids["private"]], [endpoint_sg])
    scenario = Scenario(b, b.instance(ids["private"], [b.security_group(ids["vpc"])]), ids)
    proofs = prove(scenario, {"network_acls": ACCESS_DENIED})
    assert {p.status for p in proofs.values()} == {REACHABLE}


def test_unreadable_enis_fall_back_to_endpoint_subnets():
    scenario = endpoint_scenario()
    proofs = prove(scenario, {"network_interfaces": ACCESS_DENIED})
    for proof in proofs.values():
        assert (proof.status, proof.via) == (REACHABLE, "interface_endpoint")
        steps = [hop.step for hop in proof.path]
        assert "endpoint_nacl_inbound" in steps and "endpoint_nacl_outbound_return" in steps
        assert proof.findings == []


def test_instance_without_subnet_is_unknown():
    scenario = nat_scenario()
    reservation = scenario.builder.reservations[-1]["Instances"][0]
    del reservation["SubnetId"], reservation["PrivateIpAddress"]
    reservation["NetworkInterfaces"] = []
    for proof in prove(scenario).values():
        assert proof.status == UNKNOWN
        assert [(f.code, f.resource_id) for f in proof.findings] == [
            ("DATA_UNAVAILABLE", scenario.instance)]


def test_prefix_list_with_unknown_entries_on_public_path():
    b = EstateBuilder()
    ids = private_vpc(b)
    pl = b.prefix_list("corp-egress", None)
    group = b.security_group(ids["vpc"], egress=[("tcp", 443, 443, pl)])
    proofs = prove(Scenario(b, b.instance(ids["private"], [group]), ids))
    for proof in proofs.values():
        assert (proof.status, proof.via) == (UNKNOWN, "nat_gateway")
        assert [(f.code, f.resource_id) for f in proof.findings] == [
            ("DESTINATION_UNCERTAIN", group)]


@pytest.mark.parametrize(("entries", "status"), [
    pytest.param(["10.0.20.0/24"], REACHABLE, id="known-entries-hold-endpoint-eni"),
    pytest.param(["10.0.21.0/24"], BLOCKED, id="known-entries-miss-endpoint-eni"),
    pytest.param(None, UNKNOWN, id="unknown-entries"),
])
def test_prefix_list_egress_to_endpoint(entries, status):
    b = EstateBuilder()
    ids = private_vpc(b, nat=False)
    pl = b.prefix_list("endpoint-subnets", entries)
    group = b.security_group(ids["vpc"], egress=[("tcp", 443, 443, pl)])
    endpoint_sg = b.security_group(ids["vpc"], ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    b.interface_endpoint(ids["vpc"], "ssm", [ids["endpoints_b"]], [endpoint_sg])
    proof = prove(Scenario(b, b.instance(ids["private"], [group]), ids))["ssm"]
    assert (proof.status, proof.via) == (status, "interface_endpoint")
    sg_hop = next(hop for hop in proof.path if hop.step == "sg_egress")
    assert sg_hop.resource_id == group


# --- proofs shared between alike instances ---------------------------------------------------


def split_subnet(rule_on: str) -> Scenario:
    """Two instances in one subnet; a rule admits only the first one's address.

    ``rule_on`` "endpoint_sg": the endpoint SG's ingress; "endpoint_nacl": the endpoint subnet's
    ACL inbound; "instance_nacl": the instance subnet's ACL inbound (replies from the ENI).
    """
    b = EstateBuilder()
    ids = private_vpc(b, nat=False)
    allowed_host = "10.0.10.50/32"
    endpoint_ingress = ("tcp", 443, 443, allowed_host if rule_on == "endpoint_sg"
                        else "10.0.0.0/16")
    endpoint_sg = b.security_group(ids["vpc"], ingress=[endpoint_ingress])
    if rule_on == "endpoint_nacl":
        ids["nacl"] = b.network_acl(ids["vpc"], [ids["endpoints_b"]], [
            (100, False, "allow", "6", allowed_host, (443, 443)),
            (100, True, "allow", "-1", "0.0.0.0/0", None)])
    if rule_on == "instance_nacl":
        ids["nacl"] = b.network_acl(ids["vpc"], [ids["private"]], [
            (100, True, "allow", "-1", "0.0.0.0/0", None),
            (100, False, "deny", "-1", "10.0.20.0/24", None)])
    for service in SERVICES:
        b.interface_endpoint(ids["vpc"], service, [ids["endpoints_b"]], [endpoint_sg])
    group = b.security_group(ids["vpc"])
    ids["second"] = b.instance(ids["private"], [group], private_ip="10.0.10.60")
    ids["first"] = b.instance(ids["private"], [group], private_ip="10.0.10.50")
    return Scenario(b, ids["first"], ids)


@pytest.mark.parametrize(("rule_on", "first", "second", "code"), [
    pytest.param("endpoint_sg", REACHABLE, BLOCKED, "ENDPOINT_SG_INGRESS_BLOCKS",
                 id="endpoint-sg-admits-one-host-of-the-subnet"),
    pytest.param("endpoint_nacl", REACHABLE, BLOCKED, "NACL_BLOCKS",
                 id="endpoint-acl-admits-one-host-of-the-subnet"),
    pytest.param("instance_nacl", BLOCKED, BLOCKED, "NACL_BLOCKS",
                 id="instance-acl-denies-replies-for-all"),
])
def test_instances_of_one_subnet_split_by_a_rule(rule_on, first, second, code):
    scenario = split_subnet(rule_on)
    estate = build_estate(scenario.builder.raw())
    prover = NetworkProver(EstateGraph(estate))
    # The blocked instance first, so a subnet-wide answer cached for it would leak.
    second_proof = prover.prove(estate.instances[scenario.ids["second"]])["ssm"]
    first_proof = prover.prove(estate.instances[scenario.ids["first"]])["ssm"]
    assert (first_proof.status, second_proof.status) == (first, second)
    assert [f.code for f in second_proof.findings] == [code]


def test_shared_proof_names_each_instance():
    b = EstateBuilder()
    ids = private_vpc(b)
    group = b.security_group(ids["vpc"])
    first = b.instance(ids["public"], [group])
    second = b.instance(ids["public"], [group])
    estate = build_estate(b.raw())
    prover = NetworkProver(EstateGraph(estate))
    for instance_id in (first, second):
        proof = prover.prove(estate.instances[instance_id])["ssm"]
        assert (proof.status, proof.via) == (BLOCKED, "internet_gateway")
        assert [(f.code, f.resource_id) for f in proof.findings] == [
            ("IGW_NO_PUBLIC_IP", instance_id)]
        other = second if instance_id == first else first
        assert other not in proof.findings[0].message


def test_instances_differing_in_public_ip_or_platform_are_proved_apart():
    b = EstateBuilder()
    ids = private_vpc(b)
    b.network_acl(ids["vpc"], [ids["public"]], [
        (100, True, "allow", "-1", "0.0.0.0/0", None),
        (100, False, "allow", "6", "0.0.0.0/0", (32768, 60999))])
    group = b.security_group(ids["vpc"])
    without_ip = b.instance(ids["public"], [group])
    linux = b.instance(ids["public"], [group], public_ip="198.51.100.8")
    windows = b.instance(ids["public"], [group], public_ip="198.51.100.9", platform="windows")
    estate = build_estate(b.raw())
    prover = NetworkProver(EstateGraph(estate))
    results = {name: prover.prove(estate.instances[iid])["ssm"]
               for name, iid in (("without_ip", without_ip), ("linux", linux),
                                 ("windows", windows))}
    assert {name: [f.code for f in proof.findings] for name, proof in results.items()} == {
        "without_ip": ["IGW_NO_PUBLIC_IP"], "linux": [], "windows": ["NACL_BLOCKS"]}
    assert results["linux"].status == REACHABLE


def _endpoint_estate(endpoint_lists_groups: bool):
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.route_table(vpc, [subnet])
    admits = b.security_group(vpc, "endpoint", ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    b.interface_endpoint(vpc, "ssm", [subnet], [admits])
    if not endpoint_lists_groups:
        b.vpc_endpoints[-1]["Groups"] = []  # as moto answers; the ENI still carries the group
    instance_id = b.instance(subnet, [b.security_group(vpc, "app")])
    estate = build_estate(b.raw())
    return NetworkProver(EstateGraph(estate)).prove(estate.instances[instance_id])["ssm"]


@pytest.mark.parametrize("endpoint_lists_groups", [True, False])
def test_endpoint_groups_come_from_its_enis_when_it_lists_none(endpoint_lists_groups):
    proof = _endpoint_estate(endpoint_lists_groups)
    assert (proof.status, proof.via) == (REACHABLE, "interface_endpoint")


def test_a_stopped_instance_in_a_subnet_that_hands_out_public_ips_is_not_blamed():
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24", public_ip_on_launch=True)
    private = b.subnet(vpc, "10.0.1.0/24")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [public, private], [("0.0.0.0/0", igw)])
    group = b.security_group(vpc, "web")
    stopped = b.instance(public, [group], state="stopped")
    stopped_private = b.instance(private, [group], state="stopped")
    estate = build_estate(b.raw())
    prover = NetworkProver(EstateGraph(estate))
    assert prover.prove(estate.instances[stopped])["ssm"].status == REACHABLE
    blocked = prover.prove(estate.instances[stopped_private])["ssm"]
    assert [(f.code, f.resource_id) for f in blocked.findings] == [
        ("IGW_NO_PUBLIC_IP", stopped_private)]
