"""What every command shares: the one-line parser, colour, live progress, the report printer."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

from auditor.errors import UsageError

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


@contextmanager
def live_progress() -> Iterator[Progress | None]:
    """A live read's progress on a terminal's stderr (None when stderr is not one), the line
    cleared afterwards."""
    if not sys.stderr.isatty():
        yield None
        return

    def report(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()

    try:
        yield report
    finally:
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
