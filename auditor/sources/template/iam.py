"""IAM resources of a template as GetAccountAuthorizationDetails entries.

A role's name is its ``RoleName`` or, as CloudFormation would generate one, stands in for it
with the logical id. AWS managed policies a template attaches by ARN get their documents from
``auditor.aws_managed_policies`` (the SSM-relevant ones) or from the base estate's IAM answer;
any other stays unread, which the audit reports as unknown rather than assuming its content.
"""

from __future__ import annotations

from typing import Any

from auditor import aws_facts, aws_managed_policies
from auditor.policy_patterns import action_matches
from auditor.sources.template.context import Reader, Translation
from auditor.sources.template.intrinsics import NO_VALUE, first_unresolved

# Every action the proof asks about: a statement naming none of them cannot change a verdict.
AGENT_ACTIONS = (*aws_facts.HEARTBEAT_ACTIONS,
                 *(action for actions in aws_facts.CHANNEL_ACTIONS.values() for action in actions),
                 *aws_facts.SESSION_MANAGER_ACTIONS)

IAM_DATE = "2026-01-01T00:00:00+00:00"


def role(t: Translation, reader: Reader) -> None:
    name = reader.resource_id
    path = reader.value("Path", "/") or "/"
    trust = reader.value("AssumeRolePolicyDocument", required=True)
    problem = document_problem(trust) if trust is not None else None
    if problem:
        reader.fail(f"{reader.logical_id}.AssumeRolePolicyDocument: {problem}, which IAM "
                    "refuses")
        trust = None
    inline = _inline_policies(reader)
    attached = reader.value("ManagedPolicyArns", []) or []
    boundary = reader.value("PermissionsBoundary")
    entry: dict[str, Any] = {
        "Path": path, "RoleName": name, "RoleId": f"AROA{name.upper()[:17]}",
        "Arn": role_arn(t, name, path), "CreateDate": IAM_DATE,
        "AssumeRolePolicyDocument": trust or {"Statement": []},
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": p.get("PolicyName", f"policy{i}"),
                            "PolicyDocument": p.get("PolicyDocument", {})}
                           for i, p in enumerate(inline) if isinstance(p, dict)],
        "AttachedManagedPolicies": [], "Tags": [],
    }
    t.roles[name] = t.own(entry)
    for arn in attached:
        attach(t, entry, arn)
    if boundary:
        known_policy(t, boundary)
        entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                        "PermissionsBoundaryArn": boundary}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _irrelevant(statement: Any, reader: Reader) -> bool:
    """Whether a statement names only actions the proof never asks about (an ``Action`` that
    resolves and matches none of the agent's), so that an unresolved resource or condition in
    it cannot change a verdict."""
    if not isinstance(statement, dict) or "Action" not in statement:
        return False  # NotAction, or no action: it may cover the agent's
    actions = reader.scope.resolver.resolve(statement["Action"])
    if first_unresolved(actions) is not None:
        return False
    return not any(action_matches(str(pattern), action)
                   for pattern in _as_list(actions) for action in AGENT_ACTIONS)


def policy_document(reader: Reader, raw: Any, what: str) -> Any:
    """A policy document resolved statement by statement: a statement with an unresolved value
    is left out, silently when it names none of the agent's actions (a log group's ARN), else
    with the resource marked. None (and marked) when the document itself cannot be read."""
    resolve = reader.scope.resolver.resolve
    document = raw if isinstance(raw, dict) and not _is_function(raw) else resolve(raw)
    if not isinstance(document, dict) or "Statement" not in document:
        found = first_unresolved(document)
        reader.fail(f"{what}: {found.reason if found else 'not a policy document'}")
        return None
    statements = document["Statement"]
    if isinstance(statements, dict) and _is_function(statements):
        statements = resolve(statements)
    kept = []
    for statement in _as_list(statements):
        value = resolve(statement)
        if value is NO_VALUE:
            continue
        found = first_unresolved(value)
        problem = statement_problem(value) if found is None else None
        if problem:
            reader.fail(f"{what}: {problem}, which IAM refuses")
        elif found is None:
            kept.append(value)
        elif not _irrelevant(statement, reader):
            reader.fail(f"{what}: {found.reason}")
    resolved = {key: resolve(item) for key, item in document.items() if key != "Statement"}
    return {**resolved, "Statement": kept}


def _texts(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and bool(value)
                                      and all(isinstance(item, str) for item in value))


