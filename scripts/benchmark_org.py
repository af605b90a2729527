"""Benchmark organization mode (``--org``): collection under API latency, calls per unit, memory.

    python scripts/benchmark_org.py            # 100 accounts x 3 regions; 200 units of 50,000
    python scripts/benchmark_org.py --quick    # 20 accounts x 3 regions; 40 units of 10,000

1. **Collection with latency.** moto (in-process) holds an organization of N accounts; one
   member holds the layout of the live-source tests (builders/moto_layout: internet and NAT
   gateways, an SSM endpoint, referencing groups, a custom ACL, 5 instances) in each of three
   regions. A recording pass reads the organization, assumes every member's role and reads
   that member's three units, keeping every answer (botocore ``after-call``) by what was asked
   (the operation, the request's URL and body). Every other account's units ask the same
   questions and get the same answers. The timed passes then read all N x 3 units as ``--org`` and
   ``snapshot --org`` do before they prove or write (the organization, the units listed, the
   AssumeRoles, ``LiveUnits.read`` of every unit on the pool) with ``--concurrency 1`` and
   ``32``, each call answered from the recording by a botocore ``before-call`` hook after
   50 ms (serialization, the event chain and the clients are the SDK's own; a question not
   recorded fails the benchmark). Target: 32 at least 15 times faster than 1.
2. **Calls per unit.** One unit read through ``LiveUnits`` in moto with 1 instance, then
   with 500: the calls per operation may grow only by pages.
3. **Memory.** An organization snapshot of 200 units (100 accounts x 2 regions) holding
   50,000 instances: one unit of 10,000 (scripts/benchmark.py's fleet) and 199 of about 200,
   written with ``SnapshotWriter``. ``python -m auditor --all --snapshot ORG`` as a process
   (jsonl and json; peak RSS and wall time, as scripts/benchmark.py measures them), and the
   largest unit alone (``--accounts A --regions R``). Targets: < 1 GB, and at most 1.5 times
   the largest unit alone.

Prints Markdown tables; exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pickle
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchmark import (  # noqa: E402
    FULL,
    MiB,
    Size,
    build_estate,
    paginated_operations,
    run_cli,
)

LATENCY = 0.05  # seconds added to every API call
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
TEMPLATE_INSTANCES = 5  # per region of the one member with an estate
SPEED_TARGET = 15.0
MEMORY_TARGET = 1024 * MiB
MEMORY_RATIO = 1.5
SMALL_UNIT = Size(instances=200, subnets=20, vpcs=4, groups=60)


@dataclass(frozen=True)
class Scale:
    accounts: int  # collection: accounts x 3 regions
    memory_accounts: int  # memory: accounts x 2 regions
    memory_instances: int  # in all, the largest unit's included
    largest: Size


FULL_SCALE = Scale(100, 100, 50_000, FULL)
QUICK_SCALE = Scale(20, 20, 10_000, Size(instances=2_000, subnets=200, vpcs=40, groups=600))


# --- The fake AWS environment ----------------------------------------------------------------


@contextmanager
def fake_aws(scratch: Path) -> Iterator[None]:
    names = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
             "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
    saved = dict(os.environ)
    for name in names:
        os.environ.pop(name, None)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGIONS[0], "AWS_EC2_METADATA_DISABLED": "true",
                       "AWS_CONFIG_FILE": str(scratch / "config"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "credentials"),
                       "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def session_hooks(handlers: dict[str, Callable]) -> Iterator[None]:
    """``handlers`` registered first on every boto3 session opened meanwhile."""
    import boto3

    from builders.sessions import sessions_with

    real_session = boto3.Session
    boto3.Session = sessions_with(handlers)  # type: ignore[misc]
    try:
        yield
    finally:
        boto3.Session = real_session  # type: ignore[misc]


def _systems_manager(model: Any, **_kwargs: Any) -> Any:
    """moto lacks GetServiceSetting and DescribeInstanceInformation, DNS Firewall and Route 53
    Profiles: answer them (not set, nobody registered, no firewall, no profile), in the
    recording and the timed passes alike."""
    from botocore.awsrequest import AWSResponse

    from auditor.sources import api_calls

    for call in (api_calls.FIREWALL_ASSOCIATIONS, api_calls.FIREWALL_RULES,
                 api_calls.FIREWALL_DOMAIN_LISTS, api_calls.FIREWALL_DOMAINS,
                 api_calls.PROFILE_ASSOCIATIONS, api_calls.PROFILE_RESOURCES):
        if model.name == call.operation:
            return AWSResponse("https://dns", 200, {}, None), {
                call.result_key: [], "ResponseMetadata": {"HTTPStatusCode": 200}}
    if model.name == "GetServiceSetting":
        return AWSResponse("https://ssm", 400, {}, None), {
            "Error": {"Code": "ServiceSettingNotFound", "Message": "not found"},
            "ResponseMetadata": {"HTTPStatusCode": 400}}
    if model.name == "DescribeInstanceInformation":
        return AWSResponse("https://ssm", 200, {}, None), {
            "InstanceInformationList": [], "ResponseMetadata": {"HTTPStatusCode": 200}}
    return None


def _question(model: Any, params: dict) -> str:
    """What a request asks: its operation, URL and body, whatever the account's
    credentials."""
    body = params.get("body")
    if isinstance(body, bytes):
        body = body.decode()
    return json.dumps([model.name, params.get("url"), body], sort_keys=True, default=str)


POLICY_DOCUMENTS = ("AssumeRolePolicyDocument", "PolicyDocument", "Document")


def _as_sent(parsed: Any) -> Any:
    """IAM's policy documents back to text: botocore decodes them after each call (also
    after a replayed one), and has decoded the recorded ones already."""
    if isinstance(parsed, list):
        return [_as_sent(item) for item in parsed]
    if isinstance(parsed, dict):
        return {key: json.dumps(value) if key in POLICY_DOCUMENTS and isinstance(value, dict)
                else _as_sent(value) for key, value in parsed.items()}
    return parsed


class Recording:
    """Answers kept by question; ``replay`` serves them after ``LATENCY``."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes]] = {}  # the answers pickled
        self.misses: list[str] = []
        self.calls = 0

    def record_hooks(self) -> dict[str, Callable]:
        def ask(params: dict, context: dict, model: Any, **kwargs: Any) -> Any:
            answered = _systems_manager(model)
            context["benchmark_question"] = _question(model, params)
            return answered

        def keep(http_response: Any, parsed: dict, context: dict, **_kwargs: Any) -> None:
            question = context.get("benchmark_question")
            if question and question not in self.answers:
                self.answers[question] = (http_response.status_code,
                                          pickle.dumps(_as_sent(copy.deepcopy(parsed))))

        return {"before-call": ask, "after-call": keep}

    def replay_hooks(self) -> dict[str, Callable]:
        from botocore.awsrequest import AWSResponse

        def answer(params: dict, model: Any, **_kwargs: Any) -> Any:
            self.calls += 1
            time.sleep(LATENCY)
            answered = _systems_manager(model)
            if answered is not None:
                return answered
            question = _question(model, params)
            if question not in self.answers:
                self.misses.append(f"{model.name} {question[:200]}")
                return AWSResponse("https://miss", 400, {}, None), {
                    "Error": {"Code": "BenchmarkMiss", "Message": "not recorded"},
                    "ResponseMetadata": {"HTTPStatusCode": 400}}
            status, parsed = self.answers[question]  # a fresh copy: botocore edits answers
            return AWSResponse(params.get("url", ""), status, {}, None), pickle.loads(parsed)

        return {"before-call": answer}


