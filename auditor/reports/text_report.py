"""The report for a person at a terminal: verdicts at a glance, then what blocks and the fix.

With ``--verify-plan``, each instance's verdict before and after the change comes first; for
templates, each block says where the instance and the resources of its findings are written,
and what the auditor did not read comes last.
"""

from __future__ import annotations

import re
import secrets
from typing import IO, TYPE_CHECKING, Any

from auditor.analysis.results import BLOCKED, REACHABLE, Finding, ServiceProof
from auditor.audit import AuditReport, InstanceAudit
from auditor.catalogue import CATALOGUE
from auditor.reports import RenderOptions
from auditor.reports.capabilities_text import capability_lines, capability_summary
from auditor.reports.json_report import summary
from auditor.reports.locations import Locator, nowhere
from auditor.sources.description import SourceDescription
from auditor.terminal import visible
from auditor.vocabulary import MANAGEABLE, NOT_APPLICABLE, NOT_MANAGEABLE, UNKNOWN

if TYPE_CHECKING:
    from auditor.sources.template.context import LogicalRef

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1", "cyan": "36"}
_VERDICT_STYLE = {
    MANAGEABLE: ("OK ", "green", "manageable"),
    NOT_MANAGEABLE: ("XX ", "red", "NOT manageable"),
    UNKNOWN: ("?? ", "yellow", "unknown"),
    NOT_APPLICABLE: ("-- ", "dim", "not applicable"),
}
_STATUS_STYLE = {REACHABLE: "green", BLOCKED: "red"}
NOTHING_AUDITED = "no instance was audited: nothing here is proven manageable"


class _Painter:
    """Colour codes as placeholders no data can forge (a fresh nonce per report): ``finish``
    shows every control character of the text as an escape, then puts the real codes in."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self._mark = f"\ue000{secrets.token_hex(8)}"

    def __call__(self, text: str, style: str) -> str:
        if not self.colour:
            return text
        return f"{self._mark}{_COLOURS[style]}\ue001{text}{self._mark}0\ue001"

    def finish(self, text: str) -> str:
        safe = visible(text)  # tags, names, rule descriptions, log lines: shown, not sent
        if not self.colour:
            return safe
        return re.sub(f"{self._mark}([0-9]+)\ue001", lambda code: f"\033[{code.group(1)}m",
                      safe)


def _label(instance_audit: InstanceAudit) -> str:
    instance = instance_audit.instance
    return f"{instance.instance_id} ({instance.name})" if instance.name else instance.instance_id


def _headline(audit: InstanceAudit) -> str:
    return headline([(f.code, f.severity) for f in audit.findings if not f.capability],
                    audit.verdict_reasons,
                    [f.code for f in audit.findings if f.capability and f.severity == "error"])


def headline(findings: list[tuple[str, str]], reasons: list[str],
             capabilities: list[str] | None = None) -> str:
    """What an instance's line says: its agent's error codes, else its warning codes, else why;
    then the codes that block a capability of its own (``capabilities``)."""
    first = "; ".join(reasons[:2])
    for severity in ("error", "warning"):
        codes = [code for code, found in findings if found == severity]
        if codes:
            first = ", ".join(dict.fromkeys(codes))
            break
    return ", ".join(dict.fromkeys([*([first] if first else []), *(capabilities or [])]))


def _service_line(proof: ServiceProof, paint: _Painter) -> str:
    status = paint(f"{proof.status:<9}", _STATUS_STYLE.get(proof.status, "yellow"))
    return f"    {proof.service:<12} {status} via {proof.via:<18} {proof.hostname} -> " \
           f"{proof.resolves_to}"


def _grouped(findings: list[Finding]) -> list[tuple[Finding, list[str]]]:
    """One entry per code and resource, with the services it concerns: one fix, said once."""
    groups: dict[tuple[str, str], tuple[Finding, list[str]]] = {}
    for finding in findings:
        key = (finding.code, finding.resource_id)
        if key not in groups:
            groups[key] = (finding, [])
        if finding.service:
            groups[key][1].append(finding.service)
    return list(groups.values())


def _location_text(located: LogicalRef) -> str:
    line = f":{located.line}" if located.line else ""
    construct = f" ({located.construct_path})" if located.construct_path else ""
    return f"{located.path}{line} {located.logical_id}{construct}"


def _finding_lines(finding: Finding, services: list[str], paint: _Painter,
                   fixes_shown: set[str], located: LogicalRef | None = None) -> list[str]:
    style = {"error": "red", "warning": "yellow"}.get(finding.severity, "dim")
    where = f" [{', '.join(services)}]" if services else ""
    lines = [f"    {paint(finding.code, style)}{where} {finding.message}"]
    if located is not None:
        lines.append(paint(f"      in {_location_text(located)}", "dim"))
    entry = CATALOGUE.get(finding.code)
    if entry is not None and finding.severity != "info" and finding.code not in fixes_shown:
        fixes_shown.add(finding.code)
        lines.append(f"      {paint('fix:', 'cyan')} {entry.fix}")
    return lines


_STATE_STYLE = {"confirmed": "red", "unexplained": "yellow", "contradicted": "cyan"}


def _log_lines(audit: InstanceAudit, paint: _Painter, verbose: bool) -> list[str]:
    """With --logs: each symptom of the agent's log, and whether the proof explains it."""
    if audit.logs is None:
        return []
    names = ", ".join(item["name"] for item in audit.logs["inputs"])
    lines = [f"    agent log ({names}): primary {audit.logs['primary']}"]
    for symptom in audit.logs["symptoms"]:
        state = paint(f"{symptom['state']:<12}", _STATE_STYLE.get(symptom["state"], "dim"))
        seen = f" x{symptom['count']}" if symptom["count"] else ""
        lines.append(f"      {state} {symptom['label']}{seen}: {symptom['reason']}")
        if symptom.get("outside_model"):
            lines.append(f"        outside the model: {'; '.join(symptom['outside_model'])}")
        for evidence in symptom["evidence"][: 3 if verbose else 1]:
            lines.append(paint(f"        | {evidence.splitlines()[0][:160]}", "dim"))
    lines.extend(f"      note: {note}" for note in audit.logs["notes"])
    return lines


