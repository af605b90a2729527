"""Scenarios built in moto and audited through the public entry point, from the live source.

Each test seeds one estate with boto3 inside ``mock_aws`` (see tests/moto_estate.py), then runs
``auditor.cli.main(["--instance", ID, "--region", "us-east-1", "--format", "json"])`` exactly as
a user would, without a snapshot, and checks the verdict, the exit status, each service's status
and ``via``, and the findings with the resource that decides them.

Every instance's profile holds a role that trusts EC2 and carries AmazonSSMManagedInstanceCore
(``MotoVpc.iam``), so a healthy network path gives the verdict ``manageable`` (exit 0) and each
finding here is a network finding.

moto gaps, and where the tests seed around them:
- endpoint ENIs get a random address outside their subnet and the default SG:
  ``moto_estate.place_endpoint_eni`` puts them in their subnet with the endpoint's SG;
- NAT gateways and interface endpoints are always "available": ``seed_nat_gateway_state`` and
  ``seed_endpoint_state`` edit moto's backend objects (NAT_GATEWAY_NOT_AVAILABLE,
  ENDPOINT_NOT_AVAILABLE);
- every route is reported "active", even when its NAT gateway is deleted:
  ``seed_blackhole_route`` below (BLACKHOLE_ROUTE).
- AWS managed policies are not loaded: ``build_iam`` seeds AmazonSSMManagedInstanceCore;
- GetServiceSetting and DescribeInstanceInformation are not implemented: they stay unavailable
  (Default Host Management is never needed with a working profile; Systems Manager's own view is
  evidence, not proof);
- (speed only) moto's AMI catalogue is not loaded, and all boto3 sessions share one botocore
  loader, so the EC2 service model is parsed once per module instead of twice per test.
What moto does produce is used as is: enableDnsSupport/enableDnsHostnames, PrivateDnsEnabled,
private NAT gateways (ConnectivityType), the main route table, the default network ACL, DHCP
options, transit gateway and peering routes, metadata options.
"""

from __future__ import annotations

import json

import pytest
from moto.ec2.models.route_tables import Route

from auditor.cli import main
from tests.moto_estate import (
    HTTPS,
    REGION,
    SERVICES,
    MotoVpc,
    audit,
    route_of,
    seed_endpoint_state,
    seed_nat_gateway_state,
)

EXIT_OK, EXIT_NOT_MANAGEABLE, EXIT_UNKNOWN = 0, 1, 3  # the contract's exit statuses

# --- Environment and estate ------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("fake_aws", "shared_botocore_loader")


def seed_blackhole_route(monkeypatch: pytest.MonkeyPatch, table_id: str, cidr: str) -> None:
    # moto gap: Route.state is a property that always answers "active"; AWS answers "blackhole"
    # once the route's target (here a deleted NAT gateway) is gone. Let the route carry a state.
    monkeypatch.setattr(Route, "state",
                        property(lambda route: getattr(route, "seeded_state", "active")))
    route_of(table_id, cidr).seeded_state = "blackhole"


# --- Running the auditor and reading its answer ----------------------------------------------


def services(instance: dict) -> dict[str, tuple[str, str]]:
    """{service: (status, via)}."""
    return {name: (proof["status"], proof["via"])
            for name, proof in instance["services"].items()}


def findings(instance: dict) -> set[tuple[str, str | None, str]]:
    """{(code, service, resource_id)} of the agent's findings (the capabilities' own are
    tests/test_capabilities_moto.py's)."""
    return {(f["code"], f["service"], f["resource_id"]) for f in instance["findings"]
            if "capability" not in f}


def every(status: str, via: str) -> dict[str, tuple[str, str]]:
    return {service: (status, via) for service in SERVICES}


def on_every_service(code: str, resource_id: str) -> set[tuple[str, str, str]]:
    return {(code, service, resource_id) for service in SERVICES}


def path_resources(instance: dict, service: str) -> list[str]:
    return [hop["resource_id"] for hop in instance["services"][service]["path"]]


