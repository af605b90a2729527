"""IAM policy conditions and patterns, decided against what the auditor knows of a request.

Answers are three-valued: True, False, or None when the answer depends on something the auditor
cannot see (a context key it does not know, an operator it does not implement, a policy variable
without a value). A condition block is the AND of its conditions, so one definite False decides it
even beside unknowns; otherwise any unknown makes the whole block unknown.

Semantics follow the IAM reference ("Condition operators", "Single-valued vs. multivalued context
keys", "Policy variables"):
- keys are case-insensitive; several keys under one operator, and several operators, are AND-ed;
  several values for one key are OR-ed, except for the negated operators (StringNotEquals,
  ArnNotLike, NotIpAddress, ...), which hold only when the request value matches none of them;
- a key absent from the request makes a positive operator false and a negated one true;
  ``...IfExists`` makes an absent key true; ``Null`` tests absence itself;
- ``ForAllValues:`` holds when every request value matches (vacuously when the key is absent),
  ``ForAnyValue:`` when at least one does (never when absent);
- String operators are case-sensitive unless ``IgnoreCase``; ``*`` and ``?`` are wildcards only in
  the ``Like`` forms; Arn operators compare the six colon-separated parts one by one, each a glob.

No boto3 and no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from ipaddress import ip_address, ip_network

from auditor.policy_patterns import compile_pieces, glob_regex

Tri = bool | None  # True, False, or None for "cannot tell"
KeyLookup = Callable[[str], "tuple[str, ...] | None"]  # () = absent, None = unknown

POLICY_VARIABLES_VERSION = "2012-10-17"  # older documents take "${...}" literally


# --- Three-valued logic -------------------------------------------------------------------------


def any_of(values: Iterable[Tri]) -> Tri:
    """OR: True if one is True; else None if one is unknown; else False."""
    unknown = False
    for value in values:
        if value is True:
            return True
        unknown = unknown or value is None
    return None if unknown else False


def all_of(values: Iterable[Tri]) -> Tri:
    """AND: False if one is False; else None if one is unknown; else True."""
    unknown = False
    for value in values:
        if value is False:
            return False
        unknown = unknown or value is None
    return None if unknown else True


def negate(value: Tri) -> Tri:
    return None if value is None else not value


@dataclass(frozen=True)
class Outcome:
    """Whether something holds, and when that cannot be told, what could not be evaluated."""

    holds: Tri
    unresolved: tuple[str, ...] = ()


HOLDS = Outcome(True)
FAILS = Outcome(False)


def all_outcomes(outcomes: Iterable[Outcome]) -> Outcome:
    """AND of outcomes; the unresolved items are kept only when they decide (no definite False)."""
    unresolved: list[str] = []
    for outcome in outcomes:
        if outcome.holds is False:
            return FAILS
        if outcome.holds is None:
            unresolved.extend(item for item in outcome.unresolved if item not in unresolved)
    return Outcome(None, tuple(unresolved)) if unresolved else HOLDS


# --- What the auditor knows of a request --------------------------------------------------------


def arn_account(arn: str | None) -> str | None:
    """The account field of an ARN, or None when there is none (or it is not an ARN)."""
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    return (parts[4] or None) if len(parts) == 6 else None


@dataclass(frozen=True)
class RequestContext:
    """The request context of one call, as far as the auditor knows it.

    A key the auditor knows has values (possibly none: the key is known to be absent); every
    other key is unknown, and a condition on it cannot be evaluated. ``None`` in a field means
    unknown, except for ``source_vpc``/``source_vpce`` where it means the request does not go
    through a VPC endpoint (then ``aws:SourceVpc``/``aws:SourceVpce`` are absent and
    ``aws:SourceIp`` is unknown; through an endpoint ``aws:SourceIp`` is absent). Set
    ``network_path_known=False`` when it is not known whether an endpoint carries the request.

    ``extra`` adds or overrides keys (names are case-insensitive); an empty list means the key is
    known to be absent. For the agent's own calls, ``via_aws_service=False`` is right (it calls
    the services directly).
    """

    principal_arn: str | None = None  # aws:PrincipalArn (for a role session: the role's ARN)
    principal_account: str | None = None  # aws:PrincipalAccount; else from principal_arn
    region: str | None = None  # aws:RequestedRegion
    instance_arn: str | None = None  # ec2:SourceInstanceARN
    instance_tags: Mapping[str, str] | None = field(default=None, hash=False)  # */ResourceTag/*
    source_vpc: str | None = None  # aws:SourceVpc
    source_vpce: str | None = None  # aws:SourceVpce
    secure_transport: bool | None = True  # aws:SecureTransport
    via_aws_service: bool | None = None  # aws:ViaAWSService
    resource_account: str | None = None  # aws:ResourceAccount; else from the resource's ARN
    network_path_known: bool = True
    extra: Mapping[str, Sequence[str]] = field(default_factory=dict, hash=False)

    @cached_property
    def _extra(self) -> dict[str, tuple[str, ...]]:
        return {key.lower(): tuple(values) for key, values in self.extra.items()}

    def values(self, key: str, resource: str = "*") -> tuple[str, ...] | None:
        """The request's values for a condition key: () when absent, None when unknown."""
        lowered = key.lower()
        if lowered in self._extra:
            return self._extra[lowered]
        for prefix in ("aws:resourcetag/", "ec2:resourcetag/", "ssm:resourcetag/"):
            if lowered.startswith(prefix):
                return self._tag(key[len(prefix):])
        return self._builtin(lowered, resource)

    def _builtin(self, key: str, resource: str) -> tuple[str, ...] | None:
        if key in ("aws:sourcevpc", "aws:sourcevpce", "aws:sourceip"):
            return self._network_key(key)
        flags = {"aws:securetransport": self.secure_transport,
                 "aws:viaawsservice": self.via_aws_service}
        if key in flags:
            flag = flags[key]
            return None if flag is None else ("true" if flag else "false",)
        value = {
            "aws:principalarn": self.principal_arn,
            "aws:principalaccount": self.principal_account or arn_account(self.principal_arn),
            "aws:requestedregion": self.region,
            "ec2:sourceinstancearn": self.instance_arn,
            "aws:resourceaccount": self.resource_account or arn_account(resource),
        }.get(key)
        return None if value is None else (value,)

    def _network_key(self, key: str) -> tuple[str, ...] | None:
        if not self.network_path_known:
            return None
        through_endpoint = bool(self.source_vpc or self.source_vpce)
        if key == "aws:sourceip":  # absent through an endpoint; a public address the API hides
            return () if through_endpoint else None
        value = self.source_vpc if key == "aws:sourcevpc" else self.source_vpce
        if through_endpoint and value is None:
            return None  # one of the pair given: the other is present but not known
        return (value,) if value else ()

    def _tag(self, tag_key: str) -> tuple[str, ...] | None:
        if self.instance_tags is None:
            return None
        same = [key for key in self.instance_tags if key.lower() == tag_key.lower()]
        if same == [tag_key]:
            return (self.instance_tags[tag_key],)
        # Tags that differ from the key only in case: whether IAM matches them is not
        # documented, so the answer is unknown rather than a guess.
        return () if not same else None


