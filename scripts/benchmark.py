"""Benchmark the auditor on a large synthetic estate, and count the API calls of a live audit.

    python scripts/benchmark.py            # full size: 10,000 instances, 1,000 subnets,
                                           # 200 VPCs, 3,000 security groups
    python scripts/benchmark.py --quick    # a tenth of that, for development

What it does, in order:

1. Builds the synthetic estate (``builders/fleet_estate.py``) and writes it as a snapshot (a
   temporary directory unless ``--keep DIR``).
2. Runs the audit as whole processes (``python -m auditor ... --format json``) and measures wall
   time and peak RSS of each: the whole fleet (also with ``--format html``), one instance of
   that fleet, and one instance of the bundled demo estate. Exit status 2 of an audit (an
   error) fails the benchmark.
3. The HTML report: what rendering it costs in-process (against the JSON report) and as a
   command, the size of the fleet's page, and, in headless Chromium, when the demo's and the
   fleet's pages are ready, their main thread's CPU and how long opening an instance takes
   (``--skip-html``, ``--skip-browser``).
4. Reading: the fleet snapshot read in-process, the shapes check of its answers alone, and a
   process's start without the shapes cache against one with it.
5. Profiles the fleet audit in-process with cProfile when it misses its target (or always,
   with ``--profile``) and prints the hot spots.
6. Starts a moto server on 127.0.0.1, seeds a small estate with 1 instance and then with 500,
   runs the live collection in-process and counts the API calls per operation (botocore
   ``before-call`` events). The counts may grow with the number of instances only by pages.

``--unshared`` varies security groups and platform per instance instead of per workload: the
worst case for the prover, which proves instances alike in subnet, groups, platform and public
IP only once.

The hub-and-spoke variant (measured too, unless ``--skip-hub-and-spoke``): the same number of
instances in 200 spoke VPCs (20 with ``--quick``) behind two transit gateways, each with a hub
VPC holding a central NAT gateway and central interface endpoints
(``fleet_estate.build_hub_and_spoke``); every path crosses a transit gateway both ways.

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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builders.estate_builder import EstateBuilder  # noqa: E402
from builders.fleet_estate import (  # noqa: E402
    FULL,
    OPERATOR_ROLES,
    QUICK,
    Size,
    build_estate,
    build_hub_and_spoke,
)

DEMO_ESTATE = ROOT / "demo" / "estate"
DEMO_INSTANCE_NAME = "db-isolated-endpoints"  # the demo instance with the most to prove
AUDIT_ERROR = 2  # the CLI's exit status for bad usage or unusable input
MiB = 1024 * 1024
FLEET_TARGET = 3.5  # seconds, with Session Manager preferences using a KMS key and S3 logging
HTML_ADDED_TARGET = 1.0  # seconds --format html may add to the fleet audit
HTML_MAX_BYTES = 25 * MiB  # the 10,000-instance page
DEMO_PAGE_TARGET = 2.0  # seconds for the demo page to be ready in headless Chromium


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
    """An error message when the report is not what the scenario asked for."""
    if path.suffix == ".html":
        page = path.read_text(encoding="utf-8")
        count = page.count('<tr data-v="')
        if not page.startswith("<!DOCTYPE html>") or path.stat().st_size >= HTML_MAX_BYTES:
            return f"not a page under {HTML_MAX_BYTES // MiB} MiB ({_size_text(len(page))})"
    else:
        try:
            document = json.loads(path.read_text())
            count = len(document["instances"])
        except (ValueError, KeyError, TypeError) as error:
            return f"the JSON report does not parse: {error}"
    if scenario.expect_instances is not None and count != scenario.expect_instances:
        return f"the report holds {count} instances, not {scenario.expect_instances}"
    return ""


def _output_name(args: list[str]) -> str:
    return "report.html" if "html" in args else "report.json"


def measure(scenario: Scenario, repeat: int, work: Path) -> None:
    out = work / _output_name(scenario.args)
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
    """Wall time of each stage of ``--all --format json`` (and of the HTML report), in this
    process, the cyclic garbage collector off as the command runs (``cli.main``)."""
    import gc

    gc.disable()
    try:
        return _phase_times(snapshot)
    finally:
        gc.enable()


def _phase_times(snapshot: Path) -> list[tuple[str, float]]:
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
    from auditor.reports import html_report

    start = time.perf_counter()
    html_report.render(report)
    phases.append(("render HTML report", time.perf_counter() - start))
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
            add_shared_network(ec2, layout.vpc_id)
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


def add_shared_network(ec2: Any, vpc_id: str) -> None:
    """A hub VPC joined to the layout's VPC by a transit gateway (two route tables) and by a
    peering connection: the calls beyond the VPC are counted with something to read (one
    ``SearchTransitGatewayRoutes`` per gateway route table, whatever the instances)."""
    hub = ec2.create_vpc(CidrBlock="10.100.0.0/16")["Vpc"]["VpcId"]
    hub_subnet = ec2.create_subnet(VpcId=hub, CidrBlock="10.100.0.0/28",
                                   AvailabilityZone=f"{LIVE_REGION}b")["Subnet"]["SubnetId"]
    spoke_subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
                                        )["Subnets"][0]["SubnetId"]
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    tables = [ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)
              ["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"] for _ in range(2)]
    for vpc, subnet, table in ((hub, hub_subnet, tables[0]), (vpc_id, spoke_subnet, tables[1])):
        attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet],
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=table,
                                                  TransitGatewayAttachmentId=attachment)
    ec2.create_vpc_peering_connection(VpcId=vpc_id, PeerVpcId=hub)


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


# --- The HTML report --------------------------------------------------------------------------


def render_times(snapshot: Path, repeat: int) -> tuple[float, float]:
    """Median CPU seconds of rendering the fleet's JSON and HTML reports, in this process."""
    import gc

    from auditor.audit import audit_raws
    from auditor.reports import html_report, json_report
    from auditor.sources.description import SourceDescription
    from auditor.sources.snapshot import read_snapshot

    gc.disable()  # as the command runs
    try:
        report, _ = audit_raws(read_snapshot(snapshot), None,
                               SourceDescription("snapshot", path=str(snapshot)))
        times: dict[str, list[float]] = {"json": [], "html": []}
        for _ in range(repeat):
            for name, module in (("json", json_report), ("html", html_report)):
                start = time.process_time()
                module.render(report)
                times[name].append(time.process_time() - start)
    finally:
        gc.enable()
    return statistics.median(times["json"]), statistics.median(times["html"])


