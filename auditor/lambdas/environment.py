"""What the functions read from their environment (the stack sets it; one place for the
names)."""

from __future__ import annotations

import os
from dataclasses import dataclass

BUCKET = "SSM_AUDITOR_BUCKET"
ROLE_NAME = "SSM_AUDITOR_ROLE_NAME"
EXTERNAL_ID = "SSM_AUDITOR_EXTERNAL_ID"
REGIONS = "SSM_AUDITOR_REGIONS"
ACCOUNTS = "SSM_AUDITOR_ACCOUNTS"
SECURITY_HUB = "SSM_AUDITOR_SECURITY_HUB"


@dataclass(frozen=True)
class Settings:
    bucket: str
    role_name: str
    external_id: str | None
    regions: str  # "all" or regions separated by commas
    accounts: str  # account ids separated by commas; empty: every ACTIVE account
    security_hub: bool
    region: str  # where the function runs (Security Hub's import, the global services)

    @classmethod
    def from_environ(cls) -> Settings:
        from auditor.aws_facts import ORGANIZATION_ROLE_NAME

        return cls(bucket=os.environ[BUCKET],
                   role_name=os.environ.get(ROLE_NAME) or ORGANIZATION_ROLE_NAME,
                   external_id=os.environ.get(EXTERNAL_ID) or None,
                   regions=os.environ.get(REGIONS) or "all",
                   accounts=os.environ.get(ACCOUNTS) or "",
                   security_hub=os.environ.get(SECURITY_HUB, "true") == "true",
                   region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                   or "us-east-1")


def own_account(context: object) -> tuple[str, str]:
    """The partition and account the function runs in (from its ARN, else STS)."""
    arn = str(getattr(context, "invoked_function_arn", "") or "")
    parts = arn.split(":")
    if len(parts) > 4 and parts[4]:
        return parts[1], parts[4]
    import boto3

    identity = boto3.client("sts").get_caller_identity()
    return str(identity["Arn"]).split(":")[1], str(identity["Account"])
