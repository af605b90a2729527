"""DNS as the VPC resolver answers it (issue 12): private hosted zones, Resolver rules, DNS
Firewall, Route 53 Profiles, endpoints' own DNS names, and the regional facts, each proved
through the snapshot path (EstateBuilder -> raw answers -> parse -> audit)."""

from __future__ import annotations

import pytest

from auditor.analysis.dns import resolve
from auditor.analysis.graph import EstateGraph
from auditor.analysis.results import BLOCKED, REACHABLE, UNKNOWN
from auditor.audit import run_audit
from auditor.aws_facts import NITRO
from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from auditor.vocabulary import MANAGEABLE, NOT_MANAGEABLE
from auditor.vocabulary import UNKNOWN as VERDICT_UNKNOWN
from builders.estate_builder import EstateBuilder

REGION = "eu-west-1"
SSM = f"ssm.{REGION}.amazonaws.com"
SSMMESSAGES = f"ssmmessages.{REGION}.amazonaws.com"
EC2MESSAGES = f"ec2messages.{REGION}.amazonaws.com"


class Estate:
    """A private subnet that reaches the internet through a NAT gateway (so the public path
    works), an endpoint subnet in another zone, and a security group endpoints admit 443 in."""

    def __init__(self, region: str = REGION, **vpc_options) -> None:
        b = self.b = EstateBuilder(region=region)
        self.vpc = b.vpc("10.0.0.0/16", **vpc_options)
        public = b.subnet(self.vpc, "10.0.0.0/24", "a")
        self.private = b.subnet(self.vpc, "10.0.10.0/24", "a")
        self.endpoints = b.subnet(self.vpc, "10.0.20.0/24", "b")
        self.endpoints_a = b.subnet(self.vpc, "10.0.21.0/24", "a")
        b.route_table(self.vpc, [public], [("0.0.0.0/0", b.internet_gateway(self.vpc))])
        b.route_table(self.vpc, [self.private], [("0.0.0.0/0", b.nat_gateway(public))])
        self.open_sg = b.security_group(self.vpc, "endpoints",
                                        ingress=[("tcp", 443, 443, "10.0.0.0/16")])
        self.instance_sg = b.security_group(self.vpc, "app")
        b.role("agent", attached=["AmazonSSMManagedInstanceCore"])
        b.instance_profile("agent", ["agent"])

    def endpoint(self, service: str = "ssm", *, private_dns: bool = False,
                 subnets=None, groups=None) -> str:
        return self.b.interface_endpoint(self.vpc, service, subnets or [self.endpoints],
                                         groups or [self.open_sg], private_dns=private_dns)

    def instance(self, **options) -> str:
        return self.b.instance(self.private, [self.instance_sg], instance_profile="agent",
                               **options)

    def audit(self, instance_id: str, raw=None):
        report = run_audit([build_estate(raw or self.b.raw(), [instance_id])], [instance_id],
                           SourceDescription("snapshot"))
        return report.instances[0]


def codes(proof) -> dict[str, str]:
    """{code: severity} of a proof's findings."""
    return {f.code: f.severity for f in proof.findings}


# --- the documented hole: a zone overriding a service name in one VPC -----------------------


def test_a_parent_zone_without_the_record_answers_nxdomain_and_blocks():
    """Before issue 12 this instance was `manageable` (the NAT path works): the zone
    REGION.amazonaws.com associated with its VPC answers NXDOMAIN for every service's name."""
    e = Estate()
    zone = e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [e.vpc])
    instance = e.instance()
    audit = e.audit(instance)
    assert audit.verdict == NOT_MANAGEABLE
    for service in ("ssm", "ssmmessages", "ec2messages"):
        proof = audit.services[service]
        assert (proof.status, proof.via) == (BLOCKED, "none")
        finding = next(f for f in proof.findings if f.code == "PRIVATE_HOSTED_ZONE_OVERRIDE")
        assert (finding.resource_id, finding.severity) == (zone, "error")
        assert "NXDOMAIN" in finding.message
        assert proof.path[0].decision == "deny"


