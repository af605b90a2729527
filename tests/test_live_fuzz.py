"""Fuzzing the live entrance with Hypothesis (issue 17).

The same corruptions as tests/test_snapshot_fuzz.py (null, another type, another shape, deep
nesting, large values, text that differs by case or spaces, keys spelt otherwise, unknown keys,
escape sequences, a resource described twice), but served as AWS's answers to a live
``--all`` audit of the demo's two regions: botocore's ``_make_api_call`` answers each
operation from the demo snapshot (per-resource calls by their request's ids, each client from
its region's folder), one answer corrupted per example, then handed over as botocore would:
Systems Manager's and Organizations' answers through botocore's own JSON parser, EC2's and
IAM's as their XML parser can give them (only the shape's members, a container of the wrong
kind refused, scalars read from their text). What the collector does with an answer (scoping
the next calls by it, checking it against its operation's output shape, recording what it
cannot use) is what is fuzzed; the wire formats (EC2's and IAM's XML too) are exercised by
tests/test_live_faults.py through real HTTP.

The contract is the snapshot's: exit 2 in one line, or a report in which no instance is
manageable that was not manageable before the corruption; never "internal error"; in the
text report no control character but newlines and tabs.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.cli import main
from auditor.sources import api_calls
from tests.test_snapshot_fuzz import _LONG, FUZZ, _baseline, _check_audit, _files, mutated

REGIONS = ("eu-west-1", "eu-central-1", "eu-west-3")  # the demo's regions
# A live audit opens a boto3 session per run: fewer examples than the snapshot's in CI.
LIVE_FUZZ = settings(FUZZ, max_examples=FUZZ.max_examples if _LONG else 30)
_BY_OPERATION = {call.operation: call for call in api_calls.ALL_CALLS}
# GetAccountAuthorizationDetails answers two kinds, told apart by the request's Filter.
_BY_FILTER = {tuple(api_calls.IAM_PRINCIPALS_FILTER): api_calls.IAM_PRINCIPALS}


def _call_of(operation: str, params: dict[str, Any]) -> api_calls.ApiCall | None:
    if operation == api_calls.IAM_AUTHORIZATION.operation:
        return _BY_FILTER.get(tuple(params.get("Filter") or ()), api_calls.IAM_AUTHORIZATION)
    return _BY_OPERATION.get(operation)


def _file_of(call: api_calls.ApiCall, region: str) -> str:
    return f"{'account' if call.account_wide else region}/{call.file_name}"


def _matches(item: Any, params: dict[str, Any], operation: str) -> bool:
    """A per-resource answer of the snapshot is the answer to the request naming its ids."""
    if not isinstance(item, dict):
        return True  # a corrupted item: served to every request
    if operation == "DescribeVpcAttribute":
        attribute = str(params.get("Attribute", ""))
        if attribute[:1].upper() + attribute[1:] not in item:
            return False
    return all(item.get(key) == value for key, value in params.items()
               if isinstance(value, str) and key in item)


# How AWS says "none" where a snapshot stores null: an error the collector knows.
_NONE_ERRORS = {"GetServiceSetting": "ServiceSettingNotFound",
                "DescribeOrganization": "AWSOrganizationsNotInUseException"}


def _answer(answers: dict[str, Any], operation: str, params: dict[str, Any],
            region: str) -> Any:
    from botocore.exceptions import ClientError

    call = _call_of(operation, params)
    if call is None or _file_of(call, region) not in answers:
        raise ClientError({"Error": {"Code": "UnsupportedOperation", "Message": "not here"}},
                          operation)
    answer = copy.deepcopy(answers[_file_of(call, region)])
    if operation in _NONE_ERRORS and answer == {call.result_key: None}:
        raise ClientError({"Error": {"Code": _NONE_ERRORS[operation], "Message": "none"}},
                          operation)
    if call.per_resource and isinstance(answer, list):
        found = [item for item in answer if _matches(item, params, operation)]
        if not found:
            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not found"}},
                              operation)
        answer = found[0]
    if not isinstance(answer, dict):  # botocore's parser gives a mapping, or fails so
        from botocore.parsers import ResponseParserError

        raise ResponseParserError(f"{operation}: not an answer")
    return answer


def _region_of(answers: dict[str, Any], client: Any, operation: str,
               params: dict[str, Any]) -> str:
    """The client's region; for a global service's client (Route 53: botocore names it
    aws-global) the region the request is about: its VPC's, or the one whose answers hold
    the resource it names."""
    region = client.meta.region_name
    if region in REGIONS:
        return region
    if params.get("VPCRegion") in REGIONS:
        return params["VPCRegion"]
    call = _call_of(operation, params)
    for candidate in REGIONS:
        answer = answers.get(_file_of(call, candidate)) if call else None
        if isinstance(answer, list) and any(_matches(item, params, operation)
                                            for item in answer):
            return candidate
    return REGIONS[0]


@pytest.fixture
def served(fake_aws, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The answers botocore gives, by snapshot file name: the demo's, changed per example."""
    from botocore.client import BaseClient

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGIONS[0])
    answers: dict[str, Any] = {}

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        from botocore.parsers import JSONParser

        answer = _answer(answers, operation, params, _region_of(answers, client, operation,
                                                                params))
        model = client.meta.service_model
        shape = model.operation_model(operation).output_shape
        if model.protocol == "json":  # Systems Manager, Organizations: botocore's own parser
            body = json.dumps(answer).encode()
            return JSONParser().parse({"body": body, "headers": {}, "status_code": 200}, shape)
        return _as_xml(shape, answer)  # EC2, IAM: what their XML parser can give

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    return answers


