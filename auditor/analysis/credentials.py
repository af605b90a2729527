"""The credential chain as SSM Agent walks it, and what the credentials it ends up with allow.

On EC2 the agent tries the instance profile first. It falls back to Default Host Management
(DHMC) only when the profile fails with AccessDenied, ``EC2RoleRequestError`` (no role to get
credentials for) or ``AssumeRoleUnauthorizedAccess`` (the role does not trust EC2); a profile
that allows the heartbeat means DHMC is never used. Both need the metadata service.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from auditor import aws_facts
from auditor.analysis import iam_policy
from auditor.analysis.iam_policy import Decision, Policy, RequestContext
from auditor.analysis.results import Finding, ServiceProof
from auditor.analysis.ssm_view import message_channels
from auditor.errors import UsageError
from auditor.model import Estate, Instance, Role
from auditor.sources.bounded_read import parse_json
from auditor.vocabulary import FAIL, OK, UNKNOWN

SOURCE_PROFILE = "instance_profile"
SOURCE_DHMC = "dhmc"
SOURCE_NONE = "none"

_REASON_CODES = {
    iam_policy.EXPLICIT_DENY: "EXPLICIT_DENY",
    iam_policy.BOUNDARY: "PERMISSIONS_BOUNDARY_DENIES",
    iam_policy.SCP: "SCP_DENIES",
    iam_policy.ENDPOINT_POLICY: "ENDPOINT_POLICY_DENIES",
    iam_policy.NO_ALLOW: "MISSING_PERMISSIONS",
}

# An explicit Deny is coded by the kind of policy that holds it (identity policies: EXPLICIT_DENY).
_DENY_CODES = {"scp": "SCP_DENIES", "boundary": "PERMISSIONS_BOUNDARY_DENIES",
               "endpoint": "ENDPOINT_POLICY_DENIES"}


@dataclass
class PermissionsResult:
    status: str  # OK | FAIL | UNKNOWN
    # Per service the agent calls: OK when every action it needs there is allowed.
    by_service: dict[str, str] = field(default_factory=dict)
    missing_actions: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class CredentialResult:
    status: str  # OK | FAIL | UNKNOWN
    source: str  # SOURCE_PROFILE | SOURCE_DHMC | SOURCE_NONE
    role_arn: str | None = None
    chain: list[str] = field(default_factory=list)  # the steps as the agent walks them
    findings: list[Finding] = field(default_factory=list)
    permissions: PermissionsResult = field(
        default_factory=lambda: PermissionsResult(UNKNOWN))


@dataclass
class _Attempt:
    """One credential source tried: did it yield a role, and may the agent fall back after it?"""

    status: str
    role: Role | None = None
    falls_back: bool = False
    findings: list[Finding] = field(default_factory=list)
    step: str = ""
    # For an UNKNOWN that rests on one undecided condition: the attempt if it holds, and if not.
    branches: tuple[_Attempt, ...] = ()


def _finding(code: str, resource: str, message: str, severity: str = "error",
             service: str | None = None, **details: object) -> Finding:
    return Finding(code, resource, message, service, severity, dict(details))


def _iam_unreadable(estate: Estate) -> str | None:
    return estate.unavailable.get("iam_authorization")


# --- Reading roles and policies --------------------------------------------------------------


def _trust_decision(role: Role, principal: str, memo: dict) -> Decision:
    key = ("trust", role.name, principal)
    if key not in memo:
        memo[key] = _read_trust(role, principal)
    return memo[key]


def _read_trust(role: Role, principal: str) -> Decision:
    try:
        if role.trust_policy is None:
            raise ValueError(f"the trust policy of role {role.name} was not read")
        trust = iam_policy.parse_policy(role.trust_policy, f"{role.name} trust policy",
                                        "trust", f"role {role.name}")
    except ValueError as error:
        return Decision(iam_policy.UNKNOWN, iam_policy.CONDITION_NOT_EVALUATED,
                        detail=str(error))
    return iam_policy.trust_allows(trust, principal)


def _role_policies(estate: Estate, role: Role) -> tuple[list[Policy], Policy | None, list[str]]:
    """(identity policies, permissions boundary, policies whose document is unknown)."""
    where = f"role {role.name}"
    identity = [iam_policy.parse_policy(document, name, "inline", where)
                for name, document in role.inline_policies.items()]
    unread: list[str] = []
    for arn in role.attached_policy_arns:
        policy = estate.managed_policies.get(arn)
        if policy is None or policy.document is None:
            unread.append(arn)
            continue
        identity.append(iam_policy.parse_policy(policy.document, policy.name, "managed", where))
    boundary = None
    if role.permissions_boundary_arn:
        policy = estate.managed_policies.get(role.permissions_boundary_arn)
        if policy is None or policy.document is None:
            unread.append(role.permissions_boundary_arn)
        else:
            boundary = iam_policy.parse_policy(policy.document, policy.name, "boundary", where)
    return identity, boundary, unread


def _endpoint_policy(estate: Estate, proof: ServiceProof) -> tuple[Policy | None, str | None]:
    endpoint = estate.vpc_endpoints.get(proof.endpoint_id or "")
    if endpoint is None or not endpoint.policy_document:
        return None, None
    policy = iam_policy.parse_policy(endpoint.policy_document, endpoint.endpoint_id, "endpoint",
                                     endpoint.endpoint_id)
    return policy, endpoint.vpc_id


def _service_control_policies(estate: Estate) -> list[list[Policy]] | None:
    if estate.service_control_policies is None:
        return None
    return [[iam_policy.parse_policy(document, f"SCP {index + 1}", "scp", f"level {level + 1}")
             for index, document in enumerate(documents)]
            for level, documents in enumerate(estate.service_control_policies)]


# Estate.unavailable kinds that leave the service control policies unread (sources.api_calls).
_SCP_KINDS = ("organization", "organization_parents", "scp_attachments", "scp_documents")


def _scps_unread(estate: Estate, role: Role) -> list[Finding]:
    """A warning when the SCPs could not be read: the permissions are proven without them.

    Deliberately not ``unknown``: member accounts may not read SCPs (only the management account
    or a delegated administrator may), so that would turn every verdict there to unknown.
    """
    if estate.service_control_policies is not None:
        return []
    reason = next((estate.unavailable[kind] for kind in _SCP_KINDS
                   if kind in estate.unavailable), "not in the collected data")
    account = estate.account_id or role.arn.split(":")[4]
    return [_finding(
        "DATA_UNAVAILABLE", account,
        f"The service control policies of account {account} could not be read ({reason}): "
        "an SCP deny of the agent's actions cannot be ruled out, so the permissions of role "
        f"{role.name} are proven without them.", "warning")]


# --- Permissions -----------------------------------------------------------------------------


def _refusal_findings(role: Role, service: str, refused: list[tuple[str, Decision]],
                      severity: str, endpoint_id: str | None) -> list[Finding]:
    """One finding per cause (the deciding statements, or the layer lacking an allow), listing
    the actions it refuses. An endpoint policy's refusal names the endpoint, whose policy is
    the thing to change."""
    findings = []
    for decision, actions in iam_policy.by_cause(refused):
        listed = ", ".join(actions)
        statements = [ref.describe() for ref in decision.deciding]
        if decision.outcome == iam_policy.UNKNOWN:
            conditions = ", ".join(decision.unresolved_conditions) or "a condition"
            findings.append(_finding(
                "CONDITION_NOT_EVALUATED", role.name,
                f"Whether role {role.name} may call {listed} depends on {conditions}, which "
                f"the auditor cannot know ({'; '.join(statements) or decision.detail}).",
                "warning", service, actions=actions,
                conditions=list(decision.unresolved_conditions)))
            continue
        if statements:
            why = "denied by " + "; ".join(statements)
        elif decision.reason == iam_policy.NO_ALLOW:
            why = f"no policy of role {role.name} allows {'it' if len(actions) == 1 else 'them'}"
        else:
            why = decision.detail or f"no {decision.reason.replace('_', ' ')} allows it"
        code = _REASON_CODES.get(decision.reason, "MISSING_PERMISSIONS")
        if decision.reason == iam_policy.EXPLICIT_DENY and decision.deciding:
            code = _DENY_CODES.get(decision.deciding[0].kind, code)
        resource = endpoint_id if code == "ENDPOINT_POLICY_DENIES" and endpoint_id else role.name
        findings.append(_finding(code, resource,
                                 f"Role {role.name} may not call {listed}: {why}.",
                                 severity, service, actions=actions, statements=statements))
    return findings


def _refusal_severity(service: str, status: str, channels: tuple[str, ...]) -> str:
    """A refused channel blocks only when no channel is left; ec2messages is the fallback."""
    if service == aws_facts.HEARTBEAT_SERVICE or status == FAIL:
        return "error"
    if service not in channels:  # a channel this agent does not use
        return "info"
    return "warning" if service == channels[0] else "info"


# Text that lets a statement tell one instance from another, in its Resource or Condition:
# the instance's ARN or id, its tags, policy variables.
_INSTANCE_MARKERS = ("instance", "i-", "resourcetag", "${")


def _scoping_text(document: object) -> str:
    """The Resource, NotResource and Condition parts of a policy document, as lower text."""
    if isinstance(document, str):
        try:  # within the reader's limits, as every policy text is read
            document = parse_json(document, "policy")
        except UsageError:
            return document.lower()  # unreadable here: count it as possibly instance-bound
    statements = document.get("Statement", []) if isinstance(document, dict) else document
    if isinstance(statements, dict):
        statements = [statements]
    parts = [{key: statement.get(key) for key in ("Resource", "NotResource", "Condition")}
             if isinstance(statement, dict) else statement
             for statement in statements or []]
    return json.dumps(parts, default=str).lower()


def _instance_sensitive(estate: Estate, role: Role, services: dict[str, ServiceProof]) -> bool:
    documents: list[object] = list(role.inline_policies.values())
    documents += [estate.managed_policies[arn].document for arn in
                  [*role.attached_policy_arns, role.permissions_boundary_arn]
                  if arn in estate.managed_policies]
    documents += [estate.vpc_endpoints[proof.endpoint_id].policy_document
                  for proof in services.values() if proof.endpoint_id in estate.vpc_endpoints]
    documents += [doc for level in estate.service_control_policies or [] for doc in level]
    return any(marker in _scoping_text(document) for document in documents
               for marker in _INSTANCE_MARKERS)


def evaluate_permissions(estate: Estate, instance: Instance, role: Role,
                         services: dict[str, ServiceProof],
                         memo: dict | None = None) -> PermissionsResult:
    """What the role lets the agent do, through the endpoints its traffic takes.

    ``memo`` shares answers between instances: unless a policy can tell instances apart, the
    answer depends only on the role and the endpoints the calls travel through.
    """
    memo = {} if memo is None else memo
    paths = tuple((name, proof.endpoint_id, proof.status == UNKNOWN)
                  for name, proof in services.items())
    sensitive_key = ("sensitive", role.name, paths)
    if sensitive_key not in memo:
        memo[sensitive_key] = _instance_sensitive(estate, role, services)
    key = ("permissions", role.name, paths, message_channels(estate, instance),
           instance.instance_id if memo[sensitive_key] else None)
    if key not in memo:
        memo[key] = _guarded_permissions(estate, instance, role, services)
    return memo[key]


def _guarded_permissions(estate: Estate, instance: Instance, role: Role,
                         services: dict[str, ServiceProof]) -> PermissionsResult:
    try:
        return _permissions(estate, instance, role, services)
    except ValueError as error:  # a policy document IAM would not have stored
        return PermissionsResult(UNKNOWN, findings=[_finding(
            "DATA_UNAVAILABLE", role.name, f"A policy that applies to role {role.name} cannot "
            f"be read: {error}.", "warning")])


def _permissions(estate: Estate, instance: Instance, role: Role,
                 services: dict[str, ServiceProof]) -> PermissionsResult:
    identity, boundary, unread = _role_policies(estate, role)
    if unread:
        reason = _iam_unreadable(estate) or "not in the collected data"
        message = (f"The documents of {', '.join(unread)} (policies of role {role.name}) "
                   f"could not be read ({reason}).")
        return PermissionsResult(UNKNOWN, findings=[_finding("DATA_UNAVAILABLE", role.name,
                                                             message, "warning")])
    account = estate.account_id or role.arn.split(":")[4]
    required = {aws_facts.HEARTBEAT_SERVICE: aws_facts.HEARTBEAT_ACTIONS,
                **aws_facts.CHANNEL_ACTIONS}
    scps = _service_control_policies(estate)
    result = PermissionsResult(UNKNOWN)
    refused: dict[str, list[tuple[str, Decision]]] = {}
    for service, actions in required.items():
        endpoint_policy, source_vpc = _endpoint_policy(estate, services[service])
        proof = services[service]
        context = RequestContext(
            principal_arn=role.arn, principal_account=account, region=estate.region,
            instance_arn=aws_facts.instance_arn(estate.region, account, instance.instance_id),
            instance_tags=instance.tags,
            source_vpc=source_vpc, source_vpce=proof.endpoint_id, via_aws_service=False,
            # Through custom DNS or a transit gateway, an endpoint elsewhere may carry it.
            network_path_known=proof.status != UNKNOWN or proof.endpoint_id is not None)
        statuses = []
        refused[service] = []
        for action in actions:
            resource = (context.instance_arn if action in aws_facts.INSTANCE_RESOURCE_ACTIONS
                        else "*")
            decision = iam_policy.evaluate_action(
                action, resource or "*", context, identity, boundary, scps, endpoint_policy)
            statuses.append(_status(decision))
            if decision.outcome != iam_policy.ALLOWED:
                refused[service].append((action, decision))
                if decision.outcome == iam_policy.DENIED:
                    result.missing_actions.append(action)
        result.by_service[service] = _all_of(statuses)
    channels = message_channels(estate, instance)
    result.status = _permissions_status(result.by_service, channels)
    if result.status == OK:
        result.findings += _scps_unread(estate, role)
    for service, decisions in refused.items():
        result.findings += _refusal_findings(role, service, decisions,
                                             _refusal_severity(service, result.status, channels),
                                             services[service].endpoint_id)
    return result


def _status(decision: Decision) -> str:
    return {iam_policy.ALLOWED: OK, iam_policy.DENIED: FAIL}.get(decision.outcome, UNKNOWN)


def _all_of(statuses: Sequence[str]) -> str:
    if FAIL in statuses:
        return FAIL
    return UNKNOWN if UNKNOWN in statuses else OK


def _permissions_status(by_service: dict[str, str], channels_used: tuple[str, ...]) -> str:
    heartbeat = by_service[aws_facts.HEARTBEAT_SERVICE]
    channels = [by_service[channel] for channel in channels_used]
    if heartbeat == FAIL or all(status == FAIL for status in channels):
        return FAIL
    if heartbeat == OK and OK in channels:
        return OK
    return UNKNOWN


# --- The chain -------------------------------------------------------------------------------


def _instance_profile(estate: Estate, instance: Instance, memo: dict) -> _Attempt:
    arn = instance.instance_profile_arn
    if not arn:
        return _Attempt(FAIL, falls_back=True, step="no instance profile", findings=[_finding(
            "NO_INSTANCE_PROFILE", instance.instance_id,
            f"{instance.instance_id} has no instance profile: the metadata service has no "
            "role credentials to give the agent.")])
    unreadable = _iam_unreadable(estate)
    if unreadable:
        return _Attempt(UNKNOWN, step="instance profile unreadable", findings=[_finding(
            "DATA_UNAVAILABLE", arn, f"Cannot read IAM ({unreadable}), so the role of "
            f"instance profile {arn} is unknown.", "warning")])
    profile = estate.instance_profiles.get(arn)
    role_name = profile.role_names[0] if profile and profile.role_names else None
    if role_name is None:
        # IAM lists instance profiles only through their roles: a profile it does not list
        # holds no role (or no longer exists).
        return _Attempt(FAIL, falls_back=True, step="instance profile without role",
                        findings=[_finding(
                            "INSTANCE_PROFILE_WITHOUT_ROLE", arn,
                            f"Instance profile {arn.rsplit('/', 1)[-1]} holds no role, so the "
                            "metadata service has no credentials to give the agent.")])
    role = estate.roles.get(role_name)
    if role is None:
        return _Attempt(UNKNOWN, step="role unreadable", findings=[_finding(
            "DATA_UNAVAILABLE", role_name, f"Role {role_name} of instance profile {arn} is "
            "not in the collected data.", "warning")])
    trust = _trust_decision(role, aws_facts.EC2_SERVICE_PRINCIPAL, memo)
    if trust.outcome == iam_policy.DENIED:
        return _Attempt(FAIL, role, falls_back=True, step="role does not trust EC2",
                        findings=[_finding(
                            "TRUST_POLICY_DENIES_EC2", role.name,
                            f"The trust policy of role {role.name} does not let "
                            f"{aws_facts.EC2_SERVICE_PRINCIPAL} call sts:AssumeRole: the "
                            "metadata service answers AssumeRoleUnauthorizedAccess and the "
                            "agent's credential refresher backs off.",
                            statements=[ref.describe() for ref in trust.deciding])])
    if trust.outcome == iam_policy.UNKNOWN:
        undecided = [_finding(
            "CONDITION_NOT_EVALUATED", role.name,
            f"Whether role {role.name} trusts {aws_facts.EC2_SERVICE_PRINCIPAL} depends on "
            f"{', '.join(trust.unresolved_conditions) or trust.detail}.", "warning")]
        return _Attempt(UNKNOWN, role, step="trust undecided", findings=undecided, branches=(
            _Attempt(OK, role, step=f"instance profile role {role.name} (if it trusts EC2)",
                     findings=undecided),
            _Attempt(FAIL, role, falls_back=True, findings=undecided,
                     step=f"role {role.name} does not trust EC2 (if the condition fails)")))
    return _Attempt(OK, role, step=f"instance profile role {role.name}")


def _dhmc_instance_problems(instance: Instance, agent: str) -> list[Finding]:
    """What keeps this instance from Default Host Management, whatever the account's setting."""
    problems = []
    metadata = instance.metadata
    if metadata is not None and metadata.http_tokens != "required":
        problems.append(_finding(
            "DHMC_REQUIRES_IMDSV2", instance.instance_id,
            f"{instance.instance_id} allows IMDSv1 (HttpTokens={metadata.http_tokens}); "
            "Default Host Management requires IMDSv2."))
    version = aws_facts.agent_version(agent) if agent else None
    if version is not None and version < aws_facts.DHMC_MIN_AGENT_VERSION:
        problems.append(_finding(
            "AGENT_OUTDATED", instance.instance_id,
            f"Agent {agent} predates Default Host Management (3.2.582.0).", "error"))
    return problems


