"""EC2 networking resources of a template as raw DescribeX answers (the AWS CLI's shape).

CloudFormation's defaults are the ones AWS applies: a new VPC has DNS support but not DNS
hostnames, a main route table with the local route only and a default network ACL that allows
everything; a subnet does not map public IPs; a new security group without
``SecurityGroupEgress`` allows all egress; an interface endpoint made by CloudFormation has
private DNS off unless ``PrivateDnsEnabled`` says otherwise.
"""

from __future__ import annotations

import json
import re
from ipaddress import ip_network
from typing import Any

from auditor.sources.parse import PLANNED_PUBLIC_IP
from auditor.sources.template import iam, schema, session
from auditor.sources.template.context import Reader, Translation

ALL_TRAFFIC_ENTRIES = (
    {"RuleNumber": 100, "Egress": True, "RuleAction": "allow", "Protocol": "-1",
     "CidrBlock": "0.0.0.0/0"},
    {"RuleNumber": 100, "Egress": False, "RuleAction": "allow", "Protocol": "-1",
     "CidrBlock": "0.0.0.0/0"},
)
DENY_ALL_ENTRIES = (
    {"RuleNumber": 32767, "Egress": True, "RuleAction": "deny", "Protocol": "-1",
     "CidrBlock": "0.0.0.0/0"},
    {"RuleNumber": 32767, "Egress": False, "RuleAction": "deny", "Protocol": "-1",
     "CidrBlock": "0.0.0.0/0"},
)
# A new VPC gets its region's default DHCP option set, which hands out the Amazon DNS server
# (not "default", which means no option set at all); its real id is not known before launch.
REGION_DEFAULT_DHCP_OPTIONS = {"DhcpOptionsId": "dopt-RegionDefault", "DhcpConfigurations": [
    {"Key": "domain-name-servers", "Values": [{"Value": "AmazonProvidedDNS"}]}]}
ALLOW_ALL_EGRESS = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    "Ipv6Ranges": [], "UserIdGroupPairs": [], "PrefixListIds": []}


def main_route_table_id(vpc_id: str) -> str:
    return f"rtb-{vpc_id[4:]}-main"


def default_nacl_id(vpc_id: str) -> str:
    return f"acl-{vpc_id[4:]}-default"


def default_sg_id(vpc_id: str) -> str:
    return f"sg-{vpc_id[4:]}-default"


def checked_cidr(value: Any, what: str) -> str:
    """An IPv4 or IPv6 CIDR block (address/prefix) as text; ValueError naming ``what``
    otherwise (a bare address or a number is no CIDR block for EC2)."""
    try:
        if not (isinstance(value, str) and "/" in value):
            raise ValueError
        ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a CIDR block"[:300]) from None
    return value


def _local_routes(cidrs: list[str]) -> list[dict]:
    return [{"DestinationCidrBlock": cidr, "GatewayId": "local", "State": "active",
             "Origin": "CreateRouteTable"} for cidr in cidrs]


def _existing(t: Translation, reader: Reader, kind: str, what: str, value: Any
              ) -> dict | None:
    """The entry a property names; the resource marked when it is not known."""
    if value is None:
        return None
    entry = t.get(kind, value)
    if entry is None:
        reader.fail(f"{reader.logical_id}.{what} {value} {t.why_missing(kind, value)}")
    return entry


# --- VPCs ----------------------------------------------------------------------------------


