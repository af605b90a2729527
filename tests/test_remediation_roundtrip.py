"""The round trip, for real: audit a broken estate and write the plan (`--plan`, the planner),
deploy it with the pinned CDK CLI against a moto server, run the plan's manual steps, audit again.

Both scenarios live in a moto server on 127.0.0.1 that the test starts (the auditor calls it
in-process, the CDK CLI from Node), seeded with tests/moto_estate.MotoVpc: an instance in the
private subnet, whose route table has only the local route; Default Host Management is not
configured and Systems Manager has never heard of the instances. `cdk synth -c
synthesizer=bootstrapless` (moto has no bootstrap stack), `--verify-plan` on the cloud assembly
(the auditor's proof before deploying), then `cdk deploy --all --require-approval never` on it,
with AWS_ENDPOINT_URL pointing the CLI at moto and dummy credentials; the test runs the plan's
manual steps with boto3, as the operator would.

1. No way out, no instance profile: the plan's EndpointsStack (three interface endpoints with
   private DNS in the instance's subnet, their group admitting HTTPS from the instance's group)
   and InstanceRoleStack (a role trusting EC2 with AmazonSSMManagedInstanceCore, its instance
   profile), then the manual association of the profile.
2. Existing endpoints, but one instance's group is not admitted by the endpoints' group, and
   another instance's role lacks the agent's actions: the plan's SecurityGroupRulesStack (an
   ingress rule on the existing endpoint group) and InstanceRoleStack (a policy on the existing
   role).

End to end through moto's CloudFormation: the endpoint security group and its ingress, the
interface endpoints (service, subnet, group, private DNS), the role and its trust policy, the
instance profile holding it, an AWS::EC2::SecurityGroupIngress on an existing group, an
AWS::IAM::Policy on an existing role; the association (EC2 API). moto gaps, bridged and said
where: moto's CloudFormation ignores a role's ManagedPolicyArns, so the test attaches what the
deployed template lists, through IAM; moto gives an endpoint's network interface an address
outside its subnet, so the test moves it inside (as MotoVpc.endpoints does). What moto's
CloudFormation ignores (AWS::EC2::SecurityGroupEgress, the egress of a new group,
AWS::EC2::NetworkAclEntry, stack outputs) is covered by the template assertions of
tests/test_cdk_stacks.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import boto3
import pytest

from auditor.cli import main
from auditor.remediation.plan import Plan, load_plan
from tests.moto_estate import (
    REGION,
    SERVICES,
    MotoVpc,
    agent_role,
    place_endpoint_eni,
    stub_ssm,
)

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
INSTANCE_ROLE_STACK = "SsmAuditor-InstanceRole"

pytestmark = pytest.mark.usefixtures("fake_aws")


@pytest.fixture
def vpc(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> MotoVpc:
    stub_ssm(monkeypatch, None, [])  # no DHMC; Systems Manager has never heard of anyone
    return MotoVpc.create(boto3.client("ec2", region_name=REGION))


def cdk(*args: str) -> str:
    """The pinned CLI, with the test's environment (moto endpoint, dummy credentials)."""
    result = subprocess.run([str(CDK), *args], cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def audit_all(capsys: pytest.CaptureFixture, *extra: str) -> tuple[int, dict[str, dict]]:
    """The whole account through the command line (``--all``: the planner sees the neighbours
    and names the instances' groups in the endpoint group): exit status, reports by id."""
    code = main(["--all", "--region", REGION, "--format", "json", *extra])
    report = json.loads(capsys.readouterr().out)
    return code, {instance["instance_id"]: instance for instance in report["instances"]}


def audit_and_plan(capsys: pytest.CaptureFixture, tmp_path: Path
                   ) -> tuple[dict[str, dict], Plan, Path]:
    plan_path = tmp_path / "plan.json"
    # The agent's plan: what sessions and patching need is tests/test_capability_planner.py's
    code, before = audit_all(capsys, "--plan", str(plan_path), "--plan-agent-only")
    assert code == 1
    assert {i["verdict"] for i in before.values()} == {"not_manageable"}
    plan = load_plan(plan_path)
    assert {i.instance_id: i.verdict_after for i in plan.instances} == dict.fromkeys(
        before, "manageable")
    return before, plan, plan_path


def synth_verify_and_deploy(plan_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
                            ) -> tuple[Path, dict[str, str]]:
    """`cdk synth` to a cloud assembly, `--verify-plan` on it (every instance manageable once
    the stacks and the manual steps are in), `cdk deploy` of exactly that assembly: the
    assembly and every stack's status."""
    assembly = tmp_path / "cdk.out"
    cdk("synth", "--quiet", "-c", f"plan={plan_path}", "-c", "synthesizer=bootstrapless",
        "-o", str(assembly))
    code, verified = audit_all(capsys, "--verify-plan", str(assembly))
    assert {i["instance_id"]: i["verdict"] for i in verified.values()} == dict.fromkeys(
        verified, "manageable")
    assert code == 0
    cdk("deploy", "--app", str(assembly), "--all", "--require-approval", "never")
    stacks = boto3.client("cloudformation", region_name=REGION).describe_stacks()["Stacks"]
    return assembly, {stack["StackName"]: stack["StackStatus"] for stack in stacks}


def codes(instance: dict) -> set[tuple[str, str | None]]:
    """The codes of the agent's findings (a capability's are the capabilities' tests')."""
    return {(f["code"], f["service"]) for f in instance["findings"] if not f.get("capability")}


def assert_all_manageable(capsys: pytest.CaptureFixture, instance_ids: set[str]) -> None:
    code, after = audit_all(capsys)
    assert code == 0
    assert set(after) == instance_ids
    for instance in after.values():
        assert instance["verdict"] == "manageable"
        assert {service: instance["services"][service]["status"] for service in SERVICES} \
            == dict.fromkeys(SERVICES, "reachable")
        assert (instance["credentials"]["status"], instance["permissions"]["status"]) == (
            "ok", "ok")
        # Only what no deployment can change: Systems Manager has not heard from the agent yet.
        assert codes(instance) == {("NOT_REGISTERED", None)}


# --- 1. No way out, no instance profile --------------------------------------------------------


def test_endpoints_and_a_new_instance_profile_make_the_instance_manageable(
        vpc: MotoVpc, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    instance_id = vpc.instance(profile=False)

    before, plan, plan_path = audit_and_plan(capsys, tmp_path)

    assert {("NO_ROUTE_TO_DESTINATION", service) for service in SERVICES} | {
        ("NO_INSTANCE_PROFILE", None)} <= codes(before[instance_id])

    assembly, stacks = synth_verify_and_deploy(plan_path, tmp_path, capsys)

    assert stacks == {f"SsmAuditor-Endpoints-{vpc.vpc_id}": "CREATE_COMPLETE",
                      INSTANCE_ROLE_STACK: "CREATE_COMPLETE"}
    assert_endpoints_deployed(vpc)
    attach_managed_policies_of_the_template(assembly)
    place_endpoint_interfaces_in_their_subnet(vpc)
    for step in plan.manual_steps:  # what the operator runs after deploy
        assert step.action == "associate_instance_profile"
        vpc.ec2.associate_iam_instance_profile(
            InstanceId=step.parameters["instance_id"],
            IamInstanceProfile={"Name": step.parameters["instance_profile_name"]})

    assert_all_manageable(capsys, {instance_id})
    profile = vpc.ec2.describe_iam_instance_profile_associations(Filters=[
        {"Name": "instance-id", "Values": [instance_id]}])["IamInstanceProfileAssociations"]
    assert [a["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1] for a in profile] == [
        "ssm-auditor-instance"]


def assert_endpoints_deployed(vpc: MotoVpc) -> None:
    """What moto's CloudFormation made of the EndpointsStack, read back through EC2."""
    endpoints = vpc.ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc.vpc_id]}])["VpcEndpoints"]
    assert sorted(e["ServiceName"] for e in endpoints) == sorted(
        f"com.amazonaws.{REGION}.{service}" for service in SERVICES)
    groups = {group["GroupId"] for endpoint in endpoints for group in endpoint["Groups"]}
    assert len(groups) == 1
    for endpoint in endpoints:
        assert (endpoint["VpcEndpointType"], endpoint["PrivateDnsEnabled"],
                endpoint["SubnetIds"]) == ("Interface", True, [vpc.private_subnet])
    [group] = vpc.ec2.describe_security_groups(GroupIds=list(groups))["SecurityGroups"]
    assert [(rule["IpProtocol"], rule["FromPort"], rule["ToPort"],
             [pair["GroupId"] for pair in rule["UserIdGroupPairs"]], rule["IpRanges"])
            for rule in group["IpPermissions"]] == [("tcp", 443, 443, [vpc.instance_sg], [])]


