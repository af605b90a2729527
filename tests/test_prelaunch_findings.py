"""Every finding that applies before launch, on hand-written templates.

Each case starts from a manageable instance (``isolated_template``) and breaks one thing; the
report must name the finding and give the verdict an audit of the running instance would.
A template alone says nothing about Default Host Management, so an instance the instance
profile cannot serve is unknown there (DHMC might rescue it), and not manageable over a
snapshot where DHMC is off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.prelaunch_helpers import (
    codes,
    entry,
    isolated_template,
    prelaunch,
    write,
)

Template = dict[str, Any]


def _resources(template: Template) -> dict[str, Any]:
    return template["Resources"]


def _props(template: Template, logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def _without_endpoints(template: Template) -> Template:
    for name in ("SsmEndpoint", "SsmMessagesEndpoint", "Ec2MessagesEndpoint"):
        del _resources(template)[name]
    return template


def _public_route(template: Template) -> Template:
    _without_endpoints(template)
    _resources(template).update({
        "Igw": {"Type": "AWS::EC2::InternetGateway"},
        "IgwAttachment": {"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "InternetGatewayId": {"Ref": "Igw"}}},
        "DefaultRoute": {"Type": "AWS::EC2::Route", "Properties": {
            "RouteTableId": {"Ref": "AppRoutes"}, "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": {"Ref": "Igw"}}},
    })
    return template


def _nat(template: Template, nat_subnet_has_internet: bool) -> Template:
    _public_route(template)
    resources = _resources(template)
    resources["DefaultRoute"]["Properties"]["RouteTableId"] = {"Ref": "PublicRoutes"}
    resources.update({
        "PublicSubnet": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.9.0/24"}},
        "PublicRoutes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {
            "SubnetId": {"Ref": "PublicSubnet"},
            "AllocationId": {"Fn::GetAtt": ["NatAddress", "AllocationId"]}}},
        "NatAddress": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
        "NatRoute": {"Type": "AWS::EC2::Route", "Properties": {
            "RouteTableId": {"Ref": "AppRoutes"}, "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": {"Ref": "Nat"}}},
    })
    if nat_subnet_has_internet:
        resources["PublicAssociation"] = {
            "Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
                "SubnetId": {"Ref": "PublicSubnet"}, "RouteTableId": {"Ref": "PublicRoutes"}}}
    return template


def _inline(template: Template, *statements: dict) -> Template:
    _props(template, "AppRole")["Policies"] = [{"PolicyName": "agent", "PolicyDocument": {
        "Version": "2012-10-17", "Statement": list(statements)}}]
    return template


def _set(logical_id: str, **properties: Any) -> Callable[[Template], Template]:
    def change(template: Template) -> Template:
        _props(template, logical_id).update(properties)
        return template
    return change


def _drop(logical_id: str, name: str) -> Callable[[Template], Template]:
    def change(template: Template) -> Template:
        del _props(template, logical_id)[name]
        return template
    return change


def _each_endpoint(**properties: Any) -> Callable[[Template], Template]:
    def change(template: Template) -> Template:
        for name in ("SsmEndpoint", "SsmMessagesEndpoint", "Ec2MessagesEndpoint"):
            _props(template, name).update(properties)
        return template
    return change


def _nacl_without_ephemeral(template: Template) -> Template:
    _resources(template).update({
        "AppAcl": {"Type": "AWS::EC2::NetworkAcl", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "AppAclOut": {"Type": "AWS::EC2::NetworkAclEntry", "Properties": {
            "NetworkAclId": {"Ref": "AppAcl"}, "RuleNumber": 100, "Protocol": 6,
            "RuleAction": "allow", "Egress": True, "CidrBlock": "10.0.0.0/16",
            "PortRange": {"From": 443, "To": 443}}},
        "AppAclIn": {"Type": "AWS::EC2::NetworkAclEntry", "Properties": {
            "NetworkAclId": {"Ref": "AppAcl"}, "RuleNumber": 100, "Protocol": 6,
            "RuleAction": "allow", "CidrBlock": "10.0.0.0/16",
            "PortRange": {"From": 22, "To": 22}}},
        "AppAclAssociation": {"Type": "AWS::EC2::SubnetNetworkAclAssociation", "Properties": {
            "SubnetId": {"Ref": "AppSubnet"}, "NetworkAclId": {"Ref": "AppAcl"}}},
    })
    return template


def _custom_dns(template: Template) -> Template:
    _resources(template).update({
        "Dns": {"Type": "AWS::EC2::DHCPOptions", "Properties": {
            "DomainNameServers": ["10.0.0.53"]}},
        "DnsAssociation": {"Type": "AWS::EC2::VPCDHCPOptionsAssociation", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "DhcpOptionsId": {"Ref": "Dns"}}},
    })
    return template


def _transit(template: Template) -> Template:
    _without_endpoints(template)
    _resources(template)["ToTransit"] = {"Type": "AWS::EC2::Route", "Properties": {
        "RouteTableId": {"Ref": "AppRoutes"}, "DestinationCidrBlock": "0.0.0.0/0",
        "TransitGatewayId": "tgw-0123456789abcdef0"}}
    return template


def _boundary(template: Template) -> Template:
    _resources(template)["Boundary"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}}
    _props(template, "AppRole")["PermissionsBoundary"] = {"Ref": "Boundary"}
    return template


def _endpoint_policy_denies(template: Template) -> Template:
    _props(template, "SsmEndpoint")["PolicyDocument"] = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "ssm:UpdateInstanceInformation",
         "Resource": "*"}]}
    return template


ALLOW_CORE = {"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation", "ssmmessages:*",
                                            "ec2messages:*"], "Resource": "*"}

# (case id, change, expected verdict, expected finding code)
CASES: list[tuple[str, Callable[[Template], Template], str, str]] = [
    ("no-route", _without_endpoints, "not_manageable", "NO_ROUTE_TO_DESTINATION"),
    ("igw-no-public-ip", _public_route, "not_manageable", "IGW_NO_PUBLIC_IP"),
    ("nat-without-internet", lambda t: _nat(t, False), "not_manageable",
     "NAT_GATEWAY_NO_INTERNET_ROUTE"),
    ("sg-egress", _set("AppSg", SecurityGroupEgress=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"}]),
     "not_manageable", "SG_EGRESS_BLOCKS"),
    ("endpoint-sg-ingress", _set("EndpointSg", SecurityGroupIngress=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "10.0.0.0/16"}]),
     "not_manageable", "ENDPOINT_SG_INGRESS_BLOCKS"),
    ("nacl", _nacl_without_ephemeral, "not_manageable", "NACL_BLOCKS"),
    ("private-dns-default-off", _each_endpoint(PrivateDnsEnabled=False), "not_manageable",
     "ENDPOINT_PRIVATE_DNS_DISABLED"),
    ("dns-hostnames-default-off", _drop("Vpc", "EnableDnsHostnames"), "not_manageable",
     "VPC_DNS_HOSTNAMES_DISABLED"),
    ("dns-support-off", _set("Vpc", EnableDnsSupport=False), "not_manageable",
     "VPC_DNS_SUPPORT_DISABLED"),
    ("custom-dns", _custom_dns, "unknown", "CUSTOM_DNS_SERVERS"),
    # The heartbeat refused: the agent falls back on DHMC, which a template alone cannot tell.
    ("endpoint-policy", _endpoint_policy_denies, "unknown", "ENDPOINT_POLICY_DENIES"),
    # A gateway neither in the template nor read: its far side is unknown.
    ("transit-gateway", _transit, "unknown", "DATA_UNAVAILABLE"),
    ("imds-disabled", _set("App", MetadataOptions={"HttpEndpoint": "disabled"}),
     "not_manageable", "IMDS_DISABLED"),
    ("no-profile", _drop("App", "IamInstanceProfile"), "unknown", "NO_INSTANCE_PROFILE"),
    ("profile-without-role", _set("AppProfile", Roles=[]), "unknown",
     "INSTANCE_PROFILE_WITHOUT_ROLE"),
    ("trust", _set("AppRole", AssumeRolePolicyDocument={"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
         "Action": "sts:AssumeRole"}]}), "unknown", "TRUST_POLICY_DENIES_EC2"),
    ("missing-permissions", lambda t: _inline(_set("AppRole", ManagedPolicyArns=[])(t), {
        "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}),
     "unknown", "MISSING_PERMISSIONS"),
    ("explicit-deny", lambda t: _inline(t, {
        "Effect": "Deny", "Action": "ssm:UpdateInstanceInformation", "Resource": "*"}),
     "unknown", "EXPLICIT_DENY"),
    ("boundary", _boundary, "unknown", "PERMISSIONS_BOUNDARY_DENIES"),
    ("condition", lambda t: _inline(_set("AppRole", ManagedPolicyArns=[])(t), {
        **ALLOW_CORE, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}),
     "unknown", "CONDITION_NOT_EVALUATED"),
]


@pytest.mark.parametrize(("change", "verdict", "code"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_finding_before_launch(tmp_path, capsys, change, verdict, code):
    status, report = prelaunch(capsys, str(write(tmp_path, change(isolated_template()))))
    app = entry(report, "App")
    assert app["verdict"] == verdict, app["verdict_reasons"]
    assert code in codes(app)
    assert status == {"not_manageable": 1, "unknown": 3}[verdict]


def test_the_starting_point_is_manageable(tmp_path, capsys):
    status, report = prelaunch(capsys, str(write(tmp_path, isolated_template())))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (0, "manageable")
    assert app["services"]["ssm"]["via"] == "interface_endpoint"
    assert app["logical_id"] == "App"
    assert report["source"]["kind"] == "template"


@pytest.mark.parametrize("public", [
    pytest.param(lambda t: _set("AppSubnet", MapPublicIpOnLaunch=True)(t), id="subnet-default"),
    pytest.param(lambda t: _set("App", NetworkInterfaces=[{
        "DeviceIndex": "0", "AssociatePublicIpAddress": True, "SubnetId": {"Ref": "AppSubnet"},
        "GroupSet": [{"Ref": "AppSg"}]}])(_drop("App", "SubnetId")(
            _drop("App", "SecurityGroupIds")(t))), id="network-interface"),
    pytest.param(lambda t: {**t, "Resources": {**t["Resources"], "Address": {
        "Type": "AWS::EC2::EIP", "Properties": {"InstanceId": {"Ref": "App"}}}}},
        id="elastic-ip"),
])
def test_a_public_address_makes_the_internet_gateway_path_work(tmp_path, capsys, public):
    status, report = prelaunch(capsys, str(write(tmp_path, public(_public_route(
        isolated_template())))))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (0, "manageable"), app["findings"]
    assert app["services"]["ssm"]["via"] == "internet_gateway"


def test_a_nat_gateway_with_internet_route_works(tmp_path, capsys):
    status, report = prelaunch(capsys, str(write(tmp_path, _nat(isolated_template(), True))))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")


def test_an_inline_policy_with_the_agent_actions_suffices(tmp_path, capsys):
    template = _inline(_set("AppRole", ManagedPolicyArns=[])(isolated_template()), ALLOW_CORE)
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")


def test_a_separate_egress_rule_keeps_the_egress_the_group_lists(tmp_path, capsys):
    template = _set("AppSg", SecurityGroupEgress=[
        {"IpProtocol": "icmp", "FromPort": 252, "ToPort": 86, "CidrIp": "255.255.255.255/32"}])(
        isolated_template())
    template["Resources"]["Https"] = {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
        "GroupId": {"Fn::GetAtt": ["AppSg", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 443,
        "ToPort": 443, "DestinationSecurityGroupId": {"Ref": "EndpointSg"}}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    del template["Resources"]["Https"]
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert "SG_EGRESS_BLOCKS" in codes(entry(report, "App"), "error")


def test_a_condition_false_leaves_the_resource_out(tmp_path, capsys):
    template = isolated_template()
    template["Parameters"] = {"WithEndpoints": {"Type": "String", "Default": "no",
                                                "AllowedValues": ["yes", "no"]}}
    template["Conditions"] = {"Endpoints": {"Fn::Equals": [{"Ref": "WithEndpoints"}, "yes"]}}
    for name in ("SsmEndpoint", "SsmMessagesEndpoint", "Ec2MessagesEndpoint"):
        template["Resources"][name]["Condition"] = "Endpoints"
    path = str(write(tmp_path, template))
    status, report = prelaunch(capsys, path)
    assert "NO_ROUTE_TO_DESTINATION" in codes(entry(report, "App"))
    status, report = prelaunch(capsys, path, "--parameter", "WithEndpoints=yes")
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")



@pytest.mark.parametrize(("policy", "verdict"), [
    ("service-role/AmazonEC2RoleforSSM", "manageable"),  # bundled, at its real path
    # No such policy at the root: AWS refuses the attachment, nothing to assume of it.
    ("AmazonEC2RoleforSSM", "unknown"),
    ("CloudWatchAgentServerPolicy", "unknown"),  # not bundled: its document is not known
])
def test_aws_managed_policies_by_arn(tmp_path, capsys, policy, verdict):
    template = isolated_template()
    _props(template, "AppRole")["ManagedPolicyArns"] = [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{policy}"}]
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    app = entry(report, "App")
    assert app["verdict"] == verdict
    if verdict == "unknown":
        assert any(policy in f["message"] for f in app["findings"]
                   if f["code"] == "DATA_UNAVAILABLE")


@pytest.mark.parametrize(("image", "verdict"), [
    ("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", "manageable"),
    ("/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base", "not_manageable"),
])
def test_a_windows_image_needs_its_own_ephemeral_ports(tmp_path, capsys, image, verdict):
    template = _nacl_without_ephemeral(isolated_template())
    _props(template, "AppAclIn")["PortRange"] = {"From": 32768, "To": 60999}  # Linux only
    template["Parameters"] = {"Image": {
        "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": image}}
    _props(template, "App")["ImageId"] = {"Ref": "Image"}
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    app = entry(report, "App")
    assert app["verdict"] == verdict, app["findings"]
    assert (verdict == "not_manageable") == ("NACL_BLOCKS" in codes(app, "error"))
