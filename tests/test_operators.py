"""Who may connect: --operator ARN and --operators, evaluated with the instance's real tags, the
default session document, the preferences' KMS key, SCPs and boundaries."""

from __future__ import annotations

import json

import pytest

from auditor.audit import AuditOptions
from auditor.cli import main
from auditor.vocabulary import FAIL, OK, UNKNOWN
from tests.capability_estates import (
    ACCOUNT,
    allow,
    audit,
    document,
    layout,
    preferences,
    session_access,
    with_instance,
)

DOCUMENT = f"arn:aws:ssm:*:{ACCOUNT}:document/SSM-SessionManagerRunShell"
INSTANCES = f"arn:aws:ec2:*:{ACCOUNT}:instance/*"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _estate(tags=None, prefs=True):
    place = layout("igw")
    with_instance(place, inline={"session": session_access()}, tags=tags or {"team": "payments"})
    if prefs:
        preferences(place.builder)
    return place


def operator(place, arn, **options):
    result = audit(place.builder, place.instance, AuditOptions(operators=(arn,), **options))
    return result, result.capabilities["session_manager"].operators[arn]


@pytest.mark.parametrize(("team", "expected"), [("payments", OK), ("search", FAIL)])
def test_resource_tag_conditions_use_the_instances_real_tags(team, expected):
    place = _estate(tags={"team": team})
    place.builder.role("support", inline={"sessions": document(
        allow("ssm:StartSession", INSTANCES, Condition={
            "StringEquals": {"ssm:resourceTag/team": "payments"}}),
        allow("ssm:StartSession", DOCUMENT), allow("kms:GenerateDataKey"))})
    result, found = operator(place, role_arn("support"))
    assert found.status == expected
    assert result.verdict == "manageable"  # who may connect never changes the verdict
    if expected == FAIL:
        assert [f.code for f in found.findings] == ["OPERATOR_CANNOT_START_SESSION"]
        assert found.findings[0].capability == "session_manager"


def test_the_default_session_document_must_be_allowed_too():
    place = _estate()
    place.builder.role("half", inline={"sessions": document(
        allow("ssm:StartSession", INSTANCES), allow("kms:GenerateDataKey"))})
    _, found = operator(place, role_arn("half"))
    assert found.status == FAIL
    assert "document/SSM-SessionManagerRunShell" in found.findings[0].message


def test_the_preferences_key_needs_generate_data_key():
    place = _estate()
    place.builder.role("no-kms", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT]))})
    _, found = operator(place, role_arn("no-kms"))
    assert [f.code for f in found.findings] == ["OPERATOR_KMS_DENIED"]
    without_key = _estate(prefs=False)
    without_key.builder.role("no-kms", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT]))})
    assert operator(without_key, role_arn("no-kms"))[1].status == OK


def test_a_user_is_evaluated_with_its_groups_policies_and_an_scp():
    place = _estate()
    b = place.builder
    b.group("oncall", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT]), allow("kms:GenerateDataKey"))})
    b.user("alice", groups=["oncall"])
    assert operator(place, f"arn:aws:iam::{ACCOUNT}:user/alice")[1].status == OK
    b.service_control_policies([[document(allow("*"))], [document(allow("*"), {
        "Effect": "Deny", "Action": "ssm:StartSession", "Resource": "*"})]])
    _, found = operator(place, f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert found.status == FAIL
    assert found.findings[0].details["reason"] == "explicit_deny"


def test_an_assumed_role_session_is_its_role_and_a_missing_role_cannot_connect():
    place = _estate()
    place.builder.role("support", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT]), allow("kms:GenerateDataKey"))})
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/support/alice@example.com"
    assert operator(place, session)[1].status == OK
    _, missing = operator(place, role_arn("nobody"))
    assert missing.status == FAIL and "does not exist" in missing.findings[0].message


def test_a_principal_of_another_account_is_unknown():
    place = _estate()
    _, found = operator(place, "arn:aws:iam::999988887777:role/support")
    assert found.status == UNKNOWN


@pytest.mark.parametrize(("tag", "default", "expected"), [
    ("deploy", "", ("ok", "deploy")), (None, "ec2-user", ("ok", "ec2-user")),
    (None, "", ("fail", None))])
def test_run_as_takes_the_principals_tag_else_the_default_user(tag, default, expected):
    place = layout("igw")
    with_instance(place, inline={"session": session_access()})
    place.builder.session_preferences(runAsEnabled=True, runAsDefaultUser=default)
    place.builder.role("support", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT]))},
        tags={"SSMSessionRunAs": tag} if tag else None)
    _, found = operator(place, role_arn("support"))
    assert (found.status, found.run_as) == expected


def test_operators_lists_who_may_and_who_might():
    place = _estate()
    b = place.builder
    b.role("support", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT]), allow("kms:GenerateDataKey"))})
    b.role("maybe", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT],
              Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        allow("kms:GenerateDataKey"))})
    b.role("auditor", inline={"look": document(allow("ssm:Describe*"))})
    result = audit(b, place.instance, AuditOptions(list_operators=True))
    listing = result.capabilities["session_manager"].operator_listing
    assert {(o.principal, o.status) for o in listing} == {
        (role_arn("support"), OK), (role_arn("maybe"), UNKNOWN)}


def test_operators_are_listed_for_unhealthy_instances_only_with_all(tmp_path, capsys):
    place = _estate()
    b = place.builder
    healthy = b.instance(place.subnet, [place.instance_group], instance_profile="app-role",
                         public_ip="198.51.100.9")
    b.role("support", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT]), allow("kms:GenerateDataKey"))})
    snapshot = b.write(tmp_path / "estate")
    code = main(["--all", "--snapshot", str(snapshot), "--operators", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    listed = {i["instance_id"]: "operators" in i["capabilities"]["session_manager"]
              for i in report["instances"]}
    # both are healthy apart from NOT_REGISTERED warnings: none listed with --all
    assert code == 0 and not any(listed.values()) and healthy in listed
    main(["--instance", healthy, "--snapshot", str(snapshot), "--operators", "--format", "json"])
    [instance] = json.loads(capsys.readouterr().out)["instances"]
    assert [o["principal"] for o in instance["capabilities"]["session_manager"]["operators"]] \
        == [role_arn("support")]


def test_the_command_line_names_the_operator_in_json_and_text(tmp_path, capsys):
    place = _estate()
    place.builder.role("support", inline={"sessions": document(
        allow("ssm:StartSession", [INSTANCES, DOCUMENT]))})
    snapshot = place.builder.write(tmp_path / "estate")
    arn = role_arn("support")
    main(["--instance", place.instance, "--snapshot", str(snapshot), "--operator", arn,
          "--format", "json"])
    [instance] = json.loads(capsys.readouterr().out)["instances"]
    found = instance["capabilities"]["session_manager"]["operator"][arn]
    assert (found["status"], found["findings"]) == ("fail", ["OPERATOR_KMS_DENIED"])
    assert any(f["code"] == "OPERATOR_KMS_DENIED" and f["capability"] == "session_manager"
               for f in instance["findings"])
    main(["--instance", place.instance, "--snapshot", str(snapshot), "--operator", arn])
    assert f"operator {arn}: fail OPERATOR_KMS_DENIED" in capsys.readouterr().out


def test_a_bad_operator_arn_is_one_line(capsys):
    assert main(["--all", "--snapshot", "demo/estate", "--operator", "alice"]) == 2
    assert "--operator alice: not the ARN of an IAM role or user" in capsys.readouterr().err

