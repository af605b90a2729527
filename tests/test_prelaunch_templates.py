"""The template reader: YAML short forms, intrinsic functions, unresolved values, launch
templates and auto scaling groups, cdk.out folders, SARIF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.catalogue import CATALOGUE
from auditor.sources.raw import RawRegion
from auditor.sources.template.intrinsics import Resolver, Unresolved
from auditor.sources.template.load import load_template, load_templates
from auditor.sources.template.overlay import overlay_templates
from tests.prelaunch_helpers import codes, entry, isolated_template, prelaunch, write

TEMPLATES = Path(__file__).parent / "templates"
SHORT_FORMS = TEMPLATES / "short_forms.yaml"


def test_short_forms_load_as_long_forms():
    body = load_template(SHORT_FORMS).body
    resources = body["Resources"]
    assert body["AWSTemplateFormatVersion"] == "2010-09-09"  # text, not a YAML date
    assert resources["AppSubnet"]["Properties"]["VpcId"] == {"Ref": "Vpc"}
    assert resources["AppSg"]["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == {
        "Fn::GetAtt": ["Vpc", "CidrBlock"]}
    assert resources["EndpointSubnet"]["Properties"]["CidrBlock"]["Fn::Select"][1] == {
        "Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 4, 8]}
    assert body["Conditions"]["IsDev"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    assert resources["Imported"]["Properties"]["SubnetId"] == {
        "Fn::ImportValue": "shared-network-PrivateSubnet"}
    assert resources["AppRole"]["Properties"]["AssumeRolePolicyDocument"]["Version"] \
        == "2012-10-17"
    # The Rules section's functions are CloudFormation's too: read, never refused.
    asserts = [a["Assert"] for a in body["Rules"]["ProdEndpoints"]["Assertions"]]
    assert asserts[0] == {"Fn::Contains": [["prod", "dev"], {"Ref": "Environment"}]}
    assert asserts[1]["Fn::EachMemberIn"][0] == {"Ref": "EndpointServices"}
    assert asserts[2] == {"Fn::EachMemberEquals": [
        {"Fn::ValueOfAll": ["AWS::EC2::Subnet::Id", "VpcId"]},
        {"Fn::RefAll": "AWS::EC2::VPC::Id"}]}
    assert asserts[3]["Fn::Not"][0]["Fn::Equals"][0] == {"Fn::ValueOf": ["AmiId", "Name"]}


def test_short_forms_resolve_and_prove(capsys):
    status, report = prelaunch(capsys, str(SHORT_FORMS))
    app = entry(report, "App")
    assert app["verdict"] == "manageable", app["findings"]
    assert app["services"]["ssmmessages"]["via"] == "interface_endpoint"
    assert app["template"]["line"] == SHORT_FORMS.read_text().splitlines().index("  App:") + 1
    imported = entry(report, "Imported")
    assert imported["verdict"] == "unknown"
    assert any("Fn::ImportValue shared-network-PrivateSubnet" in reason
               for reason in imported["verdict_reasons"])
    assert status == 3


def test_conditions_follow_the_parameters(capsys):
    # dev: private DNS off on two endpoints (Fn::If), IMDSv1 allowed (Fn::FindInMap).
    _, report = prelaunch(capsys, str(SHORT_FORMS), "--parameter", "Environment=dev")
    app = entry(report, "App")
    assert app["verdict"] == "not_manageable"
    assert "ENDPOINT_PRIVATE_DNS_DISABLED" in codes(app)
    # Fn::If to AWS::NoValue leaves PrivateDnsEnabled out: CloudFormation's default, off.
    assert app["services"]["ssmmessages"]["resolves_to"] == "public addresses"
    assert app["imds"]["http_tokens"] == "optional"


def test_a_parameter_without_value_in_a_deciding_field_is_unknown(tmp_path, capsys):
    template = isolated_template()
    template["Parameters"] = {"EgressCidr": {"Type": "String"}}
    template["Resources"]["AppSg"]["Properties"]["SecurityGroupEgress"] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": {"Ref": "EgressCidr"}}]
    path = str(write(tmp_path, template))
    status, report = prelaunch(capsys, path)
    app = entry(report, "App")
    assert (status, app["verdict"]) == (3, "unknown")
    finding = next(f for f in app["findings"] if f["code"] == "TEMPLATE_VALUE_UNRESOLVED")
    assert finding["resource_id"] == "sg-AppSg" and finding["logical_id"] == "AppSg"
    assert "parameter EgressCidr has no default" in finding["message"]
    assert report["unresolved"]["sg-AppSg"]
    status, report = prelaunch(capsys, path, "--parameter", "EgressCidr=10.0.0.0/16")
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    status, report = prelaunch(capsys, path, "--parameter", "EgressCidr=192.168.0.0/16")
    assert "SG_EGRESS_BLOCKS" in codes(entry(report, "App"))


def test_an_unresolved_blocker_is_not_a_verdict_either(tmp_path, capsys):
    # The only blocker would be a guess: the egress rule's port is imported.
    template = isolated_template()
    template["Resources"]["AppSg"]["Properties"]["SecurityGroupEgress"] = [
        {"IpProtocol": "tcp", "FromPort": {"Fn::ImportValue": "port"},
         "ToPort": {"Fn::ImportValue": "port"}, "CidrIp": "0.0.0.0/0"}]
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")


def test_a_value_only_deployment_knows_is_unknown_in_every_deciding_place(tmp_path, capsys):
    template = isolated_template()
    template["Conditions"] = {"Imported": {"Fn::Equals": [{"Fn::ImportValue": "flag"}, "on"]}}
    template["Resources"]["Vpc"]["Properties"]["EnableDnsHostnames"] = {
        "Fn::If": ["Imported", True, False]}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (3, "unknown")
    assert report["unresolved"]["vpc-Vpc"].startswith("Vpc.EnableDnsHostnames: Fn::If on")


def test_values_that_do_not_decide_cost_nothing(tmp_path, capsys):
    template = isolated_template()
    template["Resources"]["AppSubnet"]["Properties"]["AvailabilityZone"] = {
        "Fn::ImportValue": "zone"}
    template["Resources"]["App"]["Properties"]["UserData"] = {
        "Fn::Base64": {"Fn::GetAtt": ["SsmEndpoint", "DnsEntries"]}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")


@pytest.mark.parametrize(("value", "expected"), [
    ({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}, "a-eu-west-1"),
    ({"Fn::Sub": "${AWS::Partition}:${Name}"}, "aws:n"),
    ({"Fn::Sub": ["${X}/${!Literal}", {"X": {"Ref": "Name"}}]}, "n/${Literal}"),
    ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "b"),
    ({"Fn::If": ["Yes", "t", "f"]}, "t"),
    ({"Fn::If": ["Unknown", "same", "same"]}, "same"),
    ({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, ["10.0.0.0/24", "10.0.1.0/24"]),
    ({"Fn::FindInMap": ["M", "k", "v"]}, "mapped"),
    ([{"Ref": "AWS::NoValue"}, "kept"], ["kept"]),
])
def test_intrinsics(value, expected):
    resolver = _resolver()
    assert resolver.resolve(value) == expected


@pytest.mark.parametrize(("value", "reason"), [
    ({"Ref": "Missing"}, "no such parameter or resource"),
    ({"Ref": "NoDefault"}, "has no default"),
    ({"Ref": "FromSsm"}, "SSM Parameter Store"),
    ({"Fn::ImportValue": "x"}, "exported by another stack"),
    ({"Fn::GetAZs": ""}, "availability zones"),
    ({"Fn::If": ["Unknown", "a", "b"]}, "Fn::If on"),
    ({"Fn::GetAtt": ["Thing", "Address"]}, "known only after deployment"),
    ({"Fn::FindInMap": ["M", "k", "nope"]}, "no such entry"),
    ({"Fn::Transform": {"Name": "x"}}, "not evaluated"),
])
def test_what_cannot_be_known_is_unresolved_with_the_reason(value, reason):
    resolved = _resolver().resolve(value)
    assert isinstance(resolved, Unresolved)
    assert reason in resolved.reason


def _resolver() -> Resolver:
    body = {"Parameters": {"Name": {"Type": "String", "Default": "n"},
                           "NoDefault": {"Type": "String"},
                           "FromSsm": {"Type": "AWS::SSM::Parameter::Value<String>",
                                       "Default": "/x"}},
            "Mappings": {"M": {"k": {"v": "mapped"}}},
            "Conditions": {"Yes": {"Fn::Equals": ["a", "a"]},
                           "Unknown": {"Fn::Equals": [{"Ref": "NoDefault"}, "a"]}},
            "Resources": {"Thing": {"Type": "AWS::EC2::EIP"}}}
    return Resolver(body, {}, {"AWS::Region": "eu-west-1", "AWS::Partition": "aws"},
                    lambda logical_id: f"id-{logical_id}",
                    lambda logical_id, attribute: Unresolved(
                        f"{logical_id}.{attribute} is known only after deployment"))


# --- launch templates and auto scaling groups -------------------------------------------


def _with_launch_template(subnets: list[str] | None, tokens: str = "required") -> dict:
    template = isolated_template()
    resources = template["Resources"]
    app = resources.pop("App")["Properties"]
    resources["AppTemplate"] = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
        "LaunchTemplateData": {
            "ImageId": app["ImageId"], "IamInstanceProfile": {"Name": {"Ref": "AppProfile"}},
            "SecurityGroupIds": app["SecurityGroupIds"],
            "MetadataOptions": {"HttpTokens": tokens, "HttpEndpoint": "enabled"}}}}
    if subnets is not None:
        resources["OtherSubnet"] = {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.3.0/24"}}
        resources["OtherRoutes"] = {"Type": "AWS::EC2::RouteTable",
                                    "Properties": {"VpcId": {"Ref": "Vpc"}}}
        resources["Fleet"] = {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
            "MinSize": "1", "MaxSize": "2", "VPCZoneIdentifier": [{"Ref": s} for s in subnets],
            "LaunchTemplate": {"LaunchTemplateId": {"Ref": "AppTemplate"},
                               "Version": {"Fn::GetAtt": ["AppTemplate",
                                                          "LatestVersionNumber"]}}}}
    return template


def test_a_launch_template_alone_depends_on_where_it_is_launched(tmp_path, capsys):
    status, report = prelaunch(capsys, str(write(tmp_path, _with_launch_template(None))))
    launch = entry(report, "AppTemplate")
    assert (status, launch["verdict"]) == (3, "unknown")
    assert any("where it is launched" in reason for reason in launch["verdict_reasons"])


def test_an_auto_scaling_group_is_proved_in_each_subnet(tmp_path, capsys):
    template = _with_launch_template(["AppSubnet", "OtherSubnet"])
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert [i["instance_id"] for i in report["instances"]] == ["Fleet"]
    fleet = entry(report, "Fleet")
    # The endpoints reach both subnets (default ACL, local route): manageable everywhere.
    assert (status, fleet["verdict"]) == (0, "manageable"), fleet["findings"]
    # A NACL on one subnet only: the group is as bad as its worst subnet, and says where.
    template["Resources"].update({
        "Closed": {"Type": "AWS::EC2::NetworkAcl", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "ClosedAssociation": {"Type": "AWS::EC2::SubnetNetworkAclAssociation", "Properties": {
            "SubnetId": {"Ref": "OtherSubnet"}, "NetworkAclId": {"Ref": "Closed"}}}})
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    fleet = entry(report, "Fleet")
    assert (status, fleet["verdict"]) == (1, "not_manageable")
    blocking = [f for f in fleet["findings"] if f["code"] == "NACL_BLOCKS"]
    assert blocking and all(f["message"].startswith("in subnet-OtherSubnet:") for f in blocking)
    assert all(f["details"]["subnet_id"] == "subnet-OtherSubnet" for f in blocking)


def test_an_instance_takes_its_settings_from_its_launch_template(tmp_path, capsys):
    template = _with_launch_template(None, tokens="required")
    template["Resources"]["AppTemplate"]["Properties"]["LaunchTemplateData"][
        "MetadataOptions"]["HttpEndpoint"] = "disabled"
    template["Resources"]["App"] = {"Type": "AWS::EC2::Instance", "Properties": {
        "SubnetId": {"Ref": "AppSubnet"},
        "LaunchTemplate": {"LaunchTemplateId": {"Ref": "AppTemplate"}, "Version": "1"}}}
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert [i["instance_id"] for i in report["instances"]] == ["App"]  # the template is used
    assert "IMDS_DISABLED" in codes(entry(report, "App"))


# --- several templates, cdk.out, SARIF ------------------------------------------------------


def test_a_cdk_out_folder_reads_every_stack_of_the_manifest(tmp_path, capsys):
    template = isolated_template()
    network = {"Resources": {k: v for k, v in template["Resources"].items()
                             if not k.startswith("App")}}
    folder = tmp_path / "cdk.out"
    folder.mkdir()
    write(folder, network, "Network.template.json")
    write(folder, {"Resources": {"Lonely": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {}}}}}, "App.template.json")
    (folder / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": {
        "Network": {"type": "aws:cloudformation:stack",
                    "properties": {"templateFile": "Network.template.json"}},
        "App": {"type": "aws:cloudformation:stack",
                "properties": {"templateFile": "App.template.json"}}}}))
    assert [t.name for t in load_templates(folder)] == ["Network", "App"]
    status, report = prelaunch(capsys, str(folder))
    assert (status, report["instances"]) == (0, [])


def test_overlay_keeps_the_base_untouched_and_maps_ids_back(tmp_path):
    from builders.estate_builder import EstateBuilder

    builder = EstateBuilder(region="eu-west-1")
    vpc = builder.vpc("10.0.0.0/16")
    group = builder.security_group(vpc, "locked", egress=[])
    base = builder.raw()
    before = json.dumps(base.answers, sort_keys=True, default=str)
    template = load_template(write(tmp_path, {"Resources": {"Open": {
        "Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
            "GroupId": group, "IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}}}}))
    result = overlay_templates(base, [template])
    assert json.dumps(base.answers, sort_keys=True, default=str) == before
    merged = next(g for g in result.raw.answers["security_groups"]["SecurityGroups"]
                  if g["GroupId"] == group)
    assert merged["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert result.logical["Open"].logical_id == "Open"
    assert result.raw.region == "eu-west-1"


def test_sarif_points_at_the_logical_resource(tmp_path, capsys):
    from auditor.cli import main

    template = isolated_template()
    template["Resources"]["AppSg"]["Properties"]["SecurityGroupEgress"] = [
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"}]
    path = write(tmp_path, template)
    code = main(["prelaunch", str(path), "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    assert code == 1 and sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["SG_EGRESS_BLOCKS"]["help"]["text"] == CATALOGUE["SG_EGRESS_BLOCKS"].fix
    assert rules["SG_EGRESS_BLOCKS"]["shortDescription"]["text"] == \
        CATALOGUE["SG_EGRESS_BLOCKS"].title
    result = next(r for r in run["results"] if r["ruleId"] == "SG_EGRESS_BLOCKS")
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == path.as_posix()
    line = path.read_text().splitlines().index('    "AppSg": {') + 1
    assert location["physicalLocation"]["region"]["startLine"] == line
    assert location["logicalLocations"][0]["name"] == "AppSg"
    assert result["level"] == "error"
    assert rules[result["ruleId"]] is run["tool"]["driver"]["rules"][result["ruleIndex"]]


def test_sarif_of_an_audit_names_resources(capsys):
    from auditor.cli import main

    code = main(["--all", "--snapshot", "demo/estate", "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    assert code == 1
    results = sarif["runs"][0]["results"]
    assert {"IGW_NO_PUBLIC_IP", "SG_EGRESS_BLOCKS"} <= {r["ruleId"] for r in results}
    assert all("physicalLocation" not in r["locations"][0] for r in results)


def test_empty_base_region_is_inferred_from_the_template(tmp_path):
    template = isolated_template()
    template["Resources"]["SsmEndpoint"]["Properties"]["ServiceName"] = \
        "com.amazonaws.ap-southeast-2.ssm"
    result = overlay_templates(RawRegion(""), [load_template(write(tmp_path, template))])
    assert result.raw.region == "ap-southeast-2"


@pytest.mark.parametrize(("logical_id", "name", "value"), [
    ("AppSubnet", "CidrBlock", "not-a-cidr"),
    ("AppSg", "SecurityGroupEgress", [{"IpProtocol": "tcp", "FromPort": "https",
                                       "ToPort": 443, "CidrIp": "0.0.0.0/0"}]),
    ("App", "NetworkInterfaces", "eth0"),
    ("App", "MetadataOptions", "required"),
    ("App", "PrivateIpAddress", "10.0.1.999"),
])
def test_a_property_of_an_unexpected_form_makes_its_resource_unknown(tmp_path, capsys, logical_id,
                                                                       name, value):
    template = isolated_template()
    template["Resources"][logical_id]["Properties"][name] = value
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (3, "unknown")
    assert "TEMPLATE_VALUE_UNRESOLVED" in codes(app)


def test_imports_between_the_stacks_of_one_cdk_out(tmp_path, capsys):
    template = isolated_template()
    resources = template["Resources"]
    network = {"Resources": {k: v for k, v in resources.items() if not k.startswith("App")
                             or k in ("AppSubnet", "AppRoutes", "AppRoutesAssociation", "AppSg")},
               "Outputs": {"Subnet": {"Value": {"Ref": "AppSubnet"},
                                      "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:Sub"}}},
                           "Group": {"Value": {"Fn::GetAtt": ["AppSg", "GroupId"]},
                                     "Export": {"Name": "Network:Group"}}}}
    app = {"Resources": {k: v for k, v in resources.items() if k not in network["Resources"]}}
    app["Resources"]["App"]["Properties"]["SubnetId"] = {"Fn::ImportValue": "Network:Sub"}
    app["Resources"]["App"]["Properties"]["SecurityGroupIds"] = [
        {"Fn::ImportValue": "Network:Group"}]
    folder = tmp_path / "cdk.out"
    folder.mkdir()
    write(folder, network, "Network.template.json")
    write(folder, app, "App.template.json")
    status, report = prelaunch(capsys, str(folder))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    status, report = prelaunch(capsys, str(folder / "App.template.json"))
    assert entry(report, "App")["verdict"] == "unknown"
    assert any("Network:Sub: exported by" in r for r in entry(report, "App")["verdict_reasons"])


def test_the_reason_names_what_is_unknown_and_nothing_else(capsys):
    _, report = prelaunch(capsys, str(SHORT_FORMS))
    reasons = " ".join(entry(report, "Imported")["verdict_reasons"])
    assert "Fn::ImportValue shared-network-PrivateSubnet" in reasons
    assert "default VPC" not in reasons and "None" not in reasons


def test_what_an_unresolved_resource_leaves_unknown_says_why(tmp_path, capsys):
    template = isolated_template()
    template["Resources"]["Vpc"]["Properties"] = {"Ipv4IpamPoolId": "ipam-pool-0abc",
                                                  "Ipv4NetmaskLength": 16}
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    app = entry(report, "App")
    assert app["verdict"] == "unknown"
    reasons = " ".join(app["verdict_reasons"])
    assert "subnet subnet-AppSubnet could not be resolved" in reasons
    assert "Vpc has no CidrBlock" in reasons


def test_the_account_comes_from_the_template_when_no_estate_says_it(tmp_path, capsys):
    # Permissions scoped to the account by a literal ARN: proven for that account.
    template = isolated_template()
    template["Resources"]["AppRole"]["Properties"]["ManagedPolicyArns"] = []
    template["Resources"]["AppRole"]["Properties"]["Policies"] = [{
        "PolicyName": "agent", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "ssm:UpdateInstanceInformation",
             "Resource": "arn:aws:ec2:*:444455556666:instance/*"},
            {"Effect": "Allow", "Action": ["ssmmessages:*", "ec2messages:*"],
             "Resource": "*"}]}}]
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    assert report["source"]["account_id"] == ""  # not reported as a fact


def test_properties_given_by_one_intrinsic(tmp_path, capsys):
    template = isolated_template()
    template["Parameters"] = {"Mode": {"Type": "String", "Default": "isolated"},
                              "Other": {"Type": "String"}}
    template["Conditions"] = {"Isolated": {"Fn::Equals": [{"Ref": "Mode"}, "isolated"]},
                              "Unknown": {"Fn::Equals": [{"Ref": "Other"}, "x"]}}
    app = template["Resources"]["App"]
    app["Properties"] = {"Fn::If": ["Isolated", app["Properties"], {"ImageId": "ami-1"}]}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    app["Properties"]["Fn::If"][0] = "Unknown"
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    reasons = " ".join(entry(report, "App")["verdict_reasons"])
    assert "App.Properties: Fn::If on" in reasons and "default VPC" not in reasons


def test_a_template_cloudformation_would_refuse_gets_one_line_pointing_to_cfn_lint(
        tmp_path, capsys):
    # Seen in public templates: a parameter type written as a resource type, a Ref to nothing
    # the template declares. The auditor is no linter: one warning per template, verdicts
    # unchanged, cfn-lint named for the rest.
    from auditor.cli import main

    template = isolated_template()
    code = main(["prelaunch", str(write(tmp_path, template)), "--format", "json"])
    assert (code, capsys.readouterr().err) == (0, "")
    template["Resources"]["Network"] = {"Type": "AWS::EC2::VPC::Id"}
    template["Outputs"] = {"Where": {"Value": {"Ref": "Nowhere"}}}
    code = main(["prelaunch", str(write(tmp_path, template)), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("auditor: warning: template ")
    assert "CloudFormation would refuse it" in lines[0] and "cfn-lint" in lines[0]
    assert "(and 1 more)" in lines[0]
    report = json.loads(captured.out)
    assert report["template_warnings"] == [lines[0].removeprefix("auditor: warning: ")]
    assert entry(report, "App")["verdict"] == "manageable"
