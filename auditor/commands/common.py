"""What every command shares: the one-line parser, colour, live progress, the report printer."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

from auditor.errors import DeadlineExceeded, UsageError

if TYPE_CHECKING:
    from auditor.audit import AuditReport
    from auditor.reports.locations import Locator
    from auditor.sources.description import SourceDescription
    from auditor.sources.live import Progress
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
    """Raise ``DeadlineExceeded`` in this thread when ``seconds`` pass (a timer signal
    interrupts even a blocked socket read); nothing when None or where there is no such
    signal (then the per-call timeouts still bound each call)."""
    import signal
    import threading

    usable = (seconds is not None and hasattr(signal, "setitimer")
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
            from auditor.terminal import visible

            sys.stderr.write(f"\r\033[K{visible(message, one_line=True)}")
            sys.stderr.flush()

    try:
        yield report
    finally:
        if terminal:
            sys.stderr.write("\r\033[K")


def read_raws(snapshot: str | None, regions: list[str] | None, profile: str | None,
              instance_ids: list[str] | None = None
              ) -> tuple[list[RawRegion], SourceDescription]:
    """``sources.read.read_raws``, a live read's progress shown."""
    from auditor.sources import read

    with live_progress() as progress:
        return read.read_raws(snapshot, regions, profile, instance_ids, progress)


def print_report(report: AuditReport, args: argparse.Namespace, locate: Locator | None = None,
                 indent: bool | None = None) -> None:
    """The report in the format ``args`` asks for, on stdout."""
    from auditor.reports import RenderOptions, render

    print(render(report, args.format, RenderOptions(
        use_colour(args.color), args.verbose, locate, indent)))
