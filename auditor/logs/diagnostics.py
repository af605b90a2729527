"""`ssm-cli get-diagnostics --output json` as evidence, with what each check cannot prove.

The agent's CLI prints ``{"DiagnosticsOutput": [{"Check": ..., "Status": "Success" | "Failed" |
"Skipped", "Note": ...}, ...]}``. A failed check becomes a record for the classifier (its note
carries the Go error, e.g. ``dial tcp 10.0.1.5:443: i/o timeout``); a successful one is a
"working" signal, with the caveat of how weak that check is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from auditor.aws_facts import SERVICES
from auditor.logs.reader import Record

MAX_DOCUMENT_BYTES = 5 << 20
_CONNECTIVITY = re.compile(r"^Connectivity to (\S+) endpoint$")
_CREDENTIALS_MISSING = re.compile(r"credential|EC2Role|provider", re.I)

# Where a check is known to mislead (read from the agent's source, agent/cli/diagnostics).
CAVEATS = {
    "connectivity": "a 1-second TCP connect to port 443 (3 s through a proxy): it proves neither "
                    "TLS, nor the HTTP request, nor that the agent itself uses the same path",
    "credentials": "it calls sts:GetCallerIdentity, which needs no permission at all: it proves "
                   "the agent has credentials, not that they allow ssm:UpdateInstanceInformation",
    "imds": "it reads the instance id and region only; role credentials come from another path",
}


@dataclass
class DiagnosticsEvidence:
    checks: list[dict[str, str]] = field(default_factory=list)
    records: list[tuple[Record, str]] = field(default_factory=list)  # (record, fallback label)
    working: dict[str, str] = field(default_factory=dict)  # what works -> check that says so
    notes: list[str] = field(default_factory=list)


def looks_like_diagnostics(head: bytes) -> bool:
    return head.lstrip()[:1] == b"{" and b"DiagnosticsOutput" in head


def _kind(check: str) -> tuple[str, str | None]:
    """(what the check is about, the SSM service for a connectivity check)."""
    match = _CONNECTIVITY.match(check)
    if match:
        return "connectivity", match.group(1)
    if check == "AWS Credentials":
        return "credentials", None
    if check == "EC2 IMDS":
        return "imds", None
    return check.lower(), None


_FALLBACK = {"connectivity": "endpoint_unreachable", "credentials": "no_credentials",
             "imds": "imds_unreachable"}


def parse(document: bytes, source: str) -> DiagnosticsEvidence:
    """The checks of one get-diagnostics JSON document; ValueError when it is not one."""
    try:
        data: Any = json.loads(document.decode("utf-8", errors="replace"))
    except RecursionError:  # nested deeper than Python's stack: not the agent's output
        raise ValueError("nested too deeply") from None
    rows = data.get("DiagnosticsOutput") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ValueError("no DiagnosticsOutput list")
    evidence = DiagnosticsEvidence()
    for row in rows:
        if not isinstance(row, dict):
            continue
        check, status = str(row.get("Check", "")), str(row.get("Status", ""))
        note = str(row.get("Note", ""))
        kind, service = _kind(check)
        caveat = CAVEATS.get(kind)
        evidence.checks.append({"check": check, "status": status, "note": note,
                                **({"caveat": caveat} if caveat else {})})
        if status == "Failed":
            if kind == "connectivity" and service not in SERVICES:
                evidence.notes.append(f"{check} failed ({note}): an optional feature's endpoint, "
                                      "not needed for the agent to be managed")
                continue
            if kind == "credentials" and not _CREDENTIALS_MISSING.search(note):
                evidence.notes.append(f"{check} failed ({note}): the check could not complete its "
                                      "STS call, which says nothing of the agent's own "
                                      "credentials")
                continue
            line = f"ssm-cli get-diagnostics: {check}: Failed: {note}"
            fallback = _FALLBACK.get(kind, "unrecognized")
            evidence.records.append((Record((line,), (line,), None, source), fallback))
        elif status == "Success":
            if kind == "connectivity" and service in SERVICES:
                evidence.working[service] = f"{check}: {note}"
            elif kind in ("credentials", "imds"):
                evidence.working[kind] = f"{check}: {note}"
            if caveat and kind != "imds":
                evidence.notes.append(f"{check} succeeded, but it is {caveat}")
        if kind == "proxy configuration" and status == "Success":
            evidence.notes.append(f"a proxy is configured ({note}): the auditor does not see "
                                  "what the proxy allows")
    return evidence
