"""Who may connect: may an IAM role or user start a Session Manager shell on the instance?

A person starting a shell session needs ``ssm:StartSession`` on the instance (resource-tag
conditions evaluated with the instance's real tags) and on the default session document
(``SSM-SessionManagerRunShell``), and, when the preferences encrypt sessions, the key's
``kms:GenerateDataKey`` (identity policy and key policy). Service control policies and the
principal's permissions boundary apply as for the agent. Where the person calls from is not
known, so conditions on the caller's network are unknown. With Run As on, the session's OS user
comes from the principal's ``SSMSessionRunAs`` tag, else the preferences' default user.
"""

from __future__ import annotations

import re
from dataclasses import replace

from auditor import aws_facts
from auditor import capability_facts as facts
from auditor.analysis import iam_policy
from auditor.analysis import principal_access as access
from auditor.analysis.capabilities import OperatorResult
from auditor.analysis.iam_policy import Decision, RequestContext
from auditor.analysis.results import Finding
from auditor.analysis.session_manager import granted, key_named
from auditor.model import Estate, Instance
from auditor.vocabulary import FAIL, OK, SESSION_MANAGER, UNKNOWN

_PRINCIPAL_ARN = re.compile(
    r"arn:[^:]+:(?:iam|sts)::(?P<account>\d{12}):(?P<kind>role|user|assumed-role)/(?P<rest>.+)")


def parse_principal(arn: str) -> tuple[str, str, str] | None:
    """(account, "role" | "user", name) of a role, user or assumed-role ARN; None otherwise."""
    found = _PRINCIPAL_ARN.fullmatch(arn)
    if found is None:
        return None
    kind, rest = found.group("kind"), found.group("rest")
    if kind == "assumed-role":
        return found.group("account"), "role", rest.split("/")[0]
    return found.group("account"), kind, rest.rsplit("/", 1)[-1]


def evaluate(estate: Estate, instance: Instance, arn: str, memo: dict) -> OperatorResult:
    parsed = parse_principal(arn)
    if parsed is None:
        return _undecided(arn, "unknown", f"{arn} is not the ARN of an IAM role or user")
    account, kind, name = parsed
    if estate.account_id and account != estate.account_id:
        return _undecided(arn, kind, f"{arn} is in account {account}, not {estate.account_id}: "
                                     "its policies are not in the data")
    readable = (estate.unavailable.get("iam_authorization") if kind == "role"
                else estate.unavailable.get("iam_principals"))
    if readable:
        return _undecided(arn, kind, f"the account's {kind}s could not be read ({readable})")
    try:
        who = access.principal(estate, kind, name, memo)
    except ValueError as error:
        return _undecided(arn, kind, f"a policy of {kind} {name} cannot be read: {error}")
    if who is None:
        finding = Finding("OPERATOR_CANNOT_START_SESSION", arn,
                          f"{kind.capitalize()} {name} does not exist in account {account}.",
                          details={"principal": arn, "fix": "principal"},
                          capability=SESSION_MANAGER)
        return OperatorResult(arn, kind, FAIL, [f"no {kind} {name} in the data"], [finding])
    if who.unread:
        return _undecided(arn, kind, f"the documents of {', '.join(who.unread)} are not known")
    return _evaluate(estate, instance, arn, who, memo)


def listing(estate: Estate, instance: Instance, memo: dict) -> list[OperatorResult]:
    """Every role and user of the account that may (ok) or might (unknown) start a session."""
    found = []
    principals = [("role", role.arn) for role in estate.roles.values()]
    principals += [("user", user.arn) for user in (estate.session.users or {}).values()]
    for _, arn in sorted(principals):
        result = evaluate(estate, instance, arn, memo)
        if result.status != FAIL:
            found.append(result)
    return found


def _evaluate(estate: Estate, instance: Instance, arn: str, who: access.Principal,
              memo: dict) -> OperatorResult:
    account = estate.account_id or who.arn.split(":")[4]
    result = OperatorResult(arn, who.kind, OK)
    base = RequestContext(principal_arn=who.arn, principal_account=account,
                          region=estate.region, via_aws_service=False, network_path_known=False)
    instance_arn = aws_facts.instance_arn(estate.region, account, instance.instance_id)
    targets = [(instance_arn, replace(base, instance_tags=instance.tags,
                                      instance_arn=instance_arn)),
               (facts.session_document_arn(estate.region, account), base)]
    refused: list[tuple[str, Decision]] = []
    for resource, context in targets:
        decision = access.decide(estate, who, facts.OPERATOR_SESSION_ACTION, resource, context,
                                 memo, instance_id=instance.instance_id)
        result.checks.append(f"{facts.OPERATOR_SESSION_ACTION} on {resource}: "
                             f"{decision.outcome} ({decision.detail})")
        if decision.outcome != iam_policy.ALLOWED:
            refused.append((resource, decision))
    result.findings += _refusals("OPERATOR_CANNOT_START_SESSION", arn, who, refused,
                                 facts.OPERATOR_SESSION_ACTION)
    result.findings += _kms(estate, instance, arn, who, base, result, memo)
    result.findings += _run_as(estate, arn, who, result)
    errors = any(f.severity == "error" for f in result.findings)
    warnings = any(f.severity == "warning" for f in result.findings)
    result.status = FAIL if errors else (UNKNOWN if warnings else OK)
    return result


