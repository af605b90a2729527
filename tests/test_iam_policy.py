"""IAM policy evaluation: parsing, matching, the evaluation order, conditions and trust policies.

Every table drives the public entry points (``parse_policy``, ``evaluate_action``,
``trust_allows``) on hand-written documents. The traps a wrong "all clear" would come from have
their own rows: a boundary that grants nothing, ``ssm:*`` next to ``ssmmessages:*``, a deny through
NotAction, a condition the auditor cannot know, a key absent through a VPC endpoint.
"""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote, quote_plus

import pytest

from auditor.analysis.iam_policy import (
    ALLOWED,
    BOUNDARY,
    CONDITION_NOT_EVALUATED,
    DENIED,
    ENDPOINT_POLICY,
    EXPLICIT_DENY,
    NO_ALLOW,
    SCP,
    UNKNOWN,
    Policy,
    RequestContext,
    StatementRef,
    evaluate_action,
    parse_policy,
    trust_allows,
)

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app-role"
INSTANCE_ARN = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0"
HEARTBEAT = "ssm:UpdateInstanceInformation"
CONTROL_CHANNEL = "ssmmessages:CreateControlChannel"

# The agent calling over a public path (NAT or internet gateway): no endpoint keys.
CONTEXT = RequestContext(principal_arn=ROLE_ARN, region="eu-west-1", instance_arn=INSTANCE_ARN,
                         instance_tags={"Env": "prod"}, via_aws_service=False)
# The same call through an interface endpoint.
VIA_ENDPOINT = replace(CONTEXT, source_vpc="vpc-1", source_vpce="vpce-1")
NOTHING_KNOWN = RequestContext(secure_transport=None)


def stmt(effect: str = "Allow", action: object = "*", resource: object = "*", *,
         sid: str | None = None, condition: dict | None = None, **elements: object) -> dict:
    """A raw statement; pass Resource=None via resource=None to leave it out."""
    raw: dict = {"Effect": effect}
    if sid:
        raw["Sid"] = sid
    if action is not None:
        raw["Action"] = action
    if resource is not None:
        raw["Resource"] = resource
    if condition is not None:
        raw["Condition"] = condition
    raw.update(elements)
    return raw


def policy(*statements: dict, name: str = "app-inline", kind: str = "inline",
           attached_to: str = "role app-role", version: str | None = "2012-10-17") -> Policy:
    document: dict = {"Statement": list(statements)}
    if version:
        document["Version"] = version
    return parse_policy(document, name, kind, attached_to)


def decide(action: str = HEARTBEAT, resource: str = "*", context: RequestContext = CONTEXT,
           **guardrails: object) -> object:
    guardrails.setdefault("identity", [ALLOW_ALL])
    return evaluate_action(action, resource, context, **guardrails)


ALLOW_ALL = policy(stmt(sid="AllowAll"))

# AWS managed policy AmazonSSMManagedInstanceCore (embedded here only, as the test's reference).
SSM_CORE_ACTIONS = (
    "ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument",
    "ssm:DescribeDocument", "ssm:GetManifest", "ssm:GetParameter", "ssm:GetParameters",
    "ssm:ListAssociations", "ssm:ListInstanceAssociations", "ssm:PutInventory",
    "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation",
)
SSMMESSAGES_CORE_ACTIONS = (
    "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
)
EC2MESSAGES_CORE_ACTIONS = (
    "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
    "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
)
AMAZON_SSM_MANAGED_INSTANCE_CORE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": list(SSM_CORE_ACTIONS), "Resource": "*"},
        {"Effect": "Allow", "Action": list(SSMMESSAGES_CORE_ACTIONS), "Resource": "*"},
        {"Effect": "Allow", "Action": list(EC2MESSAGES_CORE_ACTIONS), "Resource": "*"},
    ],
}
SSM_CORE = parse_policy(AMAZON_SSM_MANAGED_INSTANCE_CORE, "AmazonSSMManagedInstanceCore",
                        "managed", "role app-role")


# --- Parsing ------------------------------------------------------------------------------------

CANONICAL = {"Version": "2012-10-17",
             "Statement": [{"Sid": "Heartbeat", "Effect": "Allow",
                            "Action": [HEARTBEAT], "Resource": ["*"]}]}


@pytest.mark.parametrize("document", [
    pytest.param(CANONICAL, id="dict"),
    pytest.param(json.dumps(CANONICAL), id="json-text"),
    pytest.param("  \n" + json.dumps(CANONICAL, indent=2), id="json-text-with-whitespace"),
    pytest.param(quote(json.dumps(CANONICAL), safe=""), id="url-encoded-rfc3986"),
    pytest.param(quote_plus(json.dumps(CANONICAL, indent=2)), id="url-encoded-with-plus"),
    pytest.param({"Version": "2012-10-17",
                  "Statement": {"Sid": "Heartbeat", "Effect": "Allow", "Action": HEARTBEAT,
                                "Resource": "*"}}, id="statement-as-single-dict-and-strings"),
])
def test_parse_accepts_every_shape_iam_hands_out(document: object) -> None:
    expected = parse_policy(CANONICAL, "core", "inline")
    parsed = parse_policy(document, "core", "inline")
    assert parsed == expected
    (statement,) = parsed.statements
    assert (statement.sid, statement.effect, statement.actions, statement.resources) == (
        "Heartbeat", "Allow", (HEARTBEAT,), ("*",))
    assert decide(identity=[parsed]).outcome == ALLOWED


