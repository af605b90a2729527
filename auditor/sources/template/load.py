"""Read CloudFormation templates: JSON, YAML (with the short-form tags), or a cdk.out folder.

Files are read through ``auditor.sources.bounded_read`` within CloudFormation's own limits
(``auditor.limits``): a template larger than CloudFormation accepts, with more resources than
it accepts, with a ``null`` value or a key written twice is refused in one line, as
CloudFormation would refuse it; so is a cdk.out manifest of the wrong shape, naming the path
inside it and what was expected.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor import limits
from auditor.errors import UsageError
from auditor.sources.bounded_read import (
    BoundedLoader,
    Refused,
    beyond,
    expect,
    file_kind,
    first_path,
    load_yaml,
    parse_json,
    path_text,
    read_json,
    read_text,
)

# Short forms whose scalar, sequence or mapping becomes the value of the long form: those of
# the Resources and Conditions sections, and the rule-specific functions of the Rules section.
_FN_TAGS = ("Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split",
            "Sub", "If", "Equals", "Not", "And", "Or", "Length", "ToJsonString", "Transform",
            "Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll")


@dataclass
class LoadedTemplate:
    path: str
    body: dict[str, Any]
    # Line (1-based) of each resource's logical id in the file, for SARIF and messages.
    lines: dict[str, int] = field(default_factory=dict)
    name: str = ""  # the stack name when known (cdk.out), else the file's stem
    region: str = ""  # the stack's region when the cloud assembly says it
    account: str = ""  # the stack's account when the cloud assembly says it

    @property
    def resources(self) -> dict[str, dict]:
        return self.body.get("Resources") or {}


class ReadBudget:
    """The template bytes one run may read, all files together (``limits``)."""

    def __init__(self) -> None:
        self.left = limits.TEMPLATES_TOTAL_BYTES.value

    def spend(self, text: str, what: str) -> None:
        self.left -= len(text.encode("utf-8"))
        if self.left < 0:
            raise UsageError(f"{what}: the templates of this run are larger together than "
                             f"{beyond(limits.TEMPLATES_TOTAL_BYTES)}")


class _Loader(BoundedLoader):
    """The bounded SafeLoader with CloudFormation's tags, without YAML 1.1 timestamps (a
    policy's ``Version: 2012-10-17`` must stay text), refusing ``null`` as CloudFormation
    does."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
NULL_REFUSED = "'null' values are not allowed in templates (CloudFormation refuses them)"


