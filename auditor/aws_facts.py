"""Facts about AWS that the analysis relies on, kept in one place.

Sources: the SSM Agent and VPC documentation summarised in DESIGN.md section 2. Regional facts
(partitions, which region offers which service) are data in ``aws_regions``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from ipaddress import IPv4Network, ip_network

from auditor import aws_regions

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
# The DhcpOptionsId of a VPC associated with no DHCP option set (AssociateDhcpOptions "default").
NO_DHCP_OPTIONS = "default"
AMAZON_DNS_NAME = "AmazonProvidedDNS"

# Interface endpoint states: only "available" carries traffic; "deleted" ones no longer exist.
ENDPOINT_AVAILABLE = "available"
ENDPOINT_GONE_STATES = ("deleted",)
NAT_GATEWAY_AVAILABLE = "available"

# The instance states EC2 reports (DescribeInstances' State.Name), read exactly: any other
# value (another case, spaces, a code without a name) leaves the state unknown. A pending
# instance is launching: the agent starts once it runs, so it is judged as it will run.
INSTANCE_RUNNING = "running"
INSTANCE_PENDING = "pending"
INSTANCE_STATES = (INSTANCE_PENDING, INSTANCE_RUNNING, "shutting-down", "terminated",
                   "stopping", "stopped")
INSTANCE_STATE_UNKNOWN = "unknown"
# MetadataOptions.HttpEndpoint, read exactly.
METADATA_ENDPOINT_VALUES = ("enabled", "disabled")
# Route states in DescribeRouteTables, read exactly.
ROUTE_STATES = ("active", "blackhole")


@lru_cache(maxsize=4096)  # asked for each proof; a handful of answers
def endpoint_service_name(region: str, service: str) -> str:
    """The VPC endpoint service name, e.g. com.amazonaws.eu-west-1.ssm (never a prefix match).

    The same prefix in every partition for the agent's services and S3's gateway endpoint
    (``aws_regions.ENDPOINT_SERVICE_PREFIX``)."""
    return f"{aws_regions.ENDPOINT_SERVICE_PREFIX}.{region}.{service}"


@lru_cache(maxsize=4096)  # asked for each proof; a handful of answers
def service_hostname(region: str, service: str) -> str:
    """ssm.eu-west-1.amazonaws.com; ssm.cn-north-1.amazonaws.com.cn in China."""
    return f"{service}.{region}.{aws_regions.partition_of(region).dns_suffix}"


@lru_cache(maxsize=4096)  # asked for each proof; a handful of answers
def partition(region: str) -> str:
    """The ARN partition of a region: aws, aws-cn, aws-us-gov..."""
    return aws_regions.partition_of(region).name


def service_offered(region: str, service: str) -> bool | None:
    """Whether the region offers the service's endpoint; None when not known."""
    return aws_regions.offers(region, service)


# --- DNS names ------------------------------------------------------------------------------
# Route 53 answers names with a final dot and escapes characters outside letters, digits and
# hyphens as \\ooo (a wildcard record is "\\052.example.com.").
_OCTAL_ESCAPE = re.compile(r"\\(\d{3})")
# An interface endpoint's own DNS names: vpce-<id>-<suffix>[-<zone>].<service>.<region>.vpce.<dns
# suffix>, regional or zonal (VPC User Guide, "DNS hostnames" of interface endpoints).
_ENDPOINT_DNS_NAME = re.compile(r"^(vpce-[0-9a-f]+)-[0-9a-z]+(?:-([a-z0-9-]+))?\.")


@lru_cache(maxsize=65536)
def dns_name(name: str) -> str:
    """A DNS name as the model keeps it: lower case, escapes decoded, no final dot."""
    text = _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), name.strip())
    return text.lower().rstrip(".")


def dns_covers(domain: str, name: str) -> bool:
    """Whether ``name`` is ``domain`` or one of its subdomains ("." and "" cover every name)."""
    domain = domain.rstrip(".")
    return not domain or name == domain or name.endswith("." + domain)


def dns_depth(domain: str) -> int:
    """How specific a domain is: its number of labels ("." has none)."""
    domain = domain.rstrip(".")
    return domain.count(".") + 1 if domain else 0


def endpoint_in_dns_name(name: str) -> tuple[str, str | None] | None:
    """(vpce id, zone or None) when ``name`` is an interface endpoint's own DNS name, regional
    ("vpce-0a1b-abcd.ssm.eu-west-1.vpce.amazonaws.com") or zonal (the zone appended to the
    first label); None otherwise."""
    if ".vpce." not in name:
        return None
    match = _ENDPOINT_DNS_NAME.match(name)
    return (match.group(1), match.group(2)) if match else None