def vpc(t: Translation, reader: Reader) -> None:
    vpc_id = reader.resource_id
    cidr = reader.value("CidrBlock", required=True)
    if cidr is None:
        return
    cidr = checked_cidr(cidr, "CidrBlock")
    options_id = REGION_DEFAULT_DHCP_OPTIONS["DhcpOptionsId"]
    if t.get("dhcp_options", options_id) is None:
        t.add("dhcp_options", json.loads(json.dumps(REGION_DEFAULT_DHCP_OPTIONS)), options_id)
    t.add("vpcs", {"VpcId": vpc_id, "CidrBlock": cidr, "DhcpOptionsId": options_id,
                   "State": "available", "OwnerId": t.account_id, "IsDefault": False,
                   "CidrBlockAssociationSet": [{"CidrBlock": cidr,
                                                "CidrBlockState": {"State": "associated"}}]},
          vpc_id)
    dns_support = reader.value("EnableDnsSupport", True)
    dns_hostnames = reader.value("EnableDnsHostnames", False)
    for name, value in (("EnableDnsSupport", dns_support), ("EnableDnsHostnames", dns_hostnames)):
        if value is not None:
            t.vpc_attributes.append({"VpcId": vpc_id, name: {"Value": as_bool(value)}})
    table_id = main_route_table_id(vpc_id)
    t.add("route_tables", {"RouteTableId": table_id, "VpcId": vpc_id,
                           "Associations": [{"Main": True,
                                             "AssociationState": {"State": "associated"}}],
                           "Routes": _local_routes([cidr])}, table_id)
    nacl_id = default_nacl_id(vpc_id)
    t.add("network_acls", {"NetworkAclId": nacl_id, "VpcId": vpc_id, "IsDefault": True,
                           "Entries": [*ALL_TRAFFIC_ENTRIES, *DENY_ALL_ENTRIES],
                           "Associations": []}, nacl_id)
    group_id = default_sg_id(vpc_id)
    t.add("security_groups", {"GroupId": group_id, "GroupName": "default", "VpcId": vpc_id,
                              "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [],
                                                 "UserIdGroupPairs": [{"GroupId": group_id}],
                                                 "PrefixListIds": [], "Ipv6Ranges": []}],
                              "IpPermissionsEgress": [ALLOW_ALL_EGRESS]}, group_id)


def vpc_cidr_block(t: Translation, reader: Reader) -> None:
    vpc_id = reader.value("VpcId", required=True)
    reader.also_marks(vpc_id)
    cidr = reader.value("CidrBlock")
    if vpc_id is None or cidr is None:
        return  # an IPv6 block or an IPAM pool changes nothing the IPv4 proof reads
    entry = t.mutable("vpcs", vpc_id)
    if entry is None:
        _existing(t, reader, "vpcs", "VpcId", vpc_id)
        return
    entry.setdefault("CidrBlockAssociationSet", []).append(
        {"CidrBlock": cidr, "CidrBlockState": {"State": "associated"}})
    for table in t.lists["route_tables"]:
        if table.get("VpcId") == vpc_id:
            t.mutable("route_tables", table["RouteTableId"])["Routes"] += _local_routes([cidr])


def dhcp_options(t: Translation, reader: Reader) -> None:
    servers = reader.value("DomainNameServers", ["AmazonProvidedDNS"])
    if servers is None:
        return
    t.add("dhcp_options", {"DhcpOptionsId": reader.resource_id, "DhcpConfigurations": [
        {"Key": "domain-name-servers", "Values": [{"Value": s} for s in servers]}]},
        reader.resource_id)


def dhcp_association(t: Translation, reader: Reader) -> None:
    vpc_id = reader.value("VpcId", required=True)
    if vpc_id is None:
        reader.fail_everywhere("the VPC whose DNS servers it sets is unknown")
        return
    reader.also_marks(vpc_id)
    options_id = reader.value("DhcpOptionsId", required=True)
    entry = t.mutable("vpcs", vpc_id) if vpc_id else None
    if entry is not None and options_id is not None:
        entry["DhcpOptionsId"] = options_id


def subnet(t: Translation, reader: Reader) -> None:
    vpc_id = reader.value("VpcId", required=True)
    cidr = reader.value("CidrBlock", required="Ipv6Native" not in reader.properties)
    if cidr is None and "CidrBlock" not in reader.properties and "Ipv6Native" in reader.properties:
        reader.fail(f"{reader.logical_id} is IPv6-only (Ipv6Native), which the auditor does "
                    "not model")
    if vpc_id is None or cidr is None or _existing(t, reader, "vpcs", "VpcId", vpc_id) is None:
        return
    cidr = checked_cidr(cidr, "CidrBlock")
    zone = reader.scope.resolver.resolve(reader.properties.get("AvailabilityZone", ""))
    public = reader.value("MapPublicIpOnLaunch", False)
    if public is None:  # marked: instances in it will be unknown, not public by a guess
        public = False
    t.add("subnets", {"SubnetId": reader.resource_id, "VpcId": vpc_id, "CidrBlock": cidr,
                      "AvailabilityZone": zone if isinstance(zone, str) else "",
                      "State": "available", "MapPublicIpOnLaunch": as_bool(public)},
          reader.resource_id)


