"""Benchmark the auditor on a large synthetic estate, and count the API calls of a live audit.

    python scripts/benchmark.py            # full size: 10,000 instances, 1,000 subnets,
                                           # 200 VPCs, 3,000 security groups
    python scripts/benchmark.py --quick    # a tenth of that, for development

What it does, in order:

1. Builds the synthetic estate with ``EstateBuilder`` and writes it as a snapshot (a temporary
   directory unless ``--keep DIR``).
2. Runs the audit as whole processes (``python -m auditor ... --format json``) and measures wall
   time and peak RSS of each: the whole fleet, one instance of that fleet, and one instance of
   the bundled demo estate. Exit status 2 of an audit (an error) fails the benchmark.
3. Profiles the fleet audit in-process with cProfile when it misses its target (or always,
   with ``--profile``) and prints the hot spots.
4. Starts a moto server on 127.0.0.1, seeds a small estate with 1 instance and then with 500,
   runs the live collection in-process and counts the API calls per operation (botocore
   ``before-call`` events). The counts may grow with the number of instances only by pages.

``--unshared`` varies security groups and platform per instance instead of per workload: the
worst case for the prover, which proves instances alike in subnet, groups, platform and public
IP only once.

Everything is printed as Markdown tables. Exit status: 0 when every target is met and the call
counts hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import logging
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builders.estate_builder import EstateBuilder  # noqa: E402

DEMO_ESTATE = ROOT / "demo" / "estate"
DEMO_INSTANCE_NAME = "db-isolated-endpoints"  # the demo instance with the most to prove
AGENT_SERVICES = ("ssm", "ssmmessages", "ec2messages")
EPHEMERAL = (1024, 65535)
RECIPES = 6  # the special security groups of each VPC, after its endpoint group
AUDIT_ERROR = 2  # the CLI's exit status for bad usage or unusable input
MiB = 1024 * 1024


# --- The synthetic estate --------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    instances: int
    subnets: int
    vpcs: int
    groups: int


FULL = Size(instances=10_000, subnets=1_000, vpcs=200, groups=3_000)
OPERATOR_ROLES = 2_000  # IAM roles beside the instances' own: what --operators goes through
QUICK = Size(instances=1_000, subnets=100, vpcs=20, groups=300)

# What each VPC is, by its index modulo 10: most reach the agent's endpoints through NAT or an
# internet gateway, some only through interface endpoints, a few are broken on purpose.
VPC_KINDS = ("nat", "nat", "nat", "nat", "nat", "isolated", "isolated", "nat-and-endpoints",
             "nat", "broken")


def _share(total: int, parts: int, index: int) -> int:
    """How many of ``total`` things part ``index`` of ``parts`` gets (spread evenly)."""
    base, extra = divmod(total, parts)
    return base + (1 if index < extra else 0)


def _vpc_cidr(index: int) -> IPv4Network:
    """10.<index>.0.0/16, then the /16s of 172.16.0.0/12."""
    if index < 256:
        return IPv4Network(f"10.{index}.0.0/16")
    if index < 256 + 16:
        return IPv4Network(f"172.{16 + index - 256}.0.0/16")
    raise SystemExit("benchmark: at most 272 VPCs")


def _security_groups(b: EstateBuilder, vpc: str, cidr: str, count: int,
                     egress_list: str) -> list[str]:
    """``count`` groups: the endpoint group first, then what instances wear."""
    endpoint = b.security_group(vpc, "ssm-endpoints", ingress=[("tcp", 443, 443, cidr)])
    groups = [endpoint]
    recipes: list[tuple[str, list[tuple] | None, list[tuple]]] = [
        ("web", None, [("tcp", 443, 443, "0.0.0.0/0")]),
        ("app", [("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 5432, 5432, cidr)], []),
        ("via-endpoint-sg", [("tcp", 443, 443, endpoint)], []),  # an SG reference
        ("locked-down", [("tcp", 5432, 5432, cidr)], []),  # blocks the agent
        ("via-prefix-list", [("tcp", 443, 443, egress_list)], []),
        ("no-egress", [], [("tcp", 22, 22, cidr)]),  # blocks the agent
    ]
    assert len(recipes) == RECIPES
    for index in range(count - 1):
        if index < len(recipes):
            name, egress, ingress = recipes[index]
        else:  # tiers that talk to each other, with the agent's traffic allowed
            peer = groups[1 + (index % max(1, len(groups) - 1))]
            name = f"tier-{index}"
            egress = [("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 8080, 8080, peer)]
            if index % 3 == 0:
                egress = None  # the default allow-all
            ingress = [("tcp", 8080, 8080, peer), ("tcp", 22, 22, cidr)]
        groups.append(b.security_group(vpc, name, egress=egress, ingress=ingress))
    return groups


def _network(b: EstateBuilder, vpc_index: int, subnet_count: int) -> tuple[str, list[str],
                                                                            list[str]]:
    """A VPC and its subnets, routes and ACLs. Returns (vpc, subnets, public subnets)."""
    kind = VPC_KINDS[vpc_index % len(VPC_KINDS)]
    network = _vpc_cidr(vpc_index)
    cidr = str(network)
    dns_servers = ([str(network.network_address + 2), "10.255.0.53"]
                   if vpc_index % 25 == 24 else None)
    vpc = b.vpc(cidr, dns_servers=dns_servers)
    cidrs = [str(s) for s, _ in zip(network.subnets(new_prefix=24), range(subnet_count),
                                   strict=False)]
    subnets = [b.subnet(vpc, subnet_cidr, "abc"[i % 3], public_ip_on_launch=(i == 0))
               for i, subnet_cidr in enumerate(cidrs)]
    public: list[str] = []
    if kind == "isolated":
        b.route_table(vpc, subnets)  # local routes only
    else:
        igw = b.internet_gateway(vpc)
        public = subnets[:1]
        b.route_table(vpc, public, [("0.0.0.0/0", igw)])
        private = subnets[1:]
        if kind == "broken" and private:
            failed = b.nat_gateway(public[0], state="failed")
            targets = [("0.0.0.0/0", "tgw-0123456789abcdef0"),
                       ("0.0.0.0/0", "blackhole:nat-0deleted0000000000"),
                       ("0.0.0.0/0", failed)]
            for index, subnet in enumerate(private):
                if index < len(targets):
                    b.route_table(vpc, [subnet], [targets[index]])
                else:
                    b.route_table(vpc, [subnet])  # no way out, no endpoints
        elif private:
            nat = b.nat_gateway(public[0])
            b.route_table(vpc, private, [("0.0.0.0/0", nat)])
        if vpc_index % 3 == 0 and len(subnets) > 2:  # a custom ACL that lets the agent work
            b.network_acl(vpc, [subnets[2]], [
                (100, True, "allow", "6", "0.0.0.0/0", (443, 443)),
                (110, True, "allow", "6", cidr, (5432, 5432)),
                (100, False, "allow", "6", "0.0.0.0/0", EPHEMERAL),
            ])
        if vpc_index % 4 == 1 and len(subnets) > 3:  # one that drops the replies
            b.network_acl(vpc, [subnets[3]], [
                (100, True, "allow", "6", "0.0.0.0/0", (443, 443)),
                (100, False, "allow", "6", cidr, EPHEMERAL),
            ])
    return vpc, subnets, public


def _workload(wearable: list[str], v: int, subnet: int, j: int, i: int,
              unshared: bool) -> tuple[list[str], bool, bool]:
    """Instance ``j`` of subnet ``subnet`` (``i`` in its VPC ``v``): groups, Windows, public IP.

    By default a subnet hosts three workloads, as auto scaling groups do: six in ten instances
    run the main one, three the second, one a special one (where the blocking groups are), and
    instances of one workload share their groups, platform and public-IP choice. ``unshared``
    varies all that per instance instead: the worst case for the prover, which proves instances
    alike in subnet, groups, platform and public IP once.
    """
    recipes = min(RECIPES, len(wearable))
    tiers = len(wearable) - recipes
    if unshared:
        if i % 10 == 0 or not tiers:
            chosen = [wearable[(i // 10 + v) % recipes]]
        else:
            chosen = [wearable[recipes + (i * 7 + v) % tiers]]
        if i % 6 == 5:
            chosen.append(wearable[(i * 11 + 3) % len(wearable)])
        return list(dict.fromkeys(chosen)), i % 15 == 7, i % 8 != 3
    slot = j % 10
    if slot == 9 or not tiers:  # the special workload
        return [wearable[(subnet + v) % recipes]], False, False
    second = slot >= 6
    chosen = [wearable[recipes + (subnet * 2 + second) % tiers]]
    if second and subnet % 2 == 0:
        chosen.append(wearable[0])  # also "web"
    return list(dict.fromkeys(chosen)), second and (subnet + v) % 4 == 0, True


def _session_preferences(b: EstateBuilder) -> str:
    """Session Manager preferences that encrypt sessions with a KMS key and log them to S3, and
    the policy the fleet's roles carry for them (role-6's lacks the key: a refusal to prove)."""
    b.s3_prefix_list()
    key = b.kms_key("alias/session-manager")
    b.bucket("fleet-session-logs")
    b.session_preferences(kmsKeyId="alias/session-manager", s3BucketName="fleet-session-logs",
                          s3KeyPrefix="sessions", s3EncryptionEnabled=True)
    writes = [{"Effect": "Allow", "Action": "s3:PutObject",
               "Resource": "arn:aws:s3:::fleet-session-logs/sessions/*"},
              {"Effect": "Allow", "Action": "s3:GetEncryptionConfiguration",
               "Resource": "arn:aws:s3:::fleet-session-logs"}]
    b.managed_policy("session-access", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}, *writes]})
    b.managed_policy("session-logs-only", {"Version": "2012-10-17", "Statement": writes})
    return key


def _operators(b: EstateBuilder, count: int) -> None:
    """``count`` roles of people and automation, as a large account has: a quarter may start
    sessions on instances of one team (a resource-tag condition), a few anywhere, the rest do
    other things. What ``--operators`` sorts through."""
    document = "arn:aws:ssm:*:111122223333:document/SSM-SessionManagerRunShell"
    shared = b.managed_policy("read-only-things", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:Describe*", "s3:Get*", "s3:List*"],
         "Resource": "*"}]})
    for number in range(count):
        statements: list[dict] = [{"Effect": "Allow", "Action": ["logs:Get*", "sqs:Send*"],
                                   "Resource": f"arn:aws:sqs:*:111122223333:queue-{number}"}]
        if number % 4 == 0:
            statements += [
                {"Effect": "Allow", "Action": "ssm:StartSession",
                 "Resource": "arn:aws:ec2:*:111122223333:instance/*",
                 "Condition": {"StringEquals": {"ssm:resourceTag/Name": f"team-{number % 7}"}}},
                {"Effect": "Allow", "Action": "ssm:StartSession", "Resource": document}]
        elif number % 50 == 1:
            statements.append({"Effect": "Allow", "Action": ["ssm:*", "kms:GenerateDataKey"],
                               "Resource": "*"})
        b.role(f"operator-{number:04d}", attached=[shared] if number % 3 == 0 else (),
               inline={"work": {"Version": "2012-10-17", "Statement": statements}})


def build_estate(size: Size, region: str = "eu-west-1", unshared: bool = False
                 ) -> tuple[EstateBuilder, dict[str, str]]:
    """The synthetic estate, and one instance id per VPC kind (for single-instance runs)."""
    b = EstateBuilder(region=region, account_id="111122223333")
    _session_preferences(b)
    for number in range(7):  # the instance profiles role-0 .. role-6, each holding its role
        b.role(f"role-{number}", attached=["AmazonSSMManagedInstanceCore",
                                           "session-logs-only" if number == 6
                                           else "session-access"])
        b.instance_profile(f"role-{number}", [f"role-{number}"])
    _operators(b, OPERATOR_ROLES)
    egress_list = b.prefix_list("egress-allowed", ["0.0.0.0/1", "128.0.0.0/1"])
    b.prefix_list("corp-offices", ["192.168.0.0/16", "172.31.0.0/16"])
    samples: dict[str, str] = {}
    for v in range(size.vpcs):
        kind = VPC_KINDS[v % len(VPC_KINDS)]
        vpc, subnets, public = _network(b, v, _share(size.subnets, size.vpcs, v))
        cidr = b.vpcs[-1]["CidrBlock"]
        groups = _security_groups(b, vpc, cidr, _share(size.groups, size.vpcs, v),
                                  egress_list)
        if kind in ("isolated", "nat-and-endpoints"):
            endpoint_subnets = subnets[:2] if kind == "isolated" else subnets[1:3]
            for service in AGENT_SERVICES:
                b.interface_endpoint(vpc, service, endpoint_subnets or subnets[:1], groups[:1])
        if kind == "isolated" and v % 2 == 0:  # S3 through a gateway endpoint, kms nowhere
            table = next(t["RouteTableId"] for t in b.route_tables if t["VpcId"] == vpc
                         and any(a.get("SubnetId") for a in t["Associations"]))
            b.gateway_endpoint(vpc, "s3", [table], b.prefix_lists[0]["PrefixListId"])
        wearable = groups[1:] or groups
        for i in range(_share(size.instances, size.vpcs, v)):
            subnet_index = i % len(subnets)
            subnet = subnets[subnet_index]
            chosen, windows, public_ip = _workload(wearable, v, subnet_index, i // len(subnets),
                                                   i, unshared)
            instance = b.instance(
                subnet, chosen, name=f"{kind}-{v}-{i}",
                public_ip=(f"198.51.{100 + v % 100}.{i % 250 + 1}"
                           if subnet in public and public_ip else None),
                state="stopped" if i % 25 == 24 else "running",
                platform="windows" if windows else None,
                http_endpoint="disabled" if i % 40 == 39 else "enabled",
                http_tokens="optional" if i % 9 == 4 else "required",
                instance_profile=None if i % 30 == 29 else f"role-{v % 7}")
            if i % 30 != 29:  # Systems Manager's view: most registered, a few lost
                b.managed_node(instance, "ConnectionLost" if i % 13 == 12 else "Online")
            samples.setdefault(kind, instance)
    return b, samples


# --- Running the CLI as a process -------------------------------------------------------------


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # seconds of user + system time
    peak_rss: int  # bytes
    exit_code: int
    stderr: str


# Starts the audit and waits for it, reporting the wall time and the child's own rusage. It runs
# in a small interpreter of its own because Linux carries the high-water RSS of the process that
# spawns a child over into the child's ru_maxrss: spawned from this script (which holds the
# whole estate), every audit would appear to need at least as much memory as the script.
LAUNCHER = """
import json, os, sys, time
report, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawn(command[0], command, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as handle:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
               "maxrss": usage.ru_maxrss, "exit": os.waitstatus_to_exitcode(status)}, handle)
