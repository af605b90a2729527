"""InstanceRoleStack: IAM for SSM Agent, global, deployed once in the plan's first region.

- every ``instance_roles`` entry: a role trusting ec2.amazonaws.com with its managed policies,
  and the instance profile holding it (associating the profile with an instance is a manual
  step: CloudFormation cannot change an instance it does not manage);
- every ``role_policies`` entry: an IAM policy attached to an existing role, found by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from auditor import aws_facts
from auditor.aws_managed_policies import arn as managed_policy_arn
from auditor.remediation.capability_planner import WILDCARD_REASONS
from auditor.remediation.plan import InstanceRoleEntry, ManualStep, RolePolicyEntry
from stacks.common import RemediationStack, construct_id, stack_name
from stacks.nag import acknowledge

# The AWS managed policy AWS documents as the minimum for an instance managed by Systems Manager.
MINIMUM_MANAGED_POLICY = "AmazonSSMManagedInstanceCore"
# What the agent is allowed on "*" by that policy too: its channel and heartbeat calls.
AGENT_ACTIONS = frozenset((
    *aws_facts.HEARTBEAT_ACTIONS, *aws_facts.SESSION_MANAGER_ACTIONS,
    *(action for actions in aws_facts.CHANNEL_ACTIONS.values() for action in actions)))

INSTANCE_ROLE_STACK_NAME = stack_name("InstanceRole")


class InstanceRoleStack(RemediationStack):
    def __init__(self, scope: Construct, *, account: str, region: str,
                 roles: Sequence[InstanceRoleEntry], policies: Sequence[RolePolicyEntry],
                 manual_steps: Sequence[ManualStep] = (),
                 synthesizer: cdk.IStackSynthesizer | None = None) -> None:
        super().__init__(scope, INSTANCE_ROLE_STACK_NAME, account=account, region=region,
                         synthesizer=synthesizer,
                         description="ssm-auditor: IAM roles, instance profiles and policies "
                                     "for SSM Agent")
        for entry in roles:
            self._instance_role(entry)
        for entry in policies:
            self._role_policy(entry)
        if manual_steps:
            self.add_template_metadata("manual_steps_after_deploy", [
                {"id": step.id, "command": step.command, "reason": step.reason}
                for step in manual_steps])
        self.finish()

    def _instance_role(self, entry: InstanceRoleEntry) -> None:
        scope = Construct(self, construct_id(entry.id))
        role = iam.Role(
            scope, "Role", role_name=entry.role_name,
            assumed_by=iam.ServicePrincipal(aws_facts.EC2_SERVICE_PRINCIPAL),
            description=f"ssm-auditor: the role of SSM Agent ({entry.id})"[:1000],
            managed_policies=[
                iam.ManagedPolicy.from_managed_policy_arn(scope, f"Managed{index}", arn)
                for index, arn in enumerate(entry.managed_policy_arns)])
        for arn in entry.managed_policy_arns:
            if arn == managed_policy_arn(MINIMUM_MANAGED_POLICY):
                acknowledge(role, f"AwsSolutions-IAM4[Policy::{arn}]",
                            f"{MINIMUM_MANAGED_POLICY} is the policy AWS documents as the "
                            "minimum for an instance managed by Systems Manager")
        profile = iam.CfnInstanceProfile(scope, "InstanceProfile",
                                         instance_profile_name=entry.instance_profile_name,
                                         roles=[role.role_name])
        self.deploys(role.node.default_child, entry)
        self.deploys(profile, entry)
        cdk.CfnOutput(self, f"{construct_id(entry.id)}-InstanceProfile",
                      value=profile.ref,
                      description="Associate with: " + (" ".join(entry.for_instances) or "-"))

    def _role_policy(self, entry: RolePolicyEntry) -> None:
        scope = Construct(self, construct_id(entry.id))
        policy = iam.Policy(
            scope, "Policy", policy_name=entry.policy_name,
            roles=[iam.Role.from_role_name(scope, "ExistingRole", entry.role_name)],
            statements=[iam.PolicyStatement.from_json(s) for s in entry.statements])
        for statement in entry.statements:
            if _agent_actions_on_anything(statement):
                acknowledge(policy, "AwsSolutions-IAM5[Resource::*]",
                            "The agent's heartbeat and channel actions, on * as in "
                            f"{MINIMUM_MANAGED_POLICY}: the channel actions take no resource")
            reason = WILDCARD_REASONS.get(str(statement.get("Sid")))
            resources = statement.get("Resource", [])
            for resource in [resources] if isinstance(resources, str) else resources:
                if reason and "*" in resource:
                    acknowledge(policy, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
        self.deploys(policy.node.default_child, entry)


def _agent_actions_on_anything(statement: dict[str, Any]) -> bool:
    actions = statement.get("Action", [])
    resources = statement.get("Resource", [])
    actions = [actions] if isinstance(actions, str) else actions
    resources = [resources] if isinstance(resources, str) else resources
    return (statement.get("Effect") == "Allow" and "*" in resources
            and set(actions) <= AGENT_ACTIONS)
