"""Templates laid over a real estate (a snapshot), and planned instances without a template.

Resources a template names by id (an existing VPC, subnet, group, role) come from the snapshot,
and resources that change existing ones by id (a rule on sg-..., a route in rtb-..., a policy
on an existing role) change them before the proof.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.estate_builder import EstateBuilder
from tests.checks import assert_one_line_error
from tests.prelaunch_helpers import CORE_POLICY_ARN, EC2_TRUST, codes, entry, prelaunch, write


class Estate:
    """A snapshot: a VPC with a private subnet routed through a working NAT gateway, a locked
    group (egress only to 10.0.0.0/8 on 80), an open group, and roles."""

    def __init__(self, tmp_path: Path, dhmc: str | None = None) -> None:
        b = EstateBuilder(region="eu-west-1")
        self.vpc = b.vpc("10.0.0.0/16")
        public = b.subnet(self.vpc, "10.0.0.0/24")
        self.private = b.subnet(self.vpc, "10.0.1.0/24")
        self.isolated = b.subnet(self.vpc, "10.0.2.0/24")
        igw = b.internet_gateway(self.vpc)
        b.route_table(self.vpc, [public], [("0.0.0.0/0", igw)])
        nat = b.nat_gateway(public)
        self.private_table = b.route_table(self.vpc, [self.private], [("0.0.0.0/0", nat)])
        self.isolated_table = b.route_table(self.vpc, [self.isolated])
        self.locked = b.security_group(self.vpc, "locked", egress=[("tcp", 80, 80, "10.0.0.0/8")])
        self.open = b.security_group(self.vpc, "open")
        b.role("agent-role", attached=["AmazonSSMManagedInstanceCore"])
        b.instance_profile("agent-profile", ["agent-role"])
        b.role("bare-role")
        b.instance_profile("bare-profile", ["bare-role"])
        b.dhmc_setting(dhmc)
        self.nat = nat
        self.path = b.write(tmp_path / "snapshot")


def _instance(subnet: str, groups: list[str], profile: str | None = "agent-profile") -> dict:
    properties = {"ImageId": "ami-0123456789abcdef0", "SubnetId": subnet,
                  "SecurityGroupIds": groups, "MetadataOptions": {"HttpTokens": "required"}}
    if profile:
        properties["IamInstanceProfile"] = profile
    return {"Type": "AWS::EC2::Instance", "Properties": properties}


def test_existing_subnet_group_and_profile_come_from_the_snapshot(tmp_path, capsys):
    estate = Estate(tmp_path)
    template = {"Resources": {"App": _instance(estate.private, [estate.open])}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)), "--snapshot",
                               str(estate.path))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (0, "manageable"), app["findings"]
    assert app["services"]["ssm"]["via"] == "nat_gateway"
    assert report["source"]["base"]["kind"] == "snapshot"
    assert [i["instance_id"] for i in report["instances"]] == ["App"]  # only planned ones


def test_a_separate_rule_opens_an_existing_group(tmp_path, capsys):
    estate = Estate(tmp_path)
    template = {"Resources": {"App": _instance(estate.private, [estate.locked])}}
    path = str(write(tmp_path, template))
    status, report = prelaunch(capsys, path, "--snapshot", str(estate.path))
    assert "SG_EGRESS_BLOCKS" in codes(entry(report, "App"), "error")
    template["Resources"]["Https"] = {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
        "GroupId": estate.locked, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "CidrIp": "0.0.0.0/0"}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)), "--snapshot",
                               str(estate.path))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")


def test_endpoints_and_a_route_into_existing_resources(tmp_path, capsys):
    estate = Estate(tmp_path)
    resources = {"App": _instance(estate.isolated, [estate.open])}
    path = str(write(tmp_path, {"Resources": resources}))
    status, report = prelaunch(capsys, path, "--snapshot", str(estate.path))
    assert "NO_ROUTE_TO_DESTINATION" in codes(entry(report, "App"))
    resources["ToNat"] = {"Type": "AWS::EC2::Route", "Properties": {
        "RouteTableId": estate.isolated_table, "DestinationCidrBlock": "0.0.0.0/0",
        "NatGatewayId": estate.nat}}
    status, report = prelaunch(capsys, str(write(tmp_path, {"Resources": resources})),
                               "--snapshot", str(estate.path))
    assert (status, entry(report, "App")["services"]["ssm"]["via"]) == (0, "nat_gateway")
    del resources["ToNat"]
    resources["EndpointSg"] = {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "endpoints", "VpcId": estate.vpc, "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}]}}
    for service in ("ssm", "ssmmessages", "ec2messages"):
        resources[f"{service}Endpoint"] = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": estate.vpc, "VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
            "ServiceName": {"Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{service}"},
            "SubnetIds": [estate.isolated], "SecurityGroupIds": [{"Ref": "EndpointSg"}]}}
    status, report = prelaunch(capsys, str(write(tmp_path, {"Resources": resources})),
                               "--snapshot", str(estate.path))
    app = entry(report, "App")
    assert (status, app["services"]["ssm"]["via"]) == (0, "interface_endpoint"), app["findings"]


def test_policies_on_an_existing_role(tmp_path, capsys):
    estate = Estate(tmp_path)
    resources = {"App": _instance(estate.private, [estate.open], "bare-profile")}
    status, report = prelaunch(capsys, str(write(tmp_path, {"Resources": resources})),
                               "--snapshot", str(estate.path))
    # The snapshot says DHMC is off: nothing rescues a role without permissions.
    assert (status, entry(report, "App")["verdict"]) == (1, "not_manageable")
    assert "MISSING_PERMISSIONS" in codes(entry(report, "App"))
    resources["Grant"] = {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": "agent", "Roles": ["bare-role"], "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation", "ssmmessages:*",
                                           "ec2messages:*"], "Resource": "*"}]}}}
    status, report = prelaunch(capsys, str(write(tmp_path, {"Resources": resources})),
                               "--snapshot", str(estate.path))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")


def test_a_profile_for_an_existing_role(tmp_path, capsys):
    estate = Estate(tmp_path)
    resources = {
        "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {
            "Roles": ["agent-role"]}},
        "App": _instance(estate.private, [estate.open], None),
    }
    resources["App"]["Properties"]["IamInstanceProfile"] = {"Ref": "Profile"}
    status, report = prelaunch(capsys, str(write(tmp_path, {"Resources": resources})),
                               "--snapshot", str(estate.path))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")


def test_no_profile_and_dhmc_off_is_not_manageable_over_a_snapshot(tmp_path, capsys):
    estate = Estate(tmp_path)
    template = {"Resources": {"App": _instance(estate.private, [estate.open], None)}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)), "--snapshot",
                               str(estate.path))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (1, "not_manageable")
    assert {"NO_INSTANCE_PROFILE", "DHMC_DISABLED"} <= codes(app)
    assert "NOT_REGISTERED" not in codes(app)  # Systems Manager cannot know a planned instance


def test_dhmc_needs_imdsv2_before_launch(tmp_path, capsys):
    estate = Estate(tmp_path, dhmc="service-role/dhmc")
    template = {"Resources": {"App": _instance(estate.private, [estate.open], None)}}
    template["Resources"]["App"]["Properties"]["MetadataOptions"] = {"HttpTokens": "optional"}
    _, report = prelaunch(capsys, str(write(tmp_path, template)), "--snapshot",
                          str(estate.path))
    assert "DHMC_REQUIRES_IMDSV2" in codes(entry(report, "App"))


def test_a_missing_id_is_unknown_without_a_snapshot_and_named_with_one(tmp_path, capsys):
    template = {"Resources": {"App": _instance("subnet-0123456789abcdef0",
                                               ["sg-0123456789abcdef0"])}}
    path = str(write(tmp_path, template))
    status, report = prelaunch(capsys, path)
    app = entry(report, "App")
    assert (status, app["verdict"]) == (3, "unknown")
    assert "TEMPLATE_VALUE_UNRESOLVED" in codes(app)
    assert any("no snapshot" in reason for reason in app["verdict_reasons"])
    estate = Estate(tmp_path)
    status, report = prelaunch(capsys, path, "--snapshot", str(estate.path))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (3, "unknown")
    assert any("subnet-0123456789abcdef0 is not in the estate" in reason
               for reason in app["verdict_reasons"])


# --- a planned instance, without a template ----------------------------------------------


def test_planned_instance_against_a_snapshot(tmp_path, capsys):
    estate = Estate(tmp_path)
    base = ["--snapshot", str(estate.path)]
    status, report = prelaunch(capsys, "--subnet", estate.private, "--security-group",
                               estate.open, "--instance-profile", "agent-profile", *base)
    planned = entry(report, "planned-instance")
    assert (status, planned["verdict"]) == (0, "manageable")
    assert report["source"]["kind"] == "planned"
    status, report = prelaunch(capsys, "--subnet", estate.private, "--security-group",
                               estate.locked, "--instance-profile", "agent-profile", *base)
    assert "SG_EGRESS_BLOCKS" in codes(entry(report, "planned-instance"))
    status, report = prelaunch(capsys, "--subnet", estate.private, "--security-group",
                               estate.open, *base)
    assert entry(report, "planned-instance")["verdict"] == "not_manageable"


def test_planned_instance_public_ip_and_imdsv2(tmp_path, capsys):
    b = EstateBuilder(region="eu-west-1")
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.0.0/24")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [subnet], [("0.0.0.0/0", igw)])
    group = b.security_group(vpc, "open")
    b.role("dhmc", trust={"Statement": [{"Effect": "Allow", "Principal": {
        "Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        attached=["AmazonSSMManagedEC2InstanceDefaultPolicy"])
    b.dhmc_setting("service-role/dhmc")
    snapshot = str(b.write(tmp_path / "s"))
    argv = ["--subnet", subnet, "--security-group", group, "--snapshot", snapshot]
    status, report = prelaunch(capsys, *argv)
    assert "IGW_NO_PUBLIC_IP" in codes(entry(report, "planned-instance"))
    status, report = prelaunch(capsys, *argv, "--public-ip")
    assert "DHMC_REQUIRES_IMDSV2" in codes(entry(report, "planned-instance"))
    status, report = prelaunch(capsys, *argv, "--public-ip", "--imdsv2", "required")
    planned = entry(report, "planned-instance")
    assert (status, planned["verdict"]) == (0, "manageable"), planned["findings"]
    assert planned["credentials"]["source"] == "dhmc"


@pytest.mark.parametrize(("argv", "words"), [
    (["prelaunch"], ["TEMPLATE", "--subnet"]),
    (["prelaunch", "/nonexistent/template.yaml"], ["does not exist"]),
    (["prelaunch", "t.json", "--subnet", "subnet-1"], ["not both"]),
    (["prelaunch", "t.json", "--parameter", "novalue"], ["NAME=VALUE"]),
])
def test_bad_usage_is_one_line(capsys, tmp_path, monkeypatch, argv, words):
    from auditor.cli import main

    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": EC2_TRUST, "ManagedPolicyArns": [CORE_POLICY_ARN]}}}},
        "t.json")
    code = main(argv)
    assert_one_line_error(code, capsys.readouterr().err, *words)


@pytest.mark.parametrize(("text", "words"), [
    ("Resources: [unclosed", ["not valid YAML"]),
    ('{"Resources": ', ["not valid JSON"]),
    ("Description: nothing\n", ["no Resources"]),
    ("Resources:\n  A:\n    Properties: {}\n", ["A has no Type"]),
])
def test_malformed_templates_are_one_line(capsys, tmp_path, text, words):
    from auditor.cli import main

    (tmp_path / "bad.yaml").write_text(text)
    code = main(["prelaunch", str(tmp_path / "bad.yaml")])
    assert_one_line_error(code, capsys.readouterr().err, *words)


# --- findings that come from the estate the plan is laid over --------------------------------


def _vpc_with_app_subnet(builder: EstateBuilder) -> tuple[str, str, str]:
    vpc = builder.vpc("10.0.0.0/16")
    subnet = builder.subnet(vpc, "10.0.1.0/24")
    group = builder.security_group(vpc, "open")
    builder.role("agent-role", attached=["AmazonSSMManagedInstanceCore"])
    builder.instance_profile("agent-profile", ["agent-role"])
    return vpc, subnet, group


def _route_to(target: str, table: str) -> dict:
    return {"Type": "AWS::EC2::Route", "Properties": {
        "RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": target}}


@pytest.mark.parametrize(("setup", "code"), [
    ("failed-nat", "NAT_GATEWAY_NOT_AVAILABLE"),
    ("deleted-nat", "BLACKHOLE_ROUTE"),
    ("pending-endpoint", "ENDPOINT_NOT_AVAILABLE"),
    ("scp-denies", "SCP_DENIES"),
    ("dhmc-role-missing", "DHMC_ROLE_INVALID"),
])
def test_findings_from_the_estate_before_launch(tmp_path, capsys, setup, code):
    builder = EstateBuilder(region="eu-west-1")
    vpc, subnet, group = _vpc_with_app_subnet(builder)
    table = builder.route_table(vpc, [subnet])
    resources = {"App": _instance(subnet, [group])}
    if setup in ("failed-nat", "deleted-nat"):
        public = builder.subnet(vpc, "10.0.0.0/24")
        builder.route_table(vpc, [public], [("0.0.0.0/0", builder.internet_gateway(vpc))])
        nat = builder.nat_gateway(public, state="failed") if setup == "failed-nat" \
            else "nat-0000000000000dead"
        resources["ToNat"] = _route_to(nat, table)
    elif setup == "pending-endpoint":
        endpoints = builder.security_group(vpc, "endpoints", ingress=[
            ("tcp", 443, 443, "10.0.0.0/16")])
        for service in ("ssm", "ssmmessages", "ec2messages"):
            builder.interface_endpoint(vpc, service, [subnet], [endpoints], state="pending")
    else:
        resources["ToNat"] = _route_to(_working_nat(builder, vpc), table)
    if setup == "scp-denies":
        from builders.estate_builder import FULL_AWS_ACCESS

        builder.service_control_policies([[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, {
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Action": "ssm:UpdateInstanceInformation",
                "Resource": "*"}]}]])
    if setup == "dhmc-role-missing":
        builder.dhmc_setting("service-role/gone")
        resources["App"]["Properties"].pop("IamInstanceProfile")
    snapshot = str(builder.write(tmp_path / "snapshot"))
    _, report = prelaunch(capsys, str(write(tmp_path, {"Resources": resources})),
                          "--snapshot", snapshot)
    app = entry(report, "App")
    assert code in codes(app), app["findings"]
    assert app["verdict"] == "not_manageable"


def _working_nat(builder: EstateBuilder, vpc: str) -> str:
    public = builder.subnet(vpc, "10.0.0.0/24")
    builder.route_table(vpc, [public], [("0.0.0.0/0", builder.internet_gateway(vpc))])
    return builder.nat_gateway(public)
