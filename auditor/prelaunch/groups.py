"""One report entry per auto scaling group: the worst of its per-subnet proofs.

An auto scaling group launches into any subnet of its ``VPCZoneIdentifier``, so it is proved
once per subnet; its verdict is the worst, and each finding names the subnet it was found in.
"""

from __future__ import annotations

from dataclasses import replace

from auditor.audit import AuditReport, InstanceAudit
from auditor.catalogue import severity_rank
from auditor.vocabulary import MANAGEABLE, NOT_APPLICABLE, NOT_MANAGEABLE, UNKNOWN

_WORST_FIRST = (NOT_MANAGEABLE, UNKNOWN, MANAGEABLE, NOT_APPLICABLE)


def _merge(group_id: str, members: list[InstanceAudit]) -> InstanceAudit:
    worst = min(members, key=lambda audit: _WORST_FIRST.index(audit.verdict))
    findings = []
    reasons = []
    seen = set()
    for audit in members:
        # A member's id names the subnet it was planned in, even when that subnet is unknown.
        planned = audit.instance.instance_id.partition("@")[2]
        subnet = audit.instance.subnet_id or planned or "an unknown subnet"
        for finding in audit.findings:
            details = {**finding.details, "subnet_id": audit.instance.subnet_id}
            message = finding.message.replace(audit.instance.instance_id, group_id)
            key = (finding.code, finding.resource_id, finding.service, subnet)
            if key not in seen:
                seen.add(key)
                findings.append(replace(finding, message=f"in {subnet}: {message}",
                                        details=details,
                                        resource_id=group_id if finding.resource_id
                                        == audit.instance.instance_id else finding.resource_id))
        reasons += [f"in {subnet}: {reason}" for reason in audit.verdict_reasons]
    findings.sort(key=lambda finding: severity_rank(finding.severity))
    instance = replace(worst.instance, instance_id=group_id)
    return replace(worst, instance=instance, findings=findings, verdict_reasons=reasons)


def merge_groups(report: AuditReport, groups: dict[str, list[str]]) -> AuditReport:
    """The report with each group's members replaced by one entry under the group's id."""
    if not groups:
        return report
    member_of = {member: group for group, members in groups.items() for member in members}
    by_group: dict[str, list[InstanceAudit]] = {}
    merged: list[InstanceAudit | str] = []
    for audit in report.instances:
        group = member_of.get(audit.instance.instance_id)
        if group is None:
            merged.append(audit)
            continue
        if group not in by_group:
            by_group[group] = []
            merged.append(group)
        by_group[group].append(audit)
    instances = [_merge(item, by_group[item]) if isinstance(item, str) else item
                 for item in merged]
    return replace(report, instances=instances)
