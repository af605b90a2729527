"""An organization of several accounts in moto, for the tests of the organization audit's
Lambda handlers and state machine: member accounts with an instance each, a member role that
refuses AssumeRole, and the Lambda context the handlers read.

moto gap: STS AssumeRole succeeds for any role, existing or not; ``refuse_assume_role`` makes
one member's role refuse, as a missing role or trust does in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.sts import models as sts_models
from moto.sts.exceptions import STSClientError

AUDIT = "123456789012"  # moto's account: creates, so manages, the organization
REGION = "eu-west-1"
BUCKET = "ssm-auditor-audit"
AMI = "ami-12c6146b"
STARTED = "2026-12-06T03:00:00.000Z"


@dataclass
class FakeContext:
    """What the handlers read from Lambda's context."""

    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{AUDIT}:function:ssm-auditor"

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


@dataclass
class Organization:
    members: list[str]
    refused: str  # the member whose role cannot be assumed
    instances: dict[str, str]  # account -> its instance


def member_client(service: str, account: str) -> Any:
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return boto3.client(service, region_name=REGION,
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def an_instance(ec2: Any) -> str:
    """A running instance without an instance profile: not manageable, so it has findings."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                               AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    return ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             SubnetId=subnet)["Instances"][0]["InstanceId"]


def refuse_assume_role(monkeypatch: pytest.MonkeyPatch, account: str) -> None:
    # moto gap: AssumeRole succeeds for any role ARN, existing or not.
    assume = sts_models.STSBackend.assume_role

    def refusing(self: Any, **kwargs: Any) -> Any:
        if f":{account}:role/ssm-auditor-readonly" in kwargs["role_arn"]:
            raise STSClientError("AccessDenied", "User is not authorized to perform: "
                                 "sts:AssumeRole on resource: " + kwargs["role_arn"])
        return assume(self, **kwargs)

    monkeypatch.setattr(sts_models.STSBackend, "assume_role", refusing)


