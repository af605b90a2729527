"""IAM policy evaluation for the agent's calls: allowed, denied or unknown, and which statement.

Follows AWS's documented evaluation logic for one principal in one account:
1. an explicit Deny that applies, in any policy (identity, permissions boundary, SCP, endpoint
   policy), denies;
2. every guardrail present must allow: each level of SCPs (root, OUs, account) needs an Allow,
   then the permissions boundary, then the VPC endpoint policy (which also names principals);
   a guardrail only limits, it never grants;
3. an identity policy (inline or managed) must allow; otherwise the request is implicitly denied.

A statement applies when its action, resource, principal (endpoint and trust policies) and
conditions all match. When that depends on something the auditor cannot see (see
``iam_conditions``), the statement *may* apply: it neither counts as an allow nor may be
ignored as a deny, and the answer is ``unknown`` unless something definite decides. The answer
is never ``allowed`` while an unknown could turn it.

Matching: actions are whole-string globs, case-insensitive (``ssm:*`` stops at the colon, so it
never matches ``ssmmessages:...``); resources are case-sensitive globs whose ``*`` may span
colons and slashes. No boto3 and no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import unquote, unquote_plus

from auditor.analysis.iam_conditions import (
    FAILS,
    HOLDS,
    POLICY_VARIABLES_VERSION,
    Condition,
    Outcome,
    RequestContext,
    Tri,
    UnresolvedVariable,
    all_of,
    all_outcomes,
    any_of,
    evaluate_conditions,
    negate,
    parse_conditions,
    pattern_regex,
)
from auditor.errors import UsageError
from auditor.limits import POLICY_PATTERNS
from auditor.policy_patterns import GlobSet, action_matches
from auditor.sources.bounded_read import parse_json
from auditor.vocabulary import UNKNOWN

__all__ = [
    "KINDS",
    "Decision",
    "Policy",
    "Principal",
    "RequestContext",
    "Statement",
    "StatementRef",
    "action_matches",
    "evaluate_action",
    "parse_policy",
    "trust_allows",
]

# "resource": a resource's own policy (a KMS key policy, a bucket policy), named by its caller
KINDS = ("inline", "managed", "boundary", "scp", "endpoint", "trust", "resource")
IDENTITY_KINDS = ("inline", "managed")
_PRINCIPAL_KINDS = ("endpoint", "trust", "resource")
_KIND_WORDS = {"inline": "inline policy", "managed": "managed policy",
               "boundary": "permissions boundary", "scp": "service control policy",
               "endpoint": "endpoint policy", "trust": "trust policy", "resource": ""}

ALLOWED = "allowed"
DENIED = "denied"

# Decision.reason
EXPLICIT_DENY = "explicit_deny"
NO_ALLOW = "no_allow"
BOUNDARY = "boundary"
SCP = "scp"
ENDPOINT_POLICY = "endpoint_policy"
CONDITION_NOT_EVALUATED = "condition_not_evaluated"

VERSIONS = ("2012-10-17", "2008-10-17")
_DEFAULT_VERSION = "2008-10-17"  # what IAM assumes when a document has no Version
_DOCUMENT_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource",
                                 "NotResource", "Principal", "NotPrincipal", "Condition"})
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


# --- Policies as data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    kind: str  # "*" (everyone) | "AWS" | "Service" | "Federated" | "CanonicalUser"
    value: str


@dataclass(frozen=True)
class Statement:
    """One statement. For each pair (Action/NotAction, ...) at most one side is set.

    ``problem`` says why AWS would refuse the statement (e.g. an identity policy statement
    without Resource); such a statement is kept for reports but never applies.
    """

    sid: str | None
    index: int  # position in the policy, from 0; shown to people as "#index+1"
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principals: tuple[Principal, ...] | None = None
    not_principals: tuple[Principal, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class Policy:
    name: str
    kind: str  # one of KINDS
    statements: tuple[Statement, ...]
    attached_to: str = ""  # e.g. "role app-role", "ou ou-ab12-cdef3456", "vpce-0123"
    version: str = _DEFAULT_VERSION


@dataclass(frozen=True)
class StatementRef:
    """Which statement of which policy decided: enough to name it in a finding."""

    policy: str
    kind: str
    attached_to: str
    sid: str | None
    index: int

    @classmethod
    def of(cls, policy: Policy, statement: Statement) -> StatementRef:
        return cls(policy.name, policy.kind, policy.attached_to, statement.sid, statement.index)

    def describe(self) -> str:
        which = f'"{self.sid}"' if self.sid else f"#{self.index + 1}"
        where = f" on {self.attached_to}" if self.attached_to else ""
        words = _KIND_WORDS.get(self.kind, self.kind)
        return f"statement {which} of {f'{words} ' if words else ''}{self.policy}{where}"


@dataclass(frozen=True)
class Decision:
    outcome: str  # ALLOWED | DENIED | UNKNOWN
    reason: str  # ALLOWED | EXPLICIT_DENY | SCP | BOUNDARY | ENDPOINT_POLICY | NO_ALLOW | ...
    # allowed: the identity (or trust) statements that allow; denied by a statement: the deny
    # statements; unknown: the statements whose applicability could not be decided; empty when
    # a layer lacks any allow (``lacking_allow`` and ``detail`` say which).
    deciding: tuple[StatementRef, ...] = ()
    unresolved_conditions: tuple[str, ...] = ()
    # Every layer with no statement that may allow: "scp", "boundary", "endpoint_policy",
    # "identity" (or "trust"); the first one gives ``reason``.
    lacking_allow: tuple[str, ...] = ()
    detail: str = field(default="", compare=False)

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED


# --- Parsing ------------------------------------------------------------------------------------


def _load(document: dict | str, name: str) -> dict:
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        raise ValueError(f"policy {name}: expected a JSON object or its text, "
                         f"got {type(document).__name__}")
    text = document.strip()
    if not text:
        raise ValueError(f"policy {name}: the document is empty")
    # IAM returns documents URL-encoded (RFC 3986); some tools encode spaces as "+".
    candidates = [text] if text.startswith("{") else [unquote(text), unquote_plus(text)]
    error: str | None = None
    for candidate in candidates:
        try:  # within the reader's limits: nesting, integers, numbers, keys written twice
            data = parse_json(candidate, f"policy {name}")
        except UsageError as refused:
            error = error or str(refused)
            continue
        if not isinstance(data, dict):
            raise ValueError(f"policy {name}: the document is not a JSON object")
        return data
    assert error is not None
    raise ValueError(error)


def _strings(value: object, element: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ValueError(f"{where}: {element} must be a string or a list of strings")


def _principals(value: object, element: str, where: str) -> tuple[Principal, ...]:
    if value == "*":
        return (Principal("*", "*"),)
    if not isinstance(value, dict):
        raise ValueError(f'{where}: {element} must be "*" or an object such as '
                         '{"Service": "ec2.amazonaws.com"}')
    principals: list[Principal] = []
    for kind, names in value.items():
        if kind not in _PRINCIPAL_TYPES:
            raise ValueError(f"{where}: unknown principal type {kind!r} in {element}")
        principals.extend(Principal(kind, name) for name in _strings(names, element, where))
    return tuple(principals)


def _pair(raw: dict, positive: str, negative: str, where: str) -> tuple[object, object]:
    if positive in raw and negative in raw:
        raise ValueError(f"{where}: has both {positive} and {negative}")
    return raw.get(positive), raw.get(negative)


def _problem(statement: Statement, kind: str) -> str | None:
    if statement.actions is None and statement.not_actions is None:
        return "has neither Action nor NotAction"
    names_principal = statement.principals is not None or statement.not_principals is not None
    if kind in _PRINCIPAL_KINDS and not names_principal:
        return "has no Principal, which trust and endpoint policies require"
    if kind not in _PRINCIPAL_KINDS and names_principal:
        return "names a Principal, which only trust and endpoint policies may"
    no_resource = statement.resources is None and statement.not_resources is None
    if kind in (*IDENTITY_KINDS, "boundary") and no_resource:
        return "has neither Resource nor NotResource"
    return None


def _parse_statement(raw: object, index: int, kind: str, where: str) -> Statement:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a statement must be a JSON object")
    unknown = sorted(set(raw) - _STATEMENT_ELEMENTS)
    if unknown:
        raise ValueError(f"{where}: unknown element {unknown[0]!r}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise ValueError(f'{where}: Effect must be "Allow" or "Deny", not {effect!r}')
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise ValueError(f"{where}: Sid must be a string")
    action, not_action = _pair(raw, "Action", "NotAction", where)
    resource, not_resource = _pair(raw, "Resource", "NotResource", where)
    principal, not_principal = _pair(raw, "Principal", "NotPrincipal", where)
    statement = Statement(
        sid=sid or None,
        index=index,
        effect=effect,
        actions=None if action is None else _strings(action, "Action", where),
        not_actions=None if not_action is None else _strings(not_action, "NotAction", where),
        resources=None if resource is None else _strings(resource, "Resource", where),
        not_resources=(None if not_resource is None
                       else _strings(not_resource, "NotResource", where)),
        principals=None if principal is None else _principals(principal, "Principal", where),
        not_principals=(None if not_principal is None
                        else _principals(not_principal, "NotPrincipal", where)),
        conditions=parse_conditions(raw.get("Condition"), where),
    )
    problem = _problem(statement, kind)
    return statement if problem is None else replace(statement, problem=problem)


def parse_policy(document: dict | str, name: str, kind: str, attached_to: str = "") -> Policy:
    """A policy from a dict, its JSON text, or URL-encoded JSON text (as IAM returns it).

    Raises ValueError with a one-line message when the document is not a policy. Statements that
    AWS would refuse (see ``Statement.problem``) are kept but never apply.
    """
    if kind not in KINDS:
        raise ValueError(f"policy {name}: unknown kind {kind!r} (expected one of "
                         f"{', '.join(KINDS)})")
    data = _load(document, name)
    unknown = sorted(set(data) - _DOCUMENT_ELEMENTS)
    if unknown:
        raise ValueError(f"policy {name}: unknown element {unknown[0]!r}")
    version = data.get("Version", _DEFAULT_VERSION)
    if version not in VERSIONS:
        raise ValueError(f"policy {name}: unknown Version {version!r}")
    raw_statements = data.get("Statement")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise ValueError(f"policy {name}: Statement must be an object or a list of objects")
    statements = tuple(
        _parse_statement(raw, index, kind, f"policy {name} statement #{index + 1}")
        for index, raw in enumerate(raw_statements))
    _check_size(statements, name)
    return Policy(name, kind, statements, attached_to, version)


def _check_size(statements: tuple[Statement, ...], name: str) -> None:
    """Evaluation is bounded: a policy with more patterns than any IAM stores is refused."""
    patterns = sum(len(getattr(statement, part) or ()) for statement in statements
                   for part in ("actions", "not_actions", "resources", "not_resources"))
    patterns += sum(len(condition.values) for statement in statements
                    for condition in statement.conditions)
    if patterns > POLICY_PATTERNS.value:
        raise ValueError(f"policy {name} holds {patterns:,} action, resource and condition "
                         f"patterns, past the {POLICY_PATTERNS.name} limit "
                         f"({POLICY_PATTERNS.value:,}; see docs/LIMITS.md): not evaluated")


# --- Matching -----------------------------------------------------------------------------------


PrincipalMatcher = Callable[[Principal], Tri]


@dataclass(frozen=True)
class _Request:
    action: str
    resource: str
    context: RequestContext
    principal: PrincipalMatcher
    asked: str  # the request in words, for Decision.detail


@lru_cache(maxsize=4096)
def _glob_set(patterns: tuple[str, ...], ignore_case: bool) -> GlobSet:
    return GlobSet(patterns, ignore_case)


def _action_outcome(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return _glob_set(statement.actions, True).matches(action)
    return not _glob_set(statement.not_actions or (), True).matches(action)


def _resource_outcome(statement: Statement, policy: Policy, request: _Request) -> Outcome:
    patterns = statement.resources if statement.resources is not None else statement.not_resources
    if patterns is None or policy.kind == "trust":  # SCP and endpoint: every resource
        return HOLDS
    lookup = None
    if policy.version == POLICY_VARIABLES_VERSION:
        if not any("${" in pattern for pattern in patterns):
            matched = _glob_set(patterns, False).matches(request.resource)
            return Outcome(matched if statement.resources is not None else not matched)

        def lookup(key: str) -> tuple[str, ...] | None:
            return request.context.values(key, request.resource)
    else:
        matched = _glob_set(patterns, False).matches(request.resource)
        return Outcome(matched if statement.resources is not None else not matched)
    unresolved: list[str] = []

    def matches(pattern: str) -> Tri:
        try:
            regex = pattern_regex(pattern, wildcards=True, lookup=lookup)
        except UnresolvedVariable as variable:
            unresolved.append(f"{variable.description} in Resource")
            return None
        return regex.fullmatch(request.resource) is not None

    matched = any_of(matches(pattern) for pattern in patterns)
    holds = matched if statement.resources is not None else negate(matched)
    return Outcome(holds, tuple(unresolved) if holds is None else ())


def _principal_outcome(statement: Statement, policy: Policy, request: _Request) -> Outcome:
    if policy.kind not in _PRINCIPAL_KINDS:
        return HOLDS
    listed = statement.principals if statement.principals is not None else statement.not_principals
    verdicts = [(principal, request.principal(principal)) for principal in listed or ()]
    matched = any_of(verdict for _, verdict in verdicts)
    holds = matched if statement.principals is not None else negate(matched)
    if holds is not None:
        return Outcome(holds)
    why = ("not documented to cover a service principal" if policy.kind == "trust"
           else "caller not known")
    return Outcome(None, tuple(f"Principal {principal.kind} {principal.value} ({why})"
                               for principal, verdict in verdicts if verdict is None))


def _applies(policy: Policy, statement: Statement, request: _Request) -> Outcome:
    """Whether the statement applies to the request: action, resource, principal, conditions."""
    if statement.problem is not None or not _action_outcome(statement, request.action):
        return FAILS
    parts: list[Outcome] = []
    for part in (_resource_outcome, _principal_outcome):
        outcome = part(statement, policy, request)
        if outcome.holds is False:
            return FAILS
        parts.append(outcome)
    parts.append(evaluate_conditions(statement.conditions, request.context, request.resource,
                                     variables=policy.version == POLICY_VARIABLES_VERSION))
    return all_outcomes(parts)


def _caller_matcher(context: RequestContext) -> PrincipalMatcher:
    """How a Principal entry of an endpoint policy relates to the calling role.

    Through an interface endpoint, an account id (or its root ARN) stands for every principal of
    that account. A role session ARN names one session: it matches only if the role matches
    and then only the session could tell, so it is unknown.
    """
    account = context.values("aws:PrincipalAccount")
    caller = context.principal_arn

    def match(principal: Principal) -> Tri:
        if principal.kind == "*" or (principal.kind == "AWS" and principal.value == "*"):
            return True
        if principal.kind != "AWS":
            return False
        value = principal.value
        whole_account = re.fullmatch(r"(\d{12})|arn:[^:]+:iam::(\d{12}):root", value)
        if whole_account:
            return None if account is None else (whole_account.group(1)
                                                 or whole_account.group(2)) in account
        if caller is None:
            return None
        if value == caller:
            return True
        session = re.fullmatch(r"arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+", value)
        role = re.fullmatch(r"arn:([^:]+):iam::(\d{12}):role/(?:.*/)?([^/]+)", caller)
        if session and role and session.groups() == role.groups():
            return None
        return False

    return match


def _service_matcher(service: str) -> PrincipalMatcher:
    """How a Principal entry of a trust policy relates to a service principal.

    ``"*"`` is everyone (IAM: "all principals", anonymous included). ``{"AWS": "*"}`` is
    documented as every root user, IAM user, role session and federated user of every account,
    not as service principals: whether it admits the service is unknown, never yes.
    """
    def match(principal: Principal) -> Tri:
        if principal.kind == "*":
            return True
        if principal.kind == "AWS" and principal.value == "*":
            return None
        return principal.kind == "Service" and principal.value.lower() == service.lower()

    return match


# --- Deciding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    name: str  # scp | boundary | endpoint_policy | identity | trust
    title: str  # in words, for the detail
    policies: Sequence[Policy]


@dataclass
class _Weighed:
    """The statements of one layer that apply (surely) or may apply, by effect."""

    layer: _Layer
    denies: list[StatementRef] = field(default_factory=list)
    maybe_denies: list[tuple[StatementRef, Outcome]] = field(default_factory=list)
    allows: list[StatementRef] = field(default_factory=list)
    maybe_allows: list[tuple[StatementRef, Outcome]] = field(default_factory=list)

    @property
    def may_allow(self) -> bool:
        return bool(self.allows or self.maybe_allows)


def _weigh(layer: _Layer, request: _Request) -> _Weighed:
    weighed = _Weighed(layer)
    for policy in layer.policies:
        for statement in policy.statements:
            outcome = _applies(policy, statement, request)
            if outcome.holds is False:
                continue
            ref = StatementRef.of(policy, statement)
            deny = statement.effect == "Deny"
            if outcome.holds:
                (weighed.denies if deny else weighed.allows).append(ref)
            else:
                (weighed.maybe_denies if deny else weighed.maybe_allows).append((ref, outcome))
    return weighed


_LACKING_REASON = {"scp": SCP, "boundary": BOUNDARY, "endpoint_policy": ENDPOINT_POLICY,
                   "identity": NO_ALLOW, "trust": NO_ALLOW}


def _decide(layers: list[_Layer], request: _Request, grant_layer: str) -> Decision:
    weighed = [_weigh(layer, request) for layer in layers]
    asked = request.asked
    refused = _denied_or_lacking(weighed, weighed, asked)
    if refused is not None:
        return refused
    uncertain = [pair for layer in weighed for pair in layer.maybe_denies]
    uncertain += [pair for layer in weighed if not layer.allows for pair in layer.maybe_allows]
    if uncertain:
        unresolved = tuple(dict.fromkeys(item for _, outcome in uncertain
                                         for item in outcome.unresolved))
        return Decision(UNKNOWN, CONDITION_NOT_EVALUATED, tuple(ref for ref, _ in uncertain),
                        unresolved, detail=f"whether {asked} is allowed depends on "
                                           f"{'; '.join(unresolved)}")
    allows = next(layer.allows for layer in weighed if layer.layer.name == grant_layer)
    return Decision(ALLOWED, ALLOWED, tuple(allows),
                    detail=f"{asked} is allowed by {allows[0].describe()}")


def by_cause(refused: Sequence[tuple[str, Decision]]) -> list[tuple[Decision, list[str]]]:
    """Refused (action, decision) pairs grouped by cause (outcome, reason, deciding statements,
    unresolved conditions): one finding per cause lists the actions it refuses."""
    groups: dict[tuple, tuple[Decision, list[str]]] = {}
    for action, decision in refused:
        key = (decision.outcome, decision.reason, decision.deciding,
               decision.unresolved_conditions)
        groups.setdefault(key, (decision, []))[1].append(action)
    return list(groups.values())


def _denied_or_lacking(weighed: Sequence[_Weighed], guardrails: Sequence[_Weighed],
                       asked: str) -> Decision | None:
    """An explicit deny in any of ``weighed``, else the first guardrail lacking an allow."""
    denies = list(dict.fromkeys(ref for layer in weighed for ref in layer.denies))
    if denies:
        return Decision(DENIED, EXPLICIT_DENY, tuple(denies),
                        detail=f"{asked} is denied by {denies[0].describe()}")
    lacking = [layer for layer in guardrails if not layer.may_allow]
    if lacking:
        first = lacking[0].layer
        names = ", ".join(policy.name for policy in first.policies) or "none attached"
        return Decision(DENIED, _LACKING_REASON[first.name],
                        lacking_allow=tuple(dict.fromkeys(w.layer.name for w in lacking)),
                        detail=f"no statement of the {first.title} ({names}) allows {asked}")
    return None


def _require_kinds(policies: Sequence[Policy], kinds: tuple[str, ...], role: str) -> None:
    for policy in policies:
        if policy.kind not in kinds:
            raise ValueError(f"policy {policy.name} of kind {policy.kind} cannot serve as {role}")


def _check_action(action: str) -> None:
    if action.count(":") != 1 or "*" in action or "?" in action:
        raise ValueError(f"action {action!r} must be one service:Name action")


def evaluate_action(action: str, resource: str, context: RequestContext,
                    identity: Sequence[Policy], boundary: Policy | None = None,
                    scps: Sequence[Sequence[Policy]] | None = None,
                    endpoint_policy: Policy | None = None) -> Decision:
    """Whether the principal in ``context`` may call ``action`` on ``resource`` ("*" for actions
    without resource-level permissions).

    ``identity``: the role's inline and managed policies. ``scps``: one list of policies per level
    of the organization from the root to the account (None, or [], outside an organization or for
    its management account). ``endpoint_policy``: the policy of the VPC endpoint the call goes
    through (None when it goes through none, or the endpoint has the default full-access policy).
    """
    _check_action(action)
    _require_kinds(identity, IDENTITY_KINDS, "an identity policy")
    _require_kinds([boundary] if boundary else [], ("boundary",), "a permissions boundary")
    _require_kinds([p for level in scps or () for p in level], ("scp",), "an SCP")
    _require_kinds([endpoint_policy] if endpoint_policy else [], ("endpoint",),
                   "an endpoint policy")
    layers = [_Layer("scp", f"service control policies at level {number} of {len(scps)}",
                     level) for number, level in enumerate(scps or (), start=1)]
    if boundary is not None:
        layers.append(_Layer("boundary", "permissions boundary", [boundary]))
    if endpoint_policy is not None:
        layers.append(_Layer("endpoint_policy", "VPC endpoint policy", [endpoint_policy]))
    layers.append(_Layer("identity", "identity policies", list(identity)))
    request = _Request(action, resource, context, _caller_matcher(context),
                       f"{action} on {resource}")
    return _decide(layers, request, "identity")


def trust_allows(trust: Policy, service_principal: str, action: str = "sts:AssumeRole",
                 context: RequestContext | None = None) -> Decision:
    """Whether a role's trust policy lets ``service_principal`` (e.g. ``ec2.amazonaws.com``, or
    ``ssm.amazonaws.com`` for Default Host Management) call ``action`` on the role.

    Without ``context`` nothing about the request is known: any condition makes it unknown.
    """
    _check_action(action)
    _require_kinds([trust], ("trust",), "a trust policy")
    known = context if context is not None else RequestContext(secure_transport=None)
    request = _Request(action, "*", known, _service_matcher(service_principal),
                       f"{service_principal} calling {action}")
    return _decide([_Layer("trust", "trust policy", [trust])], request, "trust")


# --- Resources with their own policy ------------------------------------------------------------

RESOURCE_POLICY = "resource_policy"  # Decision.reason: the resource's policy grants nothing


def _resource_matchers(context: RequestContext) -> tuple[PrincipalMatcher, PrincipalMatcher]:
    """How a Principal of a resource policy relates to the caller: named itself (or everyone),
    and named through its account (which hands the decision to the account's IAM policies)."""
    account = context.values("aws:PrincipalAccount")
    caller = _caller_matcher(context)

    def whole_account(principal: Principal) -> Tri:
        found = re.fullmatch(r"(\d{12})|arn:[^:]+:iam::(\d{12}):root", principal.value)
        if principal.kind != "AWS" or not found:
            return False
        return None if account is None else (found.group(1) or found.group(2)) in account

    def direct(principal: Principal) -> Tri:
        return False if whole_account(principal) is not False else caller(principal)

    return direct, whole_account


def _sure(weighed: _Weighed) -> Tri:
    """Whether the layer allows: surely, maybe (None), or not at all."""
    if weighed.allows:
        return True
    return None if weighed.maybe_allows else False


def evaluate_with_resource_policy(action: str, resource: str, context: RequestContext,
                                  identity: Sequence[Policy], resource_policy: Policy | None, *,
                                  required: bool, boundary: Policy | None = None,
                                  scps: Sequence[Sequence[Policy]] | None = None,
                                  endpoint_policy: Policy | None = None) -> Decision:
    """Whether the principal in ``context`` may call ``action`` on a resource of its own account
    that has a policy of its own.

    ``required`` (a KMS key policy): the resource's policy must allow, either naming the
    principal (then no identity policy is needed) or naming its account (then an identity
    policy must allow too). Otherwise (a bucket policy): an allow that names the principal is
    enough, else an identity policy must allow. An explicit Deny anywhere wins, and every
    guardrail (SCPs, permissions boundary, endpoint policy) must allow in any case. Statements
    whose application the auditor cannot decide make the answer unknown, as in
    ``evaluate_action``.
    """
    _check_action(action)
    _require_kinds(identity, IDENTITY_KINDS, "an identity policy")
    _require_kinds([resource_policy] if resource_policy else [], ("resource",),
                   "a resource policy")
    guardrails = [_Layer("scp", f"service control policies at level {number} of {len(scps)}",
                         level) for number, level in enumerate(scps or (), start=1)]
    if boundary is not None:
        guardrails.append(_Layer("boundary", "permissions boundary", [boundary]))
    if endpoint_policy is not None:
        guardrails.append(_Layer("endpoint_policy", "VPC endpoint policy", [endpoint_policy]))
    asked = f"{action} on {resource}"
    request = _Request(action, resource, context, _caller_matcher(context), asked)
    direct_matcher, account_matcher = _resource_matchers(context)
    resource_layer = _Layer("resource_policy", "resource policy",
                            [resource_policy] if resource_policy else [])
    weighed = [_weigh(layer, request) for layer in guardrails]
    ident = _weigh(_Layer("identity", "identity policies", list(identity)), request)
    direct = _weigh(resource_layer, replace(request, principal=direct_matcher))
    delegated = _weigh(resource_layer, replace(request, principal=account_matcher))
    everything = [*weighed, ident, direct, delegated]
    refused = _denied_or_lacking(everything, weighed, asked)
    if refused is not None:
        return refused
    through_account = all_of([_sure(delegated), _sure(ident)]) if required else _sure(ident)
    grant = any_of([_sure(direct), through_account])
    if grant is False:
        resource_lacks = required and not direct.may_allow and not delegated.may_allow
        missing = ("resource_policy",) if resource_lacks else ("identity",)
        where = (f"the resource policy ({resource_policy.name if resource_policy else 'none'})"
                 if resource_lacks else "the identity policies or the resource policy")
        return Decision(DENIED, RESOURCE_POLICY if resource_lacks else NO_ALLOW,
                        lacking_allow=missing, detail=f"no statement of {where} allows {asked}")
    uncertain = [pair for layer in everything for pair in layer.maybe_denies]
    uncertain += [pair for layer in weighed if not layer.allows for pair in layer.maybe_allows]
    if grant is None:
        uncertain += [pair for layer in (ident, direct, delegated) if not layer.allows
                      for pair in layer.maybe_allows]
    if uncertain:
        unresolved = tuple(dict.fromkeys(item for _, outcome in uncertain
                                         for item in outcome.unresolved))
        return Decision(UNKNOWN, CONDITION_NOT_EVALUATED,
                        tuple(dict.fromkeys(ref for ref, _ in uncertain)), unresolved,
                        detail=f"whether {asked} is allowed depends on "
                               f"{'; '.join(unresolved) or 'a condition'}")
    allows = direct.allows if direct.allows else [*ident.allows, *delegated.allows]
    return Decision(ALLOWED, ALLOWED, tuple(allows),
                    detail=f"{asked} is allowed by {allows[0].describe()}")
