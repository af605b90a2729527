"""Regional facts (auditor/aws_regions.py) against botocore's endpoint data, and the names and
ARNs the auditor writes in each partition."""

from __future__ import annotations

import re

import pytest
from botocore.loaders import Loader

from auditor import aws_facts, aws_regions
from auditor.aws_managed_policies import arn as managed_policy_arn


@pytest.fixture(scope="module")
def botocore_partitions() -> list[dict]:
    return Loader().load_data("endpoints")["partitions"]


def test_every_partition_botocore_knows_is_in_the_table(botocore_partitions):
    for partition in botocore_partitions:
        ours = aws_regions.BY_NAME[partition["partition"]]
        assert ours.dns_suffix == partition["dnsSuffix"], partition["partition"]
        for region in partition["regions"]:
            assert re.match(partition["regionRegex"], region)
            assert aws_regions.partition_of(region) is ours, region


def test_every_region_botocore_knows_has_its_launch_year(botocore_partitions):
    """A region missing from the table would leave ec2messages unknown there."""
    regions = {region for partition in botocore_partitions for region in partition["regions"]}
    assert regions <= set(aws_regions.REGIONS)
    commercial = next(p for p in botocore_partitions if p["partition"] == "aws")["regions"]
    assert all(aws_regions.REGIONS[region].launched for region in commercial)


@pytest.mark.parametrize(("region", "offered"), [
    ("us-east-1", True), ("ap-southeast-4", True), ("il-central-1", True),
    ("ap-southeast-5", False), ("mx-central-1", False), ("ap-southeast-7", False),
    ("us-iso-east-1", None), ("xx-future-1", None)])
def test_ec2messages_is_not_offered_in_regions_launched_from_2024(region, offered):
    assert aws_facts.service_offered(region, "ec2messages") is offered
    assert aws_facts.service_offered(region, "ssm") is True
    assert aws_facts.service_offered(region, "ssmmessages") is True


@pytest.mark.parametrize(("region", "hostname", "partition"), [
    ("eu-west-1", "ssm.eu-west-1.amazonaws.com", "aws"),
    ("cn-north-1", "ssm.cn-north-1.amazonaws.com.cn", "aws-cn"),
    ("cn-northwest-1", "ssm.cn-northwest-1.amazonaws.com.cn", "aws-cn"),
    ("us-gov-west-1", "ssm.us-gov-west-1.amazonaws.com", "aws-us-gov"),
    ("us-iso-east-1", "ssm.us-iso-east-1.c2s.ic.gov", "aws-iso"),
])
def test_names_and_arns_per_partition(region, hostname, partition):
    assert aws_facts.service_hostname(region, "ssm") == hostname
    # the agent's interface endpoints are com.amazonaws.* in China too (unlike ec2 or sts)
    assert aws_facts.endpoint_service_name(region, "ssm") == f"com.amazonaws.{region}.ssm"
    assert aws_facts.instance_arn(region, "111122223333", "i-0abc") == (
        f"arn:{partition}:ec2:{region}:111122223333:instance/i-0abc")
    assert managed_policy_arn("AmazonSSMManagedInstanceCore", partition) == (
        f"arn:{partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")
