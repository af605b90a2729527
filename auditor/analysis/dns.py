"""Where the agent's name for a service resolves from inside a VPC.

``ssm.REGION.amazonaws.com`` resolves to an interface endpoint's ENIs when the VPC has an
endpoint for exactly that service with private DNS enabled and both DNS attributes on; else to
the public addresses. DHCP options with other DNS servers make the answer unknowable. In a VPC
with no DHCP option set, only instances built on the Nitro System get a DNS server at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor import aws_facts
from auditor.analysis.graph import EstateGraph
from auditor.analysis.results import ALLOW, DENY, UNKNOWN, Check, Finding, Hop
from auditor.model import Vpc, VpcEndpoint

RESOLVES_ENDPOINT = "interface_endpoint"
RESOLVES_PUBLIC = "public"


@dataclass
class Resolution:
    check: Check  # ALLOW when the name resolves somewhere usable
    target: str | None = None  # RESOLVES_ENDPOINT | RESOLVES_PUBLIC when decided
    endpoint: VpcEndpoint | None = None
    notes: list[Finding] = field(default_factory=list)  # warnings that do not decide


def _uses_amazon_dns(servers: list[str], vpc: Vpc) -> bool:
    amazon = {aws_facts.AMAZON_DNS_NAME, aws_facts.AMAZON_DNS_ADDRESS}
    amazon.update(aws_facts.vpc_resolver_address(cidr) for cidr in vpc.cidrs[:1])
    return all(server in amazon for server in servers)


def _unknown(hostname: str, resource: str, code: str, message: str, service: str) -> Resolution:
    return Resolution(Check(Hop("dns", resource, UNKNOWN, message),
                            Finding(code, resource, message, service, "warning")))


def _no_option_set(vpc: Vpc, hostname: str, service: str, hypervisor: str) -> Resolution | None:
    """A VPC with no DHCP option set: the Amazon DNS server for Nitro instances, none for Xen."""
    if hypervisor == aws_facts.NITRO:
        return None
    if hypervisor == aws_facts.XEN:
        message = (f"{vpc.vpc_id} has no DHCP option set, and the instance's type is Xen-based: "
                   f"it gets no DNS server at all, so it cannot resolve {hostname}.")
        return Resolution(Check(Hop("dns", vpc.vpc_id, DENY, "no DHCP option set; Xen-based "
                                    "instance type: no DNS server"),
                                Finding("NO_DNS_SERVER", vpc.vpc_id, message, service)))
    message = (f"{vpc.vpc_id} has no DHCP option set: an instance built on the Nitro System gets "
               "the Amazon DNS server, a Xen-based one no DNS server at all, and which the "
               f"instance's type is is not known, so whether it can resolve {hostname} is "
               "unknown.")
    return Resolution(Check(Hop("dns", vpc.vpc_id, UNKNOWN, "no DHCP option set; hypervisor "
                                "of the instance type unknown"),
                            Finding("NO_DNS_SERVER", vpc.vpc_id, message, service, "warning")))


def _dhcp_check(graph: EstateGraph, vpc: Vpc, hostname: str, service: str,
                hypervisor: str) -> Resolution | None:
    """None when the instance uses the Amazon resolver; else the resolution it gets instead."""
    if not vpc.dhcp_options_id or vpc.dhcp_options_id == aws_facts.NO_DHCP_OPTIONS:
        return _no_option_set(vpc, hostname, service, hypervisor)
    options = graph.dhcp_options_of(vpc)
    if options is None:
        reason = graph.estate.unavailable.get("dhcp_options", "not in the collected data")
        return _unknown(hostname, vpc.vpc_id, "DATA_UNAVAILABLE",
                        f"Cannot read DHCP options {vpc.dhcp_options_id} ({reason}), so which "
                        f"DNS server answers {hostname} is unknown.", service)
    if _uses_amazon_dns(options.domain_name_servers, vpc):
        return None
    servers = ", ".join(options.domain_name_servers)
    return _unknown(hostname, options.dhcp_options_id, "CUSTOM_DNS_SERVERS",
                    f"{vpc.vpc_id} hands out DNS servers {servers} (DHCP options "
                    f"{options.dhcp_options_id}); what they answer for {hostname} cannot be "
                    "seen from the API.", service)


def _candidate_endpoints(graph: EstateGraph, vpc: Vpc, region: str,
                         service: str) -> list[VpcEndpoint]:
    wanted = aws_facts.endpoint_service_name(region, service)
    return [endpoint for endpoint in graph.endpoints_in(vpc.vpc_id)
            if endpoint.service_name == wanted and endpoint.endpoint_type.lower() == "interface"
            and endpoint.state not in aws_facts.ENDPOINT_GONE_STATES]


def resolve(graph: EstateGraph, vpc: Vpc, region: str, service: str,
            hypervisor: str) -> Resolution:
    """``hypervisor``: of the instance's type (aws_facts.hypervisor), which decides whether it
    gets a DNS server in a VPC without a DHCP option set."""
    estate = graph.estate
    hostname = aws_facts.service_hostname(region, service)
    unreadable = estate.unavailable.get("vpc_endpoints") or estate.unavailable.get("vpcs")
    if unreadable:
        return _unknown(hostname, vpc.vpc_id, "DATA_UNAVAILABLE",
                        f"Cannot read the VPC endpoints of {vpc.vpc_id} ({unreadable}), so "
                        f"where {hostname} resolves is unknown.", service)
    custom = _dhcp_check(graph, vpc, hostname, service, hypervisor)
    if custom is not None:
        return custom
    if vpc.enable_dns_support is None:
        reason = estate.unavailable.get("vpc_attributes", "not in the collected data")
        return _unknown(hostname, vpc.vpc_id, "DATA_UNAVAILABLE",
                        f"Cannot read enableDnsSupport of {vpc.vpc_id} ({reason}).", service)
    if not vpc.enable_dns_support:
        message = (f"{vpc.vpc_id} has enableDnsSupport off: the Amazon DNS server does not "
                   f"answer, so the instance cannot resolve {hostname}.")
        return Resolution(Check(Hop("dns", vpc.vpc_id, DENY, "enableDnsSupport=false"),
                                Finding("VPC_DNS_SUPPORT_DISABLED", vpc.vpc_id, message,
                                        service)))

    notes: list[Finding] = []
    for endpoint in _candidate_endpoints(graph, vpc, region, service):
        if not endpoint.private_dns_enabled:
            notes.append(Finding(
                "ENDPOINT_PRIVATE_DNS_DISABLED", endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} for {service} has private DNS "
                f"disabled, so {hostname} resolves to public addresses and the agent does not "
                "use the endpoint.", service, "warning"))
            continue
        if vpc.enable_dns_hostnames is None:
            reason = estate.unavailable.get("vpc_attributes", "not in the collected data")
            return _unknown(hostname, vpc.vpc_id, "DATA_UNAVAILABLE",
                            f"Cannot read enableDnsHostnames of {vpc.vpc_id} ({reason}), "
                            f"which decides whether {endpoint.endpoint_id} answers for "
                            f"{hostname}.", service)
        if not vpc.enable_dns_hostnames:
            notes.append(Finding(
                "VPC_DNS_HOSTNAMES_DISABLED", vpc.vpc_id,
                f"{vpc.vpc_id} has enableDnsHostnames off, so the private DNS name of "
                f"endpoint {endpoint.endpoint_id} does not apply and {hostname} resolves to "
                "public addresses.", service, "warning"))
            continue
        hop = Hop("dns", endpoint.endpoint_id, ALLOW,
                  f"{hostname} -> private DNS of {endpoint.endpoint_id}")
        return Resolution(Check(hop), RESOLVES_ENDPOINT, endpoint, notes)
    hop = Hop("dns", vpc.vpc_id, ALLOW, f"{hostname} -> public addresses (Amazon DNS)")
    return Resolution(Check(hop), RESOLVES_PUBLIC, None, notes)
