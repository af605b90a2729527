"""The command line through its public entry point: reports, exit codes, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditor.cli import main
from builders.estate_builder import EstateBuilder
from tests.checks import assert_one_line_error

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "estate"
CONTRACT_VERDICTS = {"manageable", "not_manageable", "unknown", "not_applicable"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def audit_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert err == "", err
    return code, json.loads(out)


def by_name(report: dict) -> dict[str, dict]:
    return {instance["name"]: instance for instance in report["instances"]}


def healthy_estate(tmp_path: Path, inline: dict | None = None) -> tuple[Path, str]:
    """One instance behind an internet gateway, its profile's role allowed what the agent needs
    (``inline``: more policies of that role, by name)."""
    builder = EstateBuilder()
    vpc = builder.vpc()
    subnet = builder.subnet(vpc, "10.0.0.0/24")
    igw = builder.internet_gateway(vpc)
    builder.route_table(vpc, [subnet], [("0.0.0.0/0", igw)])
    group = builder.security_group(vpc, "web")
    instance = builder.instance(subnet, [group], public_ip="198.51.100.1",
                                instance_profile="web")
    builder.role("web", attached=["AmazonSSMManagedInstanceCore"], inline=inline)
    builder.instance_profile("web", ["web"])
    builder.managed_node(instance, "Online")
    return builder.write(tmp_path / "estate"), instance


def test_demo_report_follows_the_contract(capsys):
    code, report = audit_json(capsys, "--all", "--snapshot", str(DEMO))
    assert code == 1  # the demo holds not-manageable instances
    assert report["schema_version"] == 1
    assert report["source"]["kind"] == "snapshot"
    assert len(report["instances"]) >= 10
    for instance in report["instances"]:
        assert instance["verdict"] in CONTRACT_VERDICTS
        assert set(instance["services"]) == {"ssm", "ssmmessages", "ec2messages"}
        for service in instance["services"].values():
            assert service["status"] in {"reachable", "blocked", "unknown"}
            assert isinstance(service["path"], list) and service["path"]
        assert instance["imds"]["status"] in {"ok", "fail", "unknown"}
        assert instance["credentials"]["status"] in {"ok", "fail", "unknown"}
        assert instance["credentials"]["source"] in {"instance_profile", "dhmc", "none"}
        assert instance["permissions"]["status"] in {"ok", "fail", "unknown"}
        for finding in instance["findings"]:
            assert {"code", "service", "resource_id", "severity", "message"} <= set(finding)
            assert finding["severity"] in {"error", "warning", "info"}


@pytest.mark.parametrize(("name", "verdict", "codes"), [
    ("web-public", "manageable", set()),
    ("app-behind-nat", "manageable", set()),
    ("db-isolated-endpoints", "manageable", set()),
    ("batch-no-public-ip", "not_manageable", {"IGW_NO_PUBLIC_IP", "NOT_REGISTERED"}),
    ("locked-down-egress", "not_manageable", {"SG_EGRESS_BLOCKS", "CONNECTION_LOST"}),
    ("imds-disabled", "not_manageable", {"IMDS_DISABLED", "NOT_REGISTERED"}),
    ("stopped-worker", "not_applicable", set()),
    ("nacl-drops-replies", "not_manageable", {"NACL_BLOCKS", "CONNECTION_LOST"}),
    ("nat-without-internet", "not_manageable",
     {"NAT_GATEWAY_NO_INTERNET_ROUTE", "NOT_REGISTERED"}),
    ("nat-failed", "not_manageable", {"NAT_GATEWAY_NOT_AVAILABLE", "CONNECTION_LOST"}),
    ("blackhole-route", "not_manageable", {"BLACKHOLE_ROUTE", "CONNECTION_LOST"}),
    ("endpoint-sg-blocks", "not_manageable", {"ENDPOINT_SG_INGRESS_BLOCKS", "CONNECTION_LOST"}),
    # A transit gateway another account shares: its route tables are that account's.
    ("via-transit-gateway", "unknown", {"DATA_UNAVAILABLE"}),
    ("custom-dns-servers", "unknown", {"CUSTOM_DNS_SERVERS"}),
    ("no-instance-profile", "not_manageable",
     {"NO_INSTANCE_PROFILE", "DHMC_DISABLED", "NOT_REGISTERED"}),
    ("profile-without-role", "not_manageable",
     {"INSTANCE_PROFILE_WITHOUT_ROLE", "DHMC_DISABLED", "NOT_REGISTERED"}),
    ("trust-denies-ec2", "not_manageable",
     {"TRUST_POLICY_DENIES_EC2", "DHMC_DISABLED", "CONNECTION_LOST"}),
    ("heartbeat-denied", "not_manageable", {"EXPLICIT_DENY", "DHMC_DISABLED", "CONNECTION_LOST"}),
    ("boundary-blocks", "not_manageable",
     {"PERMISSIONS_BOUNDARY_DENIES", "DHMC_DISABLED", "NOT_REGISTERED"}),
    ("org-condition", "unknown", {"CONDITION_NOT_EVALUATED"}),
    ("connection-lost-unexplained", "manageable", {"CONNECTION_LOST"}),
    ("zone-swallows-ssm", "not_manageable", {"PRIVATE_HOSTED_ZONE_OVERRIDE", "CONNECTION_LOST"}),
    ("forwards-to-on-prem", "unknown", {"RESOLVER_RULE_FORWARDS"}),
    ("dns-firewall-walled-garden", "not_manageable", {"DNS_FIREWALL_BLOCKS", "CONNECTION_LOST"}),
    # The hub-and-spoke region (eu-central-1).
    ("spoke-central-egress", "manageable", set()),
    ("spoke-central-egress-zone-b", "manageable", set()),
    ("spoke-quarantined-table", "not_manageable", {"TGW_ROUTE_MISSING", "CONNECTION_LOST"}),
    ("spoke-old-egress-blackhole", "not_manageable", {"TGW_BLACKHOLE_ROUTE", "CONNECTION_LOST"}),
    ("spoke-not-propagated", "not_manageable", {"RETURN_ROUTE_MISSING", "CONNECTION_LOST"}),
    ("spoke-zone-without-attachment", "not_manageable",
     {"TGW_ATTACHMENT_NOT_IN_AZ", "CONNECTION_LOST"}),
    ("spoke-attachment-pending", "not_manageable",
     {"TGW_ATTACHMENT_NOT_AVAILABLE", "CONNECTION_LOST"}),
    ("spoke-attachment-acl", "not_manageable", {"NACL_BLOCKS", "CONNECTION_LOST"}),
    ("peered-with-hub", "not_manageable", {"PEERING_NOT_TRANSITIVE", "CONNECTION_LOST"}),
    ("spoke-on-premises-egress", "unknown", {"UNMODELED_HOP"}),
    ("spoke-central-endpoints", "manageable", {"PRIVATE_HOSTED_ZONE_OVERRIDE"}),
])
def test_demo_instances_get_their_verdicts(capsys, name, verdict, codes):
    _, report = audit_json(capsys, "--all", "--snapshot", str(DEMO))
    instance = by_name(report)[name]
    assert instance["verdict"] == verdict
    # The agent's findings (the capabilities' own: tests/test_capabilities_demo.py)
    assert {finding["code"] for finding in instance["findings"]
            if "capability" not in finding} == codes


def test_healthy_paths_with_a_working_role_are_manageable(capsys, tmp_path):
    estate, instance_id = healthy_estate(tmp_path)
    code, report = audit_json(capsys, "--instance", instance_id, "--snapshot", str(estate))
    [instance] = report["instances"]
    assert all(s["status"] == "reachable" for s in instance["services"].values())
    assert instance["services"]["ssm"]["via"] == "internet_gateway"
    assert instance["verdict"] == "manageable"
    assert instance["credentials"]["status"] == "ok"
    assert instance["permissions"]["status"] == "ok"
    assert instance["findings"] == []
    assert code == 0


def test_text_report_names_the_blocking_hop_and_the_fix(capsys):
    code, out, _ = run(capsys, "--all", "--snapshot", str(DEMO), "--color", "never")
    assert code == 1
    assert "\033[" not in out
    assert "NOT manageable" in out
    assert "SG_EGRESS_BLOCKS" in out
    assert "fix:" in out
    assert "summary:" in out


def test_colour_when_asked(capsys):
    _, out, _ = run(capsys, "--all", "--snapshot", str(DEMO), "--color", "always")
    assert "\033[31m" in out


def test_one_instance_from_the_demo(capsys):
    _, report = audit_json(capsys, "--all", "--snapshot", str(DEMO))
    target = by_name(report)["endpoint-sg-blocks"]["instance_id"]
    code, single = audit_json(capsys, "--instance", target, "--snapshot", str(DEMO))
    assert code == 1
    assert [i["instance_id"] for i in single["instances"]] == [target]
    ssm = single["instances"][0]["services"]["ssm"]
    assert (ssm["status"], ssm["via"]) == ("blocked", "interface_endpoint")


def test_unknown_instance_id(capsys):
    code, out, err = run(capsys, "--instance", "i-0000000000000dead", "--snapshot", str(DEMO))
    assert out == ""
    assert_one_line_error(code, err, "i-0000000000000dead", "not found")


@pytest.mark.parametrize("argv", [
    [],
    ["--all", "--instance", "i-1"],
    ["--all", "--format", "xml"],
    ["--all", "--snapshot", "/nonexistent/dir"],
    ["--all", "--logs", "agent.log", "--snapshot", "demo/estate"],
    ["prelaunch", "template.yaml"],
])
def test_bad_usage_is_one_line(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err)


@pytest.mark.parametrize(("file_name", "content", "words"), [
    ("describe-subnets.json", "{not json", ["describe-subnets.json"]),
    ("describe-subnets.json", '{"Subnets": 42}', ["describe-subnets.json"]),
    ("describe-route-tables.json", '{"RouteTables": [{"VpcId": "vpc-1"}]}',
     ["describe-route-tables.json", "RouteTableId"]),
    ("describe-instances.json", "\x00\xff\xfe garbage", ["describe-instances.json"]),
    ("describe-security-groups.json", "[]", ["describe-security-groups.json"]),
])
def test_malformed_snapshot_files(capsys, tmp_path, file_name, content, words):
    estate, _ = healthy_estate(tmp_path)
    (estate / "eu-west-1" / file_name).write_bytes(content.encode("latin-1"))
    code, out, err = run(capsys, "--all", "--snapshot", str(estate))
    assert out == ""
    assert_one_line_error(code, err, *words)


def test_missing_file_makes_the_proof_unknown_not_reachable(capsys, tmp_path):
    estate, instance_id = healthy_estate(tmp_path)
    (estate / "eu-west-1" / "describe-network-acls.json").unlink()
    code, report = audit_json(capsys, "--instance", instance_id, "--snapshot", str(estate))
    [instance] = report["instances"]
    assert code == 3
    for service in instance["services"].values():
        assert service["status"] == "unknown"
        assert "DATA_UNAVAILABLE" in service["findings"]


def test_denied_api_recorded_in_manifest_makes_the_proof_unknown(capsys, tmp_path):
    estate, _ = healthy_estate(tmp_path)
    manifest_path = estate / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["errors"] = {"eu-west-1": {"route_tables": "AccessDenied: not authorized"}}
    manifest_path.write_text(json.dumps(manifest))
    code, report = audit_json(capsys, "--all", "--snapshot", str(estate))
    assert code == 3
    assert report["source"]["unavailable"]["eu-west-1"]["route_tables"].startswith("AccessDenied")
    statuses = {s["status"] for s in report["instances"][0]["services"].values()}
    assert statuses == {"unknown"}


def test_flat_directory_built_with_the_aws_cli(capsys, tmp_path):
    estate, instance_id = healthy_estate(tmp_path)
    flat = tmp_path / "flat"
    shutil.copytree(estate / "eu-west-1", flat)  # no manifest, no region folder
    code, report = audit_json(capsys, "--instance", instance_id, "--snapshot", str(flat))
    assert report["source"]["regions"] == ["eu-west-1"]
    assert report["instances"][0]["services"]["ssm"]["status"] == "reachable"
    assert code == 3


def test_region_filter_on_a_snapshot(capsys, tmp_path):
    estate, _ = healthy_estate(tmp_path)
    code, _, err = run(capsys, "--all", "--snapshot", str(estate), "--region", "us-east-1")
    assert_one_line_error(code, err, "us-east-1")


def test_compact_json_is_the_same_document(capsys):
    from auditor.audit import run_audit
    from auditor.reports import json_report
    from auditor.sources.description import SourceDescription
    from auditor.sources.parse import build_estate
    from auditor.sources.snapshot import read_snapshot

    estates = [build_estate(raw) for raw in read_snapshot(DEMO)]
    report = run_audit(estates, None, SourceDescription("snapshot", path=str(DEMO)))
    indented = json_report.render(report, indent=True)
    compact = json_report.render(report, indent=False)
    assert "\n" not in compact
    assert json.loads(compact) == json.loads(indented)


def test_each_instance_alone_gets_the_answer_it_gets_in_the_fleet(capsys):
    """--instance models only that instance's VPCs: the answer must not change."""
    _, fleet = audit_json(capsys, "--all", "--snapshot", str(DEMO))
    for expected in fleet["instances"]:
        _, alone = audit_json(capsys, "--instance", expected["instance_id"],
                              "--snapshot", str(DEMO))
        assert alone["instances"] == [expected]


