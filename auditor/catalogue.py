"""The catalogue of finding codes, as data, in one place.

Every finding the auditor reports carries a code from CATALOGUE. Each entry says what the code
means, what SSM Agent logs when it happens, which agent-log symptom labels (CONTRACT.md section 5)
it can explain, how to fix it and which remediation CDK stack fixes it. docs/FINDINGS.md is rendered
from this module by scripts/render_findings_doc.py (tests keep it in sync); nothing else repeats
these texts.

Texts use placeholders: REGION, ACCOUNT, ROLE, PROFILE, i-..., sg-..., vpc-..., and so on. Log
excerpts use documentation addresses (10.0.x.x for endpoint interfaces, 203.0.113.x for public
service addresses) and are line shapes, not exact copies.

This module is on the hot import path: plain data, no I/O, no rendering.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from string import Formatter

from auditor import aws_facts

CATEGORIES: tuple[str, ...] = (
    "network",
    "dns",
    "metadata",
    "credentials",
    "permissions",
    "service_view",
    "data",
    "session_manager",  # beyond registration (contract section 7): findings carry "capability"
    "patching",
)
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")  # the most severe first
STACKS: tuple[str, ...] = (
    "EndpointsStack",
    "InstanceRoleStack",
    "SecurityGroupRulesStack",
    "NaclEntriesStack",
    "RoutesStack",
)
# The agent-log symptom labels of CONTRACT.md section 5.
LOG_LABELS: tuple[str, ...] = (
    "imds_unreachable",
    "endpoint_unreachable",
    "proxy_misconfigured",
    "tls_certificate",
    "iam_access_denied",
    "no_credentials",
    "throttling",
    "credential_refresher_failure",
    "clock_skew",
    "registration_failure",
    "session_manager_channel",
    "healthy",
    "unrecognized",
)


@dataclass(frozen=True)
class FindingKind:
    """One finding code: what it means, what the agent logs, how to fix it."""

    code: str
    category: str  # one of CATEGORIES
    severity: str  # default severity, one of SEVERITIES
    title: str  # short, one line
    meaning: str  # what it means, precise AWS facts
    agent_log: str  # line shapes the agent logs, one per line, or ""
    log_labels: tuple[str, ...]  # symptom labels (LOG_LABELS) this finding can explain
    fix: str  # concrete fix: console step, CLI command, rule to add
    stack: str | None  # remediation stack (one of STACKS), or None: fix by the CLI in `fix`
    # The manual action (MANUAL_ACTIONS) whose exact command `fix` quotes, if any: the plan's
    # manual step for this code runs that command.
    manual_step: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.code or not self.code.replace("_", "").isalnum() or not self.code.isupper():
            problems.append(f"code {self.code!r} is not UPPER_SNAKE_CASE")
        if self.category not in CATEGORIES:
            problems.append(f"category {self.category!r} not in {CATEGORIES}")
        if self.severity not in SEVERITIES:
            problems.append(f"severity {self.severity!r} not in {SEVERITIES}")
        if self.stack is not None and self.stack not in STACKS:
            problems.append(f"stack {self.stack!r} not in {STACKS} or None")
        if self.manual_step is not None and self.manual_step not in MANUAL_ACTIONS:
            problems.append(f"manual step {self.manual_step!r} not in MANUAL_ACTIONS")
        unknown = [label for label in self.log_labels if label not in LOG_LABELS]
        if unknown:
            problems.append(f"log labels {unknown} not in the contract's labels")
        for name in ("title", "meaning", "fix"):
            if not getattr(self, name).strip():
                problems.append(f"{name} is empty")
        if problems:
            raise ValueError(f"finding kind {self.code!r}: " + "; ".join(problems))

    @property
    def carries_service(self) -> bool:
        """Network and DNS findings name the service (ssm, ssmmessages, ec2messages) they block."""
        return self.category in ("network", "dns")


# --- shared text ---------------------------------------------------------------------------------

_RESTART = (
    " Then restart the agent (`sudo systemctl restart amazon-ssm-agent`, "
    "`Restart-Service AmazonSSMAgent` on Windows, or reboot the instance when you have no shell) "
    "or wait: after repeated failures the agent hibernates and retries only up to once an hour."
)

_NET_LABELS = ("endpoint_unreachable", "session_manager_channel")

# Connection timeouts towards interface endpoint ENIs (private addresses).
_LOG_TIMEOUT_PRIVATE = "\n".join(
    (
        "ERROR [HealthCheck] error when calling AWS APIs. error details - RequestError: send "
        "request failed",
        'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp 10.0.1.5:443: i/o timeout',
        "ERROR [MessageGatewayService] Failed to get controlchannel token, error: "
        "CreateControlChannel failed with error: createControlChannel request failed: "
        "RequestError: send request failed",
        'caused by: Post "https://ssmmessages.REGION.amazonaws.com/v1/control-channel/'
        'i-0123456789abcdef0": dial tcp 10.0.2.17:443: i/o timeout',
        "DEBUG [MessagingDeliveryService] RequestError: send request failed",
        'caused by: Post "https://ec2messages.REGION.amazonaws.com/": net/http: request canceled '
        "while waiting for connection (Client.Timeout exceeded while awaiting headers)",
        "INFO [ssm-agent-worker] Entering SSM Agent hibernate - RequestError: send request failed",
    )
)

# Connection timeouts towards the services' public addresses.
_LOG_TIMEOUT_PUBLIC = "\n".join(
    (
        "ERROR [HealthCheck] error when calling AWS APIs. error details - RequestError: send "
        "request failed",
        'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp 203.0.113.10:443: '
        "i/o timeout",
        "ERROR [MessageGatewayService] Failed to get controlchannel token, error: "
        "CreateControlChannel failed with error: createControlChannel request failed: "
        "RequestError: send request failed",
        'caused by: Post "https://ssmmessages.REGION.amazonaws.com/v1/control-channel/'
        'i-0123456789abcdef0": dial tcp 203.0.113.45:443: i/o timeout',
        "DEBUG [MessagingDeliveryService] RequestError: send request failed",
        'caused by: Post "https://ec2messages.REGION.amazonaws.com/": net/http: request canceled '
        "while waiting for connection (Client.Timeout exceeded while awaiting headers)",
        "INFO [ssm-agent-worker] Entering SSM Agent hibernate - RequestError: send request failed",
    )
)

_LOG_DNS_FAILURE = "\n".join(
    (
        "ERROR [HealthCheck] error when calling AWS APIs. error details - RequestError: send "
        "request failed",
        'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp: lookup '
        "ssm.REGION.amazonaws.com on 10.0.0.2:53: no such host",
        'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp: lookup '
        "ssm.REGION.amazonaws.com on 10.0.0.2:53: read udp 10.0.1.5:41234->10.0.0.2:53: "
        "i/o timeout",
    )
)


def _access_denied(action: str, reason: str, role: str = "ROLE") -> str:
    """The agent's AccessDeniedException line for `action` with AWS's `reason` suffix."""
    return (
        "ERROR [HealthCheck] error when calling AWS APIs. error details - AccessDeniedException: "
        f"User: arn:aws:sts::111122223333:assumed-role/{role}/i-0123456789abcdef0 is not "
        f"authorized to perform: {action} on resource: "
        f"arn:aws:ec2:REGION:111122223333:instance/i-0123456789abcdef0 {reason}"
    )


def _control_channel_denied(reason: str) -> str:
    return (
        "ERROR [MessageGatewayService] Failed to get controlchannel token, error: "
        "CreateControlChannel failed with error: createControlChannel request failed: unexpected "
        "response from the service <AccessDeniedException> <Message>User: "
        "arn:aws:sts::111122223333:assumed-role/ROLE/i-0123456789abcdef0 is not authorized to "
        "perform: ssmmessages:CreateControlChannel on resource: "
        f"arn:aws:ssm:REGION:111122223333:... {reason}</Message>"
    )


_LOG_DHMC_NOT_CONFIGURED = (
    "ERROR [CredentialRefresher] Retrieve credentials produced error: no valid credentials could "
    "be retrieved for ec2 identity. Default Host Management Err: error calling "
    "RequestManagedInstanceRoleToken: AccessDeniedException: Systems Manager's instance "
    "management role is not configured for account: 111122223333"
)

_LOG_NO_ROLE = "\n".join(
    (
        "WARN EC2RoleProvider Failed to connect to Systems Manager with instance profile role "
        "credentials. Err: retrieved credentials failed to report to ssm. Error: "
        "EC2RoleRequestError: no EC2 instance role found",
        "caused by: EC2MetadataError: failed to make EC2Metadata request",
        "\tstatus code: 404, request id:",
        _LOG_DHMC_NOT_CONFIGURED,
        "INFO [CredentialRefresher] Sleeping for 2s before retrying retrieve credentials",
        "ERROR [HealthCheck] error when calling AWS APIs. error details - NoCredentialProviders: "
        "no valid providers in chain. Deprecated.",
    )
)

_DHMC_SETTING_CMD = (
    "`aws ssm update-service-setting --setting-id "
    "arn:aws:ssm:REGION:ACCOUNT:servicesetting/ssm/managed-instance/"
    "default-ec2-instance-management-role --setting-value "
    "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole`"
)

_PERMISSION_LABELS = ("iam_access_denied", "credential_refresher_failure")


# --- manual steps: what CloudFormation cannot change, with the exact command --------------------


@dataclass(frozen=True)
class ManualAction:
    """A change the remediation stacks cannot make: the command the operator runs, and why.

    ``command`` is a template over the step's parameters; ``{region}`` stands for
    `` --region R`` (or nothing for IAM, which has no region), ``{message}`` for the finding's
    message and ``{policy_json}`` for the step's ``policy_document`` on one line. ``target`` is
    the parameter that names the resource the step changes.
    """

    name: str
    command: str
    reason: str
    target: str
    account_wide: bool = False  # IAM: one account, no region

    def command_for(self, parameters: dict, region: str = "", message: str = "") -> str:
        values = {**parameters, "region": f" --region {region}" if region else "",
                  "message": message,
                  "policy_json": json.dumps(parameters.get("policy_document"),
                                            separators=(",", ":"))}
        return self.command.format(**values)

    def example(self) -> str:
        """The command with the placeholders the fix texts use (i-..., vpc-..., ROLE)."""
        return self.command_for(_PLACEHOLDERS, message="...")

    def command_for_target(self, resource_id: str, region: str = "",
                           message: str = "") -> str | None:
        """The exact command when the resource it changes is all it needs (the instance whose
        metadata service to turn on, say), else None: a role or profile to choose is the
        plan's to decide."""
        needed = {name for _, name, _, _ in Formatter().parse(self.command) if name}
        if self.command.startswith("#") or not needed <= {self.target, "region", "message"}:
            return None  # a review (a comment, no command), or a command with more to choose
        return self.command_for({self.target: resource_id},
                                "" if self.account_wide else region, message)


_PLACEHOLDERS = {
    "instance_id": "i-...", "vpc_id": "vpc-...", "vpc_endpoint_id": "vpce-...",
    "network_acl_id": "acl-...", "instance_profile_name": "PROFILE", "role_name": "ROLE",
    "instance_profile_arn": "arn:aws:iam::ACCOUNT:instance-profile/PROFILE",
    "resource_id": "...", "policy_document": aws_facts.EC2_TRUST_POLICY,
    "key_id": "KEY", "bucket": "BUCKET", "log_group": "LOG_GROUP",
    "hosted_zone_id": "Z...", "firewall_rule_group_id": "rslvr-frg-...",
    "transit_gateway_route_table_id": "tgw-rtb-...", "transit_gateway_attachment_id":
        "tgw-attach-...", "destination_cidr": "CIDR", "subnet_id": "subnet-...",
    "vpc_peering_connection_id": "pcx-...", "route_table_id": "rtb-...",
    "target_option": "--transit-gateway-id tgw-...", "group_id": "sg-...",
}


def _manual_actions(*actions: ManualAction) -> dict[str, ManualAction]:
    return {action.name: action for action in actions}