def vpc_resolver_address(vpc_cidr: IPv4Network) -> str:
    """The Amazon DNS server at the VPC's primary CIDR base plus two."""
    return str(vpc_cidr.network_address + 2)


# --- What the agent must be allowed to do ---------------------------------------------------
# Each action the auditor requires, with where SSM Agent calls it (paths in the agent's source,
# github.com/aws/amazon-ssm-agent, checked at 3.3.x). The heartbeat registers the instance and
# keeps it online; a message channel receives commands. AmazonSSMManagedInstanceCore grants all
# of these.
AGENT_ACTION_SOURCES: dict[str, str] = {
    "ssm:UpdateInstanceInformation":
        "agent/ssm/service.go UpdateInstanceInformation, called by agent/health/healthcheck.go",
    "ssmmessages:CreateControlChannel":
        "agent/session/service/service.go CreateControlChannel, called by "
        "agent/session/controlchannel/controlchannel.go getControlChannelToken",
    "ssmmessages:OpenControlChannel":
        "agent/session/controlchannel/controlchannel.go Open (OpenControlChannelInput on the "
        "control channel's websocket)",
    "ec2messages:GetMessages": "agent/runcommand/mds/service.go GetMessages",
    "ec2messages:AcknowledgeMessage": "agent/runcommand/mds/service.go AcknowledgeMessage",
    "ec2messages:SendReply": "agent/runcommand/mds/service.go SendReply (SendReplyWithInput)",
    "ec2messages:FailMessage": "agent/runcommand/mds/service.go FailMessage",
    "ec2messages:DeleteMessage": "agent/runcommand/mds/service.go DeleteMessage",
    "ssmmessages:CreateDataChannel":
        "agent/session/datachannel/datachannel.go getDataChannelToken (CreateDataChannel)",
    "ssmmessages:OpenDataChannel":
        "agent/session/datachannel/datachannel.go Open (OpenDataChannelInput on the data "
        "channel's websocket)",
}
HEARTBEAT_ACTIONS = ("ssm:UpdateInstanceInformation",)
CHANNEL_ACTIONS = {
    "ssmmessages": ("ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel"),
    "ec2messages": ("ec2messages:GetMessages", "ec2messages:AcknowledgeMessage",
                    "ec2messages:SendReply", "ec2messages:DeleteMessage",
                    "ec2messages:FailMessage"),
}
# Session Manager needs the data channel too; without it the instance is still manageable.
SESSION_MANAGER_ACTIONS = ("ssmmessages:CreateDataChannel", "ssmmessages:OpenDataChannel")
# Granted by AmazonSSMManagedInstanceCore and fine to grant in a fix, but the agent's message
# client never calls it (agent/runcommand/mds/service.go): never required.
RECOMMENDED_NOT_REQUIRED_ACTIONS = ("ec2messages:GetEndpoint",)
# Actions whose resource is the instance itself; the others take "*".
INSTANCE_RESOURCE_ACTIONS = ("ssm:UpdateInstanceInformation",)

