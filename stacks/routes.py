"""RoutesStack: the routes one region's plan adds for paths that leave the VPC: to a transit
gateway or a peering connection in existing VPC route tables (AWS::EC2::Route), and to an
attachment in existing transit gateway route tables (AWS::EC2::TransitGatewayRoute)."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_network

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from auditor.remediation.plan import RouteEntry
from stacks.common import PlanEntryError, RemediationStack, construct_id, stack_name


def routes_stack_name(region: str) -> str:
    return stack_name("Routes", region)


class RoutesStack(RemediationStack):
    def __init__(self, scope: Construct, region: str, entries: Sequence[RouteEntry], *,
                 account: str, synthesizer: cdk.IStackSynthesizer | None = None) -> None:
        for entry in entries:
            check_route_entry(entry)
        super().__init__(
            scope, routes_stack_name(region), account=account, region=region,
            synthesizer=synthesizer,
            description=f"ssm-auditor: routes through transit gateways and peering "
                        f"connections for SSM Agent in {region}")
        for entry in entries:
            self.deploys(_route(self, entry), entry)
        self.finish()


def _route(scope: Construct, entry: RouteEntry) -> cdk.CfnResource:
    if entry.in_transit_gateway:
        return ec2.CfnTransitGatewayRoute(
            scope, construct_id(entry.id), transit_gateway_route_table_id=entry.route_table_id,
            destination_cidr_block=entry.destination_cidr,
            transit_gateway_attachment_id=entry.transit_gateway_attachment_id)
    return ec2.CfnRoute(
        scope, construct_id(entry.id), route_table_id=entry.route_table_id,
        destination_cidr_block=entry.destination_cidr,
        transit_gateway_id=entry.transit_gateway_id,
        vpc_peering_connection_id=entry.vpc_peering_connection_id)


def check_route_entry(entry: RouteEntry) -> None:
    where = f"route {entry.id}"
    try:
        version = ip_network(entry.destination_cidr).version
    except ValueError:
        version = 0
    if version != 4:
        raise PlanEntryError(f"{where}: destination {entry.destination_cidr!r} is not an IPv4 "
                             "CIDR")
    targets = [t for t in (entry.transit_gateway_id, entry.vpc_peering_connection_id,
                           entry.transit_gateway_attachment_id) if t]
    if len(targets) != 1:
        raise PlanEntryError(f"{where}: needs exactly one of transit_gateway_id, "
                             "vpc_peering_connection_id and transit_gateway_attachment_id")
    if entry.in_transit_gateway != entry.route_table_id.startswith("tgw-rtb-"):
        raise PlanEntryError(f"{where}: a route to an attachment goes in a transit gateway "
                             "route table (tgw-rtb-...), any other in a VPC route table")
    if entry.destination_cidr == "0.0.0.0/0":
        raise PlanEntryError(f"{where}: refuses 0.0.0.0/0: the fix adds routes for the VPC "
                             "CIDRs concerned, never a new way to the internet")
