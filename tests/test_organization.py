"""Organization mode (``--org``) against moto in-process: an organization of four accounts with
different estates (tests/moto_organization.py ``build_accounts``), read through the command
line and through the library.

The organization is built once for the module (its reads do not change it). moto gaps: see
tests/moto_organization.py (AssumeRole and ListAccounts made strict) and tests/moto_estate.py
(``stub_ssm`` answers Systems Manager: every healthy instance Online, Default Host Management
not set).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditor.cli import main
from auditor.organization import audit_unit
from auditor.sources import api_calls
from auditor.sources.organization import (
    LiveUnits,
    OrganizationAccess,
    OrganizationAnswers,
    Selection,
    SnapshotUnits,
    Unit,
    UnitFailure,
    list_units,
    read_organization,
)
from tests.checks import assert_one_line_error
from tests.moto_dns import FakeDnsServices
from tests.moto_dns import install as install_dns_fake
from tests.moto_estate import managed_node, record_operations, stub_ssm
from tests.moto_organization import (
    EXTERNAL_ID,
    EXTERNAL_ROLE,
    Organization,
    build_accounts,
    require_assumable_roles,
)

FIRST, SECOND = "us-east-1", "eu-west-1"
REGIONS = f"{FIRST},{SECOND}"
STS_OPERATIONS = {call.operation for call in api_calls.STS_CALLS}
EVERY_OPERATION = {call.operation for call in api_calls.EVERY_CALL}

pytestmark = pytest.mark.filterwarnings("ignore:Exception\\(STSClientError\\)",
                                        "ignore:Exception\\(OrganizationsClientError\\)")


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Organization]:
    """The organization, in a moto that lives for the module (fake credentials, us-east-1)."""
    scratch = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL",
                     "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"),
                            ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", FIRST),
                            ("AWS_CONFIG_FILE", str(scratch / "config")),
                            ("AWS_SHARED_CREDENTIALS_FILE", str(scratch / "credentials")),
                            ("AWS_EC2_METADATA_DISABLED", "true"),
                            ("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")):
            patch.setenv(name, value)
        # moto gap: DNS Firewall and Route 53 Profiles answered by an empty fake, as for
        # every moto test (conftest's fake_aws, which a module-scoped fixture cannot use).
        install_dns_fake(patch, FakeDnsServices())
        with mock_aws():
            organization = build_accounts(boto3.client("organizations", region_name=FIRST),
                                          (FIRST, SECOND))
            require_assumable_roles(patch)
            stub_ssm(patch, None, [managed_node(iid) for estate in organization.estates.values()
                                   for ids in estate.healthy.values() for iid in ids])
            yield organization


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def audit_json(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, dict]:
    code, out, err = run(capsys, "--all", "--org", "--regions", REGIONS, "--concurrency", "4",
                         "--format", "json", "-q", *argv)
    assert err == "", err
    return code, json.loads(out)


def by_instance(report: dict) -> dict[str, dict]:
    return {instance["instance_id"]: instance for instance in report["instances"]}


def codes(instance: dict) -> set[str]:
    return {finding["code"] for finding in instance["findings"]}


# --- The whole organization ------------------------------------------------------------------


def test_every_account_is_audited_with_its_own_estate_and_the_organizations_scps(
        org: Organization, capsys) -> None:
    code, report = audit_json(capsys)

    instances = by_instance(report)
    assert set(instances) == set(org.all_instances()) - set(
        org.estates["locked"].instance_ids())
    for name, estate in org.estates.items():
        for iid in estate.instance_ids():
            if name != "locked":
                assert instances[iid]["account_id"] == estate.account_id
    # The management account: read with the caller's credentials, no SCP applies to it.
    [management] = org.estates["management"].instance_ids()
    assert instances[management]["verdict"] == "manageable"
    # prod: its OU's SCP denies the heartbeat, in both regions, read once from the management
    # account although prod itself may not read Organizations.
    for iid in org.estates["prod"].instance_ids():
        assert instances[iid]["verdict"] == "not_manageable"
        assert "SCP_DENIES" in codes(instances[iid])
    # dev: its own estate (one healthy, one without a profile).
    [healthy] = org.estates["dev"].healthy[FIRST]
    [bare] = org.estates["dev"].no_profile[FIRST]
    assert instances[healthy]["verdict"] == "manageable"
    assert {"NO_INSTANCE_PROFILE", "DHMC_DISABLED"} <= codes(instances[bare])
    # No instance says the SCPs could not be read.
    assert not [finding for instance in report["instances"] for finding in instance["findings"]
                if finding["code"] == "DATA_UNAVAILABLE"
                and "organization" in json.dumps(finding).lower()]
    # Every unit is listed; the locked account's with the reason, and the others went on.
    units = {(u["account_id"], u["region"]): u for u in report["units"]}
    assert set(units) == {(estate.account_id, region) for estate in org.estates.values()
                          for region in (FIRST, SECOND)}
    locked = org.account("locked")
    for region in (FIRST, SECOND):
        assert units[(locked, region)]["status"] == "error"
        assert "AssumeRole" in units[(locked, region)]["error"]
        assert f"arn:aws:iam::{locked}:role/ssm-auditor-readonly" in \
            units[(locked, region)]["error"]
    assert units[(org.account("prod"), SECOND)] | {"seconds": 0} == {
        "account_id": org.account("prod"), "region": SECOND, "status": "ok", "error": None,
        "instances": 1, "summary": {"not_manageable": 1}, "seconds": 0}
    assert report["summary"] == {"manageable": 2, "not_manageable": 4}
    assert report["source"]["organization"]["units"] == 8
    assert report["source"]["organization"]["management_account_id"] == org.account(
        "management")
    assert set(report["catalogue"]) >= {"SCP_DENIES", "NO_INSTANCE_PROFILE"}
    assert code == 1


@pytest.mark.parametrize(("names", "expected"), [
    (["management"], 0),  # all manageable
    (["management", "locked"], 3),  # a unit could not be read, nothing worse: never 0
    (["dev"], 1),  # an instance not manageable
], ids=["clear", "unit-failed", "not-manageable"])
def test_accounts_narrow_the_run_and_the_exit_status_follows_the_units(
        org: Organization, capsys, names: list[str], expected: int) -> None:
    accounts = ",".join(org.account(name) for name in names)
    code, report = audit_json(capsys, "--accounts", accounts)

    assert {u["account_id"] for u in report["units"]} == {org.account(n) for n in names}
    assert {i["account_id"] for i in report["instances"]} <= {org.account(n) for n in names}
    assert code == expected


def test_shards_split_the_units_without_overlap_or_gap(org: Organization, capsys) -> None:
    seen = []
    for index in (1, 2, 3):
        _, report = audit_json(capsys, "--shard", f"{index}/3")
        seen.append({(u["account_id"], u["region"]) for u in report["units"]})
    assert sum(len(units) for units in seen) == 8
    assert set().union(*seen) == {(e.account_id, r) for e in org.estates.values()
                                  for r in (FIRST, SECOND)}
    assert [len(units) for units in seen] == [2, 3, 3]  # equal to one unit
    _, again = audit_json(capsys, "--shard", "2/3")
    assert {(u["account_id"], u["region"]) for u in again["units"]} == seen[1]


def test_regions_all_reads_the_regions_enabled_in_each_account(org: Organization,
                                                               capsys) -> None:
    enabled = sorted(r["RegionName"] for r in
                     boto3.client("ec2", region_name=FIRST).describe_regions()["Regions"])
    dev = org.account("dev")
    code, out, _ = run(capsys, "--all", "--org", "--regions", "all", "--accounts", dev,
                         "--concurrency", "8", "--format", "json", "-q")
    report = json.loads(out)

    assert sorted(u["region"] for u in report["units"]) == enabled
    assert all(u["status"] == "ok" for u in report["units"])
    assert {i["instance_id"] for i in report["instances"]} == set(
        org.estates["dev"].instance_ids())
    assert report["source"]["organization"]["selection"]["regions"] == "all"
    assert code == 1


def test_regions_of_an_account_whose_role_fails_are_one_unit_in_error(org: Organization,
                                                                       capsys) -> None:
    locked = org.account("locked")
    code, out, _ = run(capsys, "--all", "--org", "--regions", "all", "--accounts", locked,
                       "--format", "json", "-q")
    [unit] = json.loads(out)["units"]
    assert (unit["region"], unit["status"]) == ("all", "error")
    assert "cannot assume" in unit["error"]
    assert code == 3


@pytest.mark.parametrize(("external_id", "status"), [(None, "error"), ("wrong", "error"),
                                                     (EXTERNAL_ID, "ok")])
def test_role_name_and_external_id_are_used_to_assume_the_role(
        org: Organization, capsys, external_id: str | None, status: str) -> None:
    dev = org.account("dev")
    extra = ["--external-id", external_id] if external_id else []
    code, out, _ = run(capsys, "--all", "--org", "--accounts", dev, "--role-name",
                       EXTERNAL_ROLE, *extra, "--format", "json", "-q")
    [unit] = json.loads(out)["units"]
    assert unit["status"] == status
    if status == "error":
        assert f"arn:aws:iam::{dev}:role/{EXTERNAL_ROLE}" in unit["error"]
        assert code == 3
    else:
        assert unit["instances"] == 2
        assert code == 1


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "words"), [
    (["--accounts", "999999999999"], "not an account of organization"),
    (["--accounts", "12345"], "12 digits"),
    (["--shard", "3"], "expected I/N"),
    (["--shard", "4/3"], "I counts from 1 to N"),
    (["--shard", "0/3"], "I counts from 1 to N"),
    (["--regions", "all,us-east-1"], "stands alone"),
    (["--regions", "mars-1"], "not a region name"),
    (["--concurrency", "0"], "at least 1"),
    (["--instance", "i-0123456789abcdef0", "--all"], "--instance ID"),
    (["--format", "sarif"], "not offered for an organization"),
], ids=["unknown-account", "malformed-account", "shard-no-slash", "shard-beyond",
        "shard-zero", "all-and-more", "bad-region", "concurrency", "instance", "format"])
def test_bad_organization_input_is_one_line_exit_2(org: Organization, capsys,
                                                    argv: list[str], words: str) -> None:
    code, out, err = run(capsys, "--all", "--org", *argv)
    assert out == ""
    assert_one_line_error(code, err, words)


@pytest.mark.parametrize("argv", [
    ["--all", "--org", "--accounts", ""], ["--all", "--org", "--accounts", ","],
    ["--all", "--org", "--regions", ""], ["--all", "--org", "--regions", " , "],
    ["--all", "--org", "--role-name", ""], ["--all", "--org", "--external-id", ""],
    ["--all", "--org", "--shard", ""], ["snapshot", "--org", "--out", "x", "--accounts", ""],
    ["prelaunch", "t.json", "--snapshot", "demo/estate", "--accounts", ""],
], ids=["accounts", "accounts-comma", "regions", "regions-comma", "role-name", "external-id",
        "shard", "snapshot-accounts", "prelaunch-accounts"])
def test_an_empty_organization_option_is_refused_not_everything(
        org: Organization, capsys, monkeypatch, argv: list[str]) -> None:
    # An unset variable never widens the selection to every account or region.
    operations = record_operations(monkeypatch)
    code, out, err = run(capsys, *argv)
    assert out == "" and not operations
    assert_one_line_error(code, err, "empty value")


def test_the_deadline_stops_every_unit_of_an_organization_run(org: Organization, capsys,
                                                              monkeypatch) -> None:
    # The units read on other threads: the deadline stops them at their next request, and
    # their clients have the connect and read timeouts (auditor/sources/live.py `client`).
    from auditor import limits
    from auditor.sources import live

    configs: list[Any] = []
    real_client = live.client

    def client(session: Any, service: str, region: str, **credentials: str) -> Any:
        made = real_client(session, service, region, **credentials)
        configs.append(made.meta.config)
        return made

    monkeypatch.setattr(live, "client", client)
    _hook_ec2(monkeypatch, lambda **_kwargs: time.sleep(0.5))
    started = time.monotonic()

    code, _, err = run(capsys, "--all", "--org", "--regions", REGIONS, "--concurrency", "4",
                       "--deadline", "1", "--format", "json", "-q")

    assert time.monotonic() - started < 8  # every unit would take 0.5 s per DescribeInstances
    assert_one_line_error(code, err, "stopped at the --deadline of 1 s")
    assert configs and all(config.connect_timeout == limits.LIVE_CONNECT_TIMEOUT.value
                           and config.read_timeout == limits.LIVE_READ_TIMEOUT.value
                           for config in configs)
    assert live._run_deadline[0] is None  # cleared for what runs next in the process


def test_the_deadline_stops_a_worker_thread_at_its_next_request(org: Organization) -> None:
    # Where the timer signal cannot reach (a thread that is not the main one).
    import threading

    from auditor.errors import DeadlineExceeded
    from auditor.sources import live
    from auditor.sources.organization import OrganizationAccess

    access = OrganizationAccess(region=FIRST)
    caller = access.caller_account_id()
    caught: list[BaseException] = []

    def work() -> None:
        with access.account(caller) as clients:
            try:
                clients("ec2", FIRST).describe_vpcs()
            except BaseException as error:  # what the thread met is the result
                caught.append(error)

    live.set_run_deadline(0.001)
    time.sleep(0.01)
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(30)
    finally:
        live.set_run_deadline(None)
    assert len(caught) == 1 and isinstance(caught[0], DeadlineExceeded)


def test_organization_flags_without_org_are_refused(org: Organization, capsys) -> None:
    code, _, err = run(capsys, "--all", "--accounts", org.account("dev"))
    assert_one_line_error(code, err, "add --org")


def test_a_member_account_is_told_org_mode_needs_the_management_account(
        org: Organization, capsys, monkeypatch) -> None:
    keys = boto3.client("sts", region_name=FIRST).assume_role(
        RoleArn=f"arn:aws:iam::{org.account('dev')}:role/ssm-auditor-readonly",
        RoleSessionName="member")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", keys["SessionToken"])

    code, out, err = run(capsys, "--all", "--org", "-q")

    assert out == ""
    assert_one_line_error(code, err, "management account or of a delegated administrator")


# --- Faults of one unit: the others go on ----------------------------------------------------


def _hook_ec2(monkeypatch: pytest.MonkeyPatch, handler: Any) -> None:
    """``handler`` first on every EC2 DescribeInstances of every boto3 session opened."""
    from builders.sessions import sessions_with

    monkeypatch.setattr(boto3, "Session",
                        sessions_with({"before-call.ec2.DescribeInstances": handler}))


def test_a_region_refused_and_a_throttled_unit_fail_alone(org: Organization, capsys,
                                                          monkeypatch) -> None:
    from botocore.awsrequest import AWSResponse


    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")  # honoured (auditor/sources/live.py)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    prod, dev = org.account("prod"), org.account("dev")

    def refuse(context: dict, **_kwargs: Any) -> Any:
        signer = _kwargs["request_signer"]
        account = _account_of(signer)
        if signer.region_name == SECOND and account == prod:
            return AWSResponse("https://ec2", 401, {}, None), {
                "Error": {"Code": "AuthFailure", "Message": "region disabled"},
                "ResponseMetadata": {"HTTPStatusCode": 401}}
        if signer.region_name == FIRST and account == dev:
            return AWSResponse("https://ec2", 400, {}, None), {
                "Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None

    _hook_ec2(monkeypatch, refuse)
    code, report = audit_json(capsys, "--accounts", f"{prod},{dev}")

    units = {(u["account_id"], u["region"]): u for u in report["units"]}
    assert units[(prod, SECOND)]["status"] == "error"
    assert "AuthFailure" in units[(prod, SECOND)]["error"]
    assert units[(dev, FIRST)]["status"] == "error"
    assert "Throttling: Rate exceeded" in units[(dev, FIRST)]["error"]
    assert units[(prod, FIRST)]["status"] == units[(dev, SECOND)]["status"] == "ok"
    assert {i["account_id"] for i in report["instances"]} == {prod}
    assert code == 1  # prod's instances are not manageable: worse than a failed unit


def _account_of(signer: Any) -> str:
    """The moto account of a client's credentials (its access key)."""
    from moto.core.utils import get_equivalent_url_in_aws_domain  # noqa: F401  (moto present)
    from moto.sts.models import sts_backends

    key = signer._credentials.access_key
    for account_id, by_partition in sts_backends.items():
        for backend in by_partition.values():
            if backend.get_assumed_role_from_access_key(key) is not None:
                return account_id
    return "123456789012"