# --- Patterns: globs and policy variables -------------------------------------------------------


class UnresolvedVariable(Exception):
    """A policy variable whose value the auditor does not know."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def pattern_regex(text: str, *, wildcards: bool, ignore_case: bool = False,
                  arn_parts: bool = False, lookup: KeyLookup | None = None) -> re.Pattern[str]:
    """A regex that matches what ``text`` matches as a whole string.

    ``*`` matches any run of characters and ``?`` one character, when ``wildcards``; with
    ``arn_parts``, in the first five colon-separated parts they stay within their part. With
    ``lookup`` (policy version 2012-10-17), ``${key}`` and ``${key, 'default'}`` are replaced by
    the key's value, taken literally, and ``${*}``, ``${?}``, ``${$}`` stand for those characters.
    Raises UnresolvedVariable when a variable's value is unknown, absent without a default, or
    multivalued.
    """
    if lookup is None or "${" not in text:
        if wildcards:
            return glob_regex(text, ignore_case, arn_parts)
        return compile_pieces([(text, False)], wildcards=False, ignore_case=ignore_case,
                              arn_parts=False)
    return compile_pieces(_substitute(text, lookup), wildcards=wildcards,
                          ignore_case=ignore_case, arn_parts=arn_parts)


def _substitute(text: str, lookup: KeyLookup) -> list[tuple[str, bool]]:
    """(piece, from the policy itself) pairs: only the policy's own text carries wildcards."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        pieces.append((text[position:found.start()], True))
        pieces.append((_variable_value(found.group(1), found.group(0), lookup), False))
        position = found.end()
    pieces.append((text[position:], True))
    return pieces


