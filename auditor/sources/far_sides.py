"""The far side of a shared network, from another account's answers when they are at hand.

A spoke account sees a transit gateway shared with it through RAM and its own attachment, but
not the gateway's route tables nor the hub VPC: those are the network account's. When raw
answers of several accounts of one region are read together (an organization snapshot, an
``--org`` run), each estate gets from the others what its gateways and peering connections lead
to: the transit gateways, attachments, route tables and peering connections, then the network
of the VPCs they join to its own (subnets, route tables, ACLs, security groups, NAT and
internet gateways, endpoints and their interfaces). Its own answers always win; instances,
IAM and Systems Manager are never taken. What no account at hand holds stays unreadable, and
the proof says which account to read (``DATA_UNAVAILABLE``).
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.model import Estate, joined_vpcs
from auditor.sources.parse import build_estate
from auditor.sources.raw import RawRegion

# Estate fields keyed by id whose items carry a ``vpc_id``.
_VPC_BOUND = ("subnets", "route_tables", "nat_gateways", "security_groups", "network_acls",
              "vpc_endpoints", "network_interfaces")


def build_estates(raws: list[RawRegion], instance_ids: Iterable[str] | None = None
                  ) -> list[Estate]:
    """``build_estate`` of each raw region, each completed from the other accounts' answers
    of its region where its transit gateways and peering connections lead there."""
    ids = list(instance_ids) if instance_ids else None
    estates = [build_estate(raw, ids) for raw in raws]
    whole: dict[int, Estate] = {}  # the other accounts' estates, unscoped, built when needed
    for raw, estate in zip(raws, estates, strict=True):
        others = [other for other in raws
                  if other.region == raw.region and other.account_id
                  and other.account_id != raw.account_id]
        if not others or not _leads_elsewhere(estate):
            continue
        neighbours = []
        for other in others:
            if id(other) not in whole:
                whole[id(other)] = build_estate(other)
            neighbours.append(whole[id(other)])
        add_far_sides(estate, neighbours)
    return estates


def accounts_wanted(estate: Estate) -> set[str]:
    """The other accounts whose answers (of the estate's region) would complete its far
    sides: the owners of the transit gateways whose route tables it lacks and of the VPCs its
    attachments and peering connections lead to. What an organization run reads beside a unit
    (``add_far_sides``) to prove its spokes."""
    own = estate.account_id
    wanted = set()
    for attachment in estate.transit_gateway_attachments.values():
        if attachment.route_table_id and \
                attachment.route_table_id not in estate.transit_gateway_route_tables:
            gateway = estate.transit_gateways.get(attachment.transit_gateway_id)
            wanted.add((gateway.owner_id if gateway else "")
                       or attachment.transit_gateway_owner_id)
        if attachment.resource_type == "vpc" and attachment.resource_id not in estate.vpcs:
            wanted.add(attachment.resource_owner_id)
    for peering in estate.vpc_peering_connections.values():
        for vpc_id, owner, region in (
                (peering.requester_vpc_id, peering.requester_owner_id, peering.requester_region),
                (peering.accepter_vpc_id, peering.accepter_owner_id, peering.accepter_region)):
            if vpc_id not in estate.vpcs and region in ("", estate.region):
                wanted.add(owner)
    return {account for account in wanted if account and account != own}


def _leads_elsewhere(estate: Estate) -> bool:
    """Whether the estate's gateways or peerings lead to something it does not hold."""
    if any(a.route_table_id and a.route_table_id not in estate.transit_gateway_route_tables
           for a in estate.transit_gateway_attachments.values()):
        return True
    own = set(estate.vpcs)
    return bool(joined_vpcs(own, estate.transit_gateway_attachments,
                            estate.vpc_peering_connections) - own)


def add_far_sides(estate: Estate, neighbours: list[Estate]) -> None:
    """Complete ``estate`` from ``neighbours`` (other accounts, same region)."""
    for neighbour in neighbours:
        _fill(estate.transit_gateways, neighbour.transit_gateways)
        for table_id, table in neighbour.transit_gateway_route_tables.items():
            if table_id not in estate.transit_gateway_route_tables:
                estate.transit_gateway_route_tables[table_id] = table
                estate.owners[table_id] = neighbour.account_id
        _fill(estate.vpc_peering_connections, neighbour.vpc_peering_connections)
        for attachment_id, theirs in neighbour.transit_gateway_attachments.items():
            mine = estate.transit_gateway_attachments.get(attachment_id)
            if mine is None:
                estate.transit_gateway_attachments[attachment_id] = theirs
                continue
            mine.route_table_id = mine.route_table_id or theirs.route_table_id
            if mine.subnet_ids is None:
                mine.subnet_ids = theirs.subnet_ids
    own = set(estate.vpcs)
    wanted = joined_vpcs(own, estate.transit_gateway_attachments,
                         estate.vpc_peering_connections) - own
    for neighbour in neighbours:
        taken = {vpc_id for vpc_id in wanted if vpc_id in neighbour.vpcs}
        if not taken:
            continue
        estate.neighbour_accounts.add(neighbour.account_id)
        for vpc_id in taken:
            vpc = estate.vpcs.setdefault(vpc_id, neighbour.vpcs[vpc_id])
            estate.owners[vpc_id] = neighbour.account_id
            if vpc.dhcp_options_id in neighbour.dhcp_options:
                estate.dhcp_options.setdefault(vpc.dhcp_options_id,
                                               neighbour.dhcp_options[vpc.dhcp_options_id])
        for name in _VPC_BOUND:
            mine, theirs = getattr(estate, name), getattr(neighbour, name)
            for item_id, item in theirs.items():
                if item.vpc_id in taken:
                    mine.setdefault(item_id, item)
        for igw_id, igw in neighbour.internet_gateways.items():
            if taken.intersection(igw.attached_vpc_ids):
                estate.internet_gateways.setdefault(igw_id, igw)
        _fill(estate.prefix_lists, neighbour.prefix_lists)
        wanted -= taken


def _fill(mine: dict, theirs: dict) -> None:
    for key, value in theirs.items():
        mine.setdefault(key, value)
