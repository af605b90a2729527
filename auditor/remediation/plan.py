"""The remediation plan: reviewable data between the auditor and the CDK app.

``planner`` writes it from an audit, ``app.py`` deploys it, ``verify`` proves it before
deployment. This module is the one definition of its shape (schema version 1): dataclasses,
``dump`` to JSON and ``load_plan`` that checks a file and says in one line what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from auditor import limits
from auditor.errors import UsageError
from auditor.sources import bounded_read

SCHEMA_VERSION = 1
KIND = "ssm-auditor-remediation-plan"


@dataclass(frozen=True)
class FixedFinding:
    instance_id: str
    code: str
    resource_id: str | None = None


@dataclass
class PlanInstance:
    instance_id: str
    region: str
    verdict_before: str
    verdict_after: str = ""  # what the model proves with the plan applied
    fixed_by: list[str] = field(default_factory=list)
    still_blocked_by: list[str] = field(default_factory=list)
    # Session Manager and patching (contract section 7): status before and after the plan.
    capabilities_before: dict[str, str] = field(default_factory=dict)
    capabilities_after: dict[str, str] = field(default_factory=dict)


@dataclass
class EndpointsEntry:
    id: str
    region: str
    vpc_id: str
    vpc_cidrs: list[str]
    services: list[str]
    subnet_ids: list[str]
    availability_zones: list[str]
    allow_from_security_groups: list[str] = field(default_factory=list)
    allow_from_cidrs: list[str] = field(default_factory=list)
    s3_gateway_route_table_ids: list[str] = field(default_factory=list)
    reason: str = ""
    fixes: list[FixedFinding] = field(default_factory=list)


@dataclass
class SecurityGroupRuleEntry:
    id: str
    region: str
    group_id: str
    direction: str  # "ingress" | "egress"
    protocol: str
    from_port: int
    to_port: int
    cidr: str | None = None
    peer_security_group_id: str | None = None
    description: str = ""
    reason: str = ""
    fixes: list[FixedFinding] = field(default_factory=list)


@dataclass
class NaclEntryEntry:
    id: str
    region: str
    network_acl_id: str
    rule_number: int
    egress: bool
    protocol: str  # "6" tcp, "-1" all
    cidr: str
    from_port: int | None = None
    to_port: int | None = None
    reason: str = ""
    fixes: list[FixedFinding] = field(default_factory=list)


@dataclass
class RouteEntry:
    """A route added to a VPC route table (``rtb-...``: to a transit gateway or a peering
    connection) or to a transit gateway route table (``tgw-rtb-...``: to an attachment)."""

    id: str
    region: str
    route_table_id: str
    destination_cidr: str
    transit_gateway_id: str | None = None
    vpc_peering_connection_id: str | None = None
    transit_gateway_attachment_id: str | None = None
    reason: str = ""
    fixes: list[FixedFinding] = field(default_factory=list)

    @property
    def in_transit_gateway(self) -> bool:
        return self.transit_gateway_attachment_id is not None


@dataclass
class InstanceRoleEntry:
    id: str
    role_name: str
    instance_profile_name: str
    managed_policy_arns: list[str]
    for_instances: list[str] = field(default_factory=list)
    reason: str = ""
    fixes: list[FixedFinding] = field(default_factory=list)


@dataclass
class RolePolicyEntry:
    id: str
    role_name: str
    policy_name: str
    statements: list[dict[str, Any]]
    reason: str = ""
    fixes: list[FixedFinding] = field(default_factory=list)


@dataclass
class ManualStep:
    """A change CloudFormation cannot make; ``action`` and ``parameters`` let ``verify``
    assume it is done, ``command`` is what the operator runs."""

    id: str
    region: str
    code: str
    resource_id: str | None
    action: str
    parameters: dict[str, Any]
    command: str
    reason: str = ""
    fixes: list[FixedFinding] = field(default_factory=list)


@dataclass
class Plan:
    account_id: str
    regions: list[str]
    generated_by: str = ""
    instances: list[PlanInstance] = field(default_factory=list)
    endpoints: list[EndpointsEntry] = field(default_factory=list)
    security_group_rules: list[SecurityGroupRuleEntry] = field(default_factory=list)
    nacl_entries: list[NaclEntryEntry] = field(default_factory=list)
    routes: list[RouteEntry] = field(default_factory=list)
    instance_roles: list[InstanceRoleEntry] = field(default_factory=list)
    role_policies: list[RolePolicyEntry] = field(default_factory=list)
    manual_steps: list[ManualStep] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name, _ in _ENTRY_LISTS)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "kind": KIND, **asdict(self)}


# The lists of a plan and the type of their items, in the order they are written.
_ENTRY_LISTS: tuple[tuple[str, type], ...] = (
    ("endpoints", EndpointsEntry),
    ("security_group_rules", SecurityGroupRuleEntry),
    ("nacl_entries", NaclEntryEntry),
    ("routes", RouteEntry),
    ("instance_roles", InstanceRoleEntry),
    ("role_policies", RolePolicyEntry),
    ("manual_steps", ManualStep),
)


def dump(plan: Plan, path: str | Path) -> None:
    Path(path).write_text(json.dumps(plan.to_dict(), indent=2) + "\n", encoding="utf-8")


def summary(plan: Plan, path: str | Path) -> str:
    """What a plan does, in a few lines for people."""
    changes = sum(len(getattr(plan, name)) for name, _ in _ENTRY_LISTS[:-1])
    lines = [f"plan written to {path}: {changes} change(s) as code, "
             f"{len(plan.manual_steps)} manual step(s)"]
    for instance in plan.instances:
        after = instance.verdict_after.replace("_", " ") or "not proven"
        lines.append(f"  {instance.instance_id}: {instance.verdict_before.replace('_', ' ')}"
                     f" -> after this plan: {after}" + _capability_change(instance))
        lines += [f"      still blocked by {reason}" for reason in instance.still_blocked_by]
    lines += [f"  manual: {step.command}" for step in plan.manual_steps]
    if plan.is_empty():
        lines.append("  nothing to change: no audited instance is proven not manageable")
    return "\n".join(lines)


def _capability_change(instance: PlanInstance) -> str:
    """"; session_manager fail -> ok" for the capabilities the plan changes."""
    changed = [f"{name} {status} -> {instance.capabilities_after.get(name, '?')}"
               for name, status in instance.capabilities_before.items()
               if instance.capabilities_after.get(name) != status]
    return f"; {', '.join(changed)}" if changed else ""


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file (through the bounded reader: its size, depth, integer and
    duplicate-key limits); anything wrong is a one-line ``UsageError``."""
    if bounded_read.file_kind(path) == "missing":
        raise UsageError(f"plan {path}: no such file")
    what = f"plan {path}"
    try:
        data = bounded_read.parse_json(bounded_read.read_text(path, what, limits.PLAN_BYTES),
                                       what)
    except UsageError as error:
        raise UsageError(f"plan {path}: not a readable JSON file ({error})") from None
    return plan_from_dict(data, str(path))


