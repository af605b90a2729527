"""What every command shares: the one-line parser, colour, live progress, the report printer."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

from auditor.errors import DeadlineExceeded, UsageError
from auditor.terminal import visible

if TYPE_CHECKING:
    from auditor.audit import AuditReport
    from auditor.reports.locations import Locator
    from auditor.sources.description import SourceDescription
    from auditor.sources.live import Progress
    from auditor.sources.organization import Selection, Unit, UnitSource
    from auditor.sources.raw import RawRegion


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports errors as one line, exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        """Also refuses an empty value (``--snapshot "$UNSET"``): it never means "none"."""
        parsed, extras = super().parse_known_args(args, namespace)
        for action in self._actions:
            value = getattr(parsed, action.dest, None)
            values = value if isinstance(value, list) else [value]
            if value is not action.default and any(item == "" for item in values):
                name = "/".join(action.option_strings) or action.metavar or action.dest
                self.error(f"{name}: empty value (an unset variable?)")
        return parsed, extras


def add_output_arguments(parser: argparse.ArgumentParser, colour_help: str | None = None,
                         verbose_help: str | None = None) -> argparse._ArgumentGroup:
    """--format (every report format), --color and -v, in an "output" group."""
    from auditor import reports

    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=reports.formats(), default="text")
    output.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help=colour_help)
    output.add_argument("-v", "--verbose", action="store_true", help=verbose_help)
    return output


def use_colour(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


_last_done = [""]  # the last step a live read reported, named when --deadline passes


def add_deadline_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deadline", type=_seconds, metavar="SECONDS",
                        help="give up (exit 2, one line) when the whole run takes longer; each "
                             "AWS call also has connect and read timeouts and the SDK's "
                             "retries (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 10**7:  # NaN and infinity fail too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise ``DeadlineExceeded`` when ``seconds`` pass: in this thread by a timer signal (it
    interrupts even a blocked socket read), in any thread at its next AWS request (the units
    of an organization run); nothing when None. Where there is no such signal the per-call
    timeouts still bound each call."""
    if seconds is None:
        yield
        return
    from auditor.sources import live  # its clients check it too, on every thread

    _last_done[0] = ""  # this run's steps only
    live.set_run_deadline(seconds)
    try:
        with _deadline_signal(seconds):
            yield
    finally:
        live.set_run_deadline(None)


