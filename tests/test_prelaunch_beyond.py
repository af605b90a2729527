"""Templates that build a hub-and-spoke network: transit gateways, their attachments, route
tables, associations, propagations and routes, and VPC peering connections (prelaunch)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.prelaunch_helpers import app_instance, entry, prelaunch, write

SPOKE = "10.1.0.0/16"


def _subnet(vpc: str, cidr: str, zone: int = 0) -> dict[str, Any]:
    return {"Type": "AWS::EC2::Subnet", "Properties": {
        "VpcId": {"Ref": vpc}, "CidrBlock": cidr,
        "AvailabilityZone": {"Fn::Select": [zone, {"Fn::GetAZs": ""}]}}}


def _table(vpc: str, subnet: str, routes: dict[str, dict]) -> dict[str, Any]:
    resources = {f"{subnet}Routes": {"Type": "AWS::EC2::RouteTable",
                                     "Properties": {"VpcId": {"Ref": vpc}}},
                 f"{subnet}RoutesAssociation": {
                     "Type": "AWS::EC2::SubnetRouteTableAssociation",
                     "Properties": {"SubnetId": {"Ref": subnet},
                                    "RouteTableId": {"Ref": f"{subnet}Routes"}}}}
    for name, (cidr, target) in routes.items():
        resources[f"{subnet}{name}"] = {"Type": "AWS::EC2::Route", "Properties": {
            "RouteTableId": {"Ref": f"{subnet}Routes"}, "DestinationCidrBlock": cidr,
            **target}}
    return resources


def hub_and_spoke_template() -> dict[str, Any]:
    """A central egress: the spoke's traffic through the transit gateway (default route
    table: both attachments associated and propagated; 0.0.0.0/0 to the hub) to the hub's NAT
    gateway."""
    tgw = {"TransitGatewayId": {"Ref": "Tgw"}}
    resources: dict[str, Any] = {
        "Hub": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.100.0.0/16"}},
        "HubTgwSubnet": _subnet("Hub", "10.100.0.0/28"),
        "HubPublic": _subnet("Hub", "10.100.1.0/24"),
        "Igw": {"Type": "AWS::EC2::InternetGateway"},
        "IgwAttachment": {"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {
            "VpcId": {"Ref": "Hub"}, "InternetGatewayId": {"Ref": "Igw"}}},
        "NatAddress": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {
            "SubnetId": {"Ref": "HubPublic"},
            "AllocationId": {"Fn::GetAtt": ["NatAddress", "AllocationId"]}}},
        "Spoke": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": SPOKE}},
        "SpokeApp": _subnet("Spoke", "10.1.1.0/24"),
        "SpokeTgwSubnet": _subnet("Spoke", "10.1.255.0/28"),
        "Tgw": {"Type": "AWS::EC2::TransitGateway", "Properties": {}},
        "HubAttachment": {"Type": "AWS::EC2::TransitGatewayVpcAttachment", "Properties": {
            **tgw, "VpcId": {"Ref": "Hub"}, "SubnetIds": [{"Ref": "HubTgwSubnet"}]}},
        "SpokeAttachment": {"Type": "AWS::EC2::TransitGatewayAttachment", "Properties": {
            **tgw, "VpcId": {"Ref": "Spoke"}, "SubnetIds": [{"Ref": "SpokeTgwSubnet"}]}},
        "DefaultToHub": {"Type": "AWS::EC2::TransitGatewayRoute", "Properties": {
            "TransitGatewayRouteTableId": {"Fn::GetAtt": [
                "Tgw", "AssociationDefaultRouteTableId"]},
            "DestinationCidrBlock": "0.0.0.0/0",
            "TransitGatewayAttachmentId": {"Ref": "HubAttachment"}}},
        "AppSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "app", "VpcId": {"Ref": "Spoke"}}},
        **app_instance("SpokeApp"),
    }
    resources.update(_table("Hub", "HubTgwSubnet", {"Egress": ("0.0.0.0/0", {
        "NatGatewayId": {"Ref": "Nat"}})}))
    resources.update(_table("Hub", "HubPublic", {
        "Internet": ("0.0.0.0/0", {"GatewayId": {"Ref": "Igw"}}),
        "Spokes": ("10.0.0.0/8", tgw)}))
    resources.update(_table("Spoke", "SpokeApp", {"Default": ("0.0.0.0/0", tgw)}))
    resources["SpokeAppDefault"]["DependsOn"] = "SpokeAttachment"
    return copy.deepcopy({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


def _drop(name: str):
    def change(template: dict) -> dict:
        del template["Resources"][name]
        return template
    return change


def _explicit_tables(template: dict) -> dict:
    """Default association and propagation off: the spoke's table (0.0.0.0/0 to the hub,
    associated with the spoke) and the hub's (associated with the hub, and the spoke's CIDR
    propagated there unless the test drops it)."""
    resources = template["Resources"]
    resources["Tgw"]["Properties"] = {"DefaultRouteTableAssociation": "disable",
                                      "DefaultRouteTablePropagation": "disable"}
    tgw = {"TransitGatewayId": {"Ref": "Tgw"}}
    resources["SpokeTable"] = {"Type": "AWS::EC2::TransitGatewayRouteTable", "Properties": tgw}
    resources["HubTable"] = {"Type": "AWS::EC2::TransitGatewayRouteTable", "Properties": tgw}
    for attachment, table in (("SpokeAttachment", "SpokeTable"), ("HubAttachment", "HubTable")):
        resources[f"{attachment}Association"] = {
            "Type": "AWS::EC2::TransitGatewayRouteTableAssociation", "Properties": {
                "TransitGatewayAttachmentId": {"Ref": attachment},
                "TransitGatewayRouteTableId": {"Ref": table}}}
    resources["SpokePropagation"] = {
        "Type": "AWS::EC2::TransitGatewayRouteTablePropagation", "Properties": {
            "TransitGatewayAttachmentId": {"Ref": "SpokeAttachment"},
            "TransitGatewayRouteTableId": {"Ref": "HubTable"}}}
    resources["DefaultToHub"]["Properties"]["TransitGatewayRouteTableId"] = {"Ref": "SpokeTable"}
    return template


def _peered(template: dict) -> dict:
    """The spoke peers with the hub and sends 0.0.0.0/0 to it: not transitive."""
    resources = template["Resources"]
    resources["Peering"] = {"Type": "AWS::EC2::VPCPeeringConnection", "Properties": {
        "VpcId": {"Ref": "Spoke"}, "PeerVpcId": {"Ref": "Hub"}}}
    resources["SpokeAppDefault"]["Properties"] = {
        "RouteTableId": {"Ref": "SpokeAppRoutes"}, "DestinationCidrBlock": "0.0.0.0/0",
        "VpcPeeringConnectionId": {"Ref": "Peering"}}
    return template


CASES = [
    pytest.param(lambda t: t, "manageable", None, id="central-egress"),
    pytest.param(_explicit_tables, "manageable", None, id="explicit-tables"),
    pytest.param(_drop("DefaultToHub"), "not_manageable", "TGW_ROUTE_MISSING",
                 id="no-default-route-in-the-gateway"),
    pytest.param(lambda t: _drop("SpokePropagation")(_explicit_tables(t)), "not_manageable",
                 "RETURN_ROUTE_MISSING", id="spoke-not-propagated-to-the-hub-table"),
    pytest.param(_drop("HubPublicSpokes"), "not_manageable", "RETURN_ROUTE_MISSING",
                 id="nat-subnet-without-route-back"),
    pytest.param(_peered, "not_manageable", "PEERING_NOT_TRANSITIVE", id="peering-to-a-nat"),
]


@pytest.mark.parametrize(("change", "verdict", "code"), CASES)
def test_hub_and_spoke_template(capsys, tmp_path, change, verdict: str, code: str | None):
    path = write(tmp_path, change(hub_and_spoke_template()))
    _, report = prelaunch(capsys, str(path))
    app = entry(report, "App")
    ssm = app["services"]["ssm"]
    assert app["verdict"] == verdict, app["findings"]
    if code is None:
        assert (ssm["status"], ssm["via"]) == ("reachable", "transit_gateway")
        steps = [hop["step"] for hop in ssm["path"]]
        assert {"tgw_table_route", "tgw_table_return_route", "nat_gateway"} <= set(steps)
    else:
        assert ssm["status"] == "blocked"
        assert code in {f["code"] for f in app["findings"]}


def test_unknown_peer_vpc_leaves_the_connection_unresolved(capsys, tmp_path):
    template = _peered(hub_and_spoke_template())
    template["Resources"]["Peering"]["Properties"]["PeerVpcId"] = "vpc-0123456789abcdef0"
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    app = entry(report, "App")
    assert app["verdict"] == "unknown"
    assert "TEMPLATE_VALUE_UNRESOLVED" in {f["code"] for f in app["findings"]}
