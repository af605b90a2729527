"""Session Manager readiness, rule by rule: each finding appears with its mechanism and goes
away when the mechanism lets the session through (estates built with EstateBuilder)."""

from __future__ import annotations

import pytest

from auditor.audit import run_audit
from auditor.sources.description import SourceDescription
from auditor.vocabulary import FAIL, MANAGEABLE, OK, UNKNOWN
from tests.capability_estates import (
    ACCOUNT,
    BUCKET,
    GROUP,
    KEY,
    REGION,
    allow,
    audit,
    deny,
    document,
    estate_of,
    finding,
    layout,
    own_codes,
    preferences,
    session_access,
    status,
    with_instance,
)

SESSION = {"session": session_access()}


def healthy_igw(**instance):
    place = layout("igw")
    with_instance(place, **({"inline": SESSION} | instance))
    return place


# --- no preferences, unreadable preferences -------------------------------------------------


def test_without_a_preferences_document_a_session_needs_only_its_channel():
    place = healthy_igw(inline=None)
    result = audit(place.builder, place.instance)
    assert result.verdict == MANAGEABLE
    assert status(result) == OK and status(result, "patching") == OK
    evidence = result.capabilities["session_manager"].evidence
    assert [part.name for part in evidence.parts] == ["data channel (ssmmessages)"]
    assert any("AWS's defaults" in note for note in evidence.notes)


def test_unreadable_preferences_are_unknown_not_defaults():
    place = healthy_igw()
    preferences(place.builder)
    raw = place.builder.raw()
    del raw.answers["session_document"]
    raw.errors["session_document"] = "AccessDeniedException: not allowed"
    from auditor.sources.parse import build_estate

    result = audit(build_estate(raw), place.instance)
    assert result.verdict == MANAGEABLE  # a capability never changes the verdict
    assert status(result) == UNKNOWN
    assert "DATA_UNAVAILABLE" in own_codes(result, severity=None)


@pytest.mark.parametrize(("content", "expected"), [
    ("schemaVersion: '1.0'\ninputs:\n  kmsKeyId: alias/sessions\n", "alias/sessions"),
    ("{not json: [", None),
])
def test_preferences_in_yaml_are_read_and_garbage_is_unknown(content, expected):
    place = healthy_igw()
    raw = place.builder.raw()
    raw.answers["session_document"] = {"Name": "SSM-SessionManagerRunShell",
                                       "DocumentType": "Session", "Content": content}
    from auditor.sources.parse import build_estate

    estate = build_estate(raw)
    if expected is None:
        assert estate.session.preferences is None
        assert "neither JSON nor YAML" in estate.unavailable["session_document"]
    else:
        assert estate.session.preferences.kms_key_id == expected


# --- the data channel -------------------------------------------------------------------------


def test_sessions_need_ssmmessages_even_when_ec2messages_keeps_the_agent_manageable():
    place = layout("isolated", endpoints=("ssm", "ec2messages"))
    with_instance(place, inline=SESSION)
    result = audit(place.builder, place.instance)
    assert result.verdict == MANAGEABLE
    assert own_codes(result) == {"SESSION_CHANNEL_UNREACHABLE"}
    assert status(result) == FAIL
    place.builder.interface_endpoint(place.vpc, "ssmmessages", [place.subnet],
                                     [place.endpoint_group])
    assert status(audit(place.builder, place.instance)) == OK


def test_a_role_without_the_data_channel_cannot_open_sessions():
    place = layout("igw")
    channels_only = document(allow(["ssm:UpdateInstanceInformation",
                                    "ssmmessages:CreateControlChannel",
                                    "ssmmessages:OpenControlChannel"]))
    with_instance(place, attached=(), inline={"agent": channels_only})
    result = audit(place.builder, place.instance)
    assert result.verdict == MANAGEABLE
    assert own_codes(result) == {"SESSION_CHANNEL_DENIED"}
    assert finding(result, "SESSION_CHANNEL_DENIED").details["actions"] == [
        "ssmmessages:CreateDataChannel", "ssmmessages:OpenDataChannel"]


