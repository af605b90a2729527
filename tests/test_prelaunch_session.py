"""prelaunch reads the Session Manager preferences (AWS::SSM::Document of type Session), the KMS
key (and alias), the bucket (and its policy), the log group and S3 gateway endpoints of a
template, and proves the capabilities of the instances it launches."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from auditor.cli import main

ROLE_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
     "Action": "sts:AssumeRole"}]}


def template(**extra_resources: dict) -> dict:
    """An isolated VPC with the agent's endpoints, a role, an instance, and the preferences."""
    endpoint = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcId": {"Ref": "Vpc"}, "VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
        "SubnetIds": [{"Ref": "Subnet"}], "SecurityGroupIds": [{"Ref": "Group"}]}}
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": "10.9.0.0/16", "EnableDnsSupport": True, "EnableDnsHostnames": True}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.9.1.0/24"}},
        "Table": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "Association": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
            "SubnetId": {"Ref": "Subnet"}, "RouteTableId": {"Ref": "Table"}}},
        "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "app and endpoints", "VpcId": {"Ref": "Vpc"},
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                      "CidrIp": "10.9.0.0/16"}]}},
        **{f"Endpoint{service}": _endpoint(endpoint, service)
           for service in ("ssm", "ssmmessages", "ec2messages", "logs")},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "KeyAlias": {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": "alias/sessions", "TargetKeyId": {"Ref": "Key"}}},
        "Logs": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "acme-session-logs"}},
        "Group1": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": "/acme/sessions"}},
        "Preferences": {"Type": "AWS::SSM::Document", "Properties": {
            "Name": "SSM-SessionManagerRunShell", "DocumentType": "Session", "Content": {
                "schemaVersion": "1.0", "description": "preferences",
                "sessionType": "Standard_Stream", "inputs": {
                    "kmsKeyId": "alias/sessions", "s3BucketName": {"Ref": "Logs"},
                    "s3KeyPrefix": "sessions", "s3EncryptionEnabled": True,
                    "cloudWatchLogGroupName": {"Ref": "Group1"}}}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": ROLE_TRUST,
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
            "Policies": [{"PolicyName": "sessions", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "kms:Decrypt",
                     "Resource": {"Fn::GetAtt": ["Key", "Arn"]}},
                    {"Effect": "Allow", "Action": ["s3:PutObject",
                                                   "s3:GetEncryptionConfiguration",
                                                   "s3:GetObject"],
                     "Resource": [{"Fn::GetAtt": ["Logs", "Arn"]}, "arn:aws:s3:::*/*"]},
                    {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}}]}},
        "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {
            "Roles": [{"Ref": "Role"}]}},
        "App": {"Type": "AWS::EC2::Instance", "Properties": {
            "ImageId": "ami-12345678", "SubnetId": {"Ref": "Subnet"},
            "IamInstanceProfile": {"Ref": "Profile"},
            "SecurityGroupIds": [{"Ref": "Group"}]}},
    }
    resources.update(extra_resources)
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def _endpoint(base: dict, service: str) -> dict:
    endpoint = copy.deepcopy(base)
    endpoint["Properties"]["ServiceName"] = f"com.amazonaws.eu-west-1.{service}"
    return endpoint


def check(tmp_path: Path, capsys, body: dict) -> dict:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(body))
    main(["prelaunch", str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    [instance] = report["instances"]
    return instance


def own(instance: dict) -> set[str]:
    return {f["code"] for f in instance["findings"] if f.get("capability")
            and f["severity"] == "error"}


def test_the_templates_preferences_key_bucket_and_group_are_proved(tmp_path, capsys):
    instance = check(tmp_path, capsys, template())
    assert instance["verdict"] == "manageable"
    # No kms endpoint, and S3 has no way: the gateway endpoint is missing.
    assert own(instance) == {"SESSION_KMS_UNREACHABLE", "SESSION_LOG_S3_UNREACHABLE",
                             "PATCH_S3_UNREACHABLE"}
    assert instance["capabilities"]["session_manager"]["services"]["logs"]["via"] == \
        "interface_endpoint"


def test_a_gateway_endpoint_and_a_kms_endpoint_in_the_template_open_the_session(tmp_path,
                                                                                capsys):
    body = template()
    body["Resources"]["Endpointkms"] = _endpoint(body["Resources"]["Endpointssm"], "kms")
    body["Resources"]["S3"] = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcId": {"Ref": "Vpc"}, "ServiceName": "com.amazonaws.eu-west-1.s3",
        "VpcEndpointType": "Gateway", "RouteTableIds": [{"Ref": "Table"}]}}
    instance = check(tmp_path, capsys, body)
    capabilities = instance["capabilities"]
    assert (capabilities["session_manager"]["status"], capabilities["patching"]["status"]) == (
        "ok", "ok")
    assert capabilities["session_manager"]["services"]["s3"]["via"] == "gateway_endpoint"


