"""IAM and Systems Manager on the offline side: snapshots, the parser, the estate builder.

The live side (moto) is in tests/test_live_source.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from auditor import aws_managed_policies
from auditor.aws_managed_policies import AWS_MANAGED_POLICIES
from auditor.cli import main
from auditor.errors import UsageError
from auditor.sources import api_calls
from auditor.sources.parse import build_estate
from auditor.sources.raw import RawRegion
from auditor.sources.snapshot import read_snapshot, write_snapshot
from builders.estate_builder import EC2_TRUST_POLICY, SSM_TRUST_POLICY, EstateBuilder
from tests.checks import assert_one_line_error

ACCOUNT_FILES = {call.file_name for call in api_calls.ALL_CALLS if call.account_wide}
CORE = "AmazonSSMManagedInstanceCore"
CORE_ARN = aws_managed_policies.arn(CORE)
DHMC_ROLE = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"


def small_estate(region: str = "eu-west-1") -> tuple[EstateBuilder, str]:
    """One healthy instance whose profile holds a role with Core, plus DHMC and SSM's view."""
    b = EstateBuilder(region=region)
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.0.0/24")
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [subnet], [("0.0.0.0/0", igw)])
    group = b.security_group(vpc, "web")
    instance = b.instance(subnet, [group], public_ip="198.51.100.1", instance_profile="web")
    b.role("web", attached=[CORE])
    b.instance_profile("web", ["web"])
    b.role("AWSSystemsManagerDefaultEC2InstanceManagementRole", trust=SSM_TRUST_POLICY,
           attached=["AmazonSSMManagedEC2InstanceDefaultPolicy"], path="/service-role/")
    b.dhmc_setting(DHMC_ROLE)
    b.managed_node(instance, "Online")
    return b, instance


# --- Snapshots -------------------------------------------------------------------------------


def test_account_answers_are_written_once_and_read_into_every_region(tmp_path: Path) -> None:
    ireland, _ = small_estate("eu-west-1")
    virginia, _ = small_estate("us-east-1")
    first, second = ireland.raw(), virginia.raw()
    second.answers.update({call.kind: first.answers[call.kind]
                           for call in api_calls.IAM_CALLS})  # one account: the same IAM

    write_snapshot(tmp_path, [first, second], "2026-11-26T09:00:00+00:00")

    assert {p.name for p in (tmp_path / api_calls.ACCOUNT_FOLDER).iterdir()} == ACCOUNT_FILES
    for region in ("eu-west-1", "us-east-1"):
        files = {p.name for p in (tmp_path / region).iterdir()}
        assert not files & ACCOUNT_FILES
        assert {"get-service-setting.json", "describe-instance-information.json"} <= files
    raws = read_snapshot(tmp_path)
    assert [raw.region for raw in raws] == ["eu-west-1", "us-east-1"]
    for raw, written in zip(raws, (first, second), strict=True):
        assert raw.answers == json.loads(json.dumps(written.answers))
        assert raw.errors == {}
    assert raws[0].answers["iam_authorization"] is raws[1].answers["iam_authorization"]
    estate = build_estate(raws[1])
    assert set(estate.roles) == {"web", "AWSSystemsManagerDefaultEC2InstanceManagementRole"}
    assert estate.default_host_management.value == DHMC_ROLE


def test_account_errors_are_kept_once_in_the_manifest(tmp_path: Path) -> None:
    raws = []
    for region in ("eu-west-1", "us-east-1"):
        raw = small_estate(region)[0].raw()
        for call in api_calls.ALL_CALLS:
            if call.account_wide:
                del raw.answers[call.kind]
        raw.errors = {"iam_authorization": "AccessDenied: no", "instance_information":
                      f"AccessDeniedException: not in {region}"}
        raws.append(raw)

    write_snapshot(tmp_path, raws)

    manifest = json.loads((tmp_path / api_calls.MANIFEST_FILE).read_text())
    assert manifest["errors"] == {
        "account": {"iam_authorization": "AccessDenied: no"},
        "eu-west-1": {"instance_information": "AccessDeniedException: not in eu-west-1"},
        "us-east-1": {"instance_information": "AccessDeniedException: not in us-east-1"},
    }
    assert not (tmp_path / api_calls.ACCOUNT_FOLDER).exists()
    read = read_snapshot(tmp_path)
    assert [raw.errors for raw in read] == [raw.errors for raw in raws]
    estate = build_estate(read[0])
    assert estate.unavailable["iam_authorization"] == "AccessDenied: no"
    assert estate.unavailable["iam_policies"] == "get-policy.json was not captured"


