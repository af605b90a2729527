"""Transit gateways and VPC peering connections of a template as raw answers (AWS CLI shape).

CloudFormation's defaults are AWS's: a new transit gateway has default route table
association and propagation enabled (a default route table that every new attachment is
associated with and propagates its VPC's CIDRs to) and security group referencing disabled; a
VPC attachment's referencing support is enabled. A peering connection between two VPCs of the
account in one region is accepted when it is created; another account's or region's waits for
its owner (unless ``PeerRoleArn`` lets CloudFormation accept it). A peer VPC the auditor does
not know leaves the connection unresolved: its CIDRs decide where it leads.
"""

from __future__ import annotations

from typing import Any

from auditor.sources.template.context import Reader, Translation
from auditor.sources.template.network import as_bool, checked_cidr

ENABLE = "enable"


def default_route_table_id(tgw_id: str) -> str:
    return f"tgw-rtb-{tgw_id.removeprefix('tgw-')}-default"


def _enabled(reader: Reader, name: str, default: str) -> str:
    value = reader.value(name, default)
    return ENABLE if str(value).lower() == ENABLE else "disable"


def transit_gateway(t: Translation, reader: Reader) -> None:
    tgw_id = reader.resource_id
    association = _enabled(reader, "DefaultRouteTableAssociation", ENABLE)
    propagation = _enabled(reader, "DefaultRouteTablePropagation", ENABLE)
    options: dict[str, Any] = {
        "DefaultRouteTableAssociation": association,
        "DefaultRouteTablePropagation": propagation,
        "SecurityGroupReferencingSupport": _enabled(reader, "SecurityGroupReferencingSupport",
                                                    "disable")}
    if ENABLE in (association, propagation):
        table_id = default_route_table_id(tgw_id)
        _add_table(t, table_id, tgw_id)
        if association == ENABLE:
            options["AssociationDefaultRouteTableId"] = table_id
        if propagation == ENABLE:
            options["PropagationDefaultRouteTableId"] = table_id
    t.add("transit_gateways", {"TransitGatewayId": tgw_id, "State": "available",
                               "OwnerId": t.account_id, "Options": options}, tgw_id)


def _add_table(t: Translation, table_id: str, tgw_id: str) -> None:
    t.add("transit_gateway_route_tables", {"TransitGatewayRouteTableId": table_id,
                                           "TransitGatewayId": tgw_id, "State": "available"},
          table_id)
    t.transit_gateway_routes[table_id] = []


def route_table(t: Translation, reader: Reader) -> None:
    tgw_id = reader.value("TransitGatewayId", required=True)
    if tgw_id is None:
        return
    reader.also_marks(tgw_id)
    _add_table(t, reader.resource_id, tgw_id)


def vpc_attachment(t: Translation, reader: Reader) -> None:
    """AWS::EC2::TransitGatewayAttachment and AWS::EC2::TransitGatewayVpcAttachment."""
    tgw_id = reader.value("TransitGatewayId", required=True)
    reader.also_marks(tgw_id)
    vpc_id = reader.value("VpcId", required=True)
    subnets = reader.value("SubnetIds", required=True)
    options = reader.value("Options", {}) or {}
    if tgw_id is None or vpc_id is None or not isinstance(subnets, list):
        return
    attachment_id = reader.resource_id
    referencing = str(options.get("SecurityGroupReferencingSupport", ENABLE)).lower()
    gateway = t.get("transit_gateways", tgw_id) or {}
    gateway_options = gateway.get("Options") or {}
    attachment: dict[str, Any] = {
        "TransitGatewayAttachmentId": attachment_id, "TransitGatewayId": tgw_id,
        "TransitGatewayOwnerId": gateway.get("OwnerId", t.account_id),
        "ResourceOwnerId": t.account_id, "ResourceType": "vpc", "ResourceId": vpc_id,
        "State": "available"}
    default_table = gateway_options.get("AssociationDefaultRouteTableId")
    if default_table:
        attachment["Association"] = {"TransitGatewayRouteTableId": default_table,
                                     "State": "associated"}
    t.add("transit_gateway_attachments", attachment, attachment_id)
    t.add("transit_gateway_vpc_attachments", {
        "TransitGatewayAttachmentId": attachment_id, "TransitGatewayId": tgw_id,
        "VpcId": vpc_id, "VpcOwnerId": t.account_id, "State": "available",
        "SubnetIds": list(subnets),
        "Options": {"SecurityGroupReferencingSupport":
                    ENABLE if referencing == ENABLE else "disable",
                    "ApplianceModeSupport": str(options.get("ApplianceModeSupport",
                                                            "disable")).lower()}},
        attachment_id)
    if gateway_options.get("PropagationDefaultRouteTableId"):
        _propagate(t, attachment_id, gateway_options["PropagationDefaultRouteTableId"])


