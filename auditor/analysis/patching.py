"""Patching readiness of one instance: can Patch Manager (and inventory, Distributor, agent
updates) fetch from the AWS-owned regional buckets?

The instance must reach S3 in its region (``s3_path``: a gateway endpoint's route, an S3
interface endpoint, or the public path), and every guardrail on the way must let
``s3:GetObject`` on each bucket (``capability_facts.AWS_OWNED_BUCKETS``) through: the endpoint's
policy, the service control policies, the role's permissions boundary, and an explicit deny in
the role's own policies. AWS documents that through a VPC endpoint the role must also allow
those reads explicitly; over the public path the agent fetches them without one.

A condition on ``aws:ResourceAccount`` that only names the audited account is decided: the
buckets belong to AWS, so they are never in it. Other conditions the auditor cannot know make
the answer unknown.
"""

from __future__ import annotations

from dataclasses import replace

from auditor import capability_facts as facts
from auditor.analysis import iam_policy
from auditor.analysis import principal_access as access
from auditor.analysis.capabilities import Evidence, Part, combine_parts, own_proofs, shape, tagged
from auditor.analysis.iam_policy import Decision, Policy
from auditor.analysis.results import REACHABLE, Finding, ServiceProof
from auditor.analysis.s3_path import S3Paths
from auditor.analysis.session_manager import fix_of, path_findings
from auditor.model import Estate, Instance
from auditor.vocabulary import FAIL, OK, PATCHING, UNKNOWN

# Stands for the owner of an AWS-owned bucket: an account that is not the audited one.
AWS_OWNED = "aws-owned-not-this-account"


def evaluate(s3: S3Paths, instance: Instance, role: access.Principal | None,
             memo: dict) -> Evidence:
    """Instances alike in role, path and platform share one answer, unless a policy on the
    way can tell them apart."""
    estate = s3.estate
    proof = s3.prove(instance)
    apart = role is not None and (role.instance_sensitive or access.sensitive(
        estate, memo, access.endpoint_policy(estate, proof, memo)[0]))
    key = ("patching-evidence", role.name if role else None,
           instance.instance_id if apart else None, shape(proof), instance.platform)
    if key not in memo:  # the proof stays referenced, so its id stays its own
        memo[key] = ((proof,), {"s3": proof}, _evidence(s3, instance, proof, role, memo))
    return own_proofs(memo, key, (proof,), {"s3": proof})


def _evidence(s3: S3Paths, instance: Instance, proof: ServiceProof,
              role: access.Principal | None, memo: dict) -> Evidence:
    estate = s3.estate
    part = Part("AWS-owned buckets in S3", OK, [f"{proof.hostname}: {proof.status} via "
                                                 f"{proof.via}"])
    part.findings += path_findings("PATCH_S3_UNREACHABLE", proof,
                                   "patching, inventory and Distributor cannot fetch "
                                   "from AWS's buckets")
    if role is None:
        part.status = UNKNOWN
        part.checks.append("the role of the agent is unknown")
    else:
        part.findings += _reads(estate, instance, proof, role, part, memo)
    errors = any(f.severity == "error" for f in part.findings)
    warnings = any(f.severity == "warning" for f in part.findings)
    part.status = FAIL if errors else (UNKNOWN if warnings or proof.status != REACHABLE
                                       or part.status == UNKNOWN else OK)
    part.findings = tagged(part.findings, PATCHING)
    return Evidence(PATCHING, combine_parts([part]), [part], {"s3": proof})


def _reads(estate: Estate, instance: Instance, proof: ServiceProof, role: access.Principal,
           part: Part, memo: dict) -> list[Finding]:
    through_endpoint = proof.endpoint_id is not None
    endpoint, _ = access.endpoint_policy(estate, proof, memo)
    account = estate.account_id or role.arn.split(":")[4]
    owner = AWS_OWNED if _only_own_account(role, endpoint, access.scps(estate, memo),
                                           account) else None
    context = access.instance_context(estate, role, instance, proof, memo)
    if owner:
        context = replace(context, resource_account=owner)
    denied: dict[tuple, list[str]] = {}
    decisions: dict[tuple, Decision] = {}
    undecided: list[Finding] = []
    for bucket in facts.owned_buckets(estate.region, instance.platform):
        resource = facts.bucket_arn(bucket, facts.ANY_OBJECT, estate.region)
        for action in facts.PATCH_S3_ACTIONS:
            decision = access.decide(estate, role, action, resource, context, memo,
                                     proof=proof, instance_id=instance.instance_id)
            if (decision.outcome == iam_policy.DENIED and decision.reason == iam_policy.NO_ALLOW
                    and not through_endpoint):
                part.checks.append(f"{action} on {resource}: not needed over the public path "
                                   "(the agent fetches without a signature)")
                continue
            part.checks.append(f"{action} on {resource}: {decision.outcome} ({decision.detail})")
            if decision.outcome == iam_policy.DENIED:
                key = (decision.reason, decision.deciding, decision.lacking_allow)
                denied.setdefault(key, []).append(bucket)
                decisions[key] = decision
            elif decision.outcome == iam_policy.UNKNOWN:
                undecided.append(Finding(
                    "CONDITION_NOT_EVALUATED", role.name,
                    f"Whether role {role.name} may read {bucket} depends on "
                    f"{', '.join(decision.unresolved_conditions) or 'a condition'}, which the "
                    "auditor cannot know.", None, "warning",
                    {"bucket": bucket, "conditions": list(decision.unresolved_conditions)}))
    findings = [_denied(role, buckets, decisions[key], through_endpoint, proof)
                for key, buckets in denied.items()]
    return findings + undecided[:1]


def _denied(role: access.Principal, buckets: list[str], decision: Decision,
            through_endpoint: bool, proof: ServiceProof) -> Finding:
    statements = [ref.describe() for ref in decision.deciding]
    endpoint_note = (f" Through endpoint {proof.endpoint_id} AWS requires the role to allow "
                     "these reads explicitly." if through_endpoint
                     and decision.reason == iam_policy.NO_ALLOW else "")
    listed = ", ".join(buckets)
    resource = (proof.endpoint_id if decision.reason == iam_policy.ENDPOINT_POLICY
                or any(ref.kind == "endpoint" for ref in decision.deciding) else role.name)
    return Finding(
        "PATCH_S3_DENIED", resource or role.name,
        f"Role {role.name} may not read AWS's buckets {listed} (s3:GetObject): "
        f"{decision.detail}.{endpoint_note}",
        details={"buckets": buckets, "actions": list(facts.PATCH_S3_ACTIONS), "role": role.name,
                 "statements": statements, "reason": decision.reason, "fix": fix_of(decision),
                 "lacking": list(decision.lacking_allow), "endpoint": proof.endpoint_id})


def _only_own_account(role: access.Principal, endpoint: Policy | None,
                      scps: list[list[Policy]] | None, account: str) -> bool:
    """Whether every aws:ResourceAccount condition on the way names only the audited account."""
    policies = [*role.identity, *([role.boundary] if role.boundary else []),
                *([endpoint] if endpoint else []), *(p for level in scps or [] for p in level)]
    values = [value for policy in policies for statement in policy.statements
              for condition in statement.conditions
              if condition.key.lower() == "aws:resourceaccount"
              for value in condition.values]
    return bool(values) and all(value == account for value in values)