def test_a_zone_in_another_vpc_changes_nothing_here():
    e = Estate()
    other = e.b.vpc("10.9.0.0/16")
    e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [other])
    audit = e.audit(e.instance())
    assert audit.verdict == MANAGEABLE
    assert audit.services["ssm"].via == "nat_gateway"


def test_a_zone_for_another_name_changes_nothing():
    e = Estate()
    e.b.private_hosted_zone("corp.example.com", [e.vpc])
    e.b.private_hosted_zone(f"s3.{REGION}.amazonaws.com", [e.vpc])
    assert e.audit(e.instance()).verdict == MANAGEABLE


def test_a_zone_named_like_the_service_with_an_alias_to_an_endpoint():
    """The central-endpoint pattern inside one VPC: the endpoint has private DNS off, a zone
    named ssm.REGION.amazonaws.com answers with an alias to its regional DNS name."""
    e = Estate()
    endpoint = e.endpoint("ssm")
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A", alias=e.b.endpoint_dns_name(endpoint))
    audit = e.audit(e.instance())
    proof = audit.services["ssm"]
    assert (proof.status, proof.via, proof.endpoint_id) == (REACHABLE, "interface_endpoint",
                                                            endpoint)
    assert codes(proof)["PRIVATE_HOSTED_ZONE_OVERRIDE"] == "info"
    assert audit.services["ssmmessages"].via == "nat_gateway"  # its name has no zone
    assert audit.verdict == MANAGEABLE


def test_the_override_leads_to_an_endpoint_whose_group_blocks():
    e = Estate()
    closed = e.b.security_group(e.vpc, "closed", ingress=[("tcp", 443, 443, "192.168.0.0/16")])
    endpoint = e.endpoint("ssm", groups=[closed])
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A", alias=e.b.endpoint_dns_name(endpoint))
    audit = e.audit(e.instance())
    proof = audit.services["ssm"]
    assert (proof.status, proof.via) == (BLOCKED, "interface_endpoint")
    assert "ENDPOINT_SG_INGRESS_BLOCKS" in codes(proof)
    assert audit.verdict == NOT_MANAGEABLE  # a working NAT does not rescue it


@pytest.mark.parametrize(("zone_name", "status"), [
    (f"{REGION}.amazonaws.com", REACHABLE), (SSM, REACHABLE),
    # a zone for amazonaws.com also answers for the endpoint's own name, ...vpce.amazonaws.com,
    # which it has no record for: the CNAME ends in NXDOMAIN (an alias would not)
    ("amazonaws.com", BLOCKED)])
def test_a_cname_to_the_endpoint_name(zone_name, status):
    e = Estate()
    endpoint = e.endpoint("ssm")
    zone = e.b.private_hosted_zone(zone_name, [e.vpc])
    e.b.record(zone, SSM, "CNAME", [e.b.endpoint_dns_name(endpoint)])
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == status
    if status == REACHABLE:
        assert proof.endpoint_id == endpoint


def test_a_wildcard_answers_every_service_name_below_it():
    e = Estate()
    endpoint = e.endpoint("ssm")
    zone = e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [e.vpc])
    e.b.record(zone, f"*.{REGION}.amazonaws.com", "CNAME", [e.b.endpoint_dns_name(endpoint)])
    audit = e.audit(e.instance())
    assert audit.services["ssm"].endpoint_id == endpoint
    # ssmmessages' requests reach an ssm endpoint: they fail there
    proof = audit.services["ssmmessages"]
    assert proof.status == BLOCKED
    assert "serves com.amazonaws" in next(f.message for f in proof.findings
                                          if f.code == "PRIVATE_HOSTED_ZONE_OVERRIDE")


def test_an_empty_non_terminal_answers_no_address():
    e = Estate()
    zone = e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [e.vpc])
    e.b.record(zone, f"fips.{SSM}", "A", ["10.0.20.50"])  # the name exists, without records
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == BLOCKED
    assert "no A or CNAME record" in proof.findings[0].message


