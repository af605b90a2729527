"""The plan for what Session Manager and patching need beyond a working agent.

It runs after the agent's planning, on a copy of the estate with that plan laid over it, for
each instance (manageable or not) whose capability fails on a blocker of its own, and proves
the result in rounds like the agent's planner. What CloudFormation can do goes into the plan:

- an interface endpoint for ``kms`` or ``logs`` (or ``ssmmessages`` for the data channel) where
  the name leads nowhere; as these change every instance's path in the VPC, they admit the
  VPC's CIDRs, never only some groups;
- an S3 gateway endpoint on the instance's route table, or the table added to the VPC's
  existing gateway endpoint (a manual step: CloudFormation cannot change an endpoint it does not
  manage);
- a policy on the instance's role with exactly the statements its identity policies lack: the
  key, the bucket and prefix, the log group, AWS's buckets.

Key policies, bucket policies, denies, boundaries, SCPs and endpoint policies are reviewed by a
person, never rewritten: they are manual steps whose command shows the policy.
"""

from __future__ import annotations

from copy import deepcopy

from auditor import aws_facts
from auditor import capability_facts as facts
from auditor.analysis.results import BLOCKED, DENY, Finding, ServiceProof
from auditor.audit import InstanceAudit
from auditor.model import Estate, Instance
from auditor.remediation import apply
from auditor.remediation.plan import (
    EndpointsEntry,
    FixedFinding,
    Plan,
    PlanInstance,
    RolePolicyEntry,
)
from auditor.remediation.planner import (
    _NO_WAY_OUT,
    MAX_ROUNDS,
    PlanOptions,
    _add_endpoint,
    _add_fixes,
    _audit,
    _choose_endpoint_placement,
    _Context,
    _entries_fixing,
    _manual,
    _propose_for_hop,
)
from auditor.vocabulary import FAIL, MANAGEABLE, NOT_MANAGEABLE

SESSION_POLICY_NAME = "ssm-auditor-session-access"
# Statements whose resources name many objects or groups by design, and why (the stack
# acknowledges cdk-nag's AwsSolutions-IAM5 for them with this reason).
WILDCARD_REASONS = {
    "SessionLogWrites": "Session Manager writes one object per session under the preferences' "
                        "prefix: the prefix is the narrowest resource",
    "SessionLogGroups": "logs:DescribeLogGroups has no narrower resource than the region's "
                        "log groups",
    "SessionLogStreams": "one log stream per session in the preferences' log group: the group's "
                         "streams are the narrowest resource",
    "AwsOwnedBuckets": "the AWS-owned buckets Patch Manager, Distributor and agent updates read "
                       "(AWS's documented list); the agent reads many objects from each",
}
# The codes this planner acts on, and the proof each is about.
_UNREACHABLE = {"SESSION_CHANNEL_UNREACHABLE": "ssmmessages", "SESSION_KMS_UNREACHABLE": "kms",
                "SESSION_LOG_CLOUDWATCH_UNREACHABLE": "logs",
                "SESSION_LOG_S3_UNREACHABLE": "s3", "PATCH_S3_UNREACHABLE": "s3"}
_DENIED = ("SESSION_CHANNEL_DENIED", "SESSION_KMS_DENIED", "SESSION_LOG_S3_DENIED",
           "SESSION_LOG_CLOUDWATCH_DENIED", "PATCH_S3_DENIED")


