"""Route 53 and Route 53 Resolver resources of a template, as the raw List answers the live
reader captures (the AWS CLI's shape): private hosted zones with their VPCs and their records,
Resolver rules and their associations, DNS Firewall domain lists, rule groups and their
associations. They decide where the agent's names resolve in the VPCs they name.

A private hosted zone's Ref is its id (the logical id stands in for it); a record set names
its zone by ``HostedZoneId`` or ``HostedZoneName``. What cannot be known before deployment (a
domain list read from S3, a Route 53 Profile the template associates) marks the VPCs it may
change, so that no instance there is proven manageable on a guess.
"""

from __future__ import annotations

import copy
from typing import Any

from auditor import aws_facts
from auditor.sources import api_calls
from auditor.sources.template import schema
from auditor.sources.template.context import Reader, Translation

# The answers a template can add to, and their empty form (a template on its own: nothing
# else exists in the VPCs it creates).
EMPTY: dict[str, Any] = {
    api_calls.HOSTED_ZONES_BY_VPC.kind: [],
    api_calls.RECORD_SETS.kind: [],
    api_calls.RESOLVER_RULES.kind: {"ResolverRules": []},
    api_calls.RESOLVER_RULE_ASSOCIATIONS.kind: {"ResolverRuleAssociations": []},
    api_calls.FIREWALL_ASSOCIATIONS.kind: {"FirewallRuleGroupAssociations": []},
    api_calls.FIREWALL_RULES.kind: [],
    api_calls.FIREWALL_DOMAIN_LISTS.kind: {"FirewallDomainLists": []},
    api_calls.FIREWALL_DOMAINS.kind: [],
    api_calls.PROFILE_ASSOCIATIONS.kind: {"ProfileAssociations": []},
    api_calls.PROFILE_RESOURCES.kind: [],
}


def answer(t: Translation, kind: str) -> Any | None:
    """The answer of ``kind`` being built (a copy of the base's), or None when the base could
    not read it (a template's resource is then not laid over an unknown)."""
    if not t.writes(kind):
        return None
    if kind not in t.dns:
        t.dns[kind] = copy.deepcopy(t.answers[kind]) if kind in t.answers else \
            copy.deepcopy(EMPTY[kind])
    return t.dns[kind]


def finish(t: Translation, answers: dict[str, Any]) -> None:
    """The DNS answers of the raw result: the templates' additions, every VPC they create
    listed (its zones, none or the template's), and empty answers for a template alone."""
    kind = api_calls.HOSTED_ZONES_BY_VPC.kind
    listed = answer(t, kind)
    if listed is not None:
        known = {entry.get("VPCId") for entry in listed}
        for vpc in t.lists["vpcs"]:
            if t.created(vpc) and vpc["VpcId"] not in known:
                listed.append({"VPCId": vpc["VpcId"], "VPCRegion": t.region,
                               "HostedZoneSummaries": []})
    for kind in EMPTY:
        if t.template_only:
            answer(t, kind)
        if kind in t.dns:
            answers[kind] = t.dns[kind]


def _vpcs_of(reader: Reader, entries: Any) -> list[str]:
    vpcs = []
    for entry in entries or []:
        vpc_id = entry.get("VPCId") if isinstance(entry, dict) else None
        if isinstance(vpc_id, str):
            reader.also_marks(vpc_id)
            vpcs.append(vpc_id)
        else:
            _anywhere(reader)
    return vpcs


def _vpc(reader: Reader, name: str) -> str | None:
    """The VPC a resource names, marked as changed by it; None when it cannot be known, and
    then every instance is marked: the resource may change any VPC."""
    vpc_id = reader.value(name, required=True)
    if isinstance(vpc_id, str):
        reader.also_marks(vpc_id)
        return vpc_id
    _anywhere(reader)
    return None


def _anywhere(reader: Reader) -> None:
    reader.fail_everywhere("changes the names of a VPC that cannot be known before deployment")