"""


def run_cli(args: list[str], stdout_path: Path, bytecode: Path) -> Run:
    """``python -m auditor ARGS``: the wall time and the peak RSS of that one process.

    Bytecode is cached under ``bytecode`` (not in the repository), as for an installed package,
    even where PYTHONDONTWRITEBYTECODE is set; the first run fills the cache.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               PYTHONPYCACHEPREFIX=str(bytecode))
    env.pop("SSM_AUDITOR_DEBUG", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    measured = stdout_path.with_suffix(".rusage.json")
    command = [sys.executable, "-c", LAUNCHER, str(measured),
               sys.executable, "-m", "auditor", *args]
    with stdout_path.open("wb") as out, tempfile.TemporaryFile() as err:
        launcher = subprocess.run(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=err, env=env, check=False)
        err.seek(0)
        stderr = err.read().decode(errors="replace").strip()
    if launcher.returncode != 0:
        raise SystemExit(f"benchmark: the launcher failed: {stderr}")
    result = json.loads(measured.read_text())
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return Run(result["wall"], result["cpu"], result["maxrss"] * scale, result["exit"], stderr)


@dataclass
class Scenario:
    name: str
    args: list[str]
    wall_target: float
    rss_target: int | None = None
    expect_instances: int | None = None
    runs: list[Run] = field(default_factory=list)
    error: str = ""

    @property
    def walls(self) -> list[float]:
        return [run.wall for run in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak(self) -> int:
        return max(run.peak_rss for run in self.runs)

    @property
    def passed(self) -> bool:
        if self.error or not self.runs:
            return False
        return self.median < self.wall_target and (
            self.rss_target is None or self.peak < self.rss_target)


def _check_output(scenario: Scenario, path: Path) -> str:
    """An error message when the JSON report is not what the scenario asked for."""
    try:
        document = json.loads(path.read_text())
        count = len(document["instances"])
    except (ValueError, KeyError, TypeError) as error:
        return f"the JSON report does not parse: {error}"
    if scenario.expect_instances is not None and count != scenario.expect_instances:
        return f"the report holds {count} instances, not {scenario.expect_instances}"
    return ""


def measure(scenario: Scenario, repeat: int, work: Path) -> None:
    out = work / "report.json"
    for attempt in range(repeat):
        run = run_cli(scenario.args, out, work / "bytecode")
        if run.exit_code == AUDIT_ERROR or run.exit_code not in (0, 1, 3):
            last = run.stderr.splitlines()[-1] if run.stderr else "(no message)"
            scenario.error = f"exit status {run.exit_code}: {last}"
            return
        if attempt == 0:
            scenario.error = _check_output(scenario, out)
            if scenario.error:
                return
        scenario.runs.append(run)
        print(f"  {scenario.name}: run {attempt + 1}/{repeat}: {run.wall:.2f} s "
              f"({run.cpu:.2f} s CPU), {run.peak_rss / MiB:.0f} MiB, exit {run.exit_code}",
              file=sys.stderr)


def _size_text(size: int) -> str:
    return f"{size / MiB:.0f} MiB" if size >= MiB else f"{size / 1024:.0f} KiB"


def performance_table(scenarios: list[Scenario]) -> str:
    lines = ["| Scenario | Runs | Best wall | Median wall | Median CPU | Peak RSS | Target "
             "| Result |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    for s in scenarios:
        target = f"< {s.wall_target:g} s" + (
            f", < {s.rss_target / MiB / 1024:g} GB" if s.rss_target else "")
        if s.error:
            lines.append(f"| {s.name} | {len(s.runs)} | - | - | - | - | {target} | "
                         f"FAIL ({s.error.replace('|', '/')}) |")
            continue
        cpu = statistics.median(run.cpu for run in s.runs)
        lines.append(f"| {s.name} | {len(s.runs)} | {min(s.walls):.2f} s | {s.median:.2f} s | "
                     f"{cpu:.2f} s | {s.peak / MiB:.0f} MiB | {target} | "
                     f"{'PASS' if s.passed else 'FAIL'} |")
    return "\n".join(lines)


# --- Profiling the fleet audit in-process ---------------------------------------------------


def phase_times(snapshot: Path) -> list[tuple[str, float]]:
    """Wall time of each stage of ``--all --format json``, in this process."""
    from auditor.audit import run_audit
    from auditor.sources.description import SourceDescription
    from auditor.sources.parse import build_estate as parse_estate
    from auditor.sources.snapshot import read_snapshot

    phases = []
    start = time.perf_counter()
    raws = read_snapshot(snapshot)
    phases.append(("read snapshot (JSON load)", time.perf_counter() - start))
    start = time.perf_counter()
    estates = [parse_estate(raw) for raw in raws]
    phases.append(("build estate model (parse)", time.perf_counter() - start))
    start = time.perf_counter()
    report = run_audit(estates, None, SourceDescription("snapshot", path=str(snapshot)))
    phases.append(("graph + proofs + verdicts", time.perf_counter() - start))
    try:
        from auditor.reports import json_report
    except ImportError as error:
        phases.append((f"render JSON: not measured ({error})", float("nan")))
        return phases
    start = time.perf_counter()
    json_report.render(report)
    phases.append(("render JSON report", time.perf_counter() - start))
    return phases


def profile_fleet(snapshot: Path, top: int) -> tuple[list[tuple[str, float]], str]:
    """The phases, and the ``top`` functions by cumulative time of the whole CLI run."""
    from auditor.cli import main

    phases = phase_times(snapshot)
    profiler = cProfile.Profile()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        profiler.runcall(main, ["--all", "--snapshot", str(snapshot), "--format", "json"])
    stats = pstats.Stats(profiler)
    rows = [(cumulative, own, calls, _short(filename, line, function))
            for (filename, line, function), (_, calls, own, cumulative, _)
            in stats.stats.items()]  # type: ignore[attr-defined]
    tables = []
    for title, key in (("by cumulative time", 0), ("by own time", 1)):
        rows.sort(key=lambda row, k=key: row[k], reverse=True)
        lines = [f"Top {top} {title}:", "", "| Function | Calls | Own | Cumulative |",
                 "|---|---:|---:|---:|"]
        lines += [f"| `{name}` | {calls} | {own:.2f} s | {cumulative:.2f} s |"
                  for cumulative, own, calls, name in rows[:top]]
        tables.append("\n".join(lines))
    return phases, "\n\n".join(tables)


def _short(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function  # a builtin
    path = Path(filename)
    with contextlib.suppress(ValueError):
        return f"{path.relative_to(ROOT)}:{line}({function})"
    parts = path.parts
    if "site-packages" in parts:
        return f"{'/'.join(parts[parts.index('site-packages') + 1:])}:{line}({function})"
    return f"{path.name}:{line}({function})"


# --- API calls of a live audit against moto ------------------------------------------------


LIVE_REGION = "us-east-1"


@contextlib.contextmanager
def _fake_aws_environment(endpoint: str, scratch: Path) -> Iterator[None]:
    names = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
             "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
             "AWS_EC2_METADATA_DISABLED", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
             "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL_EC2")
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": LIVE_REGION,
        "AWS_CONFIG_FILE": str(scratch / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def counting_sessions() -> Iterator[tuple[Counter, Counter]]:
    """Count ``before-call`` (API calls, one per page) and ``before-send`` (HTTP requests,
    retries included) per operation, on every boto3 session opened meanwhile."""
    import boto3

    calls: Counter = Counter()
    requests: Counter = Counter()

    def on_call(model: Any = None, **_: Any) -> None:
        calls[model.name] += 1

    def on_send(event_name: str = "", **_: Any) -> None:
        requests[event_name.rsplit(".", 1)[-1]] += 1

    real_session = boto3.Session

    def session_with_hooks(*args: Any, **kwargs: Any) -> Any:
        session = real_session(*args, **kwargs)
        session.events.register("before-call", on_call)
        session.events.register("before-send", on_send)
        return session

    boto3.Session = session_with_hooks  # type: ignore[misc]
    try:
        yield calls, requests
    finally:
        boto3.Session = real_session  # type: ignore[misc]


@dataclass
class LiveCount:
    instances: int
    calls: Counter
    requests: Counter
    seconds: float


def count_live_calls(counts: tuple[int, int]) -> list[LiveCount]:
    import boto3
    from moto.server import ThreadedMotoServer

    from auditor.sources.live import collect
    from builders.moto_layout import build_layout, run_instances

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    results = []
    try:
        host, port = server.get_host_and_port()
        with tempfile.TemporaryDirectory() as scratch, \
                _fake_aws_environment(f"http://{host}:{port}", Path(scratch)):
            ec2 = boto3.client("ec2", region_name=LIVE_REGION)
            # The layout of the live-source tests: IGW, NAT, endpoint, SG and prefix-list
            # references, a custom ACL, DHCP options.
            layout = build_layout(ec2, instances=0, subnet_prefix=21)  # room for 500
            launched = 0
            for wanted in counts:
                run_instances(ec2, layout, wanted - launched)
                launched = wanted
                with counting_sessions() as (calls, requests):
                    start = time.perf_counter()
                    raws = collect([LIVE_REGION])
                    seconds = time.perf_counter() - start
                found = sum(len(r["Instances"]) for r in
                            raws[0].answers["instances"]["Reservations"])
                if found != wanted:
                    raise SystemExit(f"benchmark: collect() found {found} instances in moto, "
                                     f"not {wanted}")
                if raws[0].errors:
                    print(f"  note: moto refused {raws[0].errors}", file=sys.stderr)
                results.append(LiveCount(wanted, calls, requests, seconds))
    finally:
        server.stop()
    return results


def paginated_operations() -> set[str]:
    import boto3
    from botocore import xform_name

    from auditor.sources.api_calls import ALL_CALLS

    operations = set()
    for service in sorted({call.service for call in ALL_CALLS}):
        client = boto3.client(service, region_name=LIVE_REGION, aws_access_key_id="x",
                              aws_secret_access_key="x")
        operations |= {name for name in client.meta.service_model.operation_names
                       if client.can_paginate(xform_name(name))}
    return operations


def check_call_growth(small: LiveCount, large: LiveCount,
                      paginated: set[str]) -> list[str]:
    """Violations: a count may grow only for paginated operations, by at most one page per
    100 more instances (EC2 pages hold 5 to 1000 items; per-instance calls would add one call
    per instance)."""
    allowed_pages = math.ceil((large.instances - small.instances) / 100)
    problems = []
    for operation in sorted(set(small.calls) | set(large.calls)):
        growth = large.calls[operation] - small.calls[operation]
        allowed = allowed_pages if operation in paginated else 0
        if growth > allowed:
            problems.append(f"{operation}: {small.calls[operation]} -> "
                            f"{large.calls[operation]} calls (at most +{allowed} allowed)")
    return problems


def calls_table(small: LiveCount, large: LiveCount, paginated: set[str]) -> str:
    lines = [f"| Operation | {small.instances} instance{'s' * (small.instances != 1)} | "
             f"{large.instances} instances | Growth |",
             "|---|---:|---:|---:|"]
    for operation in sorted(set(small.calls) | set(large.calls)):
        s, g = small.calls[operation], large.calls[operation]
        mark = "" if operation in paginated else " (not paginated)"
        lines.append(f"| {operation}{mark} | {s} | {g} | {g - s:+d} |")
    lines.append(f"| **Total calls** | **{sum(small.calls.values())}** | "
                 f"**{sum(large.calls.values())}** | "
                 f"**{sum(large.calls.values()) - sum(small.calls.values()):+d}** |")
    lines.append(f"| HTTP requests (incl. retries) | {sum(small.requests.values())} | "
                 f"{sum(large.requests.values())} | |")
    lines.append(f"| collect() wall time | {small.seconds:.2f} s | {large.seconds:.2f} s | |")
    return "\n".join(lines)


# --- Main ------------------------------------------------------------------------------------


def _timed(label: str, action: Callable[[], Any]) -> tuple[Any, float]:
    print(f"{label}...", file=sys.stderr)
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def _demo_instance() -> str:
    answer = json.loads((DEMO_ESTATE / "eu-west-1" / "describe-instances.json").read_text())
    instances = [i for r in answer["Reservations"] for i in r["Instances"]]
    for instance in instances:
        if {"Key": "Name", "Value": DEMO_INSTANCE_NAME} in instance.get("Tags", []):
            return instance["InstanceId"]
    return instances[0]["InstanceId"]


def _alike_classes(builder: EstateBuilder) -> int:
    """Instances the prover can share proofs between are alike in these."""
    return len({(i["SubnetId"], tuple(g["GroupId"] for g in i["SecurityGroups"]),
                 i.get("Platform"), "PublicIpAddress" in i)
                for r in builder.reservations for i in r["Instances"]})


def _directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def prepare_snapshot(size: Size, snapshot: Path, unshared: bool) -> tuple[str, list[str]]:
    """Build and write the estate; one instance id of it, and the estate as table rows."""
    (builder, samples), build_seconds = _timed(
        f"building {size.instances:,} instances", lambda: build_estate(size,
                                                                         unshared=unshared))
    _, write_seconds = _timed(f"writing the snapshot to {snapshot}",
                              lambda: builder.write(snapshot))
    custom_nacls = sum(not nacl["IsDefault"] for nacl in builder.network_acls)
    return samples.get("nat-and-endpoints", next(iter(samples.values()))), [
        "| Estate | Count |", "|---|---:|",
        f"| Instances | {len(builder.reservations):,} |",
        f"| Subnets | {len(builder.subnets):,} |",
        f"| VPCs | {len(builder.vpcs):,} |",
        f"| Security groups | {len(builder.security_groups):,} |",
        f"| Route tables | {len(builder.route_tables):,} |",
        f"| Network ACLs (custom) | {len(builder.network_acls):,} ({custom_nacls:,}) |",
        f"| NAT gateways | {len(builder.nat_gateways):,} |",
        f"| Interface endpoints | {len(builder.vpc_endpoints):,} |",
        f"| Distinct (subnet, groups, platform, public IP) | {_alike_classes(builder):,} |",
        f"| Build / write time | {build_seconds:.1f} s / {write_seconds:.1f} s |",
        f"| Snapshot size | {_size_text(_directory_size(snapshot))} |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"a smaller estate ({QUICK.instances:,} instances) for development")
    parser.add_argument("--unshared", action="store_true",
                        help="vary groups and platform per instance (worst case for the "
                        "prover's sharing of proofs between alike instances)")
    parser.add_argument("--repeat", type=int, default=5, metavar="N",
                        help="runs per scenario (default 5)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="write the snapshot to DIR and keep it (default: a temp dir)")
    parser.add_argument("--profile", action="store_true",
                        help="profile the fleet audit even when it meets its target")
    parser.add_argument("--top", type=int, default=20, metavar="N",
                        help="hot spots to list when profiling (default 20)")
    parser.add_argument("--skip-live", action="store_true",
                        help="skip counting the API calls against moto")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    failures: list[str] = []

    with tempfile.TemporaryDirectory(prefix="ssm-auditor-bench-") as temp:
        work = Path(temp)
        snapshot = args.keep or work / "snapshot"
        fleet_instance, estate_lines = prepare_snapshot(size, snapshot, args.unshared)

        scenarios = [
            Scenario(f"Fleet `--all` ({size.instances:,} instances, sessions encrypted "
                     "with KMS and logged to S3)",
                     ["--all", "--snapshot", str(snapshot), "--format", "json"],
                     wall_target=3.5, rss_target=1024 * MiB, expect_instances=size.instances),
            Scenario(f"One `--instance` of the {size.instances:,}-instance snapshot",
                     ["--instance", fleet_instance, "--snapshot", str(snapshot), "--format",
                      "json"], wall_target=1.0, expect_instances=1),
            Scenario(f"One `--instance --operators` ({OPERATOR_ROLES:,} roles)",
                     ["--instance", fleet_instance, "--snapshot", str(snapshot), "--operators",
                      "--format", "json"], wall_target=2.0, expect_instances=1),
            Scenario("One `--instance` of `demo/estate`",
                     ["--instance", _demo_instance(), "--snapshot", str(DEMO_ESTATE),
                      "--format", "json"], wall_target=0.5, expect_instances=1),
            # The plan proves itself: it re-audits what it changes, neighbours included.
            Scenario(f"Fleet `--all --plan` ({size.instances:,} instances)",
                     ["--all", "--snapshot", str(snapshot), "--format", "json", "--plan",
                      str(work / "plan.json")],
                     wall_target=15.0, rss_target=1024 * MiB, expect_instances=size.instances),
        ]
        run_cli(scenarios[3].args, work / "warm-up.json", work / "bytecode")  # compile once
        for scenario in scenarios:
            print(f"measuring {scenario.name}", file=sys.stderr)
            measure(scenario, max(1, args.repeat), work)
            if not scenario.passed:
                failures.append(scenario.name)

        profile: tuple[list[tuple[str, float]], str] | None = None
        if args.profile or not scenarios[0].passed:
            try:
                profile, _ = _timed("profiling the fleet audit", lambda: profile_fleet(
                    snapshot, args.top))
            except Exception as error:  # the audit itself is broken: already reported
                print(f"  profiling failed: {type(error).__name__}: {error}", file=sys.stderr)

        live: list[LiveCount] = []
        paginated: set[str] = set()
        problems: list[str] = []
        if not args.skip_live:
            try:
                live, _ = _timed("counting API calls against moto (1 and 500 instances)",
                                 lambda: count_live_calls((1, 500)))
            except ImportError as error:
                problems = [f"cannot count API calls: {error} (pip install -r "
                            "requirements-dev.txt, or pass --skip-live)"]
            except Exception as error:
                problems = [f"counting API calls failed: {type(error).__name__}: {error}"]
            else:
                paginated = paginated_operations()
                problems = check_call_growth(live[0], live[1], paginated)
            failures += problems

    print(f"\n## Benchmark ({'quick' if args.quick else 'full'} size"
          f"{', unshared' if args.unshared else ''}, Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs)\n")
    print("\n".join(estate_lines))
    print("\n### Audit as a process (`python -m auditor ... --format json`)\n")
    print(performance_table(scenarios))
    print("\nPass/fail is judged on the median wall time and the highest peak RSS. CPU is "
          "user + system time of the audit process: on a busy machine it shows what the wall "
          f"time would be without contention (load average now: {os.getloadavg()[0]:.1f}).")
    if profile:
        phases, hotspots = profile
        print("\n### Fleet audit by phase (in-process, one run)\n")
        print("| Phase | Wall |\n|---|---:|")
        for name, seconds in phases:
            print(f"| {name} | {seconds:.2f} s |")
        print("\n### Hot spots of the fleet audit (cProfile of one in-process run; "
              "cProfile slows it down)\n")
        print(hotspots)
    if live:
        print("\n### API calls of a live `--all` audit (moto server, one region)\n")
        print(calls_table(live[0], live[1], paginated))
    if live or problems:
        verdict = ("FAIL: " + "; ".join(problems)) if problems else (
            "PASS: no count grows with the number of instances beyond pagination")
        print(f"\n{verdict}")
    print(f"\n**Overall: {'FAIL (' + ', '.join(failures) + ')' if failures else 'PASS'}**")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
