"""A known-good app from this repository's own stacks: the remediation stacks of the demo's
plan, synthesized beside a new instance, make that instance manageable before it is launched."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from auditor import cli
from auditor.remediation.plan import load_plan
from stacks.remediation_app import add_remediation_stacks

DEMO = "demo/estate"
# In the demo, this subnet routes to a NAT gateway that has no way to the internet.
PRIVATE_SUBNET = "subnet-0000000000000003f"
APP_GROUP = "sg-0000000000000004b"


@pytest.fixture(scope="module")
def plan_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    cli.main(["--instance", "i-0000000000000004c", "--instance", "i-00000000000000086",
              "--snapshot", DEMO, "--format", "json", "--plan", str(path)])
    return path


def _remediation(outdir: Path, plan_path: Path) -> Path:
    app = cdk.App(analytics_reporting=False, outdir=str(outdir))
    add_remediation_stacks(app, load_plan(plan_path))  # cdk-nag runs on them, as in synth
    app.synth()
    return outdir


def _workload(outdir: Path) -> Path:
    """The team's own app, synthesized on its own: a worker in the broken subnet."""
    app = cdk.App(analytics_reporting=False, outdir=str(outdir))
    workload = cdk.Stack(app, "Workload",
                         env=cdk.Environment(account="111122223333", region="eu-west-1"))
    ec2.CfnInstance(workload, "Worker", image_id="ami-0abcdef1234567890",
                    instance_type="t3.micro", subnet_id=PRIVATE_SUBNET,
                    security_group_ids=[APP_GROUP], iam_instance_profile="ssm-auditor-instance")
    app.synth()
    return outdir


def _prelaunch(capsys, *cdk_outs: Path) -> tuple[int, dict]:
    status = cli.main(["prelaunch", *map(str, cdk_outs), "--snapshot", DEMO, "--format",
                       "json"])
    report = json.loads(capsys.readouterr().out)
    return status, {i["instance_id"]: i for i in report["instances"]}


def test_the_repository_stacks_make_a_planned_instance_manageable(plan_path, tmp_path, capsys):
    status, instances = _prelaunch(capsys, _remediation(tmp_path / "fix.out", plan_path),
                                   _workload(tmp_path / "app.out"))
    assert instances["Worker"]["verdict"] == "manageable"
    assert {s["via"] for s in instances["Worker"]["services"].values()} == {
        "interface_endpoint"}
    assert status == 0


def test_without_them_the_same_instance_is_not_manageable(tmp_path, capsys):
    status, instances = _prelaunch(capsys, _workload(tmp_path / "app.out"))
    codes = {f["code"] for f in instances["Worker"]["findings"]}
    assert instances["Worker"]["verdict"] == "not_manageable"
    assert {"NAT_GATEWAY_NO_INTERNET_ROUTE", "INSTANCE_PROFILE_WITHOUT_ROLE"} <= codes
    assert status == 1