def test_the_most_specific_zone_decides():
    e = Estate()
    endpoint = e.endpoint("ssm")
    broad = e.b.private_hosted_zone("amazonaws.com", [e.vpc])
    e.b.record(broad, SSM, "A", alias=e.b.endpoint_dns_name(endpoint))
    narrow = e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [e.vpc])
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == BLOCKED
    assert proof.findings[0].resource_id == narrow


def test_an_endpoints_private_dns_is_more_specific_than_a_parent_zone():
    e = Estate()
    endpoint = e.endpoint("ssm", private_dns=True)
    e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [e.vpc])
    audit = e.audit(e.instance())
    assert (audit.services["ssm"].status, audit.services["ssm"].endpoint_id) == (REACHABLE,
                                                                                 endpoint)
    assert audit.services["ssmmessages"].status == BLOCKED  # NXDOMAIN from the zone


def resolution(e: Estate, service: str = "ssm"):
    estate = build_estate(e.b.raw())
    return resolve(EstateGraph(estate), estate.vpcs[e.vpc], e.b.region, service, NITRO)


def test_a_records_holding_the_endpoints_addresses():
    e = Estate()
    endpoint = e.endpoint("ssm", subnets=[e.endpoints, e.endpoints_a])
    first, address = next((eni["NetworkInterfaceId"], eni["PrivateIpAddress"])
                          for eni in e.b.network_interfaces
                          if eni["SubnetId"] == e.endpoints_a)
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A", [address])
    proof = e.audit(e.instance()).services["ssm"]
    assert (proof.status, proof.endpoint_id) == (REACHABLE, endpoint)
    assert resolution(e).interface_ids == (first,)  # only that ENI is tried


def test_a_zonal_name_resolves_to_the_enis_of_its_zone_only():
    e = Estate()
    closed = e.b.security_group(e.vpc, "closed", ingress=[])
    endpoint = e.endpoint("ssm", subnets=[e.endpoints, e.endpoints_a])
    e.b.network_interfaces[-1]["Groups"] = [{"GroupId": closed}]  # the ENI in zone a
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A", alias=e.b.endpoint_dns_name(endpoint, zone="b"))
    in_b = next(eni["NetworkInterfaceId"] for eni in e.b.network_interfaces
                if eni["SubnetId"] == e.endpoints)
    assert resolution(e).interface_ids == (in_b,)
    e.b.vpc_endpoints[-1]["Groups"] = []  # each ENI keeps its own group
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == REACHABLE  # the closed ENI in zone a is never tried
    assert not any(f.code == "ENDPOINT_PARTIALLY_REACHABLE" for f in proof.findings)


def test_addresses_of_nothing_known_are_unknown_never_public():
    e = Estate()
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A", ["10.0.30.7"])
    audit = e.audit(e.instance())
    proof = audit.services["ssm"]
    assert (proof.status, proof.via) == (UNKNOWN, "private_hosted_zone")
    assert codes(proof)["PRIVATE_HOSTED_ZONE_OVERRIDE"] == "warning"
    assert proof.resolves_to == "addresses 10.0.30.7"
    assert audit.verdict == VERDICT_UNKNOWN


def test_addresses_the_instance_cannot_even_send_to_are_blocked():
    e = Estate()
    e.instance_sg = e.b.security_group(e.vpc, "locked", egress=[("tcp", 443, 443,
                                                                 "10.0.20.0/24")])
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A", ["10.0.30.7"])
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == BLOCKED
    assert "SG_EGRESS_BLOCKS" in codes(proof)


def test_a_cname_to_a_name_outside_aws_is_unknown():
    e = Estate()
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "CNAME", ["proxy.corp.example.com"])
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == UNKNOWN
    assert "proxy.corp.example.com" in proof.findings[0].message