# --- Instance types: which hypervisor --------------------------------------------------------
# In a VPC with no DHCP option set, instances built on the Nitro System still get the Amazon DNS
# server (169.254.169.253) and Xen-based ones get no DNS server at all (VPC User Guide, "DHCP
# option set concepts"). Sources: the Hypervisor field of ec2:DescribeInstanceTypes ("nitro" or
# "xen"; absent for bare metal, which is built on the Nitro System), as captured in moto's
# instance_types.json (a test compares), and the EC2 guide's "Instances built on the Nitro
# System" for families retired before that capture. Xen-based families are a closed set (none
# released since 2017); a family in neither set is "unknown".
NITRO = "nitro"
XEN = "xen"
UNKNOWN_HYPERVISOR = "unknown"
XEN_FAMILIES = frozenset((
    "c1", "c3", "c4", "cc1", "cc2", "cg1", "cr1", "d2", "f1", "g2", "g3", "g3s", "h1", "hi1",
    "hs1", "i2", "i3", "m1", "m2", "m3", "m4", "p2", "p3", "r3", "r4", "t1", "t2", "x1", "x1e",
))
NITRO_FAMILIES = frozenset((
    "a1", "c5", "c5a", "c5ad", "c5d", "c5n", "c6a", "c6g", "c6gd", "c6gn", "c6i", "c6id", "c6in",
    "c7a", "c7g", "c7gd", "c7gn", "c7i", "c7i-flex", "c8a", "c8g", "c8gb", "c8gd", "c8gn", "c8i",
    "c8i-flex", "c8ib", "c8id", "c8in", "c8ine", "d3", "d3en", "dl1", "dl2q", "f2", "g4ad", "g4dn",
    "g5", "g5g", "g6", "g6e", "g6f", "g7e", "gr6", "gr6f", "hpc6a", "hpc6id", "hpc7a", "hpc7g",
    "hpc8a", "i3en", "i4g", "i4i", "i7i", "i7ie", "i8g", "i8ge", "im4gn", "inf1", "inf2", "is4gen",
    "m5", "m5a", "m5ad", "m5d", "m5dn", "m5n", "m5zn", "m6a", "m6g", "m6gd", "m6i", "m6id",
    "m6idn", "m6in", "m7a", "m7g", "m7gd", "m7i", "m7i-flex", "m8a", "m8azn", "m8g", "m8gb",
    "m8gd", "m8gn", "m8i", "m8i-flex", "m8ib", "m8id", "m8in", "m8ine", "mac1", "mac2",
    "mac2-m1ultra", "mac2-m2", "mac2-m2pro", "mac-m4", "mac-m4max", "mac-m4pro", "p3dn", "p4d",
    "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "r5", "r5a", "r5ad", "r5b", "r5d", "r5dn",
    "r5n", "r6a", "r6g", "r6gd", "r6i", "r6id", "r6idn", "r6in", "r7a", "r7g", "r7gd", "r7i",
    "r7iz", "r8a", "r8g", "r8gb", "r8gd", "r8gn", "r8i", "r8i-flex", "r8ib", "r8id", "r8in", "t3",
    "t3a", "t4g", "trn1", "trn1n", "trn2", "u-3tb1", "u-6tb1", "u-9tb1", "u-12tb1", "u-18tb1",
    "u-24tb1", "u7i-12tb", "u7i-6tb", "u7i-8tb", "u7in-16tb", "u7in-24tb", "u7in-32tb", "vt1",
    "x2gd", "x2idn", "x2iedn", "x2iezn", "x8aedz", "x8g", "x8i", "z1d",
))


@lru_cache(maxsize=1024)  # a fleet runs a few dozen types
def hypervisor(instance_type: str) -> str:
    """NITRO, XEN or UNKNOWN_HYPERVISOR for an instance type such as 't3.micro'."""
    family, _, size = instance_type.lower().partition(".")
    if not size:
        return UNKNOWN_HYPERVISOR
    if "metal" in size:  # bare metal: built on the Nitro System, whatever the family
        return NITRO
    if family in XEN_FAMILIES:
        return XEN
    return NITRO if family in NITRO_FAMILIES else UNKNOWN_HYPERVISOR


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
    return f"arn:{partition(region)}:ec2:{region}:{account_id}:instance/{instance_id}"


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


# --- Beyond the VPC: transit gateways and peering connections --------------------------------
# Transit Gateways guide (tgw-vpc-attachments, tgw-nacls, tgw-route-tables) and the VPC
# Peering guide (vpc-peering-basics, peering-configurations-unsupported).
TRANSIT_GATEWAY_AVAILABLE = "available"
ATTACHMENT_AVAILABLE = "available"
# The states EC2 reports (TransitGatewayState, TransitGatewayAttachmentState), read exactly: a
# state missing or not among these leaves the hop unproved (unknown), never available.
TRANSIT_GATEWAY_STATES = ("pending", "available", "modifying", "deleting", "deleted")
ATTACHMENT_STATES = ("initiating", "initiatingRequest", "pendingAcceptance", "rollingBack",
                     "pending", "available", "modifying", "deleting", "deleted", "failed",
                     "rejected", "rejecting", "failing")
PEERING_ACTIVE = "active"
# Only "enable" turns an option on; a transit gateway's security group referencing is off by
# default, a VPC attachment's on (CreateTransitGatewayVpcAttachmentRequestOptions). Security
# group references across a transit gateway hold in inbound rules only, and only when the
# gateway and both attachments enable them; across a peering connection in one region they
# hold both ways.
OPTION_ENABLED = "enable"


# A whole organization (--org): the read-only role each member account holds for the auditor,
# and the session name AssumeRole gives (CloudTrail shows it in the member account).
ORGANIZATION_ROLE_NAME = "ssm-auditor-readonly"
ASSUME_ROLE_SESSION_NAME = "ssm-auditor"
# Accounts Organizations lists that can be read: ACTIVE (State, or the older Status field).
ACCOUNT_ACTIVE = "ACTIVE"


def member_role_arn(account_id: str, role_name: str, partition: str = "aws") -> str:
    """The role the auditor assumes in a member account (a path is part of ``role_name``)."""
    return f"arn:{partition}:iam::{account_id}:role/{role_name.strip('/')}"