def test_a_unit_that_outlives_its_time_fails_with_a_reason(org: Organization, capsys,
                                                           monkeypatch) -> None:
    prod = org.account("prod")

    def slow(**kwargs: Any) -> None:
        if _account_of(kwargs["request_signer"]) == prod:
            time.sleep(4.5)  # past the unit's time: its next request is not sent

    _hook_ec2(monkeypatch, slow)
    code, report = audit_json(capsys, "--accounts", f"{prod},{org.account('management')}",
                              "--unit-timeout", "4")

    units = {(u["account_id"], u["region"]): u for u in report["units"]}
    for region in (FIRST, SECOND):
        assert units[(prod, region)]["status"] == "error"
        assert "timed out" in units[(prod, region)]["error"]
    assert units[(org.account("management"), FIRST)]["status"] == "ok"
    assert code == 3


# --- Formats ---------------------------------------------------------------------------------


def test_jsonl_is_one_instance_a_line_and_a_line_per_unit(org: Organization, capsys) -> None:
    code, out, _ = run(capsys, "--all", "--org", "--regions", REGIONS, "--format", "jsonl",
                         "-q")
    lines = [json.loads(line) for line in out.splitlines()]

    instances = [line for line in lines if "instance_id" in line]
    units = [line["unit"] for line in lines if "unit" in line]
    assert len(instances) + len(units) == len(lines)
    assert sorted(i["instance_id"] for i in instances) == sorted(
        set(org.all_instances()) - set(org.estates["locked"].instance_ids()))
    assert len(units) == 8
    assert all(i["account_id"] and i["verdict"] for i in instances)
    # A unit's line follows its instances.
    position = {line.get("instance_id"): n for n, line in enumerate(lines)}
    for n, line in enumerate(lines):
        if "unit" in line:
            for instance in instances:
                if (instance["account_id"], instance["region"]) == (
                        line["unit"]["account_id"], line["unit"]["region"]):
                    assert position[instance["instance_id"]] < n
    assert code == 1


