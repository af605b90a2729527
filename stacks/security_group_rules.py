"""SecurityGroupRulesStack: the rules one region's plan adds to existing security groups
(AWS::EC2::SecurityGroupIngress/Egress on a group referenced by id)."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from auditor.remediation.plan import SecurityGroupRuleEntry
from stacks.common import (
    PlanEntryError,
    RemediationStack,
    construct_id,
    refuse_anywhere,
    stack_name,
)


def security_group_rules_stack_name(region: str) -> str:
    return stack_name("SecurityGroupRules", region)


class SecurityGroupRulesStack(RemediationStack):
    def __init__(self, scope: Construct, region: str, entries: Sequence[SecurityGroupRuleEntry],
                 *, account: str, synthesizer: cdk.IStackSynthesizer | None = None) -> None:
        for entry in entries:
            check_rule_entry(entry)
        super().__init__(
            scope, security_group_rules_stack_name(region), account=account, region=region,
            synthesizer=synthesizer,
            description=f"ssm-auditor: security group rules for SSM Agent in {region}")
        for entry in entries:
            self.deploys(_rule(self, entry), entry)
        self.finish()


def _rule(scope: Construct, entry: SecurityGroupRuleEntry) -> cdk.CfnResource:
    common = {"group_id": entry.group_id, "ip_protocol": entry.protocol,
              "from_port": entry.from_port, "to_port": entry.to_port,
              "description": entry.description or None}
    if entry.direction == "ingress":
        return ec2.CfnSecurityGroupIngress(
            scope, construct_id(entry.id), **common, cidr_ip=entry.cidr,
            source_security_group_id=entry.peer_security_group_id)
    return ec2.CfnSecurityGroupEgress(
        scope, construct_id(entry.id), **common, cidr_ip=entry.cidr,
        destination_security_group_id=entry.peer_security_group_id)


def check_rule_entry(entry: SecurityGroupRuleEntry) -> None:
    where = f"security group rule {entry.id}"
    if entry.direction not in ("ingress", "egress"):
        raise PlanEntryError(f"{where}: direction {entry.direction!r} is neither ingress nor "
                             "egress")
    if (entry.cidr is None) == (entry.peer_security_group_id is None):
        raise PlanEntryError(f"{where}: needs exactly one of cidr and peer_security_group_id")
    if entry.cidr is not None and entry.direction == "ingress":
        refuse_anywhere(entry.cidr, where)
