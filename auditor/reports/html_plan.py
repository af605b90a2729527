"""Before and after, for the HTML report: with ``--plan`` (what the plan proves it fixes) or
``--verify-plan`` (the estate as it would be after a synthesized app).

The plan is read as the dictionary it is written as (``report.plan``), and the verification
from ``report.source.after_plan``: entries of kinds this module does not know are shown as
they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.audit import AuditReport
from auditor.reports.html_markup import anchor, badge, command, element, generic, text, word

# The fields of a plan entry shown by name; the others are its description.
_ENTRY_SHOWN = {"id", "reason", "fixes", "command", "region"}


@dataclass
class Row:
    before: str | None
    after: str | None
    changes: list[str] = field(default_factory=list)  # entry ids
    still_blocked_by: list[str] = field(default_factory=list)


@dataclass
class BeforeAfter:
    heading: str
    notes: str  # markup
    rows: dict[str, Row]
    entries: list[tuple[str, dict[str, Any]]]  # (the plan's list it is in, the entry)

    commands: dict[str, list[str]] = field(default_factory=dict)  # by instance, in order

    def __post_init__(self) -> None:
        """Each instance's manual commands: of the entries it names or that name it."""
        by_entry = {entry.get("id"): entry for _, entry in self.entries if entry.get("command")}
        for instance_id, row in self.rows.items():
            for change in row.changes:
                self._add(instance_id, by_entry.get(change))
        for entry in by_entry.values():
            for fix in entry.get("fixes") or []:
                if isinstance(fix, dict):
                    self._add(str(fix.get("instance_id")), entry)

    def _add(self, instance_id: str, entry: dict[str, Any] | None) -> None:
        if entry is not None:
            found = self.commands.setdefault(instance_id, [])
            if entry["command"] not in found:
                found.append(str(entry["command"]))


def _from_plan(plan: dict[str, Any]) -> BeforeAfter:
    rows = {str(item.get("instance_id")): Row(item.get("verdict_before"),
                                              item.get("verdict_after") or None,
                                              list(item.get("fixed_by") or []),
                                              list(item.get("still_blocked_by") or []))
            for item in plan.get("instances") or [] if isinstance(item, dict)}
    entries = [(name, entry) for name, items in plan.items()
               if name != "instances" and isinstance(items, list)
               for entry in items if isinstance(entry, dict) and "id" in entry]
    code = sum(1 for name, _ in entries if name != "manual_steps")
    manual = len(entries) - code
    notes = element("p", text(f"The plan holds {code} change(s) as code (npx cdk synth -c "
                              f"plan=FILE) and {manual} manual step(s); after it, the "
                              "instances it was made for are proved again:"))
    return BeforeAfter("Before and after the remediation plan", notes, rows, entries)


def _from_verification(report: AuditReport, after: dict[str, Any]) -> BeforeAfter:
    before = after.get("verdicts_before") or {}
    rows = {}
    for audit in report.instances:
        instance_id = audit.instance.instance_id
        blockers = sorted({f.code for f in audit.findings if f.severity == "error"})
        rows[instance_id] = Row(before.get(instance_id), audit.verdict,
                                still_blocked_by=blockers)
    stacks = after.get("stacks") or []
    parts = [element("p", text(f"The estate as it would be after the {len(stacks)} stack(s) "
                               f"of {after.get('cdk_out')}: {', '.join(map(str, stacks))}."))]
    if after.get("manual_steps_assumed"):
        parts.append("<p>Manual steps assumed done:</p><ul>" + "".join(
            f"<li>{command(str(step))}</li>" for step in after["manual_steps_assumed"])
            + "</ul>")
    elif not after.get("plan_found"):
        parts.append(element("p", text("No plan file in the cloud assembly, so no manual "
                                        "step was assumed done.")))
    if after.get("manual_steps_not_modelled"):
        parts.append("<p>Not modelled, check by hand:</p><ul>" + "".join(
            f"<li>{command(str(step))}</li>" for step in after["manual_steps_not_modelled"])
            + "</ul>")
    if after.get("unresolved"):
        parts.append("<p>Unresolved in the stacks:</p>" + generic(after["unresolved"]))
    return BeforeAfter("Before and after the synthesized change", "".join(parts), rows, [])


def before_after(report: AuditReport) -> BeforeAfter | None:
    if report.source.after_plan:
        return _from_verification(report, report.source.after_plan)
    if report.plan:
        return _from_plan(report.plan)
    return None


def _transition(row: Row) -> str:
    return (f"{badge(row.before)} <span aria-hidden=\"true\">\u2192</span>"
            f"<span class=\"sr\"> then </span> "
            + (badge(row.after) if row.after else badge(None, "not proved")))


def _entry_item(name: str, entry: dict[str, Any]) -> str:
    description = {key: value for key, value in entry.items() if key not in _ENTRY_SHOWN}
    fixed = sorted({str(fix.get("instance_id")) for fix in entry.get("fixes") or []
                    if isinstance(fix, dict)})
    return element("li", "".join([
        f"<p><b>{text(word(name))}</b> <code>{text(entry.get('id'))}</code>"
        + (f" in {text(entry['region'])}" if entry.get("region") else "") + "</p>",
        element("p", command(str(entry["command"]))) if entry.get("command") else "",
        generic(description) if description else "",
        element("p", text(entry["reason"]), class_="why") if entry.get("reason") else "",
        element("p", "fixes " + ", ".join(
            f'<a href="#{anchor(iid)}">{text(iid)}</a>' for iid in fixed)) if fixed else "",
    ]), id=f"change-{entry.get('id')}")


def _change_links(entry_ids: list[str]) -> str:
    return ", ".join(f'<a href="#change-{text(e)}">{text(e)}</a>' for e in entry_ids)


def overview(ba: BeforeAfter, labels: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td><a href=\"#{anchor(iid)}\">{text(labels.get(iid, iid))}</a></td>"
        f"<td>{_transition(row)}</td>"
        f"<td>{_change_links(row.changes)}</td>"
        f"<td>{text('; '.join(row.still_blocked_by))}</td></tr>"
        for iid, row in ba.rows.items())
    table = ("<table class=\"sortable\"><thead><tr><th scope=\"col\">instance</th>"
             "<th scope=\"col\">before \u2192 after</th><th scope=\"col\">changes</th>"
             "<th scope=\"col\">still blocked by</th></tr></thead><tbody>" + rows
             + "</tbody></table>") if ba.rows else element("p", "No instance to change.")
    changes = ("<h3>Changes</h3><ol class=\"changes\">" + "".join(
        _entry_item(name, entry) for name, entry in ba.entries) + "</ol>") if ba.entries else ""
    return (f"<section id=\"plan\" aria-labelledby=\"plan-h\"><h2 id=\"plan-h\">"
            f"{text(ba.heading)}</h2>{ba.notes}{table}{changes}</section>")


def for_instance(ba: BeforeAfter | None, instance_id: str) -> str:
    if ba is None or instance_id not in ba.rows:
        return ""
    row = ba.rows[instance_id]
    parts = [f"<p><b>{text(ba.heading)}</b> {_transition(row)}</p>"]
    if row.changes:
        parts.append(f"<p>changes: {_change_links(row.changes)}</p>")
    parts += [f"<p>{command(step)}</p>" for step in ba.commands.get(instance_id, [])]
    if row.still_blocked_by:
        parts.append(element("p", "still blocked by " + text("; ".join(row.still_blocked_by))))
    return element("div", "".join(parts), class_="plan")
