"""The capabilities in the text report: one line per capability of an instance that is not all
ok (every line, and the proof, with ``-v``), the principals ``--operator`` named, and who
``--operators`` found may start a session."""

from __future__ import annotations

from collections.abc import Callable

from auditor.analysis.capabilities import CapabilityResult, OperatorResult
from auditor.audit import AuditReport, InstanceAudit
from auditor.vocabulary import CAPABILITIES, FAIL, NOT_APPLICABLE, OK

Paint = Callable[[str, str], str]
_STYLE = {OK: "green", FAIL: "red", NOT_APPLICABLE: "dim"}


def capability_lines(audit: InstanceAudit, paint: Paint, verbose: bool) -> list[str]:
    results = audit.capabilities
    all_ok = all(result.status == OK for result in results.values())
    lines: list[str] = []
    for result in results.values():
        if verbose or not all_ok:
            lines.append(_line(result, paint))
        if verbose:
            lines += _proof(result, paint)
        lines += _operators(result, paint, verbose)
    return lines


def _line(result: CapabilityResult, paint: Paint) -> str:
    status = paint(f"{result.status:<14}", _STYLE.get(result.status, "yellow"))
    codes = list(dict.fromkeys(f.code for f in result.findings if f.severity == "error"))
    why = ", ".join(codes) or "; ".join(result.reasons[:2])
    return f"    {result.name:<16} {status} {why}".rstrip()


def _proof(result: CapabilityResult, paint: Paint) -> list[str]:
    lines = []
    for part in result.evidence.parts:
        lines.append(paint(f"        {part.status:<7} {part.name}", "dim"))
        lines += [paint(f"            {check}", "dim") for check in part.checks]
    for name, proof in result.evidence.proofs.items():
        lines.append(paint(f"        {name}: {proof.status} via {proof.via} {proof.hostname} -> "
                           f"{proof.resolves_to}", "dim"))
        lines += [paint(f"            {hop.decision:<7} {hop.step:<22} {hop.resource_id}  "
                        f"{hop.rule}", "dim") for hop in proof.path]
    lines += [paint(f"        note: {note}", "dim") for note in result.evidence.notes]
    return lines


def _operators(result: CapabilityResult, paint: Paint, verbose: bool) -> list[str]:
    lines = []
    for operator in result.operators.values():
        status = paint(operator.status, _STYLE.get(operator.status, "yellow"))
        codes = ", ".join(dict.fromkeys(f.code for f in operator.findings))
        lines.append(f"    operator {operator.principal}: {status}"
                     + (f" {codes}" if codes else "") + _run_as(operator))
        if verbose:
            lines += [paint(f"        {check}", "dim") for check in operator.checks]
    if result.operator_listing is not None:
        may = [_who(o) for o in result.operator_listing if o.status == OK]
        might = [_who(o) for o in result.operator_listing if o.status != OK]
        lines.append(f"    may start a session: {', '.join(may) or 'no role or user'}")
        if might:
            lines.append(f"    might (undecided conditions): {', '.join(might)}")
    return lines


def _who(operator: OperatorResult) -> str:
    name = operator.principal.rsplit("/", 1)[-1]
    return f"{operator.kind} {name}{_run_as(operator)}"


def _run_as(operator: OperatorResult) -> str:
    return f" (runs as {operator.run_as})" if operator.run_as else ""


def capability_summary(report: AuditReport) -> list[str]:
    """One line: how many instances each capability holds in each status."""
    parts = []
    for name in CAPABILITIES:
        counts: dict[str, int] = {}
        for audit in report.instances:
            result = audit.capabilities.get(name)
            if result is not None:
                counts[result.status] = counts.get(result.status, 0) + 1
        if counts:
            parts.append(f"{name} " + ", ".join(f"{count} {status.replace('_', ' ')}"
                                                for status, count in sorted(counts.items())))
    return [f"capabilities: {'; '.join(parts)}"] if parts else []
