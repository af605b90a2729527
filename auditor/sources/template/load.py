"""Read CloudFormation templates: JSON, YAML (with the short-form tags), or a cdk.out folder."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import UsageError

# Short forms whose scalar, sequence or mapping becomes the value of the long form.
_FN_TAGS = ("Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split",
            "Sub", "If", "Equals", "Not", "And", "Or", "Length", "ToJsonString", "Transform")


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


class _Loader(yaml.SafeLoader):
    """SafeLoader with CloudFormation's tags, and without YAML 1.1 timestamps: a policy's
    ``Version: 2012-10-17`` must stay text."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


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


def _load_yaml(text: str, path: Path) -> Any:
    loader = _Loader(text)  # a SafeLoader subclass
    loader.path = str(path)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _parse(text: str, path: Path) -> dict[str, Any]:
    stripped = text.lstrip()
    try:
        body = json.loads(text) if stripped.startswith("{") else _load_yaml(text, path)
    except json.JSONDecodeError as error:
        raise UsageError(f"template {path} is not valid JSON: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UsageError(f"template {path} is not valid YAML{where}: {problem}") from None
    if not isinstance(body, dict):
        raise UsageError(f"template {path} is not a CloudFormation template (not a mapping)")
    resources = body.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise UsageError(f"template {path} has no Resources section")
    for logical_id, resource in resources.items():
        if str(logical_id).startswith("Fn::ForEach::") and isinstance(resource, list):
            continue  # expanded where the parameters are known (foreach.py)
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise UsageError(f"template {path}: resource {logical_id} has no Type")
        if not isinstance(resource.get("Properties", {}), dict):
            raise UsageError(f"template {path}: the Properties of {logical_id} are not a "
                             "mapping")
    return body


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


def load_template(path: str | Path, name: str = "", region: str = "",
                  account: str = "") -> LoadedTemplate:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"template {file} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"template {file} is a directory without manifest.json or "
                         "*.template.json") from None
    except UnicodeDecodeError:
        raise UsageError(f"template {file} is not UTF-8 text") from None
    except OSError as error:
        raise UsageError(f"cannot read template {file}: {error.strerror}") from None
    body = _parse(text, file)
    return LoadedTemplate(str(file), body, _lines(text, list(body["Resources"])),
                          name or file.name.split(".")[0], region, account)


def _environment(environment: object) -> tuple[str, str]:
    """(account, region) of ``aws://ACCOUNT/REGION``; "" for what CDK left unknown."""
    parts = str(environment or "").removeprefix("aws://").split("/")
    account, region = [*parts, "", ""][:2]
    return ("" if account.startswith("unknown") else account,
            "" if region.startswith("unknown") else region)


def _cloud_assembly(folder: Path) -> list[tuple[Path, str, str, str]]:
    """The stack templates a cdk.out manifest lists (nested assemblies included)."""
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read {manifest_path}: {error}") from None
    found: list[tuple[Path, str, str, str]] = []
    for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
        properties = artifact.get("properties") or {}
        if artifact.get("type") == "aws:cloudformation:stack" and properties.get("templateFile"):
            found.append((folder / properties["templateFile"],
                          properties.get("stackName") or artifact_id,
                          *reversed(_environment(artifact.get("environment")))))
        elif artifact.get("type") == "cdk:cloud-assembly" and properties.get("directoryName"):
            found += _cloud_assembly(folder / properties["directoryName"])
    return found


def load_templates(path: str | Path) -> list[LoadedTemplate]:
    """One template file, or every stack of a cdk.out folder (its manifest, else
    ``*.template.json``)."""
    folder = Path(path)
    if not folder.is_dir():
        return [load_template(folder)]
    if (folder / "manifest.json").is_file():
        stacks = _cloud_assembly(folder)
    else:
        stacks = [(file, "", "", "") for file in sorted(folder.glob("*.template.json"))]
    if not stacks:
        raise UsageError(f"{folder} holds no CloudFormation template (no stack in manifest.json "
                         "and no *.template.json)")
    return [load_template(file, name, region, account)
            for file, name, region, account in stacks]
