"""Prove a synthesized remediation app before it is deployed.

The stacks of a cdk.out are laid over the estate's raw answers by the same template reader as
``prelaunch``; the plan's manual steps (which the CDK app copies into the cloud assembly as
``PLAN_FILE_NAME``) are assumed done where the model can take them; then the audit runs again.
The answer is the ordinary audit report of the changed estate, with what was assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import UsageError
from auditor.remediation.apply import apply_manual_steps
from auditor.remediation.plan import ManualStep, Plan, load_plan
from auditor.sources.description import SourceDescription
from auditor.sources.raw import RawRegion

if TYPE_CHECKING:
    from auditor.audit import AuditReport

# The plan the CDK app synthesized from, copied into its cloud assembly.
PLAN_FILE_NAME = "ssm-auditor-plan.json"
_IAM_PREFIX = "AWS::IAM::"


@dataclass
class Assumptions:
    """What the proof took as done: the stacks, and the manual steps it could model."""

    cdk_out: str
    stacks: list[str] = field(default_factory=list)
    manual_steps_assumed: list[str] = field(default_factory=list)
    manual_steps_not_modelled: list[str] = field(default_factory=list)
    unresolved: dict[str, str] = field(default_factory=dict)
    plan_found: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"cdk_out": self.cdk_out, "stacks": self.stacks,
                "plan_found": self.plan_found,
                "manual_steps_assumed": self.manual_steps_assumed,
                "manual_steps_not_modelled": self.manual_steps_not_modelled,
                "unresolved": self.unresolved}


def read_plan(cdk_out: Path) -> Plan | None:
    path = cdk_out / PLAN_FILE_NAME
    return load_plan(path) if path.is_file() else None


def overlay_for_region(raw: RawRegion, templates: list, assumptions: Assumptions) -> RawRegion:
    """``raw`` with the stacks of its region laid over it (a stack whose region the cloud
    assembly does not say counts as this one); IAM stacks apply everywhere."""
    from auditor.sources.template.overlay import overlay_templates

    chosen = [template for template in templates
              if (template.region or raw.region) == raw.region
              or all(str(r.get("Type", "")).startswith(_IAM_PREFIX)
                     for r in template.resources.values())]
    if not chosen:
        return raw
    result = overlay_templates(raw, chosen, region=raw.region)
    assumptions.unresolved.update(result.unresolved)
    return result.raw


def assume_manual_steps(estate: Any, steps: list[ManualStep], assumptions: Assumptions) -> None:
    left = {step.id for step in apply_manual_steps(estate, steps)}
    for step in steps:
        if step.region and step.region != estate.region:
            continue
        target = (assumptions.manual_steps_not_modelled if step.id in left
                  else assumptions.manual_steps_assumed)
        if step.command not in target:
            target.append(step.command)


@dataclass
class SynthesizedPlan:
    """A cloud assembly read: its stacks' templates and the plan they were made from."""

    templates: list
    plan: Plan | None
    assumptions: Assumptions


def prepare(cdk_out_text: str) -> SynthesizedPlan:
    """The templates, the plan and an empty record of assumptions."""
    from auditor.sources.template.load import load_templates

    cdk_out = Path(cdk_out_text)
    if not cdk_out.is_dir():
        raise UsageError(f"--verify-plan {cdk_out}: not a directory (give the cdk.out that "
                         "`cdk synth -c plan=FILE` wrote)")
    templates = load_templates(cdk_out)
    plan = read_plan(cdk_out)
    assumptions = Assumptions(str(cdk_out), [t.name for t in templates],
                              plan_found=plan is not None)
    return SynthesizedPlan(templates, plan, assumptions)


def verify_plan(synthesized: SynthesizedPlan, raws: list[RawRegion],
                instance_ids: list[str] | None, source: SourceDescription) -> AuditReport:
    """The audit of the estate as the synthesized stacks and manual steps would leave it;
    its source says what was assumed and each instance's verdict before."""
    from auditor.audit import audit_raws, run_audit
    from auditor.sources.parse import build_estate

    before, _ = audit_raws(raws, instance_ids, source)
    assumptions = synthesized.assumptions
    estates = []
    for raw in raws:
        estate = build_estate(overlay_for_region(raw, synthesized.templates, assumptions),
                              instance_ids)
        if synthesized.plan is not None:
            assume_manual_steps(estate, synthesized.plan.manual_steps, assumptions)
        estates.append(estate)
    source = source.describe(estates)
    source.after_plan = assumptions.to_dict()
    source.after_plan["verdicts_before"] = {
        audit.instance.instance_id: audit.verdict for audit in before.instances}
    return run_audit(estates, instance_ids, source)
