"""Live reads against faulty endpoints (real HTTP on 127.0.0.1): fail fast, in one line, and
never read an answer that is not the service's as an empty one.

A moto server holds the account; ``tests/faulty_endpoint.FaultyProxy`` stands in front of it
and answers chosen operations itself (an HTML page, bytes that are not UTF-8, silence, a reset).
moto's server lacks the two Systems Manager reads: the proxy answers them (no DHMC setting, no
managed node) unless a test makes them faulty.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from auditor import limits
from auditor.cli import main
from auditor.sources import live
from builders.moto_layout import build_layout
from tests.checks import assert_one_line_error
from tests.faulty_endpoint import (
    RESET,
    Answer,
    closed_port,
    faulty_proxy,
    silent_port,
    url,
)

REGION = "us-east-1"
pytestmark = pytest.mark.usefixtures("fake_aws")

SSM_ANSWERS = {
    "GetServiceSetting": (400, json.dumps({
        "__type": "ServiceSettingNotFound", "message": "not set"}).encode()),
    "DescribeInstanceInformation": (200, json.dumps({"InstanceInformationList": []}).encode()),
}
HTML_PAGE = b"<!doctype html><html><body><h1>Captive portal</h1><p>Log in<br></body></html>"
XHTML_PAGE = b"<html><body><p>Service temporarily moved</p></body></html>"


@pytest.fixture
def account(moto_server: str) -> dict[str, Any]:
    """One VPC with an instance in the moto server; AWS_ENDPOINT_URL still points at it."""
    layout = build_layout(boto3.client("ec2", region_name=REGION))
    return {"endpoint": moto_server, "instance": layout.instance_ids[0]}


@pytest.fixture
def through(account: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``through(faults)``: route the auditor through a proxy whose ``faults`` maps an
    operation to its answer; the Systems Manager reads moto lacks are answered too."""
    proxies = []

    def route(faults: dict[str, Answer]) -> Any:
        def fault(_service: str, operation: str) -> Answer:
            if operation in faults:
                return faults[operation]
            return SSM_ANSWERS.get(operation)

        context = faulty_proxy(account["endpoint"], fault)
        proxy = context.__enter__()
        proxies.append(context)
        monkeypatch.setenv("AWS_ENDPOINT_URL", url(proxy))
        return proxy

    yield route
    for context in proxies:
        context.__exit__(None, None, None)


def audit_json(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict | None, str]:
    code = main(["--all", "--region", REGION, "--format", "json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


# --- Slow failure: seconds, not minutes ---------------------------------------------------------


def test_a_refused_endpoint_fails_in_seconds(monkeypatch, capsys) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()

    code = main(["--all", "--region", REGION])

    assert time.monotonic() - started < 15  # three attempts and their back-off (was 67 s)
    assert_one_line_error(code, capsys.readouterr().err, "Could not connect to the endpoint")


def test_a_silent_endpoint_fails_after_its_read_timeouts(monkeypatch, capsys) -> None:
    monkeypatch.setattr(limits, "LIVE_READ_TIMEOUT", limits.Limit(
        "read timeout", 1, "seconds", "", "", ""))
    with silent_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        started = time.monotonic()

        code = main(["--all", "--region", REGION])

    assert time.monotonic() - started < 15
    assert_one_line_error(code, capsys.readouterr().err, "Read timeout")


def test_the_deadline_stops_a_silent_endpoint(monkeypatch, capsys) -> None:
    with silent_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        started = time.monotonic()

        code = main(["--all", "--region", REGION, "--deadline", "1.5"])

    assert time.monotonic() - started < 6
    assert_one_line_error(code, capsys.readouterr().err, "stopped at the --deadline of 1.5 s")


@pytest.mark.parametrize("value", ["0", "-3", "nan", "inf", "soon"])
def test_a_deadline_that_is_not_a_positive_number_is_refused(capsys, value: str) -> None:
    code = main(["--all", "--snapshot", "demo/estate", "--deadline", value])

    assert_one_line_error(code, capsys.readouterr().err, "--deadline")


def test_every_client_has_connect_and_read_timeouts(account) -> None:
    client = live.client(boto3.Session(), "ec2", REGION)

    assert client.meta.config.connect_timeout == limits.LIVE_CONNECT_TIMEOUT.value
    assert client.meta.config.read_timeout == limits.LIVE_READ_TIMEOUT.value


def test_a_reset_connection_is_one_line(through, capsys) -> None:
    through({"DescribeInstances": RESET})

    code, _, err = audit_json(capsys)

    assert_one_line_error(code, err, "cannot read AWS in us-east-1")


# --- An answer that is not the service's is never an empty one --------------------------------


@pytest.mark.parametrize("page", [HTML_PAGE, XHTML_PAGE], ids=["html", "well-formed-xhtml"])
def test_ec2_answering_a_web_page_is_exit_2_not_zero_instances(through, capsys, page) -> None:
    through({"DescribeInstances": (200, page)})

    code, report, err = audit_json(capsys)

    assert report is None
    assert_one_line_error(code, err, "cannot describe instances in us-east-1")


@pytest.mark.parametrize(("operation", "answer", "kind", "words"), [
    # Well-formed XML, the wrong document: botocore finds no subnetSet and would give {}.
    ("DescribeSubnets", (200, b"<DescribeVpcsResponse><vpcSet/></DescribeVpcsResponse>"),
     "subnets", "has no Subnets list"),
    ("DescribeSecurityGroups", (200, HTML_PAGE), "security_groups", "ResponseParserError"),
    ("DescribeInstanceInformation", (200, b'{"InstanceInformationList": ["\xff\xfe"]}'),
     "instance_information", "not UTF-8"),
    ("DescribeInstanceInformation", (200, HTML_PAGE), "instance_information",
     "has no InstanceInformationList"),
    ("GetAccountAuthorizationDetails", (200, HTML_PAGE), "iam_authorization",
     "ResponseParserError"),
    ("GetAccountAuthorizationDetails", (200, XHTML_PAGE), "iam_authorization",
     "botocore cannot parse the answer"),
    ("DescribeOrganization", (200, json.dumps({"Organization": ["not", "one"]}).encode()),
     "organization", "botocore cannot parse the answer"),
    ("DescribeOrganization", (200, json.dumps({"Organization": {"Id": 5}}).encode()),
     "organization", "Organization.Id: expected text, found a number"),
], ids=["other-xml", "ec2-html", "ssm-not-utf8", "ssm-html", "iam-html", "iam-xhtml",
        "org-list", "org-number"])
def test_an_answer_that_is_not_the_services_is_recorded_not_empty(
        through, operation: str, answer: Answer, kind: str, words: str) -> None:
    through({operation: answer})

    raw = live.collect([REGION])[0]

    assert kind not in raw.answers
    assert "NotTheServiceAnswer" in raw.errors[kind] or "ResponseParserError" in raw.errors[kind]
    assert words in raw.errors[kind], raw.errors[kind]


def test_the_audit_of_an_unreadable_answer_is_never_an_all_clear(through, capsys) -> None:
    through({"DescribeVpcEndpoints": (200, XHTML_PAGE)})

    code, report, err = audit_json(capsys)

    assert "internal error" not in err and code in (1, 3)
    instance = report["instances"][0]
    assert instance["verdict"] != "manageable"
    assert any(f["code"] == "DATA_UNAVAILABLE" and "NotTheServiceAnswer" in f["message"]
               for f in instance["findings"]), instance["findings"]
