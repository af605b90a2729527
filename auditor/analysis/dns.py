"""Where the agent's name for a service resolves from inside a VPC, as the VPC resolver
(Route 53 Resolver) answers it.

First what the resolver cannot answer at all: a service the region does not offer, DHCP
options with other DNS servers (unknowable), a VPC with no DHCP option set (only instances
built on the Nitro System get a DNS server), ``enableDnsSupport`` off. Then, for the name and
each name a CNAME leads to:

1. **DNS Firewall** rule groups associated with the VPC (directly or through a Route 53
   Profile), by priority, their rules by priority: the first rule that matches decides (ALLOW
   stops the inspection, BLOCK blocks, or with an OVERRIDE answer redirects to its domain;
   ALERT only logs).
2. **The most specific authority**: Resolver rules (FORWARD to servers the API does not show:
   unknown; SYSTEM and RECURSIVE: the resolver answers itself), private hosted zones and the
   private DNS of interface endpoints (an endpoint's own zone, named the service's name). The
   longest domain that covers the name wins; at equal length a FORWARD rule wins over a zone
   (Route 53 Developer Guide, "Considerations when working with a private hosted zone").
3. **A zone decides**: its record for the name (a wildcard where no record exists) leads to an
   interface endpoint's ENIs (an alias or a CNAME to the endpoint's DNS name, in this VPC or
   another, or A records holding its addresses), to addresses of nothing known (proved as far
   as the data allows, by the prover), or to nothing: NXDOMAIN, which blocks.
4. No authority: the public name, which resolves to the service's public addresses.

What is not read, not readable or not modelled makes the answer unknown, never the public
addresses. The result names the endpoint (possibly in another VPC) and the ENIs the name
resolves to; the prover (and the paths across VPCs) carry the traffic there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from auditor import aws_facts, aws_regions, limits
from auditor.analysis.graph import EstateGraph
from auditor.analysis.results import ALLOW, DENY, UNKNOWN, Check, Finding, Hop
from auditor.capability_facts import S3_SERVICE, SESSION_ENDPOINT_SERVICES
from auditor.model import (
    DnsRecord,
    Estate,
    FirewallRule,
    HostedZone,
    ResolverRule,
    Vpc,
    VpcEndpoint,
)
from auditor.sources import api_calls

RESOLVES_ENDPOINT = "interface_endpoint"
RESOLVES_PUBLIC = "public"
RESOLVES_ADDRESSES = "addresses"  # records holding addresses the model does not tie to an endpoint

MAX_CHAIN = limits.DNS_CHAIN.value  # names followed before the answer is unknown (a loop?)
# Resolver rules whose answers come from servers the API does not show.
_ELSEWHERE_RULES = ("FORWARD", "DELEGATE")
# The listings that say whether anything decides names in a VPC: one that could not be read
# leaves every VPC unknown. The reads that follow them (the rules, a profile's resources, a
# group's rules, a zone's records) matter only to the VPCs that use what they describe.
_DNS_KINDS = (api_calls.HOSTED_ZONES_BY_VPC, api_calls.RESOLVER_RULE_ASSOCIATIONS,
              api_calls.FIREWALL_ASSOCIATIONS, api_calls.PROFILE_ASSOCIATIONS)


@dataclass
class Resolution:
    check: Check  # ALLOW when the name resolves somewhere usable
    target: str | None = None  # RESOLVES_ENDPOINT | RESOLVES_PUBLIC | RESOLVES_ADDRESSES
    endpoint: VpcEndpoint | None = None  # possibly in another VPC than the instance's
    notes: list[Finding] = field(default_factory=list)  # findings that do not decide
    # The endpoint's ENIs the name resolves to (a zonal name, A records of some of them);
    # None: all of them.
    interface_ids: tuple[str, ...] | None = None
    addresses: tuple[str, ...] = ()  # RESOLVES_ADDRESSES: the addresses the records hold
    zone_id: str | None = None  # the private hosted zone that decided, if one did


# --- what the resolver cannot answer ----------------------------------------------------------


def _uses_amazon_dns(servers: list[str], vpc: Vpc) -> bool:
    amazon = {aws_facts.AMAZON_DNS_NAME, aws_facts.AMAZON_DNS_ADDRESS}
    amazon.update(aws_facts.vpc_resolver_address(cidr) for cidr in vpc.cidrs[:1])
    return all(server in amazon for server in servers)


def _unknown(resource: str, code: str, message: str, service: str,
             rule: str | None = None) -> Resolution:
    return Resolution(Check(Hop("dns", resource, UNKNOWN, rule or message),
                            Finding(code, resource, message, service, "warning")))


def _blocked(resource: str, code: str, message: str, service: str, rule: str,
             details: dict | None = None) -> Resolution:
    return Resolution(Check(Hop("dns", resource, DENY, rule),
                            Finding(code, resource, message, service, details=details or {})))


def _no_option_set(vpc: Vpc, hostname: str, service: str, hypervisor: str) -> Resolution | None:
    """A VPC with no DHCP option set: the Amazon DNS server for Nitro instances, none for Xen."""
    if hypervisor == aws_facts.NITRO:
        return None
    if hypervisor == aws_facts.XEN:
        message = (f"{vpc.vpc_id} has no DHCP option set, and the instance's type is Xen-based: "
                   f"it gets no DNS server at all, so it cannot resolve {hostname}.")
        return _blocked(vpc.vpc_id, "NO_DNS_SERVER", message, service,
                        "no DHCP option set; Xen-based instance type: no DNS server")
    message = (f"{vpc.vpc_id} has no DHCP option set: an instance built on the Nitro System gets "
               "the Amazon DNS server, a Xen-based one no DNS server at all, and which the "
               f"instance's type is is not known, so whether it can resolve {hostname} is "
               "unknown.")
    return _unknown(vpc.vpc_id, "NO_DNS_SERVER", message, service,
                    "no DHCP option set; hypervisor of the instance type unknown")


def _dhcp_check(graph: EstateGraph, vpc: Vpc, hostname: str, service: str,
                hypervisor: str) -> Resolution | None:
    """None when the instance uses the Amazon resolver; else the resolution it gets instead."""
    if not vpc.dhcp_options_id or vpc.dhcp_options_id == aws_facts.NO_DHCP_OPTIONS:
        return _no_option_set(vpc, hostname, service, hypervisor)
    options = graph.dhcp_options_of(vpc)
    if options is None:
        reason = graph.estate.unavailable.get("dhcp_options", "not in the collected data")
        return _unknown(vpc.vpc_id, "DATA_UNAVAILABLE",
                        f"Cannot read DHCP options {vpc.dhcp_options_id} ({reason}), so which "
                        f"DNS server answers {hostname} is unknown.", service)
    if _uses_amazon_dns(options.domain_name_servers, vpc):
        return None
    servers = ", ".join(options.domain_name_servers)
    return _unknown(options.dhcp_options_id, "CUSTOM_DNS_SERVERS",
                    f"{vpc.vpc_id} hands out DNS servers {servers} (DHCP options "
                    f"{options.dhcp_options_id}); what they answer for {hostname} cannot be "
                    "seen from the API.", service)


def _regional_check(region: str, hostname: str, service: str) -> Resolution | None:
    offered = aws_facts.service_offered(region, service)
    if offered:
        return None
    if offered is False:
        message = (f"{region} does not offer {service}: {hostname} does not exist there. SSM "
                   "Agent 3.3.40.0 and later use ssmmessages instead; an older agent, which "
                   "knows only ec2messages, cannot receive commands in this region at all.")
        return _blocked(region, "SERVICE_NOT_IN_REGION", message, service,
                        f"{service} is not offered in {region}")
    return _unknown(region, "SERVICE_NOT_IN_REGION",
                    f"Whether {region} offers {service} is not known to the auditor (a region "
                    "missing from its table of regional facts), so whether "
                    f"{hostname} exists is unknown.", service)


# --- the VPC's DNS configuration --------------------------------------------------------------


@dataclass(frozen=True)
class _Authority:
    """Who answers for a domain: a Resolver rule, a private hosted zone or an endpoint's
    private DNS."""

    domain: str
    rule: ResolverRule | None = None
    zone: HostedZone | None = None
    endpoint: VpcEndpoint | None = None
    via: str = ""  # "Route 53 Profile rp-..." when a profile brings it


class _VpcDns:
    """What the VPC resolver of one VPC knows, gathered once per resolution."""

    def __init__(self, graph: EstateGraph, vpc: Vpc, region: str, service: str) -> None:
        self.graph = graph
        self.estate = estate = graph.estate
        self.vpc = vpc
        self.region = region
        self.service = service
        dns = estate.dns
        self.notes: list[Finding] = []
        self.unknown: list[tuple[str, str]] = []  # (resource, why): the answer is not known
        self.authorities: list[_Authority] = []
        vpc_id = vpc.vpc_id
        for call in _DNS_KINDS:
            if call.kind in estate.unavailable:
                self.unknown.append((vpc_id, f"{call.file_name[:-5]}: "
                                             f"{estate.unavailable[call.kind]}"))
        unresolved = dns.unresolved_by_vpc.get(vpc_id, [])
        if vpc_id in dns.zones_unlisted and not any(
                why.startswith("ListHostedZonesByVPC") for why in unresolved):
            self.unknown.append((vpc_id, f"the private hosted zones of {vpc_id} were not listed "
                                         f"({api_calls.HOSTED_ZONES_BY_VPC.file_name})"))
        self.unknown += [(vpc_id, why) for why in unresolved]
        profile = ", ".join(dns.profiles_by_vpc.get(vpc_id, []))
        for zone_id in dns.zones_by_vpc.get(vpc_id, []):
            zone = dns.zones[zone_id]
            if zone.name:
                self.authorities.append(_Authority(zone.name, zone=zone))
            else:  # a zone a profile brings, whose records (and so whose name) were not read,
                # or a template's zone whose name is known only at deployment
                how = (f"Route 53 Profile {profile} associates" if profile and not zone.owner
                       else f"{vpc_id} is associated with")
                self.unknown.append((zone_id, f"{how} private hosted zone {zone_id}, whose "
                                              f"name and records could not be read "
                                              f"({zone.unread or 'not read'})"))
        for rule_id in dns.rules_by_vpc.get(vpc_id, []):
            rule = dns.rules.get(rule_id)
            if rule is not None:
                self.authorities.append(_Authority(rule.domain_name, rule=rule))
            elif not any(rule_id in why for _, why in self.unknown):
                reason = estate.unavailable.get(api_calls.RESOLVER_RULES.kind,
                                                "ListResolverRules did not show it")
                self.unknown.append((rule_id, f"Resolver rule {rule_id} is associated with "
                                              f"{vpc_id}, but its domain and type could not be "
                                              f"read ({reason})"))
        self._endpoints(profile)

    def _endpoints(self, profile: str) -> None:
        """The private DNS of the VPC's interface endpoints (and of those a profile shares):
        each answers for its service's name."""
        estate, vpc = self.estate, self.vpc
        hostname = aws_facts.service_hostname(self.region, self.service)
        wanted = aws_facts.endpoint_service_name(self.region, self.service)
        local = [e for e in self.graph.endpoints_in(vpc.vpc_id)
                 if e.endpoint_type.lower() == "interface"
                 and e.state not in aws_facts.ENDPOINT_GONE_STATES]
        for endpoint in local:
            name = _served_name(endpoint, self.region)
            if name is None:
                continue
            mine = endpoint.service_name == wanted
            if endpoint.private_dns_enabled is None:
                self.unknown.append((endpoint.endpoint_id,
                                     f"whether interface endpoint {endpoint.endpoint_id} has "
                                     "private DNS enabled is not in the data, and it decides "
                                     f"whether it answers for {name}"))
                continue
            if not endpoint.private_dns_enabled:
                self._note(mine, "ENDPOINT_PRIVATE_DNS_DISABLED", endpoint.endpoint_id,
                           f"Interface endpoint {endpoint.endpoint_id} for {self.service} has "
                           f"private DNS disabled, so {hostname} does not resolve to it and "
                           "the agent does not use the endpoint.")
                continue
            if endpoint.private_dns_only_for_inbound_resolver:
                self._note(mine, "ENDPOINT_PRIVATE_DNS_DISABLED", endpoint.endpoint_id,
                           f"Interface endpoint {endpoint.endpoint_id} for {self.service} "
                           "answers its private DNS name only for queries that arrive through "
                           "an inbound Resolver endpoint (PrivateDnsOnlyForInboundResolver"
                           f"Endpoint), not for the VPC's own instances: {hostname} does not "
                           "resolve to it here.")
                continue
            if vpc.enable_dns_hostnames is None:
                reason = estate.unavailable.get("vpc_attributes", "not in the collected data")
                self.unknown.append((vpc.vpc_id, f"cannot read enableDnsHostnames of "
                                                 f"{vpc.vpc_id} ({reason}), which decides "
                                                 f"whether {endpoint.endpoint_id} answers for "
                                                 f"{name}"))
                continue
            if not vpc.enable_dns_hostnames:
                self._note(mine, "VPC_DNS_HOSTNAMES_DISABLED", vpc.vpc_id,
                           f"{vpc.vpc_id} has enableDnsHostnames off, so the private DNS name "
                           f"of endpoint {endpoint.endpoint_id} does not apply and {hostname} "
                           "does not resolve to it.")
                continue
            self.authorities.append(_Authority(name, endpoint=endpoint))
        for endpoint_id in estate.dns.profile_endpoints_by_vpc.get(vpc.vpc_id, []):
            endpoint = estate.vpc_endpoints.get(endpoint_id)
            via = f"Route 53 Profile {profile}"
            name = _served_name(endpoint, self.region) if endpoint else None
            if endpoint is None or not endpoint.private_dns_enabled:
                what = ("is not in the collected data" if endpoint is None else
                        "has private DNS off" if endpoint.private_dns_enabled is False else
                        "has private DNS not readable")
                self.unknown.append((endpoint_id, f"{via} shares interface endpoint "
                                                  f"{endpoint_id}, which {what}: which name it "
                                                  "answers for here is not known"))
            elif name is not None and not any(a.endpoint is endpoint for a in self.authorities):
                self.authorities.append(_Authority(name, endpoint=endpoint, via=via))


    def _note(self, applies: bool, code: str, resource: str, message: str) -> None:
        """A warning beside the answer, when it is about the service's own endpoint."""
        if applies:
            self.notes.append(Finding(code, resource, message, self.service, "warning"))


