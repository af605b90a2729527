"""The report as one self-contained HTML page (``--format html``), for people to look at.

The fleet at a glance (counts by verdict, a chart of instances by finding code, tables per VPC
and per account and region, every instance in a sortable, filterable table), then a section
per instance: its verdict, each service's path drawn hop by hop, the credential chain, the
findings with their fix commands, log symptoms beside the findings they bear on, capabilities,
and before and after a plan. Nothing is fetched from elsewhere (a Content-Security-Policy
forbids it), every value from the estate is escaped, and everything but the drawings, sorting
and filters reads without JavaScript. Shared proofs are written once (``html_data``), sections
are built and their diagrams drawn only when opened, so 10,000 instances stay a page a browser
opens.

The page is made from the JSON report's dictionaries (``Page.add``), so the audit
(``render``) and the organization mode (``UnitWriter``, fed unit by unit) share it, and a
field the JSON report gains is shown before this module knows its name.
"""

from __future__ import annotations

from typing import IO, Any

from auditor.audit import AuditReport
from auditor.catalogue import CATALOGUE
from auditor.reports import RenderOptions
from auditor.reports.html_data import ScriptData
from auditor.reports.html_fleet import Row, fleet
from auditor.reports.html_instance import QUIET, SectionWriter, headline, label
from auditor.reports.html_markup import (
    csp_hash,
    generic,
    script_json,
    text,
    with_commands,
    word,
)
from auditor.reports.html_plan import BeforeAfter, before_after, for_instance, overview
from auditor.reports.html_script import SCRIPT
from auditor.reports.html_style import CSS
from auditor.reports.json_report import instance_fields, report_fields, service_dict
from auditor.reports.locations import nowhere
from auditor.vocabulary import NOT_MANAGEABLE

# Report fields shown by name; any other one (a template's unresolved values, say) is shown
# as it is, at the end.
_SHOWN = {"schema_version", "source", "summary", "catalogue", "units"}
_DOT = " \u00b7 "


