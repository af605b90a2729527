"""The remediation stacks, synthesized offline from hand-made plans (tests/remediation_plans.py)
and checked with aws_cdk.assertions: one test per kind of plan entry, the stack layout, the
reviewer's metadata, determinism and cdk-nag."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from auditor.errors import UsageError
from auditor.remediation.plan import plan_from_dict
from stacks.remediation_app import add_remediation_stacks
from tests import remediation_plans as plans
from tests.cdk_synth import only, resources, synth

REGION = plans.REGION


def plan_with(**lists: list) -> dict:
    plan = plans.empty_plan()
    plan.update(lists)
    return plan


@pytest.fixture(scope="module")
def full() -> dict:
    return synth(plans.full_plan())


# --- Layout ------------------------------------------------------------------------------------


def test_full_plan_gives_one_stack_per_kind_with_the_plans_environment(full) -> None:
    assert sorted(full) == ["SsmAuditor-Endpoints-" + plans.VPC, "SsmAuditor-InstanceRole",
                            f"SsmAuditor-NaclEntries-{REGION}", f"SsmAuditor-Routes-{REGION}",
                            f"SsmAuditor-SecurityGroupRules-{REGION}"]


def test_empty_plan_gives_no_stack() -> None:
    assert synth(plans.empty_plan()) == {}


def test_stacks_take_account_and_region_from_the_plan() -> None:
    plan = plan_with(security_group_rules=[plans.sg_rule(), plans.sg_rule(
        "ingress", id="rule-us", region="us-east-1", cidr=None,
        peer_security_group_id=plans.PEER_SG)], regions=["us-east-1", REGION],
        instance_roles=[plans.instance_role()])
    app = cdk.App(analytics_reporting=False)
    stacks = {stack.stack_name: stack for stack in add_remediation_stacks(
        app, plan_from_dict(plan))}

    assert {name: (stack.account, stack.region) for name, stack in stacks.items()} == {
        "SsmAuditor-InstanceRole": (plans.ACCOUNT, "us-east-1"),  # IAM: the first region
        "SsmAuditor-SecurityGroupRules-eu-west-1": (plans.ACCOUNT, REGION),
        "SsmAuditor-SecurityGroupRules-us-east-1": (plans.ACCOUNT, "us-east-1"),
    }


# --- EndpointsStack ----------------------------------------------------------------------------


def test_endpoints_one_interface_endpoint_per_service_with_private_dns(full) -> None:
    template = only(full, "SsmAuditor-Endpoints-")

    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    assert sorted(e["ServiceName"] for e in endpoints) == [
        f"com.amazonaws.{REGION}.ec2messages", f"com.amazonaws.{REGION}.ssm",
        f"com.amazonaws.{REGION}.ssmmessages"]
    for endpoint in endpoints:
        assert endpoint["VpcEndpointType"] == "Interface"
        assert endpoint["PrivateDnsEnabled"] is True
        assert endpoint["VpcId"] == plans.VPC
        assert endpoint["SubnetIds"] == list(plans.SUBNETS)
    [group_id] = template.find_resources("AWS::EC2::SecurityGroup")
    assert all(e["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]
               for e in endpoints)


def test_endpoint_group_admits_https_from_the_instances_groups_only(full) -> None:
    template = only(full, "SsmAuditor-Endpoints-")

    [group] = resources(template, "AWS::EC2::SecurityGroup")
    assert group["VpcId"] == plans.VPC
    assert group["SecurityGroupIngress"] == [{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "SourceSecurityGroupId": plans.APP_SG,
        "Description": f"HTTPS from the instances of {plans.APP_SG}"}]
    # An endpoint opens no connection: no egress at all (not AWS's allow-all default).
    assert [rule["CidrIp"] for rule in group["SecurityGroupEgress"]] == ["255.255.255.255/32"]


def test_endpoint_group_from_vpc_cidrs() -> None:
    entry = plans.endpoints_entry(allow_from_security_groups=[],
                                  allow_from_cidrs=["10.0.0.0/16", "10.1.0.0/16"])
    template = only(synth(plan_with(endpoints=[entry])), "SsmAuditor-Endpoints-")

    [group] = resources(template, "AWS::EC2::SecurityGroup")
    assert [(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in group["SecurityGroupIngress"]] \
        == [("10.0.0.0/16", 443, 443), ("10.1.0.0/16", 443, 443)]


def test_endpoints_only_for_the_missing_services() -> None:
    entry = plans.endpoints_entry(services=["ssmmessages"])
    template = only(synth(plan_with(endpoints=[entry])), "SsmAuditor-Endpoints-")

    template.resource_count_is("AWS::EC2::VPCEndpoint", 1)
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {
        "ServiceName": f"com.amazonaws.{REGION}.ssmmessages"})


def test_s3_gateway_endpoint_on_the_route_tables() -> None:
    entry = plans.endpoints_entry(s3_gateway_route_table_ids=[plans.ROUTE_TABLE])
    template = only(synth(plan_with(endpoints=[entry])), "SsmAuditor-Endpoints-")

    template.resource_count_is("AWS::EC2::VPCEndpoint", 4)
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {
        "ServiceName": f"com.amazonaws.{REGION}.s3", "VpcEndpointType": "Gateway",
        "RouteTableIds": [plans.ROUTE_TABLE], "VpcId": plans.VPC})


def test_s3_gateway_alone_makes_no_endpoint_group() -> None:
    entry = plans.endpoints_entry(services=[], s3_gateway_route_table_ids=[plans.ROUTE_TABLE])
    template = only(synth(plan_with(endpoints=[entry])), "SsmAuditor-Endpoints-")

    template.resource_count_is("AWS::EC2::SecurityGroup", 0)
    assert [e["VpcEndpointType"] for e in resources(template, "AWS::EC2::VPCEndpoint")] == [
        "Gateway"]


def test_no_s3_gateway_unless_asked(full) -> None:
    template = only(full, "SsmAuditor-Endpoints-")
    assert all(e["VpcEndpointType"] == "Interface"
               for e in resources(template, "AWS::EC2::VPCEndpoint"))


@pytest.mark.parametrize(("changes", "words"), [
    ({"allow_from_security_groups": [], "allow_from_cidrs": ["0.0.0.0/0"]},
     ("refuses 0.0.0.0/0", "whole internet")),
    ({"allow_from_security_groups": [], "allow_from_cidrs": []}, ("would admit no one",)),
    ({"availability_zones": [f"{REGION}a", f"{REGION}a"]}, ("one subnet per availability zone",)),
    ({"availability_zones": [f"{REGION}a"]}, ("2 subnet(s) but 1 availability zone(s)",)),
    ({"services": ["ssm", "s3"]}, ("unknown service s3",)),
], ids=["internet", "no-one", "same-az", "az-count", "unknown-service"])
def test_endpoints_entry_refused_in_one_line(changes: dict, words: tuple[str, ...]) -> None:
    entry = plans.endpoints_entry(**changes)
    with pytest.raises(UsageError) as raised:
        synth(plan_with(endpoints=[entry]))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"endpoints entry endpoints-{plans.VPC}: ")
    for word in words:
        assert word in message


# --- SecurityGroupRulesStack -------------------------------------------------------------------


def test_security_group_egress_rule_on_the_existing_group(full) -> None:
    template = only(full, "SsmAuditor-SecurityGroupRules-")

    template.resource_count_is("AWS::EC2::SecurityGroup", 0)  # nothing new: a rule on sg-...
    assert resources(template, "AWS::EC2::SecurityGroupEgress") == [{
        "GroupId": plans.APP_SG, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "CidrIp": "10.0.0.0/16", "Description": "ssm-auditor: HTTPS to the SSM endpoints"}]


def test_security_group_rules_to_and_from_groups_and_cidrs() -> None:
    rules = [
        plans.sg_rule("ingress", id="in-from-sg", cidr=None, peer_security_group_id=plans.PEER_SG),
        plans.sg_rule("ingress", id="in-from-cidr", cidr="10.0.0.0/16"),
        plans.sg_rule("egress", id="out-to-sg", cidr=None, peer_security_group_id=plans.PEER_SG),
    ]
    template = only(synth(plan_with(security_group_rules=rules)), "SsmAuditor-SecurityGroup")

    ingress = resources(template, "AWS::EC2::SecurityGroupIngress")
    assert {(r.get("SourceSecurityGroupId"), r.get("CidrIp")) for r in ingress} == {
        (None, "10.0.0.0/16"), (plans.PEER_SG, None)}
    [egress] = resources(template, "AWS::EC2::SecurityGroupEgress")
    assert egress["DestinationSecurityGroupId"] == plans.PEER_SG
    assert "CidrIp" not in egress


@pytest.mark.parametrize(("changes", "words"), [
    ({"direction": "ingress", "cidr": "0.0.0.0/0"}, ("refuses 0.0.0.0/0",)),
    ({"cidr": None}, ("exactly one of cidr and peer_security_group_id",)),
    ({"peer_security_group_id": plans.PEER_SG}, ("exactly one of",)),
    ({"direction": "inbound"}, ("neither ingress nor egress",)),
], ids=["internet", "no-peer", "two-peers", "direction"])
def test_security_group_rule_refused_in_one_line(changes: dict, words: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as raised:
        synth(plan_with(security_group_rules=[plans.sg_rule(**changes)]))
    assert "\n" not in str(raised.value)
    for word in words:
        assert word in str(raised.value)


# --- NaclEntriesStack --------------------------------------------------------------------------


def test_nacl_entries_egress_and_ingress_on_the_existing_acl(full) -> None:
    template = only(full, "SsmAuditor-NaclEntries-")

    entries = resources(template, "AWS::EC2::NetworkAclEntry")
    assert sorted((e["Egress"], e["PortRange"]["From"], e["PortRange"]["To"]) for e in entries) \
        == [(False, 1024, 65535), (True, 443, 443)]
    for entry in entries:
        assert entry["NetworkAclId"] == plans.ACL
        assert (entry["Protocol"], entry["RuleAction"], entry["RuleNumber"],
                entry["CidrBlock"]) == (6, "allow", 100, "10.0.0.0/16")


def test_nacl_entry_for_all_traffic_has_no_port_range() -> None:
    entry = plans.nacl_entry(protocol="-1", from_port=None, to_port=None)
    template = only(synth(plan_with(nacl_entries=[entry])), "SsmAuditor-NaclEntries-")

    [resource] = resources(template, "AWS::EC2::NetworkAclEntry")
    assert resource["Protocol"] == -1
    assert "PortRange" not in resource


@pytest.mark.parametrize(("changes", "words"), [
    ({"rule_number": 40000}, ("outside 1-32766",)),
    ({"protocol": "tcp"}, ("not a protocol number",)),
    ({"from_port": None}, ("needs from_port and to_port",)),
], ids=["rule-number", "protocol-name", "no-ports"])
def test_nacl_entry_refused_in_one_line(changes: dict, words: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as raised:
        synth(plan_with(nacl_entries=[plans.nacl_entry(**changes)]))
    assert "\n" not in str(raised.value)
    for word in words:
        assert word in str(raised.value)


# --- RoutesStack -------------------------------------------------------------------------------


def test_routes_in_a_vpc_table_and_in_a_transit_gateway_table(full) -> None:
    template = only(full, "SsmAuditor-Routes-")

    assert resources(template, "AWS::EC2::Route") == [{
        "RouteTableId": plans.ROUTE_TABLE, "DestinationCidrBlock": "10.1.0.0/16",
        "TransitGatewayId": plans.TGW}]
    assert resources(template, "AWS::EC2::TransitGatewayRoute") == [{
        "TransitGatewayRouteTableId": plans.TGW_TABLE, "DestinationCidrBlock": "10.1.0.0/16",
        "TransitGatewayAttachmentId": plans.SPOKE_ATTACHMENT}]


def test_route_to_a_peering_connection() -> None:
    entry = plans.route(transit_gateway_id=None, vpc_peering_connection_id=plans.PEERING)
    template = only(synth(plan_with(routes=[entry])), "SsmAuditor-Routes-")

    [resource] = resources(template, "AWS::EC2::Route")
    assert resource["VpcPeeringConnectionId"] == plans.PEERING
    assert "TransitGatewayId" not in resource


@pytest.mark.parametrize(("entry", "words"), [
    (plans.route(destination_cidr="0.0.0.0/0"), ("refuses 0.0.0.0/0",)),
    (plans.route(vpc_peering_connection_id=plans.PEERING), ("exactly one of",)),
    (plans.route(transit_gateway_id=None, transit_gateway_attachment_id=plans.SPOKE_ATTACHMENT),
     ("transit gateway route table",)),
    (plans.route(destination_cidr="10.1.0.0/33"), ("not an IPv4 CIDR",)),
], ids=["internet", "two-targets", "attachment-in-a-vpc-table", "not-a-cidr"])
def test_route_refused_in_one_line(entry: dict, words: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as raised:
        synth(plan_with(routes=[entry]))
    assert "\n" not in str(raised.value)
    for word in words:
        assert word in str(raised.value)


# --- InstanceRoleStack -------------------------------------------------------------------------


def test_new_role_trusts_ec2_with_the_core_policy_in_its_instance_profile(full) -> None:
    template = only(full, "SsmAuditor-InstanceRole")

    roles = template.find_resources("AWS::IAM::Role")
    [(role_id, role)] = roles.items()
    assert role["Properties"]["RoleName"] == "ssm-auditor-instance"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}}]
    assert role["Properties"]["ManagedPolicyArns"] == [plans.CORE_ARN]
    assert resources(template, "AWS::IAM::InstanceProfile") == [{
        "InstanceProfileName": "ssm-auditor-instance", "Roles": [{"Ref": role_id}]}]


def test_policy_on_an_existing_role_by_name(full) -> None:
    template = only(full, "SsmAuditor-InstanceRole")

    template.resource_count_is("AWS::IAM::Role", 1)  # the new one; app-role is not created
    assert resources(template, "AWS::IAM::Policy") == [{
        "PolicyName": "ssm-auditor-agent-access", "Roles": ["app-role"],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [plans.AGENT_STATEMENT]}}]


def test_role_policy_alone_makes_the_instance_role_stack() -> None:
    templates = synth(plan_with(role_policies=[plans.role_policy()]))

    assert list(templates) == ["SsmAuditor-InstanceRole"]
    templates["SsmAuditor-InstanceRole"].resource_count_is("AWS::IAM::Role", 0)


# --- What a reviewer reads -----------------------------------------------------------------------


def test_templates_name_the_entries_reasons_and_fixed_instances(full) -> None:
    template = only(full, "SsmAuditor-InstanceRole").to_json()

    metadata = template["Metadata"]["SsmAuditor"]
    assert [entry["plan_entry"] for entry in metadata["plan_entries"]] == [
        "instance-role-ssm-auditor-instance", "role-policy-app-role"]
    assert metadata["plan_entries"][0]["reason"] == "the instance has no instance profile"
    assert metadata["plan_entries"][0]["fixes"] == [{
        "instance_id": plans.INSTANCES[3], "code": "NO_INSTANCE_PROFILE",
        "resource_id": plans.INSTANCES[3]}]
    assert metadata["instances_fixed"] == [plans.INSTANCES[3], plans.INSTANCES[4]]
    assert template["Outputs"]["InstancesFixed"]["Value"] == \
        f"{plans.INSTANCES[3]} {plans.INSTANCES[4]}"
    # The manual step that completes the role: associating its profile with the instance.
    [step] = metadata["manual_steps_after_deploy"]
    assert step["command"].startswith("aws ec2 associate-iam-instance-profile")
    assert plans.INSTANCES[3] in step["command"]


def test_every_resource_names_its_plan_entry(full) -> None:
    for name, template in full.items():
        for logical_id, resource in template.to_json()["Resources"].items():
            assert resource["Metadata"]["SsmAuditor"]["plan_entry"], (name, logical_id)


# --- Offline, deterministic --------------------------------------------------------------------


def test_same_plan_gives_byte_identical_templates(tmp_path) -> None:
    synth(plans.full_plan(), tmp_path / "one")
    synth(plans.full_plan(), tmp_path / "two")

    first = sorted((tmp_path / "one").glob("*.template.json"))
    assert len(first) == 5
    for path in first:
        assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes()


def test_existing_resources_are_literal_ids_never_lookups(tmp_path) -> None:
    synth(plans.full_plan(), tmp_path)

    # A context lookup (Vpc.from_lookup and the like) would be listed as "missing" for the CLI
    # to resolve against the account; there is none, and every id is written as given.
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "missing" not in manifest
    text = "".join(path.read_text() for path in tmp_path.glob("*.template.json"))
    for resource_id in (plans.VPC, *plans.SUBNETS, plans.APP_SG, plans.ACL):
        assert f'"{resource_id}"' in text
    assert "Fn::ImportValue" not in text


# --- cdk-nag -----------------------------------------------------------------------------------


def test_cdk_nag_passes_on_every_stack_with_reasons_for_what_it_acknowledges(full) -> None:
    from cdk_nag import AwsSolutionsChecks

    plan = plan_from_dict(plans.full_plan())
    app = cdk.App(analytics_reporting=False)
    add_remediation_stacks(app, plan)
    report = AwsSolutionsChecks().validate_scope(app)
    assert report.success, [v.rule_name for v in report.violations]
    role = only(full, "SsmAuditor-InstanceRole").find_resources("AWS::IAM::Role")
    [acknowledged] = [r["Metadata"]["cdk_nag"]["rules_to_suppress"] for r in role.values()]
    assert [(a["id"], bool(a["reason"])) for a in acknowledged] == [
        (f"AwsSolutions-IAM4[Policy::{plans.CORE_ARN}]", True)]


@pytest.mark.parametrize(("plan", "finding"), [
    (plan_with(instance_roles=[plans.instance_role(managed_policy_arns=[
        "arn:aws:iam::aws:policy/AdministratorAccess"])]), "AwsSolutions-IAM4"),
    (plan_with(role_policies=[plans.role_policy(statements=[
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}])]),
     "AwsSolutions-IAM5"),
], ids=["other-managed-policy", "other-action-on-star"])
def test_cdk_nag_fails_the_synthesis_on_what_the_fix_does_not_need(plan: dict,
                                                                    finding: str) -> None:
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(analytics_reporting=False)
    add_remediation_stacks(app, plan_from_dict(plan))
    report = AwsSolutionsChecks().validate_scope(app)
    assert not report.success
    assert [v.rule_name.split("[")[0] for v in report.violations] == [finding]
    with pytest.raises(RuntimeError, match=f"(?s)ValidationFailed: .*{finding}"):
        app.synth()


# --- Synthesizers --------------------------------------------------------------------------------


@pytest.mark.parametrize(("synthesizer", "bootstrap_roles"), [
    ("default", True), ("bootstrapless", False)])
def test_bootstrapless_synthesizer_names_no_bootstrap_role(tmp_path, synthesizer: str,
                                                           bootstrap_roles: bool) -> None:
    templates = synth(plan_with(instance_roles=[plans.instance_role()]), tmp_path, synthesizer)

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    properties = manifest["artifacts"]["SsmAuditor-InstanceRole"]["properties"]
    assert ("assumeRoleArn" in properties) is bootstrap_roles
    assert ("cloudFormationExecutionRoleArn" in properties) is bootstrap_roles
    parameters = templates["SsmAuditor-InstanceRole"].to_json().get("Parameters", {})
    assert ("BootstrapVersion" in parameters) is bootstrap_roles


# --- The planner's own plan --------------------------------------------------------------------


def test_the_planners_plan_for_the_demo_estate_synthesizes_and_passes_cdk_nag(
        tmp_path, capsys) -> None:
    from auditor.cli import main

    main(["--all", "--snapshot", "demo/estate", "--plan", str(tmp_path / "plan.json"),
          "--format", "json"])
    capsys.readouterr()
    plan = json.loads((tmp_path / "plan.json").read_text())

    templates = synth(plan, tmp_path / "out")  # cdk-nag runs: a finding would fail here

    # The hub-and-spoke region's plan adds a route back (RoutesStack) and the entry that lets
    # an attachment subnet's replies out (NaclEntriesStack).
    assert sorted(templates) == sorted(
        [f"SsmAuditor-Endpoints-{entry['vpc_id']}" for entry in plan["endpoints"]]
        + ["SsmAuditor-InstanceRole", "SsmAuditor-SecurityGroupRules-eu-west-1",
           "SsmAuditor-NaclEntries-eu-west-1", "SsmAuditor-NaclEntries-eu-central-1",
           "SsmAuditor-Routes-eu-central-1"])
    assert [(route["route_table_id"].startswith("tgw-rtb-"), route["destination_cidr"])
            for route in plan["routes"]] == [(True, "10.4.0.0/16")]
    # Session Manager and patching: kms and logs endpoints, an S3 gateway, the role statements
    # with their acknowledged wildcards (cdk-nag passed above).
    endpoints = {name: set(template.to_json()["Resources"])
                 for name, template in templates.items() if "Endpoints" in name}
    isolated = next(e["vpc_id"] for e in plan["endpoints"] if e["services"] == ["kms"])
    assert "Endpointkms" in endpoints[f"SsmAuditor-Endpoints-{isolated}"]  # ids without "-"
    assert any({"Endpointlogs", "Endpoints3gateway"} <= found for found in endpoints.values())
    role_policies = templates["SsmAuditor-InstanceRole"].to_json()["Resources"]
    assert any("capabilities" in name for name in role_policies)
    metadata = templates["SsmAuditor-InstanceRole"].to_json()["Metadata"]["SsmAuditor"]
    # The steps that need the new role or profile, not the others (IMDS, another role's trust).
    assert sorted(step["id"] for step in metadata["manual_steps_after_deploy"]) == sorted(
        step["id"] for step in plan["manual_steps"]
        if step["action"] in ("associate_instance_profile", "add_role_to_instance_profile"))
    planned = {fix["instance_id"] for entry in plan["endpoints"] + plan["security_group_rules"]
               for fix in entry["fixes"]}
    assert {instance for template in templates.values()
            for instance in template.to_json()["Metadata"]["SsmAuditor"]["instances_fixed"]} \
        >= planned
