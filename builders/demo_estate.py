"""The bundled demo estate (demo/estate): the common failures beside healthy instances.

``build_regions()`` describes it (eu-west-1, ``build()``, a hub-and-spoke region, and eu-west-3
whose Session Manager preferences name a deleted log group);
``python scripts/make_demo_estate.py`` writes it. The files are what
``python -m auditor snapshot`` would capture from such an account. A test regenerates them and
compares, so the committed demo never drifts from this description.
"""

from __future__ import annotations

from pathlib import Path

from builders.estate_builder import EstateBuilder
from builders.hub_and_spoke import add_spoke, build_hub

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "demo" / "estate"
CAPTURED_AT = "2026-11-26T09:00:00+00:00"
AGENT_SERVICES = ("ssm", "ssmmessages", "ec2messages")
EPHEMERAL_ONLY_HIGH = (1024, 65535)
CORE = "AmazonSSMManagedInstanceCore"
ACCOUNT = "111122223333"
# Session Manager preferences of eu-west-1: sessions encrypted with a KMS key, logged to S3
# (encryption required) and streamed to CloudWatch Logs; what most instance roles are given.
SESSION_KEY = "alias/session-manager"
SESSION_BUCKET = "acme-session-logs"
SESSION_PREFIX = "sessions"
SESSION_LOG_GROUP = "/acme/ssm-sessions"
SESSION_POLICY = "ssm-session-access"
HUB_REGION = "eu-central-1"  # the hub-and-spoke region
SHARED_NETWORK_ACCOUNT = "444455556666"  # shares a transit gateway with the demo account
# A third region whose preferences name a log group that was deleted (its EC2 ids apart from
# the hub-and-spoke region's, which start at 0x1000).
PARIS_REGION = "eu-west-3"
PARIS_REGION_FIRST_ID = 0x2000
# What Systems Manager reports for each demo instance (by Name): the broken ones lost their
# connection when the network changed, or never registered; an instance absent here has never
# been seen by Systems Manager.
SSM_VIEW = {
    "web-public": "Online",
    "app-behind-nat": "Online",
    "locked-down-egress": "ConnectionLost",
    "stopped-worker": "ConnectionLost",
    "nacl-drops-replies": "ConnectionLost",
    "db-isolated-endpoints": "Online",
    "nat-failed": "ConnectionLost",
    "blackhole-route": "ConnectionLost",
    "endpoint-sg-blocks": "ConnectionLost",
    "via-transit-gateway": "Online",
    "custom-dns-servers": "Online",
    "trust-denies-ec2": "ConnectionLost",
    "heartbeat-denied": "ConnectionLost",
    "org-condition": "Online",
    "connection-lost-unexplained": "ConnectionLost",
    "s3-logs-denied": "Online",
    "logs-denied": "Online",
    "key-policy-denies": "Online",
    "patch-perimeter": "Online",
    "zone-swallows-ssm": "ConnectionLost",
    "forwards-to-on-prem": "Online",
    "dns-firewall-walled-garden": "ConnectionLost",
    # The hub-and-spoke region.
    "spoke-central-egress": "Online",
    "spoke-central-egress-zone-b": "Online",
    "spoke-quarantined-table": "ConnectionLost",
    "spoke-old-egress-blackhole": "ConnectionLost",
    "spoke-not-propagated": "ConnectionLost",
    "spoke-zone-without-attachment": "ConnectionLost",
    "spoke-attachment-pending": "ConnectionLost",
    "spoke-attachment-acl": "ConnectionLost",
    "peered-with-hub": "ConnectionLost",
    "spoke-on-premises-egress": "Online",
    "spoke-central-endpoints": "Online",
    # The third region.
    "paris-web": "Online",
}


