"""Check before launch, as a library: templates or a planned instance laid over an estate,
proved like running instances. Used by ``python -m auditor prelaunch`` and by the CDK
validation plugin (``stacks/manageability_validation.py``) alike.

The estate under the plan is a snapshot, the live account, or nothing (a template alone).
Each instance, launch template and auto scaling group is proved under its logical id; an auto
scaling group once per subnet, merged into one entry (``groups``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.audit import EXIT_UNKNOWN, AuditReport, run_audit
from auditor.prelaunch.groups import merge_groups
from auditor.prelaunch.planned import plan_instance
from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from auditor.sources.raw import RawRegion
from auditor.sources.read import one_account_of, pick_region, read_raws
from auditor.sources.template.context import LogicalRef
from auditor.sources.template.load import LoadedTemplate
from auditor.sources.template.overlay import OverlayResult, overlay_templates

if TYPE_CHECKING:
    from auditor.sources.live import Progress


@dataclass
class PrelaunchResult:
    """The audit of what the plan launches, and the overlay it was proved on."""

    report: AuditReport
    overlay: OverlayResult

    def locate(self, resource_id: str) -> LogicalRef | None:
        """Where a resource of the report is written (the reports' ``Locator``)."""
        return self.overlay.logical.get(resource_id)

    def exit_code(self) -> int:
        """As for the audit; instances only a nested stack launches are not known to be
        absent, so templates that launch nothing else are not an "all clear", nor are those
        that EKS Auto Mode, AWS Batch, EMR... launch unproved."""
        code = self.report.exit_code()
        unproved = (self.overlay.unread_launches and not self.overlay.planned) \
            or self.overlay.unproved_launches
        return EXIT_UNKNOWN if unproved and code == 0 else code


def read_base(snapshot: str | None, live: bool, region: str | None, profile: str | None,
              region_hint: str | None = None, progress: Progress | None = None,
              accounts: list[str] | None = None) -> tuple[RawRegion, SourceDescription]:
    """The estate the plan is laid over: a snapshot's or the account's region, else nothing.
    ``accounts``: the account of an organization snapshot."""
    if snapshot is None and not live:
        return RawRegion(region or ""), SourceDescription("none")
    one_account_of(snapshot, accounts)
    raws, described = read_raws(snapshot, [region] if region else None, profile,
                                progress=progress, accounts=accounts)
    return pick_region(raws, region_hint), described


def check_templates(templates: list[LoadedTemplate], base: RawRegion,
                    base_source: SourceDescription, parameters: dict[str, str] | None = None,
                    region: str | None = None, path: str | None = None) -> PrelaunchResult:
    """Lay the templates over ``base`` and prove what they launch. ``path``: the templates as
    the user named them (the report's source)."""
    result = overlay_templates(base, templates, parameters or {}, region)
    source = SourceDescription("template", path=path or ", ".join(t.path for t in templates),
                               templates=[t.path for t in templates], base=base_source)
    return prove_overlay(result, source)


def check_planned_instance(base: RawRegion, base_source: SourceDescription, subnet_id: str,
                           group_ids: list[str], instance_profile: str | None, public_ip: bool,
                           http_tokens: str, platform: str) -> PrelaunchResult:
    """A planned instance without a template: its subnet, groups and profile, over ``base``."""
    result = plan_instance(base, subnet_id, group_ids, instance_profile, public_ip,
                           http_tokens, platform)
    return prove_overlay(result, SourceDescription("planned", base=base_source))


def prove_overlay(result: OverlayResult, source: SourceDescription) -> PrelaunchResult:
    """The audit of the instances an overlay plans, one entry per auto scaling group."""
    estate = build_estate(result.raw, result.planned or None)
    source.regions = [estate.region]
    # Without an estate the account is a placeholder: not worth reporting as a fact.
    source.account_id = estate.account_id if source.base and source.base.kind != "none" else ""
    report = run_audit([estate] if result.planned else [], result.planned or None, source)
    report = merge_groups(report, result.groups)
    report.unresolved = result.unresolved
    report.not_read = result.not_read
    report.template_warnings = result.warnings
    return PrelaunchResult(report, result)