def assert_audit(capsys: pytest.CaptureFixture, instance_id: str, *, exit_code: int,
                 verdict: str, expected_services: dict[str, tuple[str, str]],
                 expected_findings: set[tuple[str, str | None, str]]) -> dict:
    code, instance = audit(capsys, instance_id)
    assert services(instance) == expected_services
    assert findings(instance) == expected_findings
    for name, proof in instance["services"].items():
        assert proof["path"], f"{name}: a proof names its hops"
        if proof["status"] != "reachable":  # a blocked or unknown service says why
            assert proof["findings"], name
    assert instance["verdict"] == verdict
    assert code == exit_code
    return instance


# --- Healthy paths: reachable and allowed, manageable -----------------------------------------


def assert_healthy(instance: dict) -> None:
    assert instance["imds"]["status"] == "ok"
    assert (instance["credentials"]["status"], instance["credentials"]["source"]) == (
        "ok", "instance_profile")
    assert instance["permissions"]["status"] == "ok"


@pytest.mark.parametrize("address", ["at_launch", "elastic_ip"])
def test_healthy_via_internet_gateway(capsys, vpc: MotoVpc, address: str) -> None:
    instance_id = vpc.instance(vpc.public_subnet, public_ip=address == "at_launch")
    if address == "elastic_ip":
        allocation = vpc.ec2.allocate_address(Domain="vpc")["AllocationId"]
        vpc.ec2.associate_address(AllocationId=allocation, InstanceId=instance_id)

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                            expected_services=every("reachable", "internet_gateway"),
                            expected_findings=set())
    assert_healthy(instance)
    for service in SERVICES:
        assert {vpc.instance_sg, vpc.default_nacl, vpc.public_table, vpc.igw_id} <= set(
            path_resources(instance, service))


def test_healthy_via_nat_gateway(capsys, vpc: MotoVpc) -> None:
    nat_id = vpc.private_subnet_via_nat()
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                            expected_services=every("reachable", "nat_gateway"),
                            expected_findings=set())
    assert_healthy(instance)
    for service in SERVICES:
        # The private table to the NAT, then the NAT's own table to the internet gateway.
        assert {vpc.private_table, nat_id, vpc.public_table} <= set(
            path_resources(instance, service))


def test_healthy_via_interface_endpoints(capsys, vpc: MotoVpc) -> None:
    endpoints = vpc.endpoints()  # all three, private DNS, endpoint SG admits the instance SG
    instance_id = vpc.instance()  # private subnet: no route out of the VPC

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                            expected_services=every("reachable", "interface_endpoint"),
                            expected_findings=set())
    assert_healthy(instance)
    for service, endpoint_id in endpoints.items():
        hops = path_resources(instance, service)
        assert {endpoint_id, vpc.instance_sg, vpc.private_table, vpc.endpoint_sg} <= set(hops)


# --- Routes and gateways ---------------------------------------------------------------------


def test_no_route_to_destination(capsys, vpc: MotoVpc) -> None:
    instance_id = vpc.instance()  # private table: local route only

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "none"),
                 expected_findings=on_every_service("NO_ROUTE_TO_DESTINATION",
                                                    vpc.private_table))


def test_blackhole_route_to_a_deleted_nat_gateway(capsys, vpc: MotoVpc, monkeypatch) -> None:
    nat_id = vpc.private_subnet_via_nat()
    vpc.ec2.delete_nat_gateway(NatGatewayId=nat_id)
    seed_blackhole_route(monkeypatch, vpc.private_table, "0.0.0.0/0")
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE,
                            verdict="not_manageable",
                            expected_services=every("blocked", "nat_gateway"),
                            expected_findings=on_every_service("BLACKHOLE_ROUTE",
                                                               vpc.private_table))
    assert all(f["details"]["target"] == nat_id for f in instance["findings"])


def test_route_to_a_detached_internet_gateway(capsys, vpc: MotoVpc) -> None:
    # AWS would also mark the route blackhole; moto keeps it active, so this proves the other
    # guard: the gateway's attachments show it no longer serves the VPC.
    vpc.ec2.detach_internet_gateway(InternetGatewayId=vpc.igw_id, VpcId=vpc.vpc_id)
    instance_id = vpc.instance(vpc.public_subnet, public_ip=True)

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "internet_gateway"),
                 expected_findings=on_every_service("BLACKHOLE_ROUTE", vpc.igw_id))


