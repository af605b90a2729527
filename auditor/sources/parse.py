"""Turn raw API answers (AWS CLI JSON shape) into the estate model.

Only the fields the analysis needs are read. A missing optional field takes the API's documented
default; a wrong type or a missing required field raises ``UsageError`` naming the kind.

IAM policy documents arrive as JSON objects (boto3 and the AWS CLI decode them) or as the
URL-encoded JSON text the raw IAM API returns; both are accepted.

The service control policies come from four Organizations answers, each checked by its own
parser and assembled once all are read (``_Organization``), from the root down to the account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, ip_network
from typing import Any
from urllib.parse import unquote

from auditor import aws_facts
from auditor.aws_facts import dns_name, no_scp_applies
from auditor.errors import UsageError
from auditor.model import (
    Cidr,
    DhcpOptions,
    Estate,
    Instance,
    InstanceProfile,
    InternetGateway,
    ManagedNode,
    ManagedPolicy,
    MetadataOptions,
    NaclEntry,
    NatGateway,
    NetworkAcl,
    NetworkInterface,
    PortRange,
    PrefixList,
    Role,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    ServiceSetting,
    Subnet,
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRouteTable,
    Vpc,
    VpcEndpoint,
    VpcPeeringConnection,
    joined_vpcs,
)
from auditor.sources import api_calls, dns_raw
from auditor.sources.bounded_read import parse_json
from auditor.sources.parse_dns import DnsAnswers
from auditor.sources.raw import RawRegion

# Route fields in DescribeRouteTables, in the order AWS fills them, and the kind each names.
_ROUTE_TARGET_FIELDS = (
    ("NatGatewayId", "nat_gateway"),
    ("TransitGatewayId", "transit_gateway"),
    ("VpcPeeringConnectionId", "vpc_peering"),
    ("EgressOnlyInternetGatewayId", "egress_only_internet_gateway"),
    ("CarrierGatewayId", "carrier_gateway"),
    ("LocalGatewayId", "local_gateway"),
    ("CoreNetworkArn", "core_network"),
    ("InstanceId", "instance"),
    ("NetworkInterfaceId", "network_interface"),
    ("GatewayId", None),  # igw-, vgw-, vpce- or "local": decided by its prefix
)
_GATEWAY_PREFIXES = (
    ("igw-", "internet_gateway"),
    ("vgw-", "virtual_private_gateway"),
    ("vpce-", "vpc_endpoint"),
)


@lru_cache(maxsize=65536)  # the same few CIDRs recur in thousands of rules
def _cidr(text: str | None) -> IPv4Network | None:
    if not text:
        return None
    network = ip_network(text, strict=False)
    return Cidr(network) if isinstance(network, IPv4Network) else None


def _address(text: str | None) -> str | None:
    """An IPv4 address as text, checked (a malformed one is malformed input)."""
    return str(IPv4Address(text)) if text else None


# What the template reader writes for a public IPv4 address EC2 assigns only at launch.
PLANNED_PUBLIC_IP = "assigned-at-launch"


def _public_address(text: str | None, planned: bool = False) -> str | None:
    """A public IPv4 address, checked like any other; for an instance a template plans, also
    the template reader's placeholder (nowhere else: in AWS data it is garbage)."""
    return text if planned and text == PLANNED_PUBLIC_IP else _address(text)


class Scope:
    """What to model: everything, or the requested instances, the VPCs they live in and the
    VPCs a transit gateway or peering connection joins to those (where their traffic lands)."""

    def __init__(self, instance_ids: Iterable[str] | None = None,
                 answers: dict[str, Any] | None = None) -> None:
        self.instance_ids = set(instance_ids) if instance_ids else None
        self.vpc_ids: set[str] | None = None  # known once the instances are parsed
        self.answers = answers or {}  # the raw answers, for what DNS leads to
        self.estate: Estate | None = None
        self._joined = False

    def widen(self) -> None:
        """The instances' VPCs, and the VPCs of the endpoints their names lead to (a private
        hosted zone's alias to an endpoint in a hub VPC)."""
        if self.vpc_ids is not None:
            self.vpc_ids |= dns_raw.reached_vpcs(self.answers, self.vpc_ids)

    def instances(self, items: list[dict]) -> list[dict]:
        if self.instance_ids is None:
            return items
        return [item for item in items if item.get("InstanceId") in self.instance_ids]

    def _vpcs(self) -> set[str] | None:
        """The VPCs in scope; joined ones added once the gateways and peerings are parsed
        (they are parsed before any VPC-bound kind)."""
        if self.vpc_ids is not None and not self._joined and self.estate is not None:
            self.vpc_ids = joined_vpcs(self.vpc_ids, self.estate.transit_gateway_attachments,
                                       self.estate.vpc_peering_connections)
            self._joined = True
        return self.vpc_ids

    def vpc_bound(self, items: list[dict]) -> list[dict]:
        vpc_ids = self._vpcs()
        if vpc_ids is None:
            return items
        return [item for item in items if item.get("VpcId") in vpc_ids]

    def attached(self, gateways: list[dict]) -> list[dict]:
        if self._vpcs() is None:
            return gateways
        return [gateway for gateway in gateways
                if any(a.get("VpcId") in self.vpc_ids for a in gateway.get("Attachments") or [])]


def _items(answer: Any, key: str, id_key: str | None = None) -> list[dict]:
    """The list ``key`` of an answer; with ``id_key``, each resource once: an id described
    twice differently is refused (the last one would win in silence)."""
    if not isinstance(answer, dict):
        raise TypeError(f"expected a JSON object with {key!r}")
    items = answer.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise TypeError(f"{key!r} is not a list of JSON objects")
    if id_key is None:
        return items
    distinct: dict[str, dict] = {}
    for item in items:
        resource_id = item.get(id_key)
        if not isinstance(resource_id, str) or not resource_id:
            raise ValueError(f"an item of {key} has no {id_key}")
        known = distinct.setdefault(resource_id, item)
        if known is not item and known != item:
            raise ValueError(f"{id_key} {resource_id} is described twice in {key}, differently")
    return items if len(distinct) == len(items) else list(distinct.values())


