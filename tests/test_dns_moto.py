"""DNS as the VPC resolver answers it, built in moto and read through the live source: Route 53
private hosted zones and their records, Resolver rules, and (faked: tests/moto_dns.py) DNS
Firewall and Route 53 Profiles; in process and through a moto server, live and from a snapshot.

moto gaps, and where the tests seed around them:
- DNS Firewall and Route 53 Profiles are not implemented: ``dns_services`` (tests/conftest.py)
  answers their six List operations from a fake the test fills;
- ListHostedZonesByVPC ignores VPCRegion and has no pagination: the reader's loop is exercised
  with one page;
- an interface endpoint's DNS names are "vpce-...-xxxxxxxx.com.amazonaws.REGION.SERVICE" (AWS
  writes "vpce-...-xxxxxxxx.SERVICE.REGION.vpce.amazonaws.com"): the auditor ties a record to an
  endpoint by the endpoint's own DnsEntries first, so moto's names work as they are.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from auditor.cli import main
from auditor.sources import api_calls
from tests.moto_dns import FakeDnsServices
from tests.moto_estate import REGION, MotoVpc, audit, record_operations

pytestmark = pytest.mark.usefixtures("fake_aws", "shared_botocore_loader")

SSM = f"ssm.{REGION}.amazonaws.com"
EXIT_OK, EXIT_NOT_MANAGEABLE, EXIT_UNKNOWN = 0, 1, 3


def private_zone(vpc: MotoVpc, name: str) -> str:
    route53 = boto3.client("route53", region_name=REGION)
    zone = route53.create_hosted_zone(
        Name=name, CallerReference=name, HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": vpc.vpc_id})["HostedZone"]["Id"]
    return zone.rsplit("/", 1)[-1]


def record(zone: str, name: str, *, alias: str | None = None,
           values: tuple[str, ...] = (), record_type: str = "A") -> None:
    record_set: dict[str, Any] = {"Name": name, "Type": record_type}
    if alias:
        record_set["AliasTarget"] = {"HostedZoneId": "Z7HUB22UULQXV", "DNSName": alias,
                                     "EvaluateTargetHealth": False}
    else:
        record_set.update(TTL=60, ResourceRecords=[{"Value": value} for value in values])
    boto3.client("route53", region_name=REGION).change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE",
                                                     "ResourceRecordSet": record_set}]})


def endpoint_dns_name(vpc: MotoVpc, endpoint_id: str) -> str:
    [endpoint] = vpc.ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    return endpoint["DnsEntries"][0]["DnsName"]


def forward_rule(vpc: MotoVpc, domain: str) -> str:
    resolver = boto3.client("route53resolver", region_name=REGION)
    endpoint = resolver.create_resolver_endpoint(
        CreatorRequestId="outbound", SecurityGroupIds=[vpc.endpoint_sg], Direction="OUTBOUND",
        IpAddresses=[{"SubnetId": vpc.private_subnet}, {"SubnetId": vpc.public_subnet}],
    )["ResolverEndpoint"]["Id"]
    rule = resolver.create_resolver_rule(
        CreatorRequestId=f"rule-{domain}", RuleType="FORWARD", DomainName=domain,
        TargetIps=[{"Ip": "192.168.10.2", "Port": 53}], ResolverEndpointId=endpoint,
    )["ResolverRule"]["Id"]
    resolver.associate_resolver_rule(ResolverRuleId=rule, VPCId=vpc.vpc_id)
    return rule


def codes(instance: dict, service: str = "ssm") -> set[tuple[str, str]]:
    return {(f["code"], f["resource_id"]) for f in instance["findings"]
            if f["service"] == service}


# --- private hosted zones ----------------------------------------------------------------------


def test_a_zone_overriding_the_names_in_one_vpc_blocks_what_the_nat_would_carry(capsys, vpc):
    vpc.private_subnet_via_nat()
    instance_id = vpc.instance()
    assert audit(capsys, instance_id)[0] == EXIT_OK  # the all-clear that was wrong
    zone = private_zone(vpc, f"{REGION}.amazonaws.com")

    code, instance = audit(capsys, instance_id)

    assert (code, instance["verdict"]) == (EXIT_NOT_MANAGEABLE, "not_manageable")
    for service in ("ssm", "ssmmessages", "ec2messages"):
        assert instance["services"][service]["status"] == "blocked"
        assert ("PRIVATE_HOSTED_ZONE_OVERRIDE", zone) in codes(instance, service)


def test_a_zone_aliasing_the_name_to_an_endpoint(capsys, vpc):
    vpc.private_subnet_via_nat()
    endpoints = vpc.endpoints(("ssm",), private_dns=False)
    zone = private_zone(vpc, SSM)
    record(zone, SSM, alias=endpoint_dns_name(vpc, endpoints["ssm"]))

    code, instance = audit(capsys, vpc.instance())

    ssm = instance["services"]["ssm"]
    assert (code, ssm["status"], ssm["via"]) == (EXIT_OK, "reachable", "interface_endpoint")
    assert ssm["path"][0]["resource_id"] == endpoints["ssm"]
    assert ("PRIVATE_HOSTED_ZONE_OVERRIDE", zone) in codes(instance)
    assert instance["services"]["ssmmessages"]["via"] == "nat_gateway"


def test_a_forward_rule_makes_the_name_unknown(capsys, vpc):
    vpc.private_subnet_via_nat()
    rule = forward_rule(vpc, "amazonaws.com")

    code, instance = audit(capsys, vpc.instance())

    assert (code, instance["verdict"]) == (EXIT_UNKNOWN, "unknown")
    assert ("RESOLVER_RULE_FORWARDS", rule) in codes(instance)


def test_a_dns_firewall_rule_blocks_the_names(capsys, vpc, dns_services: FakeDnsServices):
    vpc.private_subnet_via_nat()
    group = dns_services.rule_group([vpc.vpc_id], [{
        "Priority": 1, "Action": "BLOCK", "BlockResponse": "NODATA",
        "FirewallDomainListId": dns_services.domain_list(["*.amazonaws.com"])}])

    code, instance = audit(capsys, vpc.instance())

    assert (code, instance["verdict"]) == (EXIT_NOT_MANAGEABLE, "not_manageable")
    assert ("DNS_FIREWALL_BLOCKS", group) in codes(instance)


def test_a_profile_brings_a_zone(capsys, vpc, dns_services: FakeDnsServices):
    vpc.private_subnet_via_nat()
    other = vpc.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    route53 = boto3.client("route53", region_name=REGION)
    zone = route53.create_hosted_zone(
        Name=f"{REGION}.amazonaws.com", CallerReference="shared",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": other})["HostedZone"]["Id"].rsplit("/", 1)[-1]
    dns_services.profile([vpc.vpc_id], [f"arn:aws:route53:::hostedzone/{zone}"])

    code, instance = audit(capsys, vpc.instance())

    assert code == EXIT_NOT_MANAGEABLE
    assert ("PRIVATE_HOSTED_ZONE_OVERRIDE", zone) in codes(instance)


# --- collection: what it reads and what it costs ---------------------------------------------


def test_dns_reads_are_read_only_and_cost_one_page_per_vpc(vpc, monkeypatch, dns_services):
    from auditor.sources.live import collect

    vpc.private_subnet_via_nat()
    for _ in range(3):  # VPCs without zones
        vpc.ec2.create_vpc(CidrBlock="10.50.0.0/16")
    zone = private_zone(vpc, SSM)
    record(zone, SSM, values=("10.0.2.200",))
    private_zone(vpc, "corp.example.com")  # not a parent of any service name: never listed
    vpc.instance()
    operations = record_operations(monkeypatch)

    raw = collect([REGION])[0]

    read_only = {call.operation for call in api_calls.ALL_CALLS}
    assert set(operations) <= read_only
    counted = Counter(operations)
    vpcs = len(vpc.ec2.describe_vpcs()["Vpcs"])
    assert counted["ListHostedZonesByVPC"] == vpcs  # one page each, zones or not
    assert counted["ListResourceRecordSets"] == 1  # only the zone that may answer
    for operation in ("ListResolverRules", "ListResolverRuleAssociations",
                      "ListFirewallRuleGroupAssociations", "ListProfileAssociations"):
        assert counted[operation] == 1, operation
    assert counted["ListFirewallRules"] == counted["ListFirewallDomains"] == 0
    assert [answer["HostedZoneId"] for answer in raw.answers["record_sets"]] == [zone]
    assert not {kind for kind in raw.errors if kind in {c.kind for c in api_calls.DNS_CALLS}}


def test_scoped_reading_follows_the_name_to_the_hub_vpc(vpc, monkeypatch):
    """--instance reads the instance's VPC, and the VPC of the endpoint its zone aliases."""
    from auditor.sources.live import collect
    from auditor.sources.parse import build_estate

    ec2 = vpc.ec2
    hub = ec2.create_vpc(CidrBlock="10.100.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=hub, CidrBlock="10.100.1.0/24")["Subnet"]["SubnetId"]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=hub, ServiceName=f"com.amazonaws.{REGION}.ssm", VpcEndpointType="Interface",
        SubnetIds=[subnet], PrivateDnsEnabled=False)["VpcEndpoint"]["VpcEndpointId"]
    bystander = ec2.create_vpc(CidrBlock="10.101.0.0/16")["Vpc"]["VpcId"]
    zone = private_zone(vpc, SSM)
    record(zone, SSM, alias=endpoint_dns_name(vpc, endpoint))
    instance_id = vpc.instance()

    raw = collect([REGION], instance_ids=[instance_id])[0]
    estate = build_estate(raw, [instance_id])

    assert hub in estate.vpcs and endpoint in estate.vpc_endpoints
    assert bystander not in estate.vpcs
    assert subnet in estate.subnets  # the hub's network is read too, for the path there
    assert estate.dns.reached_endpoints_by_vpc[vpc.vpc_id] == [endpoint]