def _policy() -> str:
    """Nothing may be fetched: no script, style, font, image or connection but the page's own
    script and style sheet, allowed by their hashes."""
    return (f"default-src 'none'; script-src {csp_hash(SCRIPT)}; style-src {csp_hash(CSS)}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


def source_words(source: dict[str, Any]) -> str:
    """"snapshot demo/estate", "aws default", "template t.yaml over snapshot demo/estate"."""
    kind = str(source.get("kind", "?"))
    where = source.get("path") or source.get("profile") or (
        "default" if kind == "aws" else "")
    organization = source.get("organization")
    if isinstance(organization, dict) and organization.get("id"):
        where = f"organization {organization['id']} {where}".strip()
    words = f"{kind} {where}".strip()
    base = source.get("base")
    if isinstance(base, dict) and base.get("kind") not in (None, "none"):
        words += f" over {source_words(base)}"
    return words


def _header(source: dict[str, Any], count: int) -> str:
    parts = [text(source_words(source))]
    if source.get("regions"):
        parts.append("regions " + text(", ".join(map(str, source["regions"]))))
    if source.get("account_id"):
        parts.append("account " + text(source["account_id"]))
    unavailable = {region: gaps for region, gaps in (source.get("unavailable") or {}).items()
                   if gaps}
    more = {key: value for key, value in source.items() if key not in (
        "kind", "path", "profile", "base", "regions", "account_id", "unavailable", "after_plan",
        "templates") and value not in (None, "", [], {})}
    details = ("<details><summary>what could not be read</summary>" + generic(unavailable)
               + "</details>" if unavailable else "") + (
        "<details><summary>more about the source</summary>" + generic(more) + "</details>"
        if more else "")
    return (f"<header><h1>ssm-auditor: {count:,} instance{'s' if count != 1 else ''}</h1>"
            f'<p class="source">from {_DOT.join(parts)}</p>{details}</header>')


def _codes(codes: list[str]) -> str:
    """Each code met, with its fix: written once here, shown in the findings by the script."""
    items = []
    for code in sorted(codes):
        entry = CATALOGUE.get(code)
        if entry is None:
            continue
        items.append(
            f'<li id="code-{text(code)}"><p><code class="code">{text(code)}</code> '
            f'{text(entry.title)} <span class="codes">{text(word(entry.category))}'
            + (f", fixed by {text(entry.stack)}" if entry.stack else "") + "</span></p>"
            f'<p class="why">{text(entry.meaning)}</p>'
            f'<p class="fix"><b>Fix</b> {with_commands(entry.fix)}</p></li>')
    if not items:
        return ""
    return ('<section id="codes" aria-labelledby="codes-h"><h2 id="codes-h">The finding codes '
            f'of this report</h2><ul class="findings">{"".join(items)}</ul></section>')


def _more(fields: dict[str, Any]) -> str:
    more = {key: value for key, value in fields.items()
            if key not in _SHOWN and value not in (None, "", [], {})}
    if not more:
        return ""
    return ('<section id="more" aria-labelledby="more-h"><h2 id="more-h">Also in this report'
            f"</h2>{generic(more)}</section>")


class Page:
    """The page, filled instance by instance from the JSON report's dictionaries."""

    def __init__(self, plan: BeforeAfter | None = None) -> None:
        self.plan = plan
        self.data = ScriptData()
        self.writer = SectionWriter()
        self.rows: list[Row] = []
        self.sections: list[str] = []
        self.labels: dict[str, str] = {}
        self.codes: set[str] = set()

    def add(self, fields: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
        """One instance: its fields and its services, as the JSON report has them."""
        proofs = [self.data.proof(name, service) for name, service in services.items()]
        credential = self.data.credential(fields)
        reached = ({} if fields.get("verdict") == NOT_MANAGEABLE
                   else self._reached(fields.get("capabilities")))
        number = self.data.add_instance(credential, proofs, reached)
        line = headline(fields)
        codes = list(dict.fromkeys(str(f.get("code")) for f in fields.get("findings") or []))
        self.codes.update(codes)
        self.rows.append(Row(fields, codes, line))
        instance_id = str(fields.get("instance_id"))
        if self.plan is not None:
            self.labels[instance_id] = label(fields)
        self.sections.append(self.writer.section(
            fields, services, number, proofs, credential, line,
            for_instance(self.plan, instance_id), reached))

    def _reached(self, capabilities: Any) -> dict[tuple[str, str], int]:
        """The proofs of the services each capability that is not ok reaches (a KMS key, a log
        bucket...); an instance whose capabilities work stays quiet, and one whose agent is not
        manageable shows the agent's paths, which come first."""
        reached = {}
        for name, capability in (capabilities or {}).items() \
                if isinstance(capabilities, dict) else ():
            if not isinstance(capability, dict) or capability.get("status") in QUIET:
                continue
            services = capability.get("services")
            for service_name, service in (services or {}).items() \
                    if isinstance(services, dict) else ():
                if isinstance(service, dict):
                    reached[(str(name), str(service_name))] = self.data.proof(
                        str(service_name), service)
        return reached

    def html(self, source: dict[str, Any], top: dict[str, Any], nothing: str = "") -> str:
        """The whole page: ``top`` holds the report's other fields (``units``...);
        ``nothing`` says why there is nothing to check, when there is not."""
        if nothing:
            body = f'<p class="nothing">{text(nothing)}</p>'
        else:
            body = fleet(self.rows, top.get("units")) + (
                '<section id="each" aria-labelledby="each-h"><h2 id="each-h">Each instance'
                '</h2><p class="why">Open an instance to see its paths drawn.</p>'
                + "".join(self.sections) + "</section>")
        return "".join([
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_policy()}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>ssm-auditor: {text(source_words(source))}</title>",
            f"<style>{CSS}</style></head><body>",
            '<a class="skip" href="#instances">Skip to the instances</a>',
            _header(source, len(self.rows)), "<main>",
            overview(self.plan, self.labels) if self.plan else "",
            body, self.writer.shared_capabilities(), _codes(sorted(self.codes)), _more(top),
            "</main>",
            '<script type="application/json" id="report-data">'
            f"{script_json(self.data.as_dict())}</script>",
            f"<script>{SCRIPT}</script></body></html>\n",
        ])


def render(report: AuditReport, options: RenderOptions | None = None) -> str:
    locate = (options or RenderOptions()).locate or nowhere
    page = Page(before_after(report))
    shared: dict[int, dict[str, Any]] = {}  # one dictionary per proof instances share
    for audit in report.instances:
        services = {}
        for name, proof in audit.services.items():
            service = shared.get(id(proof))
            if service is None:
                service = shared[id(proof)] = service_dict(proof)
            services[name] = service
        page.add(instance_fields(audit, locate), services)
    top = report_fields(report)
    nothing = ""
    if report.not_read is not None and not report.instances:
        nothing = (f"Nothing to check in {report.source.path}: no instance, launch template or "
                   "auto scaling group.")
    return page.html(top.pop("source", {}), top, nothing)


class UnitWriter:
    """Organization mode: the page from the units as they finish (``begin(source)``,
    ``unit(document)`` for each unit, ``end(units, summary)``). A page is written whole, so
    it comes at the end; what is kept meanwhile is its markup, not the units' documents."""

    def __init__(self, out: IO[str], options: RenderOptions | None = None) -> None:
        self.out = out
        self.page = Page()
        self.source: dict[str, Any] = {}

    def begin(self, source: dict[str, Any]) -> None:
        self.source = source

    def unit(self, document: dict[str, Any]) -> None:
        for instance in document.get("instances") or []:
            fields = {key: value for key, value in instance.items() if key != "services"}
            self.page.add(fields, instance.get("services") or {})

    def end(self, units: list[dict[str, Any]], summary: dict[str, int]) -> None:
        self.out.write(self.page.html(self.source, {"units": units, "summary": summary}))
        self.out.flush()