def _put(resources: dict, key: str, resource: Any, what: str) -> None:
    """Store a resource by its id; the same id twice with different contents is refused (the
    last one would win in silence), the same contents twice kept once."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"{what} without an id (found {key!r})")
    known = resources.get(key)
    if known is not None and known != resource:
        raise ValueError(f"{what} {key} is described twice, differently")
    resources[key] = resource


def _exactly(text: Any, known: str) -> bool:
    """``text == known``; text that differs from it only by case or spaces is not AWS's and
    is refused (read as "another value" it could hide what decides the proof)."""
    if text == known:
        return True
    if isinstance(text, str) and "".join(text.split()).lower() == known:
        raise ValueError(f"{text[:60]!r} is not {known!r} as AWS writes it")
    return False


def _as_aws_writes_it(text: str, what: str) -> str:
    """Text AWS always writes in lower case without spaces (endpoint service names)."""
    if text != "".join(text.split()).lower():
        raise ValueError(f"{what} {text[:80]!r} is not as AWS writes it (lower case, no spaces)")
    return text


def _tags(resource: dict) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in resource.get("Tags") or []}


def _port_range(permission: dict) -> PortRange:
    protocol = str(permission.get("IpProtocol", "-1")).lower()
    protocol = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}.get(protocol, protocol)
    if protocol == "-1":
        return PortRange("-1", 0, 65535)
    from_port = permission.get("FromPort")
    to_port = permission.get("ToPort")
    if from_port in (None, -1) or to_port in (None, -1):
        return PortRange(protocol, 0, 65535)
    return PortRange(protocol, int(from_port), int(to_port))


def _sg_rules(permissions: Iterable[dict], direction: str) -> list[SecurityGroupRule]:
    rules: list[SecurityGroupRule] = []
    for permission in permissions:
        ports = _port_range(permission)
        for ip_range in permission.get("IpRanges") or []:
            rules.append(SecurityGroupRule(direction, ports, cidr=_cidr(ip_range["CidrIp"]),
                                           description=ip_range.get("Description", "")))
        for ip_range in permission.get("Ipv6Ranges") or []:
            rules.append(SecurityGroupRule(direction, ports, ipv6_cidr=ip_range["CidrIpv6"],
                                           description=ip_range.get("Description", "")))
        for pair in permission.get("UserIdGroupPairs") or []:
            rules.append(SecurityGroupRule(direction, ports, group_id=pair["GroupId"],
                                           description=pair.get("Description", "")))
        for prefix in permission.get("PrefixListIds") or []:
            rules.append(SecurityGroupRule(direction, ports, prefix_list_id=prefix["PrefixListId"],
                                           description=prefix.get("Description", "")))
    return rules


def _route(raw: dict) -> Route:
    kind, target = "unknown", ""
    for field_name, field_kind in _ROUTE_TARGET_FIELDS:
        value = raw.get(field_name)
        if not value:
            continue
        target = value
        if field_kind:
            kind = field_kind
        elif value == "local":
            kind = "local"
        else:
            kind = next((k for prefix, k in _GATEWAY_PREFIXES if value.startswith(prefix)),
                        "unknown")
        break
    state = raw.get("State") or "active"
    if state not in aws_facts.ROUTE_STATES:
        kind = "unknown"  # a state EC2 never reports: a hop the proof cannot take
    return Route(
        target_kind=kind,
        target_id=target,
        state=state,
        destination_cidr=_cidr(raw.get("DestinationCidrBlock")),
        destination_prefix_list_id=raw.get("DestinationPrefixListId"),
        destination_ipv6=raw.get("DestinationIpv6CidrBlock"),
        origin=raw.get("Origin", ""),
    )


def _interface(raw: dict, fallback_subnet: str | None = None,
               fallback_vpc: str | None = None, planned: bool = False) -> NetworkInterface:
    association = raw.get("Association") or {}
    return NetworkInterface(
        eni_id=raw["NetworkInterfaceId"],
        subnet_id=raw.get("SubnetId") or fallback_subnet or "",
        vpc_id=raw.get("VpcId") or fallback_vpc or "",
        private_ip=_address(raw.get("PrivateIpAddress")),
        group_ids=[group["GroupId"] for group in raw.get("Groups") or []],
        public_ip=_public_address(association.get("PublicIp"), planned),
        interface_type=raw.get("InterfaceType", "interface"),
        device_index=int((raw.get("Attachment") or {}).get("DeviceIndex", 0)),
    )


def _instance(raw: dict, region: str, planned: bool = False) -> Instance:
    interfaces = [_interface(eni, raw.get("SubnetId"), raw.get("VpcId"), planned)
                  for eni in raw.get("NetworkInterfaces") or []]
    group_ids = [group["GroupId"] for group in raw.get("SecurityGroups") or []]
    primary = min(interfaces, key=lambda eni: eni.device_index) if interfaces else None
    if primary and primary.group_ids:
        group_ids = primary.group_ids  # the agent's traffic leaves through the primary ENI
    metadata_raw = raw.get("MetadataOptions")
    metadata = None
    if metadata_raw is not None:
        # Absent values take EC2's defaults at launch; present ones are kept as written, and
        # the analysis reads an HttpEndpoint other than exactly enabled or disabled as unknown.
        metadata = MetadataOptions(
            http_endpoint=metadata_raw.get("HttpEndpoint") or "enabled",
            http_tokens=metadata_raw.get("HttpTokens") or "optional",
            http_put_response_hop_limit=int(metadata_raw.get("HttpPutResponseHopLimit") or 1),
            state=metadata_raw.get("State") or "applied",
        )
    platform_text = (raw.get("Platform") or raw.get("PlatformDetails") or "").lower()
    tags = _tags(raw)
    state, state_problem = _instance_state(raw.get("State"))
    instance_public_ip = _public_address(raw.get("PublicIpAddress"), planned)  # checked anyway
    return Instance(
        instance_id=raw["InstanceId"],
        state=state,
        state_problem=state_problem,
        subnet_id=raw.get("SubnetId") or (primary.subnet_id if primary else None),
        vpc_id=raw.get("VpcId") or (primary.vpc_id if primary else None),
        private_ip=(primary.private_ip if primary and primary.private_ip
                    else _address(raw.get("PrivateIpAddress"))),
        public_ip=(primary.public_ip if primary and primary.public_ip
                   else instance_public_ip),
        group_ids=group_ids,
        network_interfaces=interfaces,
        platform="windows" if "windows" in platform_text else "linux",
        instance_type=raw.get("InstanceType") or "",
        instance_profile_arn=(raw.get("IamInstanceProfile") or {}).get("Arn"),
        metadata=metadata,
        name=tags.get("Name", ""),
        tags=tags,
        region=region,
    )


def _instance_state(state: Any) -> tuple[str, str]:
    """(state, why it is unknown): EC2's state names exactly, anything else unknown."""
    name = state.get("Name") if isinstance(state, dict) else None
    if name in aws_facts.INSTANCE_STATES:
        return name, ""
    if state is None:
        problem = "DescribeInstances gives it no State"
    elif name is None:
        problem = f"its State has no Name ({json.dumps(state)[:60]})"
    else:
        problem = f"its State.Name {json.dumps(name)[:60]} is not a state EC2 reports"
    return aws_facts.INSTANCE_STATE_UNKNOWN, problem


