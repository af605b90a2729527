"""Patching readiness: S3 reachable, and every guardrail on the way lets s3:GetObject on AWS's
regional buckets through (the bucket list is data with its source: capability_facts)."""

from __future__ import annotations

import pytest

from auditor import capability_facts
from auditor.vocabulary import FAIL, MANAGEABLE, OK, UNKNOWN
from tests.capability_estates import (
    ACCOUNT,
    REGION,
    allow,
    audit,
    deny,
    document,
    finding,
    layout,
    own_codes,
    status,
    with_instance,
)

NO_S3 = {"agent-only": document(allow(["ssm:*", "ssmmessages:*", "ec2messages:*"]))}
READS = document(allow("s3:GetObject", [f"arn:aws:s3:::{bucket}/*" for bucket in
                                        capability_facts.owned_buckets(REGION, "windows")]))


def _s3_list(b) -> str:
    return next(p["PrefixListId"] for p in b.prefix_lists if p["PrefixListName"].endswith(".s3"))


def _gateway(place, policy=None) -> str:
    return place.builder.gateway_endpoint(place.vpc, "s3", [place.table], _s3_list(place.builder),
                                          policy=policy)


def test_the_bucket_list_is_data_with_its_source():
    assert "ssm-agent-minimum-s3-permissions" in capability_facts.AWS_OWNED_BUCKETS_SOURCE
    linux = capability_facts.owned_buckets("eu-west-1", "linux")
    assert "aws-ssm-eu-west-1" in linux and "eu-west-1-birdwatcher-prod" in linux
    assert "aws-windows-downloads-eu-west-1" not in linux
    assert "aws-windows-downloads-eu-west-1" in capability_facts.owned_buckets("eu-west-1",
                                                                               "windows")


def test_over_the_public_path_the_role_needs_no_allow_of_its_own():
    place = layout("igw")
    with_instance(place, attached=(), inline=NO_S3)
    result = audit(place.builder, place.instance)
    assert status(result, "patching") == OK
    checks = result.capabilities["patching"].evidence.parts[0].checks
    assert any("not needed over the public path" in check for check in checks)


def test_no_way_to_s3_is_unreachable_and_a_gateway_endpoint_fixes_it():
    place = layout("isolated")
    with_instance(place, inline={"reads": READS})
    result = audit(place.builder, place.instance)
    assert result.verdict == MANAGEABLE
    assert own_codes(result, "patching") == {"PATCH_S3_UNREACHABLE"}
    _gateway(place)
    assert status(audit(place.builder, place.instance), "patching") == OK


def test_through_an_endpoint_aws_requires_the_roles_own_allow():
    place = layout("isolated")
    with_instance(place, attached=(), inline=NO_S3)
    _gateway(place)
    denied = finding(audit(place.builder, place.instance), "PATCH_S3_DENIED")
    assert denied.details["fix"] == "role_policy"
    assert "aws-ssm-eu-west-1" in denied.details["buckets"]
    assert "AWS requires the role to allow" in denied.message


def test_a_restrictive_endpoint_policy_refuses_aws_buckets():
    place = layout("isolated")
    with_instance(place, inline={"reads": READS})
    endpoint = _gateway(place, policy=document(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::acme-*", "arn:aws:s3:::acme-*/*"]}))
    denied = finding(audit(place.builder, place.instance), "PATCH_S3_DENIED")
    assert denied.resource_id == endpoint
    assert denied.details["fix"] == "endpoint_policy"


@pytest.mark.parametrize(("accounts", "expected"), [
    ([ACCOUNT], FAIL),  # only this account: AWS's buckets are never in it
    ([ACCOUNT, "999988887777"], UNKNOWN),  # another account may be AWS's: cannot tell
])
def test_a_data_perimeter_scp_on_the_resource_account(accounts, expected):
    place = layout("igw")
    with_instance(place, inline={"reads": READS})
    perimeter = document(allow("*"), deny("s3:*", "*", Condition={
        "StringNotEquals": {"aws:ResourceAccount": accounts}}))
    place.builder.service_control_policies([[document(allow("*"))], [perimeter]])
    result = audit(place.builder, place.instance)
    assert result.verdict == MANAGEABLE
    assert status(result, "patching") == expected
    if expected == FAIL:
        assert finding(result, "PATCH_S3_DENIED").details["reason"] == "explicit_deny"


def test_an_explicit_deny_in_the_role_refuses_even_over_the_public_path():
    place = layout("igw")
    with_instance(place, inline={"no-s3": document(deny("s3:*"))})
    denied = finding(audit(place.builder, place.instance), "PATCH_S3_DENIED")
    assert denied.details["reason"] == "explicit_deny"


def test_windows_instances_also_read_the_windows_bucket():
    place = layout("isolated")
    linux_reads = document(allow("s3:GetObject", [
        f"arn:aws:s3:::{bucket}/*" for bucket in capability_facts.owned_buckets(REGION,
                                                                                "linux")]))
    with_instance(place, inline={"reads": linux_reads}, platform="windows")
    _gateway(place)
    denied = finding(audit(place.builder, place.instance), "PATCH_S3_DENIED")
    assert denied.details["buckets"] == [f"aws-windows-downloads-{REGION}"]


def test_a_guardrail_naming_one_instance_is_answered_per_instance():
    """Instances alike in role and path share one answer, unless a policy can tell them apart."""
    from auditor.audit import run_audit
    from auditor.sources.description import SourceDescription
    from tests.capability_estates import estate_of

    place = layout("igw")
    first = with_instance(place)
    second = place.builder.instance(place.subnet, [place.instance_group],
                                    instance_profile="app-role", public_ip="198.51.100.8")
    place.builder.service_control_policies([[document(allow("*"))], [document(
        allow("*"), deny("s3:GetObject", Condition={"StringEquals": {
            "ec2:SourceInstanceARN": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{second}"}}))]])
    for order in ([first, second], [second, first]):
        report = run_audit([estate_of(place.builder)], order, SourceDescription("test"))
        assert {r.instance.instance_id: status(r, "patching") for r in report.instances} == {
            first: OK, second: FAIL}
