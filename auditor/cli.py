"""Command line: ``python -m auditor`` (and the ``ssm-auditor`` console script).

Only dispatch: the first argument names a command (``auditor/commands/<name>.py``, imported
only when used so the audit starts fast); anything else is the audit. Every command's errors
end here as one line and exit status 2, never a traceback.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

from auditor.commands import DEFAULT_COMMAND, commands
from auditor.errors import DeadlineExceeded, UsageError
from auditor.terminal import visible

EXIT_USAGE = 2


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
        name, args = (argv[0], argv[1:]) if argv and argv[0] in commands() else (
            DEFAULT_COMMAND, argv)
        return importlib.import_module(f"auditor.commands.{name}").run(args)
    except (UsageError, DeadlineExceeded) as error:
        # Messages quote files and AWS answers: their control characters are shown, not sent.
        print(f"auditor: error: {visible(str(error), one_line=True)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug: still one line, the traceback on request
        if os.environ.get("SSM_AUDITOR_DEBUG"):
            raise
        print(f"auditor: internal error: {type(error).__name__}: "
              f"{visible(str(error), one_line=True)} "
              "(set SSM_AUDITOR_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_USAGE
