"""The estate as plain data: what one account and region look like to the auditor.

No boto3 and no I/O here. Sources (live AWS, snapshots, templates) build these objects; the
analysis reads them. Field names follow the EC2 API where a reader would look them up there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network


class Cidr(IPv4Network):
    """An IPv4 network that computes its hash and its text once.

    Networks key the analysis' memo tables millions of times on a large fleet, and
    ``IPv4Network.__hash__`` recomputes from Python each time. Equal to, and hashed like, the
    ``IPv4Network`` it stands for.
    """

    def __hash__(self) -> int:
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = self.__dict__["_hash"] = super().__hash__()
            return value

    def __str__(self) -> str:
        try:
            return self.__dict__["_text"]
        except KeyError:
            text = self.__dict__["_text"] = super().__str__()
            return text


# --- Security groups and prefix lists -------------------------------------------------------


@dataclass(frozen=True)
class PortRange:
    """An inclusive port range; ``protocol`` is "-1" (all), "tcp", "udp", "icmp" or a number."""

    protocol: str
    from_port: int
    to_port: int


@dataclass(frozen=True)
class SecurityGroupRule:
    """One peer of one permission: exactly one of cidr, group_id, prefix_list_id is set."""

    direction: str  # "ingress" | "egress"
    ports: PortRange
    cidr: IPv4Network | None = None
    ipv6_cidr: str | None = None
    group_id: str | None = None
    prefix_list_id: str | None = None
    description: str = ""

    def peer(self) -> str:
        return str(self.cidr or self.ipv6_cidr or self.group_id or self.prefix_list_id)


@dataclass
class SecurityGroup:
    group_id: str
    vpc_id: str
    name: str = ""
    ingress: list[SecurityGroupRule] = field(default_factory=list)
    egress: list[SecurityGroupRule] = field(default_factory=list)


@dataclass
class PrefixList:
    prefix_list_id: str
    name: str = ""
    owner_id: str = ""
    # None when the entries were not read (for example an AWS-managed list not captured).
    cidrs: list[IPv4Network] | None = None


# --- Network ACLs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NaclEntry:
    rule_number: int
    egress: bool
    allow: bool
    protocol: str  # "-1", "6" (tcp), "17", ...
    cidr: IPv4Network | None  # None for IPv6 entries, which never match IPv4 traffic
    from_port: int | None = None
    to_port: int | None = None


@dataclass
class NetworkAcl:
    nacl_id: str
    vpc_id: str
    is_default: bool
    entries: list[NaclEntry]  # kept in rule-number order, the order AWS evaluates them in
    subnet_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.entries = sorted(self.entries, key=lambda entry: entry.rule_number)


# --- Routing ---------------------------------------------------------------------------------

ROUTE_TARGET_KINDS = (
    "local",
    "internet_gateway",
    "nat_gateway",
    "transit_gateway",
    "vpc_peering",
    "virtual_private_gateway",
    "vpc_endpoint",  # gateway endpoints (S3, DynamoDB), firewall or GWLB endpoints
    "network_interface",
    "instance",
    "egress_only_internet_gateway",
    "carrier_gateway",
    "local_gateway",
    "core_network",
    "transit_gateway_attachment",  # in a transit gateway's route table
    "transit_gateway_ecmp",  # a transit gateway route over several attachments
    "unknown",
)


@dataclass(frozen=True)
class Route:
    target_kind: str  # one of ROUTE_TARGET_KINDS
    target_id: str
    state: str  # "active" | "blackhole"
    destination_cidr: IPv4Network | None = None
    destination_prefix_list_id: str | None = None
    destination_ipv6: str | None = None
    origin: str = ""

    def destination(self) -> str:
        return str(self.destination_cidr or self.destination_prefix_list_id
                   or self.destination_ipv6)


@dataclass
class RouteTable:
    route_table_id: str
    vpc_id: str
    routes: list[Route]
    is_main: bool = False
    subnet_ids: list[str] = field(default_factory=list)  # explicit associations
    # Edge associations (ingress routing): the internet or virtual private gateways whose
    # incoming traffic this table routes.
    gateway_ids: list[str] = field(default_factory=list)


@dataclass
class InternetGateway:
    igw_id: str
    attached_vpc_ids: list[str]


@dataclass
class NatGateway:
    nat_gateway_id: str
    vpc_id: str
    subnet_id: str
    state: str  # pending | failed | available | deleting | deleted
    connectivity_type: str = "public"
    private_ips: list[str] = field(default_factory=list)
    public_ips: list[str] = field(default_factory=list)


# --- VPCs, subnets, endpoints ---------------------------------------------------------------


@dataclass
class Vpc:
    vpc_id: str
    cidrs: list[IPv4Network]
    dhcp_options_id: str | None = None
    # None when the attribute could not be read.
    enable_dns_support: bool | None = None
    enable_dns_hostnames: bool | None = None


@dataclass
class DhcpOptions:
    dhcp_options_id: str
    domain_name_servers: list[str]

    def uses_amazon_dns(self) -> bool:
        return not self.domain_name_servers or self.domain_name_servers == ["AmazonProvidedDNS"]


@dataclass
class Subnet:
    subnet_id: str
    vpc_id: str
    cidr: IPv4Network
    availability_zone: str = ""
    map_public_ip_on_launch: bool = False


@dataclass
class NetworkInterface:
    eni_id: str
    subnet_id: str
    vpc_id: str
    private_ip: str | None
    group_ids: list[str]
    public_ip: str | None = None
    interface_type: str = "interface"
    device_index: int = 0


@dataclass
class VpcEndpoint:
    endpoint_id: str
    vpc_id: str
    service_name: str
    endpoint_type: str  # Interface | Gateway | GatewayLoadBalancer | ...
    state: str
    private_dns_enabled: bool | None  # None: not in the data (unknown)
    subnet_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    network_interface_ids: list[str] = field(default_factory=list)
    policy_document: str | None = None
    # DnsEntries' names (regional, zonal and the private DNS name), lower case
    dns_names: list[str] = field(default_factory=list)
    # DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint: private DNS answers only queries
    # that arrive through an inbound Resolver endpoint, not the VPC's own instances.
    private_dns_only_for_inbound_resolver: bool = False
    owner_id: str = ""


# --- DNS as the VPC resolver answers it (Route 53) --------------------------------------------
# Names are kept lower case without the final dot ("ssm.eu-west-1.amazonaws.com"); a wildcard
# record's name begins with "*.".


@dataclass(frozen=True)
class DnsRecord:
    """One record set of a private hosted zone (ListResourceRecordSets)."""

    name: str
    record_type: str  # A, AAAA, CNAME, ...
    values: tuple[str, ...] = ()  # ResourceRecords' values (addresses, a CNAME's target)
    alias_target: str | None = None  # AliasTarget.DNSName, normalised like the names
    set_identifier: str | None = None  # weighted, failover...: one of several answers


@dataclass
class HostedZone:
    """A private hosted zone associated with VPCs of the estate."""

    zone_id: str  # without "/hostedzone/"
    name: str
    owner: str = ""  # the owning account, or the AWS service that owns it
    records: list[DnsRecord] | None = None  # None when not read (the reason in ``unread``)
    unread: str = ""


@dataclass(frozen=True)
class ResolverRule:
    rule_id: str
    domain_name: str
    rule_type: str  # FORWARD | SYSTEM | RECURSIVE | DELEGATE
    name: str = ""
    target_ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class FirewallRule:
    priority: int
    action: str  # ALLOW | BLOCK | ALERT
    domain_list_id: str | None  # None for rules without a domain list (threat protection)
    name: str = ""
    block_response: str = ""  # NODATA | NXDOMAIN | OVERRIDE
    block_override_domain: str = ""
    trust_redirection: bool = False  # FirewallDomainRedirectionAction TRUST_REDIRECTION_DOMAIN
    query_type: str = ""  # Qtype: the rule inspects only queries of this type ("" every type)


@dataclass
class FirewallRuleGroup:
    group_id: str
    rules: list[FirewallRule] | None = None  # None when not read


@dataclass
class FirewallDomainList:
    list_id: str
    name: str = ""
    managed_owner: str = ""  # set for AWS managed lists, whose domains AWS does not show
    domains: list[str] | None = None  # None when not read


@dataclass(frozen=True)
class FirewallAssociation:
    group_id: str
    priority: int
    via: str = ""  # the Route 53 Profile it comes through, "" when associated directly


@dataclass
class DnsConfig:
    """What decides names in each VPC besides its interface endpoints: private hosted zones,
    Resolver rules and DNS Firewall rule groups, associated directly or through a Route 53
    Profile, by VPC id. What could not be read is in ``Estate.unavailable`` under its kind."""

    zones: dict[str, HostedZone] = field(default_factory=dict)  # by zone id
    zones_by_vpc: dict[str, list[str]] = field(default_factory=dict)
    # VPCs whose zones were not listed although the listing was read (a capture that skipped
    # them): what their resolver answers is unknown.
    zones_unlisted: set[str] = field(default_factory=set)
    rules: dict[str, ResolverRule] = field(default_factory=dict)  # by rule id
    rules_by_vpc: dict[str, list[str]] = field(default_factory=dict)
    firewall_groups: dict[str, FirewallRuleGroup] = field(default_factory=dict)
    firewall_by_vpc: dict[str, list[FirewallAssociation]] = field(default_factory=dict)
    domain_lists: dict[str, FirewallDomainList] = field(default_factory=dict)
    # Interface endpoints a Route 53 Profile associates with the VPC (their ids).
    profile_endpoints_by_vpc: dict[str, list[str]] = field(default_factory=dict)
    profiles_by_vpc: dict[str, list[str]] = field(default_factory=dict)  # profile ids
    # What a profile associated with a VPC brings that the auditor cannot resolve (a rule or
    # zone it was not shown), by VPC id: messages.
    unresolved_by_vpc: dict[str, list[str]] = field(default_factory=dict)
    # Interface endpoints the records of each VPC's zones name (an alias, a CNAME or an address
    # of theirs), by VPC id: where the VPC's traffic may go beyond it.
    reached_endpoints_by_vpc: dict[str, list[str]] = field(default_factory=dict)


# --- Beyond the VPC: transit gateways and peering connections -------------------------------


@dataclass
class TransitGateway:
    transit_gateway_id: str
    owner_id: str
    state: str  # pending | available | modifying | deleting | deleted
    # Options.SecurityGroupReferencingSupport: off unless the gateway says "enable".
    security_group_referencing: bool = False


@dataclass
class TransitGatewayAttachment:
    """One attachment of a transit gateway (a VPC, a VPN, a Direct Connect gateway, a peering
    with another transit gateway, Connect, a network function)."""

    attachment_id: str
    transit_gateway_id: str
    resource_type: str  # vpc | vpn | direct-connect-gateway | peering | connect | ...
    resource_id: str
    state: str  # available | pendingAcceptance | rejected | deleted | ...
    resource_owner_id: str = ""
    transit_gateway_owner_id: str = ""
    # The transit gateway route table the attachment is associated with (None: none).
    route_table_id: str | None = None
    # VPC attachments (DescribeTransitGatewayVpcAttachments): the subnets of its network
    # interfaces, one per Availability Zone, and its options. None when not read.
    subnet_ids: list[str] | None = None
    security_group_referencing: bool = True  # the VPC attachment's default is "enable"
    appliance_mode: bool = False


@dataclass
class TransitGatewayRouteTable:
    """A transit gateway's route table; its routes use ``Route`` (target kind
    ``transit_gateway_attachment``, ``origin`` static or propagated)."""

    route_table_id: str
    transit_gateway_id: str
    state: str = "available"
    routes: list[Route] | None = None  # None when they could not be read


@dataclass
class VpcPeeringConnection:
    peering_id: str
    status: str  # active | pending-acceptance | rejected | expired | deleted | failed | ...
    requester_vpc_id: str
    accepter_vpc_id: str
    requester_owner_id: str = ""
    accepter_owner_id: str = ""
    requester_region: str = ""
    accepter_region: str = ""
    requester_cidrs: list[IPv4Network] = field(default_factory=list)
    accepter_cidrs: list[IPv4Network] = field(default_factory=list)

    def other_side(self, vpc_id: str) -> tuple[str, str, str, list[IPv4Network]]:
        """(VPC, owner, region, CIDRs) of the side that is not ``vpc_id``."""
        if vpc_id == self.requester_vpc_id:
            return (self.accepter_vpc_id, self.accepter_owner_id, self.accepter_region,
                    self.accepter_cidrs)
        return (self.requester_vpc_id, self.requester_owner_id, self.requester_region,
                self.requester_cidrs)


def joined_vpcs(vpc_ids: set[str], attachments: dict[str, TransitGatewayAttachment],
                peerings: dict[str, VpcPeeringConnection]) -> set[str]:
    """``vpc_ids`` and the VPCs one transit gateway or peering connection away from them:
    where their traffic may land."""
    gateways = {a.transit_gateway_id for a in attachments.values()
                if a.resource_type == "vpc" and a.resource_id in vpc_ids}
    joined = set(vpc_ids)
    joined.update(a.resource_id for a in attachments.values()
                  if a.resource_type == "vpc" and a.transit_gateway_id in gateways)
    for peering in peerings.values():
        if peering.requester_vpc_id in vpc_ids or peering.accepter_vpc_id in vpc_ids:
            joined.update((peering.requester_vpc_id, peering.accepter_vpc_id))
    return joined


# --- Instances -------------------------------------------------------------------------------


@dataclass
class MetadataOptions:
    http_endpoint: str = "enabled"
    http_tokens: str = "optional"
    http_put_response_hop_limit: int = 1
    state: str = "applied"


@dataclass
class Instance:
    instance_id: str
    state: str
    subnet_id: str | None
    vpc_id: str | None
    private_ip: str | None
    public_ip: str | None
    group_ids: list[str]
    network_interfaces: list[NetworkInterface]
    platform: str = "linux"  # "linux" | "windows"
    instance_type: str = ""  # e.g. "t3.micro"; "" when not known
    instance_profile_arn: str | None = None
    metadata: MetadataOptions | None = None
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    region: str = ""
    # Why ``state`` is "unknown" (the data holds no state EC2 reports), else "".
    state_problem: str = ""
    account_id: str = ""  # the owner (DescribeInstances' OwnerId), "" when not known

    def primary_interface(self) -> NetworkInterface | None:
        by_index = sorted(self.network_interfaces, key=lambda eni: eni.device_index)
        return by_index[0] if by_index else None


# --- IAM and Systems Manager ---------------------------------------------------------------
# Policy documents stay as the parsed JSON the API returns; the analysis interprets them.


@dataclass
class ManagedPolicy:
    arn: str
    name: str
    document: dict | None  # the default version's document; None when it was not read
    aws_managed: bool = False


@dataclass
class Role:
    name: str
    arn: str
    trust_policy: dict | None
    inline_policies: dict[str, dict] = field(default_factory=dict)
    attached_policy_arns: list[str] = field(default_factory=list)
    permissions_boundary_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class InstanceProfile:
    name: str
    arn: str
    role_names: list[str]


@dataclass
class ServiceSetting:
    """A Systems Manager service setting, e.g. the Default Host Management role."""

    setting_id: str
    value: str | None  # None when the setting holds nothing
    status: str = ""


@dataclass
class ManagedNode:
    """Systems Manager's own view of an instance (DescribeInstanceInformation)."""

    instance_id: str
    ping_status: str  # Online | ConnectionLost | Inactive
    agent_version: str = ""
    is_latest_version: bool | None = None
    last_ping: str = ""
    platform_name: str = ""


