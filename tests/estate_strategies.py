"""Random small estates for the property-based tests, as plain specs Hypothesis can shrink.

An ``EstateSpec`` is a handful of frozen dataclasses: one VPC of up to three /24 subnets, each
with its route table and network ACL, up to two NAT gateways, interface endpoints, an internet
gateway, one security group for the instances, up to two instances and one instance role. Every
address and port comes from small pools chosen to meet at the edges that matter (the public
space's halves, 52.0.0.0/8, the subnets, the ephemeral ranges), so random rules compose, split
and overlap. ``build`` turns a spec into raw API answers with ``EstateBuilder`` (the snapshot
format the auditor reads); ``outcomes`` audits it. The mutations the properties apply are
functions from spec to spec, so a failing example shrinks to a small estate and a small change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from auditor import aws_facts
from auditor.audit import run_audit
from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from auditor.sources.raw import RawRegion
from builders.estate_builder import EstateBuilder

VPC_CIDR = "10.0.0.0/16"
SUBNETS = ("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24")
# No CIDR here splits a subnet: two instances of one subnet are alike to every rule.
CIDRS = ("0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "52.0.0.0/8", "52.0.0.0/9", VPC_CIDR,
         *SUBNETS)
# Security group peers beside CIDRs: a prefix list whose entries are known, one whose entries
# were not captured, and the security group of the ssm interface endpoint.
KNOWN_LIST, UNREAD_LIST, ENDPOINT_GROUP = "pl-known", "pl-unread", "sg-endpoints"
KNOWN_LIST_CIDRS = ("52.0.0.0/8", VPC_CIDR)
PEERS = (*CIDRS, KNOWN_LIST, UNREAD_LIST, ENDPOINT_GROUP)
PUBLIC_DESTINATIONS = ("0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "52.0.0.0/8")
PORTS = ((443, 443), (0, 65535), (1024, 65535), (1024, 32767), (32768, 65535),
         (32768, 60999), (49152, 65535), (400, 500))
TARGETS = ("igw", "nat0", "nat1", "blackhole", "appliance", "tgw")
INSTANCE_TYPES = ("t3.micro", "m5.large", "t2.micro", "zz9.mega")
# Systems Manager's view: none (never registered), an agent that knows only ec2messages, a
# current one.
AGENTS = ("3.3.1142.0", "", "3.2.923.0")
AGENT_ACTIONS = (*aws_facts.HEARTBEAT_ACTIONS,
                 *(a for actions in aws_facts.CHANNEL_ACTIONS.values() for a in actions))
ACTION_PATTERNS = (*AGENT_ACTIONS, "ssm:*", "ssmmessages:*", "ec2messages:*", "*",
                   "ec2messages:GetEndpoint")
CONDITION = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
APPLIANCE = "eni-0appliance00000000"
TRANSIT_GATEWAY = "tgw-0123456789abcdef0"
GONE = "nat-0gone000000000000"


@dataclass(frozen=True)
class RouteSpec:
    destination: str  # a CIDR or KNOWN_LIST
    target: str  # one of TARGETS


@dataclass(frozen=True)
class NaclRule:
    number: int
    egress: bool
    allow: bool
    tcp: bool  # False: all traffic (ports ignored)
    cidr: str
    ports: tuple[int, int]


@dataclass(frozen=True)
class SgRule:
    cidr: str  # one of PEERS
    ports: tuple[int, int]


@dataclass(frozen=True)
class SubnetSpec:
    routes: tuple[RouteSpec, ...]
    nacl: tuple[NaclRule, ...]


@dataclass(frozen=True)
class NatSpec:
    subnet: int
    available: bool = True
    public: bool = True
    deleted: bool = False  # gone: the routes to it are blackholes, as AWS leaves them


@dataclass(frozen=True)
class EndpointSpec:
    service: str
    subnet: int
    private_dns: bool
    ingress: tuple[SgRule, ...]


@dataclass(frozen=True)
class InstanceSpec:
    subnet: int
    public_ip: bool
    windows: bool
    instance_type: str
    imdsv2: bool
    agent: str = AGENTS[0]
    running: bool = True
    metadata: bool = True  # the metadata service enabled
    endpoint_group: bool = False  # also wears the ssm endpoint's security group


@dataclass(frozen=True)
class Statement:
    allow: bool
    actions: tuple[str, ...]
    conditional: bool


@dataclass(frozen=True)
class IamSpec:
    profile: bool
    trust: str  # "ec2" | "everyone" | "aws-star" | "conditional"
    statements: tuple[Statement, ...]
    dhmc: bool


@dataclass(frozen=True)
class EstateSpec:
    dhcp: str  # "region" | "none"
    dns_hostnames: bool
    igw: bool
    subnets: tuple[SubnetSpec, ...]
    nats: tuple[NatSpec, ...]
    endpoints: tuple[EndpointSpec, ...]
    egress: tuple[SgRule, ...]
    instances: tuple[InstanceSpec, ...]
    iam: IamSpec
    edge_routes: tuple[RouteSpec, ...] = ()  # the internet gateway's ingress route table


ALLOW_ALL_ACL = (NaclRule(100, True, True, False, "0.0.0.0/0", (0, 65535)),
                 NaclRule(100, False, True, False, "0.0.0.0/0", (0, 65535)))

# --- strategies -------------------------------------------------------------------------------

sg_rules = st.builds(SgRule, st.sampled_from(PEERS), st.sampled_from(PORTS))
nacl_rules = st.builds(NaclRule, st.sampled_from(range(10, 210, 10)), st.booleans(),
                       st.booleans(), st.booleans(), st.sampled_from(CIDRS),
                       st.sampled_from(PORTS))


def _unique_numbers(rules: list[NaclRule]) -> tuple[NaclRule, ...]:
    seen, kept = set(), []
    for rule in rules:
        if (rule.egress, rule.number) not in seen:
            seen.add((rule.egress, rule.number))
            kept.append(rule)
    return tuple(kept)


def _mostly(usual: Any, other: st.SearchStrategy) -> st.SearchStrategy:
    """``usual`` two times in three (what a working estate has; shrinking goes there too),
    else ``other``: random estates are otherwise nearly always blocked somewhere."""
    return st.one_of(st.just(usual), st.just(usual), other)


ALLOW_ALL_EGRESS = (SgRule("0.0.0.0/0", (0, 65535)),)
HTTPS_FROM_VPC = (SgRule(VPC_CIDR, (443, 443)),)
AGENT_POLICY = (Statement(True, AGENT_ACTIONS, False),)

acls = _mostly(ALLOW_ALL_ACL, st.lists(nacl_rules, max_size=5).map(_unique_numbers))
routes = st.one_of(
    st.just((RouteSpec("0.0.0.0/0", "igw"),)), st.just((RouteSpec("0.0.0.0/0", "nat0"),)),
    st.lists(st.builds(RouteSpec, st.sampled_from((*PUBLIC_DESTINATIONS, *SUBNETS,
                                                   KNOWN_LIST)),
                       st.sampled_from(TARGETS)),
             max_size=3, unique_by=lambda route: route.destination).map(tuple))
subnet_specs = st.builds(SubnetSpec, routes, acls)
statements = st.builds(Statement, st.booleans(),
                       st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3,
                                unique=True).map(tuple),
                       st.booleans())
iam_specs = st.builds(
    IamSpec, _mostly(True, st.booleans()),
    st.sampled_from(("ec2", "ec2", "everyone", "aws-star", "conditional")),
    _mostly(AGENT_POLICY, st.lists(statements, max_size=3).map(tuple)), st.booleans())
instance_specs = st.builds(InstanceSpec, st.integers(0, 2), _mostly(True, st.booleans()),
                           st.booleans(), st.sampled_from(INSTANCE_TYPES), st.booleans(),
                           st.sampled_from(AGENTS), _mostly(True, st.booleans()),
                           _mostly(True, st.booleans()), st.booleans())
endpoint_specs = st.builds(EndpointSpec, st.sampled_from(aws_facts.SERVICES), st.integers(0, 2),
                           _mostly(True, st.booleans()),
                           _mostly(HTTPS_FROM_VPC, st.lists(sg_rules, max_size=2).map(tuple)))

estates = st.builds(
    EstateSpec,
    dhcp=st.sampled_from(("region", "region", "none")),
    dns_hostnames=_mostly(True, st.booleans()),
    igw=_mostly(True, st.booleans()),
    subnets=st.lists(subnet_specs, min_size=1, max_size=3).map(tuple),
    nats=_mostly((NatSpec(0),), st.lists(st.builds(NatSpec, st.integers(0, 2), st.booleans(),
                                                   st.booleans()), max_size=2).map(tuple)),
    endpoints=st.lists(endpoint_specs, max_size=3,
                       unique_by=lambda endpoint: endpoint.service).map(tuple),
    egress=_mostly(ALLOW_ALL_EGRESS, st.lists(sg_rules, max_size=3).map(tuple)),
    instances=st.lists(instance_specs, min_size=1, max_size=2).map(tuple),
    iam=iam_specs,
    edge_routes=st.lists(st.builds(RouteSpec, st.sampled_from(SUBNETS),
                                   st.sampled_from(("appliance", "blackhole"))),
                         max_size=1).map(tuple),
)

# --- building ---------------------------------------------------------------------------------


@dataclass
class Built:
    raw: RawRegion
    instance_ids: list[str]
    ids: dict[str, Any]


def _policy(statements: tuple[Statement, ...]) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow" if s.allow else "Deny", "Action": list(s.actions), "Resource": "*",
         **({"Condition": CONDITION} if s.conditional else {})} for s in statements]}


def _trust(kind: str) -> dict:
    principal: Any = {"ec2": {"Service": "ec2.amazonaws.com"}, "everyone": "*",
                      "aws-star": {"AWS": "*"},
                      "conditional": {"Service": "ec2.amazonaws.com"}}[kind]
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if kind == "conditional":
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def _rules(b: EstateBuilder, group_id: str, field: str, rules: tuple[SgRule, ...],
           peers: dict[str, str]) -> None:
    """Security group rules, their peers named by the pools' names."""
    group = next(g for g in b.security_groups if g["GroupId"] == group_id)
    group[field] = [b._permission(("tcp", r.ports[0], r.ports[1], peers.get(r.cidr, r.cidr)))
                    for r in rules]