def test_asff_findings_fit_security_hubs_model_and_keep_their_ids(org: Organization,
                                                                  capsys) -> None:
    import botocore.session
    from botocore.validate import ParamValidator

    _, first, _ = run(capsys, "--all", "--org", "--regions", REGIONS, "--format", "asff", "-q")
    findings = json.loads(first)
    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    for batch in range(0, len(findings), 100):
        report = ParamValidator().validate({"Findings": findings[batch:batch + 100]}, shape)
        assert not report.has_errors(), report.generate_report()

    # One per not-manageable instance and code; the instance is the resource.
    prod = org.account("prod")
    scp = [f for f in findings if f["GeneratorId"] == "ssm-auditor/SCP_DENIES"]
    assert len(scp) == len(org.estates["prod"].instance_ids())
    for finding in scp:
        [resource] = finding["Resources"]
        instance_id = resource["Id"].rsplit("/", 1)[1]
        assert instance_id in org.estates["prod"].instance_ids()
        assert resource["Type"] == "AwsEc2Instance"
        assert resource["Id"].startswith(f"arn:aws:ec2:{finding['Region']}:{prod}:instance/")
        assert finding["AwsAccountId"] == prod
        assert finding["ProductArn"] == (f"arn:aws:securityhub:{finding['Region']}:{prod}:"
                                         f"product/{prod}/default")
        assert finding["Severity"]["Label"] == "HIGH"
        assert finding["Compliance"]["Status"] == "FAILED"
        assert "SCP" in finding["Remediation"]["Recommendation"]["Text"]
        assert finding["Id"] == f"ssm-auditor/{prod}/{finding['Region']}/{instance_id}/SCP_DENIES"
    assert len({f["Id"] for f in findings}) == len(findings)
    manageable = {iid for name in ("management",) for iid in org.estates[name].instance_ids()}
    assert not [f for f in findings if f["Resources"][0]["Id"].rsplit("/", 1)[1] in manageable]

    _, second, _ = run(capsys, "--all", "--org", "--regions", REGIONS, "--format", "asff", "-q")
    assert sorted(f["Id"] for f in json.loads(second)) == sorted(f["Id"] for f in findings)


