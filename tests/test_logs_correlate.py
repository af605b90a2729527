"""`--logs` on an audit of the demo estate: confirmed, unexplained, contradicted; matching."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from auditor.cli import main
from tests.checks import assert_one_line_error

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "estate"
CORPUS = ROOT / "tests" / "corpus" / "logs"
DIAGNOSTICS = ROOT / "tests" / "corpus" / "diagnostics"
LOCKED_DOWN = "i-00000000000000017"  # SG_EGRESS_BLOCKS on all three services
TRUST_DENIES = "i-0000000000000008c"  # TRUST_POLICY_DENIES_EC2, DHMC_DISABLED
HEALTHY = "i-0000000000000000d"

SSM_TIMEOUT = (
    "2026-11-20 10:00:01 ERROR [HealthCheck] error when calling AWS APIs. error details - "
    "RequestError: send request failed\n"
    'caused by: Post "https://ssm.eu-west-1.amazonaws.com/": dial tcp 52.95.120.1:443: i/o '
    "timeout\n")
ASSUME_ROLE = (
    "2026-11-20 10:00:01 ERROR [CredentialRefresher] Retrieve credentials produced error: no "
    "valid credentials could be retrieved for ec2 identity. EC2RoleProvider Err: "
    "AssumeRoleUnauthorizedAccess: EC2 cannot assume the role lambda-copy\n"
    "2026-11-20 10:00:01 INFO [CredentialRefresher] Sleeping for 37s before retrying retrieve "
    "credentials\n")


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def audit(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--snapshot", str(DEMO), *argv, "--format", "json"])
    captured = capsys.readouterr()
    assert captured.err == "", captured.err
    return code, json.loads(captured.out)


def symptoms_of(report: dict, instance_id: str) -> dict[str, dict]:
    instance = next(i for i in report["instances"] if i["instance_id"] == instance_id)
    return {symptom["label"]: symptom for symptom in instance["symptoms"]}


def test_a_timeout_to_ssm_is_confirmed_by_the_blocking_egress_rule(capsys, tmp_path):
    code, report = audit(capsys, "--instance", LOCKED_DOWN,
                         "--logs", write(tmp_path, "a.log", SSM_TIMEOUT))
    assert code == 1  # the audit's exit code is unchanged
    symptom = symptoms_of(report, LOCKED_DOWN)["endpoint_unreachable"]
    assert symptom["state"] == "confirmed"
    assert {(f["code"], f["service"]) for f in symptom["explained_by"]} == {
        ("SG_EGRESS_BLOCKS", "ssm")}
    assert report["instances"][0]["logs"]["primary"] == "endpoint_unreachable"


def test_assume_role_refusal_is_confirmed_by_the_trust_policy_only(capsys, tmp_path):
    _, report = audit(capsys, "--instance", TRUST_DENIES,
                      "--logs", write(tmp_path, "a.log", ASSUME_ROLE))
    symptom = symptoms_of(report, TRUST_DENIES)["credential_refresher_failure"]
    assert symptom["state"] == "confirmed"
    assert [f["code"] for f in symptom["explained_by"]] == ["TRUST_POLICY_DENIES_EC2"]
    assert symptom["fields"]["backoff"] == ["37s"]


def test_a_refresher_failure_behind_a_blocked_ssm_endpoint_is_confirmed(capsys, tmp_path):
    _, report = audit(capsys, "--instance", LOCKED_DOWN, "--logs",
                      str(CORPUS / "seed_credential_refresher_backoff.log"))
    symptom = symptoms_of(report, LOCKED_DOWN)["credential_refresher_failure"]
    assert symptom["state"] == "confirmed"
    assert "ssm is blocked: SG_EGRESS_BLOCKS" in symptom["reason"]


def test_a_timeout_on_a_proven_path_is_unexplained_and_says_what_lies_outside(capsys, tmp_path):
    code, report = audit(capsys, "--instance", HEALTHY,
                         "--logs", write(tmp_path, "a.log", SSM_TIMEOUT))
    assert code == 0
    symptom = symptoms_of(report, HEALTHY)["endpoint_unreachable"]
    assert symptom["state"] == "unexplained"
    assert "proves ssm reachable" in symptom["reason"]
    outside = " ".join(symptom["outside_model"])
    assert "OS firewall" in outside and "proxy" in outside and "DNS" in outside


def test_a_denial_the_policies_allow_is_contradicted(capsys, tmp_path):
    log = ("2026-11-20 10:00:01 ERROR [HealthCheck] error when calling AWS APIs. error details - "
           "AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/web-role/"
           f"{HEALTHY} is not authorized to perform: ssm:UpdateInstanceInformation on "
           "resource: arn:aws:ec2:eu-west-1:111122223333:instance/" + HEALTHY + "\n")
    _, report = audit(capsys, "--all", "--logs", write(tmp_path, "a.log", log))
    symptom = symptoms_of(report, HEALTHY)["iam_access_denied"]
    assert symptom["state"] == "contradicted"
    assert "web-role allows" in symptom["reason"]


def test_a_blocked_service_shown_working_is_contradicted(capsys):
    _, report = audit(capsys, "--instance", LOCKED_DOWN,
                      "--logs", str(DIAGNOSTICS / "healthy.json"))
    contradicted = [s for s in report["instances"][0]["symptoms"] if s["state"] == "contradicted"]
    reasons = " ".join(s["reason"] for s in contradicted)
    assert len(contradicted) == 3
    assert "ssm working" in reasons and "1-second TCP connect" in " ".join(
        report["instances"][0]["logs"]["notes"])
    assert all(s["explained_by"][0]["code"] == "SG_EGRESS_BLOCKS" for s in contradicted)


def test_diagnostics_failures_confirm_the_blocker(capsys):
    _, report = audit(capsys, "--instance", LOCKED_DOWN,
                      "--logs", str(DIAGNOSTICS / "endpoints_timeout.json"))
    symptom = symptoms_of(report, LOCKED_DOWN)["endpoint_unreachable"]
    assert symptom["state"] == "confirmed"
    assert {f["service"] for f in symptom["explained_by"]} == {
        "ssm", "ec2messages", "ssmmessages"}


def test_standard_input_beside_another_log_of_the_same_instance_is_read(capsys, tmp_path,
                                                                         monkeypatch):
    """The logs of one instance are read again together: standard input must not be lost."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SSM_TIMEOUT.encode())))
    _, report = audit(capsys, "--instance", LOCKED_DOWN, "--logs", "-",
                      "--logs", write(tmp_path, "b.log", ASSUME_ROLE))
    assert set(symptoms_of(report, LOCKED_DOWN)) >= {"endpoint_unreachable",
                                                      "credential_refresher_failure"}
    inputs = report["instances"][0]["logs"]["inputs"]
    assert inputs[0]["name"] == "<stdin>"
    assert inputs[0]["lines"] > 0