def _dhmc(estate: Estate, instance: Instance, agent: str, memo: dict) -> _Attempt:
    unreadable = estate.unavailable.get("dhmc_setting")
    setting = estate.default_host_management
    instance_problems = _dhmc_instance_problems(instance, agent)
    if setting is None:
        reason = unreadable or "not in the collected data"
        if instance_problems:  # whatever the setting holds, it cannot serve this instance
            return _Attempt(FAIL, step="DHMC setting unreadable, and unusable here anyway",
                            findings=instance_problems)
        return _Attempt(UNKNOWN, step="DHMC setting unreadable", findings=[_finding(
            "DATA_UNAVAILABLE", aws_facts.DHMC_SETTING_ID,
            f"Cannot read the Default Host Management setting ({reason}).", "warning")])
    if not setting.value:
        return _Attempt(FAIL, step="DHMC off", findings=[_finding(
            "DHMC_DISABLED", aws_facts.DHMC_SETTING_ID,
            f"Default Host Management is not configured in {estate.region}: the agent has "
            "no credentials to fall back on.")])
    role_name = setting.value.rstrip("/").rsplit("/", 1)[-1]
    role = estate.roles.get(role_name)
    problems: list[Finding] = []
    undecided: list[Finding] = []
    if role is None:
        if _iam_unreadable(estate) and not instance_problems:
            return _Attempt(UNKNOWN, step="DHMC role unreadable", findings=[_finding(
                "DATA_UNAVAILABLE", role_name, f"Cannot read role {role_name} "
                f"({_iam_unreadable(estate)}).", "warning")])
        if not _iam_unreadable(estate):
            problems.append(_finding("DHMC_ROLE_INVALID", role_name,
                                     f"The Default Host Management role {setting.value} does "
                                     "not exist."))
    else:
        trust = _trust_decision(role, aws_facts.SSM_SERVICE_PRINCIPAL, memo)
        if trust.outcome == iam_policy.DENIED:
            problems.append(_finding(
                "DHMC_ROLE_INVALID", role.name,
                f"The Default Host Management role {role.name} does not trust "
                f"{aws_facts.SSM_SERVICE_PRINCIPAL}."))
        elif trust.outcome == iam_policy.UNKNOWN:
            undecided.append(_finding(
                "CONDITION_NOT_EVALUATED", role.name,
                f"Whether role {role.name} trusts {aws_facts.SSM_SERVICE_PRINCIPAL} depends on "
                f"{', '.join(trust.unresolved_conditions) or trust.detail}.", "warning"))
    problems += instance_problems
    if problems:  # unusable whichever way an undecided trust goes
        return _Attempt(FAIL, role, step="DHMC unusable", findings=problems)
    if undecided:
        return _Attempt(UNKNOWN, role, step="DHMC trust undecided", findings=undecided,
                        branches=(
                            _Attempt(OK, role, findings=undecided, step=(
                                f"Default Host Management role {role_name} (if it trusts "
                                "Systems Manager)")),
                            _Attempt(FAIL, role, findings=undecided, step=(
                                f"Default Host Management role {role_name} does not trust "
                                "Systems Manager (if the condition fails)"))))
    return _Attempt(OK, role, step=f"Default Host Management role {role_name}")