# --- 1. Collection with latency --------------------------------------------------------------


@dataclass
class Collection:
    concurrency: int
    seconds: float
    units: int
    failed: int
    calls: int


def build_organization(accounts: int) -> tuple[str, list[str]]:
    """The organization in moto: the management account and ``accounts - 1`` members; the
    first member gets a layout in every region. Its id and the members' ids."""
    import boto3

    from builders.moto_layout import build_layout

    organizations = boto3.client("organizations", region_name=REGIONS[0])
    organizations.create_organization(FeatureSet="ALL")
    members = [organizations.create_account(AccountName=f"member-{n}",
                                            Email=f"member-{n}@example.com")
               ["CreateAccountStatus"]["AccountId"] for n in range(accounts - 1)]
    keys = boto3.client("sts", region_name=REGIONS[0]).assume_role(
        RoleArn=f"arn:aws:iam::{members[0]}:role/ssm-auditor-readonly",
        RoleSessionName="seed")["Credentials"]
    credentials = {"aws_access_key_id": keys["AccessKeyId"],
                   "aws_secret_access_key": keys["SecretAccessKey"],
                   "aws_session_token": keys["SessionToken"]}
    for region in REGIONS:
        build_layout(boto3.client("ec2", region_name=region, **credentials),
                     instances=TEMPLATE_INSTANCES, region=region)
    return members[0], members


