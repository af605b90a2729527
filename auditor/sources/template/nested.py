"""Nested stacks whose template is a local file (``TemplateURL: network.yaml``, the form
``aws cloudformation package`` and ``sam deploy`` take before uploading): read with the
parameters the parent passes, their outputs given to the parent's ``Fn::GetAtt``.

A nested stack whose template is in S3 (or cannot be read) stays unread: it is listed as such.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from auditor.errors import UsageError
from auditor.sources.bounded_read import file_kind
from auditor.sources.template.intrinsics import NO_VALUE, Resolver, Unresolved
from auditor.sources.template.load import LoadedTemplate, ReadBudget, load_template

NESTED_TYPES = ("AWS::CloudFormation::Stack",)


def local_template(parent: LoadedTemplate, resource: dict) -> Path | None:
    """The file a nested stack's TemplateURL names next to its parent, if it is one; in a
    cdk.out, the ``*.nested.template.json`` its ``aws:asset:path`` metadata names (the
    TemplateURL there is the S3 object the asset will be published to)."""
    metadata = resource.get("Metadata")
    asset = metadata.get("aws:asset:path") if isinstance(metadata, dict) else None
    url = (resource.get("Properties") or {}).get("TemplateURL")
    for candidate in (asset, url):
        if isinstance(candidate, str) and "://" not in candidate:
            path = Path(parent.path).parent / candidate
            if file_kind(path) == "file":
                return path
    return None


def load_child(parent: LoadedTemplate, logical_id: str, path: Path,
               budget: ReadBudget) -> LoadedTemplate | str:
    """The nested template, or why it cannot be read."""
    try:
        return load_template(path, name=f"{parent.name}-{logical_id}", region=parent.region,
                             account=parent.account, budget=budget)
    except UsageError as error:
        return str(error)


class PassedParameters(Mapping):
    """The parameters a parent passes to a nested stack, resolved in the parent when read."""

    def __init__(self, raw: Any, parent: Resolver) -> None:
        self.raw = raw if isinstance(raw, dict) else {}
        self.parent = parent
        self.resolved: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.resolved:
            value = self.parent.resolve(self.raw[name])
            if value is NO_VALUE:  # not passed: the nested template's default applies
                raise KeyError(name)
            if isinstance(value, list):  # a list parameter is passed as one comma-joined text
                value = ",".join(str(item) for item in value)
            self.resolved[name] = value
        return self.resolved[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


def output(child: Resolver, name: str, logical_id: str) -> Any:
    """``Fn::GetAtt Stack.Outputs.Name`` of a nested stack that was read."""
    outputs = child.body.get("Outputs") or {}
    if not isinstance(outputs.get(name), dict) or "Value" not in outputs[name]:
        return Unresolved(f"Fn::GetAtt {logical_id}.Outputs.{name}: the nested template has "
                          "no such output")
    return child.resolve(outputs[name]["Value"])
