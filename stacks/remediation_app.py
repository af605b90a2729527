"""A plan's stacks, added to a CDK app: one EndpointsStack per (region, VPC) entry, one
InstanceRoleStack for IAM (in the plan's first region), one SecurityGroupRulesStack, one
NaclEntriesStack and one RoutesStack per region; a stack with nothing to deploy is not created.
cdk-nag checks them all."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk

from auditor.remediation.plan import Plan
from stacks.common import PlanEntryError
from stacks.endpoints import EndpointsStack
from stacks.instance_role import InstanceRoleStack
from stacks.nacl_entries import NaclEntriesStack
from stacks.nag import add_nag_checks
from stacks.routes import RoutesStack
from stacks.security_group_rules import SecurityGroupRulesStack

# Context value -synthesizer- chosen with `-c synthesizer=...`.
SYNTHESIZERS: dict[str, Callable[[], cdk.IStackSynthesizer | None]] = {
    # CDK's default: needs `cdk bootstrap` in the account and region.
    "default": lambda: None,
    # No bootstrap: the CLI sends the template itself to CloudFormation (the stacks have no
    # assets and stay far below the 51,200-byte limit of an inline template) and deploys with
    # the caller's own credentials. (BootstraplessSynthesizer would still name the bootstrap
    # deploy and execution roles.)
    "bootstrapless": cdk.LegacyStackSynthesizer,
}


def add_remediation_stacks(app: cdk.App, plan: Plan,
                           synthesizer: str = "default") -> list[cdk.Stack]:
    if synthesizer not in SYNTHESIZERS:
        raise PlanEntryError(f"synthesizer {synthesizer!r} is not one of "
                             f"{', '.join(SYNTHESIZERS)}")
    make_synthesizer = SYNTHESIZERS[synthesizer]
    account = plan.account_id
    stacks: list[cdk.Stack] = []
    vpcs = [entry.vpc_id for entry in plan.endpoints]
    twice = sorted({vpc_id for vpc_id in vpcs if vpcs.count(vpc_id) > 1})
    if twice:
        raise PlanEntryError(f"plan: two endpoints entries for {twice[0]}: one stack per VPC")
    for entry in plan.endpoints:
        stacks.append(EndpointsStack(app, entry, account=account,
                                     synthesizer=make_synthesizer()))
    if plan.instance_roles or plan.role_policies:
        if not plan.regions:
            raise PlanEntryError("plan: \"regions\" is empty: no region to deploy IAM from")
        # The manual steps that need this stack's roles or profiles (associating a profile,
        # putting the role into an existing profile) go into its template too.
        names = {name for entry in plan.instance_roles
                 for name in (entry.role_name, entry.instance_profile_name)}
        stacks.append(InstanceRoleStack(
            app, account=account, region=plan.regions[0], roles=plan.instance_roles,
            policies=plan.role_policies, synthesizer=make_synthesizer(),
            manual_steps=[step for step in plan.manual_steps if names & {
                step.parameters.get("instance_profile_name"), step.parameters.get("role_name")}]))
    for region in _regions_of(plan.security_group_rules):
        stacks.append(SecurityGroupRulesStack(
            app, region, [e for e in plan.security_group_rules if e.region == region],
            account=account, synthesizer=make_synthesizer()))
    for region in _regions_of(plan.nacl_entries):
        stacks.append(NaclEntriesStack(
            app, region, [e for e in plan.nacl_entries if e.region == region],
            account=account, synthesizer=make_synthesizer()))
    for region in _regions_of(plan.routes):
        stacks.append(RoutesStack(
            app, region, [e for e in plan.routes if e.region == region],
            account=account, synthesizer=make_synthesizer()))
    add_nag_checks(app)
    return stacks


def _regions_of(entries: list) -> list[str]:
    return sorted({entry.region for entry in entries})