def _variable_value(body: str, written: str, lookup: KeyLookup) -> str:
    if body in _ESCAPES:
        return _ESCAPES[body]
    parsed = _VARIABLE_BODY.fullmatch(body)
    if parsed is None:
        raise UnresolvedVariable(f"policy variable {written} (malformed)")
    key, default = parsed.group(1), parsed.group(2)
    values = lookup(key)
    if values is None:
        raise UnresolvedVariable(f"policy variable {written}")
    if not values and default is not None:
        return default
    if len(values) != 1:
        state = "absent" if not values else "multivalued"
        raise UnresolvedVariable(f"policy variable {written} ({state})")
    return values[0]


# --- Conditions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One key under one operator of a Condition block, values as text (true, 42, ...)."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # as written, e.g. "aws:PrincipalOrgID"
    values: tuple[str, ...]

    def describe(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {self.key} {shown}"


def _value_text(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"{where}: condition values must be strings, numbers or booleans")


def parse_conditions(block: object, where: str) -> tuple[Condition, ...]:
    """The conditions of a raw Condition block; ValueError (one line) when it is malformed."""
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise ValueError(f"{where}: Condition must be an object of operators")
    conditions: list[Condition] = []
    for operator, keys in block.items():
        if not isinstance(keys, dict) or not keys:
            raise ValueError(f"{where}: condition operator {operator} must map keys to values")
        for key, raw in keys.items():
            values = raw if isinstance(raw, list) else [raw]
            texts = tuple(_value_text(value, where) for value in values)
            conditions.append(Condition(str(operator), str(key), texts))
    return tuple(conditions)


@dataclass(frozen=True)
class _Operator:
    family: str  # string | arn | numeric | date | bool | ip | null
    compare: str  # equals | ignore_case | like | eq | lt | le | gt | ge
    negated: bool = False


def _operator_table() -> dict[str, _Operator]:
    table = {
        "stringequals": _Operator("string", "equals"),
        "stringnotequals": _Operator("string", "equals", True),
        "stringequalsignorecase": _Operator("string", "ignore_case"),
        "stringnotequalsignorecase": _Operator("string", "ignore_case", True),
        "stringlike": _Operator("string", "like"),
        "stringnotlike": _Operator("string", "like", True),
        "arnequals": _Operator("arn", "like"),
        "arnlike": _Operator("arn", "like"),
        "arnnotequals": _Operator("arn", "like", True),
        "arnnotlike": _Operator("arn", "like", True),
        "bool": _Operator("bool", "equals"),
        "ipaddress": _Operator("ip", "in"),
        "notipaddress": _Operator("ip", "in", True),
        "null": _Operator("null", "absent"),
    }
    for family in ("numeric", "date"):
        table[f"{family}equals"] = _Operator(family, "eq")
        table[f"{family}notequals"] = _Operator(family, "eq", True)
        for name, compare in (("lessthan", "lt"), ("lessthanequals", "le"),
                              ("greaterthan", "gt"), ("greaterthanequals", "ge")):
            table[f"{family}{name}"] = _Operator(family, compare)
    return table


_OPERATORS = _operator_table()
_ORDER = {"eq": lambda a, b: a == b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
          "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}


def _split_operator(written: str) -> tuple[str | None, _Operator, bool] | None:
    """(set qualifier, operator, IfExists), or None for an operator this module lacks."""
    name = written.lower()
    qualifier = None
    for prefix in ("forallvalues:", "foranyvalue:"):
        if name.startswith(prefix):
            qualifier, name = prefix[:-1], name[len(prefix):]
    if_exists = name.endswith("ifexists")
    if if_exists:
        name = name[: -len("ifexists")]
    operator = _OPERATORS.get(name)
    if operator is None or (operator.family == "null" and (qualifier or if_exists)):
        return None
    return qualifier, operator, if_exists


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _in_network(address: str, network: str) -> Tri:
    try:
        return ip_address(address) in ip_network(network, strict=False)
    except ValueError:
        return None


def _matches(operator: _Operator, actual: str, wanted: str, lookup: KeyLookup | None) -> Tri:
    """Whether one request value matches one policy value (positively: negation comes later)."""
    if operator.family in ("string", "arn"):
        if operator.family == "arn" and wanted.count(":") < 5:
            return None  # not an ARN pattern: the six parts cannot be compared
        regex = pattern_regex(wanted, wildcards=operator.compare == "like",
                              ignore_case=operator.compare == "ignore_case",
                              arn_parts=operator.family == "arn", lookup=lookup)
        return regex.fullmatch(actual) is not None
    if operator.family == "bool":
        return actual.lower() == wanted.lower()
    if operator.family == "ip":
        return _in_network(actual, wanted)
    parse = _number if operator.family == "numeric" else _date
    left, right = parse(actual), parse(wanted)
    if left is None or right is None:
        return None
    return _ORDER[operator.compare](left, right)


def _evaluate(condition: Condition, lookup: KeyLookup, variables: bool) -> Outcome:
    split = _split_operator(condition.operator)
    if split is None:
        return Outcome(None, (f"{condition.operator} {condition.key} (operator not supported)",))
    qualifier, operator, if_exists = split
    actual = lookup(condition.key)
    if actual is None:
        return Outcome(None, (f"{condition.operator} {condition.key}",))
    if operator.family == "null":
        wanted = {value.lower() for value in condition.values}
        if not wanted <= {"true", "false"}:
            return Outcome(None, (f"{condition.operator} {condition.key} (not true/false)",))
        return Outcome(("true" if not actual else "false") in wanted)
    if not actual:  # the key is absent from the request
        absent = if_exists or qualifier == "forallvalues" or (
            qualifier is None and operator.negated)
        return Outcome(absent)
    variable_lookup = lookup if variables else None
    unresolved: list[str] = []

    def match(value: str, wanted: str) -> Tri:
        try:
            return _matches(operator, value, wanted, variable_lookup)
        except UnresolvedVariable as variable:
            unresolved.append(f"{variable.description} in {condition.operator} {condition.key}")
            return None

    per_value = [any_of(match(value, wanted) for wanted in condition.values) for value in actual]
    if qualifier is None:
        holds = any_of(per_value)
        holds = negate(holds) if operator.negated else holds
    else:
        per_value = [negate(value) if operator.negated else value for value in per_value]
        holds = any_of(per_value) if qualifier == "foranyvalue" else all_of(per_value)
    if holds is None:
        return Outcome(None, tuple(dict.fromkeys(unresolved)) or (
            f"{condition.operator} {condition.key} (value not comparable)",))
    return Outcome(holds)


def evaluate_conditions(conditions: Sequence[Condition], context: RequestContext,
                        resource: str = "*", *, variables: bool = True) -> Outcome:
    """Whether a statement's conditions hold for the request (all of them: AND).

    ``resource`` is the request's resource (it gives ``aws:ResourceAccount``); ``variables`` is
    whether the policy's version substitutes policy variables.
    """
    def lookup(key: str) -> tuple[str, ...] | None:
        return context.values(key, resource)

    return all_outcomes(_evaluate(condition, lookup, variables) for condition in conditions)