def _construct(loader: yaml.Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _fn(name: str):
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict:
        return {f"Fn::{name}": _construct(loader, node)}
    return construct


def _ref(loader: yaml.Loader, node: yaml.Node) -> dict:
    return {"Ref": _construct(loader, node)}


def _condition(loader: yaml.Loader, node: yaml.Node) -> dict:
    return {"Condition": _construct(loader, node)}


def _get_att(loader: yaml.Loader, node: yaml.Node) -> dict:
    value = _construct(loader, node)
    if isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::GetAtt": value}


def _null(loader: yaml.Loader, node: yaml.Node) -> None:
    raise Refused(NULL_REFUSED, node.start_mark)


def _unknown_tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Any:
    """A tag CloudFormation does not know: one line naming it (Rain's ``!Rain::Module`` and
    ``!Rain::Embed`` are expanded by ``rain pkg`` into the template CloudFormation reads)."""
    tag = f"!{suffix}"
    hint = (": it is a Rain template, give the output of `rain pkg` instead"
            if suffix.startswith("Rain::") else "")
    raise UsageError(f"template {getattr(loader, 'path', '')} (line {node.start_mark.line + 1}) "
                     f"uses the tag {tag}, which is not a CloudFormation function{hint}")


for _name in _FN_TAGS:
    _Loader.add_constructor(f"!{_name}", _fn(_name))
_Loader.add_multi_constructor("!", _unknown_tag)
_Loader.add_constructor("!Ref", _ref)
_Loader.add_constructor("!Condition", _condition)
_Loader.add_constructor("!GetAtt", _get_att)
_Loader.add_constructor("tag:yaml.org,2002:null", _null)


def _load_yaml(text: str, path: Path) -> Any:
    loader = type("_PathLoader", (_Loader,), {"path": str(path)})
    return load_yaml(text, f"template {path}", loader)


def _parse(text: str, path: Path) -> dict[str, Any]:
    what = f"template {path}"
    if text.lstrip().startswith("{"):
        body = parse_json(text, what)
        null = first_path(body, lambda value: value is None)
        if null is not None:
            raise UsageError(f"{what}: {path_text(null)}: {NULL_REFUSED}")
    else:
        body = _load_yaml(text, path)
    if not isinstance(body, dict):
        raise UsageError(f"template {path} is not a CloudFormation template (not a mapping)")
    _check_sections(body, what)
    resources = body.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise UsageError(f"template {path} has no Resources section")
    if len(resources) > limits.TEMPLATE_RESOURCES.value:
        raise UsageError(f"template {path} declares {len(resources):,} resources, past "
                         f"{beyond(limits.TEMPLATE_RESOURCES)}")
    for logical_id, resource in resources.items():
        if str(logical_id).startswith("Fn::ForEach::"):
            if isinstance(resource, list) and len(resource) == 3:
                continue  # expanded where the parameters are known (foreach.py)
            raise UsageError(f"template {path}: {logical_id} is not of the form Fn::ForEach "
                             "takes ([identifier, collection, fragment])")
        check_resource(path, logical_id, resource)
    return body


# The shape CloudFormation requires of each section: entries that are mappings (Parameters,
# Outputs), mappings of mappings (Mappings), or any value (Conditions, Rules, Metadata).
_SECTIONS = {"Parameters": 1, "Outputs": 1, "Mappings": 2, "Conditions": 0, "Rules": 0}


def _check_sections(body: dict, what: str) -> None:
    """Refuse a section of the wrong shape, naming it, as CloudFormation does."""
    for section, depth in _SECTIONS.items():
        if section not in body:
            continue
        expect(body[section], "a mapping", what, (section,))
        for name, entry in body[section].items():
            if depth >= 1:
                expect(entry, "a mapping", what, (section, name))
            if depth >= 2:
                for key, value in entry.items():
                    expect(value, "a mapping", what, (section, name, key))
    transform = body.get("Transform", [])
    for index, name in enumerate(transform if isinstance(transform, list) else [transform]):
        if not isinstance(name, str | dict):
            expect(name, "text", what, ("Transform", index))


def check_resource(path: str | Path, logical_id: Any, resource: Any) -> None:
    """Refuse a resource without a Type or whose Properties are not a mapping."""
    if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
        raise UsageError(f"template {path}: resource {logical_id} has no Type")
    if not isinstance(resource.get("Properties", {}), dict):
        raise UsageError(f"template {path}: the Properties of {logical_id} are not a "
                         "mapping")
    if not isinstance(resource.get("Condition", ""), str):
        raise UsageError(f"template {path}: the Condition of {logical_id} is not a condition "
                         "name")


_KEY = re.compile(r'^\s*["\']?(Fn::ForEach::[A-Za-z0-9]+|[A-Za-z0-9]+)["\']?\s*:')


def _lines(text: str, logical_ids: list[str]) -> dict[str, int]:
    """Where each logical id is first written as a key after ``Resources`` (one pass)."""
    wanted = set(logical_ids)
    lines: dict[str, int] = {}
    started = False
    indent = None  # the indentation of the resources' keys: the first key after Resources
    for number, line in enumerate(text.splitlines(), 1):
        match = _KEY.match(line)
        if match is None:
            continue
        key = match.group(1)
        if not started:
            started = key == "Resources"
            continue
        depth = len(line) - len(line.lstrip())
        indent = depth if indent is None else indent
        if depth == indent and key in wanted and key not in lines:
            lines[key] = number
    return lines


def load_template(path: str | Path, name: str = "", region: str = "", account: str = "",
                  budget: ReadBudget | None = None) -> LoadedTemplate:
    file = Path(path)
    what = f"template {file}"
    if file_kind(file) == "directory":
        raise UsageError(f"{what} is a directory without manifest.json or *.template.json")
    text = read_text(file, what, limits.TEMPLATE_BYTES)
    (budget or ReadBudget()).spend(text, what)
    body = _parse(text, file)
    return LoadedTemplate(str(file), body, _lines(text, list(body["Resources"])),
                          name or file.name.split(".")[0], region, account)


def _environment(environment: object) -> tuple[str, str]:
    """(account, region) of ``aws://ACCOUNT/REGION``; "" for what CDK left unknown."""
    parts = str(environment or "").removeprefix("aws://").split("/")
    account, region = [*parts, "", ""][:2]
    return ("" if account.startswith("unknown") else account,
            "" if region.startswith("unknown") else region)


def _inside(folder: Path, name: str, what: str, path: tuple) -> Path:
    """``folder / name``, refused when ``name`` leads out of the cloud assembly."""
    if os.path.isabs(name) or os.path.normpath(name).split(os.sep)[0] == os.pardir:
        raise UsageError(f"{what}: {path_text(path)}: {name!r} is outside the cloud assembly "
                         f"{folder}")
    return folder / name


def _cloud_assembly(folder: Path, seen: set[Path] | None = None
                    ) -> list[tuple[Path, str, str, str]]:
    """The stack templates a cdk.out manifest lists (nested assemblies included), each field
    checked for the shape the cloud assembly schema gives it."""
    manifest_path = folder / "manifest.json"
    seen = set() if seen is None else seen
    if manifest_path.resolve() in seen:
        return []  # an assembly listing itself (or an ancestor) as nested
    seen.add(manifest_path.resolve())
    what = f"cdk.out manifest {manifest_path}"
    manifest = expect(read_json(manifest_path, what, limits.MANIFEST_BYTES), "a mapping", what)
    artifacts = expect(manifest.get("artifacts", {}), "a mapping", what, ("artifacts",))
    found: list[tuple[Path, str, str, str]] = []
    for artifact_id, artifact in artifacts.items():
        at = ("artifacts", artifact_id)
        expect(artifact, "a mapping", what, at)
        kind = artifact.get("type")
        properties = expect(artifact.get("properties", {}), "a mapping", what,
                            (*at, "properties"))
        if kind == "aws:cloudformation:stack" and "templateFile" in properties:
            name = expect(properties["templateFile"], "text", what,
                          (*at, "properties", "templateFile"))
            stack_name = expect(properties.get("stackName", artifact_id), "text", what,
                                (*at, "properties", "stackName"))
            environment = expect(artifact.get("environment", ""), "text", what,
                                 (*at, "environment"))
            found.append((_inside(folder, name, what, (*at, "properties", "templateFile")),
                          stack_name or artifact_id, *reversed(_environment(environment))))
        elif kind == "cdk:cloud-assembly" and "directoryName" in properties:
            name = expect(properties["directoryName"], "text", what,
                          (*at, "properties", "directoryName"))
            found += _cloud_assembly(_inside(folder, name, what,
                                             (*at, "properties", "directoryName")), seen)
    return found


def load_templates(path: str | Path) -> list[LoadedTemplate]:
    """One template file, or every stack of a cdk.out folder (its manifest, else
    ``*.template.json``)."""
    folder = Path(path)
    budget = ReadBudget()
    if file_kind(folder) != "directory":
        return [load_template(folder, budget=budget)]
    if file_kind(folder / "manifest.json") != "missing":
        stacks = _cloud_assembly(folder)
    else:
        stacks = [(file, "", "", "") for file in sorted(folder.glob("*.template.json"))]
    if not stacks:
        raise UsageError(f"{folder} holds no CloudFormation template (no stack in manifest.json "
                         "and no *.template.json)")
    return [load_template(file, name, region, account, budget)
            for file, name, region, account in stacks]
