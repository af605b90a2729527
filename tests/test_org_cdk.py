"""The organization audit's stacks (stacks/org_audit.py, stacks/org_member_role.py), synthesized
offline with a prebuilt dependencies directory and checked with aws_cdk.assertions: the state
machine's Distributed Map (ItemReader, ResultWriter, concurrency, tolerated failures), the
functions (reserved concurrency, timeouts, runtime), the schedule, the bucket, every role's
policy and the member role's trust; cdk-nag runs in every synthesis (a finding fails it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from auditor.errors import UsageError
from auditor.sources import api_calls
from stacks import org_app
from stacks.org_audit import HANDLERS, RESULT_WRITER_V2_FLAG
from stacks.org_member_role import LIST_FUNCTION_ROLE_NAME, UNIT_FUNCTION_ROLE_NAME
from tests.cdk_synth import ORG_AUDIT_ACCOUNT, definition, org_context, resources, synth_org
from tests.test_cdk_app import offline_environment

AUDIT = ORG_AUDIT_ACCOUNT
OPERATOR = "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Admin_*"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory) -> Path:
    """A dependencies directory as stacks.lambda_bundle builds one (a layer's python/)."""
    folder = tmp_path_factory.mktemp("dependencies")
    (folder / "python").mkdir()
    (folder / "python" / "placeholder.txt").write_text("the layer's packages go here\n")
    return folder


@pytest.fixture(scope="module")
def org(prebuilt: Path, tmp_path_factory) -> dict[str, Template]:
    return synth_org(prebuilt, tmp_path_factory.mktemp("cache"), org_audit_max_concurrency="7",
                 org_audit_tolerated_failure_percentage="5",
                 org_audit_schedule="cron(0 3 * * ? *)", org_audit_operator_principal=OPERATOR,
                 org_audit_external_id="audit-2026", org_audit_organization_id="o-abcdefghij")


def audit(org: dict[str, Template]) -> Template:
    return org["SsmAuditor-OrgAudit"]


def member(org: dict[str, Template]) -> Template:
    return org["SsmAuditor-OrgMemberRole"]


def function_named(template: Template, handler: str) -> dict[str, Any]:
    [found] = [props for props in resources(template, "AWS::Lambda::Function")
               if props["Handler"] == handler]
    return found


def statements_of_role(template: Template, role_name_part: str) -> list[dict[str, Any]]:
    found = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"]["Roles"])
        if role_name_part in roles:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        found.update([value] if isinstance(value, str) else value)
    return found


# --- The state machine -------------------------------------------------------------------------


def test_a_distributed_map_reads_the_units_from_s3_and_writes_its_results_to_s3(org) -> None:
    states = definition(audit(org))["States"]
    mapped = states["Audit units"]

    assert states["List units"]["Next"] == "Audit units"
    assert mapped["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    reader = mapped["ItemReader"]
    assert reader["Resource"].endswith(":states:::s3:getObject")
    assert reader["ReaderConfig"] == {"InputType": "JSON"}
    assert reader["Parameters"]["Key.$"] == "$.units_key"  # written by the first function
    assert reader["Parameters"]["Bucket"].startswith("<Reports")
    writer = mapped["ResultWriter"]
    assert writer["Resource"].endswith(":states:::s3:putObject")
    assert writer["Parameters"] == {"Bucket": reader["Parameters"]["Bucket"],
                                    "Prefix": "runs/map-results"}
    assert (mapped["MaxConcurrency"], mapped["ToleratedFailurePercentage"]) == (7, 5)
    assert mapped["ItemSelector"] == {"unit.$": "$$.Map.Item.Value", "run.$": "$.run"}
    # One function per unit; past the tolerated failures the summary still runs.
    [task] = mapped["ItemProcessor"]["States"].values()
    assert task["Resource"].startswith("<AuditUnitFunction")
    assert mapped["Next"] == "Summarize"
    assert mapped["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.map_error",
                                "Next": "Summarize"}]


def test_result_writer_v2_is_left_out_silently_without_its_flag_and_the_stack_sets_it() -> None:
    """The trap the stack avoids: the same map in a stack without the flag has no
    ResultWriter, and synthesis says nothing."""
    def writer_of(flag: bool) -> Any:
        app = cdk.App(analytics_reporting=False)
        stack = cdk.Stack(app, "Bare")
        if flag:
            stack.node.set_context(RESULT_WRITER_V2_FLAG, True)
        bucket = s3.Bucket(stack, "Bucket")
        mapped = sfn.DistributedMap(stack, "Map", result_writer_v2=sfn.ResultWriterV2(
            bucket=bucket, prefix="p"))
        mapped.item_processor(sfn.Pass(stack, "Pass"))
        sfn.StateMachine(stack, "Machine",
                         definition_body=sfn.DefinitionBody.from_chainable(mapped))
        return definition(Template.from_stack(stack))["States"]["Map"].get("ResultWriter")

    assert writer_of(False) is None
    assert writer_of(True) is not None


def test_the_execution_fails_after_the_summary_when_a_unit_or_the_import_failed(org) -> None:
    states = definition(audit(org))["States"]

    assert states["Summarize"]["Next"] == "Every unit audited?"
    choice = states["Every unit audited?"]
    assert choice["Choices"] == [{"Variable": "$.failed_units", "NumericGreaterThan": 0,
                                  "Next": "Units failed"},
                                 {"Variable": "$.import_failed", "BooleanEquals": True,
                                  "Next": "Import failed"}]
    assert states["Units failed"]["Type"] == "Fail"
    assert (states["Import failed"]["Type"], states["Import failed"]["Error"]) == (
        "Fail", "SsmAuditor.ImportFailed")
    assert states[choice["Default"]]["Type"] == "Succeed"


def test_state_machine_logs_everything_without_execution_data_and_traces(org) -> None:
    audit(org).has_resource_properties("AWS::StepFunctions::StateMachine", {
        "LoggingConfiguration": {"Level": "ALL", "IncludeExecutionData": False,
                                 "Destinations": Match.any_value()},
        "TracingConfiguration": {"Enabled": True}})


def test_schedule_starts_the_state_machine(org) -> None:
    audit(org).has_resource_properties("AWS::Events::Rule", {
        "ScheduleExpression": "cron(0 3 * * ? *)", "State": "ENABLED",
        "Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp(
            "^StateMachine")}})]})