def test_internet_gateway_without_public_ip(capsys, vpc: MotoVpc) -> None:
    instance_id = vpc.instance(vpc.public_subnet, public_ip=False)

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE,
                            verdict="not_manageable",
                            expected_services=every("blocked", "internet_gateway"),
                            expected_findings=on_every_service("IGW_NO_PUBLIC_IP", instance_id))
    assert all(f["details"]["internet_gateway"] == vpc.igw_id for f in instance["findings"])


def test_nat_gateway_in_a_subnet_without_internet_route(capsys, vpc: MotoVpc) -> None:
    nat_subnet = vpc.subnet("10.0.3.0/24")
    nat_table = vpc.route_table(nat_subnet)  # local route only
    nat_id = vpc.nat_gateway(nat_subnet)
    vpc.default_route(vpc.private_table, NatGatewayId=nat_id)
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE,
                            verdict="not_manageable",
                            expected_services=every("blocked", "nat_gateway"),
                            expected_findings=on_every_service("NAT_GATEWAY_NO_INTERNET_ROUTE",
                                                               nat_id))
    assert all(f["details"]["route_table"] == nat_table for f in instance["findings"])


def test_private_nat_gateway_cannot_reach_the_internet(capsys, vpc: MotoVpc) -> None:
    nat_id = vpc.nat_gateway(connectivity="private")  # in the public subnet, 0/0 to the IGW
    vpc.default_route(vpc.private_table, NatGatewayId=nat_id)
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "nat_gateway"),
                 expected_findings=on_every_service("NAT_GATEWAY_NO_INTERNET_ROUTE", nat_id))


@pytest.mark.parametrize("state", ["failed", "pending", "deleting"])
def test_nat_gateway_not_available(capsys, vpc: MotoVpc, state: str) -> None:
    nat_id = vpc.private_subnet_via_nat()
    seed_nat_gateway_state(nat_id, state)
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "nat_gateway"),
                 expected_findings=on_every_service("NAT_GATEWAY_NOT_AVAILABLE", nat_id))


def test_unmodeled_hop(capsys, vpc: MotoVpc) -> None:
    """A virtual private gateway leads where the API proves nothing (VPN, Direct Connect);
    transit gateways and peering connections are proved (tests/test_beyond_moto.py)."""
    hop = vpc.ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    vpc.ec2.attach_vpn_gateway(VpcId=vpc.vpc_id, VpnGatewayId=hop)
    vpc.default_route(vpc.private_table, GatewayId=hop)
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_UNKNOWN, verdict="unknown",
                            expected_services=every("unknown", "virtual_private_gateway"),
                            expected_findings=on_every_service("UNMODELED_HOP", hop))
    assert all(f["details"]["route_table"] == vpc.private_table for f in instance["findings"])


# --- Security groups and network ACLs --------------------------------------------------------


def test_security_group_egress_blocks(capsys, vpc: MotoVpc) -> None:
    web_only = vpc.security_group("web-only", egress=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    instance_id = vpc.instance(vpc.public_subnet, web_only, public_ip=True)

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "internet_gateway"),
                 expected_findings=on_every_service("SG_EGRESS_BLOCKS", web_only))


def test_endpoint_security_group_ingress_blocks(capsys, vpc: MotoVpc) -> None:
    closed = vpc.security_group("closed-endpoint")  # no ingress rule at all
    vpc.endpoints(group_id=closed)
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "interface_endpoint"),
                 expected_findings=on_every_service("ENDPOINT_SG_INGRESS_BLOCKS", closed))


def test_network_acl_blocks_the_replies(capsys, vpc: MotoVpc) -> None:
    # Outbound 443 is allowed, but inbound only SSH: the replies on ephemeral ports are dropped.
    nacl_id = vpc.network_acl(vpc.public_subnet, [
        (100, True, "allow", "0.0.0.0/0", ()),
        (100, False, "allow", "0.0.0.0/0", (22, 22)),
    ])
    instance_id = vpc.instance(vpc.public_subnet, public_ip=True)

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE,
                            verdict="not_manageable",
                            expected_services=every("blocked", "internet_gateway"),
                            expected_findings=on_every_service("NACL_BLOCKS", nacl_id))
    assert {f["details"]["direction"] for f in instance["findings"]} == {"inbound"}


