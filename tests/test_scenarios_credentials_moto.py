"""Credential, permission and metadata scenarios built in moto, audited through the public entry
point from the live source.

Like tests/test_scenarios_moto.py, each test seeds an estate with boto3 inside ``mock_aws`` and
runs ``auditor.cli.main(["--instance", ID, "--region", "us-east-1", "--format", "json"])``. The
network is healthy unless a test says otherwise (an instance with a public address in the public
subnet: all three services through the internet gateway), so every finding here is about the
metadata service, the agent's credential chain, its permissions, or Systems Manager's own view.
Each test checks the verdict, the exit status, ``credentials`` (status, source),
``permissions`` (status, missing_actions) and every finding as (code, service, resource_id,
severity).

moto gaps, and where the tests seed around them:
- GetServiceSetting and DescribeInstanceInformation are not implemented (NotImplementedError):
  ``ssm`` below answers them with ``stub_ssm`` (a botocore before-call handler, see
  tests/moto_estate.py). Unstubbed, the auditor records them as unreadable, which is what
  ``test_ssm_view_unreadable_is_unknown_not_unregistered`` checks.
- AWS managed policies are not loaded: ``seed_aws_managed_policy`` seeds the two the tests attach
  (AmazonSSMManagedInstanceCore, AmazonSSMManagedEC2InstanceDefaultPolicy).
- Service control policies: read from moto's Organizations through the command line in
  tests/test_service_control_policies.py; here ``test_scp_denies_unit_style`` also sets them on
  the model directly before ``auditor.audit.run_audit``, to pin the evaluation on its own.
- ModifyInstanceMetadataOptions: moto's answer to DescribeInstances then omits HttpEndpoint
  (the parser reads it as "enabled", AWS's default); nothing to seed for these scenarios.
What moto does produce is used as is: roles with paths, trust policies, inline and attached
policies, permissions boundaries, instance profiles (with and without a role), the metadata
options of instances, and the PolicyDocument of an interface endpoint (stored on
CreateVpcEndpoint and returned by DescribeVpcEndpoints).

These scenarios found three bugs, now fixed: a Deny in an SCP, boundary or endpoint policy was
coded EXPLICIT_DENY; a refused heartbeat with an unreadable DHMC setting was not_manageable
instead of unknown; an agent older than 3.3.40.0 refused on ec2messages looked permitted.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from auditor.audit import run_audit
from auditor.sources.description import SourceDescription
from auditor.sources.live import collect
from auditor.sources.parse import build_estate
from tests.moto_estate import (
    HTTPS,
    REGION,
    SERVICES,
    AgentRole,
    MotoVpc,
    agent_role,
    audit,
    dhmc_setting,
    managed_node,
    seed_aws_managed_policy,
    stub_ssm,
    trusting,
)

EXIT_OK, EXIT_NOT_MANAGEABLE, EXIT_UNKNOWN = 0, 1, 3  # the contract's exit statuses

HEARTBEAT = ["ssm:UpdateInstanceInformation"]
SSMMESSAGES = ["ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel"]
# What the agent's message client calls (agent/runcommand/mds/service.go): not GetEndpoint.
EC2MESSAGES = ["ec2messages:GetMessages", "ec2messages:AcknowledgeMessage",
               "ec2messages:SendReply", "ec2messages:DeleteMessage",
               "ec2messages:FailMessage"]
AGENT_ACTIONS = HEARTBEAT + SSMMESSAGES + EC2MESSAGES

DHMC_ROLE = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
DHMC_SETTING = "/ssm/managed-instance/default-ec2-instance-management-role"
ORG_CONDITION = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}

pytestmark = pytest.mark.usefixtures("fake_aws", "shared_botocore_loader")


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: list[str], sid: str | None = None, **more: Any) -> dict:
    return {**({"Sid": sid} if sid else {}), "Effect": "Allow", "Action": actions,
            "Resource": "*", **more}


def deny(actions: list[str], sid: str) -> dict:
    return {"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": "*"}


# --- Environment and estate ------------------------------------------------------------------


@pytest.fixture
def iam(vpc: MotoVpc) -> Any:
    return boto3.client("iam", region_name=REGION)


def public_instance(vpc: MotoVpc, role: AgentRole | None = None, *, profile: bool = True,
                    profile_arn: str | None = None) -> str:
    """An instance with a healthy network path (internet gateway, public address): with the
    instance profile of ``role``, ``profile_arn``, MotoVpc's agent-role (Core) by default, or
    none (``profile=False``)."""
    return vpc.instance(vpc.public_subnet, public_ip=True, profile=profile,
                        profile_arn=profile_arn or (role.profile_arn if role else None))


def ssm(monkeypatch: pytest.MonkeyPatch, *, dhmc: str | None = None,
        nodes: list[dict] | None = None) -> None:
    """Systems Manager answers from now on (moto implements neither call): the Default Host
    Management setting names ``dhmc`` (None: the setting was never set, ServiceSettingNotFound),
    and DescribeInstanceInformation lists ``nodes``."""
    stub_ssm(monkeypatch, dhmc_setting(dhmc) if dhmc is not None else None, nodes or [])


def online(instance_id: str, **node: Any) -> list[dict]:
    """Systems Manager sees the instance Online with the latest agent: no SSM-view finding."""
    return [managed_node(instance_id, **node)]


def dhmc_role(iam: Any, trust: dict | None = None) -> AgentRole:
    """The role Default Host Management hands out, as the console's quick setup makes it."""
    default_policy = seed_aws_managed_policy("AmazonSSMManagedEC2InstanceDefaultPolicy")
    return agent_role(iam, DHMC_ROLE, trust or trusting("ssm.amazonaws.com"),
                      managed=[default_policy], path="/service-role/", profile=False)