def _needs_detail(audit: InstanceAudit) -> bool:
    return bool(audit.findings) or audit.logs is not None or any(proof.status != REACHABLE
                                       for proof in audit.services.values())


def _instance_block(audit: InstanceAudit, paint: _Painter, verbose: bool,
                    locate: Locator = nowhere) -> list[str]:
    mark, style, words = _VERDICT_STYLE[audit.verdict]
    instance = audit.instance
    lines = [f"{paint(mark + words, style)}  {_label(audit)}  {instance.region} "
             f"{instance.vpc_id} {instance.subnet_id} {instance.private_ip or ''}".rstrip()]
    written = locate(instance.instance_id)
    if written is not None:
        lines.append(f"    template {_location_text(written)}")
    for proof in audit.services.values():
        lines.append(_service_line(proof, paint))
        for hop in proof.path:
            if verbose or hop.decision != "allow":
                lines.append(paint(f"        {hop.decision:<7} {hop.step:<26} "
                                   f"{hop.resource_id}  {hop.rule}", "dim"))
    credentials = audit.credentials
    role = (credentials.role_arn or "").rsplit("/", 1)[-1]
    lines.append(f"    imds {audit.imds.status} | credentials {credentials.status} via "
                 f"{credentials.source}{f' (role {role})' if role else ''} | "
                 f"permissions {audit.permissions.status}")
    if verbose and credentials.chain:
        lines.append(paint("        chain: " + " -> ".join(credentials.chain), "dim"))
    lines += capability_lines(audit, paint, verbose)
    if audit.verdict != NOT_MANAGEABLE:
        lines.extend(f"    because {reason}" for reason in audit.verdict_reasons)
    fixes_shown: set[str] = set()
    for finding, services in _grouped(audit.findings):
        if verbose or finding.severity != "info":
            located = locate(finding.resource_id) if finding.resource_id != \
                instance.instance_id else None
            lines.extend(_finding_lines(finding, services, paint, fixes_shown,
                                        located if located != written else None))
    lines.extend(_log_lines(audit, paint, verbose))
    return lines


def _source_text(source: SourceDescription) -> str:
    """"snapshot demo/estate", "aws default", "template t.yaml over snapshot demo/estate"."""
    kind = source.kind
    if kind in ("template", "planned"):
        what = f"template {source.path or ''}" if kind == "template" else "a planned launch"
        base = source.base
        return what + (f" over {_source_text(base)}" if base is not None and base.kind != "none"
                       else " alone")
    return f"{kind} {source.path or source.profile or 'AWS'}"


def _after_plan_lines(report: AuditReport, after: dict) -> list[str]:
    """--verify-plan: each instance's verdict before the change and after it."""
    lines = [f"after the change in {after['cdk_out']} ({len(after['stacks'])} stack(s)"
             + (f"; assuming done: {len(after['manual_steps_assumed'])} manual step(s)"
                if after["plan_found"] else
                f"; no {after['cdk_out']}/ssm-auditor-plan.json, so no manual step assumed")
             + "):"]
    before = after["verdicts_before"]
    for audit in report.instances:
        instance_id = audit.instance.instance_id
        was = before.get(instance_id, "?").replace("_", " ")
        now = audit.verdict.replace("_", " ")
        blockers = sorted({f.code for f in audit.findings if f.severity == "error"})
        lines.append(f"  {instance_id}: {was} -> after this change: {now}"
                     + (f" (still blocked by {', '.join(blockers)})" if blockers else ""))
    lines += [f"  not modelled, check by hand: {command}"
              for command in after["manual_steps_not_modelled"]]
    return lines


def _nothing_to_check(report: AuditReport) -> str:
    from auditor.sources.template.overlay import NESTED_STACK

    nested = NESTED_STACK in (report.not_read or {}).values()
    return (f"ssm-auditor: nothing to check in {report.source.path}: no instance, launch "
            "template or auto scaling group" + (" in the templates given" if nested else ""))