def test_text_lists_what_needs_attention_the_failed_units_and_the_fixes(
        org: Organization, capsys) -> None:
    code, out, _ = run(capsys, "--all", "--org", "--regions", REGIONS, "-q")
    for iid in org.estates["prod"].instance_ids():
        assert iid in out
    [management] = org.estates["management"].instance_ids()
    assert management not in out  # manageable: not listed without -v
    assert "units: 6 read, 2 could not be read" in out
    assert "fix:" in out and "SCP_DENIES" in out
    assert "summary: 2 manageable, 4 not manageable" in out
    assert code == 1


def test_html_is_one_page_of_every_account_with_the_failed_units(org: Organization,
                                                                 capsys) -> None:
    from auditor.reports.html_markup import anchor
    from tests.html_tree import parse

    json_code, report = audit_json(capsys)
    code, out, _ = run(capsys, "--all", "--org", "--regions", REGIONS, "--format", "html",
                       "-q")
    root, _ = parse(out)

    rows = root.by_id("instance-table").find("tbody").find_all("tr")
    verdicts = {instance["instance_id"]: instance["verdict"] for instance in report["instances"]}
    assert sorted(row.find("a").attrs["href"] for row in rows) == sorted(
        f"#{anchor(iid)}" for iid in verdicts)
    assert sorted(row.attrs["data-v"] for row in rows) == sorted(verdicts.values())
    assert not set(org.estates["locked"].instance_ids()) & set(verdicts)
    units = {table.find("caption").text(): table
             for table in root.find_all("table", "groups")}["By account and region"]
    assert org.account("locked") in units.text() and "AssumeRole" in units.text()
    assert code == json_code == 1