def hosted_zone(t: Translation, reader: Reader) -> None:
    """AWS::Route53::HostedZone: a private zone when it names VPCs (public ones answer no
    query from a VPC that a private zone or public DNS does not already answer)."""
    vpcs = reader.value("VPCs", [])
    if vpcs is None:  # VPCs that cannot be read: the zone may be associated with any
        _anywhere(reader)
        return
    if not vpcs:
        return
    vpc_ids = _vpcs_of(reader, vpcs)
    name = reader.value("Name", required=True)
    listed, records = (answer(t, api_calls.HOSTED_ZONES_BY_VPC.kind),
                       answer(t, api_calls.RECORD_SETS.kind))
    if listed is None or records is None:
        reader.fail(f"{reader.logical_id}: the VPCs' private hosted zones could not be read, "
                    "so this zone cannot be laid over them")
        return
    summary = {"HostedZoneId": reader.resource_id, "Owner": {"OwningAccount": t.account_id}}
    if name is None:  # associated, answering for a name not known yet: the VPCs' DNS is unknown
        records.append({"HostedZoneId": reader.resource_id,
                        "Error": f"{reader.logical_id}.Name is known only at deployment"})
    else:
        summary["Name"] = str(name).rstrip(".") + "."
    for vpc_id in vpc_ids:
        entry = next((e for e in listed if e.get("VPCId") == vpc_id), None)
        if entry is None:
            entry = {"VPCId": vpc_id, "VPCRegion": t.region, "HostedZoneSummaries": []}
            listed.append(entry)
        entry["HostedZoneSummaries"].append(summary)
    if name is not None:
        records.append({"HostedZoneId": reader.resource_id, "ResourceRecordSets": [
            {"Name": summary["Name"], "Type": "SOA", "TTL": 900, "ResourceRecords": [
                {"Value": "ns-0.awsdns-00.com. awsdns-hostmaster.amazon.com. 1"}]}]})


def _zone_records(t: Translation, reader: Reader, properties: dict) -> list | None:
    """The record list of the zone a record set names (by id or by name)."""
    records = answer(t, api_calls.RECORD_SETS.kind)
    listed = answer(t, api_calls.HOSTED_ZONES_BY_VPC.kind) or []
    zone_id = properties.get("HostedZoneId")
    zone_name = properties.get("HostedZoneName")
    if isinstance(zone_name, str) and not zone_id:
        wanted = aws_facts.dns_name(zone_name)
        zone_id = next((s["HostedZoneId"] for entry in listed
                        for s in entry.get("HostedZoneSummaries") or []
                        if aws_facts.dns_name(str(s.get("Name") or "")) == wanted), None)
    if records is None or not isinstance(zone_id, str):
        return None
    zone_id = zone_id.rsplit("/", 1)[-1]
    for vpc_entry in listed:  # what the zone changes: the VPCs it is associated with
        if any(s.get("HostedZoneId") == zone_id for s in vpc_entry.get("HostedZoneSummaries")
               or []):
            reader.also_marks(vpc_entry["VPCId"])
    entry = next((e for e in records if e.get("HostedZoneId") == zone_id), None)
    if entry is None or "Error" in entry:
        return None
    return entry.setdefault("ResourceRecordSets", [])


