"""The round trip, for real: audit a broken estate and write the plan (`--plan`, the planner),
deploy it with the pinned CDK CLI against a moto server, run the plan's manual steps, audit again.

The estate (tests/moto_estate.MotoVpc, in a moto server on 127.0.0.1 started by the test): an
instance in the private subnet, whose route table has only the local route, with no interface
endpoint and no instance profile; Default Host Management is not configured. The audit finds it
not manageable: no route to ssm, ssmmessages, ec2messages, no instance profile.

The planner's plan (checked: the instance manageable after it) holds an EndpointsStack (three interface endpoints with private DNS in the instance's
subnet, their security group admitting HTTPS from the instance's group), an InstanceRoleStack
(a role trusting EC2 with AmazonSSMManagedInstanceCore, its instance profile) and the manual
step that associates the profile with the instance. `cdk synth` (bootstrapless synthesizer,
chosen with -c synthesizer=bootstrapless: moto has no bootstrap stack) then `cdk deploy --all
--require-approval never` on that cloud assembly, with AWS_ENDPOINT_URL pointing the CLI at moto
and dummy credentials; the test associates the profile with boto3, as the operator would.

End to end through moto's CloudFormation: the endpoint security group and its ingress from the
instances' group, the interface endpoints (service, subnet, group, private DNS), the role and its
trust policy, the instance profile holding it; the association (EC2 API). moto gaps, bridged and
said where: moto's CloudFormation ignores a role's ManagedPolicyArns, so the test attaches what
the deployed template lists, through IAM; moto gives an endpoint's network interface an address
outside its subnet, so the test moves it inside (as MotoVpc.endpoints does). What moto's
CloudFormation ignores or the auditor cannot see through it (security group egress rules, network
ACL entries, policies on existing roles) is covered by the template assertions of
tests/test_cdk_stacks.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from auditor.cli import main
from auditor.remediation.plan import load_plan
from tests.moto_estate import REGION, SERVICES, MotoVpc, stub_ssm

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"

pytestmark = pytest.mark.usefixtures("fake_aws")


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on 127.0.0.1, for the auditor (in-process) and the CDK CLI (Node) alike."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    try:
        yield endpoint
    finally:
        # The server shares moto's in-process backends: leave them empty for the next test.
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset",
                                                      method="POST"), timeout=30)
        server.stop()


def cdk(*args: str) -> str:
    """The pinned CLI, with the test's environment (moto endpoint, dummy credentials)."""
    result = subprocess.run([str(CDK), *args], cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def audit_all(capsys: pytest.CaptureFixture, *extra: str) -> tuple[int, dict]:
    """The whole account through the command line (``--all``: the planner sees the neighbours
    and names the instances' groups in the endpoint group); the one instance's report."""
    code = main(["--all", "--region", REGION, "--format", "json", *extra])
    captured = capsys.readouterr()
    [instance] = json.loads(captured.out)["instances"]
    return code, instance


def codes(instance: dict) -> set[tuple[str, str | None]]:
    return {(f["code"], f["service"]) for f in instance["findings"]}


def test_audit_plan_deploy_and_the_instance_becomes_manageable(
        moto_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
        tmp_path: Path) -> None:
    vpc = MotoVpc.create(boto3.client("ec2", region_name=REGION))
    instance_id = vpc.instance(profile=False)
    stub_ssm(monkeypatch, None, [])  # no DHMC; Systems Manager has never heard of it

    plan_path = tmp_path / "plan.json"

    code, before = audit_all(capsys, "--plan", str(plan_path))

    assert (code, before["verdict"]) == (1, "not_manageable")
    assert {("NO_ROUTE_TO_DESTINATION", service) for service in SERVICES} | {
        ("NO_INSTANCE_PROFILE", None)} <= codes(before)
    plan = load_plan(plan_path)
    assert [(i.instance_id, i.verdict_after) for i in plan.instances] == [
        (instance_id, "manageable")]
    assembly = tmp_path / "cdk.out"
    cdk("synth", "--quiet", "-c", f"plan={plan_path}", "-c", "synthesizer=bootstrapless",
        "-o", str(assembly))
    deployed = cdk("deploy", "--app", str(assembly), "--all", "--require-approval", "never")

    stacks = boto3.client("cloudformation", region_name=REGION).describe_stacks()["Stacks"]
    assert {s["StackName"]: s["StackStatus"] for s in stacks} == {
        f"SsmAuditor-Endpoints-{vpc.vpc_id}": "CREATE_COMPLETE",
        "SsmAuditor-InstanceRole": "CREATE_COMPLETE"}
    assert "SsmAuditor-InstanceRole" in deployed
    assert_endpoints_deployed(vpc)
    bridge_moto_gaps(vpc, assembly)
    for step in plan.manual_steps:  # what the operator runs after deploy
        assert step.action == "associate_instance_profile"
        vpc.ec2.associate_iam_instance_profile(
            InstanceId=step.parameters["instance_id"],
            IamInstanceProfile={"Name": step.parameters["instance_profile_name"]})

    code, after = audit_all(capsys)

    assert (code, after["verdict"]) == (0, "manageable")
    assert {service: after["services"][service]["status"] for service in SERVICES} == dict.fromkeys(
        SERVICES, "reachable")
    assert (after["credentials"]["status"], after["credentials"]["source"]) == (
        "ok", "instance_profile")
    assert after["credentials"]["role"].endswith(":role/ssm-auditor-instance")
    # Only what no deployment can change: Systems Manager has not heard from the agent yet.
    assert codes(after) == {("NOT_REGISTERED", None)}


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


def bridge_moto_gaps(vpc: MotoVpc, assembly: Path) -> None:
    """What AWS's CloudFormation and EC2 would have done and moto's do not (module docstring)."""
    iam = boto3.client("iam", region_name=REGION)
    template = json.loads((assembly / "SsmAuditor-InstanceRole.template.json").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            for policy_arn in resource["Properties"]["ManagedPolicyArns"]:
                iam.attach_role_policy(RoleName=resource["Properties"]["RoleName"],
                                       PolicyArn=policy_arn)
    endpoints = vpc.ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc.vpc_id]}])["VpcEndpoints"]
    assert len(endpoints) == len(SERVICES)
    for endpoint in endpoints:
        [group] = endpoint["Groups"]
        for eni_id in endpoint["NetworkInterfaceIds"]:
            vpc._place_endpoint_eni(eni_id, group["GroupId"])