def test_a_cname_into_another_associated_zone_is_followed():
    e = Estate()
    endpoint = e.endpoint("ssm")
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "CNAME", ["ssm.internal.example.com"])
    corp = e.b.private_hosted_zone("internal.example.com", [e.vpc])
    e.b.record(corp, "ssm.internal.example.com", "A", alias=e.b.endpoint_dns_name(endpoint))
    proof = e.audit(e.instance()).services["ssm"]
    assert (proof.status, proof.endpoint_id) == (REACHABLE, endpoint)


def test_a_cname_loop_is_unknown():
    e = Estate()
    zone = e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [e.vpc])
    e.b.record(zone, SSM, "CNAME", [f"a.{REGION}.amazonaws.com"])
    e.b.record(zone, f"a.{REGION}.amazonaws.com", "CNAME", [SSM])
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == UNKNOWN
    assert "loop" in proof.findings[0].message


def test_records_that_vary_by_routing_policy():
    e = Estate()
    endpoint = e.endpoint("ssm")
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A", alias=e.b.endpoint_dns_name(endpoint), set_identifier="one")
    e.b.record(zone, SSM, "A", alias=e.b.endpoint_dns_name(endpoint), set_identifier="two")
    assert e.audit(e.instance()).services["ssm"].status == REACHABLE
    e.b.record(zone, SSM, "A", ["10.0.30.7"], set_identifier="three")
    assert e.audit(e.instance()).services["ssm"].status == UNKNOWN


def test_an_endpoint_the_auditor_cannot_see():
    e = Estate()
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A",
               alias=f"vpce-0123456789abcdef0-abcdefgh.ssm.{REGION}.vpce.amazonaws.com")
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == UNKNOWN
    finding = proof.findings[0]
    assert (finding.code, finding.resource_id) == ("DATA_UNAVAILABLE", "vpce-0123456789abcdef0")


def test_an_alias_to_an_aws_resource_not_modelled_is_unknown():
    e = Estate()
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "A", alias="internal-proxy-1234.eu-west-1.elb.amazonaws.com")
    assert e.audit(e.instance()).services["ssm"].status == UNKNOWN


def test_a_zone_owned_by_another_account_is_unknown():
    e = Estate()
    e.b.private_hosted_zone(SSM, [e.vpc], owner="444455556666")
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == UNKNOWN
    assert ("DATA_UNAVAILABLE", "warning") in {(f.code, f.severity) for f in proof.findings}


def test_dns_hostnames_off_leaves_a_zones_answer_uncertain():
    e = Estate(dns_hostnames=False)
    e.b.private_hosted_zone(SSM, [e.vpc])
    assert e.audit(e.instance()).services["ssm"].status == UNKNOWN


def test_private_dns_only_for_inbound_resolver_endpoints():
    e = Estate()
    endpoint = e.endpoint("ssm", private_dns=True)
    e.b.vpc_endpoints[-1]["DnsOptions"] = {"PrivateDnsOnlyForInboundResolverEndpoint": True}
    proof = e.audit(e.instance()).services["ssm"]
    assert (proof.status, proof.via) == (REACHABLE, "nat_gateway")
    assert any(f.resource_id == endpoint and "inbound Resolver endpoint" in f.message
               for f in proof.findings)


# --- Resolver rules -------------------------------------------------------------------------


@pytest.mark.parametrize(("domain", "status"), [
    ("amazonaws.com", UNKNOWN), (".", UNKNOWN), (SSM, UNKNOWN), ("example.com", REACHABLE)])
def test_a_forward_rule_covering_the_name_is_unknown(domain, status):
    e = Estate()
    rule = e.b.resolver_rule(domain, [e.vpc])
    proof = e.audit(e.instance()).services["ssm"]
    assert proof.status == status
    if status == UNKNOWN:
        finding = proof.findings[0]
        assert (finding.code, finding.resource_id) == ("RESOLVER_RULE_FORWARDS", rule)
        assert "10.200.0.2" in finding.message


def test_a_more_specific_system_rule_wins_over_a_forward_rule():
    e = Estate()
    e.b.resolver_rule(".", [e.vpc])
    e.b.resolver_rule(f"{REGION}.amazonaws.com", [e.vpc], rule_type="SYSTEM")
    audit = e.audit(e.instance())
    assert audit.verdict == MANAGEABLE
    assert audit.services["ssm"].via == "nat_gateway"