# --- DNS -------------------------------------------------------------------------------------


def test_endpoint_private_dns_disabled(capsys, vpc: MotoVpc) -> None:
    endpoints = vpc.endpoints(private_dns=False)
    instance_id = vpc.instance()  # no route out: the public names lead nowhere

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "none"),
                 expected_findings={
                     *{("ENDPOINT_PRIVATE_DNS_DISABLED", service, endpoint_id)
                       for service, endpoint_id in endpoints.items()},
                     *on_every_service("NO_ROUTE_TO_DESTINATION", vpc.private_table)})


def test_vpc_dns_support_disabled(capsys, vpc: MotoVpc) -> None:
    vpc.private_subnet_via_nat()  # a working NAT path does not help without a resolver
    vpc.ec2.modify_vpc_attribute(VpcId=vpc.vpc_id, EnableDnsSupport={"Value": False})
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "none"),
                 expected_findings=on_every_service("VPC_DNS_SUPPORT_DISABLED", vpc.vpc_id))


def test_vpc_dns_hostnames_disabled(capsys, vpc: MotoVpc) -> None:
    vpc.endpoints()
    vpc.ec2.modify_vpc_attribute(VpcId=vpc.vpc_id, EnableDnsHostnames={"Value": False})
    instance_id = vpc.instance()  # the names resolve publicly, and there is no route out

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "none"),
                 expected_findings={
                     *on_every_service("VPC_DNS_HOSTNAMES_DISABLED", vpc.vpc_id),
                     *on_every_service("NO_ROUTE_TO_DESTINATION", vpc.private_table)})


def test_custom_dns_servers(capsys, vpc: MotoVpc) -> None:
    vpc.private_subnet_via_nat()
    options = vpc.ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name-servers", "Values": ["10.0.0.53", "10.0.1.53"]}])
    options_id = options["DhcpOptions"]["DhcpOptionsId"]
    vpc.ec2.associate_dhcp_options(DhcpOptionsId=options_id, VpcId=vpc.vpc_id)
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_UNKNOWN, verdict="unknown",
                 expected_services=every("unknown", "none"),
                 expected_findings=on_every_service("CUSTOM_DNS_SERVERS", options_id))


def test_amazon_dns_in_dhcp_options_is_not_custom(capsys, vpc: MotoVpc) -> None:
    vpc.private_subnet_via_nat()
    options = vpc.ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name-servers", "Values": ["AmazonProvidedDNS"]}])
    vpc.ec2.associate_dhcp_options(DhcpOptionsId=options["DhcpOptions"]["DhcpOptionsId"],
                                   VpcId=vpc.vpc_id)
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                 expected_services=every("reachable", "nat_gateway"), expected_findings=set())


# --- Interface endpoints ---------------------------------------------------------------------


@pytest.mark.parametrize("state", ["pending", "pendingAcceptance", "failed", "rejected"])
def test_endpoint_not_available(capsys, vpc: MotoVpc, state: str) -> None:
    endpoints = vpc.endpoints()
    for endpoint_id in endpoints.values():
        seed_endpoint_state(endpoint_id, state)
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "interface_endpoint"),
                 expected_findings={("ENDPOINT_NOT_AVAILABLE", service, endpoint_id)
                                    for service, endpoint_id in endpoints.items()})


# --- Instance metadata -----------------------------------------------------------------------


def test_imds_disabled(capsys, vpc: MotoVpc) -> None:
    instance_id = vpc.instance(vpc.public_subnet, public_ip=True)
    vpc.ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpEndpoint="disabled")

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE,
                            verdict="not_manageable",
                            expected_services=every("reachable", "internet_gateway"),
                            expected_findings={("IMDS_DISABLED", None, instance_id)})
    assert instance["imds"]["status"] == "fail"
    assert instance["imds"]["http_endpoint"] == "disabled"


# --- Beyond one subnet, one path, one running instance --------------------------------------