# --- through a moto server, live and from a snapshot -----------------------------------------


def test_live_and_snapshot_agree_through_a_moto_server(moto_server, tmp_path: Path, capsys,
                                                       dns_services: FakeDnsServices):
    vpc = MotoVpc.create(boto3.client("ec2", region_name=REGION))
    vpc.private_subnet_via_nat()
    endpoints = vpc.endpoints(("ssm",), private_dns=False)
    zone = private_zone(vpc, SSM)
    record(zone, SSM, alias=endpoint_dns_name(vpc, endpoints["ssm"]))
    blocked = private_zone(vpc, f"ssmmessages.{REGION}.amazonaws.com")
    rule = forward_rule(vpc, f"ec2messages.{REGION}.amazonaws.com")
    instance_id = vpc.instance()

    live_code, live = audit(capsys, instance_id)
    assert main(["snapshot", "--out", str(tmp_path / "snap"), "--region", REGION]) == 0
    capsys.readouterr()
    snapshot_code = main(["--instance", instance_id, "--snapshot", str(tmp_path / "snap"),
                          "--format", "json"])
    [from_snapshot] = json.loads(capsys.readouterr().out)["instances"]

    for instance, code in ((live, live_code), (from_snapshot, snapshot_code)):
        # ssmmessages gets NXDOMAIN; ec2messages, forwarded, may still carry the commands
        assert (code, instance["verdict"]) == (EXIT_UNKNOWN, "unknown")
        services = instance["services"]
        assert (services["ssm"]["status"], services["ssm"]["via"]) == ("reachable",
                                                                       "interface_endpoint")
        assert services["ssmmessages"]["status"] == "blocked"
        assert services["ec2messages"]["status"] == "unknown"
        assert ("PRIVATE_HOSTED_ZONE_OVERRIDE", blocked) in codes(instance, "ssmmessages")
        assert ("RESOLVER_RULE_FORWARDS", rule) in codes(instance, "ec2messages")
    assert live["services"] == from_snapshot["services"]
    for call in api_calls.DNS_CALLS:
        assert (tmp_path / "snap" / REGION / call.file_name).is_file(), call.file_name