# --- The estate ------------------------------------------------------------------------------


@dataclass
class Estate:
    """Everything the auditor knows about one region of one account.

    ``unavailable`` maps a resource kind (see ``sources.api_calls``) to the reason it could not be
    read (AccessDenied, throttling, a file missing from a snapshot). The analysis answers
    ``unknown`` whenever a proof needs a kind listed there, rather than treating it as empty.
    """

    region: str
    account_id: str = ""
    instances: dict[str, Instance] = field(default_factory=dict)
    vpcs: dict[str, Vpc] = field(default_factory=dict)
    dhcp_options: dict[str, DhcpOptions] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    internet_gateways: dict[str, InternetGateway] = field(default_factory=dict)
    nat_gateways: dict[str, NatGateway] = field(default_factory=dict)
    security_groups: dict[str, SecurityGroup] = field(default_factory=dict)
    prefix_lists: dict[str, PrefixList] = field(default_factory=dict)
    network_acls: dict[str, NetworkAcl] = field(default_factory=dict)
    vpc_endpoints: dict[str, VpcEndpoint] = field(default_factory=dict)
    network_interfaces: dict[str, NetworkInterface] = field(default_factory=dict)
    transit_gateways: dict[str, TransitGateway] = field(default_factory=dict)
    transit_gateway_attachments: dict[str, TransitGatewayAttachment] = field(
        default_factory=dict)
    transit_gateway_route_tables: dict[str, TransitGatewayRouteTable] = field(
        default_factory=dict)
    vpc_peering_connections: dict[str, VpcPeeringConnection] = field(default_factory=dict)
    # The accounts whose network this estate holds besides its own (organization mode: the
    # hub account's VPCs and transit gateway route tables), so that a far side is looked up
    # there before it is called unreadable.
    neighbour_accounts: set[str] = field(default_factory=set)
    # The VPCs and gateway route tables taken from another account's answers: id -> account.
    owners: dict[str, str] = field(default_factory=dict)
    # IAM is global to the account; each region's estate holds the same objects.
    instance_profiles: dict[str, InstanceProfile] = field(default_factory=dict)  # by ARN
    roles: dict[str, Role] = field(default_factory=dict)  # by name
    managed_policies: dict[str, ManagedPolicy] = field(default_factory=dict)  # by ARN
    # Service control policies that apply to the account: one list of documents per level of
    # the organization, from the root down to the account (the order iam_policy.evaluate_action
    # takes); [] when none applies (not in an organization, or its management account); None
    # when they could not be read (the reason is in ``unavailable``).
    service_control_policies: list[list[dict]] | None = field(default_factory=list)
    default_host_management: ServiceSetting | None = None
    managed_nodes: dict[str, ManagedNode] = field(default_factory=dict)  # by instance id
    dns: DnsConfig = field(default_factory=DnsConfig)
    unavailable: dict[str, str] = field(default_factory=dict)
    # Resources whose planned configuration (a template value) could not be resolved, with the
    # reason; "*" when the resource a change applies to is itself unknown. An instance that
    # depends on one of them is never proven manageable.
    unresolved: dict[str, str] = field(default_factory=dict)
    # Instances that do not exist yet (a template, a planned launch): Systems Manager cannot
    # know them.
    planned_instances: set[str] = field(default_factory=set)
    # Beyond registration: the Session Manager preferences and what they name, users and groups.
    session: SessionTargets = field(default_factory=lambda: SessionTargets())