# --- Routing -------------------------------------------------------------------------------


def route_table(t: Translation, reader: Reader) -> None:
    vpc_id = reader.value("VpcId", required=True)
    if vpc_id is None or _existing(t, reader, "vpcs", "VpcId", vpc_id) is None:
        return
    t.add("route_tables", {"RouteTableId": reader.resource_id, "VpcId": vpc_id,
                           "Associations": [], "Routes": _local_routes(t.vpc_cidrs(vpc_id))},
          reader.resource_id)


# Route properties naming the target, and the field DescribeRouteTables puts them in.
_ROUTE_TARGETS = (
    ("GatewayId", "GatewayId"), ("NatGatewayId", "NatGatewayId"),
    ("TransitGatewayId", "TransitGatewayId"),
    ("VpcPeeringConnectionId", "VpcPeeringConnectionId"), ("VpcEndpointId", "GatewayId"),
    ("EgressOnlyInternetGatewayId", "EgressOnlyInternetGatewayId"),
    ("CarrierGatewayId", "CarrierGatewayId"), ("LocalGatewayId", "LocalGatewayId"),
    ("CoreNetworkArn", "CoreNetworkArn"), ("InstanceId", "InstanceId"),
    ("NetworkInterfaceId", "NetworkInterfaceId"),
)


def route(t: Translation, reader: Reader) -> None:
    table_id = reader.value("RouteTableId", required=True)
    if table_id is None:
        reader.fail_everywhere("the route table it changes is unknown")
        return
    reader.also_marks(table_id)
    table = _existing(t, reader, "route_tables", "RouteTableId", table_id)
    if table is None:
        return
    entry: dict[str, Any] = {"State": "active", "Origin": "CreateRoute"}
    for name in ("DestinationCidrBlock", "DestinationPrefixListId", "DestinationIpv6CidrBlock"):
        value = reader.value(name)
        if value is not None:
            entry[name] = checked_cidr(value, name) if name != "DestinationPrefixListId" \
                else value
    if len(entry) == 2:
        reader.fail(f"{reader.logical_id}: the route's destination is unknown")
        return
    for name, field_name in _ROUTE_TARGETS:
        if name in reader.properties:
            target = reader.value(name)
            if target is None:
                return
            entry[field_name] = target
            _check_target(t, reader, name, target)
            break
    else:
        reader.fail(f"{reader.logical_id}: the route has no target")
        return
    table = t.mutable("route_tables", table_id)
    destination = next(entry[k] for k in entry if k.startswith("Destination"))
    table["Routes"] = [r for r in table["Routes"]
                       if next((r.get(k) for k in r if k.startswith("Destination")), None)
                       != destination] + [entry]


# Targets the proof follows, by the kind that lists them.
_FOLLOWED_TARGETS = {"NatGatewayId": "nat_gateways", "GatewayId": "internet_gateways",
                     "TransitGatewayId": "transit_gateways",
                     "VpcPeeringConnectionId": "vpc_peering_connections"}


def _check_target(t: Translation, reader: Reader, name: str, target: str) -> None:
    """A target named by id that is neither planned nor known to exist is unknown (with a
    snapshot, a missing one is a blackhole route, which the proof reports)."""
    kind = _FOLLOWED_TARGETS.get(name)
    if kind is None or (name == "GatewayId" and not str(target).startswith("igw-")):
        return
    if t.get(kind, target) is None and not t.knows(kind):
        reader.fail(f"{reader.logical_id}: {target} {t.why_missing(kind, target)}")


