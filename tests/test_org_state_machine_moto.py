"""The synthesized state machine, executed by moto 5's Step Functions interpreter
(``execute_state_machine``), its three functions being the real handlers run in-process.

What moto's interpreter runs here: the task states, the Distributed Map with its ItemReader
(the JSON array the first function wrote to S3, its key taken from the state), its
ItemSelector (``$$.Map.Item.Value``), the Catch, the Choice on ``failed_units`` and
``import_failed``, the Fail and Succeed states. What it cannot, and what stands in for it:

- invoking a Lambda function needs Docker in moto: ``LambdaFunction._invoke_lambda`` is patched
  to call the handler of the function's name in-process;
- its ResultWriter writes a manifest with no result files (a TODO in moto's parser): the
  summary then takes each unit from the report that unit wrote in this run (the path it also
  takes in AWS when the map failed), so every unit is still listed;
- its grammar refuses an integer ToleratedFailurePercentage (CDK writes one; AWS takes it):
  the test writes it as a decimal;
- MaxConcurrency, ToleratedFailurePercentage, retries with jitter, the schedule (EventBridge),
  X-Ray, logging, IAM and the functions' reserved concurrency are not enforced or not run:
  tests/test_org_cdk.py checks them in the template.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda import models as lambda_models

from auditor.lambdas import audit_unit, list_units, summarize
from auditor.lambdas.store import Store
from stacks.org_audit import HANDLERS
from tests.cdk_synth import definition, synth_org
from tests.moto_estate import stub_ssm
from tests.moto_org_accounts import (
    AUDIT,
    BUCKET,
    REGION,
    FakeContext,
    an_instance,
    member_client,
    refuse_assume_role,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
HANDLER_FUNCTIONS = {"ListUnits": list_units.handler, "AuditUnit": audit_unit.handler,
                     "Summarize": summarize.handler}


def run_in_process(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # moto gap: a Lambda function runs in Docker; none here. The handler runs in-process.
    invoked: list[str] = []

    def invoke(self: Any, event: Any) -> tuple[str, bool, str]:
        invoked.append(self.function_name)
        try:
            result = HANDLER_FUNCTIONS[self.function_name](event, FakeContext())
        except Exception as error:  # what Lambda answers for an unhandled exception
            return json.dumps({"errorType": type(error).__name__,
                               "errorMessage": str(error)}), True, ""
        return json.dumps(result), False, ""

    monkeypatch.setattr(lambda_models.LambdaFunction, "_invoke_lambda", invoke)
    return invoked


@pytest.fixture
def machine(fake_aws, monkeypatch, tmp_path) -> Any:
    dependencies = tmp_path / "dependencies"
    (dependencies / "python").mkdir(parents=True)
    template = synth_org(dependencies, tmp_path / "cache",
                         org_audit_regions=REGION)["SsmAuditor-OrgAudit"]
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("SSM_AUDITOR_BUCKET", BUCKET)
    monkeypatch.setenv("SSM_AUDITOR_REGIONS", REGION)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        stub_ssm(monkeypatch)
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="machine", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        functions = boto3.client("lambda", region_name=REGION)
        arns = {name: functions.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler=HANDLERS[name],
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})["FunctionArn"]
            for name in HANDLERS}
        tokens = {f"{name}Function": arn for name, arn in arns.items()}
        tokens.update({"Reports": BUCKET, "AWS::Partition": "aws"})
        states = definition(template, tokens)
        # moto gap: its ASL grammar takes ToleratedFailurePercentage as a decimal only (AWS
        # takes any number from 0 to 100; CDK writes an integer).
        mapped = states["States"]["Audit units"]
        mapped["ToleratedFailurePercentage"] = float(mapped["ToleratedFailurePercentage"])
        steps = boto3.client("stepfunctions", region_name=REGION)
        yield steps, steps.create_state_machine(
            name="ssm-auditor-organization-audit", roleArn=role,
            definition=json.dumps(states))["stateMachineArn"]


def execute(steps: Any, machine_arn: str, name: str) -> dict[str, Any]:
    execution = steps.start_execution(stateMachineArn=machine_arn, name=name)["executionArn"]
    for _ in range(600):
        described = steps.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise AssertionError("the execution did not finish")


def test_the_synthesized_state_machine_audits_every_unit_and_fails_for_a_refused_one(
        machine, monkeypatch) -> None:
    steps, machine_arn = machine
    organizations = boto3.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    members = [organizations.create_account(
        AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
        for name in ("workloads", "sandbox")]
    for account in members:
        an_instance(member_client("ec2", account))
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    boto3.client("securityhub", region_name=REGION).enable_security_hub()
    refuse_assume_role(monkeypatch, members[1])
    invoked = run_in_process(monkeypatch)

    described = execute(steps, machine_arn, "daily-1")

    # A unit could not be read: the execution fails, after the summary and the import.
    assert described["status"] == "FAILED", described
    assert described.get("error") == "SsmAuditor.UnitsFailed", described
    assert invoked == ["ListUnits", "AuditUnit", "AuditUnit", "AuditUnit", "Summarize"]
    store = Store(BUCKET, boto3.client("s3", region_name=REGION))
    summaries = boto3.client("s3", region_name=REGION).list_objects_v2(
        Bucket=BUCKET, Prefix="summaries/")["Contents"]
    [summary] = [store.get_json(item["Key"]) for item in summaries]
    assert {(unit["account_id"], unit["status"]) for unit in summary["units"]} == {
        (AUDIT, "ok"), (members[0], "ok"), (members[1], "error")}
    assert summary["failed_units"] == 1
    assert summary["security_hub"]["findings_imported"] > 0
    reports = boto3.client("s3", region_name=REGION).list_objects_v2(
        Bucket=BUCKET, Prefix=f"reports/account={members[0]}/")["Contents"]
    assert [item["Key"].rsplit("/", 1)[1] for item in reports] == ["findings.json",
                                                                   "report.json"]



def test_the_execution_succeeds_when_every_unit_is_read_and_every_finding_imported(
        machine, monkeypatch) -> None:
    steps, machine_arn = machine
    organizations = boto3.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    member = organizations.create_account(
        AccountName="workloads", Email="workloads@example.com")["CreateAccountStatus"]["AccountId"]
    an_instance(member_client("ec2", member))
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    boto3.client("securityhub", region_name=REGION).enable_security_hub()
    invoked = run_in_process(monkeypatch)

    described = execute(steps, machine_arn, "daily-1")

    assert described["status"] == "SUCCEEDED", described
    assert invoked == ["ListUnits", "AuditUnit", "AuditUnit", "Summarize"]
    output = json.loads(described["output"])
    assert (output["total"], output["failed_units"], output["import_failed"]) == (2, 0, False)
    assert output["findings_imported"] > 0