# --- Beyond registration: Session Manager preferences, their targets, IAM principals ---------


@dataclass
class SessionPreferences:
    """The region's Session Manager preferences (the ``SSM-SessionManagerRunShell`` document);
    ``exists`` False: no document, AWS's defaults (no encryption, no logging, no Run As)."""

    exists: bool
    kms_key_id: str = ""
    s3_bucket: str = ""
    s3_key_prefix: str = ""
    s3_encryption: bool = False
    log_group: str = ""
    log_group_encryption: bool = False
    log_streaming: bool = False
    run_as_enabled: bool = False
    run_as_default_user: str = ""


@dataclass
class KmsKey:
    """A KMS key the preferences (or a bucket's encryption) name, as DescribeKey tells."""

    reference: str  # as named: key id, key ARN, alias name or alias ARN
    arn: str = ""
    state: str = ""  # Enabled | Disabled | PendingDeletion | ...
    manager: str = ""  # CUSTOMER | AWS
    exists: bool | None = True  # None: unknown (DescribeKey refused: see ``unread``)
    policy: dict | None = None  # the default key policy; None when not read
    grants: list[KmsGrant] | None = None  # None when not read
    unread: str = ""  # why something of the key could not be read


@dataclass(frozen=True)
class KmsGrant:
    grantee: str
    operations: tuple[str, ...]
    constrained: bool = False  # encryption context constraints the auditor does not evaluate