def _as(findings: list[Finding], severity: str) -> list[Finding]:
    """Problems the agent gets past (it falls back): still worth saying, no longer blocking."""
    return [Finding(f.code, f.resource_id, f.message, f.service, severity, f.details)
            for f in findings]


def evaluate(estate: Estate, instance: Instance, services: dict[str, ServiceProof],
             imds_status: str, agent: str = "", memo: dict | None = None) -> CredentialResult:
    """Which credentials the agent ends up with, and what they allow it to do.

    ``memo``: one dict per estate, shared by its instances (see ``evaluate_permissions``).
    When the answer rests on conditions the auditor cannot evaluate (a trust policy's, the
    heartbeat's), every way they could go is walked: if all end in the same decided answer,
    that answer is given (the conditions stay listed, as info); otherwise it is unknown.
    """
    memo = {} if memo is None else memo
    if imds_status == FAIL:
        return CredentialResult(FAIL, SOURCE_NONE, chain=[
            "the metadata service is off: neither the instance profile nor Default Host "
            "Management can hand out credentials"])
    profile = _instance_profile(estate, instance, memo)
    dhmc: list[_Attempt] = []  # computed when the chain gets there

    def fallback() -> _Attempt:
        if not dhmc:
            dhmc.append(_dhmc(estate, instance, agent, memo))
        return dhmc[0]

    exact = _walk(estate, instance, services, memo, profile, fallback)
    if _answer(exact) is not None:
        return exact
    outcomes = [_walk(estate, instance, services, memo, way, lambda d=dhmc_way: d, heartbeat)
                for way in profile.branches or (profile,)
                for dhmc_way in fallback().branches or (fallback(),)
                for heartbeat in (True, False)]
    answers = {_answer(outcome) for outcome in outcomes}
    if len(answers) != 1 or None in answers:
        return exact
    return _settled(outcomes[0], exact)