def plan_capabilities(plan: Plan, estate: Estate, known: dict[str, InstanceAudit],
                      options: PlanOptions, complete: bool) -> None:
    targets = sorted(iid for iid, audit in known.items() if _blockers(audit))
    if not targets:
        return
    work = deepcopy(estate)
    apply.apply_plan(work, plan)
    context = _Context(plan, work, options)
    instances = [work.instances[iid] for iid in targets]
    _choose_endpoint_placement(context, instances, instances, complete)
    for vpc_id in context.admit_by_group:
        context.admit_by_group[vpc_id] = False  # every instance of the VPC takes them
    latest = {audit.instance.instance_id: audit for audit in _audit(work, targets)}
    for _ in range(MAX_ROUNDS):
        context.changed_vpcs.clear()
        if not sum(_propose(context, audit) for audit in latest.values()):
            break
        latest = {audit.instance.instance_id: audit for audit in _audit(work, targets)}
    fixing = _entries_fixing(plan)
    planned = {entry.instance_id: entry for entry in plan.instances}
    for instance_id in targets:
        before, after = known[instance_id], latest[instance_id]
        entry = planned.get(instance_id)
        if entry is None:
            entry = PlanInstance(instance_id, estate.region, before.verdict, after.verdict)
            plan.instances.append(entry)
        entry.fixed_by = fixing.get(instance_id, [])
        entry.capabilities_before = {name: r.status for name, r in before.capabilities.items()}
        entry.capabilities_after = {name: r.status for name, r in after.capabilities.items()}
        entry.still_blocked_by += [f"{f.code} {f.resource_id}: {f.message}"
                                   for f in _blockers(after)]


def _blockers(audit: InstanceAudit) -> list[Finding]:
    """A capability's own blockers, when the plan may act on them (a person looks first at an
    instance whose verdict is unknown or that is not running)."""
    if audit.verdict not in (MANAGEABLE, NOT_MANAGEABLE):
        return []
    return [f for result in audit.capabilities.values() if result.status == FAIL
            for f in result.findings if f.code.startswith(("SESSION_", "PATCH_"))
            and f.severity in ("error", "warning") and f.code != "CONDITION_NOT_EVALUATED"]


def _propose(context: _Context, audit: InstanceAudit) -> int:
    count = 0
    proofs = {name: proof for result in audit.capabilities.values()
              for name, proof in result.evidence.proofs.items()}
    proofs["ssmmessages"] = audit.services["ssmmessages"]
    for finding in _blockers(audit):
        if finding.code in _UNREACHABLE:
            proof = proofs.get(_UNREACHABLE[finding.code])
            if proof is not None and proof.status == BLOCKED:
                count += _reach(context, audit.instance, finding, proof)
        elif finding.code in _DENIED:
            count += _allow(context, audit, finding)
        else:
            count += _by_hand(context, audit.instance, finding)
    return count


# --- reaching a service -------------------------------------------------------------------


def _reach(context: _Context, instance: Instance, finding: Finding, proof: ServiceProof) -> int:
    blocking = {f.code for f in proof.findings}
    if proof.service == facts.S3_SERVICE and proof.via != "gateway_endpoint" \
            and blocking & _NO_WAY_OUT:
        return _s3_gateway(context, instance, finding)
    if proof.service != facts.S3_SERVICE and proof.via != "interface_endpoint" \
            and blocking & _NO_WAY_OUT:
        fixed = [f for f in proof.findings if f.code in _NO_WAY_OUT]
        added = _add_endpoint(context, instance, proof.service or "", fixed)
        _fixes_capability(context, instance, finding, f"endpoints-{instance.vpc_id}")
        return added
    count = 0
    for hop in proof.path:
        if hop.decision == DENY:
            count += _propose_for_hop(context, instance, proof, hop.step, hop.resource_id)
    return count


