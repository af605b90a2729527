"""``python -m auditor logs FILE [FILE ...] [--format text|json]``: symptoms of agent logs.

Exit status: 0 when every input was read (whatever it shows), 2 when one could not be.
"""

from __future__ import annotations

import argparse
import json

from auditor.cli import OneLineParser
from auditor.logs.analysis import LogAnalysis, analyse
from auditor.logs.classify import SymptomTally
from auditor.logs.symptoms import BY_LABEL, HEALTHY, UNRECOGNIZED
from auditor.logs.terminal import visible


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m auditor logs",
                           description="Classify SSM Agent log lines (amazon-ssm-agent.log, "
                                       "errors.log, hibernate.log, syslog or journald "
                                       "extracts, pastes) or ssm-cli get-diagnostics JSON "
                                       "into symptoms.",
                           epilog="Use - for standard input. Exit status: 0 the input was "
                                  "read, 2 it could not be.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _meaning(label: str) -> str:
    if label == HEALTHY:
        return "no failure in the input"
    if label == UNRECOGNIZED:
        return "a failure outside the symptom catalogue"
    return BY_LABEL[label].meaning


def symptom_lines(tally: SymptomTally, indent: str = "  ") -> list[str]:
    """A symptom for a person: count, when, fields, what can explain it, evidence."""
    when = ""
    if tally.first_seen:
        when = f"  {tally.first_seen}" + (f" .. {tally.last_seen}"
                                          if tally.last_seen != tally.first_seen else "")
    lines = [f"{indent}{tally.label}  x{tally.count}{when}  ({_meaning(tally.label)})"]
    for name, values in tally.fields.items():
        lines.append(f"{indent}  {name}: {', '.join(values)}")
    if tally.explained_by:
        lines.append(f"{indent}  can be explained by: {', '.join(tally.explained_by)}")
    for evidence in tally.evidence:
        for number, line in enumerate(evidence.split("\n")):
            lines.append(f"{indent}  {'|' if number == 0 else ':'} {line}")
    return lines


def render_text(analysis: LogAnalysis) -> str:
    names = ", ".join(item["name"] for item in analysis.inputs)
    lines = [f"ssm-auditor logs: {len(analysis.inputs)} input(s), {analysis.lines_read} "
             f"line(s) read ({names})",
             f"primary: {analysis.primary} ({_meaning(analysis.primary)})"]
    facts = analysis.classifier.facts
    for name in ("agent_versions", "instance_ids", "backoff"):
        if facts.get(name):
            lines.append(f"{name.replace('_', ' ')}: {', '.join(facts[name])}")
    for tally in analysis.symptoms:
        lines.append("")
        lines.extend(symptom_lines(tally))
    if analysis.working:
        lines.append("")
        lines.extend(f"working: {what}: {why}" for what, why in analysis.working.items())
    lines.extend(f"note: {note}" for note in analysis.notes)
    return visible("\n".join(lines))


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    analysis = analyse(args.files)
    if args.format == "json":
        print(json.dumps(analysis.as_dict(), indent=2))
    else:
        print(render_text(analysis))
    return 0
