"""The organization audit's Lambda handlers (auditor/lambdas), run in-process against moto: an
organization of three accounts (the audit account, which manages it, and two members, one of
whose roles refuses AssumeRole), the units listed and written to S3, each unit audited through
its member role by the org engine's audit_unit, the Distributed Map's results laid down as
Step Functions' ResultWriter writes them, the summary, and the findings in Security Hub.

moto gaps, each patched where it is used: STS AssumeRole succeeds for any role, existing or
not (``refuse_assume_role`` makes one member's role refuse, as a missing role or trust does in
AWS); Systems Manager's GetServiceSetting and DescribeInstanceInformation are not implemented
(tests.moto_estate.stub_ssm answers them); Security Hub's GetFindings ignores its filters (the
archiving filters again itself, which the second run proves); BatchImportFindings and
GetFindings are otherwise moto's own.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.client
import botocore.exceptions
import pytest
from moto import mock_aws

from auditor.lambdas import audit_unit, list_units, summarize
from auditor.lambdas.store import Run, Store
from auditor.sources import api_calls
from tests.moto_estate import stub_ssm
from tests.moto_org_accounts import (
    AUDIT,
    BUCKET,
    REGION,
    STARTED,
    FakeContext,
    Organization,
    an_instance,
    member_client,
    refuse_assume_role,
)

pytestmark = pytest.mark.filterwarnings(
    # moto: its STS error shapes do not name AccessDenied (the refused role below).
    "ignore::UserWarning")

def record_operations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    make = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict) -> Any:
        calls.append((self.meta.service_model.service_name, operation))
        return make(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


@pytest.fixture
def organization(fake_aws, monkeypatch: pytest.MonkeyPatch) -> Organization:
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("SSM_AUDITOR_BUCKET", BUCKET)
    monkeypatch.setenv("SSM_AUDITOR_REGIONS", REGION)
    with mock_aws():
        stub_ssm(monkeypatch)
        organizations = boto3.client("organizations", region_name=REGION)
        organizations.create_organization(FeatureSet="ALL")
        members = [organizations.create_account(
            AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
            for name in ("workloads", "sandbox")]
        instances = {account: an_instance(member_client("ec2", account))
                     for account in members}
        instances[AUDIT] = an_instance(boto3.client("ec2", region_name=REGION))
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("securityhub", region_name=REGION).enable_security_hub()
        refuse_assume_role(monkeypatch, members[1])
        yield Organization(members, members[1], instances)


def run_state_machine(execution: str, started: str = STARTED,
                      failed_unit: str | None = None) -> dict[str, Any]:
    """The three steps as the state machine chains them; the map's results written the way
    Step Functions' ResultWriter writes them (manifest, SUCCEEDED_n.json, FAILED_n.json)."""
    listed = list_units.handler({"execution": execution, "started": started})
    store = Store(BUCKET, boto3.client("s3", region_name=REGION))
    succeeded, failed = [], []
    for unit in store.get_json(listed["units_key"]):
        item = {"unit": unit, "run": listed["run"]}
        record = {"ExecutionArn": f"arn:aws:states:{REGION}:{AUDIT}:execution:x:{unit}",
                  "Input": json.dumps(item), "InputDetails": {"Included": True},
                  "Status": "SUCCEEDED"}
        if unit["account_id"] == failed_unit:  # the function timed out: no output
            failed.append({**record, "Status": "FAILED", "Error": "States.Timeout",
                           "Cause": "Task timed out after 600.00 seconds"})
            continue
        output = audit_unit.handler(item, FakeContext())
        succeeded.append({**record, "Output": json.dumps(output)})
    prefix = f"runs/map-results/{execution}"
    store.put_json(f"{prefix}/SUCCEEDED_0.json", succeeded)
    store.put_json(f"{prefix}/FAILED_0.json", failed)
    store.put_json(f"{prefix}/manifest.json", {
        "DestinationBucket": BUCKET, "MapRunArn": "arn:aws:states:::mapRun:x",
        "ResultFiles": {"FAILED": [{"Key": f"{prefix}/FAILED_0.json", "Size": 1}],
                        "PENDING": [],
                        "SUCCEEDED": [{"Key": f"{prefix}/SUCCEEDED_0.json", "Size": 1}]}})
    state = {**listed, "map": {"MapRunArn": "arn:aws:states:::mapRun:x",
                               "ResultWriterDetails": {"Bucket": BUCKET,
                                                       "Key": f"{prefix}/manifest.json"}}}
    return summarize.handler(state, FakeContext())


