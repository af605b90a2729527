"""Limits on what the auditor reads, as data in one place (docs/LIMITS.md is rendered from it).

Where a template is read, the limits are CloudFormation's own quotas: a template CloudFormation
would refuse is refused too, rather than read at any cost. Elsewhere they are Python's or the
project's, and say why. Nothing here imports anything: every entrance (templates, cdk.out,
snapshots, the CDK app's plan loader) can use it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str
    value: int
    unit: str
    bounds: str  # what it bounds
    source: str  # where the value comes from
    beyond: str  # what happens past it


CLOUDFORMATION_QUOTAS = ("https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
                         "cloudformation-limits.html")

# --- Any JSON or YAML file --------------------------------------------------------------------

NESTING_DEPTH = Limit(
    "nesting depth", 64, "levels",
    "mappings and lists inside one another, in any JSON or YAML file read",
    "the project's: below Python's recursion limit (1,000 frames) with room for the walks that "
    "follow; CDK's own templates nest about 15 deep",
    "exit 2, naming the file and the path where it is exceeded")
INTEGER_DIGITS = Limit(
    "integer digits", 4300, "digits", "one integer in a JSON or YAML file",
    "Python's default `sys.get_int_max_str_digits()`",
    "exit 2, naming the file (and the line in YAML)")
EXPANDED_VALUES = Limit(
    "values after expansion", 1_000_000, "values",
    "values (mappings, lists, scalars, keys) of one YAML document once its aliases (`*name`) "
    "are expanded, and of one template once its `Fn::ForEach` loops are",
    "the project's: a 1 MB template holds fewer; aliases and loops may repeat a value, not "
    "multiply the document (a 1.3 KB alias bomb expands to billions)",
    "exit 2 before anything walks the document")

# --- Templates ---------------------------------------------------------------------------------

TEMPLATE_BYTES = Limit(
    "template size", 1_000_000, "bytes",
    "one template file (given, a stack of a cdk.out, or a nested stack's local file)",
    f"CloudFormation: template body size in an Amazon S3 object, 1 MB ({CLOUDFORMATION_QUOTAS})",
    "exit 2 (a nested stack's template: listed under `not_read` with the reason)")
TEMPLATE_RESOURCES = Limit(
    "resources per template", 500, "resources",
    "the Resources of one template, after `Fn::ForEach` is expanded (also bounds the copies "
    "`Fn::ForEach` makes)",
    f"CloudFormation: resources per template, 500; the quotas apply to the template "
    f"`Fn::ForEach` produces ({CLOUDFORMATION_QUOTAS})",
    "exit 2, naming the template (or the loop)")
NESTED_RESOURCES = Limit(
    "resources in a nested stack hierarchy", 2500, "resources",
    "the resources of a template and of all the nested stacks read under it",
    f"CloudFormation: resources a nested stack hierarchy creates per operation, 2,500 "
    f"({CLOUDFORMATION_QUOTAS})",
    "the nested stacks beyond it are not read (listed under `not_read`)")
NESTED_DEPTH = Limit(
    "nested stack depth", 5, "levels", "nested stacks read inside one another",
    "the project's (CloudFormation documents none); a template that nests itself is never "
    "read again inside itself",
    "deeper nested stacks are not read (listed under `not_read`)")
TEMPLATES_TOTAL_BYTES = Limit(
    "templates per run", 50_000_000, "bytes",
    "all the template files one run reads (files given, cdk.out stacks, nested templates)",
    "the project's: fifty stacks at CloudFormation's 1 MB maximum",
    "exit 2 (a nested stack's template: listed under `not_read` with the reason)")
CIDR_COUNT = Limit(
    "Fn::Cidr count", 256, "blocks", "the count argument of `Fn::Cidr` (1 to 256)",
    "CloudFormation: `Fn::Cidr` takes a count from 1 to 256",
    "the value is unresolved (the resources that use it are `unknown`)")
RESOLUTION_DEPTH = Limit(
    "resolution depth", 100, "steps",
    "intrinsic functions and references resolved inside one another (a condition naming a "
    "condition, an import of an import, a nested stack's output of an output)",
    "the project's: deeper than any template's own nesting can be, below Python's recursion "
    "limit",
    "the value is unresolved (the resources that use it are `unknown`)")

# --- cdk.out -------------------------------------------------------------------------------

MANIFEST_BYTES = Limit(
    "cdk.out manifest size", 16 * 1024 * 1024, "bytes", "a cloud assembly's manifest.json",
    "the project's: a manifest lists artifacts and their metadata; large apps with stack traces "
    "stay under a few MB",
    "exit 2")

# --- Snapshots, plans, policies, live reads ----------------------------------------------------

MiB = 1024 * 1024

SNAPSHOT_BYTES = Limit(
    "snapshot size", 256 * MiB, "bytes",
    "all the files of a snapshot one run reads (the manifest, the regions asked for, the "
    "account folder)",
    "the project's: eleven times the 10,000-instance benchmark snapshot (22 MiB), about 40,000 "
    "instances as the AWS CLI prints them",
    "exit 2, naming the file being read when the total passes it")
SNAPSHOT_VALUES = Limit(
    "snapshot values", 12_000_000, "values",
    "JSON values in all the files of a snapshot one run reads, counted while the bytes are "
    "read, before anything is parsed (brackets, braces and commas: an upper bound)",
    "the project's: a parsed value takes 50 to 250 bytes, so garbage (a 200 MB array of empty "
    "objects is 66 million values) is refused before it costs memory; the 10,000-instance "
    "benchmark snapshot holds 0.8 million",
    "exit 2, naming the file, before it is parsed")
PLAN_BYTES = Limit(
    "plan size", 16 * MiB, "bytes",
    "a remediation plan file (`--plan` writes it, the CDK app and `--verify-plan` read it)",
    "the project's: a plan lists changes per VPC, group and role, and one line per instance "
    "(the 10,000-instance benchmark fleet's plan: 1.5 MB)",
    "exit 2 (the CDK app: one line, exit 2)")
POLICY_PATTERNS = Limit(
    "patterns per policy", 10_000, "patterns",
    "the Action, NotAction, Resource, NotResource and condition values of one policy document "
    "(each is a pattern the evaluator matches)",
    "the project's: IAM stores at most 10,240 characters of a role's inline policies, 6,144 of "
    "a customer managed policy, 20,480 of an endpoint policy (a few thousand patterns at "
    "most); the largest AWS managed policies hold about 3,000",
    "the policy is not evaluated: what it decides is `unknown` (DATA_UNAVAILABLE names it)")
LIVE_CONNECT_TIMEOUT = Limit(
    "connect timeout", 5, "seconds", "opening a connection to an AWS endpoint, per attempt",
    "the project's (botocore's default is 60 s): an endpoint that never answers fails in "
    "seconds, not minutes",
    "the attempt fails and is retried like a refused connection (see the next two rows)")
LIVE_READ_TIMEOUT = Limit(
    "read timeout", 10, "seconds", "waiting for an answer on an open connection, per attempt",
    "the project's (botocore's default is 60 s); AWS answers a page within a few seconds",
    "the attempt fails and is retried; then the call's kind is `unknown`, or exit 2 for "
    "DescribeInstances and for an endpoint that cannot be reached at all")
LIVE_MAX_ATTEMPTS = Limit(
    "attempts per call", 3, "attempts",
    "tries of one API call, in the `standard` retry mode, when neither `AWS_MAX_ATTEMPTS` / "
    "`AWS_RETRY_MODE` nor `max_attempts` / `retry_mode` in the profile says otherwise (those "
    "are honoured)",
    "the AWS SDKs' default for the standard retry mode",
    "as above; `--deadline SECONDS` bounds the whole run")
# --- DNS (Route 53 records followed) -------------------------------------------------------

DNS_CHAIN = Limit(
    "DNS names followed", 8, "names",
    "CNAMEs, aliases and DNS Firewall override answers followed from one service name",
    "the project's: AWS's own names resolve in one or two steps; a longer chain is a loop or a "
    "design the auditor should not guess through",
    "the service's name is `unknown` (`PRIVATE_HOSTED_ZONE_OVERRIDE`, naming the chain)")
ZONE_ROUNDS = Limit(
    "zones followed while reading", 3, "rounds",
    "rounds of reading private hosted zones that records read so far lead to (a CNAME into "
    "another associated zone), live and from `--instance` snapshots",
    "the project's: one round reads the zones of the service names, two more follow a chain "
    "of CNAMEs into other zones",
    "the zones past it are not read: a name that leads there is `unknown` (`DATA_UNAVAILABLE`)")

ALL: tuple[Limit, ...] = (
    NESTING_DEPTH, INTEGER_DIGITS, EXPANDED_VALUES, TEMPLATE_BYTES, TEMPLATE_RESOURCES,
    NESTED_RESOURCES, NESTED_DEPTH, TEMPLATES_TOTAL_BYTES, CIDR_COUNT, RESOLUTION_DEPTH,
    MANIFEST_BYTES,
    SNAPSHOT_BYTES, SNAPSHOT_VALUES, PLAN_BYTES, POLICY_PATTERNS, LIVE_CONNECT_TIMEOUT,
    LIVE_READ_TIMEOUT, LIVE_MAX_ATTEMPTS, DNS_CHAIN, ZONE_ROUNDS,
)