# --- the KMS key ------------------------------------------------------------------------------


def test_kms_unreachable_from_an_isolated_subnet_until_it_has_an_endpoint():
    place = layout("isolated", endpoints=("ssm", "ssmmessages", "ec2messages", "logs"))
    with_instance(place, inline=SESSION)
    preferences(place.builder, bucket=False, s3BucketName="")
    result = audit(place.builder, place.instance)
    assert own_codes(result) == {"SESSION_KMS_UNREACHABLE"}
    assert finding(result, "SESSION_KMS_UNREACHABLE").details["service"] == "kms"
    assert result.verdict == MANAGEABLE
    place.builder.interface_endpoint(place.vpc, "kms", [place.subnet], [place.endpoint_group])
    result = audit(place.builder, place.instance)
    assert status(result) == OK
    assert result.capabilities["session_manager"].evidence.proofs["kms"].via == \
        "interface_endpoint"


def test_kms_decrypt_needs_an_identity_allow_when_the_key_policy_delegates_to_the_account():
    place = healthy_igw(inline={"session": document(allow(["s3:*", "logs:*"]))})
    preferences(place.builder)
    result = audit(place.builder, place.instance)
    assert own_codes(result) == {"SESSION_KMS_DENIED"}
    denied = finding(result, "SESSION_KMS_DENIED")
    assert denied.details["fix"] == "role_policy"
    assert denied.details["actions"] == ["kms:Decrypt"]


def test_kms_decrypt_is_refused_by_a_key_policy_that_does_not_let_the_role_in():
    place = healthy_igw()
    key = place.builder.kms_key(KEY, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"},
         "Action": "kms:*", "Resource": "*"}))
    preferences(place.builder, key=False)
    result = audit(place.builder, place.instance)
    denied = finding(result, "SESSION_KMS_DENIED")
    assert denied.details["fix"] == "resource_policy"  # reviewed, never rewritten
    assert denied.details["key"] == key


def test_a_key_policy_naming_the_role_needs_no_identity_allow():
    place = healthy_igw(inline={"session": document(allow(["s3:*", "logs:*"]))})
    place.builder.kms_key(KEY, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-role"},
         "Action": "kms:Decrypt", "Resource": "*"}))
    preferences(place.builder, key=False)
    assert status(audit(place.builder, place.instance)) == OK


def test_an_explicit_deny_in_the_key_policy_wins_over_any_allow():
    place = healthy_igw()
    place.builder.kms_key(KEY, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "NoApp", "Effect": "Deny",
         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-role"},
         "Action": "kms:Decrypt", "Resource": "*"}))
    preferences(place.builder, key=False)
    denied = finding(audit(place.builder, place.instance), "SESSION_KMS_DENIED")
    assert denied.details["reason"] == "explicit_deny"
    assert 'statement "NoApp" of key policy' in denied.message


def test_a_grant_to_the_role_makes_a_refusal_unknown_never_allowed():
    place = healthy_igw(inline={"session": document(allow(["s3:*", "logs:*"]))})
    place.builder.kms_key(KEY, grants=[(f"arn:aws:iam::{ACCOUNT}:role/app-role",
                                        ["Decrypt"])])
    preferences(place.builder, key=False)
    result = audit(place.builder, place.instance)
    assert status(result) == UNKNOWN
    assert "SESSION_KMS_DENIED" not in own_codes(result)
    assert "CONDITION_NOT_EVALUATED" in own_codes(result, severity="warning")


def test_unreadable_grants_leave_a_refusal_unknown():
    place = healthy_igw(inline={"session": document(allow(["s3:*", "logs:*"]))})
    preferences(place.builder)
    raw = place.builder.raw()
    raw.answers["kms_grants"] = [{"KeyId": answer["KeyId"], "Error": "AccessDenied: no"}
                                 for answer in raw.answers["kms_grants"]]
    from auditor.sources.parse import build_estate

    assert status(audit(build_estate(raw), place.instance)) == UNKNOWN