def _leave_other_tables(t: Translation, subnet_id: str) -> None:
    for table in list(t.lists["route_tables"]):
        if any(a.get("SubnetId") == subnet_id for a in table.get("Associations") or []):
            table = t.mutable("route_tables", table["RouteTableId"])
            table["Associations"] = [a for a in table["Associations"]
                                     if a.get("SubnetId") != subnet_id]


def subnet_route_table_association(t: Translation, reader: Reader) -> None:
    subnet_id = reader.value("SubnetId", required=True)
    if subnet_id is None:
        reader.fail_everywhere("the subnet it gives a route table is unknown")
        return
    reader.also_marks(subnet_id)
    table_id = reader.value("RouteTableId", required=True)
    if subnet_id is None or table_id is None:
        return
    if _existing(t, reader, "route_tables", "RouteTableId", table_id) is None:
        return
    _leave_other_tables(t, subnet_id)
    t.mutable("route_tables", table_id)["Associations"].append(
        {"SubnetId": subnet_id, "Main": False, "AssociationState": {"State": "associated"}})


def internet_gateway(t: Translation, reader: Reader) -> None:
    t.add("internet_gateways", {"InternetGatewayId": reader.resource_id, "Attachments": [],
                                "OwnerId": t.account_id}, reader.resource_id)


def gateway_attachment(t: Translation, reader: Reader) -> None:
    if "InternetGatewayId" not in reader.properties:
        return  # a virtual private gateway: routes to it are outside the proof anyway
    vpc_id = reader.value("VpcId", required=True)
    igw_id = reader.value("InternetGatewayId")
    reader.also_marks(igw_id)
    if vpc_id is None or igw_id is None:
        return
    gateway = t.mutable("internet_gateways", igw_id)
    if gateway is None:
        _existing(t, reader, "internet_gateways", "InternetGatewayId", igw_id)
        return
    gateway["Attachments"] = [{"VpcId": vpc_id, "State": "available"}]


def nat_gateway(t: Translation, reader: Reader) -> None:
    subnet_id = reader.value("SubnetId", required=True)
    connectivity = reader.value("ConnectivityType", "public")
    entry = _existing(t, reader, "subnets", "SubnetId", subnet_id) if subnet_id else None
    if entry is None or connectivity is None:
        return
    address: dict[str, Any] = {"PrivateIp": t.next_host(entry["CidrBlock"])}
    if connectivity == "public":
        address["PublicIp"] = PLANNED_PUBLIC_IP
    t.add("nat_gateways", {"NatGatewayId": reader.resource_id, "SubnetId": subnet_id,
                           "VpcId": entry["VpcId"], "State": "available",
                           "ConnectivityType": connectivity,
                           "NatGatewayAddresses": [address]}, reader.resource_id)


# --- Security groups -------------------------------------------------------------------------


def _permission(rule: dict, peer_fields: dict[str, str]) -> dict | None:
    """One inline or separate rule as an IpPermissions entry; None when it names no peer the
    model reads (for example a security group by name)."""
    protocol = ip_protocol(rule.get("IpProtocol", "-1"), "IpProtocol")
    permission: dict[str, Any] = {"IpProtocol": protocol, "IpRanges": [], "Ipv6Ranges": [],
                                  "UserIdGroupPairs": [], "PrefixListIds": []}
    if protocol not in ("-1", "all"):
        permission["FromPort"] = schema.integer(rule.get("FromPort", -1))
        permission["ToPort"] = schema.integer(rule.get("ToPort", -1))
    for field_name, kind in peer_fields.items():
        value = rule.get(field_name)
        if value is None:
            continue
        value = schema.text(value)
        if kind == "cidr":
            permission["IpRanges"].append({"CidrIp": checked_cidr(value, field_name)})
        elif kind == "ipv6":
            permission["Ipv6Ranges"].append({"CidrIpv6": value})
        elif kind == "group":
            permission["UserIdGroupPairs"].append({"GroupId": value})
        else:
            permission["PrefixListIds"].append({"PrefixListId": value})
        return permission
    return None


_PROTOCOL_NAMES = ("-1", "all", "tcp", "udp", "icmp", "icmpv6")