def render(report: AuditReport, options: RenderOptions | None = None) -> str:
    options = options or RenderOptions()
    paint = _Painter(options.colour)
    lines = _after_plan_lines(report, report.source.after_plan) \
        if report.source.after_plan else []
    if report.not_read is not None and not report.instances:  # templates that launch nothing
        lines.append(_nothing_to_check(report))
    else:
        lines += _audit_lines(report, paint, options.verbose, options.locate or nowhere)
    lines += [f"not read: {logical_id} ({why})"
              for logical_id, why in (report.not_read or {}).items()]
    return paint.finish("\n".join(lines))


def _audit_lines(report: AuditReport, paint: _Painter, verbose: bool,
                 locate: Locator) -> list[str]:
    regions = ", ".join(report.source.regions or [])
    lines = [paint(f"ssm-auditor: {len(report.instances)} instance(s) from "
                   f"{_source_text(report.source)} ({regions})", "bold"), ""]
    width = max((len(_label(a)) for a in report.instances), default=10)
    for audit in report.instances:
        mark, style, words = _VERDICT_STYLE[audit.verdict]
        lines.append(f"  {paint(f'{mark}{words:<15}', style)} {_label(audit):<{width}}  "
                     f"{_headline(audit)}".rstrip())
    details = [a for a in report.instances if verbose or _needs_detail(a)]
    for audit in details:
        lines.append("")
        lines.extend(_instance_block(audit, paint, verbose, locate))
    if not report.instances:
        return [*lines, f"summary: {NOTHING_AUDITED} ({regions or 'no region'} holds none)"]
    counts = summary(report)
    lines.append("")
    lines.append("summary: " + ", ".join(f"{count} {verdict.replace('_', ' ')}"
                                         for verdict, count in sorted(counts.items())))
    lines += capability_summary(report)
    return lines


class UnitWriter:
    """``--org``: a line per instance that needs attention (every instance with ``-v``) as
    units finish, then the units that could not be read, the fix of each code met, the
    summary. The proofs hop by hop are in ``--format json``."""

    def __init__(self, out: IO[str], options: RenderOptions | None = None) -> None:
        options = options or RenderOptions()
        self.out = out
        self.paint = _Painter(options.colour)
        self.verbose = options.verbose
        self.codes: set[str] = set()

    def _write(self, text: str) -> None:
        """Names, tags and errors from AWS shown, not sent; the colour codes put in."""
        self.out.write(self.paint.finish(text))

    def begin(self, source: dict[str, Any]) -> None:
        organization = source.get("organization") or {}
        where = source.get("path") or source.get("profile") or "AWS"
        self._write(self.paint(
            f"ssm-auditor: organization {organization.get('id') or '?'} from {source['kind']} "
            f"{where}, {organization.get('units', '?')} unit(s)", "bold") + "\n\n")
        self.out.flush()

    def unit(self, document: dict[str, Any]) -> None:
        entry = document["unit"]
        where = f"{entry['account_id']} {entry['region']}"
        if entry["status"] != "ok":
            self._write(self.paint(f"  !! not read       {where}: {entry['error']}", "yellow")
                           + "\n")
        for instance in document["instances"]:
            found = [(f["code"], f["severity"]) for f in instance["findings"]]
            self.codes.update(code for code, severity in found if severity != "info")
            agent = [(f["code"], f["severity"]) for f in instance["findings"]
                     if not f.get("capability")]
            own = [f["code"] for f in instance["findings"]
                   if f.get("capability") and f["severity"] == "error"]
            if not self.verbose and instance["verdict"] not in (NOT_MANAGEABLE, UNKNOWN):
                continue
            mark, style, words = _VERDICT_STYLE[instance["verdict"]]
            label = instance["instance_id"] + (f" ({instance['name']})" if instance["name"]
                                               else "")
            line = f"  {self.paint(f'{mark}{words:<15}', style)} {where}  {label}  " \
                   f"{headline(agent, instance['verdict_reasons'], own)}"
            self._write(line.rstrip() + "\n")
        self.out.flush()

    def end(self, units: list[dict[str, Any]], summary: dict[str, int]) -> None:
        failed = [entry for entry in units if entry["status"] != "ok"]
        lines = ["", f"units: {len(units) - len(failed)} read, {len(failed)} could not be read"]
        lines += [f"  {entry['account_id']} {entry['region']}: {entry['error']}"
                  for entry in failed]
        fixes = [(code, CATALOGUE[code]) for code in sorted(self.codes) if code in CATALOGUE]
        if fixes:
            lines += ["", "fixes:"]
            for code, entry in fixes:
                lines += [f"  {self.paint(code, 'bold')} {entry.title}",
                          f"    {self.paint('fix:', 'cyan')} {entry.fix}"]
        lines += ["", "summary: " + (", ".join(
            f"{count} {verdict.replace('_', ' ')}" for verdict, count in sorted(summary.items()))
            or "no instance")]
        self._write("\n".join(lines) + "\n")