@pytest.mark.parametrize(("document", "kind", "message"), [
    ("", "inline", "empty"),
    ("not json at all", "inline", "not valid JSON"),
    ("{\"Statement\": [", "inline", "not valid JSON"),
    ("[1, 2]", "inline", "not a JSON object"),
    (42, "inline", "expected a JSON object"),
    ({}, "inline", "Statement must be"),
    ({"Statement": "allow everything"}, "inline", "Statement must be"),
    ({"Statement": ["x"]}, "inline", "must be a JSON object"),
    ({"Statement": [], "Extra": 1}, "inline", "unknown element 'Extra'"),
    ({"Version": "2019-01-01", "Statement": []}, "inline", "unknown Version"),
    ({"Statement": [stmt("Permit")]}, "inline", "Effect must be"),
    ({"Statement": [stmt("allow")]}, "inline", "Effect must be"),
    ({"Statement": [stmt(action=5)]}, "inline", "Action must be a string or a list"),
    ({"Statement": [stmt(action=["ssm:*", 3])]}, "inline", "Action must be"),
    ({"Statement": [stmt(Actions="*")]}, "inline", "unknown element 'Actions'"),
    ({"Statement": [stmt(NotAction="ssm:*")]}, "inline", "both Action and NotAction"),
    ({"Statement": [stmt(NotResource="*")]}, "inline", "both Resource and NotResource"),
    ({"Statement": [stmt(condition="x")]}, "inline", "Condition must be"),
    ({"Statement": [stmt(condition={"StringEquals": "x"})]}, "inline", "must map keys"),
    ({"Statement": [stmt(condition={"StringEquals": {"k": {"a": 1}}})]}, "inline",
     "condition values"),
    ({"Statement": [stmt(resource=None, Principal=f"arn:aws:iam::{ACCOUNT}:root")]}, "trust",
     "Principal must be"),
    ({"Statement": [stmt(resource=None, Principal={"Aws": "*"})]}, "trust",
     "unknown principal type"),
    ({"Statement": [stmt(sid=None, Sid=7)]}, "inline", "Sid must be a string"),
    (CANONICAL, "bucket", "unknown kind"),
])
def test_parse_rejects_garbage_with_one_line(document: object, kind: str, message: str) -> None:
    with pytest.raises(ValueError, match="policy broken") as raised:
        parse_policy(document, "broken", kind)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("statement", "kind", "problem"), [
    (stmt(resource=None), "inline", "has neither Resource nor NotResource"),
    (stmt(resource=None), "boundary", "has neither Resource nor NotResource"),
    (stmt(action=None), "managed", "has neither Action nor NotAction"),
    (stmt(Principal="*"), "inline", "names a Principal"),
    (stmt(resource=None), "trust", "has no Principal"),
    (stmt(), "endpoint", "has no Principal"),
])
def test_statements_aws_would_refuse_are_kept_with_their_problem(
        statement: dict, kind: str, problem: str) -> None:
    (parsed,) = parse_policy({"Statement": [statement]}, "p", kind).statements
    assert parsed.problem is not None and parsed.problem.startswith(problem)


def test_invalid_statements_never_apply() -> None:
    no_resource_allow = policy(stmt(resource=None))
    assert decide(identity=[no_resource_allow]).reason == NO_ALLOW
    no_resource_deny = policy(stmt("Deny", resource=None))
    assert decide(identity=[ALLOW_ALL, no_resource_deny]).outcome == ALLOWED


def test_scp_and_endpoint_statements_without_resource_cover_every_resource() -> None:
    scp = policy(stmt(resource=None), name="full", kind="scp")
    endpoint = policy(stmt(resource=None, Principal="*"), name="vpce", kind="endpoint")
    decision = decide(resource=INSTANCE_ARN, scps=[[scp]], endpoint_policy=endpoint)
    assert decision.outcome == ALLOWED


# --- Actions and resources ----------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "action", "allowed"), [
    ("*", HEARTBEAT, True),
    ("*", "ec2messages:GetMessages", True),
    ("ssm:*", HEARTBEAT, True),
    ("ssm:*", CONTROL_CHANNEL, False),
    ("ssm:*", "ec2messages:GetMessages", False),
    ("ec2:*", "ec2messages:GetMessages", False),
    ("ssmmessages:*", CONTROL_CHANNEL, True),
    ("ssm:Update*", HEARTBEAT, True),
    ("ssm:Update*", "ssm:GetDocument", False),
    ("ssm:*Instance*", HEARTBEAT, True),
    ("ssmmessages:*Channel", CONTROL_CHANNEL, True),
    ("ssm:UpdateInstanceInformatio?", HEARTBEAT, True),
    ("ssm:Update?nstanceInformation", HEARTBEAT, True),
    ("ssm:UpdateInstanceInformation?", HEARTBEAT, False),
    ("ssm:?", HEARTBEAT, False),
    ("SSM:updateinstanceinformation", HEARTBEAT, True),
    ("ssm:UPDATEINSTANCEINFORMATION", "SSM:UpdateInstanceInformation", True),
    ("ssm:UpdateInstance", HEARTBEAT, False),
    ("ssm:UpdateInstanceInformation", "ssm:UpdateInstanceInformationX", False),
])
def test_action_matching(pattern: str, action: str, allowed: bool) -> None:
    decision = decide(action, identity=[policy(stmt(action=pattern))])
    assert decision.outcome == (ALLOWED if allowed else DENIED)


@pytest.mark.parametrize(("element", "pattern", "resource", "outcome"), [
    ("Resource", "*", INSTANCE_ARN, ALLOWED),
    ("Resource", INSTANCE_ARN, INSTANCE_ARN, ALLOWED),
    ("Resource", INSTANCE_ARN[:-1] + "1", INSTANCE_ARN, DENIED),
    ("Resource", "arn:aws:ec2:*:*:instance/*", INSTANCE_ARN, ALLOWED),
    ("Resource", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef?", INSTANCE_ARN,
     ALLOWED),
    ("Resource", "arn:aws:ec2:*:instance/*", INSTANCE_ARN, ALLOWED),  # * spans colons
    ("Resource", "arn:aws:ec2:*:*:Instance/*", INSTANCE_ARN, DENIED),  # case-sensitive
    ("Resource", "arn:aws:ec2:us-east-1:*:instance/*", INSTANCE_ARN, DENIED),
    ("Resource", "arn:aws:ssm:*:*:*", "*", DENIED),  # action without resource-level permissions
    ("Resource", ["arn:aws:ssm:*:*:document/*", "arn:aws:ec2:*:*:instance/*"], INSTANCE_ARN,
     ALLOWED),
    ("NotResource", "arn:aws:ssm:*:*:document/*", INSTANCE_ARN, ALLOWED),
    ("NotResource", "arn:aws:ec2:*:*:instance/*", INSTANCE_ARN, DENIED),
    ("Resource", "arn:aws:ec2:*:${aws:PrincipalAccount}:instance/*", INSTANCE_ARN, ALLOWED),
    ("Resource", "arn:aws:ec2:*:${aws:PrincipalAccount}:instance/*",
     INSTANCE_ARN.replace(ACCOUNT, OTHER_ACCOUNT), DENIED),
    ("Resource", "arn:aws:ec2:*:*:instance/${aws:username}", INSTANCE_ARN, UNKNOWN),
])
def test_resource_matching(element: str, pattern: object, resource: str, outcome: str) -> None:
    statement = stmt(resource=None, **{element: pattern})
    assert decide(resource=resource, identity=[policy(statement)]).outcome == outcome