def require_imdsv2(vpc: MotoVpc, instance_id: str) -> None:
    vpc.ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="required")


# --- Running the auditor and reading its answer ----------------------------------------------


Findings = set[tuple[str, str | None, str, str]]


def findings_of(instance: dict) -> Findings:
    """{(code, service, resource_id, severity)}."""
    return {(f["code"], f["service"], f["resource_id"], f["severity"])
            for f in instance["findings"]}


def finding(instance: dict, code: str, service: str | None = None) -> dict:
    [found] = [f for f in instance["findings"]
               if f["code"] == code and (service is None or f["service"] == service)]
    return found


def assert_audit(capsys: pytest.CaptureFixture, instance_id: str, *, verdict: str,
                 exit_code: int, credentials: tuple[str, str],
                 permissions: tuple[str, list[str]], findings: Findings,
                 services: tuple[str, ...] = SERVICES) -> dict:
    """Everything the contract promises about the instance's credentials and permissions.

    ``services``: those whose network path must be reachable (the rest are the test's)."""
    code, instance = audit(capsys, instance_id)
    assert findings_of(instance) == findings
    assert (instance["credentials"]["status"], instance["credentials"]["source"]) == credentials
    assert (instance["permissions"]["status"],
            instance["permissions"]["missing_actions"]) == permissions
    for service in services:
        assert instance["services"][service]["status"] == "reachable", service
    assert instance["verdict"] == verdict
    assert code == exit_code
    return instance


# --- Healthy: the instance profile, or Default Host Management -------------------------------


@pytest.mark.parametrize("grant", ["core_managed_policy", "inline_policy"])
def test_healthy_via_instance_profile(capsys, vpc: MotoVpc, iam, grant: str) -> None:
    if grant == "core_managed_policy":  # MotoVpc's agent-role: Core attached, boundary, tags
        instance_id = public_instance(vpc)
    else:
        role = agent_role(iam, "app-role", inline={"agent": policy(allow(AGENT_ACTIONS))})
        instance_id = public_instance(vpc, role)

    instance = assert_audit(capsys, instance_id, verdict="manageable", exit_code=EXIT_OK,
                            credentials=("ok", "instance_profile"), permissions=("ok", []),
                            findings=set())
    assert instance["imds"]["status"] == "ok"
    assert instance["credentials"]["role"].endswith(
        ":role/agent-role" if grant == "core_managed_policy" else ":role/app-role")
    # Systems Manager's view was not stubbed: moto refuses it, and the profile needs no DHMC.
    assert instance["ssm_view"]["status"] == "unknown"