def ip_protocol(value: Any, what: str) -> str:
    """A protocol EC2 accepts: a name it knows, -1, or a protocol number (0 to 255)."""
    protocol = schema.text(value).strip().lower()
    if protocol in _PROTOCOL_NAMES or (protocol.isdigit() and int(protocol) <= 255):
        return protocol
    raise ValueError(f"{what} {value!r} is not a protocol EC2 accepts"[:300])


INGRESS_PEERS = {"CidrIp": "cidr", "CidrIpv6": "ipv6", "SourceSecurityGroupId": "group",
                 "SourcePrefixListId": "prefix"}
EGRESS_PEERS = {"CidrIp": "cidr", "CidrIpv6": "ipv6", "DestinationSecurityGroupId": "group",
                "DestinationPrefixListId": "prefix"}


def _rules(reader: Reader, rules: list, peers: dict[str, str]) -> list[dict]:
    permissions = []
    for rule in rules:
        permission = _permission(rule, peers) if isinstance(rule, dict) else None
        if permission is None:
            reader.fail(f"{reader.logical_id}: a rule names its peer in a way the auditor "
                        f"cannot model ({rule})")
            continue
        t = reader.translation
        for peer in (peer["PrefixListId"] for peer in permission["PrefixListIds"]):
            if peer in t.unresolved:
                reader.fail(f"{reader.logical_id}: prefix list {peer} "
                            f"{t.why_missing('prefix_lists', peer)}")
        permissions.append(permission)
    return permissions


def default_vpc_id(t: Translation) -> str | None:
    return next((v["VpcId"] for v in t.lists["vpcs"] if v.get("IsDefault")), None)


def security_group(t: Translation, reader: Reader) -> None:
    vpc_id = reader.value("VpcId") if "VpcId" in reader.properties else default_vpc_id(t)
    if vpc_id is None:
        if "VpcId" not in reader.properties:
            reader.fail(f"{reader.logical_id} has no VpcId: it goes to the account's default "
                        "VPC, which is not in the data")
        return
    ingress = reader.value("SecurityGroupIngress", [])
    egress = reader.value("SecurityGroupEgress")
    group = t.add("security_groups", {
        "GroupId": reader.resource_id, "VpcId": vpc_id, "OwnerId": t.account_id,
        "GroupName": reader.scope.resolver.resolve(reader.properties.get("GroupName"))
        if isinstance(reader.properties.get("GroupName"), str) else reader.logical_id,
        "IpPermissions": _rules(reader, ingress or [], INGRESS_PEERS),
        "IpPermissionsEgress": [ALLOW_ALL_EGRESS]}, reader.resource_id)
    if "SecurityGroupEgress" in reader.properties:
        # Unresolved egress: keep no rule rather than a guessed one (the group is marked).
        group["IpPermissionsEgress"] = _rules(reader, egress or [], EGRESS_PEERS)


def security_group_rule(t: Translation, reader: Reader, direction: str) -> None:
    group_id = reader.value("GroupId")
    if group_id is None:
        if "GroupName" in reader.properties or "GroupId" in reader.properties:
            reader.fail_everywhere("the security group it changes is unknown")
        return
    reader.also_marks(group_id)
    group = _existing(t, reader, "security_groups", "GroupId", group_id)
    rule = {name: reader.value(name) for name in reader.properties if name != "GroupId"}
    if group is None or any(value is None for value in rule.values()):
        return
    peers = INGRESS_PEERS if direction == "ingress" else EGRESS_PEERS
    permission = _rules(reader, [rule], peers)
    if permission:
        group = t.mutable("security_groups", group_id)
        key = "IpPermissions" if direction == "ingress" else "IpPermissionsEgress"
        group[key] = [*group.get(key, []), *permission]


# --- Network ACLs ------------------------------------------------------------------------------


def network_acl(t: Translation, reader: Reader) -> None:
    vpc_id = reader.value("VpcId", required=True)
    if vpc_id is None:
        return
    t.add("network_acls", {"NetworkAclId": reader.resource_id, "VpcId": vpc_id,
                           "IsDefault": False, "Entries": [*DENY_ALL_ENTRIES],
                           "Associations": []}, reader.resource_id)


