"""``python -m auditor prelaunch``: prove instances before they exist.

    prelaunch TEMPLATE [TEMPLATE ...] [--snapshot DIR | --live] [--parameter K=V ...]
    prelaunch --subnet subnet-... --security-group sg-... [--instance-profile NAME]
              [--public-ip] [--imdsv2 required|optional] [--platform linux|windows]
              [--snapshot DIR]                       (live AWS without --snapshot)

A template (a file, or a cdk.out folder) is laid over the estate (a snapshot, the live account,
or nothing) and each instance, launch template and auto scaling group is proved like a running
instance, under its logical id (``auditor.prelaunch.check``). Exit status as for the audit.
"""

from __future__ import annotations

import argparse
import sys

from auditor.commands.common import (
    OneLineParser,
    add_deadline_argument,
    add_output_arguments,
    deadline,
    live_progress,
    print_report,
)
from auditor.errors import UsageError
from auditor.terminal import visible


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m auditor prelaunch",
                           description="Check before launch: prove that instances a CloudFormation "
                                       "template (or cdk.out) would launch, or a planned instance, "
                                       "will be manageable by SSM.",
                           epilog="Exit status: 0 all manageable, 1 some not manageable, 3 some "
                                  "unknown, 2 bad usage or input.")
    parser.add_argument("templates", nargs="*", metavar="TEMPLATE",
                        help="template file (JSON or YAML) or cdk.out folder")
    source = parser.add_argument_group("the estate the plan is laid over")
    source.add_argument("--snapshot", metavar="DIR", help="a snapshot of the account")
    source.add_argument("--live", action="store_true",
                        help="read the account live (a template alone is checked without it)")
    source.add_argument("--region", metavar="R", help="region (default: the snapshot's or "
                                                      "the SDK's)")
    source.add_argument("--profile", metavar="P", help="AWS profile for live reads")
    add_deadline_argument(source)
    source.add_argument("--accounts", metavar="ID",
                        help="the account of an organization snapshot the plan is for")
    source.add_argument("--parameter", action="append", metavar="NAME=VALUE", default=[],
                        help="template parameter value (repeatable)")
    planned = parser.add_argument_group("a planned instance, without a template")
    planned.add_argument("--subnet", metavar="ID")
    planned.add_argument("--security-group", action="append", metavar="ID", default=[])
    planned.add_argument("--instance-profile", metavar="NAME")
    planned.add_argument("--public-ip", action="store_true",
                         help="the instance gets a public IPv4 address (else the subnet's "
                              "default)")
    planned.add_argument("--imdsv2", choices=("required", "optional"), default="optional",
                         help="HttpTokens of the instance (default: optional, AWS's default "
                              "when the AMI does not require IMDSv2)")
    planned.add_argument("--platform", choices=("linux", "windows"), default="linux")
    add_output_arguments(parser)
    return parser


def _parameters(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UsageError(f"--parameter {pair!r}: expected NAME=VALUE")
        values[name] = value
    return values


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    with deadline(args.deadline):
        return _check(args)


def _check(args: argparse.Namespace) -> int:
    from auditor.prelaunch import check

    if args.snapshot and args.live:
        raise UsageError("give either --snapshot DIR or --live, not both")
    if args.templates:
        if args.subnet or args.security_group or args.instance_profile or args.public_ip:
            raise UsageError("give either TEMPLATE or --subnet/--security-group, not both")
        from auditor.sources.template.load import load_templates
        from auditor.sources.template.overlay import infer_region

        templates = [t for path in args.templates for t in load_templates(path)]
        with live_progress() as progress:
            base, described = check.read_base(args.snapshot, args.live, args.region,
                                              args.profile,
                                              args.region or infer_region(templates), progress,
                                              _accounts(args))
        result = check.check_templates(templates, base, described,
                                       _parameters(args.parameter), args.region,
                                       ", ".join(args.templates))
    else:
        if not args.subnet:
            raise UsageError("say what to check: TEMPLATE (file or cdk.out) or --subnet ID "
                             "--security-group ID")
        if args.parameter:
            raise UsageError("--parameter applies to a TEMPLATE only")
        with live_progress() as progress:
            base, described = check.read_base(args.snapshot, True, args.region, args.profile,
                                              args.region, progress, _accounts(args))
        result = check.check_planned_instance(base, described, args.subnet,
                                              args.security_group, args.instance_profile,
                                              args.public_ip, args.imdsv2, args.platform)
    for warning in result.report.template_warnings or []:
        print(f"auditor: warning: {visible(warning, one_line=True)}", file=sys.stderr)
    print_report(result.report, args, result.locate, indent=True)
    return result.exit_code()


def _accounts(args: argparse.Namespace) -> list[str] | None:
    if not args.accounts:
        return None
    from auditor.sources.organization import Selection, is_organization_snapshot

    if not (args.snapshot and is_organization_snapshot(args.snapshot)):
        raise UsageError("--accounts chooses the account of an organization snapshot "
                         "(--snapshot DIR)")
    return list(Selection.from_flags(args.accounts, None, None).accounts)
