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


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line, exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _audit_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m auditor",
                     description="Prove whether SSM Agent on EC2 instances can work.",
                     epilog="Also: python -m auditor snapshot --out DIR [--region R] "
                            "[--instance ID] captures the read-only API answers for offline "
                            "audits. Exit status: 0 all manageable, 1 some not manageable, "
                            "3 some unknown, 2 bad usage or input.")
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
    output.add_argument("--format", choices=("text", "json"), default="text")
    output.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour in the text report (auto: when stdout is a terminal)")
    output.add_argument("-v", "--verbose", action="store_true",
                        help="show every hop of every proof, also for healthy instances")
    output.add_argument("--logs", action="append", metavar="FILE",
                        help="agent log or ssm-cli get-diagnostics JSON to correlate with the "
                             "proof (repeatable; - for standard input; a log goes to the "
                             "audited instance it names, or to the only one audited)")
    later = parser.add_argument_group("coming with later releases")
    later.add_argument("--plan", metavar="FILE",
                       help="write a remediation plan (not available yet)")
    return parser


def _snapshot_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m auditor snapshot",
                     description="Capture the raw read-only API answers into a directory.")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--region", action="append", metavar="R")
    parser.add_argument("--profile", metavar="P")
    parser.add_argument("--instance", action="append", metavar="ID",
                        help="capture only what these instances need")
    return parser


def _progress() -> Any:
    if not sys.stderr.isatty():
        return None

    def report(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()

    return report


def _load_estates(args: argparse.Namespace) -> tuple[list, dict[str, Any]]:
    from auditor.sources.parse import build_estate

    if args.snapshot:
        from auditor.sources.snapshot import read_snapshot

        raws = read_snapshot(args.snapshot, args.region)
        source = {"kind": "snapshot", "path": args.snapshot}
    else:
        from auditor.sources.live import collect

        progress = _progress()
        raws = collect(args.region, args.profile, args.instance, progress)
        if progress:
            sys.stderr.write("\r\033[K")
        source = {"kind": "aws", "profile": args.profile or os.environ.get("AWS_PROFILE")}
    estates = [build_estate(raw, args.instance) for raw in raws]
    source["regions"] = [estate.region for estate in estates]
    source["account_id"] = next((e.account_id for e in estates if e.account_id), "")
    source["unavailable"] = {e.region: e.unavailable for e in estates if e.unavailable}
    return estates, source


def _use_colour(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def run_audit_command(argv: list[str]) -> int:
    args = _audit_parser().parse_args(argv)
    if bool(args.instance) == bool(args.all):
        raise UsageError("say which instances to audit: --instance ID (repeatable) or --all")
    if args.plan:
        raise UsageError("--plan is not available in this version yet")
    from auditor.audit import run_audit

    estates, source = _load_estates(args)
    report = run_audit(estates, args.instance, source)
    if args.logs:
        from auditor.logs.attach import attach_logs

        attach_logs(report, args.logs)
    if args.format == "json":
        from auditor.reports import json_report

        print(json_report.render(report))
    else:
        from auditor.reports import text_report

        print(text_report.render(report, _use_colour(args.color), args.verbose))
    return report.exit_code()


def run_snapshot_command(argv: list[str]) -> int:
    args = _snapshot_parser().parse_args(argv)
    from auditor.sources import api_calls
    from auditor.sources.live import collect
    from auditor.sources.snapshot import write_snapshot

    progress = _progress()
    raws = collect(args.region, args.profile, args.instance, progress)
    if progress:
        sys.stderr.write("\r\033[K")
    write_snapshot(args.out, raws)
    for raw in raws:
        denied = "".join(f"\n  {kind}: {reason}" for kind, reason in raw.errors.items())
        regional = [kind for kind in raw.answers if not api_calls.BY_KIND[kind].account_wide]
        print(f"{raw.region}: {len(regional)} answers written to {args.out}/{raw.region}"
              + (f"; could not read:{denied}" if denied else ""))
    return 0


def _subcommand(name: str) -> Callable[[list[str]], int]:
    module_name, function_name = SUBCOMMANDS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as missing:
        if missing.name and module_name.startswith(missing.name):
            raise UsageError(f"'{name}' is not available in this version yet") from None
        raise
    return getattr(module, function_name)


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
