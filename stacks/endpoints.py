"""EndpointsStack: the interface endpoints SSM Agent needs in one VPC, their security group and,
if the plan asks, an S3 gateway endpoint. Existing resources (VPC, subnets, route tables, the
instances' security groups) are referenced by id: synth needs no AWS access."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from auditor import aws_facts
from auditor.capability_facts import SESSION_ENDPOINT_SERVICES
from auditor.remediation.plan import EndpointsEntry
from stacks.common import PlanEntryError, RemediationStack, refuse_anywhere, stack_name

# An endpoint never opens a connection: its group allows no egress (the rule CDK itself writes
# for allowAllOutbound=false; a group with no egress rule would get AWS's allow-all default).
NO_EGRESS = ec2.CfnSecurityGroup.EgressProperty(
    ip_protocol="icmp", cidr_ip="255.255.255.255/32", from_port=252, to_port=86,
    description="Disallow all traffic")


def endpoints_stack_name(entry: EndpointsEntry) -> str:
    return stack_name("Endpoints", entry.vpc_id)


class EndpointsStack(RemediationStack):
    def __init__(self, scope: Construct, entry: EndpointsEntry, *, account: str,
                 synthesizer: cdk.IStackSynthesizer | None = None) -> None:
        check_endpoints_entry(entry)
        super().__init__(
            scope, endpoints_stack_name(entry), account=account, region=entry.region,
            synthesizer=synthesizer,
            description=f"ssm-auditor: SSM interface endpoints in {entry.vpc_id} ({entry.id})")
        if entry.services:
            self._interface_endpoints(entry)
        if entry.s3_gateway_route_table_ids:
            gateway = ec2.CfnVPCEndpoint(
                self, "Endpoint-s3-gateway", vpc_id=entry.vpc_id,
                service_name=aws_facts.endpoint_service_name(entry.region, "s3"),
                vpc_endpoint_type="Gateway",
                route_table_ids=list(entry.s3_gateway_route_table_ids))
            self.deploys(gateway, entry)
        self.finish()

    def _interface_endpoints(self, entry: EndpointsEntry) -> None:
        group = ec2.CfnSecurityGroup(
            self, "EndpointSecurityGroup", vpc_id=entry.vpc_id,
            group_description=f"ssm-auditor: HTTPS to the SSM endpoints of {entry.vpc_id}",
            security_group_ingress=_ingress(entry), security_group_egress=[NO_EGRESS])
        self.deploys(group, entry)
        cdk.CfnOutput(self, "EndpointSecurityGroupId", value=group.attr_group_id)
        for service in entry.services:
            endpoint = ec2.CfnVPCEndpoint(
                self, f"Endpoint-{service}", vpc_id=entry.vpc_id,
                service_name=aws_facts.endpoint_service_name(entry.region, service),
                vpc_endpoint_type="Interface", private_dns_enabled=True,
                subnet_ids=list(entry.subnet_ids), security_group_ids=[group.attr_group_id])
            self.deploys(endpoint, entry)
            cdk.CfnOutput(self, f"EndpointId-{service}", value=endpoint.ref,
                          description=f"Interface endpoint for {service}")


def _ingress(entry: EndpointsEntry) -> list[ec2.CfnSecurityGroup.IngressProperty]:
    https = {"ip_protocol": aws_facts.TCP, "from_port": aws_facts.HTTPS_PORT,
             "to_port": aws_facts.HTTPS_PORT}
    return [
        *(ec2.CfnSecurityGroup.IngressProperty(
            **https, source_security_group_id=group_id,
            description=f"HTTPS from the instances of {group_id}")
          for group_id in entry.allow_from_security_groups),
        *(ec2.CfnSecurityGroup.IngressProperty(
            **https, cidr_ip=cidr, description=f"HTTPS from {cidr}")
          for cidr in entry.allow_from_cidrs),
    ]


def check_endpoints_entry(entry: EndpointsEntry) -> None:
    where = f"endpoints entry {entry.id}"
    known = (*aws_facts.SERVICES, *SESSION_ENDPOINT_SERVICES)
    unknown = sorted(set(entry.services) - set(known))
    if unknown:
        raise PlanEntryError(f"{where}: unknown service {unknown[0]} (expected "
                             f"{', '.join(known)})")
    if not entry.services and not entry.s3_gateway_route_table_ids:
        raise PlanEntryError(f"{where}: no service and no S3 gateway: nothing to deploy")
    if entry.services and not entry.subnet_ids:
        raise PlanEntryError(f"{where}: interface endpoints need at least one subnet")
    if len(entry.subnet_ids) != len(entry.availability_zones):
        raise PlanEntryError(f"{where}: {len(entry.subnet_ids)} subnet(s) but "
                             f"{len(entry.availability_zones)} availability zone(s)")
    if len(set(entry.availability_zones)) != len(entry.availability_zones):
        raise PlanEntryError(f"{where}: an interface endpoint takes one subnet per "
                             "availability zone")
    if entry.services and not (entry.allow_from_security_groups or entry.allow_from_cidrs):
        raise PlanEntryError(f"{where}: the endpoint security group would admit no one "
                             "(allow_from_security_groups and allow_from_cidrs are empty)")
    for cidr in entry.allow_from_cidrs:
        refuse_anywhere(cidr, where)
