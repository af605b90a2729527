"""Session Manager readiness of one instance: can a session open, encrypted and logged as the
region's preferences say?

Its parts, each proved with the evaluators the agent's proof uses (the network prover for
``kms``, ``logs`` and S3, the policy evaluator for what the instance's role may do):

- the data channel: ``ssmmessages`` reachable, and the role may open control and data channels;
- the KMS key of the preferences: it exists and is enabled, ``kms`` is reachable, and the role
  may ``kms:Decrypt`` it (identity policy and key policy; a grant to the role, or grants that
  could not be read, leave it unknown);
- S3 logging: the bucket exists, S3 is reachable, the role may ``s3:PutObject`` under the
  prefix (endpoint policy, bucket policy where readable), ``s3:GetEncryptionConfiguration``
  when encryption is required, ``kms:GenerateDataKey`` on the bucket's SSE-KMS key;
- CloudWatch Logs: the group exists (and is encrypted when required), ``logs`` is reachable,
  the role may describe the group and its streams, create a stream and put events;
- Run As, as information: which OS user sessions use.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditor import capability_facts as facts
from auditor.analysis import iam_policy
from auditor.analysis import principal_access as access
from auditor.analysis.capabilities import Evidence, Part, combine_parts, own_proofs, shape, tagged
from auditor.analysis.iam_policy import Decision
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import BLOCKED, REACHABLE, Finding, ServiceProof
from auditor.analysis.s3_path import S3Paths
from auditor.aws_facts import CHANNEL_ACTIONS, SESSION_MANAGER_ACTIONS
from auditor.model import Estate, Instance, KmsKey, LogGroup, S3Bucket
from auditor.vocabulary import FAIL, OK, SESSION_MANAGER, UNKNOWN

CHANNEL_SERVICE = "ssmmessages"
# A warning that says what could not be read but does not decide (the proof went on without it)
PROVED_WITHOUT = "proved_without"


def evaluate(prover: NetworkProver, s3: S3Paths, instance: Instance,
             services: dict[str, ServiceProof], role: access.Principal | None,
             memo: dict) -> Evidence:
    """``role``: the role the agent's credentials come from (None when it has none, or it
    cannot be read). Instances alike in role and paths share one answer, unless a policy on the
    way can tell them apart."""
    estate = prover.estate
    preferences = estate.session.preferences
    proofs: dict[str, ServiceProof] = {}
    if preferences is not None and preferences.exists:
        source = prover.source_of(instance)
        if preferences.kms_key_id:
            proofs["kms"] = prover.prove_service(instance, source, "kms")
        if preferences.s3_bucket:
            bucket = estate.session.buckets.get(preferences.s3_bucket)
            proofs["s3"] = s3.prove(instance, bucket.region if bucket else None)
        if preferences.log_group:
            proofs["logs"] = prover.prove_service(instance, source, "logs")
    channel = services[CHANNEL_SERVICE]
    apart = role is not None and _apart(estate, role, (channel, *proofs.values()), memo)
    key = ("session-evidence", role.name if role else None,
           instance.instance_id if apart else None, shape(channel),
           tuple((name, shape(proof)) for name, proof in proofs.items()))
    if key not in memo:  # the proofs stay referenced, so their ids stay theirs
        memo[key] = (channel, proofs, _evidence(prover, instance, channel, proofs, role, memo))
    return own_proofs(memo, key, (channel, *proofs.values()), proofs)


def _evidence(prover: NetworkProver, instance: Instance, channel: ServiceProof,
              proofs: dict[str, ServiceProof], role: access.Principal | None,
              memo: dict) -> Evidence:
    estate = prover.estate
    preferences = estate.session.preferences
    parts = [_channel(estate, instance, channel, role, memo)]
    notes: list[str] = []
    if preferences is None:
        reason = estate.unavailable.get("session_document", "not in the collected data")
        parts.append(Part("preferences", UNKNOWN, [f"preferences unknown: {reason}"], [Finding(
            "DATA_UNAVAILABLE", facts.SESSION_DOCUMENT,
            f"Cannot read the Session Manager preferences of {estate.region} ({reason}): "
            "whether sessions need a KMS key or a log target is unknown.", None, "warning")]))
    elif not preferences.exists:
        notes.append(f"no {facts.SESSION_DOCUMENT} document in {estate.region}: AWS's defaults "
                     "(no encryption, no logging, no Run As)")
    else:
        if "kms" in proofs:
            parts.append(_kms(estate, instance, preferences.kms_key_id, proofs["kms"], role,
                              memo))
        if "s3" in proofs:
            parts.append(_s3_logging(estate, instance, proofs["s3"], role, memo))
        if "logs" in proofs:
            parts.append(_cloudwatch(estate, instance, proofs["logs"], role, memo))
        notes += _run_as(estate)
    for part in parts:
        part.findings = tagged(part.findings, SESSION_MANAGER)
    return Evidence(SESSION_MANAGER, combine_parts(parts), parts, proofs, notes)


def _apart(estate: Estate, role: access.Principal, proofs: tuple[ServiceProof, ...],
           memo: dict) -> bool:
    """Whether a policy on the way (the role's, the key's or bucket's, an endpoint's, an SCP)
    can tell one instance from another; decided once per role and endpoints."""
    key = ("session-apart", role.name, tuple(proof.endpoint_id for proof in proofs))
    if key not in memo:
        if "session-resource-policies" not in memo:
            memo["session-resource-policies"] = _resource_policies(estate, memo)
        memo[key] = role.instance_sensitive or access.sensitive(
            estate, memo, *memo["session-resource-policies"],
            *(access.endpoint_policy(estate, proof, memo)[0] for proof in proofs))
    return memo[key]


def _resource_policies(estate: Estate, memo: dict) -> list:
    """The key and bucket policies the preferences lead to, parsed once."""
    preferences = estate.session.preferences
    if preferences is None or not preferences.exists:
        return []
    found = []
    bucket = estate.session.buckets.get(preferences.s3_bucket)
    references = [preferences.kms_key_id, bucket.encryption_key if bucket else ""]
    for reference in filter(None, references):
        key = key_named(estate, reference)
        if key is not None and key.policy is not None:
            found.append(access.resource_policy(key.policy, "key policy", key.reference, memo))
    if bucket is not None and bucket.policy is not None:
        found.append(access.resource_policy(bucket.policy, "bucket policy", bucket.name, memo))
    return found


# --- the parts -------------------------------------------------------------------------------


def _channel(estate: Estate, instance: Instance, proof: ServiceProof,
             role: access.Principal | None, memo: dict) -> Part:
    part = Part("data channel (ssmmessages)", OK)
    part.checks.append(f"{proof.hostname}: {proof.status} via {proof.via}")
    part.findings += path_findings("SESSION_CHANNEL_UNREACHABLE", proof,
                                   "sessions travel over ssmmessages only")
    if role is None:
        return _settle(part, UNKNOWN, "the role of the agent is unknown")
    actions = [*CHANNEL_ACTIONS[CHANNEL_SERVICE], *SESSION_MANAGER_ACTIONS]
    context = access.instance_context(estate, role, instance, proof, memo)
    refused = []
    for action in actions:
        decision = access.decide(estate, role, action, "*", context, memo, proof=proof,
                                 instance_id=instance.instance_id)
        part.checks.append(f"{action}: {decision.outcome} ({decision.detail})")
        if decision.outcome != iam_policy.ALLOWED:
            refused.append((action, decision))
    part.findings += _refusals("SESSION_CHANNEL_DENIED", role, refused, "*")
    return _settle(part, _status(proof, part.findings))


def _kms(estate: Estate, instance: Instance, reference: str, proof: ServiceProof,
         role: access.Principal | None, memo: dict) -> Part:
    part = Part(f"KMS key {reference}", OK)
    part.checks.append(f"{proof.hostname}: {proof.status} via {proof.via}")
    key = key_named(estate, reference)
    usable = _key_usable(estate, key, reference, part, "SESSION_KMS_KEY_UNUSABLE",
                         "sessions encrypted with it cannot start")
    part.findings += path_findings("SESSION_KMS_UNREACHABLE", proof,
                                   f"the agent cannot decrypt the session key "
                                   f"({', '.join(facts.SESSION_KMS_ACTIONS)})")
    if usable and key is not None:
        part.findings += _key_access(estate, instance, key, role, proof, memo, part,
                                     facts.SESSION_KMS_ACTIONS, "SESSION_KMS_DENIED")
    return _settle(part, _status(proof, part.findings))


def _s3_logging(estate: Estate, instance: Instance, proof: ServiceProof,
                role: access.Principal | None, memo: dict) -> Part:
    preferences = estate.session.preferences
    assert preferences is not None
    name = preferences.s3_bucket
    part = Part(f"S3 logging to {name}", OK)
    part.checks.append(f"{proof.hostname}: {proof.status} via {proof.via}")
    bucket = estate.session.buckets.get(name)
    if not _target_exists(estate, part, name, bucket, "bucket", "bucket_locations", {
            "target": "s3", "bucket": name}, "session logs are lost (and with S3 encryption "
            "required, sessions do not start)") or bucket is None:
        return part
    part.findings += path_findings("SESSION_LOG_S3_UNREACHABLE", proof,
                                   f"session logs cannot be written to {name}")
    if not bucket.encryption_read:
        # Whether uploads need a KMS key (SSE-KMS), or required encryption holds, is unknown.
        part.findings.append(Finding(
            "DATA_UNAVAILABLE", name, f"The default encryption of bucket {name} could not be "
            f"read ({bucket.unread}): whether session logs need its KMS key is unknown.", None,
            "warning"))
    elif preferences.s3_encryption and not bucket.encryption:
        part.findings.append(Finding(
            "SESSION_LOG_UNENCRYPTED", name,
            f"The preferences require encrypted S3 logs but bucket {name} has no default "
            "encryption: sessions do not start.", details={"target": "s3", "bucket": name}))
    if role is None:
        return _settle(part, UNKNOWN, "the role of the agent is unknown")
    if not bucket.policy_read:
        part.findings.append(Finding(
            "DATA_UNAVAILABLE", name, f"The policy of bucket {name} could not be read "
            f"({bucket.unread}); the writes are proved without it, so a deny in it cannot be "
            "ruled out.", None, "warning", {PROVED_WITHOUT: True}))
    policy = access.resource_policy(bucket.policy, "bucket policy", name, memo)
    prefix = preferences.s3_key_prefix.strip("/")
    objects = facts.bucket_arn(name, f"{prefix}/*" if prefix else "*", estate.region)
    wanted = [(action, objects) for action in facts.SESSION_S3_PUT_ACTIONS]
    if preferences.s3_encryption:
        wanted += [(action, facts.bucket_arn(name, region=estate.region))
                   for action in facts.SESSION_S3_ENCRYPTION_ACTIONS]
    context = access.instance_context(estate, role, instance, proof, memo)
    refused = []
    for action, resource in wanted:
        decision = access.decide(estate, role, action, resource, context, memo, proof=proof,
                                 resource_policy=policy, instance_id=instance.instance_id)
        part.checks.append(f"{action} on {resource}: {decision.outcome} ({decision.detail})")
        if decision.outcome != iam_policy.ALLOWED:
            refused.append((action, decision))
    part.findings += _refusals("SESSION_LOG_S3_DENIED", role, refused, name,
                               {"bucket": name, "prefix": prefix})
    if bucket.encryption == "aws:kms" and bucket.encryption_key \
            and not bucket.encryption_key.startswith("alias/aws/"):
        key = key_named(estate, bucket.encryption_key)
        if _key_usable(estate, key, bucket.encryption_key, part, "SESSION_LOG_S3_DENIED",
                       f"uploads to {name} (SSE-KMS) fail") and key is not None:
            via_s3 = {"kms:ViaService": [f"s3.{estate.region}.amazonaws.com"]}
            part.findings += _key_access(estate, instance, key, role, proof, memo, part,
                                         facts.SESSION_S3_KMS_ACTIONS, "SESSION_LOG_S3_DENIED",
                                         extra=via_s3, via_aws_service=True)
    return _settle(part, _status(proof, part.findings))


def _target_exists(estate: Estate, part: Part, name: str, target: S3Bucket | LogGroup | None,
                   kind: str, unavailable: str, details: dict, consequence: str) -> bool:
    """Whether the bucket or log group the preferences name exists; when it does not, or that
    is unknown, ``part`` is settled and says so."""
    if target is None or target.exists is None:
        reason = (target.unread if target is not None else
                  estate.unavailable.get(unavailable, f"{name} was not read"))
        part.findings.append(Finding("DATA_UNAVAILABLE", name, f"Cannot tell whether {kind} "
                                     f"{name} exists ({reason}).", None, "warning"))
        _settle(part, UNKNOWN)
        return False
    if not target.exists:
        part.findings.append(Finding(
            "SESSION_LOG_TARGET_MISSING", name,
            f"The Session Manager preferences of {estate.region} log sessions to {kind} "
            f"{name}, which does not exist: {consequence}.", details=details))
        _settle(part, FAIL)
        return False
    return True


def _cloudwatch(estate: Estate, instance: Instance, proof: ServiceProof,
                role: access.Principal | None, memo: dict) -> Part:
    preferences = estate.session.preferences
    assert preferences is not None
    name = preferences.log_group
    part = Part(f"CloudWatch Logs group {name}", OK)
    part.checks.append(f"{proof.hostname}: {proof.status} via {proof.via}")
    group = estate.session.log_groups.get(name)
    if not _target_exists(estate, part, name, group, "CloudWatch Logs group", "log_groups", {
            "target": "cloudwatch", "log_group": name}, "the agent logs a warning and sessions "
            "run without their log" + (" (with encryption required, they do not start)"
                                       if preferences.log_group_encryption else "")) \
            or group is None:
        return part
    if preferences.log_group_encryption and not group.kms_key_id:
        part.findings.append(Finding(
            "SESSION_LOG_UNENCRYPTED", name,
            f"The preferences require encrypted CloudWatch logs but group {name} has no KMS "
            "key: sessions do not start.", details={"target": "cloudwatch", "log_group": name}))
    part.findings += path_findings("SESSION_LOG_CLOUDWATCH_UNREACHABLE", proof,
                                   f"session logs cannot be sent to {name}")
    if role is None:
        return _settle(part, UNKNOWN, "the role of the agent is unknown")
    account = estate.account_id or role.arn.split(":")[4]
    group_arn = group.arn or facts.log_group_arn(estate.region, account, name)
    wanted = [(action, facts.log_group_arn(estate.region, account, "") + ":log-stream:")
              for action in facts.SESSION_LOGS_GROUP_ACTIONS]
    wanted += [(action, f"{group_arn}:log-stream:*") for action in
               facts.SESSION_LOGS_STREAM_ACTIONS]
    context = access.instance_context(estate, role, instance, proof, memo)
    refused = []
    for action, resource in wanted:
        decision = access.decide(estate, role, action, resource, context, memo, proof=proof,
                                 instance_id=instance.instance_id)
        part.checks.append(f"{action} on {resource}: {decision.outcome} ({decision.detail})")
        if decision.outcome != iam_policy.ALLOWED:
            refused.append((action, decision))
    part.findings += _refusals("SESSION_LOG_CLOUDWATCH_DENIED", role, refused, name,
                               {"log_group": name})
    return _settle(part, _status(proof, part.findings))


def _run_as(estate: Estate) -> list[str]:
    preferences = estate.session.preferences
    if preferences is None or not preferences.run_as_enabled:
        return []  # sessions run as ssm-user, which the agent creates: nothing to say
    default = preferences.run_as_default_user
    return [f"Run As is on: sessions run as the OS user named by the principal's "
            f"{facts.RUN_AS_TAG} tag, else "
            + (f"as {default}" if default else "nowhere: without the tag a session is refused")
            + " (the auditor cannot see whether that user exists on the instance)"]


# --- KMS -------------------------------------------------------------------------------------


def key_named(estate: Estate, reference: str) -> KmsKey | None:
    keys = estate.session.keys
    return keys.get(reference) or next((k for k in keys.values() if k.arn == reference), None)


def _key_usable(estate: Estate, key: KmsKey | None, reference: str, part: Part, code: str,
                consequence: str) -> bool:
    if key is None or key.exists is None:
        reason = (key.unread if key is not None else
                  estate.unavailable.get("kms_keys", f"{reference} was not read"))
        part.findings.append(Finding("DATA_UNAVAILABLE", reference,
                                     f"Cannot describe KMS key {reference} ({reason}).",
                                     None, "warning"))
        return False
    if not key.exists or key.state in facts.KEY_STATES_UNUSABLE:
        state = "does not exist" if not key.exists else f"is {key.state}"
        part.findings.append(Finding(
            code, reference, f"KMS key {reference} {state}: {consequence}.",
            details={"key": key.arn or reference, "state": key.state or "missing",
                     "fix": "key_state"}))
        return False
    return True


def _key_access(estate: Estate, instance: Instance, key: KmsKey,
                role: access.Principal | None, proof: ServiceProof, memo: dict, part: Part,
                actions: Sequence[str], code: str, extra: dict | None = None,
                via_aws_service: bool = False) -> list[Finding]:
    if role is None:
        part.status = UNKNOWN
        return []
    if key.policy is None:
        reason = key.unread or estate.unavailable.get("kms_key_policies", "not read")
        return [Finding("DATA_UNAVAILABLE", key.reference, f"Cannot read the key policy of "
                        f"{key.reference} ({reason}), which decides who may use it.", None,
                        "warning")]
    policy = access.resource_policy(key.policy, "key policy", key.reference, memo)
    context_extra = {"kms:CallerAccount": [estate.account_id or role.arn.split(":")[4]],
                     "kms:EncryptionContext:aws:ssm:TargetId": [instance.instance_id],
                     **(extra or {})}
    if not via_aws_service:
        context_extra.setdefault("kms:ViaService", [])
    context = access.instance_context(estate, role, instance, proof, memo, context_extra,
                                      via_aws_service)
    refused = []
    for action in actions:
        decision = access.decide(estate, role, action, key.arn, context, memo, proof=proof,
                                 resource_policy=policy, required=True,
                                 instance_id=instance.instance_id)
        decision = granted(key, role.arn, action, decision)
        part.checks.append(f"{action} on {key.arn}: {decision.outcome} ({decision.detail})")
        if decision.outcome != iam_policy.ALLOWED:
            refused.append((action, decision))
    return _refusals(code, role, refused, key.reference, {"key": key.arn})


def granted(key: KmsKey, principal_arn: str, action: str, decision: Decision) -> Decision:
    """A refusal that a grant may lift is unknown: the auditor does not evaluate grants (their
    constraints, the grant tokens) beyond who they name. An explicit deny stays a deny."""
    if decision.outcome != iam_policy.DENIED or decision.reason == iam_policy.EXPLICIT_DENY:
        return decision
    operation = action.split(":", 1)[1]
    role = access.role_of_arn(principal_arn)
    if key.grants is None:
        why = f"the grants on {key.reference} could not be read ({key.unread or 'not read'})"
    else:
        named = [grant for grant in key.grants if operation in grant.operations
                 and (grant.grantee == principal_arn
                      or (role and access.role_of_arn(grant.grantee) == role))]
        if not named:
            return decision
        why = f"a grant on {key.reference} names this principal for {operation}"
    return Decision(iam_policy.UNKNOWN, iam_policy.CONDITION_NOT_EVALUATED, decision.deciding,
                    (why,), detail=f"{decision.detail}, but {why}")


# --- findings --------------------------------------------------------------------------------


def unreachable(code: str, proof: ServiceProof, consequence: str) -> Finding:
    blockers = [f for f in proof.findings if f.severity == "error"] or proof.findings
    first = blockers[0] if blockers else None
    why = f": {first.code} {first.message}" if first else ""
    return Finding(code, first.resource_id if first else proof.hostname,
                   f"{proof.hostname} cannot be reached ({consequence}){why}",
                   details={"service": proof.service, "via": proof.via,
                            "blocked_by": [{"code": f.code, "resource_id": f.resource_id,
                                            "message": f.message} for f in blockers]})


def path_findings(code: str, proof: ServiceProof, consequence: str) -> list[Finding]:
    """What a service's path says: ``code`` when it is blocked, the prover's warnings when it
    is undecided, nothing when it is reachable."""
    if proof.status == BLOCKED:
        return [unreachable(code, proof, consequence)]
    return undecided_path(proof) if proof.status != REACHABLE else []


def undecided_path(proof: ServiceProof) -> list[Finding]:
    """Why a path is unknown: the prover's own warnings, about this service."""
    return [Finding(f.code, f.resource_id, f.message, None, "warning",
                    {**f.details, "service": proof.service})
            for f in proof.findings if f.severity != "info"]