def test_policy_variables_are_literal_text_before_version_2012() -> None:
    statement = stmt(resource="arn:aws:ec2:*:${aws:PrincipalAccount}:instance/*")
    assert decide(resource=INSTANCE_ARN, identity=[policy(statement)]).outcome == ALLOWED
    for version in ("2008-10-17", None):
        old = policy(statement, version=version)
        assert decide(resource=INSTANCE_ARN, identity=[old]).outcome == DENIED


# --- The evaluation order -----------------------------------------------------------------------

DENY_HEARTBEAT = policy(stmt("Deny", HEARTBEAT, sid="DenyHeartbeat"), name="lockdown")
DENY_ALL_BUT_MESSAGES = policy(
    stmt("Deny", None, sid="OnlyMessages", NotAction=["ssmmessages:*", "ec2messages:*"]),
    name="only-messages")
DENY_SSM_STAR = policy(stmt("Deny", "ssm:*", sid="NoSsm"), name="no-ssm")
AGENT_BOUNDARY = policy(stmt(action=["ssm:*", "ssmmessages:*", "ec2messages:*"]),
                        name="agent-boundary", kind="boundary")
MESSAGES_BOUNDARY = policy(stmt(action="ssmmessages:*"), name="messages-boundary",
                           kind="boundary")
DENYING_BOUNDARY = policy(stmt(), stmt("Deny", HEARTBEAT, sid="NoHeartbeat"),
                          name="denying-boundary", kind="boundary")
FULL_ACCESS = policy(stmt(sid="FullAWSAccess"), name="FullAWSAccess", kind="scp",
                     attached_to="root r-1")
EC2_ONLY = policy(stmt(action="ec2:*"), name="ec2-only", kind="scp", attached_to="ou ou-1")
DENY_HEARTBEAT_SCP = policy(stmt("Deny", HEARTBEAT, sid="DenyHeartbeat"), name="deny-heartbeat",
                            kind="scp", attached_to="ou ou-1")


def endpoint(*statements: dict) -> Policy:
    return policy(*statements, name="vpce-policy", kind="endpoint", attached_to="vpce-1")


ENDPOINT_FULL = endpoint(stmt(Principal="*"))
ENDPOINT_GET_ONLY = endpoint(stmt(action="ssm:GetDocument", Principal="*"))
ENDPOINT_DENY = endpoint(stmt(Principal="*"),
                         stmt("Deny", HEARTBEAT, sid="NoHeartbeat", Principal={"AWS": "*"}))

ALLOW_REF = 'statement "AllowAll" of inline policy app-inline on role app-role'

