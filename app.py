"""The CDK app that deploys an ssm-auditor remediation plan.

    node_modules/.bin/cdk synth  -c plan=plan.json
    node_modules/.bin/cdk deploy --all -c plan=plan.json [-c synthesizer=bootstrapless]
    node_modules/.bin/cdk synth  -c org_audit=true -c org_audit_account=ID [...]

``-c org_audit=true`` adds the scheduled organization audit (stacks/org_app.py: the audit
account's stack and the member accounts' role); without it the app holds a plan's stacks only.

No plan: only ``PLACEHOLDER_STACK``, a stack without resources, so that the commands that need
an app with a stack work in this directory (``cdk bootstrap aws://ACCOUNT/REGION``, ``cdk ls``,
``cdk doctor``) while ``cdk deploy`` skips it (the CLI deploys no stack without resources); a
message says how to give a plan. A bad plan (read by the auditor's bounded reader: size, depth,
integers, duplicate keys): one line on stderr, exit 2; never a traceback, whatever fails.
The manual steps of the plan (what CloudFormation cannot do) are printed after synthesis, and
the plan is copied into the cloud assembly (cdk.out/ssm-auditor-plan.json) for --verify-plan.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# Node 20 is what this machine has; jsii's end-of-life banner would bury the real output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("NODE_NO_WARNINGS", "1")

import aws_cdk as cdk  # after the environment above: jsii reads it

from auditor.errors import UsageError
from auditor.remediation.plan import Plan, load_plan
from auditor.remediation.verify import PLAN_FILE_NAME
from auditor.terminal import visible
from stacks import org_app as org_audit
from stacks.remediation_app import add_remediation_stacks

PROGRAM = "ssm-auditor cdk app"
PLACEHOLDER_STACK = "SsmAuditor-NoPlan"


def main() -> int:
    app = cdk.App(analytics_reporting=False)
    plan_file = app.node.try_get_context("plan")
    if plan_file == "":
        print(f"{PROGRAM}: plan: empty value (an unset variable?): give -c plan=FILE",
              file=sys.stderr)
        return 2
    try:
        wanted = org_audit.wanted(app)
        if wanted:
            # The organization audit (-c org_audit=true), beside a plan's stacks when one is
            # given. A plan's stacks add cdk-nag to the whole app: once is enough.
            org_audit.add_org_audit_stacks(app, nag=not plan_file)
    except UsageError as error:
        print(f"{PROGRAM}: {visible(str(error), one_line=True)}", file=sys.stderr)
        return 2
    if wanted and not plan_file:
        app.synth()
        return 0
    if not plan_file:
        print(f"{PROGRAM}: no plan given, no stack to deploy: write one with "
              "`python -m auditor ... --plan plan.json`, then `cdk deploy --all -c "
              f"plan=plan.json` (until then the app holds only {PLACEHOLDER_STACK}, which has "
              "no resource)", file=sys.stderr)
        placeholder = cdk.Stack(app, PLACEHOLDER_STACK,
                                synthesizer=cdk.BootstraplessSynthesizer(),
                                description="ssm-auditor: no remediation plan given (-c "
                                            "plan=FILE); this placeholder has no resource and "
                                            "deploys nothing")
        cdk.Validations.of(placeholder).acknowledge(cdk.Acknowledgment(
            id="CloudFormation-Validate::F0001",
            reason="the placeholder has no resource on purpose: `cdk deploy` skips it"))
        app.synth()
        return 0
    try:
        plan = load_plan(plan_file)
        stacks = add_remediation_stacks(
            app, plan, app.node.try_get_context("synthesizer") or "default")
    except UsageError as error:
        print(f"{PROGRAM}: {visible(str(error), one_line=True)}", file=sys.stderr)
        return 2
    if not stacks:
        print(f"{PROGRAM}: plan {plan_file} has nothing for CloudFormation to deploy",
              file=sys.stderr)
    app.synth()
    # The plan travels with its stacks: `python -m auditor --verify-plan cdk.out` reads the
    # manual steps from there.
    shutil.copyfile(plan_file, Path(app.outdir) / PLAN_FILE_NAME)
    print_manual_steps(plan)
    return 0


def print_manual_steps(plan: Plan) -> None:
    if not plan.manual_steps:
        return
    print(f"{PROGRAM}: after `cdk deploy`, run these steps (CloudFormation cannot):",
          file=sys.stderr)
    for step in plan.manual_steps:
        print(visible(f"  {step.command}\n      # {step.reason}"), file=sys.stderr)


def run() -> int:
    """``main``, with anything unexpected as one line (SSM_AUDITOR_DEBUG=1: the traceback)."""
    try:
        return main()
    except Exception as error:
        if os.environ.get("SSM_AUDITOR_DEBUG"):
            raise
        print(f"{PROGRAM}: internal error: {type(error).__name__}: "
              f"{visible(str(error), one_line=True)[:500]} (set SSM_AUDITOR_DEBUG=1 for the "
              "traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
