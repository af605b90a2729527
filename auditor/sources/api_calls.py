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
    # The file's name without ".json" when two kinds share an operation (else the operation's)
    file_stem: str = ""

    @property
    def file_name(self) -> str:
        return (self.file_stem or _dashed(self.operation)) + ".json"

    @property
    def method(self) -> str:
        return _dashed(self.operation).replace("-", "_")


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
ALL_CALLS = EC2_CALLS + IAM_CALLS + ORGANIZATION_CALLS + SSM_CALLS + SESSION_CALLS
BY_KIND = {call.kind: call for call in ALL_CALLS}
BY_FILE = {call.file_name: call for call in ALL_CALLS}

MANIFEST_FILE = "manifest.json"
ACCOUNT_FOLDER = "account"  # where a snapshot keeps the account-wide answers