def test_sarif_is_not_offered_for_an_organization_in_one_line(org: Organization,
                                                              capsys) -> None:
    code, _, err = run(capsys, "--all", "--org", "--regions", REGIONS, "--format", "sarif",
                       "-q")
    assert_one_line_error(code, err, "--format sarif is not offered for an organization",
                          "jsonl", "asff", "html")


def test_progress_goes_to_stderr_and_quiet_silences_it(org: Organization, capsys) -> None:
    dev = org.account("dev")
    _, out, err = run(capsys, "--all", "--org", "--accounts", dev, "--format", "json")
    assert json.loads(out)["units"]
    assert "ssm-auditor: 1/1 units, 2 instances, 0 failed" in err
    _, out, err = run(capsys, "--all", "--org", "--accounts", dev, "--format", "json", "-q")
    assert err == ""


# --- The library: what the Lambda of the Step Functions stack calls ---------------------------


def test_audit_unit_gives_a_json_ready_unit_report_from_what_travels(org: Organization) -> None:
    access = OrganizationAccess()
    organization = read_organization(access)
    travelled = OrganizationAnswers.from_dict(json.loads(json.dumps(organization.to_dict())))
    units = list_units(travelled, Selection.from_flags(org.account("prod"), FIRST, None), access)
    assert units == [Unit(org.account("prod"), FIRST)]

    report = audit_unit(json.loads(json.dumps(units[0].to_dict())),
                        LiveUnits(OrganizationAccess(), travelled))

    assert json.loads(json.dumps(report)) == report
    assert report["unit"]["status"] == "ok"
    assert report["unit"]["instances"] == 2
    assert {i["instance_id"] for i in report["instances"]} == set(
        org.estates["prod"].healthy[FIRST])
    assert all("SCP_DENIES" in codes(i) for i in report["instances"])
    failed = audit_unit(Unit(org.account("locked"), FIRST), LiveUnits(access, travelled))
    assert failed == {"unit": failed["unit"], "instances": []}
    assert failed["unit"]["status"] == "error" and "cannot assume" in failed["unit"]["error"]