def _refusals(code: str, role: access.Principal, refused: list[tuple[str, Decision]],
              resource: str, details: dict | None = None) -> list[Finding]:
    """One finding per cause, as the agent's permissions report them."""
    findings = []
    for decision, actions in iam_policy.by_cause(refused):
        listed = ", ".join(actions)
        statements = [ref.describe() for ref in decision.deciding]
        base = {**(details or {}), "actions": actions, "role": role.name,
                "statements": statements}
        if decision.outcome == iam_policy.UNKNOWN:
            conditions = ", ".join(decision.unresolved_conditions) or "a condition"
            findings.append(Finding(
                "CONDITION_NOT_EVALUATED", role.name,
                f"Whether {role.kind} {role.name} may call {listed} on {resource} depends on "
                f"{conditions}, which the auditor cannot know.", None, "warning",
                {**base, "conditions": list(decision.unresolved_conditions)}))
            continue
        findings.append(Finding(
            code, resource, f"{role.kind.capitalize()} {role.name} may not call {listed} on "
            f"{resource}: {decision.detail}.",
            details={**base, "reason": decision.reason, "fix": fix_of(decision),
                     "lacking": list(decision.lacking_allow)}))
    return findings


def fix_of(decision: Decision) -> str:
    """What a refusal asks for: a statement on the role, or a person's review of a policy."""
    if decision.reason == iam_policy.NO_ALLOW and decision.lacking_allow == ("identity",):
        return "role_policy"
    if decision.reason == iam_policy.RESOURCE_POLICY:
        return "resource_policy"
    if decision.reason == iam_policy.EXPLICIT_DENY and decision.deciding:
        kind = decision.deciding[0].kind
        return {"resource": "resource_policy", "endpoint": "endpoint_policy"}.get(kind, "review")
    if decision.reason == iam_policy.ENDPOINT_POLICY:
        return "endpoint_policy"
    return "review"


def _status(proof: ServiceProof, findings: list[Finding]) -> str:
    if any(f.severity == "error" for f in findings):
        return FAIL
    undecided = [f for f in findings
                 if f.severity == "warning" and not f.details.get(PROVED_WITHOUT)]
    return UNKNOWN if proof.status != REACHABLE or undecided else OK


def _settle(part: Part, status: str, note: str | None = None) -> Part:
    if any(f.severity == "error" for f in part.findings):
        status = FAIL
    part.status = status if part.status == OK else part.status
    if note:
        part.checks.append(note)
    return part
