"""The plan for Session Manager and patching: endpoints for kms and logs, an S3 gateway endpoint
or its route, role statements on exactly the key, bucket and log group; key and bucket policies
reviewed, never rewritten. Each plan is laid over the estate and proved."""

from __future__ import annotations

from copy import deepcopy

from auditor.audit import run_audit
from auditor.remediation.apply import apply_plan
from auditor.remediation.plan import summary
from auditor.remediation.planner import PlanOptions, make_plan
from auditor.sources.description import SourceDescription
from tests.capability_estates import (
    ACCOUNT,
    BUCKET,
    GROUP,
    KEY,
    allow,
    deny,
    document,
    estate_of,
    layout,
    preferences,
    with_instance,
)


def plan_and_prove(b, options: PlanOptions | None = None):
    estate = estate_of(b)
    report = run_audit([estate], None, SourceDescription("test"))
    plan = make_plan([estate], report, options)
    after = deepcopy(estate)
    apply_plan(after, plan)
    proved = run_audit([after], None, SourceDescription("test"))
    return plan, {a.instance.instance_id: a for a in proved.instances}


def capabilities(audit) -> dict[str, str]:
    return {name: result.status for name, result in audit.capabilities.items()}


def test_an_isolated_instance_gets_endpoints_a_gateway_and_exactly_its_statements():
    place = layout("isolated")
    with_instance(place, inline=None)
    key = preferences(place.builder)
    plan, after = plan_and_prove(place.builder)
    [endpoints] = plan.endpoints
    assert endpoints.services == ["kms", "logs"]
    assert endpoints.allow_from_cidrs == ["10.0.0.0/16"]  # every instance of the VPC takes them
    assert endpoints.s3_gateway_route_table_ids == [place.table]
    [policy] = plan.role_policies
    resources = {statement["Sid"]: statement["Resource"] for statement in policy.statements}
    assert resources["SessionKey"] == key
    assert resources["SessionLogWrites"] == f"arn:aws:s3:::{BUCKET}/sessions/*"
    assert resources["SessionLogStreams"] == (f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:"
                                              f"{GROUP}:*")
    assert "AwsOwnedBuckets" in resources  # through the gateway the role must allow them
    assert capabilities(after[place.instance]) == {"session_manager": "ok", "patching": "ok"}
    [entry] = plan.instances
    assert entry.capabilities_before == {"session_manager": "fail", "patching": "fail"}
    assert entry.capabilities_after == {"session_manager": "ok", "patching": "ok"}
    assert "session_manager fail -> ok" in summary(plan, "plan.json")


def test_an_existing_gateway_endpoint_takes_the_table_by_a_manual_step():
    place = layout("isolated", endpoints=("ssm", "ssmmessages", "ec2messages"))
    b = place.builder
    with_instance(place, inline={"reads": document(allow("s3:GetObject"))})
    s3 = next(p["PrefixListId"] for p in b.prefix_lists if p["PrefixListName"].endswith(".s3"))
    other = b.route_table(place.vpc, [])
    endpoint = b.gateway_endpoint(place.vpc, "s3", [other], s3)
    plan, after = plan_and_prove(b)
    [step] = plan.manual_steps
    assert step.action == "add_gateway_endpoint_route"
    assert step.command == (f"aws ec2 modify-vpc-endpoint --region eu-west-1 --vpc-endpoint-id "
                            f"{endpoint} --add-route-table-ids {place.table}")
    assert capabilities(after[place.instance])["patching"] == "ok"  # the step is modelled


def test_key_and_bucket_policies_are_reviewed_never_rewritten():
    place = layout("igw")
    b = place.builder
    with_instance(place, inline={"all": document(allow(["kms:*", "s3:*", "logs:*"]))})
    b.kms_key(KEY, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-role"},
         "Action": "kms:Decrypt", "Resource": "*"}))
    b.bucket(BUCKET, policy=document({"Effect": "Deny", "Principal": "*",
                                      "Action": "s3:PutObject",
                                      "Resource": f"arn:aws:s3:::{BUCKET}/*"}))
    preferences(b, key=False, bucket=False)
    plan, after = plan_and_prove(b)
    assert {step.action for step in plan.manual_steps} == {"review_key_policy",
                                                           "review_bucket_policy"}
    assert all(step.command.startswith(("aws kms get-key-policy", "aws s3api get-bucket-policy"))
               for step in plan.manual_steps)
    assert not plan.role_policies and not plan.endpoints
    assert capabilities(after[place.instance])["session_manager"] == "fail"
    assert {line.split()[0] for line in plan.instances[0].still_blocked_by} == {
        "SESSION_KMS_DENIED", "SESSION_LOG_S3_DENIED"}


def test_a_deny_in_the_role_is_a_review_and_a_missing_group_is_created_by_hand():
    place = layout("igw")
    b = place.builder
    with_instance(place, inline={"no-kms": document(allow(["s3:*", "logs:*"]),
                                                    deny("kms:*"))})
    b.bucket(BUCKET)
    b.kms_key(KEY)
    b.session_preferences(kmsKeyId=KEY, cloudWatchLogGroupName=GROUP)
    plan, after = plan_and_prove(b)
    actions = {step.action: step for step in plan.manual_steps}
    assert set(actions) == {"review_policy", "create_log_group"}
    assert actions["review_policy"].parameters == {"resource_id": "app-role"}
    assert actions["create_log_group"].command == (
        f"aws logs create-log-group --region eu-west-1 --log-group-name {GROUP}")
    audit = after[place.instance]
    assert {f.code for f in audit.capabilities["session_manager"].findings
            if f.severity == "error"} == {"SESSION_KMS_DENIED"}  # the group now exists


def test_agent_only_plans_leave_the_capabilities_alone():
    place = layout("isolated")
    with_instance(place, inline=None)
    preferences(place.builder)
    plan, _ = plan_and_prove(place.builder, PlanOptions(capabilities=False))
    assert plan.is_empty()