def _prod_vpc(b: EstateBuilder) -> None:
    """A well-built VPC with public and NAT-ed subnets, and the mistakes made inside it."""
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24", "a", public_ip_on_launch=True)
    private = b.subnet(vpc, "10.0.10.0/24", "a")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [public], [("0.0.0.0/0", igw)])
    nat = b.nat_gateway(public)
    b.route_table(vpc, [private], [("0.0.0.0/0", nat)])
    web = b.security_group(vpc, "web")
    app = b.security_group(vpc, "app", egress=[("tcp", 443, 443, "0.0.0.0/0"),
                                               ("tcp", 5432, 5432, "10.0.0.0/16")])
    b.instance(public, [web], name="web-public", public_ip="198.51.100.10",
               instance_profile="web-role")
    b.instance(private, [app], name="app-behind-nat", instance_profile="app-role",
               tags={"team": "payments"})
    b.instance(public, [web], name="batch-no-public-ip", instance_profile="web-role")
    locked = b.security_group(vpc, "locked-down", egress=[("tcp", 5432, 5432, "10.0.0.0/16")])
    b.instance(private, [locked], name="locked-down-egress", instance_profile="app-role")
    b.instance(private, [app], name="imds-disabled", http_endpoint="disabled",
               instance_profile="app-role")
    b.instance(private, [app], name="stopped-worker", state="stopped",
               instance_profile="app-role")

    strict = b.subnet(vpc, "10.0.30.0/24", "a")
    b.route_table(vpc, [strict], [("0.0.0.0/0", nat)])
    b.network_acl(vpc, [strict], [
        (100, True, "allow", "6", "0.0.0.0/0", (443, 443)),
        (100, False, "allow", "6", "10.0.0.0/16", EPHEMERAL_ONLY_HIGH),  # replies only from VPC
    ])
    b.instance(strict, [app], name="nacl-drops-replies", instance_profile="app-role")


def _isolated_vpc(b: EstateBuilder) -> tuple[str, str, list[str], str, str]:
    """No internet at all: the three interface endpoints carry the agent."""
    vpc = b.vpc("10.4.0.0/16")
    isolated_a = b.subnet(vpc, "10.4.20.0/24", "a")
    isolated_b = b.subnet(vpc, "10.4.21.0/24", "b")
    table = b.route_table(vpc, [isolated_a, isolated_b])  # local only
    endpoints = b.security_group(vpc, "ssm-endpoints",
                                 ingress=[("tcp", 443, 443, "10.4.0.0/16")])
    db = b.security_group(vpc, "db", egress=[("tcp", 443, 443, endpoints)])
    for service in AGENT_SERVICES:
        b.interface_endpoint(vpc, service, [isolated_a, isolated_b], [endpoints])
    b.instance(isolated_b, [db], name="db-isolated-endpoints", instance_profile="db-role")
    return vpc, table, [isolated_a, isolated_b], endpoints, db


def _legacy_vpc(b: EstateBuilder) -> None:
    """An older VPC that grew by hand: the classic routing and endpoint mistakes."""
    vpc = b.vpc("10.1.0.0/16")
    public = b.subnet(vpc, "10.1.0.0/24", "a")
    nat_home = b.subnet(vpc, "10.1.1.0/24", "a")
    behind_broken_nat = b.subnet(vpc, "10.1.10.0/24", "a")
    behind_failed_nat = b.subnet(vpc, "10.1.11.0/24", "b")
    blackholed = b.subnet(vpc, "10.1.12.0/24", "b")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [public], [("0.0.0.0/0", igw)])
    broken_nat = b.nat_gateway(nat_home)  # nat_home has no route to the internet gateway
    failed_nat = b.nat_gateway(public, state="failed")
    b.route_table(vpc, [behind_broken_nat], [("0.0.0.0/0", broken_nat)])
    b.route_table(vpc, [behind_failed_nat], [("0.0.0.0/0", failed_nat)])
    b.route_table(vpc, [blackholed], [("0.0.0.0/0", "blackhole:nat-0deleted0000000000")])
    app = b.security_group(vpc, "legacy-app")
    b.instance(behind_broken_nat, [app], name="nat-without-internet", instance_profile="legacy")
    b.instance(behind_failed_nat, [app], name="nat-failed", instance_profile="legacy")
    b.instance(blackholed, [app], name="blackhole-route", instance_profile="legacy")