@pytest.mark.parametrize("profile_fails", ["no_profile", "profile_without_role",
                                           "role_not_trusting_ec2", "heartbeat_denied"])
def test_healthy_via_default_host_management(capsys, vpc: MotoVpc, iam, monkeypatch,
                                             profile_fails: str) -> None:
    """The agent falls back to DHMC after each failure of the profile; the profile's problem is
    still reported, as info."""
    dhmc = dhmc_role(iam)
    if profile_fails == "no_profile":
        instance_id = public_instance(vpc, profile=False)
        expected = ("NO_INSTANCE_PROFILE", None, instance_id, "info")
    elif profile_fails == "profile_without_role":
        instance_id = public_instance(vpc, profile_arn=vpc.iam.empty_profile_arn)
        expected = ("INSTANCE_PROFILE_WITHOUT_ROLE", None, vpc.iam.empty_profile_arn, "info")
    elif profile_fails == "role_not_trusting_ec2":
        role = agent_role(iam, "app-role", trusting("lambda.amazonaws.com"),
                          inline={"agent": policy(allow(AGENT_ACTIONS))})
        instance_id = public_instance(vpc, role)
        expected = ("TRUST_POLICY_DENIES_EC2", None, "app-role", "info")
    else:
        role = agent_role(iam, "app-role", inline={"lockdown": policy(
            allow(AGENT_ACTIONS), deny(HEARTBEAT, "DenyHeartbeat"))})
        instance_id = public_instance(vpc, role)
        expected = ("EXPLICIT_DENY", "ssm", "app-role", "info")
    require_imdsv2(vpc, instance_id)
    ssm(monkeypatch, dhmc=f"service-role/{DHMC_ROLE}", nodes=online(instance_id))

    instance = assert_audit(capsys, instance_id, verdict="manageable", exit_code=EXIT_OK,
                            credentials=("ok", "dhmc"), permissions=("ok", []),
                            findings={expected})
    assert instance["credentials"]["role"] == dhmc.arn
    assert instance["imds"]["http_tokens"] == "required"
    assert instance["ssm_view"]["status"] == "online"


# --- The instance profile fails, and Default Host Management does not rescue it ---------------


@pytest.mark.parametrize("setting", [None, "$None"], ids=["never_set", "reset"])
def test_no_instance_profile_and_dhmc_disabled(capsys, vpc: MotoVpc, monkeypatch,
                                               setting: str | None) -> None:
    instance_id = public_instance(vpc, profile=False)
    ssm(monkeypatch, dhmc=setting, nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("fail", "none"), permissions=("unknown", []),
        findings={("NO_INSTANCE_PROFILE", None, instance_id, "error"),
                  ("DHMC_DISABLED", None, DHMC_SETTING, "error")})
    assert REGION in finding(instance, "DHMC_DISABLED")["message"]


def test_instance_profile_without_role(capsys, vpc: MotoVpc, monkeypatch) -> None:
    instance_id = public_instance(vpc, profile_arn=vpc.iam.empty_profile_arn)
    ssm(monkeypatch, nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("fail", "none"), permissions=("unknown", []),
        findings={("INSTANCE_PROFILE_WITHOUT_ROLE", None, vpc.iam.empty_profile_arn, "error"),
                  ("DHMC_DISABLED", None, DHMC_SETTING, "error")})
    assert "agent-role-empty" in finding(instance, "INSTANCE_PROFILE_WITHOUT_ROLE")["message"]


def test_trust_policy_denies_ec2(capsys, vpc: MotoVpc, iam, monkeypatch) -> None:
    # The role carries everything the agent needs, but only Lambda may assume it.
    role = agent_role(iam, "app-role", trusting("lambda.amazonaws.com"),
                      managed=[vpc.iam.core_arn])
    instance_id = public_instance(vpc, role)
    ssm(monkeypatch, nodes=online(instance_id))

    assert_audit(capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
                 credentials=("fail", "none"), permissions=("unknown", []),
                 findings={("TRUST_POLICY_DENIES_EC2", None, "app-role", "error"),
                           ("DHMC_DISABLED", None, DHMC_SETTING, "error")})


