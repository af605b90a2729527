"""``python -m auditor prelaunch``: prove instances before they exist.

    prelaunch TEMPLATE [TEMPLATE ...] [--snapshot DIR | --live] [--parameter K=V ...]
    prelaunch --subnet subnet-... --security-group sg-... [--instance-profile NAME]
              [--public-ip] [--imdsv2 required|optional] [--platform linux|windows]
              [--snapshot DIR]                       (live AWS without --snapshot)

A template (a file, or a cdk.out folder) is laid over the estate (a snapshot, the live account,
or nothing) and each instance, launch template and auto scaling group is proved like a running
instance, under its logical id. Exit status as for the audit.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from auditor.audit import EXIT_UNKNOWN
from auditor.cli import OneLineParser, read_raws, use_colour
from auditor.errors import UsageError
from auditor.sources.description import SourceDescription
from auditor.sources.raw import RawRegion
from auditor.sources.read import pick_region
from auditor.sources.template.overlay import NESTED_STACK, OverlayResult


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
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    output.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    output.add_argument("-v", "--verbose", action="store_true")
    return parser


def _parameters(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UsageError(f"--parameter {pair!r}: expected NAME=VALUE")
        values[name] = value
    return values


def _base(args: argparse.Namespace, use_live: bool, region_hint: str | None
          ) -> tuple[RawRegion, SourceDescription]:
    if not (args.snapshot or use_live):
        return RawRegion(args.region or ""), SourceDescription("none")
    raws, described = read_raws(args.snapshot, [args.region] if args.region else None,
                                 args.profile)
    return pick_region(raws, region_hint), described


def _overlay(args: argparse.Namespace) -> tuple[OverlayResult, SourceDescription]:
    if args.templates:
        if args.subnet or args.security_group or args.instance_profile or args.public_ip:
            raise UsageError("give either TEMPLATE or --subnet/--security-group, not both")
        from auditor.sources.template.load import load_templates
        from auditor.sources.template.overlay import infer_region, overlay_templates

        templates = [t for path in args.templates for t in load_templates(path)]
        base, described = _base(args, args.live, args.region or infer_region(templates))
        result = overlay_templates(base, templates, _parameters(args.parameter), args.region)
        source = SourceDescription("template", path=", ".join(args.templates),
                                   templates=[t.path for t in templates], base=described)
        return result, source
    if not args.subnet:
        raise UsageError("say what to check: TEMPLATE (file or cdk.out) or --subnet ID "
                         "--security-group ID")
    if args.parameter:
        raise UsageError("--parameter applies to a TEMPLATE only")
    from auditor.prelaunch.planned import plan_instance

    base, described = _base(args, True, args.region)
    result = plan_instance(base, args.subnet, args.security_group, args.instance_profile,
                           args.public_ip, args.imdsv2, args.platform)
    return result, SourceDescription("planned", base=described)


def _locator(result: OverlayResult):
    from auditor.reports.sarif_report import SourceLocation

    def locate(resource_id: str) -> SourceLocation | None:
        ref = result.logical.get(resource_id)
        return (SourceLocation(ref.path, ref.line, ref.logical_id, ref.construct_path)
                if ref else None)

    return locate


def _json(report: Any, result: OverlayResult) -> str:
    from auditor.reports import json_report

    document = json.loads(json_report.render(report, indent=True))
    unresolved = result.unresolved
    for entry in document["instances"]:
        ref = result.logical.get(entry["instance_id"])
        if ref:
            entry["logical_id"] = ref.logical_id
            entry["resource_type"] = ref.resource_type
            entry["template"] = {"path": ref.path, "line": ref.line}
            if ref.construct_path:
                entry["construct_path"] = ref.construct_path
        for finding in entry["findings"]:
            found = result.logical.get(finding["resource_id"] or "")
            if found:
                finding["logical_id"] = found.logical_id
    document["unresolved"] = unresolved
    document["not_read"] = result.not_read
    return json.dumps(document, indent=2)


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from auditor.audit import run_audit
    from auditor.prelaunch.groups import merge_groups
    from auditor.sources.parse import build_estate

    if args.snapshot and args.live:
        raise UsageError("give either --snapshot DIR or --live, not both")
    result, source = _overlay(args)
    estate = build_estate(result.raw, result.planned or None)
    source.regions = [estate.region]
    # Without an estate the account is a placeholder: not worth reporting as a fact.
    source.account_id = estate.account_id if source.base and source.base.kind != "none" else ""
    if not result.planned:
        report = run_audit([], None, source)
    else:
        report = run_audit([estate], result.planned, source)
    report = merge_groups(report, result.groups)
    nested = [logical_id for logical_id, why in result.not_read.items() if why == NESTED_STACK]
    if args.format == "json":
        print(_json(report, result))
    elif args.format == "sarif":
        from auditor.reports import sarif_report

        print(sarif_report.render(report, _locator(result)))
    elif not result.planned:
        print(f"ssm-auditor: nothing to check in {source.path}: no instance, launch "
              "template or auto scaling group" + (" in the templates given" if nested else ""))
    else:
        from auditor.reports import text_report

        print(text_report.render(report, use_colour(args.color), args.verbose))
    if args.format == "text":
        for logical_id, why in result.not_read.items():
            print(f"not read: {logical_id} ({why})")
    # Instances only a nested stack launches are not known to be absent: not "all clear".
    return max(report.exit_code(), EXIT_UNKNOWN) if nested and not result.planned \
        else report.exit_code()