def _parse_instances(estate: Estate, answer: Any, scope: Scope) -> None:
    for reservation in _items(answer, "Reservations"):
        for raw in scope.instances(_items(reservation, "Instances")):
            instance = _instance(raw, estate.region,
                                 raw.get("InstanceId") in estate.planned_instances)
            _put(estate.instances, instance.instance_id, instance, "instance")
            if not estate.account_id and reservation.get("OwnerId"):
                estate.account_id = reservation["OwnerId"]
            instance.account_id = str(reservation.get("OwnerId") or estate.account_id or "")
    if scope.instance_ids is not None:
        scope.vpc_ids = {i.vpc_id for i in estate.instances.values() if i.vpc_id}
        scope.widen()


def _parse_vpcs(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.vpc_bound(_items(answer, "Vpcs", "VpcId")):
        cidrs = [_cidr(assoc["CidrBlock"]) for assoc in raw.get("CidrBlockAssociationSet") or []
                 if (assoc.get("CidrBlockState") or {}).get("State", "associated")
                 == "associated"]
        if not cidrs and raw.get("CidrBlock"):
            cidrs = [_cidr(raw["CidrBlock"])]
        estate.vpcs[raw["VpcId"]] = Vpc(raw["VpcId"], [c for c in cidrs if c],
                                        dhcp_options_id=raw.get("DhcpOptionsId"))


def _parse_vpc_attributes(estate: Estate, answer: Any, scope: Scope) -> None:
    if not isinstance(answer, list):
        raise TypeError("expected a JSON list of describe-vpc-attribute answers")
    for raw in answer:
        vpc = estate.vpcs.get(raw["VpcId"])
        if vpc is None:
            continue
        for key, attribute in (("EnableDnsSupport", "enable_dns_support"),
                               ("EnableDnsHostnames", "enable_dns_hostnames")):
            value = (raw.get(key) or {}).get("Value")
            if value is None:  # not answered: the attribute stays unknown
                continue
            if getattr(vpc, attribute) not in (None, value):
                raise ValueError(f"{key} of {vpc.vpc_id} is answered twice, differently")
            setattr(vpc, attribute, value)


def _parse_dhcp_options(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in _items(answer, "DhcpOptions", "DhcpOptionsId"):
        servers: list[str] = []
        for configuration in raw.get("DhcpConfigurations") or []:
            if _exactly(configuration.get("Key"), "domain-name-servers"):
                servers = [value["Value"] for value in configuration.get("Values") or []]
        estate.dhcp_options[raw["DhcpOptionsId"]] = DhcpOptions(raw["DhcpOptionsId"], servers)


def _parse_subnets(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.vpc_bound(_items(answer, "Subnets", "SubnetId")):
        cidr = _cidr(raw.get("CidrBlock"))
        if cidr is None:
            raise TypeError(f"subnet {raw.get('SubnetId')} has no IPv4 CidrBlock")
        estate.subnets[raw["SubnetId"]] = Subnet(
            raw["SubnetId"], raw["VpcId"], cidr, raw.get("AvailabilityZone", ""),
            bool(raw.get("MapPublicIpOnLaunch", False)))


def _parse_route_tables(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.vpc_bound(_items(answer, "RouteTables", "RouteTableId")):
        associations = raw.get("Associations") or []
        estate.route_tables[raw["RouteTableId"]] = RouteTable(
            route_table_id=raw["RouteTableId"],
            vpc_id=raw["VpcId"],
            routes=[_route(route) for route in raw.get("Routes") or []],
            is_main=any(assoc.get("Main") for assoc in associations),
            subnet_ids=[assoc["SubnetId"] for assoc in associations
                        if assoc.get("SubnetId") and _association_active(assoc)],
            gateway_ids=[assoc["GatewayId"] for assoc in associations
                         if assoc.get("GatewayId") and _association_active(assoc)],
        )


def _association_active(association: dict) -> bool:
    state = (association.get("AssociationState") or {}).get("State", "associated")
    return state in ("associated", "associating")


def _parse_internet_gateways(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.attached(_items(answer, "InternetGateways", "InternetGatewayId")):
        attached = [att["VpcId"] for att in raw.get("Attachments") or []
                    if att.get("State") in ("available", "attached")]
        estate.internet_gateways[raw["InternetGatewayId"]] = InternetGateway(
            raw["InternetGatewayId"], attached)


def _parse_nat_gateways(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.vpc_bound(_items(answer, "NatGateways", "NatGatewayId")):
        addresses = raw.get("NatGatewayAddresses") or []
        estate.nat_gateways[raw["NatGatewayId"]] = NatGateway(
            nat_gateway_id=raw["NatGatewayId"],
            vpc_id=raw["VpcId"],
            subnet_id=raw["SubnetId"],
            state=raw.get("State", "unknown"),
            connectivity_type=raw.get("ConnectivityType", "public"),
            private_ips=[a["PrivateIp"] for a in addresses if a.get("PrivateIp")],
            public_ips=[a["PublicIp"] for a in addresses if a.get("PublicIp")],
        )


def _parse_security_groups(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.vpc_bound(_items(answer, "SecurityGroups", "GroupId")):
        estate.security_groups[raw["GroupId"]] = SecurityGroup(
            group_id=raw["GroupId"],
            vpc_id=raw.get("VpcId", ""),
            name=raw.get("GroupName", ""),
            ingress=_sg_rules(raw.get("IpPermissions") or [], "ingress"),
            egress=_sg_rules(raw.get("IpPermissionsEgress") or [], "egress"),
        )


def _parse_prefix_lists(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in _items(answer, "PrefixLists", "PrefixListId"):
        estate.prefix_lists[raw["PrefixListId"]] = PrefixList(
            raw["PrefixListId"], raw.get("PrefixListName", ""), raw.get("OwnerId", ""))


def _parse_prefix_list_entries(estate: Estate, answer: Any, scope: Scope) -> None:
    if not isinstance(answer, list):
        raise TypeError("expected a JSON list of get-managed-prefix-list-entries answers")
    for raw in answer:
        prefix_list = estate.prefix_lists.setdefault(
            raw["PrefixListId"], PrefixList(raw["PrefixListId"]))
        cidrs = [_cidr(entry["Cidr"]) for entry in raw.get("Entries") or []]
        prefix_list.cidrs = [cidr for cidr in cidrs if cidr]


def _parse_network_acls(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.vpc_bound(_items(answer, "NetworkAcls", "NetworkAclId")):
        entries = []
        for entry in raw.get("Entries") or []:
            port_range = entry.get("PortRange") or {}
            action = entry["RuleAction"]
            if action not in ("allow", "deny"):
                raise ValueError(f"RuleAction {str(action)[:40]!r} of {raw['NetworkAclId']} "
                                 "is neither allow nor deny")
            protocol = str(entry.get("Protocol", "-1"))
            if protocol != "-1" and not (protocol.isdecimal() and int(protocol) < 256):
                raise ValueError(f"Protocol {protocol[:40]!r} of {raw['NetworkAclId']} is not "
                                 "-1 or a protocol number")
            entries.append(NaclEntry(
                rule_number=int(entry["RuleNumber"]),
                egress=bool(entry["Egress"]),
                allow=action == "allow",
                protocol=protocol,
                cidr=_cidr(entry.get("CidrBlock")),
                from_port=port_range.get("From"),
                to_port=port_range.get("To"),
            ))
        estate.network_acls[raw["NetworkAclId"]] = NetworkAcl(
            nacl_id=raw["NetworkAclId"],
            vpc_id=raw["VpcId"],
            is_default=bool(raw.get("IsDefault", False)),
            entries=sorted(entries, key=lambda e: e.rule_number),
            subnet_ids=[assoc["SubnetId"] for assoc in raw.get("Associations") or []
                        if assoc.get("SubnetId")],
        )


def _parse_vpc_endpoints(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.vpc_bound(_items(answer, "VpcEndpoints", "VpcEndpointId")):
        estate.vpc_endpoints[raw["VpcEndpointId"]] = VpcEndpoint(
            endpoint_id=raw["VpcEndpointId"],
            vpc_id=raw["VpcId"],
            service_name=_as_aws_writes_it(raw["ServiceName"], "ServiceName"),
            endpoint_type=raw.get("VpcEndpointType", "Gateway"),
            state=str(raw.get("State", "unknown")).lower(),
            # EC2 always answers it for an interface endpoint: absent, it is unknown.
            private_dns_enabled=raw.get("PrivateDnsEnabled"),
            subnet_ids=list(raw.get("SubnetIds") or []),
            group_ids=[group["GroupId"] for group in raw.get("Groups") or []],
            network_interface_ids=list(raw.get("NetworkInterfaceIds") or []),
            policy_document=raw.get("PolicyDocument"),
            dns_names=[dns_name(str(entry["DnsName"])) for entry in raw.get("DnsEntries") or []
                       if entry.get("DnsName")],
            private_dns_only_for_inbound_resolver=bool((raw.get("DnsOptions") or {}).get(
                "PrivateDnsOnlyForInboundResolverEndpoint", False)),
            owner_id=str(raw.get("OwnerId") or ""),
        )


def _parse_network_interfaces(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.vpc_bound(_items(answer, "NetworkInterfaces", "NetworkInterfaceId")):
        interface = _interface(raw)
        estate.network_interfaces[interface.eni_id] = interface


# --- IAM -------------------------------------------------------------------------------------

# AWS managed policies live in the "aws" account of each partition (aws, aws-cn, aws-us-gov...).
_AWS_MANAGED_ARN = re.compile(r"^arn:aws(-[a-z0-9-]+)?:iam::aws:")
# What GetServiceSetting holds when the setting was never given a value.
_UNSET_SETTING_VALUES = ("", "$None")


def _is_aws_managed(arn: str) -> bool:
    return bool(_AWS_MANAGED_ARN.match(arn))


def _document(value: Any, what: str) -> dict | None:
    """A policy document: a JSON object, JSON text, or URL-encoded JSON text (the raw API)."""
    if value is None or isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{what} is not a JSON object or text")
    try:  # within the reader's limits: nesting, integers, numbers, keys written twice
        parsed = parse_json(value, what)
    except UsageError:
        try:
            parsed = parse_json(unquote(value), what)
        except UsageError as error:
            raise ValueError(f"{what} is not JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise TypeError(f"{what} is not a JSON object")
    return parsed


def _policy_name(raw: dict, arn: str) -> str:
    # moto leaves PolicyName out of GetAccountAuthorizationDetails' Policies; the ARN ends with it.
    return raw.get("PolicyName") or arn.rsplit("/", 1)[-1]


def _role(raw: dict) -> Role:
    name = raw["RoleName"]
    return Role(
        name=name,
        arn=raw["Arn"],
        trust_policy=_document(raw.get("AssumeRolePolicyDocument"),
                               f"the trust policy of role {name}"),
        inline_policies={
            policy["PolicyName"]: _document(policy["PolicyDocument"],
                                            f"inline policy {policy['PolicyName']} of role {name}")
            for policy in raw.get("RolePolicyList") or []},
        attached_policy_arns=[attached["PolicyArn"]
                              for attached in raw.get("AttachedManagedPolicies") or []],
        permissions_boundary_arn=(raw.get("PermissionsBoundary") or {}).get(
            "PermissionsBoundaryArn"),
        tags=_tags(raw),
    )


def _managed_policy(raw: dict) -> ManagedPolicy:
    """A ManagedPolicyDetail: its default version's document from PolicyVersionList."""
    arn = raw["Arn"]
    name = _policy_name(raw, arn)
    versions = raw.get("PolicyVersionList") or []
    default = next((v for v in versions if v.get("IsDefaultVersion")), None) or next(
        (v for v in versions
         if raw.get("DefaultVersionId") and v.get("VersionId") == raw["DefaultVersionId"]), None)
    document = (_document(default.get("Document"), f"the default version of policy {name}")
                if default else None)
    return ManagedPolicy(arn, name, document, _is_aws_managed(arn))


def _parse_iam_authorization(estate: Estate, answer: Any, scope: Scope) -> None:
    """Roles, their instance profiles, and the managed policies (IAM is small: all of it).

    IAM lists instance profiles only inside the roles they hold (InstanceProfileList): a profile
    without a role appears nowhere in this answer, so it is absent from the model. The analysis
    reads an instance's profile ARN missing from ``instance_profiles`` as "a profile without a
    role (or no longer there)".
    """
    for raw in _items(answer, "RoleDetailList", "RoleName"):
        role = _role(raw)
        estate.roles[role.name] = role
        for profile in raw.get("InstanceProfileList") or []:
            arn = profile["Arn"]
            known = estate.instance_profiles.get(arn)
            names = [*(known.role_names if known else []),
                     *(held["RoleName"] for held in profile.get("Roles") or []), role.name]
            estate.instance_profiles[arn] = InstanceProfile(
                name=profile.get("InstanceProfileName") or arn.rsplit("/", 1)[-1], arn=arn,
                role_names=list(dict.fromkeys(names)))
    for raw in _items(answer, "Policies", "Arn"):
        policy = _managed_policy(raw)
        estate.managed_policies[policy.arn] = policy


def _answer_list(answer: Any, what: str) -> list[dict]:
    if not isinstance(answer, list) or not all(isinstance(item, dict) for item in answer):
        raise TypeError(f"expected a JSON list of {what} answers")
    return answer


def _parse_iam_policies(estate: Estate, answer: Any, scope: Scope) -> None:
    """GetPolicy answers, for the policies the bulk answer lacked: name and ARN, no document."""
    for raw in _answer_list(answer, "get-policy"):
        policy = raw.get("Policy") or {}
        arn = raw.get("PolicyArn") or policy["Arn"]
        if arn not in estate.managed_policies:
            estate.managed_policies[arn] = ManagedPolicy(
                arn, _policy_name(policy, arn), None, _is_aws_managed(arn))


def _parse_iam_policy_versions(estate: Estate, answer: Any, scope: Scope) -> None:
    """GetPolicyVersion answers of default versions: the documents of those policies."""
    for raw in _answer_list(answer, "get-policy-version"):
        version = raw["PolicyVersion"]
        if version.get("IsDefaultVersion") is False:
            continue  # only the default version applies
        arn = raw["PolicyArn"]
        policy = estate.managed_policies.get(arn)
        if policy is None:
            policy = estate.managed_policies[arn] = ManagedPolicy(
                arn, arn.rsplit("/", 1)[-1], None, _is_aws_managed(arn))
        if policy.document is None:
            policy.document = _document(version.get("Document"),
                                        f"the default version of policy {policy.name}")


# --- Beyond the VPC: transit gateways and peering connections ------------------------------


def _enabled(options: dict, name: str, default: bool) -> bool:
    value = options.get(name)
    return default if value is None else value == aws_facts.OPTION_ENABLED


def _state(raw: dict) -> str:
    """A transit gateway's or attachment's State as EC2 gave it, "" when it gave none (the
    analysis reads a state it does not know as an unproved hop, never as available)."""
    state = raw.get("State")
    return state if isinstance(state, str) else ""


def _parse_transit_gateways(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in _items(answer, "TransitGateways"):
        options = raw.get("Options") or {}
        estate.transit_gateways[raw["TransitGatewayId"]] = TransitGateway(
            raw["TransitGatewayId"], str(raw.get("OwnerId") or ""), _state(raw),
            _enabled(options, "SecurityGroupReferencingSupport", False))


def _attachment(estate: Estate, attachment_id: str, raw: dict) -> TransitGatewayAttachment:
    found = estate.transit_gateway_attachments.get(attachment_id)
    if found is None:
        found = estate.transit_gateway_attachments[attachment_id] = TransitGatewayAttachment(
            attachment_id, raw["TransitGatewayId"], "vpc", raw.get("VpcId", ""), _state(raw))
    return found


def _parse_transit_gateway_attachments(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in _items(answer, "TransitGatewayAttachments"):
        attachment = _attachment(estate, raw["TransitGatewayAttachmentId"], raw)
        association = raw.get("Association") or {}
        attachment.resource_type = raw.get("ResourceType", "vpc")
        attachment.resource_id = raw.get("ResourceId", "")
        attachment.state = _state(raw)
        attachment.resource_owner_id = str(raw.get("ResourceOwnerId") or "")
        attachment.transit_gateway_owner_id = str(raw.get("TransitGatewayOwnerId") or "")
        attachment.route_table_id = (association.get("TransitGatewayRouteTableId")
                                     if association.get("State") == "associated" else None)


def _parse_transit_gateway_vpc_attachments(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in _items(answer, "TransitGatewayVpcAttachments"):
        attachment = _attachment(estate, raw["TransitGatewayAttachmentId"], raw)
        options = raw.get("Options") or {}
        attachment.subnet_ids = list(raw.get("SubnetIds") or [])
        attachment.resource_owner_id = (attachment.resource_owner_id
                                        or str(raw.get("VpcOwnerId") or ""))
        attachment.security_group_referencing = _enabled(
            options, "SecurityGroupReferencingSupport", True)
        attachment.appliance_mode = _enabled(options, "ApplianceModeSupport", False)


def _parse_transit_gateway_route_tables(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in _items(answer, "TransitGatewayRouteTables"):
        estate.transit_gateway_route_tables[raw["TransitGatewayRouteTableId"]] = (
            TransitGatewayRouteTable(raw["TransitGatewayRouteTableId"], raw["TransitGatewayId"],
                                     _state(raw)))


def _transit_gateway_route(raw: dict) -> Route:
    attachments = [a["TransitGatewayAttachmentId"] for a in raw.get("TransitGatewayAttachments")
                   or [] if a.get("TransitGatewayAttachmentId")]
    kind = ("transit_gateway_ecmp" if len(attachments) > 1 else "transit_gateway_attachment")
    state = raw.get("State") or "active"
    if state not in aws_facts.ROUTE_STATES:  # a state EC2 never reports: a hop not proved
        kind, attachments = "unknown", []
    target = ",".join(attachments) or ("blackhole" if state == "blackhole" else "")
    return Route(kind, target, state,
                 destination_cidr=_cidr(raw.get("DestinationCidrBlock")),
                 destination_prefix_list_id=raw.get("PrefixListId"),
                 origin=raw.get("Type", ""))


def _parse_transit_gateway_routes(estate: Estate, answer: Any, scope: Scope) -> None:
    """SearchTransitGatewayRoutes answers, one per route table (the table's id added)."""
    for raw in _answer_list(answer, "search-transit-gateway-routes"):
        table = estate.transit_gateway_route_tables.get(raw["TransitGatewayRouteTableId"])
        if table is not None:
            table.routes = [_transit_gateway_route(route) for route in _items(raw, "Routes")
                            if route.get("State") != "deleted"]


def _peering_side(raw: dict) -> tuple[str, str, str, list[IPv4Network]]:
    cidrs = [_cidr(block.get("CidrBlock")) for block in raw.get("CidrBlockSet") or []]
    cidrs = [c for c in cidrs if c] or [c for c in [_cidr(raw.get("CidrBlock"))] if c]
    return raw.get("VpcId", ""), str(raw.get("OwnerId") or ""), raw.get("Region", ""), cidrs


def _parse_vpc_peering_connections(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in _items(answer, "VpcPeeringConnections"):
        requester = _peering_side(raw.get("RequesterVpcInfo") or {})
        accepter = _peering_side(raw.get("AccepterVpcInfo") or {})
        estate.vpc_peering_connections[raw["VpcPeeringConnectionId"]] = VpcPeeringConnection(
            raw["VpcPeeringConnectionId"], (raw.get("Status") or {}).get("Code", "unknown"),
            requester[0], accepter[0], requester[1], accepter[1], requester[2] or estate.region,
            accepter[2] or estate.region, requester[3], accepter[3])


# --- Systems Manager -------------------------------------------------------------------------


def _parse_dhmc_setting(estate: Estate, answer: Any, scope: Scope) -> None:
    """{"ServiceSetting": {...}}; {"ServiceSetting": null} means AWS found no such setting.

    A setting that is absent, empty or "$None" holds no role: value None (not set).
    """
    if not isinstance(answer, dict) or "ServiceSetting" not in answer:
        raise TypeError('expected {"ServiceSetting": {...}} (or null when not set)')
    setting = answer["ServiceSetting"]
    if setting is None:
        estate.default_host_management = ServiceSetting(api_calls.DHMC_SETTING_ID, None,
                                                        "NotFound")
        return
    if not isinstance(setting, dict):
        raise TypeError('"ServiceSetting" is not a JSON object')
    value = setting.get("SettingValue")
    if value is not None and not isinstance(value, str):
        raise TypeError("SettingValue is not text")
    estate.default_host_management = ServiceSetting(
        setting_id=setting.get("SettingId") or api_calls.DHMC_SETTING_ID,
        value=None if value is None or value.strip() in _UNSET_SETTING_VALUES else value,
        status=str(setting.get("Status") or ""),
    )


def _timestamp(value: Any) -> str:
    """A time as text: the CLI prints ISO 8601, the raw JSON API seconds since the epoch."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return str(value or "")


def _parse_instance_information(estate: Estate, answer: Any, scope: Scope) -> None:
    for raw in scope.instances(_items(answer, "InstanceInformationList", "InstanceId")):
        latest = raw.get("IsLatestVersion")
        node = ManagedNode(
            instance_id=raw["InstanceId"],
            ping_status=str(raw.get("PingStatus") or ""),
            agent_version=str(raw.get("AgentVersion") or ""),
            is_latest_version=None if latest is None else bool(latest),
            last_ping=_timestamp(raw.get("LastPingDateTime")),
            platform_name=str(raw.get("PlatformName") or ""),
        )
        estate.managed_nodes[node.instance_id] = node


# --- Organizations: the service control policies -------------------------------------------


class _Organization:
    """The four Organizations answers of one estate, assembled into its SCP levels at the end.

    Each answer is checked by its own parser (so a malformed file is named); ``assemble`` then
    walks from the account up to the root and sets ``Estate.service_control_policies``.
    """

    def __init__(self) -> None:
        self.organization: dict | None = None
        self.parents: dict[str, dict] = {}  # child id -> its parent {"Id", "Type"}
        self.first_child = ""  # the account the walk started from
        self.attached: dict[str, list[str]] = {}  # target id -> SCP ids attached to it
        self.documents: dict[str, dict] = {}  # SCP id -> its document

    def parsers(self) -> tuple[tuple[api_calls.ApiCall, Callable[[Estate, Any, Scope], None]],
                               ...]:
        return ((api_calls.ORGANIZATION, self.parse_organization),
                (api_calls.ORGANIZATION_PARENTS, self.parse_parents),
                (api_calls.SCP_ATTACHMENTS, self.parse_attachments),
                (api_calls.SCP_DOCUMENTS, self.parse_documents))

    def parse_organization(self, estate: Estate, answer: Any, scope: Scope) -> None:
        """{"Organization": {...}}; {"Organization": null}: not in an organization."""
        if not isinstance(answer, dict) or "Organization" not in answer:
            raise TypeError('expected {"Organization": {...}} (or null when not in one)')
        organization = answer["Organization"]
        if organization is not None and not isinstance(organization, dict):
            raise TypeError('"Organization" is not a JSON object')
        self.organization = organization

    def parse_parents(self, estate: Estate, answer: Any, scope: Scope) -> None:
        for raw in _answer_list(answer, "list-parents"):
            parents = raw.get("Parents")
            if not isinstance(parents, list) or len(parents) > 1:
                raise TypeError(f"the parents of {raw['ChildId']} are not a list of one")
            if parents:
                parent_id = parents[0]["Id"]
                root = "ROOT" if parent_id.startswith("r-") else ""
                self.parents[raw["ChildId"]] = {"Id": parent_id,
                                                "Type": parents[0].get("Type") or root}
            self.first_child = self.first_child or raw["ChildId"]

    def parse_attachments(self, estate: Estate, answer: Any, scope: Scope) -> None:
        for raw in _answer_list(answer, "list-policies-for-target"):
            self.attached[raw["TargetId"]] = [
                policy["Id"] for policy in _items(raw, "Policies")
                if policy.get("Type", api_calls.SCP_FILTER) == api_calls.SCP_FILTER]

    def parse_documents(self, estate: Estate, answer: Any, scope: Scope) -> None:
        for raw in _answer_list(answer, "describe-policy"):
            policy = raw["Policy"]
            summary = policy["PolicySummary"]
            name = summary.get("Name") or summary["Id"]
            self.documents[summary["Id"]] = _document(
                policy["Content"], f"the content of SCP {name} ({summary['Id']})")

    def assemble(self, estate: Estate) -> None:
        """None when unreadable (the reason in ``unavailable``), [] when no SCP applies, else
        one list of documents per level from the root down to the account."""
        kinds = [call.kind for call in api_calls.ORGANIZATION_CALLS]
        estate.service_control_policies = None
        if kinds[0] in estate.unavailable:
            return  # not even known whether the account is in an organization
        account = estate.account_id or self.first_child
        if no_scp_applies(self.organization, account):
            for kind in kinds[1:]:  # not needed
                estate.unavailable.pop(kind, None)
            estate.service_control_policies = []
            return
        if any(kind in estate.unavailable for kind in kinds[1:]):
            return
        levels = self._levels(estate, account)
        if levels is None:
            return
        # AWS keeps at least one SCP (FullAWSAccess by default) on every root, OU and account
        # while SCPs are enabled, and detaches them all when they are disabled on the root:
        # nothing attached anywhere means SCPs are off.
        estate.service_control_policies = levels if any(levels) else []

    def _levels(self, estate: Estate, account: str) -> list[list[dict]] | None:
        """The documents per level, root first; None (and why, in ``unavailable``) when the
        answers do not cover the walk from the account to the root."""
        if not account:
            estate.unavailable[api_calls.ORGANIZATION_PARENTS.kind] = (
                "the account is unknown (no instance and no account id in the data)")
            return None
        targets = [account]
        while True:
            parent = self.parents.get(targets[-1])
            if parent is None or parent["Id"] in targets:
                estate.unavailable[api_calls.ORGANIZATION_PARENTS.kind] = (
                    f"{api_calls.ORGANIZATION_PARENTS.file_name} does not lead from "
                    f"{targets[-1]} to the organization's root")
                return None
            targets.append(parent["Id"])
            if parent["Type"] == "ROOT":
                break
        levels = []
        for target in reversed(targets):
            if target not in self.attached:
                estate.unavailable[api_calls.SCP_ATTACHMENTS.kind] = (
                    f"{api_calls.SCP_ATTACHMENTS.file_name} has no answer for {target}")
                return None
            missing = [pid for pid in self.attached[target] if pid not in self.documents]
            if missing:
                estate.unavailable[api_calls.SCP_DOCUMENTS.kind] = (
                    f"{api_calls.SCP_DOCUMENTS.file_name} lacks policy {missing[0]}")
                return None
            levels.append([self.documents[pid] for pid in self.attached[target]])
        return levels


# Order matters: attributes land on VPCs, entries on prefix lists, versions on policies.
_PARSERS: tuple[tuple[api_calls.ApiCall, Callable[[Estate, Any], None]], ...] = (
    (api_calls.INSTANCES, _parse_instances),
    # Before the VPCs: they join the VPCs of a scoped read to the ones traffic lands in.
    (api_calls.TRANSIT_GATEWAYS, _parse_transit_gateways),
    (api_calls.TRANSIT_GATEWAY_ATTACHMENTS, _parse_transit_gateway_attachments),
    (api_calls.TRANSIT_GATEWAY_VPC_ATTACHMENTS, _parse_transit_gateway_vpc_attachments),
    (api_calls.TRANSIT_GATEWAY_ROUTE_TABLES, _parse_transit_gateway_route_tables),
    (api_calls.TRANSIT_GATEWAY_ROUTES, _parse_transit_gateway_routes),
    (api_calls.VPC_PEERING_CONNECTIONS, _parse_vpc_peering_connections),
    (api_calls.VPCS, _parse_vpcs),
    (api_calls.VPC_ATTRIBUTES, _parse_vpc_attributes),
    (api_calls.DHCP_OPTIONS, _parse_dhcp_options),
    (api_calls.SUBNETS, _parse_subnets),
    (api_calls.ROUTE_TABLES, _parse_route_tables),
    (api_calls.INTERNET_GATEWAYS, _parse_internet_gateways),
    (api_calls.NAT_GATEWAYS, _parse_nat_gateways),
    (api_calls.SECURITY_GROUPS, _parse_security_groups),
    (api_calls.PREFIX_LISTS, _parse_prefix_lists),
    (api_calls.PREFIX_LIST_ENTRIES, _parse_prefix_list_entries),
    (api_calls.NETWORK_ACLS, _parse_network_acls),
    (api_calls.VPC_ENDPOINTS, _parse_vpc_endpoints),
    (api_calls.NETWORK_INTERFACES, _parse_network_interfaces),
    (api_calls.IAM_AUTHORIZATION, _parse_iam_authorization),
    (api_calls.IAM_POLICIES, _parse_iam_policies),
    (api_calls.IAM_POLICY_VERSIONS, _parse_iam_policy_versions),
    (api_calls.DHMC_SETTING, _parse_dhmc_setting),
    (api_calls.INSTANCE_INFORMATION, _parse_instance_information),
)


_BEYOND_KINDS = {call.kind for call in (*api_calls.TRANSIT_GATEWAY_CALLS,
                                         api_calls.VPC_PEERING_CONNECTIONS)}


def beyond_of(raw: RawRegion) -> tuple[dict[str, TransitGatewayAttachment],
                                       dict[str, VpcPeeringConnection]]:
    """The transit gateway attachments and peering connections of raw answers, alone (a
    malformed answer counts as none: ``build_estate`` says what is wrong with it)."""
    estate = Estate(region=raw.region, account_id=raw.account_id)
    for call, parser in _PARSERS:
        if call.kind in _BEYOND_KINDS and call.kind in raw.answers:
            try:
                parser(estate, raw.answers[call.kind], Scope())
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
    return estate.transit_gateway_attachments, estate.vpc_peering_connections


def build_estate(raw: RawRegion, instance_ids: Iterable[str] | None = None) -> Estate:
    """Build the model of one region; kinds that were not read are listed as unavailable.

    With ``instance_ids``, only those instances and the resources of their VPCs are modelled.
    """
    estate = Estate(region=raw.region, account_id=raw.account_id)
    estate.planned_instances = set(raw.planned)  # before the instances: their placeholders
    scope = Scope(instance_ids, raw.answers)
    scope.estate = estate
    organization = _Organization()  # after the instances: their OwnerId names the account
    from auditor.sources.parse_session import PARSERS as SESSION_PARSERS

    dns = DnsAnswers(raw)  # assembled once the VPCs, endpoints and DNS answers are all read
    for call, parser in (*_PARSERS, *organization.parsers(), *SESSION_PARSERS, *dns.parsers()):
        if call.kind in raw.errors:
            estate.unavailable[call.kind] = raw.errors[call.kind]
            continue
        if call.kind not in raw.answers:
            estate.unavailable[call.kind] = f"{call.file_name} was not captured"
            continue
        try:
            parser(estate, raw.answers[call.kind], scope)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            detail = f"missing field {error}" if isinstance(error, KeyError) else str(error)
            where = "account" if call.account_wide else raw.region
            raise UsageError(f"malformed {call.file_name} ({where}): {detail}") from None
    organization.assemble(estate)
    dns.assemble(estate)
    estate.unresolved = dict(raw.unresolved)
    estate.planned_instances = set(raw.planned)
    return estate