# --- Permissions of the profile's role -------------------------------------------------------


def test_missing_permissions_everywhere(capsys, vpc: MotoVpc, iam, monkeypatch) -> None:
    role = agent_role(iam, "app-role", inline={"logs": policy(allow(["logs:PutLogEvents"]))})
    instance_id = public_instance(vpc, role)
    ssm(monkeypatch, nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("ok", "instance_profile"), permissions=("fail", AGENT_ACTIONS),
        findings={("MISSING_PERMISSIONS", service, "app-role", "error") for service in SERVICES}
        # The heartbeat is refused, so the agent tries DHMC, which is not configured.
        | {("DHMC_DISABLED", None, DHMC_SETTING, "warning")})
    for service, actions in (("ssm", HEARTBEAT), ("ssmmessages", SSMMESSAGES),
                             ("ec2messages", EC2MESSAGES)):
        assert finding(instance, "MISSING_PERMISSIONS", service)["details"]["actions"] == actions


@pytest.mark.parametrize(("granted", "missing", "severity"), [
    (HEARTBEAT + SSMMESSAGES, ("ec2messages", EC2MESSAGES), "info"),
    (HEARTBEAT + EC2MESSAGES, ("ssmmessages", SSMMESSAGES), "warning"),
], ids=["without_ec2messages", "without_ssmmessages"])
def test_missing_permissions_on_one_channel_leave_it_manageable(
        capsys, vpc: MotoVpc, iam, granted: list[str], missing: tuple[str, list[str]],
        severity: str) -> None:
    # One message channel suffices; the refused one is reported, not blocking. The heartbeat is
    # allowed, so the agent keeps the profile's credentials and never asks for DHMC.
    role = agent_role(iam, "app-role", inline={"agent": policy(allow(granted))})
    instance_id = public_instance(vpc, role)
    service, actions = missing

    instance = assert_audit(capsys, instance_id, verdict="manageable", exit_code=EXIT_OK,
                            credentials=("ok", "instance_profile"), permissions=("ok", actions),
                            findings={("MISSING_PERMISSIONS", service, "app-role", severity)})
    assert instance["permissions"]["by_service"] == {
        "ssm": "ok", "ssmmessages": "ok" if service != "ssmmessages" else "fail",
        "ec2messages": "ok" if service != "ec2messages" else "fail"}


def test_explicit_deny_names_statement_policy_and_role(capsys, vpc: MotoVpc, iam,
                                                       monkeypatch) -> None:
    role = agent_role(iam, "app-role", managed=[vpc.iam.core_arn], inline={
        "lockdown": policy(deny(HEARTBEAT, "DenyHeartbeat"))})
    instance_id = public_instance(vpc, role)
    ssm(monkeypatch, nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("ok", "instance_profile"), permissions=("fail", HEARTBEAT),
        findings={("EXPLICIT_DENY", "ssm", "app-role", "error"),
                  ("DHMC_DISABLED", None, DHMC_SETTING, "warning")})
    message = finding(instance, "EXPLICIT_DENY")["message"]
    assert 'statement "DenyHeartbeat" of inline policy lockdown on role app-role' in message
    assert "ssm:UpdateInstanceInformation" in message


@pytest.mark.parametrize("boundary", [
    policy(allow(["ssmmessages:*", "ec2messages:*"])),
    pytest.param(policy(allow(["*"]), deny(HEARTBEAT, "BoundaryNoHeartbeat"))),
], ids=["lacks_allow", "explicit_deny"])
def test_permissions_boundary_denies(capsys, vpc: MotoVpc, iam, monkeypatch,
                                     boundary: dict) -> None:
    # Core allows everything; the boundary does not let the heartbeat through.
    role = agent_role(iam, "app-role", managed=[vpc.iam.core_arn], boundary=boundary)
    instance_id = public_instance(vpc, role)
    ssm(monkeypatch, nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("ok", "instance_profile"), permissions=("fail", HEARTBEAT),
        findings={("PERMISSIONS_BOUNDARY_DENIES", "ssm", "app-role", "error"),
                  ("DHMC_DISABLED", None, DHMC_SETTING, "warning")})
    assert "app-role-boundary" in finding(instance, "PERMISSIONS_BOUNDARY_DENIES")["message"]