def _half_migrated_vpc(b: EstateBuilder) -> None:
    """An ssm endpoint whose SG admits an old office range only, beside a working NAT."""
    vpc = b.vpc("10.5.0.0/16")
    public = b.subnet(vpc, "10.5.0.0/24", "a")
    private = b.subnet(vpc, "10.5.10.0/24", "a")
    endpoint_subnet = b.subnet(vpc, "10.5.20.0/24", "b")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [public], [("0.0.0.0/0", igw)])
    nat = b.nat_gateway(public)
    b.route_table(vpc, [private], [("0.0.0.0/0", nat)])
    stale = b.security_group(vpc, "ssm-endpoint-stale",
                             ingress=[("tcp", 443, 443, "192.168.0.0/16")])
    b.interface_endpoint(vpc, "ssm", [endpoint_subnet], [stale])
    app = b.security_group(vpc, "windows-app")
    # The ssm name resolves to the endpoint, so the working NAT path does not rescue it.
    b.instance(private, [app], name="endpoint-sg-blocks", platform="windows",
               instance_profile="legacy")


def _hub_vpc(b: EstateBuilder) -> None:
    """Traffic that leaves through a transit gateway another account shares (its route tables
    are that account's: not readable from here), and a VPC with its own DNS servers."""
    vpc = b.vpc("10.2.0.0/16")
    spoke = b.subnet(vpc, "10.2.0.0/24", "a")
    shared = b.transit_gateway(owner=SHARED_NETWORK_ACCOUNT,
                               transit_gateway_id="tgw-0123456789abcdef0")
    b.tgw_attachment(shared, vpc, [spoke], route_table="tgw-rtb-0123456789abcdef0",
                     attachment_id="tgw-attach-0123456789abcdef0")
    b.route_table(vpc, [spoke], [("0.0.0.0/0", shared)])
    app = b.security_group(vpc, "spoke-app")
    b.instance(spoke, [app], name="via-transit-gateway", instance_profile="spoke")

    custom = b.vpc("10.3.0.0/16", dns_servers=["10.3.0.53", "10.3.1.53"])
    subnet = b.subnet(custom, "10.3.0.0/24", "a")
    igw = b.internet_gateway(custom)
    b.route_table(custom, [subnet], [("0.0.0.0/0", igw)])
    group = b.security_group(custom, "ad-joined")
    b.instance(subnet, [group], name="custom-dns-servers", public_ip="198.51.100.20",
               instance_profile="ad")