def _walk(estate: Estate, instance: Instance, services: dict[str, ServiceProof], memo: dict,
          profile: _Attempt, fallback: Callable[[], _Attempt],
          heartbeat: bool | None = None) -> CredentialResult:
    """The chain as the agent walks it. ``heartbeat``: when whether the profile's role may call
    the heartbeat is undecided, walk as if it were allowed (True) or refused (False)."""
    chain = [profile.step]
    profile_permissions = None
    if profile.status == OK and profile.role is not None:
        profile_permissions = evaluate_permissions(estate, instance, profile.role, services,
                                                   memo)
        if heartbeat is not None and _heartbeat(profile_permissions) == UNKNOWN:
            profile_permissions = _assume_heartbeat(estate, instance, profile_permissions,
                                                    heartbeat)
        if _heartbeat(profile_permissions) != FAIL:
            # The heartbeat is not refused, so the agent keeps these credentials.
            return CredentialResult(OK, SOURCE_PROFILE, profile.role.arn, chain,
                                    profile.findings, profile_permissions)
        chain.append("AccessDenied on the heartbeat: falls back to Default Host Management")
    elif profile.status == UNKNOWN:
        return CredentialResult(UNKNOWN, SOURCE_PROFILE, chain=chain,
                                findings=profile.findings)
    dhmc = fallback()
    chain.append(dhmc.step)
    refused = profile.findings + (profile_permissions.findings if profile_permissions else [])
    if dhmc.status == OK and dhmc.role is not None:
        permissions = evaluate_permissions(estate, instance, dhmc.role, services, memo)
        return CredentialResult(OK, SOURCE_DHMC, dhmc.role.arn, chain,
                                _as(refused, "info") + dhmc.findings, permissions)
    if profile_permissions is not None:
        # The profile's credentials stay in use; what they may not do decides.
        if dhmc.status == UNKNOWN:  # the fallback may rescue it (the result is shared: copy)
            profile_permissions = replace(profile_permissions, status=UNKNOWN, by_service={
                service: UNKNOWN if status == FAIL else status
                for service, status in profile_permissions.by_service.items()})
        return CredentialResult(OK, SOURCE_PROFILE, profile.role.arn if profile.role else None,
                                chain, profile.findings + _as(dhmc.findings, "warning"),
                                profile_permissions)
    status = UNKNOWN if dhmc.status == UNKNOWN else FAIL
    return CredentialResult(status, SOURCE_NONE, chain=chain,
                            findings=refused + dhmc.findings)