def test_condition_on_principal_org_id_is_not_evaluated(capsys, vpc: MotoVpc, iam) -> None:
    # Whether the account belongs to o-a1b2c3d4e5 is not something the auditor can see.
    role = agent_role(iam, "app-role", inline={"org-only": policy(
        allow(AGENT_ACTIONS, "OnlyInOrg", Condition=ORG_CONDITION))})
    instance_id = public_instance(vpc, role)

    instance = assert_audit(
        capsys, instance_id, verdict="unknown", exit_code=EXIT_UNKNOWN,
        credentials=("ok", "instance_profile"), permissions=("unknown", []),
        findings={("CONDITION_NOT_EVALUATED", service, "app-role", "warning")
                  for service in SERVICES})
    for service in SERVICES:
        found = finding(instance, "CONDITION_NOT_EVALUATED", service)
        assert found["details"]["conditions"]
        assert all("aws:PrincipalOrgID" in c for c in found["details"]["conditions"])
        assert '"OnlyInOrg"' in found["message"]


def test_condition_in_the_trust_policy_is_not_evaluated(capsys, vpc: MotoVpc, iam) -> None:
    # Confused-deputy protection on the trust policy: nothing says which account asks.
    trust = trusting("ec2.amazonaws.com")
    trust["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    role = agent_role(iam, "app-role", trust, managed=[vpc.iam.core_arn])
    instance_id = public_instance(vpc, role)

    instance = assert_audit(
        capsys, instance_id, verdict="unknown", exit_code=EXIT_UNKNOWN,
        credentials=("unknown", "instance_profile"), permissions=("unknown", []),
        findings={("CONDITION_NOT_EVALUATED", None, "app-role", "warning")})
    assert "aws:SourceAccount" in finding(instance, "CONDITION_NOT_EVALUATED")["message"]


def test_heartbeat_refused_and_dhmc_unreadable_is_unknown(capsys, vpc: MotoVpc, iam) -> None:
    # No stub: GetServiceSetting is refused (moto lacks it), so whether Default Host Management
    # rescues the refused profile cannot be known. README: DHMC is tried after AccessDenied.
    # The instance requires IMDSv2, so Default Host Management could serve it (with IMDSv1 it
    # could not, whatever the setting: that would be decided, not unknown).
    role = agent_role(iam, "app-role", managed=[vpc.iam.core_arn], inline={
        "lockdown": policy(deny(HEARTBEAT, "DenyHeartbeat"))})
    instance_id = public_instance(vpc, role)
    require_imdsv2(vpc, instance_id)

    assert_audit(capsys, instance_id, verdict="unknown", exit_code=EXIT_UNKNOWN,
                 credentials=("ok", "instance_profile"), permissions=("unknown", HEARTBEAT),
                 findings={("EXPLICIT_DENY", "ssm", "app-role", "error"),
                           ("DATA_UNAVAILABLE", None, DHMC_SETTING, "warning")})


# --- Default Host Management that cannot rescue the instance ---------------------------------


@pytest.mark.parametrize("role_state", ["missing", "trusts_ec2_only"])
def test_dhmc_role_invalid(capsys, vpc: MotoVpc, iam, monkeypatch, role_state: str) -> None:
    if role_state == "trusts_ec2_only":
        dhmc_role(iam, trusting("ec2.amazonaws.com"))
    instance_id = public_instance(vpc, profile=False)
    require_imdsv2(vpc, instance_id)
    ssm(monkeypatch, dhmc=f"service-role/{DHMC_ROLE}", nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("fail", "none"), permissions=("unknown", []),
        findings={("NO_INSTANCE_PROFILE", None, instance_id, "error"),
                  ("DHMC_ROLE_INVALID", None, DHMC_ROLE, "error")})
    message = finding(instance, "DHMC_ROLE_INVALID")["message"]
    assert ("does not exist" if role_state == "missing" else "ssm.amazonaws.com") in message


def test_dhmc_requires_imdsv2(capsys, vpc: MotoVpc, iam, monkeypatch) -> None:
    dhmc_role(iam)
    instance_id = public_instance(vpc, profile=False)  # moto's default: HttpTokens=optional
    ssm(monkeypatch, dhmc=f"service-role/{DHMC_ROLE}", nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("fail", "none"), permissions=("unknown", []),
        findings={("NO_INSTANCE_PROFILE", None, instance_id, "error"),
                  ("DHMC_REQUIRES_IMDSV2", None, instance_id, "error")})
    assert instance["imds"]["http_tokens"] == "optional"


def test_dhmc_needs_an_agent_that_knows_it(capsys, vpc: MotoVpc, iam, monkeypatch) -> None:
    # DHMC came with agent 3.2.582.0; Systems Manager reports this instance on 3.1.1080.0.
    dhmc_role(iam)
    instance_id = public_instance(vpc, profile=False)
    require_imdsv2(vpc, instance_id)
    ssm(monkeypatch, dhmc=f"service-role/{DHMC_ROLE}",
        nodes=online(instance_id, agent_version="3.1.1080.0", is_latest=False))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("fail", "none"), permissions=("unknown", []),
        findings={("NO_INSTANCE_PROFILE", None, instance_id, "error"),
                  ("AGENT_OUTDATED", None, instance_id, "error"),  # the chain: no DHMC
                  ("AGENT_OUTDATED", None, instance_id, "warning")})  # Systems Manager's view
    messages = [f["message"] for f in instance["findings"] if f["code"] == "AGENT_OUTDATED"]
    assert any("3.2.582.0" in message for message in messages)


