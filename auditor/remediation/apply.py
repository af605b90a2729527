"""Lay a remediation plan over the estate model, to prove it before anything is deployed.

The planner uses it to check each change it proposes; ``verify`` uses ``apply_manual_steps``
for the steps CloudFormation cannot take (the stacks themselves come from the synthesized
templates). Planned resources get ids that say they are planned (``vpce-planned-...``).
"""

from __future__ import annotations

from ipaddress import ip_network

from auditor import aws_facts
from auditor.aws_managed_policies import AWS_MANAGED_POLICIES, managed_policy_arn_prefix
from auditor.capability_facts import S3_SERVICE
from auditor.model import (
    Estate,
    InstanceProfile,
    LogGroup,
    ManagedPolicy,
    MetadataOptions,
    NaclEntry,
    PortRange,
    Role,
    Route,
    SecurityGroup,
    SecurityGroupRule,
    VpcEndpoint,
)
from auditor.remediation.plan import (
    EndpointsEntry,
    InstanceRoleEntry,
    ManualStep,
    NaclEntryEntry,
    Plan,
    RolePolicyEntry,
    RouteEntry,
    SecurityGroupRuleEntry,
)


def planned_endpoint_group_id(entry: EndpointsEntry) -> str:
    return f"sg-planned-{entry.id}"


def apply_plan(estate: Estate, plan: Plan) -> None:
    """Every change of ``plan`` that concerns ``estate``'s region, manual steps included."""
    for endpoints in plan.endpoints:
        if endpoints.region == estate.region:
            apply_endpoints(estate, endpoints)
    for rule in plan.security_group_rules:
        if rule.region == estate.region:
            apply_security_group_rule(estate, rule)
    for entry in plan.nacl_entries:
        if entry.region == estate.region:
            apply_nacl_entry(estate, entry)
    for route in plan.routes:
        if route.region == estate.region:
            apply_route(estate, route)
    for role in plan.instance_roles:
        apply_instance_role(estate, role)
    for policy in plan.role_policies:
        apply_role_policy(estate, policy)
    apply_manual_steps(estate, plan.manual_steps)


def apply_endpoints(estate: Estate, entry: EndpointsEntry) -> None:
    group_id = planned_endpoint_group_id(entry)
    group = SecurityGroup(group_id, entry.vpc_id, f"ssm-auditor endpoints {entry.vpc_id}")
    https = PortRange(aws_facts.TCP, aws_facts.HTTPS_PORT, aws_facts.HTTPS_PORT)
    group.ingress = [SecurityGroupRule("ingress", https, group_id=peer)
                     for peer in entry.allow_from_security_groups]
    group.ingress += [SecurityGroupRule("ingress", https, cidr=ip_network(cidr))
                      for cidr in entry.allow_from_cidrs]
    group.egress = [SecurityGroupRule("egress", PortRange("-1", 0, 65535),
                                      cidr=ip_network("0.0.0.0/0"))]
    estate.security_groups[group_id] = group
    for service in entry.services:
        endpoint_id = f"vpce-planned-{service}-{entry.vpc_id}"
        estate.vpc_endpoints[endpoint_id] = VpcEndpoint(
            endpoint_id, entry.vpc_id, aws_facts.endpoint_service_name(entry.region, service),
            "Interface", aws_facts.ENDPOINT_AVAILABLE, True, list(entry.subnet_ids), [group_id])
    if entry.s3_gateway_route_table_ids:
        apply_s3_gateway(estate, entry)


def apply_s3_gateway(estate: Estate, entry: EndpointsEntry) -> None:
    """The S3 gateway endpoint, and the route to S3's prefix list it adds to each table."""
    endpoint_id = f"vpce-planned-s3-{entry.vpc_id}"
    estate.vpc_endpoints[endpoint_id] = VpcEndpoint(
        endpoint_id, entry.vpc_id, aws_facts.endpoint_service_name(entry.region, S3_SERVICE),
        "Gateway", aws_facts.ENDPOINT_AVAILABLE, False)
    for table_id in entry.s3_gateway_route_table_ids:
        _gateway_route(estate, table_id, endpoint_id)


def _gateway_route(estate: Estate, table_id: str, endpoint_id: str) -> bool:
    table = estate.route_tables.get(table_id)
    endpoint = estate.vpc_endpoints.get(endpoint_id)
    if table is None or endpoint is None:
        return False
    s3_list = next((pl.prefix_list_id for pl in estate.prefix_lists.values()
                    if pl.name == endpoint.service_name), f"pl-planned-{endpoint.service_name}")
    if not any(route.target_id == endpoint_id for route in table.routes):
        table.routes.append(Route("vpc_endpoint", endpoint_id, "active",
                                  destination_prefix_list_id=s3_list))
    return True