def test_default_schedule_is_daily(prebuilt, tmp_path) -> None:
    templates = synth_org(prebuilt, tmp_path)
    [rule] = resources(templates["SsmAuditor-OrgAudit"], "AWS::Events::Rule")

    assert rule["ScheduleExpression"] == "rate(1 day)"


# --- The functions -----------------------------------------------------------------------------


def test_functions_have_reserved_concurrency_timeouts_and_the_locked_runtime(org) -> None:
    template = audit(org)
    unit = function_named(template, HANDLERS["AuditUnit"])
    listing = function_named(template, HANDLERS["ListUnits"])
    summary = function_named(template, HANDLERS["Summarize"])

    # As many unit functions as the map runs at once, no more.
    assert unit["ReservedConcurrentExecutions"] == 7
    assert (listing["ReservedConcurrentExecutions"],
            summary["ReservedConcurrentExecutions"]) == (1, 1)
    assert (unit["Timeout"], listing["Timeout"], summary["Timeout"]) == (600, 300, 900)
    assert unit["MemorySize"] == 1024
    for function in (unit, listing, summary):
        assert (function["Runtime"], function["Architectures"]) == ("python3.14", ["arm64"])
        assert len(function["Layers"]) == 1
    [layer] = resources(template, "AWS::Lambda::LayerVersion")
    assert layer["CompatibleRuntimes"] == ["python3.14"]


def test_every_handler_is_a_function_of_the_auditor_package() -> None:
    import importlib

    for handler in HANDLERS.values():
        module, _, name = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), handler


def test_functions_are_told_the_bucket_role_and_selection(org) -> None:
    unit = function_named(audit(org), HANDLERS["AuditUnit"])
    variables = unit["Environment"]["Variables"]

    assert variables["SSM_AUDITOR_ROLE_NAME"] == "ssm-auditor-readonly"
    assert variables["SSM_AUDITOR_EXTERNAL_ID"] == "audit-2026"
    assert variables["SSM_AUDITOR_REGIONS"] == "all"
    assert variables["SSM_AUDITOR_BUCKET"]["Ref"].startswith("Reports")


# --- Storage -----------------------------------------------------------------------------------


