"""Small estates for the capability tests: one instance, its network and role, and the
region's Session Manager preferences, built with ``EstateBuilder`` and audited through the
library (``run_audit``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.audit import AuditOptions, InstanceAudit, run_audit
from auditor.model import Estate
from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder

ACCOUNT = "111122223333"
REGION = "eu-west-1"
CORE = "AmazonSSMManagedInstanceCore"
AGENT = ("ssm", "ssmmessages", "ec2messages")
KEY = "alias/sessions"
BUCKET = "acme-session-logs"
GROUP = "/acme/sessions"


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def deny(actions: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict:
    return {"Effect": "Deny", "Action": actions, "Resource": resource, **extra}


# What the instance's role needs for the preferences of ``preferences()`` (by name or ARN).
def session_access(key_arn: str = "*") -> dict:
    return document(
        allow("kms:Decrypt", key_arn),
        allow("s3:PutObject", f"arn:aws:s3:::{BUCKET}/sessions/*"),
        allow("s3:GetEncryptionConfiguration", f"arn:aws:s3:::{BUCKET}"),
        allow("logs:DescribeLogGroups"),
        allow(["logs:DescribeLogStreams", "logs:CreateLogStream", "logs:PutLogEvents"],
              f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*"))


@dataclass
class Layout:
    builder: EstateBuilder
    vpc: str
    subnet: str
    table: str
    instance_group: str
    endpoint_group: str | None = None
    instance: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def layout(way: str = "igw", *, endpoints: Sequence[str] = AGENT, s3_list: bool = True,
           instance_egress: list[tuple] | None = None) -> Layout:
    """A VPC whose one subnet goes out through an internet gateway ("igw", the instance has a
    public address) or nowhere ("isolated": interface endpoints for ``endpoints``)."""
    b = EstateBuilder(region=REGION, account_id=ACCOUNT)
    if s3_list:
        b.s3_prefix_list()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24", "a")
    if way == "igw":
        table = b.route_table(vpc, [subnet], [("0.0.0.0/0", b.internet_gateway(vpc))])
    else:
        table = b.route_table(vpc, [subnet])
    group = b.security_group(vpc, "app", egress=instance_egress)
    result = Layout(b, vpc, subnet, table, group)
    if way == "isolated":
        result.endpoint_group = b.security_group(
            vpc, "endpoints", ingress=[("tcp", 443, 443, "10.0.0.0/16")])
        for service in endpoints:
            b.interface_endpoint(vpc, service, [subnet], [result.endpoint_group])
    b.dhmc_setting(None)
    return result


def with_instance(place: Layout, *, inline: dict | None = None, attached: Sequence[str] = (CORE,),
                  boundary: str | None = None, tags: dict[str, str] | None = None,
                  platform: str | None = None, state: str = "running",
                  role: str = "app-role") -> str:
    b = place.builder
    b.role(role, attached=list(attached), inline=inline, boundary=boundary)
    b.instance_profile(role, [role])
    place.instance = b.instance(place.subnet, [place.instance_group], instance_profile=role,
                                public_ip="198.51.100.7", tags=tags, platform=platform,
                                state=state)
    return place.instance


def preferences(b: EstateBuilder, *, key: bool = True, bucket: bool = True, group: bool = True,
                **inputs: Any) -> str | None:
    """The region's preferences naming a key, a bucket and a log group (each created unless
    told otherwise); returns the key's ARN."""
    arn = b.kms_key(KEY) if key else None
    if bucket:
        b.bucket(BUCKET)
    if group:
        b.log_group(GROUP)
    b.session_preferences(**{"kmsKeyId": KEY, "s3BucketName": BUCKET, "s3KeyPrefix": "sessions",
                             "s3EncryptionEnabled": True, "cloudWatchLogGroupName": GROUP,
                             **inputs})
    return arn


def estate_of(b: EstateBuilder) -> Estate:
    return build_estate(b.raw())


def audit(b: EstateBuilder | Estate, instance_id: str,
          options: AuditOptions | None = None) -> InstanceAudit:
    estate = b if isinstance(b, Estate) else estate_of(b)
    report = run_audit([estate], [instance_id], SourceDescription("test"), options)
    [result] = report.instances
    return result


def own_codes(result: InstanceAudit, capability: str = "session_manager",
              severity: str | None = "error") -> set[str]:
    """The codes of a capability's own findings (of one severity, or all with None)."""
    return {f.code for f in result.capabilities[capability].findings
            if severity is None or f.severity == severity}


def status(result: InstanceAudit, capability: str = "session_manager") -> str:
    return result.capabilities[capability].status


def finding(result: InstanceAudit, code: str) -> Any:
    [found] = [f for f in result.findings if f.code == code]
    return found
