"""Seed a hub-and-spoke network in moto with boto3 (tests/test_beyond_moto.py).

moto models transit gateways, their VPC attachments, route tables, associations, propagations
and routes, and VPC peering connections. Where it answers differently from AWS,
``patch_moto_transit_gateways`` corrects it, each gap named:

- an attachment reports the gateway's default route table as its association whatever
  ``AssociateTransitGatewayRouteTable`` said (and even with default association disabled):
  the association reported is the one made;
- a static route to an attachment is answered without its attachment
  (``TransitGatewayAttachments`` empty): the route keeps it;
- enabling propagation adds no propagated route: it adds the attached VPC's CIDR as AWS does
  (and disabling it takes that route away).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.ec2.models.transit_gateway_attachments import TransitGatewayAttachment
from moto.ec2.models.transit_gateway_route_tables import TransitGatewayRouteTableBackend

from builders.moto_layout import REGION
from tests.moto_estate import place_endpoint_eni

HTTPS = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
SERVICES = ("ssm", "ssmmessages", "ec2messages")


def _route(destination: str, attachment: Any, kind: str) -> dict:
    route: dict[str, Any] = {"destinationCidrBlock": destination, "prefixListId": None,
                             "state": "active", "type": kind}
    if attachment is not None:
        route["transitGatewayAttachments"] = [{
            "resourceId": attachment.resource_id, "resourceType": attachment.resource_type,
            "transitGatewayAttachmentId": attachment.id}]
    else:
        route["state"] = "blackhole"
    return route


def patch_moto_transit_gateways(monkeypatch: pytest.MonkeyPatch) -> None:
    def association(attachment: Any) -> dict | None:
        data = attachment._association_data
        if attachment.state != "available" or not data:
            return None
        return {"State": data["state"],
                "TransitGatewayRouteTableId": data["transitGatewayRouteTableId"]}

    def create_route(backend: Any, transit_gateway_route_table_id: str,
                     destination_cidr_block: str, transit_gateway_attachment_id: str | None = None,
                     blackhole: bool = False) -> dict:
        table = backend.transit_gateways_route_tables[transit_gateway_route_table_id]
        attachment = (None if blackhole else
                      backend.transit_gateway_attachments.get(transit_gateway_attachment_id))
        table.routes[destination_cidr_block] = _route(destination_cidr_block, attachment,
                                                      "static")
        return table.routes[destination_cidr_block]

    real_propagation = TransitGatewayRouteTableBackend.set_route_table_propagation

    def set_propagation(backend: Any, transit_gateway_attachment_id: str,
                        transit_gateway_route_table_id: str) -> None:
        real_propagation(backend, transit_gateway_attachment_id, transit_gateway_route_table_id)
        attachment = backend.transit_gateway_attachments[transit_gateway_attachment_id]
        vpc = backend.vpcs[attachment.resource_id]
        table = backend.transit_gateways_route_tables[transit_gateway_route_table_id]
        table.routes[vpc.cidr_block] = _route(vpc.cidr_block, attachment, "propagated")

    real_disable = TransitGatewayRouteTableBackend.disable_route_table_propagation

    def disable_propagation(backend: Any, transit_gateway_attachment_id: str,
                            transit_gateway_route_table_id: str) -> None:
        real_disable(backend, transit_gateway_attachment_id, transit_gateway_route_table_id)
        table = backend.transit_gateways_route_tables[transit_gateway_route_table_id]
        table.routes = {
            cidr: route for cidr, route in table.routes.items()
            if not (route["type"] == "propagated" and any(
                a["transitGatewayAttachmentId"] == transit_gateway_attachment_id
                for a in route.get("transitGatewayAttachments") or []))}

    monkeypatch.setattr(TransitGatewayRouteTableBackend, "disable_route_table_propagation",
                        disable_propagation)
    monkeypatch.setattr(TransitGatewayAttachment, "association", property(association))
    monkeypatch.setattr(TransitGatewayRouteTableBackend, "create_transit_gateway_route",
                        create_route)
    monkeypatch.setattr(TransitGatewayRouteTableBackend, "set_route_table_propagation",
                        set_propagation)


@dataclass
class MotoHubAndSpoke:
    """A hub VPC (central NAT gateway and endpoints) and one spoke, through a transit gateway.

    - hub 10.100.0.0/16: attachment subnet 10.100.0.0/28 (zone a), public subnet 10.100.1.0/24
      (internet and NAT gateway, 10.0.0.0/8 back to the gateway), endpoint subnet
      10.100.64.0/24 (ssm, ssmmessages, ec2messages; 10.0.0.0/8 back to the gateway; their group
      admits 443 from 10.0.0.0/8);
    - spoke 10.1.0.0/16: application subnet 10.1.1.0/24 (0.0.0.0/0 to the gateway),
      attachment subnet 10.1.255.0/28, both in zone a;
    - the gateway's tables: the spokes' (associated with the spoke; 0.0.0.0/0 to the hub, the
      hub's CIDR propagated) and the hub's (associated with the hub; the spoke's CIDR
      propagated).
    """

    ec2: Any
    tgw: str
    hub_vpc: str
    spoke_vpc: str
    hub_attachment: str
    spoke_attachment: str
    spoke_table: str
    hub_table: str
    hub_tgw_subnet: str
    hub_public_subnet: str
    hub_endpoint_subnet: str
    spoke_app_subnet: str
    spoke_tgw_subnet: str
    hub_tgw_route_table: str
    hub_public_route_table: str
    hub_endpoint_route_table: str
    spoke_app_route_table: str
    nat: str
    endpoint_sg: str
    spoke_sg: str
    endpoints: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, ec2: Any) -> MotoHubAndSpoke:
        def subnet(vpc: str, cidr: str) -> str:
            return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr,
                                     AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]

        def table(vpc: str, subnets: list[str]) -> str:
            table_id = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            for subnet_id in subnets:
                ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
            return table_id

        hub = ec2.create_vpc(CidrBlock="10.100.0.0/16")["Vpc"]["VpcId"]
        spoke = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        for vpc in (hub, spoke):
            ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
            ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        hub_tgw, hub_public = subnet(hub, "10.100.0.0/28"), subnet(hub, "10.100.1.0/24")
        hub_endpoints = subnet(hub, "10.100.64.0/24")
        spoke_app, spoke_tgw = subnet(spoke, "10.1.1.0/24"), subnet(spoke, "10.1.255.0/28")

        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=hub)
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=hub_public,
                                     AllocationId=allocation)["NatGateway"]["NatGatewayId"]

        tgw = ec2.create_transit_gateway(Options={
            "DefaultRouteTableAssociation": "disable",
            "DefaultRouteTablePropagation": "disable"})["TransitGateway"]["TransitGatewayId"]
        hub_attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw, VpcId=hub, SubnetIds=[hub_tgw],
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        spoke_attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw, VpcId=spoke, SubnetIds=[spoke_tgw],
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        spoke_table, hub_table = (
            ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)
            ["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"] for _ in range(2))
        for attachment, associated, propagated in ((hub_attachment, hub_table, spoke_table),
                                                   (spoke_attachment, spoke_table, hub_table)):
            ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=associated,
                                                      TransitGatewayAttachmentId=attachment)
            ec2.enable_transit_gateway_route_table_propagation(
                TransitGatewayRouteTableId=propagated, TransitGatewayAttachmentId=attachment)
        ec2.create_transit_gateway_route(TransitGatewayRouteTableId=spoke_table,
                                         DestinationCidrBlock="0.0.0.0/0",
                                         TransitGatewayAttachmentId=hub_attachment)

        hub_tgw_table = table(hub, [hub_tgw])
        ec2.create_route(RouteTableId=hub_tgw_table, DestinationCidrBlock="0.0.0.0/0",
                         NatGatewayId=nat)
        hub_public_table = table(hub, [hub_public])
        ec2.create_route(RouteTableId=hub_public_table, DestinationCidrBlock="0.0.0.0/0",
                         GatewayId=igw)
        hub_endpoint_table = table(hub, [hub_endpoints])
        for table_id in (hub_public_table, hub_endpoint_table):
            ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="10.0.0.0/8",
                             TransitGatewayId=tgw)
        spoke_app_table = table(spoke, [spoke_app])
        ec2.create_route(RouteTableId=spoke_app_table, DestinationCidrBlock="0.0.0.0/0",
                         TransitGatewayId=tgw)

        endpoint_sg = ec2.create_security_group(GroupName="central-endpoints",
                                                Description="endpoints", VpcId=hub)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=endpoint_sg, IpPermissions=[
            {**HTTPS, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
        spoke_sg = ec2.create_security_group(GroupName="app", Description="app",
                                             VpcId=spoke)["GroupId"]
        layout = cls(ec2, tgw, hub, spoke, hub_attachment, spoke_attachment, spoke_table,
                     hub_table, hub_tgw, hub_public, hub_endpoints, spoke_app, spoke_tgw,
                     hub_tgw_table, hub_public_table, hub_endpoint_table, spoke_app_table, nat,
                     endpoint_sg, spoke_sg)
        for service in SERVICES:
            endpoint = ec2.create_vpc_endpoint(
                VpcId=hub, ServiceName=f"com.amazonaws.{REGION}.{service}",
                VpcEndpointType="Interface", SubnetIds=[hub_endpoints],
                SecurityGroupIds=[endpoint_sg], PrivateDnsEnabled=True)["VpcEndpoint"]
            for eni_id in endpoint["NetworkInterfaceIds"]:
                place_endpoint_eni(ec2, eni_id, endpoint_sg)
            layout.endpoints[service] = endpoint["VpcEndpointId"]
        return layout

    def delete_route(self, table_id: str, cidr: str) -> None:
        self.ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock=cidr)

    def acl(self, vpc: str, subnet: str, entries: list[tuple]) -> str:
        """A custom ACL on ``subnet``: entries (number, egress, protocol, cidr, ports)."""
        nacl = self.ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        for number, egress, protocol, cidr, ports in entries:
            entry = {"NetworkAclId": nacl, "RuleNumber": number, "Protocol": protocol,
                     "RuleAction": "allow", "Egress": egress, "CidrBlock": cidr}
            if ports:
                entry["PortRange"] = {"From": ports[0], "To": ports[1]}
            self.ec2.create_network_acl_entry(**entry)
        current = self.ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
        association = next(a["NetworkAclAssociationId"] for a in current["Associations"]
                           if a["SubnetId"] == subnet)
        self.ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=nacl)
        return nacl
