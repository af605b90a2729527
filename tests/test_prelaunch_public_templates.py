"""Public CloudFormation templates (or reductions of them, source in each file's first lines)
that exposed a reader problem, and hand-made variants of the hand-written template that
isolate each mechanism."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.cli import main
from auditor.sources.template.intrinsics import Unresolved
from tests.checks import assert_one_line_error
from tests.prelaunch_helpers import codes, entry, isolated_template, prelaunch, write

PUBLIC = Path(__file__).parent / "templates" / "public"


# --- network interfaces the template creates ----------------------------------------------


def _with_interface(template: dict) -> dict:
    """The isolated template, its instance attaching an AWS::EC2::NetworkInterface."""
    app = template["Resources"]["App"]["Properties"]
    template["Resources"]["AppInterface"] = {"Type": "AWS::EC2::NetworkInterface", "Properties": {
        "SubnetId": app.pop("SubnetId"), "GroupSet": app.pop("SecurityGroupIds"),
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.50", "Primary": "true"}]}}
    app["NetworkInterfaces"] = [{"DeviceIndex": "0",
                                 "NetworkInterfaceId": {"Ref": "AppInterface"}}]
    return template


def test_an_instance_on_a_template_interface_is_proved_where_the_interface_is(tmp_path, capsys):
    status, report = prelaunch(capsys, str(write(tmp_path, _with_interface(isolated_template()))))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (0, "manageable"), app["verdict_reasons"]
    assert (app["subnet_id"], app["private_ip"]) == ("subnet-AppSubnet", "10.0.1.50")


def test_an_interface_that_blocks_blocks_its_instance(tmp_path, capsys):
    template = _with_interface(isolated_template())
    template["Resources"]["AppSg"]["Properties"]["SecurityGroupEgress"] = []
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    app = entry(report, "App")
    assert app["verdict"] == "not_manageable"
    assert "SG_EGRESS_BLOCKS" in codes(app)


def test_an_elastic_ip_on_the_interface_makes_the_instance_public(tmp_path, capsys):
    template = _with_interface(isolated_template())
    template["Resources"]["AppAddress"] = {"Type": "AWS::EC2::EIP"}
    template["Resources"]["AppAddressAssociation"] = {
        "Type": "AWS::EC2::EIPAssociation", "Properties": {
            "NetworkInterfaceId": {"Ref": "AppInterface"},
            "AllocationId": {"Fn::GetAtt": ["AppAddress", "AllocationId"]}}}
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert entry(report, "App")["public_ip"]
    _, report = prelaunch(capsys, str(write(tmp_path, _with_interface(isolated_template()))))
    assert not entry(report, "App")["public_ip"]


def test_an_unresolved_interface_says_why_its_instance_is_unknown(capsys):
    # aws-cloudformation-templates VPC_EC2_Instance_With_Multiple_Static_IPAddresses: the
    # interface's subnet is a parameter without default; the instance used to be reported as
    # attaching "an existing network interface".
    status, report = prelaunch(capsys, str(PUBLIC / "instance_with_static_ips.yaml"))
    instance = entry(report, "EC2Instance")
    assert (status, instance["verdict"]) == (3, "unknown")
    reason = report["unresolved"]["EC2Instance"]
    assert "attaches network interface eni-Eth0, which could not be resolved" in reason
    assert "parameter SubnetId has no default" in reason
    assert "existing network interface" not in reason


# --- policy statements with values known only at deployment --------------------------------


def test_a_statement_about_other_actions_with_an_unresolved_resource_costs_nothing(capsys):
    # widdix ec2/al2-mutable-private: the role's inline policies grant the agent's actions, and
    # a statement on logs names the log group by Fn::GetAtt. That used to drop every inline
    # policy of the role and report MISSING_PERMISSIONS for actions the role is granted.
    _, report = prelaunch(capsys, str(PUBLIC / "widdix_al2_mutable_private.yaml"))
    machine = entry(report, "VirtualMachine")
    assert machine["verdict"] == "unknown"
    assert "MISSING_PERMISSIONS" not in codes(machine)
    assert "IAMRole" not in report["unresolved"]
    assert "parameter ParentVPCStack has no default" in report["unresolved"]["VirtualMachine"]


def _with_statement(statement: dict) -> dict:
    template = isolated_template()
    template["Resources"]["Logs"] = {"Type": "AWS::SQS::Queue"}  # its Arn: after deployment
    template["Resources"]["AppRole"]["Properties"]["Policies"] = [
        {"PolicyName": "extra", "PolicyDocument": {"Version": "2012-10-17",
                                                   "Statement": [statement]}}]
    return template


def test_an_unresolved_statement_that_may_deny_the_agent_makes_it_unknown(tmp_path, capsys):
    logs = {"Fn::GetAtt": ["Logs", "Arn"]}
    _, report = prelaunch(capsys, str(write(tmp_path, _with_statement(
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": logs}))))
    assert entry(report, "App")["verdict"] == "manageable"
    for action in ("ssm:*", "*", ["logs:*", "ssm:Update*"]):
        _, report = prelaunch(capsys, str(write(tmp_path, _with_statement(
            {"Effect": "Deny", "Action": action, "Resource": logs}))))
        app = entry(report, "App")
        assert app["verdict"] == "unknown", action
        assert "AppRole.Policies[extra]: Fn::GetAtt Logs.Arn" in report["unresolved"]["AppRole"]
    _, report = prelaunch(capsys, str(write(tmp_path, _with_statement(
        {"Effect": "Deny", "NotAction": "logs:*", "Resource": logs}))))
    assert entry(report, "App")["verdict"] == "unknown"


def test_a_separate_policy_is_read_statement_by_statement(tmp_path, capsys):
    template = isolated_template()
    template["Resources"]["Logs"] = {"Type": "AWS::Logs::LogGroup"}
    template["Resources"]["AppLogs"] = {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": "logs", "Roles": [{"Ref": "AppRole"}], "PolicyDocument": {
            "Statement": [{"Effect": "Deny", "Action": "ssm:UpdateInstanceInformation",
                           "Resource": "*"},
                          {"Effect": "Allow", "Action": "logs:*",
                           "Resource": {"Fn::GetAtt": ["Logs", "Arn"]}}]}}}
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    app = entry(report, "App")
    # The deny is read (the agent falls back on Default Host Management, not read here).
    assert "EXPLICIT_DENY" in codes(app) and app["verdict"] == "unknown"
    assert "AppRole" not in report["unresolved"]


# --- what is not CloudFormation --------------------------------------------------------------


def test_a_rain_template_is_one_line_saying_what_to_give(capsys):
    # aws-cloudformation-templates Solutions/GitLab/GitLabServer.yaml, before `rain pkg`.
    code = main(["prelaunch", str(PUBLIC / "gitlab_rain_module.yaml")])
    assert_one_line_error(code, capsys.readouterr().err, "(line 17)", "!Rain::Module",
                          "rain pkg")


def test_an_unknown_tag_is_one_line(tmp_path, capsys):
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  Thing:\n    Type: AWS::SNS::Topic\n    Properties:\n"
                    "      Name: !Macro whatever\n")
    code = main(["prelaunch", str(path)])
    assert_one_line_error(code, capsys.readouterr().err, "(line 5)", "!Macro",
                          "not a CloudFormation function")


# --- stacks that import from each other ---------------------------------------------------


def test_widdix_stacks_together_prove_the_instance_in_the_vpc_stack(capsys):
    # widdix vpc-2azs + ec2/al2-mutable-private: the private subnet's table has no default
    # route (the NAT gateway is another stack), so the agent cannot reach ssm.
    status, report = prelaunch(capsys, str(PUBLIC / "widdix" / "vpc.yaml"),
                               str(PUBLIC / "widdix_al2_mutable_private.yaml"),
                               "--parameter", "ParentVPCStack=vpc")
    machine = entry(report, "VirtualMachine")
    assert (status, machine["verdict"]) == (1, "not_manageable")
    assert machine["subnet_id"] == "subnet-SubnetAPrivate"
    assert "NO_ROUTE_TO_DESTINATION" in codes(machine)
    assert "MISSING_PERMISSIONS" not in codes(machine)


def test_an_import_no_template_exports_names_the_closest_exports(capsys):
    # widdix vpc-nat-gateway imports RouteTableAPrivate, which this version of vpc-2azs does
    # not export (it exports RouteTablePrivate): the route's table is unknown, and so is every
    # instance, with why.
    status, report = prelaunch(capsys, str(PUBLIC / "widdix" / "vpc.yaml"),
                               str(PUBLIC / "widdix" / "nat.yaml"),
                               str(PUBLIC / "widdix_al2_mutable_private.yaml"),
                               "--parameter", "ParentVPCStack=vpc")
    machine = entry(report, "VirtualMachine")
    assert (status, machine["verdict"]) == (3, "unknown")
    reason = machine["verdict_reasons"][-1]
    assert "Route: the route table it changes is unknown" in reason
    assert "Fn::ImportValue vpc-RouteTableAPrivate: no template given exports it" in reason
    assert "closest exports: vpc-RouteTablePrivate" in reason


# --- YAML booleans, conditions on them, policies chosen by a condition --------------------


def test_a_yaml_boolean_default_compares_as_cloudformation_text(capsys):
    # widdix vpc-ssh-bastion: `SystemsManagerAccess: Default: true` and
    # `!Equals [!Ref SystemsManagerAccess, 'true']`. The YAML boolean used to compare as
    # "True", which dropped the `ssm` policy chosen by `!If` and reported MISSING_PERMISSIONS.
    bastion = [str(PUBLIC / "widdix" / "vpc.yaml"), str(PUBLIC / "widdix" / "bastion.yaml"),
               "--parameter", "ParentVPCStack=vpc"]
    status, report = prelaunch(capsys, *bastion)
    group = entry(report, "AutoScalingGroup")
    assert (status, group["verdict"]) == (0, "manageable"), group["verdict_reasons"]
    assert group["imds"]["http_tokens"] == "required" and group["public_ip"]
    _, report = prelaunch(capsys, *bastion, "--parameter", "SystemsManagerAccess=false")
    assert "MISSING_PERMISSIONS" in codes(entry(report, "AutoScalingGroup"))


def test_booleans_become_cloudformation_text_in_sub_join_and_equals():
    from auditor.sources.template.intrinsics import Resolver

    resolver = Resolver({"Parameters": {"On": {"Type": "String", "Default": True}}}, {}, {},
                        lambda name: name, lambda name, attribute: None)
    assert resolver.resolve({"Fn::Sub": "${On}"}) == "true"
    assert resolver.resolve({"Fn::Join": ["-", [{"Ref": "On"}, False]]}) == "true-false"
    assert resolver.resolve({"Fn::Equals": [{"Ref": "On"}, "true"]}) is True


# --- mistakes a template can hold ----------------------------------------------------------


def test_a_mistaken_template_gets_reasons_that_name_the_mistakes(capsys):
    # Assembled from a public README: `!Select [!Ref AWS::NoValue, ...]` for subnets and the NAT
    # gateway, a role's ARN as the launch template's instance profile, an auto scaling group in
    # a subnet that cannot be resolved.
    status, report = prelaunch(capsys, str(PUBLIC / "ha_webapp_doc.yaml"),
                               "--parameter", "EnvName=dev")
    group = entry(report, "AutoScalingGroup")
    assert (status, group["verdict"]) == (3, "unknown")
    unresolved = report["unresolved"]
    assert unresolved["subnet-PrivateSubnets"] == (
        "PrivateSubnets.CidrBlock: Fn::Select: the index AWS::NoValue is not a number")
    # The NAT gateway is in the template: the route says why it is unknown, not that it is
    # missing.
    assert unresolved["PrivateRoutes"].startswith("PrivateRoutes: nat-NATGateways could not be "
                                                  "resolved (NATGateways.SubnetId")
    reasons = " ".join(group["verdict_reasons"])
    assert "names role EC2InstanceRole, not an instance profile: EC2 refuses the launch" \
        in reasons
    # Each reason names the subnet the member was planned in, even an unresolved one.
    assert all(reason.startswith("in subnet-PrivateSubnets: ")
               for reason in group["verdict_reasons"])


# --- Fn::ForEach (AWS::LanguageExtensions) --------------------------------------------------


def test_a_loop_over_subnet_keys_gives_one_instance_per_key(capsys):
    # yuji-kurabayashi cfn_network_test.yaml: one instance, profile, role and security group
    # per subnet key, `Ref: !Sub EC2InstanceProfile${SubnetKey}`. It used to be refused
    # ("resource Fn::ForEach::EC2Instances has no Type").
    status, report = prelaunch(capsys, str(PUBLIC / "foreach_network_test.yaml"),
                               "--parameter", "ReferenceNetworkStackName=net",
                               "--parameter",
                               "TestTargetSubnetKeys=PublicSubnet1,PrivateSubnet1")
    ids = [instance["logical_id"] for instance in report["instances"]]
    assert ids == ["EC2InstancePublicSubnet1", "EC2InstancePrivateSubnet1"]
    instance = entry(report, "EC2InstancePublicSubnet1")
    # The role the loop made for it is read: `Action: '*'` on a resource that is not the
    # instance's ARN grants nothing the agent needs. Default Host Management, unknown without
    # an estate, could not rescue it anyway (the instance allows IMDSv1): decided, not unknown.
    assert (status, instance["verdict"]) == (1, "not_manageable")
    assert "MISSING_PERMISSIONS" in codes(instance)
    assert "DHMC_REQUIRES_IMDSV2" in codes(instance)
    assert "Fn::ImportValue net-PublicSubnet1" in report["unresolved"]["EC2InstancePublicSubnet1"]
    loop_line = (PUBLIC / "foreach_network_test.yaml").read_text().splitlines().index(
        "  Fn::ForEach::EC2Instances:") + 1
    assert instance["template"]["line"] == loop_line  # SARIF points at the loop


def _looped(collection) -> dict:
    """The isolated template's instance repeated by a loop over ``collection``."""
    template = isolated_template()
    template["Transform"] = "AWS::LanguageExtensions"
    app = template["Resources"].pop("App")
    app["Properties"]["Tags"] = [{"Key": "Name", "Value": {"Fn::Sub": "app-${Name}"}}]
    template["Resources"]["Fn::ForEach::Apps"] = ["Name", collection, {"App&{Name}": app}]
    return template