def _s3_gateway(context: _Context, instance: Instance, finding: Finding) -> int:
    estate = context.estate
    found = _route_table(estate, instance)
    if found is None:
        return 0
    wanted = aws_facts.endpoint_service_name(estate.region, facts.S3_SERVICE)
    existing = next((e for e in estate.vpc_endpoints.values()
                     if e.vpc_id == instance.vpc_id and e.endpoint_type.lower() == "gateway"
                     and e.service_name == wanted and not e.endpoint_id.startswith(
                         "vpce-planned-")), None)
    if existing is not None:
        return _manual(context, instance, finding, "add_gateway_endpoint_route",
                       {"vpc_endpoint_id": existing.endpoint_id, "route_table_id": found})
    entry_id = f"endpoints-{instance.vpc_id}"
    entry = next((e for e in context.plan.endpoints if e.id == entry_id), None)
    if entry is None:
        vpc = estate.vpcs[instance.vpc_id or ""]
        entry = EndpointsEntry(entry_id, estate.region, vpc.vpc_id,
                               [str(c) for c in vpc.cidrs], [], [], [],
                               reason=f"Instances in {vpc.vpc_id} cannot reach S3, which session "
                                      "logs and patching need; a gateway endpoint on their "
                                      "route tables carries it without the internet.")
        context.plan.endpoints.append(entry)
    if found in entry.s3_gateway_route_table_ids:
        _add_fixes(entry, [FixedFinding(instance.instance_id, finding.code, finding.resource_id)])
        return 0
    entry.s3_gateway_route_table_ids = sorted({*entry.s3_gateway_route_table_ids, found})
    _add_fixes(entry, [FixedFinding(instance.instance_id, finding.code, finding.resource_id)])
    apply.apply_s3_gateway(estate, entry)
    return 1


def _route_table(estate: Estate, instance: Instance) -> str | None:
    explicit = next((t.route_table_id for t in estate.route_tables.values()
                     if instance.subnet_id in t.subnet_ids), None)
    return explicit or next((t.route_table_id for t in estate.route_tables.values()
                             if t.vpc_id == instance.vpc_id and t.is_main), None)


def _fixes_capability(context: _Context, instance: Instance, finding: Finding,
                      entry_id: str) -> None:
    entry = next((e for e in context.plan.endpoints if e.id == entry_id), None)
    if entry is None:
        return
    if entry.allow_from_security_groups:  # the VPC's instances all take these endpoints now
        entry.allow_from_cidrs = list(entry.vpc_cidrs)
        entry.allow_from_security_groups = []
        apply.apply_endpoints(context.estate, entry)
    _add_fixes(entry, [FixedFinding(instance.instance_id, finding.code, finding.resource_id)])


# --- permissions --------------------------------------------------------------------------


def _allow(context: _Context, audit: InstanceAudit, finding: Finding) -> int:
    fix = finding.details.get("fix")
    if fix == "role_policy":
        return _role_statements(context, audit, finding)
    if fix == "resource_policy":
        if finding.code == "SESSION_LOG_S3_DENIED" and "key" not in finding.details:
            return _manual(context, audit.instance, finding, "review_bucket_policy",
                           {"bucket": finding.details.get("bucket", finding.resource_id)})
        return _manual(context, audit.instance, finding, "review_key_policy",
                       {"key_id": finding.details.get("key", finding.resource_id)})
    # The policy to review: the endpoint's, else the role's (a deny, its boundary, an SCP).
    target = finding.details.get("endpoint") if fix == "endpoint_policy" else None
    return _manual(context, audit.instance, finding, "review_policy",
                   {"resource_id": target or finding.details.get("role") or finding.resource_id})


def _role_statements(context: _Context, audit: InstanceAudit, finding: Finding) -> int:
    role = finding.details.get("role")
    estate = context.estate
    if not role or role not in estate.roles:
        return 0
    statements = _statements(estate, finding)
    if not statements:
        return 0
    agent = next((e for e in context.plan.role_policies if e.id == f"role-policy-{role}"), None)
    if finding.code == "SESSION_CHANNEL_DENIED" and agent is not None:
        # The agent's own policy on this role grants channel actions on "*" already: one more
        # action there rather than a second policy.
        granted = agent.statements[0]
        wanted = sorted({*granted["Action"], *statements[0]["Action"]})
        added = int(wanted != granted["Action"])
        granted["Action"] = wanted
        _add_fixes(agent, [FixedFinding(audit.instance.instance_id, finding.code,
                                        finding.resource_id)])
        apply.apply_role_policy(estate, agent)
        return added
    entry_id = f"role-policy-{role}-capabilities"
    entry = next((e for e in context.plan.role_policies if e.id == entry_id), None)
    if entry is None:
        entry = RolePolicyEntry(
            entry_id, role, SESSION_POLICY_NAME, [],
            reason=(f"Role {role} lacks what sessions or patching need beyond the agent; this "
                    "policy grants exactly that, on the key, bucket, log group or buckets "
                    "concerned."))
        context.plan.role_policies.append(entry)
    added = 0
    for statement in statements:
        if statement not in entry.statements:
            entry.statements.append(statement)
            added = 1
    _add_fixes(entry, [FixedFinding(audit.instance.instance_id, finding.code,
                                    finding.resource_id)])
    apply.apply_role_policy(estate, entry)
    return added