def test_iam_is_read_once_per_account_and_organizations_once_per_run(
        org: Organization, capsys, monkeypatch) -> None:
    operations = record_operations(monkeypatch)
    _, report = audit_json(capsys)
    assert report["units"]
    readable = len([e for e in org.estates.values() if e.account_id != org.account("locked")])
    with_instances = {u["account_id"] for u in report["units"] if u["instances"]}
    # Two bulk calls an account: roles and policies, then users and groups (--operators).
    assert operations.count("GetAccountAuthorizationDetails") == 2 * len(with_instances) \
        == 2 * readable
    assert operations.count("ListAccounts") == 1
    assert operations.count("DescribeOrganization") == 1
    assert operations.count("ListPoliciesForTarget") == operations.count("ListParents") == 0
    # One AssumeRole per member account (its failure kept for its other units too).
    assert operations.count("AssumeRole") == len(org.estates) - 1


def test_organization_mode_is_read_only(org: Organization, capsys, monkeypatch,
                                        tmp_path: Path) -> None:
    """Only Describe/Get/List calls, plus exactly STS AssumeRole and GetCallerIdentity, which
    read nothing in the accounts but are needed to reach them."""
    operations = record_operations(monkeypatch)
    audit_json(capsys)
    run(capsys, "--all", "--org", "--regions", "all", "--accounts", org.account("dev"), "-q")
    run(capsys, "snapshot", "--org", "--out", str(tmp_path / "snap"), "--regions", REGIONS,
        "-q")

    assert operations
    assert "DescribeRegions" in operations
    assert set(operations) <= EVERY_OPERATION
    # AssumeRole is the one call not named Describe/Get/List; GetCallerIdentity reads only who
    # the caller is. Both are STS's, and nothing else of STS is called.
    assert {name for name in operations
            if not name.startswith(api_calls.READ_ONLY_PREFIXES)} == {"AssumeRole"}
    sts = {call.operation for call in api_calls.EVERY_CALL if call.service == "sts"}
    assert {"AssumeRole", "GetCallerIdentity"} == sts == STS_OPERATIONS
    assert set(operations) >= STS_OPERATIONS


