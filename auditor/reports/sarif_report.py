"""SARIF 2.1.0, for code-scanning tools (GitHub, GitLab, Azure DevOps) to annotate changes.

One rule per finding code, from the catalogue (id = code, shortDescription = title,
fullDescription = meaning, help = fix); one result per finding of each audited instance
(informational ones left out). A result points at the template line of the resource the
finding names (or of the instance) when the report comes from a template, and always names
the resource as a logical location.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.audit import AuditReport, InstanceAudit
from auditor.catalogue import CATALOGUE
from auditor.reports import RenderOptions
from auditor.reports.locations import Locator, nowhere

if TYPE_CHECKING:
    from auditor.sources.template.context import LogicalRef

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _rule(code: str) -> dict[str, Any]:
    entry = CATALOGUE.get(code)
    if entry is None:
        return {"id": code, "shortDescription": {"text": code}}
    return {"id": code, "name": "".join(word.capitalize() for word in code.split("_")),
            "shortDescription": {"text": entry.title},
            "fullDescription": {"text": entry.meaning},
            "help": {"text": entry.fix, "markdown": entry.fix},
            "defaultConfiguration": {"level": _LEVELS[entry.severity]},
            "properties": {"category": entry.category,
                           "tags": ["ssm", entry.category]}}


def _relative(path: str) -> str:
    """The path as code scanning wants it: relative to the working directory (the checkout)
    when it lies inside it, with forward slashes."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return PurePath(path).as_posix()


def _location(resource_id: str, located: LogicalRef | None) -> dict[str, Any]:
    if located is None:
        return {"logicalLocations": [{"name": resource_id, "kind": "resource"}]}
    uri = _relative(located.path)
    qualified = located.construct_path or f"{uri}/{located.logical_id}"
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri}},
        "logicalLocations": [{"name": located.logical_id, "kind": "resource",
                              "fullyQualifiedName": qualified}]}
    if located.line:
        location["physicalLocation"]["region"] = {"startLine": located.line}
    return location


def _results(audit: InstanceAudit, locate: Locator) -> list[dict[str, Any]]:
    instance_id = audit.instance.instance_id
    results = []
    for finding in audit.findings:
        if finding.severity == "info":
            continue
        located = locate(finding.resource_id) or locate(instance_id)
        subject = (located.logical_id if located and located.logical_id != instance_id
                   else finding.resource_id)
        results.append({
            "ruleId": finding.code,
            "level": _LEVELS.get(finding.severity, "warning"),
            "message": {"text": f"{instance_id} ({audit.verdict.replace('_', ' ')}): "
                                f"{finding.message}"},
            "locations": [_location(subject if located else finding.resource_id, located)],
            "relatedLocations": ([{"id": 1, **_location(instance_id, locate(instance_id)),
                                   "message": {"text": f"instance {instance_id}"}}]
                                 if locate(instance_id) and located != locate(instance_id)
                                 else []),
            "partialFingerprints": {"ssmAuditor/v1": f"{instance_id}/{finding.code}/"
                                                     f"{finding.resource_id}/{finding.service}"},
            "properties": {"instance_id": instance_id, "verdict": audit.verdict,
                           "service": finding.service, "resource_id": finding.resource_id,
                           **({"capability": finding.capability} if finding.capability
                              else {})},
        })
    return results


def render(report: AuditReport, options: RenderOptions | None = None) -> str:
    locate = (options or RenderOptions()).locate or nowhere
    results = [result for audit in report.instances for result in _results(audit, locate)]
    codes = sorted({result["ruleId"] for result in results})
    rules = [_rule(code) for code in codes]
    index = {code: position for position, code in enumerate(codes)}
    for result in results:
        result["ruleIndex"] = index[result["ruleId"]]
        if not result["relatedLocations"]:
            del result["relatedLocations"]
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ssm-auditor", "version": __version__,
                                "rules": rules}},
            "results": results,
            "properties": {"verdicts": {audit.instance.instance_id: audit.verdict
                                        for audit in report.instances}},
        }],
    }
    return json.dumps(document, indent=2)
