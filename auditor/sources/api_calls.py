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

    @property
    def file_name(self) -> str:
        words = []
        for char in self.operation:
            if char.isupper() and words:
                words.append("-")
            words.append(char.lower())
        return "".join(words) + ".json"

    @property
    def method(self) -> str:
        return self.file_name[:-5].replace("-", "_")


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

EC2_CALLS = (
    INSTANCES, VPCS, VPC_ATTRIBUTES, DHCP_OPTIONS, SUBNETS, ROUTE_TABLES, INTERNET_GATEWAYS,
    NAT_GATEWAYS, SECURITY_GROUPS, PREFIX_LISTS, PREFIX_LIST_ENTRIES, NETWORK_ACLS,
    VPC_ENDPOINTS, NETWORK_INTERFACES,
)
ALL_CALLS = EC2_CALLS
BY_KIND = {call.kind: call for call in ALL_CALLS}
BY_FILE = {call.file_name: call for call in ALL_CALLS}

MANIFEST_FILE = "manifest.json"