@pytest.mark.parametrize(("target", "expected"), [("mine", OK), ("i-0123456789abcdef0", FAIL)])
def test_the_encryption_context_names_the_instance(target, expected):
    place = layout("igw")
    instance = with_instance(place, inline={"session": document(
        allow("kms:Decrypt", "*", Condition={"StringEquals": {
            "kms:EncryptionContext:aws:ssm:TargetId": "TARGET"}}),
        allow(["s3:*", "logs:*"]))})
    raw = place.builder.raw()
    role = raw.answers["iam_authorization"]["RoleDetailList"][0]
    statement = role["RolePolicyList"][0]["PolicyDocument"]["Statement"][0]
    statement["Condition"]["StringEquals"]["kms:EncryptionContext:aws:ssm:TargetId"] = (
        instance if target == "mine" else target)
    place.builder.kms_key(KEY)
    place.builder.bucket(BUCKET)
    place.builder.log_group(GROUP)
    place.builder.session_preferences(kmsKeyId=KEY)
    raw.answers.update({k: v for k, v in place.builder.raw().answers.items()
                        if k.startswith(("kms_", "session_"))})
    from auditor.sources.parse import build_estate

    assert status(audit(build_estate(raw), instance)) == expected


@pytest.mark.parametrize("guardrail", ["scp", "boundary"])
def test_guardrails_apply_to_decrypt_as_to_the_agent(guardrail):
    place = layout("igw")
    b = place.builder
    if guardrail == "boundary":
        b.managed_policy("agent-only", document(allow(["ssm:*", "ssmmessages:*",
                                                       "ec2messages:*", "s3:*", "logs:*"])))
        with_instance(place, inline=SESSION, boundary="agent-only")
    else:
        with_instance(place, inline=SESSION)
        b.service_control_policies([[document(allow("*"))],
                                    [document(allow("*"), deny("kms:Decrypt"))]])
    preferences(b)
    denied = finding(audit(b, place.instance), "SESSION_KMS_DENIED")
    assert denied.details["fix"] == "review"


def test_the_kms_endpoint_policy_applies():
    place = layout("isolated", endpoints=("ssm", "ssmmessages", "ec2messages", "logs"))
    with_instance(place, inline=SESSION)
    place.builder.interface_endpoint(
        place.vpc, "kms", [place.subnet], [place.endpoint_group],
        policy='{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Encrypt", '
               '"Resource": "*"}]}')
    preferences(place.builder, bucket=False, s3BucketName="")
    denied = finding(audit(place.builder, place.instance), "SESSION_KMS_DENIED")
    assert denied.details["fix"] == "endpoint_policy"


@pytest.mark.parametrize(("state", "exists"), [("Disabled", True), ("PendingDeletion", True),
                                               ("Enabled", False)])
def test_a_disabled_deleted_or_missing_key_is_unusable(state, exists):
    place = healthy_igw()
    place.builder.kms_key(KEY, state=state, exists=exists)
    preferences(place.builder, key=False)
    result = audit(place.builder, place.instance)
    assert own_codes(result) == {"SESSION_KMS_KEY_UNUSABLE"}
    assert result.verdict == MANAGEABLE


def test_a_key_that_cannot_be_described_is_unknown():
    place = healthy_igw()
    preferences(place.builder)
    raw = place.builder.raw()
    raw.answers["kms_keys"] = [{"KeyId": KEY, "Error": "AccessDeniedException: no"}]
    from auditor.sources.parse import build_estate

    result = audit(build_estate(raw), place.instance)
    assert status(result) == UNKNOWN
    assert "DATA_UNAVAILABLE" in own_codes(result, severity=None)


# --- S3 logging -------------------------------------------------------------------------------


def _s3_only(b, **inputs):
    b.bucket(BUCKET)
    b.session_preferences(**{"s3BucketName": BUCKET, "s3KeyPrefix": "sessions",
                             "s3EncryptionEnabled": True, **inputs})


