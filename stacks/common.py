"""What every remediation stack shares: its name, its environment and the metadata a reviewer
reads in the template (which plan entries it deploys, why, and which instances they fix)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from auditor.errors import UsageError

STACK_NAME_PREFIX = "SsmAuditor"
METADATA_KEY = "SsmAuditor"
ANYWHERE = ("0.0.0.0/0", "::/0")


class PlanEntryError(UsageError):
    """A plan entry the stacks refuse to deploy (one line, like every bad input)."""


def stack_name(*parts: str) -> str:
    """SsmAuditor-Endpoints-vpc-0abc: CloudFormation allows letters, digits and hyphens."""
    return "-".join([STACK_NAME_PREFIX, *(re.sub(r"[^A-Za-z0-9-]", "-", p) for p in parts)])


def construct_id(entry_id: str) -> str:
    """A plan entry id as a construct id ('/' separates construct paths)."""
    return entry_id.replace("/", "-")


def fixes_of(entry: Any) -> list[dict[str, Any]]:
    return [{"instance_id": fix.instance_id, "code": fix.code, "resource_id": fix.resource_id}
            for fix in entry.fixes]


def entry_metadata(entry: Any) -> dict[str, Any]:
    return {"plan_entry": entry.id, "reason": entry.reason, "fixes": fixes_of(entry)}


def instances_fixed(entries: Sequence[Any]) -> list[str]:
    return sorted({fix.instance_id for entry in entries for fix in entry.fixes})


class RemediationStack(cdk.Stack):
    """A stack that deploys some entries of a plan, and says so in its template.

    The template's Metadata (``SsmAuditor``) lists the plan entries with their reasons and the
    findings they fix; the ``InstancesFixed`` output names the instances."""

    def __init__(self, scope: Construct, name: str, *, account: str, region: str,
                 description: str, synthesizer: cdk.IStackSynthesizer | None) -> None:
        super().__init__(scope, name, stack_name=name, description=description,
                         env=cdk.Environment(account=account, region=region),
                         synthesizer=synthesizer)
        self._entries: list[Any] = []
        self._extra_metadata: dict[str, Any] = {}

    def deploys(self, resource: cdk.CfnResource, entry: Any) -> None:
        """Record that ``resource`` is (part of) ``entry``, on the resource and the stack."""
        resource.add_metadata(METADATA_KEY, entry_metadata(entry))
        if entry not in self._entries:
            self._entries.append(entry)

    def add_template_metadata(self, key: str, value: Any) -> None:
        self._extra_metadata[key] = value

    def finish(self) -> None:
        """Write the stack-level metadata and outputs, once every entry is deployed."""
        fixed = instances_fixed(self._entries)
        self.template_options.metadata = {METADATA_KEY: {
            "plan_entries": [entry_metadata(entry) for entry in self._entries],
            "instances_fixed": fixed,
            **self._extra_metadata,
        }}
        cdk.CfnOutput(self, "InstancesFixed", value=" ".join(fixed) or "none",
                      description="Instances whose findings this stack fixes")


def refuse_anywhere(cidr: str, where: str) -> None:
    if cidr in ANYWHERE:
        raise PlanEntryError(f"{where}: refuses {cidr}: the fix never opens a port to the "
                             "whole internet")
