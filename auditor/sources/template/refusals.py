"""Mistakes for which CloudFormation would refuse a template the auditor can still read: a
parameter type used as a resource type, a ``Ref``, ``Fn::GetAtt`` or ``DependsOn`` naming
nothing the template declares. The auditor is no linter: one warning per template says so and
points to cfn-lint, which checks far more.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.sources.template.context import Scope

_RESOURCE_TYPE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9-]+::[A-Za-z0-9]+(::MODULE)?$")
_PARAMETER_TYPE = re.compile(r"^(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+|AWS::SSM::"
                             r"Parameter::Value<.*>|List<.*>|String|Number|CommaDelimitedList)$")
# Transforms that add resources the template does not declare (SAM's role of a function...).
_KNOWN_TRANSFORMS = ("AWS::LanguageExtensions",)
SECTIONS = ("Resources", "Outputs", "Conditions", "Rules")


def _type_problem(logical_id: str, kind: str) -> str | None:
    if kind.startswith("Custom::") or _RESOURCE_TYPE.match(kind):
        return None
    if _PARAMETER_TYPE.match(kind):
        return f"resource {logical_id} has the type {kind}, a parameter type"
    return f"resource {logical_id} has the type {kind!r}, which is no resource type"


def _names(value: Any) -> list[tuple[str, str]]:
    """(function, name) of every Ref, Fn::GetAtt and DependsOn, without recursing; loops of
    Fn::ForEach left unexpanded (outside Resources) are skipped."""
    found = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack += node
            continue
        if not isinstance(node, dict):
            continue
        for key, child in node.items():
            if isinstance(key, str) and key.startswith("Fn::ForEach::"):
                continue
            if key == "Ref" and isinstance(child, str):
                found.append(("Ref", child))
            elif key == "Fn::GetAtt" and isinstance(child, list | str):
                name = child.split(".", 1)[0] if isinstance(child, str) else (child or [""])[0]
                if isinstance(name, str):
                    found.append(("Fn::GetAtt", name))
            elif key == "DependsOn":
                found += [("DependsOn", name) for name in
                          (child if isinstance(child, list) else [child]) if isinstance(name, str)]
            stack.append(child)
    return found


def warning(scope: Scope, expanded: bool = True) -> str | None:
    """One line when CloudFormation would refuse the template, naming the first problem.
    Names are not checked when some Fn::ForEach loop could not be expanded (``expanded``
    False): what it makes is not known."""
    body = scope.template.body
    resources = scope.template.resources
    problems = [problem for logical_id, resource in resources.items()
                if (problem := _type_problem(logical_id, resource["Type"]))]
    transforms = body.get("Transform") or []
    transforms = transforms if isinstance(transforms, list) else [transforms]
    if expanded and all(transform in _KNOWN_TRANSFORMS for transform in transforms):
        parameters = body.get("Parameters") if isinstance(body.get("Parameters"), dict) else {}
        for function, name in _names([body.get(section) for section in SECTIONS]):
            declared = name in resources or (function == "Ref" and (
                name in parameters or name.startswith("AWS::")))
            if not declared:
                problems.append(f"{function} {name} names nothing the template declares")
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return (f"template {scope.template.path}: CloudFormation would refuse it: {problems[0]}"
            f"{more}; check it with cfn-lint")
