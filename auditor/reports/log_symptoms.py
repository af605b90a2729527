"""The report of ``python -m auditor logs``: the symptoms of agent logs, as text or JSON.

Not an audit report (no instances, no verdicts): the contract's section 5 document.
"""

from __future__ import annotations

import json

from auditor.logs.analysis import LogAnalysis
from auditor.logs.classify import SymptomTally
from auditor.logs.symptoms import BY_LABEL, HEALTHY, UNRECOGNIZED
from auditor.terminal import visible

FORMATS = ("text", "json")


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


def render(analysis: LogAnalysis, format_name: str) -> str:
    if format_name == "json":
        return json.dumps(analysis.as_dict(), indent=2)
    return render_text(analysis)