def build(spec: EstateSpec) -> Built:
    b = EstateBuilder()
    vpc = b.vpc(VPC_CIDR, dns_hostnames=spec.dns_hostnames, no_dhcp_options=spec.dhcp == "none")
    count = len(spec.subnets)
    subnets = [b.subnet(vpc, SUBNETS[i], "abc"[i]) for i in range(count)]
    igw = b.internet_gateway(vpc if spec.igw else None)
    nats = [f"blackhole:{GONE}" if n.deleted else b.nat_gateway(
        subnets[n.subnet % count], state="available" if n.available else "failed",
        connectivity="public" if n.public else "private") for n in spec.nats]
    peers = {KNOWN_LIST: b.prefix_list("known", KNOWN_LIST_CIDRS),
             UNREAD_LIST: b.prefix_list("unread", None)}
    targets = {"igw": igw, "blackhole": f"blackhole:{GONE}", "appliance": APPLIANCE,
               "tgw": TRANSIT_GATEWAY,
               **{f"nat{i}": nats[i] if i < len(nats) else f"blackhole:{GONE}"
                  for i in range(2)}}
    tables = []
    for subnet_id, subnet in zip(subnets, spec.subnets, strict=True):
        tables.append(b.route_table(vpc, [subnet_id], [
            (peers.get(r.destination, r.destination), targets[r.target])
            for r in subnet.routes]))
        b.network_acl(vpc, [subnet_id], [
            (r.number, r.egress, "allow" if r.allow else "deny", "6" if r.tcp else "-1",
             r.cidr, r.ports if r.tcp else None) for r in subnet.nacl])
    if spec.edge_routes:
        b.route_table(vpc, gateways=[igw], routes=[(r.destination, targets[r.target])
                                                   for r in spec.edge_routes])
    # One group per service, there whether or not its endpoint is (deleting an endpoint leaves
    # its group, and the rules naming it, as AWS does).
    endpoint_groups = {service: b.security_group(vpc, f"endpoint-{service}")
                       for service in aws_facts.SERVICES}
    group = b.security_group(vpc, "instances", egress=[])
    peers[ENDPOINT_GROUP] = endpoint_groups[aws_facts.HEARTBEAT_SERVICE]
    _rules(b, group, "IpPermissionsEgress", spec.egress, peers)
    for endpoint in spec.endpoints:
        endpoint_group = endpoint_groups[endpoint.service]
        _rules(b, endpoint_group, "IpPermissions", endpoint.ingress, peers)
        b.interface_endpoint(vpc, endpoint.service, [subnets[endpoint.subnet % count]],
                             [endpoint_group], private_dns=endpoint.private_dns)
    iam = spec.iam
    if iam.profile:
        b.role("agent", trust=_trust(iam.trust),
               inline={"agent": _policy(iam.statements)} if iam.statements else None)
        b.instance_profile("agent", ["agent"])
    b.role("dhmc", path="/service-role/",
           attached=["AmazonSSMManagedEC2InstanceDefaultPolicy"],
           trust={"Version": "2012-10-17", "Statement": [{
               "Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"},
               "Action": "sts:AssumeRole"}]})
    b.dhmc_setting("service-role/dhmc" if iam.dhmc else None)
    instance_ids = []
    for index, instance in enumerate(spec.instances):
        groups = [group, endpoint_groups[aws_facts.HEARTBEAT_SERVICE]][
            :2 if instance.endpoint_group else 1]
        instance_ids.append(b.instance(
            subnets[instance.subnet % count], groups, name=f"instance-{index}",
            state="running" if instance.running else "stopped",
            http_endpoint="enabled" if instance.metadata else "disabled",
            public_ip=f"198.51.100.{index + 1}" if instance.public_ip else None,
            platform="windows" if instance.windows else None,
            instance_type=instance.instance_type,
            http_tokens="required" if instance.imdsv2 else "optional",
            instance_profile="agent" if iam.profile else None))
        if instance.agent:
            b.managed_node(instance_ids[-1], agent_version=instance.agent,
                           is_latest=instance.agent == AGENTS[0])
    return Built(b.raw(), instance_ids, {"vpc": vpc, "subnets": subnets, "tables": tables,
                                         "nats": nats, "igw": igw, "group": group})


# --- observing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    verdict: str
    services: tuple[tuple[str, str], ...]  # (service, status)
    credentials: str
    permissions: str
    codes: tuple[str, ...]  # the error findings' codes, sorted

    def status(self, service: str) -> str:
        return dict(self.services)[service]


def audit(raw: RawRegion):
    return run_audit([build_estate(raw)], None, SourceDescription("snapshot"))


def outcomes(raw: RawRegion) -> dict[str, Outcome]:
    return {a.instance.instance_id: Outcome(
        a.verdict, tuple((s, p.status) for s, p in sorted(a.services.items())),
        a.credentials.status, a.permissions.status,
        tuple(sorted({f.code for f in a.findings if f.severity == "error"})))
        for a in audit(raw).instances}


# --- mutations ---------------------------------------------------------------------------------


def with_subnet(spec: EstateSpec, index: int, **changes: Any) -> EstateSpec:
    subnets = list(spec.subnets)
    subnets[index] = replace(subnets[index], **changes)
    return replace(spec, subnets=tuple(subnets))


def free_number(rules: tuple[NaclRule, ...], egress: bool, wanted: int) -> int:
    used = {rule.number for rule in rules if rule.egress == egress}
    number = wanted
    while number in used:
        number += 1
    return number