def statement_problem(statement: Any) -> str | None:
    """Why IAM would refuse a policy statement (the shape the evaluator relies on), or None:
    an Effect that is neither Allow nor Deny, actions, resources or principals that are not
    text, a condition that is not a mapping of mappings."""
    if not isinstance(statement, dict):
        return f"a statement that is not a mapping ({statement!r})"[:200]
    if statement.get("Effect") not in ("Allow", "Deny"):
        return f"a statement whose Effect is {statement.get('Effect')!r}"[:200]
    if sum(key in statement for key in ("Action", "NotAction")) != 1:
        return "a statement without exactly one of Action and NotAction"
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in statement and not _texts(statement[key]):
            return f"a statement whose {key} is not text ({statement[key]!r})"[:200]
    for key in ("Principal", "NotPrincipal"):
        principal = statement.get(key, "*")
        if principal != "*" and not (isinstance(principal, dict) and principal
                                     and all(_texts(v) for v in principal.values())):
            return f"a statement whose {key} is neither * nor a mapping of text"
    condition = statement.get("Condition", {})
    if not (isinstance(condition, dict)
            and all(isinstance(test, dict) for test in condition.values())):
        return "a statement whose Condition is not a mapping of mappings"
    return None


def document_problem(document: Any) -> str | None:
    """Why IAM would refuse a whole policy document (a trust or endpoint policy), or None."""
    if not isinstance(document, dict) or "Statement" not in document:
        return "not a policy document"
    statements = document["Statement"]
    for statement in statements if isinstance(statements, list) else [statements]:
        problem = statement_problem(statement)
        if problem:
            return problem
    return None


def _is_function(value: dict) -> bool:
    return len(value) == 1 and (next(iter(value)).startswith("Fn::") or "Ref" in value)


def _inline_policies(reader: Reader) -> list[dict]:
    """A role's ``Policies``, each document resolved statement by statement."""
    raw = reader.properties.get("Policies")
    if raw is None:
        return []
    policies = raw if isinstance(raw, list) else reader.value("Policies", [])
    found = []
    for index, policy in enumerate(policies or []):
        if not isinstance(policy, dict) or _is_function(policy):
            policy = reader.scope.resolver.resolve(policy)  # Fn::If and the like
        if policy is NO_VALUE:
            continue
        if not isinstance(policy, dict):
            reader.fail(f"{reader.logical_id}.Policies[{index}]: "
                        f"{getattr(policy, 'reason', 'not a policy')}")
            continue
        name = reader.scope.resolver.resolve(policy.get("PolicyName", f"policy{index}"))
        name = name if isinstance(name, str) else f"policy{index}"
        document = policy_document(reader, policy.get("PolicyDocument"),
                                   f"{reader.logical_id}.Policies[{name}]")
        if document is not None:
            found.append({"PolicyName": name, "PolicyDocument": document})
    return found


def role_arn(t: Translation, name: str, path: str = "/") -> str:
    return f"arn:{aws_facts.partition(t.region)}:iam::{t.account_id}:role{path}{name}"


def known_policy(t: Translation, arn: str) -> None:
    """Make sure a bundled AWS managed policy's document is there when it is attached."""
    if arn in t.policies:
        return
    name = arn.rsplit("/", 1)[-1]
    document = aws_managed_policies.AWS_MANAGED_POLICIES.get(name)
    if document is not None and arn == aws_managed_policies.arn(name,
                                                                aws_facts.partition(t.region)):
        t.policies[arn] = t.own(_policy_detail(arn, name, document, "/"))


def _policy_detail(arn: str, name: str, document: Any, path: str) -> dict:
    return {"PolicyName": name, "Arn": arn, "Path": path, "DefaultVersionId": "v1",
            "AttachmentCount": 1, "IsAttachable": True, "CreateDate": IAM_DATE,
            "PolicyVersionList": [{"Document": document, "VersionId": "v1",
                                   "IsDefaultVersion": True, "CreateDate": IAM_DATE}]}


def attach(t: Translation, role_entry: dict, arn: str) -> None:
    known_policy(t, arn)
    name = (t.policies.get(arn) or {}).get("PolicyName") or arn.rsplit("/", 1)[-1]
    if all(a["PolicyArn"] != arn for a in role_entry["AttachedManagedPolicies"]):
        role_entry["AttachedManagedPolicies"].append({"PolicyName": name, "PolicyArn": arn})


