"""The one list of what the auditor reads from AWS, and where a snapshot keeps each answer.

Every kind is one read-only API operation. A snapshot file holds that operation's answer in the
AWS CLI's JSON shape (``aws ec2 describe-subnets > describe-subnets.json``); for operations that
take one resource per call, the file holds a JSON list of those per-call answers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiCall:
    kind: str  # the resource kind, used in Estate.unavailable and in messages
    service: str
    operation: str  # PascalCase API name
    result_key: str  # the list inside the answer
    per_resource: bool = False  # one call per resource: the file is a list of answers
    # IAM and Organizations: read once per account, kept in the snapshot's "account" folder
    account_wide: bool = False
    # The AWS CLI's command name when hyphenating the operation does not give it
    # (ListHostedZonesByVPC is list-hosted-zones-by-vpc)
    cli_name: str = ""
    # The file's name without ".json" when two kinds share an operation (else the command's)
    file_stem: str = ""

    @property
    def command(self) -> str:
        return self.cli_name or _dashed(self.operation)

    @property
    def file_name(self) -> str:
        return (self.file_stem or self.command) + ".json"

    @property
    def method(self) -> str:
        return self.command.replace("-", "_")


def _dashed(operation: str) -> str:
    """DescribeVpcs -> describe-vpcs, as the AWS CLI names its commands."""
    words = []
    for char in operation:
        if char.isupper() and words:
            words.append("-")
        words.append(char.lower())
    return "".join(words)


INSTANCES = ApiCall("instances", "ec2", "DescribeInstances", "Reservations")
VPCS = ApiCall("vpcs", "ec2", "DescribeVpcs", "Vpcs")
VPC_ATTRIBUTES = ApiCall("vpc_attributes", "ec2", "DescribeVpcAttribute", "", per_resource=True)
DHCP_OPTIONS = ApiCall("dhcp_options", "ec2", "DescribeDhcpOptions", "DhcpOptions")
SUBNETS = ApiCall("subnets", "ec2", "DescribeSubnets", "Subnets")
ROUTE_TABLES = ApiCall("route_tables", "ec2", "DescribeRouteTables", "RouteTables")
INTERNET_GATEWAYS = ApiCall(
    "internet_gateways", "ec2", "DescribeInternetGateways", "InternetGateways")
NAT_GATEWAYS = ApiCall("nat_gateways", "ec2", "DescribeNatGateways", "NatGateways")
SECURITY_GROUPS = ApiCall("security_groups", "ec2", "DescribeSecurityGroups", "SecurityGroups")
PREFIX_LISTS = ApiCall("prefix_lists", "ec2", "DescribeManagedPrefixLists", "PrefixLists")
PREFIX_LIST_ENTRIES = ApiCall(
    "prefix_list_entries", "ec2", "GetManagedPrefixListEntries", "Entries", per_resource=True)
NETWORK_ACLS = ApiCall("network_acls", "ec2", "DescribeNetworkAcls", "NetworkAcls")
VPC_ENDPOINTS = ApiCall("vpc_endpoints", "ec2", "DescribeVpcEndpoints", "VpcEndpoints")
NETWORK_INTERFACES = ApiCall(
    "network_interfaces", "ec2", "DescribeNetworkInterfaces", "NetworkInterfaces")
# Beyond the VPC, per region: transit gateways (owned, or shared through RAM), their
# attachments (DescribeTransitGatewayAttachments: every kind, with its association and owners;
# DescribeTransitGatewayVpcAttachments: the subnets and options of VPC attachments), route tables
# and routes, and VPC peering connections. A region without transit gateways costs one empty
# page of DescribeTransitGateways and of DescribeVpcPeeringConnections: the other transit
# gateway calls are not made. SearchTransitGatewayRoutes is the only read of a transit gateway
# route table's routes (read-only: in the ReadOnlyAccess policy as ec2:Search*); it is called
# once per route table the account can see (a shared gateway's tables are its owner's).
TRANSIT_GATEWAYS = ApiCall("transit_gateways", "ec2", "DescribeTransitGateways",
                           "TransitGateways")
TRANSIT_GATEWAY_ATTACHMENTS = ApiCall(
    "transit_gateway_attachments", "ec2", "DescribeTransitGatewayAttachments",
    "TransitGatewayAttachments")
TRANSIT_GATEWAY_VPC_ATTACHMENTS = ApiCall(
    "transit_gateway_vpc_attachments", "ec2", "DescribeTransitGatewayVpcAttachments",
    "TransitGatewayVpcAttachments")
TRANSIT_GATEWAY_ROUTE_TABLES = ApiCall(
    "transit_gateway_route_tables", "ec2", "DescribeTransitGatewayRouteTables",
    "TransitGatewayRouteTables")
TRANSIT_GATEWAY_ROUTES = ApiCall("transit_gateway_routes", "ec2", "SearchTransitGatewayRoutes",
                                 "Routes", per_resource=True)
# The routes of every state but deleted (the operation wants a filter).
TRANSIT_GATEWAY_ROUTE_FILTER = {"Name": "state", "Values": ["active", "blackhole"]}
VPC_PEERING_CONNECTIONS = ApiCall("vpc_peering_connections", "ec2",
                                  "DescribeVpcPeeringConnections", "VpcPeeringConnections")
TRANSIT_GATEWAY_CALLS = (TRANSIT_GATEWAYS, TRANSIT_GATEWAY_ATTACHMENTS,
                         TRANSIT_GATEWAY_VPC_ATTACHMENTS, TRANSIT_GATEWAY_ROUTE_TABLES,
                         TRANSIT_GATEWAY_ROUTES)

# IAM is global: one bulk call for roles, instance profiles and the managed policies attached
# to them; GetPolicy and GetPolicyVersion only for an attached AWS managed policy the bulk
# answer lacks (its document is needed, and AWS offers no bulk form).
IAM_AUTHORIZATION = ApiCall("iam_authorization", "iam", "GetAccountAuthorizationDetails",
                            "RoleDetailList", account_wide=True)
IAM_POLICIES = ApiCall("iam_policies", "iam", "GetPolicy", "Policy", per_resource=True,
                       account_wide=True)
IAM_POLICY_VERSIONS = ApiCall("iam_policy_versions", "iam", "GetPolicyVersion", "PolicyVersion",
                              per_resource=True, account_wide=True)
# Organizations, once per account: the service control policies (SCPs) that apply to it.
# DescribeOrganization tells whether the account is in an organization and which account manages
# it (SCPs apply to neither an account outside one nor the management account). Otherwise
# ListParents walks from the account up to the root (one call per level), ListPoliciesForTarget
# lists the SCPs attached to the account and to each parent, and DescribePolicy reads each
# distinct policy once. Bounded by the organization's depth and policy count, never by instances.
# Only the management account or a delegated administrator may call the last three.
ORGANIZATION = ApiCall("organization", "organizations", "DescribeOrganization", "Organization",
                       account_wide=True)
ORGANIZATION_PARENTS = ApiCall("organization_parents", "organizations", "ListParents", "Parents",
                               per_resource=True, account_wide=True)
SCP_ATTACHMENTS = ApiCall("scp_attachments", "organizations", "ListPoliciesForTarget",
                          "Policies", per_resource=True, account_wide=True)
SCP_DOCUMENTS = ApiCall("scp_documents", "organizations", "DescribePolicy", "Policy",
                        per_resource=True, account_wide=True)
SCP_FILTER = "SERVICE_CONTROL_POLICY"
# Systems Manager, per region: the Default Host Management setting and its own view of nodes.
DHMC_SETTING = ApiCall("dhmc_setting", "ssm", "GetServiceSetting", "ServiceSetting")
INSTANCE_INFORMATION = ApiCall("instance_information", "ssm", "DescribeInstanceInformation",
                               "InstanceInformationList")
DHMC_SETTING_ID = "/ssm/managed-instance/default-ec2-instance-management-role"
# DNS as the VPC resolver answers it, per region (auditor/analysis/dns.py). Route 53 private
# hosted zones associated with each VPC in scope (ListHostedZonesByVPC takes one VPC: one call
# per VPC, one empty page for a VPC without zones, as DescribeVpcAttribute), and the record
# sets of the zones that may answer for the agent's names (the services' names or a parent of
# them, and the zones their records lead to); Resolver rules and their associations (one call
# each); DNS Firewall rule groups associated with the VPCs (one call), the rules of those
# groups and the domains of the lists they use (one call per group and per list); Route 53
# Profiles associated with the VPCs (one call) and the resources of those profiles (one per
# profile). A region without any costs one empty page per VPC and four more calls.
HOSTED_ZONES_BY_VPC = ApiCall("hosted_zones_by_vpc", "route53", "ListHostedZonesByVPC",
                              "HostedZoneSummaries", per_resource=True,
                              cli_name="list-hosted-zones-by-vpc")
RECORD_SETS = ApiCall("record_sets", "route53", "ListResourceRecordSets", "ResourceRecordSets",
                      per_resource=True)
RESOLVER_RULES = ApiCall("resolver_rules", "route53resolver", "ListResolverRules",
                         "ResolverRules")
RESOLVER_RULE_ASSOCIATIONS = ApiCall("resolver_rule_associations", "route53resolver",
                                     "ListResolverRuleAssociations", "ResolverRuleAssociations")
FIREWALL_ASSOCIATIONS = ApiCall("firewall_associations", "route53resolver",
                                "ListFirewallRuleGroupAssociations",
                                "FirewallRuleGroupAssociations")
FIREWALL_RULES = ApiCall("firewall_rules", "route53resolver", "ListFirewallRules",
                         "FirewallRules", per_resource=True)
FIREWALL_DOMAIN_LISTS = ApiCall("firewall_domain_lists", "route53resolver",
                                "ListFirewallDomainLists", "FirewallDomainLists")
FIREWALL_DOMAINS = ApiCall("firewall_domains", "route53resolver", "ListFirewallDomains",
                           "Domains", per_resource=True)
PROFILE_ASSOCIATIONS = ApiCall("profile_associations", "route53profiles",
                               "ListProfileAssociations", "ProfileAssociations")
PROFILE_RESOURCES = ApiCall("profile_resources", "route53profiles",
                            "ListProfileResourceAssociations", "ProfileResourceAssociations",
                            per_resource=True)

# Beyond registration (Session Manager and patching): the region's Session Manager preferences
# (the SSM-SessionManagerRunShell document, one call), then one call per KMS key, bucket and log
# group those preferences (or a bucket's default encryption) name, never per instance. Users and
# groups (for --operator and --operators) come with IAM, in one more bulk call per account.
SESSION_DOCUMENT = ApiCall("session_document", "ssm", "GetDocument", "Content")
KMS_KEYS = ApiCall("kms_keys", "kms", "DescribeKey", "KeyMetadata", per_resource=True)
KMS_KEY_POLICIES = ApiCall("kms_key_policies", "kms", "GetKeyPolicy", "Policy",
                           per_resource=True)
KMS_GRANTS = ApiCall("kms_grants", "kms", "ListGrants", "Grants", per_resource=True)
BUCKET_LOCATIONS = ApiCall("bucket_locations", "s3", "GetBucketLocation", "LocationConstraint",
                           per_resource=True)
BUCKET_POLICIES = ApiCall("bucket_policies", "s3", "GetBucketPolicy", "Policy",
                          per_resource=True)
BUCKET_ENCRYPTION = ApiCall("bucket_encryption", "s3", "GetBucketEncryption",
                            "ServerSideEncryptionConfiguration", per_resource=True)
LOG_GROUPS = ApiCall("log_groups", "logs", "DescribeLogGroups", "logGroups", per_resource=True)
IAM_PRINCIPALS = ApiCall("iam_principals", "iam", "GetAccountAuthorizationDetails",
                         "UserDetailList", account_wide=True,
                         file_stem="get-account-authorization-details-users")
IAM_PRINCIPALS_FILTER = ["User", "Group"]
IAM_PRINCIPALS_KEYS = ("UserDetailList", "GroupDetailList")

EC2_CALLS = (
    INSTANCES, VPCS, VPC_ATTRIBUTES, DHCP_OPTIONS, SUBNETS, ROUTE_TABLES, INTERNET_GATEWAYS,
    NAT_GATEWAYS, SECURITY_GROUPS, PREFIX_LISTS, PREFIX_LIST_ENTRIES, NETWORK_ACLS,
    VPC_ENDPOINTS, NETWORK_INTERFACES, *TRANSIT_GATEWAY_CALLS, VPC_PEERING_CONNECTIONS,
)
IAM_CALLS = (IAM_AUTHORIZATION, IAM_POLICIES, IAM_POLICY_VERSIONS)
ORGANIZATION_CALLS = (ORGANIZATION, ORGANIZATION_PARENTS, SCP_ATTACHMENTS, SCP_DOCUMENTS)
SSM_CALLS = (DHMC_SETTING, INSTANCE_INFORMATION)
SESSION_CALLS = (SESSION_DOCUMENT, KMS_KEYS, KMS_KEY_POLICIES, KMS_GRANTS, BUCKET_LOCATIONS,
                 BUCKET_POLICIES, BUCKET_ENCRYPTION, LOG_GROUPS, IAM_PRINCIPALS)
DNS_CALLS = (HOSTED_ZONES_BY_VPC, RECORD_SETS, RESOLVER_RULES, RESOLVER_RULE_ASSOCIATIONS,
             FIREWALL_ASSOCIATIONS, FIREWALL_RULES, FIREWALL_DOMAIN_LISTS, FIREWALL_DOMAINS,
             PROFILE_ASSOCIATIONS, PROFILE_RESOURCES)
ALL_CALLS = EC2_CALLS + IAM_CALLS + ORGANIZATION_CALLS + SSM_CALLS + SESSION_CALLS + DNS_CALLS
BY_KIND = {call.kind: call for call in ALL_CALLS}
BY_FILE = {call.file_name: call for call in ALL_CALLS}

MANIFEST_FILE = "manifest.json"
ACCOUNT_FOLDER = "account"  # where a snapshot keeps the account-wide answers

# --- A whole organization (``--org``) --------------------------------------------------------
# Read once per run with the caller's credentials (the management account or a delegated
# administrator): the ACTIVE accounts, the tree from the root down (one call per OU and kind,
# never per account), the SCPs and where each is attached (one call per policy), and each
# policy's document (SCP_DOCUMENTS above, the same answer). Kept in the snapshot's
# "organization" folder; every account's four Organizations answers above are derived from them.
# Per-resource answers carry the id they were asked for (ParentId, PolicyId).
ORGANIZATION_ACCOUNTS = ApiCall("organization_accounts", "organizations", "ListAccounts",
                                "Accounts")
ORGANIZATION_ROOTS = ApiCall("organization_roots", "organizations", "ListRoots", "Roots")
ORGANIZATION_UNITS = ApiCall("organization_units", "organizations",
                             "ListOrganizationalUnitsForParent", "OrganizationalUnits",
                             per_resource=True)
ORGANIZATION_CHILD_ACCOUNTS = ApiCall("organization_child_accounts", "organizations",
                                      "ListAccountsForParent", "Accounts", per_resource=True)
SCP_LIST = ApiCall("scp_list", "organizations", "ListPolicies", "Policies")
SCP_TARGETS = ApiCall("scp_targets", "organizations", "ListTargetsForPolicy", "Targets",
                      per_resource=True)
ORGANIZATION_WIDE_CALLS = (ORGANIZATION, ORGANIZATION_ACCOUNTS, ORGANIZATION_ROOTS,
                           ORGANIZATION_UNITS, ORGANIZATION_CHILD_ACCOUNTS, SCP_LIST, SCP_TARGETS,
                           SCP_DOCUMENTS)
# Per account, through its role, for ``--regions all``: the regions enabled in the account
# (DescribeRegions without AllRegions lists exactly those).
ENABLED_REGIONS = ApiCall("enabled_regions", "ec2", "DescribeRegions", "Regions")
# What a unit (one account, one region) reads through the member account's role. In ``--org``
# mode a member never calls Organizations: its SCPs come from the organization's answers.
UNIT_CALLS = (*(call for call in ALL_CALLS if call not in ORGANIZATION_CALLS), ENABLED_REGIONS)
# Not reads of anything, and the only such calls the auditor makes: STS GetCallerIdentity (which
# account the caller is in, so that it is audited with the caller's own credentials) and STS
# AssumeRole (the read-only role of each member account).
CALLER_IDENTITY = ApiCall("caller_identity", "sts", "GetCallerIdentity", "Account")
ASSUME_ROLE = ApiCall("assume_role", "sts", "AssumeRole", "Credentials")
STS_CALLS = (CALLER_IDENTITY, ASSUME_ROLE)
# The operation name prefixes of reads: ec2:Search* (SearchTransitGatewayRoutes) is read-only too,
# in AWS's ReadOnlyAccess policy. The read-only tests check every call against these.
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Search")
# Every operation the auditor may call, in any mode (the read-only tests compare with it).
EVERY_CALL = tuple(dict.fromkeys(ALL_CALLS + ORGANIZATION_WIDE_CALLS + (ENABLED_REGIONS,)
                                 + STS_CALLS))
ORGANIZATION_WIDE_BY_KIND = {call.kind: call for call in ORGANIZATION_WIDE_CALLS}
ORGANIZATION_FOLDER = "organization"  # where an organization snapshot keeps the shared answers


def iam_actions(calls: tuple[ApiCall, ...]) -> list[str]:
    """The IAM actions that allow these calls ("ec2:DescribeInstances"), sorted, once each."""
    return sorted({f"{call.service}:{call.operation}" for call in calls})