def test_list_units_writes_the_organizations_units_and_answers(organization) -> None:
    listed = list_units.handler({"execution": "daily-1", "started": STARTED})
    store = Store(BUCKET, boto3.client("s3", region_name=REGION))

    assert listed["units_key"] == "runs/date=2026-12-06/execution=daily-1/units.json"
    assert listed["run"] == {"date": "2026-12-06", "execution": "daily-1",
                             "organization_key":
                                 "runs/date=2026-12-06/execution=daily-1/organization.json"}
    assert store.get_json(listed["units_key"]) == [
        {"account_id": account, "region": REGION}
        for account in sorted([AUDIT, *organization.members])]
    assert listed["count"] == 3
    assert store.get_json(listed["run"]["organization_key"])  # the answers, for the units


def test_a_unit_report_and_its_findings_land_under_account_region_date(
        organization, monkeypatch) -> None:
    listed = list_units.handler({"execution": "daily-1", "started": STARTED})
    member = organization.members[0]
    operations = record_operations(monkeypatch)

    entry = audit_unit.handler({"unit": {"account_id": member, "region": REGION},
                                "run": listed["run"]}, FakeContext())

    store = Store(BUCKET, boto3.client("s3", region_name=REGION))
    prefix = f"reports/account={member}/region={REGION}/date=2026-12-06/"
    assert (entry["report_key"], entry["findings_key"]) == (prefix + "report.json",
                                                            prefix + "findings.json")
    assert (entry["status"], entry["instances"]) == ("ok", 1)
    report = store.get_json(entry["report_key"])
    assert [i["instance_id"] for i in report["instances"]] == [
        organization.instances[member]]
    assert report["instances"][0]["account_id"] == member
    findings = store.get_json(entry["findings_key"])
    assert entry["findings"] == len(findings) > 0
    for finding in findings:  # imported by the audit account, about the member's instance
        assert finding["AwsAccountId"] == AUDIT
        assert finding["ProductArn"] == (f"arn:aws:securityhub:{REGION}:{AUDIT}:product/"
                                         f"{AUDIT}/default")
        assert finding["Resources"][0]["Id"] == (
            f"arn:aws:ec2:{REGION}:{member}:instance/{organization.instances[member]}")
    # In the member account the unit calls only what the member role allows.
    allowed = {action.split(":")[1] for action in api_calls.iam_actions(api_calls.UNIT_CALLS)}
    reads = {operation for service, operation in operations
             if service not in ("s3", "sts")}
    assert reads and reads <= allowed
    assert {operation for service, operation in operations if service == "s3"} == {
        "PutObject", "GetObject"}


def test_a_refused_role_is_a_unit_in_error_with_its_reason_not_a_failure(organization) -> None:
    listed = list_units.handler({"execution": "daily-1", "started": STARTED})

    entry = audit_unit.handler({"unit": {"account_id": organization.refused, "region": REGION},
                                "run": listed["run"]}, FakeContext())

    assert entry["status"] == "error"
    assert "cannot assume" in entry["error"] and "AccessDenied" in entry["error"]
    assert (entry["instances"], entry["findings"]) == (0, 0)


def test_summary_lists_every_unit_and_imports_the_findings_into_the_audit_account(
        organization) -> None:
    workloads = organization.members[0]

    answer = run_state_machine("daily-1")

    store = Store(BUCKET, boto3.client("s3", region_name=REGION))
    summary = store.get_json(answer["summary_key"])
    statuses = {(unit["account_id"], unit["status"]) for unit in summary["units"]}
    assert statuses == {(AUDIT, "ok"), (workloads, "ok"), (organization.refused, "error")}
    assert (answer["total"], answer["failed_units"], answer["instances"]) == (3, 1, 2)
    assert answer["findings_imported"] > 0 and answer["findings_failed"] == []
    hub = boto3.client("securityhub", region_name=REGION).get_findings()["Findings"]
    assert len(hub) == answer["findings_imported"]
    assert {f["AwsAccountId"] for f in hub} == {AUDIT}
    assert {f["Resources"][0]["Id"].split(":")[4] for f in hub} == {AUDIT, workloads}


def test_a_unit_whose_function_failed_is_listed_with_the_maps_error(organization) -> None:
    workloads = organization.members[0]

    answer = run_state_machine("daily-1", failed_unit=workloads)

    summary = Store(BUCKET, boto3.client("s3", region_name=REGION)).get_json(
        answer["summary_key"])
    [entry] = [unit for unit in summary["units"] if unit["account_id"] == workloads]
    assert entry["status"] == "error"
    assert entry["error"] == ("the unit's function failed: States.Timeout: Task timed out "
                              "after 600.00 seconds")
    assert answer["failed_units"] == 2