def test_bucket_is_encrypted_with_a_rotated_key_private_tls_only_and_expires_objects(
        org) -> None:
    template = audit(org)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    [bucket] = [props for props in resources(template, "AWS::S3::Bucket")
                if "LoggingConfiguration" in props]

    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0] \
        .startswith("Key")
    assert rule["BucketKeyEnabled"] is True
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True}
    lifecycle = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert {(rule.get("Prefix"), rule.get("ExpirationInDays")) for rule in lifecycle.values()
            } == {("reports/", 90), ("summaries/", 90), ("runs/", 30), (None, None)}
    assert lifecycle["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1}
    policies = resources(template, "AWS::S3::BucketPolicy")
    assert any(statement["Effect"] == "Deny" and statement["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}
        for policy in policies for statement in policy["PolicyDocument"]["Statement"])


# --- Roles -------------------------------------------------------------------------------------


def test_member_role_allows_exactly_the_operations_the_auditor_calls_in_a_member(org) -> None:
    [policy] = resources(member(org), "AWS::IAM::Policy")
    [statement] = policy["PolicyDocument"]["Statement"]

    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert sorted(statement["Action"]) == api_calls.iam_actions(api_calls.UNIT_CALLS)
    # Reads only: nothing that writes, nothing of Organizations (read once, centrally).
    assert all(action.split(":")[1].startswith(api_calls.READ_ONLY_PREFIXES)
               for action in statement["Action"])
    assert not any(action.startswith("organizations:") for action in statement["Action"])


def test_member_role_trusts_only_the_audit_functions_and_the_operator(org) -> None:
    [role] = resources(member(org), "AWS::IAM::Role")
    trust = role["AssumeRolePolicyDocument"]["Statement"]

    assert role["RoleName"] == "ssm-auditor-readonly"
    assert [statement["Principal"]["AWS"]["Fn::Join"][1][-1] for statement in trust] == [
        f":iam::{AUDIT}:root", ":iam::222222222222:root"]
    functions = trust[0]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert [arn["Fn::Join"][1][-1] for arn in functions] == [
        f":iam::{AUDIT}:role/{UNIT_FUNCTION_ROLE_NAME}",
        f":iam::{AUDIT}:role/{LIST_FUNCTION_ROLE_NAME}"]
    assert trust[1]["Condition"]["ArnLike"] == {"aws:PrincipalArn": OPERATOR}
    for statement in trust:
        assert statement["Action"] == "sts:AssumeRole" and statement["Effect"] == "Allow"
        assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": "audit-2026"}


def test_with_named_regions_only_the_unit_function_is_trusted_and_may_assume(
        prebuilt, tmp_path) -> None:
    templates = synth_org(prebuilt, tmp_path, org_audit_regions="eu-west-1,us-east-1")
    [role] = resources(templates["SsmAuditor-OrgMemberRole"], "AWS::IAM::Role")
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    listing = statements_of_role(templates["SsmAuditor-OrgAudit"], "ListUnitsRole")

    assert trust["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::Join"][1][-1] == \
        f":iam::{AUDIT}:role/{UNIT_FUNCTION_ROLE_NAME}"
    assert "StringEquals" not in trust["Condition"]  # no external id given
    assert "sts:AssumeRole" not in actions(listing)


def test_member_template_is_self_contained_for_a_stackset(org) -> None:
    template = member(org).to_json()

    assert set(template) <= {"Description", "Resources", "Outputs", "Metadata"}
    assert {resource["Type"] for resource in template["Resources"].values()} == {
        "AWS::IAM::Role", "AWS::IAM::Policy"}


def test_each_function_role_holds_only_what_its_function_does(org) -> None:
    template = audit(org)
    unit = statements_of_role(template, "AuditUnitRole")
    listing = statements_of_role(template, "ListUnitsRole")
    summary = statements_of_role(template, "SummarizeRole")
    logs = {"logs:CreateLogStream", "logs:PutLogEvents"}

    assert actions(unit) == {"sts:AssumeRole", "s3:GetObject", "s3:PutObject", "kms:Decrypt",
                             "kms:GenerateDataKey", *logs,
                             *api_calls.iam_actions(api_calls.UNIT_CALLS)}
    assert actions(listing) == {"s3:PutObject", "kms:GenerateDataKey", "sts:AssumeRole",
                                "ec2:DescribeRegions", *logs, *api_calls.iam_actions(
                                    api_calls.ORGANIZATION_WIDE_CALLS)}
    assert actions(summary) == {"s3:GetObject", "s3:PutObject", "kms:Decrypt",
                                "kms:GenerateDataKey", "securityhub:BatchImportFindings",
                                "securityhub:GetFindings", *logs}
    [assume] = [s for s in unit if s["Action"] == "sts:AssumeRole"]
    assert assume["Resource"]["Fn::Join"][1][-1] == ":iam::*:role/ssm-auditor-readonly"
    assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}}
    [put] = [s for s in unit if s["Action"] == "s3:PutObject"]
    assert put["Resource"]["Fn::Join"][1][-1] == "/reports/*"  # reports only
    [import_] = [s for s in summary if s["Action"] == "securityhub:BatchImportFindings"]
    assert import_["Resource"]["Fn::Join"][1][-1] == "/default"
    assert ":product/" in json.dumps(import_["Resource"])


