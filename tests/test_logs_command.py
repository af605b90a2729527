"""`python -m auditor logs` through the public entry point: contract JSON, text, bad input."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from auditor.catalogue import LOG_LABELS
from auditor.cli import main
from tests.checks import assert_one_line_error

CORPUS = Path(__file__).resolve().parent / "corpus" / "logs"
DIAGNOSTICS = Path(__file__).resolve().parent / "corpus" / "diagnostics"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["logs", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def logs_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def test_json_follows_the_contract(capsys):
    report = logs_json(capsys, str(CORPUS / "issue312_dns_timeout_journald.log"))
    assert report["schema_version"] == 1
    assert report["primary"] == "endpoint_unreachable"
    (symptom,) = report["symptoms"]
    assert set(symptom) >= {"label", "count", "first_seen", "last_seen", "evidence", "fields"}
    assert symptom["label"] in LOG_LABELS
    assert symptom["count"] == 1
    assert symptom["first_seen"] == symptom["last_seen"] == "2020-10-12 13:49:56"
    assert symptom["evidence"][0].startswith("Oct 12 13:49:56 ip-xxx amazon-ssm-agent[1860]: ")
    assert "caused by: Post https://ssm.eu-west-1.amazonaws.com/" in symptom["evidence"][0]
    assert symptom["fields"]["endpoints"] == ["ssm.eu-west-1.amazonaws.com"]
    assert symptom["fields"]["regions"] == ["eu-west-1"]
    assert "SG_EGRESS_BLOCKS" in symptom["explained_by"]
    assert report["backoff"] == ["600 seconds"]


def test_fields_name_the_action_principal_version_and_back_off(capsys):
    report = logs_json(capsys, str(CORPUS / "issue374_hibernate_access_denied.log"),
                       str(CORPUS / "seed_credential_refresher_backoff.log"))
    by_label = {symptom["label"]: symptom for symptom in report["symptoms"]}
    denied = by_label["iam_access_denied"]["fields"]
    assert denied["iam_actions"] == ["ssm:UpdateInstanceInformation"]
    assert denied["principals"][0].startswith("arn:aws:sts::1111111111:assumed-role/")
    assert report["agent_versions"] == ["3.0.1031.0"]
    refresher = by_label["credential_refresher_failure"]
    assert refresher["count"] == 6
    assert refresher["first_seen"] == "2023-01-25 09:56:19"
    assert refresher["last_seen"] == "2023-01-25 09:56:52"
    assert report["primary"] == "iam_access_denied"
    assert [item["lines"] for item in report["inputs"]] == [5, 12]


def test_first_and_last_seen_span_several_files_in_any_order(capsys, tmp_path):
    later = tmp_path / "later.log"
    later.write_text("2024-05-02 10:00:00 ERROR error details - ThrottlingException: Rate "
                     "exceeded\n")
    earlier = tmp_path / "earlier.log"
    earlier.write_text("2024-05-01 09:00:00 ERROR error details - ThrottlingException: Rate "
                       "exceeded\n2024-05-01 09:30:00 ERROR error details - "
                       "ThrottlingException: Rate exceeded\n")
    (symptom,) = logs_json(capsys, str(later), str(earlier))["symptoms"]
    assert (symptom["count"], symptom["first_seen"], symptom["last_seen"]) == (
        3, "2024-05-01 09:00:00", "2024-05-02 10:00:00")


def test_text_names_the_primary_and_shows_evidence(capsys):
    code, out, _ = run(capsys, str(CORPUS / "issue226_proxyconnect_tls.log"))
    assert code == 0
    assert "primary: proxy_misconfigured" in out
    assert "proxyconnect tcp: tls: first record does not look like a TLS handshake" in out


def test_standard_input_is_read(capsys, monkeypatch):
    data = (CORPUS / "seed_throttling.log").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    report = logs_json(capsys, "-")
    assert report["primary"] == "throttling"
    assert report["inputs"][0]["name"] == "<stdin>"


def test_a_healthy_log_is_healthy_with_working_signals(capsys):
    report = logs_json(capsys, str(CORPUS / "issue289_healthy_2x.log"))
    assert report["primary"] == "healthy"
    assert report["symptoms"] == []
    assert "ssm" in report["working"]


def test_diagnostics_json_is_evidence_with_its_caveats(capsys):
    report = logs_json(capsys, str(DIAGNOSTICS / "endpoints_timeout.json"))
    labels = {symptom["label"] for symptom in report["symptoms"]}
    assert labels == {"endpoint_unreachable"}
    assert report["symptoms"][0]["count"] == 3
    notes = " ".join(report["notes"])
    assert "kms" in notes and "says nothing of the agent's own credentials" in notes
    healthy = logs_json(capsys, str(DIAGNOSTICS / "healthy.json"))
    assert healthy["primary"] == "healthy"
    assert set(healthy["working"]) == {"ssm", "ec2messages", "ssmmessages", "credentials",
                                       "imds"}
    notes = " ".join(healthy["notes"])
    assert "GetCallerIdentity" in notes and "1-second TCP connect" in notes


def test_a_rotated_gzip_log_is_read_and_a_broken_one_refused(capsys, tmp_path):
    rotated = tmp_path / "syslog.2.gz"
    rotated.write_bytes(gzip.compress((CORPUS / "issue312_dns_timeout_journald.log").read_bytes()))
    assert logs_json(capsys, str(rotated))["primary"] == "endpoint_unreachable"
    broken = tmp_path / "broken.gz"
    whole = gzip.compress(b"2020-01-01 00:00:00 ERROR x\n" * 1000)
    broken.write_bytes(whole[: len(whole) // 2])
    code, _, err = run(capsys, str(broken))
    assert_one_line_error(code, err, "broken.gz", "read failed")


def test_an_empty_file_is_read_and_said_empty(capsys, tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    report = logs_json(capsys, str(empty))
    assert report["primary"] == "healthy"
    assert "empty" in report["notes"][0]


def test_text_that_is_no_agent_log_is_said_so(capsys, tmp_path):
    noise = tmp_path / "noise.bin"
    noise.write_bytes(bytes(range(1, 256)) * 40)  # binary without NUL, no agent line in it
    report = logs_json(capsys, str(noise))
    assert report["primary"] == "healthy"
    assert any("no line looks like an SSM Agent log line" in note for note in report["notes"])
    agent = logs_json(capsys, str(CORPUS / "issue312_dns_timeout_journald.log"))
    assert not any("no line looks like" in note for note in agent["notes"])


def test_invalid_utf8_and_a_huge_single_line_are_read(capsys, tmp_path):
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(b"\xff\xfe\xfd not utf-8 \xc3\x28 ERROR ThrottlingException: Rate "
                        b"exceeded\n" + b"A" * (10 << 20))
    report = logs_json(capsys, str(garbage))
    assert report["primary"] == "throttling"
    assert report["inputs"][0]["bytes"] > 10 << 20


@pytest.mark.parametrize(("make", "words"), [
    (lambda tmp: str(tmp / "missing.log"), ("missing.log", "no such file")),
    (lambda tmp: str(tmp), ("is a directory",)),
    (lambda tmp: _write(tmp / "ls", b"\x7fELF\x02\x01\x01\x00" * 512), ("binary data",)),
    (lambda tmp: _write(tmp / "d.json", b'{"DiagnosticsOutput": [ broken'), ("get-diagnostics",)),
])
def test_unreadable_input_is_one_line_and_exit_2(capsys, tmp_path, make, words):
    code, out, err = run(capsys, make(tmp_path))
    assert out == ""
    assert_one_line_error(code, err, *words)


def test_no_file_is_a_usage_error(capsys):
    code, _, err = run(capsys)
    assert_one_line_error(code, err, "FILE")


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)