@contextmanager
def _deadline_signal(seconds: float) -> Iterator[None]:
    import signal
    import threading

    usable = (hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise DeadlineExceeded(seconds, _last_done[0])

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def live_progress() -> Iterator[Progress]:
    """A live read's progress on a terminal's stderr (the line cleared afterwards); the last
    step is kept for the --deadline message."""
    terminal = sys.stderr.isatty()

    def report(message: str) -> None:
        _last_done[0] = message
        if terminal:
            sys.stderr.write(f"\r\033[K{visible(message, one_line=True)}")
            sys.stderr.flush()

    try:
        yield report
    finally:
        if terminal:
            sys.stderr.write("\r\033[K")


def read_raws(snapshot: str | None, regions: list[str] | None, profile: str | None,
              instance_ids: list[str] | None = None, accounts: list[str] | None = None
              ) -> tuple[list[RawRegion], SourceDescription]:
    """``sources.read.read_raws``, a live read's progress shown."""
    from auditor.sources import read

    with live_progress() as progress:
        return read.read_raws(snapshot, regions, profile, instance_ids, progress, accounts)


def print_report(report: AuditReport, args: argparse.Namespace, locate: Locator | None = None,
                 indent: bool | None = None) -> None:
    """The report in the format ``args`` asks for, on stdout."""
    from auditor.reports import RenderOptions, render

    print(render(report, args.format, RenderOptions(
        use_colour(args.color), args.verbose, locate, indent)))


# --- A whole organization (--org) ------------------------------------------------------------

DEFAULT_LIVE_CONCURRENCY = 16  # units at once when reading live: the time is spent waiting
DEFAULT_SNAPSHOT_CONCURRENCY = 1  # from disk the work is the proof, one core's worth
DEFAULT_UNIT_TIMEOUT = 900.0  # seconds a unit may take to read, as long as a Lambda may run
PROGRESS_EVERY = 5.0  # seconds between two progress lines when stderr is not a terminal
CLEAR = "\r\033[K"  # back to the start of the terminal's line, and clear it


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, not {text!r}")
    return value


def add_organization_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """--org and the selection flags of the contract's section 6."""
    from auditor.aws_facts import ORGANIZATION_ROLE_NAME

    group = parser.add_argument_group(
        "a whole AWS Organization (credentials of the management account or a delegated "
        "administrator)")
    group.add_argument("--org", action="store_true",
                       help="every ACTIVE account of the organization, each through its role")
    group.add_argument("--role-name", default=ORGANIZATION_ROLE_NAME, metavar="NAME",
                       help=f"the read-only role in each member account (default "
                            f"{ORGANIZATION_ROLE_NAME}); the caller's own account is read "
                            "with the caller's credentials")
    group.add_argument("--external-id", metavar="ID", help="external id for AssumeRole")
    group.add_argument("--accounts", action="append", metavar="ID[,ID...]",
                       help="only these accounts (repeatable)")
    group.add_argument("--regions", action="append", metavar="R[,R...]|all",
                       help="regions of each account (repeatable; all: every region enabled "
                            "in the account; default: the SDK's region)")
    group.add_argument("--concurrency", type=_positive_int, metavar="N",
                       help=f"units read at once (default {DEFAULT_LIVE_CONCURRENCY} live, "
                            f"{DEFAULT_SNAPSHOT_CONCURRENCY} from a snapshot)")
    group.add_argument("--shard", metavar="I/N",
                       help="only the I-th of N equal slices of the units (CI runners)")
    group.add_argument("--unit-timeout", type=_positive_float, metavar="SECONDS",
                       default=DEFAULT_UNIT_TIMEOUT,
                       help=f"a unit still reading after this long fails (default "
                            f"{DEFAULT_UNIT_TIMEOUT:.0f})")
    group.add_argument("-q", "--quiet", action="store_true",
                       help="no progress on stderr (CI)")
    return group


ORGANIZATION_ONLY = ("accounts", "regions", "shard", "concurrency", "external_id")


def organization_flags_given(args: argparse.Namespace) -> list[str]:
    """The organization flags given (for "needs --org" messages)."""
    given = [f"--{name.replace('_', '-')}" for name in ORGANIZATION_ONLY
             if getattr(args, name, None)]
    from auditor.aws_facts import ORGANIZATION_ROLE_NAME

    if getattr(args, "role_name", ORGANIZATION_ROLE_NAME) != ORGANIZATION_ROLE_NAME:
        given.append("--role-name")
    return given


def organization_selection(args: argparse.Namespace) -> Selection:
    from auditor.sources.organization import Selection

    regions = (args.regions or []) + (getattr(args, "region", None) or [])
    return Selection.from_flags(args.accounts, regions or None, args.shard)


def open_units(args: argparse.Namespace, selection: Selection, progress: UnitProgress
               ) -> tuple[UnitSource, list[Unit], int]:
    """The units to audit and where they are read: an organization snapshot (``--snapshot``)
    or the live organization; and the concurrency."""
    if getattr(args, "snapshot", None):
        from auditor.sources.organization import SnapshotUnits

        source = SnapshotUnits(args.snapshot)
        return (source, source.units(selection),
                args.concurrency or DEFAULT_SNAPSHOT_CONCURRENCY)
    from auditor.sources.organization import open_live

    concurrency = args.concurrency or DEFAULT_LIVE_CONCURRENCY
    live, units = open_live(args.profile, args.role_name, args.external_id, selection,
                            concurrency, progress.note)
    return live, units, concurrency


class UnitProgress:
    """Progress of a run on stderr: units done / total, instances so far, failures. On a
    terminal one line kept up to date; otherwise a line every few seconds and one per unit
    that fails. Nothing with ``--quiet``."""

    def __init__(self, quiet: bool, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.terminal = self.stream.isatty()
        self.total = 0
        self.done = 0
        self.instances = 0
        self.failed = 0
        self._last = 0.0

    def start(self, total: int) -> None:
        self.total = total
        if not self.quiet:
            self.stream.write(f"{CLEAR if self.terminal else ''}ssm-auditor: {total} unit(s) "
                              f"to read{'' if self.terminal else chr(10)}")
            self.stream.flush()

    def note(self, message: str) -> None:
        """A step before the units (reading the organization, listing regions): on a terminal
        only, where the next line replaces it."""
        if self.terminal and not self.quiet:
            self.stream.write(f"{CLEAR}ssm-auditor: {visible(message, one_line=True)}")
            self.stream.flush()

    def __call__(self, entry: dict[str, Any]) -> None:
        self.done += 1
        self.instances += entry.get("instances") or 0
        if entry.get("status") == "error":
            self.failed += 1
            if not self.quiet:
                clear = CLEAR if self.terminal else ""
                line = visible(f"ssm-auditor: {entry['account_id']} {entry['region']} could "
                               f"not be read: {entry['error']}", one_line=True)
                self.stream.write(f"{clear}{line}\n")
        last = self.done == self.total
        if not self.quiet and (self.terminal or last
                               or time.monotonic() - self._last >= PROGRESS_EVERY):
            self._last = 0.0 if self.terminal else time.monotonic()
            line = (f"ssm-auditor: {self.done}/{self.total} units, {self.instances} "
                    f"instances, {self.failed} failed")
            self.stream.write(f"{CLEAR}{line}" if self.terminal else f"{line}\n")
            self.stream.flush()

    def close(self) -> None:
        if self.terminal and not self.quiet:
            self.stream.write(CLEAR)
            self.stream.flush()