# --- Organization snapshots ------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(org: Organization, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("org") / "snap"
    code = main(["snapshot", "--org", "--out", str(folder), "--regions", REGIONS,
                 "--concurrency", "4", "-q"])
    assert code == 3  # the locked account could not be read
    return folder


def test_the_snapshot_round_trip_gives_the_live_answer(org: Organization, snapshot: Path,
                                                       capsys) -> None:
    live_code, live = audit_json(capsys)
    code, out, _ = run(capsys, "--all", "--snapshot", str(snapshot), "--format", "json")
    offline = json.loads(out)

    assert code == live_code == 1
    assert offline["source"]["kind"] == "snapshot"
    assert offline["source"]["organization"]["id"] == live["source"]["organization"]["id"]
    key = lambda instance: instance["instance_id"]  # noqa: E731
    assert sorted(offline["instances"], key=key) == sorted(live["instances"], key=key)
    strip = lambda units: [{k: v for k, v in u.items() if k not in ("seconds", "error")}  # noqa: E731
                           for u in units]
    assert strip(offline["units"]) == strip(live["units"])
    locked = [u for u in offline["units"] if u["status"] == "error"]
    assert len(locked) == 2 and all("not captured: cannot assume" in u["error"] for u in locked)


def test_the_snapshot_layout(org: Organization, snapshot: Path) -> None:
    prod = org.account("prod")
    assert (snapshot / prod / FIRST / "describe-instances.json").is_file()
    assert (snapshot / prod / "account" / "get-account-authorization-details.json").is_file()
    assert not (snapshot / prod / "account" / "describe-organization.json").exists()
    for call in api_calls.ORGANIZATION_WIDE_CALLS:
        assert (snapshot / "organization" / call.file_name).is_file(), call.file_name
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["kind"] == "organization"
    assert len(manifest["units"]) == 8
    assert not [p for p in snapshot.rglob("*") if ".partial" in p.name]


def test_snapshot_selection_flags_apply_to_an_organization_snapshot(
        org: Organization, snapshot: Path, capsys) -> None:
    dev = org.account("dev")
    code, out, _ = run(capsys, "--all", "--snapshot", str(snapshot), "--accounts", dev,
                       "--regions", FIRST, "--format", "json")
    report = json.loads(out)
    assert [(u["account_id"], u["region"]) for u in report["units"]] == [(dev, FIRST)]
    assert code == 1
    code, out, err = run(capsys, "--all", "--snapshot", str(snapshot), "--regions",
                         "ap-south-1")
    assert out == ""
    assert_one_line_error(code, err, "not ap-south-1")
    code, out, err = run(capsys, "--all", "--snapshot", str(snapshot), "--accounts",
                         "999999999999")
    assert_one_line_error(code, err, "not in organization snapshot")


