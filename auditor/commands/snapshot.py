"""``python -m auditor snapshot --out DIR``: capture the raw read-only API answers."""

from __future__ import annotations

import argparse

from auditor.commands.common import OneLineParser, read_raws


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m auditor snapshot",
                           description="Capture the raw read-only API answers into a directory.")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--region", action="append", metavar="R")
    parser.add_argument("--profile", metavar="P")
    parser.add_argument("--instance", action="append", metavar="ID",
                        help="capture only what these instances need")
    return parser


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
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