# (id, action, guardrails, outcome, reason, deciding statements described, lacking allow)
ORDER_CASES = [
    ("identity-allows", HEARTBEAT, {}, ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("no-identity-policy", HEARTBEAT, {"identity": []}, DENIED, NO_ALLOW, [], ("identity",)),
    ("deny-beats-allow", HEARTBEAT, {"identity": [ALLOW_ALL, DENY_HEARTBEAT]},
     DENIED, EXPLICIT_DENY,
     ['statement "DenyHeartbeat" of inline policy lockdown on role app-role'], ()),
    ("deny-through-notaction", HEARTBEAT, {"identity": [ALLOW_ALL, DENY_ALL_BUT_MESSAGES]},
     DENIED, EXPLICIT_DENY,
     ['statement "OnlyMessages" of inline policy only-messages on role app-role'], ()),
    ("notaction-deny-spares-listed", CONTROL_CHANNEL,
     {"identity": [ALLOW_ALL, DENY_ALL_BUT_MESSAGES]}, ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("deny-ssm-star-spares-ssmmessages", CONTROL_CHANNEL,
     {"identity": [ALLOW_ALL, DENY_SSM_STAR]}, ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("deny-ssm-star-spares-ec2messages", "ec2messages:GetMessages",
     {"identity": [ALLOW_ALL, DENY_SSM_STAR]}, ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("deny-ssm-star-hits-ssm", "ssm:GetDocument", {"identity": [ALLOW_ALL, DENY_SSM_STAR]},
     DENIED, EXPLICIT_DENY, ['statement "NoSsm" of inline policy no-ssm on role app-role'], ()),
    ("boundary-grants-nothing", HEARTBEAT, {"identity": [], "boundary": AGENT_BOUNDARY},
     DENIED, NO_ALLOW, [], ("identity",)),
    ("boundary-limits-identity", HEARTBEAT, {"boundary": MESSAGES_BOUNDARY},
     DENIED, BOUNDARY, [], ("boundary",)),
    ("boundary-and-identity-allow", HEARTBEAT, {"boundary": AGENT_BOUNDARY},
     ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("boundary-and-identity-both-lack", HEARTBEAT,
     {"identity": [], "boundary": MESSAGES_BOUNDARY}, DENIED, BOUNDARY, [],
     ("boundary", "identity")),
    ("boundary-deny", HEARTBEAT, {"boundary": DENYING_BOUNDARY}, DENIED, EXPLICIT_DENY,
     ['statement "NoHeartbeat" of permissions boundary denying-boundary on role app-role'], ()),
    ("scp-full-access", HEARTBEAT, {"scps": [[FULL_ACCESS]]}, ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("scp-level-without-allow", HEARTBEAT, {"scps": [[FULL_ACCESS], [EC2_ONLY]]},
     DENIED, SCP, [], ("scp",)),
    ("scp-empty-level", HEARTBEAT, {"scps": [[FULL_ACCESS], []]}, DENIED, SCP, [], ("scp",)),
    ("scp-deny", HEARTBEAT, {"scps": [[FULL_ACCESS, DENY_HEARTBEAT_SCP]]},
     DENIED, EXPLICIT_DENY,
     ['statement "DenyHeartbeat" of service control policy deny-heartbeat on ou ou-1'], ()),
    ("scp-allow-grants-nothing", HEARTBEAT, {"identity": [], "scps": [[FULL_ACCESS]]},
     DENIED, NO_ALLOW, [], ("identity",)),
    ("no-organization", HEARTBEAT, {"scps": None}, ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("endpoint-full-access", HEARTBEAT, {"endpoint_policy": ENDPOINT_FULL},
     ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("endpoint-policy-lacks-allow", HEARTBEAT, {"endpoint_policy": ENDPOINT_GET_ONLY},
     DENIED, ENDPOINT_POLICY, [], ("endpoint_policy",)),
    ("endpoint-policy-deny", HEARTBEAT, {"endpoint_policy": ENDPOINT_DENY}, DENIED, EXPLICIT_DENY,
     ['statement "NoHeartbeat" of endpoint policy vpce-policy on vpce-1'], ()),
    ("endpoint-allow-grants-nothing", HEARTBEAT,
     {"identity": [], "endpoint_policy": ENDPOINT_FULL}, DENIED, NO_ALLOW, [], ("identity",)),
    ("endpoint-principal-account-id", HEARTBEAT,
     {"endpoint_policy": endpoint(stmt(Principal={"AWS": ACCOUNT}))}, ALLOWED, ALLOWED,
     [ALLOW_REF], ()),
    ("endpoint-principal-account-root", HEARTBEAT,
     {"endpoint_policy": endpoint(stmt(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))},
     ALLOWED, ALLOWED, [ALLOW_REF], ()),
    ("endpoint-principal-role", HEARTBEAT,
     {"endpoint_policy": endpoint(stmt(Principal={"AWS": [ROLE_ARN]}))}, ALLOWED, ALLOWED,
     [ALLOW_REF], ()),
    ("endpoint-principal-other-account", HEARTBEAT,
     {"endpoint_policy": endpoint(stmt(Principal={"AWS": OTHER_ACCOUNT}))}, DENIED,
     ENDPOINT_POLICY, [], ("endpoint_policy",)),
    ("endpoint-principal-service-is-not-the-role", HEARTBEAT,
     {"endpoint_policy": endpoint(stmt(Principal={"Service": "ec2.amazonaws.com"}))}, DENIED,
     ENDPOINT_POLICY, [], ("endpoint_policy",)),
    ("endpoint-notprincipal-excludes-role", HEARTBEAT,
     {"endpoint_policy": endpoint(stmt(NotPrincipal={"AWS": ROLE_ARN}))}, DENIED,
     ENDPOINT_POLICY, [], ("endpoint_policy",)),
    ("every-guardrail-allows", HEARTBEAT,
     {"identity": [SSM_CORE], "boundary": AGENT_BOUNDARY, "scps": [[FULL_ACCESS]],
      "endpoint_policy": ENDPOINT_FULL}, ALLOWED, ALLOWED,
     ["statement #1 of managed policy AmazonSSMManagedInstanceCore on role app-role"], ()),
    ("scp-reported-before-boundary", HEARTBEAT,
     {"scps": [[EC2_ONLY]], "boundary": MESSAGES_BOUNDARY, "identity": []}, DENIED, SCP, [],
     ("scp", "boundary", "identity")),
]


@pytest.mark.parametrize(("action", "guardrails", "outcome", "reason", "deciding", "lacking"),
                         [pytest.param(*case[1:], id=case[0]) for case in ORDER_CASES])
def test_evaluation_order(action: str, guardrails: dict, outcome: str, reason: str,
                          deciding: list[str], lacking: tuple[str, ...]) -> None:
    decision = decide(action, **guardrails)
    assert (decision.outcome, decision.reason) == (outcome, reason)
    assert [ref.describe() for ref in decision.deciding] == deciding
    assert decision.lacking_allow == lacking
    assert decision.unresolved_conditions == ()
    assert decision.detail


def test_guardrail_detail_names_the_level_and_policies() -> None:
    decision = decide(scps=[[FULL_ACCESS], [EC2_ONLY]])
    assert "level 2 of 2" in decision.detail and "ec2-only" in decision.detail


@pytest.mark.parametrize(("endpoint_policy", "context"), [
    pytest.param(endpoint(stmt(Principal={"AWS": ROLE_ARN})), replace(CONTEXT, principal_arn=None),
                 id="role-principal-caller-unknown"),
    pytest.param(endpoint(stmt(Principal={"AWS": ACCOUNT})), replace(CONTEXT, principal_arn=None),
                 id="account-principal-account-unknown"),
    pytest.param(endpoint(stmt(Principal={
        "AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/i-0123456789abcdef0"})), CONTEXT,
                 id="session-principal-of-the-role"),
])
def test_endpoint_principal_that_cannot_be_matched_is_unknown(endpoint_policy: Policy,
                                                              context: RequestContext) -> None:
    decision = decide(context=context, endpoint_policy=endpoint_policy)
    assert (decision.outcome, decision.reason) == (UNKNOWN, CONDITION_NOT_EVALUATED)
    assert decision.unresolved_conditions[0].startswith("Principal AWS ")


def test_session_principal_of_another_role_does_not_match() -> None:
    other = endpoint(stmt(Principal={"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/other/s"}))
    assert decide(endpoint_policy=other).reason == ENDPOINT_POLICY


@pytest.mark.parametrize("call", [
    pytest.param(lambda: decide("ssm:*"), id="wildcard-action"),
    pytest.param(lambda: decide("UpdateInstanceInformation"), id="action-without-service"),
    pytest.param(lambda: decide(identity=[AGENT_BOUNDARY]), id="boundary-as-identity"),
    pytest.param(lambda: decide(boundary=ALLOW_ALL), id="inline-as-boundary"),
    pytest.param(lambda: decide(scps=[[ALLOW_ALL]]), id="inline-as-scp"),
    pytest.param(lambda: decide(endpoint_policy=ALLOW_ALL), id="inline-as-endpoint-policy"),
    pytest.param(lambda: trust_allows(ALLOW_ALL, "ec2.amazonaws.com"), id="inline-as-trust"),
])
def test_misuse_is_refused(call) -> None:
    with pytest.raises(ValueError):
        call()


# --- Conditions ---------------------------------------------------------------------------------

TAG_KEYS = {"aws:TagKeys": ["Env", "Team"]}
NO_TAG_KEYS = {"aws:TagKeys": []}
MFA_AGE = {"aws:MultiFactorAuthAge": ["3600"]}
NOW = {"aws:CurrentTime": ["2030-01-01T00:00:00Z"]}
AUTOMATION_ARN = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:automation-definition/a:1"  # colon in resource


def known(**extra: list[str]) -> RequestContext:
    return replace(CONTEXT, extra=extra)


# (id, condition block of a Deny beside an allow-all, context, resource, outcome):
# DENIED when the condition holds, ALLOWED when it does not, UNKNOWN when it cannot be told.
CONDITION_CASES = [
    ("string-equals-holds", {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
     CONTEXT, "*", DENIED),
    ("string-equals-fails", {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
     replace(CONTEXT, region="us-east-1"), "*", ALLOWED),
    ("string-equals-region-unknown", {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
     replace(CONTEXT, region=None), "*", UNKNOWN),
    ("values-are-ored", {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
     CONTEXT, "*", DENIED),
    ("string-equals-is-case-sensitive", {"StringEquals": {"aws:RequestedRegion": "EU-WEST-1"}},
     CONTEXT, "*", ALLOWED),
    ("string-equals-has-no-wildcards", {"StringEquals": {"aws:RequestedRegion": "eu-*"}},
     CONTEXT, "*", ALLOWED),
    ("string-equals-ignore-case", {"StringEqualsIgnoreCase": {"aws:RequestedRegion": "EU-WEST-1"}},
     CONTEXT, "*", DENIED),
    ("string-not-equals-ignore-case",
     {"StringNotEqualsIgnoreCase": {"aws:RequestedRegion": "EU-WEST-1"}}, CONTEXT, "*", ALLOWED),
    ("string-not-equals-is-nor-match",
     {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}},
     CONTEXT, "*", ALLOWED),
    ("string-not-equals-is-nor-no-match",
     {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}},
     replace(CONTEXT, region="us-east-1"), "*", DENIED),
    ("key-names-are-case-insensitive", {"StringEquals": {"AWS:REQUESTEDREGION": "eu-west-1"}},
     CONTEXT, "*", DENIED),
    ("string-like-star", {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}},
     CONTEXT, "*", DENIED),
    ("string-like-question-mark",
     {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ap?-role"}}, CONTEXT, "*", DENIED),
    ("string-like-is-case-sensitive",
     {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/APP-*"}}, CONTEXT, "*", ALLOWED),
    ("string-not-like", {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin-*"}},
     CONTEXT, "*", DENIED),
    ("principal-account-from-arn", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
     CONTEXT, "*", DENIED),
    ("arn-like", {"ArnLike": {"ec2:SourceInstanceARN": "arn:aws:ec2:*:*:instance/*"}},
     CONTEXT, "*", DENIED),
    ("arn-equals-takes-wildcards",
     {"ArnEquals": {"ec2:SourceInstanceARN": f"arn:aws:ec2:*:{ACCOUNT}:instance/i-*"}},
     CONTEXT, "*", DENIED),
    ("arn-not-like", {"ArnNotLike": {"aws:PrincipalArn": ROLE_ARN}}, CONTEXT, "*", ALLOWED),
    ("arn-not-equals-other",
     {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/x"}},
     CONTEXT, "*", DENIED),
    ("arn-like-is-case-sensitive", {"ArnLike": {"aws:PrincipalArn": ROLE_ARN.upper()}},
     CONTEXT, "*", ALLOWED),
    ("arn-like-star-stays-in-its-part",
     {"ArnLike": {"aws:SourceArn": "arn:aws:ssm:*:automation-definition/a:1"}},
     known(**{"aws:SourceArn": [AUTOMATION_ARN]}), "*", ALLOWED),
    ("arn-like-star-spans-colons-in-resource-part",
     {"ArnLike": {"aws:SourceArn": "arn:aws:ssm:*:*:automation-definition/*"}},
     known(**{"aws:SourceArn": [AUTOMATION_ARN]}), "*", DENIED),
    ("arn-like-pattern-not-an-arn", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}},
     CONTEXT, "*", UNKNOWN),
    ("source-instance-arn-unknown",
     {"ArnLike": {"ec2:SourceInstanceARN": "arn:aws:ec2:*:*:instance/*"}},
     replace(CONTEXT, instance_arn=None), "*", UNKNOWN),
    ("bool-string", {"Bool": {"aws:SecureTransport": "false"}}, CONTEXT, "*", ALLOWED),
    ("bool-json-false", {"Bool": {"aws:SecureTransport": False}}, CONTEXT, "*", ALLOWED),
    ("bool-json-true", {"Bool": {"aws:SecureTransport": True}}, CONTEXT, "*", DENIED),
    ("via-aws-service", {"Bool": {"aws:ViaAWSService": "false"}}, CONTEXT, "*", DENIED),
    ("via-aws-service-unknown", {"Bool": {"aws:ViaAWSService": "false"}},
     replace(CONTEXT, via_aws_service=None), "*", UNKNOWN),
    ("bool-if-exists-unknown-key", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
     CONTEXT, "*", UNKNOWN),
    ("null-true-key-absent", {"Null": {"aws:SourceVpce": "true"}}, CONTEXT, "*", DENIED),
    ("null-true-key-present", {"Null": {"aws:SourceVpce": "true"}}, VIA_ENDPOINT, "*", ALLOWED),
    ("null-false-key-present", {"Null": {"aws:SourceVpce": False}}, VIA_ENDPOINT, "*", DENIED),
    ("null-unknown-key", {"Null": {"aws:PrincipalOrgID": "true"}}, CONTEXT, "*", UNKNOWN),
    ("positive-on-absent-key-is-false", {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
     CONTEXT, "*", ALLOWED),
    ("negated-on-absent-key-is-true", {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}},
     CONTEXT, "*", DENIED),
    ("negated-on-present-key", {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}},
     VIA_ENDPOINT, "*", ALLOWED),
    ("if-exists-on-absent-key", {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-2"}},
     CONTEXT, "*", DENIED),
    ("if-exists-on-present-key", {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-2"}},
     VIA_ENDPOINT, "*", ALLOWED),
    ("not-equals-if-exists-absent", {"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1"}},
     CONTEXT, "*", DENIED),
    ("endpoint-keys-when-path-unknown", {"StringEquals": {"aws:SourceVpc": "vpc-1"}},
     replace(CONTEXT, network_path_known=False), "*", UNKNOWN),
    ("source-ip-hidden-on-public-path", {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
     CONTEXT, "*", UNKNOWN),
    ("source-ip-absent-through-endpoint",
     {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, VIA_ENDPOINT, "*", DENIED),
    ("source-ip-known-inside", {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}},
     known(**{"aws:SourceIp": ["203.0.113.7"]}), "*", ALLOWED),
    ("source-ip-known-outside", {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}},
     known(**{"aws:SourceIp": ["198.51.100.1"]}), "*", DENIED),
    ("ip-address", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
     known(**{"aws:SourceIp": ["203.0.113.7"]}), "*", DENIED),
    ("for-any-value-match", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Team"]}},
     known(**TAG_KEYS), "*", DENIED),
    ("for-any-value-no-match", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Owner"]}},
     known(**TAG_KEYS), "*", ALLOWED),
    ("for-any-value-absent", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Team"]}},
     known(**NO_TAG_KEYS), "*", ALLOWED),
    ("for-all-values-subset", {"ForAllValues:StringEquals": {"aws:TagKeys": ["Env", "Team", "X"]}},
     known(**TAG_KEYS), "*", DENIED),
    ("for-all-values-not-subset", {"ForAllValues:StringEquals": {"aws:TagKeys": ["Env"]}},
     known(**TAG_KEYS), "*", ALLOWED),
    ("for-all-values-absent", {"ForAllValues:StringEquals": {"aws:TagKeys": ["Env"]}},
     known(**NO_TAG_KEYS), "*", DENIED),
    ("for-all-values-negated", {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["Owner"]}},
     known(**TAG_KEYS), "*", DENIED),
    ("for-all-values-negated-hit", {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["Env"]}},
     known(**TAG_KEYS), "*", ALLOWED),
    ("for-any-value-negated", {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["Env"]}},
     known(**TAG_KEYS), "*", DENIED),
    ("for-any-value-like", {"ForAnyValue:StringLike": {"aws:TagKeys": ["T*"]}},
     known(**TAG_KEYS), "*", DENIED),
    ("numeric-greater", {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "600"}},
     known(**MFA_AGE), "*", DENIED),
    ("numeric-less", {"NumericLessThan": {"aws:MultiFactorAuthAge": 600}},
     known(**MFA_AGE), "*", ALLOWED),
    ("numeric-not-equals", {"NumericNotEquals": {"aws:MultiFactorAuthAge": "3600"}},
     known(**MFA_AGE), "*", ALLOWED),
    ("numeric-unknown-key", {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "600"}},
     CONTEXT, "*", UNKNOWN),
    ("date-greater", {"DateGreaterThan": {"aws:CurrentTime": "2029-12-31T23:59:59Z"}},
     known(**NOW), "*", DENIED),
    ("date-less", {"DateLessThan": {"aws:CurrentTime": "2029-12-31T23:59:59Z"}},
     known(**NOW), "*", ALLOWED),
    ("date-epoch", {"DateEquals": {"aws:CurrentTime": "1893456000"}}, known(**NOW), "*", DENIED),
    ("date-unknown-key", {"DateLessThan": {"aws:CurrentTime": "2029-12-31T23:59:59Z"}},
     CONTEXT, "*", UNKNOWN),
    ("unsupported-operator", {"BinaryEquals": {"aws:SomeKey": "QmluYXJ5"}}, CONTEXT, "*",
     UNKNOWN),
    ("unknown-operator", {"StringEqualz": {"aws:RequestedRegion": "eu-west-1"}}, CONTEXT, "*",
     UNKNOWN),
    ("unknown-key", {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, CONTEXT, "*", UNKNOWN),
    ("keys-anded-one-false-decides",
     {"StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:PrincipalOrgID": "o-abc"}},
     CONTEXT, "*", ALLOWED),
    ("keys-anded-true-and-unknown",
     {"StringEquals": {"aws:RequestedRegion": "eu-west-1", "aws:PrincipalOrgID": "o-abc"}},
     CONTEXT, "*", UNKNOWN),
    ("operators-anded", {"StringEquals": {"aws:RequestedRegion": "eu-west-1"},
                         "Bool": {"aws:SecureTransport": "false"}}, CONTEXT, "*", ALLOWED),
    ("resource-tag", {"StringEquals": {"aws:ResourceTag/Env": "prod"}}, CONTEXT, INSTANCE_ARN,
     DENIED),
    ("ec2-resource-tag", {"StringEquals": {"ec2:ResourceTag/Env": "dev"}}, CONTEXT,
     INSTANCE_ARN, ALLOWED),
    ("resource-tag-absent", {"StringEquals": {"aws:ResourceTag/Team": "ops"}}, CONTEXT,
     INSTANCE_ARN, ALLOWED),
    ("resource-tag-absent-negated", {"StringNotEquals": {"aws:ResourceTag/Team": "ops"}},
     CONTEXT, INSTANCE_ARN, DENIED),
    ("resource-tags-unknown", {"StringEquals": {"aws:ResourceTag/Env": "prod"}},
     replace(CONTEXT, instance_tags=None), INSTANCE_ARN, UNKNOWN),
    ("resource-tag-differs-in-case", {"StringEquals": {"aws:ResourceTag/Env": "prod"}},
     replace(CONTEXT, instance_tags={"env": "prod"}), INSTANCE_ARN, UNKNOWN),
    ("resource-account-from-arn", {"StringNotEquals": {"aws:ResourceAccount": ACCOUNT}},
     CONTEXT, INSTANCE_ARN, ALLOWED),
    ("resource-account-of-star", {"StringNotEquals": {"aws:ResourceAccount": ACCOUNT}},
     CONTEXT, "*", UNKNOWN),
    ("extra-overrides", {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
     known(**{"AWS:RequestedRegion": ["us-east-1"]}), "*", ALLOWED),
    ("extra-known-absent", {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
     known(**{"aws:PrincipalOrgID": []}), "*", ALLOWED),
    ("extra-known-present", {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
     known(**{"aws:PrincipalOrgID": ["o-abc"]}), "*", DENIED),
    ("variable-in-condition",
     {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/*"}},
     CONTEXT, "*", DENIED),
    ("variable-value-is-literal", {"StringLike": {"aws:PrincipalArn": "${aws:PrincipalAccount}*"}},
     known(**{"aws:PrincipalAccount": ["arn:aws:iam::"]}), "*", DENIED),
    ("variable-unknown", {"StringEquals": {"aws:PrincipalArn": "${aws:username}"}},
     CONTEXT, "*", UNKNOWN),
    ("variable-default-when-absent",
     {"StringEquals": {"aws:RequestedRegion": "${aws:SourceVpce, 'eu-west-1'}"}},
     CONTEXT, "*", DENIED),
    ("variable-escape-is-literal", {"StringLike": {"aws:PrincipalArn": "${*}"}},
     CONTEXT, "*", ALLOWED),
    ("unknown-variable-beside-a-match",
     {"StringEquals": {"aws:RequestedRegion": ["${aws:username}", "eu-west-1"]}},
     CONTEXT, "*", DENIED),
]


@pytest.mark.parametrize(("condition", "context", "resource", "outcome"),
                         [pytest.param(*case[1:], id=case[0]) for case in CONDITION_CASES])
def test_conditions_on_a_deny(condition: dict, context: RequestContext, resource: str,
                              outcome: str) -> None:
    guarded = policy(stmt(), stmt("Deny", sid="Guard", condition=condition), name="guard")
    decision = decide(resource=resource, context=context, identity=[guarded])
    assert decision.outcome == outcome
    if outcome == DENIED:
        assert [ref.sid for ref in decision.deciding] == ["Guard"]
    if outcome == UNKNOWN:
        assert decision.reason == CONDITION_NOT_EVALUATED
        assert [ref.sid for ref in decision.deciding] == ["Guard"]
        assert decision.unresolved_conditions


def test_unknown_names_what_could_not_be_evaluated() -> None:
    guarded = policy(stmt(), stmt("Deny", sid="Guard", condition={
        "StringNotEquals": {"aws:PrincipalOrgID": "o-abc"},
        "BinaryEquals": {"aws:Blob": "QQ=="}}))
    decision = decide(identity=[guarded])
    assert decision.unresolved_conditions == (
        "StringNotEquals aws:PrincipalOrgID", "BinaryEquals aws:Blob (operator not supported)")
    assert "aws:PrincipalOrgID" in decision.detail


def test_variables_in_conditions_are_literal_before_version_2012() -> None:
    condition = {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/*"}}
    guarded = policy(stmt(), stmt("Deny", condition=condition), version="2008-10-17")
    assert decide(identity=[guarded]).outcome == ALLOWED


ORG_ONLY = {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}

# (id, guardrails, outcome, reason): how statements that may apply weigh in the decision.
UNKNOWN_CASES = [
    ("only-allow-is-conditional", {"identity": [policy(stmt(condition=ORG_ONLY))]},
     UNKNOWN, CONDITION_NOT_EVALUATED),
    ("a-definite-allow-beside-a-conditional-one",
     {"identity": [policy(stmt(condition=ORG_ONLY)), ALLOW_ALL]}, ALLOWED, ALLOWED),
    ("conditional-deny-beside-definite-deny",
     {"identity": [ALLOW_ALL, policy(stmt("Deny", condition=ORG_ONLY)), DENY_HEARTBEAT]},
     DENIED, EXPLICIT_DENY),
    ("conditional-deny-but-boundary-surely-lacks",
     {"identity": [ALLOW_ALL, policy(stmt("Deny", condition=ORG_ONLY))],
      "boundary": MESSAGES_BOUNDARY}, DENIED, BOUNDARY),
    ("conditional-boundary-allow", {"boundary": policy(stmt(condition=ORG_ONLY),
                                                       kind="boundary")},
     UNKNOWN, CONDITION_NOT_EVALUATED),
    ("conditional-scp-deny", {"scps": [[FULL_ACCESS, policy(stmt("Deny", condition=ORG_ONLY),
                                                             kind="scp")]]},
     UNKNOWN, CONDITION_NOT_EVALUATED),
    ("conditional-endpoint-allow",
     {"endpoint_policy": endpoint(stmt(Principal="*", condition=ORG_ONLY))},
     UNKNOWN, CONDITION_NOT_EVALUATED),
    ("conditional-allow-for-another-action",
     {"identity": [ALLOW_ALL, policy(stmt("Deny", "ssm:SendCommand", condition=ORG_ONLY))]},
     ALLOWED, ALLOWED),
]


@pytest.mark.parametrize(("guardrails", "outcome", "reason"),
                         [pytest.param(*case[1:], id=case[0]) for case in UNKNOWN_CASES])
def test_statements_that_may_apply(guardrails: dict, outcome: str, reason: str) -> None:
    decision = decide(**guardrails)
    assert (decision.outcome, decision.reason) == (outcome, reason)
    if outcome == UNKNOWN:
        assert decision.unresolved_conditions == ("StringEquals aws:PrincipalOrgID",)
        assert decision.deciding


@pytest.mark.parametrize(("key", "context", "values"), [
    ("aws:SourceVpc", CONTEXT, ()),
    ("aws:SourceVpce", VIA_ENDPOINT, ("vpce-1",)),
    ("aws:SourceVpc", replace(CONTEXT, source_vpce="vpce-1"), None),
    ("aws:SourceIp", CONTEXT, None),
    ("aws:SourceIp", VIA_ENDPOINT, ()),
    ("aws:SecureTransport", CONTEXT, ("true",)),
    ("aws:SecureTransport", NOTHING_KNOWN, None),
    ("aws:PrincipalAccount", CONTEXT, (ACCOUNT,)),
    ("aws:PrincipalAccount", NOTHING_KNOWN, None),
    ("ec2:ResourceTag/Env", CONTEXT, ("prod",)),
    ("aws:PrincipalOrgID", CONTEXT, None),
])
def test_request_context_keys(key: str, context: RequestContext,
                              values: tuple[str, ...] | None) -> None:
    assert context.values(key) == values


# --- Trust policies -----------------------------------------------------------------------------

EC2 = "ec2.amazonaws.com"
SSM = "ssm.amazonaws.com"


def trust(*statements: dict) -> Policy:
    return policy(*statements, name="trust", kind="trust", attached_to="role app-role")


def assume(principal: object, action: object = "sts:AssumeRole", **elements: object) -> dict:
    return stmt(action=action, resource=None, Principal=principal, **elements)


SOURCE_ACCOUNT = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}

# (id, trust policy, service principal, context, outcome, reason)
TRUST_CASES = [
    ("ec2-trusted", trust(assume({"Service": EC2})), EC2, None, ALLOWED, ALLOWED),
    ("service-list", trust(assume({"Service": [EC2, SSM]})), SSM, None, ALLOWED, ALLOWED),
    ("ssm-only-does-not-trust-ec2", trust(assume({"Service": SSM})), EC2, None, DENIED,
     NO_ALLOW),
    ("ec2-only-does-not-trust-ssm", trust(assume({"Service": EC2})), SSM, None, DENIED,
     NO_ALLOW),
    ("everyone", trust(assume("*")), EC2, None, ALLOWED, ALLOWED),
    # {"AWS": "*"} is documented as every account's users, roles and sessions, not as service
    # principals: never proof that EC2 is trusted (issue 16).
    ("aws-star-is-not-proof-of-a-service", trust(assume({"AWS": "*"})), EC2, None, UNKNOWN,
     CONDITION_NOT_EVALUATED),
    ("aws-star-is-not-proof-for-ssm-either", trust(assume({"AWS": "*"})), SSM, None, UNKNOWN,
     CONDITION_NOT_EVALUATED),
    ("account-root-is-not-a-service", trust(assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
     EC2, None, DENIED, NO_ALLOW),
    ("sts-star", trust(assume({"Service": EC2}, "sts:*")), EC2, None, ALLOWED, ALLOWED),
    ("star", trust(assume({"Service": EC2}, "*")), EC2, None, ALLOWED, ALLOWED),
    ("action-list", trust(assume({"Service": EC2}, ["sts:AssumeRole", "sts:TagSession"])), EC2,
     None, ALLOWED, ALLOWED),
    ("other-action", trust(assume({"Service": EC2}, "sts:AssumeRoleWithWebIdentity")), EC2,
     None, DENIED, NO_ALLOW),
    ("explicit-deny", trust(assume({"Service": EC2}),
                            stmt("Deny", "sts:AssumeRole", None, Principal={"Service": EC2})),
     EC2, None, DENIED, EXPLICIT_DENY),
    ("deny-notprincipal", trust(assume({"Service": [EC2, SSM]}),
                                stmt("Deny", "sts:*", None, NotPrincipal={"Service": SSM})),
     EC2, None, DENIED, EXPLICIT_DENY),
    ("deny-notprincipal-spares", trust(assume({"Service": [EC2, SSM]}),
                                       stmt("Deny", "sts:*", None, NotPrincipal={"Service": SSM})),
     SSM, None, ALLOWED, ALLOWED),
    ("condition-unknown", trust(assume({"Service": SSM}, Condition=SOURCE_ACCOUNT)), SSM, None,
     UNKNOWN, CONDITION_NOT_EVALUATED),
    ("condition-known", trust(assume({"Service": SSM}, Condition=SOURCE_ACCOUNT)), SSM,
     RequestContext(extra={"aws:SourceAccount": [ACCOUNT]}), ALLOWED, ALLOWED),
    ("condition-known-other", trust(assume({"Service": SSM}, Condition=SOURCE_ACCOUNT)), SSM,
     RequestContext(extra={"aws:SourceAccount": [OTHER_ACCOUNT]}), DENIED, NO_ALLOW),
    ("no-principal-is-invalid", trust(stmt(resource=None)), EC2, None, DENIED, NO_ALLOW),
]


@pytest.mark.parametrize(("trust_policy", "service", "context", "outcome", "reason"),
                         [pytest.param(*case[1:], id=case[0]) for case in TRUST_CASES])
def test_trust_policy(trust_policy: Policy, service: str, context: RequestContext | None,
                      outcome: str, reason: str) -> None:
    decision = trust_allows(trust_policy, service, context=context)
    assert (decision.outcome, decision.reason) == (outcome, reason)
    if outcome == UNKNOWN:
        assert decision.unresolved_conditions in (
            ("StringEquals aws:SourceAccount",),
            ("Principal AWS * (not documented to cover a service principal)",))
    if reason == NO_ALLOW:
        assert service in decision.detail


def test_trust_allow_names_its_statement() -> None:
    decision = trust_allows(trust(assume({"Service": EC2}, Sid="EC2")), EC2)
    assert [ref.describe() for ref in decision.deciding] == [
        'statement "EC2" of trust policy trust on role app-role']


# --- AmazonSSMManagedInstanceCore ---------------------------------------------------------------

def test_managed_instance_core_reference_is_complete() -> None:
    assert (len(SSM_CORE_ACTIONS), len(SSMMESSAGES_CORE_ACTIONS),
            len(EC2MESSAGES_CORE_ACTIONS)) == (15, 4, 6)


@pytest.mark.parametrize("action", SSM_CORE_ACTIONS + SSMMESSAGES_CORE_ACTIONS
                         + EC2MESSAGES_CORE_ACTIONS)
def test_managed_instance_core_allows_every_agent_action(action: str) -> None:
    decision = decide(action, resource=INSTANCE_ARN if action == HEARTBEAT else "*",
                      identity=[SSM_CORE])
    assert (decision.outcome, decision.reason) == (ALLOWED, ALLOWED)
    (ref,) = decision.deciding
    assert ref.policy == "AmazonSSMManagedInstanceCore"
    assert ref.index == action.startswith("ssmmessages:") + 2 * action.startswith("ec2messages:")


@pytest.mark.parametrize("action", ["ssm:SendCommand", "ssm:StartSession",
                                    "ec2:DescribeInstances", "ssmmessages:Send"])
def test_managed_instance_core_allows_nothing_else(action: str) -> None:
    assert decide(action, identity=[SSM_CORE]).reason == NO_ALLOW


# --- Naming the deciding statement --------------------------------------------------------------

@pytest.mark.parametrize(("ref", "text"), [
    (StatementRef("lockdown", "inline", "role app-role", "DenyHeartbeat", 0),
     'statement "DenyHeartbeat" of inline policy lockdown on role app-role'),
    (StatementRef("AmazonSSMManagedInstanceCore", "managed", "role app-role", None, 1),
     "statement #2 of managed policy AmazonSSMManagedInstanceCore on role app-role"),
    (StatementRef("FullAWSAccess", "scp", "", None, 0),
     "statement #1 of service control policy FullAWSAccess"),
    (StatementRef("vpce-policy", "endpoint", "vpce-1", "X", 3),
     'statement "X" of endpoint policy vpce-policy on vpce-1'),
])
def test_statement_ref_describe(ref: StatementRef, text: str) -> None:
    assert ref.describe() == text