def test_s3_unreachable_without_a_way_out_and_reachable_through_a_gateway_endpoint():
    place = layout("isolated")
    with_instance(place, inline=SESSION)
    _s3_only(place.builder)
    result = audit(place.builder, place.instance)
    assert own_codes(result) == {"SESSION_LOG_S3_UNREACHABLE"}
    s3 = next(p["PrefixListId"] for p in place.builder.prefix_lists
              if p["PrefixListName"].endswith(".s3"))
    place.builder.gateway_endpoint(place.vpc, "s3", [place.table], s3)
    result = audit(place.builder, place.instance)
    assert status(result) == OK
    proof = result.capabilities["session_manager"].evidence.proofs["s3"]
    assert (proof.status, proof.via) == ("reachable", "gateway_endpoint")


def test_a_gateway_endpoint_on_another_route_table_does_not_carry_s3():
    place = layout("isolated")
    with_instance(place, inline=SESSION)
    _s3_only(place.builder)
    other = place.builder.route_table(place.vpc, [])
    s3 = next(p["PrefixListId"] for p in place.builder.prefix_lists
              if p["PrefixListName"].endswith(".s3"))
    place.builder.gateway_endpoint(place.vpc, "s3", [other], s3)
    assert own_codes(audit(place.builder, place.instance)) == {"SESSION_LOG_S3_UNREACHABLE"}


@pytest.mark.parametrize(("egress", "expected"), [
    ("endpoints-only", "SESSION_LOG_S3_UNREACHABLE"), ("s3-prefix-list", None),
    ("anywhere", None)])
def test_the_security_group_must_admit_https_to_s3(egress, expected):
    place = layout("isolated", instance_egress=[])
    b = place.builder
    s3 = next(p["PrefixListId"] for p in b.prefix_lists if p["PrefixListName"].endswith(".s3"))
    peer = {"endpoints-only": place.endpoint_group, "s3-prefix-list": s3,
            "anywhere": "0.0.0.0/0"}[egress]
    b.egress_rule(place.instance_group, ("tcp", 443, 443, place.endpoint_group))
    if peer != place.endpoint_group:
        b.egress_rule(place.instance_group, ("tcp", 443, 443, peer))
    with_instance(place, inline=SESSION)
    _s3_only(b)
    b.gateway_endpoint(place.vpc, "s3", [place.table], s3)
    result = audit(b, place.instance)
    assert result.verdict == MANAGEABLE
    assert own_codes(result) == ({expected} if expected else set())


def test_a_network_acl_that_drops_s3_replies_blocks_the_logs():
    place = layout("isolated")
    b = place.builder
    b.network_acl(place.vpc, [place.subnet], [
        (100, True, "allow", "-1", "0.0.0.0/0", None),
        (100, False, "allow", "-1", "10.0.0.0/16", None)])  # replies only from the VPC
    with_instance(place, inline=SESSION)
    _s3_only(b)
    s3 = next(p["PrefixListId"] for p in b.prefix_lists if p["PrefixListName"].endswith(".s3"))
    b.gateway_endpoint(place.vpc, "s3", [place.table], s3)
    result = audit(b, place.instance)
    assert result.verdict == MANAGEABLE  # the agent's endpoints are in the VPC
    unreachable = finding(result, "SESSION_LOG_S3_UNREACHABLE")
    assert unreachable.details["blocked_by"][0]["code"] == "NACL_BLOCKS"


def test_a_more_specific_route_for_part_of_s3_makes_the_path_unknown():
    place = layout("isolated")
    b = place.builder
    with_instance(place, inline=SESSION)
    _s3_only(b)
    s3 = next(p["PrefixListId"] for p in b.prefix_lists if p["PrefixListName"].endswith(".s3"))
    b.gateway_endpoint(place.vpc, "s3", [place.table], s3)
    b.add_route(place.table, "52.92.0.0/20", "tgw-0123456789abcdef0")
    result = audit(b, place.instance)
    assert status(result) == UNKNOWN
    assert "DESTINATION_UNCERTAIN" in own_codes(result, severity=None)