def _served_name(endpoint: VpcEndpoint, region: str) -> str | None:
    """The name an interface endpoint's private DNS answers for, when it is one of the agent's
    services or one the capabilities reach (kms, logs, s3); other services' names never cover
    these."""
    for service in (*aws_facts.SERVICES, *SESSION_ENDPOINT_SERVICES, S3_SERVICE):
        if endpoint.service_name == aws_facts.endpoint_service_name(region, service):
            return aws_facts.service_hostname(region, service)
    return None


# --- resolving a name --------------------------------------------------------------------------


@dataclass
class _Answer:
    """Where one name leads: a resolution and the words of the chain so far."""

    resolution: Resolution
    chain: list[str]


class _NameResolver:
    def __init__(self, view: _VpcDns, hostname: str) -> None:
        self.view = view
        self.estate: Estate = view.estate
        self.service = view.service
        self.hostname = hostname
        self.trusted = False  # an ALLOW rule trusts the names its name redirects to

    def resolve(self, name: str, chain: list[str], depth: int = 0) -> Resolution:
        if depth > MAX_CHAIN:
            return self._unknown(self.view.vpc.vpc_id, "PRIVATE_HOSTED_ZONE_OVERRIDE",
                                 f"{self.hostname} leads through more than {MAX_CHAIN} names "
                                 f"({' -> '.join(chain)}): a loop, or deeper than the auditor "
                                 "follows.", chain)
        firewall = self._firewall(name, chain, depth)
        if firewall is not None:
            return firewall
        authority = self._authority(name)
        if isinstance(authority, Resolution):
            return authority
        if authority is None:
            return self._public(name, chain)
        if authority.rule is not None:
            return self._forwarded(authority.rule, name, chain)
        if authority.endpoint is not None:
            endpoint = authority.endpoint
            via = f" ({authority.via})" if authority.via else ""
            text = " -> ".join([*chain, f"private DNS of {endpoint.endpoint_id}{via}"])
            return Resolution(Check(Hop("dns", endpoint.endpoint_id, ALLOW, text)),
                              RESOLVES_ENDPOINT, endpoint)
        assert authority.zone is not None
        return self._zone(authority.zone, name, chain, depth)

    # --- DNS Firewall --------------------------------------------------------------------------

    def _firewall(self, name: str, chain: list[str], depth: int) -> Resolution | None:
        """None when the firewall lets the query through; else what it answers instead."""
        if self.trusted:
            return None
        dns = self.estate.dns
        for association in dns.firewall_by_vpc.get(self.view.vpc.vpc_id, []):
            group = dns.firewall_groups[association.group_id]
            if group.rules is None:
                reason = self.estate.unavailable.get(api_calls.FIREWALL_RULES.kind,
                                                     "not in the collected data")
                return self._unknown(group.group_id, "DATA_UNAVAILABLE",
                                     f"Cannot read the rules of DNS Firewall rule group "
                                     f"{group.group_id} associated with "
                                     f"{self.view.vpc.vpc_id} ({reason}), so whether it "
                                     f"blocks {name} is unknown.", chain)
            for rule in group.rules:
                if rule.query_type and rule.query_type != "A":
                    continue  # the agent asks for A records
                matches = self._matches(rule, name)
                if matches is None and rule.action != "ALERT":
                    return self._unknown(group.group_id, "DATA_UNAVAILABLE",
                                         f"Cannot read domain list {rule.domain_list_id} of "
                                         f"rule {rule.name or rule.priority} in DNS Firewall "
                                         f"rule group {group.group_id}, so whether it "
                                         f"{rule.action.lower()}s {name} is unknown.", chain)
                if not matches or rule.action == "ALERT":
                    continue
                if rule.action == "ALLOW":
                    self.trusted = rule.trust_redirection
                    return None
                return self._firewall_block(group.group_id, rule, name, chain, depth)
        return None

    def _matches(self, rule: FirewallRule, name: str) -> bool | None:
        if rule.domain_list_id is None:
            # Threat-protection rules (DNS tunnelling, domain generation algorithms) judge
            # query patterns, not AWS's own fixed service names.
            return False
        domain_list = self.estate.dns.domain_lists.get(rule.domain_list_id)
        if domain_list is None or domain_list.domains is None:
            suffix = aws_regions.partition_of(self.view.region).dns_suffix
            if domain_list is not None and domain_list.managed_owner and \
                    aws_facts.dns_covers(suffix, name):
                # AWS's managed threat lists do not list AWS's own endpoints (decision).
                return False
            return None
        return any(_domain_matches(domain, name) for domain in domain_list.domains)

    def _firewall_block(self, group_id: str, rule: FirewallRule, name: str, chain: list[str],
                        depth: int) -> Resolution:
        where = f"rule {rule.name or rule.priority} of DNS Firewall rule group {group_id}"
        if rule.block_response == "OVERRIDE" and rule.block_override_domain:
            target = rule.block_override_domain
            return self.resolve(target, [*chain, f"{name} (blocked by {where}, answered "
                                                  f"CNAME {target})"], depth + 1)
        answer = rule.block_response or "NODATA"
        message = (f"{where}, associated with {self.view.vpc.vpc_id}, blocks {name}"
                   + (f" (reached from {self.hostname})" if name != self.hostname else "")
                   + f": the resolver answers {answer} and the agent cannot resolve "
                   f"{self.hostname}.")
        return _blocked(group_id, "DNS_FIREWALL_BLOCKS", message, self.service,
                        " -> ".join([*chain, f"{name}: blocked by {where} ({answer})"]),
                        {"rule": rule.name, "priority": rule.priority,
                         "domain_list": rule.domain_list_id})

    # --- who answers -----------------------------------------------------------------------------

    def _authority(self, name: str) -> _Authority | Resolution | None:
        covering = [a for a in self.view.authorities if aws_facts.dns_covers(a.domain, name)]
        if not covering:
            return None
        depth = max(aws_facts.dns_depth(a.domain) for a in covering)
        best = [a for a in covering if aws_facts.dns_depth(a.domain) == depth]
        elsewhere = [a for a in best if a.rule is not None and a.rule.rule_type in _ELSEWHERE_RULES]
        if elsewhere:
            return elsewhere[0]
        answering = [a for a in best if a.rule is None]
        if not answering:  # a SYSTEM rule: the resolver answers itself, from what is less
            rest = [a for a in self.view.authorities if a.rule is None
                    and aws_facts.dns_covers(a.domain, name)]
            if not rest:
                return None
            depth = max(aws_facts.dns_depth(a.domain) for a in rest)
            answering = [a for a in rest if aws_facts.dns_depth(a.domain) == depth]
        if len(answering) > 1:
            names = ", ".join(a.zone.zone_id if a.zone else a.endpoint.endpoint_id
                              for a in answering if a.zone or a.endpoint)
            return self._unknown(self.view.vpc.vpc_id, "PRIVATE_HOSTED_ZONE_OVERRIDE",
                                 f"Several private hosted zones or endpoints answer for "
                                 f"{name} in {self.view.vpc.vpc_id} ({names}); which one the "
                                 "resolver uses is not known.", [])
        return answering[0]

    def _forwarded(self, rule: ResolverRule, name: str, chain: list[str]) -> Resolution:
        targets = ", ".join(rule.target_ips) or "servers the API does not show"
        kind = "forwards" if rule.rule_type == "FORWARD" else "delegates"
        message = (f"Resolver rule {rule.rule_id}{f' ({rule.name})' if rule.name else ''} "
                   f"{kind} queries for {rule.domain_name or '.'} from "
                   f"{self.view.vpc.vpc_id} to {targets}: what they answer for {name}"
                   + (f" (reached from {self.hostname})" if name != self.hostname else "")
                   + " cannot be seen from the API.")
        text = " -> ".join([*chain, f"{name}: {kind} by {rule.rule_id} to {targets}"])
        return Resolution(Check(Hop("dns", rule.rule_id, UNKNOWN, text),
                                Finding("RESOLVER_RULE_FORWARDS", rule.rule_id, message,
                                        self.service, "warning",
                                        {"domain": rule.domain_name,
                                         "targets": list(rule.target_ips)})))

    def _public(self, name: str, chain: list[str]) -> Resolution:
        """A name no rule, zone or endpoint of the VPC answers for: public DNS."""
        endpoint = self._endpoint_named(name, chain)
        if endpoint is not None:
            return endpoint
        if name == self.hostname:
            text = " -> ".join([*chain, f"{name} -> public addresses (Amazon DNS)"])
            return Resolution(Check(Hop("dns", self.view.vpc.vpc_id, ALLOW, text)),
                              RESOLVES_PUBLIC)
        return self._unknown(self.view.vpc.vpc_id, "PRIVATE_HOSTED_ZONE_OVERRIDE",
                             f"{self.hostname} leads to {name}, which public DNS answers for: "
                             "what it resolves to, and whether that serves "
                             f"{self.service}, is not known to the auditor.", chain)

    # --- a zone's answer ---------------------------------------------------------------------

    def _zone(self, zone: HostedZone, name: str, chain: list[str], depth: int) -> Resolution:
        vpc = self.view.vpc
        label = f"private hosted zone {zone.zone_id} ({zone.name})"
        chain = [*chain, f"{name}: {label}"]
        if not vpc.enable_dns_hostnames:
            state = "off" if vpc.enable_dns_hostnames is False else "not readable"
            return self._unknown(zone.zone_id, "PRIVATE_HOSTED_ZONE_OVERRIDE",
                                 f"{label} covers {name} in {vpc.vpc_id}, whose "
                                 f"enableDnsHostnames is {state}: AWS documents both DNS "
                                 "attributes as needed for private hosted zones, so whether "
                                 "the zone answers is not certain.", chain, zone)
        if zone.records is None:
            why = zone.unread or "its records were not captured"
            return self._unknown(zone.zone_id, "DATA_UNAVAILABLE",
                                 f"{label} is associated with {vpc.vpc_id} and answers for "
                                 f"{name}, but its records could not be read ({why}): where "
                                 f"{self.hostname} resolves is unknown.", chain, zone)
        records = _records_for(zone.records, name)
        if records is None:
            message = (f"{label}, associated with {vpc.vpc_id}, answers for {name} but has no "
                       f"record for it: the resolver answers NXDOMAIN (it does not fall back "
                       f"to public DNS), so the agent cannot resolve {self.hostname}.")
            return self._zone_blocked(zone, message, chain, "NXDOMAIN")
        usable = [r for r in records if r.record_type in ("A", "CNAME")]
        if not usable:
            message = (f"{label}, associated with {vpc.vpc_id}, has records for {name} but no "
                       f"A or CNAME record: the resolver gives no IPv4 address, so the agent "
                       f"cannot resolve {self.hostname}.")
            return self._zone_blocked(zone, message, chain, "no A record")
        variants = [self._record(zone, record, chain, depth) for record in usable]
        first = variants[0]
        if all(_same_target(first, other) for other in variants[1:]):
            return self._decided_by(zone, first)
        return self._unknown(zone.zone_id, "PRIVATE_HOSTED_ZONE_OVERRIDE",
                             f"{label} holds several records for {name} (a routing policy) "
                             "that lead to different places: which one the agent gets "
                             "varies.", chain, zone)

    def _zone_blocked(self, zone: HostedZone, message: str, chain: list[str],
                      answer: str) -> Resolution:
        resolution = _blocked(zone.zone_id, "PRIVATE_HOSTED_ZONE_OVERRIDE", message,
                              self.service, " -> ".join([*chain, answer]),
                              {"zone": zone.name, "answer": answer})
        resolution.zone_id = zone.zone_id
        return resolution

    def _record(self, zone: HostedZone, record: DnsRecord, chain: list[str],
                depth: int) -> Resolution:
        if record.record_type == "CNAME":
            target = record.values[0] if record.values else ""
            if not target:
                return self._zone_blocked(zone, f"The CNAME for {record.name} in zone "
                                                f"{zone.zone_id} is empty.", chain, "empty CNAME")
            return self.resolve(target, [*chain, f"CNAME {target}"], depth + 1)
        if record.alias_target is not None:
            return self._alias(zone, record.alias_target, chain, depth)
        return self._addresses(zone, record.values, chain)

    def _alias(self, zone: HostedZone, target: str, chain: list[str], depth: int) -> Resolution:
        """Route 53 resolves an alias itself: to an endpoint's DNS name, to another record of
        the same zone, or to an AWS resource the model does not know."""
        endpoint = self._endpoint_named(target, [*chain, f"alias {target}"])
        if endpoint is not None:
            return endpoint
        if aws_facts.dns_covers(zone.name, target) and zone.records is not None:
            if depth >= MAX_CHAIN:
                return self.resolve(target, chain, depth + 1)  # reports the loop
            return self._zone(zone, target, [*chain, f"alias {target}"], depth + 1)
        return self._unknown(zone.zone_id, "PRIVATE_HOSTED_ZONE_OVERRIDE",
                             f"Zone {zone.zone_id} answers {self.hostname} with an alias to "
                             f"{target}, an AWS resource the auditor does not model: what "
                             "answers there is not known.", [*chain, f"alias {target}"], zone)

    def _addresses(self, zone: HostedZone, values: tuple[str, ...],
                   chain: list[str]) -> Resolution:
        """A records: an endpoint's ENIs when every address is one of them."""
        by_address = {eni.private_ip: eni for eni in self.estate.network_interfaces.values()
                      if eni.private_ip}
        endpoints = {e.endpoint_id: e for e in self.estate.vpc_endpoints.values()}
        owner = {eni_id: endpoint for endpoint in endpoints.values()
                 for eni_id in endpoint.network_interface_ids}
        found = [owner.get(by_address[a].eni_id) if a in by_address else None for a in values]
        text = " -> ".join([*chain, f"A {', '.join(values)}"])
        if found and all(found) and len({e.endpoint_id for e in found if e}) == 1:
            endpoint = found[0]
            assert endpoint is not None
            resolution = self._endpoint_resolution(endpoint, text)
            resolution.interface_ids = tuple(by_address[a].eni_id for a in values)
            return resolution
        return Resolution(Check(Hop("dns", zone.zone_id, ALLOW, text)), RESOLVES_ADDRESSES,
                          addresses=tuple(values), zone_id=zone.zone_id)

    # --- endpoints by name -------------------------------------------------------------------

    def _endpoint_named(self, name: str, chain: list[str] | None = None) -> Resolution | None:
        """An interface endpoint's own DNS name (regional or zonal) resolves, from anywhere, to
        its ENIs (those of the zone, for a zonal name)."""
        if not name.startswith("vpce-"):  # its private DNS name is the service's own
            return None
        chain = chain or [name]
        for endpoint in self.estate.vpc_endpoints.values():
            if name in endpoint.dns_names:
                text = " -> ".join([*chain, f"interface endpoint {endpoint.endpoint_id}"])
                resolution = self._endpoint_resolution(endpoint, text)
                resolution.interface_ids = _zonal(self.estate, endpoint, name)
                return resolution
        parsed = aws_facts.endpoint_in_dns_name(name)
        if parsed is None:
            return None
        endpoint_id, zone = parsed
        endpoint = self.estate.vpc_endpoints.get(endpoint_id)
        if endpoint is None:
            reason = self.estate.unavailable.get(api_calls.VPC_ENDPOINTS.kind,
                                                 "not in the collected data (another account "
                                                 "or a VPC not read?)")
            return self._unknown(endpoint_id, "DATA_UNAVAILABLE",
                                 f"{self.hostname} resolves to interface endpoint "
                                 f"{endpoint_id} ({name}), which the auditor cannot see: "
                                 f"{reason}.", chain)
        text = " -> ".join([*chain, f"interface endpoint {endpoint_id}"])
        resolution = self._endpoint_resolution(endpoint, text)
        resolution.interface_ids = _zonal(self.estate, endpoint, name, zone)
        return resolution

    def _endpoint_resolution(self, endpoint: VpcEndpoint, text: str) -> Resolution:
        wanted = aws_facts.endpoint_service_name(self.view.region, self.service)
        if endpoint.service_name != wanted:
            message = (f"{self.hostname} resolves to interface endpoint {endpoint.endpoint_id}, "
                       f"which serves {endpoint.service_name}, not {wanted}: the agent's "
                       f"requests for {self.service} fail there.")
            return _blocked(endpoint.endpoint_id, "PRIVATE_HOSTED_ZONE_OVERRIDE", message,
                            self.service, f"{text} (serves {endpoint.service_name})",
                            {"endpoint": endpoint.endpoint_id})
        return Resolution(Check(Hop("dns", endpoint.endpoint_id, ALLOW, text)),
                          RESOLVES_ENDPOINT, endpoint)

    # --- findings ----------------------------------------------------------------------------

    def _decided_by(self, zone: HostedZone, resolution: Resolution) -> Resolution:
        """A zone's answer that leads somewhere: the zone is named, as information, beside it
        (addresses of nothing known get the prover's warning instead)."""
        if resolution.target is None:
            return resolution
        if resolution.target == RESOLVES_ADDRESSES:
            return replace(resolution, zone_id=resolution.zone_id or zone.zone_id)
        resolution = replace(resolution, notes=list(resolution.notes),
                             zone_id=resolution.zone_id or zone.zone_id)
        where = (f"interface endpoint {resolution.endpoint.endpoint_id}"
                 + (f" in {resolution.endpoint.vpc_id}"
                    if resolution.endpoint.vpc_id != self.view.vpc.vpc_id else "")
                 if resolution.endpoint is not None else
                 f"addresses {', '.join(resolution.addresses)}")
        resolution.notes.append(Finding(
            "PRIVATE_HOSTED_ZONE_OVERRIDE", zone.zone_id,
            f"Private hosted zone {zone.zone_id} ({zone.name}), associated with "
            f"{self.view.vpc.vpc_id}, decides {self.hostname}: it resolves to {where}, not "
            "to the public addresses.", self.service, "info", {"zone": zone.name}))
        return resolution

    def _unknown(self, resource: str, code: str, message: str, chain: list[str],
                 zone: HostedZone | None = None) -> Resolution:
        text = " -> ".join([*chain, "unknown"]) if chain else message
        resolution = _unknown(resource, code, message, self.service, text)
        if zone is not None:
            resolution.zone_id = zone.zone_id
        return resolution


