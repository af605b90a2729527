"""Regional facts: which partition a region belongs to, its DNS suffix and ARN partition, and
which of the agent's three services it offers. Data only, each fact with its source.

``aws_facts`` builds service names, hostnames and ARNs from these; nothing else spells a
partition or a region's launch year.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Partition:
    name: str  # the ARN partition: arn:<name>:...
    dns_suffix: str  # ssm.<region>.<dns_suffix>
    region_prefixes: tuple[str, ...]  # how its region names begin ("" for the commercial one)


# Source: botocore's data/endpoints.json ("partition", "dnsSuffix", "regionRegex"), which a
# test compares with this table.
PARTITIONS: tuple[Partition, ...] = (
    Partition("aws-cn", "amazonaws.com.cn", ("cn-",)),
    Partition("aws-us-gov", "amazonaws.com", ("us-gov-",)),
    Partition("aws-iso-b", "sc2s.sgov.gov", ("us-isob-",)),
    Partition("aws-iso-f", "csp.hci.ic.gov", ("us-isof-",)),
    Partition("aws-iso-e", "cloud.adc-e.uk", ("eu-isoe-",)),
    Partition("aws-iso", "c2s.ic.gov", ("us-iso-",)),
    Partition("aws-eusc", "amazonaws.eu", ("eusc-",)),
    Partition("aws", "amazonaws.com", ("",)),  # last: every other region
)
BY_NAME = {partition.name: partition for partition in PARTITIONS}

# The prefix of the interface endpoint service names of ssm, ssmmessages and ec2messages:
# com.amazonaws.<region>.<service> in every partition, China included (a handful of other
# services, ec2 and sts among them, use cn.com.amazonaws there). Source: aws-cdk-lib 2.275.0,
# InterfaceVpcEndpointAwsService.getDefaultEndpointPrefix, generated from
# DescribeVpcEndpointServices in each region.
ENDPOINT_SERVICE_PREFIX = "com.amazonaws"

# Which endpoints exist: ssm and ssmmessages are offered in every region; ec2messages is not
# offered in regions launched in 2024 or later, where SSM Agent (3.3.40.0 and later) uses
# ssmmessages alone and an older agent has no message channel at all. Source: the Systems
# Manager User Guide ("Reference: ec2messages, ssmmessages, and other API operations"; VPC
# endpoints for Systems Manager), as recorded in the project's DESIGN.md, "Learned since".
EC2MESSAGES_LAST_LAUNCH_YEAR = 2023
# S3, KMS and CloudWatch Logs, what Session Manager and patching reach beyond the agent's three
# (auditor/capability_facts.py), are foundational services: in every region from its launch.
# Source: AWS's "AWS Services by Region" page (regional-product-services, "Foundational").
SERVICES_EVERYWHERE = ("ssm", "ssmmessages", "s3", "kms", "logs")


@dataclass(frozen=True)
class Region:
    launched: int | None  # the year the region opened to customers; None when not known


# The year each region opened. Source: AWS's launch announcements ("Now open: the AWS <name>
# Region", aws.amazon.com/about-aws/whats-new and the AWS News Blog), and the region list of
# botocore's data/endpoints.json (a test checks that every region botocore knows is here).
# A region missing from this table, or whose year is not known, leaves ec2messages unknown.
REGIONS: dict[str, Region] = {
    "us-east-1": Region(2006), "eu-west-1": Region(2008), "us-west-1": Region(2009),
    "ap-southeast-1": Region(2010), "ap-northeast-1": Region(2011), "us-west-2": Region(2011),
    "sa-east-1": Region(2011), "us-gov-west-1": Region(2011), "ap-southeast-2": Region(2012),
    "cn-north-1": Region(2014), "eu-central-1": Region(2014), "ap-south-1": Region(2016),
    "ap-northeast-2": Region(2016), "us-east-2": Region(2016), "ca-central-1": Region(2016),
    "eu-west-2": Region(2016), "cn-northwest-1": Region(2017), "eu-west-3": Region(2017),
    "eu-north-1": Region(2018), "us-gov-east-1": Region(2018), "ap-east-1": Region(2019),
    "me-south-1": Region(2019), "af-south-1": Region(2020), "eu-south-1": Region(2020),
    "ap-northeast-3": Region(2021), "ap-southeast-3": Region(2021), "me-central-1": Region(2022),
    "eu-central-2": Region(2022), "eu-south-2": Region(2022), "ap-south-2": Region(2022),
    "ap-southeast-4": Region(2023), "il-central-1": Region(2023), "ca-west-1": Region(2023),
    "ap-southeast-5": Region(2024), "ap-southeast-7": Region(2025), "mx-central-1": Region(2025),
    "ap-east-2": Region(2025), "ap-southeast-6": Region(2025),
    # Isolated and sovereign partitions: their opening years are not published alike.
    "us-iso-east-1": Region(None), "us-iso-west-1": Region(None),
    "us-isob-east-1": Region(None), "us-isob-west-1": Region(None),
    "us-isof-south-1": Region(None), "us-isof-east-1": Region(None),
    "eu-isoe-west-1": Region(None), "eusc-de-east-1": Region(None),
}


def partition_of(region: str) -> Partition:
    """The partition of a region name (the commercial one for a name it does not know)."""
    for partition in PARTITIONS:
        if any(region.startswith(prefix) for prefix in partition.region_prefixes):
            return partition
    return BY_NAME["aws"]


def offers(region: str, service: str) -> bool | None:
    """Whether ``region`` offers ``service`` (ssm, ssmmessages, ec2messages; s3, kms, logs);
    None when the auditor does not know (a region missing from its table)."""
    if service in SERVICES_EVERYWHERE:
        return True
    if service != "ec2messages":
        return None
    known = REGIONS.get(region)
    if known is None or known.launched is None:
        return None
    return known.launched <= EC2MESSAGES_LAST_LAUNCH_YEAR