def _statements(estate: Estate, finding: Finding) -> list[dict]:
    """Exactly what the finding's refused actions need, on their resources."""
    actions = [str(a) for a in finding.details.get("actions", [])]
    account = estate.account_id or "ACCOUNT"
    region = estate.region
    preferences = estate.session.preferences
    code = finding.code

    def statement(sid: str, wanted: list[str], resource: str | list[str]) -> dict:
        return {"Sid": sid, "Effect": "Allow", "Action": sorted(wanted), "Resource": resource}

    if code == "SESSION_CHANNEL_DENIED":
        return [statement("SessionChannels", actions, "*")]
    if code == "SESSION_KMS_DENIED" or (code == "SESSION_LOG_S3_DENIED"
                                        and "key" in finding.details):
        sid = "SessionKey" if code == "SESSION_KMS_DENIED" else "SessionLogBucketKey"
        return [statement(sid, actions, str(finding.details.get("key")))]
    if code == "SESSION_LOG_S3_DENIED":
        bucket = str(finding.details.get("bucket"))
        prefix = str(finding.details.get("prefix") or "")
        found = []
        writes = [a for a in actions if a in facts.SESSION_S3_PUT_ACTIONS]
        if writes:
            found.append(statement("SessionLogWrites", writes, facts.bucket_arn(
                bucket, f"{prefix}/*" if prefix else "*", region)))
        checks = [a for a in actions if a in facts.SESSION_S3_ENCRYPTION_ACTIONS]
        if checks:
            found.append(statement("SessionLogEncryption", checks,
                                   facts.bucket_arn(bucket, region=region)))
        return found
    if code == "SESSION_LOG_CLOUDWATCH_DENIED" and preferences is not None:
        group = facts.log_group_arn(region, account, preferences.log_group)
        found = []
        described = [a for a in actions if a in facts.SESSION_LOGS_GROUP_ACTIONS]
        if described:
            found.append(statement("SessionLogGroups", described,
                                   facts.log_group_arn(region, account, "*")))
        streams = [a for a in actions if a in facts.SESSION_LOGS_STREAM_ACTIONS]
        if streams:
            found.append(statement("SessionLogStreams", streams, f"{group}:*"))
        return found
    if code == "PATCH_S3_DENIED":
        buckets = [str(b) for b in finding.details.get("buckets", [])]
        return [statement("AwsOwnedBuckets", list(facts.PATCH_S3_ACTIONS),
                          [facts.bucket_arn(b, facts.ANY_OBJECT, region) for b in buckets])]
    return []


# --- what a person does -------------------------------------------------------------------


def _by_hand(context: _Context, instance: Instance, finding: Finding) -> int:
    code = finding.code
    if code == "SESSION_KMS_KEY_UNUSABLE":
        return _manual(context, instance, finding, "review_kms_key",
                       {"key_id": finding.details.get("key", finding.resource_id)})
    if code == "SESSION_LOG_TARGET_MISSING" and finding.details.get("target") == "cloudwatch":
        return _manual(context, instance, finding, "create_log_group",
                       {"log_group": finding.details.get("log_group", finding.resource_id)})
    if code in ("SESSION_LOG_TARGET_MISSING", "SESSION_LOG_UNENCRYPTED"):
        return _manual(context, instance, finding, "review_session_preferences",
                       {"resource_id": finding.resource_id})
    return 0