def test_endpoint_in_another_subnet_crosses_its_network_acl(capsys, vpc: MotoVpc) -> None:
    # The endpoint ENIs sit in the public subnet, whose ACL admits only SSH inbound.
    nacl_id = vpc.network_acl(vpc.public_subnet, [
        (100, True, "allow", "0.0.0.0/0", ()),
        (100, False, "allow", "0.0.0.0/0", (22, 22)),
    ])
    vpc.endpoints(subnet_ids=[vpc.public_subnet])
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE,
                            verdict="not_manageable",
                            expected_services=every("blocked", "interface_endpoint"),
                            expected_findings=on_every_service("NACL_BLOCKS", nacl_id))
    assert {f["details"]["subnet_id"] for f in instance["findings"]} == {vpc.public_subnet}


def test_endpoint_reachable_through_one_of_its_subnets(capsys, vpc: MotoVpc) -> None:
    nacl_id = vpc.network_acl(vpc.public_subnet, [(100, True, "allow", "0.0.0.0/0", ())])
    endpoints = vpc.endpoints(subnet_ids=[vpc.private_subnet, vpc.public_subnet])
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                            expected_services=every("reachable", "interface_endpoint"),
                            expected_findings={("ENDPOINT_PARTIALLY_REACHABLE", service, vpce)
                                               for service, vpce in endpoints.items()})
    for service in SERVICES:
        assert nacl_id not in path_resources(instance, service)  # the witness is the near ENI


def test_each_service_resolves_on_its_own(capsys, vpc: MotoVpc) -> None:
    nat_id = vpc.private_subnet_via_nat()
    [ssm_endpoint] = vpc.endpoints(("ssm",)).values()
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                            expected_services={"ssm": ("reachable", "interface_endpoint"),
                                               "ssmmessages": ("reachable", "nat_gateway"),
                                               "ec2messages": ("reachable", "nat_gateway")},
                            expected_findings=set())
    assert ssm_endpoint in path_resources(instance, "ssm")
    assert nat_id in path_resources(instance, "ssmmessages")


def test_stopped_instance_is_not_applicable_and_still_analysed(capsys, vpc: MotoVpc) -> None:
    vpc.private_subnet_via_nat()
    closed = vpc.security_group("closed", egress=[])
    instance_id = vpc.instance(group_id=closed)
    vpc.ec2.stop_instances(InstanceIds=[instance_id])

    assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="not_applicable",
                 expected_services=every("blocked", "nat_gateway"),
                 expected_findings=on_every_service("SG_EGRESS_BLOCKS", closed))


def test_all_instances_of_the_region(capsys, vpc: MotoVpc) -> None:
    healthy = vpc.instance(vpc.public_subnet, public_ip=True)
    stranded = vpc.instance()  # private subnet, no route out

    code = main(["--all", "--region", REGION, "--format", "json"])
    report = json.loads(capsys.readouterr().out)

    verdicts = {i["instance_id"]: i["verdict"] for i in report["instances"]}
    assert verdicts == {healthy: "manageable", stranded: "not_manageable"}
    assert report["source"]["regions"] == [REGION]
    assert code == EXIT_NOT_MANAGEABLE


# --- Traps -----------------------------------------------------------------------------------


def test_subnet_without_association_uses_the_main_route_table(capsys, vpc: MotoVpc) -> None:
    vpc.default_route(vpc.main_table, GatewayId=vpc.igw_id)
    unassociated = vpc.subnet("10.0.3.0/24")
    instance_id = vpc.instance(unassociated, public_ip=True)

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                            expected_services=every("reachable", "internet_gateway"),
                            expected_findings=set())
    for service in SERVICES:
        [route] = [hop for hop in instance["services"][service]["path"] if hop["step"] == "route"]
        assert route["resource_id"] == vpc.main_table
        assert "main" in route["rule"]


def test_explicit_association_overrides_the_main_route_table(capsys, vpc: MotoVpc) -> None:
    vpc.default_route(vpc.main_table, GatewayId=vpc.igw_id)  # would work, but is not used
    instance_id = vpc.instance(vpc.private_subnet, public_ip=True)

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "none"),
                 expected_findings=on_every_service("NO_ROUTE_TO_DESTINATION",
                                                    vpc.private_table))


