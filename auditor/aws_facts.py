"""Facts about AWS that the analysis relies on, kept in one place.

Sources: the SSM Agent and VPC documentation summarised in DESIGN.md section 2.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, ip_network

# The three endpoints SSM Agent talks to, all on TCP 443.
SERVICES = ("ssm", "ssmmessages", "ec2messages")
HEARTBEAT_SERVICE = "ssm"
# Message channels in the agent's order of preference (ssmmessages from agent 3.3.40.0).
MESSAGE_CHANNELS = ("ssmmessages", "ec2messages")
HTTPS_PORT = 443
TCP = "tcp"

# Ephemeral ports the client picks for its side of a connection: return traffic must be
# admitted inbound on these ports by a stateless network ACL.
EPHEMERAL_PORTS = {"linux": (32768, 60999), "windows": (49152, 65535)}
NAT_GATEWAY_EPHEMERAL_PORTS = (1024, 65535)

# Addresses never seen as "the internet": the service's public addresses lie outside them.
NON_PUBLIC_RANGES = tuple(ip_network(cidr) for cidr in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3",
))
AMAZON_DNS_ADDRESS = "169.254.169.253"
AMAZON_DNS_NAME = "AmazonProvidedDNS"

# Interface endpoint states: only "available" carries traffic; "deleted" ones no longer exist.
ENDPOINT_AVAILABLE = "available"
ENDPOINT_GONE_STATES = ("deleted",)
NAT_GATEWAY_AVAILABLE = "available"


def _partition(region: str) -> tuple[str, str]:
    """(endpoint service prefix, DNS suffix) for the region's partition."""
    if region.startswith("cn-"):
        return "cn.com.amazonaws", "amazonaws.com.cn"
    return "com.amazonaws", "amazonaws.com"


def endpoint_service_name(region: str, service: str) -> str:
    """The VPC endpoint service name, e.g. com.amazonaws.eu-west-1.ssm (never a prefix match)."""
    prefix, _ = _partition(region)
    return f"{prefix}.{region}.{service}"


def service_hostname(region: str, service: str) -> str:
    _, suffix = _partition(region)
    return f"{service}.{region}.{suffix}"


def vpc_resolver_address(vpc_cidr: IPv4Network) -> str:
    """The Amazon DNS server at the VPC's primary CIDR base plus two."""
    return str(vpc_cidr.network_address + 2)


# --- What the agent must be allowed to do ---------------------------------------------------
# The heartbeat registers the instance and keeps it online; a message channel receives
# commands. AmazonSSMManagedInstanceCore grants all of these.
HEARTBEAT_ACTIONS = ("ssm:UpdateInstanceInformation",)
CHANNEL_ACTIONS = {
    "ssmmessages": ("ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel"),
    "ec2messages": ("ec2messages:GetMessages", "ec2messages:AcknowledgeMessage",
                    "ec2messages:SendReply", "ec2messages:DeleteMessage",
                    "ec2messages:FailMessage", "ec2messages:GetEndpoint"),
}
# Session Manager needs the data channel too; without it the instance is still manageable.
SESSION_MANAGER_ACTIONS = ("ssmmessages:CreateDataChannel", "ssmmessages:OpenDataChannel")
# Actions whose resource is the instance itself; the others take "*".
INSTANCE_RESOURCE_ACTIONS = ("ssm:UpdateInstanceInformation",)

EC2_SERVICE_PRINCIPAL = "ec2.amazonaws.com"
SSM_SERVICE_PRINCIPAL = "ssm.amazonaws.com"
# The trust policy an instance role needs: EC2 may assume it.
EC2_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": EC2_SERVICE_PRINCIPAL},
                   "Action": "sts:AssumeRole"}],
}

# Default Host Management: the service setting naming its role, and the agent that brought it.
DHMC_SETTING_ID = "/ssm/managed-instance/default-ec2-instance-management-role"
DHMC_MIN_AGENT_VERSION = (3, 2, 582, 0)
# From this version the agent no longer falls back from IMDSv2 to IMDSv1.
NO_IMDSV1_FALLBACK_AGENT_VERSION = (3, 2, 1041, 0)
# The message channel moved to ssmmessages from this version; older agents use ec2messages.
SSMMESSAGES_CHANNEL_AGENT_VERSION = (3, 3, 40, 0)


def instance_arn(region: str, account_id: str, instance_id: str) -> str:
    partition = "aws-cn" if region.startswith("cn-") else (
        "aws-us-gov" if region.startswith("us-gov-") else "aws")
    return f"arn:{partition}:ec2:{region}:{account_id}:instance/{instance_id}"


@lru_cache(maxsize=1024)  # a fleet runs a handful of versions
def agent_version(text: str) -> tuple[int, ...] | None:
    """'3.2.582.0' -> (3, 2, 582, 0); None when it is not a version."""
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def agent_channels(agent_version_text: str) -> tuple[str, ...]:
    """The message channels an agent of this version uses (all of them when unknown)."""
    version = agent_version(agent_version_text) if agent_version_text else None
    if version is not None and version < SSMMESSAGES_CHANNEL_AGENT_VERSION:
        return ("ec2messages",)
    return MESSAGE_CHANNELS


# --- Organizations -----------------------------------------------------------------------


def no_scp_applies(organization: dict | None, account_id: str) -> str | None:
    """Why no service control policy applies to the account, or None when some may.

    ``organization``: DescribeOrganization's "Organization" (None outside an organization).
    SCPs apply neither outside an organization, nor in one with consolidated billing only, nor
    to its management account.
    """
    if organization is None:
        return "not in an organization"
    if organization.get("FeatureSet") == "CONSOLIDATED_BILLING":
        return "the organization has consolidated billing only (no SCPs)"
    if account_id and organization.get("MasterAccountId") == account_id:
        return "the management account (SCPs do not apply to it)"
    return None


# A whole organization (--org): the read-only role each member account holds for the auditor,
# and the session name AssumeRole gives (CloudTrail shows it in the member account).
ORGANIZATION_ROLE_NAME = "ssm-auditor-readonly"
ASSUME_ROLE_SESSION_NAME = "ssm-auditor"
# Accounts Organizations lists that can be read: ACTIVE (State, or the older Status field).
ACCOUNT_ACTIVE = "ACTIVE"


def member_role_arn(account_id: str, role_name: str, partition: str = "aws") -> str:
    """The role the auditor assumes in a member account (a path is part of ``role_name``)."""
    return f"arn:{partition}:iam::{account_id}:role/{role_name.strip('/')}"


def partition_of(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
