"""Lay the resources of CloudFormation templates over a base estate's raw answers.

``overlay_templates`` is the one entry point: templates (a file, or the stacks of a cdk.out)
are translated into raw API answers in the AWS CLI's shape and merged into a copy of the base
``RawRegion`` (a snapshot, a live capture, or an empty one), so that ``sources.parse`` builds
the estate and ``auditor.audit`` proves it exactly as for running instances. Resources that
change existing ones by id (a rule on ``sg-...``, a route in ``rtb-...``, a policy on an
existing role...) change the base's answers. Synthetic ids derive from logical ids
(``sg-AppSecurityGroup``; an instance's id is its logical id) and ``logical`` maps them back.

Use::

    from auditor.sources.parse import build_estate
    from auditor.sources.template.load import load_templates

    result = overlay_templates(base_raw, load_templates("cdk.out"), {"Env": "prod"})
    estate = build_estate(result.raw)  # Estate.unresolved and .planned_instances are set
    report = auditor.audit.run_audit([estate], instance_ids, source)

Not modelled: custom resources (an ``AwsCustomResource`` calling ModifyVpcAttribute, say) and
nested stacks whose template is not a local file (``nested.py`` reads those that are), listed in
``OverlayResult.not_read``; gateway endpoints (S3, DynamoDB: not on the
agent's path), IPv6 blocks (ignored).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from auditor import aws_regions, limits
from auditor.errors import UsageError
from auditor.sources.bounded_read import beyond, texts
from auditor.sources.raw import RawRegion
from auditor.sources.template import (
    compute,
    dns,
    eks,
    foreach,
    iam,
    nested,
    network,
    refusals,
    schema,
    session,
    transit,
)
from auditor.sources.template.context import LogicalRef, Reader, Scope, Translation
from auditor.sources.template.intrinsics import Resolver, Unresolved
from auditor.sources.template.load import LoadedTemplate, ReadBudget, check_resource
from auditor.sources.template.not_read import (  # NESTED_STACK: kept importable from here
    NESTED_STACK,  # noqa: F401
    NESTED_TYPES,
    not_read,
)

PLACEHOLDER_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

Handler = Callable[[Translation, Reader], None]
# Resource types in the order they are translated: what a resource names exists before it.
PHASES: tuple[dict[str, Handler], ...] = (
    {"AWS::EC2::VPC": network.vpc, "AWS::EC2::DHCPOptions": network.dhcp_options,
     "AWS::EC2::PrefixList": network.prefix_list,
     "AWS::EC2::InternetGateway": network.internet_gateway, "AWS::IAM::Role": iam.role,
     "AWS::EC2::TransitGateway": transit.transit_gateway},
    {"AWS::EC2::VPCCidrBlock": network.vpc_cidr_block,
     "AWS::EC2::VPCDHCPOptionsAssociation": network.dhcp_association,
     "AWS::EC2::Subnet": network.subnet, "AWS::EC2::RouteTable": network.route_table,
     "AWS::EC2::VPCGatewayAttachment": network.gateway_attachment,
     "AWS::EC2::SecurityGroup": network.security_group,
     "AWS::EC2::NetworkAcl": network.network_acl,
     "AWS::IAM::ManagedPolicy": iam.managed_policy, "AWS::IAM::Policy": iam.inline_policy,
     "AWS::IAM::RolePolicy": iam.inline_policy,
     "AWS::IAM::InstanceProfile": iam.instance_profile,
     "AWS::Route53::HostedZone": dns.hosted_zone,
     "AWS::Route53Resolver::ResolverRule": dns.resolver_rule,
     "AWS::Route53Resolver::FirewallDomainList": dns.firewall_domain_list,
     "AWS::EC2::TransitGatewayRouteTable": transit.route_table,
     "AWS::EC2::VPCPeeringConnection": transit.peering_connection},
    {"AWS::EKS::Cluster": eks.cluster},
    {"AWS::EC2::NatGateway": network.nat_gateway,
     "AWS::EC2::SubnetRouteTableAssociation": network.subnet_route_table_association,
     "AWS::EC2::SubnetNetworkAclAssociation": network.subnet_nacl_association,
     "AWS::EC2::NetworkAclEntry": network.network_acl_entry,
     "AWS::EC2::SecurityGroupIngress":
         lambda t, r: network.security_group_rule(t, r, "ingress"),
     "AWS::EC2::SecurityGroupEgress":
         lambda t, r: network.security_group_rule(t, r, "egress"),
     "AWS::EC2::VPCEndpoint": network.vpc_endpoint,
     "AWS::EC2::NetworkInterface": compute.network_interface,
     "AWS::Route53Resolver::ResolverRuleAssociation": dns.resolver_rule_association,
     "AWS::Route53Resolver::FirewallRuleGroup": dns.firewall_rule_group,
     "AWS::Route53Profiles::ProfileAssociation": dns.profile_association,
     "AWS::EC2::TransitGatewayAttachment": transit.vpc_attachment,
     "AWS::EC2::TransitGatewayVpcAttachment": transit.vpc_attachment},
    # Elastic IPs before the launch templates whose interfaces they make public
    {"AWS::EC2::Route": network.route, "AWS::EC2::EIP": compute.elastic_ip,
     "AWS::EC2::EIPAssociation": compute.elastic_ip,
     "AWS::EC2::TransitGatewayRouteTableAssociation": transit.association,
     "AWS::EC2::TransitGatewayRouteTablePropagation": transit.propagation,
     "AWS::EC2::TransitGatewayRoute": transit.route,
     "AWS::Route53::RecordSet": dns.record_set,
     "AWS::Route53::RecordSetGroup": dns.record_set_group,
     "AWS::Route53Resolver::FirewallRuleGroupAssociation":
         dns.firewall_rule_group_association},
    {"AWS::EC2::NetworkInterfaceAttachment": compute.interface_attachment,
     "AWS::EC2::LaunchTemplate": compute.launch_template,
     "AWS::AutoScaling::LaunchConfiguration": compute.launch_configuration},
    {"AWS::EC2::Instance": compute.instance,
     "AWS::AutoScaling::AutoScalingGroup": compute.auto_scaling_group,
     "AWS::EKS::Nodegroup": eks.nodegroup},
    session.RESOURCES, session.REFERRING,  # Session Manager preferences and what they name
)
# Resources whose effect reaches instances only through their own id (which the instances'
# proofs name, so that an unknown one makes them unknown); the others change what they name.
_ONLY_THROUGH_ITS_ID = (
    "AWS::EC2::VPC", "AWS::EC2::DHCPOptions", "AWS::EC2::PrefixList",
    "AWS::EC2::InternetGateway", "AWS::IAM::Role", "AWS::EC2::Subnet", "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup", "AWS::EC2::NetworkAcl", "AWS::IAM::InstanceProfile",
    "AWS::EC2::NatGateway", "AWS::EC2::NetworkInterface", "AWS::EC2::LaunchTemplate",
    "AWS::AutoScaling::LaunchConfiguration", "AWS::EC2::Instance",
    "AWS::AutoScaling::AutoScalingGroup", "AWS::EKS::Cluster", "AWS::EKS::Nodegroup")
# Resources that launch instances: one that cannot be read is still reported (unknown).
_LAUNCHES = ("AWS::EC2::Instance", "AWS::AutoScaling::AutoScalingGroup", "AWS::EKS::Nodegroup")
# Synthetic id prefixes of the resources whose Ref is an EC2 id.
_ID_PREFIXES = {
    "AWS::EC2::VPC": "vpc", "AWS::EC2::Subnet": "subnet", "AWS::EC2::RouteTable": "rtb",
    "AWS::EC2::InternetGateway": "igw", "AWS::EC2::NatGateway": "nat",
    "AWS::EC2::SecurityGroup": "sg", "AWS::EC2::NetworkAcl": "acl",
    "AWS::EC2::VPCEndpoint": "vpce", "AWS::EC2::DHCPOptions": "dopt",
    "AWS::EC2::LaunchTemplate": "lt", "AWS::EC2::NetworkInterface": "eni",
    "AWS::EC2::PrefixList": "pl",
    "AWS::EC2::TransitGateway": "tgw", "AWS::EC2::TransitGatewayAttachment": "tgw-attach",
    "AWS::EC2::TransitGatewayVpcAttachment": "tgw-attach",
    "AWS::EC2::TransitGatewayRouteTable": "tgw-rtb", "AWS::EC2::VPCPeeringConnection": "pcx",
}
# Resources whose Ref is a name (the logical id stands in for a generated one).
_NAME_PROPERTIES = {
    "AWS::IAM::Role": "RoleName", "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
    **session.NAME_PROPERTIES,
    "AWS::EKS::Cluster": "Name",
}


@dataclass
class OverlayResult:
    raw: RawRegion  # the merged answers; build_estate(raw) gives the estate to audit
    logical: dict[str, LogicalRef] = field(default_factory=dict)  # synthetic id -> origin
    unresolved: dict[str, str] = field(default_factory=dict)  # id ("*": unknown target)
    groups: dict[str, list[str]] = field(default_factory=dict)  # ASG id -> per-subnet ids
    planned: list[str] = field(default_factory=list)  # instance ids the templates launch
    # Logical id -> what the auditor does not read in it (a nested stack, a custom resource).
    not_read: dict[str, str] = field(default_factory=dict)
    # Those of them that may launch instances (a nested stack, EKS Auto Mode, AWS Batch...),
    # and those that certainly do (all but the nested stacks): never an all clear.
    unread_launches: list[str] = field(default_factory=list)
    unproved_launches: list[str] = field(default_factory=list)
    # One line per template CloudFormation would refuse (the auditor is no linter: cfn-lint).
    warnings: list[str] = field(default_factory=list)


def _first_match(pattern: re.Pattern, template: LoadedTemplate) -> re.Match | None:
    """The first match in the template's strings, read one by one (a template is not written
    out whole for this: its aliases or loops may make it large)."""
    return next(filter(None, map(pattern.search, texts(template.body))), None)


def infer_region(templates: list[LoadedTemplate]) -> str | None:
    pattern = re.compile(r"com\.amazonaws\.([a-z]{2}(?:-[a-z]+)+-\d)\.|"
                         r"^([a-z]{2}(?:-[a-z]+)+-\d)[a-z]$")
    for template in templates:
        if template.region:
            return template.region
        match = _first_match(pattern, template)
        if match:
            return match.group(1) or match.group(2)
    return None


def infer_account(templates: list[LoadedTemplate]) -> str | None:
    """The account a template is for: its cloud assembly's, else one its ARNs name (a policy
    on arn:aws:ssm:*:111122223333:* must be evaluated for that account, not a placeholder)."""
    pattern = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9*-]*:(\d{12}):")
    for template in templates:
        if template.account:
            return template.account
        match = _first_match(pattern, template)
        if match:
            return match.group(1)
    return None


def _partition(region: str) -> tuple[str, str]:
    partition = aws_regions.partition_of(region)
    return partition.name, partition.dns_suffix


class _Ids:
    """Synthetic ids, Ref and Fn::GetAtt values of one template's resources."""

    def __init__(self, translation: Translation, scope: Scope) -> None:
        self.t = translation
        self.scope = scope
        self.resources = scope.template.resources

    def ref(self, logical_id: str) -> Any:
        if logical_id not in self.scope.ids:
            self.scope.ids[logical_id] = self._assign(logical_id)
        return self.scope.ids[logical_id]

    def _assign(self, logical_id: str) -> Any:
        kind = self.resources[logical_id]["Type"]
        qualifier = self.scope.template.name
        if kind in _ID_PREFIXES:
            prefix = _ID_PREFIXES[kind]
            return self.t.unique(f"{prefix}-{logical_id}", f"{prefix}-{qualifier}-{logical_id}")
        if kind == "AWS::EC2::EIP":
            return Unresolved(f"Ref {logical_id}: the Elastic IP's address is assigned at "
                              "deployment")
        if kind in _NAME_PROPERTIES:
            given = (self.resources[logical_id].get("Properties") or {}).get(
                _NAME_PROPERTIES[kind])
            name = self.scope.resolver.resolve(given) if given is not None else None
            if not isinstance(name, str):
                name = self.t.unique(logical_id, f"{qualifier}-{logical_id}")
            if kind == "AWS::IAM::ManagedPolicy":
                path = (self.resources[logical_id].get("Properties") or {}).get("Path", "/")
                return iam.managed_policy_arn(self.t, name, path if isinstance(path, str)
                                              else "/")
            return name
        return self.t.unique(logical_id, f"{qualifier}/{logical_id}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        kind = self.resources[logical_id]["Type"]
        properties = self.resources[logical_id].get("Properties") or {}
        own = self.ref(logical_id)
        resolve = self.scope.resolver.resolve
        simple = {
            ("AWS::EC2::SecurityGroup", "GroupId"): own,
            ("AWS::EC2::VPC", "VpcId"): own,
            ("AWS::EC2::Subnet", "SubnetId"): own,
            ("AWS::EC2::RouteTable", "RouteTableId"): own,
            ("AWS::EC2::InternetGateway", "InternetGatewayId"): own,
            ("AWS::EC2::NatGateway", "NatGatewayId"): own,
            ("AWS::EC2::NetworkAcl", "Id"): own,
            ("AWS::EC2::VPCEndpoint", "Id"): own,
            ("AWS::EC2::LaunchTemplate", "LaunchTemplateId"): own,
            ("AWS::EC2::LaunchTemplate", "LatestVersionNumber"): "1",
            ("AWS::EC2::LaunchTemplate", "DefaultVersionNumber"): "1",
            ("AWS::IAM::ManagedPolicy", "PolicyArn"): own,
            ("AWS::EC2::PrefixList", "PrefixListId"): own,
            ("AWS::EKS::Cluster", "ClusterSecurityGroupId"): eks.cluster_security_group_id(own),
            ("AWS::EC2::TransitGateway", "Id"): own,
            ("AWS::EC2::TransitGatewayAttachment", "Id"): own,
            ("AWS::EC2::TransitGatewayVpcAttachment", "Id"): own,
            ("AWS::EC2::TransitGatewayRouteTable", "TransitGatewayRouteTableId"): own,
            ("AWS::EC2::VPCPeeringConnection", "Id"): own,
        }
        if (kind, attribute) in simple:
            return simple[(kind, attribute)]
        if kind == "AWS::EC2::TransitGateway" and attribute in (
                "AssociationDefaultRouteTableId", "PropagationDefaultRouteTableId"):
            return transit.default_route_table_id(own)
        if kind == "AWS::EC2::VPC" and attribute == "DefaultNetworkAcl":
            return network.default_nacl_id(own)
        if kind == "AWS::EC2::VPC" and attribute == "DefaultSecurityGroup":
            return network.default_sg_id(own)
        if attribute in ("VpcId", "CidrBlock", "AvailabilityZone") and attribute in properties:
            return resolve(properties[attribute])
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            path = resolve(properties.get("Path", "/"))
            return iam.role_arn(self.t, own, path if isinstance(path, str) else "/")
        if kind == "AWS::IAM::InstanceProfile" and attribute == "Arn":
            path = resolve(properties.get("Path", "/"))
            return iam.instance_profile_arn(self.t, own, path if isinstance(path, str) else "/")
        if kind == "AWS::EC2::VPCEndpoint" and attribute == "DnsEntries":
            service = resolve(properties.get("ServiceName"))
            if isinstance(service, str):  # "zone id:name", as CloudFormation gives them
                return [f"{network.PLANNED_ENDPOINT_ZONE}:"
                        f"{network.endpoint_dns_name(own, service)}"]
        if kind == "AWS::EC2::EIP" and attribute == "AllocationId":
            return f"eipalloc-{logical_id}"
        arn = session.get_att(self.t, kind, own, attribute)
        if arn is not None:
            return arn
        if logical_id in self.scope.children and attribute.startswith("Outputs."):
            return nested.output(self.scope.children[logical_id].resolver,
                                 attribute.removeprefix("Outputs."), logical_id)
        if kind in NESTED_TYPES:
            return Unresolved(f"Fn::GetAtt {logical_id}.{attribute}: an output of nested stack "
                              f"{logical_id}, whose template is not read")
        return Unresolved(f"Fn::GetAtt {logical_id}.{attribute} is known only after deployment")


def _pseudo(template: LoadedTemplate, region: str, account: str) -> dict[str, Any]:
    partition, suffix = _partition(region)
    return {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": partition,
            "AWS::URLSuffix": suffix, "AWS::StackName": template.name,
            "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account}:stack/"
                            f"{template.name}/planned",
            "AWS::NotificationARNs": []}


def _reader(t: Translation, scope: Scope, logical_id: str, resource: dict) -> Reader:
    resource_id = scope.resolver.ref(logical_id)
    if not isinstance(resource_id, str):
        resource_id = logical_id
    properties = resource.get("Properties") or {}
    unknown = None
    if len(properties) == 1 and next(iter(properties)).startswith("Fn::"):
        # Properties: !If [...] and the like: the whole set is one value
        properties = scope.resolver.resolve(properties)
        if not isinstance(properties, dict):
            unknown = getattr(properties, "reason", "not a mapping")
            properties = {}
    reader = Reader(t, scope, logical_id, properties, resource_id,
                    schema.PROPERTIES.get(resource["Type"]))
    if unknown:
        reader.fail(f"{logical_id}.Properties: {unknown}")
        if resource["Type"] not in _ONLY_THROUGH_ITS_ID:
            # it changes resources it names, which are unknown: any instance may depend on it
            reader.fail_everywhere("its properties are unknown")
    return reader


def overlay_templates(base: RawRegion, templates: list[LoadedTemplate],
                      parameters: dict[str, Any] | None = None,
                      region: str | None = None) -> OverlayResult:
    """The base's answers with the templates' resources laid over them.

    ``parameters`` apply to every template that declares them. ``region`` (else the base's,
    else one the templates name, else AWS_REGION/AWS_DEFAULT_REGION, else us-east-1) fills
    ``AWS::Region``.
    """
    region = (region or base.region or infer_region(templates)
              or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
              or DEFAULT_REGION)
    account = base.account_id or infer_account(templates) or PLACEHOLDER_ACCOUNT
    t = Translation(base, region, account)
    scopes: list[Scope] = []
    importing: set[str] = set()
    imported: dict[str, Any] = {}  # each export resolved once, however often it is imported

    def import_value(name: str) -> Any:
        """Fn::ImportValue of an export of another template given with this one (cdk.out's
        cross-stack references)."""
        if name in importing:
            return Unresolved(f"Fn::ImportValue {name} depends on itself")
        if name in imported:
            return imported[name]
        importing.add(name)
        try:
            for other in scopes:
                value = other.resolver.output(name)
                if value is not None:
                    imported[name] = value
                    return value
        finally:
            importing.discard(name)
        exported = [export for other in scopes for export in other.resolver.export_names()]
        if not exported:
            return Unresolved(f"Fn::ImportValue {name}: exported by a stack that is not given")
        closest = difflib.get_close_matches(name, exported, n=5, cutoff=0)
        shown = ", ".join(closest) + (", ..." if len(exported) > len(closest) else "")
        return Unresolved(f"Fn::ImportValue {name}: no template given exports it (closest "
                          f"exports: {shown})")

    unexpanded: list[tuple[Scope, foreach.Unexpanded]] = []
    reads = _NestedReads()
    # (template, its parameters, the scope of its parent and its logical id there, depth)
    queue: list[tuple[LoadedTemplate, Any, Scope | None, str, int]] = [
        (template, dict(parameters or {}), None, "", 0) for template in templates]
    while queue:
        template, values, parent, nested_id, depth = queue.pop(0)
        scope = Scope(template)
        here = Path(template.path).resolve()
        if parent is not None:
            parent.children[nested_id] = scope
            scope.ancestors = (*parent.ancestors, here)
            scope.hierarchy = parent.hierarchy
        else:
            scope.ancestors = (here,)
            scope.hierarchy = [len(template.resources)]
        ids = _Ids(t, scope)
        scope.resolver = Resolver(template.body, values,
                                  _pseudo(template, region, account), ids.ref, ids.get_att,
                                  import_value)
        unexpanded += [(scope, loop) for loop in _expand_loops(scope, ids)]
        template = scope.template
        queue += _nested(scope, depth, reads)
        scopes.append(scope)
        for logical_id, resource in template.resources.items():
            resource_id = ids.ref(logical_id)
            key = resource_id if isinstance(resource_id, str) else logical_id
            metadata = resource.get("Metadata")
            construct = metadata.get("aws:cdk:path", "") if isinstance(metadata, dict) else ""
            t.logical[key] = LogicalRef(template.path, logical_id,
                                        template.lines.get(logical_id), resource["Type"],
                                        str(construct))
    for phase in PHASES:
        for scope in scopes:
            for logical_id, resource in scope.template.resources.items():
                handler = phase.get(resource["Type"])
                if handler is None:
                    continue
                _translate(t, scope, logical_id, resource, handler)
    compute.unused_launch_templates(t)
    for scope, loop in unexpanded:
        _unexpanded_loop(t, scope, loop)
    for group_id, members in t.groups.items():
        for member in members:
            t.logical[member] = t.logical[group_id]
    unread, unread_launches, unproved = not_read(scopes)
    looping = {id(scope) for scope, _ in unexpanded}
    warnings = [line for scope in scopes
                if (line := refusals.warning(scope, id(scope) not in looping))]
    return OverlayResult(t.raw(base), t.logical, dict(t.unresolved), dict(t.groups),
                         list(t.planned), unread, unread_launches, unproved, warnings)


def _expand_loops(scope: Scope, ids: _Ids) -> list[foreach.Unexpanded]:
    """Expand the template's Fn::ForEach loops in place (the scope's template, resolver and
    ids then see the resources they make); the loops that could not be expanded."""
    template = scope.template
    if not any(foreach.is_loop(key, value) for key, value in template.resources.items()):
        return []
    budget = foreach.Budget(f"template {template.path}")
    resources: dict[str, Any] = {}
    lines = dict(template.lines)  # a resource a loop made is located at the loop
    loops: list[foreach.Unexpanded] = []
    for key, value in template.resources.items():
        if not foreach.is_loop(key, value):
            resources[key] = value
            continue
        made, unexpanded = foreach.expand({key: value}, scope.resolver, budget)
        for logical_id, resource in made.items():
            check_resource(template.path, logical_id, resource)
        resources.update(made)
        loops += unexpanded
        for logical_id in made:
            lines.setdefault(logical_id, template.lines.get(key))
    if len(resources) > limits.TEMPLATE_RESOURCES.value:
        raise UsageError(f"template {template.path}: its Fn::ForEach loops make "
                         f"{len(resources):,} resources, past "
                         f"{beyond(limits.TEMPLATE_RESOURCES)}")
    scope.template = replace(template, body={**template.body, "Resources": resources},
                             lines=lines)
    scope.resolver.body = scope.template.body
    ids.resources = scope.template.resources
    return loops


class _NestedReads:
    """The nested templates one overlay reads: each file once, within one read budget."""

    def __init__(self) -> None:
        self.budget = ReadBudget()
        self.loaded: dict[Path, LoadedTemplate | str] = {}

    def load(self, parent: LoadedTemplate, logical_id: str, path: Path) -> LoadedTemplate | str:
        key = path.resolve()
        if key not in self.loaded:
            self.loaded[key] = nested.load_child(parent, logical_id, path, self.budget)
        found = self.loaded[key]
        if isinstance(found, str):
            return found
        return replace(found, name=f"{parent.name}-{logical_id}", region=parent.region,
                       account=parent.account)


def _nested(scope: Scope, depth: int, reads: _NestedReads
            ) -> list[tuple[LoadedTemplate, Any, Scope, str, int]]:
    """The nested stacks of a template whose template is a local file, to read next; why the
    others that are local files are not read (``scope.unread``)."""
    found = []
    for logical_id, resource in scope.template.resources.items():
        if resource["Type"] not in nested.NESTED_TYPES:
            continue
        path = nested.local_template(scope.template, resource)
        if path is None:
            continue  # in S3: not read
        if depth >= limits.NESTED_DEPTH.value:
            scope.unread[logical_id] = f"nested past {beyond(limits.NESTED_DEPTH)}"
            continue
        if path.resolve() in scope.ancestors:
            scope.unread[logical_id] = (f"its template {path.name} is already being read above "
                                        "it: the stack would nest itself without end")
            continue
        child = reads.load(scope.template, logical_id, path)
        if isinstance(child, str):
            scope.unread[logical_id] = child
            continue
        if scope.hierarchy[0] + len(child.resources) > limits.NESTED_RESOURCES.value:
            scope.unread[logical_id] = (f"the stack hierarchy would hold more than "
                                        f"{beyond(limits.NESTED_RESOURCES)}")
            continue
        scope.hierarchy[0] += len(child.resources)
        passed = nested.PassedParameters(
            (resource.get("Properties") or {}).get("Parameters"), scope.resolver)
        found.append((child, passed, scope, logical_id, depth + 1))
    return found


def _unexpanded_loop(t: Translation, scope: Scope, loop: foreach.Unexpanded) -> None:
    """A loop known only at deployment: the instances it launches are reported unknown under
    its name; anything else it creates that the proof reads may change every instance."""
    reason = f"{loop.key} cannot be expanded: {loop.reason}"
    if any(kind in _LAUNCHES or kind == "AWS::EC2::LaunchTemplate" for kind in loop.types):
        t.logical[loop.key] = LogicalRef(scope.template.path, loop.key,
                                         scope.template.lines.get(loop.key), "Fn::ForEach")
        compute.emit_instance(t, loop.key, compute.Launch(), "",
                              unplaced_reason=f"{reason}: what it launches is unknown")
    elif any(kind in phase for phase in PHASES for kind in loop.types):
        t.mark("*", reason)


def _translate(t: Translation, scope: Scope, logical_id: str, resource: dict,
               handler: Handler) -> None:
    condition = resource.get("Condition")
    decided: Any = True
    if isinstance(condition, str):
        decided = scope.resolver.condition(condition)
        if decided is False:
            return
    reader = _reader(t, scope, logical_id, resource)
    try:
        handler(t, reader)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError,
            RecursionError) as error:
        # A property of an unexpected shape: that resource is unknown, the rest is proved.
        reader.fail(f"{logical_id}: a property has a form the auditor cannot read "
                    f"({type(error).__name__}: {error})")
        if resource["Type"] in _LAUNCHES and reader.resource_id not in t.planned:
            compute.emit_instance(t, reader.resource_id, compute.Launch(), "",
                                  unplaced_reason=t.unresolved[reader.resource_id])
    if isinstance(decided, Unresolved):
        reader.fail(f"whether {logical_id} is created depends on {decided.reason}")