def network_acl_entry(t: Translation, reader: Reader) -> None:
    nacl_id = reader.value("NetworkAclId")
    if nacl_id is None:
        reader.fail_everywhere("the network ACL it changes is unknown")
        return
    reader.also_marks(nacl_id)
    if _existing(t, reader, "network_acls", "NetworkAclId", nacl_id) is None:
        return
    entry: dict[str, Any] = {
        "RuleNumber": reader.value("RuleNumber", required=True),
        "Protocol": reader.value("Protocol", required=True),
        "RuleAction": reader.value("RuleAction", required=True),
        "Egress": reader.value("Egress", False),
    }
    cidr = reader.value("CidrBlock")
    ports = reader.value("PortRange")
    if any(value is None for value in entry.values()):
        return
    if cidr is None and "Ipv6CidrBlock" not in reader.properties:
        reader.fail(f"{reader.logical_id}: the entry's CIDR is unknown")
        return
    entry["Protocol"] = ip_protocol(entry["Protocol"], "Protocol")
    if entry["Protocol"] in _PROTOCOL_NAMES[2:]:
        raise ValueError(f"Protocol {entry['Protocol']!r}: a network ACL entry takes a number")
    if cidr is not None:
        entry["CidrBlock"] = checked_cidr(cidr, "CidrBlock")
    else:
        entry["Ipv6CidrBlock"] = reader.value("Ipv6CidrBlock")
    if isinstance(ports, dict):
        entry["PortRange"] = {"From": schema.integer(ports.get("From", 0)),
                              "To": schema.integer(ports.get("To", 65535))}
    nacl = t.mutable("network_acls", nacl_id)
    nacl["Entries"] = [e for e in nacl["Entries"]
                       if (e["RuleNumber"], bool(e["Egress"]))
                       != (entry["RuleNumber"], entry["Egress"])] + [entry]


def subnet_nacl_association(t: Translation, reader: Reader) -> None:
    subnet_id = reader.value("SubnetId", required=True)
    if subnet_id is None:
        reader.fail_everywhere("the subnet it gives a network ACL is unknown")
        return
    reader.also_marks(subnet_id)
    nacl_id = reader.value("NetworkAclId", required=True)
    if subnet_id is None or nacl_id is None:
        return
    if _existing(t, reader, "network_acls", "NetworkAclId", nacl_id) is None:
        return
    for other in list(t.lists["network_acls"]):
        if any(a.get("SubnetId") == subnet_id for a in other.get("Associations") or []):
            other = t.mutable("network_acls", other["NetworkAclId"])
            other["Associations"] = [a for a in other["Associations"]
                                     if a.get("SubnetId") != subnet_id]
    t.mutable("network_acls", nacl_id)["Associations"].append(
        {"NetworkAclId": nacl_id, "SubnetId": subnet_id})


# --- VPC endpoints --------------------------------------------------------------------------


# com.amazonaws.REGION.ssm, com.amazonaws.vpce.REGION.vpce-svc-..., aws.sagemaker.REGION....
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+){2,}$")


def vpc_default_group(t: Translation, vpc_id: str) -> str | None:
    return next((g["GroupId"] for g in t.lists["security_groups"]
                 if g.get("VpcId") == vpc_id and g.get("GroupName") == "default"), None)


