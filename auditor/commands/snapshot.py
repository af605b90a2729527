"""``python -m auditor snapshot --out DIR``: capture the raw read-only API answers.

``snapshot --org --out DIR``: every unit (account, region) of the organization, written as it
is read (``auditor.sources.organization.snapshot``). Exit status 0, or 3 when a unit could not
be read (it is listed in the manifest with its reason).
"""

from __future__ import annotations

import argparse

from auditor.commands.common import (
    OneLineParser,
    add_deadline_argument,
    add_organization_arguments,
    deadline,
    organization_flags_given,
    read_raws,
)
from auditor.errors import UsageError
from auditor.terminal import visible

EXIT_UNIT_FAILED = 3


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m auditor snapshot",
                           description="Capture the raw read-only API answers into a directory.")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--region", action="append", metavar="R")
    parser.add_argument("--profile", metavar="P")
    parser.add_argument("--instance", action="append", metavar="ID",
                        help="capture only what these instances need")
    add_deadline_argument(parser)
    add_organization_arguments(parser)
    return parser


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.org:
        with deadline(args.deadline):
            return _capture_organization(args)
    if organization_flags_given(args):
        raise UsageError(f"{organization_flags_given(args)[0]} applies to a whole "
                         "organization: add --org")
    from auditor.sources import api_calls
    from auditor.sources.snapshot import write_snapshot

    with deadline(args.deadline):
        raws, _ = read_raws(None, args.region, args.profile, args.instance)
    write_snapshot(args.out, raws)
    for raw in raws:
        denied = "".join(f"\n  {kind}: {reason}" for kind, reason in raw.errors.items())
        regional = [kind for kind in raw.answers if not api_calls.BY_KIND[kind].account_wide]
        print(visible(f"{raw.region}: {len(regional)} answers written to {args.out}/{raw.region}"
                      + (f"; could not read:{denied}" if denied else "")))
    return 0


def _capture_organization(args: argparse.Namespace) -> int:
    from auditor.commands.common import UnitProgress, open_units, organization_selection
    from auditor.sources.organization.snapshot import capture

    if args.instance:
        raise UsageError("snapshot --org captures every instance of the units it reads: "
                         "narrow it with --accounts and --regions, not --instance")
    selection = organization_selection(args)
    progress = UnitProgress(args.quiet)
    source, units, concurrency = open_units(args, selection, progress)
    progress.start(len(units))
    entries = capture(source, units, args.out, selection, concurrency=concurrency,
                      timeout=args.unit_timeout, on_progress=progress)
    progress.close()
    failed = [entry for entry in entries if entry["status"] != "ok"]
    print(visible(f"{len(entries) - len(failed)} unit(s) of organization "
                  f"{source.organization.organization_id} written to {args.out}"
                  f" ({sum(entry['instances'] for entry in entries)} instances)"
                  + "".join(f"\n  could not read {entry['account_id']} {entry['region']}: "
                            f"{entry['error']}" for entry in failed)))
    return EXIT_UNIT_FAILED if failed else 0
