"""Which Route 53 answers matter for a set of VPCs, read from raw answers.

Shared by the live reader (which zones' records to read, which rule groups and profiles to
follow, which VPCs beyond the instances' to read because the instances' names lead there) and
the parser (the same widening for a snapshot read with ``--instance``). Answers are in the AWS
CLI's shape (``api_calls``); what is not there yet counts as empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from auditor import aws_facts, limits
from auditor.sources import api_calls

Answers = Mapping[str, Any]
# Resolver rule associations, firewall associations and profile associations in these states
# no longer (or never did) apply; every other state is taken as applying, so that a rule
# being created or deleted is not ignored.
INACTIVE_STATES = frozenset(("FAILED", "OVERRIDDEN", "DELETED"))
# How many times the reader follows records into further zones (a CNAME to a name another
# associated zone answers).
ZONE_ROUNDS = limits.ZONE_ROUNDS.value


def last_segment(resource: str) -> str:
    """"vpc-0abc" from an ARN (arn:...:vpc/vpc-0abc) or from the id itself."""
    return resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def zone_id(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def _list(answers: Answers, call: api_calls.ApiCall) -> list[dict]:
    answer = answers.get(call.kind)
    if call.per_resource:
        return [item for item in answer or [] if isinstance(item, dict)]
    return list((answer or {}).get(call.result_key) or []) if isinstance(answer, dict) else []


def active(item: dict) -> bool:
    return str(item.get("Status") or "").upper() not in INACTIVE_STATES


def profiles_by_vpc(answers: Answers, vpc_ids: Iterable[str]) -> dict[str, list[str]]:
    wanted = set(vpc_ids)
    found: dict[str, list[str]] = {}
    for item in _list(answers, api_calls.PROFILE_ASSOCIATIONS):
        vpc_id = last_segment(str(item.get("ResourceId") or ""))
        if vpc_id in wanted and active(item) and item.get("ProfileId"):
            found.setdefault(vpc_id, []).append(item["ProfileId"])
    return found


def profile_resources(answers: Answers) -> dict[str, list[dict]]:
    """Profile id -> its active resource associations."""
    return {item["ProfileId"]: [r for r in item.get(api_calls.PROFILE_RESOURCES.result_key)
                                or [] if active(r)]
            for item in _list(answers, api_calls.PROFILE_RESOURCES) if item.get("ProfileId")}


def profile_resource_kind(arn: str) -> str:
    """hostedzone, resolver-rule, firewall-rule-group, vpc-endpoint... from a resource ARN."""
    resource = arn.split(":", 5)[-1]
    return resource.split("/", 1)[0] if "/" in resource else ""


def profile_arns(answers: Answers, vpc_ids: Iterable[str], kind: str) -> dict[str, list[str]]:
    """VPC id -> the ARNs of ``kind`` resources its profiles bring."""
    resources = profile_resources(answers)
    found: dict[str, list[str]] = {}
    for vpc_id, profiles in profiles_by_vpc(answers, vpc_ids).items():
        for profile_id in profiles:
            for resource in resources.get(profile_id, []):
                arn = str(resource.get("ResourceArn") or "")
                if profile_resource_kind(arn) == kind:
                    found.setdefault(vpc_id, []).append(arn)
    return found


def zones_by_vpc(answers: Answers, vpc_ids: Iterable[str]) -> dict[str, list[dict]]:
    """VPC id -> the summaries of its private hosted zones (ListHostedZonesByVPC), and the
    zones its profiles bring as {"HostedZoneId": id} (their name comes with their records)."""
    wanted = set(vpc_ids)
    found: dict[str, list[dict]] = {}
    for answer in _list(answers, api_calls.HOSTED_ZONES_BY_VPC):
        vpc_id = str(answer.get("VPCId") or "")
        if vpc_id in wanted:
            found.setdefault(vpc_id, []).extend(
                answer.get(api_calls.HOSTED_ZONES_BY_VPC.result_key) or [])
    for vpc_id, arns in profile_arns(answers, wanted, "hostedzone").items():
        found.setdefault(vpc_id, []).extend({"HostedZoneId": zone_id(arn)} for arn in arns)
    return found


def records_by_zone(answers: Answers) -> dict[str, list[dict]]:
    """Zone id -> its record sets, for the zones read (a zone that was refused is absent)."""
    return {zone_id(str(item.get("HostedZoneId") or "")):
            list(item.get(api_calls.RECORD_SETS.result_key) or [])
            for item in _list(answers, api_calls.RECORD_SETS) if "Error" not in item}


def record_targets(record: dict) -> list[str]:
    """The names a record leads to: its alias target, or a CNAME's value."""
    targets = []
    alias = (record.get("AliasTarget") or {}).get("DNSName")
    if alias:
        targets.append(aws_facts.dns_name(str(alias)))
    if str(record.get("Type") or "").upper() == "CNAME":
        targets += [aws_facts.dns_name(str(value.get("Value") or ""))
                    for value in record.get("ResourceRecords") or []]
    return targets