def test_a_half_written_snapshot_is_refused_in_one_line(org: Organization, snapshot: Path,
                                                        capsys, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(snapshot, copy)
    (copy / "manifest.json").unlink()
    code, out, err = run(capsys, "--all", "--snapshot", str(copy))
    assert out == ""
    assert_one_line_error(code, err, "half-written")


def test_a_damaged_unit_of_a_snapshot_fails_alone(org: Organization, snapshot: Path, capsys,
                                                  tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(snapshot, copy)
    prod, dev = org.account("prod"), org.account("dev")
    shutil.rmtree(copy / prod / SECOND)
    (copy / dev / FIRST / "describe-subnets.json").write_text('{"Subnets": [')
    code, out, _ = run(capsys, "--all", "--snapshot", str(copy), "--format", "json")
    units = {(u["account_id"], u["region"]): u for u in json.loads(out)["units"]}

    assert "missing from the snapshot" in units[(prod, SECOND)]["error"]
    assert "describe-subnets.json is not valid JSON" in units[(dev, FIRST)]["error"]
    assert units[(prod, FIRST)]["status"] == "ok"
    assert code == 1


def test_a_plan_and_prelaunch_take_one_account_of_an_organization_snapshot(
        org: Organization, snapshot: Path, capsys, tmp_path: Path) -> None:
    [bare] = org.estates["dev"].no_profile[FIRST]
    plan = tmp_path / "plan.json"
    # --instance finds its account; the plan is written for it.
    code, out, err = run(capsys, "--instance", bare, "--snapshot", str(snapshot), "--plan",
                         str(plan), "--format", "json")
    assert code == 1, err
    [instance] = json.loads(out)["instances"]
    assert instance["account_id"] == org.account("dev")
    assert json.loads(plan.read_text())["instances"]
    # --all --plan over several accounts: say which one.
    code, out, err = run(capsys, "--all", "--snapshot", str(snapshot), "--plan", str(plan))
    assert_one_line_error(code, err, "--accounts ID")
    code, out, err = run(capsys, "--all", "--snapshot", str(snapshot), "--plan", str(plan),
                         "--accounts", org.account("dev"), "--region", FIRST)
    assert code == 1, err
    # prelaunch: a planned instance over one account of the organization snapshot.
    subnet = next(i["subnet_id"] for i in json.loads(
        run(capsys, "--instance", bare, "--snapshot", str(snapshot), "--format", "json")[1]
    )["instances"])
    code, out, err = run(capsys, "prelaunch", "--subnet", subnet, "--security-group",
                         instance["security_groups"][0], "--snapshot", str(snapshot),
                         "--accounts", org.account("dev"), "--region", FIRST, "--format",
                         "json")
    assert code in (1, 3), err
    assert json.loads(out)["instances"][0]["instance_id"] == "planned-instance"
    code, out, err = run(capsys, "prelaunch", "--subnet", subnet, "--security-group",
                         instance["security_groups"][0], "--snapshot", str(snapshot),
                         "--region", FIRST)
    assert_one_line_error(code, err, "--accounts ID")


def test_snapshot_units_read_like_live_ones(org: Organization, snapshot: Path) -> None:
    source = SnapshotUnits(snapshot)
    units = source.units(Selection.from_flags(org.account("prod"), None, None))
    assert [u.region for u in units] == sorted([FIRST, SECOND])
    report = audit_unit(units[0], source)
    assert report["unit"]["status"] == "ok"
    assert all("SCP_DENIES" in codes(i) for i in report["instances"])
    assert os.environ.get("AWS_ENDPOINT_URL") is None


def test_a_far_side_is_read_whole_once_per_run_and_a_refused_role_is_a_unit_failure(
        org: Organization, monkeypatch) -> None:
    """``read_network``: another account's network in a region, what a spoke's far side needs,
    read once however many spokes ask; a role that cannot be assumed is ``UnitFailure``."""
    access = OrganizationAccess()
    source = LiveUnits(access, read_organization(access))
    operations = record_operations(monkeypatch)
    unit = Unit(org.account("dev"), FIRST)

    first = source.read_network(unit)
    again = source.read_network(unit)

    assert again is first and first.account_id == unit.account_id
    assert api_calls.VPCS.kind in first.answers and api_calls.ROUTE_TABLES.kind in first.answers
    assert operations.count("DescribeRouteTables") == 1
    assert "GetAccountAuthorizationDetails" not in operations  # no IAM: nothing is audited
    with pytest.raises(UnitFailure, match="cannot assume"):
        source.read_network(Unit(org.account("locked"), FIRST))