def vpc_endpoint(t: Translation, reader: Reader) -> None:
    vpc_id = reader.value("VpcId", required=True)
    if vpc_id is None:
        reader.fail_everywhere("the VPC whose DNS it may decide is unknown")
        return
    reader.also_marks(vpc_id)  # an unknown endpoint may decide any instance's DNS in the VPC
    service = reader.value("ServiceName", required=True)
    kind = reader.value("VpcEndpointType", "Gateway")
    if service is not None and not _SERVICE_NAME.match(service):
        reader.fail(f"{reader.logical_id}.ServiceName {service!r} is no service name, which "
                    "EC2 refuses"[:300])
        return
    if vpc_id is None or service is None or kind is None:
        return
    if kind == "Gateway":  # S3 and DynamoDB: session logs and patching take them
        session.gateway_endpoint(t, reader, vpc_id, service)
        return
    if kind != "Interface":
        return
    subnets = reader.value("SubnetIds", []) or []
    groups = reader.value("SecurityGroupIds")
    private_dns = reader.value("PrivateDnsEnabled", False)
    policy = reader.value("PolicyDocument")
    if subnets is None or private_dns is None:
        return
    if groups is None:
        if "SecurityGroupIds" in reader.properties:
            return
        default = vpc_default_group(t, vpc_id)
        groups = [default] if default else []
        if not default:
            reader.fail(f"{reader.logical_id} has no SecurityGroupIds: it gets the VPC's "
                        "default security group, which is not in the data")
    eni_ids = []
    for subnet_id in subnets:
        entry = _existing(t, reader, "subnets", "SubnetId", subnet_id)
        if entry is None:
            continue
        eni_id = f"eni-{reader.resource_id[5:]}-{len(eni_ids) + 1}"
        eni_ids.append(eni_id)
        t.add("network_interfaces", {
            "NetworkInterfaceId": eni_id, "SubnetId": subnet_id, "VpcId": vpc_id,
            "PrivateIpAddress": t.next_host(entry["CidrBlock"]), "InterfaceType": "vpc_endpoint",
            "Groups": [{"GroupId": g} for g in groups], "Status": "in-use"}, eni_id)
    endpoint: dict[str, Any] = {
        "VpcEndpointId": reader.resource_id, "VpcEndpointType": "Interface", "VpcId": vpc_id,
        "ServiceName": service, "State": "available", "PrivateDnsEnabled": as_bool(private_dns),
        "SubnetIds": list(subnets), "Groups": [{"GroupId": g} for g in groups],
        "NetworkInterfaceIds": eni_ids, "OwnerId": t.account_id,
        "DnsEntries": [{"DnsName": endpoint_dns_name(reader.resource_id, str(service)),
                        "HostedZoneId": PLANNED_ENDPOINT_ZONE}]}
    problem = iam.document_problem(policy) if policy is not None else None
    if problem:
        reader.fail(f"{reader.logical_id}.PolicyDocument: {problem}, which EC2 refuses")
    elif policy is not None:
        endpoint["PolicyDocument"] = json.dumps(policy)
    t.add("vpc_endpoints", endpoint, reader.resource_id)


# A planned interface endpoint's regional DNS name (AWS picks the real one at creation): what
# Fn::GetAtt DnsEntries gives, so that a private hosted zone's alias to it is followed.
PLANNED_ENDPOINT_ZONE = "ZPLANNEDVPCE"


def endpoint_dns_name(endpoint_id: str, service_name: str) -> str:
    """vpce-<id>-planned.<service>.<region>.vpce.amazonaws.com, from com.amazonaws.<region>.
    <service>."""
    parts = service_name.split(".")
    service, region = ".".join(parts[3:]) or "service", parts[2] if len(parts) > 2 else "region"
    return f"{endpoint_id.lower()}-planned.{service}.{region}.vpce.amazonaws.com"


def as_bool(value: Any) -> bool:
    """A CloudFormation boolean (true, false, "true", "false"); ValueError otherwise, never a
    guess (a list or "yes" is not true)."""
    return schema.boolean(value)


# --- Managed prefix lists -------------------------------------------------------------------


def prefix_list(t: Translation, reader: Reader) -> None:
    """AWS::EC2::PrefixList: its entries, for the rules and routes that name it."""
    entries = reader.value("Entries", [])
    name = reader.value("PrefixListName", reader.logical_id)
    if entries is None:
        return  # marked: a rule naming it is unknown, not matched against a guess
    t.prefix_lists.append({"PrefixListId": reader.resource_id,
                           "PrefixListName": name if isinstance(name, str) else "",
                           "OwnerId": t.account_id, "State": "create-complete"})
    t.prefix_list_entries.append({"PrefixListId": reader.resource_id, "Entries": [
        {"Cidr": checked_cidr(entry.get("Cidr"), "Entries.Cidr")} for entry in entries]})