def zones_to_read(answers: Answers, vpc_ids: Iterable[str], region: str,
                  done: Iterable[str] = ()) -> list[str]:
    """The zones whose records may decide the agent's names in these VPCs and are not read
    yet: a zone whose name is one of the services' names or a parent of one, or of a name the
    records read so far lead to; a zone a profile brings (its name is not known before)."""
    wanted = {aws_facts.service_hostname(region, service) for service in aws_facts.SERVICES}
    for records in records_by_zone(answers).values():
        for record in records:
            wanted.update(record_targets(record))
    seen = set(done)
    chosen: list[str] = []
    for summaries in zones_by_vpc(answers, vpc_ids).values():
        for summary in summaries:
            identifier = zone_id(str(summary.get("HostedZoneId") or ""))
            name = summary.get("Name")
            relevant = name is None or any(aws_facts.dns_covers(aws_facts.dns_name(str(name)),
                                                                target) for target in wanted)
            if identifier and relevant and identifier not in seen:
                seen.add(identifier)
                chosen.append(identifier)
    return chosen


def readable_zone(summary: dict, account_id: str) -> str | None:
    """None when this account may list the zone's records; else why not."""
    owner = summary.get("Owner") or {}
    if owner.get("OwningService"):
        return f"owned by the AWS service {owner['OwningService']}"
    account = owner.get("OwningAccount")
    if account and account_id and account != account_id:
        return f"owned by account {account}: its records can be read only there"
    return None


def firewall_groups_by_vpc(answers: Answers, vpc_ids: Iterable[str]
                           ) -> dict[str, list[tuple[str, int, str]]]:
    """VPC id -> (rule group id, priority, profile id or "") of each group that applies."""
    wanted = set(vpc_ids)
    found: dict[str, list[tuple[str, int, str]]] = {}
    for item in _list(answers, api_calls.FIREWALL_ASSOCIATIONS):
        if item.get("VpcId") in wanted and active(item) and item.get("FirewallRuleGroupId"):
            found.setdefault(item["VpcId"], []).append(
                (item["FirewallRuleGroupId"], int(item.get("Priority") or 0), ""))
    resources = profile_resources(answers)
    for vpc_id, profiles in profiles_by_vpc(answers, wanted).items():
        for profile_id in profiles:
            for resource in resources.get(profile_id, []):
                arn = str(resource.get("ResourceArn") or "")
                if profile_resource_kind(arn) == "firewall-rule-group":
                    found.setdefault(vpc_id, []).append(
                        (last_segment(arn), _priority(resource.get("ResourceProperties")),
                         profile_id))
    return found


