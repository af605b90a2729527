"""The instance metadata service, as the instance's metadata options configure it.

Security groups and network ACLs never filter 169.254.169.254, so only the options decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.analysis.results import Finding
from auditor.aws_facts import METADATA_ENDPOINT_VALUES
from auditor.model import Instance
from auditor.vocabulary import FAIL, OK, UNKNOWN


@dataclass
class ImdsResult:
    status: str
    http_endpoint: str | None = None
    http_tokens: str | None = None
    hop_limit: int | None = None
    findings: list[Finding] = field(default_factory=list)


def evaluate(instance: Instance) -> ImdsResult:
    options = instance.metadata
    if options is None:
        return ImdsResult(UNKNOWN, findings=[Finding(
            "DATA_UNAVAILABLE", instance.instance_id,
            f"The metadata options of {instance.instance_id} are not in the data.",
            None, "warning")])
    result = ImdsResult(OK, options.http_endpoint, options.http_tokens,
                        options.http_put_response_hop_limit)
    if options.http_endpoint not in METADATA_ENDPOINT_VALUES:  # read exactly, never guessed
        result.status = UNKNOWN
        result.findings.append(Finding(
            "DATA_UNAVAILABLE", instance.instance_id,
            f"The metadata options of {instance.instance_id} say HttpEndpoint="
            f"{options.http_endpoint[:40]!r}, which is neither enabled nor disabled: whether the "
            "agent can reach the metadata service is unknown.", None, "warning"))
    if options.http_endpoint == "disabled":
        result.status = FAIL
        result.findings.append(Finding(
            "IMDS_DISABLED", instance.instance_id,
            f"{instance.instance_id} has the metadata service disabled (HttpEndpoint=disabled): "
            "the agent cannot learn its instance id or region, nor get role credentials.",
            None))
    return result