def plan_from_dict(data: Any, where: str = "plan") -> Plan:
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise UsageError(f"{where}: not an ssm-auditor remediation plan (no \"kind\": \"{KIND}\")")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise UsageError(f"{where}: schema_version {data.get('schema_version')!r} is not "
                         f"supported (this version reads {SCHEMA_VERSION})")
    regions = _typed(data, "regions", list, where)
    if not all(region.__class__ is str for region in regions):
        raise UsageError(f"{where}: \"regions\" should be a list of text")
    plan = Plan(account_id=_typed(data, "account_id", str, where),
                regions=regions,
                generated_by=str(data.get("generated_by", "")))
    plan.instances = [_entry(PlanInstance, item, f"{where}: instances[{index}]")
                      for index, item in enumerate(_typed(data, "instances", list, where, []))]
    for name, entry_type in _ENTRY_LISTS:
        items = _typed(data, name, list, where, [])
        setattr(plan, name, [_entry(entry_type, item, f"{where}: {name}[{index}]")
                             for index, item in enumerate(items)])
    for index, step in enumerate(plan.manual_steps):
        _check_parameters(step.parameters, f"{where}: manual_steps[{index}].parameters")
    ids = [entry.id for name, _ in _ENTRY_LISTS for entry in getattr(plan, name)]
    duplicates = sorted({entry_id for entry_id in ids if ids.count(entry_id) > 1})
    if duplicates:
        raise UsageError(f"{where}: entry id {duplicates[0]} is used twice")
    return plan


