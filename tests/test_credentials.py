"""The credential chain as the agent walks it, table-driven on model objects."""

from __future__ import annotations

import json

import pytest

from auditor.analysis import credentials
from auditor.analysis.results import REACHABLE, UNKNOWN, ServiceProof
from auditor.aws_facts import DHMC_SETTING_ID, SERVICES
from auditor.model import (
    Estate,
    Instance,
    InstanceProfile,
    ManagedNode,
    ManagedPolicy,
    MetadataOptions,
    Role,
    ServiceSetting,
    VpcEndpoint,
)

ACCOUNT = "111122223333"
REGION = "eu-west-1"
CORE_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
DHMC_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"
AGENT_ACTIONS = [
    "ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel", "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint",
    "ec2messages:GetMessages", "ec2messages:SendReply"]


def allow(actions, resource="*", sid=None, condition=None) -> dict:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource}
    if sid:
        statement["Sid"] = sid
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def deny(actions, sid) -> dict:
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": "*"}]}


def trusts(service: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def role(name: str, trust: str = "ec2.amazonaws.com", inline=None, attached=(CORE_ARN,),
         boundary=None) -> Role:
    return Role(name, f"arn:aws:iam::{ACCOUNT}:role/{name}", trusts(trust), inline or {},
                list(attached), boundary)


def estate_with(*roles: Role, profiles=None, dhmc: str | None = None,
                policies=None, nodes=None) -> Estate:
    estate = Estate(REGION, ACCOUNT)
    estate.roles = {r.name: r for r in roles}
    estate.managed_policies = {
        CORE_ARN: ManagedPolicy(CORE_ARN, "AmazonSSMManagedInstanceCore",
                                allow(AGENT_ACTIONS), aws_managed=True),
        DHMC_POLICY_ARN: ManagedPolicy(DHMC_POLICY_ARN, "AmazonSSMManagedEC2InstanceDefaultPolicy",
                                       allow(AGENT_ACTIONS), aws_managed=True),
        **(policies or {})}
    for profile_name, role_names in (profiles or {}).items():
        arn = f"arn:aws:iam::{ACCOUNT}:instance-profile/{profile_name}"
        estate.instance_profiles[arn] = InstanceProfile(profile_name, arn, list(role_names))
    estate.default_host_management = ServiceSetting(DHMC_SETTING_ID, dhmc)
    estate.managed_nodes = nodes or {}
    return estate


def instance(profile: str | None = "app", tokens: str = "required") -> Instance:
    arn = f"arn:aws:iam::{ACCOUNT}:instance-profile/{profile}" if profile else None
    return Instance("i-0abc", "running", "subnet-1", "vpc-1", "10.0.0.5", None, ["sg-1"], [],
                    instance_profile_arn=arn, metadata=MetadataOptions(http_tokens=tokens),
                    tags={"team": "blue"}, region=REGION)


def services(via: str = "nat_gateway", endpoint_id: str | None = None,
             status: str = REACHABLE) -> dict[str, ServiceProof]:
    return {name: ServiceProof(name, status, via, f"{name}.{REGION}.amazonaws.com", "x",
                               endpoint_id=endpoint_id) for name in SERVICES}


def run(estate: Estate, target: Instance | None = None, proofs=None, imds="ok", agent=""):
    return credentials.evaluate(estate, target or instance(), proofs or services(), imds, agent)


def codes(result) -> list[tuple[str, str]]:
    return [(f.code, f.severity) for f in result.findings + result.permissions.findings]


DHMC_ROLE = role("AWSSystemsManagerDefaultEC2InstanceManagementRole", trust="ssm.amazonaws.com",
                 attached=(DHMC_POLICY_ARN,))
DHMC_VALUE = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"


def test_instance_profile_with_core_policy_is_all_clear():
    result = run(estate_with(role("app-role"), profiles={"app": ["app-role"]}))
    assert (result.status, result.source) == ("ok", "instance_profile")
    assert result.role_arn == f"arn:aws:iam::{ACCOUNT}:role/app-role"
    assert result.permissions.status == "ok"
    assert result.permissions.by_service == {"ssm": "ok", "ssmmessages": "ok",
                                             "ec2messages": "ok"}
    assert codes(result) == []


@pytest.mark.parametrize(("estate", "target", "status", "source", "expected"), [
    pytest.param(estate_with(), instance(None), "fail", "none",
                 [("NO_INSTANCE_PROFILE", "error"), ("DHMC_DISABLED", "error")],
                 id="no-profile-no-dhmc"),
    pytest.param(estate_with(DHMC_ROLE, dhmc=DHMC_VALUE), instance(None), "ok", "dhmc",
                 [("NO_INSTANCE_PROFILE", "info")], id="no-profile-dhmc-works"),
    pytest.param(estate_with(DHMC_ROLE, dhmc=DHMC_VALUE), instance(None, tokens="optional"),
                 "fail", "none",
                 [("NO_INSTANCE_PROFILE", "error"), ("DHMC_REQUIRES_IMDSV2", "error")],
                 id="dhmc-needs-imdsv2"),
    pytest.param(estate_with(role("AWSSystemsManagerDefaultEC2InstanceManagementRole"),
                             dhmc=DHMC_VALUE), instance(None), "fail", "none",
                 [("NO_INSTANCE_PROFILE", "error"), ("DHMC_ROLE_INVALID", "error")],
                 id="dhmc-role-trusts-ec2-not-ssm"),
    pytest.param(estate_with(dhmc=DHMC_VALUE), instance(None), "fail", "none",
                 [("NO_INSTANCE_PROFILE", "error"), ("DHMC_ROLE_INVALID", "error")],
                 id="dhmc-role-missing"),
    pytest.param(estate_with(), instance("orphan"), "fail", "none",
                 [("INSTANCE_PROFILE_WITHOUT_ROLE", "error"), ("DHMC_DISABLED", "error")],
                 id="profile-without-role"),
    pytest.param(estate_with(role("app-role", trust="lambda.amazonaws.com"),
                             profiles={"app": ["app-role"]}), instance(), "fail", "none",
                 [("TRUST_POLICY_DENIES_EC2", "error"), ("DHMC_DISABLED", "error")],
                 id="trust-denies-ec2"),
    pytest.param(estate_with(role("app-role", trust="lambda.amazonaws.com"), DHMC_ROLE,
                             profiles={"app": ["app-role"]}, dhmc=DHMC_VALUE), instance(),
                 "ok", "dhmc", [("TRUST_POLICY_DENIES_EC2", "info")],
                 id="trust-denies-ec2-dhmc-rescues"),
])
def test_the_chain(estate, target, status, source, expected):
    result = run(estate, target)
    assert (result.status, result.source) == (status, source)
    assert codes(result) == expected


def test_profile_without_heartbeat_falls_back_and_stays_refused_without_dhmc():
    app = role("app-role", attached=(), inline={"channel-only": allow(AGENT_ACTIONS[1:])})
    result = run(estate_with(app, profiles={"app": ["app-role"]}))
    assert (result.status, result.source) == ("ok", "instance_profile")
    assert result.permissions.status == "fail"
    assert result.permissions.missing_actions == ["ssm:UpdateInstanceInformation"]
    assert ("MISSING_PERMISSIONS", "error") in codes(result)
    assert ("DHMC_DISABLED", "warning") in codes(result)
    assert "AccessDenied" in " ".join(result.chain)


def test_profile_without_heartbeat_falls_back_to_dhmc():
    app = role("app-role", attached=(), inline={"channel-only": allow(AGENT_ACTIONS[1:])})
    result = run(estate_with(app, DHMC_ROLE, profiles={"app": ["app-role"]}, dhmc=DHMC_VALUE))
    assert (result.status, result.source) == ("ok", "dhmc")
    assert result.permissions.status == "ok"
    assert ("MISSING_PERMISSIONS", "info") in codes(result)


def test_explicit_deny_names_the_statement():
    app = role("app-role", inline={"lockdown": deny("ssm:UpdateInstanceInformation",
                                                     "DenyHeartbeat")})
    result = run(estate_with(app, profiles={"app": ["app-role"]}))
    assert result.permissions.status == "fail"
    [finding] = [f for f in result.permissions.findings if f.code == "EXPLICIT_DENY"]
    assert 'statement "DenyHeartbeat" of inline policy lockdown on role app-role' in \
        finding.message
    assert finding.service == "ssm"


def test_a_boundary_that_grants_nothing_for_ssm_denies():
    boundary_arn = f"arn:aws:iam::{ACCOUNT}:policy/s3-only"
    app = role("app-role", boundary=boundary_arn)
    estate = estate_with(app, profiles={"app": ["app-role"]}, policies={
        boundary_arn: ManagedPolicy(boundary_arn, "s3-only", allow("s3:*"))})
    result = run(estate)
    assert result.permissions.status == "fail"
    assert {f.code for f in result.permissions.findings} == {"PERMISSIONS_BOUNDARY_DENIES"}


def test_endpoint_policy_that_denies_the_heartbeat():
    estate = estate_with(role("app-role"), profiles={"app": ["app-role"]})
    estate.vpc_endpoints["vpce-1"] = VpcEndpoint(
        "vpce-1", "vpc-1", f"com.amazonaws.{REGION}.ssm", "Interface", "available", True,
        policy_document=json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "ssm:GetParameter",
             "Resource": "*"}]}))
    proofs = services()
    proofs["ssm"] = ServiceProof("ssm", REACHABLE, "interface_endpoint", "ssm", "x",
                                 endpoint_id="vpce-1")
    result = run(estate, proofs=proofs)
    assert result.permissions.by_service["ssm"] == "fail"
    assert {f.code for f in result.permissions.findings} == {"ENDPOINT_POLICY_DENIES"}


