"""Templates' DNS resources before launch: private hosted zones with VPCs and their record
sets, Resolver rules and their associations, DNS Firewall rule groups, over a template alone and
over a snapshot."""

from __future__ import annotations

import pytest

from builders.estate_builder import EstateBuilder
from tests.prelaunch_helpers import entry, isolated_template, prelaunch, write

REGION = "us-east-1"
SSM = {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}


def central_template() -> dict:
    """The isolated instance, with ssm's endpoint behind a zone: private DNS off, a private
    hosted zone named like the service, an alias to the endpoint's own DNS name."""
    template = isolated_template()
    resources = template["Resources"]
    resources["SsmEndpoint"]["Properties"]["PrivateDnsEnabled"] = False
    resources["SsmZone"] = {"Type": "AWS::Route53::HostedZone", "Properties": {
        "Name": SSM, "VPCs": [{"VPCId": {"Ref": "Vpc"}, "VPCRegion": {"Ref": "AWS::Region"}}]}}
    resources["SsmAlias"] = {"Type": "AWS::Route53::RecordSet", "Properties": {
        "HostedZoneId": {"Ref": "SsmZone"}, "Name": SSM, "Type": "A",
        "AliasTarget": {"HostedZoneId": "Z7HUB22UULQXV", "DNSName": {"Fn::Select": [1, {
            "Fn::Split": [":", {"Fn::Select": [0, {"Fn::GetAtt": ["SsmEndpoint",
                                                                   "DnsEntries"]}]}]}]}}}}
    return template


def run(tmp_path, capsys, template: dict, *extra: str):
    code, report = prelaunch(capsys, str(write(tmp_path, template)), "--region", REGION, *extra)
    return code, entry(report, "App")


def finding(instance: dict, code: str, service: str = "ssm") -> dict:
    return next(f for f in instance["findings"] if f["code"] == code and f["service"] == service)


def test_a_template_alone_is_not_made_unknown_by_the_dns_reads(tmp_path, capsys):
    code, instance = run(tmp_path, capsys, isolated_template())
    assert (code, instance["verdict"]) == (0, "manageable")


def test_a_zone_with_an_alias_to_the_templates_endpoint(tmp_path, capsys):
    code, instance = run(tmp_path, capsys, central_template())
    assert (code, instance["verdict"]) == (0, "manageable")
    ssm = instance["services"]["ssm"]
    assert (ssm["status"], ssm["via"]) == ("reachable", "interface_endpoint")
    assert finding(instance, "PRIVATE_HOSTED_ZONE_OVERRIDE")["severity"] == "info"


def test_a_zone_without_the_record_blocks(tmp_path, capsys):
    template = central_template()
    del template["Resources"]["SsmAlias"]
    code, instance = run(tmp_path, capsys, template)
    assert (code, instance["services"]["ssm"]["status"]) == (1, "blocked")
    assert "no A or CNAME record" in finding(instance, "PRIVATE_HOSTED_ZONE_OVERRIDE")["message"]


@pytest.mark.parametrize("vpcs", [[{"VPCId": 5}], "vpc-0123", [["Vpc"]]])
def test_a_zone_whose_vpcs_cannot_be_read_is_unknown_never_ignored(tmp_path, capsys, vpcs):
    template = central_template()
    template["Resources"]["SsmZone"]["Properties"]["VPCs"] = vpcs
    code, instance = run(tmp_path, capsys, template)
    assert (code, instance["verdict"]) == (3, "unknown")


def test_a_zone_whose_name_is_known_only_at_deployment_is_unknown(tmp_path, capsys):
    template = central_template()
    template["Resources"]["SsmZone"]["Properties"]["Name"] = {"Fn::ImportValue": "ZoneName"}
    code, instance = run(tmp_path, capsys, template)
    assert (code, instance["verdict"]) == (3, "unknown")


def test_a_record_set_group_naming_its_zone_by_name(tmp_path, capsys):
    template = central_template()
    resources = template["Resources"]
    alias = resources.pop("SsmAlias")["Properties"]
    resources["SsmRecords"] = {"Type": "AWS::Route53::RecordSetGroup", "Properties": {
        "HostedZoneName": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com."},
        "RecordSets": [{key: value for key, value in alias.items() if key != "HostedZoneId"}]}}
    _code, instance = run(tmp_path, capsys, template)
    assert instance["services"]["ssm"]["via"] == "interface_endpoint"


def test_a_forward_rule_and_its_association(tmp_path, capsys):
    template = isolated_template()
    resources = template["Resources"]
    resources["Forward"] = {"Type": "AWS::Route53Resolver::ResolverRule", "Properties": {
        "DomainName": "amazonaws.com", "RuleType": "FORWARD",
        "ResolverEndpointId": "rslvr-out-0123456789abcdef0",
        "TargetIps": [{"Ip": "192.168.0.2", "Port": "53"}]}}
    resources["ForwardHere"] = {"Type": "AWS::Route53Resolver::ResolverRuleAssociation",
                                "Properties": {"ResolverRuleId": {"Ref": "Forward"},
                                               "VPCId": {"Ref": "Vpc"}}}
    code, instance = run(tmp_path, capsys, template)
    assert (code, instance["verdict"]) == (0, "manageable")  # endpoints' private DNS wins
    template["Resources"]["Forward"]["Properties"]["DomainName"] = "ssm.us-east-1.amazonaws.com"
    code, instance = run(tmp_path, capsys, template)
    assert (code, instance["verdict"]) == (3, "unknown")  # the same length: the rule wins
    assert finding(instance, "RESOLVER_RULE_FORWARDS")["resource_id"] == "Forward"


