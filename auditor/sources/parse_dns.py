"""The DNS answers of one region (Route 53 zones and records, Resolver rules, DNS Firewall,
Route 53 Profiles) into ``Estate.dns``.

Each answer is checked by its own parser as ``sources.parse`` reads it (a malformed file is
named); ``assemble`` then ties them to the VPCs of the estate, once everything is read, since
a profile adds zones, rules and rule groups that other answers describe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor import aws_facts
from auditor.model import (
    DnsConfig,
    DnsRecord,
    Estate,
    FirewallAssociation,
    FirewallDomainList,
    FirewallRule,
    FirewallRuleGroup,
    HostedZone,
    ResolverRule,
)
from auditor.sources import api_calls, dns_raw
from auditor.sources.raw import RawRegion

Parser = Callable[[Estate, Any, Any], None]
# The id a per-resource answer carries beside the API's answer (which the CLI lacks).
_ANSWER_IDS = {
    api_calls.HOSTED_ZONES_BY_VPC.kind: "VPCId", api_calls.RECORD_SETS.kind: "HostedZoneId",
    api_calls.FIREWALL_RULES.kind: "FirewallRuleGroupId",
    api_calls.FIREWALL_DOMAINS.kind: "FirewallDomainListId",
    api_calls.PROFILE_RESOURCES.kind: "ProfileId",
}


def _entries(answer: Any, call: api_calls.ApiCall) -> list[dict]:
    """The list an answer holds (per-resource answers: the answers), each checked a mapping."""
    if call.per_resource:
        items = answer
    else:
        if not isinstance(answer, dict):
            raise TypeError(f"expected a JSON object with {call.result_key!r}")
        items = answer.get(call.result_key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise TypeError(f"expected a JSON list of {call.result_key} entries")
    return items


def _inner(item: dict, call: api_calls.ApiCall) -> list:
    """The list inside one per-resource answer (of domain names for a domain list, of JSON
    objects otherwise)."""
    items = item.get(call.result_key, [])
    kind = str if call is api_calls.FIREWALL_DOMAINS else dict
    if not isinstance(items, list) or not all(isinstance(entry, kind) for entry in items):
        raise TypeError(f"{call.result_key!r} is not a list of "
                        f"{'names' if kind is str else 'JSON objects'}")
    return items


def record(raw: dict) -> DnsRecord:
    record_type = str(raw["Type"]).upper()
    values = tuple(str(value["Value"]) for value in raw.get("ResourceRecords") or [])
    if record_type == "CNAME":
        values = tuple(aws_facts.dns_name(value) for value in values)
    alias = (raw.get("AliasTarget") or {}).get("DNSName")
    return DnsRecord(aws_facts.dns_name(str(raw["Name"])), record_type, values,
                     aws_facts.dns_name(str(alias)) if alias else None,
                     raw.get("SetIdentifier"))


class DnsAnswers:
    """The DNS answers of one estate, checked one by one and assembled at the end."""

    def __init__(self, raw: RawRegion) -> None:
        self.raw = raw  # its endpoints and interfaces tell where records lead
        self.answers: dict[str, Any] = {}  # the DNS answers, once checked

    def parsers(self) -> tuple[tuple[api_calls.ApiCall, Parser], ...]:
        return tuple((call, self._checker(call)) for call in api_calls.DNS_CALLS)

    def _checker(self, call: api_calls.ApiCall) -> Parser:
        def check(estate: Estate, answer: Any, scope: Any) -> None:
            items = _entries(answer, call)
            if call.kind in _ANSWER_IDS:
                for item in items:
                    if not isinstance(item.get(_ANSWER_IDS[call.kind]), str):
                        raise KeyError(_ANSWER_IDS[call.kind])
            if call is api_calls.RECORD_SETS:
                for item in items:
                    for raw in _inner(item, call) if "Error" not in item else []:
                        record(raw)
            elif call is api_calls.FIREWALL_RULES:
                for item in items:
                    for raw in _inner(item, call):
                        _firewall_rule(raw)
            elif call is api_calls.RESOLVER_RULES:
                for raw in items:
                    _resolver_rule(raw)
            elif call.per_resource:
                for item in items:
                    _inner(item, call)
            self.answers[call.kind] = answer
        return check

    def assemble(self, estate: Estate) -> None:
        dns_kinds = {call.kind for call in api_calls.DNS_CALLS}
        answers = {kind: answer for kind, answer in self.raw.answers.items()
                   if kind not in dns_kinds and kind not in self.raw.errors}
        answers.update(self.answers)
        dns = estate.dns = DnsConfig()
        vpc_ids = sorted({*estate.vpcs, *(i.vpc_id for i in estate.instances.values()
                                          if i.vpc_id)})
        _zones(dns, answers, vpc_ids)
        profiles = dns_raw.profiles_by_vpc(answers, vpc_ids)
        dns.profiles_by_vpc = {vpc: list(ids) for vpc, ids in profiles.items()}
        _rules(dns, answers, vpc_ids)
        _firewall(dns, answers, vpc_ids)
        for vpc_id, arns in dns_raw.profile_arns(answers, vpc_ids, "vpc-endpoint").items():
            dns.profile_endpoints_by_vpc[vpc_id] = [dns_raw.last_segment(a) for a in arns]
        _unknown_profile_resources(dns, answers, profiles)
        dns.reached_endpoints_by_vpc = dns_raw.reached_endpoints(answers, vpc_ids)


def _zones(dns: DnsConfig, answers: dict[str, Any], vpc_ids: list[str]) -> None:
    if api_calls.HOSTED_ZONES_BY_VPC.kind in answers:
        items = answers[api_calls.HOSTED_ZONES_BY_VPC.kind] or []
        listed = {str(item.get("VPCId")) for item in items if "Error" not in item}
        dns.zones_unlisted = set(vpc_ids) - listed
        for item in items:  # a VPC whose listing failed alone: why, beside it
            if "Error" in item and item.get("VPCId") in dns.zones_unlisted:
                dns.unresolved_by_vpc.setdefault(str(item["VPCId"]), []).append(
                    f"ListHostedZonesByVPC failed for {item['VPCId']}: {item['Error']}")
    for vpc_id, summaries in dns_raw.zones_by_vpc(answers, vpc_ids).items():
        for summary in summaries:
            zone_id = dns_raw.zone_id(str(summary.get("HostedZoneId") or ""))
            if not zone_id:
                continue
            owner = summary.get("Owner") or {}
            dns.zones.setdefault(zone_id, HostedZone(
                zone_id, aws_facts.dns_name(str(summary.get("Name") or "")),
                str(owner.get("OwningAccount") or owner.get("OwningService") or "")))
            dns.zones_by_vpc.setdefault(vpc_id, [])
            if zone_id not in dns.zones_by_vpc[vpc_id]:
                dns.zones_by_vpc[vpc_id].append(zone_id)
    for item in answers.get(api_calls.RECORD_SETS.kind) or []:
        zone_id = dns_raw.zone_id(str(item["HostedZoneId"]))
        zone = dns.zones.get(zone_id)
        if zone is None:
            continue
        if "Error" in item:
            zone.unread = str(item["Error"])
            continue
        zone.records = [record(raw) for raw in item.get(api_calls.RECORD_SETS.result_key) or []]
        if not zone.name:  # a zone a profile brings: its apex (SOA) names it
            zone.name = next((r.name for r in zone.records if r.record_type == "SOA"), "")


def _resolver_rule(raw: dict) -> ResolverRule:
    return ResolverRule(str(raw["Id"]), aws_facts.dns_name(str(raw.get("DomainName") or ".")),
                        str(raw.get("RuleType") or "").upper(), str(raw.get("Name") or ""),
                        tuple(str(target.get("Ip") or target.get("Ipv6") or "")
                              for target in raw.get("TargetIps") or []))


def _rules(dns: DnsConfig, answers: dict[str, Any], vpc_ids: list[str]) -> None:
    wanted = set(vpc_ids)
    failed = set()  # rules that never applied: their associations neither
    for raw in (answers.get(api_calls.RESOLVER_RULES.kind) or {}).get("ResolverRules") or []:
        rule = _resolver_rule(raw)
        if str(raw.get("Status") or "").upper() == "FAILED":
            failed.add(rule.rule_id)
        else:
            dns.rules[rule.rule_id] = rule
    associations = (answers.get(api_calls.RESOLVER_RULE_ASSOCIATIONS.kind) or {}).get(
        api_calls.RESOLVER_RULE_ASSOCIATIONS.result_key) or []
    for item in associations:
        if item.get("VPCId") in wanted and dns_raw.active(item) and \
                item.get("ResolverRuleId") and item["ResolverRuleId"] not in failed:
            dns.rules_by_vpc.setdefault(item["VPCId"], []).append(item["ResolverRuleId"])
    for vpc_id, arns in dns_raw.profile_arns(answers, vpc_ids, "resolver-rule").items():
        dns.rules_by_vpc.setdefault(vpc_id, []).extend(dns_raw.last_segment(a) for a in arns)


def _firewall_rule(raw: dict) -> FirewallRule:
    return FirewallRule(
        priority=int(raw.get("Priority") or 0), action=str(raw["Action"]).upper(),
        domain_list_id=raw.get("FirewallDomainListId"), name=str(raw.get("Name") or ""),
        block_response=str(raw.get("BlockResponse") or "").upper(),
        block_override_domain=aws_facts.dns_name(str(raw.get("BlockOverrideDomain") or "")),
        trust_redirection=str(raw.get("FirewallDomainRedirectionAction") or "").upper()
        == "TRUST_REDIRECTION_DOMAIN",
        query_type=str(raw.get("Qtype") or "").upper())


def _firewall(dns: DnsConfig, answers: dict[str, Any], vpc_ids: list[str]) -> None:
    for vpc_id, found in dns_raw.firewall_groups_by_vpc(answers, vpc_ids).items():
        dns.firewall_by_vpc[vpc_id] = sorted(
            (FirewallAssociation(group, priority, via) for group, priority, via in found),
            key=lambda association: (association.priority, association.via != ""))
        for association in dns.firewall_by_vpc[vpc_id]:
            dns.firewall_groups.setdefault(association.group_id,
                                           FirewallRuleGroup(association.group_id))
    for item in answers.get(api_calls.FIREWALL_RULES.kind) or []:
        group = dns.firewall_groups.get(str(item["FirewallRuleGroupId"]))
        if group is not None:
            group.rules = sorted((_firewall_rule(raw) for raw in item.get("FirewallRules") or []),
                                 key=lambda rule: rule.priority)
    lists = (answers.get(api_calls.FIREWALL_DOMAIN_LISTS.kind) or {}).get(
        api_calls.FIREWALL_DOMAIN_LISTS.result_key) or []
    for raw in lists:
        if raw.get("Id"):
            dns.domain_lists[raw["Id"]] = FirewallDomainList(
                raw["Id"], str(raw.get("Name") or ""), str(raw.get("ManagedOwnerName") or ""))
    for item in answers.get(api_calls.FIREWALL_DOMAINS.kind) or []:
        list_id = str(item["FirewallDomainListId"])
        domain_list = dns.domain_lists.setdefault(list_id, FirewallDomainList(list_id))
        domain_list.domains = [str(domain).lower().rstrip(".")
                               for domain in item.get("Domains") or []]


def _unknown_profile_resources(dns: DnsConfig, answers: dict[str, Any],
                               profiles: dict[str, list[str]]) -> None:
    """What a VPC's profile brings that the model cannot tell the effect of."""
    resources = dns_raw.profile_resources(answers)
    understood = {"hostedzone", "resolver-rule", "firewall-rule-group", "vpc-endpoint",
                  "resolver-query-log-config"}
    for vpc_id, profile_ids in profiles.items():
        for profile_id in profile_ids:
            if profile_id not in resources:
                dns.unresolved_by_vpc.setdefault(vpc_id, []).append(
                    f"the resources of Route 53 Profile {profile_id} were not read")
                continue
            for resource in resources[profile_id]:
                arn = str(resource.get("ResourceArn") or "")
                kind = dns_raw.profile_resource_kind(arn)
                if kind not in understood:
                    dns.unresolved_by_vpc.setdefault(vpc_id, []).append(
                        f"Route 53 Profile {profile_id} associates {arn or 'a resource'}, "
                        "whose effect on DNS the auditor does not model")
                elif kind == "resolver-rule" and dns_raw.last_segment(arn) not in dns.rules:
                    dns.unresolved_by_vpc.setdefault(vpc_id, []).append(
                        f"Route 53 Profile {profile_id} associates Resolver rule {arn}, which "
                        "ListResolverRules did not show")