def test_every_acknowledged_nag_finding_has_its_reason_in_the_template(org) -> None:
    reasons = [rule for template in org.values()
               for resource in template.to_json()["Resources"].values()
               for rule in (resource.get("Metadata", {}).get("cdk_nag", {})
                            .get("rules_to_suppress", []))]

    assert len(reasons) >= 10
    assert all(rule["id"].startswith("AwsSolutions-") and len(rule["reason"]) > 30
               for rule in reasons)


# --- Context values ----------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "words"), [
    ({"org_audit_max_concurrency": "0"}, "org_audit_max_concurrency: '0' is not a number"),
    ({"org_audit_schedule": "every day"}, "org_audit_schedule: 'every day' is not"),
    ({"org_audit_regions": "eu-west-1,mars"}, "org_audit_regions: 'mars' is not a region"),
    ({"org_audit_account": "12345"}, "org_audit_account: '12345' is not a 12-digit"),
    ({"org_audit_operator_principal": "bob"}, "org_audit_operator_principal: 'bob' is not"),
    ({"org_audit_architecture": "sparc"}, "Lambda architecture 'sparc' is not one of"),
    ({"org_audit_lambda_dependencies": "/nonexistent"}, "no python/ folder inside"),
], ids=["concurrency", "schedule", "region", "account", "operator", "architecture",
        "dependencies"])
def test_bad_context_values_are_one_line_usage_errors(prebuilt, tmp_path, values,
                                                      words) -> None:
    app = cdk.App(analytics_reporting=False, context=org_context(prebuilt, tmp_path, **values))

    with pytest.raises(UsageError) as raised:
        org_app.add_org_audit_stacks(app)
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_app_synthesizes_both_stacks_and_stays_as_it_was_without_the_switch(
        prebuilt, tmp_path) -> None:
    def run(values: dict[str, str]) -> subprocess.CompletedProcess:
        env = offline_environment(tmp_path)
        env.update({"CDK_CONTEXT_JSON": json.dumps(values), "CDK_OUTDIR": str(tmp_path / "out")})
        return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, timeout=300,
                              capture_output=True, text=True, check=False)

    result = run(org_context(prebuilt, tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "out").glob("*.template.json")) == [
        "SsmAuditor-OrgAudit.template.json", "SsmAuditor-OrgMemberRole.template.json"]

    missing = run({"org_audit": "true", "org_audit_lambda_dependencies": str(prebuilt)})
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1
    assert "give the audit account with -c org_audit_account=ID" in missing.stderr


def test_pinned_cdk_cli_synthesizes_the_organization_audit_offline(prebuilt, tmp_path) -> None:
    """`cdk synth -c org_audit=true` as a user types it (the pinned CLI), offline: both
    templates, the layer and the code as assets of the audit stack."""
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    values = org_context(prebuilt, tmp_path / "cache")
    command = [str(cli), "synth", "--quiet", "-o", str(tmp_path / "cdk.out")]
    for name, value in values.items():
        command += ["-c", f"{name}={value}"]

    result = subprocess.run(command, cwd=ROOT, env=offline_environment(tmp_path), timeout=600,
                            capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "cdk.out" / "manifest.json").read_text())
    stacks = {name for name, artifact in manifest["artifacts"].items()
              if artifact["type"] == "aws:cloudformation:stack"}
    assert stacks == {"SsmAuditor-OrgAudit", "SsmAuditor-OrgMemberRole"}
    assets = json.loads((tmp_path / "cdk.out" / "SsmAuditor-OrgAudit.assets.json").read_text())
    staged = {entry["source"]["path"] for entry in assets["files"].values()
              if entry["source"].get("packaging") == "zip"}
    assert len(staged) == 2  # the layer and the code
    contents = {name for path in staged for name in
                (entry.name for entry in (tmp_path / "cdk.out" / path).iterdir())}
    assert {"python", "auditor"} <= contents