def _iam(b: EstateBuilder) -> None:
    """One role per instance profile, each trusting EC2 and allowed what the agent needs."""
    for name in ("web-role", "legacy", "spoke", "ad"):
        b.role(name, attached=[CORE, SESSION_POLICY])
        b.instance_profile(name, [name])
    # The application role: Core beside its own policy, under a permissions boundary.
    b.managed_policy("app-data-read", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::app-data", "arn:aws:s3:::app-data/*"]}]})
    # Written before sessions were encrypted: it lets the session logs through, not the key.
    b.managed_policy("workload-boundary", {"Version": "2012-10-17", "Statement": [
        {"Sid": "AgentAndData", "Effect": "Allow",
         "Action": ["ssm:*", "ssmmessages:*", "ec2messages:*", "s3:GetObject", "s3:ListBucket",
                    "s3:PutObject", "s3:GetEncryptionConfiguration", "logs:*"],
         "Resource": "*"}]})
    b.role("app-role", attached=[CORE, "app-data-read", SESSION_POLICY],
           boundary="workload-boundary", tags={"team": "payments"})
    b.instance_profile("app-role", ["app-role"])
    # The database role: only what the agent needs, written inline by a careful team.
    b.role("db-role", inline={"ssm-agent-minimal": {"Version": "2012-10-17", "Statement": [
        {"Sid": "Heartbeat", "Effect": "Allow", "Action": "ssm:UpdateInstanceInformation",
         "Resource": "*"},
        {"Sid": "Channels", "Effect": "Allow",
         "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel",
                    "ssmmessages:CreateDataChannel", "ssmmessages:OpenDataChannel",
                    "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage",
                    "ec2messages:FailMessage", "ec2messages:GetEndpoint",
                    "ec2messages:GetMessages", "ec2messages:SendReply"],
         "Resource": "*"}]}}, attached=[SESSION_POLICY])
    b.instance_profile("db-role", ["db-role"])
    b.dhmc_setting(None)  # Default Host Management never configured: the usual default


def _credentials_vpc(b: EstateBuilder) -> None:
    """A healthy network where the credentials or permissions decide."""
    vpc = b.vpc("10.6.0.0/16")
    public = b.subnet(vpc, "10.6.0.0/24", "a")
    private = b.subnet(vpc, "10.6.10.0/24", "a")
    b.route_table(vpc, [public], [("0.0.0.0/0", b.internet_gateway(vpc))])
    b.route_table(vpc, [private], [("0.0.0.0/0", b.nat_gateway(public))])
    group = b.security_group(vpc, "batch")

    b.role("lambda-copy", attached=[CORE], trust={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
         "Action": "sts:AssumeRole"}]})
    b.instance_profile("lambda-copy", ["lambda-copy"])
    b.role("locked-role", attached=[CORE], inline={"lockdown": {
        "Version": "2012-10-17", "Statement": [
            {"Sid": "DenyHeartbeat", "Effect": "Deny", "Action": "ssm:UpdateInstanceInformation",
             "Resource": "*"}]}})
    b.instance_profile("locked-role", ["locked-role"])
    b.managed_policy("s3-only-boundary", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    b.role("bounded-role", attached=[CORE], boundary="s3-only-boundary")
    b.instance_profile("bounded-role", ["bounded-role"])
    b.role("org-role", inline={"agent-in-org": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ssm:*", "ssmmessages:*", "ec2messages:*"],
         "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3"}}}]}})
    b.instance_profile("org-role", ["org-role"])
    b.instance_profile("empty-profile", [])
    b.role("batch-role", attached=[CORE, SESSION_POLICY])
    b.instance_profile("batch-role", ["batch-role"])

    b.instance(private, [group], name="no-instance-profile")
    b.instance(private, [group], name="profile-without-role", instance_profile="empty-profile")
    b.instance(private, [group], name="trust-denies-ec2", instance_profile="lambda-copy")
    b.instance(private, [group], name="heartbeat-denied", instance_profile="locked-role")
    b.instance(private, [group], name="boundary-blocks", instance_profile="bounded-role")
    b.instance(private, [group], name="org-condition", instance_profile="org-role")
    b.instance(private, [group], name="connection-lost-unexplained",
               instance_profile="batch-role")


def _dns_vpcs(b: EstateBuilder) -> None:
    """Route 53 decides the names: working networks (an internet gateway and a public address)
    whose VPC resolver does not answer the agent's names with the public addresses."""
    def public_vpc(cidr: str, name: str) -> tuple[str, str]:
        vpc = b.vpc(cidr)
        subnet = b.subnet(vpc, cidr.replace(".0.0/16", ".0.0/24"), "a")
        b.route_table(vpc, [subnet], [("0.0.0.0/0", b.internet_gateway(vpc))])
        group = b.security_group(vpc, name)
        return vpc, b.instance(subnet, [group], name=name, instance_profile="web-role",
                               public_ip=f"198.51.100.{30 + len(b.reservations)}")

    # A zone made for one name (S3 through a proxy) answers for every name below it: the
    # agent's names get NXDOMAIN.
    vpc, _ = public_vpc("10.8.0.0/16", "zone-swallows-ssm")
    zone = b.private_hosted_zone("eu-west-1.amazonaws.com", [vpc])
    b.record(zone, "s3.eu-west-1.amazonaws.com", "A", ["10.8.0.80"])
    # A Resolver rule sends every amazonaws.com query to the data centre's DNS servers.
    vpc, _ = public_vpc("10.9.0.0/16", "forwards-to-on-prem")
    b.resolver_rule("amazonaws.com", [vpc], targets=("192.168.10.53", "192.168.11.53"))
    # A DNS Firewall walled garden: the company's domains allowed, everything else blocked.
    vpc, _ = public_vpc("10.10.0.0/16", "dns-firewall-walled-garden")
    allowed = b.firewall_domain_list(["example.com", "*.example.com"])
    everything = b.firewall_domain_list(["*"])
    b.firewall_rule_group([vpc], [
        {"Priority": 10, "Action": "ALLOW", "FirewallDomainListId": allowed,
         "Name": "allow-company-domains"},
        {"Priority": 20, "Action": "BLOCK", "FirewallDomainListId": everything,
         "BlockResponse": "NXDOMAIN", "Name": "block-everything-else"}])


def _hub_and_spoke(b: EstateBuilder) -> None:
    """A network hub: a transit gateway, central NAT gateway and central endpoints in a hub
    VPC; spokes that work through it, and one of each way it fails."""
    hub = build_hub(b)

    def spoke(cidr: str, name: str, zone: int = 0, **options) -> str:
        made = add_spoke(b, hub, cidr, **options)
        group = b.security_group(made.vpc, f"{name}-app")
        b.instance(made.app_subnets[zone], [group], name=name, instance_profile="spoke")
        return made.attachment

    working = add_spoke(b, hub, "10.1.0.0/16")
    for zone, name in enumerate(("spoke-central-egress", "spoke-central-egress-zone-b")):
        b.instance(working.app_subnets[zone], [b.security_group(working.vpc, f"{name}-app")],
                   name=name, instance_profile="spoke")
    # Associated with a quarantine table that routes nothing.
    spoke("10.2.0.0/16", "spoke-quarantined-table", route_table=b.tgw_route_table(hub.tgw))
    # Its table's default route leads to an egress attachment since deleted: a blackhole.
    retired = b.tgw_route_table(hub.tgw)
    b.tgw_route(retired, "0.0.0.0/0", None)
    spoke("10.3.0.0/16", "spoke-old-egress-blackhole", route_table=retired)
    # Its CIDR never reaches the hub's table: the replies have no way back.
    spoke("10.4.0.0/16", "spoke-not-propagated", propagate=False)
    # The attachment has a subnet in zone a only; the instance runs in zone b.
    spoke("10.5.0.0/16", "spoke-zone-without-attachment", zone=1, attachment_zones="a")
    # Created in another account, never accepted.
    spoke("10.6.0.0/16", "spoke-attachment-pending", state="pendingAcceptance")
    # The attachment subnets' ACL lets the requests in but not the replies out.
    acl_spoke = add_spoke(b, hub, "10.7.0.0/16")
    b.network_acl(acl_spoke.vpc, acl_spoke.tgw_subnets, [
        (100, False, "allow", "-1", "0.0.0.0/0", None),
        (100, True, "allow", "6", "0.0.0.0/0", (443, 443))])
    b.instance(acl_spoke.app_subnets[0], [b.security_group(acl_spoke.vpc, "acl-app")],
               name="spoke-attachment-acl", instance_profile="spoke")
    # Peered with the hub, relying on its NAT gateway: peering is not transitive.
    peered = b.vpc("10.8.0.0/16")
    peered_subnet = b.subnet(peered, "10.8.1.0/24", "a")
    b.route_table(peered, [peered_subnet], [("0.0.0.0/0", b.vpc_peering(peered, hub.vpc))])
    b.instance(peered_subnet, [b.security_group(peered, "peered-app")], name="peered-with-hub",
               instance_profile="spoke")
    # Its table sends 0.0.0.0/0 to a VPN attachment: on-premises egress, beyond what the API
    # proves.
    on_premises = b.tgw_route_table(hub.tgw)
    vpn = "tgw-attach-0vpn00000000000001"
    b.transit_gateway_attachments.append({
        "TransitGatewayAttachmentId": vpn, "TransitGatewayId": hub.tgw,
        "TransitGatewayOwnerId": b.account_id, "ResourceOwnerId": b.account_id,
        "ResourceType": "vpn", "ResourceId": "vpn-0123456789abcdef0", "State": "available"})
    b.transit_gateway_routes[on_premises].append({
        "DestinationCidrBlock": "0.0.0.0/0", "Type": "static", "State": "active",
        "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": vpn,
                                       "ResourceId": "vpn-0123456789abcdef0",
                                       "ResourceType": "vpn"}]})
    spoke("10.9.0.0/16", "spoke-on-premises-egress", route_table=on_premises)
    # The central-endpoint pattern: private hosted zones named like the services, associated
    # with the spoke, alias the names to the hub's endpoints (whose private DNS answers only in
    # the hub).
    central = add_spoke(b, hub, "10.10.0.0/16")
    for service, endpoint in hub.endpoints.items():
        name = f"{service}.{b.region}.amazonaws.com"
        zone = b.private_hosted_zone(name, [central.vpc])
        b.record(zone, name, "A", alias=b.endpoint_dns_name(endpoint))
    b.instance(central.app_subnets[0], [b.security_group(central.vpc, "central-app")],
               name="spoke-central-endpoints", instance_profile="spoke")


def _ssm_view(b: EstateBuilder) -> None:
    for reservation in b.reservations:
        instance = reservation["Instances"][0]
        name = next(tag["Value"] for tag in instance["Tags"] if tag["Key"] == "Name")
        if name in SSM_VIEW:
            b.managed_node(instance["InstanceId"], SSM_VIEW[name])


def _session_preferences(b: EstateBuilder) -> None:
    """The preferences, their key, bucket and log group, and the policy most roles carry.

    Nothing here draws EC2 ids, so the instances keep theirs."""
    b.s3_prefix_list()
    key = b.kms_key(SESSION_KEY, policy={"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "NoContractors", "Effect": "Deny",
         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/contractor-role"},
         "Action": "kms:Decrypt", "Resource": "*"}]})
    b.bucket(SESSION_BUCKET, policy={"Version": "2012-10-17", "Statement": [
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{SESSION_BUCKET}", f"arn:aws:s3:::{SESSION_BUCKET}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    group = b.log_group(SESSION_LOG_GROUP)
    b.session_preferences(kmsKeyId=SESSION_KEY, s3BucketName=SESSION_BUCKET,
                          s3KeyPrefix=SESSION_PREFIX, s3EncryptionEnabled=True,
                          cloudWatchLogGroupName=SESSION_LOG_GROUP,
                          cloudWatchEncryptionEnabled=False, cloudWatchStreamingEnabled=True,
                          runAsEnabled=False, runAsDefaultUser="")
    b.managed_policy(SESSION_POLICY, {"Version": "2012-10-17", "Statement": [
        {"Sid": "DecryptSessions", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key},
        {"Sid": "WriteSessionLogs", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{SESSION_BUCKET}/{SESSION_PREFIX}/*"},
        {"Sid": "CheckLogEncryption", "Effect": "Allow", "Action": "s3:GetEncryptionConfiguration",
         "Resource": f"arn:aws:s3:::{SESSION_BUCKET}"},
        {"Sid": "FindLogGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
         "Resource": "*"},
        {"Sid": "StreamSessionLogs", "Effect": "Allow",
         "Action": ["logs:DescribeLogStreams", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{group}:*"}]})


def _isolated_vpc_session_paths(b: EstateBuilder, vpc: str, table: str, subnets: list[str],
                                endpoints: str, db: str) -> None:
    """Added later to the isolated VPC: a logs endpoint and an S3 gateway endpoint (and the
    database group's egress to S3), but no kms endpoint."""
    b.interface_endpoint(vpc, "logs", subnets, [endpoints])
    s3 = next(p["PrefixListId"] for p in b.prefix_lists
              if p["PrefixListName"] == f"com.amazonaws.{b.region}.s3")
    b.gateway_endpoint(vpc, "s3", [table], s3)
    b.egress_rule(db, ("tcp", 443, 443, s3))


def _sessions_vpc(b: EstateBuilder) -> None:
    """Healthy agents whose sessions or patching fail: each shows one cause."""
    vpc = b.vpc("10.7.0.0/16")
    public = b.subnet(vpc, "10.7.0.0/24", "a")
    private = b.subnet(vpc, "10.7.10.0/24", "a")
    perimeter = b.subnet(vpc, "10.7.20.0/24", "b")
    b.route_table(vpc, [public], [("0.0.0.0/0", b.internet_gateway(vpc))])
    nat = b.nat_gateway(public)
    b.route_table(vpc, [private], [("0.0.0.0/0", nat)])
    guarded = b.route_table(vpc, [perimeter], [("0.0.0.0/0", nat)])
    s3 = next(p["PrefixListId"] for p in b.prefix_lists
              if p["PrefixListName"] == f"com.amazonaws.{b.region}.s3")
    # A data perimeter on the S3 endpoint: the company's buckets only.
    b.gateway_endpoint(vpc, "s3", [guarded], s3, policy={"Version": "2012-10-17", "Statement": [
        {"Sid": "OurBucketsOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::acme-*", "arn:aws:s3:::acme-*/*"]}]})
    group = b.security_group(vpc, "reporting")
    b.role("reporting-role", attached=[CORE], inline={"session-v1": {
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}})
    b.role("sandbox-role", attached=[CORE, SESSION_POLICY], inline={"no-log-shipping": {
        "Version": "2012-10-17", "Statement": [
            {"Sid": "NoLogShipping", "Effect": "Deny", "Action": "logs:*", "Resource": "*"}]}})
    b.role("contractor-role", attached=[CORE, SESSION_POLICY])
    b.role("perimeter-role", attached=[CORE, SESSION_POLICY])
    for name in ("reporting-role", "sandbox-role", "contractor-role", "perimeter-role"):
        b.instance_profile(name, [name])
    b.instance(private, [group], name="s3-logs-denied", instance_profile="reporting-role",
               tags={"team": "payments"})
    b.instance(private, [group], name="logs-denied", instance_profile="sandbox-role")
    b.instance(private, [group], name="key-policy-denies", instance_profile="contractor-role")
    b.instance(perimeter, [group], name="patch-perimeter", instance_profile="perimeter-role")


def _operators(b: EstateBuilder) -> None:
    """People who start sessions: ``--operator ARN`` and ``--operators`` show who may."""
    document = f"arn:aws:ssm:*:{ACCOUNT}:document/SSM-SessionManagerRunShell"
    b.role("support-engineer", trust={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}]}, inline={"payments-sessions": {
        "Version": "2012-10-17", "Statement": [
            {"Sid": "PaymentsInstances", "Effect": "Allow", "Action": "ssm:StartSession",
             "Resource": f"arn:aws:ec2:*:{ACCOUNT}:instance/*",
             "Condition": {"StringEquals": {"ssm:resourceTag/team": "payments"}}},
            {"Sid": "DefaultDocument", "Effect": "Allow", "Action": "ssm:StartSession",
             "Resource": document},
            {"Sid": "SessionKey", "Effect": "Allow", "Action": "kms:GenerateDataKey",
             "Resource": f"arn:aws:kms:*:{ACCOUNT}:key/*"}]}})
    b.group("oncall", inline={"sessions-anywhere": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": [f"arn:aws:ec2:*:{ACCOUNT}:instance/*", document]}]}})
    b.user("alice", groups=["oncall"])
    b.role("auditor-readonly", trust={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}]}, inline={"look-only": {
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ssm:Describe*", "ssm:Get*", "ssm:List*"],
             "Resource": "*"}]}})


def _paris_region(first: EstateBuilder) -> EstateBuilder:
    """eu-west-3: one web server; its preferences log to a group that was deleted."""
    b = first.another_region(PARIS_REGION, first_id=PARIS_REGION_FIRST_ID)
    b.dhmc_setting(None)
    vpc = b.vpc("10.20.0.0/16")
    public = b.subnet(vpc, "10.20.0.0/24", "a")
    b.route_table(vpc, [public], [("0.0.0.0/0", b.internet_gateway(vpc))])
    group = b.security_group(vpc, "web")
    instance = b.instance(public, [group], name="paris-web", public_ip="198.51.100.30",
                          instance_profile="web-role")
    b.session_preferences(cloudWatchLogGroupName="/acme/ssm-sessions-paris",
                          cloudWatchStreamingEnabled=True, runAsEnabled=True,
                          runAsDefaultUser="ec2-user")
    b.managed_node(instance, SSM_VIEW["paris-web"])
    return b


def build() -> EstateBuilder:
    """The first region (eu-west-1): the classic failures, and sessions and patching that
    fail; IAM is the account's, shared by the other regions (``another_region``)."""
    builder = EstateBuilder(region="eu-west-1", account_id=ACCOUNT)
    _session_preferences(builder)
    _prod_vpc(builder)
    isolated = _isolated_vpc(builder)
    _legacy_vpc(builder)
    _half_migrated_vpc(builder)
    _hub_vpc(builder)
    _credentials_vpc(builder)
    _isolated_vpc_session_paths(builder, *isolated)
    _sessions_vpc(builder)
    _iam(builder)
    _operators(builder)
    _dns_vpcs(builder)
    _ssm_view(builder)
    return builder


def build_regions() -> list[EstateBuilder]:
    """The demo account's regions: eu-west-1 (``build``), the hub-and-spoke one and eu-west-3."""
    first = build()
    hub = first.another_region(HUB_REGION)
    _hub_and_spoke(hub)
    _ssm_view(hub)
    return [first, hub, _paris_region(first)]