def attach_managed_policies_of_the_template(assembly: Path) -> None:
    # moto gap: its CloudFormation creates the role but ignores ManagedPolicyArns. Attach what
    # the deployed template lists, as AWS's CloudFormation would have.
    iam = boto3.client("iam", region_name=REGION)
    template = json.loads((assembly / f"{INSTANCE_ROLE_STACK}.template.json").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            for policy_arn in resource["Properties"]["ManagedPolicyArns"]:
                iam.attach_role_policy(RoleName=resource["Properties"]["RoleName"],
                                       PolicyArn=policy_arn)


def place_endpoint_interfaces_in_their_subnet(vpc: MotoVpc) -> None:
    # moto gap (tests/moto_estate.py): an endpoint's interface gets an address outside its
    # subnet and the VPC's default group; AWS gives it one of its subnet and the endpoint's group.
    endpoints = vpc.ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc.vpc_id]}])["VpcEndpoints"]
    for endpoint in endpoints:
        [group] = endpoint["Groups"]
        for eni_id in endpoint["NetworkInterfaceIds"]:
            place_endpoint_eni(vpc.ec2, eni_id, group["GroupId"])


# --- 2. Rules and policies on existing resources -----------------------------------------------


def test_a_rule_on_the_endpoint_group_and_a_policy_on_the_role_make_both_manageable(
        vpc: MotoVpc, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    vpc.endpoints()  # ssm, ssmmessages, ec2messages; their group admits vpc.instance_sg only
    batch_sg = vpc.security_group("batch")
    shut_out = vpc.instance(group_id=batch_sg)  # the agent-role, which may do what it needs
    logs_only = agent_role(boto3.client("iam", region_name=REGION), "app-role", inline={
        "logs": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}})
    unpermitted = vpc.instance(profile_arn=logs_only.profile_arn)

    before, plan, plan_path = audit_and_plan(capsys, tmp_path)

    assert ("ENDPOINT_SG_INGRESS_BLOCKS", "ssm") in codes(before[shut_out])
    assert ("MISSING_PERMISSIONS", "ssm") in codes(before[unpermitted])
    assert plan.manual_steps == []

    _, stacks = synth_verify_and_deploy(plan_path, tmp_path, capsys)

    assert stacks == {f"SsmAuditor-SecurityGroupRules-{REGION}": "CREATE_COMPLETE",
                      INSTANCE_ROLE_STACK: "CREATE_COMPLETE"}
    [group] = vpc.ec2.describe_security_groups(GroupIds=[vpc.endpoint_sg])["SecurityGroups"]
    assert sorted(pair["GroupId"] for rule in group["IpPermissions"]
                  for pair in rule["UserIdGroupPairs"]) == sorted([vpc.instance_sg, batch_sg])
    iam = boto3.client("iam", region_name=REGION)
    assert iam.list_role_policies(RoleName="app-role")["PolicyNames"] == [
        "logs", plan.role_policies[0].policy_name]

    assert_all_manageable(capsys, {shut_out, unpermitted})