def test_a_log_goes_to_the_audited_instance_it_names(capsys, tmp_path):
    log = SSM_TIMEOUT.replace("details - ", f"details - [instanceID={LOCKED_DOWN}] ")
    _, report = audit(capsys, "--instance", LOCKED_DOWN, "--instance", HEALTHY,
                      "--logs", write(tmp_path, "a.log", log))
    by_id = {i["instance_id"]: i for i in report["instances"]}
    assert by_id[LOCKED_DOWN]["symptoms"][0]["state"] == "confirmed"
    assert "symptoms" not in by_id[HEALTHY]


def test_a_healthy_log_naming_its_instance_in_any_line_goes_to_it(capsys, tmp_path):
    log = (f"2020-06-23 15:05:36 INFO [instanceID={HEALTHY}] [HealthCheck] HealthCheck "
           "reporting agent health.\n" + SSM_TIMEOUT)
    _, report = audit(capsys, "--instance", LOCKED_DOWN, "--instance", HEALTHY,
                      "--logs", write(tmp_path, "a.log", log))
    by_id = {i["instance_id"]: i for i in report["instances"]}
    assert by_id[HEALTHY]["symptoms"][0]["state"] == "unexplained"
    assert "symptoms" not in by_id[LOCKED_DOWN]


def test_a_log_naming_no_audited_instance_among_several_is_a_usage_error(capsys, tmp_path):
    code = main(["--snapshot", str(DEMO), "--instance", LOCKED_DOWN, "--instance", HEALTHY,
                 "--logs", write(tmp_path, "a.log", SSM_TIMEOUT)])
    assert_one_line_error(code, capsys.readouterr().err, "names none", "--instance")