# An unset variable (`--snapshot "$SNAP"`) gives an empty value: it never means "none" (an
# empty --snapshot once read the live account with whatever credentials were around).
@pytest.mark.parametrize(("argv", "option"), [
    (["--all", "--snapshot", ""], "--snapshot"),
    (["--all", "--snapshot", str(DEMO), "--plan", ""], "--plan"),
    (["--all", "--region", ""], "--region"),
    (["--all", "--region", "eu-west-1", "--region", ""], "--region"),
    (["--all", "--profile", ""], "--profile"),
    (["--instance", "", "--snapshot", str(DEMO)], "--instance"),
    (["--all", "--snapshot", str(DEMO), "--logs", ""], "--logs"),
    (["--all", "--snapshot", str(DEMO), "--verify-plan", ""], "--verify-plan"),
    (["snapshot", "--out", ""], "--out"),
    (["prelaunch", ""], "TEMPLATE"),
    (["prelaunch", "--subnet", "", "--snapshot", str(DEMO)], "--subnet"),
    (["logs", ""], "FILE"),
], ids=["snapshot", "plan", "region", "second-region", "profile", "instance", "logs",
        "verify-plan", "snapshot-out", "template", "subnet", "log-file"])
def test_an_empty_option_value_is_a_usage_error(capsys, monkeypatch, tmp_path, argv, option):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing to reach anyway
    monkeypatch.chdir(tmp_path)

    code, out, err = run(capsys, *argv)

    assert out == ""
    assert_one_line_error(code, err, f"{option}: empty value")
    assert list(tmp_path.iterdir()) == []  # no plan, no snapshot written