def _propagate(t: Translation, attachment_id: str, table_id: str) -> None:
    attachment = t.get("transit_gateway_attachments", attachment_id) or {}
    vpc_id = attachment.get("ResourceId", "")
    routes = t.transit_gateway_routes.setdefault(table_id, [])
    for cidr in t.vpc_cidrs(vpc_id):
        routes.append(_route(cidr, attachment_id, vpc_id, "propagated"))


def _route(cidr: str, attachment_id: str | None, resource_id: str, kind: str) -> dict:
    route: dict[str, Any] = {"DestinationCidrBlock": cidr, "Type": kind, "State": "active"}
    if attachment_id is None:
        route["State"] = "blackhole"
    else:
        route["TransitGatewayAttachments"] = [{"TransitGatewayAttachmentId": attachment_id,
                                               "ResourceId": resource_id, "ResourceType": "vpc"}]
    return route


def _attachment_and_table(t: Translation, reader: Reader
                          ) -> tuple[dict, str] | None:
    attachment_id = reader.value("TransitGatewayAttachmentId", required=True)
    table_id = reader.value("TransitGatewayRouteTableId", required=True)
    reader.also_marks(attachment_id)
    reader.also_marks(table_id)
    if attachment_id is None or table_id is None:
        return None
    attachment = t.get("transit_gateway_attachments", attachment_id)
    if attachment is None or t.get("transit_gateway_route_tables", table_id) is None:
        missing = attachment_id if attachment is None else table_id
        reader.fail(f"{reader.logical_id}: {missing} is neither in the template nor in the "
                    "estate")
        return None
    reader.also_marks(attachment.get("TransitGatewayId"))
    return attachment, table_id


def association(t: Translation, reader: Reader) -> None:
    found = _attachment_and_table(t, reader)
    if found is None:
        return
    attachment, table_id = found
    attachment = t.mutable("transit_gateway_attachments",
                           attachment["TransitGatewayAttachmentId"]) or attachment
    attachment["Association"] = {"TransitGatewayRouteTableId": table_id, "State": "associated"}


def propagation(t: Translation, reader: Reader) -> None:
    found = _attachment_and_table(t, reader)
    if found is not None:
        _propagate(t, found[0]["TransitGatewayAttachmentId"], found[1])


def route(t: Translation, reader: Reader) -> None:
    table_id = reader.value("TransitGatewayRouteTableId", required=True)
    if table_id is None:
        reader.fail_everywhere("the transit gateway route table it changes is unknown")
        return
    reader.also_marks(table_id)
    cidr = reader.value("DestinationCidrBlock", required=True)
    attachment_id = reader.value("TransitGatewayAttachmentId")
    blackhole = as_bool(reader.value("Blackhole", False))
    if cidr is None:
        return
    table = t.get("transit_gateway_route_tables", table_id)
    reader.also_marks((table or {}).get("TransitGatewayId"))
    if table is None and table_id not in t.transit_gateway_routes:
        reader.fail(f"{reader.logical_id}: {table_id} is neither in the template nor in the "
                    "estate")
        return
    cidr = checked_cidr(cidr, "DestinationCidrBlock")
    attachment = t.get("transit_gateway_attachments", attachment_id) or {}
    routes = [r for r in t.transit_gateway_routes.setdefault(table_id, [])
              if r.get("DestinationCidrBlock") != cidr]
    routes.append(_route(cidr, None if blackhole or not attachment_id else attachment_id,
                         attachment.get("ResourceId", ""), "static"))
    t.transit_gateway_routes[table_id] = routes


def peering_connection(t: Translation, reader: Reader) -> None:
    vpc_id = reader.value("VpcId", required=True)
    peer_id = reader.value("PeerVpcId", required=True)
    peer_owner = reader.value("PeerOwnerId", t.account_id)
    peer_region = reader.value("PeerRegion", t.region)
    if vpc_id is None or peer_id is None:
        return
    same = peer_owner == t.account_id and peer_region == t.region
    status = "active" if same or reader.value("PeerRoleArn") else "pending-acceptance"
    peer_cidrs = t.vpc_cidrs(peer_id)
    if not peer_cidrs:
        reader.fail(f"{reader.logical_id}: the CIDRs of peer VPC {peer_id} are unknown (not in "
                    "the template nor in the estate)")

    def side(vpc: str, owner: str, region: str, cidrs: list[str]) -> dict:
        return {"VpcId": vpc, "OwnerId": owner, "Region": region,
                "CidrBlockSet": [{"CidrBlock": c} for c in cidrs],
                **({"CidrBlock": cidrs[0]} if cidrs else {})}

    t.add("vpc_peering_connections", {
        "VpcPeeringConnectionId": reader.resource_id,
        "RequesterVpcInfo": side(vpc_id, t.account_id, t.region, t.vpc_cidrs(vpc_id)),
        "AccepterVpcInfo": side(peer_id, str(peer_owner), str(peer_region), peer_cidrs),
        "Status": {"Code": status, "Message": status}}, reader.resource_id)