def _domain_matches(domain: str, name: str) -> bool:
    """A DNS Firewall domain: "*" every name, "*.example.com" its subdomains (not itself),
    "example.com" that name only."""
    if domain == "*":
        return True
    if domain.startswith("*."):
        return name.endswith(domain[1:])
    return name == domain


def _records_for(records: list[DnsRecord], name: str) -> list[DnsRecord] | None:
    """The records that answer ``name``: its own, else the wildcard of its closest existing
    ancestor; [] when the name exists with no records of its own (NODATA), None when it does
    not exist (NXDOMAIN)."""
    own = [r for r in records if r.name == name]
    if own:
        return own
    names = {r.name for r in records}
    if any(other.endswith("." + name) for other in names):
        return []  # an empty non-terminal: exists, without records
    labels = name.split(".")
    for index in range(1, len(labels)):
        encloser = ".".join(labels[index:])
        wildcard = [r for r in records if r.name == f"*.{encloser}"]
        if wildcard:
            return wildcard
        if encloser in names or any(other.endswith("." + encloser) for other in names):
            return None  # the closest existing ancestor, without a wildcard
    return None


def _zonal(estate: Estate, endpoint: VpcEndpoint, name: str,
           zone: str | None = None) -> tuple[str, ...] | None:
    """The ENIs a zonal DNS name of the endpoint resolves to (those in its Availability Zone);
    None for a regional name."""
    if zone is None:
        parsed = aws_facts.endpoint_in_dns_name(name)
        zone = parsed[1] if parsed else None
    if not zone:
        return None
    return tuple(eni_id for eni_id in endpoint.network_interface_ids
                 if (eni := estate.network_interfaces.get(eni_id)) is not None
                 and (subnet := estate.subnets.get(eni.subnet_id)) is not None
                 and subnet.availability_zone == zone)