def test_a_condition_the_auditor_cannot_know_is_unknown_never_allowed():
    app = role("app-role", attached=(), inline={"org-only": allow(
        AGENT_ACTIONS, condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})})
    result = run(estate_with(app, profiles={"app": ["app-role"]}))
    assert result.permissions.status == "unknown"
    assert {f.code for f in result.permissions.findings} == {"CONDITION_NOT_EVALUATED"}


def test_one_channel_is_enough():
    app = role("app-role", attached=(), inline={"no-ssmmessages": allow(
        ["ssm:UpdateInstanceInformation", "ec2messages:*"])})
    result = run(estate_with(app, profiles={"app": ["app-role"]}))
    assert result.permissions.by_service == {"ssm": "ok", "ssmmessages": "fail",
                                             "ec2messages": "ok"}
    assert result.permissions.status == "ok"
    # The preferred channel (and Session Manager) is lost: worth a warning, not a blocker.
    [finding] = result.permissions.findings
    assert (finding.code, finding.severity, finding.service) == (
        "MISSING_PERMISSIONS", "warning", "ssmmessages")
    assert finding.details["actions"] == ["ssmmessages:CreateControlChannel",
                                          "ssmmessages:OpenControlChannel"]


def test_ssm_wildcard_does_not_grant_ssmmessages():
    app = role("app-role", attached=(), inline={"ssm-star": allow("ssm:*")})
    result = run(estate_with(app, profiles={"app": ["app-role"]}))
    assert result.permissions.by_service["ssm"] == "ok"
    assert result.permissions.status == "fail"  # no message channel is allowed
    assert {(f.service, f.severity) for f in result.permissions.findings} == {
        ("ssmmessages", "error"), ("ec2messages", "error")}


