"""Synthesize a remediation plan in-process, as app.py does, for the CDK tests.

Importing this module sets the two variables that keep Node 20's end-of-life banner out of the
output (jsii reads them when it starts, at the first ``import aws_cdk``)."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("NODE_NO_WARNINGS", "1")

from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from auditor.remediation.plan import plan_from_dict  # noqa: E402
from stacks.remediation_app import add_remediation_stacks  # noqa: E402


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