def test_blocked_endpoint_is_not_rescued_by_a_working_nat(capsys, vpc: MotoVpc) -> None:
    nat_id = vpc.private_subnet_via_nat()
    closed = vpc.security_group("closed-endpoint")
    vpc.endpoints(group_id=closed)
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE,
                            verdict="not_manageable",
                            expected_services=every("blocked", "interface_endpoint"),
                            expected_findings=on_every_service("ENDPOINT_SG_INGRESS_BLOCKS",
                                                               closed))
    for service in SERVICES:
        assert nat_id not in path_resources(instance, service)


@pytest.mark.parametrize(("deny_number", "blocked"), [(90, True), (110, False)])
def test_network_acl_first_matching_rule_number_wins(capsys, vpc: MotoVpc, deny_number: int,
                                                     blocked: bool) -> None:
    # The allow is created first; only the rule numbers say which entry is evaluated first.
    nacl_id = vpc.network_acl(vpc.public_subnet, [
        (100, True, "allow", "0.0.0.0/0", ()),
        (deny_number, True, "deny", "0.0.0.0/0", (443, 443)),
        (100, False, "allow", "0.0.0.0/0", ()),
    ])
    instance_id = vpc.instance(vpc.public_subnet, public_ip=True)

    if blocked:
        instance = assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE,
                                verdict="not_manageable",
                                expected_services=every("blocked", "internet_gateway"),
                                expected_findings=on_every_service("NACL_BLOCKS", nacl_id))
        assert {f["details"]["rule"] for f in instance["findings"]} == {
            "outbound rule 90 deny tcp 443-443 0.0.0.0/0"}
    else:
        assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                     expected_services=every("reachable", "internet_gateway"),
                     expected_findings=set())


def test_egress_rule_naming_the_endpoint_security_group_admits(capsys, vpc: MotoVpc) -> None:
    vpc.restrict_egress(vpc.instance_sg, [
        {**HTTPS, "UserIdGroupPairs": [{"GroupId": vpc.endpoint_sg}]}])
    vpc.endpoints()
    instance_id = vpc.instance()

    instance = assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                            expected_services=every("reachable", "interface_endpoint"),
                            expected_findings=set())
    for service in SERVICES:
        [egress] = [hop for hop in instance["services"][service]["path"]
                    if hop["step"] == "sg_egress"]
        assert egress["resource_id"] == vpc.instance_sg
        assert vpc.endpoint_sg in egress["rule"]


def test_egress_rule_naming_another_security_group_does_not_admit(capsys, vpc: MotoVpc) -> None:
    other = vpc.security_group("databases")
    vpc.restrict_egress(vpc.instance_sg, [{**HTTPS, "UserIdGroupPairs": [{"GroupId": other}]}])
    vpc.endpoints()
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_NOT_MANAGEABLE, verdict="not_manageable",
                 expected_services=every("blocked", "interface_endpoint"),
                 expected_findings=on_every_service("SG_EGRESS_BLOCKS", vpc.instance_sg))


def test_ec2_endpoint_does_not_serve_ec2messages(capsys, vpc: MotoVpc) -> None:
    endpoints = vpc.endpoints(("ssm", "ssmmessages", "ec2"))
    instance_id = vpc.instance()  # no route out of the VPC

    instance = assert_audit(
        capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
        expected_services={"ssm": ("reachable", "interface_endpoint"),
                           "ssmmessages": ("reachable", "interface_endpoint"),
                           "ec2messages": ("blocked", "none")},
        expected_findings={("NO_ROUTE_TO_DESTINATION", "ec2messages", vpc.private_table)})
    assert endpoints["ec2"] not in path_resources(instance, "ec2messages")



def test_gateway_endpoint_routes_do_not_capture_the_services(capsys, vpc: MotoVpc) -> None:
    # An S3 gateway endpoint adds a prefix-list route to a vpce- target in both tables.
    vpc.private_subnet_via_nat()
    vpc.ec2.create_vpc_endpoint(VpcId=vpc.vpc_id, ServiceName=f"com.amazonaws.{REGION}.s3",
                                VpcEndpointType="Gateway",
                                RouteTableIds=[vpc.private_table, vpc.public_table])
    instance_id = vpc.instance()

    assert_audit(capsys, instance_id, exit_code=EXIT_OK, verdict="manageable",
                 expected_services=every("reachable", "nat_gateway"), expected_findings=set())
