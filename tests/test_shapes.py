"""Every raw answer checked against botocore's output shape of its operation (sources/shapes.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.errors import UsageError
from auditor.sources import api_calls, shapes
from auditor.sources.api_calls import ApiCall

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo" / "estate"


def _demo(call: ApiCall) -> object:
    folder = api_calls.ACCOUNT_FOLDER if call.account_wide else "eu-west-1"
    return json.loads((DEMO / folder / call.file_name).read_text())


def _refused(call: ApiCall, answer: object, *words: str) -> None:
    with pytest.raises(UsageError) as raised:
        shapes.check_answer(call, answer, "f.json")
    message = str(raised.value)
    assert "\n" not in message and message.startswith("f.json: ")
    for word in words:
        assert word in message, message


# Every call the auditor reads: a region's and account's, and the organization mode's own.
EVERY_CALL = tuple(dict.fromkeys((*api_calls.ALL_CALLS, *api_calls.ORGANIZATION_WIDE_CALLS,
                                  api_calls.ENABLED_REGIONS)))


@pytest.mark.parametrize("call", EVERY_CALL, ids=lambda call: call.operation)
def test_every_declared_call_has_an_output_shape_holding_its_result(call: ApiCall) -> None:
    # What makes a call another helper adds to api_calls checked without more code: its
    # operation's output shape in botocore's model, and its result key in it.
    entry = shapes._store().entry(call.service, call.operation)
    output = entry["shapes"][entry["output"]]
    assert output[0] == "structure"
    assert not call.result_key or call.result_key in output[1]


@pytest.mark.parametrize("call", [c for c in api_calls.ALL_CALLS
                                  if (DEMO / ("account" if c.account_wide else "eu-west-1")
                                      / c.file_name).is_file()],
                         ids=lambda call: call.operation)
def test_the_demo_snapshot_has_the_shapes(call: ApiCall) -> None:
    shapes.check_answer(call, _demo(call), "demo")


INSTANCE = {"InstanceId": "i-1", "State": {"Code": 16, "Name": "running"}}


@pytest.mark.parametrize(("answer", "words"), [
    (None, ["the top level: expected a mapping (DescribeInstancesResult), found null"]),
    ({}, ["expected the key 'Reservations'", "found an empty mapping"]),
    ([{"InstanceId": "i-1"}], ["expected a mapping", "found a list"]),  # --query output
    ({"reservations": []}, ["reservations: expected the key 'Reservations'"]),
    ({"Reservations": None}, ["Reservations: expected a list"]),
    ({"Reservations": [{"Instances": [{**INSTANCE, "instanceId": "i-2"}]}]},
     ["Reservations[0].Instances[0].instanceId: expected the key 'InstanceId'"]),
    ({"Reservations": [{"Instances": [{**INSTANCE, "InstanceId": 12345}]}]},
     ["Reservations[0].Instances[0].InstanceId: expected text, found a number"]),
    ({"Reservations": [{"Instances": [{**INSTANCE, "State": "RUNNING"}]}]},
     ["Instances[0].State: expected a mapping (InstanceState), found text"]),
    ({"Reservations": [{"Instances": [{**INSTANCE, "MetadataOptions": {
        "HttpPutResponseHopLimit": True}}]}]},
     ["MetadataOptions.HttpPutResponseHopLimit: expected an integer, found a boolean"]),
    ({"Reservations": [{"Instances": [{**INSTANCE, "SecurityGroups": None}]}]},
     ["Instances[0].SecurityGroups: expected a list", "found null"]),
    ({"Reservations": [None]}, ["Reservations[0]: expected a mapping", "found null"]),
], ids=["null", "empty", "query-output", "lowercase", "null-list", "lowercase-member",
        "numeric-id", "state-text", "boolean-hop-limit", "null-member", "null-item"])
def test_an_instances_answer_of_another_shape_is_refused(answer, words) -> None:
    _refused(api_calls.INSTANCES, answer, *words)


def test_a_null_state_is_read_as_unknown_not_refused() -> None:
    shapes.check_answer(api_calls.INSTANCES, {"Reservations": [{"Instances": [
        {**INSTANCE, "State": None}]}]}, "f.json")


@pytest.mark.parametrize(("call", "answer", "words"), [
    (api_calls.VPC_ATTRIBUTES, [{"VpcId": "vpc-1", "EnableDnsSupport": {"Value": "false"}}],
     ["[0].EnableDnsSupport.Value: expected a boolean (true or false), found text"]),
    (api_calls.SUBNETS, {"Subnets": [{"SubnetId": "s", "MapPublicIpOnLaunch": "false"}]},
     ["Subnets[0].MapPublicIpOnLaunch: expected a boolean"]),
    (api_calls.VPC_ENDPOINTS, {"VpcEndpoints": [{"PrivateDnsEnabled": "false"}]},
     ["VpcEndpoints[0].PrivateDnsEnabled: expected a boolean"]),
    (api_calls.NETWORK_ACLS, {"NetworkAcls": [{"Entries": [
        {"PortRange": {"From": "443", "To": 443}}]}]},
     ["NetworkAcls[0].Entries[0].PortRange.From: expected an integer, found text"]),
    (api_calls.PREFIX_LIST_ENTRIES, {"PrefixListId": "pl-1", "Entries": []},
     ["the top level: expected a list of GetManagedPrefixListEntries answers"]),
    (api_calls.PREFIX_LIST_ENTRIES, [{"PrefixListId": "pl-1"}], ["[0]: expected the key "
                                                                 "'Entries'"]),
    (api_calls.IAM_AUTHORIZATION, {"RoleDetailList": [{"RolePolicyList": None}]},
     ["RoleDetailList[0].RolePolicyList: expected a list"]),
    (api_calls.DHMC_SETTING, {"ServiceSetting": "x"}, ["ServiceSetting: expected a mapping"]),
], ids=["dns-text", "public-ip-text", "private-dns-text", "port-text", "per-resource-dict",
        "per-resource-result", "null-inline-policies", "setting-text"])
def test_booleans_numbers_and_lists_are_read_exactly(call, answer, words) -> None:
    _refused(call, answer, *words)


def test_what_the_model_allows_is_accepted() -> None:
    # A per-resource answer carries its request's id; a field newer than botocore is kept;
    # a policy document may be text or a mapping; "not found" is a null single result.
    shapes.check_answer(api_calls.PREFIX_LIST_ENTRIES, [{"PrefixListId": "pl-1", "Entries": []}],
                        "f")
    shapes.check_answer(api_calls.SUBNETS, {"Subnets": [{"SubnetId": "s", "BrandNew": {"a": 1}}]},
                        "f")
    shapes.check_answer(api_calls.VPC_ENDPOINTS, {"VpcEndpoints": [
        {"PolicyDocument": {"Statement": []}}, {"PolicyDocument": "{}"}]}, "f")
    shapes.check_answer(api_calls.DHMC_SETTING, {"ServiceSetting": None}, "f")
    shapes.check_answer(api_calls.ORGANIZATION, {"Organization": None}, "f")


def test_nesting_under_a_key_the_model_does_not_know_is_bounded() -> None:
    deep: object = 0
    for _ in range(100):
        deep = [deep]
    _refused(api_calls.SUBNETS, {"Subnets": [{"SubnetId": "s", "BrandNew": deep}]},
             "Subnets[0].BrandNew: expected nesting within the nesting depth limit")


def test_a_recursive_shape_is_bounded_by_the_nesting_limit() -> None:
    compiler = shapes._Compiler({"Node": ["structure", {"Child": "Node"}, []]})
    check = compiler.checker("Node")
    value: dict = {}
    for _ in range(50):
        value = {"Child": value}
    check(value)
    for _ in range(50):
        value = {"Child": value}
    with pytest.raises(shapes._Mismatch):
        check(value)


def test_the_shapes_are_cached_and_a_later_run_does_not_load_botocore(tmp_path: Path) -> None:
    code = ("import json, sys, time; from auditor.sources import api_calls, shapes; "
            "started = time.perf_counter(); "
            "shapes.check_answer(api_calls.SUBNETS, {'Subnets': []}, 'f'); "
            "print(json.dumps([time.perf_counter() - started, "
            "any(m.startswith('botocore') for m in sys.modules)]))")
    env = {"SSM_AUDITOR_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def run() -> tuple[float, bool]:
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=True)
        seconds, botocore = json.loads(result.stdout)
        return seconds, botocore

    first = run()
    assert first[1], "the first run reads botocore's model"
    assert list((tmp_path / "cache").glob("output-shapes-*.json"))
    later_seconds, later_botocore = run()
    assert not later_botocore
    assert later_seconds < 0.05  # measured: about 3 ms, against 250 ms for botocore's


def test_a_damaged_cache_is_read_from_botocore_again(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSM_AUDITOR_CACHE_DIR", str(tmp_path))
    path = shapes._cache_file()
    path.write_text("{not json")
    store = shapes._ShapeStore()
    assert store.entry("ec2", "DescribeSubnets")["output"] == "DescribeSubnetsResult"
    assert "ec2:DescribeSubnets" in json.loads(path.read_text())


def test_an_empty_cache_setting_writes_nothing(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSM_AUDITOR_CACHE_DIR", "")
    assert shapes._cache_file() is None
    assert shapes._ShapeStore().entry("ec2", "DescribeVpcs")["output"] == "DescribeVpcsResult"


def test_a_cache_of_the_wrong_shape_is_read_from_botocore_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSM_AUDITOR_CACHE_DIR", str(tmp_path))
    shapes._cache_file().write_text(json.dumps({"ec2:DescribeSubnets": {"output": 5},
                                                "ec2:DescribeVpcs": 7}))
    store = shapes._ShapeStore()
    monkeypatch.setattr(shapes, "_store", lambda: store)
    shapes._answer_checker.cache_clear()
    try:
        shapes.check_answer(api_calls.SUBNETS, {"Subnets": []}, "f")
        _refused(api_calls.SUBNETS, {"Subnets": {}}, "Subnets: expected a list")
    finally:
        shapes._answer_checker.cache_clear()


def test_a_per_resource_request_that_failed_is_kept_with_its_reason() -> None:
    # live keeps a VPC whose ListHostedZonesByVPC failed with its reason (that VPC alone is
    # unknown); an error that is not text, or an item with neither, is still refused.
    call = api_calls.HOSTED_ZONES_BY_VPC
    shapes.check_answer(call, [{"VPCId": "vpc-1", "VPCRegion": "eu-west-1",
                                "Error": "Throttling: Rate exceeded"}], "f.json")
    _refused(call, [{"VPCId": "vpc-1", "Error": {"Code": "Throttling"}}],
             "[0]: expected the key 'HostedZoneSummaries'")
    _refused(call, [{"VPCId": "vpc-1"}], "[0]: expected the key 'HostedZoneSummaries'")
