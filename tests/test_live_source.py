"""The live AWS source against moto: what it reads, how it scopes, and how it fails.

moto gaps met here (see the comments where they matter):
- A VPC made with CreateVpc has DhcpOptionsId "default" (no options set); the layout associates a
  real DHCP options set so that path is exercised.
- An interface endpoint's ENI gets the VPC's default SG and an address outside its subnet, so
  the tests check the ENI's id and subnet, not its address or groups.
- Systems Manager's GetServiceSetting and DescribeInstanceInformation are not implemented:
  ``test_moto_lacks_the_systems_manager_calls`` shows they become errors; elsewhere
  ``stub_ssm`` (tests/moto_estate.py) answers them from a botocore before-call handler.
- AWS managed policies are absent unless all are loaded: ``build_iam`` seeds the one it attaches.
  moto's GetAccountAuthorizationDetails then lists it like any policy it holds;
  ``hide_from_bulk_answer`` removes it from the answer to exercise GetPolicy/GetPolicyVersion.
- Organizations: without an organization moto answers AWSOrganizationsNotInUseException (one
  call, no SCP applies). ``build_organization`` (tests/moto_organization.py) makes moto's account
  a member that may read its SCPs; tests/test_service_control_policies.py covers them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries.bucket import TokenBucket
from moto import mock_aws

from auditor import limits
from auditor.aws_managed_policies import AWS_MANAGED_POLICIES
from auditor.errors import UsageError
from auditor.sources import api_calls, live
from auditor.sources.live import collect
from auditor.sources.parse import build_estate
from builders.moto_layout import build_layout, run_instances
from tests.moto_estate import (
    CORE,
    EC2_TRUST,
    IamLayout,
    build_iam,
    build_session_preferences,
    dhmc_setting,
    managed_node,
    record_operations,
    stub_ssm,
)
from tests.moto_organization import build_organization
from tests.remediation_plans import https_cdk_out

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
AMI = "ami-12c6146b"
READ_ONLY_OPERATIONS = {call.operation for call in api_calls.ALL_CALLS}


# --- Environment -----------------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("fake_aws")


@pytest.fixture
def ec2() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


@pytest.fixture
def iam(ec2) -> Any:
    """An IAM client in the same moto account as ``ec2``."""
    return boto3.client("iam", region_name=REGION)


DHMC_ROLE = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"


def record_requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Every API operation any botocore client makes from now on, with its parameters."""
    calls: list[tuple[str, dict]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        calls.append((operation_name, dict(api_params)))
        return original(client, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def hook_sessions(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable) -> None:
    """Register ``handler`` first on ``event`` of every boto3 session collect() opens."""
    real_session = boto3.Session

    def session_with_hook(*args, **kwargs):
        session = real_session(*args, **kwargs)
        session.events.register_first(event, handler)
        return session

    monkeypatch.setattr(boto3, "Session", session_with_hook)


def hide_from_bulk_answer(monkeypatch: pytest.MonkeyPatch, *arns: str) -> None:
    """Leave these managed policies out of GetAccountAuthorizationDetails' answer.

    moto lists every managed policy it holds; AWS lists the AWS managed policies attached in the
    account. A policy a role uses but the answer lacks must be read with GetPolicy and
    GetPolicyVersion: this makes moto's answer lack one.
    """
    def drop(parsed: dict, **_kwargs: Any) -> None:
        parsed["Policies"] = [p for p in parsed.get("Policies", []) if p["Arn"] not in arns]

    hook_sessions(monkeypatch, "after-call.iam.GetAccountAuthorizationDetails", drop)


def attach_profile(ec2, instance_id: str, profile_arn: str) -> None:
    ec2.associate_iam_instance_profile(IamInstanceProfile={"Arn": profile_arn},
                                       InstanceId=instance_id)


# --- What is collected -----------------------------------------------------------------------


def test_collect_builds_the_estate_that_was_created(
        ec2, iam, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = build_layout(ec2)
    roles = build_iam(iam)
    attach_profile(ec2, layout.instance_ids[0], roles.profile_arn)
    ssm_requests: list[dict] = []
    stub_ssm(monkeypatch, dhmc_setting(DHMC_ROLE),
             [managed_node(layout.instance_ids[0]), managed_node("i-0000000000000beef")],
             ssm_requests)
    messages: list[str] = []

    captures = collect([REGION], instance_ids=layout.instance_ids, progress=messages.append)

    assert [capture.region for capture in captures] == [REGION]
    raw = captures[0]
    assert raw.errors == {}
    assert raw.account_id == ACCOUNT
    json.dumps(raw.answers)  # CLI-shaped: plain JSON, timestamps already text
    assert "ResponseMetadata" not in raw.answers["subnets"]
    estate = build_estate(raw)
    assert estate.unavailable == {}

    instance = estate.instances[layout.instance_ids[0]]
    assert (instance.vpc_id, instance.subnet_id) == (layout.vpc_id, layout.private_subnet)
    assert instance.group_ids == [layout.instance_sg]

    vpc = estate.vpcs[layout.vpc_id]
    assert vpc.cidrs == [ip_network("10.0.0.0/16")]
    assert (vpc.enable_dns_support, vpc.enable_dns_hostnames) == (True, True)
    assert vpc.dhcp_options_id == layout.dhcp_options
    assert estate.dhcp_options[layout.dhcp_options].domain_name_servers == ["AmazonProvidedDNS"]
    assert set(estate.subnets) == {layout.public_subnet, layout.private_subnet}
    assert estate.subnets[layout.private_subnet].cidr == ip_network("10.0.2.0/24")

    public_routes = {r.destination(): (r.target_kind, r.target_id)
                     for r in estate.route_tables[layout.public_table].routes}
    assert public_routes == {"10.0.0.0/16": ("local", "local"),
                             "0.0.0.0/0": ("internet_gateway", layout.igw_id)}
    assert estate.route_tables[layout.public_table].subnet_ids == [layout.public_subnet]
    private_routes = {r.destination(): (r.target_kind, r.target_id)
                      for r in estate.route_tables[layout.private_table].routes}
    assert private_routes["0.0.0.0/0"] == ("nat_gateway", layout.nat_id)
    assert private_routes[layout.prefix_list] == ("nat_gateway", layout.nat_id)
    assert any(table.is_main for table in estate.route_tables.values())

    assert estate.internet_gateways[layout.igw_id].attached_vpc_ids == [layout.vpc_id]
    nat = estate.nat_gateways[layout.nat_id]
    assert (nat.subnet_id, nat.state, nat.connectivity_type) == (
        layout.public_subnet, "available", "public")

    egress = {(rule.ports.from_port, rule.peer())
              for rule in estate.security_groups[layout.instance_sg].egress}
    assert egress == {(443, layout.endpoint_sg), (443, layout.prefix_list)}
    ingress = estate.security_groups[layout.endpoint_sg].ingress
    assert [rule.group_id for rule in ingress] == [layout.instance_sg]
    assert estate.prefix_lists[layout.prefix_list].cidrs == [ip_network("192.168.0.0/24")]
    # Only referenced lists get their entries read, and the region's S3 list (S3's addresses,
    # for session logs and patching); other AWS-managed ones are listed by name only.
    assert any(pl.name == f"com.amazonaws.{REGION}.s3" and pl.cidrs
               for pl in estate.prefix_lists.values())
    assert any(pl.name == f"com.amazonaws.{REGION}.dynamodb" and pl.cidrs is None
               for pl in estate.prefix_lists.values())

    nacl = estate.network_acls[layout.nacl_id]
    assert nacl.subnet_ids == [layout.private_subnet]
    assert [(e.rule_number, e.egress, e.allow, e.from_port, e.to_port)
            for e in nacl.entries if e.rule_number == 100] in (
        [(100, True, True, 443, 443), (100, False, True, 1024, 65535)],
        [(100, False, True, 1024, 65535), (100, True, True, 443, 443)],
    )

    endpoint = estate.vpc_endpoints[layout.endpoint_id]
    assert endpoint.service_name == f"com.amazonaws.{REGION}.ssm"
    assert (endpoint.endpoint_type, endpoint.state, endpoint.private_dns_enabled) == (
        "Interface", "available", True)
    assert endpoint.subnet_ids == [layout.private_subnet]
    assert endpoint.group_ids == [layout.endpoint_sg]
    assert endpoint.network_interface_ids == layout.endpoint_enis
    assert layout.endpoint_enis
    # moto gives the endpoint ENI the default SG and an off-subnet address: check id and subnet.
    assert set(estate.network_interfaces) == set(layout.endpoint_enis)
    eni = estate.network_interfaces[layout.endpoint_enis[0]]
    assert (eni.subnet_id, eni.vpc_id) == (layout.private_subnet, layout.vpc_id)

    assert_iam_model(estate, roles)
    assert instance.instance_profile_arn == roles.profile_arn
    # The bulk answer described every policy the role uses: nothing read one by one.
    assert raw.answers["iam_policies"] == raw.answers["iam_policy_versions"] == []
    assert set(raw.answers["iam_authorization"]) == {"RoleDetailList", "Policies"}

    setting = estate.default_host_management
    assert (setting.setting_id, setting.value, setting.status) == (
        api_calls.DHMC_SETTING_ID, DHMC_ROLE, "Customized")
    # Only the instances in scope are asked about, and only they are modelled.
    assert ssm_requests == [{"Filters": [{"Key": "InstanceIds", "Values": layout.instance_ids}]}]
    node = estate.managed_nodes[layout.instance_ids[0]]
    assert set(estate.managed_nodes) == {layout.instance_ids[0]}
    assert (node.ping_status, node.agent_version, node.is_latest_version, node.last_ping,
            node.platform_name) == ("Online", "3.3.1142.0", True, "2026-11-26T08:59:30+00:00",
                                    "Amazon Linux")

    assert f"{REGION}: describe-subnets (1 page)" in messages
    assert f"{REGION}: describe-vpc-attribute (2 calls)" in messages
    assert f"{REGION}: get-managed-prefix-list-entries (2 calls)" in messages  # and S3's
    assert "account: get-account-authorization-details (1 page)" in messages
    assert "account: get-policy (nothing in scope)" in messages
    assert f"{REGION}: get-service-setting (1 call)" in messages
    assert f"{REGION}: describe-instance-information (1 page)" in messages
    assert len(messages) == len(api_calls.ALL_CALLS)  # once per kind


def assert_iam_model(estate, roles: IamLayout) -> None:
    """The estate holds the role of ``build_iam`` as IAM describes it."""
    profile = estate.instance_profiles[roles.profile_arn]
    assert (profile.name, profile.role_names) == (f"{roles.role_name}-profile", [roles.role_name])
    # IAM lists instance profiles only through their roles: the empty one is not there.
    assert roles.empty_profile_arn not in estate.instance_profiles
    role = estate.roles[roles.role_name]
    assert role.arn == roles.role_arn
    assert role.trust_policy == EC2_TRUST
    assert sorted(role.attached_policy_arns) == sorted([roles.core_arn, roles.local_policy_arn])
    assert role.permissions_boundary_arn == roles.boundary_arn
    assert list(role.inline_policies) == ["no-s3"]
    assert role.inline_policies["no-s3"]["Statement"][0]["Effect"] == "Deny"
    assert role.tags == {"team": "platform"}
    core = estate.managed_policies[roles.core_arn]
    assert (core.name, core.aws_managed, core.document) == (CORE, True, AWS_MANAGED_POLICIES[CORE])
    local = estate.managed_policies[roles.local_policy_arn]
    assert (local.name, local.aws_managed) == (f"{roles.role_name}-logs", False)
    assert local.document["Statement"][0]["Action"] == "logs:PutLogEvents"
    boundary = estate.managed_policies[roles.boundary_arn]
    assert "ssmmessages:*" in boundary.document["Statement"][0]["Action"]


def test_all_mode_reads_every_vpc_unfiltered(ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_layout(ec2)
    second = build_layout(ec2, cidr="10.1.0.0/16")
    ssm_requests: list[dict] = []
    stub_ssm(monkeypatch, None, [managed_node(first.instance_ids[0]),
                                 managed_node("mi-0123456789abcdef0")], ssm_requests)

    estate = build_estate(collect([REGION])[0])

    assert estate.unavailable == {}
    assert ssm_requests == [{}]  # the whole region's view, unfiltered
    assert set(estate.managed_nodes) == {first.instance_ids[0], "mi-0123456789abcdef0"}
    assert set(first.instance_ids + second.instance_ids) <= set(estate.instances)
    assert {first.vpc_id, second.vpc_id} <= set(estate.vpcs)
    assert estate.vpcs[second.vpc_id].enable_dns_hostnames is True
    assert {first.endpoint_id, second.endpoint_id} <= set(estate.vpc_endpoints)
    assert estate.prefix_lists[second.prefix_list].cidrs == [ip_network("192.168.0.0/24")]


# --- Read-only, and a cost that does not grow with the fleet ---------------------------------


@pytest.mark.parametrize("scoped", [True, False], ids=["instances", "all"])
def test_collect_calls_only_the_listed_read_only_operations(
        ec2, iam, monkeypatch: pytest.MonkeyPatch, dns_services, scoped: bool) -> None:
    layout = build_layout(ec2)
    roles = build_iam(iam)
    hide_from_bulk_answer(monkeypatch, roles.core_arn)  # so that GetPolicy* run too
    # A member account that may read its SCPs, so that every Organizations call runs too; and
    # Session Manager preferences naming a key, a bucket and a log group.
    build_organization(boto3.client("organizations", region_name=REGION))
    build_session_preferences()
    # A zone, a DNS Firewall rule group and a Route 53 Profile on the VPC, so that every DNS
    # call runs too (the records, the rules, the domains, the profile's resources).
    boto3.client("route53", region_name=REGION).create_hosted_zone(
        Name=f"{REGION}.amazonaws.com", CallerReference="zone",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": layout.vpc_id})
    dns_services.rule_group([layout.vpc_id], [{
        "Priority": 1, "Action": "BLOCK", "BlockResponse": "NODATA",
        "FirewallDomainListId": dns_services.domain_list(["example.com"])}])
    dns_services.profile([layout.vpc_id], [])
    # A transit gateway with a route table, so that every transit gateway call runs too.
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=layout.vpc_id,
                                              SubnetIds=[layout.private_subnet])
    ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)
    operations = record_operations(monkeypatch)

    collect([REGION], instance_ids=layout.instance_ids if scoped else None)

    assert operations, "no API call was recorded"
    # SearchTransitGatewayRoutes is the only read of a transit gateway's routes (ec2:Search*
    # is read-only, in AWS's ReadOnlyAccess policy).
    assert all(name.startswith(api_calls.READ_ONLY_PREFIXES) for name in operations), \
        operations
    assert set(operations) <= READ_ONLY_OPERATIONS
    # Every kind was read, including the per-resource calls.
    assert set(operations) == READ_ONLY_OPERATIONS


@pytest.mark.parametrize("scoped", [True, False], ids=["instances", "all"])
def test_call_count_does_not_grow_with_instances(
        ec2, iam, monkeypatch: pytest.MonkeyPatch, scoped: bool) -> None:
    layout = build_layout(ec2, instances=1)
    roles = build_iam(iam)
    hide_from_bulk_answer(monkeypatch, roles.core_arn)
    stub_ssm(monkeypatch, None, [])
    build_session_preferences()  # one call per key, bucket and log group, never per instance
    operations = record_operations(monkeypatch)
    collect([REGION], instance_ids=list(layout.instance_ids) if scoped else None)
    with_one = Counter(operations)

    run_instances(ec2, layout, 29)
    for instance_id in layout.instance_ids:
        attach_profile(ec2, instance_id, roles.profile_arn)
    operations.clear()
    raw = collect([REGION], instance_ids=list(layout.instance_ids) if scoped else None)[0]
    with_thirty = Counter(operations)

    assert len(build_estate(raw).instances) >= 30
    assert with_thirty == with_one
    assert with_one["DescribeInstances"] == 1
    # Two DNS attributes for each VPC in scope; the default VPC joins in --all mode.
    assert with_one["DescribeVpcAttribute"] == (2 if scoped else 4)
    # IAM is two bulk calls (roles and policies; users and groups), whatever the number of
    # instances and profiles; GetPolicy and GetPolicyVersion only for the one attached policy
    # that answer lacked.
    iam_calls = ("GetAccountAuthorizationDetails", "GetPolicy", "GetPolicyVersion")
    assert [with_thirty[name] for name in iam_calls] == [2, 1, 1]
    # Without a transit gateway, one empty page of DescribeTransitGateways and of
    # DescribeVpcPeeringConnections; the other transit gateway reads are not made.
    assert with_one["DescribeTransitGateways"] == with_one["DescribeVpcPeeringConnections"] == 1
    assert not any(with_one[name] for name in (
        "DescribeTransitGatewayAttachments", "DescribeTransitGatewayVpcAttachments",
        "DescribeTransitGatewayRouteTables", "SearchTransitGatewayRoutes"))
    assert with_thirty["DescribeInstanceInformation"] == with_thirty["GetServiceSetting"] == 1
    session = ("GetDocument", "DescribeKey", "GetKeyPolicy", "ListGrants", "GetBucketLocation",
               "GetBucketPolicy", "GetBucketEncryption", "DescribeLogGroups")
    # The preferences' key is also the bucket's SSE-KMS key: described once by alias, once by
    # the ARN the bucket names; its policy and grants once.
    assert [with_thirty[name] for name in session] == [1, 2, 1, 1, 1, 1, 1, 1]


def test_instance_information_filters_are_chunked(ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = build_layout(ec2, instances=5)
    monkeypatch.setattr(live, "SSM_FILTER_CHUNK", 2)
    ssm_requests: list[dict] = []
    stub_ssm(monkeypatch, None, [managed_node(i) for i in layout.instance_ids], ssm_requests)

    estate = build_estate(collect([REGION], instance_ids=layout.instance_ids)[0])

    assert [len(r["Filters"][0]["Values"]) for r in ssm_requests] == [2, 2, 1]
    assert set(estate.managed_nodes) == set(layout.instance_ids)


# --- Scoping to instances ---------------------------------------------------------------------


def test_scoping_reads_only_the_vpcs_of_the_instances(
        ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = build_layout(ec2)
    other = build_layout(ec2, cidr="10.1.0.0/16")
    unknown_id = "i-0123456789abcdef0"
    stub_ssm(monkeypatch, None, [managed_node(other.instance_ids[0])])

    raw = collect([REGION], instance_ids=[layout.instance_ids[0], unknown_id])[0]
    estate = build_estate(raw)

    assert raw.errors == {}
    assert set(estate.instances) == {layout.instance_ids[0]}
    assert set(estate.vpcs) == {layout.vpc_id}
    assert {s.vpc_id for s in estate.subnets.values()} == {layout.vpc_id}
    assert {g.vpc_id for g in estate.security_groups.values()} == {layout.vpc_id}
    assert {t.vpc_id for t in estate.route_tables.values()} == {layout.vpc_id}
    assert {n.vpc_id for n in estate.network_acls.values()} == {layout.vpc_id}
    assert set(estate.vpc_endpoints) == {layout.endpoint_id}
    assert set(estate.nat_gateways) == {layout.nat_id}
    assert set(estate.internet_gateways) == {layout.igw_id}
    assert set(estate.dhcp_options) == {layout.dhcp_options}
    assert set(estate.network_interfaces) == set(layout.endpoint_enis)
    assert [answer["VpcId"] for answer in raw.answers["vpc_attributes"]] == [layout.vpc_id] * 2
    entries = {answer["PrefixListId"] for answer in raw.answers["prefix_list_entries"]}
    s3 = {pl["PrefixListId"] for pl in raw.answers["prefix_lists"]["PrefixLists"]
          if pl["PrefixListName"] == f"com.amazonaws.{REGION}.s3"}
    assert entries == {layout.prefix_list, *s3}
    assert other.vpc_id not in estate.vpcs
    assert estate.managed_nodes == {}


def test_unknown_instance_only_reads_instances(ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    build_layout(ec2)
    operations = record_operations(monkeypatch)

    raw = collect([REGION], instance_ids=["i-0123456789abcdef0"])[0]

    assert operations == ["DescribeInstances"]
    assert raw.answers == {"instances": {"Reservations": []}}
    assert raw.errors == {}


def test_many_instance_ids_are_chunked_into_filters(ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = build_layout(ec2)
    wanted = [f"i-{number:017x}" for number in range(1, 251)] + layout.instance_ids
    operations = record_operations(monkeypatch)

    estate = build_estate(collect([REGION], instance_ids=wanted)[0])

    assert Counter(operations)["DescribeInstances"] == 2  # 251 ids, 200 per filter
    assert set(estate.instances) == set(layout.instance_ids)


# --- Refused calls ---------------------------------------------------------------------------


def error_answer(code: str, status: int) -> Callable[..., tuple[AWSResponse, dict]]:
    """A before-call handler answering with an API error: botocore does not retry it."""
    def answer(**_kwargs):
        parsed = {"Error": {"Code": code, "Message": f"{code} injected by the test"},
                  "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://ec2.test", status, {}, None), parsed
    return answer


@pytest.mark.parametrize(("code", "status"), [
    ("AccessDenied", 403),
    ("UnauthorizedOperation", 403),
    ("Throttling", 400),
    ("RequestLimitExceeded", 503),
    ("InternalError", 500),
])
def test_refused_call_is_recorded_and_the_rest_collected(
        ec2, monkeypatch: pytest.MonkeyPatch, code: str, status: int) -> None:
    layout = build_layout(ec2)
    stub_ssm(monkeypatch, None, [])
    hook_sessions(monkeypatch, "before-call.ec2.DescribeNetworkAcls", error_answer(code, status))
    started = time.monotonic()

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert time.monotonic() - started < 10
    assert raw.errors == {"network_acls": f"{code}: {code} injected by the test"}
    assert "network_acls" not in raw.answers
    estate = build_estate(raw)
    assert estate.unavailable == {"network_acls": raw.errors["network_acls"]}
    assert estate.network_acls == {}
    assert layout.private_subnet in estate.subnets
    assert layout.endpoint_id in estate.vpc_endpoints


def _throttle_security_groups(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[float]]:
    """Every DescribeSecurityGroups attempt answered RequestLimitExceeded (503); the back-off
    sleeps recorded, not slept."""
    attempts: list[str] = []
    throttled = (b"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error>"
                 b"<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
                 b"</Error></Errors><RequestID>test</RequestID></Response>")

    def throttle(request, **_kwargs):
        attempts.append(request.url)
        return AWSResponse(request.url, 503, {}, _Body(throttled))

    hook_sessions(monkeypatch, "before-send.ec2.DescribeSecurityGroups", throttle)
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)  # the back-off between attempts
    # Adaptive mode also slows the client's send rate after throttling: let it send at once.
    monkeypatch.setattr(TokenBucket, "acquire", lambda _bucket, amount=1, block=True: True)
    return attempts, sleeps


def test_throttling_after_all_retries_is_recorded(ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry path: without AWS_MAX_ATTEMPTS, three attempts in the standard mode
    (sleeps patched out), then the kind is recorded as unreadable."""
    layout = build_layout(ec2)
    stub_ssm(monkeypatch, None, [])
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    attempts, sleeps = _throttle_security_groups(monkeypatch)

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert len(attempts) == limits.LIVE_MAX_ATTEMPTS.value == 3
    assert len(sleeps) == 2
    assert raw.errors == {"security_groups": "RequestLimitExceeded: Request limit exceeded."}
    assert build_estate(raw).unavailable == {"security_groups": raw.errors["security_groups"]}


@pytest.mark.parametrize(("variables", "attempts"), [
    ({"AWS_MAX_ATTEMPTS": "5"}, 5),
    ({"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "adaptive"}, 1),
    ({"AWS_RETRY_MODE": "legacy"}, 3),
])
def test_the_sdk_retry_variables_are_honoured(ec2, monkeypatch: pytest.MonkeyPatch,
                                              variables: dict[str, str], attempts: int) -> None:
    layout = build_layout(ec2)
    stub_ssm(monkeypatch, None, [])
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    sent, _ = _throttle_security_groups(monkeypatch)
    modes: list[str] = []
    real_client = live.client

    def client(session, service, region, **credentials):
        made = real_client(session, service, region, **credentials)
        modes.append(made.meta.config.retries["mode"])
        return made

    monkeypatch.setattr(live, "client", client)

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert len(sent) == attempts
    assert set(modes) == {variables.get("AWS_RETRY_MODE", live.DEFAULT_RETRY_MODE)}
    assert "security_groups" in raw.errors


def test_the_sdk_retry_settings_of_the_profile_are_honoured(
        ec2, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    layout = build_layout(ec2)
    stub_ssm(monkeypatch, None, [])
    config = tmp_path / "config"
    config.write_text("[profile retrying]\nregion = us-east-1\nmax_attempts = 4\n"
                      "retry_mode = adaptive\naws_access_key_id = testing\n"
                      "aws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    sent, _ = _throttle_security_groups(monkeypatch)

    collect([REGION], "retrying", instance_ids=layout.instance_ids)

    assert len(sent) == 4


def test_operation_missing_from_the_endpoint_is_recorded(
        ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = build_layout(ec2)
    stub_ssm(monkeypatch, None, [])

    def not_implemented(**_kwargs):
        raise NotImplementedError("The describe_vpc_endpoints action has not been implemented")

    hook_sessions(monkeypatch, "before-call.ec2.DescribeVpcEndpoints", not_implemented)

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert raw.errors["vpc_endpoints"].startswith("NotImplemented: The describe_vpc_endpoints")
    # Endpoint ENIs cannot be named without the endpoints: said so, not silently empty.
    assert "vpc_endpoints" in raw.errors["network_interfaces"]
    assert set(raw.errors) == {"vpc_endpoints", "network_interfaces"}
    assert build_estate(raw).subnets


def test_denied_describe_instances_is_a_usage_error(ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    build_layout(ec2)
    hook_sessions(monkeypatch, "before-call.ec2.DescribeInstances",
                  error_answer("UnauthorizedOperation", 403))

    with pytest.raises(UsageError, match=f"{REGION}.*UnauthorizedOperation"):
        collect([REGION])


# --- IAM and Systems Manager ------------------------------------------------------------------


def test_moto_lacks_the_systems_manager_calls(ec2, iam) -> None:
    """Not stubbed: moto raises NotImplementedError; both kinds are recorded, nothing crashes."""
    layout = build_layout(ec2)
    roles = build_iam(iam)

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert raw.errors == {
        "dhmc_setting": "NotImplemented: The get_service_setting action has not been "
                        "implemented",
        "instance_information": "NotImplemented: The describe_instance_information action "
                                "has not been implemented",
    }
    estate = build_estate(raw)
    assert estate.unavailable == raw.errors
    assert estate.default_host_management is None
    assert estate.managed_nodes == {}
    assert_iam_model(estate, roles)  # the rest is collected


def test_service_setting_not_found_means_not_set(ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = build_layout(ec2)
    stub_ssm(monkeypatch, None, [])  # GetServiceSetting answers ServiceSettingNotFound

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert raw.answers["dhmc_setting"] == {"ServiceSetting": None}
    assert "dhmc_setting" not in raw.errors
    setting = build_estate(raw).default_host_management
    assert (setting.setting_id, setting.value) == (api_calls.DHMC_SETTING_ID, None)


def test_policy_missing_from_the_bulk_answer_is_read_one_by_one(
        ec2, iam, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = build_layout(ec2)
    roles = build_iam(iam)
    hide_from_bulk_answer(monkeypatch, roles.core_arn)
    stub_ssm(monkeypatch, None, [])
    calls = record_requests(monkeypatch)

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    iam_calls = [(name, params) for name, params in calls if name.startswith("GetPolicy")]
    assert iam_calls == [("GetPolicy", {"PolicyArn": roles.core_arn}),
                         ("GetPolicyVersion", {"PolicyArn": roles.core_arn, "VersionId": "v2"})]
    [policy] = raw.answers["iam_policies"]
    [version] = raw.answers["iam_policy_versions"]
    assert policy["PolicyArn"] == version["PolicyArn"] == roles.core_arn
    assert policy["Policy"]["DefaultVersionId"] == version["PolicyVersion"]["VersionId"] == "v2"
    json.dumps(raw.answers)  # dates already text
    assert raw.errors == {}
    assert_iam_model(build_estate(raw), roles)


def test_ssm_refusing_unmanaged_ids_falls_back_to_the_whole_list(
        ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should SSM answer InvalidInstanceId for a filter naming instances it does not manage,
    the region's whole list is read instead; the parser keeps the instances in scope."""
    layout = build_layout(ec2, instances=2)
    requests: list[dict] = []

    def describe(params: dict, **_kwargs):
        request = json.loads(params["body"])
        requests.append(request)
        if request.get("Filters"):
            parsed = {"Error": {"Code": "InvalidInstanceId", "Message": "not managed"},
                      "ResponseMetadata": {"HTTPStatusCode": 400}}
            return AWSResponse("https://ssm.test", 400, {}, None), parsed
        parsed = {"InstanceInformationList": [managed_node(layout.instance_ids[0]),
                                              managed_node("i-0000000000000beef")],
                  "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse("https://ssm.test", 200, {}, None), parsed

    hook_sessions(monkeypatch, "before-call.ssm.DescribeInstanceInformation", describe)

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert [bool(request.get("Filters")) for request in requests] == [True, False]
    assert "instance_information" not in raw.errors
    assert set(build_estate(raw, layout.instance_ids).managed_nodes) == {layout.instance_ids[0]}

def test_iam_is_read_once_for_every_region(ec2, iam, monkeypatch: pytest.MonkeyPatch) -> None:
    build_layout(ec2)
    build_iam(iam)
    stub_ssm(monkeypatch, None, [])
    operations = record_operations(monkeypatch)

    captures = collect([REGION, "eu-west-1"])

    counts = Counter(operations)
    assert counts["GetAccountAuthorizationDetails"] == 2  # roles; users and groups
    assert counts["GetServiceSetting"] == counts["DescribeInstanceInformation"] == 2
    first, second = (capture.answers["iam_authorization"] for capture in captures)
    assert first is second  # the same answer, read once
    assert [set(build_estate(c).roles) for c in captures] == [{"agent-role"}, {"agent-role"}]


def test_refused_iam_is_recorded_and_the_rest_collected(
        ec2, iam, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = build_layout(ec2)
    build_iam(iam)
    stub_ssm(monkeypatch, None, [])
    hook_sessions(monkeypatch, "before-call.iam.GetAccountAuthorizationDetails",
                  error_answer("AccessDenied", 403))
    operations = record_operations(monkeypatch)

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert raw.errors == {
        "iam_authorization": "AccessDenied: AccessDenied injected by the test",
        "iam_policies": "not read: iam_authorization could not be read",
        "iam_policy_versions": "not read: iam_authorization could not be read",
        "iam_principals": "AccessDenied: AccessDenied injected by the test",
    }
    assert "GetPolicy" not in operations
    estate = build_estate(raw)
    assert estate.unavailable == raw.errors
    assert estate.roles == {} and estate.instance_profiles == {}
    assert layout.private_subnet in estate.subnets


class _Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_kwargs):
        yield self.content


@pytest.mark.parametrize(("body", "attempts", "reason"), [
    # A bare error page where EC2 answers XML: botocore cannot parse it and does not retry.
    (b"<!doctype html><title>500 Internal Server Error</title>", 1,
     "ResponseParserError: Unable to parse response (syntax error: line 1, column 0), invalid "
     "XML received. Further retries may succeed:"),
    # An internal error AWS names: retried as usual.
    (b"<Response><Errors><Error><Code>InternalError</Code><Message>try again</Message>"
     b"</Error></Errors><RequestID>test</RequestID></Response>", 3,
     "InternalError: try again"),
], ids=["bare-500", "aws-500-retried"])
def test_500_is_recorded_and_retried_only_when_aws_named_it(
        ec2, monkeypatch: pytest.MonkeyPatch, body: bytes, attempts: int, reason: str) -> None:
    # Through EC2: under mock_aws, moto's own before-send handler raises NotImplementedError for
    # the Systems Manager calls even when another handler answers. A bare 500 from a JSON API
    # (Systems Manager) is test_moto_server_gaps_cost_one_request_each.
    layout = build_layout(ec2)
    stub_ssm(monkeypatch, None, [])
    sent: list[str] = []

    def fail(request, **_kwargs):
        sent.append(request.url)
        return AWSResponse(request.url, 500, {}, _Body(body))

    hook_sessions(monkeypatch, "before-send.ec2.DescribeNetworkAcls", fail)
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
    monkeypatch.setattr(TokenBucket, "acquire", lambda _bucket, amount=1, block=True: True)

    raw = collect([REGION], instance_ids=layout.instance_ids)[0]

    assert len(sent) == attempts
    assert raw.errors == {"network_acls": reason}


def test_moto_server_gaps_cost_one_request_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a real HTTP moto server (what the acceptance checks use), the Systems Manager
    calls it lacks answer a bare HTTP 500: one request each, recorded, no minute of retries."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # its traceback per 500
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        layout = build_layout(boto3.client("ec2", region_name=REGION))
        build_iam(boto3.client("iam", region_name=REGION))
        sends: Counter = Counter()
        hook_sessions(monkeypatch, "before-send",
                      lambda event_name="", **_: sends.update([event_name.rsplit(".", 1)[-1]]))
        started = time.monotonic()

        raw = collect([REGION], instance_ids=layout.instance_ids)[0]

        assert time.monotonic() - started < 20
    finally:
        server.stop()
    assert sends["GetServiceSetting"] == sends["DescribeInstanceInformation"] == 1
    assert set(raw.errors) == {"dhmc_setting", "instance_information"}
    assert raw.errors["dhmc_setting"].startswith("HTTP 500: the endpoint answered "
                                                 "GetServiceSetting without an AWS error")
    estate = build_estate(raw)
    assert estate.roles["agent-role"].attached_policy_arns
    assert set(estate.unavailable) == {"dhmc_setting", "instance_information"}


# --- AWS unusable ----------------------------------------------------------------------------


def test_no_region_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    with pytest.raises(UsageError, match="no AWS region: pass --region or set AWS_REGION"):
        collect(None)


def test_aws_region_variable_is_honoured(ec2, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    assert [capture.region for capture in collect(None)] == ["eu-west-1"]


def test_unknown_profile_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="could not be found"):
        collect([REGION], profile="no-such-profile")


def test_no_credentials_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(UsageError, match="Unable to locate credentials") as raised:
        collect([REGION])
    assert "\n" not in str(raised.value)


def test_unreachable_endpoint_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)

    with pytest.raises(UsageError, match="Could not connect to the endpoint URL"):
        collect([REGION])


def test_importing_the_live_source_does_not_import_boto3() -> None:
    code = ("import sys, auditor.sources.live; "
            "sys.exit(any(m.split('.')[0] in ('boto3', 'botocore') for m in sys.modules))")
    repository = Path(__file__).resolve().parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=repository,
                          check=False).returncode == 0


def _template(path: Path, subnet_id: str, group_id: str) -> Path:
    """A template that launches one instance into the live account's subnet and group."""
    path.write_text(json.dumps({"Resources": {"App": {
        "Type": "AWS::EC2::Instance", "Properties": {
            "ImageId": AMI, "InstanceType": "t3.micro", "SubnetId": subnet_id,
            "SecurityGroupIds": [group_id]}}}}))
    return path


# Every command that can read the account: the audit (with --plan and --verify-plan), the
# snapshot, the pre-launch check of a template or of a planned instance over the live
# account, and organization mode (the audit and the snapshot of moto's organization, whose
# management account moto's is: read with the caller's credentials, no role assumed).
@pytest.mark.parametrize("argv", [
    ["--all", "--format", "json"],
    ["--instance", "INSTANCE", "--format", "json"],
    ["--all", "--format", "text", "-v"],
    ["snapshot", "--out", "SNAPSHOT_DIR"],
    ["--all", "--plan", "PLAN_FILE"],
    ["--instance", "INSTANCE", "--verify-plan", "CDK_OUT"],
    ["prelaunch", "TEMPLATE", "--live", "--region", REGION, "--format", "json"],
    ["prelaunch", "--subnet", "SUBNET", "--security-group", "GROUP", "--region", REGION],
    ["--all", "--org", "--regions", REGION, "--format", "json", "-q"],
    ["snapshot", "--org", "--out", "SNAPSHOT_DIR", "--regions", REGION, "-q"],
], ids=["audit-all", "audit-instance", "audit-text", "snapshot", "plan", "verify-plan",
        "prelaunch-live", "planned-instance", "org-audit", "org-snapshot"])
def test_every_command_that_reads_the_account_is_read_only(
        ec2, monkeypatch: pytest.MonkeyPatch, tmp_path, capsys, argv: list[str]) -> None:
    from auditor.cli import main

    layout = build_layout(ec2)
    placeholders = {
        "INSTANCE": layout.instance_ids[0], "SNAPSHOT_DIR": str(tmp_path / "snap"),
        "PLAN_FILE": str(tmp_path / "plan.json"), "SUBNET": layout.private_subnet,
        "GROUP": layout.instance_sg,
        "CDK_OUT": str(https_cdk_out(tmp_path / "cdk.out", layout.instance_sg)),
        "TEMPLATE": str(_template(tmp_path / "t.json", layout.private_subnet,
                                  layout.instance_sg)),
    }
    allowed = READ_ONLY_OPERATIONS
    if "--org" in argv:
        from tests.moto_organization import build_organization

        build_organization(boto3.client("organizations", region_name=REGION), member=False)
        allowed = {call.operation for call in api_calls.EVERY_CALL} - {"AssumeRole"}
    operations = record_operations(monkeypatch)

    code = main([placeholders.get(arg, arg) for arg in argv])

    assert code in (0, 1, 3), capsys.readouterr().err
    assert operations, "no API call was recorded"
    assert "DescribeInstances" in operations
    assert all(name.startswith(api_calls.READ_ONLY_PREFIXES) for name in operations), operations
    assert set(operations) <= allowed
    if "--org" in argv:
        assert {"ListAccounts", "DescribeOrganization"} <= set(operations)


def test_snapshot_round_trip_gives_the_live_answer(ec2, tmp_path, capsys) -> None:
    from auditor.cli import main

    build_layout(ec2)
    live_code = main(["--all", "--format", "json"])
    live_report = json.loads(capsys.readouterr().out)
    assert main(["snapshot", "--out", str(tmp_path / "snap")]) == 0
    capsys.readouterr()

    offline_code = main(["--all", "--format", "json", "--snapshot", str(tmp_path / "snap")])
    offline_report = json.loads(capsys.readouterr().out)

    assert offline_code == live_code
    assert offline_report["source"]["kind"] == "snapshot"
    assert offline_report["instances"] == live_report["instances"]
    assert offline_report["instances"], "the layout has instances"
