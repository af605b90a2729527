"""The ``capabilities`` of an instance in the JSON report (contract section 7).

``{"session_manager": {...}, "patching": {...}}``, each ``{"status", "findings": [codes],
"reasons", "parts": [{"name", "status"}], "services": {name: proof}, "notes"}``; Session
Manager adds ``operator`` (``--operator``: by ARN) and ``operators`` (``--operators``: the roles
and users that may, or might, start a session). The proof in words (each policy decision) is
in the text report's ``-v``; the findings carry the deciding statements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.analysis.capabilities import CapabilityResult, OperatorResult
from auditor.analysis.results import ServiceProof
from auditor.audit import InstanceAudit

ServiceDict = Callable[[ServiceProof], dict[str, Any]]


def capabilities_dict(audit: InstanceAudit, service_dict: ServiceDict | None = None
                      ) -> dict[str, Any]:
    """``service_dict``: how a proof is written (None: the services are left out)."""
    return {name: capability_dict(result, service_dict)
            for name, result in audit.capabilities.items()}


def capability_dict(result: CapabilityResult, service_dict: ServiceDict | None = None
                    ) -> dict[str, Any]:
    evidence = result.evidence
    data: dict[str, Any] = {
        "status": result.status,
        "findings": list(dict.fromkeys(f.code for f in result.findings)),
        "reasons": result.reasons,
        "parts": [{"name": part.name, "status": part.status} for part in evidence.parts],
    }
    if service_dict is not None:
        data["services"] = {name: service_dict(proof) for name, proof in evidence.proofs.items()}
    if evidence.notes:
        data["notes"] = evidence.notes
    if result.operators:
        data["operator"] = {arn: operator_dict(operator, with_checks=True)
                            for arn, operator in result.operators.items()}
    if result.operator_listing is not None:
        data["operators"] = [operator_dict(operator) for operator in result.operator_listing]
    return data


def operator_dict(operator: OperatorResult, with_checks: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"principal": operator.principal, "kind": operator.kind,
                            "status": operator.status,
                            "findings": list(dict.fromkeys(f.code for f in operator.findings))}
    if operator.run_as:
        data["run_as"] = operator.run_as
    if with_checks:
        data["checks"] = operator.checks
    return data
