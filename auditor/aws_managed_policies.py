"""The AWS managed policies that matter to SSM Agent, as plain data.

These are the default-version documents AWS publishes for the two policies the agent is usually
given (IAM console, "Policy versions", or ``aws iam get-policy-version``); the action lists also
match the copy moto imports from AWS (``moto/iam/aws_managed_policies.py``), which a test checks.

- ``AmazonSSMManagedInstanceCore`` (``arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore``): the
  policy AWS recommends for an instance profile role; 15 ``ssm``, 4 ``ssmmessages`` and
  6 ``ec2messages`` actions on ``*``.
- ``AmazonEC2RoleforSSM`` (``arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM``): the
  deprecated predecessor of the first, still common in templates.
- ``AmazonSSMManagedEC2InstanceDefaultPolicy``: the policy of the Default Host Management role
  (``service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole``): the same channel
  actions and the same ``ssm`` set except ``GetParameter``/``GetParameters``.

The auditor normally reads a policy's document from IAM (``GetAccountAuthorizationDetails``
lists the AWS managed policies attached in the account); this copy lets the estate builder, the
demo and the tests produce what IAM would answer. Nothing is decided from it.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

AWS_MANAGED_POLICY_ARN_PREFIX = "arn:aws:iam::aws:policy/"

_CHANNEL_STATEMENTS: tuple[dict[str, Any], ...] = (
    {
        "Effect": "Allow",
        "Action": [
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ],
        "Resource": "*",
    },
    {
        "Effect": "Allow",
        "Action": [
            "ec2messages:AcknowledgeMessage",
            "ec2messages:DeleteMessage",
            "ec2messages:FailMessage",
            "ec2messages:GetEndpoint",
            "ec2messages:GetMessages",
            "ec2messages:SendReply",
        ],
        "Resource": "*",
    },
)

AMAZON_SSM_MANAGED_INSTANCE_CORE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ssm:DescribeAssociation",
                "ssm:GetDeployablePatchSnapshotForInstance",
                "ssm:GetDocument",
                "ssm:DescribeDocument",
                "ssm:GetManifest",
                "ssm:GetParameter",
                "ssm:GetParameters",
                "ssm:ListAssociations",
                "ssm:ListInstanceAssociations",
                "ssm:PutInventory",
                "ssm:PutComplianceItems",
                "ssm:PutConfigurePackageResult",
                "ssm:UpdateAssociationStatus",
                "ssm:UpdateInstanceAssociationStatus",
                "ssm:UpdateInstanceInformation",
            ],
            "Resource": "*",
        },
        *deepcopy(_CHANNEL_STATEMENTS),
    ],
}

AMAZON_SSM_MANAGED_EC2_INSTANCE_DEFAULT_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowSSMAgentPermissions",
            "Effect": "Allow",
            "Action": [
                "ssm:DescribeAssociation",
                "ssm:GetDeployablePatchSnapshotForInstance",
                "ssm:GetDocument",
                "ssm:DescribeDocument",
                "ssm:GetManifest",
                "ssm:ListAssociations",
                "ssm:ListInstanceAssociations",
                "ssm:PutInventory",
                "ssm:PutComplianceItems",
                "ssm:PutConfigurePackageResult",
                "ssm:UpdateAssociationStatus",
                "ssm:UpdateInstanceAssociationStatus",
                "ssm:UpdateInstanceInformation",
            ],
            "Resource": "*",
        },
        {"Sid": "AllowSSMChannelMessaging", **deepcopy(_CHANNEL_STATEMENTS[0])},
        {"Sid": "AllowSSMLegacyMessaging", **deepcopy(_CHANNEL_STATEMENTS[1])},
    ],
}

# The policy AWS recommended before AmazonSSMManagedInstanceCore (deprecated, still attached
# in many templates): the agent's actions without ssm:GetParameter, plus CloudWatch, Directory
# Service, CloudWatch Logs and S3 (its default version, v8).
AMAZON_EC2_ROLE_FOR_SSM: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [action for action in AMAZON_SSM_MANAGED_INSTANCE_CORE["Statement"][0][
                "Action"] if action != "ssm:GetParameter"],
            "Resource": "*",
        },
        *deepcopy(_CHANNEL_STATEMENTS),
        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["ec2:DescribeInstanceStatus"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["ds:CreateComputer", "ds:DescribeDirectories"],
         "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
                       "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:PutObject", "s3:GetObject",
                       "s3:GetEncryptionConfiguration", "s3:AbortMultipartUpload",
                       "s3:ListMultipartUploadParts", "s3:ListBucket",
                       "s3:ListBucketMultipartUploads"],
            "Resource": "*",
        },
    ],
}

# By policy name: the default version's document.
AWS_MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "AmazonSSMManagedInstanceCore": AMAZON_SSM_MANAGED_INSTANCE_CORE,
    "AmazonSSMManagedEC2InstanceDefaultPolicy": AMAZON_SSM_MANAGED_EC2_INSTANCE_DEFAULT_POLICY,
    "AmazonEC2RoleforSSM": AMAZON_EC2_ROLE_FOR_SSM,
}


# The path of the bundled policies that are not at the root (IAM's "service role policies").
AWS_MANAGED_POLICY_PATHS = {"AmazonEC2RoleforSSM": "service-role/"}


def arn(name: str, partition: str = "aws") -> str:
    """The ARN of an AWS managed policy in a partition (with its path:
    ``arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM``; ``arn:aws-cn:...`` in
    China)."""
    return (managed_policy_arn_prefix(partition) + AWS_MANAGED_POLICY_PATHS.get(name, "")
            + name)


def managed_policy_arn_prefix(partition: str = "aws") -> str:
    """arn:<partition>:iam::aws:policy/"""
    return AWS_MANAGED_POLICY_ARN_PREFIX.replace("arn:aws:", f"arn:{partition}:", 1)
