"""Synthesize a remediation plan, or the organization audit, in-process as app.py does, for the
CDK tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from auditor.remediation.plan import plan_from_dict
from stacks import org_app
from stacks.remediation_app import add_remediation_stacks

ORG_AUDIT_ACCOUNT = "111111111111"


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


def org_context(dependencies: Path, cache: Path, **values: str) -> dict[str, str]:
    """The context of ``cdk synth -c org_audit=true``, offline: a prebuilt dependencies
    directory (a layer's ``python/``) and a build cache of the test's own."""
    return {"org_audit": "true", "org_audit_account": ORG_AUDIT_ACCOUNT,
            "org_audit_region": "eu-west-1",
            "org_audit_lambda_dependencies": str(dependencies),
            "org_audit_build_cache": str(cache), **values}


def synth_org(dependencies: Path, cache: Path, **values: str) -> dict[str, Template]:
    """The organization audit's templates by stack name; cdk-nag runs (a finding raises)."""
    app = cdk.App(analytics_reporting=False, context=org_context(dependencies, cache, **values))
    stacks = org_app.add_org_audit_stacks(app)
    app.synth()
    return {stack.stack_name: Template.from_stack(stack) for stack in stacks}


def definition(template: Template, tokens: dict[str, str] | None = None) -> dict[str, Any]:
    """The state machine's definition; its tokens (ARNs, bucket names) as ``<Logical.Attr>``
    or ``<Logical>``, or as ``tokens`` names them (by ``Logical.Attr`` or ``Logical``)."""
    [properties] = resources(template, "AWS::StepFunctions::StateMachine")
    text = properties["DefinitionString"]
    parts = [text] if isinstance(text, str) else text["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else _token(part, tokens or {})
                              for part in parts))


def _token(part: dict[str, Any], tokens: dict[str, str]) -> str:
    name = part["Ref"] if "Ref" in part else ".".join(part["Fn::GetAtt"])
    for known, value in tokens.items():
        if name.startswith(known):
            return value
    return f"<{name}>"