MANUAL_ACTIONS: dict[str, ManualAction] = _manual_actions(
    ManualAction(
        "associate_instance_profile",
        "aws ec2 associate-iam-instance-profile{region} --instance-id {instance_id} "
        "--iam-instance-profile Name={instance_profile_name}",
        "CloudFormation cannot attach a profile to an instance it does not manage; run this "
        "after the InstanceRole stack is deployed.",
        "instance_id"),
    ManualAction(
        "add_role_to_instance_profile",
        "aws iam add-role-to-instance-profile --instance-profile-name {instance_profile_name} "
        "--role-name {role_name}",
        "The instance's profile holds no role, and CloudFormation cannot change a profile it "
        "does not manage; run this after the InstanceRole stack is deployed.",
        "instance_profile_name", account_wide=True),
    ManualAction(
        "update_assume_role_policy",
        "aws iam update-assume-role-policy --role-name {role_name} --policy-document "
        "'{policy_json}'",
        "The role's trust policy does not let EC2 assume it; this keeps its statements and "
        "adds ec2.amazonaws.com. CloudFormation cannot edit a role it does not manage.",
        "role_name", account_wide=True),
    ManualAction(
        "enable_vpc_dns_support",
        "aws ec2 modify-vpc-attribute{region} --vpc-id {vpc_id} "
        "--enable-dns-support '{{\"Value\":true}}'",
        "Without the Amazon DNS server the agent cannot resolve any endpoint.",
        "vpc_id"),
    ManualAction(
        "enable_vpc_dns_hostnames",
        "aws ec2 modify-vpc-attribute{region} --vpc-id {vpc_id} "
        "--enable-dns-hostnames '{{\"Value\":true}}'",
        "Private DNS of interface endpoints applies only with enableDnsHostnames on.",
        "vpc_id"),
    ManualAction(
        "enable_endpoint_private_dns",
        "aws ec2 modify-vpc-endpoint{region} --vpc-endpoint-id {vpc_endpoint_id} "
        "--private-dns-enabled",
        "The endpoint exists but its private DNS is off, so the agent never uses it; turning it "
        "on is cheaper than a new endpoint.",
        "vpc_endpoint_id"),
    ManualAction(
        "enable_metadata_endpoint",
        "aws ec2 modify-instance-metadata-options{region} --instance-id {instance_id} "
        "--http-endpoint enabled --http-tokens required",
        "The agent reads its identity and credentials from the metadata service; IMDSv2 is "
        "required with it, since nothing on the instance can depend on IMDSv1 while the "
        "endpoint is off.",
        "instance_id"),
    ManualAction(
        "reset_endpoint_policy",
        "aws ec2 modify-vpc-endpoint{region} --vpc-endpoint-id {vpc_endpoint_id} --reset-policy",
        "The endpoint policy refuses the agent's calls (see the finding); resetting it gives "
        "the default full-access policy. Narrow it again if your design needs a policy.",
        "vpc_endpoint_id"),
    ManualAction(
        "review_endpoint",
        "aws ec2 describe-vpc-endpoints{region} --vpc-endpoint-ids {vpc_endpoint_id}",
        "The endpoint is not available: wait if it is pending; if it failed, delete it and "
        "audit again so the plan recreates it.",
        "vpc_endpoint_id"),
    ManualAction(
        "review_policy",
        "# review, no command: {message}",
        "An explicit deny, a permissions boundary or an SCP is a security decision; the plan "
        "does not remove it. Change the named statement, then audit again.",
        "resource_id", account_wide=True),
    ManualAction(
        "review_key_policy",
        "aws kms get-key-policy{region} --key-id {key_id} --policy-name default --query Policy "
        "--output text",
        "A key policy is a security decision: the plan never rewrites it. Review it and add a "
        "statement that lets the role use the key (or that hands the decision to the account's "
        "IAM policies), then audit again.",
        "key_id"),
    ManualAction(
        "review_bucket_policy",
        "aws s3api get-bucket-policy --bucket {bucket} --query Policy --output text",
        "A bucket policy is a security decision: the plan never rewrites it. Review the statement "
        "that denies the session log writes, then audit again.",
        "bucket", account_wide=True),
    ManualAction(
        "review_kms_key",
        "aws kms describe-key{region} --key-id {key_id}",
        "The key is missing, disabled or pending deletion: enable it (aws kms enable-key), cancel "
        "its deletion (aws kms cancel-key-deletion) or name another key in the Session Manager "
        "preferences.",
        "key_id"),
    ManualAction(
        "create_log_group",
        "aws logs create-log-group{region} --log-group-name {log_group}",
        "The Session Manager preferences name a log group that does not exist; create it (with "
        "--kms-key-id when the preferences require encryption).",
        "log_group"),
    ManualAction(
        "review_session_preferences",
        "aws ssm get-document{region} --name SSM-SessionManagerRunShell --query Content --output "
        "text",
        "The preferences name a bucket that does not exist or is not encrypted: create or "
        "encrypt it, or name another one (Systems Manager > Session Manager > Preferences); the "
        "plan never creates buckets.",
        "resource_id"),
    ManualAction(
        "add_gateway_endpoint_route",
        "aws ec2 modify-vpc-endpoint{region} --vpc-endpoint-id {vpc_endpoint_id} "
        "--add-route-table-ids {route_table_id}",
        "The VPC has an S3 gateway endpoint but the instance's route table is not one of its "
        "tables; CloudFormation cannot change an endpoint it does not manage.",
        "vpc_endpoint_id"),
    ManualAction(
        "review_hosted_zone",
        "aws route53 list-resource-record-sets --hosted-zone-id {hosted_zone_id}",
        "A private hosted zone associated with the VPC decides the service's name and does not "
        "lead to a working endpoint (see the finding): add a record for the name that leads to "
        "an interface endpoint the instances reach (an alias to the endpoint's DNS name), or "
        "disassociate the zone from the VPC. Which one is a design decision the plan does not "
        "take, and CloudFormation cannot change a zone it does not manage.",
        "hosted_zone_id", account_wide=True),
    ManualAction(
        "review_dns_firewall_rule",
        "aws route53resolver list-firewall-rules{region} --firewall-rule-group-id "
        "{firewall_rule_group_id}",
        "A DNS Firewall rule blocks the service's name (see the finding): allow the name ahead "
        "of the rule, or narrow the rule's domain list. A firewall is a security decision: the "
        "plan does not change it.",
        "firewall_rule_group_id"),
    ManualAction(
        "renumber_network_acl",
        "aws ec2 describe-network-acls{region} --network-acl-ids {network_acl_id}",
        "No free rule number is left ahead of the rule that denies the traffic; renumber the "
        "ACL's rules, then audit again.",
        "network_acl_id"),
    ManualAction(
        "create_transit_gateway_route",
        "aws ec2 create-transit-gateway-route{region} --transit-gateway-route-table-id "
        "{transit_gateway_route_table_id} --destination-cidr-block {destination_cidr} "
        "--transit-gateway-attachment-id {transit_gateway_attachment_id}",
        "The transit gateway's route table belongs to another account (the gateway's owner): "
        "run this there, with that account's credentials, then audit again.",
        "transit_gateway_route_table_id"),
    ManualAction(
        "review_transit_gateway_route",
        "aws ec2 search-transit-gateway-routes{region} --transit-gateway-route-table-id "
        "{transit_gateway_route_table_id} --filters Name=state,Values=blackhole",
        "A blackhole route is a decision (or a deleted attachment): point it at the attachment "
        "that should carry the traffic (`aws ec2 replace-transit-gateway-route`), or delete it "
        "so a less specific route applies, in the gateway owner's account.",
        "transit_gateway_route_table_id"),
    ManualAction(
        "add_attachment_subnet",
        "aws ec2 modify-transit-gateway-vpc-attachment{region} --transit-gateway-attachment-id "
        "{transit_gateway_attachment_id} --add-subnet-ids {subnet_id}",
        "The attachment has no subnet in the instance's Availability Zone; CloudFormation "
        "cannot change an attachment it does not manage. A small subnet of its own per zone is "
        "AWS's recommendation; the instance's subnet works too.",
        "transit_gateway_attachment_id"),
    ManualAction(
        "review_transit_gateway_attachment",
        "aws ec2 describe-transit-gateway-attachments{region} --transit-gateway-attachment-ids "
        "{transit_gateway_attachment_id}",
        "The attachment is not available: accept it in the gateway owner's account when it is "
        "pendingAcceptance (`aws ec2 accept-transit-gateway-vpc-attachment`), wait when it is "
        "pending, recreate it when it was rejected or deleted.",
        "transit_gateway_attachment_id"),
    ManualAction(
        "create_route",
        "aws ec2 create-route{region} --route-table-id {route_table_id} --destination-cidr-block "
        "{destination_cidr} {target_option}",
        "The route table belongs to another account (the hub's or the peer's): run this there, "
        "with that account's credentials, then audit again.",
        "route_table_id"),
    ManualAction(
        "authorize_security_group_ingress",
        "aws ec2 authorize-security-group-ingress{region} --group-id {group_id} --protocol tcp "
        "--port 443 --cidr {destination_cidr}",
        "The endpoint's security group belongs to another account (the hub's): run this there. "
        "Across a transit gateway, a rule naming the instance's security group holds only where "
        "security group referencing is enabled on the gateway and both attachments; a CIDR "
        "always does.",
        "group_id"),
    ManualAction(
        "accept_vpc_peering_connection",
        "aws ec2 accept-vpc-peering-connection{region} --vpc-peering-connection-id "
        "{vpc_peering_connection_id}",
        "The peering connection awaits acceptance by the peer VPC's owner: run this in that "
        "account (a rejected, expired or deleted connection must be requested again).",
        "vpc_peering_connection_id"),
)


def _command(action: str) -> str:
    """The example command of a manual action, quoted as a fix text quotes it."""
    return f"`{MANUAL_ACTIONS[action].example()}`"

# --- the catalogue -------------------------------------------------------------------------------