def measure_collection(scale: Scale, work: Path) -> tuple[list[Collection], list[str], int]:
    """The timed passes; problems; the calls of one pass."""
    from moto import mock_aws

    from auditor.sources.organization import (
        LiveUnits,
        OrganizationAccess,
        Selection,
        Unit,
        UnitFailure,
        list_units,
        read_organization,
        run_pool,
    )

    recording = Recording()
    selection = Selection.from_flags(None, ",".join(REGIONS), None)
    with fake_aws(work), mock_aws():
        template, members = build_organization(scale.accounts)
        with session_hooks(recording.record_hooks()):
            access = OrganizationAccess()
            organization = read_organization(access)
            units = list_units(organization, selection, access)
            for member in members:
                with access.account(member):  # its AssumeRole
                    pass
            source = LiveUnits(access, organization)
            for unit in units:
                if unit.account_id == template:
                    source.read(unit)
    results = []
    with fake_aws(work), session_hooks(recording.replay_hooks()):
        for concurrency in (32, 1):
            print(f"  collection, --concurrency {concurrency}", file=sys.stderr)
            recording.calls = 0
            access = OrganizationAccess()
            start = time.perf_counter()
            organization = read_organization(access)
            units = list_units(organization, selection, access, concurrency)
            source = LiveUnits(access, organization)
            source.expect(units)
            failed: list[str] = []

            def read(unit: Unit, source: LiveUnits = source, failed: list = failed) -> int:
                try:
                    return len(source.read(unit).answers)
                except UnitFailure as failure:
                    failed.append(str(failure))
                    return 0

            run_pool(units, read, lambda *_: None, concurrency)
            seconds = time.perf_counter() - start
            results.append(Collection(concurrency, seconds, len(units), len(failed),
                                      recording.calls))
    problems = [f"{len(recording.misses)} calls not recorded, e.g. {recording.misses[0]}"
                ] if recording.misses else []
    problems += [f"--concurrency {r.concurrency}: {r.failed} units failed" for r in results
                 if r.failed]
    if len(results[0:1]) and results[0].units != scale.accounts * len(REGIONS):
        problems.append(f"{results[0].units} units read, not {scale.accounts * len(REGIONS)}")
    return results, problems, results[0].calls


# --- 2. Calls per unit -----------------------------------------------------------------------


def count_unit_calls(work: Path) -> tuple[Counter, Counter]:
    """The calls of one unit's read with 1 instance, then with 500."""
    import boto3
    from moto import mock_aws

    from auditor.sources.organization import (
        LiveUnits,
        OrganizationAccess,
        Unit,
        read_organization,
    )
    from builders.moto_layout import build_layout, run_instances

    counts = []
    with fake_aws(work), mock_aws():
        member, _ = build_organization(2)
        keys = boto3.client("sts", region_name=REGIONS[0]).assume_role(
            RoleArn=f"arn:aws:iam::{member}:role/x", RoleSessionName="seed")["Credentials"]
        ec2 = boto3.client("ec2", region_name=REGIONS[0], aws_access_key_id=keys["AccessKeyId"],
                           aws_secret_access_key=keys["SecretAccessKey"],
                           aws_session_token=keys["SessionToken"])
        layout = build_layout(ec2, cidr="10.8.0.0/16", instances=0, subnet_prefix=21)
        launched = 0
        for wanted in (1, 500):
            run_instances(ec2, layout, wanted - launched)
            launched = wanted
            calls: Counter = Counter()

            def count(model: Any, calls: Counter = calls, **_kwargs: Any) -> Any:
                calls[model.name] += 1
                return _systems_manager(model)

            with session_hooks({"before-call": count}):
                access = OrganizationAccess()
                organization = read_organization(access)
                calls.clear()  # the unit's calls only
                LiveUnits(access, organization).read(Unit(member, REGIONS[0]))
            counts.append(calls)
    return counts[0], counts[1]