@dataclass
class S3Bucket:
    name: str
    exists: bool | None = True  # None: unknown (refused: see ``unread``)
    unread: str = ""
    region: str | None = None  # None when unknown
    policy: dict | None = None  # None: no bucket policy (or not read: see policy_read)
    policy_read: bool = True
    encryption: str | None = None  # AES256 | aws:kms | aws:kms:dsse | None (none or unknown)
    encryption_read: bool = True
    encryption_key: str = ""  # the KMS key of SSE-KMS default encryption, if named


@dataclass
class LogGroup:
    name: str
    exists: bool | None = True  # None: unknown (refused: see ``unread``)
    unread: str = ""
    arn: str = ""
    kms_key_id: str = ""


@dataclass
class IamUser:
    name: str
    arn: str
    inline_policies: dict[str, dict] = field(default_factory=dict)
    attached_policy_arns: list[str] = field(default_factory=list)
    group_names: list[str] = field(default_factory=list)
    permissions_boundary_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class IamGroup:
    name: str
    arn: str
    inline_policies: dict[str, dict] = field(default_factory=dict)
    attached_policy_arns: list[str] = field(default_factory=list)


@dataclass
class SessionTargets:
    """What the preferences name, read once per region: keys, buckets, log groups (by the
    reference the preferences or a bucket use), and the account's users and groups (for
    ``--operator`` and ``--operators``; None when not read)."""

    preferences: SessionPreferences | None = None  # None: the document could not be read
    keys: dict[str, KmsKey] = field(default_factory=dict)
    buckets: dict[str, S3Bucket] = field(default_factory=dict)
    log_groups: dict[str, LogGroup] = field(default_factory=dict)
    users: dict[str, IamUser] | None = None
    groups: dict[str, IamGroup] | None = None