def test_a_system_rule_lets_the_zones_answer():
    e = Estate()
    e.b.resolver_rule("amazonaws.com", [e.vpc])
    e.b.resolver_rule(SSM, [e.vpc], rule_type="SYSTEM")
    zone = e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [e.vpc])
    proof = e.audit(e.instance()).services["ssm"]
    assert (proof.status, proof.findings[0].resource_id) == (BLOCKED, zone)


def test_a_forward_rule_wins_over_a_zone_of_the_same_name():
    e = Estate()
    e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [e.vpc])
    e.b.resolver_rule(f"{REGION}.amazonaws.com", [e.vpc])
    assert codes(e.audit(e.instance()).services["ssm"]) == {"RESOLVER_RULE_FORWARDS": "warning"}


def test_an_endpoints_private_dns_wins_over_a_forward_rule_for_every_name():
    e = Estate()
    endpoint = e.endpoint("ssm", private_dns=True)
    e.b.resolver_rule(".", [e.vpc])
    audit = e.audit(e.instance())
    assert audit.services["ssm"].endpoint_id == endpoint
    assert audit.services["ssmmessages"].status == UNKNOWN


def test_a_rule_not_associated_with_the_vpc_changes_nothing():
    e = Estate()
    e.b.resolver_rule("amazonaws.com", [])
    assert e.audit(e.instance()).verdict == MANAGEABLE


# --- DNS Firewall -----------------------------------------------------------------------------


def block(list_id: str, priority: int = 10, response: str = "NXDOMAIN", **more) -> dict:
    return {"Priority": priority, "Action": "BLOCK", "FirewallDomainListId": list_id,
            "BlockResponse": response, **more}


@pytest.mark.parametrize("domains", [["*.amazonaws.com"], [SSM, SSMMESSAGES, EC2MESSAGES],
                                     ["*"]])
def test_a_firewall_rule_that_blocks_the_names(domains):
    e = Estate()
    group = e.b.firewall_rule_group([e.vpc], [block(e.b.firewall_domain_list(domains))])
    audit = e.audit(e.instance())
    assert audit.verdict == NOT_MANAGEABLE
    finding = audit.services["ssm"].findings[0]
    assert (finding.code, finding.resource_id) == ("DNS_FIREWALL_BLOCKS", group)


def test_firewall_domains_match_as_aws_documents():
    """"amazonaws.com" is that name only; "*.example.com" its subdomains only."""
    e = Estate()
    e.b.firewall_rule_group([e.vpc], [block(e.b.firewall_domain_list(
        ["amazonaws.com", f"*.{SSM}"]))])
    assert e.audit(e.instance()).verdict == MANAGEABLE


def test_an_allow_rule_ahead_of_the_block_lets_the_name_through():
    e = Estate()
    allow = {"Priority": 1, "Action": "ALLOW",
             "FirewallDomainListId": e.b.firewall_domain_list([f"*.{REGION}.amazonaws.com"])}
    e.b.firewall_rule_group([e.vpc], [allow, block(e.b.firewall_domain_list(["*"]))])
    assert e.audit(e.instance()).verdict == MANAGEABLE


def test_group_priority_decides_before_rule_priority():
    e = Estate()
    everything = e.b.firewall_domain_list(["*"])
    e.b.firewall_rule_group([e.vpc], [block(everything, priority=1)], priority=200)
    e.b.firewall_rule_group([e.vpc], [{"Priority": 500, "Action": "ALLOW",
                                       "FirewallDomainListId": everything}], priority=100)
    assert e.audit(e.instance()).verdict == MANAGEABLE


def test_alert_rules_and_other_query_types_do_not_block():
    e = Estate()
    everything = e.b.firewall_domain_list(["*"])
    e.b.firewall_rule_group([e.vpc], [
        {"Priority": 1, "Action": "ALERT", "FirewallDomainListId": everything},
        block(everything, priority=2, Qtype="AAAA")])
    assert e.audit(e.instance()).verdict == MANAGEABLE


