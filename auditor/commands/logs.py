"""``python -m auditor logs FILE [FILE ...] [--format text|json]``: symptoms of agent logs.

Exit status: 0 when every input was read (whatever it shows), 2 when one could not be.
"""

from __future__ import annotations

import argparse

from auditor.commands.common import OneLineParser


def _parser() -> argparse.ArgumentParser:
    from auditor.reports.log_symptoms import FORMATS

    parser = OneLineParser(prog="python -m auditor logs",
                           description="Classify SSM Agent log lines (amazon-ssm-agent.log, "
                                       "errors.log, hibernate.log, syslog or journald "
                                       "extracts, pastes) or ssm-cli get-diagnostics JSON "
                                       "into symptoms.",
                           epilog="Use - for standard input. Exit status: 0 the input was "
                                  "read, 2 it could not be.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--format", choices=FORMATS, default="text")
    return parser


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from auditor.logs.analysis import analyse
    from auditor.reports.log_symptoms import render

    print(render(analyse(args.files), args.format))
    return 0
