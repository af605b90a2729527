"""Throughput and memory of `python -m auditor logs` on a generated, realistic agent log.

    python scripts/benchmark_logs.py [--mb 200] [--keep FILE]

Writes a log of mostly INFO lines (health checks, associations, message gateway, debug) with a
failure record now and then (endpoint timeouts with `caused by:` lines, AccessDenied with a
tab-indented status line, throttling, credential refresher back-off), then runs the command in
a child process and reports MB/s and the child's peak RSS, for the full size and a tenth of it:
the two peaks should be about equal (memory does not grow with the input).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_INFO = (
    "INFO [HealthCheck] HealthCheck reporting agent health.",
    "INFO [MessageService] [Association] Schedule manager refreshed with 0 associations, "
    "0 new associations associated",
    "INFO [ssm-agent-worker] [MessageService] [MGSInteractor] listening reply.",
    "DEBUG [MessageService] [MessageHandler] Processing message {id} for document "
    "AWS-RunShellScript",
    "INFO [LongRunningPluginsManager] There are no long running plugins currently getting "
    "executed - skipping their healthcheck",
    "INFO [ssm-agent-worker] [MessageService] [MGSInteractor] send failed reply thread done",
    "DEBUG [ssm-session-worker] [{id}] [DataBackend] Sending message with seq number: 42",
    "INFO [CredentialRefresher] Next credential rotation will be in 29.99 minutes",
)
_FAILURES = (
    ("ERROR [HealthCheck] error when calling AWS APIs. error details - RequestError: send "
     "request failed",
     'caused by: Post "https://ssm.eu-west-1.amazonaws.com/": dial tcp 10.0.1.5:443: i/o '
     "timeout"),
    ("ERROR [HealthCheck] error when calling AWS APIs. error details - AccessDeniedException: "
     "User: arn:aws:sts::111122223333:assumed-role/app/i-0123456789abcdef0 is not authorized to "
     "perform: ssm:UpdateInstanceInformation on resource: arn:aws:ec2:eu-west-1:111122223333:"
     "instance/i-0123456789abcdef0",
     "\tstatus code: 400, request id: 0c1f7a8e-1b2c-4d5e-8f90-123456789abc"),
    ("ERROR [MessageService] error when calling AWS APIs. error details - ThrottlingException: "
     "Rate exceeded",),
    ("ERROR [CredentialRefresher] Retrieve credentials produced error: no valid credentials "
     "could be retrieved for ec2 identity",
     "INFO [CredentialRefresher] Sleeping for 4s before retrying retrieve credentials"),
)


def generate(path: Path, megabytes: int, failure_rate: float = 0.001) -> int:
    """Write the log; return its size in bytes."""
    rng = random.Random(7)
    moment = dt.datetime(2026, 1, 1)
    target = megabytes * 1_000_000
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        while written < target:
            batch = []
            for _ in range(10_000):
                moment += dt.timedelta(milliseconds=rng.randint(1, 900))
                stamp = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{rng.randint(0, 9999):04d}"
                if rng.random() < failure_rate:
                    head, *rest = rng.choice(_FAILURES)
                    batch.append(f"{stamp} {head}")
                    batch.extend(line if line.startswith(("\t", "caused")) else
                                 f"{stamp} {line}" for line in rest)
                else:
                    batch.append(f"{stamp} " + rng.choice(_INFO).format(id=rng.getrandbits(48)))
            text = "\n".join(batch) + "\n"
            out.write(text)
            written += len(text)
    return path.stat().st_size


def measure(path: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one `logs --format json` run in a child
    process. CPU time is what the reading costs; wall time also shows a busy machine."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "auditor", "logs", str(path),
                              "--format", "json"], stdout=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"logs exited with {os.waitstatus_to_exitcode(status)}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the big log (MB)")
    parser.add_argument("--keep", metavar="FILE", help="write the big log here and keep it")
    parser.add_argument("--failure-rate", type=float, default=0.001,
                        help="share of lines that start a failure record (1 for an errors.log)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        for megabytes in (max(1, args.mb // 10), args.mb):
            path = Path(args.keep) if args.keep and megabytes == args.mb else \
                Path(folder) / f"agent-{megabytes}.log"
            size = generate(path, megabytes, args.failure_rate)
            seconds, cpu, rss = measure(path)
            rows.append((size / 1e6, seconds, cpu, rss))
    print(f"{'size MB':>8} {'wall s':>7} {'MB/s wall':>10} {'CPU s':>6} {'MB/s CPU':>9} "
          f"{'peak RSS MB':>12}")
    for size, seconds, cpu, rss in rows:
        print(f"{size:8.1f} {seconds:7.2f} {size / seconds:10.1f} {cpu:6.2f} {size / cpu:9.1f} "
              f"{rss:12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