@pytest.mark.parametrize("layout", ["beside", "account-folder"])
def test_flat_folder_holds_the_iam_files_beside_or_in_an_account_folder(
        tmp_path: Path, layout: str) -> None:
    builder, instance = small_estate()
    written = builder.write(tmp_path / "snapshot")
    flat = tmp_path / "flat"
    shutil.copytree(written / "eu-west-1", flat)  # what `aws ... > FILE` gives: no manifest
    target = flat if layout == "beside" else flat / api_calls.ACCOUNT_FOLDER
    shutil.copytree(written / api_calls.ACCOUNT_FOLDER, target, dirs_exist_ok=True)

    [raw] = read_snapshot(flat)

    estate = build_estate(raw, [instance])
    assert estate.unavailable == {}
    assert estate.instance_profiles[estate.instances[instance].instance_profile_arn].role_names \
        == ["web"]


# --- The parser ------------------------------------------------------------------------------


def encoded(document: dict) -> str:
    """A policy document as the raw IAM API returns it: URL-encoded JSON text (RFC 3986)."""
    return quote(json.dumps(document), safe="")


def raw_region(**answers) -> RawRegion:
    """Only the IAM and SSM kinds; the rest is "not captured", which the parser allows."""
    return RawRegion("eu-west-1", "111122223333", answers)


BOUNDARY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ssm:*", "ssmmessages:*"], "Resource": "*"}]}
INLINE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "ssm:SendCommand", "Resource": "*"}]}


def role_detail(**overrides) -> dict:
    detail = {
        "RoleName": "app", "Arn": "arn:aws:iam::111122223333:role/app",
        "AssumeRolePolicyDocument": encoded(EC2_TRUST_POLICY),
        "RolePolicyList": [{"PolicyName": "no-commands", "PolicyDocument": encoded(INLINE)}],
        "AttachedManagedPolicies": [{"PolicyName": CORE, "PolicyArn": CORE_ARN}],
        "PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                                "PermissionsBoundaryArn":
                                    "arn:aws:iam::111122223333:policy/boundary"},
        "Tags": [{"Key": "team", "Value": "payments"}],
        "InstanceProfileList": [{
            "InstanceProfileName": "app-profile",
            "Arn": "arn:aws:iam::111122223333:instance-profile/app-profile",
            "Roles": [{"RoleName": "app", "Arn": "arn:aws:iam::111122223333:role/app"}]}],
    }
    detail.update(overrides)
    return detail


def test_url_encoded_documents_as_the_raw_api_returns_them() -> None:
    details = {"RoleDetailList": [role_detail()], "Policies": [{
        # moto leaves PolicyName out: the name comes from the ARN.
        "Arn": "arn:aws:iam::111122223333:policy/boundary", "DefaultVersionId": "v3",
        "PolicyVersionList": [
            {"VersionId": "v3", "IsDefaultVersion": True, "Document": encoded(BOUNDARY)},
            {"VersionId": "v2", "IsDefaultVersion": False, "Document": encoded(INLINE)}]}]}
    policies = [{"PolicyArn": CORE_ARN, "Policy": {"PolicyName": CORE, "Arn": CORE_ARN,
                                                   "DefaultVersionId": "v2"}}]
    versions = [{"PolicyArn": CORE_ARN, "PolicyVersion": {
        "VersionId": "v2", "IsDefaultVersion": True,
        "Document": encoded(AWS_MANAGED_POLICIES[CORE])}}]

    estate = build_estate(raw_region(iam_authorization=details, iam_policies=policies,
                                     iam_policy_versions=versions))

    role = estate.roles["app"]
    assert role.trust_policy == EC2_TRUST_POLICY
    assert role.inline_policies == {"no-commands": INLINE}
    assert role.attached_policy_arns == [CORE_ARN]
    assert role.permissions_boundary_arn == "arn:aws:iam::111122223333:policy/boundary"
    assert role.tags == {"team": "payments"}
    profile = estate.instance_profiles["arn:aws:iam::111122223333:instance-profile/app-profile"]
    assert (profile.name, profile.role_names) == ("app-profile", ["app"])
    boundary = estate.managed_policies["arn:aws:iam::111122223333:policy/boundary"]
    assert (boundary.name, boundary.document, boundary.aws_managed) == (
        "boundary", BOUNDARY, False)
    core = estate.managed_policies[CORE_ARN]
    assert (core.name, core.document, core.aws_managed) == (
        CORE, AWS_MANAGED_POLICIES[CORE], True)


