"""Organization mode without AWS: units, shards, the selection, each account's share of the
organization's answers, the bounded pool, and the unit report of a snapshot unit."""

from __future__ import annotations

import json
import threading
import time

import pytest

from auditor.errors import UsageError
from auditor.sources import api_calls
from auditor.sources.organization import (
    OrganizationAnswers,
    Selection,
    Shard,
    Unit,
    UnitFailure,
    run_pool,
)
from auditor.sources.organization.units import units_of
from auditor.sources.parse import build_estate
from auditor.sources.raw import RawRegion

ROOT = "r-abcd"
MANAGEMENT = "111111111111"


# --- Units, shards, selection ----------------------------------------------------------------


def test_a_unit_travels_as_a_dict() -> None:
    unit = Unit("123456789012", "eu-west-1")
    assert Unit.from_dict(json.loads(json.dumps(unit.to_dict()))) == unit
    assert unit.key == "123456789012/eu-west-1"
    failed = Unit("123456789012", "all", "cannot list its regions")
    assert Unit.from_dict(failed.to_dict()).error == "cannot list its regions"
    with pytest.raises(UsageError, match="not a unit"):
        Unit.from_dict({"account_id": 123})


@pytest.mark.parametrize("count", [1, 2, 3, 7, 10, 11])
def test_shards_cover_every_unit_once_in_slices_equal_to_one(count: int) -> None:
    units = [Unit(f"{n:012d}", region) for n in range(5) for region in ("a-b-1", "c-d-2")]
    shards = [Shard(index, count).pick(list(reversed(units))) for index in range(1, count + 1)]
    assert sorted(u for shard in shards for u in shard) == sorted(units)
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1
    # Contiguous: an account's regions stay together where they can.
    assert [u for shard in shards for u in shard] == sorted(units)


@pytest.mark.parametrize(("text", "expected"), [("1/1", Shard(1, 1)), (" 2 / 8 ", Shard(2, 8))])
def test_shard_parses(text: str, expected: Shard) -> None:
    assert Shard.parse(text) == expected


@pytest.mark.parametrize("text", ["", "2", "a/b", "0/2", "3/2", "1/0", "-1/2", "1/2/3"])
def test_a_malformed_shard_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        Shard.parse(text)


def test_selection_from_flags() -> None:
    selection = Selection.from_flags(["111111111111,222222222222", "111111111111"],
                                     ["eu-west-1", "us-east-1,eu-west-1"], "1/2")
    assert selection.accounts == ("111111111111", "222222222222")
    assert selection.regions == ("eu-west-1", "us-east-1")
    assert not selection.all_regions
    assert selection.shard == Shard(1, 2)
    every = Selection.from_flags(None, "all", None)
    assert every.all_regions and every.regions == ()
    assert every.to_dict() == {"accounts": None, "regions": "all", "shard": None}


def test_units_of_lists_a_failed_region_listing_as_one_unit() -> None:
    units = units_of(["222222222222", "111111111111"],
                     {"111111111111": ["us-east-1", "eu-west-1"],
                      "222222222222": "cannot list its regions: AccessDenied"}, None)
    assert units == [Unit("111111111111", "eu-west-1"), Unit("111111111111", "us-east-1"),
                     Unit("222222222222", "all")]
    assert units[-1].error.startswith("cannot list")


# --- Each account's share of the organization's answers --------------------------------------


def _policy(policy_id: str, document: dict) -> tuple[dict, dict]:
    summary = {"Id": policy_id, "Name": policy_id, "Type": "SERVICE_CONTROL_POLICY"}
    return summary, {"Policy": {"PolicySummary": summary, "Content": json.dumps(document)}}


ALLOW_ALL = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]}
DENY_HEARTBEAT = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "ssm:UpdateInstanceInformation", "Resource": "*"}]}


