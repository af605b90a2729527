"""Synthesize a remediation plan in-process, as app.py does, for the CDK tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from auditor.remediation.plan import plan_from_dict
from stacks.remediation_app import add_remediation_stacks


def synth(plan: dict[str, Any], outdir: Path | None = None,
          synthesizer: str = "default") -> dict[str, Template]:
    """The plan's templates by stack name; cdk-nag runs as in `cdk synth` (a finding fails)."""
    app = cdk.App(analytics_reporting=False, outdir=str(outdir) if outdir else None)
    stacks = add_remediation_stacks(app, plan_from_dict(plan), synthesizer)
    app.synth()
    return {stack.stack_name: Template.from_stack(stack) for stack in stacks}


def only(templates: dict[str, Template], prefix: str) -> Template:
    [name] = [name for name in templates if name.startswith(prefix)]
    return templates[name]


def resources(template: Template, kind: str) -> list[dict[str, Any]]:
    """The Properties of every resource of ``kind``, in logical-id order."""
    found = template.find_resources(kind)
    return [found[logical_id].get("Properties", {}) for logical_id in sorted(found)]