def test_an_override_answer_redirects_to_its_domain():
    e = Estate()
    endpoint = e.endpoint("ssm")
    e.b.firewall_rule_group([e.vpc], [block(
        e.b.firewall_domain_list([SSM]), response="OVERRIDE",
        BlockOverrideDomain=e.b.endpoint_dns_name(endpoint), BlockOverrideDnsType="CNAME")])
    proof = e.audit(e.instance()).services["ssm"]
    assert (proof.status, proof.endpoint_id) == (REACHABLE, endpoint)


def test_the_firewall_inspects_the_names_a_cname_leads_to():
    e = Estate()
    zone = e.b.private_hosted_zone(SSM, [e.vpc])
    e.b.record(zone, SSM, "CNAME", ["ssm.internal.example.com"])
    e.b.private_hosted_zone("internal.example.com", [e.vpc])
    e.b.firewall_rule_group([e.vpc], [block(e.b.firewall_domain_list(["*.example.com"]))])
    finding = e.audit(e.instance()).services["ssm"].findings[0]
    assert finding.code == "DNS_FIREWALL_BLOCKS"
    assert "ssm.internal.example.com" in finding.message


def test_aws_managed_threat_lists_do_not_list_aws_endpoints():
    e = Estate()
    managed = e.b.firewall_domain_list(None, managed_owner="Route 53 Resolver DNS Firewall")
    e.b.firewall_rule_group([e.vpc], [block(managed)])
    assert e.audit(e.instance()).verdict == MANAGEABLE


def test_an_unreadable_domain_list_is_unknown():
    e = Estate()
    unread = e.b.firewall_domain_list(["*"])
    e.b.firewall_rule_group([e.vpc], [block(unread)])
    instance = e.instance()
    raw = e.b.raw()
    raw.answers["firewall_domains"] = []
    proof = e.audit(instance, raw).services["ssm"]
    assert proof.status == UNKNOWN
    assert proof.findings[0].code == "DATA_UNAVAILABLE"


# --- Route 53 Profiles ------------------------------------------------------------------------


def test_a_profile_brings_a_zone_a_rule_group_and_an_endpoint():
    e = Estate()
    zone = e.b.private_hosted_zone(f"{REGION}.amazonaws.com", [])
    e.b.route53_profile([e.vpc], [f"arn:aws:route53:::hostedzone/{zone}"])
    proof = e.audit(e.instance()).services["ssm"]
    assert (proof.status, proof.findings[0].resource_id) == (BLOCKED, zone)

    e = Estate()
    group = e.b.firewall_rule_group([], [block(e.b.firewall_domain_list(["*"]))])
    arn = f"arn:aws:route53resolver:{REGION}:111122223333:firewall-rule-group/{group}"
    e.b.route53_profile([e.vpc], [arn], {arn: '{"priority": 102}'})
    assert e.audit(e.instance()).services["ssm"].findings[0].code == "DNS_FIREWALL_BLOCKS"

    e = Estate()
    other = e.b.vpc("10.1.0.0/16")
    endpoint = e.b.interface_endpoint(other, "ssm", [e.b.subnet(other, "10.1.1.0/24")],
                                      [e.b.security_group(other, "shared")], private_dns=True)
    e.b.route53_profile([e.vpc, other],
                        [f"arn:aws:ec2:{REGION}:111122223333:vpc-endpoint/{endpoint}"])
    assert e.audit(e.instance()).services["ssm"].endpoint_id == endpoint


def test_a_profile_resource_the_auditor_does_not_know_is_unknown():
    e = Estate()
    e.b.route53_profile([e.vpc], [
        f"arn:aws:route53resolver:{REGION}:444455556666:resolver-rule/rslvr-rr-0unknown"])
    proof = e.audit(e.instance()).services["ssm"]
    assert (proof.status, proof.findings[0].code) == (UNKNOWN, "DATA_UNAVAILABLE")


