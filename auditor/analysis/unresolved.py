"""Which planned values an instance's proof rests on that could not be resolved.

A template value nobody can know before deployment (a parameter without a value, an import,
an attribute AWS assigns) is kept out of the model and its resource listed in
``Estate.unresolved``. An instance that depends on such a resource is never proven
manageable: its verdict becomes unknown, with the reason.
"""

from __future__ import annotations

from auditor.analysis.graph import EstateGraph
from auditor.model import Estate, Instance

ANY_RESOURCE = "*"


def dependencies(graph: EstateGraph, instance: Instance) -> list[str]:
    """Every resource id the instance's proof may read: its own, its network's, its IAM's."""
    estate = graph.estate
    ids = [instance.instance_id, *instance.group_ids]
    for subnet_id in dict.fromkeys([instance.subnet_id or "",
                                    *(eni.subnet_id for eni in instance.network_interfaces)]):
        if not subnet_id:
            continue
        ids.append(subnet_id)
        ids += _subnet_path(graph, subnet_id)
    if instance.vpc_id:
        ids.append(instance.vpc_id)
        vpc = estate.vpcs.get(instance.vpc_id)
        if vpc and vpc.dhcp_options_id:
            ids.append(vpc.dhcp_options_id)
        for endpoint in graph.endpoints_in(instance.vpc_id):
            ids += [endpoint.endpoint_id, *endpoint.group_ids, *endpoint.subnet_ids]
            for subnet_id in endpoint.subnet_ids:
                nacl = graph.nacl_of(subnet_id)
                if nacl:
                    ids.append(nacl.nacl_id)
        ids += _dns(estate, instance.vpc_id)
    ids += _iam(estate, instance)
    return ids


def _dns(estate: Estate, vpc_id: str) -> list[str]:
    """What decides names in the VPC: its zones, Resolver rules, firewall rule groups (and
    their domain lists), and the endpoints its zones lead to."""
    dns = estate.dns
    ids = [*dns.zones_by_vpc.get(vpc_id, []), *dns.rules_by_vpc.get(vpc_id, [])]
    for association in dns.firewall_by_vpc.get(vpc_id, []):
        ids.append(association.group_id)
        group = dns.firewall_groups.get(association.group_id)
        ids += [rule.domain_list_id for rule in (group.rules or []) if group
                and rule.domain_list_id]
    for endpoint_id in dns.reached_endpoints_by_vpc.get(vpc_id, []):
        endpoint = estate.vpc_endpoints.get(endpoint_id)
        ids += [endpoint_id, *(endpoint.group_ids + endpoint.subnet_ids if endpoint else [])]
    return ids


def _subnet_path(graph: EstateGraph, subnet_id: str) -> list[str]:
    ids = []
    nacl = graph.nacl_of(subnet_id)
    if nacl:
        ids.append(nacl.nacl_id)
    table = graph.route_table_of(subnet_id)
    if table:
        ids.append(table[0].route_table_id)
        for route in table[0].routes:
            ids.append(route.target_id)
            nat = graph.estate.nat_gateways.get(route.target_id)
            if nat and nat.subnet_id != subnet_id:
                ids.append(nat.subnet_id)
                nat_nacl = graph.nacl_of(nat.subnet_id)
                nat_table = graph.route_table_of(nat.subnet_id)
                ids += [nat_nacl.nacl_id if nat_nacl else "",
                        nat_table[0].route_table_id if nat_table else ""]
                ids += [r.target_id for r in (nat_table[0].routes if nat_table else [])]
    return ids


def _iam(estate: Estate, instance: Instance) -> list[str]:
    arn = instance.instance_profile_arn
    if not arn:
        return []
    ids = [arn, arn.rsplit("/", 1)[-1]]
    profile = estate.instance_profiles.get(arn)
    for role_name in profile.role_names if profile else []:
        ids.append(role_name)
        role = estate.roles.get(role_name)
        if role:
            ids += role.attached_policy_arns
            if role.permissions_boundary_arn:
                ids.append(role.permissions_boundary_arn)
    return ids


def reasons(graph: EstateGraph, instance: Instance) -> dict[str, str]:
    """The unresolved resources this instance depends on, with why each is unresolved."""
    unresolved = graph.estate.unresolved
    if not unresolved:
        return {}
    found = {resource_id: unresolved[resource_id]
             for resource_id in dict.fromkeys(dependencies(graph, instance))
             if resource_id in unresolved}
    if ANY_RESOURCE in unresolved:
        found[ANY_RESOURCE] = unresolved[ANY_RESOURCE]
    return found