def _kms(estate: Estate, instance: Instance, arn: str, who: access.Principal,
         base: RequestContext, result: OperatorResult, memo: dict) -> list[Finding]:
    preferences = estate.session.preferences
    if preferences is None:
        return [_warning("DATA_UNAVAILABLE", facts.SESSION_DOCUMENT, arn,
                         "The Session Manager preferences could not be read: whether sessions "
                         "need a KMS key is unknown.")]
    if not preferences.exists or not preferences.kms_key_id:
        return []
    key = key_named(estate, preferences.kms_key_id)
    if key is None or not key.exists or key.policy is None or not key.arn:
        return [_warning("DATA_UNAVAILABLE", preferences.kms_key_id, arn,
                         f"KMS key {preferences.kms_key_id} or its key policy is not known.")]
    policy = access.resource_policy(key.policy, "key policy", key.reference, memo)
    context = replace(base, extra={"kms:CallerAccount": [base.principal_account or ""]})
    refused = []
    for action in facts.OPERATOR_KMS_ACTIONS:
        decision = access.decide(estate, who, action, key.arn, context, memo,
                                 resource_policy=policy, required=True,
                                 instance_id=instance.instance_id)
        decision = granted(key, who.arn, action, decision)
        result.checks.append(f"{action} on {key.arn}: {decision.outcome} ({decision.detail})")
        if decision.outcome != iam_policy.ALLOWED:
            refused.append((key.arn, decision))
    return _refusals("OPERATOR_KMS_DENIED", arn, who, refused, "kms:GenerateDataKey")


def _run_as(estate: Estate, arn: str, who: access.Principal,
            result: OperatorResult) -> list[Finding]:
    preferences = estate.session.preferences
    if preferences is None or not preferences.exists or not preferences.run_as_enabled:
        return []
    tag = dict(who.tags).get(facts.RUN_AS_TAG)
    result.run_as = tag or preferences.run_as_default_user or None
    if result.run_as:
        result.checks.append(f"Run As: sessions run as OS user {result.run_as}")
        return []
    return [Finding("OPERATOR_CANNOT_START_SESSION", arn,
                    f"Run As is on, {who.kind} {who.name} has no {facts.RUN_AS_TAG} tag and the "
                    "preferences name no default user: its sessions are refused.",
                    details={"principal": arn, "fix": "run_as_tag"},
                    capability=SESSION_MANAGER)]


def _refusals(code: str, arn: str, who: access.Principal,
              refused: list[tuple[str, Decision]], action: str) -> list[Finding]:
    findings = []
    for resource, decision in refused:
        statements = [ref.describe() for ref in decision.deciding]
        if decision.outcome == iam_policy.UNKNOWN:
            findings.append(_warning(
                "CONDITION_NOT_EVALUATED", who.name, arn,
                f"Whether {who.kind} {who.name} may call {action} on {resource} depends on "
                f"{', '.join(decision.unresolved_conditions) or 'a condition'}, which the "
                "auditor cannot know.", statements=statements))
            continue
        findings.append(Finding(
            code, arn, f"{who.kind.capitalize()} {who.name} may not call {action} on "
            f"{resource}: {decision.detail}.",
            details={"principal": arn, "action": action, "resource": resource,
                     "statements": statements, "reason": decision.reason},
            capability=SESSION_MANAGER))
    return findings


def _warning(code: str, resource: str, arn: str, message: str, **details: object) -> Finding:
    return Finding(code, resource, message, None, "warning", {"principal": arn, **details},
                   capability=SESSION_MANAGER)


def _undecided(arn: str, kind: str, why: str) -> OperatorResult:
    finding = _warning("DATA_UNAVAILABLE", arn, arn, f"Cannot evaluate {arn}: {why}.")
    return OperatorResult(arn, kind, UNKNOWN, [why], [finding])