def test_without_map_results_each_unit_comes_from_its_report_of_this_run_only(
        organization) -> None:
    """The map failed past its tolerance: no results. The reports this run wrote count; a
    report of an earlier run the same day does not."""
    first = run_state_machine("daily-1")
    listed = list_units.handler({"execution": "daily-2", "started": STARTED})
    audit_unit.handler({"unit": {"account_id": AUDIT, "region": REGION},
                        "run": listed["run"]}, FakeContext())

    map_error = {"Error": "States.ExceedToleratedFailureThreshold", "Cause": "too many"}
    answer = summarize.handler({**listed, "map_error": map_error}, FakeContext())

    summary = Store(BUCKET, boto3.client("s3", region_name=REGION)).get_json(
        answer["summary_key"])
    by_account = {unit["account_id"]: unit for unit in summary["units"]}
    assert by_account[AUDIT]["status"] == "ok"
    for account in organization.members:  # reported by daily-1 only
        assert by_account[account]["status"] == "error"
        assert by_account[account]["error"] == ("no result: its function did not finish (see "
                                                "the map run: "
                                                "States.ExceedToleratedFailureThreshold)")
    assert first["failed_units"] == 1 and answer["failed_units"] == 2


def test_findings_that_no_longer_hold_are_archived_but_not_those_of_a_failed_unit(
        organization, monkeypatch) -> None:
    workloads = organization.members[0]
    first = run_state_machine("daily-1")
    # Fixed by the next day: the audit account's instance is gone.
    boto3.client("ec2", region_name=REGION).terminate_instances(
        InstanceIds=[organization.instances[AUDIT]])
    # And the workloads account cannot be read that day.
    refuse_assume_role(monkeypatch, workloads)

    second = run_state_machine("daily-2", started="2026-12-07T03:00:00.000Z")

    hub = boto3.client("securityhub", region_name=REGION).get_findings()["Findings"]
    states = {f["Resources"][0]["Id"].split(":")[4]: f["RecordState"] for f in hub}
    assert states == {AUDIT: "ARCHIVED", workloads: "ACTIVE"}
    assert second["findings_archived"] == sum(
        1 for f in hub if f["Resources"][0]["Id"].split(":")[4] == AUDIT)
    assert first["findings_archived"] == 0


@pytest.mark.parametrize("refusal", ["call", "findings"])
def test_an_import_security_hub_refuses_fails_the_run_but_keeps_the_summary(
        organization, monkeypatch, refusal: str) -> None:
    """Security Hub not enabled in the audit account (the call refused), or findings refused
    one by one (FailedFindings): the summary is still written, says why, and the state
    machine is told to fail (``import_failed``)."""
    make = botocore.client.BaseClient._make_api_call

    def security_hub_refusing(self: Any, operation: str, params: dict) -> Any:
        if operation != "BatchImportFindings":
            return make(self, operation, params)
        if refusal == "call":
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "InvalidAccessException",
                           "Message": "Account is not subscribed to AWS Security Hub"}},
                operation)
        return {"SuccessCount": 0, "FailedCount": len(params["Findings"]), "FailedFindings": [
            {"Id": finding["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "refused"}
            for finding in params["Findings"]]}

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", security_hub_refusing)

    answer = run_state_machine("daily-1")

    summary = Store(BUCKET, boto3.client("s3", region_name=REGION)).get_json(
        answer["summary_key"])
    assert len(summary["units"]) == 3 and answer["failed_units"] == 1
    assert answer["import_failed"] is True
    assert summary["security_hub"]["findings_imported"] == 0
    if refusal == "call":
        assert "not subscribed to AWS Security Hub" in summary["security_hub"]["import_error"]
    else:
        assert summary["security_hub"]["import_error"] is None
        assert summary["security_hub"]["findings_failed_count"] > 0
        assert all("InvalidInput refused" in line
                   for line in summary["security_hub"]["findings_failed"])


def test_a_run_imported_whole_does_not_fail_for_the_import(organization) -> None:
    answer = run_state_machine("daily-1")
    assert answer["import_failed"] is False and answer["findings_imported"] > 0


def test_batches_of_at_most_100_findings() -> None:
    from auditor.lambdas.security_hub import import_findings

    class Hub:
        def __init__(self) -> None:
            self.sizes: list[int] = []

        def batch_import_findings(self, Findings: list) -> dict:
            self.sizes.append(len(Findings))
            return {"SuccessCount": len(Findings), "FailedCount": 0, "FailedFindings": []}

    hub = Hub()
    result = import_findings(hub, ({"Id": str(n)} for n in range(250)))

    assert hub.sizes == [100, 100, 50]
    assert result.imported == 250


def test_run_keys_are_partitioned_by_account_region_and_date() -> None:
    run = Run.of("2026-12-06T03:00:00.123Z", "daily:1")

    assert run.report_key("111111111111", "eu-west-1") == (
        "reports/account=111111111111/region=eu-west-1/date=2026-12-06/report.json")
    assert run.units_key == "runs/date=2026-12-06/execution=daily-1/units.json"
    with pytest.raises(ValueError, match="not a start time"):
        Run.of("yesterday", "x")