def apply_security_group_rule(estate: Estate, entry: SecurityGroupRuleEntry) -> None:
    group = estate.security_groups.get(entry.group_id)
    if group is None:
        return
    rule = SecurityGroupRule(entry.direction, PortRange(entry.protocol, entry.from_port,
                                                        entry.to_port),
                             cidr=ip_network(entry.cidr) if entry.cidr else None,
                             group_id=entry.peer_security_group_id,
                             description=entry.description)
    (group.egress if entry.direction == "egress" else group.ingress).append(rule)


def apply_nacl_entry(estate: Estate, entry: NaclEntryEntry) -> None:
    nacl = estate.network_acls.get(entry.network_acl_id)
    if nacl is None:
        return
    new = NaclEntry(entry.rule_number, entry.egress, True, entry.protocol,
                    ip_network(entry.cidr), entry.from_port, entry.to_port)
    nacl.entries = sorted([*nacl.entries, new], key=lambda e: e.rule_number)


def apply_route(estate: Estate, entry: RouteEntry) -> bool:
    """The route, in its VPC or transit gateway route table (replacing one for the same
    destination); False when the table is not in the estate."""
    destination = ip_network(entry.destination_cidr)
    if entry.in_transit_gateway:
        table = estate.transit_gateway_route_tables.get(entry.route_table_id)
        route = Route("transit_gateway_attachment", entry.transit_gateway_attachment_id or "",
                      "active", destination, origin="static")
    else:
        table = estate.route_tables.get(entry.route_table_id)
        kind, target = (("transit_gateway", entry.transit_gateway_id)
                        if entry.transit_gateway_id
                        else ("vpc_peering", entry.vpc_peering_connection_id))
        route = Route(kind, target or "", "active", destination, origin="CreateRoute")
    if table is None or table.routes is None:
        return False
    table.routes = [r for r in table.routes if r.destination_cidr != destination] + [route]
    return True


def apply_instance_role(estate: Estate, entry: InstanceRoleEntry) -> None:
    account = estate.account_id or "000000000000"
    partition = aws_facts.partition(estate.region)
    prefix = managed_policy_arn_prefix(partition)
    for arn in entry.managed_policy_arns:
        if arn not in estate.managed_policies and arn.startswith(prefix):
            name = arn.removeprefix(prefix)
            if name in AWS_MANAGED_POLICIES:
                estate.managed_policies[arn] = ManagedPolicy(arn, name, AWS_MANAGED_POLICIES[name],
                                                             aws_managed=True)
    estate.roles[entry.role_name] = Role(entry.role_name,
                                         f"arn:{partition}:iam::{account}:role/"
                                         f"{entry.role_name}",
                                         aws_facts.EC2_TRUST_POLICY,
                                         attached_policy_arns=list(entry.managed_policy_arns))
    profile_arn = instance_profile_arn(estate, entry.instance_profile_name)
    estate.instance_profiles[profile_arn] = InstanceProfile(entry.instance_profile_name,
                                                            profile_arn, [entry.role_name])


def apply_role_policy(estate: Estate, entry: RolePolicyEntry) -> None:
    role = estate.roles.get(entry.role_name)
    if role is not None:
        role.inline_policies[entry.policy_name] = {"Version": "2012-10-17",
                                                   "Statement": entry.statements}


def instance_profile_arn(estate: Estate, name: str) -> str:
    for arn, profile in estate.instance_profiles.items():
        if profile.name == name:
            return arn
    return (f"arn:{aws_facts.partition(estate.region)}:iam::"
            f"{estate.account_id or '000000000000'}:instance-profile/{name}")


def apply_manual_steps(estate: Estate, steps: list[ManualStep]) -> list[ManualStep]:
    """Assume the steps are done; returns those the model cannot take (left to a person)."""
    left = []
    for step in steps:
        if step.region and step.region != estate.region:
            continue
        action = _MANUAL_ACTIONS.get(step.action)
        if action is None or not action(estate, step.parameters):
            left.append(step)
    return left


def _associate_profile(estate: Estate, parameters: dict) -> bool:
    instance = estate.instances.get(parameters.get("instance_id", ""))
    name = parameters.get("instance_profile_name")
    if instance is None or not name:
        return False
    instance.instance_profile_arn = instance_profile_arn(estate, name)
    return True