def _as_xml(shape: Any, value: Any) -> Any:
    """``value`` as botocore's XML parsers would hand it over had AWS written it in XML: only
    the shape's members (no nulls), a container of the wrong kind refused as the parser would
    refuse it, scalars read from their text (``"false"`` is false, a number's text an int;
    a boolean's text other than true or false refused)."""
    from botocore.parsers import ResponseParserError

    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ResponseParserError(f"{shape.name}: not an element with members")
        return {name: _as_xml(member, value[name]) for name, member in shape.members.items()
                if value.get(name) is not None}
    if kind in ("list", "map"):
        if not isinstance(value, list if kind == "list" else dict):
            raise ResponseParserError(f"{shape.name}: not a {kind}")
        if kind == "map":
            return {str(key): _as_xml(shape.value, item) for key, item in value.items()
                    if item is not None}
        return [_as_xml(shape.member, item) for item in value if item is not None]
    if isinstance(value, dict | list) and kind != "string":  # text: a policy document's JSON
        raise ResponseParserError(f"{shape.name}: an element with children for a {kind}")
    text = value if isinstance(value, str) else json.dumps(value)  # an element's text
    try:
        if kind == "boolean":
            # AWS writes only these two; botocore would read any other text as false, a
            # legitimate value the contract could not tell from garbage.
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        raise ResponseParserError(f"{shape.name}: {text[:40]!r} is not a {kind}") from None
    return text


def _audit_live(text_format: bool) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--all", *(arg for region in REGIONS for arg in ("--region", region)),
                     "--format", "text" if text_format else "json"])
    return code, out.getvalue(), err.getvalue()


@cache
def _live_files() -> tuple[str, ...]:
    """The snapshot files that are answers to a call (not the manifest)."""
    return tuple(sorted({_file_of(call, region) for call in api_calls.ALL_CALLS
                         for region in REGIONS} & set(_files())))


def test_the_demo_served_live_is_audited_as_its_snapshot(served) -> None:
    served.update(_files())
    code, out, err = _audit_live(False)
    assert code == 1, err
    verdicts = {entry["instance_id"]: entry["verdict"] for entry in json.loads(out)["instances"]}
    assert verdicts == _baseline()  # what the fuzz compares with: the snapshot's verdicts


@given(mutated().filter(lambda case: case[0] in _live_files()), st.booleans())
@LIVE_FUZZ
def test_a_corrupted_live_answer_is_refused_in_one_line_or_proves_nothing_new(
        served, case, text_format) -> None:
    name, _, _, body = case
    served.clear()
    served.update(_files())
    served[name] = json.loads(json.dumps(body))  # as a parser would give it: no shared parts
    _check_audit(*_audit_live(text_format), text_format)
