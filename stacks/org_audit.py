"""OrgAuditStack: the scheduled organization audit, in the audit (delegated administrator)
account.

    EventBridge schedule -> Step Functions state machine:
      ListUnits (Lambda)       the organization's account and region units -> S3 (JSON array),
                               the organization's own answers (accounts, SCPs) -> S3
      AuditUnits (Distributed Map: ItemReader = that array, ResultWriter -> S3)
        AuditUnit (Lambda)     one unit: assume the member role, read, prove; its JSON report
                               and its findings -> S3 under reports/account=/region=/date=
      Summarize (Lambda)       every unit's status (from the results, never one dropped)
                               -> S3; findings -> Security Hub, 100 a call, in this account
      UnitsFailed? -> Fail     a unit that could not be audited fails the execution, after
                               the summary and the import (like the command's exit status);
                               so do findings Security Hub refused (ImportFailed)

The functions run the auditor package itself (``auditor.lambdas``), bundled without Docker by
``stacks.lambda_bundle``. Least privilege: each function has its own role; only the unit
function may assume the member role, and only it writes reports; only the summary imports
findings, into this account's Security Hub with the member's instance as the resource
(README: why there). Everything lands in one bucket encrypted with a customer managed key,
with lifecycle rules, access logs and TLS enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from auditor.aws_facts import ORGANIZATION_ROLE_NAME
from auditor.lambdas import environment
from auditor.lambdas.store import (
    MAP_RESULTS_PREFIX,
    REPORTS_PREFIX,
    RUNS_PREFIX,
    SUMMARIES_PREFIX,
)
from auditor.sources import api_calls
from auditor.sources.organization.units import ALL_REGIONS
from stacks.common import stack_name
from stacks.lambda_bundle import TARGETS, LambdaTarget
from stacks.nag import acknowledge
from stacks.org_member_role import (
    LIST_FUNCTION_ROLE_NAME,
    UNIT_FUNCTION_ROLE_NAME,
    member_role_actions,
)

ORG_AUDIT_STACK_NAME = stack_name("OrgAudit")
# Without it, aws-cdk-lib 2.275 leaves ResultWriterV2 out of the definition, silently.
RESULT_WRITER_V2_FLAG = "@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2"
# Access logs delivered by a bucket policy, not the log-delivery ACL (ACLs stay disabled).
ACCESS_LOGS_BY_POLICY_FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"

MAP_LABEL = "AuditUnits"

HANDLERS = {
    "ListUnits": "auditor.lambdas.list_units.handler",
    "AuditUnit": "auditor.lambdas.audit_unit.handler",
    "Summarize": "auditor.lambdas.summarize.handler",
}


@dataclass(frozen=True)
class OrgAuditSettings:
    """What ``-c org_audit_...`` context values choose (stacks/org_app.py reads them)."""

    account: str | None = None
    region: str | None = None
    schedule: str = "rate(1 day)"
    max_concurrency: int = 20
    tolerated_failure_percentage: float = 10
    role_name: str = ORGANIZATION_ROLE_NAME
    external_id: str | None = None
    regions: str = "all"  # comma-separated, or "all": the regions enabled in each account
    accounts: tuple[str, ...] = ()  # empty: every ACTIVE account
    organization_id: str | None = None  # o-...: the unit role may assume roles only there
    unit_memory_mb: int = 1024
    unit_timeout_seconds: int = 600
    report_retention_days: int = 90
    run_retention_days: int = 30
    security_hub: bool = True
    target: LambdaTarget = TARGETS[0]


@dataclass(frozen=True)
class LambdaCode:
    """The two directories stacks.lambda_bundle built (or was given)."""

    dependencies: Path
    code: Path


class OrgAuditStack(cdk.Stack):
    def __init__(self, scope: Construct, settings: OrgAuditSettings, code: LambdaCode,
                 synthesizer: cdk.IStackSynthesizer | None = None) -> None:
        super().__init__(scope, ORG_AUDIT_STACK_NAME, stack_name=ORG_AUDIT_STACK_NAME,
                         env=cdk.Environment(account=settings.account, region=settings.region),
                         synthesizer=synthesizer,
                         description="ssm-auditor: the scheduled audit of a whole AWS "
                                     "Organization (Step Functions, Lambda, S3, Security Hub)")
        # Before any construct is added (the flags are read when the constructs render).
        self.node.set_context(RESULT_WRITER_V2_FLAG, True)
        self.node.set_context(ACCESS_LOGS_BY_POLICY_FLAG, True)
        self.settings = settings
        self.key = kms.Key(self, "Key", enable_key_rotation=True,
                           description="ssm-auditor organization audit: reports and results",
                           removal_policy=cdk.RemovalPolicy.RETAIN)
        self.bucket = self._bucket()
        layer = lambda_.LayerVersion(
            self, "Dependencies", code=lambda_.Code.from_asset(str(code.dependencies)),
            compatible_runtimes=[self._runtime()],
            compatible_architectures=[self._architecture()],
            description="ssm-auditor's runtime requirements (requirements-lambda.txt)")
        variables = self._environment()
        self.list_units = self._function("ListUnits", code, layer, variables,
                                         memory_mb=512, timeout=cdk.Duration.minutes(5),
                                         concurrency=1, role_name=LIST_FUNCTION_ROLE_NAME)
        self.audit_unit = self._function(
            "AuditUnit", code, layer, variables, memory_mb=settings.unit_memory_mb,
            timeout=cdk.Duration.seconds(settings.unit_timeout_seconds),
            concurrency=settings.max_concurrency, role_name=UNIT_FUNCTION_ROLE_NAME)
        self.summarize = self._function("Summarize", code, layer, variables, memory_mb=1024,
                                        timeout=cdk.Duration.minutes(15), concurrency=1)
        self._grant()
        self.state_machine = self._state_machine()
        self.schedule = events.Rule(
            self, "Schedule", schedule=events.Schedule.expression(settings.schedule),
            description="ssm-auditor: start the organization audit",
            targets=[targets.SfnStateMachine(self.state_machine)])
        cdk.CfnOutput(self, "BucketName", value=self.bucket.bucket_name,
                      description="Reports: reports/account=ID/region=R/date=YYYY-MM-DD/")
        cdk.CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "UnitFunctionRoleArn", value=self.audit_unit.role.role_arn,
                      description="The principal each member role must trust")

    # --- Storage -------------------------------------------------------------------------------

    def _bucket(self) -> s3.Bucket:
        logs_bucket = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(
                id="ExpireAccessLogs",
                expiration=cdk.Duration.days(self.settings.report_retention_days))])
        acknowledge(logs_bucket, "AwsSolutions-S1",
                    "this is the access log bucket of the reports bucket; logging its own "
                    "accesses would need a third bucket, and so on")
        retention = self.settings
        return s3.Bucket(
            self, "Reports", encryption=s3.BucketEncryption.KMS, encryption_key=self.key,
            bucket_key_enabled=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=logs_bucket, server_access_logs_prefix="reports-bucket/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(id="ExpireReports", prefix=REPORTS_PREFIX,
                                 expiration=cdk.Duration.days(
                                     retention.report_retention_days)),
                s3.LifecycleRule(id="ExpireSummaries", prefix=SUMMARIES_PREFIX,
                                 expiration=cdk.Duration.days(
                                     retention.report_retention_days)),
                s3.LifecycleRule(id="ExpireRuns", prefix=RUNS_PREFIX,
                                 expiration=cdk.Duration.days(retention.run_retention_days)),
                s3.LifecycleRule(id="AbortIncompleteUploads",
                                 abort_incomplete_multipart_upload_after=cdk.Duration.days(1)),
            ])

    # --- Functions -----------------------------------------------------------------------------

    def _runtime(self) -> lambda_.Runtime:
        return lambda_.Runtime(self.settings.target.runtime_name, lambda_.RuntimeFamily.PYTHON)

    def _architecture(self) -> lambda_.Architecture:
        return {"arm64": lambda_.Architecture.ARM_64,
                "x86_64": lambda_.Architecture.X86_64}[self.settings.target.architecture]

    def _environment(self) -> dict[str, str]:
        settings = self.settings
        variables = {
            environment.BUCKET: self.bucket.bucket_name,
            environment.ROLE_NAME: settings.role_name,
            environment.REGIONS: settings.regions,
            environment.ACCOUNTS: ",".join(settings.accounts),
            environment.SECURITY_HUB: "true" if settings.security_hub else "false",
        }
        if settings.external_id:
            variables[environment.EXTERNAL_ID] = settings.external_id
        return variables

    def _function(self, name: str, code: LambdaCode, layer: lambda_.ILayerVersion,
                  variables: dict[str, str], *, memory_mb: int, timeout: cdk.Duration,
                  concurrency: int, role_name: str | None = None) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{name}Logs", retention=logs.RetentionDays.ONE_YEAR,
                                  removal_policy=cdk.RemovalPolicy.DESTROY)
        # Its own role, without the AWS managed basic execution policy: only its log group.
        role = iam.Role(self, f"{name}Role", role_name=role_name,
                        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"ssm-auditor organization audit: the {name} function")
        function = lambda_.Function(
            self, f"{name}Function", runtime=self._runtime(), architecture=self._architecture(),
            handler=HANDLERS[name], code=lambda_.Code.from_asset(str(code.code)),
            layers=[layer], memory_size=memory_mb, timeout=timeout,
            reserved_concurrent_executions=concurrency, role=role, log_group=log_group,
            environment=variables,
            description=f"ssm-auditor organization audit: {name}")
        log_group.grant_write(role)
        return function

    def _grant(self) -> None:
        """Explicit statements rather than CDK's grants: those add s3:List*, s3:Abort*,
        kms:ReEncrypt* and more that no function needs."""
        settings = self.settings
        # ListUnits: the organization's accounts and policies, read once; the unit list out.
        self.list_units.add_to_role_policy(iam.PolicyStatement(
            actions=api_calls.iam_actions(api_calls.ORGANIZATION_WIDE_CALLS), resources=["*"]))
        acknowledge(self.list_units.role, "AwsSolutions-IAM5[Resource::*]",
                    "Organizations' List/Describe calls over the whole organization (and EC2's "
                    "DescribeRegions): ListAccounts, ListRoots and DescribeRegions take no "
                    "resource, and the OUs and policies are only known once listed")
        self._objects(self.list_units, write=[RUNS_PREFIX])
        if settings.regions == ALL_REGIONS:
            # The regions enabled in each account: DescribeRegions through its member role,
            # and in this account with the function's own credentials.
            self._assume_member_role(self.list_units)
            self.list_units.add_to_role_policy(iam.PolicyStatement(
                actions=["ec2:DescribeRegions"], resources=["*"]))
        # AuditUnit: the member role, in every account of the organization; in this account,
        # its own credentials with the same read-only operations; reports out.
        self._assume_member_role(self.audit_unit)
        self.audit_unit.add_to_role_policy(iam.PolicyStatement(
            actions=member_role_actions(), resources=["*"]))
        acknowledge(self.audit_unit.role, "AwsSolutions-IAM5[Resource::*]",
                    "the audit account's own units are read with the function's credentials: "
                    "the member role's Describe/Get/List operations, which take no resource")
        self._objects(self.audit_unit, read=[RUNS_PREFIX], write=[REPORTS_PREFIX])
        # Summarize: results and reports in, the summary out, findings to Security Hub.
        self._objects(self.summarize, read=[RUNS_PREFIX, REPORTS_PREFIX],
                      write=[SUMMARIES_PREFIX])
        if settings.security_hub:
            hub = f"arn:{cdk.Aws.PARTITION}:securityhub:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"
            self.summarize.add_to_role_policy(iam.PolicyStatement(
                actions=["securityhub:BatchImportFindings"],
                resources=[f"{hub}:product/{cdk.Aws.ACCOUNT_ID}/default"]))
            self.summarize.add_to_role_policy(iam.PolicyStatement(
                actions=["securityhub:GetFindings"], resources=[f"{hub}:hub/default"]))

    def _assume_member_role(self, function: lambda_.Function) -> None:
        settings = self.settings
        assume = iam.PolicyStatement(
            actions=["sts:AssumeRole"],
            resources=[f"arn:{cdk.Aws.PARTITION}:iam::*:role/{settings.role_name}"])
        if settings.organization_id:
            assume.add_condition("StringEquals",
                                 {"aws:ResourceOrgID": settings.organization_id})
        function.add_to_role_policy(assume)
        acknowledge(function.role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:"
                    f"iam::*:role/{settings.role_name}]",
                    "the member accounts are only known at run time (Organizations' list); "
                    "only the read-only role of that name, and only inside the organization "
                    "when org_audit_organization_id is given")

    def _objects(self, function: lambda_.Function, read: tuple[str, ...] | list[str] = (),
                 write: tuple[str, ...] | list[str] = ()) -> None:
        """GetObject under the ``read`` prefixes, PutObject under the ``write`` ones, and the
        one KMS action each needs with the bucket's key."""
        bucket = f"<{self._logical(self.bucket)}.Arn>"
        for actions, prefixes, key_action in ((["s3:GetObject"], read, "kms:Decrypt"),
                                              (["s3:PutObject"], write, "kms:GenerateDataKey")):
            if not prefixes:
                continue
            function.add_to_role_policy(iam.PolicyStatement(
                actions=actions,
                resources=[self.bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes]))
            function.add_to_role_policy(iam.PolicyStatement(actions=[key_action],
                                                            resources=[self.key.key_arn]))
            for prefix in prefixes:
                acknowledge(function.role, f"AwsSolutions-IAM5[Resource::{bucket}/{prefix}*]",
                            f"the objects under {prefix} in the audit's own bucket: their keys "
                            "name the account, region, date and execution of each run")

    def _logical(self, construct: Construct) -> str:
        return self.get_logical_id(construct.node.default_child)

    # --- The state machine ---------------------------------------------------------------------

    def _state_machine(self) -> sfn.StateMachine:
        settings = self.settings
        list_units = tasks.LambdaInvoke(
            self, "List units", lambda_function=self.list_units, payload_response_only=True,
            payload=sfn.TaskInput.from_object({
                "execution": sfn.JsonPath.string_at("$$.Execution.Name"),
                "started": sfn.JsonPath.string_at("$$.Execution.StartTime"),
            }))
        audit_unit = tasks.LambdaInvoke(
            self, "Audit unit", lambda_function=self.audit_unit, payload_response_only=True,
            retry_on_service_exceptions=True)
        audit_unit.add_retry(errors=["Lambda.TooManyRequestsException"],
                             interval=cdk.Duration.seconds(5), max_attempts=6,
                             backoff_rate=2, jitter_strategy=sfn.JitterType.FULL)
        audit_units = sfn.DistributedMap(
            self, "Audit units",
            item_reader=sfn.S3JsonItemReader(bucket=self.bucket,
                                             key=sfn.JsonPath.string_at("$.units_key")),
            item_selector={"unit": sfn.JsonPath.object_at("$$.Map.Item.Value"),
                           "run": sfn.JsonPath.object_at("$.run")},
            max_concurrency=settings.max_concurrency,
            tolerated_failure_percentage=settings.tolerated_failure_percentage,
            result_writer_v2=sfn.ResultWriterV2(bucket=self.bucket, prefix=MAP_RESULTS_PREFIX),
            result_path="$.map", label=MAP_LABEL)
        audit_units.item_processor(audit_unit)
        # No payload given: the function gets the whole state (the run, the unit list's key,
        # the map's result details or its error).
        summarize = tasks.LambdaInvoke(
            self, "Summarize", lambda_function=self.summarize, payload_response_only=True)
        # Past the tolerated failures the map fails: the summary still lists every unit.
        audit_units.add_catch(summarize, errors=["States.ALL"], result_path="$.map_error")
        units_failed = sfn.Fail(self, "Units failed", error="SsmAuditor.UnitsFailed",
                                cause="at least one unit could not be audited: see the summary")
        import_failed = sfn.Fail(self, "Import failed", error="SsmAuditor.ImportFailed",
                                 cause="Security Hub refused findings or the import: see the "
                                       "summary's security_hub")
        done = sfn.Succeed(self, "Done")
        definition = list_units.next(audit_units).next(summarize).next(
            sfn.Choice(self, "Every unit audited?")
            .when(sfn.Condition.number_greater_than("$.failed_units", 0), units_failed)
            .when(sfn.Condition.boolean_equals("$.import_failed", True), import_failed)
            .otherwise(done))
        log_group = logs.LogGroup(self, "StateMachineLogs", retention=logs.RetentionDays.ONE_YEAR,
                                  removal_policy=cdk.RemovalPolicy.DESTROY)
        state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name="ssm-auditor-organization-audit",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            tracing_enabled=True, timeout=cdk.Duration.hours(12),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL,
                                include_execution_data=False))
        self._acknowledge_state_machine(state_machine)
        return state_machine

    def _acknowledge_state_machine(self, state_machine: sfn.StateMachine) -> None:
        """The wildcards CDK writes into the state machine's own policies, each named."""
        role = state_machine.role
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                    "X-Ray tracing and CloudWatch Logs log delivery: their actions take no "
                    "resource")
        for function in (self.list_units, self.audit_unit, self.summarize):
            acknowledge(role, f"AwsSolutions-IAM5[Resource::<{self._logical(function)}.Arn>:*]",
                        "the task invokes its own function, whichever version")
        acknowledge(role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                    f"<{self._logical(self.bucket)}>/*]",
                    "the Distributed Map reads the unit list and writes its results in the "
                    "audit's own bucket, under keys named at run time")
        # The Distributed Map starts and watches its own child executions.
        region = self.settings.region or "<AWS::Region>"
        executions = (f"arn:<AWS::Partition>:states:{region}:{self.settings.account}:execution:"
                      '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"'
                      f'{self._logical(state_machine)}"}}]}}]}}')
        for suffix in (":*", f"/{MAP_LABEL}:*"):
            acknowledge(state_machine, f"AwsSolutions-IAM5[Resource::{executions}{suffix}]",
                        "the Distributed Map starts, describes and stops its own child "
                        "executions, named at run time")
