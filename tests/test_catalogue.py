"""The finding catalogue covers the contract and its rendered documentation is up to date."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import pytest

from auditor import catalogue
from auditor.catalogue import CATALOGUE, FindingKind, kind

ROOT = Path(__file__).resolve().parent.parent

# CONTRACT.md section 4, copied here on purpose: it is the contract, and the test must not
# depend on where the shared documents live.
CONTRACT_CODES = {
    "network_dns": (
        "NO_ROUTE_TO_DESTINATION",
        "BLACKHOLE_ROUTE",
        "IGW_NO_PUBLIC_IP",
        "NAT_GATEWAY_NO_INTERNET_ROUTE",
        "NAT_GATEWAY_NOT_AVAILABLE",
        "SG_EGRESS_BLOCKS",
        "ENDPOINT_SG_INGRESS_BLOCKS",
        "NACL_BLOCKS",
        "ENDPOINT_PRIVATE_DNS_DISABLED",
        "VPC_DNS_SUPPORT_DISABLED",
        "VPC_DNS_HOSTNAMES_DISABLED",
        "CUSTOM_DNS_SERVERS",
        "ENDPOINT_NOT_AVAILABLE",
        "ENDPOINT_POLICY_DENIES",
        "UNMODELED_HOP",
    ),
    "metadata": ("IMDS_DISABLED",),
    "credentials_permissions": (
        "NO_INSTANCE_PROFILE",
        "INSTANCE_PROFILE_WITHOUT_ROLE",
        "TRUST_POLICY_DENIES_EC2",
        "MISSING_PERMISSIONS",
        "EXPLICIT_DENY",
        "PERMISSIONS_BOUNDARY_DENIES",
        "SCP_DENIES",
        "CONDITION_NOT_EVALUATED",
        "DHMC_DISABLED",
        "DHMC_ROLE_INVALID",
        "DHMC_REQUIRES_IMDSV2",
    ),
    "service_view": ("NOT_REGISTERED", "CONNECTION_LOST", "AGENT_OUTDATED"),
}
ALL_CONTRACT_CODES = tuple(code for codes in CONTRACT_CODES.values() for code in codes)
# CONTRACT.md section 8 (beyond the VPC), with the category and severity they are given.
SHARED_NETWORK_CODES = {
    "TGW_ROUTE_MISSING": ("network", "error"),
    "TGW_BLACKHOLE_ROUTE": ("network", "error"),
    "PEERING_ROUTE_MISSING": ("network", "error"),
    "RETURN_ROUTE_MISSING": ("network", "error"),
}

# Project additions, with the category and severity the brief fixes for them.
PROJECT_CODES = {
    "ASYMMETRIC_RETURN_ROUTE": ("network", "warning"),
    "DATA_UNAVAILABLE": ("data", "warning"),
    "DESTINATION_UNCERTAIN": ("network", "warning"),
    "ENDPOINT_PARTIALLY_REACHABLE": ("network", "warning"),
    "NO_DNS_SERVER": ("dns", "error"),
    "PRIVATE_HOSTED_ZONE_OVERRIDE": ("dns", "error"),
    "RESOLVER_RULE_FORWARDS": ("dns", "warning"),
    "DNS_FIREWALL_BLOCKS": ("dns", "error"),
    "SERVICE_NOT_IN_REGION": ("dns", "error"),
    "TEMPLATE_VALUE_UNRESOLVED": ("data", "warning"),
    "TGW_ATTACHMENT_NOT_AVAILABLE": ("network", "error"),
    "TGW_ATTACHMENT_NOT_IN_AZ": ("network", "error"),
    "PEERING_NOT_TRANSITIVE": ("network", "error"),
    **SHARED_NETWORK_CODES,
}
# Contract section 7 (beyond registration), and the project's additions beside them.
CAPABILITY_CODES = {
    "SESSION_KMS_UNREACHABLE": "session_manager",
    "SESSION_KMS_DENIED": "session_manager",
    "SESSION_LOG_S3_UNREACHABLE": "session_manager",
    "SESSION_LOG_S3_DENIED": "session_manager",
    "SESSION_LOG_CLOUDWATCH_UNREACHABLE": "session_manager",
    "SESSION_LOG_CLOUDWATCH_DENIED": "session_manager",
    "SESSION_LOG_TARGET_MISSING": "session_manager",
    "PATCH_S3_UNREACHABLE": "patching",
    "PATCH_S3_DENIED": "patching",
    "OPERATOR_CANNOT_START_SESSION": "session_manager",
    "OPERATOR_KMS_DENIED": "session_manager",
    # project additions
    "SESSION_CHANNEL_UNREACHABLE": "session_manager",
    "SESSION_CHANNEL_DENIED": "session_manager",
    "SESSION_KMS_KEY_UNUSABLE": "session_manager",
    "SESSION_LOG_UNENCRYPTED": "session_manager",
}

# CONTRACT.md section 5.
CONTRACT_LABELS = {
    "imds_unreachable",
    "endpoint_unreachable",
    "proxy_misconfigured",
    "tls_certificate",
    "iam_access_denied",
    "no_credentials",
    "throttling",
    "credential_refresher_failure",
    "clock_skew",
    "registration_failure",
    "session_manager_channel",
    "healthy",
    "unrecognized",
}
CATEGORIES = {"network", "dns", "metadata", "credentials", "permissions", "service_view", "data",
              "session_manager", "patching"}
SEVERITIES = {"error", "warning", "info"}
STACKS = {"EndpointsStack", "InstanceRoleStack", "SecurityGroupRulesStack", "NaclEntriesStack",
          "RoutesStack"}

KINDS = list(CATALOGUE.values())
IDS = list(CATALOGUE)


def _load_renderer():
    path = ROOT / "scripts" / "render_findings_doc.py"
    spec = importlib.util.spec_from_file_location("render_findings_doc", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


renderer = _load_renderer()


def test_contract_lists_are_complete():
    # Guards the hard-coded lists above against an accidental edit.
    assert len(ALL_CONTRACT_CODES) == len(set(ALL_CONTRACT_CODES)) == 30
    assert len(CONTRACT_LABELS) == 13


@pytest.mark.parametrize("code", ALL_CONTRACT_CODES)
def test_every_contract_code_is_catalogued(code):
    assert code in CATALOGUE


def test_contract_groups_have_matching_categories():
    for code in CONTRACT_CODES["network_dns"]:
        assert CATALOGUE[code].category in {"network", "dns"}, code
        assert CATALOGUE[code].carries_service, code
    assert CATALOGUE["IMDS_DISABLED"].category == "metadata"
    for code in CONTRACT_CODES["credentials_permissions"]:
        assert CATALOGUE[code].category in {"credentials", "permissions"}, code
        assert not CATALOGUE[code].carries_service, code
    for code in CONTRACT_CODES["service_view"]:
        assert CATALOGUE[code].category == "service_view", code


@pytest.mark.parametrize("code", sorted(PROJECT_CODES))
def test_project_codes(code):
    category, severity = PROJECT_CODES[code]
    assert CATALOGUE[code].category == category
    assert CATALOGUE[code].severity == severity


def test_no_unexpected_codes():
    # A new code is welcome, but it must be added to this test on purpose.
    assert set(CATALOGUE) == set(ALL_CONTRACT_CODES) | set(PROJECT_CODES) | set(CAPABILITY_CODES)


@pytest.mark.parametrize("code", sorted(CAPABILITY_CODES))
def test_capability_codes(code):
    """Blockers of a capability, never of the agent: their own category, no service."""
    assert CATALOGUE[code].category == CAPABILITY_CODES[code]
    assert CATALOGUE[code].severity == "error"
    assert not CATALOGUE[code].carries_service


@pytest.mark.parametrize("item", KINDS, ids=IDS)
def test_entry_is_well_formed(item: FindingKind):
    assert CATALOGUE[item.code] is item
    assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", item.code)
    assert item.category in CATEGORIES
    assert item.severity in SEVERITIES
    assert item.stack is None or item.stack in STACKS
    assert set(item.log_labels) <= CONTRACT_LABELS
    assert len(set(item.log_labels)) == len(item.log_labels)
    assert "healthy" not in item.log_labels and "unrecognized" not in item.log_labels
    for name in ("title", "meaning", "fix"):
        text = getattr(item, name)
        assert text.strip() == text and text, f"{name} is empty or padded"
    # The title is one short line that fits a table cell.
    assert len(item.title) <= 80 and "\n" not in item.title and "|" not in item.title
    assert not item.title.endswith(".")
    assert item.meaning.endswith((".", ")")) and item.fix.endswith((".", ")", "`"))
    assert "\n" not in item.meaning and "\n" not in item.fix
    assert "```" not in item.agent_log
    assert all(line.strip() for line in item.agent_log.splitlines())


@pytest.mark.parametrize("item", KINDS, ids=IDS)
def test_fix_is_actionable(item: FindingKind):
    if item.stack is None:
        # Not fixable as code: the fix must give the command.
        assert "`aws " in item.fix, item.code
    if item.severity == "error" and item.category in CAPABILITY_CODES.values():
        # A capability's blocker: new sessions (or patching runs) pick the fix up, or it is
        # about the person, not the instance.
        assert ("no agent restart is needed" in item.fix
                or "Nothing changes on the instance" in item.fix
                or "restart the agent" in item.fix), item.code
    elif item.severity == "error":
        # A blocker: after the fix, the hibernating agent must be restarted or waited for.
        assert "restart the agent" in item.fix.lower(), item.code
        assert "hour" in item.fix, item.code


@pytest.mark.parametrize("item", KINDS, ids=IDS)
def test_ec2_is_not_ec2messages(item: FindingKind):
    text = " ".join((item.title, item.meaning, item.agent_log, item.fix))
    assert not re.search(r"\bec2\.(REGION|[a-z]{2}-[a-z]+-\d)\.amazonaws\.com", text), item.code
    if "ec2.amazonaws.com" in text:  # the trust principal, nothing to do with the network
        assert item.category in {"credentials", "permissions"}, item.code


def test_network_blockers_explain_transport_failures():
    for item in KINDS:
        if item.carries_service and item.code != "ENDPOINT_POLICY_DENIES":
            assert "endpoint_unreachable" in item.log_labels, item.code
    assert "iam_access_denied" in kind("ENDPOINT_POLICY_DENIES").log_labels
    assert "imds_unreachable" in kind("IMDS_DISABLED").log_labels
    assert "credential_refresher_failure" in kind("TRUST_POLICY_DENIES_EC2").log_labels
    assert "registration_failure" in kind("DHMC_DISABLED").log_labels
    for code in ("MISSING_PERMISSIONS", "EXPLICIT_DENY", "PERMISSIONS_BOUNDARY_DENIES"):
        assert "iam_access_denied" in kind(code).log_labels, code


def test_key_facts_and_commands():
    assert "aws ec2 associate-iam-instance-profile --instance-id i-... --iam-instance-profile " in (
        kind("NO_INSTANCE_PROFILE").fix
    )
    dhmc = (
        "aws ssm update-service-setting --setting-id arn:aws:ssm:REGION:ACCOUNT:servicesetting/ssm/"
        "managed-instance/default-ec2-instance-management-role --setting-value "
        "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
    )
    assert dhmc in kind("DHMC_DISABLED").fix
    assert "--http-endpoint enabled" in kind("IMDS_DISABLED").fix
    assert "HttpEndpoint=disabled" in kind("IMDS_DISABLED").meaning
    assert "ec2.amazonaws.com" in kind("TRUST_POLICY_DENIES_EC2").fix
    assert "AssumeRoleUnauthorizedAccess" in kind("TRUST_POLICY_DENIES_EC2").agent_log
    assert "ssm.amazonaws.com" in kind("DHMC_ROLE_INVALID").fix
    assert "AmazonSSMManagedInstanceCore" in kind("MISSING_PERMISSIONS").fix
    assert "443" in kind("SG_EGRESS_BLOCKS").fix
    assert "1024-65535" in kind("NACL_BLOCKS").fix
    assert "i/o timeout" in kind("SG_EGRESS_BLOCKS").agent_log
    assert "no valid providers in chain" in kind("NO_INSTANCE_PROFILE").agent_log
    assert "because no VPC endpoint policy allows" in kind("ENDPOINT_POLICY_DENIES").agent_log
    assert "permissions boundary" in kind("PERMISSIONS_BOUNDARY_DENIES").agent_log
    assert "service control policy" in kind("SCP_DENIES").agent_log


def test_reading_order_keeps_categories_together():
    seen: list[str] = []
    for item in KINDS:
        if not seen or seen[-1] != item.category:
            assert item.category not in seen, f"{item.category} split at {item.code}"
            seen.append(item.category)


def test_kind_lookup():
    assert kind("SG_EGRESS_BLOCKS") is CATALOGUE["SG_EGRESS_BLOCKS"]
    with pytest.raises(KeyError, match="NOT_A_CODE"):
        kind("NOT_A_CODE")


def test_entries_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        kind("NACL_BLOCKS").severity = "info"  # type: ignore[misc]


@pytest.mark.parametrize(
    "change",
    [
        {"category": "network_path"},
        {"severity": "critical"},
        {"stack": "RouteStack"},
        {"log_labels": ("endpoint_timeout",)},
        {"fix": "  "},
        {"code": "sg-egress"},
    ],
)
def test_invalid_entries_are_rejected(change):
    with pytest.raises(ValueError):
        dataclasses.replace(kind("SG_EGRESS_BLOCKS"), **change)


def test_catalogue_module_does_not_render():
    assert not hasattr(catalogue, "render_markdown")


def test_rendering_covers_every_field():
    text = renderer.render_markdown()
    for item in KINDS:
        assert f"### `{item.code}`" in text
        assert f"](#{item.code.lower()})" in text
        for piece in (item.title, item.meaning, item.fix, *item.agent_log.splitlines()):
            assert piece in text, item.code
        for label in item.log_labels:
            assert f"`{label}`" in text
        if item.stack:
            assert f"`{item.stack}`" in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert not [line for line in text.splitlines() if line != line.rstrip()]


def test_findings_doc_is_up_to_date():
    doc = ROOT / "docs" / "FINDINGS.md"
    assert doc.read_text(encoding="utf-8") == renderer.render_markdown(), (
        "docs/FINDINGS.md is out of date: run python scripts/render_findings_doc.py"
    )


def test_check_mode(tmp_path, capsys):
    target = tmp_path / "FINDINGS.md"
    assert renderer.main(["--check", "--path", str(target)]) == 1  # missing
    assert renderer.main(["--path", str(target)]) == 0
    assert renderer.main(["--check", "--path", str(target)]) == 0
    target.write_text(target.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    assert renderer.main(["--check", "--path", str(target)]) == 1
    assert "out of date" in capsys.readouterr().err


def test_a_fix_quotes_the_exact_command_of_its_manual_step():
    """The plan's manual steps run the command the catalogue's fix text shows, placeholders
    filled in: one text for both, so they cannot disagree."""
    quoted = [code for code, entry in CATALOGUE.items() if entry.manual_step]
    assert {"IMDS_DISABLED", "NO_INSTANCE_PROFILE", "TRUST_POLICY_DENIES_EC2"} <= set(quoted)
    for code in quoted:
        action = catalogue.MANUAL_ACTIONS[kind(code).manual_step]
        if not action.command.startswith("#"):  # a review has no command to quote
            assert f"`{action.example()}`" in kind(code).fix, code
    imds = catalogue.MANUAL_ACTIONS["enable_metadata_endpoint"]
    assert imds.command_for({"instance_id": "i-1"}, "eu-west-1") == (
        "aws ec2 modify-instance-metadata-options --region eu-west-1 --instance-id i-1 "
        "--http-endpoint enabled --http-tokens required")


def test_a_manual_step_that_names_no_action_is_refused():
    fields = {field.name: getattr(kind("IMDS_DISABLED"), field.name)
              for field in dataclasses.fields(FindingKind)}
    with pytest.raises(ValueError, match="manual step 'enable_imds'"):
        FindingKind(**{**fields, "manual_step": "enable_imds"})


def test_severities_sort_the_most_severe_first():
    ranked = sorted(["info", "bogus", "warning", "error"], key=catalogue.severity_rank)
    assert ranked == ["error", "warning", "info", "bogus"]