# --- a denied read: unknown, never an all-clear ------------------------------------------------


@pytest.mark.parametrize(("service", "operation"), [
    ("route53", "ListHostedZonesByVPC"),
    ("route53resolver", "ListResolverRuleAssociations"),
    ("route53resolver", "ListFirewallRuleGroupAssociations"),
    ("route53profiles", "ListProfileAssociations"),
])
def test_a_denied_dns_listing_makes_the_healthy_instance_unknown(capsys, vpc, monkeypatch,
                                                                  dns_services, service,
                                                                  operation):
    from botocore.awsrequest import AWSResponse

    vpc.private_subnet_via_nat()
    instance_id = vpc.instance()
    assert audit(capsys, instance_id)[0] == EXIT_OK
    dns_services.denied.add(operation)  # the operations the fake answers (moto lacks them)

    def denied(**_kwargs: Any) -> tuple[AWSResponse, dict]:
        parsed = {"Error": {"Code": "AccessDeniedException",
                            "Message": f"not authorized to perform {service}:{operation}"},
                  "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://dns.test", 400, {}, None), parsed

    real_session = boto3.Session

    def session_with_denial(*args: Any, **kwargs: Any) -> Any:
        session = real_session(*args, **kwargs)
        session.events.register_first(f"before-call.{service}.{operation}", denied)
        return session

    monkeypatch.setattr(boto3, "Session", session_with_denial)
    code, instance = audit(capsys, instance_id)

    assert (code, instance["verdict"]) == (EXIT_UNKNOWN, "unknown")
    for name in ("ssm", "ssmmessages", "ec2messages"):
        proof = instance["services"][name]
        assert proof["status"] == "unknown"
        [finding] = [f for f in instance["findings"] if f["service"] == name]
        assert finding["code"] == "DATA_UNAVAILABLE"
        assert operation in finding["message"]