# --- what could not be read -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["hosted_zones_by_vpc", "resolver_rule_associations",
                                  "firewall_associations", "profile_associations"])
def test_dns_data_that_could_not_be_read_is_unknown_never_all_clear(kind):
    e = Estate()
    instance = e.instance()
    raw = e.b.raw()
    del raw.answers[kind]
    raw.errors[kind] = "AccessDeniedException: not authorized"
    audit = e.audit(instance, raw)
    assert audit.verdict == VERDICT_UNKNOWN
    assert {f.code for f in audit.services["ssm"].findings} == {"DATA_UNAVAILABLE"}


def refused(raw, kind: str):
    del raw.answers[kind]
    raw.errors[kind] = "AccessDeniedException: not authorized"
    return raw


@pytest.mark.parametrize(("kind", "uses_it"), [
    ("resolver_rules", lambda e: e.b.resolver_rule("example.com", [e.vpc])),
    ("profile_resources", lambda e: e.b.route53_profile([e.vpc], [])),
    ("firewall_rules", lambda e: e.b.firewall_rule_group(
        [e.vpc], [block(e.b.firewall_domain_list(["example.com"]))])),
    ("firewall_domains", lambda e: e.b.firewall_rule_group(
        [e.vpc], [block(e.b.firewall_domain_list(["example.com"]))])),
])
def test_a_read_that_follows_a_listing_matters_only_where_it_is_used(kind, uses_it):
    """Unreadable Resolver rules, profile resources, firewall rules or domains make unknown
    the VPCs associated with a rule, a profile or a rule group, and no other VPC."""
    plain, using = Estate(), Estate()
    uses_it(using)
    plain_instance, using_instance = plain.instance(), using.instance()
    assert plain.audit(plain_instance, refused(plain.b.raw(), kind)).verdict == MANAGEABLE
    assert using.audit(using_instance).verdict == MANAGEABLE  # readable: nothing blocks
    audit = using.audit(using_instance, refused(using.b.raw(), kind))
    assert audit.verdict == VERDICT_UNKNOWN
    [finding] = audit.services["ssm"].findings
    assert finding.code == "DATA_UNAVAILABLE"


def test_a_rule_associated_but_not_listed_is_unknown():
    e = Estate()
    rule = e.b.resolver_rule("example.com", [e.vpc])
    instance = e.instance()
    raw = e.b.raw()
    raw.answers["resolver_rules"] = {"ResolverRules": []}
    proof = e.audit(instance, raw).services["ssm"]
    assert (proof.status, proof.findings[0].code) == (UNKNOWN, "DATA_UNAVAILABLE")
    assert rule in proof.findings[0].message


def test_an_association_of_a_failed_rule_changes_nothing():
    e = Estate()
    e.b.resolver_rule("amazonaws.com", [e.vpc])
    e.b.resolver_rules[-1]["Status"] = "FAILED"
    assert e.audit(e.instance()).verdict == MANAGEABLE


def test_a_snapshot_from_before_the_dns_reads_is_unknown():
    e = Estate()
    instance = e.instance()
    raw = e.b.raw()
    for kind in ("hosted_zones_by_vpc", "record_sets", "resolver_rules",
                 "resolver_rule_associations", "firewall_associations", "firewall_rules",
                 "firewall_domain_lists", "firewall_domains", "profile_associations",
                 "profile_resources"):
        del raw.answers[kind]
    audit = e.audit(instance, raw)
    assert audit.verdict == VERDICT_UNKNOWN
    assert "list-hosted-zones-by-vpc.json was not captured" in audit.services["ssm"].findings[
        0].message


def test_a_vpc_whose_zones_were_not_listed_is_unknown():
    e = Estate()
    instance = e.instance()
    raw = e.b.raw()
    raw.answers["hosted_zones_by_vpc"] = []
    assert e.audit(instance, raw).verdict == VERDICT_UNKNOWN


# --- the hub: an endpoint in another VPC ------------------------------------------------------