def _heartbeat(permissions: PermissionsResult) -> str | None:
    return permissions.by_service.get(aws_facts.HEARTBEAT_SERVICE)


def _assume_heartbeat(estate: Estate, instance: Instance, permissions: PermissionsResult,
                      allowed: bool) -> PermissionsResult:
    by_service = {**permissions.by_service,
                  aws_facts.HEARTBEAT_SERVICE: OK if allowed else FAIL}
    return replace(permissions, by_service=by_service, status=_permissions_status(
        by_service, message_channels(estate, instance)))


def _answer(result: CredentialResult) -> tuple | None:
    """What the verdict takes from a chain's result; None when it is not decided."""
    if FAIL in (result.status, result.permissions.status):
        return (FAIL,)
    if result.status == OK and result.permissions.status == OK:
        return (OK, tuple(sorted(result.permissions.by_service.items())))
    return None


_SETTLED = (" Every way it could go ends alike for the agent's credentials, so it does not "
            "change the verdict.")


def _settled(result: CredentialResult, exact: CredentialResult) -> CredentialResult:
    """``result`` (one of the ways, all alike), with the conditions that did not matter kept
    as info."""
    def settle(findings: list[Finding]) -> list[Finding]:
        return [replace(f, severity="info", message=f.message + _SETTLED)
                if f.code == "CONDITION_NOT_EVALUATED" and f.severity == "warning"
                and f.service in (None, aws_facts.HEARTBEAT_SERVICE) else f
                for f in findings]

    undecided = [f for f in exact.findings if f.code == "CONDITION_NOT_EVALUATED"]
    findings = [*settle(result.findings),
                *[f for f in settle(undecided) if f not in settle(result.findings)]]
    permissions = replace(result.permissions, findings=settle(result.permissions.findings))
    chain = [*result.chain, "undecided conditions: every way they could go ends alike"]
    return replace(result, findings=findings, permissions=permissions, chain=chain)
