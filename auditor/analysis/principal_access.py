"""What an IAM principal (the instance's role, or a person's role or user) may do with one
resource, through the policy evaluator: identity policies, the permissions boundary, the
service control policies, the endpoint policy on the way and the resource's own policy.

Parsed policies are kept per estate (``memo``), and so are decisions unless a policy can tell
instances apart (their ARN, id or tags), so that a fleet sharing a role is decided once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from auditor import aws_facts
from auditor.analysis import iam_policy
from auditor.analysis.credentials import _endpoint_policy, _service_control_policies
from auditor.analysis.iam_policy import Decision, Policy, RequestContext
from auditor.analysis.results import ServiceProof
from auditor.model import Estate, Instance, ManagedPolicy
from auditor.vocabulary import FAIL, OK, UNKNOWN

# Text that lets a statement tell one instance from another (as in credentials).
_INSTANCE_MARKERS = ("instance", "i-", "resourcetag", "${", "targetid")


@dataclass(frozen=True)
class Principal:
    """A role or user with its policies parsed: what the evaluator takes."""

    kind: str  # "role" | "user"
    name: str
    arn: str
    identity: tuple[Policy, ...]
    boundary: Policy | None
    unread: tuple[str, ...]  # policies whose document is not known
    tags: tuple[tuple[str, str], ...] = ()
    scoping: str = ""  # the Resource and Condition text of its policies, lower case

    @cached_property
    def instance_sensitive(self) -> bool:
        return any(marker in self.scoping for marker in _INSTANCE_MARKERS)


def status_of(decision: Decision) -> str:
    return {iam_policy.ALLOWED: OK, iam_policy.DENIED: FAIL}.get(decision.outcome, UNKNOWN)


def _scoping(documents: list[Any]) -> str:
    parts = []
    for document in documents:
        statements = document.get("Statement", []) if isinstance(document, dict) else []
        statements = [statements] if isinstance(statements, dict) else statements
        parts += [{key: statement.get(key) for key in ("Resource", "NotResource", "Condition")}
                  for statement in statements if isinstance(statement, dict)]
    return json.dumps(parts, default=str).lower()


def _managed(estate: Estate, arn: str, kind: str, where: str, memo: dict
             ) -> tuple[Policy | None, Any]:
    """A managed policy parsed once per estate (None when its document is not known)."""
    key = ("managed-policy", arn, kind, where)
    if key not in memo:
        policy: ManagedPolicy | None = estate.managed_policies.get(arn)
        memo[key] = ((iam_policy.parse_policy(policy.document, policy.name, kind, where),
                      policy.document) if policy is not None and policy.document is not None
                     else (None, None))
    return memo[key]


def principal(estate: Estate, kind: str, name: str, memo: dict) -> Principal | None:
    """A role (``estate.roles``) or user (``estate.session.users``, with its groups' policies)
    by name, parsed once; None when the name is not in the data. A policy IAM would not have
    stored raises ValueError."""
    key = ("principal", kind, name)
    if key in memo:
        return memo[key]
    if kind == "role":
        found = estate.roles.get(name)
        sources = [(f"role {name}", found)] if found is not None else []
    else:
        found = (estate.session.users or {}).get(name)
        groups = estate.session.groups or {}
        sources = [(f"user {name}", found)] if found is not None else []
        if found is not None:
            sources += [(f"group {group}", groups[group]) for group in found.group_names
                        if group in groups]
    if found is None:
        memo[key] = None
        return None
    identity: list[Policy] = []
    documents: list[Any] = []
    unread: list[str] = []
    for where, holder in sources:
        for policy_name, document in holder.inline_policies.items():
            identity.append(iam_policy.parse_policy(document, policy_name, "inline", where))
            documents.append(document)
        for arn in holder.attached_policy_arns:
            policy, document = _managed(estate, arn, "managed", where, memo)
            if policy is None:
                unread.append(arn)
            else:
                identity.append(policy)
                documents.append(document)
    boundary = None
    boundary_arn = found.permissions_boundary_arn
    if boundary_arn:
        boundary, document = _managed(estate, boundary_arn, "boundary", f"{kind} {name}", memo)
        if boundary is None:
            unread.append(boundary_arn)
        documents.append(document)
    memo[key] = Principal(kind, name, found.arn, tuple(identity), boundary, tuple(unread),
                          tuple(sorted(found.tags.items())), _scoping(documents))
    return memo[key]


def role_of_arn(arn: str | None) -> str | None:
    """The role name an ARN names: a role ARN (with its path) or an assumed-role session."""
    if not arn:
        return None
    resource = arn.split(":", 5)[-1]
    if resource.startswith("role/"):
        return resource.rsplit("/", 1)[-1]
    if resource.startswith("assumed-role/"):
        parts = resource.split("/")
        return parts[1] if len(parts) > 1 else None
    return None


def scps(estate: Estate, memo: dict) -> list[list[Policy]] | None:
    if "scps" not in memo:
        memo["scps"] = _service_control_policies(estate)
    return memo["scps"]


def endpoint_policy(estate: Estate, proof: ServiceProof | None, memo: dict
                    ) -> tuple[Policy | None, str | None]:
    """The policy of the endpoint a call travels through (interface or gateway)."""
    if proof is None or not proof.endpoint_id:
        return None, None
    key = ("endpoint-policy", proof.endpoint_id)
    if key not in memo:
        memo[key] = _endpoint_policy(estate, proof)
    return memo[key]


def instance_context(estate: Estate, who: Principal, instance: Instance,
                     proof: ServiceProof | None, memo: dict,
                     extra: dict[str, list[str]] | None = None,
                     via_aws_service: bool = False) -> RequestContext:
    """The request context of a call the agent on ``instance`` makes as ``who``."""
    account = estate.account_id or who.arn.split(":")[4]
    _, source_vpc = endpoint_policy(estate, proof, memo)
    return RequestContext(
        principal_arn=who.arn, principal_account=account, region=estate.region,
        instance_arn=aws_facts.instance_arn(estate.region, account, instance.instance_id),
        instance_tags=instance.tags, source_vpc=source_vpc,
        source_vpce=proof.endpoint_id if proof else None, via_aws_service=via_aws_service,
        network_path_known=proof is not None and (proof.status != UNKNOWN
                                                  or proof.endpoint_id is not None),
        extra=extra or {})


def decide(estate: Estate, who: Principal, action: str, resource: str,
           context: RequestContext, memo: dict, *, proof: ServiceProof | None = None,
           resource_policy: Policy | None = None, required: bool = False,
           instance_id: str | None = None) -> Decision:
    """``action`` on ``resource`` for ``who``, through the endpoint of ``proof``; with a
    resource policy, ``required`` says whether it must grant (KMS) or may (S3).
    ``instance_id``: the instance whose tags or ARN a policy may test (kept apart in the memo)."""
    endpoint, _ = endpoint_policy(estate, proof, memo)
    apart = instance_id if instance_id and (
        who.instance_sensitive or sensitive(estate, memo, resource_policy, endpoint)) else None
    # The context's own keys (kms:ViaService...) always tell calls apart; the instance's id
    # in an encryption context does only when a policy can see it.
    extra = tuple(sorted((k, tuple(v)) for k, v in context.extra.items()
                         if apart or not k.lower().startswith("kms:encryptioncontext:")))
    key = ("decision", who.kind, who.name, action, resource, proof.endpoint_id if proof else None,
           context.network_path_known, context.via_aws_service, id(resource_policy), required,
           apart, extra)
    if key not in memo:
        arguments = {"boundary": who.boundary, "scps": scps(estate, memo),
                     "endpoint_policy": endpoint}
        if resource_policy is None and not required:
            memo[key] = iam_policy.evaluate_action(action, resource, context, who.identity,
                                                   **arguments)
        else:
            memo[key] = iam_policy.evaluate_with_resource_policy(
                action, resource, context, who.identity, resource_policy, required=required,
                **arguments)
    return memo[key]


def sensitive(estate: Estate, memo: dict, *policies: Policy | None) -> bool:
    """Whether any of these policies, or a service control policy, can tell one instance from
    another (its ARN, id, tags, the encryption context naming it): then an answer is the
    instance's own, not its role's. Each policy is read once."""
    return _scps_sensitive(estate, memo) or any(
        _policy_sensitive(policy, memo) for policy in policies if policy is not None)


def _policy_sensitive(policy: Policy, memo: dict) -> bool:
    key = ("sensitive", id(policy))
    if key not in memo:
        text = json.dumps([[statement.resources, statement.not_resources,
                            [condition.key for condition in statement.conditions]]
                           for statement in policy.statements]).lower()
        memo[key] = (policy, any(marker in text for marker in _INSTANCE_MARKERS))
    return memo[key][1]


def _scps_sensitive(estate: Estate, memo: dict) -> bool:
    if "scps-sensitive" not in memo:
        memo["scps-sensitive"] = any(_policy_sensitive(policy, memo)
                                     for level in scps(estate, memo) or () for policy in level)
    return memo["scps-sensitive"]


def resource_policy(document: dict | None, name: str, attached_to: str, memo: dict
                    ) -> Policy | None:
    """A resource's own policy (a key or bucket policy), parsed once."""
    if document is None:
        return None
    key = ("resource-policy", name, attached_to)
    if key not in memo:
        memo[key] = iam_policy.parse_policy(document, name, "resource", attached_to)
    return memo[key]