def organization_answers() -> OrganizationAnswers:
    """root > ou-a > ou-b > 333333333333 (deny on ou-a); root > 222222222222; the management
    account at the root; FullAWSAccess everywhere; a detached policy never read."""
    full, full_document = _policy("p-FullAWSAccess", ALLOW_ALL)
    deny, deny_document = _policy("p-deny", DENY_HEARTBEAT)
    accounts = [{"Id": MANAGEMENT, "State": "ACTIVE"}, {"Id": "222222222222", "State": "ACTIVE"},
                {"Id": "333333333333", "Status": "ACTIVE"},
                {"Id": "444444444444", "State": "SUSPENDED"}]
    return OrganizationAnswers({
        "organization": {"Organization": {"Id": "o-x", "FeatureSet": "ALL",
                                          "MasterAccountId": MANAGEMENT}},
        "organization_accounts": {"Accounts": accounts},
        "organization_roots": {"Roots": [{"Id": ROOT, "Name": "Root"}]},
        "organization_units": [
            {"ParentId": ROOT, "OrganizationalUnits": [{"Id": "ou-a"}]},
            {"ParentId": "ou-a", "OrganizationalUnits": [{"Id": "ou-b"}]},
            {"ParentId": "ou-b", "OrganizationalUnits": []}],
        "organization_child_accounts": [
            {"ParentId": ROOT, "Accounts": [{"Id": MANAGEMENT}, {"Id": "222222222222"},
                                            {"Id": "444444444444"}]},
            {"ParentId": "ou-a", "Accounts": []},
            {"ParentId": "ou-b", "Accounts": [{"Id": "333333333333"}]}],
        "scp_list": {"Policies": [full, deny, {"Id": "p-unused", "Name": "unused"}]},
        "scp_targets": [
            {"PolicyId": "p-FullAWSAccess", "Targets": [
                {"TargetId": target} for target in (ROOT, "ou-a", "ou-b", MANAGEMENT,
                                                    "222222222222", "333333333333")]},
            {"PolicyId": "p-deny", "Targets": [{"TargetId": "ou-a"}]},
            {"PolicyId": "p-unused", "Targets": []}],
        "scp_documents": [full_document, deny_document],
    }, {}, MANAGEMENT)


def test_active_accounts_and_what_travels() -> None:
    answers = organization_answers()
    assert answers.active_accounts() == [MANAGEMENT, "222222222222", "333333333333"]
    assert answers.management_account_id == MANAGEMENT
    assert OrganizationAnswers.from_dict(json.loads(json.dumps(answers.to_dict()))) == answers


def test_an_accounts_share_is_what_a_single_account_read_of_it_stores() -> None:
    answers, errors = organization_answers().account_answers("333333333333")
    assert errors == {}
    assert answers["organization_parents"] == [
        {"ChildId": "333333333333", "Parents": [{"Id": "ou-b", "Type": "ORGANIZATIONAL_UNIT"}]},
        {"ChildId": "ou-b", "Parents": [{"Id": "ou-a", "Type": "ORGANIZATIONAL_UNIT"}]},
        {"ChildId": "ou-a", "Parents": [{"Id": ROOT, "Type": "ROOT"}]}]
    assert [(a["TargetId"], [p["Id"] for p in a["Policies"]])
            for a in answers["scp_attachments"]] == [
        ("333333333333", ["p-FullAWSAccess"]), ("ou-b", ["p-FullAWSAccess"]),
        ("ou-a", ["p-FullAWSAccess", "p-deny"]), (ROOT, ["p-FullAWSAccess"])]
    assert [d["Policy"]["PolicySummary"]["Id"] for d in answers["scp_documents"]] == [
        "p-FullAWSAccess", "p-deny"]
    # The parser makes of it the levels of SCPs, root first.
    raw = RawRegion("eu-west-1", "333333333333", answers=dict(answers))
    estate = build_estate(raw)
    assert [[json.dumps(d) for d in level] for level in estate.service_control_policies] == [
        [json.dumps(ALLOW_ALL)], [json.dumps(ALLOW_ALL), json.dumps(DENY_HEARTBEAT)],
        [json.dumps(ALLOW_ALL)], [json.dumps(ALLOW_ALL)]]
    for call in api_calls.ORGANIZATION_CALLS:
        assert call.kind not in estate.unavailable


def test_no_scp_applies_to_the_management_account() -> None:
    answers, errors = organization_answers().account_answers(MANAGEMENT)
    estate = build_estate(RawRegion("eu-west-1", MANAGEMENT, answers=dict(answers),
                                    errors=dict(errors)))
    assert estate.service_control_policies == []


@pytest.mark.parametrize(("broken", "kind"), [
    ("scp_targets", "scp_attachments"), ("organization_units", "organization_parents")])
