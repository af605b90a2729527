"""Service control policies in every source: live (moto), snapshots, the parser, the builder,
and what the analysis makes of them, and of their absence.

Live tests audit through ``auditor.cli.main`` like tests/test_scenarios_credentials_moto.py: a
healthy network (public subnet, internet gateway), the agent's role with
AmazonSSMManagedInstanceCore, Systems Manager stubbed (moto lacks it) to see the instance Online.
The organization comes from tests/moto_organization.py (see its moto gap: moto's account is
made a member that may read the organization).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from auditor.cli import main
from auditor.errors import UsageError
from auditor.sources import api_calls
from auditor.sources.parse import build_estate
from builders.estate_builder import FULL_AWS_ACCESS, MANAGEMENT_ACCOUNT, EstateBuilder
from tests.checks import assert_one_line_error
from tests.moto_estate import REGION, MotoVpc, agent_only, managed_node, record_operations, stub_ssm
from tests.moto_organization import ACCOUNT, FULL_AWS_ACCESS_ID, build_organization

pytestmark = pytest.mark.usefixtures("fake_aws")

HEARTBEAT = "ssm:UpdateInstanceInformation"
ORGANIZATIONS_OPERATIONS = {call.operation for call in api_calls.ORGANIZATION_CALLS}
READ_ONLY_OPERATIONS = {call.operation for call in api_calls.ALL_CALLS}
SCP_KINDS = [call.kind for call in api_calls.ORGANIZATION_CALLS]
DHMC_SETTING = api_calls.DHMC_SETTING_ID


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


NO_HEARTBEAT = policy({"Sid": "NoHeartbeat", "Effect": "Deny", "Action": HEARTBEAT,
                       "Resource": "*"})
# An allow-list SCP that forgot Systems Manager's heartbeat.
ALLOW_LIST = policy({"Sid": "AllowListed", "Effect": "Allow",
                     "Action": ["ec2:*", "ssmmessages:*", "ec2messages:*"], "Resource": "*"})


# --- Live, through the command line ----------------------------------------------------------


@pytest.fixture
def organizations(vpc: MotoVpc) -> Any:
    return boto3.client("organizations", region_name=REGION)


def healthy_instance(vpc: MotoVpc, monkeypatch: pytest.MonkeyPatch) -> str:
    """Reachable everywhere, its role allowed everything; Systems Manager sees it Online."""
    instance_id = vpc.instance(vpc.public_subnet, public_ip=True)
    stub_ssm(monkeypatch, None, [managed_node(instance_id)])
    return instance_id


def audit(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--region", REGION, "--format", "json"])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, json.loads(captured.out)


def audit_one(capsys: pytest.CaptureFixture, instance_id: str) -> tuple[int, dict]:
    code, report = audit(capsys, "--instance", instance_id)
    [instance] = report["instances"]
    return code, agent_only(instance)


def findings_of(instance: dict) -> set[tuple[str, str | None, str, str]]:
    return {(f["code"], f["service"], f["resource_id"], f["severity"])
            for f in instance["findings"]}


def refuse(monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
    """Answer ``operation`` with AccessDeniedException, as AWS answers a member account."""
    def denied(**_kwargs: Any) -> tuple[AWSResponse, dict]:
        parsed = {"Error": {"Code": "AccessDeniedException",
                            "Message": "You don't have permissions to access this resource."},
                  "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://organizations.test", 400, {}, None), parsed

    hook(monkeypatch, f"before-call.organizations.{operation}", denied)


def hook(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable) -> None:
    real_session = boto3.Session  # stub_ssm's, when it ran first: both hooks stay

    def session_with_hook(*args: Any, **kwargs: Any) -> Any:
        session = real_session(*args, **kwargs)
        session.events.register_first(event, handler)
        return session

    monkeypatch.setattr(boto3, "Session", session_with_hook)


def test_an_scp_deny_in_an_ou_is_named_through_the_command_line(
        capsys, vpc: MotoVpc, organizations, monkeypatch) -> None:
    # root, level-1 OU (the deny), level-2 OU, the account: four levels, root first.
    build_organization(organizations, [[], [("no-heartbeat", NO_HEARTBEAT)]], ous=2)
    instance_id = healthy_instance(vpc, monkeypatch)

    code, instance = audit_one(capsys, instance_id)

    assert (instance["verdict"], code) == ("not_manageable", 1)
    assert (instance["permissions"]["status"], instance["permissions"]["missing_actions"]) == (
        "fail", [HEARTBEAT])
    assert findings_of(instance) == {("SCP_DENIES", "ssm", "agent-role", "error"),
                                     ("DHMC_DISABLED", None, DHMC_SETTING, "warning")}
    [scp] = [f for f in instance["findings"] if f["code"] == "SCP_DENIES"]
    # The statement by its Sid, at the level it sits: level 2 of 4 is the OU under the root.
    assert 'statement "NoHeartbeat" of service control policy' in scp["message"]
    assert "level 2" in scp["message"]
    assert HEARTBEAT in scp["message"]


def test_an_allow_list_scp_on_the_account_refuses_what_it_does_not_list(
        capsys, vpc: MotoVpc, organizations, monkeypatch) -> None:
    # The account keeps FullAWSAccess beside the allow list: FullAWSAccess allows everything,
    # so detach it, as an allow-list strategy does.
    build_organization(organizations, [[], [], [("allow-list", ALLOW_LIST)]])
    organizations.detach_policy(PolicyId=FULL_AWS_ACCESS_ID, TargetId=ACCOUNT)
    instance_id = healthy_instance(vpc, monkeypatch)

    code, instance = audit_one(capsys, instance_id)

    assert (instance["verdict"], code) == ("not_manageable", 1)
    assert instance["permissions"]["missing_actions"] == [HEARTBEAT]
    [scp] = [f for f in instance["findings"] if f["code"] == "SCP_DENIES"]
    assert (scp["service"], scp["severity"]) == ("ssm", "error")
    # No statement decides: the level lacking an allow is named, the account's (the last).
    assert "service control policies at level 3 of 3" in scp["message"]


@pytest.mark.parametrize("operation", ["ListParents", "ListPoliciesForTarget", "DescribePolicy",
                                       "DescribeOrganization"])
def test_unreadable_scps_leave_a_warning_and_permissions_ok(
        capsys, vpc: MotoVpc, organizations, monkeypatch, operation: str) -> None:
    """A member account is refused ListParents and the rest (only the management account or a
    delegated administrator may read SCPs); DescribeOrganization refused leaves it unknown
    whether the account is in an organization at all. Either way: a warning, not unknown."""
    build_organization(organizations, [[], [("no-heartbeat", NO_HEARTBEAT)]])
    instance_id = healthy_instance(vpc, monkeypatch)
    refuse(monkeypatch, operation)

    code, instance = audit_one(capsys, instance_id)

    assert (instance["verdict"], code) == ("manageable", 0)
    assert (instance["permissions"]["status"], instance["credentials"]["status"]) == ("ok", "ok")
    assert findings_of(instance) == {("DATA_UNAVAILABLE", None, ACCOUNT, "warning")}
    [warning] = instance["findings"]
    assert "AccessDeniedException" in warning["message"]
    assert "an SCP deny of the agent's actions cannot be ruled out" in warning["message"]


def test_unreadable_scps_add_nothing_to_refused_permissions(
        capsys, vpc: MotoVpc, organizations, monkeypatch) -> None:
    build_organization(organizations)
    iam = boto3.client("iam", region_name=REGION)
    iam.put_role_policy(RoleName="agent-role", PolicyName="lockdown", PolicyDocument=json.dumps(
        NO_HEARTBEAT))
    instance_id = healthy_instance(vpc, monkeypatch)
    refuse(monkeypatch, "ListParents")

    code, instance = audit_one(capsys, instance_id)

    assert (instance["verdict"], code) == ("not_manageable", 1)
    assert "DATA_UNAVAILABLE" not in {f["code"] for f in instance["findings"]}


def test_not_in_an_organization_reads_one_call_and_adds_nothing(
        capsys, vpc: MotoVpc, monkeypatch) -> None:
    instance_id = healthy_instance(vpc, monkeypatch)
    operations = record_operations(monkeypatch)

    code, instance = audit_one(capsys, instance_id)

    assert (instance["verdict"], code) == ("manageable", 0)
    assert instance["findings"] == []
    assert [name for name in operations if name in ORGANIZATIONS_OPERATIONS] == [
        "DescribeOrganization"]


def test_scps_do_not_apply_to_the_management_account(
        capsys, vpc: MotoVpc, organizations, monkeypatch) -> None:
    build_organization(organizations, [[], [("no-heartbeat", NO_HEARTBEAT)]], member=False)
    instance_id = healthy_instance(vpc, monkeypatch)
    operations = record_operations(monkeypatch)

    code, instance = audit_one(capsys, instance_id)

    assert (instance["verdict"], code) == ("manageable", 0)
    assert instance["findings"] == []
    assert [name for name in operations if name in ORGANIZATIONS_OPERATIONS] == [
        "DescribeOrganization"]


def test_live_scps_are_read_root_first_with_full_aws_access_kept(
        vpc: MotoVpc, organizations, monkeypatch) -> None:
    from auditor.sources.live import collect

    organization = build_organization(organizations, [[], [("no-heartbeat", NO_HEARTBEAT)]])
    instance_id = healthy_instance(vpc, monkeypatch)
    messages: list[str] = []

    [raw] = collect([REGION], instance_ids=[instance_id], progress=messages.append)

    parents = raw.answers["organization_parents"]
    assert [(a["ChildId"], [p["Id"] for p in a["Parents"]]) for a in parents] == [
        (ACCOUNT, organization.ou_ids), (organization.ou_ids[0], [organization.root_id])]
    attachments = raw.answers["scp_attachments"]
    assert [answer["TargetId"] for answer in attachments] == [
        ACCOUNT, organization.ou_ids[0], organization.root_id]
    documents = raw.answers["scp_documents"]
    assert [d["Policy"]["PolicySummary"]["Id"] for d in documents] == [
        FULL_AWS_ACCESS_ID, organization.policy_ids["no-heartbeat"]]
    estate = build_estate(raw)
    assert estate.unavailable == {}
    assert estate.service_control_policies == [
        [FULL_AWS_ACCESS], [FULL_AWS_ACCESS, NO_HEARTBEAT], [FULL_AWS_ACCESS]]
    assert "account: list-parents (2 calls)" in messages
    assert "account: list-policies-for-target (3 calls)" in messages
    assert "account: describe-policy (2 calls)" in messages


def test_snapshot_round_trip_keeps_the_scps(capsys, vpc: MotoVpc, organizations, monkeypatch,
                                            tmp_path: Path) -> None:
    build_organization(organizations, [[], [("no-heartbeat", NO_HEARTBEAT)]])
    instance_id = healthy_instance(vpc, monkeypatch)
    live_code, live = audit(capsys, "--instance", instance_id)
    assert main(["snapshot", "--out", str(tmp_path), "--region", REGION,
                 "--instance", instance_id]) == 0
    capsys.readouterr()

    offline_code, offline = audit(capsys, "--all", "--snapshot", str(tmp_path))

    assert offline_code == live_code == 1
    assert offline["instances"] == live["instances"]
    assert "SCP_DENIES" in {f["code"] for f in offline["instances"][0]["findings"]}
    account = tmp_path / api_calls.ACCOUNT_FOLDER
    for call in api_calls.ORGANIZATION_CALLS:
        assert (account / call.file_name).is_file(), call.file_name
    assert not any((tmp_path / REGION / call.file_name).exists()
                   for call in api_calls.ORGANIZATION_CALLS)


def test_call_count_does_not_grow_with_instances(vpc: MotoVpc, organizations,
                                                 monkeypatch) -> None:
    from auditor.sources.live import collect

    build_organization(organizations, [[], [("no-heartbeat", NO_HEARTBEAT)]], ous=2)
    first = healthy_instance(vpc, monkeypatch)
    operations = record_operations(monkeypatch)
    collect([REGION], instance_ids=[first])
    with_one = Counter(operations)

    more = [vpc.instance(vpc.public_subnet, public_ip=True) for _ in range(29)]
    operations.clear()
    collect([REGION, "eu-west-1"], instance_ids=[first, *more])
    with_thirty = Counter(operations)

    organization_calls = {name: with_thirty[name] for name in ORGANIZATIONS_OPERATIONS}
    assert organization_calls == {name: with_one[name] for name in ORGANIZATIONS_OPERATIONS}
    # Once per account, whatever the regions: one call per level, per distinct policy.
    assert organization_calls == {"DescribeOrganization": 1, "ListParents": 3,
                                  "ListPoliciesForTarget": 4, "DescribePolicy": 2}


@pytest.mark.parametrize("argv", [["--all"], ["snapshot", "--out", "SNAPSHOT_DIR"]])
def test_reading_scps_is_read_only(vpc: MotoVpc, organizations, monkeypatch, capsys,
                                   tmp_path: Path, argv: list[str]) -> None:
    build_organization(organizations, [[], [("no-heartbeat", NO_HEARTBEAT)]])
    healthy_instance(vpc, monkeypatch)
    operations = record_operations(monkeypatch)

    main([str(tmp_path) if arg == "SNAPSHOT_DIR" else arg for arg in argv])

    capsys.readouterr()
    assert set(operations) >= ORGANIZATIONS_OPERATIONS
    assert all(name.startswith(api_calls.READ_ONLY_PREFIXES) for name in operations), operations
    assert set(operations) <= READ_ONLY_OPERATIONS


# --- Offline: the builder, snapshots and the parser ------------------------------------------


def small_estate(**scps: Any) -> tuple[EstateBuilder, str]:
    """One healthy instance (Core, internet gateway, Online); ``scps``: for the builder."""
    b = EstateBuilder()
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.0.0/24")
    b.route_table(vpc, [subnet], [("0.0.0.0/0", b.internet_gateway(vpc))])
    instance = b.instance(subnet, [b.security_group(vpc)], public_ip="198.51.100.1",
                          instance_profile="web")
    b.role("web", attached=["AmazonSSMManagedInstanceCore"])
    b.instance_profile("web", ["web"])
    b.managed_node(instance)
    if scps:
        b.service_control_policies(**scps)
    return b, instance


def offline_audit(capsys: pytest.CaptureFixture, snapshot: Path) -> tuple[int, dict]:
    code = main(["--all", "--snapshot", str(snapshot), "--format", "json"])
    captured = capsys.readouterr()
    assert captured.err == ""
    [instance] = json.loads(captured.out)["instances"]
    return code, agent_only(instance)


def test_builder_default_is_no_organization() -> None:
    builder, _ = small_estate()
    raw = builder.raw()

    assert raw.answers["organization"] == {"Organization": None}
    assert [raw.answers[kind] for kind in SCP_KINDS[1:]] == [[], [], []]
    estate = build_estate(raw)
    assert (estate.service_control_policies, estate.unavailable) == ([], {})


def test_levels_come_out_root_first_whatever_the_order_of_the_answers() -> None:
    root_level, ou_level, account_level = [FULL_AWS_ACCESS], [FULL_AWS_ACCESS, NO_HEARTBEAT], \
        [FULL_AWS_ACCESS, ALLOW_LIST]
    builder, _ = small_estate(levels=[root_level, ou_level, account_level])
    raw = builder.raw()
    # As ListParents walks: the account's answer first.
    assert raw.answers["scp_attachments"][0]["TargetId"] == builder.account_id
    for kind in SCP_KINDS[1:]:
        raw.answers[kind].reverse()

    estate = build_estate(raw)

    assert estate.service_control_policies == [root_level, ou_level, account_level]
    # FullAWSAccess is read like any other SCP, once, by AWS's id.
    ids = [d["Policy"]["PolicySummary"]["Id"] for d in raw.answers["scp_documents"]]
    assert ids.count(FULL_AWS_ACCESS_ID) == 1 and len(ids) == 3


@pytest.mark.parametrize(("scps", "expected", "unavailable"), [
    ({"levels": None, "in_organization": False}, [], set()),
    ({"levels": [], "in_organization": True}, [], set()),  # the management account
    ({"levels": None, "in_organization": True}, None, set(SCP_KINDS[1:])),  # a member
    ({"levels": None, "in_organization": None}, None, set(SCP_KINDS)),  # not even known
], ids=["no-organization", "management-account", "member-denied", "organization-unreadable"])
def test_builder_modes(scps: dict, expected: list | None, unavailable: set[str]) -> None:
    builder, _ = small_estate(**scps)

    estate = build_estate(builder.raw())

    assert estate.service_control_policies == expected
    assert set(estate.unavailable) == unavailable
    if scps["levels"] == []:
        assert builder.raw().answers["organization"]["Organization"]["MasterAccountId"] == \
            builder.account_id
    elif scps["in_organization"]:
        assert builder.raw().answers["organization"]["Organization"]["MasterAccountId"] == \
            MANAGEMENT_ACCOUNT


@pytest.mark.parametrize(("levels", "in_organization"), [
    ([[FULL_AWS_ACCESS], [FULL_AWS_ACCESS]], False), ([[FULL_AWS_ACCESS]], True)])
def test_builder_refuses_impossible_organizations(levels: list, in_organization: bool) -> None:
    with pytest.raises(ValueError):
        EstateBuilder().service_control_policies(levels, in_organization)


def test_scps_off_on_the_root_mean_none_applies() -> None:
    """AWS detaches every SCP when they are disabled on the root: nothing attached anywhere."""
    builder, _ = small_estate(levels=[[], [], []])

    assert build_estate(builder.raw()).service_control_policies == []


def test_consolidated_billing_only_means_no_scp() -> None:
    builder, _ = small_estate(levels=None)
    raw = builder.raw()
    raw.answers["organization"]["Organization"]["FeatureSet"] = "CONSOLIDATED_BILLING"

    estate = build_estate(raw)

    assert (estate.service_control_policies, estate.unavailable) == ([], {})


@pytest.mark.parametrize(("kind", "damage", "reason"), [
    ("scp_documents", lambda answers: answers.pop(), "describe-policy.json lacks policy p-"),
    ("scp_attachments", lambda answers: answers.pop(), "has no answer for r-"),
    ("organization_parents", lambda answers: answers.pop(), "does not lead from ou-"),
])
def test_answers_that_do_not_cover_the_walk_are_unreadable(kind: str, damage: Callable,
                                                           reason: str) -> None:
    builder, _ = small_estate(levels=[[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, NO_HEARTBEAT],
                                      [FULL_AWS_ACCESS]])
    raw = builder.raw()
    damage(raw.answers[kind])

    estate = build_estate(raw)

    assert estate.service_control_policies is None
    assert reason in estate.unavailable[kind]


def test_member_snapshot_warns_and_stays_manageable(capsys, tmp_path: Path) -> None:
    builder, instance_id = small_estate(levels=None)
    snapshot = builder.write(tmp_path / "snap")
    manifest = json.loads((snapshot / api_calls.MANIFEST_FILE).read_text())
    assert set(manifest["errors"]["account"]) == set(SCP_KINDS[1:])

    code, instance = offline_audit(capsys, snapshot)

    assert (instance["verdict"], code) == ("manageable", 0)
    assert instance["permissions"]["status"] == "ok"
    assert findings_of(instance) == {("DATA_UNAVAILABLE", None, builder.account_id, "warning")}
    assert instance_id == instance["instance_id"]


def test_snapshot_without_the_organizations_files_warns(capsys, tmp_path: Path) -> None:
    """An older snapshot, or a hand-made one: whether the account is in an organization is not
    known, so the warning says the files were not captured."""
    builder, _ = small_estate()
    snapshot = builder.write(tmp_path / "snap")
    for call in api_calls.ORGANIZATION_CALLS:
        (snapshot / api_calls.ACCOUNT_FOLDER / call.file_name).unlink()

    code, instance = offline_audit(capsys, snapshot)

    assert (instance["verdict"], code) == ("manageable", 0)
    [warning] = instance["findings"]
    assert warning["code"] == "DATA_UNAVAILABLE"
    assert "describe-organization.json was not captured" in warning["message"]


def test_snapshot_not_in_an_organization_needs_only_describe_organization(
        capsys, tmp_path: Path) -> None:
    builder, _ = small_estate()
    snapshot = builder.write(tmp_path / "snap")
    for call in api_calls.ORGANIZATION_CALLS[1:]:
        (snapshot / api_calls.ACCOUNT_FOLDER / call.file_name).unlink()

    code, instance = offline_audit(capsys, snapshot)

    assert (instance["verdict"], code, instance["findings"]) == ("manageable", 0, [])


@pytest.mark.parametrize(("file_name", "content", "words"), [
    ("describe-organization.json", "[]", ["account/describe-organization.json", "a mapping"]),
    ("list-parents.json", '{"Parents": []}', ["list-parents.json", "list"]),
    ("list-parents.json", '[{"ChildId": "111122223333", "Parents": [{"Id": "r-1"}, {"Id": '
                          '"r-2"}]}]', ["list-parents.json", "not a list of one"]),
    ("list-policies-for-target.json", '[{"Policies": []}]',
     ["list-policies-for-target.json", "TargetId"]),
    ("describe-policy.json", json.dumps([{"Policy": {
        "PolicySummary": {"Id": "p-12345678", "Name": "broken"}, "Content": "{not json"}}]),
     ["describe-policy.json", "the content of SCP broken (p-12345678)", "not JSON"]),
])
def test_malformed_organizations_files(capsys, tmp_path: Path, file_name: str, content: str,
                                       words: list[str]) -> None:
    builder, _ = small_estate(levels=[[FULL_AWS_ACCESS], [FULL_AWS_ACCESS], [FULL_AWS_ACCESS]])
    snapshot = builder.write(tmp_path / "snap")
    (snapshot / api_calls.ACCOUNT_FOLDER / file_name).write_text(content)

    code = main(["--all", "--snapshot", str(snapshot)])

    assert_one_line_error(code, capsys.readouterr().err, *words)


def test_the_parser_names_the_malformed_file() -> None:
    builder, _ = small_estate(levels=[[FULL_AWS_ACCESS], [FULL_AWS_ACCESS]])
    raw = builder.raw()
    raw.answers["scp_documents"][0]["Policy"]["Content"] = "[1, 2]"

    with pytest.raises(UsageError, match=r"malformed describe-policy\.json \(account\): the "
                                         r"content of SCP FullAWSAccess"):
        build_estate(raw)