def firewall_template(domains: list[str]) -> dict:
    """The isolated instance, its VPC behind a DNS Firewall rule group that blocks
    ``domains``."""
    template = isolated_template()
    resources = template["Resources"]
    resources["Blocked"] = {"Type": "AWS::Route53Resolver::FirewallDomainList",
                            "Properties": {"Domains": domains}}
    resources["Firewall"] = {"Type": "AWS::Route53Resolver::FirewallRuleGroup", "Properties": {
        "FirewallRules": [{"Action": "BLOCK", "BlockResponse": "NXDOMAIN", "Priority": 1,
                           "FirewallDomainListId": {"Ref": "Blocked"}}]}}
    resources["FirewallHere"] = {"Type": "AWS::Route53Resolver::FirewallRuleGroupAssociation",
                                 "Properties": {"FirewallRuleGroupId": {"Ref": "Firewall"},
                                                "VpcId": {"Ref": "Vpc"}, "Priority": 101}}
    return template


def test_a_firewall_rule_group_that_blocks(tmp_path, capsys):
    code, instance = run(tmp_path, capsys, firewall_template(["*.amazonaws.com"]))
    assert (code, instance["verdict"]) == (1, "not_manageable")
    assert finding(instance, "DNS_FIREWALL_BLOCKS")["resource_id"] == "Firewall"


@pytest.mark.parametrize(("resource", "path", "value"), [
    ("Firewall", ("FirewallRules", 0, "Priority"), "first"),
    ("Firewall", ("FirewallRules", 0, "Action"), "DROP"),
    ("Firewall", ("FirewallRules",), {"Action": "BLOCK"}),
    ("FirewallHere", ("Priority",), [101]),
    ("FirewallHere", ("VpcId",), {"vpc": "x"}),
])
def test_a_firewall_value_route_53_would_refuse_is_unknown_never_a_traceback(
        tmp_path, capsys, resource, path, value):
    template = firewall_template(["example.com"])
    resources = template["Resources"]
    code, instance = run(tmp_path, capsys, template)
    assert (code, instance["verdict"]) == (0, "manageable")  # example.com blocks nothing
    *parents, last = path
    holder = resources[resource]["Properties"]
    for key in parents:
        holder = holder[key]
    holder[last] = value
    code, instance = run(tmp_path, capsys, template)
    assert (code, instance["verdict"]) == (3, "unknown")


def test_a_profile_association_leaves_the_vpc_unknown(tmp_path, capsys):
    template = isolated_template()
    template["Resources"]["Profile"] = {"Type": "AWS::Route53Profiles::ProfileAssociation",
                                        "Properties": {"ProfileId": "rp-0123456789abcdef",
                                                       "ResourceId": {"Ref": "Vpc"},
                                                       "Name": "shared"}}
    code, instance = run(tmp_path, capsys, template)
    assert (code, instance["verdict"]) == (3, "unknown")


@pytest.mark.parametrize("with_record", [True, False])
def test_a_templates_record_in_a_zone_of_the_snapshot(tmp_path, capsys, with_record):
    """A zone that exists (in the snapshot) gets the template's record: it now answers."""
    b = EstateBuilder(region=REGION)
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24", "a")
    group = b.security_group(vpc, "endpoints", ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    endpoints = {service: b.interface_endpoint(vpc, service, [subnet], [group])
                 for service in ("ssm", "ssmmessages", "ec2messages")}
    b.vpc_endpoints[0]["PrivateDnsEnabled"] = False  # ssm's: behind the zone below
    zone = b.private_hosted_zone(f"ssm.{REGION}.amazonaws.com", [vpc])
    app = b.security_group(vpc, "app")
    b.role("app", attached=["AmazonSSMManagedInstanceCore"])
    b.instance_profile("app", ["app"])
    b.write(tmp_path / "snap")
    template = {"Resources": {
        "App": {"Type": "AWS::EC2::Instance", "Properties": {
            "ImageId": "ami-0123456789abcdef0", "InstanceType": "t3.micro", "SubnetId": subnet,
            "SecurityGroupIds": [app], "IamInstanceProfile": "app",
            "MetadataOptions": {"HttpTokens": "required"}}}}}
    if with_record:
        template["Resources"]["Alias"] = {"Type": "AWS::Route53::RecordSet", "Properties": {
            "HostedZoneId": zone, "Name": f"ssm.{REGION}.amazonaws.com", "Type": "A",
            "AliasTarget": {"HostedZoneId": "Z7HUB22UULQXV",
                            "DNSName": b.endpoint_dns_name(endpoints["ssm"])}}}
    _code, instance = run(tmp_path, capsys, template, "--snapshot", str(tmp_path / "snap"))
    assert instance["services"]["ssm"]["status"] == ("reachable" if with_record else "blocked")
    assert instance["verdict"] == ("manageable" if with_record else "not_manageable")
