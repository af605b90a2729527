"""Command line: ``python -m auditor`` (audit), ``snapshot``, ``logs``, ``prelaunch``.

Exit status of an audit: 0 all manageable (or not applicable), 1 some not manageable,
3 none not manageable but some unknown, 2 bad usage or unusable input (one line on stderr).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from auditor import __version__
from auditor.errors import UsageError

EXIT_USAGE = 2
# Subcommands other than the audit, each run by ``module:function(argv) -> exit status``,
# imported only when used so the audit starts fast.
SUBCOMMANDS = {
    "snapshot": "auditor.cli:run_snapshot_command",
    "logs": "auditor.logs.command:run",
    "prelaunch": "auditor.prelaunch.command:run",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports errors as one line, exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _audit_parser() -> argparse.ArgumentParser:
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
    source = parser.add_argument_group("where the estate comes from")
    source.add_argument("--snapshot", metavar="DIR", help="audit offline from a snapshot")
    source.add_argument("--region", action="append", metavar="R",
                        help="region (repeatable; default: the SDK's region)")
    source.add_argument("--profile", metavar="P", help="AWS profile (default: the SDK's)")
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    output.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour in the text report (auto: when stdout is a terminal)")
    output.add_argument("-v", "--verbose", action="store_true",
                        help="show every hop of every proof, also for healthy instances")
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
    return parser


def _snapshot_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m auditor snapshot",
                           description="Capture the raw read-only API answers into a directory.")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--region", action="append", metavar="R")
    parser.add_argument("--profile", metavar="P")
    parser.add_argument("--instance", action="append", metavar="ID",
                        help="capture only what these instances need")
    return parser


def progress_reporter() -> Any:
    if not sys.stderr.isatty():
        return None

    def report(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()

    return report


def _load_estates(args: argparse.Namespace) -> tuple[list, list, Any]:
    """The raw answers, the estates built from them for the requested instances, the source."""
    from auditor.sources.parse import build_estate

    raws, source = _load_raws(args)
    estates = [build_estate(raw, args.instance) for raw in raws]
    return raws, estates, source.describe(estates)


def _load_raws(args: argparse.Namespace) -> tuple[list, Any]:
    return read_raws(args.snapshot, args.region, args.profile, args.instance)


def read_raws(snapshot: str | None, regions: list[str] | None, profile: str | None,
              instance_ids: list[str] | None = None) -> tuple[list, Any]:
    """``sources.read.read_raws`` with a live read's progress on a terminal's stderr."""
    from auditor.sources import read

    progress = progress_reporter()
    try:
        return read.read_raws(snapshot, regions, profile, instance_ids, progress)
    finally:
        if progress:
            sys.stderr.write("\r\033[K")


def use_colour(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def run_audit_command(argv: list[str]) -> int:
    args = _audit_parser().parse_args(argv)
    if bool(args.instance) == bool(args.all):
        raise UsageError("say which instances to audit: --instance ID (repeatable) or --all")
    if args.plan_s3_gateway and not args.plan:
        raise UsageError("--plan-s3-gateway needs --plan FILE")
    if args.verify_plan and args.plan:
        raise UsageError("--verify-plan proves a plan already synthesized; --plan writes one: "
                         "give one of them")
    from auditor.audit import run_audit

    if args.verify_plan:
        report = _verify_plan(args)
    else:
        raws, estates, source = _load_estates(args)
        report = run_audit(estates, args.instance, source)
    if args.logs:
        from auditor.logs.attach import attach_logs

        attach_logs(report, args.logs)
    _print_report(args, report)
    if args.plan:
        _write_plan(args, raws, estates, report)
    return report.exit_code()


def _print_report(args: argparse.Namespace, report: Any) -> None:
    if args.format == "json":
        from auditor.reports import json_report

        print(json_report.render(report))
    elif args.format == "sarif":
        from auditor.reports import sarif_report

        print(sarif_report.render(report))
    else:
        from auditor.reports import text_report

        after = report.source.after_plan
        if after:
            print(_verify_summary(report, after))
        print(text_report.render(report, use_colour(args.color), args.verbose))


def _verify_plan(args: argparse.Namespace) -> Any:
    """The audit of the estate as the synthesized stacks and manual steps would leave it."""
    from auditor.audit import run_audit
    from auditor.remediation import verify
    from auditor.sources.parse import build_estate

    templates, plan, assumptions = verify.prepare(args.verify_plan)
    raws, source = _load_raws(args)
    before = run_audit([build_estate(raw, args.instance) for raw in raws], args.instance,
                       source)
    estates = []
    for raw in raws:
        estate = build_estate(verify.overlay_for_region(raw, templates, assumptions),
                              args.instance)
        if plan is not None:
            verify.assume_manual_steps(estate, plan.manual_steps, assumptions)
        estates.append(estate)
    source = source.describe(estates)
    source.after_plan = assumptions.to_dict()
    source.after_plan["verdicts_before"] = {
        audit.instance.instance_id: audit.verdict for audit in before.instances}
    return run_audit(estates, args.instance, source)


def _verify_summary(report: Any, after: dict[str, Any]) -> str:
    lines = [f"after the change in {after['cdk_out']} ({len(after['stacks'])} stack(s)"
             + (f"; assuming done: {len(after['manual_steps_assumed'])} manual step(s)"
                if after["plan_found"] else
                f"; no {after['cdk_out']}/ssm-auditor-plan.json, so no manual step assumed")
             + "):"]
    before = after["verdicts_before"]
    for audit in report.instances:
        instance_id = audit.instance.instance_id
        was = before.get(instance_id, "?").replace("_", " ")
        now = audit.verdict.replace("_", " ")
        blockers = sorted({f.code for f in audit.findings if f.severity == "error"})
        lines.append(f"  {instance_id}: {was} -> after this change: {now}"
                     + (f" (still blocked by {', '.join(blockers)})" if blockers else ""))
    lines += [f"  not modelled, check by hand: {command}"
              for command in after["manual_steps_not_modelled"]]
    return "\n".join(lines)


def _write_plan(args: argparse.Namespace, raws: list, estates: list, report: Any) -> None:
    """The plan goes to its file; a summary to stderr, so a JSON report stays clean."""
    from auditor.remediation import plan as plan_file
    from auditor.remediation.planner import PlanOptions, make_plan

    complete = not args.instance
    if args.instance and args.snapshot:  # the snapshot has the neighbours: plan with them
        from auditor.sources.parse import build_estate

        estates = [build_estate(raw, None) for raw in raws]
        complete = True
    plan = make_plan(estates, report, PlanOptions(s3_gateway=args.plan_s3_gateway), complete)
    try:
        plan_file.dump(plan, args.plan)
    except OSError as error:
        raise UsageError(f"cannot write the plan to {args.plan}: {error.strerror}") from None
    print(plan_file.summary(plan, args.plan), file=sys.stderr)


def run_snapshot_command(argv: list[str]) -> int:
    args = _snapshot_parser().parse_args(argv)
    from auditor.sources import api_calls
    from auditor.sources.snapshot import write_snapshot

    raws, _ = read_raws(None, args.region, args.profile, args.instance)
    write_snapshot(args.out, raws)
    for raw in raws:
        denied = "".join(f"\n  {kind}: {reason}" for kind, reason in raw.errors.items())
        regional = [kind for kind in raw.answers if not api_calls.BY_KIND[kind].account_wide]
        print(f"{raw.region}: {len(regional)} answers written to {args.out}/{raw.region}"
              + (f"; could not read:{denied}" if denied else ""))
    return 0


def _subcommand(name: str) -> Callable[[list[str]], int]:
    module_name, function_name = SUBCOMMANDS[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The auditor builds large, acyclic structures once and exits: the cyclic garbage
    # collector finds nothing to free and, scanning them again and again, doubled the time
    # of a 10,000-instance audit.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(argv)
    finally:
        if collecting:
            gc.enable()


def _run(argv: list[str]) -> int:
    try:
        if argv and argv[0] in SUBCOMMANDS:
            return _subcommand(argv[0])(argv[1:])
        return run_audit_command(argv)
    except UsageError as error:
        print(f"auditor: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug: still one line, the traceback on request
        if os.environ.get("SSM_AUDITOR_DEBUG"):
            raise
        print(f"auditor: internal error: {type(error).__name__}: {error} "
              "(set SSM_AUDITOR_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_USAGE
