"""The ``capabilities`` of an instance in the JSON report (contract section 7).

``{"session_manager": {...}, "patching": {...}}``, each ``{"status", "findings": [codes],
"reasons", "parts": [{"name", "status"}], "services": {name: proof}, "notes"}``; Session
Manager adds ``operator`` (``--operator``: by ARN) and ``operators`` (``--operators``: the roles
and users that may, or might, start a session). A service's proof here says how it is reached
(status, via, where the name resolves, the endpoint, the blocking codes) and, when it is not
reachable, its hops as the agent's services give them (``path``: where it stops). Every hop of
a reachable one and each policy decision are in the text report's ``-v``; the findings carry
the deciding statements. (Every hop of every reachable service would make a 10,000-instance
report half as large again: 124 MB instead of 91.)
"""

from __future__ import annotations

import json
from typing import Any

from auditor.analysis.capabilities import CapabilityResult, OperatorResult
from auditor.analysis.results import ServiceProof
from auditor.audit import InstanceAudit
from auditor.vocabulary import REACHABLE


def capabilities_dict(audit: InstanceAudit, with_services: bool = True) -> dict[str, Any]:
    return {name: capability_dict(result, with_services)
            for name, result in audit.capabilities.items()}


def service_summary(proof: ServiceProof) -> dict[str, Any]:
    from auditor.reports.json_report import service_dict  # which imports this module

    data = {**service_dict(proof), "endpoint_id": proof.endpoint_id}
    if proof.status == REACHABLE:
        del data["path"]
    return data


def capability_dict(result: CapabilityResult, with_services: bool = True) -> dict[str, Any]:
    evidence = result.evidence
    data: dict[str, Any] = {
        "status": result.status,
        "findings": list(dict.fromkeys(f.code for f in result.findings)),
        "reasons": result.reasons,
        "parts": [{"name": part.name, "status": part.status} for part in evidence.parts],
    }
    if with_services:
        data["services"] = {name: service_summary(proof)
                            for name, proof in evidence.proofs.items()}
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


def encoded_capabilities(audit: InstanceAudit, cache: dict[tuple, str]) -> str:
    """``"capabilities": {...}`` as JSON text, for the compact report of a fleet: instances
    alike share their evidence, so each capability is encoded once per evidence, status and
    reasons."""
    encoded = []
    for name, result in audit.capabilities.items():
        key = (name, id(result.evidence), result.status, tuple(result.reasons))
        if result.operators or result.operator_listing is not None:
            text = json.dumps(capability_dict(result))
        else:
            if key not in cache:
                cache[key] = json.dumps(capability_dict(result))
            text = cache[key]
        encoded.append(f"{json.dumps(name)}: {text}")
    return f'"capabilities": {{{", ".join(encoded)}}}'
