"""The state of one translation: the merged raw answers, ids, and what stayed unresolved."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from ipaddress import IPv4Network, ip_network
from pathlib import Path
from typing import Any

from auditor.sources import api_calls
from auditor.sources.raw import RawRegion
from auditor.sources.template import schema
from auditor.sources.template.intrinsics import NO_VALUE, Resolver, first_unresolved
from auditor.sources.template.load import LoadedTemplate

# Raw answer kinds the overlay writes: (kind, list key inside the answer, id field).
LISTED_KINDS: tuple[tuple[str, str, str], ...] = (
    ("vpcs", "Vpcs", "VpcId"),
    ("dhcp_options", "DhcpOptions", "DhcpOptionsId"),
    ("subnets", "Subnets", "SubnetId"),
    ("route_tables", "RouteTables", "RouteTableId"),
    ("internet_gateways", "InternetGateways", "InternetGatewayId"),
    ("nat_gateways", "NatGateways", "NatGatewayId"),
    ("security_groups", "SecurityGroups", "GroupId"),
    ("network_acls", "NetworkAcls", "NetworkAclId"),
    ("vpc_endpoints", "VpcEndpoints", "VpcEndpointId"),
    ("network_interfaces", "NetworkInterfaces", "NetworkInterfaceId"),
    ("transit_gateways", "TransitGateways", "TransitGatewayId"),
    ("transit_gateway_attachments", "TransitGatewayAttachments", "TransitGatewayAttachmentId"),
    ("transit_gateway_vpc_attachments", "TransitGatewayVpcAttachments",
     "TransitGatewayAttachmentId"),
    ("transit_gateway_route_tables", "TransitGatewayRouteTables", "TransitGatewayRouteTableId"),
    ("vpc_peering_connections", "VpcPeeringConnections", "VpcPeeringConnectionId"),
)

# Why account settings are unknown when a template is audited on its own.
NOT_READ = ("not read: the template is audited on its own (give --snapshot DIR or --live to "
            "read the account)")


@dataclass(frozen=True)
class LogicalRef:
    """Where a synthetic id comes from: a template file and a resource's logical id."""

    path: str
    logical_id: str
    line: int | None
    resource_type: str
    construct_path: str = ""  # a CDK construct's path (the resource's aws:cdk:path metadata)


@dataclass
class Scope:
    """One template being translated: its resolver and the ids of its resources."""

    template: LoadedTemplate
    resolver: Resolver | None = None
    ids: dict[str, str] = field(default_factory=dict)  # logical id -> synthetic id / name
    children: dict[str, Scope] = field(default_factory=dict)  # nested stacks read
    unread: dict[str, str] = field(default_factory=dict)  # nested stack -> why it is not read
    ancestors: tuple[Path, ...] = ()  # the template files above it, and its own
    hierarchy: list[int] = field(default_factory=lambda: [0])  # resources read under the root