@dataclass
class PageTiming:
    name: str
    ready: list[float] = field(default_factory=list)  # DOMContentLoaded, seconds
    wall: list[float] = field(default_factory=list)  # navigation to load event, seconds
    cpu: list[float] = field(default_factory=list)  # the renderer's main thread, seconds
    opened: list[float] = field(default_factory=list)  # a section built and drawn, seconds
    nodes: int = 0
    errors: list[str] = field(default_factory=list)


# Click the last row's link and wait until its section is built, opened and drawn.
_OPEN_LAST = """new Promise(done => {
    const links = document.querySelectorAll('#instance-table tbody a');
    const link = links[links.length - 1];
    const id = link.getAttribute('href').slice(1);
    const start = performance.now();
    link.click();
    const check = () => {
        const section = document.getElementById(id);
        if (section && section.dataset.drawn !== undefined) {
            requestAnimationFrame(() => done((performance.now() - start) / 1000));
        } else { setTimeout(check, 2); }
    };
    check();
})"""


def measure_pages(pages: list[tuple[str, Path]], repeat: int) -> list[PageTiming] | str:
    """Each page opened ``repeat`` times in a fresh tab of headless Chromium; a reason when
    there is no browser."""
    from builders import headless_chromium

    executable = headless_chromium.find_chromium()
    if executable is None:
        return "no Chromium (apt-get install chromium, or pass --skip-browser)"
    timings = []
    with headless_chromium.browser(executable) as browser:
        for name, path in pages:
            timing = PageTiming(name)
            for _ in range(repeat):
                page = browser.open(headless_chromium.file_url(path))
                metrics = browser.metrics(page)
                timing.ready.append(browser.timing(page)["domContentLoadedEventEnd"] / 1000)
                timing.wall.append(page.seconds)
                timing.cpu.append(metrics["ThreadTime"])
                timing.nodes = int(metrics["Nodes"])
                timing.opened.append(browser.evaluate(page, _OPEN_LAST))
                browser.collect(page)
                timing.errors += page.errors
            timings.append(timing)
    return timings