# --- The metadata service and the endpoint policy --------------------------------------------


def test_imds_disabled(capsys, vpc: MotoVpc, monkeypatch) -> None:
    instance_id = public_instance(vpc)  # a perfectly good profile, out of reach
    vpc.ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpEndpoint="disabled")
    ssm(monkeypatch, nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("fail", "none"), permissions=("unknown", []),
        findings={("IMDS_DISABLED", None, instance_id, "error")})
    assert (instance["imds"]["status"], instance["imds"]["http_endpoint"]) == (
        "fail", "disabled")


def anyone(effect: str, action: str, sid: str | None = None) -> dict:
    """An endpoint policy statement for every principal."""
    return {**({"Sid": sid} if sid else {}), "Effect": effect, "Principal": "*",
            "Action": action, "Resource": "*"}


@pytest.mark.parametrize("endpoint_policy", [
    policy(anyone("Allow", "ssm:GetParameter")),
    pytest.param(policy(anyone("Allow", "*"),
                        anyone("Deny", "ssm:UpdateInstanceInformation", "NoHeartbeat"))),
], ids=["allows_only_get_parameter", "explicit_deny"])
def test_endpoint_policy_denies(capsys, vpc: MotoVpc, monkeypatch,
                                endpoint_policy: dict) -> None:
    # The ssm endpoint (private DNS) takes the heartbeat and its policy refuses it; the message
    # channels still leave through the internet gateway. moto keeps the PolicyDocument.
    [endpoint_id] = vpc.endpoints(("ssm",), policy=endpoint_policy).values()
    instance_id = public_instance(vpc)
    ssm(monkeypatch, nodes=online(instance_id))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("ok", "instance_profile"), permissions=("fail", HEARTBEAT),
        # The finding names the endpoint, whose policy is the thing to change.
        findings={("ENDPOINT_POLICY_DENIES", "ssm", endpoint_id, "error"),
                  ("DHMC_DISABLED", None, DHMC_SETTING, "warning")})
    assert instance["services"]["ssm"]["via"] == "interface_endpoint"
    assert endpoint_id in finding(instance, "ENDPOINT_POLICY_DENIES")["message"]


FULL_AWS_ACCESS = policy(allow(["*"], "FullAWSAccess"))


