"""Session Manager and patching against moto: the preferences document, a KMS key and its key
policy, an SSE-KMS bucket and its policy, a log group and an S3 gateway endpoint are created with
boto3, read by the live source (in-process ``mock_aws``, then a ``ThreadedMotoServer`` on
127.0.0.1 over HTTP) and proved. Each rule is shown failing, then fixed through the API.

The agent's role of tests/moto_estate.py (``build_iam``) matters here: AmazonSSMManagedInstanceCore
and logs:PutLogEvents, under a boundary that allows ssm, ssmmessages, ec2messages and logs, and
an inline ``no-s3`` policy that denies S3.

moto gaps met: GetServiceSetting and DescribeInstanceInformation (``stub_ssm`` answers them
in-process; the server answers HTTP 500, recorded as unreadable, which no capability needs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from auditor.cli import main
from builders.moto_layout import REGION
from tests.moto_estate import MotoVpc, SessionLayout, build_session_preferences, stub_ssm

pytestmark = pytest.mark.usefixtures("fake_aws")

ROLE = "agent-role"


def audit_instance(capsys: pytest.CaptureFixture, instance_id: str, *extra: str) -> dict:
    code = main(["--instance", instance_id, "--region", REGION, "--format", "json", *extra])
    captured = capsys.readouterr()
    assert captured.err == "" and code in (0, 1, 3)
    [instance] = json.loads(captured.out)["instances"]
    return instance


def own(instance: dict, capability: str = "session_manager") -> set[str]:
    return {f["code"] for f in instance["findings"]
            if f.get("capability") == capability and f["severity"] == "error"}


def grant_sessions(iam: Any, session: SessionLayout) -> None:
    """What the role needs for these preferences: the boundary widened, the S3 deny removed,
    an inline policy for the key, the bucket and the log group."""
    boundary = iam.create_policy(PolicyName="wider-boundary", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "ssm:*", "ssmmessages:*", "ec2messages:*", "logs:*", "kms:*", "s3:*"],
            "Resource": "*"}]}))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=boundary)
    iam.delete_role_policy(RoleName=ROLE, PolicyName="no-s3")
    iam.put_role_policy(RoleName=ROLE, PolicyName="sessions", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": session.key_arn},
            {"Effect": "Allow", "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{session.bucket}/sessions/*"},
            {"Effect": "Allow", "Action": "s3:GetEncryptionConfiguration",
             "Resource": f"arn:aws:s3:::{session.bucket}"},
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))


def test_every_rule_in_process(capsys, vpc: MotoVpc, monkeypatch) -> None:
    session = build_session_preferences()
    stub_ssm(monkeypatch, None, [])
    iam = boto3.client("iam", region_name=REGION)
    instance_id = vpc.instance(vpc.public_subnet, public_ip=True)

    found = audit_instance(capsys, instance_id)
    assert found["verdict"] == "manageable"
    # The boundary lacks kms; the inline deny refuses S3; logs:PutLogEvents alone is not enough.
    assert own(found) == {"SESSION_KMS_DENIED", "SESSION_LOG_S3_DENIED",
                          "SESSION_LOG_CLOUDWATCH_DENIED"}
    assert own(found, "patching") == {"PATCH_S3_DENIED"}
    assert found["capabilities"]["session_manager"]["status"] == "fail"

    grant_sessions(iam, session)
    found = audit_instance(capsys, instance_id)
    assert (found["capabilities"]["session_manager"]["status"],
            found["capabilities"]["patching"]["status"]) == ("ok", "ok")

    s3 = boto3.client("s3", region_name=REGION)
    s3.put_bucket_policy(Bucket=session.bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "Frozen", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{session.bucket}/*"}]}))
    found = audit_instance(capsys, instance_id)
    assert own(found) == {"SESSION_LOG_S3_DENIED"}
    assert '"Frozen"' in next(f["message"] for f in found["findings"]
                              if f["code"] == "SESSION_LOG_S3_DENIED")
    s3.delete_bucket_policy(Bucket=session.bucket)

    boto3.client("logs", region_name=REGION).delete_log_group(logGroupName=session.log_group)
    assert own(audit_instance(capsys, instance_id)) == {"SESSION_LOG_TARGET_MISSING"}
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=session.log_group)

    # moto gap: DisableKey takes the key's id only (AWS also takes its ARN).
    boto3.client("kms", region_name=REGION).disable_key(KeyId=session.key_arn.rsplit("/")[-1])
    # The preferences' key, and the bucket's SSE-KMS key (the same one here).
    assert own(audit_instance(capsys, instance_id)) == {"SESSION_KMS_KEY_UNUSABLE",
                                                        "SESSION_LOG_S3_DENIED"}


def test_a_private_subnet_with_an_s3_gateway_and_no_kms_endpoint(capsys, vpc: MotoVpc,
                                                                  monkeypatch) -> None:
    session = build_session_preferences()
    grant_sessions(boto3.client("iam", region_name=REGION), session)
    stub_ssm(monkeypatch, None, [])
    vpc.endpoints()  # ssm, ssmmessages, ec2messages: the agent works
    instance_id = vpc.instance()
    found = audit_instance(capsys, instance_id)
    assert found["verdict"] == "manageable"
    assert own(found) == {"SESSION_KMS_UNREACHABLE", "SESSION_LOG_S3_UNREACHABLE",
                          "SESSION_LOG_CLOUDWATCH_UNREACHABLE"}
    assert own(found, "patching") == {"PATCH_S3_UNREACHABLE"}

    vpc.ec2.create_vpc_endpoint(VpcId=vpc.vpc_id, ServiceName=f"com.amazonaws.{REGION}.s3",
                                VpcEndpointType="Gateway", RouteTableIds=[vpc.private_table])
    found = audit_instance(capsys, instance_id)
    s3 = found["capabilities"]["session_manager"]["services"]["s3"]
    assert (s3["status"], s3["via"]) == ("reachable", "gateway_endpoint")
    assert own(found) == {"SESSION_KMS_UNREACHABLE", "SESSION_LOG_CLOUDWATCH_UNREACHABLE"}
    # Through an endpoint AWS requires the role's own allow of AWS's buckets.
    assert own(found, "patching") == {"PATCH_S3_DENIED"}
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=ROLE, PolicyName="patching", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert audit_instance(capsys, instance_id)["capabilities"]["patching"]["status"] == "ok"

    vpc.endpoints(("kms", "logs"))
    found = audit_instance(capsys, instance_id)
    assert found["capabilities"]["session_manager"]["status"] == "ok"


def test_the_data_channel_encrypted_logs_and_who_may_connect(capsys, vpc: MotoVpc,
                                                              monkeypatch) -> None:
    session = build_session_preferences(inputs={"cloudWatchEncryptionEnabled": True})
    iam = boto3.client("iam", region_name=REGION)
    grant_sessions(iam, session)
    stub_ssm(monkeypatch, None, [])
    instance_id = vpc.instance(vpc.public_subnet, public_ip=True)
    vpc.ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "team", "Value": "payments"}])
    logs = boto3.client("logs", region_name=REGION)

    # Encryption required, and the group has no key: sessions do not start.
    assert own(audit_instance(capsys, instance_id)) == {"SESSION_LOG_UNENCRYPTED"}
    logs.delete_log_group(logGroupName=session.log_group)
    logs.create_log_group(logGroupName=session.log_group, kmsKeyId=session.key_arn)
    assert own(audit_instance(capsys, instance_id)) == set()

    # ssmmessages:OpenDataChannel refused: the agent keeps its control channel, sessions die.
    iam.put_role_policy(RoleName=ROLE, PolicyName="no-data-channel", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
                                                 "Action": "ssmmessages:OpenDataChannel",
                                                 "Resource": "*"}]}))
    found = audit_instance(capsys, instance_id)
    assert found["verdict"] == "manageable"
    assert own(found) == {"SESSION_CHANNEL_DENIED"}
    iam.delete_role_policy(RoleName=ROLE, PolicyName="no-data-channel")

    # People: a support role for the payments team's instances, a user without the key.
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    start = [{"Effect": "Allow", "Action": "ssm:StartSession",
              "Resource": f"arn:aws:ec2:*:{account}:instance/*",
              "Condition": {"StringEquals": {"ssm:resourceTag/team": "payments"}}},
             {"Effect": "Allow", "Action": "ssm:StartSession",
              "Resource": f"arn:aws:ssm:*:{account}:document/SSM-SessionManagerRunShell"}]
    iam.create_role(RoleName="support", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": account}}]}))
    iam.put_role_policy(RoleName="support", PolicyName="sessions", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            *start, {"Effect": "Allow", "Action": "kms:GenerateDataKey",
                     "Resource": session.key_arn}]}))
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="sessions", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": start}))
    support, bob = (f"arn:aws:iam::{account}:role/support", f"arn:aws:iam::{account}:user/bob")
    found = audit_instance(capsys, instance_id, "--operator", support, "--operator", bob)
    operator = found["capabilities"]["session_manager"]["operator"]
    assert (operator[support]["status"], operator[bob]["status"]) == ("ok", "fail")
    assert {f["code"] for f in found["findings"] if f["code"].startswith("OPERATOR_")} == {
        "OPERATOR_KMS_DENIED"}
    listed = audit_instance(capsys, instance_id, "--operators")
    may = {entry["principal"]: entry["status"]
           for entry in listed["capabilities"]["session_manager"]["operators"]}
    assert may.get(support) == "ok" and bob not in may


def test_over_a_moto_server_and_through_a_snapshot(moto_server: str, tmp_path: Path,
                                                   capsys) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = MotoVpc.create(ec2)
    session = build_session_preferences()
    instance_id = vpc.instance(vpc.public_subnet, public_ip=True)
    live = audit_instance(capsys, instance_id)
    assert own(live) == {"SESSION_KMS_DENIED", "SESSION_LOG_S3_DENIED",
                         "SESSION_LOG_CLOUDWATCH_DENIED"}

    assert main(["snapshot", "--out", str(tmp_path / "snap"), "--region", REGION]) == 0
    capsys.readouterr()
    files = {path.name for path in (tmp_path / "snap").rglob("*.json")}
    assert {"get-document.json", "describe-key.json", "get-key-policy.json", "list-grants.json",
            "get-bucket-location.json", "get-bucket-policy.json", "get-bucket-encryption.json",
            "describe-log-groups.json", "get-account-authorization-details-users.json"} <= files
    offline = audit_instance(capsys, instance_id, "--snapshot", str(tmp_path / "snap"))
    assert offline["capabilities"] == live["capabilities"]

    grant_sessions(boto3.client("iam", region_name=REGION), session)
    assert audit_instance(capsys, instance_id)["capabilities"]["session_manager"]["status"] \
        == "ok"