@pytest.mark.parametrize("broken", ["iam", "managed-policy", "malformed"])
def test_unreadable_iam_is_unknown(broken):
    app = role("app-role")
    estate = estate_with(app, profiles={"app": ["app-role"]})
    if broken == "iam":
        estate.unavailable["iam_authorization"] = "AccessDenied: not authorized"
    elif broken == "managed-policy":
        estate.managed_policies[CORE_ARN].document = None
    else:
        app.inline_policies["garbage"] = {"Statement": [{"Effect": "Maybe"}]}
    result = run(estate)
    assert UNKNOWN in (result.status, result.permissions.status)
    assert result.permissions.status != "ok"


def test_metadata_service_off_leaves_no_credentials():
    result = run(estate_with(role("app-role"), profiles={"app": ["app-role"]}), imds="fail")
    assert (result.status, result.source) == ("fail", "none")


def test_dhmc_needs_a_recent_agent():
    nodes = {"i-0abc": ManagedNode("i-0abc", "ConnectionLost", "3.1.1004.0", False)}
    estate = estate_with(DHMC_ROLE, dhmc=DHMC_VALUE, nodes=nodes)
    result = run(estate, instance(None), agent="3.1.1004.0")
    assert result.status == "fail"
    assert ("AGENT_OUTDATED", "error") in codes(result)


def test_shared_answers_never_cross_instances_a_policy_tells_apart():
    one = instance()
    other = Instance("i-0def", "running", "subnet-1", "vpc-1", "10.0.0.6", None, ["sg-1"], [],
                     instance_profile_arn=one.instance_profile_arn,
                     metadata=MetadataOptions(http_tokens="required"), region=REGION)
    only_one = allow("ssm:UpdateInstanceInformation",
                     resource=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{one.instance_id}")
    channel = allow(AGENT_ACTIONS[1:])
    app = role("app-role", attached=(), inline={"one-instance": only_one, "channel": channel})
    estate = estate_with(app, profiles={"app": ["app-role"]})
    memo: dict = {}
    first = credentials.evaluate(estate, one, services(), "ok", memo=memo)
    second = credentials.evaluate(estate, other, services(), "ok", memo=memo)
    assert first.permissions.status == "ok"
    assert second.permissions.missing_actions == ["ssm:UpdateInstanceInformation"]


def test_shared_answers_are_shared_when_no_policy_tells_instances_apart():
    estate = estate_with(role("app-role"), profiles={"app": ["app-role"]})
    memo: dict = {}
    first = credentials.evaluate(estate, instance(), services(), "ok", memo=memo)
    second = credentials.evaluate(estate, instance(), services(), "ok", memo=memo)
    assert first.permissions is second.permissions
