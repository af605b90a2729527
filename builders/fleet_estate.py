"""The synthetic fleet of the benchmarks: thousands of instances in hundreds of VPCs.

``build_estate(FULL)`` is the 10,000-instance estate ``scripts/benchmark.py`` measures the
audit on (and the HTML report's browser test opens): VPCs cycle through kinds (NAT, isolated
with interface endpoints, both, broken), subnets host three workloads that share groups and
platform as auto scaling groups do, and a few instances are stopped, without the metadata
service or without a profile. ``docs/BENCHMARK.md`` describes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from builders.estate_builder import EstateBuilder

AGENT_SERVICES = ("ssm", "ssmmessages", "ec2messages")
EPHEMERAL = (1024, 65535)
RECIPES = 6  # the special security groups of each VPC, after its endpoint group


@dataclass(frozen=True)
class Size:
    instances: int
    subnets: int
    vpcs: int
    groups: int


FULL = Size(instances=10_000, subnets=1_000, vpcs=200, groups=3_000)
OPERATOR_ROLES = 2_000  # IAM roles beside the instances' own: what --operators goes through
QUICK = Size(instances=1_000, subnets=100, vpcs=20, groups=300)

# What each VPC is, by its index modulo 10: most reach the agent's endpoints through NAT or an
# internet gateway, some only through interface endpoints, a few are broken on purpose.
VPC_KINDS = ("nat", "nat", "nat", "nat", "nat", "isolated", "isolated", "nat-and-endpoints",
             "nat", "broken")


def _share(total: int, parts: int, index: int) -> int:
    """How many of ``total`` things part ``index`` of ``parts`` gets (spread evenly)."""
    base, extra = divmod(total, parts)
    return base + (1 if index < extra else 0)


def _vpc_cidr(index: int) -> IPv4Network:
    """10.<index>.0.0/16, then the /16s of 172.16.0.0/12."""
    if index < 256:
        return IPv4Network(f"10.{index}.0.0/16")
    if index < 256 + 16:
        return IPv4Network(f"172.{16 + index - 256}.0.0/16")
    raise SystemExit("benchmark: at most 272 VPCs")


def _security_groups(b: EstateBuilder, vpc: str, cidr: str, count: int,
                     egress_list: str) -> list[str]:
    """``count`` groups: the endpoint group first, then what instances wear."""
    endpoint = b.security_group(vpc, "ssm-endpoints", ingress=[("tcp", 443, 443, cidr)])
    groups = [endpoint]
    recipes: list[tuple[str, list[tuple] | None, list[tuple]]] = [
        ("web", None, [("tcp", 443, 443, "0.0.0.0/0")]),
        ("app", [("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 5432, 5432, cidr)], []),
        ("via-endpoint-sg", [("tcp", 443, 443, endpoint)], []),  # an SG reference
        ("locked-down", [("tcp", 5432, 5432, cidr)], []),  # blocks the agent
        ("via-prefix-list", [("tcp", 443, 443, egress_list)], []),
        ("no-egress", [], [("tcp", 22, 22, cidr)]),  # blocks the agent
    ]
    assert len(recipes) == RECIPES
    for index in range(count - 1):
        if index < len(recipes):
            name, egress, ingress = recipes[index]
        else:  # tiers that talk to each other, with the agent's traffic allowed
            peer = groups[1 + (index % max(1, len(groups) - 1))]
            name = f"tier-{index}"
            egress = [("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 8080, 8080, peer)]
            if index % 3 == 0:
                egress = None  # the default allow-all
            ingress = [("tcp", 8080, 8080, peer), ("tcp", 22, 22, cidr)]
        groups.append(b.security_group(vpc, name, egress=egress, ingress=ingress))
    return groups


def _network(b: EstateBuilder, vpc_index: int, subnet_count: int) -> tuple[str, list[str],
                                                                            list[str]]:
    """A VPC and its subnets, routes and ACLs. Returns (vpc, subnets, public subnets)."""
    kind = VPC_KINDS[vpc_index % len(VPC_KINDS)]
    network = _vpc_cidr(vpc_index)
    cidr = str(network)
    dns_servers = ([str(network.network_address + 2), "10.255.0.53"]
                   if vpc_index % 25 == 24 else None)
    vpc = b.vpc(cidr, dns_servers=dns_servers)
    cidrs = [str(s) for s, _ in zip(network.subnets(new_prefix=24), range(subnet_count),
                                   strict=False)]
    subnets = [b.subnet(vpc, subnet_cidr, "abc"[i % 3], public_ip_on_launch=(i == 0))
               for i, subnet_cidr in enumerate(cidrs)]
    public: list[str] = []
    if kind == "isolated":
        b.route_table(vpc, subnets)  # local routes only
    else:
        igw = b.internet_gateway(vpc)
        public = subnets[:1]
        b.route_table(vpc, public, [("0.0.0.0/0", igw)])
        private = subnets[1:]
        if kind == "broken" and private:
            failed = b.nat_gateway(public[0], state="failed")
            targets = [("0.0.0.0/0", "tgw-0123456789abcdef0"),
                       ("0.0.0.0/0", "blackhole:nat-0deleted0000000000"),
                       ("0.0.0.0/0", failed)]
            for index, subnet in enumerate(private):
                if index < len(targets):
                    b.route_table(vpc, [subnet], [targets[index]])
                else:
                    b.route_table(vpc, [subnet])  # no way out, no endpoints
        elif private:
            nat = b.nat_gateway(public[0])
            b.route_table(vpc, private, [("0.0.0.0/0", nat)])
        if vpc_index % 3 == 0 and len(subnets) > 2:  # a custom ACL that lets the agent work
            b.network_acl(vpc, [subnets[2]], [
                (100, True, "allow", "6", "0.0.0.0/0", (443, 443)),
                (110, True, "allow", "6", cidr, (5432, 5432)),
                (100, False, "allow", "6", "0.0.0.0/0", EPHEMERAL),
            ])
        if vpc_index % 4 == 1 and len(subnets) > 3:  # one that drops the replies
            b.network_acl(vpc, [subnets[3]], [
                (100, True, "allow", "6", "0.0.0.0/0", (443, 443)),
                (100, False, "allow", "6", cidr, EPHEMERAL),
            ])
    return vpc, subnets, public


def _workload(wearable: list[str], v: int, subnet: int, j: int, i: int,
              unshared: bool) -> tuple[list[str], bool, bool]:
    """Instance ``j`` of subnet ``subnet`` (``i`` in its VPC ``v``): groups, Windows, public IP.

    By default a subnet hosts three workloads, as auto scaling groups do: six in ten instances
    run the main one, three the second, one a special one (where the blocking groups are), and
    instances of one workload share their groups, platform and public-IP choice. ``unshared``
    varies all that per instance instead: the worst case for the prover, which proves instances
    alike in subnet, groups, platform and public IP once.
    """
    recipes = min(RECIPES, len(wearable))
    tiers = len(wearable) - recipes
    if unshared:
        if i % 10 == 0 or not tiers:
            chosen = [wearable[(i // 10 + v) % recipes]]
        else:
            chosen = [wearable[recipes + (i * 7 + v) % tiers]]
        if i % 6 == 5:
            chosen.append(wearable[(i * 11 + 3) % len(wearable)])
        return list(dict.fromkeys(chosen)), i % 15 == 7, i % 8 != 3
    slot = j % 10
    if slot == 9 or not tiers:  # the special workload
        return [wearable[(subnet + v) % recipes]], False, False
    second = slot >= 6
    chosen = [wearable[recipes + (subnet * 2 + second) % tiers]]
    if second and subnet % 2 == 0:
        chosen.append(wearable[0])  # also "web"
    return list(dict.fromkeys(chosen)), second and (subnet + v) % 4 == 0, True


def _session_preferences(b: EstateBuilder) -> str:
    """Session Manager preferences that encrypt sessions with a KMS key and log them to S3, and
    the policy the fleet's roles carry for them (role-6's lacks the key: a refusal to prove)."""
    b.s3_prefix_list()
    key = b.kms_key("alias/session-manager")
    b.bucket("fleet-session-logs")
    b.session_preferences(kmsKeyId="alias/session-manager", s3BucketName="fleet-session-logs",
                          s3KeyPrefix="sessions", s3EncryptionEnabled=True)
    writes = [{"Effect": "Allow", "Action": "s3:PutObject",
               "Resource": "arn:aws:s3:::fleet-session-logs/sessions/*"},
              {"Effect": "Allow", "Action": "s3:GetEncryptionConfiguration",
               "Resource": "arn:aws:s3:::fleet-session-logs"}]
    b.managed_policy("session-access", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}, *writes]})
    b.managed_policy("session-logs-only", {"Version": "2012-10-17", "Statement": writes})
    return key


def _operators(b: EstateBuilder, count: int) -> None:
    """``count`` roles of people and automation, as a large account has: a quarter may start
    sessions on instances of one team (a resource-tag condition), a few anywhere, the rest do
    other things. What ``--operators`` sorts through."""
    document = "arn:aws:ssm:*:111122223333:document/SSM-SessionManagerRunShell"
    shared = b.managed_policy("read-only-things", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:Describe*", "s3:Get*", "s3:List*"],
         "Resource": "*"}]})
    for number in range(count):
        statements: list[dict] = [{"Effect": "Allow", "Action": ["logs:Get*", "sqs:Send*"],
                                   "Resource": f"arn:aws:sqs:*:111122223333:queue-{number}"}]
        if number % 4 == 0:
            statements += [
                {"Effect": "Allow", "Action": "ssm:StartSession",
                 "Resource": "arn:aws:ec2:*:111122223333:instance/*",
                 "Condition": {"StringEquals": {"ssm:resourceTag/team": f"team-{number % 7}"}}},
                {"Effect": "Allow", "Action": "ssm:StartSession", "Resource": document}]
        elif number % 50 == 1:
            statements.append({"Effect": "Allow", "Action": ["ssm:*", "kms:GenerateDataKey"],
                               "Resource": "*"})
        b.role(f"operator-{number:04d}", attached=[shared] if number % 3 == 0 else (),
               inline={"work": {"Version": "2012-10-17", "Statement": statements}})


def build_estate(size: Size, region: str = "eu-west-1", unshared: bool = False
                 ) -> tuple[EstateBuilder, dict[str, str]]:
    """The synthetic estate, and one instance id per VPC kind (for single-instance runs).
    Session Manager's preferences encrypt sessions with a KMS key and log them to S3; half the
    isolated VPCs reach S3 through a gateway endpoint (and kms nowhere); the account has
    ``OPERATOR_ROLES`` roles of people beside the instances' own."""
    b = EstateBuilder(region=region, account_id="111122223333")
    _session_preferences(b)
    for number in range(7):  # the instance profiles role-0 .. role-6, each holding its role
        b.role(f"role-{number}", attached=["AmazonSSMManagedInstanceCore",
                                           "session-logs-only" if number == 6
                                           else "session-access"])
        b.instance_profile(f"role-{number}", [f"role-{number}"])
    _operators(b, OPERATOR_ROLES)
    egress_list = b.prefix_list("egress-allowed", ["0.0.0.0/1", "128.0.0.0/1"])
    b.prefix_list("corp-offices", ["192.168.0.0/16", "172.31.0.0/16"])
    samples: dict[str, str] = {}
    for v in range(size.vpcs):
        kind = VPC_KINDS[v % len(VPC_KINDS)]
        vpc, subnets, public = _network(b, v, _share(size.subnets, size.vpcs, v))
        cidr = b.vpcs[-1]["CidrBlock"]
        groups = _security_groups(b, vpc, cidr, _share(size.groups, size.vpcs, v),
                                  egress_list)
        if kind in ("isolated", "nat-and-endpoints"):
            endpoint_subnets = subnets[:2] if kind == "isolated" else subnets[1:3]
            for service in AGENT_SERVICES:
                b.interface_endpoint(vpc, service, endpoint_subnets or subnets[:1], groups[:1])
        if kind == "isolated" and v % 2 == 0:  # S3 through a gateway endpoint, kms nowhere
            table = next(t["RouteTableId"] for t in b.route_tables if t["VpcId"] == vpc
                         and any(a.get("SubnetId") for a in t["Associations"]))
            b.gateway_endpoint(vpc, "s3", [table], b.prefix_lists[0]["PrefixListId"])
        wearable = groups[1:] or groups
        for i in range(_share(size.instances, size.vpcs, v)):
            subnet_index = i % len(subnets)
            subnet = subnets[subnet_index]
            chosen, windows, public_ip = _workload(wearable, v, subnet_index, i // len(subnets),
                                                   i, unshared)
            instance = b.instance(
                subnet, chosen, name=f"{kind}-{v}-{i}",
                public_ip=(f"198.51.{100 + v % 100}.{i % 250 + 1}"
                           if subnet in public and public_ip else None),
                state="stopped" if i % 25 == 24 else "running",
                platform="windows" if windows else None,
                http_endpoint="disabled" if i % 40 == 39 else "enabled",
                http_tokens="optional" if i % 9 == 4 else "required",
                instance_profile=None if i % 30 == 29 else f"role-{v % 7}",
                tags={"team": f"team-{(v + subnet_index) % 10}"})
            if i % 30 != 29:  # Systems Manager's view: most registered, a few lost
                b.managed_node(instance, "ConnectionLost" if i % 13 == 12 else "Online")
            samples.setdefault(kind, instance)
    return b, samples


