"""Resolve CloudFormation intrinsic functions, as far as the template alone allows.

What only deployment can tell (a parameter without a value, ``Fn::ImportValue``, an attribute
AWS assigns, an SSM parameter, a condition on those) resolves to ``Unresolved`` carrying the
reason, never to a guess. Values are resolved field by field, when the translation reads them,
so an unresolvable value in a field the audit does not need costs nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_network
from typing import Any

from auditor import limits
from auditor.sources.bounded_read import beyond


@dataclass(frozen=True)
class Unresolved:
    reason: str


class _NoValue:
    """``Ref: AWS::NoValue``: the property or list item is removed."""


NO_VALUE = _NoValue()
TOO_DEEP = Unresolved(f"values resolve inside one another past {beyond(limits.RESOLUTION_DEPTH)}")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def as_text(value: Any) -> str:
    """A value as CloudFormation writes it into a string: YAML's ``true`` is "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def first_unresolved(value: Any) -> Unresolved | None:
    """The first Unresolved inside a resolved value, or None."""
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found = first_unresolved(item)
        if found:
            return found
    return None


# Functions a consumer can supply: (logical id) -> Ref value, (logical id, attribute) -> value.
RefFunction = Callable[[str], Any]
GetAttFunction = Callable[[str, str], Any]


class _Depth:
    """How deep resolution is, across every resolver (a condition naming a condition, an
    import of another template's output, a nested stack's output): past the limit the value is
    unresolved rather than the stack exhausted."""

    level = 0