def _add_role_to_profile(estate: Estate, parameters: dict) -> bool:
    """IAM lists a profile only through its roles, so an empty one may be missing: add it."""
    name = parameters.get("instance_profile_name", "")
    role_name = parameters.get("role_name")
    if not role_name:
        return False
    arn = parameters.get("instance_profile_arn") or instance_profile_arn(estate, name)
    estate.instance_profiles[arn] = InstanceProfile(name, arn, [role_name])
    return True


def _update_trust_policy(estate: Estate, parameters: dict) -> bool:
    role = estate.roles.get(parameters.get("role_name", ""))
    if role is None or "policy_document" not in parameters:
        return False
    role.trust_policy = parameters["policy_document"]
    return True


def _vpc_attribute(attribute: str):
    def enable(estate: Estate, parameters: dict) -> bool:
        vpc = estate.vpcs.get(parameters.get("vpc_id", ""))
        if vpc is None:
            return False
        setattr(vpc, attribute, True)
        return True
    return enable


def _endpoint_private_dns(estate: Estate, parameters: dict) -> bool:
    endpoint = estate.vpc_endpoints.get(parameters.get("vpc_endpoint_id", ""))
    if endpoint is None:
        return False
    endpoint.private_dns_enabled = True
    return True


def _reset_endpoint_policy(estate: Estate, parameters: dict) -> bool:
    endpoint = estate.vpc_endpoints.get(parameters.get("vpc_endpoint_id", ""))
    if endpoint is None:
        return False
    endpoint.policy_document = None  # the default policy: full access
    return True


def _metadata_endpoint(estate: Estate, parameters: dict) -> bool:
    instance = estate.instances.get(parameters.get("instance_id", ""))
    if instance is None:
        return False
    current = instance.metadata or MetadataOptions()
    # The step's command requires IMDSv2 as it enables the endpoint (catalogue.MANUAL_ACTIONS).
    instance.metadata = MetadataOptions("enabled", "required",
                                        current.http_put_response_hop_limit, current.state)
    return True


def _add_gateway_route(estate: Estate, parameters: dict) -> bool:
    return _gateway_route(estate, parameters.get("route_table_id", ""),
                          parameters.get("vpc_endpoint_id", ""))


def _create_log_group(estate: Estate, parameters: dict) -> bool:
    name = parameters.get("log_group", "")
    if not name:
        return False
    estate.session.log_groups[name] = LogGroup(name, True)
    return True


def _route_step(estate: Estate, parameters: dict) -> bool:
    """create-route or create-transit-gateway-route, run by hand in another account."""
    option = str(parameters.get("target_option", "")).split()
    target = {"--transit-gateway-id": "transit_gateway_id",
              "--vpc-peering-connection-id": "vpc_peering_connection_id"}
    entry = RouteEntry(
        "", estate.region,
        parameters.get("route_table_id") or parameters.get("transit_gateway_route_table_id", ""),
        parameters["destination_cidr"],
        transit_gateway_attachment_id=parameters.get("transit_gateway_attachment_id"))
    if len(option) == 2 and option[0] in target:
        setattr(entry, target[option[0]], option[1])
    return apply_route(estate, entry)


def _attachment_subnet(estate: Estate, parameters: dict) -> bool:
    attachment = estate.transit_gateway_attachments.get(
        parameters.get("transit_gateway_attachment_id", ""))
    if attachment is None or attachment.subnet_ids is None:
        return False
    attachment.subnet_ids = [*attachment.subnet_ids, parameters["subnet_id"]]
    return True


def _authorize_ingress(estate: Estate, parameters: dict) -> bool:
    group = estate.security_groups.get(parameters.get("group_id", ""))
    if group is None:
        return False
    https = PortRange(aws_facts.TCP, aws_facts.HTTPS_PORT, aws_facts.HTTPS_PORT)
    group.ingress.append(SecurityGroupRule("ingress", https,
                                           cidr=ip_network(parameters["destination_cidr"])))
    return True


_MANUAL_ACTIONS = {
    "create_route": _route_step,
    "create_transit_gateway_route": _route_step,
    "add_attachment_subnet": _attachment_subnet,
    "authorize_security_group_ingress": _authorize_ingress,
    "associate_instance_profile": _associate_profile,
    "add_role_to_instance_profile": _add_role_to_profile,
    "update_assume_role_policy": _update_trust_policy,
    "enable_vpc_dns_support": _vpc_attribute("enable_dns_support"),
    "enable_vpc_dns_hostnames": _vpc_attribute("enable_dns_hostnames"),
    "enable_endpoint_private_dns": _endpoint_private_dns,
    "enable_metadata_endpoint": _metadata_endpoint,
    "reset_endpoint_policy": _reset_endpoint_policy,
    "add_gateway_endpoint_route": _add_gateway_route,
    "create_log_group": _create_log_group,
}