def html_table(fleet_json: Scenario, fleet_html: Scenario, rendered: tuple[float, float],
               size: int, instances: int, pages: list[PageTiming] | str
               ) -> tuple[str, list[str]]:
    """The HTML report's figures as Markdown, and what missed its target."""
    failures = []
    lines = ["| Measure | Median | Target | Result |", "|---|---:|---|---|"]

    def row(measure: str, value: str, target: str, passed: bool | None) -> None:
        lines.append(f"| {measure} | {value} | {target} | "
                     f"{'' if passed is None else 'PASS' if passed else 'FAIL'} |")
        if passed is False:
            failures.append(measure)

    json_cpu, html_cpu = rendered
    row("Render the fleet's report in-process (CPU): JSON / HTML",
        f"{json_cpu:.2f} s / {html_cpu:.2f} s", f"HTML < {HTML_ADDED_TARGET:g} s",
        html_cpu < HTML_ADDED_TARGET)
    if fleet_json.runs and fleet_html.runs:
        added = fleet_html.median - fleet_json.median
        cpu = (statistics.median(r.cpu for r in fleet_html.runs)
               - statistics.median(r.cpu for r in fleet_json.runs))
        row("`--format html` instead of `json`, whole command: wall (CPU)",
            f"{added:+.2f} s ({cpu:+.2f} s)", f"< +{HTML_ADDED_TARGET:g} s",
            added < HTML_ADDED_TARGET or cpu < HTML_ADDED_TARGET)
    row(f"Size of the {instances:,}-instance page", _size_text(size),
        f"< {HTML_MAX_BYTES // MiB} MiB", size < HTML_MAX_BYTES)
    if isinstance(pages, str):
        lines.append(f"\nBrowser: not measured: {pages}")
        return "\n".join(lines), failures
    for timing in pages:
        demo = timing.name.startswith("demo")
        ready = statistics.median(timing.ready)
        row(f"{timing.name}: DOM ready (DOMContentLoaded)", f"{ready:.2f} s",
            f"< {DEMO_PAGE_TARGET:g} s" if demo else "stated", ready < DEMO_PAGE_TARGET
            if demo else None)
        row(f"{timing.name}: load event (wall) / main-thread CPU",
            f"{statistics.median(timing.wall):.2f} s / {statistics.median(timing.cpu):.2f} s",
            "", None)
        row(f"{timing.name}: DOM nodes", f"{timing.nodes:,}", "", None)
        row(f"{timing.name}: open the last instance (built, drawn)",
            f"{statistics.median(timing.opened) * 1000:.0f} ms", "", None)
        row(f"{timing.name}: console errors", str(len(timing.errors)), "0",
            not timing.errors)
    return "\n".join(lines), failures


# --- Main ------------------------------------------------------------------------------------


# --- Reading a snapshot: the budget, the JSON, the shapes check (issue 17) ------------------------


