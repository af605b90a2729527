"""Symptoms of an instance's logs against the audit of that instance.

Each failure symptom gets a state:

- ``confirmed``: a finding of the audit explains it (named), for the service the log names;
- ``unexplained``: the model sees no cause; what lies outside it is listed (OS firewall, proxy,
  custom DNS, the instance clock...);
- ``contradicted``: the log shows a failure the model proves impossible (a permission denied
  that the role's policies allow, no instance role while the model proves one), or the model
  proves a blocker while the log shows the same thing working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.analysis.results import BLOCKED, REACHABLE, Finding
from auditor.audit import InstanceAudit
from auditor.aws_facts import SERVICES
from auditor.catalogue import CATALOGUE
from auditor.logs.analysis import LogAnalysis
from auditor.logs.classify import SymptomTally
from auditor.logs.symptoms import BY_LABEL, HEALTHY, UNRECOGNIZED, ssm_services
from auditor.vocabulary import FAIL, OK

CONFIRMED = "confirmed"
UNEXPLAINED = "unexplained"
CONTRADICTED = "contradicted"
_OUTSIDE_ALWAYS = ("the agent itself: not installed, stopped, crashed or hibernating",)
# What the OS of the instance ran out of lies inside it, where no finding of the audit reaches.
_OUTSIDE_EXHAUSTION = (
    "the instance's OS limits: open files (ulimit -n, LimitNOFILE, fs.inotify.max_user_instances "
    "and max_user_watches), disk space under /var/lib/amazon/ssm and /var/log, memory",)


@dataclass
class Correlation:
    tally: SymptomTally
    state: str
    reason: str
    findings: list[Finding]
    outside_model: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = self.tally.as_dict()
        data.update({
            "state": self.state, "reason": self.reason,
            "explained_by": [{"code": f.code, "service": f.service,
                              "resource_id": f.resource_id, "message": f.message}
                             for f in self.findings],
            "can_be_explained_by": list(self.tally.explained_by),
        })
        if self.outside_model:
            data["outside_model"] = list(self.outside_model)
        return data


def _services_named(tally: SymptomTally) -> set[str]:
    return ssm_services(tally.fields.get("endpoints", []))


def _explains(finding: Finding, tally: SymptomTally) -> bool:
    """Does this finding (its code already one that can explain the label) explain the tally?"""
    if finding.capability:
        # A capability's own blocker explains only what the log says of its endpoint (kms,
        # logs, s3): the agent's symptoms are the agent's findings' to explain.
        service = (finding.details or {}).get("service")
        hosts = tally.fields.get("endpoints", [])
        return bool(service) and service not in SERVICES and any(
            str(host).split(".", 1)[0] == service for host in hosts)
    entry = CATALOGUE.get(finding.code)
    symptom = BY_LABEL.get(tally.label)
    if entry is not None and entry.carries_service and symptom and symptom.service_scoped:
        named = _services_named(tally)
        if tally.fields.get("endpoints") and not named:
            return False  # the log names only endpoints the model does not prove (s3, kms...)
        if named and finding.service not in named:
            return False
    actions = finding.details.get("actions") if finding.details else None
    logged = tally.fields.get("iam_actions")
    if actions and logged:
        return bool(set(actions) & set(logged))
    return True


def _role_name(arn: str | None) -> str:
    return (arn or "").rsplit("/", 1)[-1]


def _logged_roles(tally: SymptomTally) -> set[str]:
    roles = set()
    for principal in tally.fields.get("principals", []):
        parts = principal.split(":", 5)[-1].split("/")
        if len(parts) >= 2 and parts[0] in ("assumed-role", "role"):
            roles.add(parts[1])
    return roles


def _contradiction(audit: InstanceAudit, tally: SymptomTally) -> str | None:
    """Why the model proves this failure impossible, or None."""
    credentials, permissions = audit.credentials, audit.permissions
    role = _role_name(credentials.role_arn)
    if tally.label == "iam_access_denied":
        logged = {r for r in _logged_roles(tally) if "<" not in r and r.upper() != r}
        if role and logged and role not in logged:
            return (f"the log shows role {', '.join(sorted(logged))} denied, but the model says "
                    f"the agent uses role {role}: the log is from another role or instance, or "
                    "the instance profile changed since")
        if credentials.status == FAIL and logged:
            return (f"the log shows the agent acting as role {', '.join(sorted(logged))}, but "
                    "the model proves its credential chain fails")
        if permissions.status == OK:
            return (f"the model proves role {role or '?'} allows the agent's actions, yet the "
                    "log shows them denied: a policy changed since the log was written, or a "
                    "session policy or resource policy the auditor does not read")
    if tally.label == "no_credentials" and credentials.status == OK \
            and credentials.source == "instance_profile":
        return (f"the model proves the instance profile carries role {role}, yet the agent "
                "found no credentials: the profile was attached after the log was written, "
                "or the agent cannot reach the metadata service (proxy, OS route)")
    if tally.label == "credential_refresher_failure" and "assume_role_unauthorized" in \
            tally.clues and credentials.status == OK:
        return (f"the log shows EC2 refused to assume the role, but the model proves role "
                f"{role} trusts ec2.amazonaws.com")
    if tally.label == "endpoint_unreachable":
        regions = set(tally.fields.get("regions", []))
        if regions and audit.instance.region and audit.instance.region not in regions:
            return (f"the log names region {', '.join(sorted(regions))}, the instance is in "
                    f"{audit.instance.region}: is this the instance's log?")
    return None


def _why_unexplained(audit: InstanceAudit, tally: SymptomTally) -> str:
    label = tally.label
    if label in ("endpoint_unreachable", "session_manager_channel"):
        services = sorted(_services_named(tally)) or (
            ["ssmmessages"] if label == "session_manager_channel" else [])
        if not services and tally.fields.get("endpoints"):
            return (f"the log names {', '.join(tally.fields['endpoints'])}, which the auditor "
                    "does not prove (it proves ssm, ssmmessages and ec2messages)")
        reachable = [s for s in services if s in audit.services
                     and audit.services[s].status == REACHABLE]
        if reachable:
            return (f"the model proves {', '.join(reachable)} reachable on TCP 443, so the cause "
                    "lies outside it")
    if label == "imds_unreachable" and audit.imds.status == OK:
        return "the model proves the metadata service enabled, so the cause lies on the instance"
    return "no finding of the audit explains it, so the cause lies outside the model"


def _correlate_one(audit: InstanceAudit, tally: SymptomTally) -> Correlation:
    outside = tally.outside_clues
    if outside and not tally.explained_by:
        return Correlation(tally, UNEXPLAINED, "; ".join(outside), [],
                           outside + _OUTSIDE_ALWAYS)
    codes = set(tally.explained_by)
    findings = [f for f in audit.findings if f.code in codes and _explains(f, tally)]
    if findings:
        names = ", ".join(dict.fromkeys(f.code for f in findings))
        return Correlation(tally, CONFIRMED, f"explained by {names}", findings)
    ssm = audit.services.get("ssm")
    if tally.label == "credential_refresher_failure" and ssm is not None \
            and ssm.status == BLOCKED and ssm.findings:
        names = ", ".join(dict.fromkeys(f.code for f in ssm.findings))
        return Correlation(tally, CONFIRMED, "the refresher checks its credentials with "
                           f"ssm:UpdateInstanceInformation, and ssm is blocked: {names}",
                           list(ssm.findings))
    contradiction = _contradiction(audit, tally)
    if contradiction:
        return Correlation(tally, CONTRADICTED, contradiction, [])
    symptom = BY_LABEL.get(tally.label)
    outside = (symptom.outside_model if symptom else ()) + _OUTSIDE_ALWAYS
    return Correlation(tally, UNEXPLAINED, _why_unexplained(audit, tally), [], outside)


def _working_contradictions(audit: InstanceAudit, analysis: LogAnalysis) -> list[Correlation]:
    """The model proves a blocker of something the input shows working."""
    found = []
    for what, shown_by in analysis.working.items():
        proof = audit.services.get(what)
        if proof is not None and proof.status == BLOCKED:
            reason = (f"the input shows {what} working ({shown_by}), but the model proves it "
                      "blocked: the configuration changed since, or the path leaves the model")
            found.append(Correlation(SymptomTally(HEALTHY), CONTRADICTED, reason,
                                     list(proof.findings)))
        if what == "credentials" and audit.credentials.status == FAIL:
            reason = (f"the input shows the agent holding credentials ({shown_by}), but the "
                      "model proves the credential chain fails")
            blockers = [f for f in audit.findings if CATALOGUE.get(f.code) is not None
                        and CATALOGUE[f.code].category == "credentials"]
            found.append(Correlation(SymptomTally(HEALTHY), CONTRADICTED, reason, blockers))
    return found


def correlate(audit: InstanceAudit, analysis: LogAnalysis) -> list[dict[str, Any]]:
    """The input's symptoms, each with its state against this instance's audit."""
    results = []
    for tally in analysis.symptoms:
        if tally.label in (HEALTHY,):
            continue
        if tally.label == UNRECOGNIZED:
            exhausted = tally.fields.get("exhausted")
            if exhausted:
                results.append(Correlation(
                    tally, UNEXPLAINED, f"resource exhaustion inside the instance's OS "
                    f"({', '.join(exhausted)}): no finding of the audit can explain it",
                    [], _OUTSIDE_EXHAUSTION + _OUTSIDE_ALWAYS))
                continue
            results.append(Correlation(tally, UNEXPLAINED, "a failure outside the symptom "
                                       "catalogue: read the evidence", [], _OUTSIDE_ALWAYS))
            continue
        results.append(_correlate_one(audit, tally))
    results.extend(_working_contradictions(audit, analysis))
    return [result.as_dict() for result in results]