_KINDS: tuple[FindingKind, ...] = (
    # DNS decides the path, so it comes first.
    FindingKind(
        code="VPC_DNS_SUPPORT_DISABLED",
        category="dns",
        severity="error",
        title="VPC DNS resolution (enableDnsSupport) is disabled",
        meaning=(
            "The VPC's enableDnsSupport attribute is false, so queries to the Amazon-provided DNS "
            "server (the VPC CIDR base + 2, and 169.254.169.253) do not succeed: with "
            "AmazonProvidedDNS in the DHCP options the agent cannot resolve ssm, ssmmessages or "
            "ec2messages.REGION.amazonaws.com at all, whether they would lead to interface "
            "endpoints or to public addresses. Interface endpoint private DNS also needs this "
            "attribute. The metadata service is reached by IP address and keeps working."
        ),
        agent_log=_LOG_DNS_FAILURE,
        log_labels=("endpoint_unreachable",),
        fix=(
            "Enable DNS resolution on the VPC: "
            + _command("enable_vpc_dns_support")
            + " (console: VPC > Your VPCs > Actions > Edit VPC settings > Enable DNS resolution). "
            "No instance reboot is needed." + _RESTART
        ),
        stack=None,
        manual_step="enable_vpc_dns_support",
    ),
    FindingKind(
        code="VPC_DNS_HOSTNAMES_DISABLED",
        category="dns",
        severity="warning",
        title="VPC DNS hostnames (enableDnsHostnames) are disabled",
        meaning=(
            "The VPC's enableDnsHostnames attribute is false. Interface endpoint private DNS takes "
            "effect only when both enableDnsSupport and enableDnsHostnames are true, so the "
            "service name resolves to the service's public addresses instead of the endpoint's "
            "network interfaces, and the traffic follows the subnet's route table (NAT or "
            "internet gateway), or goes nowhere in a subnet without such a route. It matters "
            "only where an interface endpoint for the service exists."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Enable DNS hostnames on the VPC: "
            + _command("enable_vpc_dns_hostnames")
            + " (one attribute per call; console: VPC > Your VPCs > Actions > Edit VPC settings > "
            "Enable DNS hostnames), and check that the endpoint has private DNS enabled." + _RESTART
        ),
        stack=None,
        manual_step="enable_vpc_dns_hostnames",
    ),
    FindingKind(
        code="ENDPOINT_PRIVATE_DNS_DISABLED",
        category="dns",
        severity="warning",
        title="Interface endpoint has private DNS disabled",
        meaning=(
            "An interface endpoint for the service exists in the VPC but its private DNS is "
            "disabled, so ssm/ssmmessages/ec2messages.REGION.amazonaws.com still resolves to "
            "the service's public addresses and the agent's traffic follows the route table; the "
            "endpoint is not used. That is harmless when the public path works, and the reason "
            "the endpoint does not rescue an instance whose public path is blocked. (An agent "
            "configured with the endpoint's own DNS name in amazon-ssm-agent.json would use it; "
            "the auditor cannot see that file.)"
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Enable private DNS on the endpoint: "
            + _command("enable_endpoint_private_dns")
            + " (needs enableDnsSupport and enableDnsHostnames on the VPC, and fails while another "
            "endpoint for the same service in the VPC holds the name)." + _RESTART
        ),
        stack=None,
        manual_step="enable_endpoint_private_dns",
    ),
    FindingKind(
        code="CUSTOM_DNS_SERVERS",
        category="dns",
        severity="warning",
        title="VPC uses custom DNS servers (DHCP options)",
        meaning=(
            "The VPC's DHCP options set lists domain-name-servers other than AmazonProvidedDNS, "
            "so what ssm, ssmmessages and ec2messages.REGION.amazonaws.com resolve to depends on "
            "those servers: to the interface endpoints only if they forward the queries to the "
            "VPC's Amazon resolver (directly or through a Route 53 Resolver inbound endpoint), to "
            "public addresses if they resolve on the internet, or to nothing. The API does not "
            "show which, so the path, and the service's proof, is unknown."
        ),
        agent_log="\n".join(
            (
                'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp: lookup '
                "ssm.REGION.amazonaws.com on 10.20.0.53:53: no such host",
                'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp 203.0.113.10:443: '
                "i/o timeout",
            )
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "On an instance, run `nslookup ssm.REGION.amazonaws.com` (and ssmmessages, "
            "ec2messages): where interface endpoints with private DNS exist, the answers must be "
            "the endpoint interfaces' private addresses. Make the DNS servers forward "
            "`amazonaws.com` (at least `REGION.amazonaws.com`) to the VPC resolver (VPC CIDR "
            "base + 2) or to a Route 53 Resolver inbound endpoint in the VPC, or switch the VPC "
            "back to Amazon's resolver: `aws ec2 create-dhcp-options --dhcp-configurations "
            "Key=domain-name-servers,Values=AmazonProvidedDNS` then "
            "`aws ec2 associate-dhcp-options --dhcp-options-id dopt-... --vpc-id vpc-...` "
            "(instances pick up new DHCP options when their lease renews or at reboot)."
        ),
        stack=None,
    ),
    FindingKind(
        code="NO_DNS_SERVER",
        category="dns",
        severity="error",
        title="No DNS server: VPC without DHCP option set, Xen-based instance type",
        meaning=(
            "The VPC is associated with no DHCP option set (DhcpOptionsId `default`). Instances "
            "built on the Nitro System still get the Amazon DNS server (169.254.169.253), but "
            "Xen-based instance types (t2, m4, c4, r4, i3 and older generations) get no DNS "
            "server at all, so the agent cannot resolve ssm, ssmmessages or "
            "ec2messages.REGION.amazonaws.com, whether through interface endpoints or the "
            "internet (VPC User Guide, DHCP option set concepts). As a warning: the instance "
            "type's hypervisor is not known to the auditor, so which case applies is unknown."
        ),
        agent_log=(
            'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp: lookup '
            "ssm.REGION.amazonaws.com: no such host"
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "Associate a DHCP option set that hands out the Amazon DNS server: "
            "`aws ec2 create-dhcp-options --dhcp-configurations "
            "Key=domain-name-servers,Values=AmazonProvidedDNS` then "
            "`aws ec2 associate-dhcp-options --dhcp-options-id dopt-... --vpc-id vpc-...` "
            "(instances pick up new DHCP options when their lease renews or at reboot), or move "
            "the instance to a current-generation (Nitro) instance type." + _RESTART
        ),
        stack=None,
    ),
    FindingKind(
        code="PRIVATE_HOSTED_ZONE_OVERRIDE",
        category="dns",
        severity="error",
        title="A private hosted zone decides the service's name",
        meaning=(
            "A Route 53 private hosted zone associated with the VPC (directly or through a Route "
            "53 Profile) is named like the service's name or a parent of it (ssm.REGION."
            "amazonaws.com, REGION.amazonaws.com, amazonaws.com), and the most specific such "
            "zone answers for the name instead of public DNS. Its record decides where the "
            "agent connects: an alias or CNAME to an interface endpoint's DNS name, or A "
            "records holding its addresses, lead to that endpoint's network interfaces, possibly "
            "in another VPC (the central-endpoint pattern); records holding other addresses lead "
            "somewhere the auditor cannot see (unknown, never the public addresses). A zone "
            "without a record for the name answers NXDOMAIN (Route 53 does not fall back to "
            "public DNS), and a record for an endpoint of another service fails, both blocking. "
            "The finding names the zone that decided: as an error when it blocks, a warning "
            "when where it leads is unknown, information when it leads to a proven path."
        ),
        agent_log=(
            'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp: lookup '
            "ssm.REGION.amazonaws.com on 10.0.0.2:53: no such host"
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "List the zone's records: " + _command("review_hosted_zone") + ", and find the "
            "zones of the VPC with `aws route53 list-hosted-zones-by-vpc --vpc-id vpc-... "
            "--vpc-region REGION`. Give the zone a record for the name that leads to an "
            "interface endpoint the instances reach (an alias A record to the endpoint's "
            "regional DNS name, vpce-...-....ssm.REGION.vpce.amazonaws.com), or take the zone "
            "off the VPC (`aws route53 disassociate-vpc-from-hosted-zone --hosted-zone-id Z... "
            "--vpc VPCRegion=REGION,VPCId=vpc-...`) so that public DNS or the VPC's own "
            "endpoints answer again." + _RESTART
        ),
        stack=None,
        manual_step="review_hosted_zone",
    ),
    FindingKind(
        code="RESOLVER_RULE_FORWARDS",
        category="dns",
        severity="warning",
        title="A Resolver rule forwards the service's name elsewhere",
        meaning=(
            "A Route 53 Resolver FORWARD rule (or a delegation rule) associated with the VPC "
            "covers the service's name (its domain is the name or a parent of it, down to "
            "\".\", every name), and no more specific SYSTEM rule, private hosted zone or "
            "endpoint private DNS takes precedence: at equal length a forwarding rule wins over "
            "a private hosted zone. The query goes through the outbound endpoint to DNS "
            "servers (on premises, usually) that the AWS API does not show, so where the name "
            "resolves, and the service's proof, is unknown."
        ),
        agent_log="\n".join(
            (
                'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp: lookup '
                "ssm.REGION.amazonaws.com on 10.0.0.2:53: no such host",
                'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp 192.0.2.10:443: '
                "i/o timeout",
            )
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "On an instance, run `nslookup ssm.REGION.amazonaws.com` (and ssmmessages, "
            "ec2messages) and check the answers are the interface endpoints' addresses or "
            "public addresses your path reaches. To let the VPC resolver answer the services' "
            "names itself, add a SYSTEM rule for REGION.amazonaws.com (or each name) and "
            "associate it with the VPC: `aws route53resolver create-resolver-rule --rule-type "
            "SYSTEM --domain-name REGION.amazonaws.com --creator-request-id ssm-auditor` then "
            "`aws route53resolver associate-resolver-rule --resolver-rule-id rslvr-rr-... "
            "--vpc-id vpc-...`; or make the servers the rule forwards to answer with the "
            "endpoints' addresses."
        ),
        stack=None,
    ),
    FindingKind(
        code="DNS_FIREWALL_BLOCKS",
        category="dns",
        severity="error",
        title="A Route 53 Resolver DNS Firewall rule blocks the service's name",
        meaning=(
            "A DNS Firewall rule group associated with the VPC (directly or through a Route 53 "
            "Profile) has a BLOCK rule whose domain list matches the service's name, or a name "
            "it leads to (a CNAME), before any ALLOW rule: the resolver answers NODATA, NXDOMAIN "
            "or the rule's override name instead of the service's addresses, so the agent "
            "cannot reach the service whatever the network allows. Rule groups are evaluated by "
            "their association priority and rules by their own priority; the first match "
            "decides (ALERT only logs)."
        ),
        agent_log=(
            'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp: lookup '
            "ssm.REGION.amazonaws.com on 10.0.0.2:53: no such host"
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "Read the rule group's rules: " + _command("review_dns_firewall_rule") + ". Allow "
            "the services' names ahead of the blocking rule (a domain list with "
            "ssm.REGION.amazonaws.com, ssmmessages.REGION.amazonaws.com and "
            "ec2messages.REGION.amazonaws.com, in an ALLOW rule of lower priority number: `aws "
            "route53resolver create-firewall-rule --firewall-rule-group-id rslvr-frg-... "
            "--firewall-domain-list-id rslvr-fdl-... --priority 1 --action ALLOW --name "
            "allow-ssm`), or take the names out of the blocking list." + _RESTART
        ),
        stack=None,
        manual_step="review_dns_firewall_rule",
    ),
    FindingKind(
        code="SERVICE_NOT_IN_REGION",
        category="dns",
        severity="error",
        title="The region does not offer the service",
        meaning=(
            "The service's endpoint does not exist in the region: ec2messages is not offered in "
            "regions launched in 2024 or later, so ec2messages.REGION.amazonaws.com does not "
            "resolve and no interface endpoint can be created for it. SSM Agent 3.3.40.0 and "
            "later receive commands through ssmmessages and do not need it; an older agent "
            "knows only ec2messages and cannot receive commands there at all. As a warning: the "
            "region is not in the auditor's table of regional facts, so whether it offers the "
            "service is unknown."
        ),
        agent_log=(
            'caused by: Post "https://ec2messages.REGION.amazonaws.com/": dial tcp: lookup '
            "ec2messages.REGION.amazonaws.com on 10.0.0.2:53: no such host"
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "Run SSM Agent 3.3.40.0 or later, which uses ssmmessages: an agent that cannot "
            "receive commands cannot update itself, so install the current agent another way "
            "(a new AMI, user data, or `aws ec2 get-console-output --instance-id i-...` to read "
            "its version first) and check with `aws ssm describe-instance-information "
            "--filters Key=InstanceIds,Values=i-...` (AgentVersion). Never plan an ec2messages "
            "endpoint in such a region." + _RESTART
        ),
        stack=None,
    ),
    # From the instance outwards: its security groups, the subnet's NACL, routes, gateways.
    FindingKind(
        code="SG_EGRESS_BLOCKS",
        category="network",
        severity="error",
        title="Security group egress blocks TCP 443",
        meaning=(
            "No outbound rule of any security group on the instance's network interface allows "
            "TCP 443 to where the service name resolves: the interface endpoint's network "
            "interfaces (their addresses, subnet or VPC CIDR, or the endpoint's security group) "
            "or the service's public addresses (0.0.0.0/0). A security group with any custom "
            "egress rule has lost the default allow-all rule. Security groups are stateful, so no "
            "inbound rule is needed for the replies, and they never filter the metadata service "
            "(169.254.169.254) or the Amazon DNS resolver."
        ),
        agent_log=_LOG_TIMEOUT_PRIVATE,
        log_labels=_NET_LABELS,
        fix=(
            "Add an egress rule to one of the instance's security groups. When the service "
            "resolves to an interface endpoint: TCP 443 to the endpoint's security group or to "
            "the VPC CIDR (`aws ec2 authorize-security-group-egress --group-id sg-INSTANCE "
            "--ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,"
            "UserIdGroupPairs=[{GroupId=sg-ENDPOINT}]'`). When it resolves to public addresses: "
            "TCP 443 to 0.0.0.0/0 (`...,IpRanges=[{CidrIp=0.0.0.0/0}]`); AWS publishes no "
            "dedicated address range for these services." + _RESTART
        ),
        stack="SecurityGroupRulesStack",
    ),
    FindingKind(
        code="NACL_BLOCKS",
        category="network",
        severity="error",
        title="Network ACL blocks TCP 443 or its return traffic",
        meaning=(
            "A network ACL on the path denies the connection: outbound TCP 443 from the "
            "instance's subnet, inbound return traffic to the client's ephemeral port (Linux "
            "32768-60999, Windows 49152-65535), or, on the far side, inbound TCP 443 or outbound "
            "ephemeral ports in an interface endpoint's subnet or in the NAT gateway's subnet "
            "(NAT gateways use 1024-65535). NACLs are stateless and evaluated at each subnet "
            "boundary in rule-number order, first match wins, then the implicit deny (`*`). "
            "Traffic between interfaces in the same subnet, and to the metadata service or the "
            "Amazon DNS resolver, is not filtered. A deny on part of the ephemeral range makes "
            "failures intermittent."
        ),
        agent_log=_LOG_TIMEOUT_PRIVATE,
        log_labels=_NET_LABELS,
        fix=(
            "On the network ACL named in the finding, add allow entries numbered below the "
            "entry that denies: for the instance's subnet, outbound TCP 443 and inbound TCP "
            "1024-65535 (`aws ec2 create-network-acl-entry --network-acl-id acl-... "
            "--rule-number 90 --egress --protocol tcp --port-range From=443,To=443 "
            "--cidr-block 0.0.0.0/0 --rule-action allow`, and the same with `--ingress "
            "--port-range From=1024,To=65535`); use the VPC CIDR instead of 0.0.0.0/0 when the "
            "service resolves to an interface endpoint. For an endpoint's subnet: inbound TCP 443 "
            "from the instance's CIDR and outbound TCP 1024-65535 to it. For a NAT gateway's "
            "subnet: TCP 443 in from the instance and out to 0.0.0.0/0, TCP 1024-65535 in from "
            "0.0.0.0/0 and out to the instance's CIDR." + _RESTART
        ),
        stack="NaclEntriesStack",
    ),
    FindingKind(
        code="NO_ROUTE_TO_DESTINATION",
        category="network",
        severity="error",
        title="No route to the service's addresses",
        meaning=(
            "The service name resolves to public addresses (no interface endpoint with private "
            "DNS for it in the VPC), and the route table of the instance's subnet (its explicitly "
            "associated table, else the VPC's main table) has no route covering them: no "
            "0.0.0.0/0 to a NAT gateway or an internet gateway. The VPC drops the packets "
            "silently, so the agent sees timeouts."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Either create interface endpoints with private DNS for ssm, ssmmessages and "
            "ec2messages in the VPC (the EndpointsStack does; each endpoint is billed per "
            "Availability Zone and hour), or add a default route to the subnet's route table: "
            "in a private subnet to a NAT gateway that sits in a public subnet "
            "(`aws ec2 create-route --route-table-id rtb-... --destination-cidr-block 0.0.0.0/0 "
            "--nat-gateway-id nat-...`), in a public subnet to the internet gateway "
            "(`--gateway-id igw-...`; the instance then needs a public IPv4 address)." + _RESTART
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="BLACKHOLE_ROUTE",
        category="network",
        severity="error",
        title="Route to the service's addresses is a blackhole",
        meaning=(
            "The most specific route for the service's addresses in the subnet's route table is "
            "in state blackhole: its target (NAT gateway, internet gateway, network interface, "
            "instance, peering connection, ...) was deleted or detached. Longest prefix match "
            "still selects it and the VPC drops the packets; a less specific route does not take "
            "over."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Point the route at a live target: `aws ec2 replace-route --route-table-id rtb-... "
            "--destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-...` (or `--gateway-id "
            "igw-...`), or delete it (`aws ec2 delete-route --route-table-id rtb-... "
            "--destination-cidr-block CIDR`) when a less specific route should carry the "
            "traffic. Interface endpoints with private DNS (EndpointsStack) take the three "
            "services off this route altogether." + _RESTART
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="IGW_NO_PUBLIC_IP",
        category="network",
        severity="error",
        title="Route to an internet gateway but no public IPv4 address",
        meaning=(
            "The subnet routes the service's public addresses to an internet gateway, but the "
            "instance's network interface has neither a public IPv4 address nor an Elastic IP. "
            "An internet gateway only forwards IPv4 traffic of interfaces that have a public "
            "address, so the connection times out. Turning on the subnet's auto-assign public "
            "IPv4 setting affects only instances launched afterwards."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Give the instance an Elastic IP: `aws ec2 allocate-address --domain vpc` then "
            "`aws ec2 associate-address --instance-id i-... --allocation-id eipalloc-...` "
            "(public IPv4 addresses are billed); or route 0.0.0.0/0 to a NAT gateway instead; "
            "or create interface endpoints for ssm, ssmmessages and ec2messages "
            "(EndpointsStack), which need no public address." + _RESTART
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="NAT_GATEWAY_NOT_AVAILABLE",
        category="network",
        severity="error",
        title="NAT gateway is not available or not public",
        meaning=(
            "The subnet routes the service's public addresses to a NAT gateway that cannot "
            "forward them to the internet: its state is not available (pending, failed, deleting "
            "or deleted), or its connectivity type is private. A private NAT gateway has no "
            "Elastic IP, and an internet gateway drops the traffic it sends."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "`aws ec2 describe-nat-gateways --nat-gateway-ids nat-...` shows State and "
            "FailureMessage. Create a public NAT gateway in a public subnet "
            "(`aws ec2 create-nat-gateway --subnet-id subnet-PUBLIC --allocation-id "
            "eipalloc-...`) and point the route at it (`aws ec2 replace-route --route-table-id "
            "rtb-... --destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-NEW`), or create "
            "interface endpoints for the three services (EndpointsStack)." + _RESTART
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="NAT_GATEWAY_NO_INTERNET_ROUTE",
        category="network",
        severity="error",
        title="NAT gateway's subnet has no route to an internet gateway",
        meaning=(
            "The instance's traffic reaches a public NAT gateway, but the route table of the NAT "
            "gateway's own subnet has no route for the service's addresses (normally 0.0.0.0/0) "
            "to an internet gateway, typically because the NAT gateway was placed in a private "
            "subnet. The NAT gateway has nowhere to send the traffic."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Add the route to the route table of the NAT gateway's subnet: "
            "`aws ec2 create-route --route-table-id rtb-NATSUBNET --destination-cidr-block "
            "0.0.0.0/0 --gateway-id igw-...` (the VPC needs an attached internet gateway; check "
            "that subnet's network ACL too), or recreate the NAT gateway in a public subnet, or "
            "create interface endpoints for the three services (EndpointsStack)." + _RESTART
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="UNMODELED_HOP",
        category="network",
        severity="warning",
        title="Path leaves what the auditor can prove",
        meaning=(
            "The route for the service's addresses goes to a target whose far side the API does "
            "not describe: a virtual private gateway, a Gateway Load Balancer or AWS Network "
            "Firewall endpoint, a network interface or instance (NAT instance, appliance), a "
            "local or carrier gateway, a Cloud WAN core network, or a transit gateway attachment "
            "that is a VPN, Direct Connect gateway, Connect or a peering with another transit "
            "gateway (transit gateways and VPC peering connections between VPCs are proved "
            "through, where the data allows). Whether TCP 443 reaches the service beyond it "
            "(on-premises proxy or firewall, TLS inspection) cannot be proved from here, so the "
            "service's status is unknown, not reachable."
        ),
        agent_log="\n".join(
            (
                'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp 203.0.113.10:443: '
                "i/o timeout",
                'caused by: Post "https://ssm.REGION.amazonaws.com/": proxyconnect tcp: dial tcp '
                "10.1.0.20:3128: i/o timeout",
                'caused by: Post "https://ssm.REGION.amazonaws.com/": x509: certificate signed by '
                "unknown authority",
            )
        ),
        log_labels=(
            "endpoint_unreachable",
            "proxy_misconfigured",
            "tls_certificate",
            "session_manager_channel",
        ),
        fix=(
            "Check the hop named in the finding: the transit gateway's (or peer's) route table "
            "and the egress VPC's NAT gateway or firewall must pass TCP 443 to ssm, ssmmessages "
            "and ec2messages.REGION.amazonaws.com (a domain allow-list must name all three; TLS "
            "inspection must exempt them or its CA must be trusted on the instance). If "
            "outbound traffic must use a proxy, configure the agent for it (Linux: "
            "`sudo systemctl edit amazon-ssm-agent` with "
            '`Environment="https_proxy=http://PROXY:PORT"` and '
            '`Environment="no_proxy=169.254.169.254"`). To make the path provable and keep it '
            "inside the VPC, create interface endpoints for the three services (EndpointsStack)."
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="TGW_ATTACHMENT_NOT_AVAILABLE",
        category="network",
        severity="error",
        title="No available transit gateway attachment for the route",
        meaning=(
            "The subnet's route table sends the traffic to a transit gateway, but the VPC has no "
            "attachment to that gateway, or the attachment (the VPC's or the far VPC's) is not "
            "available (pendingAcceptance, rejected, deleting, deleted, failed), or the gateway "
            "itself is not. A transit gateway forwards only between available attachments: the "
            "traffic is dropped."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "See its state: "
            + _command("review_transit_gateway_attachment")
            + ". Accept a pending attachment in the "
            "gateway owner's account (`aws ec2 accept-transit-gateway-vpc-attachment "
            "--transit-gateway-attachment-id tgw-attach-...`), or attach the VPC "
            "(`aws ec2 create-transit-gateway-vpc-attachment --transit-gateway-id tgw-... "
            "--vpc-id vpc-... --subnet-ids subnet-...`, one subnet per Availability Zone), or "
            "create interface endpoints for the three services in the VPC (EndpointsStack)."
            + _RESTART
        ),
        stack=None,
        manual_step="review_transit_gateway_attachment",
    ),
    FindingKind(
        code="TGW_ATTACHMENT_NOT_IN_AZ",
        category="network",
        severity="error",
        title="Transit gateway attachment has no subnet in the instance's Availability Zone",
        meaning=(
            "The VPC's transit gateway attachment names one subnet per Availability Zone, and "
            "none in the instance's zone. Resources of a zone without an attachment subnet "
            "cannot reach the transit gateway, even though their route table sends the traffic "
            "to it (Transit Gateways guide, VPC attachments): the traffic is dropped."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Add a subnet of that zone to the attachment: "
            + _command("add_attachment_subnet")
            + " (AWS recommends a small subnet of its own per zone, with its own network ACL)."
            + _RESTART
        ),
        stack=None,
        manual_step="add_attachment_subnet",
    ),
    FindingKind(
        code="TGW_ROUTE_MISSING",
        category="network",
        severity="error",
        title="Transit gateway route table has no route for the destination",
        meaning=(
            "The instance's traffic reaches the transit gateway, but the gateway route table "
            "associated with the VPC's attachment has no route (static or propagated) covering "
            "the destination (the service's public addresses towards a central egress VPC, or a "
            "central endpoint's addresses in a hub VPC), or the attachment is associated with no "
            "route table at all. The gateway drops the traffic. Propagation adds only the "
            "propagating VPC's own CIDRs: a default route to an egress VPC is always static."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Add the route in the gateway owner's account: "
            + _command("create_transit_gateway_route")
            + " (0.0.0.0/0 to the egress VPC's attachment, or the hub VPC's CIDR to the hub's "
            "attachment; or enable "
            "propagation of the hub attachment to that table: `aws ec2 "
            "enable-transit-gateway-route-table-propagation`); associate an unassociated "
            "attachment with `aws ec2 associate-transit-gateway-route-table`. The RoutesStack "
            "adds the route when the table is the audited account's." + _RESTART
        ),
        stack="RoutesStack",
        manual_step="create_transit_gateway_route",
    ),
    FindingKind(
        code="TGW_BLACKHOLE_ROUTE",
        category="network",
        severity="error",
        title="Transit gateway route for the destination is a blackhole",
        meaning=(
            "The most specific route for the destination in the transit gateway route table is a "
            "blackhole: a static blackhole route (a deliberate drop) or a route whose attachment "
            "was deleted. Longest prefix match still selects it and the gateway drops the "
            "traffic, in the request's direction or the replies'."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "In the gateway owner's account, find it ("
            + _command("review_transit_gateway_route")
            + ") and point it at the attachment that should carry the traffic (`aws ec2 "
            "replace-transit-gateway-route --transit-gateway-route-table-id tgw-rtb-... "
            "--destination-cidr-block CIDR --transit-gateway-attachment-id tgw-attach-...`), or "
            "delete it when a less specific route should apply." + _RESTART
        ),
        stack=None,
        manual_step="review_transit_gateway_route",
    ),
    FindingKind(
        code="RETURN_ROUTE_MISSING",
        category="network",
        severity="error",
        title="No route for the replies back through the transit gateway",
        meaning=(
            "The request crosses the transit gateway, but the replies cannot come back: the "
            "route table of the far subnet (the central endpoint's or NAT gateway's subnet in "
            "the hub VPC) has no route for the instance's address to the transit gateway (or "
            "sends it to an internet or NAT gateway), or the gateway route table associated with "
            "the hub VPC's attachment has no route for the instance's VPC CIDR to the VPC's "
            "attachment (its CIDR is not propagated there). The replies are dropped, and the "
            "agent sees timeouts."
        ),
        agent_log=_LOG_TIMEOUT_PRIVATE,
        log_labels=_NET_LABELS,
        fix=(
            "Route the spoke's CIDR back. In the gateway route table of the hub's attachment: "
            + _command("create_transit_gateway_route")
            + " (the spoke's CIDR to the spoke's attachment). In the hub subnet's route table: "
            "`aws ec2 create-route "
            "--route-table-id rtb-HUB --destination-cidr-block SPOKE_CIDR --transit-gateway-id "
            "tgw-...` (a summary such as 10.0.0.0/8 covers every spoke). Propagating the spoke's "
            "attachment to the hub's gateway route table (`aws ec2 "
            "enable-transit-gateway-route-table-propagation`) does the first for every spoke. "
            "The RoutesStack adds the routes in the audited account's tables." + _RESTART
        ),
        stack="RoutesStack",
        manual_step="create_transit_gateway_route",
    ),
    FindingKind(
        code="PEERING_ROUTE_MISSING",
        category="network",
        severity="error",
        title="No route back through the VPC peering connection",
        meaning=(
            "The instance reaches the peer VPC through an active peering connection, but the "
            "route table of the peer's subnet (where the interface endpoint is) has no route for "
            "the instance's address through that peering connection, or sends it elsewhere. A "
            "peering connection needs routes on both sides; the replies are dropped."
        ),
        agent_log=_LOG_TIMEOUT_PRIVATE,
        log_labels=_NET_LABELS,
        fix=(
            "Add the return route to the peer subnet's route table: `aws ec2 create-route "
            "--route-table-id rtb-PEER --destination-cidr-block CIDR --vpc-peering-connection-id "
            "pcx-...` (the instance's VPC CIDR). The RoutesStack adds it when the table is the "
            "audited account's; in the peer's account, run the command there." + _RESTART
        ),
        stack="RoutesStack",
    ),
    FindingKind(
        code="PEERING_NOT_TRANSITIVE",
        category="network",
        severity="error",
        title="Traffic relies on a peered VPC's gateway (peering is not transitive)",
        meaning=(
            "The subnet routes the destination (the service's public addresses) to a VPC "
            "peering connection. A peering connection delivers only to addresses of the peer "
            "VPC: it never carries traffic onward to the peer's NAT gateway, internet gateway, "
            "VPN or other peering connections (VPC Peering guide, unsupported configurations). "
            "The traffic is dropped, whatever the peer's own routes say."
        ),
        agent_log=_LOG_TIMEOUT_PUBLIC,
        log_labels=_NET_LABELS,
        fix=(
            "Give the VPC its own way to the services: interface endpoints for ssm, ssmmessages "
            "and ec2messages (EndpointsStack), a NAT gateway of its own (`aws ec2 create-route "
            "--route-table-id rtb-... --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "
            "nat-...`), or a transit gateway to a central egress VPC." + _RESTART
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="ASYMMETRIC_RETURN_ROUTE",
        category="network",
        severity="warning",
        title="Replies do not come straight back (asymmetric route)",
        meaning=(
            "A reply leaves by the route table of the subnet it is sent from (an interface "
            "endpoint's subnet, a NAT gateway's subnet) or, for traffic coming in from the "
            "internet, by the internet gateway's ingress route table. That table sends the "
            "replies to the agent's subnet through another target (a firewall or Gateway Load "
            "Balancer endpoint, an appliance's network interface...) by a route more specific "
            "than `local`: the replies do not retrace the request's way. A stateful appliance "
            "that sees only one direction drops the connection, and what lies beyond the target "
            "cannot be proved, so the service's status is unknown, not reachable."
        ),
        agent_log=(
            'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp 10.0.1.5:443: i/o '
            "timeout"
        ),
        log_labels=_NET_LABELS,
        fix=(
            "Make both directions take the same way: route the agent's subnet to the far subnet "
            "through the same appliance as the replies (and let it pass TCP 443), or remove the "
            "more specific route from the named route table so the replies follow `local` "
            "(`aws ec2 delete-route --route-table-id rtb-... --destination-cidr-block "
            "10.0.1.0/24`)."
        ),
        stack=None,
    ),
    FindingKind(
        code="DESTINATION_UNCERTAIN",
        category="network",
        severity="warning",
        title="Rule or route covers only part of the public address space",
        meaning=(
            "A security group rule, network ACL entry or route that the traffic needs covers only "
            "part of the public address space (a specific public CIDR, or a prefix list whose "
            "entries the auditor could not read) while the service name resolves to public "
            "addresses, and the parts it cuts get different answers (the auditor proves each "
            "part: when all of them are blocked, or all reachable, that decides). AWS publishes "
            "no dedicated address range for ssm, ssmmessages or ec2messages and their addresses "
            "change, so which part holds them cannot be known from the API: the proof is "
            "unknown."
        ),
        agent_log="",
        log_labels=_NET_LABELS,
        fix=(
            "Make the rule independent of the services' addresses: allow TCP 443 to 0.0.0.0/0 "
            "(security group egress; network ACL outbound, with inbound TCP 1024-65535 for the "
            "replies), or create interface endpoints for the three services (EndpointsStack) so "
            "they resolve to private addresses the auditor can check. For a prefix list, let the "
            "auditor read its entries (`aws ec2 get-managed-prefix-list-entries --prefix-list-id "
            "pl-...` needs ec2:GetManagedPrefixListEntries)."
        ),
        stack=None,
    ),
    # Interface endpoints: the far side of the private path.
    FindingKind(
        code="ENDPOINT_NOT_AVAILABLE",
        category="network",
        severity="error",
        title="Interface endpoint is not available",
        meaning=(
            "The interface endpoint for the service is in state pendingAcceptance, pending, "
            "deleting, deleted, rejected, failed or expired instead of available, so it does not "
            "carry traffic to the service. While its private DNS name still answers for the "
            "service, a working NAT path does not help."
        ),
        agent_log="\n".join(
            (
                'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp 10.0.1.5:443: '
                "i/o timeout",
                'caused by: Post "https://ssm.REGION.amazonaws.com/": dial tcp: lookup '
                "ssm.REGION.amazonaws.com on 10.0.0.2:53: no such host",
            )
        ),
        log_labels=_NET_LABELS,
        fix=(
            _command("review_endpoint")
            + " shows State and LastError. A pending endpoint needs only a few minutes; a failed "
            "or rejected one "
            "must be deleted (`aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-...`) and "
            "created again, for example by the EndpointsStack." + _RESTART
        ),
        stack="EndpointsStack",
        manual_step="review_endpoint",
    ),
    FindingKind(
        code="ENDPOINT_SG_INGRESS_BLOCKS",
        category="network",
        severity="error",
        title="Endpoint security group does not admit TCP 443 from the instance",
        meaning=(
            "The service name resolves to an interface endpoint, but no security group on the "
            "endpoint's network interfaces allows inbound TCP 443 from the instance (its private "
            "address, its subnet or VPC CIDR, or one of its security groups). An endpoint created "
            "without a security group gets the VPC's default group, which admits only members of "
            "that same group. A working NAT path does not help: the name resolves to the "
            "endpoint."
        ),
        agent_log=_LOG_TIMEOUT_PRIVATE,
        log_labels=_NET_LABELS,
        fix=(
            "Add an ingress rule to the endpoint's security group: "
            "`aws ec2 authorize-security-group-ingress --group-id sg-ENDPOINT --protocol tcp "
            "--port 443 --source-group sg-INSTANCE` (or `--cidr` the VPC CIDR to admit every "
            "instance in the VPC)." + _RESTART
        ),
        stack="SecurityGroupRulesStack",
    ),
    FindingKind(
        code="ENDPOINT_PARTIALLY_REACHABLE",
        category="network",
        severity="warning",
        title="Only some of the endpoint's network interfaces are reachable",
        meaning=(
            "The service resolves to an interface endpoint with network interfaces in several "
            "subnets, and the instance can reach some of them but not all (for example the "
            "network ACL of one endpoint subnet denies it, or an egress rule names only some "
            "subnets' CIDRs). DNS returns every interface's address, and a connection to a "
            "blocked one waits for its timeout before the agent tries the next address: the "
            "agent works but is slow or intermittent, and sessions may fail to start."
        ),
        agent_log=_LOG_TIMEOUT_PRIVATE,
        log_labels=_NET_LABELS,
        fix=(
            "Make every interface of the endpoint reachable: in the network ACL of each endpoint "
            "subnet, allow inbound TCP 443 from the instance's CIDR and outbound TCP 1024-65535 "
            "to it (`aws ec2 create-network-acl-entry ...`, as for NACL_BLOCKS), and make the "
            "instance's egress rule cover every endpoint subnet (or name the endpoint's "
            "security group). Or remove the unreachable subnets from the endpoint: "
            "`aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-... --remove-subnet-ids "
            "subnet-...`."
        ),
        stack="NaclEntriesStack",
    ),
    FindingKind(
        code="ENDPOINT_POLICY_DENIES",
        category="network",
        severity="error",
        title="Endpoint policy denies the agent's actions",
        meaning=(
            "The agent's traffic goes through an interface endpoint whose policy does not allow, "
            "or explicitly denies, an action the agent needs: ssm:UpdateInstanceInformation on "
            "the ssm endpoint, ssmmessages:CreateControlChannel and OpenControlChannel on "
            "ssmmessages, or the ec2messages actions (GetMessages, AcknowledgeMessage, "
            "SendReply, ...) on ec2messages. The default endpoint policy allows everything. An "
            "endpoint policy is a guardrail evaluated beside the role's policies, only for "
            "requests that travel through that endpoint."
        ),
        agent_log="\n".join(
            (
                _access_denied(
                    "ssm:UpdateInstanceInformation",
                    "because no VPC endpoint policy allows the ssm:UpdateInstanceInformation "
                    "action",
                ),
                _control_channel_denied("with an explicit deny in a VPC endpoint policy"),
            )
        ),
        log_labels=("iam_access_denied", "credential_refresher_failure"),
        fix=(
            "Reset the endpoint to the default full-access policy "
            "(" + _command("reset_endpoint_policy") + "), or give it a policy that allows the "
            "agent's actions to its principals and has no Deny "
            "matching them (`--policy-document file://policy.json`)." + _RESTART
        ),
        stack=None,
        manual_step="reset_endpoint_policy",
    ),
    # Metadata service.
    FindingKind(
        code="IMDS_DISABLED",
        category="metadata",
        severity="error",
        title="Instance metadata service is disabled",
        meaning=(
            "The instance's metadata options have HttpEndpoint=disabled, so every request to "
            "169.254.169.254 gets 403 Forbidden. The agent cannot read its instance id, region, "
            "IMDSv2 token or role credentials, and Default Host Management fails too, since it "
            "authenticates the instance with identity credentials from the metadata service. "
            "Security groups and network ACLs never filter the metadata service; this setting "
            "is the blocker."
        ),
        agent_log="\n".join(
            (
                "ERROR Failed to fetch instance ID. Data from vault is empty. EC2MetadataError: "
                "failed to make EC2Metadata request",
                "\tstatus code: 403, request id:",
                "ERROR Failed to fetch region. Data from vault is empty. EC2MetadataError: "
                "failed to make EC2Metadata request",
                "EC2RoleRequestError: no EC2 instance role found",
                "caused by: EC2MetadataError: failed to make EC2Metadata request",
            )
        ),
        # without the metadata service the agent cannot take its EC2 identity, nor sign the
        # Default Host Management token request ("Agent failed to assume any identity")
        log_labels=("imds_unreachable", "no_credentials", "registration_failure"),
        fix=(
            "Enable the endpoint, with IMDSv2 (nothing on the instance can depend on IMDSv1 "
            "while the endpoint is off): " + _command("enable_metadata_endpoint") + " (add "
            "`--http-put-response-hop-limit 2` when the agent runs in a container). No reboot is "
            "needed." + _RESTART
        ),
        stack=None,
        manual_step="enable_metadata_endpoint",
    ),
    # Credentials: the instance profile first, then Default Host Management.
    FindingKind(
        code="NO_INSTANCE_PROFILE",
        category="credentials",
        severity="error",
        title="No IAM instance profile attached",
        meaning=(
            "No IAM instance profile is associated with the instance, so the metadata service "
            "has no role credentials (iam/security-credentials/ answers 404). The agent then "
            "falls back to Default Host Management, which works only if it is enabled and valid "
            "in this account and Region (see the DHMC_* findings); otherwise the agent has no "
            "credentials at all."
        ),
        agent_log=_LOG_NO_ROLE,
        log_labels=("no_credentials", "credential_refresher_failure", "registration_failure"),
        fix=(
            "Associate an instance profile whose role trusts ec2.amazonaws.com and has the "
            "AmazonSSMManagedInstanceCore policy: " + _command("associate_instance_profile")
            + " (no reboot needed; the "
            "InstanceRoleStack creates such a role and profile). Or enable Default Host "
            "Management (see DHMC_DISABLED)." + _RESTART
        ),
        stack="InstanceRoleStack",
        manual_step="associate_instance_profile",
    ),
    FindingKind(
        code="INSTANCE_PROFILE_WITHOUT_ROLE",
        category="credentials",
        severity="error",
        title="Instance profile contains no role",
        meaning=(
            "The instance profile associated with the instance contains no role (a profile holds "
            "at most one), so the metadata service has no credentials to hand out, exactly as if "
            "no profile were attached; the agent falls back to Default Host Management."
        ),
        agent_log=_LOG_NO_ROLE,
        log_labels=("no_credentials", "credential_refresher_failure", "registration_failure"),
        fix=(
            "Put a role in the profile: " + _command("add_role_to_instance_profile")
            + ", with a role that trusts "
            "ec2.amazonaws.com and has AmazonSSMManagedInstanceCore; or associate another "
            "profile: `aws ec2 replace-iam-instance-profile-association --association-id "
            "iip-assoc-... --iam-instance-profile Name=PROFILE` (the InstanceRoleStack creates a "
            "suitable role and profile)." + _RESTART
        ),
        stack="InstanceRoleStack",
        manual_step="add_role_to_instance_profile",
    ),
    FindingKind(
        code="TRUST_POLICY_DENIES_EC2",
        category="credentials",
        severity="error",
        title="Role's trust policy does not let EC2 assume it",
        meaning=(
            "The trust policy of the instance profile's role does not allow ec2.amazonaws.com to "
            "call sts:AssumeRole (principal missing, another action, a failing condition, or a "
            "matching Deny), so EC2 cannot obtain the role's credentials: the metadata service "
            "answers iam/security-credentials/ROLE with Code AssumeRoleUnauthorizedAccess. The "
            "agent falls back to Default Host Management, and otherwise its credential refresher "
            "backs off 1 s, 2 s, 4 s, ... up to hours."
        ),
        agent_log="\n".join(
            (
                "WARN EC2RoleProvider Failed to connect to Systems Manager with instance profile "
                "role credentials. Err: retrieved credentials failed to report to ssm. Error: "
                "AssumeRoleUnauthorizedAccess: EC2 cannot assume the role ROLE. Please see "
                "documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                "troubleshoot_iam-ec2.html#troubleshoot_iam-ec2_errors-info-doc.",
                "ERROR [CredentialRefresher] Retrieve credentials produced error: no valid "
                "credentials could be retrieved for ec2 identity",
                "INFO [CredentialRefresher] Sleeping for 4s before retrying retrieve credentials",
            )
        ),
        log_labels=("credential_refresher_failure", "no_credentials", "registration_failure"),
        fix=(
            "Let EC2 assume the role: " + _command("update_assume_role_policy") + " (keep any "
            "other statements the role needs), or use a role that trusts EC2 "
            "(InstanceRoleStack). The credential refresher may be sleeping for many minutes."
            + _RESTART
        ),
        stack="InstanceRoleStack",
        manual_step="update_assume_role_policy",
    ),
    FindingKind(
        code="DHMC_DISABLED",
        category="credentials",
        severity="error",
        title="Default Host Management Configuration is not enabled",
        meaning=(
            "Default Host Management is not enabled in this account and Region: the service "
            "setting /ssm/managed-instance/default-ec2-instance-management-role names no role. "
            "The agent tries it only when the instance profile gives no usable credentials (no "
            "profile or role, AccessDenied on ssm:UpdateInstanceInformation, EC2RoleRequestError "
            "or AssumeRoleUnauthorizedAccess; a network error skips it), so for this instance it "
            "was the remaining credential source."
        ),
        agent_log=_LOG_DHMC_NOT_CONFIGURED,
        log_labels=("registration_failure", "credential_refresher_failure", "no_credentials"),
        fix=(
            "Enable it (console: Systems Manager > Fleet Manager > Account management > "
            "Configure Default Host Management Configuration, or " + _DHMC_SETTING_CMD + "). "
            "The role must exist, trust ssm.amazonaws.com and have "
            "AmazonSSMManagedEC2InstanceDefaultPolicy (see DHMC_ROLE_INVALID); instances need "
            "IMDSv2 and agent 3.2.582.0 or later. Or give the instance a working instance "
            "profile (see NO_INSTANCE_PROFILE)." + _RESTART
        ),
        stack=None,
    ),
    FindingKind(
        code="DHMC_ROLE_INVALID",
        category="credentials",
        severity="error",
        title="Default Host Management role is missing or unusable",
        meaning=(
            "Default Host Management is enabled, but the role its service setting names cannot "
            "serve: it does not exist, its trust policy does not allow ssm.amazonaws.com to call "
            "sts:AssumeRole, or its policies do not allow the agent's actions "
            "(AmazonSSMManagedEC2InstanceDefaultPolicy grants them)."
        ),
        agent_log="\n".join(
            (
                "ERROR [CredentialRefresher] Retrieve credentials produced error: no valid "
                "credentials could be retrieved for ec2 identity. Default Host Management Err: "
                "error calling RequestManagedInstanceRoleToken: AccessDeniedException: ...",
                _access_denied(
                    "ssm:UpdateInstanceInformation",
                    "because no identity-based policy allows the ssm:UpdateInstanceInformation "
                    "action",
                    role="AWSSystemsManagerDefaultEC2InstanceManagementRole",
                ),
            )
        ),
        log_labels=("registration_failure", "credential_refresher_failure", "iam_access_denied"),
        fix=(
            "Create or repair the role: `aws iam create-role --path /service-role/ --role-name "
            "AWSSystemsManagerDefaultEC2InstanceManagementRole --assume-role-policy-document "
            '\'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
            '{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}\'` and '
            "`aws iam attach-role-policy --role-name "
            "AWSSystemsManagerDefaultEC2InstanceManagementRole --policy-arn "
            "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy`, then point the "
            "setting at it: " + _DHMC_SETTING_CMD + "." + _RESTART
        ),
        stack=None,
    ),
    FindingKind(
        code="DHMC_REQUIRES_IMDSV2",
        category="credentials",
        severity="error",
        title="Default Host Management needs IMDSv2 on the instance",
        meaning=(
            "The instance relies on Default Host Management but does not require IMDSv2 "
            "(HttpTokens=optional). AWS documents Default Host Management as applying to "
            "instances that use IMDSv2 and as not supporting IMDSv1."
        ),
        agent_log=(
            "ERROR [CredentialRefresher] Retrieve credentials produced error: no valid credentials "
            "could be retrieved for ec2 identity. Default Host Management Err: error calling "
            "RequestManagedInstanceRoleToken: ..."
        ),
        log_labels=("registration_failure", "credential_refresher_failure"),
        fix=(
            "Require IMDSv2: `aws ec2 modify-instance-metadata-options --instance-id i-... "
            "--http-tokens required --http-endpoint enabled` (first check that nothing on the "
            "instance still uses IMDSv1: the EC2 CloudWatch metric MetadataNoToken counts such "
            "calls). For new instances: `aws ec2 modify-instance-metadata-defaults "
            "--http-tokens required`." + _RESTART
        ),
        stack=None,
    ),
    # Permissions of the role the agent uses.
    FindingKind(
        code="MISSING_PERMISSIONS",
        category="permissions",
        severity="error",
        title="Role does not allow the agent's actions",
        meaning=(
            "No identity-based policy of the role the agent uses (the instance profile's role or "
            "the Default Host Management role) allows one or more actions it needs; the finding "
            "lists them. ssm:UpdateInstanceInformation carries registration and the heartbeat; "
            "ssmmessages:CreateControlChannel and OpenControlChannel (agent 3.3.40.0 and later) "
            "or the ec2messages actions (older agents) carry commands; Session Manager adds "
            "ssmmessages:CreateDataChannel and OpenDataChannel. Without "
            "ssm:UpdateInstanceInformation the agent also tries Default Host Management."
        ),
        agent_log="\n".join(
            (
                _access_denied(
                    "ssm:UpdateInstanceInformation",
                    "because no identity-based policy allows the ssm:UpdateInstanceInformation "
                    "action",
                ),
                _control_channel_denied(
                    "because no identity-based policy allows the "
                    "ssmmessages:CreateControlChannel action"
                ),
            )
        ),
        log_labels=_PERMISSION_LABELS,
        fix=(
            "Attach the AWS managed policy: `aws iam attach-role-policy --role-name ROLE "
            "--policy-arn arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore` (or add the "
            "listed actions to an inline policy); the InstanceRoleStack does this. IAM changes "
            "propagate within seconds to minutes." + _RESTART
        ),
        stack="InstanceRoleStack",
    ),
    FindingKind(
        code="EXPLICIT_DENY",
        category="permissions",
        severity="error",
        title="An identity policy explicitly denies the agent's actions",
        meaning=(
            "A Deny statement in an identity-based policy of the role (the finding names the "
            "policy and the statement) matches an action the agent needs. An explicit deny "
            "overrides every allow, so attaching AmazonSSMManagedInstanceCore does not help."
        ),
        agent_log=_access_denied(
            "ssm:UpdateInstanceInformation",
            "with an explicit deny in an identity-based policy",
        ),
        log_labels=_PERMISSION_LABELS,
        fix=(
            "Change the named statement so it no longer matches the agent's actions for this "
            "role (narrow Action or Resource, or add a condition): for an inline policy "
            "`aws iam put-role-policy --role-name ROLE --policy-name NAME --policy-document "
            "file://fixed.json`; for a customer managed policy `aws iam create-policy-version "
            "--policy-arn arn:aws:iam::ACCOUNT:policy/NAME --policy-document file://fixed.json "
            "--set-as-default`; or detach the policy (`aws iam detach-role-policy --role-name "
            "ROLE --policy-arn ...`)." + _RESTART
        ),
        stack=None,
        manual_step="review_policy",
    ),
    FindingKind(
        code="PERMISSIONS_BOUNDARY_DENIES",
        category="permissions",
        severity="error",
        title="Permissions boundary does not allow the agent's actions",
        meaning=(
            "The role has a permissions boundary that does not allow, or explicitly denies, an "
            "action the agent needs. A boundary only limits and never grants: an action must be "
            "allowed by both an identity policy and the boundary, so adding it to the role's "
            "policies does not help."
        ),
        agent_log=_access_denied(
            "ssm:UpdateInstanceInformation",
            "because no permissions boundary allows the ssm:UpdateInstanceInformation action",
        ),
        log_labels=_PERMISSION_LABELS,
        fix=(
            "Add the listed actions to the boundary policy (`aws iam create-policy-version "
            "--policy-arn arn:aws:iam::ACCOUNT:policy/BOUNDARY --policy-document "
            "file://boundary.json --set-as-default`), or remove the boundary where your "
            "organisation allows it (`aws iam delete-role-permissions-boundary --role-name "
            "ROLE`)." + _RESTART
        ),
        stack=None,
        manual_step="review_policy",
    ),
    FindingKind(
        code="SCP_DENIES",
        category="permissions",
        severity="error",
        title="A service control policy denies the agent's actions",
        meaning=(
            "A service control policy of AWS Organizations attached to the account or one of its "
            "parent OUs denies, or does not allow, an action the agent needs. SCPs limit every "
            "role in member accounts (not the management account) whatever the role's own "
            "policies say; the finding names the policy and statement."
        ),
        agent_log=_access_denied(
            "ssm:UpdateInstanceInformation",
            "with an explicit deny in a service control policy",
        ),
        log_labels=_PERMISSION_LABELS,
        fix=(
            "In the organization's management account (or a delegated administrator), change "
            "the named SCP so that it allows the agent's actions in this account, for example by "
            "exempting them from the Deny with a condition on aws:PrincipalArn, then "
            "`aws organizations update-policy --policy-id p-... --content file://scp.json`."
            + _RESTART
        ),
        stack=None,
        manual_step="review_policy",
    ),
    FindingKind(
        code="CONDITION_NOT_EVALUATED",
        category="permissions",
        severity="warning",
        title="A policy condition decides and cannot be evaluated",
        meaning=(
            "A statement that decides whether an agent action is allowed has a condition the "
            "auditor cannot evaluate from configuration (for example aws:SourceIp, "
            "aws:SourceVpce, aws:VpcSourceIp, aws:ec2InstanceSourceVPC, aws:PrincipalTag, "
            "aws:CurrentTime), so the answer is unknown instead of allowed; the finding names "
            "the policy, statement and key. A common trap: a Deny with NotIpAddress on "
            "aws:SourceIp also denies requests that arrive through an interface endpoint, which "
            "carry no aws:SourceIp."
        ),
        agent_log=_access_denied(
            "ssm:UpdateInstanceInformation",
            "with an explicit deny in an identity-based policy",
        ),
        log_labels=("iam_access_denied",),
        fix=(
            "Evaluate the condition for the request the agent makes: `aws iam "
            "simulate-principal-policy --policy-source-arn arn:aws:iam::ACCOUNT:role/ROLE "
            "--action-names ssm:UpdateInstanceInformation --context-entries "
            "ContextKeyName=aws:SourceVpce,ContextKeyValues=vpce-...,ContextKeyType=string`. If "
            "it is a network guardrail, make sure the agent's traffic arrives through the "
            "endpoint or from the address it expects, or rewrite it with a key that matches "
            "(aws:VpcSourceIp for traffic through endpoints)."
        ),
        stack=None,
    ),
    # What Systems Manager itself reports (evidence beside the verdict).
    FindingKind(
        code="NOT_REGISTERED",
        category="service_view",
        severity="warning",
        title="Systems Manager has never heard from this instance",
        meaning=(
            "DescribeInstanceInformation has no entry for the instance: its agent has never "
            "completed ssm:UpdateInstanceInformation (or the instance was deregistered). This is "
            "Systems Manager's view, beside the configuration verdict: when the configuration "
            "is proven manageable, the cause is on the instance (agent not installed or not "
            "running, a proxy or OS firewall, or the agent hibernating after earlier failures)."
        ),
        agent_log="",
        log_labels=(),
        fix=(
            "Look at the instance without a shell: `aws ec2 get-console-output --instance-id "
            "i-... --latest --output text` shows the agent's startup lines (for example \"SSM "
            'Agent unable to acquire credentials: ..."). Check that the agent is installed '
            "(custom AMIs often lack it; install it from user data), running (`systemctl status "
            "amazon-ssm-agent`, `snap services amazon-ssm-agent` on Ubuntu), configured for any "
            "required proxy and not blocked by an OS firewall. Reboot to end a hibernation: "
            "`aws ec2 reboot-instances --instance-ids i-...`."
        ),
        stack=None,
    ),
    FindingKind(
        code="CONNECTION_LOST",
        category="service_view",
        severity="warning",
        title="Systems Manager reports the connection lost",
        meaning=(
            "Systems Manager knows the instance but its PingStatus is ConnectionLost: the agent "
            "has stopped sending its heartbeat (ssm:UpdateInstanceInformation, normally every "
            "5 minutes). It worked once, so something changed: network, credentials or "
            "permissions (see the other findings), the agent stopped or crashed, or it is "
            "hibernating after repeated failures."
        ),
        agent_log="",
        log_labels=(),
        fix=(
            "Find when it stopped: `aws ssm describe-instance-information --filters "
            "Key=InstanceIds,Values=i-...` (LastPingDateTime), and look in CloudTrail around "
            "that time for changes such as RevokeSecurityGroupEgress, ReplaceRoute, "
            "DetachRolePolicy or ModifyInstanceMetadataOptions. Read the agent's startup lines "
            "with `aws ec2 get-console-output --instance-id i-... --latest --output text`. After "
            "fixing, reboot (`aws ec2 reboot-instances --instance-ids i-...`) or restart the "
            "agent: a hibernating agent retries only up to once an hour."
        ),
        stack=None,
    ),
    FindingKind(
        code="AGENT_OUTDATED",
        category="service_view",
        severity="warning",
        title="SSM Agent is outdated",
        meaning=(
            "The agent version Systems Manager reports is older than what this instance's setup "
            "needs, or not the latest (IsLatestVersion false). Versions that matter: 3.3.40.0 "
            "and later use ssmmessages for commands (older agents need ec2messages), Default "
            "Host Management needs 3.2.582.0 or later, and Session Manager needs 2.3.68.0 or "
            "later."
        ),
        agent_log="",
        log_labels=(),
        fix=(
            "While the instance is online: `aws ssm send-command --document-name "
            "AWS-UpdateSSMAgent --instance-ids i-...`. Keep agents current with a State Manager "
            "association (`aws ssm create-association --name AWS-UpdateSSMAgent --targets "
            'Key=InstanceIds,Values=i-... --schedule-expression "rate(14 days)"`) or Fleet '
            "Manager's Auto update SSM Agent setting, and bake a recent agent into custom AMIs."
        ),
        stack=None,
    ),
    # The auditor's own blind spots.
    FindingKind(
        code="DATA_UNAVAILABLE",
        category="data",
        severity="warning",
        title="The auditor could not read data it needs",
        meaning=(
            "The auditor could not read a kind of resource it needs: the API call was denied, "
            "still throttled after retries, or the file is missing from the snapshot. Every "
            "proof that depends on it is unknown, never assumed to pass; the finding names the "
            "call or the file. One exception: service control policies that cannot be read "
            "(the usual case from a member account) leave the permissions proven without "
            "them, and this warning says that an SCP deny cannot be ruled out."
        ),
        agent_log="",
        log_labels=(),
        fix=(
            "Give the auditing principal the read-only permission named in the finding: the AWS "
            "managed ReadOnlyAccess policy covers every read the auditor makes "
            "(`aws iam attach-role-policy --role-name AUDITOR --policy-arn "
            "arn:aws:iam::aws:policy/ReadOnlyAccess`); narrower ones such as ViewOnlyAccess may "
            "lack some reads, so otherwise grant the single action (for example "
            "ec2:DescribeVpcEndpoints, iam:GetPolicyVersion, ssm:GetServiceSetting). SCPs can "
            "only be read from the management account or a delegated administrator. When "
            "throttled, run again later. For a snapshot, capture it again with "
            "`python -m auditor snapshot --out DIR`, or add the missing file with the matching "
            "`aws ... describe-*` command."
        ),
        stack=None,
    ),
    FindingKind(
        code="TEMPLATE_VALUE_UNRESOLVED",
        category="data",
        severity="warning",
        title="A planned value is known only at deployment",
        meaning=(
            "A CloudFormation template (or a planned launch) names a value the auditor cannot "
            "know before deployment: a parameter without a default and no value given, "
            "Fn::ImportValue, an SSM parameter, an attribute AWS assigns (Fn::GetAtt of an "
            "address), a condition that depends on those, or an existing resource that is "
            "neither in the template nor in the snapshot. The resource is kept out of the "
            "proof, never guessed: an instance that depends on it is unknown, not manageable "
            "(nor not manageable when the only blocker is that resource)."
        ),
        agent_log="",
        log_labels=(),
        fix=(
            "Give the value: `python -m auditor prelaunch TEMPLATE --parameter Name=Value` (or a "
            "Default in the template), audit against the real estate with `--snapshot DIR` "
            "(or live credentials) so that existing VPCs, subnets, groups and roles named by id "
            "are read, or replace the import or attribute with a literal where it decides the "
            "agent's path. The value an import would take: `aws cloudformation list-exports "
            "--query \"Exports[?Name=='NAME'].Value\"`, then pass it as a parameter."
        ),
        stack=None,
    ),
    # Beyond registration (contract section 7): what sessions and patching need on their own.
    FindingKind(
        code="SESSION_CHANNEL_UNREACHABLE",
        category="session_manager",
        severity="error",
        title="Sessions cannot open: ssmmessages is unreachable",
        meaning=(
            "Session Manager carries every session over ssmmessages (the control and data "
            "channels, a websocket on TCP 443); ec2messages does not carry sessions. The "
            "instance may still be manageable through ec2messages, but no session opens: the "
            "console and the CLI wait, then report the target as not connected. The finding "
            "names the hop that blocks ssmmessages."
        ),
        agent_log="\n".join(
            (
                "ERROR [MessageGatewayService] Failed to get controlchannel token, error: "
                "CreateControlChannel failed with error: createControlChannel request failed: "
                "RequestError: send request failed",
                'caused by: Post "https://ssmmessages.REGION.amazonaws.com/v1/control-channel/'
                'i-0123456789abcdef0": dial tcp 203.0.113.45:443: i/o timeout',
            )
        ),
        log_labels=("session_manager_channel", "endpoint_unreachable"),
        fix=(
            "Open the path to ssmmessages named in the finding: an interface endpoint "
            "com.amazonaws.REGION.ssmmessages with private DNS (the EndpointsStack of the plan "
            "adds it) or the rule or route that blocks it. New sessions pick the change up; the "
            "agent needs no restart unless it has been hibernating (then restart the agent or "
            "wait up to an hour)."
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="SESSION_CHANNEL_DENIED",
        category="session_manager",
        severity="error",
        title="Sessions cannot open: the role may not open the data channel",
        meaning=(
            "The instance's role may not call ssmmessages:CreateControlChannel, "
            "OpenControlChannel, CreateDataChannel or OpenDataChannel: the agent registers but "
            "each session fails when its data channel opens. AmazonSSMManagedInstanceCore "
            "grants all four; the finding names the deciding statement."
        ),
        agent_log=(
            "ERROR [ssm-session-worker] [sess-0123456789abcdef0] Failed to get datachannel "
            "token, error: CreateDataChannel failed with error: createDataChannel request "
            "failed: unexpected response from the service <AccessDeniedException>"
        ),
        log_labels=("session_manager_channel", "iam_access_denied"),
        fix=(
            "Allow the four ssmmessages actions to the role (the plan's InstanceRoleStack adds "
            "a policy, or attach AmazonSSMManagedInstanceCore), or change the statement that "
            "denies them: `aws iam put-role-policy --role-name ROLE --policy-name "
            "ssm-session-channels --policy-document file://channels.json`. New sessions pick "
            "the change up; restart the agent only if it has been hibernating (or wait up to "
            "an hour)."
        ),
        stack="InstanceRoleStack",
    ),
    FindingKind(
        code="SESSION_KMS_KEY_UNUSABLE",
        category="session_manager",
        severity="error",
        title="The preferences' KMS key is missing, disabled or pending deletion",
        meaning=(
            "The Session Manager preferences (the SSM-SessionManagerRunShell document) encrypt "
            "sessions with a KMS key that does not exist, is disabled or is pending deletion: "
            "no encrypted session can start, on any instance of the region. The same holds for "
            "the SSE-KMS key of the session log bucket, whose uploads then fail."
        ),
        agent_log=(
            "ERROR [ssm-session-worker] Fetching data key failed: Unable to retrieve data key, "
            "Error when decrypting data key DisabledException: "
            "arn:aws:kms:REGION:111122223333:key/... is disabled."
        ),
        log_labels=(),  # outside the contract's labels: the log shows it as unrecognized
        fix=(
            "See the key's state (" + _command("review_kms_key") + "), then enable it (`aws "
            "kms enable-key --key-id KEY`), cancel its deletion (`aws kms cancel-key-deletion "
            "--key-id KEY`), or name another key in the preferences "
            "(Systems Manager > Session Manager > Preferences). New sessions pick the change "
            "up: no agent restart is needed."
        ),
        stack=None,
        manual_step="review_kms_key",
    ),
    FindingKind(
        code="SESSION_KMS_UNREACHABLE",
        category="session_manager",
        severity="error",
        title="Encrypted sessions cannot start: the instance cannot reach KMS",
        meaning=(
            "The preferences encrypt sessions with a KMS key, so the agent calls kms:Decrypt on "
            "kms.REGION.amazonaws.com when each session starts; that name leads nowhere from "
            "this instance (no route out, a blocking rule, an interface endpoint it cannot "
            "reach). The session dies at once or shows a blank screen. Common in private "
            "subnets that have endpoints for ssm, ssmmessages and ec2messages only."
        ),
        agent_log="\n".join(
            (
                "ERROR [ssm-session-worker] Fetching data key failed: Unable to retrieve data "
                "key, Error when decrypting data key RequestError: send request failed",
                'caused by: Post "https://kms.REGION.amazonaws.com/": dial tcp 203.0.113.70:443: '
                "i/o timeout",
            )
        ),
        log_labels=("session_manager_channel", "endpoint_unreachable"),
        fix=(
            "Add an interface endpoint com.amazonaws.REGION.kms with private DNS to the VPC "
            "(the plan's EndpointsStack does; `aws ec2 create-vpc-endpoint --vpc-id vpc-... "
            "--service-name com.amazonaws.REGION.kms --vpc-endpoint-type Interface "
            "--subnet-ids subnet-... --security-group-ids sg-... --private-dns-enabled`), or "
            "open the rule or route the finding names. New sessions pick the change up: no "
            "agent restart is needed."
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="SESSION_KMS_DENIED",
        category="session_manager",
        severity="error",
        title="Encrypted sessions cannot start: the role may not decrypt with the key",
        meaning=(
            "The instance's role may not call kms:Decrypt on the preferences' key. KMS needs "
            "both: the key policy must allow the role (or hand the decision to the account's "
            "IAM policies with a statement for the account root), and then an identity policy "
            "must allow; SCPs, the permissions boundary and the kms endpoint's policy apply "
            "too. The finding names the deciding statement or the policy that lacks an allow. "
            "A grant to the role, or grants the auditor could not read, make it unknown."
        ),
        agent_log=(
            "ERROR [ssm-session-worker] Fetching data key failed: Unable to retrieve data key, "
            "Error when decrypting data key AccessDeniedException: User: "
            "arn:aws:sts::111122223333:assumed-role/ROLE/i-0123456789abcdef0 is not authorized "
            "to perform: kms:Decrypt on resource: arn:aws:kms:REGION:111122223333:key/... "
            "because no identity-based policy allows the kms:Decrypt action"
        ),
        log_labels=(),  # outside the contract's labels: the log shows it as unrecognized
        fix=(
            "When an identity policy lacks the allow, the plan's InstanceRoleStack adds a "
            "statement allowing kms:Decrypt on that key ARN to the role. A key policy that "
            "does not let the role in is reviewed by a person, never rewritten: "
            + _command("review_key_policy") + ", then add a statement for the role (or the "
            "account root's delegation). New sessions pick the change up: no agent restart is "
            "needed."
        ),
        stack="InstanceRoleStack",
        manual_step="review_key_policy",
    ),
    FindingKind(
        code="SESSION_LOG_TARGET_MISSING",
        category="session_manager",
        severity="error",
        title="The session log bucket or log group does not exist",
        meaning=(
            "The preferences send session logs to an S3 bucket or CloudWatch Logs group that "
            "does not exist (deleted, renamed, or in another account). The agent warns and the "
            "session runs without its log, which breaks an audit trail; when the preferences "
            "require encryption the session does not start at all."
        ),
        agent_log=(
            "WARN [ssm-session-worker] The CloudWatch log group specified in session "
            "preferences either does not exist or unable to validate its existence. This might "
            "result in no logging of session data to CloudWatch."
        ),
        log_labels=(),  # outside the contract's labels: the log shows it as unrecognized
        fix=(
            "Create the log group (" + _command("create_log_group") + ") or the bucket, or "
            "name an existing one in the preferences (`aws ssm update-document --name "
            "SSM-SessionManagerRunShell --content file://preferences.json --document-version "
            "'$LATEST'`). New sessions pick the change up: no agent restart is needed."
        ),
        stack=None,
        manual_step="create_log_group",
    ),
    FindingKind(
        code="SESSION_LOG_UNENCRYPTED",
        category="session_manager",
        severity="error",
        title="The preferences require encrypted logs and the target is not encrypted",
        meaning=(
            "s3EncryptionEnabled or cloudWatchEncryptionEnabled is on in the preferences, but the "
            "bucket has no default encryption or the log group no KMS key: the agent refuses to "
            "start the session (\"We couldn't start the session because encryption is not set "
            "up on the selected ...\")."
        ),
        agent_log=(
            "ERROR [ssm-session-worker] We couldn't start the session because encryption is not "
            "set up on the selected CloudWatch Logs log group. Either encrypt the log group or "
            "choose an option to enable logging without encryption."
        ),
        log_labels=(),  # outside the contract's labels: the log shows it as unrecognized
        fix=(
            "Encrypt the target (`aws logs associate-kms-key --log-group-name LOG_GROUP "
            "--kms-key-id arn:aws:kms:REGION:ACCOUNT:key/...`, or `aws s3api "
            "put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration "
            "file://sse.json`), or turn the encryption requirement off in the preferences ("
            + _command("review_session_preferences") + " shows them). New sessions pick the "
            "change up: no agent restart is needed."
        ),
        stack=None,
        manual_step="review_session_preferences",
    ),
    FindingKind(
        code="SESSION_LOG_S3_UNREACHABLE",
        category="session_manager",
        severity="error",
        title="Session logs cannot reach the S3 bucket",
        meaning=(
            "The preferences log sessions to S3, and S3 cannot be reached from this instance: "
            "no gateway endpoint route in its route table, no S3 interface endpoint and no way "
            "out, or a rule that blocks TCP 443 to S3's addresses. With encryption required "
            "the session does not start; otherwise its log is lost when it ends."
        ),
        agent_log=(
            "ERROR [ssm-session-worker] Failed to upload /var/lib/amazon/ssm/i-.../session/"
            "orchestration/... to s3://BUCKET/... err:RequestError: send request failed"
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "Give the instance's route table the VPC's S3 gateway endpoint (the plan's "
            "EndpointsStack adds an endpoint with the route; an existing one takes the table "
            "with " + _command("add_gateway_endpoint_route") + "), or open the rule the "
            "finding names. New sessions pick the change up: no agent restart is needed."
        ),
        stack="EndpointsStack",
        manual_step="add_gateway_endpoint_route",
    ),
    FindingKind(
        code="SESSION_LOG_S3_DENIED",
        category="session_manager",
        severity="error",
        title="Session logs may not be written to the S3 bucket",
        meaning=(
            "The instance's role may not write session logs to the bucket: s3:PutObject under "
            "the prefix, s3:GetEncryptionConfiguration on the bucket (read before each upload, "
            "and required when the preferences ask for encryption) or kms:GenerateDataKey on the "
            "bucket's SSE-KMS key is refused by an identity policy, the bucket policy, the S3 "
            "endpoint's policy, an SCP or the permissions boundary."
        ),
        agent_log=(
            "ERROR [ssm-session-worker] Failed to upload ... to s3://BUCKET/PREFIX/... "
            "err:AccessDenied: Access Denied"
        ),
        log_labels=(),  # outside the contract's labels: the log shows it as unrecognized
        fix=(
            "When an identity policy lacks the allow, the plan's InstanceRoleStack adds a "
            "statement for that bucket and prefix to the role. A bucket policy that denies is "
            "reviewed, never rewritten: " + _command("review_bucket_policy") + ". New sessions "
            "pick the change up: no agent restart is needed."
        ),
        stack="InstanceRoleStack",
        manual_step="review_bucket_policy",
    ),
    FindingKind(
        code="SESSION_LOG_CLOUDWATCH_UNREACHABLE",
        category="session_manager",
        severity="error",
        title="Session logs cannot reach CloudWatch Logs",
        meaning=(
            "The preferences send session logs to CloudWatch Logs, and logs.REGION.amazonaws.com "
            "cannot be reached from this instance (no way out, a blocking rule, an interface "
            "endpoint it cannot reach). Sessions run without their log; with streaming on, the "
            "agent keeps retrying."
        ),
        agent_log="\n".join(
            (
                "ERROR [ssm-session-worker] Error Calling DescribeLogGroups:RequestError: send "
                "request failed",
                'caused by: Post "https://logs.REGION.amazonaws.com/": dial tcp 203.0.113.80:443: '
                "i/o timeout",
            )
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "Add an interface endpoint com.amazonaws.REGION.logs with private DNS (the plan's "
            "EndpointsStack does; `aws ec2 create-vpc-endpoint --vpc-id vpc-... --service-name "
            "com.amazonaws.REGION.logs --vpc-endpoint-type Interface --subnet-ids subnet-... "
            "--private-dns-enabled`), or open the rule or route the finding names. New sessions "
            "pick the change up: no agent restart is needed."
        ),
        stack="EndpointsStack",
    ),
    FindingKind(
        code="SESSION_LOG_CLOUDWATCH_DENIED",
        category="session_manager",
        severity="error",
        title="Session logs may not be written to the log group",
        meaning=(
            "The instance's role may not call logs:DescribeLogGroups, DescribeLogStreams, "
            "CreateLogStream or PutLogEvents on the preferences' log group (identity policy, "
            "SCP, permissions boundary or the logs endpoint's policy). The agent cannot tell "
            "the group exists, and the session runs without its log."
        ),
        agent_log=(
            "ERROR [ssm-session-worker] Error Calling DescribeLogGroups:AccessDeniedException: "
            "User: arn:aws:sts::111122223333:assumed-role/ROLE/i-0123456789abcdef0 is not "
            "authorized to perform: logs:DescribeLogGroups"
        ),
        log_labels=(),  # outside the contract's labels: the log shows it as unrecognized
        fix=(
            "The plan's InstanceRoleStack adds a statement for the log group to the role "
            "(logs:DescribeLogGroups on every group, the three stream actions on this one), or "
            "change the statement that denies them: `aws iam put-role-policy --role-name ROLE "
            "--policy-name ssm-session-logs --policy-document file://logs.json`. New sessions "
            "pick the change up: no agent restart is needed."
        ),
        stack="InstanceRoleStack",
    ),
    FindingKind(
        code="OPERATOR_CANNOT_START_SESSION",
        category="session_manager",
        severity="error",
        title="This principal may not start a session on the instance",
        meaning=(
            "The IAM role or user given with --operator may not call ssm:StartSession on the "
            "instance (resource-tag conditions are evaluated with the instance's tags) or on the "
            "default session document SSM-SessionManagerRunShell, which AWS checks for a shell "
            "session; or Run As is on and the principal has no SSMSessionRunAs tag while the "
            "preferences name no default user. The person sees AccessDeniedException."
        ),
        agent_log="",
        log_labels=(),
        fix=(
            "Allow ssm:StartSession on the instance and on "
            "arn:aws:ssm:REGION:ACCOUNT:document/SSM-SessionManagerRunShell to the principal "
            "(AWS's quickstart end user policy), or change the statement that denies it: `aws "
            "iam put-role-policy --role-name ROLE --policy-name session-access "
            "--policy-document file://start-session.json`. Nothing changes on the instance."
        ),
        stack=None,
    ),
    FindingKind(
        code="OPERATOR_KMS_DENIED",
        category="session_manager",
        severity="error",
        title="This principal may not generate the session's data key",
        meaning=(
            "The preferences encrypt sessions with a KMS key, and the principal given with "
            "--operator may not call kms:GenerateDataKey on it (key policy and identity policy "
            "both decide, as for the instance's kms:Decrypt): its sessions fail at the start "
            "even though ssm:StartSession is allowed."
        ),
        agent_log="",
        log_labels=(),
        fix=(
            "Allow kms:GenerateDataKey on the key to the principal (`aws iam put-role-policy "
            "--role-name ROLE --policy-name session-kms --policy-document file://kms.json`) "
            "and make sure the key policy lets it in (" + _command("review_key_policy")
            + "). Nothing changes on the instance."
        ),
        stack=None,
    ),
    FindingKind(
        code="PATCH_S3_UNREACHABLE",
        category="patching",
        severity="error",
        title="Patching cannot reach AWS's regional S3 buckets",
        meaning=(
            "Patch Manager, inventory, Distributor and agent updates fetch documents, baselines "
            "and packages from AWS-owned buckets of the region (aws-ssm-REGION, "
            "patch-baseline-snapshot-REGION, REGION-birdwatcher-prod and others); S3 cannot be "
            "reached from this instance: no gateway endpoint route, no S3 interface endpoint "
            "and no way out, or a rule blocking TCP 443 to S3's addresses. Patching and "
            "Distributor commands fail though Run Command works."
        ),
        agent_log=(
            "ERROR [ssm-document-worker] failed to download file from "
            "https://s3.REGION.amazonaws.com/aws-ssm-REGION/... RequestError: send request failed"
        ),
        log_labels=("endpoint_unreachable",),
        fix=(
            "Give the instance's route table an S3 gateway endpoint (the plan's EndpointsStack "
            "adds one; an existing one takes the table with "
            + _command("add_gateway_endpoint_route") + "), or open the rule the finding names. "
            "The next patching run picks the change up: no agent restart is needed."
        ),
        stack="EndpointsStack",
        manual_step="add_gateway_endpoint_route",
    ),
    FindingKind(
        code="PATCH_S3_DENIED",
        category="patching",
        severity="error",
        title="A guardrail refuses reads from AWS's regional S3 buckets",
        meaning=(
            "s3:GetObject on AWS's regional buckets is refused on the way: a restrictive S3 "
            "endpoint policy, a data-perimeter SCP or permissions boundary, or an explicit deny "
            "in the role's policies (for example a condition on aws:ResourceAccount that names "
            "only your accounts). Through a VPC endpoint AWS also requires the role to allow "
            "those reads explicitly. The finding lists the buckets and the deciding statement."
        ),
        agent_log=(
            "ERROR [ssm-document-worker] failed to download file from "
            "https://s3.REGION.amazonaws.com/aws-ssm-REGION/... AccessDenied: Access Denied"
        ),
        log_labels=(),  # outside the contract's labels: the log shows it as unrecognized
        fix=(
            "Let s3:GetObject on arn:aws:s3:::aws-ssm-REGION/* and the other AWS buckets "
            "(docs/FINDINGS.md lists them) through: add them to the endpoint policy or the "
            "perimeter's exceptions (`aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-... "
            "--policy-document file://s3-endpoint.json`); the plan's InstanceRoleStack adds the "
            "role's allow when that is what is missing. The next patching run picks the change "
            "up: no agent restart is needed."
        ),
        stack="InstanceRoleStack",
    ),
)


def _index(kinds: tuple[FindingKind, ...]) -> dict[str, FindingKind]:
    catalogue: dict[str, FindingKind] = {}
    for item in kinds:
        if item.code in catalogue:
            raise ValueError(f"finding code {item.code!r} is defined twice")
        catalogue[item.code] = item
    return catalogue


CATALOGUE: dict[str, FindingKind] = _index(_KINDS)


def severity_rank(severity: str) -> int:
    """Where a severity sorts: the most severe first, an unknown one last."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def kind(code: str) -> FindingKind:
    """The catalogue entry for `code`; KeyError naming the code when it is unknown."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise KeyError(
            f"unknown finding code {code!r}: not in auditor.catalogue.CATALOGUE "
            f"({len(CATALOGUE)} codes; see docs/FINDINGS.md)"
        ) from None