def reading_times(snapshot: Path, repeat: int, work: Path) -> list[tuple[str, str]]:
    """What reading costs, in CPU seconds (steady on a busy machine): the fleet snapshot read
    in-process (best of ``repeat``), the shapes check of its answers alone (warm), and a
    process's first start without the shapes cache (botocore's models read) against a start
    with it (medians)."""
    from auditor.sources import api_calls
    from auditor.sources.shapes import check_answer
    from auditor.sources.snapshot import read_snapshot

    reads, checks = [], []
    raws: list = []
    for _ in range(repeat):
        start = time.process_time()
        raws = read_snapshot(snapshot)
        reads.append(time.process_time() - start)
        start = time.process_time()
        for raw in raws:
            for kind, answer in raw.answers.items():
                check_answer(api_calls.BY_KIND[kind], answer, kind)
        checks.append(time.process_time() - start)
    demo = ["--instance", _demo_instance(), "--snapshot", str(DEMO_ESTATE), "--format", "json"]
    cold, warm = [], []
    previous = os.environ.get("SSM_AUDITOR_CACHE_DIR")
    try:
        for index in range(repeat):
            os.environ["SSM_AUDITOR_CACHE_DIR"] = str(work / f"shapes-cache-{index}")
            cold.append(run_cli(demo, work / "cold.json", work / "bytecode").cpu)
            warm.append(run_cli(demo, work / "warm.json", work / "bytecode").cpu)
    finally:
        if previous is None:
            os.environ.pop("SSM_AUDITOR_CACHE_DIR", None)
        else:
            os.environ["SSM_AUDITOR_CACHE_DIR"] = previous
    return [
        ("Read the fleet snapshot in-process, CPU (files, budget, JSON, shapes check)",
         f"{min(reads):.2f} s"),
        ("of which the shapes check of every answer, CPU (botocore's output shapes, warm)",
         f"{min(checks):.2f} s"),
        ("One `--instance` of `demo/estate`, CPU, first start (no shapes cache)",
         f"{statistics.median(cold):.2f} s"),
        ("The same with the shapes cache", f"{statistics.median(warm):.2f} s"),
    ]


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


def _demo_instance_count() -> int:
    return sum(len(reservation["Instances"])
               for answer in DEMO_ESTATE.glob("*/describe-instances.json")
               for reservation in json.loads(answer.read_text())["Reservations"])


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
    return (samples.get("nat-and-endpoints", next(iter(samples.values()))),
            _estate_rows(builder, "Estate", build_seconds, write_seconds, snapshot))


def prepare_hub_and_spoke(size: Size, snapshot: Path) -> tuple[str, list[str]]:
    (builder, sample), build_seconds = _timed(
        f"building {size.instances:,} instances behind transit gateways",
        lambda: build_hub_and_spoke(size))
    _, write_seconds = _timed(f"writing the snapshot to {snapshot}",
                              lambda: builder.write(snapshot))
    return sample, _estate_rows(builder, "Hub-and-spoke estate", build_seconds, write_seconds,
                                snapshot)