def hub_and_spoke(region: str = REGION) -> tuple[Estate, str, str, str]:
    """A spoke VPC whose zone aliases ssm to an endpoint in a hub VPC reached through a transit
    gateway: (estate, hub VPC, hub endpoint, spoke instance)."""
    e = Estate(region)
    hub = e.b.vpc("10.100.0.0/16")
    hub_subnet = e.b.subnet(hub, "10.100.1.0/24", "a")
    hub_sg = e.b.security_group(hub, "hub-endpoints", ingress=[("tcp", 443, 443, "10.0.0.0/8")])
    endpoint = e.b.interface_endpoint(hub, "ssm", [hub_subnet], [hub_sg], private_dns=False)
    zone = e.b.private_hosted_zone(f"ssm.{region}.amazonaws.com", [e.vpc])
    e.b.record(zone, f"ssm.{region}.amazonaws.com", "A", alias=e.b.endpoint_dns_name(endpoint))
    private_table = next(t for t in e.b.route_tables
                         if any(a.get("SubnetId") == e.private for a in t["Associations"]))
    private_table["Routes"].append({"DestinationCidrBlock": "10.100.0.0/16",
                                    "TransitGatewayId": "tgw-0123456789abcdef0",
                                    "State": "active"})
    hub_table = next(t for t in e.b.route_tables if t["VpcId"] == hub)
    hub_table["Routes"].append({"DestinationCidrBlock": "10.0.0.0/16",
                                "TransitGatewayId": "tgw-0123456789abcdef0", "State": "active"})
    return e, hub, endpoint, e.instance()


def test_the_name_resolves_to_the_hubs_endpoint_and_the_path_carries_it_there():
    e, _hub, endpoint, instance = hub_and_spoke()
    audit = e.audit(instance)
    proof = audit.services["ssm"]
    assert proof.endpoint_id == endpoint
    assert proof.path[0].resource_id == endpoint  # the DNS hop names the hub's endpoint
    # the transit gateway path itself is the paths half's (until then: unmodelled, unknown)
    assert proof.status in (UNKNOWN, REACHABLE)
    assert proof.status != BLOCKED


def test_a_snapshot_read_for_one_instance_keeps_the_hub_it_leads_to():
    e, hub, endpoint, instance = hub_and_spoke()
    estate = build_estate(e.b.raw(), [instance])
    assert hub in estate.vpcs and endpoint in estate.vpc_endpoints
    assert estate.dns.reached_endpoints_by_vpc[e.vpc] == [endpoint]


# --- regional facts -----------------------------------------------------------------------------


def region_estate(region: str, agent: str | None):
    e = Estate(region)
    instance = e.instance()
    if agent:
        e.b.managed_node(instance, agent_version=agent)
    return e.audit(instance)


def test_a_region_without_ec2messages_blocks_only_that_channel():
    audit = region_estate("ap-southeast-7", None)
    proof = audit.services["ec2messages"]
    assert (proof.status, proof.findings[0].code) == (BLOCKED, "SERVICE_NOT_IN_REGION")
    assert audit.services["ssmmessages"].status == REACHABLE
    assert audit.verdict == MANAGEABLE
    assert {f.severity for f in audit.findings if f.code == "SERVICE_NOT_IN_REGION"} == {
        "warning"}


def test_an_agent_too_old_for_ssmmessages_cannot_work_in_such_a_region():
    assert region_estate("mx-central-1", "3.2.1705.0").verdict == NOT_MANAGEABLE
    assert region_estate("eu-west-1", "3.2.1705.0").verdict == MANAGEABLE


def test_a_region_the_table_does_not_know_leaves_ec2messages_unknown():
    audit = region_estate("xx-future-1", None)
    proof = audit.services["ec2messages"]
    assert (proof.status, proof.findings[0].code) == (UNKNOWN, "SERVICE_NOT_IN_REGION")
    assert audit.verdict == MANAGEABLE  # ssmmessages decides for a current agent
    assert region_estate("xx-future-1", "3.2.1705.0").verdict == VERDICT_UNKNOWN
