"""Garbage is never an all clear: what the parser reads exactly, what a snapshot may hold, and
what "nothing audited" says (issue 17). Each test corrupts one thing in a copy of the demo
snapshot, whose instances are each blocked (or cleared) by one mechanism."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor import limits
from auditor.cli import main
from tests.checks import assert_one_line_error

DEMO = Path(__file__).resolve().parents[1] / "demo" / "estate"
INSTANCES = "eu-west-1/describe-instances.json"


def snapshot(tmp_path: Path, name: str | None = None,
             change: Callable[[Any], Any] | None = None) -> Path:
    """A copy of the demo snapshot, ``change`` applied to the document of file ``name``."""
    folder = tmp_path / "estate"
    shutil.copytree(DEMO, folder)
    if name and change:
        path = folder / name
        document = json.loads(path.read_text())
        result = change(document)
        path.write_text(json.dumps(document if result is None else result))
    return folder


def audit(capsys, folder: Path, *extra: str) -> tuple[int, dict | None, str]:
    """The audit of the region the tests change (the demo's other one holds its own
    blockers)."""
    code = main(["--all", "--snapshot", str(folder), "--region", "eu-west-1", "--format",
                 "json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def instance(report: dict, name: str) -> dict:
    return next(entry for entry in report["instances"] if entry.get("name") == name
                or entry["instance_id"] == name)


def named(document: dict, name: str) -> dict:
    for reservation in document["Reservations"]:
        for entry in reservation["Instances"]:
            if {"Key": "Name", "Value": name} in entry.get("Tags", []):
                return entry
    raise KeyError(name)


# --- instance states --------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "reason"), [
    ({"Code": 16}, "its State has no Name"),
    (None, "DescribeInstances gives it no State"),
    ({"Code": 16, "Name": "RUNNING"}, 'its State.Name "RUNNING" is not a state EC2 reports'),
    ({"Code": 16, "Name": " running"}, 'State.Name " running"'),
    ("absent", "DescribeInstances gives it no State"),
])
def test_a_state_ec2_does_not_report_is_unknown_never_not_applicable(capsys, tmp_path, state,
                                                                      reason) -> None:
    def corrupt(document: dict) -> None:
        for reservation in document["Reservations"]:
            for entry in reservation["Instances"]:
                if state == "absent":
                    entry.pop("State")
                else:
                    entry["State"] = state

    code, report, _ = audit(capsys, snapshot(tmp_path, INSTANCES, corrupt))

    assert code == 3  # was 0 for a whole fleet of such instances: every one not applicable
    for entry in report["instances"]:
        assert entry["verdict"] == "unknown"
        assert any(f["code"] == "DATA_UNAVAILABLE" and reason in f["message"]
                   for f in entry["findings"]), entry["findings"]


def test_a_state_given_as_text_is_refused(capsys, tmp_path) -> None:
    code, _, err = audit(capsys, snapshot(tmp_path, INSTANCES, lambda d: named(
        d, "web-public").update(State="running")))

    assert_one_line_error(code, err, "State: expected a mapping (InstanceState), found text")


def test_a_pending_instance_is_judged_as_it_will_run(capsys, tmp_path) -> None:
    def launching(document: dict) -> None:
        for name in ("web-public", "imds-disabled"):
            named(document, name)["State"] = {"Code": 0, "Name": "pending"}

    code, report, _ = audit(capsys, snapshot(tmp_path, INSTANCES, launching))

    web, imds = instance(report, "web-public"), instance(report, "imds-disabled")
    assert web["verdict"] == "manageable"
    assert "instance is pending: judged as it will run" in web["verdict_reasons"]
    assert imds["verdict"] == "not_manageable"  # its blocker holds once it runs
    assert code == 1


# --- enumerations and booleans read exactly ---------------------------------------------------


@pytest.mark.parametrize("value", ["Disabled", "off", "DISABLED", " disabled", "no"])
def test_a_metadata_endpoint_neither_enabled_nor_disabled_is_unknown(capsys, tmp_path,
                                                                     value) -> None:
    _, report, _ = audit(capsys, snapshot(tmp_path, INSTANCES, lambda d: named(
        d, "web-public")["MetadataOptions"].update(HttpEndpoint=value)))

    web = instance(report, "web-public")
    assert web["verdict"] == "unknown" and web["imds"]["status"] == "unknown"
    assert any(f["code"] == "DATA_UNAVAILABLE" and "HttpEndpoint" in f["message"]
               for f in web["findings"])


def _endpoint_of(document: dict, service: str) -> dict:
    return next(e for e in document["VpcEndpoints"] if e["ServiceName"].endswith(f".{service}"))


@pytest.mark.parametrize(("name", "change", "words"), [
    ("eu-west-1/describe-vpc-attribute.json",
     lambda d: d[0]["EnableDnsSupport"].update(Value="false"), "expected a boolean"),
    ("eu-west-1/describe-subnets.json",
     lambda d: d["Subnets"][0].update(MapPublicIpOnLaunch="false"), "expected a boolean"),
    ("eu-west-1/describe-vpc-endpoints.json",
     lambda d: d["VpcEndpoints"][0].update(PrivateDnsEnabled="false"), "expected a boolean"),
    ("eu-west-1/describe-network-acls.json",
     lambda d: d["NetworkAcls"][-1]["Entries"][0].update(RuleAction="ALLOW"),
     "is neither allow nor deny"),
    ("eu-west-1/describe-network-acls.json",
     lambda d: d["NetworkAcls"][-1]["Entries"][0].update(Protocol="TCP"),
     "is not -1 or a protocol number"),
    ("eu-west-1/describe-network-acls.json",
     lambda d: d["NetworkAcls"][-1]["Entries"][0].update(PortRange={"From": "1024", "To": 1}),
     "PortRange.From: expected an integer, found text"),
    ("eu-west-1/describe-dhcp-options.json",
     lambda d: d["DhcpOptions"][0]["DhcpConfigurations"][0].update(Key="Domain-Name-Servers"),
     "is not 'domain-name-servers' as AWS writes it"),
    ("eu-west-1/describe-vpc-endpoints.json",
     lambda d: _endpoint_of(d, "ssm").update(ServiceName=_endpoint_of(d, "ssm")[
         "ServiceName"].upper()), "is not as AWS writes it"),
    (INSTANCES, lambda d: named(d, "web-public").update(PublicIpAddress="none"),
     "Expected 4 octets"),
    # The template reader's placeholder for a planned instance is no address in AWS data.
    (INSTANCES, lambda d: named(d, "web-public").update(PublicIpAddress="assigned-at-launch"),
     "Expected 4 octets"),
], ids=["dns-false-text", "public-ip-false-text", "private-dns-false-text", "nacl-action",
        "nacl-protocol", "nacl-port-text", "dhcp-key-case", "endpoint-service-case",
        "public-ip-text", "public-ip-placeholder"])
def test_text_that_is_not_awss_is_refused(capsys, tmp_path, name, change, words) -> None:
    code, report, err = audit(capsys, snapshot(tmp_path, name, change))

    assert report is None
    assert_one_line_error(code, err, Path(name).name, words)


def test_private_dns_not_in_the_data_is_unknown(capsys, tmp_path) -> None:
    def absent(document: dict) -> None:
        for endpoint in document["VpcEndpoints"]:
            endpoint.pop("PrivateDnsEnabled", None)

    _, report, _ = audit(capsys, snapshot(tmp_path, "eu-west-1/describe-vpc-endpoints.json",
                                             absent))

    isolated = instance(report, "db-isolated-endpoints")  # manageable through the endpoints
    assert isolated["verdict"] == "unknown"
    assert "has private DNS enabled is not in the data" in json.dumps(isolated["findings"])


def test_a_dns_attribute_not_answered_is_unknown_not_true(capsys, tmp_path) -> None:
    _, report, _ = audit(capsys, snapshot(
        tmp_path, "eu-west-1/describe-vpc-attribute.json", lambda d: [
            {"VpcId": answer["VpcId"]} for answer in d]))

    assert instance(report, "db-isolated-endpoints")["verdict"] == "unknown"
    assert not any(entry["verdict"] == "manageable" for entry in report["instances"])


def test_a_route_state_ec2_does_not_report_is_an_unknown_hop(capsys, tmp_path) -> None:
    def corrupt(document: dict) -> None:
        for table in document["RouteTables"]:
            for route in table["Routes"]:
                if route.get("State") == "blackhole":
                    route["State"] = "Blackhole"

    _, report, _ = audit(capsys, snapshot(tmp_path, "eu-west-1/describe-route-tables.json",
                                             corrupt))

    assert instance(report, "blackhole-route")["verdict"] == "unknown"


@pytest.mark.parametrize("state", ["ACTIVE", " active", "pending", "Blackhole"])
def test_a_transit_gateway_route_state_ec2_does_not_report_is_an_unknown_hop(
        capsys, tmp_path, state) -> None:
    def corrupt(document: list) -> None:
        for table in document:
            for route in table["Routes"]:
                route["State"] = state if route["State"] == "active" else route["State"]

    folder = snapshot(tmp_path, "eu-central-1/search-transit-gateway-routes.json", corrupt)
    code = main(["--all", "--snapshot", str(folder), "--region", "eu-central-1", "--format",
                 "json"])
    report = json.loads(capsys.readouterr().out)

    egress = instance(report, "spoke-central-egress")  # manageable with the routes active
    assert code != 0 and egress["verdict"] == "unknown"
    assert any(f["code"] == "UNMODELED_HOP" and f"state {state!r}" in f["message"]
               for f in egress["findings"])


_NO_STATE = object()  # the State removed


@pytest.mark.parametrize("state", [_NO_STATE, "AVAILABLE", "available ", "up"],
                         ids=["missing", "AVAILABLE", "trailing-space", "up"])
@pytest.mark.parametrize(("name", "key"), [
    ("describe-transit-gateways.json", "TransitGateways"),
    ("describe-transit-gateway-attachments.json", "TransitGatewayAttachments"),
])
def test_a_transit_gateway_or_attachment_state_not_reported_is_an_unknown_hop(
        capsys, tmp_path, name, key, state) -> None:
    # A State missing, or one EC2 does not report, is never read as available.
    def corrupt(document: dict) -> None:
        for item in document[key]:
            if state is _NO_STATE:
                del item["State"]
            else:
                item["State"] = state

    folder = snapshot(tmp_path, f"eu-central-1/{name}", corrupt)
    code = main(["--all", "--snapshot", str(folder), "--region", "eu-central-1", "--format",
                 "json"])
    report = json.loads(capsys.readouterr().out)

    egress = instance(report, "spoke-central-egress")  # manageable with the states available
    assert code != 0 and egress["verdict"] == "unknown"
    said = "without a state" if state is _NO_STATE else f"in state {state!r}"
    assert any(f["code"] == "UNMODELED_HOP" and said in f["message"]
               for f in egress["findings"]), egress["findings"]


def test_the_demo_transit_gateway_spoke_is_manageable_with_its_states(capsys) -> None:
    # The control of the test above: unchanged, the same instance is proved manageable.
    code = main(["--all", "--snapshot", str(DEMO), "--region", "eu-central-1", "--format",
                 "json"])
    report = json.loads(capsys.readouterr().out)
    assert code != 2
    assert instance(report, "spoke-central-egress")["verdict"] == "manageable"


# --- duplicates -------------------------------------------------------------------------------


def test_the_same_resource_twice_differently_is_refused(capsys, tmp_path) -> None:
    def twice(document: dict) -> None:
        twin = json.loads(json.dumps(document["SecurityGroups"][0]))
        twin["IpPermissionsEgress"] = [{"IpProtocol": "-1", "IpRanges": [
            {"CidrIp": "0.0.0.0/0"}]}]
        document["SecurityGroups"].append(twin)

    code, _, err = audit(capsys, snapshot(tmp_path, "eu-west-1/describe-security-groups.json",
                                          twice))

    assert_one_line_error(code, err, "describe-security-groups.json", "is described twice")


def test_an_instance_twice_differently_is_refused(capsys, tmp_path) -> None:
    def twice(document: dict) -> None:
        twin = json.loads(json.dumps(document["Reservations"][0]))
        twin["Instances"][0]["Tags"] = [{"Key": "Name", "Value": "another"}]
        document["Reservations"].append(twin)

    code, _, err = audit(capsys, snapshot(tmp_path, INSTANCES, twice))

    assert_one_line_error(code, err, "instance i-", "is described twice, differently")


def test_the_same_resource_twice_alike_is_read_once(capsys, tmp_path) -> None:
    expected = audit(capsys, snapshot(tmp_path / "a"))[:2]

    def twice(document: dict) -> None:
        document["SecurityGroups"] += json.loads(json.dumps(document["SecurityGroups"]))

    assert audit(capsys, snapshot(tmp_path / "b", "eu-west-1/describe-security-groups.json",
                                  twice))[:2][0] == expected[0]


def test_dns_attributes_answered_twice_differently_are_refused(capsys, tmp_path) -> None:
    def twice(document: list) -> list:
        return [*document, {"VpcId": document[0]["VpcId"],
                            "EnableDnsSupport": {"Value": not document[0]["EnableDnsSupport"][
                                "Value"]}}]

    code, _, err = audit(capsys, snapshot(tmp_path, "eu-west-1/describe-vpc-attribute.json",
                                          twice))

    assert_one_line_error(code, err, "EnableDnsSupport of vpc-", "answered twice, differently")


# --- files present but unusable ---------------------------------------------------------------


@pytest.mark.parametrize("content", ["null", "{}", "[]", '{"vpcEndpoints": []}',
                                     '{"VpcEndpoints": null}'])
def test_an_endpoint_file_read_as_empty_never_unblocks(capsys, tmp_path, content) -> None:
    folder = snapshot(tmp_path)
    (folder / "eu-west-1" / "describe-vpc-endpoints.json").write_text(content)

    code, report, err = audit(capsys, folder)

    assert report is None  # was: endpoint-sg-blocks manageable through NAT, exit 1
    assert_one_line_error(code, err, "describe-vpc-endpoints.json")


@pytest.mark.parametrize("content", ["null", "{}", '{"reservations": []}',
                                     '[{"InstanceId": "i-1"}]'])
def test_an_instances_file_read_as_empty_is_exit_2_not_zero_instances(capsys, tmp_path,
                                                                      content) -> None:
    folder = snapshot(tmp_path)
    (folder / INSTANCES).write_text(content)

    code, report, err = audit(capsys, folder)

    assert report is None
    assert_one_line_error(code, err, "describe-instances.json")


def test_describe_instances_denied_in_the_manifest_is_exit_2(capsys, tmp_path) -> None:
    def denied(manifest: dict) -> None:
        manifest["errors"] = {"eu-west-1": {"instances": "AccessDenied: no"}}

    code, _, err = audit(capsys, snapshot(tmp_path, "manifest.json", denied))

    assert_one_line_error(code, err, "DescribeInstances could not be read", "AccessDenied: no")


def test_a_truly_empty_selection_says_that_nothing_was_audited(capsys, tmp_path) -> None:
    folder = snapshot(tmp_path, INSTANCES, lambda d: d.update(Reservations=[]))

    code = main(["--all", "--snapshot", str(folder), "--region", "eu-west-1"])
    text = capsys.readouterr().out
    json_code, report, err = audit(capsys, folder)

    assert code == json_code == 0 and report["instances"] == []
    assert "no instance was audited" in text
    assert err == "auditor: no instance was audited: nothing here is proven manageable\n"


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_snapshot_file_that_is_not_a_regular_file_is_refused(capsys, tmp_path, kind) -> None:
    folder = snapshot(tmp_path)
    path = folder / "eu-west-1" / "describe-subnets.json"
    path.unlink()
    path.mkdir() if kind == "directory" else os.mkfifo(path)

    code, _, err = audit(capsys, folder)

    assert_one_line_error(code, err, "describe-subnets.json")


@pytest.mark.parametrize(("limit", "value", "words"), [
    ("SNAPSHOT_BYTES", 20_000, "the snapshot is larger than the snapshot size limit"),
    ("SNAPSHOT_VALUES", 1_000, "more values than the snapshot values limit"),
])
def test_a_snapshot_past_its_limits_is_refused_before_it_is_parsed(
        capsys, tmp_path, monkeypatch, limit, value, words) -> None:
    original = getattr(limits, limit)
    monkeypatch.setattr(limits, limit, limits.Limit(original.name, value, original.unit, "",
                                                    "", ""))

    code, _, err = audit(capsys, snapshot(tmp_path))

    assert_one_line_error(code, err, "snapshot file", words, "docs/LIMITS.md")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM (Linux)")
def test_garbage_values_cost_no_memory_before_they_are_refused(tmp_path) -> None:
    """A 60 MB array of empty objects (20 million values) is refused while it is read."""
    import subprocess
    import sys

    folder = snapshot(tmp_path)
    with (folder / "eu-west-1" / "describe-subnets.json").open("wb") as handle:
        handle.write(b'{"Subnets": [')
        handle.write(b"{}," * 20_000_000)
        handle.write(b"{}]}")
    # VmHWM, not ru_maxrss: Linux carries the spawning process's peak (pytest's) into the
    # child's ru_maxrss across exec; the peak of the new address space starts afresh.
    code = ("import re; from auditor.cli import main; "
            f"code = main(['--all', '--snapshot', {str(folder)!r}]); "
            "peak = re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()); "
            "print(peak.group(1), code)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], check=True)
    peak_kib, status = result.stdout.split()
    assert status == "2" and "more values than" in result.stderr
    assert int(peak_kib) < 250 * 1024  # the whole file as JSON objects: about 1.5 GB


# --- what crashed: numbers and nesting --------------------------------------------------------


@pytest.mark.parametrize(("text", "words"), [
    ('"HttpPutResponseHopLimit": Infinity', "Infinity is not a JSON number"),
    ('"HttpPutResponseHopLimit": 1e999', "the number 1e999 is out of range"),
    ('"HttpPutResponseHopLimit": ' + "9" * 4301, "an integer is past the integer digits"),
    ('"HttpPutResponseHopLimit": 1.5', "HttpPutResponseHopLimit: expected an integer"),
    ('"HttpPutResponseHopLimit": ' + "[" * 5000 + "]" * 5000, "nests deeper"),
    ('"HttpPutResponseHopLimit": 2, "Later": ' + "[" * 80 + "]" * 80,
     "MetadataOptions.Later: expected nesting within the nesting depth limit"),
], ids=["infinity", "overflow", "huge-integer", "float", "deep", "deep-unknown-key"])
def test_numbers_and_nesting_that_crashed_are_one_line(capsys, tmp_path, text, words) -> None:
    folder = snapshot(tmp_path)
    path = folder / INSTANCES
    original = path.read_text()
    path.write_text(original.replace('"HttpPutResponseHopLimit": 2', text, 1))
    assert path.read_text() != original

    code, _, err = audit(capsys, folder)

    assert_one_line_error(code, err, "describe-instances.json", words)


def test_a_policy_document_nested_past_the_limit_is_unknown_not_a_crash(capsys, tmp_path):
    def deep(document: dict) -> None:
        role = document["RoleDetailList"][0]
        role["AssumeRolePolicyDocument"] = '{"Statement": ' + "[" * 950 + "]" * 950 + "}"

    code, report, err = audit(capsys, snapshot(
        tmp_path, "account/get-account-authorization-details.json", deep))

    assert report is None
    assert_one_line_error(code, err, "the trust policy of role", "nests deeper")