@pytest.mark.parametrize("ou_scp", [
    # An allow-list SCP that forgot Systems Manager.
    policy(allow(["ec2:*", "s3:*", "ssmmessages:*", "ec2messages:*"], "AllowListed")),
    pytest.param(policy(allow(["*"]), deny(HEARTBEAT, "NoSsmHeartbeat"))),
], ids=["allow_list_without_ssm", "explicit_deny"])
def test_scp_denies_unit_style(vpc: MotoVpc, monkeypatch, ou_scp: dict) -> None:
    """UNIT-STYLE, not through the command line (tests/test_service_control_policies.py goes
    through it with moto's Organizations): the evaluation of SCP levels on its own. The estate is
    collected from moto as the command line would, then given SCPs (root: FullAWSAccess; the
    account's OU: ``ou_scp``) before ``auditor.audit.run_audit``."""
    instance_id = public_instance(vpc)
    ssm(monkeypatch, nodes=online(instance_id))
    [estate] = [build_estate(raw, [instance_id]) for raw in collect([REGION], None, [instance_id])]
    assert estate.service_control_policies == []  # moto's account is in no organization
    estate.service_control_policies = [[FULL_AWS_ACCESS], [ou_scp]]

    report = run_audit([estate], [instance_id], SourceDescription("aws"))

    [audit_] = report.instances
    assert (audit_.verdict, report.exit_code()) == ("not_manageable", EXIT_NOT_MANAGEABLE)
    assert (audit_.credentials.status, audit_.credentials.source) == (
        "ok", "instance_profile")
    assert (audit_.permissions.status, audit_.permissions.missing_actions) == (
        "fail", HEARTBEAT)
    assert {(f.code, f.service, f.resource_id, f.severity) for f in audit_.findings
            if not f.capability} == {
        ("SCP_DENIES", "ssm", "agent-role", "error"),
        ("DHMC_DISABLED", None, DHMC_SETTING, "warning")}
    [scp] = [f for f in audit_.findings if f.code == "SCP_DENIES"]
    assert "ssm:UpdateInstanceInformation" in scp.message
    assert "SCP" in scp.message


# --- What Systems Manager itself reports ------------------------------------------------------


def test_not_registered_although_manageable(capsys, vpc: MotoVpc, monkeypatch) -> None:
    instance_id = public_instance(vpc)
    ssm(monkeypatch, nodes=[])  # Systems Manager has never heard of it

    instance = assert_audit(capsys, instance_id, verdict="manageable", exit_code=EXIT_OK,
                            credentials=("ok", "instance_profile"), permissions=("ok", []),
                            findings={("NOT_REGISTERED", None, instance_id, "warning")})
    assert instance["ssm_view"]["status"] == "not_registered"
    message = finding(instance, "NOT_REGISTERED")["message"]
    for what_to_check in ("amazon-ssm-agent", "proxy", "firewall", "clock", "hibernation"):
        assert what_to_check in message


def test_connection_lost_although_manageable(capsys, vpc: MotoVpc, monkeypatch) -> None:
    instance_id = public_instance(vpc)
    ssm(monkeypatch, nodes=online(instance_id, ping_status="ConnectionLost"))

    instance = assert_audit(capsys, instance_id, verdict="manageable", exit_code=EXIT_OK,
                            credentials=("ok", "instance_profile"), permissions=("ok", []),
                            findings={("CONNECTION_LOST", None, instance_id, "warning")})
    assert instance["ssm_view"]["status"] == "connection_lost"
    assert "amazon-ssm-agent" in finding(instance, "CONNECTION_LOST")["message"]


def test_connection_lost_explained_by_the_model(capsys, vpc: MotoVpc, monkeypatch) -> None:
    instance_id = public_instance(vpc, profile=False)
    ssm(monkeypatch, nodes=online(instance_id, ping_status="ConnectionLost"))

    instance = assert_audit(
        capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
        credentials=("fail", "none"), permissions=("unknown", []),
        findings={("NO_INSTANCE_PROFILE", None, instance_id, "error"),
                  ("DHMC_DISABLED", None, DHMC_SETTING, "error"),
                  ("CONNECTION_LOST", None, instance_id, "info")})
    assert "amazon-ssm-agent" not in finding(instance, "CONNECTION_LOST")["message"]


