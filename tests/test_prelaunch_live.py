"""Planned instances and templates over the live account (moto in-process, read-only calls)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.moto_estate import create_vpc
from tests.prelaunch_helpers import entry, prelaunch, write

REGION = "eu-west-1"
pytestmark = pytest.mark.usefixtures("fake_aws")

AGENT_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation", "ssmmessages:*",
                                  "ec2messages:*"], "Resource": "*"}]}


@pytest.fixture
def account() -> Iterator[dict[str, Any]]:
    """A public subnet (route to an attached internet gateway), an open group, and an
    instance profile whose role may run the agent."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc, _ = create_vpc(ec2, "10.9.0.0/16")
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        group = ec2.create_security_group(GroupName="open", Description="open",
                                          VpcId=vpc)["GroupId"]
        iam = boto3.client("iam", region_name=REGION)
        iam.create_role(RoleName="agent", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))
        iam.put_role_policy(RoleName="agent", PolicyName="agent",
                            PolicyDocument=json.dumps(AGENT_POLICY))
        iam.create_instance_profile(InstanceProfileName="agent-profile")
        iam.add_role_to_instance_profile(InstanceProfileName="agent-profile", RoleName="agent")
        yield {"vpc": vpc, "subnet": subnet, "group": group}


def test_a_planned_instance_against_the_live_account(account, capsys):
    argv = ["--subnet", account["subnet"], "--security-group", account["group"],
            "--instance-profile", "agent-profile", "--region", REGION]
    status, report = prelaunch(capsys, *argv, "--public-ip")
    planned = entry(report, "planned-instance")
    assert (status, planned["verdict"]) == (0, "manageable"), planned["findings"]
    assert planned["services"]["ssm"]["via"] == "internet_gateway"
    assert report["source"]["base"]["kind"] == "aws"
    status, report = prelaunch(capsys, *argv)
    assert entry(report, "planned-instance")["verdict"] == "not_manageable"


def test_a_template_over_the_live_account(account, capsys, tmp_path):
    template = {"Resources": {"Web": {"Type": "AWS::EC2::Instance", "Properties": {
        "ImageId": "ami-0123456789abcdef0", "SubnetId": account["subnet"],
        "IamInstanceProfile": "agent-profile", "NetworkInterfaces": [{
            "DeviceIndex": "0", "SubnetId": account["subnet"],
            "AssociatePublicIpAddress": True, "GroupSet": [account["group"]]}]}}}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)), "--live",
                               "--region", REGION)
    web = entry(report, "Web")
    assert (status, web["verdict"]) == (0, "manageable"), web["findings"]
