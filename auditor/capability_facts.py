"""Facts about what Session Manager and patching need beyond a registered agent, as data.

Sources, checked against AWS's documentation and the agent's source
(github.com/aws/amazon-ssm-agent, 3.3.x):

- Session Manager preferences live in the Session document ``SSM-SessionManagerRunShell`` of
  each region ("Start a default shell session by specifying the default session document in IAM
  policies"); without it AWS's defaults apply: no encryption, no logging, no Run As.
- With a KMS key in the preferences, the agent decrypts the session's data key
  (``agent/session/crypto/kmsservice.go``: ``kms:Decrypt`` on the ``kms`` endpoint) and the
  person starting the session needs ``kms:GenerateDataKey`` on the same key ("Step 2: Verify or
  add instance permissions for Session Manager"; "Quickstart end user policies").
- S3 logging: the agent reads the bucket's encryption (``GetBucketEncryption``, IAM action
  ``s3:GetEncryptionConfiguration``) before the session when encryption is required and before
  every upload, then uploads with ``PutObject`` (``agent/s3util/s3util.go``); with SSE-KMS
  default encryption the upload also needs ``kms:GenerateDataKey`` on the bucket's key.
- CloudWatch Logs: ``DescribeLogGroups`` (is the group there? is it encrypted?),
  ``DescribeLogStreams``, ``CreateLogStream``, ``PutLogEvents``
  (``agent/agentlogstocloudwatch/cloudwatchlogspublisher/cloudwatchlogsservice.go``,
  ``agent/session/shell/shell.go`` validate). A missing group is logged and the session goes on
  without its log; with ``cloudWatchEncryptionEnabled`` an unencrypted (or missing) group
  refuses the session.
- Patch Manager, inventory, Distributor and agent updates read AWS-owned regional S3 buckets
  (``AWS_OWNED_BUCKETS`` below).
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.aws_facts import partition  # one partition function: the regional facts'

# --- Session Manager preferences -------------------------------------------------------------

SESSION_DOCUMENT = "SSM-SessionManagerRunShell"
SESSION_DOCUMENT_TYPE = "Session"
# The inputs of the preferences document the auditor reads, with AWS's defaults (what applies
# without the document, or when an input is left out).
SESSION_PREFERENCE_DEFAULTS: dict[str, object] = {
    "kmsKeyId": "",
    "s3BucketName": "",
    "s3KeyPrefix": "",
    "s3EncryptionEnabled": False,
    "cloudWatchLogGroupName": "",
    "cloudWatchEncryptionEnabled": False,
    "cloudWatchStreamingEnabled": False,
    "runAsEnabled": False,
    "runAsDefaultUser": "",
}
# The tag on an IAM principal that names the OS user its sessions run as (Run As).
RUN_AS_TAG = "SSMSessionRunAs"
# The OS user Session Manager creates and uses when Run As is off.
SESSION_DEFAULT_OS_USER = {"linux": "ssm-user", "windows": "ssm-user"}

# What the instance's role must be allowed for each part of the preferences.
SESSION_KMS_ACTIONS = ("kms:Decrypt",)
SESSION_S3_PUT_ACTIONS = ("s3:PutObject",)
SESSION_S3_ENCRYPTION_ACTIONS = ("s3:GetEncryptionConfiguration",)
SESSION_S3_KMS_ACTIONS = ("kms:GenerateDataKey",)  # SSE-KMS default encryption of the bucket
SESSION_LOGS_GROUP_ACTIONS = ("logs:DescribeLogGroups",)  # resource: every group ("*")
SESSION_LOGS_STREAM_ACTIONS = ("logs:DescribeLogStreams", "logs:CreateLogStream",
                               "logs:PutLogEvents")  # resource: the group
# What a person starting a shell session needs: StartSession on the instance and on the
# default session document, and a data key of the preferences' KMS key.
OPERATOR_SESSION_ACTION = "ssm:StartSession"
OPERATOR_KMS_ACTIONS = ("kms:GenerateDataKey",)

# Endpoint services the capabilities reach besides the agent's three (interface endpoints the
# remediation plan may add; S3 takes a gateway endpoint).
SESSION_ENDPOINT_SERVICES = ("kms", "logs")
S3_SERVICE = "s3"

# KMS keys AWS manages (aliases aws/...) let every principal of the account use them through
# the service that owns them; key states in which no cryptographic operation succeeds.
AWS_MANAGED_KEY_MANAGER = "AWS"
KEY_STATES_UNUSABLE = ("Disabled", "PendingDeletion", "PendingImport", "Unavailable",
                       "PendingReplicaDeletion")
KEY_POLICY_NAME = "default"


def session_document_arn(region: str, account_id: str) -> str:
    return f"arn:{partition(region)}:ssm:{region}:{account_id}:document/{SESSION_DOCUMENT}"


def bucket_arn(bucket: str, key: str | None = None, region: str = "") -> str:
    arn = f"arn:{partition(region)}:s3:::{bucket}"
    return arn if key is None else f"{arn}/{key}"


def log_group_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:{partition(region)}:logs:{region}:{account_id}:log-group:{name}"


def kms_key_arn(region: str, account_id: str, key_id: str) -> str:
    """The ARN a key reference names: an ARN as it is, a key id or alias in this region."""
    if key_id.startswith("arn:"):
        return key_id
    if key_id.startswith("alias/"):
        return f"arn:{partition(region)}:kms:{region}:{account_id}:{key_id}"
    return f"arn:{partition(region)}:kms:{region}:{account_id}:key/{key_id}"


# --- AWS-owned buckets the agent reads ---------------------------------------------------------

AWS_OWNED_BUCKETS_SOURCE = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "ssm-agent-minimum-s3-permissions.html (SSM Agent communications with AWS managed S3 "
    "buckets) and https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "patch-operations-s3-buckets.html (Reference: Amazon S3 buckets for patching operations)")


@dataclass(frozen=True)
class OwnedBucket:
    """One AWS-owned regional bucket: ``{region}`` in the name stands for the region."""

    name: str
    purpose: str
    platforms: tuple[str, ...] = ("linux", "windows")

    def for_region(self, region: str) -> str:
        return self.name.format(region=region)


AWS_OWNED_BUCKETS: tuple[OwnedBucket, ...] = (
    OwnedBucket("aws-ssm-{region}", "Patch Manager and other Systems Manager command documents"),
    OwnedBucket("patch-baseline-snapshot-{region}", "Patch Manager baseline snapshots"),
    OwnedBucket("amazon-ssm-{region}", "SSM Agent updates and installers"),
    OwnedBucket("amazon-ssm-packages-{region}", "Distributor packages (agents before 2.2.45.0)"),
    OwnedBucket("{region}-birdwatcher-prod", "Distributor packages (agent 2.2.45.0 and later)"),
    OwnedBucket("aws-ssm-distributor-file-{region}", "Distributor package files"),
    OwnedBucket("aws-ssm-document-attachments-{region}", "attachments of AWS documents"),
    OwnedBucket("aws-windows-downloads-{region}", "documents that support only Windows",
                ("windows",)),
)
# The object the auditor asks about in each bucket: any object (a statement scoped to one prefix
# of the bucket does not cover every object the agent fetches).
ANY_OBJECT = "*"
PATCH_S3_ACTIONS = ("s3:GetObject",)


def owned_buckets(region: str, platform: str) -> list[str]:
    return [bucket.for_region(region) for bucket in AWS_OWNED_BUCKETS
            if platform in bucket.platforms]
