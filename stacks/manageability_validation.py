"""A CDK policy-validation plugin: ``cdk synth`` fails when an instance would not be manageable.

The same mechanism cdk-nag v3 uses (``IPolicyValidationPluginBeta1``)::

    import aws_cdk as cdk
    from stacks.manageability_validation import ManageabilityValidation

    app = cdk.App(policy_validation_beta1=[ManageabilityValidation()])

After synthesis CDK hands the plugin the templates of every stack; the plugin lays them over
an empty estate (or a snapshot of the account, ``snapshot_dir=``), proves each instance,
launch template and auto scaling group with ``python -m auditor prelaunch``'s pipeline
(``auditor.prelaunch.check``), and reports every one that is not manageable (also the unknown
ones with ``fail_on_unknown``) with the finding code, what was found and the fix. Only this
module imports ``aws_cdk``; the auditor package never does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from auditor import __version__
from auditor.audit import AuditReport, InstanceAudit
from auditor.catalogue import CATALOGUE
from auditor.prelaunch import check
from auditor.sources.template.load import load_template
from auditor.sources.template.overlay import OverlayResult, infer_region

_SEVERITY = {"error": "error", "warning": "warning", "info": "info"}


@jsii.implements(cdk.IPolicyValidationPluginBeta1)
class ManageabilityValidation:
    """Fails synthesis when an instance of the app would not be manageable by SSM.

    ``snapshot_dir``: a snapshot (``python -m auditor snapshot``) of the account the app
    deploys to, for resources the app names by id and for Default Host Management;
    ``region`` picks its region. ``parameters``: values of template parameters.
    ``fail_on_unknown``: also fail when the auditor cannot decide (by default those are
    listed in the report's metadata only).
    """

    def __init__(self, snapshot_dir: str | None = None, region: str | None = None,
                 parameters: dict[str, str] | None = None,
                 fail_on_unknown: bool = False) -> None:
        self._snapshot_dir = snapshot_dir
        self._region = region
        self._parameters = dict(parameters or {})
        self._fail_on_unknown = fail_on_unknown

    @property
    def name(self) -> str:
        return "ssm-manageability"

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return sorted(CATALOGUE)

    def validate(self, context: cdk.IPolicyValidationContextBeta1
                 ) -> cdk.PolicyValidationPluginReportBeta1:
        report, result = self.audit(list(context.template_paths))
        failing = {"not_manageable"} | ({"unknown"} if self._fail_on_unknown else set())
        violations = [violation for audit in report.instances if audit.verdict in failing
                      for violation in _violations(audit, result)]
        undecided = [audit.instance.instance_id for audit in report.instances
                     if audit.verdict == "unknown"]
        metadata = {"audited": str(len(report.instances))}
        if undecided:
            metadata["unknown"] = ", ".join(undecided)
        return cdk.PolicyValidationPluginReportBeta1(
            success=not violations, violations=violations, metadata=metadata,
            plugin_version=__version__)

    def audit(self, template_paths: list[str]) -> tuple[AuditReport, OverlayResult]:
        """The prelaunch audit of these templates (also usable without CDK): the pipeline of
        ``python -m auditor prelaunch``."""
        templates = [load_template(path, Path(path).name.split(".")[0])
                     for path in template_paths]
        base, described = check.read_base(self._snapshot_dir, False, self._region, None,
                                          self._region or infer_region(templates))
        result = check.check_templates(templates, base, described, self._parameters,
                                       self._region, ", ".join(template_paths))
        return result.report, result.overlay


def _violations(audit: InstanceAudit, result: OverlayResult) -> list[cdk.PolicyViolationBeta1]:
    """One violation per finding code of this instance: what was found, and the fix."""
    instance_id = audit.instance.instance_id
    origin = result.logical.get(instance_id)
    findings = [f for f in audit.findings if f.severity == "error"] or [
        f for f in audit.findings if f.severity == "warning"]
    by_code: dict[str, list[Any]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)
    violations = []
    for code, group in by_code.items():
        entry = CATALOGUE.get(code)
        resources = {}
        for finding in group:
            where = result.logical.get(finding.resource_id) or origin
            if where is not None:
                resources[(where.path, where.logical_id)] = where
        if origin is not None:  # the instance too: where the user looks first
            resources.setdefault((origin.path, origin.logical_id), origin)
        messages = " ".join(dict.fromkeys(f.message for f in group))
        title = entry.title if entry else code
        violations.append(cdk.PolicyViolationBeta1(
            rule_name=code,
            description=f"{instance_id} is {audit.verdict.replace('_', ' ')} by SSM: {title}. "
                        f"{messages}",
            fix=entry.fix if entry else None,
            severity=_SEVERITY.get(group[0].severity, "error"),
            rule_metadata={"instance": instance_id, "verdict": audit.verdict},
            violating_resources=[cdk.PolicyViolatingResourceBeta1(
                resource_logical_id=where.logical_id, template_path=where.path,
                locations=[f"Resources/{where.logical_id}"])
                for where in resources.values()]))
    if not violations:  # unknown without a finding: say why
        violations.append(cdk.PolicyViolationBeta1(
            rule_name="UNKNOWN", description=f"{instance_id}: "
            + "; ".join(audit.verdict_reasons),
            violating_resources=[cdk.PolicyViolatingResourceBeta1(
                resource_logical_id=origin.logical_id if origin else instance_id,
                template_path=origin.path if origin else "",
                locations=[f"Resources/{instance_id}"])]))
    return violations
