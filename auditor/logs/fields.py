"""Facts a log line names: endpoints, regions, addresses, IAM actions, principals, ids, back-off."""

from __future__ import annotations

import re

_HOST = re.compile(r"(?:https?|wss)://([a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?)"
                   r"|lookup ([a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?)"
                   r"|\b((?:ssm|ssmmessages|ec2messages|ec2|sts|s3|kms|logs|monitoring)"
                   r"\.[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d\.amazonaws\.com(?:\.cn)?)\b", re.I)
_REGION_IN_HOST = re.compile(r"\.([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)\.amazonaws\.com")
_REGION_IN_ARN = re.compile(r"\barn:aws[\w-]*:[\w-]+:([a-z]{2}(?:-gov)?-[a-z]+-\d):")
_ADDRESS = re.compile(r"(?:dial tcp |->|connect to )\[?(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]+:"
                      r"[0-9a-f:]*)\]?:(\d{1,5})\b", re.I)
_ACTION = re.compile(r"perform: ([\w-]+:[\w*]+)")
_PRINCIPAL = re.compile(r"\b(arn:aws[\w-]*:(?:sts|iam)::[\w<>-]+:(?:assumed-role|role|user)/"
                        r"[^\s,;)\"']+)")
_INSTANCE = re.compile(r"\b((?:i-[0-9a-f]{8}(?:[0-9a-f]{9})?|mi-[0-9a-f]{17}))\b")
_VERSION = re.compile(r"(?:SSM Agent v|amazon-ssm-agent - v|SSM Agent version is |"
                      r"amazon-ssm-agent-|Agent version[: ]+v?)(\d+\.\d+\.\d+\.\d+)", re.I)
_BACKOFF = re.compile(r"Sleeping for (\S+) before retrying|Backing off health check to every "
                      r"(\d+ \w+)|retry automatically after (\d+ \w+)"
                      r"|(?:hibernat\w{0,20}|back ?off)[^\n]{0,40}?every (\d+ ?\w+)", re.I)
# Values kept per field per label; a flood of lines must not grow the report.
MAX_VALUES = 10


def _first_groups(pattern: re.Pattern[str], text: str) -> list[str]:
    return [next(group for group in match.groups() if group)
            for match in pattern.finditer(text)]


def extract(text: str) -> dict[str, list[str]]:
    """The fields of one record's text (prefixes stripped), each a list of distinct values."""
    hosts = [host.lower() for host in _first_groups(_HOST, text)]
    regions = [m.group(1) for m in _REGION_IN_HOST.finditer("." + " .".join(hosts))]
    regions += _REGION_IN_ARN.findall(text)
    found = {
        "endpoints": hosts,
        "regions": regions,
        "addresses": [f"{ip}:{port}" for ip, port in _ADDRESS.findall(text)],
        "iam_actions": _ACTION.findall(text),
        "principals": [arn.rstrip(".") for arn in _PRINCIPAL.findall(text)],
        "instance_ids": _INSTANCE.findall(text),
        "agent_versions": _VERSION.findall(text),
        "backoff": _first_groups(_BACKOFF, text),
    }
    return {name: list(dict.fromkeys(values)) for name, values in found.items() if values}


def merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for name, values in more.items():
        kept = into.setdefault(name, [])
        for value in values:
            if value not in kept and len(kept) < MAX_VALUES:
                kept.append(value)
