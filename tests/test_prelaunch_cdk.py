"""Templates synthesized from CDK apps, and the policy-validation plugin inside ``cdk synth``.

Each app is synthesized in-process (aws_cdk through jsii, Node required), offline.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("NODE_NO_WARNINGS", "1")

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from stacks.manageability_validation import ManageabilityValidation
from tests.prelaunch_helpers import codes, entry, prelaunch

ENDPOINTS = (ec2.InterfaceVpcEndpointAwsService.SSM,
             ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
             ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES)


def _isolated_app(outdir: Path, *, endpoints: bool, permissions: bool,
                  plugin: ManageabilityValidation | None = None) -> cdk.App:
    """An instance in an isolated subnet: manageable only through interface endpoints."""
    app = cdk.App(outdir=str(outdir),
                  context={"@aws-cdk/core:validationReportJson": True})
    if plugin is not None:
        cdk.Validations.of(app).add_plugins(plugin)
    stack = cdk.Stack(app, "Isolated")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    if endpoints:
        for service in ENDPOINTS:
            vpc.add_interface_endpoint(service.short_name, service=service)
    ec2.Instance(stack, "App", vpc=vpc, instance_type=ec2.InstanceType("t3.micro"),
                 machine_image=ec2.MachineImage.latest_amazon_linux2023(),
                 ssm_session_permissions=permissions, require_imdsv2=True)
    return app


def _report(outdir: Path) -> dict:
    return json.loads((outdir / "validation-report.json").read_text())


def test_the_plugin_fails_synthesis_of_a_broken_app(tmp_path):
    outdir = tmp_path / "cdk.out"
    app = _isolated_app(outdir, endpoints=False, permissions=True,
                        plugin=ManageabilityValidation())
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    message = str(failure.value)
    assert "AppF1B96344 is not manageable by SSM" in message
    assert "ssm-manageability::NO_ROUTE_TO_DESTINATION" in message
    assert "Suggested fix: Either create interface endpoints" in message
    plugin_report = _report(outdir)["pluginReports"][0]
    assert plugin_report["pluginName"] == "ssm-manageability"
    assert plugin_report["conclusion"] == "failure"
    violation = next(v for v in plugin_report["violations"]
                     if v["ruleName"] == "NO_ROUTE_TO_DESTINATION")
    assert "not manageable" in violation["description"]
    assert "interface endpoints" in violation["suggestedFix"]
    paths = {c["constructPath"] for c in violation["violatingConstructs"]}
    assert any(path.startswith("Isolated/Vpc/isolatedSubnet1") for path in paths), paths
    assert "Isolated/App/Resource" in paths  # and the instance it concerns


def test_the_plugin_passes_the_fixed_app(tmp_path):
    outdir = tmp_path / "cdk.out"
    plugin = ManageabilityValidation()
    app = _isolated_app(outdir, endpoints=True, permissions=True, plugin=plugin)
    app.synth()  # no exception: the plugin found nothing to refuse
    # What the plugin saw: the instance, proven manageable through the endpoints.
    report, _ = plugin.audit([str(outdir / "Isolated.template.json")])
    [audit] = report.instances
    assert audit.verdict == "manageable"
    assert audit.services["ssm"].via == "interface_endpoint"


def test_the_plugin_names_a_role_without_permissions_when_dhmc_is_off(tmp_path):
    from builders.estate_builder import EstateBuilder

    builder = EstateBuilder(region="eu-west-1")  # an account with DHMC off, nothing else
    snapshot = builder.write(tmp_path / "snapshot")
    outdir = tmp_path / "cdk.out"
    app = _isolated_app(outdir, endpoints=True, permissions=False,
                        plugin=ManageabilityValidation(snapshot_dir=str(snapshot)))
    with pytest.raises(RuntimeError, match="MISSING_PERMISSIONS"):
        app.synth()
    rules = {v["ruleName"] for v in _report(outdir)["pluginReports"][0]["violations"]}
    assert "MISSING_PERMISSIONS" in rules


def test_a_synthesized_auto_scaling_group_behind_nat(tmp_path, capsys):
    outdir = tmp_path / "cdk.out"
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Fleet", env=cdk.Environment(region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                    managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                        "AmazonSSMManagedInstanceCore")])
    template = ec2.LaunchTemplate(stack, "Template", instance_type=ec2.InstanceType("t3.micro"),
                                  machine_image=ec2.MachineImage.latest_amazon_linux2023(),
                                  role=role, require_imdsv2=True,
                                  security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc))
    autoscaling.AutoScalingGroup(stack, "Group", vpc=vpc, launch_template=template,
                                 vpc_subnets=ec2.SubnetSelection(
                                     subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS))
    app.synth()
    status, report = prelaunch(capsys, str(outdir))
    group = next(i for i in report["instances"] if i["resource_type"]
                 == "AWS::AutoScaling::AutoScalingGroup")
    assert (status, group["verdict"]) == (0, "manageable"), group["findings"]
    assert group["services"]["ssm"]["via"] == "nat_gateway"
    assert group["region"] == "eu-west-1"


def test_a_synthesized_public_instance_without_public_ip(tmp_path, capsys, monkeypatch):
    from auditor.cli import main

    outdir = tmp_path / "cdk.out"
    # The CDK CLI writes the construct paths into templates by default; in-process, ask.
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Public")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC,
                                map_public_ip_on_launch=False)])
    ec2.Instance(stack, "Web", vpc=vpc, instance_type=ec2.InstanceType("t3.micro"),
                 machine_image=ec2.MachineImage.latest_amazon_linux2023(),
                 vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
                 ssm_session_permissions=True)
    app.synth()
    status, report = prelaunch(capsys, str(outdir))
    web = report["instances"][0]
    assert (status, web["verdict"]) == (1, "not_manageable")
    assert "IGW_NO_PUBLIC_IP" in codes(entry(report, web["instance_id"]))
    assert web["construct_path"] == "Public/Web/Resource"
    # SARIF: relative to the checkout, and naming the construct.
    monkeypatch.chdir(tmp_path)
    assert main(["prelaunch", "cdk.out", "--format", "sarif"]) == 1
    result = json.loads(capsys.readouterr().out)["runs"][0]["results"][0]
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "cdk.out/Public.template.json"
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "Public/Web/Resource"


def test_unknown_fails_only_when_asked(tmp_path):
    from types import SimpleNamespace

    from tests.prelaunch_helpers import isolated_template, write

    template = isolated_template()
    del template["Resources"]["App"]["Properties"]["IamInstanceProfile"]  # DHMC might rescue it
    context = SimpleNamespace(template_paths=[str(write(tmp_path, template))])
    lenient = ManageabilityValidation().validate(context)
    assert lenient.success and lenient.metadata["unknown"] == "App"
    strict = ManageabilityValidation(fail_on_unknown=True).validate(context)
    assert not strict.success
    assert "NO_INSTANCE_PROFILE" in {violation.rule_name for violation in strict.violations}