def _estate_rows(builder: EstateBuilder, title: str, build_seconds: float,
                 write_seconds: float, snapshot: Path) -> list[str]:
    custom_nacls = sum(not nacl["IsDefault"] for nacl in builder.network_acls)
    return [
        f"| {title} | Count |", "|---|---:|",
        f"| Instances | {len(builder.reservations):,} |",
        f"| Subnets | {len(builder.subnets):,} |",
        f"| VPCs | {len(builder.vpcs):,} |",
        f"| Security groups | {len(builder.security_groups):,} |",
        f"| Route tables | {len(builder.route_tables):,} |",
        f"| Network ACLs (custom) | {len(builder.network_acls):,} ({custom_nacls:,}) |",
        f"| NAT gateways | {len(builder.nat_gateways):,} |",
        f"| Interface endpoints | {len(builder.vpc_endpoints):,} |",
        f"| Transit gateways (attachments, route tables) | {len(builder.transit_gateways):,} "
        f"({len(builder.transit_gateway_attachments):,}, "
        f"{len(builder.transit_gateway_route_tables):,}) |",
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
    parser.add_argument("--skip-html", action="store_true",
                        help="skip the HTML report's figures (render times, pages in Chromium)")
    parser.add_argument("--skip-browser", action="store_true",
                        help="measure the HTML report without opening it in Chromium")
    parser.add_argument("--skip-hub-and-spoke", action="store_true",
                        help="skip the hub-and-spoke variant")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    failures: list[str] = []

    with tempfile.TemporaryDirectory(prefix="ssm-auditor-bench-") as temp:
        work = Path(temp)
        snapshot = args.keep or work / "snapshot"
        fleet_instance, estate_lines = prepare_snapshot(size, snapshot, args.unshared)
        hub_snapshot = work / "hub-and-spoke"
        if not args.skip_hub_and_spoke:
            spoke_instance, hub_lines = prepare_hub_and_spoke(size, hub_snapshot)
            estate_lines += ["", *hub_lines]

        scenarios = [
            Scenario(f"Fleet `--all` ({size.instances:,} instances, sessions encrypted "
                     "with KMS and logged to S3)",
                     ["--all", "--snapshot", str(snapshot), "--format", "json"],
                     wall_target=FLEET_TARGET, rss_target=1024 * MiB,
                     expect_instances=size.instances),
            Scenario(f"Fleet `--all --format html` ({size.instances:,} instances)",
                     ["--all", "--snapshot", str(snapshot), "--format", "html"],
                     wall_target=FLEET_TARGET + HTML_ADDED_TARGET, rss_target=1024 * MiB,
                     expect_instances=size.instances),
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
        if not args.skip_hub_and_spoke:
            scenarios += [
                Scenario(f"Hub-and-spoke fleet `--all` ({size.instances:,} instances, "
                         f"{size.vpcs} spokes)",
                         ["--all", "--snapshot", str(hub_snapshot), "--format", "json"],
                         wall_target=4.0, rss_target=1024 * MiB,
                         expect_instances=size.instances),
                # The spoke's VPC and the hub's: what its gateway leads to is read too.
                Scenario("One `--instance` of the hub-and-spoke snapshot",
                         ["--instance", spoke_instance, "--snapshot", str(hub_snapshot),
                          "--format", "json"], wall_target=1.0, expect_instances=1)]
        run_cli(scenarios[4].args, work / "warm-up.json", work / "bytecode")  # compile once
        for scenario in scenarios:
            print(f"measuring {scenario.name}", file=sys.stderr)
            measure(scenario, max(1, args.repeat), work)
            if not scenario.passed:
                failures.append(scenario.name)

        html_lines = ""
        if not args.skip_html:
            fleet_page = work / "report.html"  # the last run of the HTML scenario
            size_of_page = fleet_page.stat().st_size if fleet_page.exists() else 0
            demo_page = work / "demo.html"
            run_cli(["--all", "--snapshot", str(DEMO_ESTATE), "--format", "html"], demo_page,
                    work / "bytecode")
            rendered, _ = _timed("rendering the fleet's reports in-process",
                                 lambda: render_times(snapshot, max(1, min(args.repeat, 3))))
            pages: list[PageTiming] | str = "--skip-browser"
            if not args.skip_browser:
                pages, _ = _timed("opening the pages in headless Chromium", lambda: measure_pages(
                    [(f"demo page ({_demo_instance_count()} instances)", demo_page),
                     (f"fleet page ({size.instances:,} instances)", fleet_page)],
                    max(1, min(args.repeat, 3))))
            html_lines, missed = html_table(scenarios[0], scenarios[1], rendered,
                                            size_of_page, size.instances, pages)
            failures += missed

        reading, _ = _timed("measuring the snapshot reader", lambda: reading_times(
            snapshot, max(1, min(args.repeat, 3)), work))

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
    if html_lines:
        print("\n### The HTML report (`--format html`)\n")
        print(html_lines)
        print("\nPages are opened from file in a fresh tab of headless Chromium (the flags of "
              "builders/headless_chromium.py); main-thread CPU is the renderer's own time, "
              "steady where wall time depends on the machine's load.")
    print("\n### Reading a snapshot\n")
    print("| Measure | Value |\n|---|---:|")
    for name, value in reading:
        print(f"| {name} | {value} |")
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