def test_agent_not_the_latest(capsys, vpc: MotoVpc, monkeypatch) -> None:
    instance_id = public_instance(vpc)
    ssm(monkeypatch, nodes=online(instance_id, agent_version="3.3.987.0", is_latest=False))

    instance = assert_audit(capsys, instance_id, verdict="manageable", exit_code=EXIT_OK,
                            credentials=("ok", "instance_profile"), permissions=("ok", []),
                            findings={("AGENT_OUTDATED", None, instance_id, "warning")})
    assert finding(instance, "AGENT_OUTDATED")["details"] == {"agent_version": "3.3.987.0"}


CURRENT_AGENT, PRE_SSMMESSAGES_AGENT = "3.3.1142.0", "3.2.923.0"  # ssmmessages from 3.3.40.0


@pytest.mark.parametrize(("agent", "verdict", "exit_code"), [
    (CURRENT_AGENT, "manageable", EXIT_OK),
    (PRE_SSMMESSAGES_AGENT, "not_manageable", EXIT_NOT_MANAGEABLE),
])
def test_agent_before_ssmmessages_has_only_ec2messages(capsys, vpc: MotoVpc, monkeypatch,
                                                       agent: str, verdict: str,
                                                       exit_code: int) -> None:
    """ssm and ssmmessages have interface endpoints; ec2messages resolves publicly, and the
    instance's SG lets HTTPS out only inside the VPC. A current agent works over ssmmessages;
    one older than 3.3.40.0 knows only ec2messages, which the SG blocks."""
    vpc.endpoints(("ssm", "ssmmessages"))  # their SG admits the instance SG
    vpc.restrict_egress(vpc.instance_sg, [{**HTTPS, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    instance_id = public_instance(vpc)
    old = agent == PRE_SSMMESSAGES_AGENT
    ssm(monkeypatch, nodes=online(instance_id, agent_version=agent, is_latest=not old))

    instance = assert_audit(
        capsys, instance_id, verdict=verdict, exit_code=exit_code,
        credentials=("ok", "instance_profile"), permissions=("ok", []),
        services=("ssm", "ssmmessages"),
        # On a manageable instance the blocked fallback channel is only a warning.
        findings={("SG_EGRESS_BLOCKS", "ec2messages", vpc.instance_sg,
                   "error" if old else "warning")}
        | ({("AGENT_OUTDATED", None, instance_id, "warning")} if old else set()))
    assert instance["services"]["ec2messages"]["status"] == "blocked"
    if old:
        assert "ssmmessages channel (3.3.40.0)" in finding(instance, "AGENT_OUTDATED")["message"]
        assert instance["verdict_reasons"] == [
            "no message channel (ec2messages) is both reachable and allowed"]


def test_agent_before_ssmmessages_refused_ec2messages(capsys, vpc: MotoVpc, iam,
                                                      monkeypatch) -> None:
    # The permission twin of the test above: ec2messages is reachable but not allowed.
    role = agent_role(iam, "app-role", inline={"agent": policy(allow(HEARTBEAT + SSMMESSAGES))})
    instance_id = public_instance(vpc, role)
    ssm(monkeypatch, nodes=online(instance_id, agent_version=PRE_SSMMESSAGES_AGENT,
                                  is_latest=False))

    assert_audit(capsys, instance_id, verdict="not_manageable", exit_code=EXIT_NOT_MANAGEABLE,
                 credentials=("ok", "instance_profile"), permissions=("fail", EC2MESSAGES),
                 findings={("MISSING_PERMISSIONS", "ec2messages", "app-role", "error"),
                           ("AGENT_OUTDATED", None, instance_id, "warning")})


def test_ssm_view_unreadable_is_unknown_not_unregistered(capsys, vpc: MotoVpc) -> None:
    # No stub: moto refuses DescribeInstanceInformation. An API the auditor cannot call says
    # nothing about registration.
    instance_id = public_instance(vpc)

    instance = assert_audit(capsys, instance_id, verdict="manageable", exit_code=EXIT_OK,
                            credentials=("ok", "instance_profile"), permissions=("ok", []),
                            findings=set())
    assert instance["ssm_view"]["status"] == "unknown"
    assert "NotImplemented" in instance["ssm_view"]["reason"]
