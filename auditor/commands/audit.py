"""``python -m auditor [--instance ID ... | --all]``: the audit, the default command.

Exit status: 0 all manageable (or not applicable), 1 some not manageable, 3 none not
manageable but some unknown, 2 bad usage or unusable input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys

from auditor import __version__
from auditor.commands.common import (
    OneLineParser,
    add_deadline_argument,
    add_organization_arguments,
    add_output_arguments,
    deadline,
    organization_flags_given,
    print_report,
    read_raws,
)
from auditor.errors import UsageError
from auditor.terminal import visible


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m auditor",
                           description="Prove whether SSM Agent on EC2 instances can work.",
                           epilog="Also: `python -m auditor snapshot --out DIR` captures "
                                  "the read-only API answers for offline audits; `python -m "
                                  "auditor logs FILE...` reads agent logs; `python -m auditor "
                                  "prelaunch TEMPLATE` checks a template or a planned instance "
                                  "before launch (each has --help). Exit status: 0 all "
                                  "manageable, 1 some not manageable, 3 some unknown, 2 bad "
                                  "usage or input.")
    parser.add_argument("--version", action="version", version=f"ssm-auditor {__version__}")
    target = parser.add_argument_group("what to audit")
    target.add_argument("--instance", action="append", metavar="ID",
                        help="instance id to audit (repeatable)")
    target.add_argument("--all", action="store_true", help="audit every instance")
    who = parser.add_argument_group("who may connect (Session Manager)")
    who.add_argument("--operator", action="append", metavar="ARN",
                     help="IAM role or user ARN: may it start a session on each instance? "
                          "(repeatable; capabilities.session_manager.operator in JSON)")
    who.add_argument("--operators", action="store_true",
                     help="list every IAM role and user that may start a session on each "
                          "instance asked for by --instance, or on each one that is not "
                          "healthy with --all")
    source = parser.add_argument_group("where the estate comes from")
    source.add_argument("--snapshot", metavar="DIR", help="audit offline from a snapshot")
    source.add_argument("--region", action="append", metavar="R",
                        help="region (repeatable; default: the SDK's region)")
    source.add_argument("--profile", metavar="P", help="AWS profile (default: the SDK's)")
    add_deadline_argument(source)
    add_organization_arguments(parser)
    output = add_output_arguments(
        parser, colour_help="colour in the text report (auto: when stdout is a terminal)",
        verbose_help="show every hop of every proof, also for healthy instances")
    output.add_argument("--logs", action="append", metavar="FILE",
                        help="agent log or ssm-cli get-diagnostics JSON to correlate with the "
                             "proof (repeatable; - for standard input; a log goes to the "
                             "audited instance it names, or to the only one audited)")
    fix = parser.add_argument_group("remediation")
    fix.add_argument("--plan", metavar="FILE",
                     help="also write a remediation plan for the CDK app "
                          "(npx cdk synth -c plan=FILE)")
    fix.add_argument("--verify-plan", metavar="CDK_OUT",
                     help="prove the synthesized remediation app (the cdk.out of `cdk synth "
                          "-c plan=FILE`) before deploying it: audit the estate as it would be "
                          "after the stacks and the plan's manual steps")
    fix.add_argument("--plan-s3-gateway", action="store_true",
                     help="with --plan: also add an S3 gateway endpoint where endpoints are "
                          "added (agent updates and logs to S3 without the internet)")
    fix.add_argument("--plan-agent-only", action="store_true",
                     help="with --plan: plan what the agent needs only, not what Session "
                          "Manager and patching need beyond it")
    return parser


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    with deadline(args.deadline):
        return _audit(args)


def _audit(args: argparse.Namespace) -> int:
    if bool(args.instance) == bool(args.all):
        raise UsageError("say which instances to audit: --instance ID (repeatable) or --all")
    for flag, given in (("--plan-s3-gateway", args.plan_s3_gateway),
                        ("--plan-agent-only", args.plan_agent_only)):
        if given and not args.plan:
            raise UsageError(f"{flag} needs --plan FILE")
    if args.verify_plan and args.plan:
        raise UsageError("--verify-plan proves a plan already synthesized; --plan writes one: "
                         "give one of them")
    if args.verify_plan and (args.operator or args.operators):
        raise UsageError("--operator and --operators look at the estate as it is, --verify-plan "
                         "at the estate after a change: give one of them")
    from auditor.analysis.operators import parse_principal

    for arn in args.operator or ():
        if parse_principal(arn) is None:
            raise UsageError(f"--operator {arn}: not the ARN of an IAM role or user (or of an "
                             "assumed-role session)")
    if args.org or _organization_snapshot(args):
        if args.operator or args.operators:
            raise UsageError("--operator and --operators answer for instances of one account: "
                             "not with --org or a whole organization snapshot")
        return _run_organization(args)
    accounts = _accounts_in_snapshot(args)
    from auditor.audit import AuditOptions, audit_raws
    from auditor.sources.read import one_account

    estates: list = []
    if args.verify_plan:
        from auditor.remediation import verify

        synthesized = verify.prepare(args.verify_plan)  # a bad cdk.out before any AWS call
        raws, source = read_raws(args.snapshot, args.region, args.profile, args.instance,
                                 accounts)
        one_account(raws)
        report = verify.verify_plan(synthesized, raws, args.instance, source)
    else:
        raws, source = read_raws(args.snapshot, args.region, args.profile, args.instance,
                                 accounts)
        if args.plan:
            one_account(raws)
        report, estates = audit_raws(raws, args.instance, source, AuditOptions(
            tuple(dict.fromkeys(args.operator or ())), args.operators))
    if args.logs:
        from auditor.logs.attach import attach_logs

        attach_logs(report, args.logs)
    plan = _make_plan(args, raws, estates, report) if args.plan else None
    if plan is not None:
        report.plan = plan.to_dict()  # reports that show before and after read it
    print_report(report, args)
    if not report.instances and args.format != "text":  # the text report says it itself
        from auditor.reports.text_report import NOTHING_AUDITED

        print(f"auditor: {NOTHING_AUDITED}", file=sys.stderr)
    if plan is not None:
        _write_plan(args, plan)
    return report.exit_code()


def _make_plan(args: argparse.Namespace, raws: list, estates: list, report):
    from auditor.remediation.planner import PlanOptions, plan_with_neighbours

    return plan_with_neighbours(raws, estates, report, args.instance,
                                neighbours_read=bool(args.snapshot),
                                options=PlanOptions(s3_gateway=args.plan_s3_gateway,
                                                    capabilities=not args.plan_agent_only))


def _write_plan(args: argparse.Namespace, plan) -> None:
    """The plan goes to its file; a summary to stderr, so a JSON report stays clean."""
    from auditor.remediation import plan as plan_file

    try:
        plan_file.dump(plan, args.plan)
    except OSError as error:
        raise UsageError(f"cannot write the plan to {args.plan}: {error.strerror}") from None
    print(visible(plan_file.summary(plan, args.plan)), file=sys.stderr)


def _accounts_in_snapshot(args: argparse.Namespace) -> list[str] | None:
    """--accounts of an organization snapshot read whole (--instance, --plan, --verify-plan,
    --logs); the other organization flags apply to --org and to --all of such a snapshot."""
    from auditor.sources.organization import Selection, is_organization_snapshot

    given = organization_flags_given(args)
    in_snapshot = bool(args.snapshot) and is_organization_snapshot(args.snapshot)
    if in_snapshot and not [flag for flag in given if flag != "--accounts"]:
        accounts = list(Selection.from_flags(args.accounts, None, None).accounts)
        if (args.plan or args.verify_plan) and not args.instance:
            from auditor.sources.read import one_account_of

            one_account_of(args.snapshot, accounts)
        return accounts or None
    if given:
        raise UsageError(f"{given[0]} applies to a whole organization: add --org (or audit "
                         "an organization snapshot with --all --snapshot DIR)")
    return None


def _organization_snapshot(args: argparse.Namespace) -> bool:
    """An organization snapshot with --all and nothing that needs the raw answers at once
    (--plan, --verify-plan, --logs read those through ``read_raws``, one account)."""
    if not args.snapshot or not args.all or args.plan or args.verify_plan or args.logs:
        return False
    from auditor.sources.organization import is_organization_snapshot

    return is_organization_snapshot(args.snapshot)


def _run_organization(args: argparse.Namespace) -> int:
    """Every unit of the organization (live, or an organization snapshot), the report written
    as units finish."""
    from auditor.commands.common import (
        UnitProgress,
        open_units,
        organization_selection,
        use_colour,
    )
    from auditor.organization import audit_organization, run_source
    from auditor.reports import RenderOptions, unit_writer

    if args.org:
        if args.instance or not args.all:
            raise UsageError("--org audits every instance of the units it reads: give --all "
                             "(narrow with --accounts and --regions)")
        for flag, given in (("--snapshot", args.snapshot), ("--plan", args.plan),
                            ("--verify-plan", args.verify_plan), ("--logs", args.logs)):
            if given:
                raise UsageError(f"--org reads the organization live; {flag} is not offered "
                                 "with it (capture with `snapshot --org` and audit the "
                                 "snapshot with --snapshot DIR)")
    selection = organization_selection(args)
    writer = unit_writer(args.format, sys.stdout, RenderOptions(use_colour(args.color),
                                                                args.verbose))
    progress = UnitProgress(args.quiet)
    source, units, concurrency = open_units(args, selection, progress)
    progress.start(len(units))
    writer.begin(run_source(source, selection, units))
    run = audit_organization(units, source, writer.unit, concurrency=concurrency,
                             timeout=args.unit_timeout, on_progress=progress)
    writer.end(run.sorted_units(), run.summary)
    sys.stdout.flush()
    progress.close()
    return run.exit_code()
