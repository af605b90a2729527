"""NaclEntriesStack: the entries one region's plan adds to existing network ACLs
(AWS::EC2::NetworkAclEntry on an ACL referenced by id)."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from auditor.remediation.plan import NaclEntryEntry
from stacks.common import PlanEntryError, RemediationStack, construct_id, stack_name
from stacks.nag import acknowledge

PROTOCOLS_WITH_PORTS = ("6", "17")  # tcp, udp


def nacl_entries_stack_name(region: str) -> str:
    return stack_name("NaclEntries", region)


class NaclEntriesStack(RemediationStack):
    def __init__(self, scope: Construct, region: str, entries: Sequence[NaclEntryEntry], *,
                 account: str, synthesizer: cdk.IStackSynthesizer | None = None) -> None:
        for entry in entries:
            check_nacl_entry(entry)
        super().__init__(
            scope, nacl_entries_stack_name(region), account=account, region=region,
            synthesizer=synthesizer,
            description=f"ssm-auditor: network ACL entries for SSM Agent in {region}")
        for entry in entries:
            resource = ec2.CfnNetworkAclEntry(
                self, construct_id(entry.id), network_acl_id=entry.network_acl_id,
                rule_number=entry.rule_number, egress=entry.egress,
                protocol=int(entry.protocol), rule_action="allow", cidr_block=entry.cidr,
                port_range=_ports(entry))
            acknowledge(resource, "AwsSolutions-VPC3",
                        "An allow entry added to an existing network ACL the audit found "
                        "blocking SSM Agent's traffic; the ACL itself is not this stack's")
            self.deploys(resource, entry)
        self.finish()


def _ports(entry: NaclEntryEntry) -> ec2.CfnNetworkAclEntry.PortRangeProperty | None:
    if entry.protocol not in PROTOCOLS_WITH_PORTS:
        return None
    return ec2.CfnNetworkAclEntry.PortRangeProperty(from_=entry.from_port,
                                                    to=entry.to_port)


def check_nacl_entry(entry: NaclEntryEntry) -> None:
    where = f"network ACL entry {entry.id}"
    if not 1 <= entry.rule_number <= 32766:
        raise PlanEntryError(f"{where}: rule number {entry.rule_number} is outside 1-32766")
    try:
        int(entry.protocol)
    except ValueError:
        raise PlanEntryError(f"{where}: protocol {entry.protocol!r} is not a protocol "
                             "number") from None
    if entry.protocol in PROTOCOLS_WITH_PORTS and (entry.from_port is None
                                                   or entry.to_port is None):
        raise PlanEntryError(f"{where}: protocol {entry.protocol} needs from_port and to_port")