def test_the_templates_bucket_policy_and_key_policy_decide(tmp_path, capsys):
    body = template()
    body["Resources"]["Endpointkms"] = _endpoint(body["Resources"]["Endpointssm"], "kms")
    body["Resources"]["S3"] = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcId": {"Ref": "Vpc"}, "ServiceName": "com.amazonaws.eu-west-1.s3",
        "VpcEndpointType": "Gateway", "RouteTableIds": [{"Ref": "Table"}]}}
    body["Resources"]["Key"]["Properties"]["KeyPolicy"] = {
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/admin"},
             "Action": "kms:*", "Resource": "*"}]}
    body["Resources"]["LogsPolicy"] = {"Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": {"Ref": "Logs"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::acme-session-logs/*"}]}}}
    instance = check(tmp_path, capsys, body)
    assert own(instance) == {"SESSION_KMS_DENIED", "SESSION_LOG_S3_DENIED"}


def test_preferences_known_only_at_deployment_are_unknown(tmp_path, capsys):
    body = template()
    body["Parameters"] = {"Bucket": {"Type": "String"}}  # no default, no value
    inputs = body["Resources"]["Preferences"]["Properties"]["Content"]["inputs"]
    inputs["s3BucketName"] = {"Ref": "Bucket"}
    instance = check(tmp_path, capsys, body)
    assert instance["capabilities"]["session_manager"]["status"] == "unknown"


def test_another_session_document_is_not_the_preferences(tmp_path, capsys):
    body = template()
    body["Resources"]["Preferences"]["Properties"]["Name"] = "TeamShell"
    instance = check(tmp_path, capsys, body)
    # Without the template's preferences and without an account: unknown, not defaults.
    assert instance["capabilities"]["session_manager"]["status"] == "unknown"


def _open(body: dict) -> dict:
    """The template with a kms endpoint and an S3 gateway endpoint: every capability ok."""
    body["Resources"]["Endpointkms"] = _endpoint(body["Resources"]["Endpointssm"], "kms")
    body["Resources"]["S3"] = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcId": {"Ref": "Vpc"}, "ServiceName": "com.amazonaws.eu-west-1.s3",
        "VpcEndpointType": "Gateway", "RouteTableIds": [{"Ref": "Table"}]}}
    body["Parameters"] = {"Unknown": {"Type": "String"}}  # no default, no value given
    return body


@pytest.mark.parametrize("where", ["key policy", "key enabled", "bucket encryption",
                                   "log group key"])
def test_a_value_known_only_at_deployment_is_never_an_all_clear(tmp_path, capsys, where):
    body = _open(template())
    resources = body["Resources"]
    unknown = {"Ref": "Unknown"}
    if where == "key policy":
        resources["Key"]["Properties"]["KeyPolicy"] = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": unknown}, "Action": "kms:*",
             "Resource": "*"}]}
    elif where == "key enabled":
        resources["Key"]["Properties"]["Enabled"] = unknown
    elif where == "bucket encryption":
        resources["Logs"]["Properties"]["BucketEncryption"] = {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": unknown}}]}
    else:
        resources["Preferences"]["Properties"]["Content"]["inputs"][
            "cloudWatchEncryptionEnabled"] = True
        resources["Group1"]["Properties"]["KmsKeyId"] = unknown
    assert check(tmp_path, capsys, _open(template()))["capabilities"]["session_manager"][
        "status"] == "ok"  # the same template with every value known
    instance = check(tmp_path, capsys, body)
    assert instance["capabilities"]["session_manager"]["status"] == "unknown"