def _check_parameters(parameters: dict, where: str) -> None:
    """A manual step's parameters are ids and names (text, or null), and a policy document
    (an object): what ``apply`` and the step's command read."""
    for name, value in parameters.items():
        wanted = dict if name == "policy_document" else str
        if value.__class__ is not wanted and (wanted is dict or value is not None):
            raise UsageError(f"{where}: \"{name}\" should be "
                             f"{'an object' if wanted is dict else 'text'}")


def _typed(data: dict, key: str, expected: type, where: str, default: Any = ...) -> Any:
    if key not in data:
        if default is ...:
            raise UsageError(f"{where}: \"{key}\" is missing")
        return default
    value = data[key]
    if not isinstance(value, expected):
        raise UsageError(f"{where}: \"{key}\" should be a {expected.__name__}")
    return value


def _entry(entry_type: type, item: Any, where: str) -> Any:
    if not isinstance(item, dict):
        raise UsageError(f"{where}: should be an object")
    known = {f.name: f for f in fields(entry_type)}
    unknown = sorted(set(item) - set(known))
    if unknown:
        raise UsageError(f"{where}: unknown field \"{unknown[0]}\"")
    values = dict(item)
    if "fixes" in values:
        values["fixes"] = [_entry(FixedFinding, fix, f"{where}.fixes[{index}]")
                           for index, fix in enumerate(_as_list(values["fixes"], where))]
    missing = [name for name, spec in known.items()
               if name not in values and spec.default is MISSING
               and spec.default_factory is MISSING]
    if missing:
        raise UsageError(f"{where}: \"{missing[0]}\" is missing")
    for name, value in values.items():
        if name != "fixes" and not (isinstance(value, _python_types(known[name].type))
                                    and _items_fit(value, known[name].type)):
            raise UsageError(f"{where}: \"{name}\" should be {known[name].type}")
        if isinstance(value, int) and not -_INT32 <= value < _INT32:  # ports, rule numbers
            raise UsageError(f"{where}: \"{name}\" is out of range (32-bit integers only)")
    return entry_type(**values)


_INT32 = 2**31  # CloudFormation's integers are 32-bit


def _python_types(annotation: str) -> tuple[type, ...]:
    """The runtime types a JSON value may have for a field annotated ``annotation``."""
    names = {"str": str, "int": int, "bool": bool, "None": type(None), "list": list,
             "dict": dict}
    found = tuple(names[part.strip().split("[")[0]] for part in annotation.split("|"))
    if int in found and bool not in found:  # JSON true is not a port number
        return (*(t for t in found if t is not int), _StrictInt)
    return found


def _items_fit(value: Any, annotation: str) -> bool:
    """A list's items have the type ``list[...]`` names (text, or objects)."""
    if value.__class__ is not list:
        return True
    item = annotation.split("list[", 1)[1] if "list[" in annotation else ""
    wanted = str if item.startswith("str") else dict if item.startswith("dict") else None
    return wanted is None or all(entry.__class__ is wanted for entry in value)


class _StrictIntMeta(type):
    def __instancecheck__(cls, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)


class _StrictInt(metaclass=_StrictIntMeta):
    pass


def _as_list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise UsageError(f"{where}: \"fixes\" should be a list")
    return value