def _record(reader: Reader, raw: dict, where: str) -> dict | None:
    resolve = reader.scope.resolver.resolve
    name, kind = resolve(raw.get("Name")), resolve(raw.get("Type"))
    if not isinstance(name, str) or not isinstance(kind, str):
        reader.fail(f"{where}: its name or type is known only at deployment")
        return None
    record: dict[str, Any] = {"Name": name.rstrip(".") + ".", "Type": kind.upper()}
    alias = resolve(raw.get("AliasTarget"))
    if isinstance(alias, dict):
        target = alias.get("DNSName")
        if not isinstance(target, str):
            reader.fail(f"{where}: its alias target is known only at deployment")
            return None
        record["AliasTarget"] = {"DNSName": target, "HostedZoneId": str(
            alias.get("HostedZoneId") or ""), "EvaluateTargetHealth": False}
    else:
        values = resolve(raw.get("ResourceRecords") or [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            reader.fail(f"{where}: its values are known only at deployment")
            return None
        record["ResourceRecords"] = [{"Value": value} for value in values]
    identifier = resolve(raw.get("SetIdentifier"))
    if isinstance(identifier, str):
        record["SetIdentifier"] = identifier
    return record


def record_set(t: Translation, reader: Reader) -> None:
    """AWS::Route53::RecordSet."""
    _add_records(t, reader, [reader.properties], reader.logical_id)


def record_set_group(t: Translation, reader: Reader) -> None:
    """AWS::Route53::RecordSetGroup: its RecordSets, in the zone the group names."""
    sets = reader.value("RecordSets", [])
    if isinstance(sets, list):
        _add_records(t, reader, sets, reader.logical_id)


def _add_records(t: Translation, reader: Reader, raws: list, where: str) -> None:
    properties = {key: reader.value(key) for key in ("HostedZoneId", "HostedZoneName")
                  if key in reader.properties}
    records = _zone_records(t, reader, properties)
    if records is None:
        reader.fail(f"{where}: its hosted zone ({properties or 'none named'}) is not a private "
                    "zone of the estate or the template")
        return
    for index, raw in enumerate(raws):
        if isinstance(raw, dict):
            record = _record(reader, raw, f"{where}[{index}]" if len(raws) > 1 else where)
            if record is not None:
                records.append(record)


def resolver_rule(t: Translation, reader: Reader) -> None:
    """AWS::Route53Resolver::ResolverRule (its Ref: the rule's id)."""
    rules = answer(t, api_calls.RESOLVER_RULES.kind)
    domain = reader.value("DomainName", ".")
    kind = reader.value("RuleType", required=True)
    targets = reader.value("TargetIps", [])
    if rules is None or domain is None or kind is None or targets is None:
        reader.fail(f"{reader.logical_id}: the rule cannot be laid over the estate's rules")
        return
    rules["ResolverRules"].append({
        "Id": reader.resource_id, "DomainName": str(domain).rstrip(".") + ".",
        "RuleType": str(kind).upper(), "Status": "COMPLETE", "Name": reader.logical_id,
        "TargetIps": [{"Ip": target.get("Ip"), "Port": target.get("Port", 53)}
                      for target in targets if isinstance(target, dict)]})


def resolver_rule_association(t: Translation, reader: Reader) -> None:
    """AWS::Route53Resolver::ResolverRuleAssociation."""
    associations = answer(t, api_calls.RESOLVER_RULE_ASSOCIATIONS.kind)
    vpc_id = _vpc(reader, "VPCId")
    rule_id = reader.value("ResolverRuleId", required=True)
    if associations is None or rule_id is None or vpc_id is None:
        reader.fail(f"{reader.logical_id}: the association cannot be laid over the estate")
        return
    associations["ResolverRuleAssociations"].append(
        {"Id": reader.resource_id, "ResolverRuleId": rule_id, "VPCId": vpc_id,
         "Status": "COMPLETE"})


def firewall_domain_list(t: Translation, reader: Reader) -> None:
    """AWS::Route53Resolver::FirewallDomainList: its Domains (a list read from S3 at
    deployment, DomainFileUrl, is not known before)."""
    lists, domains = (answer(t, api_calls.FIREWALL_DOMAIN_LISTS.kind),
                      answer(t, api_calls.FIREWALL_DOMAINS.kind))
    if lists is None or domains is None:
        reader.fail(f"{reader.logical_id}: the estate's domain lists could not be read")
        return
    lists["FirewallDomainLists"].append({"Id": reader.resource_id,
                                         "Name": reader.logical_id})
    names = reader.value("Domains", [])
    if "DomainFileUrl" in reader.properties:
        return  # its domains stay unread: a rule using it is unknown
    if isinstance(names, list):
        domains.append({"FirewallDomainListId": reader.resource_id,
                        "Domains": [str(name) for name in names]})


def firewall_rule_group(t: Translation, reader: Reader) -> None:
    """AWS::Route53Resolver::FirewallRuleGroup: its FirewallRules."""
    rules = answer(t, api_calls.FIREWALL_RULES.kind)
    found = reader.value("FirewallRules", [])
    if rules is None or found is None:
        reader.fail(f"{reader.logical_id}: the rule group cannot be laid over the estate")
        return
    kept = []
    for index, rule in enumerate(found):
        try:  # what the proof reads, in the shape Route 53 Resolver accepts, or nothing
            rule = {**rule, "Priority": schema.integer(rule.get("Priority")),
                    "Action": schema.conform(_FIREWALL_ACTIONS, rule.get("Action"))}
        except schema.Refused as refused:
            reader.fail(f"{reader.logical_id}.FirewallRules[{index}]: expected {refused} "
                        "(Route 53 Resolver refuses it)")
            return
        kept.append({key: value for key, value in rule.items() if key in _FIREWALL_RULE_KEYS})
    rules.append({"FirewallRuleGroupId": reader.resource_id, "FirewallRules": kept})


_FIREWALL_ACTIONS = ("ALLOW", "BLOCK", "ALERT")
_FIREWALL_RULE_KEYS = ("Action", "BlockResponse", "BlockOverrideDomain", "BlockOverrideDnsType",
                       "FirewallDomainListId", "Priority", "Qtype",
                       "FirewallDomainRedirectionAction")


def firewall_rule_group_association(t: Translation, reader: Reader) -> None:
    """AWS::Route53Resolver::FirewallRuleGroupAssociation."""
    associations = answer(t, api_calls.FIREWALL_ASSOCIATIONS.kind)
    vpc_id = _vpc(reader, "VpcId")
    group = reader.value("FirewallRuleGroupId", required=True)
    priority = reader.value("Priority", required=True)
    if associations is None or None in (group, vpc_id, priority):
        reader.fail(f"{reader.logical_id}: the association cannot be laid over the estate")
        return
    associations["FirewallRuleGroupAssociations"].append(
        {"Id": reader.resource_id, "FirewallRuleGroupId": group, "VpcId": vpc_id,
         "Priority": priority, "Status": "COMPLETE"})


def profile_association(t: Translation, reader: Reader) -> None:
    """AWS::Route53Profiles::ProfileAssociation: what the profile holds is not modelled from
    a template, so the VPC's names are not known before deployment."""
    vpc_id = _vpc(reader, "ResourceId")
    reader.fail(f"{reader.logical_id} associates a Route 53 Profile with {vpc_id}: the zones, "
                "rules and firewall rule groups it brings are not read from templates")