def _same_target(one: Resolution, other: Resolution) -> bool:
    return (one.check.hop.decision == other.check.hop.decision and one.target == other.target
            and (one.endpoint.endpoint_id if one.endpoint else None)
            == (other.endpoint.endpoint_id if other.endpoint else None)
            and one.interface_ids == other.interface_ids
            and set(one.addresses) == set(other.addresses))


# --- entry points ------------------------------------------------------------------------------


def resolve(graph: EstateGraph, vpc: Vpc, region: str, service: str,
            hypervisor: str) -> Resolution:
    """``hypervisor``: of the instance's type (aws_facts.hypervisor), which decides whether it
    gets a DNS server in a VPC without a DHCP option set."""
    estate = graph.estate
    hostname = aws_facts.service_hostname(region, service)
    regional = _regional_check(region, hostname, service)
    if regional is not None:
        return regional
    unreadable = estate.unavailable.get("vpc_endpoints") or estate.unavailable.get("vpcs")
    if unreadable:
        return _unknown(vpc.vpc_id, "DATA_UNAVAILABLE",
                        f"Cannot read the VPC endpoints of {vpc.vpc_id} ({unreadable}), so "
                        f"where {hostname} resolves is unknown.", service)
    custom = _dhcp_check(graph, vpc, hostname, service, hypervisor)
    if custom is not None:
        return custom
    if vpc.enable_dns_support is None:
        reason = estate.unavailable.get("vpc_attributes", "not in the collected data")
        return _unknown(vpc.vpc_id, "DATA_UNAVAILABLE",
                        f"Cannot read enableDnsSupport of {vpc.vpc_id} ({reason}).", service)
    if not vpc.enable_dns_support:
        message = (f"{vpc.vpc_id} has enableDnsSupport off: the Amazon DNS server does not "
                   f"answer, so the instance cannot resolve {hostname}.")
        return _blocked(vpc.vpc_id, "VPC_DNS_SUPPORT_DISABLED", message, service,
                        "enableDnsSupport=false")
    view = _VpcDns(graph, vpc, region, service)
    if view.unknown:
        resource, why = view.unknown[0]
        more = f" (and {len(view.unknown) - 1} more)" if len(view.unknown) > 1 else ""
        resolution = _unknown(resource, "DATA_UNAVAILABLE",
                              f"What decides {hostname} in {vpc.vpc_id} could not be read: "
                              f"{why}{more}; it may override the name, so where it resolves "
                              "is unknown.", service)
        resolution.notes = view.notes
        return resolution
    resolution = _NameResolver(view, hostname).resolve(hostname, [])
    used = resolution.endpoint.endpoint_id if resolution.endpoint else None
    # An endpoint with private DNS off that a zone's record leads to anyway is used.
    resolution.notes = [*(note for note in view.notes if note.resource_id != used),
                        *resolution.notes]
    return resolution


def reached_vpcs(estate: Estate, vpc_ids: set[str]) -> set[str]:
    """The VPCs of the interface endpoints the zones of ``vpc_ids`` lead to (beyond them): what
    a proof of those VPCs' instances crosses besides their own."""
    dns = estate.dns
    return {endpoint.vpc_id for vpc_id in vpc_ids
            for endpoint_id in dns.reached_endpoints_by_vpc.get(vpc_id, [])
            if (endpoint := estate.vpc_endpoints.get(endpoint_id)) is not None} - vpc_ids