def test_a_missing_log_is_a_usage_error(capsys, tmp_path):
    code = main(["--snapshot", str(DEMO), "--instance", HEALTHY,
                 "--logs", str(tmp_path / "nope.log")])
    assert_one_line_error(code, capsys.readouterr().err, "no such file")


def test_the_text_report_shows_each_symptom_and_its_state(capsys, tmp_path):
    code = main(["--snapshot", str(DEMO), "--instance", LOCKED_DOWN,
                 "--logs", write(tmp_path, "a.log", SSM_TIMEOUT)])
    out = capsys.readouterr().out
    assert code == 1
    assert "agent log (" in out
    assert "confirmed    endpoint_unreachable x1: explained by SG_EGRESS_BLOCKS" in out


def test_without_logs_the_report_has_no_symptoms(capsys):
    _, report = audit(capsys, "--instance", HEALTHY)
    assert "symptoms" not in report["instances"][0]


IMDS_OFF = "i-0000000000000001a"  # IMDS_DISABLED
NO_IDENTITY = ("2026-11-20 10:00:01 INFO Checking if agent identity type EC2 can be assumed\n"
               "2026-11-20 10:00:07 ERROR Agent failed to assume any identity\n"
               "2026-11-20 10:00:07 ERROR failed to find identity, retrying: failed to find agent "
               "identity\n")
HYBRID_FINGERPRINT = (
    "2026-11-20 10:00:01 ERROR [OnPremCredsProvider] Cannot connect to AWS Systems Manager.  "
    "Machine configuration has changed more than the allowed threshold.\n"
    "2026-11-20 10:00:01 WARN [OnPremCredsProvider] The 'hostname-info' value (b) has changed "
    "from the registered machine configuration value (a).\n")
DISK_FULL = ("2026-11-20 10:00:01 ERROR [ssm-document-worker] [d0c1] failed to create channel: "
             "mkdir /var/lib/amazon/ssm/channels/d0c1: no space left on device\n")


def _symptom(capsys, tmp_path, instance_id: str, log: str, label: str) -> dict:
    _code, report = audit(capsys, "--instance", instance_id,
                          "--logs", write(tmp_path, "a.log", log))
    return symptoms_of(report, instance_id)[label]


def test_no_identity_on_ec2_is_confirmed_by_the_disabled_metadata_service(capsys, tmp_path):
    symptom = _symptom(capsys, tmp_path, IMDS_OFF, NO_IDENTITY, "registration_failure")
    assert symptom["state"] == "confirmed"
    assert [f["code"] for f in symptom["explained_by"]] == ["IMDS_DISABLED"]
    assert symptom["can_be_explained_by"] == ["IMDS_DISABLED"]


def test_a_hybrid_fingerprint_mismatch_lies_outside_the_ec2_model(capsys, tmp_path):
    symptom = _symptom(capsys, tmp_path, HEALTHY, HYBRID_FINGERPRINT, "registration_failure")
    assert symptom["state"] == "unexplained"
    assert symptom["can_be_explained_by"] == []
    assert "outside the EC2 model" in symptom["reason"]
    assert any("hybrid" in item for item in symptom["outside_model"])


def test_resource_exhaustion_lies_inside_the_os(capsys, tmp_path):
    symptom = _symptom(capsys, tmp_path, LOCKED_DOWN, DISK_FULL, "unrecognized")
    assert symptom["state"] == "unexplained"
    assert symptom["fields"]["exhausted"] == ["no space left on device"]
    assert "inside the instance's OS" in symptom["reason"]
    assert any("ulimit" in item for item in symptom["outside_model"])
    assert symptom["explained_by"] == []  # not the egress rule that blocks everything else