def test_an_organization_answer_refused_makes_the_accounts_scps_unknown(broken: str,
                                                                         kind: str) -> None:
    organization = organization_answers()
    del organization.answers[broken]
    organization.errors[broken] = "AccessDeniedException: no"
    answers, errors = organization.account_answers("222222222222")
    assert "AccessDeniedException" in errors[kind]
    estate = build_estate(RawRegion("eu-west-1", "222222222222", answers=dict(answers),
                                    errors=dict(errors)))
    assert estate.service_control_policies is None
    assert kind in estate.unavailable


def test_an_account_outside_the_tree_read_is_unknown_not_free_of_scps() -> None:
    answers, errors = organization_answers().account_answers("999999999999")
    assert "not in the organization's tree" in errors["organization_parents"]
    assert "organization_parents" not in answers
    estate = build_estate(RawRegion("eu-west-1", "999999999999", answers=dict(answers),
                                    errors=dict(errors)))
    assert estate.service_control_policies is None


# --- The pool --------------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 3])
def test_the_pool_holds_at_most_its_size_and_hands_back_every_result(concurrency: int) -> None:
    running = 0
    most = 0
    lock = threading.Lock()
    held: list[int] = []

    def work(item: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01 * (item % 3))
        with lock:
            running -= 1
        return item * 2

    run_pool(range(20), work, lambda item, result: held.append(result), concurrency)
    assert sorted(held) == [item * 2 for item in range(20)]
    assert most <= concurrency


def test_an_error_stops_the_pool() -> None:
    def work(item: int) -> int:
        if item == 2:
            raise UnitFailure("boom")
        return item

    with pytest.raises(UnitFailure, match="boom"):
        run_pool(range(50), work, lambda *_: None, 2)


# --- jsonl and asff of any audit (the demo estate) --------------------------------------------


@pytest.fixture(scope="module")
def demo_report():
    from auditor.audit import audit_raws
    from auditor.sources.read import read_raws

    raws, source = read_raws("demo/estate", None, None)
    report, _ = audit_raws(raws, None, source)
    return report


def test_jsonl_is_the_json_reports_instances_one_a_line(demo_report) -> None:
    from auditor.reports import render

    lines = render(demo_report, "jsonl").splitlines()
    document = json.loads(render(demo_report, "json"))
    assert [json.loads(line) for line in lines] == document["instances"]
    assert all(instance["account_id"] == "111122223333" for instance in document["instances"])


def test_asff_of_a_single_account_audit_fits_security_hubs_model(demo_report) -> None:
    import botocore.session
    from botocore.validate import ParamValidator

    from auditor.reports import render
    from auditor.reports.asff_report import Product, findings_of
    from auditor.reports.json_report import instance_dicts
    from auditor.vocabulary import MANAGEABLE, NOT_APPLICABLE

    findings = json.loads(render(demo_report, "asff"))
    shape = botocore.session.get_session().get_service_model(
        "securityhub").operation_model("BatchImportFindings").input_shape
    assert not ParamValidator().validate({"Findings": findings[:100]}, shape).has_errors()
    reported = {f["Resources"][0]["Id"].rsplit("/", 1)[1] for f in findings}
    for audit in demo_report.instances:
        if audit.verdict in (MANAGEABLE, NOT_APPLICABLE):
            assert audit.instance.instance_id not in reported
        else:
            assert audit.instance.instance_id in reported
    # A finding without error or warning codes still says why the instance is reported.
    bare = next(i for i in instance_dicts(demo_report) if i["verdict"] == "unknown")
    bare["findings"] = []
    [verdict] = findings_of(bare, "2026-01-01T00:00:00.000Z")
    assert verdict["Id"].endswith("/VERDICT") and verdict["Severity"]["Label"] == "MEDIUM"
    # Imported by an audit account: the finding is that account's, the resource the member's.
    instance = next(i for i in instance_dicts(demo_report) if i["verdict"] == "not_manageable")
    [first, *_] = findings_of(instance, "2026-01-01T00:00:00.000Z",
                              Product("999988887777", "us-east-1"))
    assert first["AwsAccountId"] == "999988887777"
    assert first["ProductArn"] == ("arn:aws:securityhub:us-east-1:999988887777:product/"
                                   "999988887777/default")
    assert ":111122223333:instance/" in first["Resources"][0]["Id"]
    assert not ParamValidator().validate({"Findings": [first, verdict]}, shape).has_errors()