def _target_roles(t: Translation, reader: Reader) -> list[dict]:
    """The roles a policy resource names, template or existing; unknown ones marked."""
    names = reader.value("Roles", []) or []
    if "Roles" in reader.properties and reader.value("Roles") is None:
        reader.fail_everywhere("the roles it applies to are unknown")
    entries = []
    for name in names:
        entry = t.mutable_role(name)
        if entry is None:
            t.mark(name, f"{reader.logical_id} names role {name}, which "
                         f"{t.why_missing('iam_authorization', name)}")
            continue
        entries.append(entry)
    return entries


def managed_policy(t: Translation, reader: Reader) -> None:
    arn = reader.resource_id
    roles = _target_roles(t, reader)
    for entry in roles:
        reader.also_marks(entry["RoleName"])
    document = policy_document(reader, reader.properties.get("PolicyDocument"),
                               f"{reader.logical_id}.PolicyDocument")
    path = reader.value("Path", "/") or "/"
    t.policies[arn] = t.own(_policy_detail(arn, arn.rsplit("/", 1)[-1], document or {}, path))
    for entry in roles:
        attach(t, entry, arn)


def managed_policy_arn(t: Translation, name: str, path: str = "/") -> str:
    return f"arn:{aws_facts.partition(t.region)}:iam::{t.account_id}:policy{path}{name}"


def inline_policy(t: Translation, reader: Reader) -> None:
    """AWS::IAM::Policy (Roles) and AWS::IAM::RolePolicy (RoleName)."""
    if "RoleName" in reader.properties:
        name = reader.value("RoleName")
        if name is None:
            reader.fail_everywhere("the role it applies to is unknown")
            return
        reader.properties = {**reader.properties, "Roles": [name]}
    roles = _target_roles(t, reader)
    for entry in roles:
        reader.also_marks(entry["RoleName"])
    name = reader.value("PolicyName", reader.logical_id) or reader.logical_id
    if "PolicyDocument" not in reader.properties:
        reader.fail(f"{reader.logical_id} has no PolicyDocument")
        return
    document = policy_document(reader, reader.properties["PolicyDocument"],
                               f"{reader.logical_id}.PolicyDocument")
    if document is None:
        return
    for entry in roles:
        entry["RolePolicyList"] = [p for p in entry.get("RolePolicyList") or []
                                   if p["PolicyName"] != name]
        entry["RolePolicyList"].append({"PolicyName": name, "PolicyDocument": document})


def instance_profile_arn(t: Translation, name: str, path: str = "/") -> str:
    return (f"arn:{aws_facts.partition(t.region)}:iam::{t.account_id}:instance-profile"
            f"{path}{name}")


def role_name_of(arn: Any) -> str | None:
    """The role name an ARN (``arn:aws:iam::111122223333:role/path/Name``) names, or None."""
    if not isinstance(arn, str) or ":role/" not in arn:
        return None
    return arn.rsplit("/", 1)[-1] or None


def profile_for_role(t: Translation, profile_name: str, role_name: str) -> str | None:
    """An instance profile a service makes for a role (EKS for a node group's NodeRole): its
    ARN, with the role holding it; None when the role is not known."""
    entry = t.mutable_role(role_name)
    if entry is None:
        return None
    arn = instance_profile_arn(t, profile_name)
    t.profiles[profile_name] = arn
    entry.setdefault("InstanceProfileList", []).append({
        "Path": "/", "InstanceProfileName": profile_name, "Arn": arn, "CreateDate": IAM_DATE,
        "InstanceProfileId": f"AIPA{profile_name.upper()[:17]}",
        "Roles": [{"RoleName": entry["RoleName"], "Arn": entry["Arn"],
                   "Path": entry.get("Path", "/")}]})
    return arn


def instance_profile(t: Translation, reader: Reader) -> None:
    name = reader.resource_id
    path = reader.value("Path", "/") or "/"
    arn = instance_profile_arn(t, name, path)
    t.profiles[name] = arn
    roles = _target_roles(t, reader)
    if "Roles" in reader.properties and reader.value("Roles") is None:
        reader.fail(f"{reader.logical_id}: its role is unknown")
    for entry in roles:
        entry.setdefault("InstanceProfileList", []).append({
            "Path": path, "InstanceProfileName": name, "Arn": arn, "CreateDate": IAM_DATE,
            "InstanceProfileId": f"AIPA{name.upper()[:17]}",
            "Roles": [{"RoleName": r["RoleName"], "Arn": r["Arn"], "Path": r.get("Path", "/")}
                      for r in roles]})
