"""The demo estate shows each failure of sessions, patching and who may connect, and the reports
carry them: JSON (contract section 7), text (one line per capability, -v the proof), SARIF."""

from __future__ import annotations

import json

import pytest

from auditor.cli import main

DEMO = "demo/estate"
ACCOUNT = "111122223333"


def demo_report(capsys, *argv: str) -> dict:
    main(["--all", "--snapshot", DEMO, "--format", "json", *argv])
    return json.loads(capsys.readouterr().out)


def by_name(report: dict) -> dict[str, dict]:
    return {instance["name"]: instance for instance in report["instances"]}


@pytest.mark.parametrize(("name", "session", "patching", "codes"), [
    ("web-public", "ok", "ok", set()),
    ("app-behind-nat", "fail", "ok", {"SESSION_KMS_DENIED"}),  # its boundary lacks kms
    ("db-isolated-endpoints", "fail", "fail", {"SESSION_KMS_UNREACHABLE", "PATCH_S3_DENIED"}),
    ("s3-logs-denied", "fail", "ok", {"SESSION_LOG_S3_DENIED"}),
    ("logs-denied", "fail", "ok", {"SESSION_LOG_CLOUDWATCH_DENIED"}),
    ("key-policy-denies", "fail", "ok", {"SESSION_KMS_DENIED"}),
    ("patch-perimeter", "ok", "fail", {"PATCH_S3_DENIED"}),
    ("paris-web", "fail", "ok", {"SESSION_LOG_TARGET_MISSING"}),
    ("connection-lost-unexplained", "ok", "ok", set()),
    ("stopped-worker", "not_applicable", "not_applicable", set()),
    ("batch-no-public-ip", "fail", "fail", set()),  # the agent first: its own as warnings
])
def test_demo_capabilities(capsys, name, session, patching, codes):
    instance = by_name(demo_report(capsys))[name]
    capabilities = instance["capabilities"]
    assert (capabilities["session_manager"]["status"], capabilities["patching"]["status"]) == (
        session, patching)
    assert {f["code"] for f in instance["findings"]
            if f.get("capability") and f["severity"] == "error"} == codes


def test_the_demo_shows_every_capability_code(capsys):
    report = demo_report(capsys, "--operator", f"arn:aws:iam::{ACCOUNT}:user/alice",
                         "--operator", f"arn:aws:iam::{ACCOUNT}:role/auditor-readonly")
    shown = {f["code"] for instance in report["instances"] for f in instance["findings"]
             if f.get("capability")}
    assert {"SESSION_KMS_UNREACHABLE", "SESSION_KMS_DENIED", "SESSION_LOG_S3_UNREACHABLE",
            "SESSION_LOG_S3_DENIED", "SESSION_LOG_CLOUDWATCH_UNREACHABLE",
            "SESSION_LOG_CLOUDWATCH_DENIED", "SESSION_LOG_TARGET_MISSING",
            "PATCH_S3_UNREACHABLE", "PATCH_S3_DENIED", "OPERATOR_CANNOT_START_SESSION",
            "OPERATOR_KMS_DENIED"} <= shown


def test_json_carries_the_contracts_capabilities(capsys):
    report = demo_report(capsys)
    for instance in report["instances"]:
        assert set(instance["capabilities"]) == {"session_manager", "patching"}
        for capability in instance["capabilities"].values():
            assert capability["status"] in {"ok", "fail", "unknown", "not_applicable"}
            assert isinstance(capability["findings"], list)
        for finding in instance["findings"]:
            assert finding.get("capability") in (None, "session_manager", "patching")
            if finding.get("capability"):
                assert finding["code"] in instance["capabilities"][finding["capability"]][
                    "findings"]
    db = by_name(report)["db-isolated-endpoints"]["capabilities"]["session_manager"]
    assert db["services"]["kms"]["status"] == "blocked"
    assert db["services"]["s3"]["via"] == "gateway_endpoint"
    # Where a service stops is given hop by hop; a reachable one says how, without its hops.
    assert any(hop["decision"] == "deny" for hop in db["services"]["kms"]["path"])
    assert db["services"]["s3"]["endpoint_id"].startswith("vpce-")
    assert "path" not in db["services"]["s3"]


def test_text_shows_one_line_per_capability_of_instances_not_all_ok(capsys):
    main(["--all", "--snapshot", DEMO])
    text = capsys.readouterr().out
    blocks = text.split("\n\n")
    db = next(block for block in blocks if block.startswith("OK manageable  i-00000000000000037"))
    lines = [line.strip() for line in db.splitlines()]
    assert any(line.startswith("session_manager  fail") and "SESSION_KMS_UNREACHABLE" in line
               for line in lines)
    assert any(line.startswith("patching         fail") and "PATCH_S3_DENIED" in line
               for line in lines)
    assert "capabilities: session_manager" in text
    # A healthy instance's block (with -v only) shows no capability line without -v.
    assert not any(block.startswith("OK manageable  i-0000000000000000d") for block in blocks)


def test_verbose_shows_the_proof(capsys):
    main(["--instance", "i-00000000000000037", "--snapshot", DEMO, "-v"])
    text = capsys.readouterr().out
    assert "kms:Decrypt on arn:aws:kms:eu-west-1" in text
    assert "kms: blocked via none kms.eu-west-1.amazonaws.com" in text
    assert "s3: reachable via gateway_endpoint" in text


def test_sarif_names_the_capability(capsys):
    main(["--instance", "i-00000000000000037", "--snapshot", DEMO, "--format", "sarif"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    capabilities = {r["ruleId"]: r["properties"].get("capability") for r in results}
    assert capabilities["SESSION_KMS_UNREACHABLE"] == "session_manager"
    assert capabilities["PATCH_S3_DENIED"] == "patching"


def test_operators_of_the_demo(capsys):
    main(["--instance", "i-00000000000000010", "--snapshot", DEMO, "--operators", "--format",
          "json"])
    [instance] = json.loads(capsys.readouterr().out)["instances"]
    listing = instance["capabilities"]["session_manager"]["operators"]
    assert [(o["principal"], o["status"]) for o in listing] == [
        (f"arn:aws:iam::{ACCOUNT}:role/support-engineer", "ok")]