class Resolver:
    def __init__(self, body: dict[str, Any], parameters: dict[str, Any],
                 pseudo: dict[str, Any], ref: RefFunction, get_att: GetAttFunction,
                 import_value: Callable[[str], Any] | None = None) -> None:
        self.body = body
        self.parameters = parameters
        self.pseudo = pseudo
        self.ref_resource = ref
        self.get_att = get_att
        # The value another template given with this one exports under a name, or Unresolved.
        self.import_value = import_value
        self._conditions: dict[str, Any] = {}

    # --- public ---------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if _Depth.level >= limits.RESOLUTION_DEPTH.value:
            return TOO_DEEP
        _Depth.level += 1
        try:
            return self._resolve(value)
        finally:
            _Depth.level -= 1

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if isinstance(value, str) and "{{resolve:" in value:
            reference = value[value.index("{{resolve:"):].split("}}", 1)[0] + "}}"
            return Unresolved(f"dynamic reference {reference} is read at deployment")
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":  # AWS::LanguageExtensions allows a function there
                return self.ref(self.resolve(argument) if isinstance(argument, dict)
                                else argument)
            if key == "Condition" and isinstance(argument, str):
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self._function(key[4:], argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool | Unresolved:
        if name not in self._conditions:
            conditions = self.body.get("Conditions") or {}
            if name not in conditions:
                return Unresolved(f"condition {name} is not defined")
            self._conditions[name] = Unresolved(f"condition {name} refers to itself")
            self._conditions[name] = self._truth(self.resolve(conditions[name]),
                                                 f"condition {name}")
        return self._conditions[name]

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unresolved(f"Ref of a non-name {name!r}")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name.startswith("AWS::"):
            return Unresolved(f"pseudo parameter {name} is known only at deployment")
        declared = self.body.get("Parameters") or {}
        if name in declared:
            return self._parameter(name, declared[name] or {})
        if name in (self.body.get("Resources") or {}):
            return self.ref_resource(name)
        return Unresolved(f"Ref {name}: no such parameter or resource")

    # --- parameters -----------------------------------------------------------------------

    def _parameter(self, name: str, declaration: dict) -> Any:
        kind = str(declaration.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter::Value"):
            return Unresolved(f"parameter {name} is read from SSM Parameter Store at "
                              "deployment")
        if name in self.parameters:
            value = self.parameters[name]
        elif "Default" in declaration:
            value = declaration["Default"]
        else:
            return Unresolved(f"parameter {name} has no default and no value was given "
                              f"(--parameter {name}=VALUE)")
        if (kind.startswith("List<") or kind == "CommaDelimitedList") and isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    # --- functions ------------------------------------------------------------------------

    def _function(self, name: str, argument: Any) -> Any:
        handler = getattr(self, f"_fn_{name.lower()}", None)
        if handler is None:
            return Unresolved(f"Fn::{name} is not evaluated by the auditor")
        try:
            return handler(argument)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError,
                ArithmeticError) as error:
            return Unresolved(f"malformed Fn::{name}: {error}")

    def _fn_getatt(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        logical_id, attribute = (self.resolve(part) for part in argument)
        for part in (logical_id, attribute):
            if isinstance(part, Unresolved):
                return part
        if not (isinstance(logical_id, str) and isinstance(attribute, str)):
            return Unresolved(f"Fn::GetAtt {argument!r}: CloudFormation takes names"[:300])
        if logical_id not in (self.body.get("Resources") or {}):
            return Unresolved(f"Fn::GetAtt {logical_id}.{attribute}: no such resource")
        return self.get_att(logical_id, attribute)

    def _fn_sub(self, argument: Any) -> Any:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}
        text = self.resolve(text)
        if isinstance(text, Unresolved):
            return text
        if not isinstance(text, str) or not isinstance(variables, dict):
            return Unresolved(f"Fn::Sub of {text!r}: CloudFormation takes text (and a mapping "
                              "of variables)"[:300])
        problems: list[Unresolved] = []

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and name.split(".", 1)[0] in (self.body.get("Resources") or {}):
                value = self._fn_getatt(name)
            else:
                value = self.ref(name)
            if isinstance(value, Unresolved):
                problems.append(value)
                return ""
            return as_text(value)

        result = _SUB_VARIABLE.sub(replace, str(text))
        return problems[0] if problems else result

    def _fn_join(self, argument: Any) -> Any:
        delimiter, items = self.resolve(argument[0]), self.resolve(argument[1])
        found = first_unresolved([delimiter, items])
        if found:
            return found
        if not (isinstance(delimiter, str) and isinstance(items, list)
                and all(_scalar(item) for item in items)):
            return Unresolved(f"Fn::Join of {items!r}: CloudFormation takes a delimiter and a "
                              "list of values"[:300])
        return delimiter.join(as_text(item) for item in items)

    def _fn_select(self, argument: Any) -> Any:
        index, items = self.resolve(argument[0]), self.resolve(argument[1])
        if isinstance(index, Unresolved):
            return index
        if isinstance(items, Unresolved):
            return items
        if isinstance(index, bool) or not str(index).strip().isdigit():
            shown = "AWS::NoValue" if index is NO_VALUE else repr(index)
            return Unresolved(f"Fn::Select: the index {shown} is not a number")
        if not isinstance(items, list) or int(index) >= len(items):
            return Unresolved(f"Fn::Select: no item {index} in {items!r}")
        return items[int(index)]

    def _fn_split(self, argument: Any) -> Any:
        delimiter, text = self.resolve(argument[0]), self.resolve(argument[1])
        found = first_unresolved([delimiter, text])
        if found:
            return found
        if not (isinstance(delimiter, str) and delimiter and isinstance(text, str)):
            return Unresolved(f"Fn::Split of {text!r}: CloudFormation takes a delimiter and "
                              "text"[:300])
        return text.split(delimiter)

    def _fn_if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        if not isinstance(name, str):
            return Unresolved(f"Fn::If on {name!r}, which is not a condition name"[:300])
        decided = self.condition(name)
        if isinstance(decided, Unresolved):
            true_value, false_value = self.resolve(when_true), self.resolve(when_false)
            if true_value == false_value:  # both branches agree: the condition does not matter
                return true_value
            return Unresolved(f"Fn::If on {decided.reason}")
        return self.resolve(when_true if decided else when_false)

    def _truth(self, value: Any, what: str) -> bool | Unresolved:
        if isinstance(value, Unresolved):
            return value
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return Unresolved(f"{what} is not a boolean: {value!r}")

    def _fn_equals(self, argument: Any) -> Any:
        left, right = (self.resolve(item) for item in argument)
        found = first_unresolved([left, right])
        if found:
            return Unresolved(f"Fn::Equals cannot be decided: {found.reason}")
        if isinstance(left, list | dict):
            return left == right
        return as_text(left) == as_text(right)

    def _fn_not(self, argument: Any) -> Any:
        value = self._truth(self.resolve(argument[0]), "Fn::Not")
        return value if isinstance(value, Unresolved) else not value

    def _fn_and(self, argument: Any) -> Any:
        values = [self._truth(self.resolve(item), "Fn::And") for item in argument]
        if any(value is False for value in values):
            return False
        return first_unresolved(values) or True

    def _fn_or(self, argument: Any) -> Any:
        values = [self._truth(self.resolve(item), "Fn::Or") for item in argument]
        if any(value is True for value in values):
            return True
        return first_unresolved(values) or False

    def _fn_findinmap(self, argument: Any) -> Any:
        default = argument[3].get("DefaultValue") if len(argument) > 3 else None
        name, first, second = (self.resolve(item) for item in argument[:3])
        found = first_unresolved([name, first, second])
        if found:
            return found
        if not all(_scalar(key) for key in (name, first, second)):
            return Unresolved(f"Fn::FindInMap {name!r}/{first!r}/{second!r}: CloudFormation "
                              "takes names"[:300])
        mapping = (self.body.get("Mappings") or {}).get(name, {})
        try:
            return self.resolve(mapping[first][second])
        except (KeyError, TypeError):
            if default is not None:
                return self.resolve(default)
            return Unresolved(f"Fn::FindInMap {name}/{first}/{second}: no such entry")

    def _fn_base64(self, argument: Any) -> Any:
        return self.resolve(argument)  # the text itself is what the audit would read

    def _fn_length(self, argument: Any) -> Any:  # AWS::LanguageExtensions
        items = self.resolve(argument)
        if isinstance(items, Unresolved):
            return items
        return len(items) if isinstance(items, list) else Unresolved(
            f"Fn::Length of a non-list {items!r}")

    def _fn_tojsonstring(self, argument: Any) -> Any:  # AWS::LanguageExtensions
        value = self.resolve(argument)
        return first_unresolved(value) or json.dumps(value, separators=(",", ":"))

    def _fn_getazs(self, argument: Any) -> Any:
        return Unresolved("Fn::GetAZs: the availability zones depend on the account")

    def _fn_importvalue(self, argument: Any) -> Any:
        name = self.resolve(argument)
        if isinstance(name, Unresolved):
            return Unresolved(f"Fn::ImportValue of an unknown name: {name.reason}")
        if self.import_value is not None:
            return self.import_value(str(name))
        return Unresolved(f"Fn::ImportValue {name}: exported by another stack")

    def output(self, name: str) -> Any:
        """The value this template exports under ``name`` (None: it exports no such name)."""
        for output in (self.body.get("Outputs") or {}).values():
            export = (output or {}).get("Export") if isinstance(output, dict) else None
            if isinstance(export, dict) and "Name" in export \
                    and self.resolve(export["Name"]) == name:
                return self.resolve(output.get("Value"))
        return None

    def export_names(self) -> list[str]:
        """The names this template exports, as far as they resolve."""
        names = []
        for output in (self.body.get("Outputs") or {}).values():
            export = (output or {}).get("Export") if isinstance(output, dict) else None
            name = self.resolve(export.get("Name")) if isinstance(export, dict) else None
            if isinstance(name, str):
                names.append(name)
        return names

    def _fn_cidr(self, argument: Any) -> Any:
        block, count, bits = (self.resolve(item) for item in argument)
        found = first_unresolved([block, count, bits])
        if found:
            return found
        limit = limits.CIDR_COUNT.value
        if isinstance(count, bool) or not 1 <= int(count) <= limit:
            return Unresolved(f"Fn::Cidr count {count!r} is not from 1 to {limit}, which "
                              "CloudFormation refuses")
        network = ip_network(str(block), strict=False)
        subnets = network.subnets(new_prefix=network.max_prefixlen - int(bits))
        return [str(subnet) for _, subnet in zip(range(int(count)), subnets, strict=False)]
