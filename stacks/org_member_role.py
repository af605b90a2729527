"""MemberRoleStack: the read-only role the organization audit assumes in each member account.

Deployed in every member account (in one region: IAM is global), usually with a
CloudFormation StackSet from the management account or a delegated administrator (README,
"Audit an organization"). Its policy allows exactly the operations the auditor calls in a
member account, generated from ``auditor/sources/api_calls.py`` (the one list): nothing
written, nothing else read. Its trust names the audit account's unit function role and, when
given, one operator principal (for ``python -m auditor --org`` from a workstation), each by
``aws:PrincipalArn`` on the account principal: the trust holds whichever is created first, and
survives the re-creation of the trusted role (a role ARN as principal would turn into a dead
unique id). An external id, when given, is required too.

The template is self-contained (no asset, no bootstrap parameter), as a StackSet needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from auditor.aws_facts import ORGANIZATION_ROLE_NAME
from auditor.sources import api_calls
from stacks.common import stack_name
from stacks.nag import acknowledge

MEMBER_ROLE_STACK_NAME = stack_name("OrgMemberRole")
# The audit account's roles of the functions that act in member accounts: named, so that the
# member accounts' trust can name them before they exist. The unit function reads a unit; the
# list function lists the regions enabled in each account (only for regions "all").
UNIT_FUNCTION_ROLE_NAME = "ssm-auditor-org-unit"
LIST_FUNCTION_ROLE_NAME = "ssm-auditor-org-list"
READ_ONLY_POLICY_NAME = "ssm-auditor-read-only"


def member_role_actions() -> list[str]:
    """The IAM actions of every operation the auditor calls in a member account
    (``api_calls.UNIT_CALLS``: a unit's reads, and DescribeRegions for ``--regions all``); the
    Organizations calls are made once, from the audit account, never in a member."""
    return api_calls.iam_actions(api_calls.UNIT_CALLS)


def function_role_arn(audit_account: str, role_name: str) -> str:
    return f"arn:{cdk.Aws.PARTITION}:iam::{audit_account}:role/{role_name}"


@dataclass(frozen=True)
class MemberRoleSettings:
    audit_account: str
    role_name: str = ORGANIZATION_ROLE_NAME
    external_id: str | None = None
    operator_principal: str | None = None  # an IAM role or user ARN, wildcards allowed
    # The audit account's function roles the member role trusts.
    function_roles: tuple[str, ...] = (UNIT_FUNCTION_ROLE_NAME,)


class MemberRoleStack(cdk.Stack):
    def __init__(self, scope: Construct, settings: MemberRoleSettings) -> None:
        super().__init__(scope, MEMBER_ROLE_STACK_NAME, stack_name=MEMBER_ROLE_STACK_NAME,
                         synthesizer=cdk.LegacyStackSynthesizer(),
                         description="ssm-auditor: the read-only role the organization audit "
                                     "assumes in this account (deploy with a StackSet)")
        trusted = [function_role_arn(settings.audit_account, name)
                   for name in settings.function_roles]
        self.role = iam.Role(
            self, "ReadOnlyRole", role_name=settings.role_name,
            assumed_by=self._trust(settings.audit_account, trusted, settings.external_id),
            max_session_duration=cdk.Duration.hours(1),
            description="ssm-auditor: reads what the auditor reads (Describe/Get/List), "
                        "nothing else")
        if settings.operator_principal:
            self.role.assume_role_policy.add_statements(self._trust_statement(
                _account_of(settings.operator_principal), settings.operator_principal,
                settings.external_id))
        policy = iam.Policy(self, "ReadOnly", policy_name=READ_ONLY_POLICY_NAME,
                            statements=[iam.PolicyStatement(actions=member_role_actions(),
                                                            resources=["*"])])
        policy.attach_to_role(self.role)
        acknowledge(policy, "AwsSolutions-IAM5[Resource::*]",
                    "the auditor's Describe/Get/List calls (auditor/sources/api_calls.py) read "
                    "the whole account: EC2's Describe* and IAM's GetAccountAuthorizationDetails "
                    "take no resource, and any managed policy may be the one a role uses")
        cdk.CfnOutput(self, "RoleArn", value=self.role.role_arn,
                      description="The role the organization audit assumes in this account")

    @staticmethod
    def _trust(account: str, principal_arns: list[str],
               external_id: str | None) -> iam.IPrincipal:
        conditions = _conditions(principal_arns, external_id)
        return iam.AccountPrincipal(account).with_conditions(conditions)

    @staticmethod
    def _trust_statement(account: str, principal_arn: str,
                         external_id: str | None) -> iam.PolicyStatement:
        return iam.PolicyStatement(actions=["sts:AssumeRole"],
                                   principals=[iam.AccountPrincipal(account)],
                                   conditions=_conditions([principal_arn], external_id))


def _conditions(principal_arns: list[str], external_id: str | None) -> dict:
    wildcard = any("*" in arn for arn in principal_arns)
    conditions: dict = {"ArnLike" if wildcard else "ArnEquals": {
        "aws:PrincipalArn": principal_arns[0] if len(principal_arns) == 1 else principal_arns}}
    if external_id:
        conditions["StringEquals"] = {"sts:ExternalId": external_id}
    return conditions


def _account_of(arn: str) -> str:
    return arn.split(":")[4]