def test_a_vpc_whose_zones_could_not_be_listed_is_unknown_alone(capsys, vpc, monkeypatch):
    """A VPC deleted between DescribeVpcs and ListHostedZonesByVPC (InvalidVPCId), or one
    still throttled after the retries: that VPC is unknown, the others are still proved."""
    from botocore.awsrequest import AWSResponse

    from tests import moto_estate

    vpc.private_subnet_via_nat()
    healthy = vpc.instance()
    monkeypatch.setattr(moto_estate, "build_iam", lambda _iam: vpc.iam)  # one role, shared
    other = moto_estate.MotoVpc.create(vpc.ec2)
    other.private_subnet_via_nat()
    hidden = other.instance()

    def refused(params: dict, **_kwargs: Any) -> tuple[AWSResponse, dict] | None:
        if other.vpc_id not in json.dumps(params.get("query_string") or {}):
            return None
        return AWSResponse("https://route53.test", 400, {}, None), {
            "Error": {"Code": "InvalidVPCId", "Message": f"{other.vpc_id} does not exist"},
            "ResponseMetadata": {"HTTPStatusCode": 400}}

    real_session = boto3.Session

    def session_with_refusal(*args: Any, **kwargs: Any) -> Any:
        session = real_session(*args, **kwargs)
        session.events.register_first("before-call.route53.ListHostedZonesByVPC", refused)
        return session

    monkeypatch.setattr(boto3, "Session", session_with_refusal)
    code = main(["--all", "--region", REGION, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    verdicts = {i["instance_id"]: i for i in report["instances"]}

    assert code == EXIT_UNKNOWN
    assert verdicts[healthy]["verdict"] == "manageable", [
        f["message"] for f in verdicts[healthy]["findings"]]
    assert verdicts[hidden]["verdict"] == "unknown"
    [finding] = [f for f in verdicts[hidden]["findings"] if f["service"] == "ssm"]
    assert finding["code"] == "DATA_UNAVAILABLE" and "InvalidVPCId" in finding["message"]