def check_growth(small: Counter, large: Counter, paginated: set[str]) -> list[str]:
    problems = []
    for operation in sorted(set(small) | set(large)):
        grew = large[operation] - small[operation]
        if grew and (operation not in paginated or grew > 500 // 100 + 1):
            problems.append(f"{operation}: {small[operation]} calls with 1 instance, "
                            f"{large[operation]} with 500")
    return problems


# --- 3. Memory -------------------------------------------------------------------------------


def organization_answers(accounts: list[str]) -> Any:
    from auditor.sources.organization import OrganizationAnswers

    root = "r-bench"
    full = {"Id": "p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY",
            "AwsManaged": True}
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    return OrganizationAnswers({
        "organization": {"Organization": {"Id": "o-bench", "FeatureSet": "ALL",
                                          "MasterAccountId": accounts[0]}},
        "organization_accounts": {"Accounts": [{"Id": a, "State": "ACTIVE"} for a in accounts]},
        "organization_roots": {"Roots": [{"Id": root, "Name": "Root"}]},
        "organization_units": [{"ParentId": root, "OrganizationalUnits": []}],
        "organization_child_accounts": [{"ParentId": root,
                                         "Accounts": [{"Id": a} for a in accounts]}],
        "scp_list": {"Policies": [full]},
        "scp_targets": [{"PolicyId": full["Id"], "Targets": [
            {"TargetId": target} for target in [root, *accounts]]}],
        "scp_documents": [{"Policy": {"PolicySummary": full,
                                      "Content": json.dumps(document)}}],
    }, {}, accounts[0])


def write_memory_organization(scale: Scale, folder: Path) -> tuple[str, str, int, int]:
    """The organization snapshot; the largest unit's account, region and instances, and the
    instances in all."""
    from auditor.sources.organization import Selection, SnapshotWriter, Unit

    accounts = [f"{100000000000 + n:012d}" for n in range(scale.memory_accounts)]
    regions = ("eu-west-1", "us-east-1")
    small_units = scale.memory_accounts * len(regions) - 1
    small_size = Size(instances=(scale.memory_instances - scale.largest.instances)
                      // small_units, subnets=SMALL_UNIT.subnets, vpcs=SMALL_UNIT.vpcs,
                      groups=SMALL_UNIT.groups)
    # The largest unit takes the remainder, so that the units hold exactly the total.
    largest_size = Size(scale.memory_instances - small_units * small_size.instances,
                        scale.largest.subnets, scale.largest.vpcs, scale.largest.groups)
    largest, _ = build_estate(largest_size, regions[0])
    small = {region: build_estate(small_size, region)[0].raw() for region in regions}
    writer = SnapshotWriter(folder, organization_answers(accounts), Selection())
    total = 0
    for account in accounts:
        for region in regions:
            big = account == accounts[0] and region == regions[0]
            raw = largest.raw() if big else small[region]
            writer.add(Unit(account, region), raw, None)
            total += len(raw.answers["instances"]["Reservations"])
    writer.close()
    return accounts[0], regions[0], largest_size.instances, total


@dataclass
class MemoryRun:
    name: str
    wall: float
    cpu: float  # user + system: what the wall time would be on an idle machine
    peak: int
    instances: int
    exit_code: int


def measure_memory(scale: Scale, work: Path) -> tuple[list[MemoryRun], list[str]]:
    organization = work / "memory-org"
    print("  writing the organization snapshot", file=sys.stderr)
    account, region, biggest, total = write_memory_organization(scale, organization)
    runs = []
    bytecode = work / "bytecode"
    scenarios = [
        (f"Largest unit alone ({biggest:,} instances), jsonl",
         ["--accounts", account, "--regions", region, "--format", "jsonl"]),
        (f"Whole organization ({total:,} instances), jsonl", ["--format", "jsonl"]),
        (f"Whole organization ({total:,} instances), json", ["--format", "json"]),
        (f"Whole organization ({total:,} instances), jsonl, --concurrency 2",
         ["--format", "jsonl", "--concurrency", "2"]),
    ]
    run_cli(["--version"], work / "warm.txt", bytecode)
    for name, args in scenarios:
        print(f"  {name}", file=sys.stderr)
        out = work / "memory-report.txt"
        run = run_cli(["--all", "--snapshot", str(organization), "-q", *args], out, bytecode)
        text = out.read_text()
        count = (len([line for line in text.splitlines() if '"instance_id"' in line[:20]])
                 if "jsonl" in args else len(json.loads(text)["instances"]))
        runs.append(MemoryRun(name, run.wall, run.cpu, run.peak_rss, count, run.exit_code))
    problems = []
    alone = runs[0].peak
    for run in runs[1:]:
        if run.peak >= MEMORY_TARGET:
            problems.append(f"{run.name}: {run.peak / MiB:.0f} MiB, not < 1 GB")
        if run.peak > MEMORY_RATIO * alone:
            problems.append(f"{run.name}: {run.peak / alone:.2f} x the largest unit alone")
        if run.instances != total:
            problems.append(f"{run.name}: {run.instances} instances reported, not {total}")
    if runs[0].instances != biggest:
        problems.append(f"largest unit: {runs[0].instances} instances reported")
    problems += [f"{run.name}: exit status 2" for run in runs if run.exit_code == 2]
    return runs, problems


# --- Report ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller organization")
    parser.add_argument("--skip", action="append", default=[],
                        choices=("collection", "calls", "memory"), help="skip a part")
    args = parser.parse_args(argv)
    scale = QUICK_SCALE if args.quick else FULL_SCALE
    failures: list[str] = []
    lines = [f"## Organization benchmark ({'quick' if args.quick else 'full'} size, Python "
             f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
             f"{os.getloadavg()[0]:.1f})"]
    with tempfile.TemporaryDirectory(prefix="ssm-auditor-org-bench-") as temp:
        work = Path(temp)
        if "collection" not in args.skip:
            print("collection with latency", file=sys.stderr)
            results, problems, calls = measure_collection(scale, work)
            failures += problems
            fast, slow = results
            speedup = slow.seconds / fast.seconds
            if speedup < SPEED_TARGET:
                failures.append(f"--concurrency 32 only {speedup:.1f} x faster")
            lines += ["", f"### Collection: {scale.accounts} accounts x {len(REGIONS)} regions, "
                      f"{LATENCY * 1000:.0f} ms per API call ({calls:,} calls a run, "
                      f"{calls / fast.units:.1f} a unit)", "",
                      "| Concurrency | Units | Failed | Wall | Units/s |",
                      "|---:|---:|---:|---:|---:|"]
            lines += [f"| {r.concurrency} | {r.units} | {r.failed} | {r.seconds:.1f} s | "
                      f"{r.units / r.seconds:.1f} |" for r in (slow, fast)]
            lines += ["", f"Speed-up: **{speedup:.1f} x** (target >= {SPEED_TARGET:.0f} x)"]
        if "calls" not in args.skip:
            print("calls per unit", file=sys.stderr)
            small, large = count_unit_calls(work)
            problems = check_growth(small, large, paginated_operations())
            failures += problems
            lines += ["", "### Calls of one unit's read (moto), 1 and 500 instances", "",
                      "| Operation | 1 instance | 500 instances |", "|---|---:|---:|"]
            lines += [f"| {op} | {small[op]} | {large[op]} |"
                      for op in sorted(set(small) | set(large))]
            lines += ["", "PASS: flat but for pages" if not problems else
                      "FAIL: " + "; ".join(problems)]
        if "memory" not in args.skip:
            print("memory", file=sys.stderr)
            runs, problems = measure_memory(scale, work)
            failures += problems
            lines += ["", f"### Memory: an organization snapshot of "
                      f"{scale.memory_accounts * 2} units", "",
                      "| Run | Instances | Wall | CPU | Peak RSS | x largest unit |",
                      "|---|---:|---:|---:|---:|---:|"]
            lines += [f"| {r.name} | {r.instances:,} | {r.wall:.1f} s | {r.cpu:.1f} s | "
                      f"{r.peak / MiB:.0f} MiB | {r.peak / runs[0].peak:.2f} |" for r in runs]
    print("\n".join(lines))
    print(f"\n**Overall: {'FAIL (' + '; '.join(failures) + ')' if failures else 'PASS'}**")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