def test_documents_as_json_objects_or_plain_json_text() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a%41b/*"}]})
    details = {"RoleDetailList": [role_detail(AssumeRolePolicyDocument=EC2_TRUST_POLICY,
                                              RolePolicyList=[{"PolicyName": "text",
                                                               "PolicyDocument": text}])],
               "Policies": []}

    role = build_estate(raw_region(iam_authorization=details)).roles["app"]

    assert role.trust_policy == EC2_TRUST_POLICY
    # Plain JSON text is not URL-decoded: a literal "%41" stays as it is.
    assert role.inline_policies["text"]["Statement"][0]["Resource"] == "arn:aws:s3:::a%41b/*"


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws-cn:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws-us-gov:iam::aws:policy/service-role/AmazonSSMManagedEC2InstanceDefaultPolicy",
])
def test_aws_managed_policies_in_every_partition(arn: str) -> None:
    details = {"RoleDetailList": [], "Policies": [{"Arn": arn, "PolicyVersionList": []}]}

    policy = build_estate(raw_region(iam_authorization=details)).managed_policies[arn]

    assert policy.aws_managed
    assert policy.document is None  # no default version listed: not read


def test_a_profile_without_a_role_is_not_in_the_model() -> None:
    # IAM lists instance profiles inside the roles they hold; an empty one is nowhere.
    estate = build_estate(raw_region(iam_authorization={"RoleDetailList": [], "Policies": []}))

    assert estate.instance_profiles == {}
    assert "iam_authorization" not in estate.unavailable


@pytest.mark.parametrize(("answer", "value", "status"), [
    ({"ServiceSetting": None}, None, "NotFound"),  # AWS answered ServiceSettingNotFound
    ({"ServiceSetting": {"SettingId": api_calls.DHMC_SETTING_ID, "SettingValue": "$None",
                         "Status": "Default"}}, None, "Default"),
    ({"ServiceSetting": {"SettingId": api_calls.DHMC_SETTING_ID, "SettingValue": ""}}, None, ""),
    ({"ServiceSetting": {"SettingId": api_calls.DHMC_SETTING_ID, "SettingValue": DHMC_ROLE,
                         "Status": "Customized"}}, DHMC_ROLE, "Customized"),
])
def test_default_host_management_setting(answer: dict, value: str | None, status: str) -> None:
    setting = build_estate(raw_region(dhmc_setting=answer)).default_host_management

    assert (setting.setting_id, setting.value, setting.status) == (
        api_calls.DHMC_SETTING_ID, value, status)


def test_unread_setting_is_none_and_unavailable() -> None:
    raw = raw_region()
    raw.errors["dhmc_setting"] = "AccessDeniedException: no"

    estate = build_estate(raw)

    assert estate.default_host_management is None
    assert estate.unavailable["dhmc_setting"] == "AccessDeniedException: no"


def test_managed_nodes_follow_the_instance_scope() -> None:
    nodes = {"InstanceInformationList": [
        {"InstanceId": "i-1", "PingStatus": "ConnectionLost", "AgentVersion": "3.2.582.0",
         "IsLatestVersion": False, "LastPingDateTime": 1764140400.5,  # the raw JSON API
         "PlatformName": "Ubuntu"},
        {"InstanceId": "i-2", "PingStatus": "Online",
         "LastPingDateTime": "2026-11-26T08:59:30.123000+00:00"},
        {"InstanceId": "mi-0123456789abcdef0", "PingStatus": "Online"},
    ]}
    details = {"RoleDetailList": [role_detail()], "Policies": []}

    everything = build_estate(raw_region(instance_information=nodes,
                                         iam_authorization=details))
    scoped = build_estate(raw_region(instance_information=nodes, iam_authorization=details),
                          ["i-1"])

    assert set(everything.managed_nodes) == {"i-1", "i-2", "mi-0123456789abcdef0"}
    node = scoped.managed_nodes["i-1"]
    assert set(scoped.managed_nodes) == {"i-1"}
    assert (node.ping_status, node.agent_version, node.is_latest_version, node.last_ping,
            node.platform_name) == ("ConnectionLost", "3.2.582.0", False,
                                    "2025-11-26T07:00:00.500000+00:00", "Ubuntu")
    assert everything.managed_nodes["i-2"].is_latest_version is None
    assert set(scoped.roles) == {"app"}  # IAM is small: kept whole


# --- Malformed files: one line, exit 2 -------------------------------------------------------


@pytest.mark.parametrize(("file_name", "content", "words"), [
    ("get-account-authorization-details.json", "{not json",
     ["get-account-authorization-details.json"]),
    ("get-account-authorization-details.json", '{"RoleDetailList": 5}',
     ["account/get-account-authorization-details.json", "RoleDetailList", "a list"]),
    ("get-account-authorization-details.json",
     json.dumps({"RoleDetailList": [role_detail(AssumeRolePolicyDocument="%7Bnot%20json")]}),
     ["get-account-authorization-details.json", "trust policy of role app", "not JSON"]),
    ("get-account-authorization-details.json",
     json.dumps({"RoleDetailList": [role_detail(RolePolicyList=[{"PolicyName": "x"}])]}),
     ["get-account-authorization-details.json", "PolicyDocument"]),
    ("get-account-authorization-details.json",
     json.dumps({"RoleDetailList": [role_detail(AssumeRolePolicyDocument='"text"')]}),
     ["trust policy of role app", "not a JSON object"]),
    ("get-policy-version.json", '{"PolicyVersion": {}}',
     ["get-policy-version.json", "list"]),
    ("get-service-setting.json", "[]", ["get-service-setting.json", "ServiceSetting"]),
    ("describe-instance-information.json", '{"InstanceInformationList": [{}]}',
     ["describe-instance-information.json", "InstanceId"]),
])
def test_malformed_iam_and_ssm_files(capsys, tmp_path: Path, file_name: str, content: str,
                                     words: list[str]) -> None:
    builder, _ = small_estate()
    snapshot = builder.write(tmp_path / "snapshot")
    folder = "account" if file_name.startswith("get-") and "service" not in file_name \
        else "eu-west-1"
    (snapshot / folder / file_name).write_text(content)

    code = main(["--all", "--snapshot", str(snapshot)])

    assert_one_line_error(code, capsys.readouterr().err, *words)


def test_malformed_document_is_a_usage_error_from_the_parser() -> None:
    details = {"RoleDetailList": [role_detail(RolePolicyList=[
        {"PolicyName": "broken", "PolicyDocument": "%7B%22Statement%22%3A"}])]}

    with pytest.raises(UsageError, match=r"malformed get-account-authorization-details\.json "
                                         r"\(account\): inline policy broken of role app"):
        build_estate(raw_region(iam_authorization=details))


# --- The estate builder and the AWS managed policies -----------------------------------------


def test_builder_profiles_match_the_instances_and_leave_ec2_unchanged() -> None:
    plain, with_iam = EstateBuilder(), EstateBuilder()
    for b in (plain, with_iam):
        vpc = b.vpc()
        if b is with_iam:
            b.managed_policy("extra", {"Version": "2012-10-17", "Statement": []})
            b.role("app", attached=[CORE, "extra"], boundary="extra")
        subnet = b.subnet(vpc, "10.0.0.0/24")
        b.instance(subnet, [b.security_group(vpc)], instance_profile="app")
    profile_arn = with_iam.instance_profile("app", ["app"])
    with_iam.instance_profile("empty", [])

    iam_kinds = {call.kind for call in api_calls.IAM_CALLS + api_calls.SSM_CALLS}
    assert {k: v for k, v in plain.raw().answers.items() if k not in iam_kinds} == \
        {k: v for k, v in with_iam.raw().answers.items() if k not in iam_kinds}
    estate = build_estate(with_iam.raw())
    [instance] = estate.instances.values()
    assert instance.instance_profile_arn == profile_arn
    assert estate.instance_profiles[profile_arn].role_names == ["app"]
    assert len(estate.instance_profiles) == 1  # the empty profile is not listed, as in AWS
    role = estate.roles["app"]
    assert role.trust_policy == EC2_TRUST_POLICY
    assert role.attached_policy_arns == [CORE_ARN, "arn:aws:iam::111122223333:policy/extra"]
    assert role.permissions_boundary_arn == "arn:aws:iam::111122223333:policy/extra"
    assert estate.managed_policies[CORE_ARN].document == AWS_MANAGED_POLICIES[CORE]
    assert estate.default_host_management.value is None
    assert estate.managed_nodes == {}
    assert estate.unavailable == {}


def test_aws_managed_policies_match_the_copy_moto_imports_from_aws() -> None:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    published = json.loads(aws_managed_policies_data)
    for name, document in AWS_MANAGED_POLICIES.items():
        assert document == published[name]["Document"] | {"Version": "2012-10-17"}, name
        actions = [a for statement in document["Statement"] for a in statement["Action"]]
        assert "ssm:UpdateInstanceInformation" in actions
    core = AWS_MANAGED_POLICIES[CORE]["Statement"]
    assert [len(statement["Action"]) for statement in core] == [15, 4, 6]
