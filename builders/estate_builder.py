"""Build estates as raw API answers (the AWS CLI's JSON shape) without AWS.

Used by the demo estate generator, the benchmark and the unit tests: what it writes is exactly
what ``python -m auditor snapshot`` captures, so the auditor reads it through its real path.
Ids are deterministic: the same calls give the same estate. IAM and Systems Manager never draw
from the counter of EC2 ids, so adding roles or managed nodes leaves the EC2 answers unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from auditor import aws_managed_policies
from auditor.capability_facts import SESSION_DOCUMENT
from auditor.sources import api_calls
from auditor.sources.raw import RawRegion

EC2_TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
SSM_TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
# AWS's own SCP (id p-FullAWSAccess), attached to every root, OU and account by default.
FULL_AWS_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
FULL_AWS_ACCESS_ID = "p-FullAWSAccess"
MANAGEMENT_ACCOUNT = "999988887777"  # the organization's management account, for members
DENIED = "AccessDeniedException: You don't have permissions to access this resource."
IAM_DATE = "2026-01-05T10:00:00+00:00"  # creation date of every IAM resource the builder makes
LAST_PING = "2026-11-26T08:59:30+00:00"  # an Online node's last ping
LOST_PING = "2026-11-19T17:42:08+00:00"  # when a ConnectionLost node last answered
LATEST_AGENT = "3.3.1142.0"

# What AWS's com.amazonaws.REGION.s3 prefix list holds (a few of eu-west-1's ranges).
S3_CIDRS = ("3.5.64.0/21", "3.5.72.0/23", "52.92.0.0/17", "52.218.0.0/17")

ALLOW_ALL_NACL = (
    (100, True, "allow", "-1", "0.0.0.0/0", None),
    (100, False, "allow", "-1", "0.0.0.0/0", None),
)


@lru_cache(maxsize=4096)
def _network(cidr: str) -> IPv4Network | IPv6Network:
    return ip_network(cidr)


def domain_list_entry(list_id: str, name: str, region: str, account_id: str,
                      managed_owner: str | None = None) -> dict[str, Any]:
    """A DNS Firewall domain list as ListFirewallDomainLists gives it (an AWS managed one, whose
    domains AWS does not show, when ``managed_owner``)."""
    entry = {"Id": list_id, "Name": name,
             "Arn": f"arn:aws:route53resolver:{region}:{account_id}:firewall-domain-list/"
                    f"{list_id}"}
    if managed_owner:
        entry["ManagedOwnerName"] = managed_owner
    return entry


class EstateBuilder:
    def __init__(self, region: str = "eu-west-1", account_id: str = "111122223333",
                 first_id: int = 0) -> None:
        """``first_id``: where EC2 ids start (another region of the same account must not
        reuse the ids of the first)."""
        self.region = region
        self.account_id = account_id
        self._counter = first_id
        self.vpcs: list[dict] = []
        self.vpc_attributes: list[dict] = []
        self.dhcp_options: list[dict] = []
        self.subnets: list[dict] = []
        self.route_tables: list[dict] = []
        self.internet_gateways: list[dict] = []
        self.nat_gateways: list[dict] = []
        self.security_groups: list[dict] = []
        self.prefix_lists: list[dict] = []
        self.prefix_list_entries: list[dict] = []
        self.network_acls: list[dict] = []
        self.vpc_endpoints: list[dict] = []
        self.network_interfaces: list[dict] = []
        self.transit_gateways: list[dict] = []
        self.transit_gateway_attachments: list[dict] = []  # DescribeTransitGatewayAttachments
        self.transit_gateway_vpc_attachments: list[dict] = []
        self.transit_gateway_route_tables: list[dict] = []
        self.transit_gateway_routes: dict[str, list[dict]] = {}  # by route table id
        self.vpc_peering_connections: list[dict] = []
        self.reservations: list[dict] = []
        # IAM (account-wide) and Systems Manager
        self.roles: dict[str, dict] = {}  # by name: RoleDetailList entries, profiles added later
        self.instance_profiles: dict[str, list[str]] = {}  # profile name -> role names
        self.managed_policies: dict[str, dict] = {}  # by ARN: ManagedPolicyDetail entries
        self.dhmc_value: str | None = None
        self.managed_nodes: list[dict] = []
        # Route 53 (DNS): never drawn from the counter of EC2 ids either
        self.hosted_zones: list[dict] = []  # {"summary", "vpcs", "records"}
        self.resolver_rules: list[dict] = []
        self.resolver_rule_associations: list[dict] = []
        self.firewall_associations: list[dict] = []
        self.firewall_rules: dict[str, list[dict]] = {}  # by rule group id
        self.firewall_domain_lists: list[dict] = []
        self.firewall_domains: dict[str, list[str]] = {}  # by (customer) domain list id
        self.profile_associations: list[dict] = []
        self.profile_resources: dict[str, list[dict]] = {}  # by profile id
        self._dns_counter = 0
        # Organizations: not in an organization unless service_control_policies() says so.
        self.in_organization: bool | None = False
        self.scp_levels: list[list[dict]] | None = []
        # Session Manager preferences (None: no document) and what they may name.
        self.preferences: dict[str, Any] | None = None
        self.kms_keys: dict[str, dict] = {}
        self.buckets: dict[str, dict] = {}
        self.log_groups: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self._subnet_hosts: dict[str, int] = {}
        # Indexes for the lookups by id, so that large estates (the benchmark) build quickly.
        # A lookup checks the entry it finds and scans the public list when the id is not
        # indexed, so resources appended to the lists directly are still found.
        self._subnet_index: dict[str, dict] = {}
        self._vpc_index: dict[str, dict] = {}
        self._route_table_index: dict[str, dict] = {}
        self._default_nacl_index: dict[str, dict] = {}
        self._instance_index: dict[str, dict] = {}

    def another_region(self, region: str, first_id: int = 0x1000) -> EstateBuilder:
        """A builder for another region of the same account: IAM, Organizations and S3's
        global bucket namespace are shared (one set of account-wide answers), EC2 ids start at
        ``first_id`` (apart from this region's), Systems Manager's setting is copied; Session
        Manager preferences, keys and log groups are the region's own."""
        other = EstateBuilder(region, self.account_id)
        other._counter = first_id
        other.roles, other.instance_profiles = self.roles, self.instance_profiles
        other.managed_policies = self.managed_policies
        other.users, other.groups, other.buckets = self.users, self.groups, self.buckets
        other.in_organization, other.scp_levels = self.in_organization, self.scp_levels
        other.dhmc_value = self.dhmc_value
        return other

    def _id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter:017x}"

    @staticmethod
    def _indexed(index: dict[str, dict], key: str, items: list[dict], field: str,
                 match: Callable[[dict], bool] | None = None) -> dict:
        """The first item of ``items`` whose ``field`` is ``key`` (and that ``match``es)."""
        item = index.get(key)
        if item is not None and item.get(field) == key and (match is None or match(item)):
            return item
        item = next(i for i in items if i[field] == key and (match is None or match(i)))
        index[key] = item
        return item

    def _subnet(self, subnet_id: str) -> dict:
        return self._indexed(self._subnet_index, subnet_id, self.subnets, "SubnetId")

    def _next_ip(self, subnet_id: str) -> str:
        subnet = self._subnet(subnet_id)
        network = _network(subnet["CidrBlock"])
        used = self._subnet_hosts.get(subnet_id, 9)
        self._subnet_hosts[subnet_id] = used + 1
        return str(network.network_address + used + 1)

    def _vpc_of(self, subnet_id: str) -> str:
        return self._subnet(subnet_id)["VpcId"]

    # --- network --------------------------------------------------------------------------

    def _region_dhcp_options(self) -> str:
        """The region's default DHCP option set (AmazonProvidedDNS), which CreateVpc associates.

        Its id does not draw from the counter of EC2 ids, so the other ids do not move."""
        digest = hashlib.sha256(f"{self.account_id}/{self.region}/dopt".encode()).hexdigest()
        options_id = f"dopt-{digest[:17]}"
        if not any(o["DhcpOptionsId"] == options_id for o in self.dhcp_options):
            self.dhcp_options.append({"DhcpOptionsId": options_id, "OwnerId": self.account_id,
                                      "DhcpConfigurations": [
                                          {"Key": "domain-name-servers",
                                           "Values": [{"Value": "AmazonProvidedDNS"}]}]})
        return options_id

    def vpc(self, cidr: str = "10.0.0.0/16", *, dns_support: bool = True,
            dns_hostnames: bool = True, dns_servers: Sequence[str] | None = None,
            no_dhcp_options: bool = False,
            default_nacl: Iterable[tuple] = ALLOW_ALL_NACL) -> str:
        """A VPC with the region's default DHCP option set, or one handing out ``dns_servers``,
        or none at all (``no_dhcp_options``: DhcpOptionsId "default")."""
        vpc_id = self._id("vpc")
        options_id = "default" if no_dhcp_options else self._region_dhcp_options()
        if dns_servers is not None:
            options_id = self._id("dopt")
            self.dhcp_options.append({"DhcpOptionsId": options_id, "DhcpConfigurations": [
                {"Key": "domain-name-servers", "Values": [{"Value": s} for s in dns_servers]}]})
        self.vpcs.append({"VpcId": vpc_id, "CidrBlock": cidr, "DhcpOptionsId": options_id,
                          "State": "available", "OwnerId": self.account_id,
                          "CidrBlockAssociationSet": [{"CidrBlock": cidr, "CidrBlockState":
                                                       {"State": "associated"}}]})
        self._vpc_index[vpc_id] = self.vpcs[-1]
        self.vpc_attributes.append({"VpcId": vpc_id, "EnableDnsSupport": {"Value": dns_support}})
        self.vpc_attributes.append({"VpcId": vpc_id,
                                    "EnableDnsHostnames": {"Value": dns_hostnames}})
        self.route_tables.append({"RouteTableId": self._id("rtb"), "VpcId": vpc_id,
                                  "Associations": [{"Main": True, "AssociationState":
                                                    {"State": "associated"}}],
                                  "Routes": [self._local_route(cidr)]})
        self.network_acl(vpc_id, [], default_nacl, is_default=True)
        return vpc_id

    @staticmethod
    def _local_route(cidr: str) -> dict:
        return {"DestinationCidrBlock": cidr, "GatewayId": "local", "State": "active",
                "Origin": "CreateRouteTable"}

    def main_route_table(self, vpc_id: str) -> str:
        return next(t["RouteTableId"] for t in self.route_tables
                    if t["VpcId"] == vpc_id and any(a.get("Main") for a in t["Associations"]))

    def subnet(self, vpc_id: str, cidr: str, az: str = "a", *, public_ip_on_launch: bool = False
               ) -> str:
        subnet_id = self._id("subnet")
        self.subnets.append({"SubnetId": subnet_id, "VpcId": vpc_id, "CidrBlock": cidr,
                             "AvailabilityZone": f"{self.region}{az}", "State": "available",
                             "MapPublicIpOnLaunch": public_ip_on_launch})
        self._subnet_index[subnet_id] = self.subnets[-1]
        nacl = self.default_nacl(vpc_id)
        nacl["Associations"].append({"NetworkAclId": nacl["NetworkAclId"], "SubnetId": subnet_id})
        return subnet_id

    def route_table(self, vpc_id: str, subnets: Sequence[str] = (),
                    routes: Sequence[tuple[str, str]] = (), *, main: bool = False,
                    gateways: Sequence[str] = ()) -> str:
        """``routes``: (destination CIDR or pl- id, target id or "blackhole:<id>").
        ``gateways``: edge associations (the table routes what these gateways let in)."""
        vpc = self._indexed(self._vpc_index, vpc_id, self.vpcs, "VpcId")
        table_id = self._id("rtb")
        associations = [{"SubnetId": s, "Main": False, "AssociationState": {"State":
                                                                             "associated"}}
                        for s in subnets]
        associations += [{"GatewayId": g, "Main": False,
                          "AssociationState": {"State": "associated"}} for g in gateways]
        table = {"RouteTableId": table_id, "VpcId": vpc_id, "Associations": associations,
                 "Routes": [self._local_route(vpc["CidrBlock"])]}
        if main:
            for other in self.route_tables:
                if other["VpcId"] == vpc_id:
                    other["Associations"] = [a for a in other["Associations"] if not a["Main"]]
            associations.append({"Main": True, "AssociationState": {"State": "associated"}})
        self.route_tables.append(table)
        self._route_table_index[table_id] = table
        for destination, target in routes:
            self.add_route(table_id, destination, target)
        return table_id

    def add_route(self, table_id: str, destination: str, target: str) -> None:
        table = self._indexed(self._route_table_index, table_id, self.route_tables,
                              "RouteTableId")
        state = "active"
        if target.startswith("blackhole:"):
            state, target = "blackhole", target.split(":", 1)[1]
        field = {"igw-": "GatewayId", "vgw-": "GatewayId", "vpce-": "GatewayId",
                 "nat-": "NatGatewayId", "tgw-": "TransitGatewayId",
                 "pcx-": "VpcPeeringConnectionId", "eni-": "NetworkInterfaceId",
                 "i-": "InstanceId"}[next(p for p in ("igw-", "vgw-", "vpce-", "nat-", "tgw-",
                                                       "pcx-", "eni-", "i-")
                                          if target.startswith(p))]
        route = {field: target, "State": state, "Origin": "CreateRoute"}
        if destination.startswith("pl-"):
            route["DestinationPrefixListId"] = destination
        else:
            route["DestinationCidrBlock"] = destination
        table["Routes"].append(route)

    def internet_gateway(self, vpc_id: str | None) -> str:
        igw_id = self._id("igw")
        attachments = [{"VpcId": vpc_id, "State": "available"}] if vpc_id else []
        self.internet_gateways.append({"InternetGatewayId": igw_id, "Attachments": attachments,
                                       "OwnerId": self.account_id})
        return igw_id

    def nat_gateway(self, subnet_id: str, *, state: str = "available",
                    connectivity: str = "public") -> str:
        nat_id = self._id("nat")
        address = {"PrivateIp": self._next_ip(subnet_id),
                   "NetworkInterfaceId": self._id("eni")}
        if connectivity == "public":
            address["PublicIp"] = f"203.0.113.{len(self.nat_gateways) % 250 + 1}"
        self.nat_gateways.append({"NatGatewayId": nat_id, "SubnetId": subnet_id,
                                  "VpcId": self._vpc_of(subnet_id), "State": state,
                                  "ConnectivityType": connectivity,
                                  "NatGatewayAddresses": [address]})
        return nat_id

    def security_group(self, vpc_id: str, name: str = "", *,
                       egress: Sequence[tuple] | None = None,
                       ingress: Sequence[tuple] = ()) -> str:
        """Rules are (protocol, from, to, peer): peer a CIDR, sg- id or pl- id.

        ``egress=None`` keeps the default allow-all egress rule.
        """
        group_id = self._id("sg")
        if egress is None:
            egress = [("-1", None, None, "0.0.0.0/0")]
        self.security_groups.append({
            "GroupId": group_id, "GroupName": name or group_id, "VpcId": vpc_id,
            "OwnerId": self.account_id, "Description": name or "test group",
            "IpPermissions": [self._permission(rule) for rule in ingress],
            "IpPermissionsEgress": [self._permission(rule) for rule in egress],
        })
        return group_id

    @staticmethod
    def _permission(rule: tuple) -> dict:
        protocol, from_port, to_port, peer = rule
        permission: dict[str, Any] = {"IpProtocol": protocol, "IpRanges": [],
                                      "UserIdGroupPairs": [], "PrefixListIds": [],
                                      "Ipv6Ranges": []}
        if protocol != "-1":
            permission["FromPort"], permission["ToPort"] = from_port, to_port
        if peer.startswith("sg-"):
            permission["UserIdGroupPairs"].append({"GroupId": peer})
        elif peer.startswith("pl-"):
            permission["PrefixListIds"].append({"PrefixListId": peer})
        elif ":" in peer:
            permission["Ipv6Ranges"].append({"CidrIpv6": peer})
        else:
            permission["IpRanges"].append({"CidrIp": peer})
        return permission

    def prefix_list(self, name: str, cidrs: Sequence[str] | None, owner: str = "") -> str:
        """``cidrs=None`` records a list whose entries were not captured."""
        list_id = self._id("pl")
        self.prefix_lists.append({"PrefixListId": list_id, "PrefixListName": name,
                                  "OwnerId": owner or self.account_id, "AddressFamily": "IPv4",
                                  "State": "create-complete"})
        if cidrs is not None:
            self.prefix_list_entries.append({"PrefixListId": list_id,
                                             "Entries": [{"Cidr": c} for c in cidrs]})
        return list_id

    def egress_rule(self, group_id: str, rule: tuple) -> None:
        """One more egress rule (protocol, from, to, peer) on an existing group."""
        group = next(g for g in self.security_groups if g["GroupId"] == group_id)
        group["IpPermissionsEgress"].append(self._permission(rule))

    def default_nacl(self, vpc_id: str) -> dict:
        return self._indexed(self._default_nacl_index, vpc_id, self.network_acls, "VpcId",
                             lambda nacl: nacl["IsDefault"])

    def network_acl(self, vpc_id: str, subnets: Sequence[str], entries: Iterable[tuple], *,
                    is_default: bool = False) -> str:
        """Entries are (rule number, egress, action, protocol, CIDR, (from, to) or None)."""
        nacl_id = self._id("acl")
        leaving = set(subnets)  # a subnet leaves its previous ACL
        if leaving:
            for other in self.network_acls:
                if any(a["SubnetId"] in leaving for a in other["Associations"]):
                    other["Associations"] = [a for a in other["Associations"]
                                             if a["SubnetId"] not in leaving]
        raw_entries = []
        for number, egress, action, protocol, cidr, ports in [*entries,
                                                              (32767, True, "deny", "-1",
                                                               "0.0.0.0/0", None),
                                                              (32767, False, "deny", "-1",
                                                               "0.0.0.0/0", None)]:
            entry = {"RuleNumber": number, "Egress": egress, "RuleAction": action,
                     "Protocol": protocol, "CidrBlock": cidr}
            if ports:
                entry["PortRange"] = {"From": ports[0], "To": ports[1]}
            raw_entries.append(entry)
        self.network_acls.append({"NetworkAclId": nacl_id, "VpcId": vpc_id,
                                  "IsDefault": is_default, "Entries": raw_entries,
                                  "Associations": [{"NetworkAclId": nacl_id, "SubnetId": s}
                                                   for s in subnets]})
        return nacl_id

    def interface_endpoint(self, vpc_id: str, service: str, subnets: Sequence[str],
                           groups: Sequence[str], *, private_dns: bool = True,
                           state: str = "available", service_name: str | None = None,
                           policy: str | None = None) -> str:
        endpoint_id = self._id("vpce")
        eni_ids = []
        for subnet_id in subnets:
            eni_id = self._id("eni")
            eni_ids.append(eni_id)
            self.network_interfaces.append({
                "NetworkInterfaceId": eni_id, "SubnetId": subnet_id, "VpcId": vpc_id,
                "PrivateIpAddress": self._next_ip(subnet_id), "InterfaceType": "vpc_endpoint",
                "Groups": [{"GroupId": g} for g in groups], "Status": "in-use"})
        service_name = service_name or f"com.amazonaws.{self.region}.{service}"
        endpoint = {
            "VpcEndpointId": endpoint_id, "VpcEndpointType": "Interface", "VpcId": vpc_id,
            "ServiceName": service_name,
            "DnsEntries": self._endpoint_dns_entries(endpoint_id, service, subnets,
                                                     private_dns),
            "State": state, "PrivateDnsEnabled": private_dns, "SubnetIds": list(subnets),
            "Groups": [{"GroupId": g, "GroupName": g} for g in groups],
            "NetworkInterfaceIds": eni_ids, "OwnerId": self.account_id,
            "PolicyDocument": policy or json.dumps({"Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}),
        }
        self.vpc_endpoints.append(endpoint)
        return endpoint_id

    def _endpoint_dns_entries(self, endpoint_id: str, service: str, subnets: Sequence[str],
                              private_dns: bool) -> list[dict]:
        """The DNS names AWS gives an interface endpoint: regional, one per zone, and the
        service's own name when private DNS is on."""
        suffix = hashlib.sha256(endpoint_id.encode()).hexdigest()[:8]
        base = f"{endpoint_id}-{suffix}"
        domain = f"{service}.{self.region}.vpce.amazonaws.com"
        zone_id = "Z" + hashlib.sha256(f"{self.region}/vpce".encode()).hexdigest()[:12].upper()
        entries = [{"DnsName": f"{base}.{domain}", "HostedZoneId": zone_id}]
        zones = sorted({self._subnet(subnet)["AvailabilityZone"] for subnet in subnets})
        entries += [{"DnsName": f"{base}-{zone}.{domain}", "HostedZoneId": zone_id}
                    for zone in zones]
        if private_dns:
            entries.append({"DnsName": f"{service}.{self.region}.amazonaws.com",
                            "HostedZoneId": "ZPRIVATEDNS" + endpoint_id[-6:].upper()})
        return entries

    def endpoint_dns_name(self, endpoint_id: str, zone: str | None = None) -> str:
        """An interface endpoint's regional DNS name, or its zonal one in ``zone`` ("a")."""
        endpoint = next(e for e in self.vpc_endpoints if e["VpcEndpointId"] == endpoint_id)
        names = [entry["DnsName"] for entry in endpoint["DnsEntries"]
                 if ".vpce." in entry["DnsName"]]
        if zone is None:
            return names[0]
        return next(name for name in names if f"-{self.region}{zone}." in name)

    def gateway_endpoint(self, vpc_id: str, service: str, route_tables: Sequence[str],
                         prefix_list_id: str, *, policy: Mapping[str, Any] | None = None,
                         state: str = "available") -> str:
        endpoint_id = self._id("vpce")
        self.vpc_endpoints.append({
            "VpcEndpointId": endpoint_id, "VpcEndpointType": "Gateway", "VpcId": vpc_id,
            "ServiceName": f"com.amazonaws.{self.region}.{service}", "State": state,
            "PrivateDnsEnabled": False, "RouteTableIds": list(route_tables), "SubnetIds": [],
            "Groups": [], "NetworkInterfaceIds": [],
            "PolicyDocument": json.dumps(policy or {"Version": "2008-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})})
        for table_id in route_tables:
            self.add_route(table_id, prefix_list_id, endpoint_id)
        return endpoint_id

    # --- DNS: Route 53 private hosted zones, Resolver rules, DNS Firewall, Profiles ----------

    def _dns_id(self, prefix: str, length: int = 17) -> str:
        self._dns_counter += 1
        digest = hashlib.sha256(f"{self.account_id}/{self.region}/{prefix}/"
                                f"{self._dns_counter}".encode()).hexdigest()
        return prefix + digest[:length]

    def private_hosted_zone(self, name: str, vpc_ids: Sequence[str], *,
                            owner: str | None = None) -> str:
        """A private hosted zone associated with ``vpc_ids`` (owned by ``owner``, this account
        by default), with its SOA and NS records; returns its id."""
        zone_id = "Z" + self._dns_id("", 13).upper()
        apex = name.rstrip(".") + "."
        self.hosted_zones.append({
            "summary": {"HostedZoneId": zone_id, "Name": apex,
                        "Owner": {"OwningAccount": owner or self.account_id}},
            "vpcs": list(vpc_ids),
            "records": [
                {"Name": apex, "Type": "SOA", "TTL": 900, "ResourceRecords": [
                    {"Value": "ns-0.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 "
                              "1209600 86400"}]},
                {"Name": apex, "Type": "NS", "TTL": 172800, "ResourceRecords": [
                    {"Value": "ns-0.awsdns-00.com."}]}],
        })
        return zone_id

    def _zone(self, zone_id: str) -> dict:
        return next(z for z in self.hosted_zones if z["summary"]["HostedZoneId"] == zone_id)

    def associate_zone(self, zone_id: str, vpc_id: str) -> None:
        self._zone(zone_id)["vpcs"].append(vpc_id)

    def record(self, zone_id: str, name: str, record_type: str = "A",
               values: Sequence[str] = (), *, alias: str | None = None,
               set_identifier: str | None = None) -> None:
        """A record set: ``values`` (addresses, a CNAME's target) or an ``alias`` DNS name."""
        record: dict[str, Any] = {"Name": name.rstrip(".") + ".", "Type": record_type}
        if alias is not None:
            record["AliasTarget"] = {"HostedZoneId": "ZALIAS", "DNSName": alias.rstrip(".") + ".",
                                     "EvaluateTargetHealth": False}
        else:
            record["TTL"] = 300
            record["ResourceRecords"] = [{"Value": value} for value in values]
        if set_identifier is not None:
            record["SetIdentifier"] = set_identifier
            record["Weight"] = 1
        self._zone(zone_id)["records"].append(record)

    def resolver_rule(self, domain: str, vpc_ids: Sequence[str] = (), *,
                      rule_type: str = "FORWARD",
                      targets: Sequence[str] = ("10.200.0.2",)) -> str:
        """A Resolver rule associated with ``vpc_ids``; returns its id."""
        rule_id = self._dns_id("rslvr-rr-")
        self.resolver_rules.append({
            "Id": rule_id, "DomainName": domain.rstrip(".") + ".", "RuleType": rule_type,
            "Status": "COMPLETE", "Name": f"rule-{domain}", "OwnerId": self.account_id,
            "ShareStatus": "NOT_SHARED",
            "TargetIps": [{"Ip": ip, "Port": 53} for ip in targets] if rule_type == "FORWARD"
            else []})
        for vpc_id in vpc_ids:
            self.associate_resolver_rule(rule_id, vpc_id)
        return rule_id

    def associate_resolver_rule(self, rule_id: str, vpc_id: str) -> None:
        self.resolver_rule_associations.append({
            "Id": self._dns_id("rslvr-rrassoc-"), "ResolverRuleId": rule_id, "VPCId": vpc_id,
            "Status": "COMPLETE", "Name": ""})

    def firewall_domain_list(self, domains: Sequence[str] | None, *,
                             managed_owner: str | None = None) -> str:
        """A DNS Firewall domain list (an AWS managed one when ``managed_owner``)."""
        list_id = self._dns_id("rslvr-fdl-")
        self.firewall_domain_lists.append(domain_list_entry(
            list_id, f"list-{list_id[-6:]}", self.region, self.account_id, managed_owner))
        if domains is not None and not managed_owner:
            self.firewall_domains[list_id] = list(domains)
        return list_id

    def firewall_rule_group(self, vpc_ids: Sequence[str], rules: Sequence[dict], *,
                            priority: int = 101) -> str:
        """A DNS Firewall rule group with ``rules`` (FirewallRule entries: Priority, Action,
        FirewallDomainListId, BlockResponse...), associated with ``vpc_ids``."""
        group_id = self._dns_id("rslvr-frg-")
        self.firewall_rules[group_id] = [{"FirewallRuleGroupId": group_id, "Name": f"rule-{n}",
                                          **rule} for n, rule in enumerate(rules)]
        for vpc_id in vpc_ids:
            self.firewall_associations.append({
                "Id": self._dns_id("rslvr-frgassoc-"), "FirewallRuleGroupId": group_id,
                "VpcId": vpc_id, "Priority": priority, "Status": "COMPLETE",
                "MutationProtection": "DISABLED", "Name": ""})
        return group_id

    def route53_profile(self, vpc_ids: Sequence[str], resource_arns: Sequence[str],
                        properties: Mapping[str, str] | None = None) -> str:
        """A Route 53 Profile holding ``resource_arns``, associated with ``vpc_ids``."""
        profile_id = self._dns_id("rp-")
        for vpc_id in vpc_ids:
            self.profile_associations.append({
                "Id": self._dns_id("rpassoc-"), "ProfileId": profile_id,
                "ResourceId": vpc_id, "Status": "COMPLETE", "OwnerId": self.account_id,
                "Name": ""})
        self.profile_resources[profile_id] = [{
            "Id": self._dns_id("rpr-"), "ProfileId": profile_id, "ResourceArn": arn,
            "ResourceProperties": (properties or {}).get(arn, ""), "Status": "COMPLETE",
            "OwnerId": self.account_id, "Name": arn.rsplit("/", 1)[-1],
            "ResourceType": arn.split(":", 5)[-1].split("/", 1)[0]} for arn in resource_arns]
        return profile_id

    def _dns_answers(self) -> dict[str, Any]:
        zones_by_vpc: dict[str, list[dict]] = {vpc["VpcId"]: [] for vpc in self.vpcs}
        for zone in self.hosted_zones:
            for vpc_id in zone["vpcs"]:
                zones_by_vpc.setdefault(vpc_id, []).append(zone["summary"])
        lists_used = {rule.get("FirewallDomainListId") for rules in self.firewall_rules.values()
                      for rule in rules}
        return {
            "hosted_zones_by_vpc": [{"VPCId": vpc_id, "VPCRegion": self.region,
                                     "HostedZoneSummaries": summaries}
                                    for vpc_id, summaries in zones_by_vpc.items()],
            "record_sets": [{"HostedZoneId": zone["summary"]["HostedZoneId"],
                             "ResourceRecordSets": zone["records"]}
                            for zone in self.hosted_zones
                            if zone["summary"]["Owner"].get("OwningAccount") == self.account_id],
            "resolver_rules": {"ResolverRules": self.resolver_rules},
            "resolver_rule_associations": {
                "ResolverRuleAssociations": self.resolver_rule_associations},
            "firewall_associations": {"FirewallRuleGroupAssociations": self.firewall_associations},
            "firewall_rules": [{"FirewallRuleGroupId": group_id, "FirewallRules": rules}
                               for group_id, rules in self.firewall_rules.items()],
            "firewall_domain_lists": {"FirewallDomainLists": [
                entry for entry in self.firewall_domain_lists if entry["Id"] in lists_used]},
            "firewall_domains": [{"FirewallDomainListId": list_id, "Domains": domains}
                                 for list_id, domains in self.firewall_domains.items()
                                 if list_id in lists_used],
            "profile_associations": {"ProfileAssociations": self.profile_associations},
            "profile_resources": [{"ProfileId": profile_id,
                                   "ProfileResourceAssociations": resources}
                                  for profile_id, resources in self.profile_resources.items()],
        }

    # --- beyond the VPC: transit gateways and peering connections -------------------------

    def transit_gateway(self, *, sg_referencing: bool = False, owner: str | None = None,
                        state: str = "available", transit_gateway_id: str | None = None) -> str:
        """A transit gateway this account sees: its own, or one ``owner`` shares with it
        through RAM (pass the owner's ``transit_gateway_id``)."""
        tgw_id = transit_gateway_id or self._id("tgw")
        self.transit_gateways.append({
            "TransitGatewayId": tgw_id, "State": state, "OwnerId": owner or self.account_id,
            "TransitGatewayArn": f"arn:aws:ec2:{self.region}:{owner or self.account_id}:"
                                 f"transit-gateway/{tgw_id}",
            "Options": {"AmazonSideAsn": 64512, "DefaultRouteTableAssociation": "disable",
                        "DefaultRouteTablePropagation": "disable", "DnsSupport": "enable",
                        "SecurityGroupReferencingSupport":
                            "enable" if sg_referencing else "disable"}})
        return tgw_id

    def tgw_route_table(self, tgw_id: str) -> str:
        table_id = self._id("tgw-rtb")
        self.transit_gateway_route_tables.append({
            "TransitGatewayRouteTableId": table_id, "TransitGatewayId": tgw_id,
            "State": "available", "DefaultAssociationRouteTable": False,
            "DefaultPropagationRouteTable": False})
        self.transit_gateway_routes[table_id] = []
        return table_id

    def tgw_attachment(self, tgw_id: str, vpc_id: str, subnets: Sequence[str], *,
                       route_table: str | None = None, propagate_to: Sequence[str] = (),
                       sg_referencing: bool = True, state: str = "available",
                       resource_owner: str | None = None, cidrs: Sequence[str] | None = None,
                       tgw_owner: str | None = None, attachment_id: str | None = None) -> str:
        """A VPC attachment: its subnets (one per Availability Zone), the route table it is
        associated with, and the tables its VPC's CIDRs propagate to (as propagated routes).
        A VPC of another account: ``resource_owner`` and its ``cidrs``."""
        attachment_id = attachment_id or self._id("tgw-attach")
        owner = resource_owner or self.account_id
        attachment = {
            "TransitGatewayAttachmentId": attachment_id, "TransitGatewayId": tgw_id,
            "TransitGatewayOwnerId": tgw_owner or self._tgw_owner(tgw_id),
            "ResourceOwnerId": owner, "ResourceType": "vpc", "ResourceId": vpc_id,
            "State": state}
        if route_table:
            attachment["Association"] = {"TransitGatewayRouteTableId": route_table,
                                         "State": "associated"}
        self.transit_gateway_attachments.append(attachment)
        self.transit_gateway_vpc_attachments.append({
            "TransitGatewayAttachmentId": attachment_id, "TransitGatewayId": tgw_id,
            "VpcId": vpc_id, "VpcOwnerId": owner, "State": state, "SubnetIds": list(subnets),
            "Options": {"DnsSupport": "enable", "Ipv6Support": "disable",
                        "ApplianceModeSupport": "disable",
                        "SecurityGroupReferencingSupport":
                            "enable" if sg_referencing else "disable"}})
        if propagate_to:
            blocks = list(cidrs) if cidrs is not None else [
                self._indexed(self._vpc_index, vpc_id, self.vpcs, "VpcId")["CidrBlock"]]
            for table_id in propagate_to:
                for cidr in blocks:
                    self.transit_gateway_routes[table_id].append(
                        self._tgw_route(cidr, attachment_id, vpc_id, "propagated"))
        return attachment_id

    def _tgw_owner(self, tgw_id: str) -> str:
        return next((t["OwnerId"] for t in self.transit_gateways
                     if t["TransitGatewayId"] == tgw_id), self.account_id)

    @staticmethod
    def _tgw_route(destination: str, attachment_id: str | None, resource_id: str,
                   kind: str) -> dict:
        route: dict[str, Any] = {"Type": kind, "State": "active"}
        if destination.startswith("pl-"):
            route["PrefixListId"] = destination
        else:
            route["DestinationCidrBlock"] = destination
        if attachment_id is None:
            route["State"] = "blackhole"
        else:
            route["TransitGatewayAttachments"] = [
                {"ResourceId": resource_id, "TransitGatewayAttachmentId": attachment_id,
                 "ResourceType": "vpc"}]
        return route

    def tgw_route(self, table_id: str, destination: str, attachment_id: str | None) -> None:
        """A static route; ``attachment_id`` None makes it a blackhole route."""
        resource = next((a["ResourceId"] for a in self.transit_gateway_attachments
                         if a["TransitGatewayAttachmentId"] == attachment_id), "")
        self.transit_gateway_routes[table_id].append(
            self._tgw_route(destination, attachment_id, resource, "static"))

    def vpc_peering(self, requester_vpc: str, accepter_vpc: str, *, status: str = "active",
                    accepter_owner: str | None = None, accepter_cidr: str | None = None,
                    accepter_region: str | None = None) -> str:
        """A peering connection; a peer VPC of another account (or region): its owner and
        CIDR."""
        peering_id = self._id("pcx")

        def side(vpc_id: str, owner: str | None, cidr: str | None, region: str | None) -> dict:
            block = cidr or self._indexed(self._vpc_index, vpc_id, self.vpcs,
                                          "VpcId")["CidrBlock"]
            return {"VpcId": vpc_id, "OwnerId": owner or self.account_id, "CidrBlock": block,
                    "CidrBlockSet": [{"CidrBlock": block}], "Region": region or self.region}

        self.vpc_peering_connections.append({
            "VpcPeeringConnectionId": peering_id,
            "RequesterVpcInfo": side(requester_vpc, None, None, None),
            "AccepterVpcInfo": side(accepter_vpc, accepter_owner, accepter_cidr,
                                    accepter_region),
            "Status": {"Code": status, "Message": status}})
        return peering_id

    # --- instances ------------------------------------------------------------------------

    def instance(self, subnet_id: str, groups: Sequence[str], *, name: str = "",
                 public_ip: str | None = None, state: str = "running",
                 platform: str | None = None, http_endpoint: str = "enabled",
                 http_tokens: str = "required", instance_profile: str | None = None,
                 private_ip: str | None = None, tags: Mapping[str, str] | None = None,
                 instance_type: str = "t3.micro") -> str:
        instance_id = self._id("i")
        private_ip = private_ip or self._next_ip(subnet_id)
        vpc_id = self._vpc_of(subnet_id)
        eni: dict[str, Any] = {
            "NetworkInterfaceId": self._id("eni"), "SubnetId": subnet_id, "VpcId": vpc_id,
            "PrivateIpAddress": private_ip, "Groups": [{"GroupId": g} for g in groups],
            "Attachment": {"DeviceIndex": 0, "Status": "attached"}, "InterfaceType": "interface"}
        raw: dict[str, Any] = {
            "InstanceId": instance_id, "InstanceType": instance_type, "ImageId": "ami-0abc",
            "State": {"Code": 16 if state == "running" else 80, "Name": state},
            "SubnetId": subnet_id, "VpcId": vpc_id, "PrivateIpAddress": private_ip,
            "SecurityGroups": [{"GroupId": g, "GroupName": g} for g in groups],
            "NetworkInterfaces": [eni],
            "MetadataOptions": {"State": "applied", "HttpTokens": http_tokens,
                                "HttpPutResponseHopLimit": 2, "HttpEndpoint": http_endpoint},
            "Placement": {"AvailabilityZone": self._subnet(subnet_id)["AvailabilityZone"]},
            "PlatformDetails": "Windows" if platform == "windows" else "Linux/UNIX",
            "Tags": ([{"Key": "Name", "Value": name}] if name else [])
                    + [{"Key": key, "Value": value} for key, value in (tags or {}).items()],
        }
        if platform == "windows":
            raw["Platform"] = "windows"
        if public_ip:
            raw["PublicIpAddress"] = public_ip
            eni["Association"] = {"PublicIp": public_ip, "IpOwnerId": "amazon"}
        if instance_profile:
            raw["IamInstanceProfile"] = {
                "Arn": f"arn:aws:iam::{self.account_id}:instance-profile/{instance_profile}",
                "Id": "AIPA" + instance_id[2:18].upper()}
        self.reservations.append({"ReservationId": self._id("r"), "OwnerId": self.account_id,
                                  "Instances": [raw]})
        self._instance_index[instance_id] = raw
        return instance_id

    # --- IAM ------------------------------------------------------------------------------

    def _iam_id(self, prefix: str, name: str) -> str:
        digest = hashlib.sha256(f"{self.account_id}/{prefix}/{name}".encode()).hexdigest()
        return prefix + digest[:17].upper()

    def managed_policy(self, name: str, document: Mapping[str, Any], *,
                       aws_managed: bool = False) -> str:
        """A managed policy (its default version v1 holds ``document``); returns its ARN.

        An AWS managed policy is listed as ``GetAccountAuthorizationDetails`` lists those that
        are attached in the account.
        """
        arn = (aws_managed_policies.arn(name) if aws_managed
               else f"arn:aws:iam::{self.account_id}:policy/{name}")
        self.managed_policies[arn] = {
            "PolicyName": name, "PolicyId": self._iam_id("ANPA", arn), "Arn": arn, "Path": "/",
            "DefaultVersionId": "v1", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True, "CreateDate": IAM_DATE, "UpdateDate": IAM_DATE,
            "PolicyVersionList": [{"Document": json.loads(json.dumps(document)),
                                   "VersionId": "v1", "IsDefaultVersion": True,
                                   "CreateDate": IAM_DATE}],
        }
        return arn

    def _policy_arn(self, reference: str) -> str:
        """An ARN, the name of a policy made here, or the name of a known AWS managed policy."""
        if reference.startswith("arn:"):
            return reference
        for arn, policy in self.managed_policies.items():
            if policy["PolicyName"] == reference:
                return arn
        if reference in aws_managed_policies.AWS_MANAGED_POLICIES:
            return self.managed_policy(
                reference, aws_managed_policies.AWS_MANAGED_POLICIES[reference], aws_managed=True)
        raise KeyError(f"no managed policy named {reference}: make it with managed_policy()")

    def role(self, name: str, *, trust: Mapping[str, Any] | None = None,
             inline: Mapping[str, Mapping[str, Any]] | None = None,
             attached: Sequence[str] = (), boundary: str | None = None,
             tags: Mapping[str, str] | None = None, path: str = "/") -> str:
        """A role; returns its ARN.

        ``trust`` defaults to a policy trusting ec2.amazonaws.com. ``attached`` and ``boundary``
        name managed policies by ARN, by the name given to ``managed_policy()``, or by the name
        of an AWS managed policy of ``auditor.aws_managed_policies`` (added when first used).
        """
        arn = f"arn:aws:iam::{self.account_id}:role{path}{name}"
        attached_arns = [self._policy_arn(reference) for reference in attached]
        for policy_arn in attached_arns:
            self.managed_policies[policy_arn]["AttachmentCount"] += 1
        raw: dict[str, Any] = {
            "Path": path, "RoleName": name, "RoleId": self._iam_id("AROA", name), "Arn": arn,
            "CreateDate": IAM_DATE,
            "AssumeRolePolicyDocument": json.loads(json.dumps(
                EC2_TRUST_POLICY if trust is None else trust)),
            "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": policy_name,
                                "PolicyDocument": json.loads(json.dumps(document))}
                               for policy_name, document in (inline or {}).items()],
            "AttachedManagedPolicies": [
                {"PolicyName": self.managed_policies[policy_arn]["PolicyName"],
                 "PolicyArn": policy_arn} for policy_arn in attached_arns],
            "Tags": [{"Key": key, "Value": value} for key, value in (tags or {}).items()],
            "RoleLastUsed": {},
        }
        if boundary:
            boundary_arn = self._policy_arn(boundary)
            self.managed_policies[boundary_arn]["PermissionsBoundaryUsageCount"] += 1
            raw["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                          "PermissionsBoundaryArn": boundary_arn}
        self.roles[name] = raw
        return arn

    def instance_profile(self, name: str, role_names: Sequence[str] = ()) -> str:
        """An instance profile holding ``role_names`` (AWS allows one); returns its ARN.

        The ARN is the one ``instance(..., instance_profile=name)`` writes. A profile without a
        role appears nowhere in ``GetAccountAuthorizationDetails``, as in AWS.
        """
        self.instance_profiles[name] = list(role_names)
        return self._profile_arn(name)

    def _profile_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:instance-profile/{name}"

    def _role_details(self) -> list[dict]:
        """RoleDetailList: each role with the instance profiles that hold it."""
        details = []
        for name, raw in self.roles.items():
            role = dict(raw)
            role["InstanceProfileList"] = [
                {"Path": "/", "InstanceProfileName": profile,
                 "InstanceProfileId": self._iam_id("AIPA", profile),
                 "Arn": self._profile_arn(profile), "CreateDate": IAM_DATE,
                 "Roles": [self._profile_role(held) for held in holds if held in self.roles]}
                for profile, holds in self.instance_profiles.items() if name in holds]
            details.append(role)
        return details

    def _profile_role(self, name: str) -> dict:
        raw = self.roles[name]
        return {key: raw[key] for key in ("Path", "RoleName", "RoleId", "Arn", "CreateDate",
                                          "AssumeRolePolicyDocument")}

    # --- Session Manager preferences, what they name, users and groups ----------------------

    def s3_prefix_list(self, cidrs: Sequence[str] = S3_CIDRS) -> str:
        """The region's AWS-managed S3 prefix list (com.amazonaws.REGION.s3), as AWS lists it
        in every account; its id does not draw from the counter of EC2 ids."""
        list_id = "pl-" + hashlib.sha256(f"{self.region}/s3".encode()).hexdigest()[:8]
        self.prefix_lists.append({"PrefixListId": list_id,
                                  "PrefixListName": f"com.amazonaws.{self.region}.s3",
                                  "OwnerId": "AWS", "AddressFamily": "IPv4",
                                  "State": "create-complete", "MaxEntries": len(cidrs)})
        self.prefix_list_entries.append({"PrefixListId": list_id,
                                         "Entries": [{"Cidr": c} for c in cidrs]})
        return list_id

    def session_preferences(self, **inputs: Any) -> None:
        """The SSM-SessionManagerRunShell document with these inputs (kmsKeyId, s3BucketName,
        ...); never called: no document (AWS's defaults)."""
        self.preferences = {"schemaVersion": "1.0",
                            "description": "Document to hold regional settings for Session "
                                           "Manager",
                            "sessionType": "Standard_Stream", "inputs": dict(inputs)}

    def kms_key(self, name: str, *, policy: Mapping[str, Any] | None = None,
                state: str = "Enabled", manager: str = "CUSTOMER",
                grants: Sequence[tuple[str, Sequence[str]]] = (), exists: bool = True) -> str:
        """A key, known by ``name`` (what the preferences say: "alias/x", a key id or ARN);
        ``policy`` defaults to AWS's default key policy (the account decides through IAM).
        ``grants``: (grantee principal ARN, operations). Returns the key's ARN."""
        key_id = hashlib.sha256(f"{self.account_id}/kms/{name}".encode()).hexdigest()
        key_id = f"{key_id[:8]}-{key_id[8:12]}-{key_id[12:16]}-{key_id[16:20]}-{key_id[20:32]}"
        arn = f"arn:aws:kms:{self.region}:{self.account_id}:key/{key_id}"
        self.kms_keys[name] = {
            "exists": exists,
            "KeyMetadata": {"AWSAccountId": self.account_id, "KeyId": key_id, "Arn": arn,
                            "CreationDate": IAM_DATE, "Enabled": state == "Enabled",
                            "Description": name, "KeyUsage": "ENCRYPT_DECRYPT",
                            "KeyState": state, "Origin": "AWS_KMS", "KeyManager": manager,
                            "KeySpec": "SYMMETRIC_DEFAULT", "MultiRegion": False},
            "Policy": json.dumps(policy if policy is not None else self.default_key_policy()),
            "Grants": [{"KeyId": arn, "GrantId": hashlib.sha256(
                f"{name}/{grantee}".encode()).hexdigest()[:64], "Name": "",
                "CreationDate": IAM_DATE, "GranteePrincipal": grantee,
                "IssuingAccount": f"arn:aws:iam::{self.account_id}:root",
                "Operations": list(operations)} for grantee, operations in grants]}
        return arn

    def default_key_policy(self) -> dict:
        return {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{self.account_id}:root"},
             "Action": "kms:*", "Resource": "*"}]}

    def bucket(self, name: str, *, policy: Mapping[str, Any] | None = None,
               encryption: str | None = "AES256", kms_key: str | None = None,
               region: str | None = None, exists: bool = True) -> str:
        """A bucket (default encryption SSE-S3, as every bucket since 2023); ``kms_key`` with
        ``encryption="aws:kms"``: its key. Returns its ARN."""
        self.buckets[name] = {"exists": exists, "policy": policy, "encryption": encryption,
                              "kms_key": kms_key, "region": region or self.region}
        return f"arn:aws:s3:::{name}"

    def log_group(self, name: str, *, kms_key: str | None = None, exists: bool = True) -> str:
        arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}"
        self.log_groups[name] = {"exists": exists, "logGroupName": name,
                                 "creationTime": 1767607200000, "metricFilterCount": 0,
                                 "arn": f"{arn}:*", "logGroupArn": arn, "storedBytes": 0,
                                 **({"kmsKeyId": kms_key} if kms_key else {})}
        return arn

    def user(self, name: str, *, inline: Mapping[str, Mapping[str, Any]] | None = None,
             attached: Sequence[str] = (), groups: Sequence[str] = (),
             boundary: str | None = None, tags: Mapping[str, str] | None = None) -> str:
        arn = f"arn:aws:iam::{self.account_id}:user/{name}"
        raw: dict[str, Any] = {
            "Path": "/", "UserName": name, "UserId": self._iam_id("AIDA", name), "Arn": arn,
            "CreateDate": IAM_DATE, "GroupList": list(groups),
            "UserPolicyList": [{"PolicyName": policy_name,
                                "PolicyDocument": json.loads(json.dumps(document))}
                               for policy_name, document in (inline or {}).items()],
            "AttachedManagedPolicies": self._attachments(attached),
            "Tags": [{"Key": key, "Value": value} for key, value in (tags or {}).items()]}
        if boundary:
            raw["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                          "PermissionsBoundaryArn": self._policy_arn(boundary)}
        self.users[name] = raw
        return arn

    def group(self, name: str, *, inline: Mapping[str, Mapping[str, Any]] | None = None,
              attached: Sequence[str] = ()) -> str:
        arn = f"arn:aws:iam::{self.account_id}:group/{name}"
        self.groups[name] = {
            "Path": "/", "GroupName": name, "GroupId": self._iam_id("AGPA", name), "Arn": arn,
            "CreateDate": IAM_DATE,
            "GroupPolicyList": [{"PolicyName": policy_name,
                                 "PolicyDocument": json.loads(json.dumps(document))}
                                for policy_name, document in (inline or {}).items()],
            "AttachedManagedPolicies": self._attachments(attached)}
        return arn

    def _attachments(self, references: Sequence[str]) -> list[dict]:
        attached = []
        for reference in references:
            arn = self._policy_arn(reference)
            self.managed_policies[arn]["AttachmentCount"] += 1
            attached.append({"PolicyName": self.managed_policies[arn]["PolicyName"],
                             "PolicyArn": arn})
        return attached

    def _session_answers(self) -> dict[str, Any]:
        """What live collection reads for the preferences: their document, then each key,
        bucket and log group they name (and the keys of those buckets' encryption)."""
        if self.preferences is None:
            document: dict[str, Any] = {"Name": SESSION_DOCUMENT, "Content": None}
            inputs: dict[str, Any] = {}
        else:
            document = {"Name": SESSION_DOCUMENT, "CreatedDate": IAM_DATE,
                        "DocumentVersion": "1", "Status": "Active",
                        "Content": json.dumps(self.preferences, indent=4),
                        "DocumentType": "Session", "DocumentFormat": "JSON"}
            inputs = self.preferences["inputs"]
        buckets = [inputs["s3BucketName"]] if inputs.get("s3BucketName") else []
        groups = [inputs["cloudWatchLogGroupName"]] if inputs.get("cloudWatchLogGroupName") \
            else []
        keys = [inputs["kmsKeyId"]] if inputs.get("kmsKeyId") else []
        locations, policies, encryption = [], [], []
        for name in buckets:
            bucket = self.buckets.get(name) or {"exists": False}
            if not bucket["exists"]:
                locations.append({"Bucket": name, "Exists": False})
                policies.append({"Bucket": name, "Policy": None})
                encryption.append({"Bucket": name, "ServerSideEncryptionConfiguration": None})
                continue
            region = bucket["region"]
            locations.append({"Bucket": name,
                              "LocationConstraint": None if region == "us-east-1" else region})
            policies.append({"Bucket": name, "Policy": json.dumps(bucket["policy"])
                             if bucket["policy"] is not None else None})
            default: dict[str, Any] = {"SSEAlgorithm": bucket["encryption"]}
            if bucket["kms_key"]:
                default["KMSMasterKeyID"] = bucket["kms_key"]
                keys += [bucket["kms_key"]] if bucket["kms_key"] not in keys else []
            encryption.append({"Bucket": name, "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": default,
                           "BucketKeyEnabled": False}]} if bucket["encryption"] else None})
        described, key_policies, grants = [], [], []
        for reference in keys:
            key = self.kms_keys.get(reference) or {"exists": False}
            if not key["exists"]:
                described.append({"KeyId": reference, "KeyMetadata": None})
                continue
            arn = key["KeyMetadata"]["Arn"]
            described.append({"KeyId": reference, "KeyMetadata": key["KeyMetadata"]})
            key_policies.append({"KeyId": arn, "Policy": key["Policy"],
                                 "PolicyName": "default"})
            grants.append({"KeyId": arn, "Grants": key["Grants"]})
        log_groups = []
        for name in groups:
            group = self.log_groups.get(name) or {"exists": False}
            found = {k: v for k, v in group.items() if k != "exists"}
            log_groups.append({"logGroupNamePrefix": name,
                               "logGroups": [found] if group["exists"] else []})
        return {
            api_calls.SESSION_DOCUMENT.kind: document,
            api_calls.KMS_KEYS.kind: described,
            api_calls.KMS_KEY_POLICIES.kind: key_policies,
            api_calls.KMS_GRANTS.kind: grants,
            api_calls.BUCKET_LOCATIONS.kind: locations,
            api_calls.BUCKET_POLICIES.kind: policies,
            api_calls.BUCKET_ENCRYPTION.kind: encryption,
            api_calls.LOG_GROUPS.kind: log_groups,
            api_calls.IAM_PRINCIPALS.kind: {"UserDetailList": list(self.users.values()),
                                            "GroupDetailList": list(self.groups.values())},
        }

    # --- Organizations --------------------------------------------------------------------

    def service_control_policies(self, levels: list[list[dict]] | None,
                                 in_organization: bool | None = True) -> None:
        """The service control policies that apply to the account, as Organizations answers.

        ``levels``: one list of SCP documents per level, the root first and the account last
        (OUs between, the order ``Estate.service_control_policies`` holds); ``[]``: the
        account is the organization's management account (no SCP applies); ``None``: a member
        account that may not read them (ListParents answers AccessDenied).
        ``in_organization=False``: not in an organization (``levels`` must be empty or None:
        what a new builder says); ``None``: DescribeOrganization itself was refused, so it is
        not even known. A document equal to ``FULL_AWS_ACCESS`` gets AWS's id p-FullAWSAccess.
        """
        if not in_organization and levels:
            raise ValueError("SCP levels need an organization")
        if levels is not None and len(levels) == 1:
            raise ValueError("SCP levels run from the root to the account: at least two")
        self.in_organization = in_organization
        self.scp_levels = None if levels is None else [list(level) for level in levels]

    def _org_id(self, prefix: str, name: str, length: int) -> str:
        digest = hashlib.sha256(f"{self.account_id}/{prefix}/{name}".encode()).hexdigest()
        return prefix + digest[:length]

    def _scp_summary(self, document: dict, organization_id: str, management: str) -> dict:
        if document == FULL_AWS_ACCESS:
            return {"Id": FULL_AWS_ACCESS_ID, "Name": "FullAWSAccess", "AwsManaged": True,
                    "Arn": "arn:aws:organizations::aws:policy/service_control_policy/"
                           f"{FULL_AWS_ACCESS_ID}",
                    "Description": "Allows access to every operation",
                    "Type": api_calls.SCP_FILTER}
        policy_id = self._org_id("p-", json.dumps(document, sort_keys=True), 8)
        return {"Id": policy_id, "Name": f"scp-{policy_id[2:]}", "AwsManaged": False,
                "Arn": f"arn:aws:organizations::{management}:policy/{organization_id}/"
                       f"service_control_policy/{policy_id}",
                "Description": "", "Type": api_calls.SCP_FILTER}

    def _organization_answers(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(answers, errors) of the Organizations kinds, as ``live.collect`` records them."""
        kinds = [call.kind for call in api_calls.ORGANIZATION_CALLS]
        if self.in_organization is None:
            reason = f"not read: {kinds[0]} could not be read"
            return {}, {kinds[0]: DENIED, **{kind: reason for kind in kinds[1:]}}
        if not self.in_organization:
            return {kinds[0]: {"Organization": None}, **{kind: [] for kind in kinds[1:]}}, {}
        management = MANAGEMENT_ACCOUNT if self.scp_levels != [] else self.account_id
        organization_id = self._org_id("o-", "organization", 10)
        organization = {"Organization": {
            "Id": organization_id,
            "Arn": f"arn:aws:organizations::{management}:organization/{organization_id}",
            "FeatureSet": "ALL",
            "MasterAccountArn": f"arn:aws:organizations::{management}:account/"
                                f"{organization_id}/{management}",
            "MasterAccountId": management, "MasterAccountEmail": "management@example.com",
            "AvailablePolicyTypes": [{"Type": api_calls.SCP_FILTER, "Status": "ENABLED"}]}}
        if self.scp_levels is None:
            reason = f"not read: {kinds[1]} could not be read"
            return ({kinds[0]: organization},
                    {kinds[1]: DENIED, **{kind: reason for kind in kinds[2:]}})
        if not self.scp_levels:  # the management account: nothing more is read
            return {kinds[0]: organization, **{kind: [] for kind in kinds[1:]}}, {}
        root = self._org_id("r-", "root", 4)
        targets = [root, *(self._org_id(f"ou-{root[2:]}-", f"ou{depth}", 8)
                           for depth in range(1, len(self.scp_levels) - 1)), self.account_id]
        walk = list(reversed(range(len(targets))))  # from the account up to the root
        parents = [{"ChildId": targets[index], "Parents": [
            {"Id": targets[index - 1], "Type": "ROOT" if index == 1 else "ORGANIZATIONAL_UNIT"}]}
            for index in walk[:-1]]
        attachments = [{"TargetId": targets[index], "Policies": [
            self._scp_summary(document, organization_id, management)
            for document in self.scp_levels[index]]} for index in walk]
        documents: dict[str, dict] = {}
        for answer, index in zip(attachments, walk, strict=True):
            for summary, document in zip(answer["Policies"], self.scp_levels[index],
                                         strict=True):
                documents.setdefault(summary["Id"], {"Policy": {
                    "PolicySummary": summary, "Content": json.dumps(document)}})
        return {kinds[0]: organization, kinds[1]: parents, kinds[2]: attachments,
                kinds[3]: list(documents.values())}, {}

    # --- Systems Manager ------------------------------------------------------------------

    def dhmc_setting(self, value: str | None) -> None:
        """The Default Host Management role (e.g. "service-role/Name"), or None: not set."""
        self.dhmc_value = value

    def _dhmc_answer(self) -> dict:
        if self.dhmc_value is None:
            return {"ServiceSetting": None}  # the representation of "not set"
        return {"ServiceSetting": {
            "SettingId": api_calls.DHMC_SETTING_ID, "SettingValue": self.dhmc_value,
            "LastModifiedDate": IAM_DATE,
            "LastModifiedUser": f"arn:aws:iam::{self.account_id}:role/Admin",
            "ARN": f"arn:aws:ssm:{self.region}:{self.account_id}:servicesetting"
                   f"{api_calls.DHMC_SETTING_ID}",
            "Status": "Customized"}}

    def managed_node(self, instance_id: str, ping_status: str = "Online",
                     agent_version: str = LATEST_AGENT, is_latest: bool = True, *,
                     last_ping: str | None = None) -> None:
        """Systems Manager's record of an instance (DescribeInstanceInformation)."""
        instance = self._instance_index.get(instance_id) or next(
            (i for r in self.reservations for i in r["Instances"]
             if i["InstanceId"] == instance_id), None)
        windows = bool(instance and instance.get("Platform") == "windows")
        node: dict[str, Any] = {
            "InstanceId": instance_id, "PingStatus": ping_status,
            "LastPingDateTime": last_ping or (LAST_PING if ping_status == "Online"
                                              else LOST_PING),
            "AgentVersion": agent_version, "IsLatestVersion": is_latest,
            "PlatformType": "Windows" if windows else "Linux",
            "PlatformName": ("Microsoft Windows Server 2022 Datacenter" if windows
                             else "Amazon Linux"),
            "PlatformVersion": "10.0.20348" if windows else "2023",
            "ResourceType": "EC2Instance", "AssociationStatus": "Success",
        }
        if instance:
            node["IPAddress"] = instance["PrivateIpAddress"]
            node["ComputerName"] = f"ip-{instance['PrivateIpAddress'].replace('.', '-')}"
        self.managed_nodes.append(node)

    # --- output ---------------------------------------------------------------------------

    def raw(self) -> RawRegion:
        answers = {
            "instances": {"Reservations": self.reservations},
            "vpcs": {"Vpcs": self.vpcs},
            "vpc_attributes": self.vpc_attributes,
            "dhcp_options": {"DhcpOptions": self.dhcp_options},
            "subnets": {"Subnets": self.subnets},
            "route_tables": {"RouteTables": self.route_tables},
            "internet_gateways": {"InternetGateways": self.internet_gateways},
            "nat_gateways": {"NatGateways": self.nat_gateways},
            "security_groups": {"SecurityGroups": self.security_groups},
            "prefix_lists": {"PrefixLists": self.prefix_lists},
            "prefix_list_entries": self.prefix_list_entries,
            "network_acls": {"NetworkAcls": self.network_acls},
            "vpc_endpoints": {"VpcEndpoints": self.vpc_endpoints},
            "network_interfaces": {"NetworkInterfaces": self.network_interfaces},
            "transit_gateways": {"TransitGateways": self.transit_gateways},
            "transit_gateway_attachments": {
                "TransitGatewayAttachments": self.transit_gateway_attachments},
            "transit_gateway_vpc_attachments": {
                "TransitGatewayVpcAttachments": self.transit_gateway_vpc_attachments},
            "transit_gateway_route_tables": {
                "TransitGatewayRouteTables": self.transit_gateway_route_tables},
            "transit_gateway_routes": [{"TransitGatewayRouteTableId": table_id, "Routes": routes}
                                       for table_id, routes
                                       in self.transit_gateway_routes.items()],
            "vpc_peering_connections": {"VpcPeeringConnections": self.vpc_peering_connections},
            # Every managed policy is listed in the bulk answer: GetPolicy is never needed.
            "iam_authorization": {"RoleDetailList": self._role_details(),
                                  "Policies": list(self.managed_policies.values())},
            "iam_policies": [],
            "iam_policy_versions": [],
            "dhmc_setting": self._dhmc_answer(),
            "instance_information": {"InstanceInformationList": self.managed_nodes},
        }
        organization, errors = self._organization_answers()
        answers.update(organization)
        answers.update(self._session_answers())
        answers.update(self._dns_answers())
        assert set(answers) | set(errors) == set(api_calls.BY_KIND), \
            "builder out of step with api_calls"
        return RawRegion(self.region, self.account_id, answers, errors)

    def write(self, directory: str | Path, captured_at: str | None = None) -> Path:
        return write_regions(directory, [self], captured_at)


def write_regions(directory: str | Path, builders: Sequence[EstateBuilder],
                  captured_at: str | None = None) -> Path:
    """One snapshot of several regions (builders of one account, see ``another_region``)."""
    from auditor.sources.snapshot import write_snapshot

    write_snapshot(directory, [builder.raw() for builder in builders], captured_at)
    return Path(directory)