def test_a_loop_with_a_known_collection_is_proved_item_by_item(tmp_path, capsys):
    status, report = prelaunch(capsys, str(write(tmp_path, _looped(["a-1", "b"]))))
    assert [i["logical_id"] for i in report["instances"]] == ["Appa1", "Appb"]
    assert status == 0 and all(i["verdict"] == "manageable" for i in report["instances"])


def test_a_loop_over_an_unknown_collection_is_reported_unknown(tmp_path, capsys):
    template = _looped({"Ref": "Names"})
    template["Parameters"] = {"Names": {"Type": "CommaDelimitedList"}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    loop = entry(report, "Fn::ForEach::Apps")
    assert (status, loop["verdict"]) == (3, "unknown")
    assert loop["template"]["line"] is not None
    assert "Fn::ForEach::Apps cannot be expanded: parameter Names has no default" \
        in " ".join(loop["verdict_reasons"])
    status, report = prelaunch(capsys, str(write(tmp_path, template)), "--parameter",
                               "Names=x,y")
    assert [i["logical_id"] for i in report["instances"]] == ["Appx", "Appy"]


# --- dynamic references ---------------------------------------------------------------------


def test_a_dynamic_reference_in_a_field_the_proof_reads_is_unknown(tmp_path, capsys):
    template = isolated_template()
    template["Resources"]["App"]["Properties"]["SubnetId"] = "{{resolve:ssm:/net/app-subnet}}"
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    assert report["unresolved"]["App"] == (
        "App.SubnetId: dynamic reference {{resolve:ssm:/net/app-subnet}} is read at deployment")


def test_a_dynamic_reference_elsewhere_costs_nothing(capsys, tmp_path):
    # aws-cloudformation-templates InstanceWithCfnInit.json reads its image that way; an image
    # is not on the agent's path. (That instance has no subnet: the default VPC decides.)
    template = isolated_template()
    template["Resources"]["App"]["Properties"]["ImageId"] = (
        "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64}}")
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    _, report = prelaunch(capsys, str(PUBLIC / "instance_with_cfn_init.json"))
    assert "default VPC" in report["unresolved"]["Instance"]


def test_a_windows_image_read_by_dynamic_reference_is_proved_as_windows(capsys, tmp_path):
    template = isolated_template()
    template["Resources"]["App"]["Properties"]["ImageId"] = (
        "{{resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base}}")
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert entry(report, "App")["platform"] == "windows"


# --- nested stacks and custom resources ----------------------------------------------------


def test_a_parent_of_nested_stacks_is_not_all_clear(capsys):
    # A parent with a network and an application nested stack: it used to say "nothing to
    # check" with exit status 0, though the application stack may launch instances.
    path = str(PUBLIC / "nested_parent.yaml")
    status, report = prelaunch(capsys, path)
    assert (status, report["instances"]) == (3, [])
    assert set(report["not_read"]) == {"NetworkStack", "ApplicationStack"}
    assert main(["prelaunch", path]) == 3
    out = capsys.readouterr().out
    assert "nothing to check" in out and "not read: ApplicationStack (nested stack" in out


def test_an_output_of_a_nested_stack_names_it(tmp_path, capsys):
    template = isolated_template()
    template["Resources"]["Network"] = {"Type": "AWS::CloudFormation::Stack", "Properties": {
        "TemplateURL": "https://example.com/network.yaml"}}
    template["Resources"]["App"]["Properties"]["SubnetId"] = {
        "Fn::GetAtt": ["Network", "Outputs.AppSubnet"]}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    assert "an output of nested stack Network, whose template is not read" \
        in report["unresolved"]["App"]


def test_a_custom_resource_is_named_as_not_read_without_changing_verdicts(tmp_path, capsys):
    template = isolated_template()
    template["Resources"]["Tweak"] = {"Type": "Custom::VpcTweak", "Properties": {
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tweak"}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    assert report["not_read"] == {
        "Tweak": "custom resource: what its function changes is not modelled"}


def test_language_extension_functions_resolve():
    from auditor.sources.template.intrinsics import Resolver

    resolver = Resolver({"Parameters": {"Cidrs": {"Type": "CommaDelimitedList",
                                                  "Default": "10.0.0.0/16,10.1.0.0/16"}}},
                        {}, {}, lambda name: name, lambda name, attribute: None)
    assert resolver.resolve({"Fn::Length": {"Ref": "Cidrs"}}) == 2
    assert resolver.resolve({"Fn::ToJsonString": {"a": [True, {"Ref": "Cidrs"}]}}) == (
        '{"a":[true,["10.0.0.0/16","10.1.0.0/16"]]}')
    assert isinstance(resolver.resolve({"Fn::Length": {"Ref": "Missing"}}), Unresolved)


def test_a_policy_document_chosen_by_a_condition_is_read(tmp_path, capsys):
    template = isolated_template()
    template["Parameters"] = {"Locked": {"Type": "String", "Default": "true"}}
    template["Conditions"] = {"IsLocked": {"Fn::Equals": [{"Ref": "Locked"}, "true"]}}
    deny = {"Statement": {"Effect": "Deny", "Action": "ssm:*", "Resource": "*"}}
    allow = {"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
    template["Resources"]["AppRole"]["Properties"]["Policies"] = [
        {"PolicyName": "switch", "PolicyDocument": {"Fn::If": ["IsLocked", deny, allow]}}]
    path = str(write(tmp_path, template))
    _, report = prelaunch(capsys, path)
    assert "EXPLICIT_DENY" in codes(entry(report, "App"))
    status, report = prelaunch(capsys, path, "--parameter", "Locked=false")
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")


def test_an_unknown_zone_identifier_is_said_once(capsys):
    # aws-cloudformation-templates AutoScalingMultiAZWithNotifications: subnets and security
    # groups are List parameters without default.
    status, report = prelaunch(capsys, str(PUBLIC / "asg_multiaz_notifications.yaml"))
    assert (status, entry(report, "WebServerGroup")["verdict"]) == (3, "unknown")
    reason = report["unresolved"]["WebServerGroup"]
    assert reason.count("VPCZoneIdentifier") == 1 and "parameter Subnets has no default" in reason
    assert "parameter SecurityGroups has no default" in reason
    status, report = prelaunch(capsys, str(PUBLIC / "asg_multiaz_notifications.yaml"),
                               "--parameter", "Subnets=subnet-a,subnet-b",
                               "--parameter", "SecurityGroups=sg-1")
    group = entry(report, "WebServerGroup")
    assert status == 3 and all(reason.startswith(("in subnet-a: ", "in subnet-b: "))
                               for reason in group["verdict_reasons"])


def test_the_service_role_path_of_amazon_ec2_role_for_ssm_is_known(capsys):
    # aws-cloudformation-templates EC2-Domain-Join attaches
    # arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM (its real ARN); the bundled copy
    # used to be known only at the root, which AWS does not have, so the role was unread.
    _, report = prelaunch(capsys, str(PUBLIC / "ec2_domain_join.yaml"))
    instance = entry(report, "myEC2InstanceSSM")
    assert instance["permissions"]["status"] == "ok", instance["permissions"]
    assert not any("AmazonEC2RoleforSSM" in f["message"] for f in instance["findings"])


def test_an_instance_in_an_ipv6_only_subnet_says_so(tmp_path, capsys):
    template = isolated_template()
    subnet = template["Resources"]["AppSubnet"]["Properties"]
    del subnet["CidrBlock"]
    subnet.update({"Ipv6Native": True, "AssignIpv6AddressOnCreation": True})
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    assert "AppSubnet is IPv6-only (Ipv6Native), which the auditor does not model" \
        in report["unresolved"]["App"]


# --- managed prefix lists the template creates ------------------------------------------------


def _egress_to_prefix_list(entries) -> dict:
    template = isolated_template()
    template["Resources"]["Pl"] = {"Type": "AWS::EC2::PrefixList", "Properties": {
        "PrefixListName": "internal", "AddressFamily": "IPv4", "MaxEntries": 2,
        "Entries": entries}}
    template["Resources"]["AppSg"]["Properties"]["SecurityGroupEgress"] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "DestinationPrefixListId": {"Fn::GetAtt": ["Pl", "PrefixListId"]}}]
    return template


def test_a_rule_to_a_template_prefix_list_is_matched_against_its_entries(tmp_path, capsys):
    # It used to be DESTINATION_UNCERTAIN: the list was not read.
    _, report = prelaunch(capsys, str(write(tmp_path, _egress_to_prefix_list(
        [{"Cidr": "10.0.0.0/16"}]))))
    assert entry(report, "App")["verdict"] == "manageable"
    _, report = prelaunch(capsys, str(write(tmp_path, _egress_to_prefix_list(
        [{"Cidr": "192.168.0.0/16"}]))))
    app = entry(report, "App")
    assert app["verdict"] == "not_manageable" and "SG_EGRESS_BLOCKS" in codes(app)


def test_a_template_prefix_list_with_unknown_entries_is_unknown(tmp_path, capsys):
    template = _egress_to_prefix_list([{"Cidr": {"Ref": "Internal"}}])
    template["Parameters"] = {"Internal": {"Type": "String"}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    assert "parameter Internal has no default" in report["unresolved"]["pl-Pl"]
    assert "prefix list pl-Pl could not be resolved" in report["unresolved"]["sg-AppSg"]
    assert any(f["code"] == "TEMPLATE_VALUE_UNRESOLVED" for f in entry(report, "App")["findings"])


def test_nested_stacks_in_local_files_are_read_with_the_parameters_passed(capsys):
    parent = str(PUBLIC / "nested" / "parent.yaml")
    status, report = prelaunch(capsys, parent)
    app = entry(report, "App")
    assert (status, app["verdict"]) == (0, "manageable"), app["verdict_reasons"]
    # The subnet is the network stack's output the parent passes, the file the child's.
    assert app["subnet_id"] == "subnet-PrivateSubnet0"
    assert app["template"]["path"].endswith("nested/app.yaml")
    # Only the stack whose template is in S3 stays unread.
    assert list(report["not_read"]) == ["DatabaseStack"]
    _, report = prelaunch(capsys, parent, "--parameter", "Placement=PublicSubnet0")
    assert entry(report, "App")["subnet_id"] == "subnet-PublicSubnet0"
    _, report = prelaunch(capsys, parent, "--parameter", "Placement=Nowhere")
    app = entry(report, "App")
    assert app["verdict"] == "unknown"
    assert "Fn::GetAtt NetworkStack.Outputs.Nowhere: the nested template has no such output" \
        in " ".join(app["verdict_reasons"])


def test_a_parameter_passed_as_no_value_leaves_the_nested_default():
    from auditor.sources.template.intrinsics import Resolver
    from auditor.sources.template.nested import PassedParameters

    parent = Resolver({"Parameters": {"Cidrs": {"Type": "CommaDelimitedList",
                                                "Default": "10.0.0.0/16,10.1.0.0/16"}}},
                      {}, {}, lambda name: name, lambda name, attribute: None)
    passed = PassedParameters({"Name": {"Ref": "AWS::NoValue"}, "Cidrs": {"Ref": "Cidrs"}},
                              parent)
    child = Resolver({"Parameters": {"Name": {"Type": "String", "Default": "dflt"},
                                     "Cidrs": {"Type": "CommaDelimitedList"}}},
                     passed, {}, lambda name: name, lambda name, attribute: None)
    assert "Name" not in passed and child.ref("Name") == "dflt"
    # A list is passed as CloudFormation passes it, one comma-joined text.
    assert child.ref("Cidrs") == ["10.0.0.0/16", "10.1.0.0/16"]


def test_a_cdk_nested_stack_is_read_from_its_asset_file(tmp_path, capsys):
    # CDK's NestedStack: TemplateURL is the S3 object the asset is published to; the file is
    # in cdk.out under the name the aws:asset:path metadata gives.
    child = isolated_template()
    (tmp_path / "AppStackNetworkNested.nested.template.json").write_text(json.dumps(child))
    parent = {"Resources": {"NetworkNested": {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": {"Fn::Join": ["", [
            "https://s3.", {"Ref": "AWS::Region"}, ".amazonaws.com/cdk-assets/abc.json"]]}},
        "Metadata": {"aws:cdk:path": "AppStack/Network.NestedStack/Resource",
                     "aws:asset:path": "AppStackNetworkNested.nested.template.json"}}}}
    status, report = prelaunch(capsys, str(write(tmp_path, parent, "AppStack.template.json")))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    assert report["not_read"] == {}
