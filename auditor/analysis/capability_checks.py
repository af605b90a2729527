"""Evaluate an instance's capabilities (Session Manager, patching) and who may connect.

The evaluators of each capability share the estate's memo with the credential chain, and one
``S3Paths`` per prover, so that a fleet's instances alike in network and role are decided once.
"""

from __future__ import annotations

from auditor.analysis import operators as operators_eval
from auditor.analysis import patching as patching_eval
from auditor.analysis import principal_access as access
from auditor.analysis import session_manager as session_eval
from auditor.analysis.capabilities import (
    CapabilityInput,
    OperatorResult,
    unknown_evidence,
)
from auditor.analysis.credentials import CredentialResult
from auditor.analysis.prover import NetworkProver
from auditor.analysis.results import ServiceProof
from auditor.analysis.s3_path import S3Paths
from auditor.model import Instance
from auditor.vocabulary import OK, PATCHING, SESSION_MANAGER


def evaluate(prover: NetworkProver, instance: Instance, services: dict[str, ServiceProof],
             credentials: CredentialResult, memo: dict,
             operators: tuple[str, ...] = ()) -> CapabilityInput:
    estate = prover.estate
    key = ("s3-paths", id(prover))
    if key not in memo:
        memo[key] = S3Paths(prover)
    s3: S3Paths = memo[key]
    role, why = _agent_role(prover, credentials, memo)
    if role is None and why:
        evidence = {name: unknown_evidence(name, why) for name in (SESSION_MANAGER, PATCHING)}
    else:
        evidence = {
            SESSION_MANAGER: session_eval.evaluate(prover, s3, instance, services, role, memo),
            PATCHING: patching_eval.evaluate(s3, instance, role, memo),
        }
    results = {arn: operators_eval.evaluate(estate, instance, arn, memo) for arn in operators}
    return CapabilityInput(evidence, results)


def operator_listing(prover: NetworkProver, instance: Instance, memo: dict
                     ) -> list[OperatorResult]:
    return operators_eval.listing(prover.estate, instance, memo)


def _agent_role(prover: NetworkProver, credentials: CredentialResult, memo: dict
                ) -> tuple[access.Principal | None, str]:
    """The role the agent's credentials come from, parsed; else why it is not known ("" when
    the agent has no credentials at all: the verdict already says so)."""
    if credentials.status != OK or not credentials.role_arn:
        return None, "the agent has no proven credentials, so what its role allows is unknown"
    name = access.role_of_arn(credentials.role_arn)
    try:
        role = access.principal(prover.estate, "role", name or "", memo)
    except ValueError as error:
        return None, f"a policy of the agent's role cannot be read: {error}"
    if role is None:
        return None, f"role {name} is not in the data"
    if role.unread:
        return None, f"the documents of {', '.join(role.unread)} are not known"
    return role, ""