def test_the_role_must_allow_the_writes_and_the_encryption_check():
    place = layout("igw")
    with_instance(place, inline={"session": document(allow("s3:PutObject", f"arn:aws:s3:::"
                                                                          f"{BUCKET}/*"))})
    _s3_only(place.builder)
    denied = finding(audit(place.builder, place.instance), "SESSION_LOG_S3_DENIED")
    assert denied.details["actions"] == ["s3:GetEncryptionConfiguration"]
    assert denied.details["fix"] == "role_policy"


def test_without_required_encryption_the_check_is_not_needed():
    place = layout("igw")
    with_instance(place, inline={"session": document(allow("s3:PutObject", f"arn:aws:s3:::"
                                                                          f"{BUCKET}/*"))})
    _s3_only(place.builder, s3EncryptionEnabled=False)
    assert status(audit(place.builder, place.instance)) == OK


def test_a_bucket_policy_deny_is_reviewed_not_rewritten():
    place = healthy_igw()
    place.builder.bucket(BUCKET, policy=document(
        {"Sid": "NoWrites", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/*"}))
    place.builder.session_preferences(s3BucketName=BUCKET, s3KeyPrefix="sessions")
    denied = finding(audit(place.builder, place.instance), "SESSION_LOG_S3_DENIED")
    assert denied.details["fix"] == "resource_policy"
    assert '"NoWrites"' in denied.message


def test_a_bucket_policy_naming_the_role_is_enough_without_an_identity_allow():
    place = layout("igw")
    with_instance(place, inline=None)
    place.builder.bucket(BUCKET, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-role"},
         "Action": ["s3:PutObject", "s3:GetEncryptionConfiguration"],
         "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}))
    place.builder.session_preferences(s3BucketName=BUCKET, s3KeyPrefix="sessions",
                                      s3EncryptionEnabled=True)
    assert status(audit(place.builder, place.instance)) == OK


def test_the_gateway_endpoint_policy_applies_to_the_writes():
    place = layout("isolated")
    b = place.builder
    with_instance(place, inline=SESSION)
    _s3_only(b)
    s3 = next(p["PrefixListId"] for p in b.prefix_lists if p["PrefixListName"].endswith(".s3"))
    b.gateway_endpoint(place.vpc, "s3", [place.table], s3, policy=document(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::other-*", "arn:aws:s3:::other-*/*"]}))
    denied = finding(audit(b, place.instance), "SESSION_LOG_S3_DENIED")
    assert denied.details["fix"] == "endpoint_policy"


def test_an_sse_kms_bucket_needs_its_key_for_the_uploads():
    place = healthy_igw()
    key = place.builder.kms_key("alias/logs-key")
    place.builder.bucket(BUCKET, encryption="aws:kms", kms_key="alias/logs-key")
    place.builder.session_preferences(s3BucketName=BUCKET, s3KeyPrefix="sessions")
    denied = finding(audit(place.builder, place.instance), "SESSION_LOG_S3_DENIED")
    assert denied.details["key"] == key
    assert denied.details["actions"] == ["kms:GenerateDataKey"]


def test_a_missing_bucket_is_a_missing_target_and_an_unreadable_one_unknown():
    place = healthy_igw()
    place.builder.session_preferences(s3BucketName=BUCKET)
    assert own_codes(audit(place.builder, place.instance)) == {"SESSION_LOG_TARGET_MISSING"}
    raw = place.builder.raw()
    raw.answers["bucket_locations"] = [{"Bucket": BUCKET, "Error": "AccessDenied: no"}]
    from auditor.sources.parse import build_estate

    assert status(audit(build_estate(raw), place.instance)) == UNKNOWN


def test_an_unreadable_bucket_policy_is_proved_without_and_said():
    place = healthy_igw()
    _s3_only(place.builder)
    raw = place.builder.raw()
    raw.answers["bucket_policies"] = [{"Bucket": BUCKET, "Error": "AccessDenied: no"}]
    from auditor.sources.parse import build_estate

    result = audit(build_estate(raw), place.instance)
    assert status(result) == OK  # "where readable"
    assert "DATA_UNAVAILABLE" in own_codes(result, severity="warning")


def test_an_unreadable_bucket_encryption_is_unknown_not_ok():
    """An SSE-KMS bucket's key may refuse the uploads: without its encryption, unknown."""
    place = healthy_igw()
    _s3_only(place.builder)
    raw = place.builder.raw()
    raw.answers["bucket_encryption"] = [{"Bucket": BUCKET, "Error": "AccessDenied: no"}]
    from auditor.sources.parse import build_estate

    assert status(audit(place.builder, place.instance)) == OK
    result = audit(build_estate(raw), place.instance)
    assert status(result) == UNKNOWN
    assert "DATA_UNAVAILABLE" in own_codes(result, severity="warning")


# --- CloudWatch Logs ----------------------------------------------------------------------


def _group_only(b, **inputs):
    b.session_preferences(**{"cloudWatchLogGroupName": GROUP, **inputs})


def test_logs_unreachable_until_the_vpc_has_a_logs_endpoint():
    place = layout("isolated")
    with_instance(place, inline=SESSION)
    place.builder.log_group(GROUP)
    _group_only(place.builder)
    assert own_codes(audit(place.builder, place.instance)) == {
        "SESSION_LOG_CLOUDWATCH_UNREACHABLE"}
    place.builder.interface_endpoint(place.vpc, "logs", [place.subnet], [place.endpoint_group])
    assert status(audit(place.builder, place.instance)) == OK


def test_the_role_must_describe_the_group_and_write_its_streams():
    place = layout("igw")
    with_instance(place, inline={"session": document(allow("logs:PutLogEvents"))})
    place.builder.log_group(GROUP)
    _group_only(place.builder)
    denied = finding(audit(place.builder, place.instance), "SESSION_LOG_CLOUDWATCH_DENIED")
    assert denied.details["actions"] == ["logs:DescribeLogGroups", "logs:DescribeLogStreams",
                                         "logs:CreateLogStream"]


def test_a_missing_group_is_a_missing_target():
    place = healthy_igw()
    _group_only(place.builder)
    target = finding(audit(place.builder, place.instance), "SESSION_LOG_TARGET_MISSING")
    assert target.details == {"target": "cloudwatch", "log_group": GROUP}


@pytest.mark.parametrize(("key", "expected"), [(None, {"SESSION_LOG_UNENCRYPTED"}),
                                               ("arn:aws:kms:eu-west-1:1:key/x", set())])
def test_required_encryption_needs_a_group_with_a_key(key, expected):
    place = healthy_igw()
    place.builder.log_group(GROUP, kms_key=key)
    _group_only(place.builder, cloudWatchEncryptionEnabled=True)
    assert own_codes(audit(place.builder, place.instance)) == expected


# --- Run As -------------------------------------------------------------------------------


def test_run_as_is_said_as_information():
    place = healthy_igw()
    place.builder.session_preferences(runAsEnabled=True, runAsDefaultUser="ec2-user")
    notes = audit(place.builder, place.instance).capabilities["session_manager"].evidence.notes
    assert any("SSMSessionRunAs" in note and "ec2-user" in note for note in notes)


# --- against the verdict -------------------------------------------------------------------


def test_a_capability_fails_with_the_agent_and_never_changes_the_verdict():
    place = layout("isolated", endpoints=("ssm",))  # no message channel at all
    with_instance(place, inline=SESSION)
    preferences(place.builder)
    result = audit(place.builder, place.instance)
    assert result.verdict == "not_manageable"
    assert status(result) == FAIL and status(result, "patching") == FAIL
    assert "the agent is not manageable" in result.capabilities["session_manager"].reasons
    # Its own blockers follow the agent's, a step down.
    assert {f.severity for f in result.findings if f.capability} == {"warning"}


def test_a_stopped_instance_has_capabilities_not_applicable():
    place = layout("igw")
    with_instance(place, inline=SESSION, state="stopped")
    preferences(place.builder)
    result = audit(place.builder, place.instance)
    assert result.verdict == "not_applicable"
    assert {r.status for r in result.capabilities.values()} == {"not_applicable"}


def test_an_unknown_verdict_leaves_the_capability_unknown_at_best():
    place = layout("isolated", endpoints=())
    b = place.builder
    b.add_route(place.table, "0.0.0.0/0", "tgw-0123456789abcdef0")  # beyond: not modelled
    with_instance(place, inline=SESSION)
    result = audit(b, place.instance)
    assert result.verdict == UNKNOWN
    assert status(result) == UNKNOWN


def test_the_verdict_is_the_same_with_or_without_preferences():
    place = layout("isolated")
    with_instance(place, inline=None)
    plain = audit(place.builder, place.instance)
    preferences(place.builder)
    encrypted = audit(place.builder, place.instance)
    assert (plain.verdict, plain.verdict_reasons) == (encrypted.verdict,
                                                      encrypted.verdict_reasons)
    assert [f for f in plain.findings if not f.capability] == [
        f for f in encrypted.findings if not f.capability]
    assert status(encrypted) == FAIL


def test_region_of_the_preferences_is_the_instances():
    place = healthy_igw()
    preferences(place.builder)
    result = audit(place.builder, place.instance)
    kms = result.capabilities["session_manager"].evidence.proofs["kms"]
    assert kms.hostname == f"kms.{REGION}.amazonaws.com"


# --- instances alike share an answer only when no policy can tell them apart ----------------


def _twins(place):
    """Two instances alike in subnet, groups, role and public address: one proof, one role."""
    first = with_instance(place, inline=SESSION)
    second = place.builder.instance(place.subnet, [place.instance_group],
                                    instance_profile="app-role", public_ip="198.51.100.8")
    return first, second


def _statuses(b, *instances):
    report = run_audit([estate_of(b)], list(instances), SourceDescription("test"))
    return {result.instance.instance_id: status(result) for result in report.instances}


def test_a_key_policy_naming_one_instance_is_answered_per_instance():
    place = layout("igw")
    first, second = _twins(place)
    place.builder.kms_key(KEY, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:aws:ssm:TargetId": first}}}))
    preferences(place.builder, key=False)
    assert _statuses(place.builder, first, second) == {first: OK, second: FAIL}


def test_a_service_control_policy_naming_one_instance_is_answered_per_instance():
    place = layout("igw")
    first, second = _twins(place)
    place.builder.service_control_policies([[document(allow("*"))], [document(
        allow("*"), deny("s3:PutObject", Condition={"StringEquals": {
            "ec2:SourceInstanceARN": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{second}"}}))]])
    preferences(place.builder)
    assert _statuses(place.builder, first, second) == {first: OK, second: FAIL}
    assert _statuses(place.builder, second, first) == {first: OK, second: FAIL}


def test_the_context_of_a_call_tells_decisions_apart():
    """kms:GenerateDataKey on one key, once by the instance itself and once through S3 (the
    bucket's SSE-KMS): a key policy that admits only the call through S3 answers each."""
    from auditor.analysis import principal_access as access
    from auditor.analysis.session_manager import key_named

    place = layout("igw")
    with_instance(place, inline=SESSION)
    arn = place.builder.kms_key(KEY, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-role"},
         "Action": "kms:*", "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}}))
    preferences(place.builder, key=False)
    estate = estate_of(place.builder)
    memo: dict = {}
    role = access.principal(estate, "role", "app-role", memo)
    policy = access.resource_policy(key_named(estate, KEY).policy, "key policy", KEY, memo)
    instance = estate.instances[place.instance]
    outcomes = []
    for extra in ({"kms:ViaService": []},
                  {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}):
        context = access.instance_context(estate, role, instance, None, memo, extra)
        outcomes.append(access.decide(estate, role, "kms:GenerateDataKey", arn, context, memo,
                                      resource_policy=policy, required=True).outcome)
    assert outcomes == ["denied", "allowed"]