def _priority(properties: Any) -> int:
    """A profile's firewall rule group priority, from ResourceProperties ('{"priority": 102}')."""
    try:
        decoded = json.loads(properties) if isinstance(properties, str) else properties
        return int((decoded or {}).get("priority", 0))
    except (ValueError, TypeError, AttributeError):
        return 0


def firewall_list_ids(answers: Answers) -> list[str]:
    """The domain lists the rules read so far use."""
    return sorted({rule["FirewallDomainListId"]
                   for item in _list(answers, api_calls.FIREWALL_RULES)
                   for rule in item.get(api_calls.FIREWALL_RULES.result_key) or []
                   if rule.get("FirewallDomainListId")})


def managed_list_ids(answers: Answers) -> set[str]:
    """AWS managed domain lists: AWS does not show their domains."""
    return {item["Id"] for item in _list(answers, api_calls.FIREWALL_DOMAIN_LISTS)
            if item.get("Id") and item.get("ManagedOwnerName")}


def _endpoint_index(answers: Answers) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(DNS name -> endpoint id, ENI private address -> endpoint id, endpoint id -> VPC id)."""
    by_name: dict[str, str] = {}
    vpc_of: dict[str, str] = {}
    eni_endpoint: dict[str, str] = {}
    for endpoint in _list(answers, api_calls.VPC_ENDPOINTS):
        endpoint_id = str(endpoint.get("VpcEndpointId") or "")
        vpc_of[endpoint_id] = str(endpoint.get("VpcId") or "")
        for entry in endpoint.get("DnsEntries") or []:
            if entry.get("DnsName"):
                by_name[aws_facts.dns_name(str(entry["DnsName"]))] = endpoint_id
        for eni_id in endpoint.get("NetworkInterfaceIds") or []:
            eni_endpoint[eni_id] = endpoint_id
    by_address = {str(eni["PrivateIpAddress"]): eni_endpoint[eni["NetworkInterfaceId"]]
                  for eni in _list(answers, api_calls.NETWORK_INTERFACES)
                  if eni.get("PrivateIpAddress") and eni.get("NetworkInterfaceId") in eni_endpoint}
    return by_name, by_address, vpc_of


def reached_endpoints(answers: Answers, vpc_ids: Iterable[str]) -> dict[str, list[str]]:
    """VPC id -> the interface endpoints its zones' records and profiles name (an alias or a
    CNAME to an endpoint's DNS name, an address of its ENIs, an endpoint a profile shares)."""
    wanted = list(vpc_ids)
    by_name, by_address, _ = _endpoint_index(answers)
    records = records_by_zone(answers)
    found: dict[str, list[str]] = {}
    for vpc_id, summaries in zones_by_vpc(answers, wanted).items():
        named: list[str] = []
        for summary in summaries:
            for record in records.get(zone_id(str(summary.get("HostedZoneId") or "")), []):
                for target in record_targets(record):
                    parsed = aws_facts.endpoint_in_dns_name(target)
                    endpoint_id = by_name.get(target) or (parsed[0] if parsed else None)
                    if endpoint_id:
                        named.append(endpoint_id)
                if str(record.get("Type") or "").upper() == "A":
                    named += [by_address[value["Value"]]
                              for value in record.get("ResourceRecords") or []
                              if value.get("Value") in by_address]
        if named:
            found[vpc_id] = list(dict.fromkeys(named))
    for vpc_id, arns in profile_arns(answers, wanted, "vpc-endpoint").items():
        found[vpc_id] = list(dict.fromkeys([*found.get(vpc_id, []),
                                            *(last_segment(arn) for arn in arns)]))
    return found


def reached_vpcs(answers: Answers, vpc_ids: Iterable[str]) -> set[str]:
    """The VPCs of the endpoints ``reached_endpoints`` names (those in the answers)."""
    _, _, vpc_of = _endpoint_index(answers)
    return {vpc_of[endpoint_id] for endpoints in reached_endpoints(answers, vpc_ids).values()
            for endpoint_id in endpoints if vpc_of.get(endpoint_id)}