class Translation:
    """Raw answers being built: the base's, copied on write, plus the templates' resources."""

    def __init__(self, base: RawRegion, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self.template_only = not base.answers and not base.errors
        self.errors = dict(base.errors)
        self.answers: dict[str, Any] = dict(base.answers)
        self.lists: dict[str, list[dict]] = {}
        self.index: dict[str, dict[str, dict]] = {}
        self._owned: set[int] = set()  # entries created or copied here, safe to change
        for kind, key, id_field in LISTED_KINDS:
            items = list((self.answers.get(kind) or {}).get(key) or [])
            self.lists[kind] = items
            self.index[kind] = {item.get(id_field): item for item in items}
        self.vpc_attributes = list(self.answers.get("vpc_attributes") or [])
        iam = dict(self.answers.get("iam_authorization") or {})
        self.iam_extra = {k: v for k, v in iam.items() if k not in ("RoleDetailList", "Policies")}
        self.roles = {role["RoleName"]: role for role in iam.get("RoleDetailList") or []}
        self.policies = {policy["Arn"]: policy for policy in iam.get("Policies") or []}
        self.profiles = {profile["InstanceProfileName"]: profile["Arn"]  # name -> ARN
                         for role in self.roles.values()
                         for profile in role.get("InstanceProfileList") or []
                         if profile.get("InstanceProfileName")}
        self.reservation: list[dict] = []
        self.unresolved: dict[str, str] = {}
        self.logical: dict[str, LogicalRef] = {}
        self.planned: list[str] = []
        self.groups: dict[str, list[str]] = {}  # report id -> instance ids (an ASG's subnets)
        self.used_ids: set[str] = set()
        self.launch_templates: dict[str, Any] = {}  # id or name -> compute.Launch
        self.launch_template_owner: dict[str, str] = {}  # launch template id -> logical id
        self.used_launch_templates: set[int] = set()  # id() of the Launch objects used
        self.elastic_ips: set[str] = set()  # instance or interface ids with an Elastic IP
        # ids with an Elastic IP on an address that may not be their primary one: why
        self.unclear_elastic_ips: dict[str, str] = {}
        self.interfaces: dict[str, Any] = {}  # network interface id -> compute.Launch
        self.prefix_lists: list[dict] = []  # DescribeManagedPrefixLists entries
        self.prefix_list_entries: list[dict] = []  # GetManagedPrefixListEntries answers
        self.dns: dict[str, Any] = {}  # DNS answers being built (template/dns.py), by kind
        self._created: set[int] = set()  # entries the templates create (not the base's)
        # SearchTransitGatewayRoutes answers by route table id (copied: templates change them).
        self.transit_gateway_routes: dict[str, list[dict]] = {
            answer["TransitGatewayRouteTableId"]: list(answer.get("Routes") or [])
            for answer in self.answers.get("transit_gateway_routes") or []
            if isinstance(answer, dict) and "TransitGatewayRouteTableId" in answer}
        self.eks_clusters: dict[str, str | None] = {}  # cluster name -> its security group
        self._hosts: dict[str, int] = {}

    # --- what can be written --------------------------------------------------------------

    def writes(self, kind: str) -> bool:
        """Whether template resources of ``kind`` can be added: never over an unreadable or
        uncaptured kind of a real estate (that would hide what is already there)."""
        if kind in self.errors:
            return False
        return self.template_only or kind in self.answers

    def knows(self, kind: str) -> bool:
        """Whether the base estate's resources of ``kind`` are known (so a missing id is
        really missing)."""
        return kind in self.answers and kind not in self.errors and not self.template_only

    # --- entries --------------------------------------------------------------------------

    def add(self, kind: str, item: dict, item_id: str) -> dict:
        self.lists[kind].append(item)
        self.index[kind][item_id] = item
        self._owned.add(id(item))
        self._created.add(id(item))
        return item

    def created(self, item: dict) -> bool:
        """Whether a template creates the entry (rather than the base holding it)."""
        return id(item) in self._created

    def get(self, kind: str, item_id: Any) -> dict | None:
        return self.index[kind].get(item_id) if isinstance(item_id, str) else None

    def mutable(self, kind: str, item_id: str) -> dict | None:
        """The entry, copied first when it belongs to the base (the base stays untouched)."""
        item = self.get(kind, item_id)
        if item is None or id(item) in self._owned:
            return item
        copied = copy.deepcopy(item)
        items = self.lists[kind]
        items[items.index(item)] = copied
        self.index[kind][item_id] = copied
        self._owned.add(id(copied))
        return copied

    def mutable_role(self, name: str) -> dict | None:
        role = self.roles.get(name)
        if role is None or id(role) in self._owned:
            return role
        copied = self.roles[name] = copy.deepcopy(role)
        self._owned.add(id(copied))
        return copied

    def own(self, item: dict) -> dict:
        self._owned.add(id(item))
        return item

    # --- ids and reasons ------------------------------------------------------------------

    def unique(self, wanted: str, qualified: str) -> str:
        chosen = wanted if wanted not in self.used_ids else qualified
        self.used_ids.add(chosen)
        return chosen

    def why_missing(self, kind: str, resource_id: str) -> str:
        """Why a resource named by id is not in the answers, as the end of a sentence."""
        if resource_id in self.unresolved:
            return f"could not be resolved ({self.unresolved[resource_id]})"
        if self.knows(kind):
            return "is not in the estate"
        return "is not in the template, and no snapshot or live data was given"

    def mark(self, resource_id: str, reason: str) -> None:
        if resource_id not in self.unresolved:
            self.unresolved[resource_id] = reason
        elif reason not in self.unresolved[resource_id]:
            self.unresolved[resource_id] += f"; {reason}"

    def next_host(self, cidr: str) -> str:
        """A private address in ``cidr`` for a planned interface (AWS keeps the first four)."""
        network = ip_network(cidr, strict=False)
        used = self._hosts.get(cidr, 3) + 1
        self._hosts[cidr] = used
        if not isinstance(network, IPv4Network) or used >= network.num_addresses - 1:
            return str(network.network_address + 4)
        return str(network.network_address + used)

    def vpc_cidrs(self, vpc_id: str) -> list[str]:
        vpc = self.get("vpcs", vpc_id) or {}
        cidrs = [assoc["CidrBlock"] for assoc in vpc.get("CidrBlockAssociationSet") or []
                 if assoc.get("CidrBlock")]
        return cidrs or ([vpc["CidrBlock"]] if vpc.get("CidrBlock") else [])

    # --- output ---------------------------------------------------------------------------

    def raw(self, base: RawRegion) -> RawRegion:
        answers = dict(self.answers)
        for kind, key, _ in LISTED_KINDS:
            if self.writes(kind):
                answer = dict(answers.get(kind) or {})
                answer[key] = self.lists[kind]
                answers[kind] = answer
        if self.writes("vpc_attributes"):
            answers["vpc_attributes"] = self.vpc_attributes
        if self.writes("instances"):
            reservations = list((answers.get("instances") or {}).get("Reservations") or [])
            if self.reservation:
                reservations.append({"ReservationId": "r-planned", "OwnerId": self.account_id,
                                     "Instances": self.reservation})
            answers["instances"] = {**(answers.get("instances") or {}),
                                    "Reservations": reservations}
        if self.writes("iam_authorization"):
            answers["iam_authorization"] = {**self.iam_extra,
                                            "RoleDetailList": list(self.roles.values()),
                                            "Policies": list(self.policies.values())}
        if self.prefix_lists and self.writes("prefix_lists"):
            known = (answers.get("prefix_lists") or {}).get("PrefixLists") or []
            answers["prefix_lists"] = {**(answers.get("prefix_lists") or {}),
                                       "PrefixLists": [*known, *self.prefix_lists]}
        if self.writes("transit_gateway_routes"):
            answers["transit_gateway_routes"] = [
                {"TransitGatewayRouteTableId": table_id, "Routes": routes}
                for table_id, routes in self.transit_gateway_routes.items()]
        if self.prefix_list_entries and self.writes("prefix_list_entries"):
            answers["prefix_list_entries"] = [*(answers.get("prefix_list_entries") or []),
                                              *self.prefix_list_entries]
        from auditor.sources.template import dns

        dns.finish(self, answers)
        errors = dict(self.errors)
        if self.template_only:
            for kind in ("iam_policies", "iam_policy_versions", "prefix_list_entries"):
                answers.setdefault(kind, [])
            answers.setdefault("prefix_lists", {"PrefixLists": []})
            for call in api_calls.ALL_CALLS:
                if call.kind not in answers:
                    errors[call.kind] = NOT_READ
        return RawRegion(base.region or self.region, base.account_id or self.account_id,
                         answers, errors,
                         unresolved=dict(self.unresolved), planned=list(self.planned))


class Reader:
    """Reads one resource's properties, resolving each when asked and recording what could
    not be resolved against the resource id (and any parent it changes)."""

    def __init__(self, translation: Translation, scope: Scope, logical_id: str,
                 properties: dict[str, Any], resource_id: str,
                 shapes: dict[str, Any] | None = None) -> None:
        self.translation = translation
        self.scope = scope
        self.logical_id = logical_id
        self.properties = properties
        self.resource_id = resource_id
        self.shapes = shapes or {}  # property -> the shape it must have (schema.py)
        self.marks = [resource_id]

    def value(self, name: str, default: Any = None, *, required: bool = False) -> Any:
        """The resolved property; ``default`` when absent; None (and the resource marked)
        when it cannot be resolved."""
        if name not in self.properties:
            if required:
                self.fail(f"{self.logical_id} has no {name}")
            return default
        resolved = self.scope.resolver.resolve(self.properties[name])
        if resolved is NO_VALUE:  # Ref AWS::NoValue: as if the property were not there
            return default
        found = first_unresolved(resolved)
        if found:
            self.fail(f"{self.logical_id}.{name}: {found.reason}")
            return None
        if name in self.shapes:
            try:
                return schema.conform(self.shapes[name], resolved)
            except schema.Refused as refused:
                self.fail(f"{self.logical_id}.{name}: expected {refused} (CloudFormation "
                          "refuses it)")
                return None
        return resolved

    def also_marks(self, resource_id: str | None) -> None:
        if resource_id and resource_id not in self.marks:
            self.marks.append(resource_id)

    def fail_everywhere(self, what: str) -> None:
        """The resource changes something unknown (a route in a table nobody can name): every
        instance may depend on it, so the reason goes to all of them, with why."""
        why = self.translation.unresolved.get(self.resource_id)
        self.translation.mark("*", f"{self.logical_id}: {what}" + (f" ({why})" if why else ""))

    def fail(self, reason: str) -> None:
        for resource_id in self.marks:
            self.translation.mark(resource_id, reason)
