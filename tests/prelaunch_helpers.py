"""Hand-written CloudFormation templates and a runner for ``python -m auditor prelaunch``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from auditor.cli import main

CORE_POLICY_ARN = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                     ":iam::aws:policy/AmazonSSMManagedInstanceCore"]]}
EC2_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
     "Action": "sts:AssumeRole"}]}


def _endpoint(service: str) -> dict[str, Any]:
    return {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcId": {"Ref": "Vpc"}, "VpcEndpointType": "Interface",
        "ServiceName": {"Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{service}"},
        "PrivateDnsEnabled": True, "SubnetIds": [{"Ref": "EndpointSubnet"}],
        "SecurityGroupIds": [{"Fn::GetAtt": ["EndpointSg", "GroupId"]}]}}


def isolated_template() -> dict[str, Any]:
    """A manageable instance in an isolated subnet, reaching the three interface endpoints
    (in another subnet) with an instance profile holding AmazonSSMManagedInstanceCore."""
    return copy.deepcopy({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {
                "CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": True}},
            "AppSubnet": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"}},
            "EndpointSubnet": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.2.0/24"}},
            "AppRoutes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "AppRoutesAssociation": {"Type": "AWS::EC2::SubnetRouteTableAssociation",
                                     "Properties": {"SubnetId": {"Ref": "AppSubnet"},
                                                    "RouteTableId": {"Ref": "AppRoutes"}}},
            "AppSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": "app", "VpcId": {"Ref": "Vpc"}}},
            "EndpointSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": "endpoints", "VpcId": {"Ref": "Vpc"},
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                          "CidrIp": {"Fn::GetAtt": ["Vpc", "CidrBlock"]}}]}},
            "SsmEndpoint": _endpoint("ssm"),
            "SsmMessagesEndpoint": _endpoint("ssmmessages"),
            "Ec2MessagesEndpoint": _endpoint("ec2messages"),
            **app_instance("AppSubnet"),
        },
    })


def app_instance(subnet: str) -> dict[str, Any]:
    """``App``, an instance in ``subnet`` wearing ``AppSg``, with ``AppProfile`` and
    ``AppRole`` (AmazonSSMManagedInstanceCore)."""
    return {
        "AppRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": EC2_TRUST, "ManagedPolicyArns": [CORE_POLICY_ARN]}},
        "AppProfile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {
            "Roles": [{"Ref": "AppRole"}]}},
        "App": {"Type": "AWS::EC2::Instance", "Properties": {
            "ImageId": "ami-0123456789abcdef0", "InstanceType": "t3.micro",
            "SubnetId": {"Ref": subnet},
            "SecurityGroupIds": [{"Fn::GetAtt": ["AppSg", "GroupId"]}],
            "IamInstanceProfile": {"Ref": "AppProfile"},
            "MetadataOptions": {"HttpTokens": "required"}}},
    }


def write(tmp_path: Path, template: dict[str, Any], name: str = "template.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(template, indent=2))
    return path


def prelaunch(capsys, *argv: str) -> tuple[int, dict[str, Any]]:
    """Exit status and the JSON report."""
    code = main(["prelaunch", *argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def entry(report: dict[str, Any], instance_id: str) -> dict[str, Any]:
    return next(i for i in report["instances"] if i["instance_id"] == instance_id)


def codes(instance: dict[str, Any], severity: str | None = None) -> set[str]:
    return {f["code"] for f in instance["findings"]
            if severity is None or f["severity"] == severity}