def build_hub_and_spoke(size: Size, region: str = "eu-west-1") -> tuple[EstateBuilder, str]:
    """The hub-and-spoke variant: ``size.instances`` instances in ``size.vpcs`` spoke VPCs
    (three zones each) behind two transit gateways, each with a hub VPC holding a central NAT
    gateway and central interface endpoints (builders/hub_and_spoke.py). One spoke in ten is not
    propagated to its hub's gateway route table (the replies have no way back), one in ten has
    an attachment subnet in one zone only; a tenth of the instances wear a group that blocks
    the agent. Nine spokes in ten reach the hub's endpoints by name: private hosted zones named
    like the services, one per service and hub, associated with those spokes, alias the names to
    the hub's endpoints; the tenth goes out through the central NAT gateway. Returns the builder
    and one working instance's id."""
    from builders.hub_and_spoke import add_spoke, build_hub, spoke_cidrs

    b = EstateBuilder(region=region, account_id="111122223333")
    for number in range(7):
        b.role(f"role-{number}", attached=["AmazonSSMManagedInstanceCore"])
        b.instance_profile(f"role-{number}", [f"role-{number}"])
    hubs = [build_hub(b, "10.100.0.0/16", "abc"), build_hub(b, "172.16.0.0/16", "abc")]
    sample = ""
    named: list[list[str]] = [[], []]  # per hub, the spokes its zones are associated with
    for v, cidr in enumerate(spoke_cidrs(size.vpcs)):
        spoke = add_spoke(b, hubs[v % 2], cidr, "abc", propagate=v % 10 != 7,
                          attachment_zones="a" if v % 10 == 3 else "abc")
        if v % 10 != 5:
            named[v % 2].append(spoke.vpc)
        app = b.security_group(spoke.vpc, "app")
        https_only = b.security_group(spoke.vpc, "https-only",
                                      egress=[("tcp", 443, 443, "0.0.0.0/0")])
        locked = b.security_group(spoke.vpc, "locked-down", egress=[("tcp", 5432, 5432, cidr)])
        for i in range(_share(size.instances, size.vpcs, v)):
            subnet = spoke.app_subnets[i % len(spoke.app_subnets)]
            groups = [locked] if i % 10 == 9 else [https_only] if i % 3 == 1 else [app]
            instance = b.instance(
                subnet, groups, name=f"spoke-{v}-{i}",
                state="stopped" if i % 25 == 24 else "running",
                platform="windows" if i % 15 == 7 else None,
                instance_profile=None if i % 30 == 29 else f"role-{v % 7}")
            if i % 30 != 29:
                b.managed_node(instance, "ConnectionLost" if i % 13 == 12 else "Online")
            if not sample and i % 10 < 9 and v % 10 not in (3, 7):
                sample = instance
    for hub, spokes in zip(hubs, named, strict=True):
        for service, endpoint in hub.endpoints.items():
            name = f"{service}.{region}.amazonaws.com"
            zone = b.private_hosted_zone(name, spokes)
            b.record(zone, name, "A", alias=b.endpoint_dns_name(endpoint))
    return b, sample
