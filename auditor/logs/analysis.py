"""Read one or more agent logs (or ssm-cli get-diagnostics JSON) into one symptom analysis."""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from auditor.errors import UsageError
from auditor.logs import diagnostics
from auditor.logs.classify import EC2, HYBRID, Classifier, SymptomTally
from auditor.logs.reader import MAX_LINE_BYTES, NotText, ReadStats, read_records
from auditor.logs.symptoms import AGENT_MARKERS, NODE_PROBE, SCREEN, WORKING

SCHEMA_VERSION = 1
_PEEK_BYTES = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
# A compressed log that expands more than this many times (and beyond the floor below) is
# refused: agent logs compress 10 to 100 times; a gzip bomb far more.
MAX_GZIP_RATIO = 1000
MIN_GZIP_REFUSED_BYTES = 256 << 20


@dataclass
class LogAnalysis:
    classifier: Classifier = field(default_factory=Classifier)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, str]] = field(default_factory=list)
    working: dict[str, str] = field(default_factory=dict)  # what works -> the line that shows it
    notes: list[str] = field(default_factory=list)
    working_lines: dict[str, int] = field(default_factory=dict)

    @property
    def primary(self) -> str:
        return self.classifier.primary()

    @property
    def symptoms(self) -> list[SymptomTally]:
        return self.classifier.ordered()

    @property
    def lines_read(self) -> int:
        return sum(item.get("lines", 0) for item in self.inputs)

    @property
    def instance_ids(self) -> list[str]:
        return self.classifier.facts.get("instance_ids", [])

    def as_dict(self) -> dict[str, Any]:
        facts = self.classifier.facts
        return {"schema_version": SCHEMA_VERSION, "primary": self.primary,
                "symptoms": [tally.as_dict() for tally in self.symptoms],
                "inputs": self.inputs, "lines_read": self.lines_read,
                "agent_versions": facts.get("agent_versions", []),
                "instance_ids": self.instance_ids, "backoff": facts.get("backoff", []),
                "working": self.working, "diagnostics": self.checks, "notes": self.notes}


def _open(path: str) -> BinaryIO:
    """A log to read: standard input ("-"), a regular file, or a named pipe (as `<(zcat f.gz)`
    gives), which is opened without waiting for a writer; devices and sockets are refused."""
    if path == "-":
        return sys.stdin.buffer
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error})") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path} is a directory: name the log files in it "
                         "(amazon-ssm-agent.log, errors.log, hibernate.log)")
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise UsageError(f"{path} is not a regular file (a device or a socket): pass a log "
                         "file, or - for standard input")
    try:
        if stat.S_ISFIFO(mode):
            return open_fifo(path)
        return open(path, "rb")
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error})") from None


def open_fifo(path: str) -> BinaryIO:
    """A named pipe opened without blocking (no writer yet: it reads as empty, at once), then
    read blocking while a writer writes."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


class _Counting(io.RawIOBase):
    """A stream read from `source`, counting the bytes that pass; `check` runs after each read."""

    def __init__(self, source: BinaryIO, check: Callable[[], None] | None = None) -> None:
        self.source = source
        self.check = check
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.source.read(len(buffer))
        buffer[:len(data)] = data
        self.count += len(data)
        if self.check is not None:
            self.check()
        return len(data)


def _gunzipped(stream: BinaryIO, name: str) -> BinaryIO:
    """A rotated log (syslog.2.gz) read through gzip, refused once it expands more than
    MAX_GZIP_RATIO times what it consumed (beyond MIN_GZIP_REFUSED_BYTES)."""
    compressed = _Counting(stream)

    def refuse_a_bomb() -> None:
        if inflated.count > MIN_GZIP_REFUSED_BYTES and \
                inflated.count > MAX_GZIP_RATIO * max(1, compressed.count):
            raise UsageError(f"{name} expands more than {MAX_GZIP_RATIO} times its compressed "
                             "size: refused (a gzip bomb?)")

    inflated = _Counting(gzip.GzipFile(fileobj=compressed, mode="rb"), refuse_a_bomb)
    return io.BufferedReader(inflated, MAX_LINE_BYTES)  # type: ignore[return-value]


def _peek(stream: BinaryIO) -> bytes:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return peek(_PEEK_BYTES)[:_PEEK_BYTES]
    return b""


def _read_diagnostics(analysis: LogAnalysis, stream: BinaryIO, name: str) -> bool:
    document = stream.read(diagnostics.MAX_DOCUMENT_BYTES)
    try:
        evidence = diagnostics.parse(document, name)
    except ValueError:
        return False
    for record, fallback in evidence.records:
        analysis.classifier.feed(record, forced=fallback)
    analysis.checks.extend(evidence.checks)
    for what, line in evidence.working.items():
        analysis.working.setdefault(what, line)
    analysis.notes.extend(evidence.notes)
    analysis.inputs.append({"name": name, "kind": "ssm-cli get-diagnostics",
                            "checks": len(evidence.checks), "bytes": len(document)})
    return True


def _read_log(analysis: LogAnalysis, stream: BinaryIO, name: str, head: bytes) -> None:
    stats = ReadStats()
    if head.startswith(_GZIP_MAGIC):  # a rotated log (syslog.2.gz): read through gzip
        stream = _gunzipped(stream, name)
    try:
        for record in read_records(stream, SCREEN, name, stats, WORKING, AGENT_MARKERS,
                                   NODE_PROBE):
            analysis.classifier.feed(record)
    except NotText:
        raise UsageError(f"{name} holds binary data, not a text log") from None
    except (OSError, EOFError, zlib.error) as error:
        reason = getattr(error, "strerror", None) or error
        raise UsageError(f"{name}: read failed ({reason})") from None
    analysis.inputs.append({"name": name, "kind": "agent log", "lines": stats.lines,
                            "bytes": stats.bytes})
    if stats.probed is not None:  # "[instanceID=i-0..." on EC2, "[instanceID=mi-0..." on-prem
        analysis.classifier.node_kinds.add(HYBRID if stats.probed.startswith(b"mi-") else EC2)
    if stats.cut_lines:
        analysis.notes.append(f"{name}: {stats.cut_lines} line(s) longer than "
                              f"{MAX_LINE_BYTES // 1024} KiB were cut into pieces")
    for what, count in stats.counted.items():
        analysis.working_lines[what] = analysis.working_lines.get(what, 0) + count
    if stats.bytes == 0:
        analysis.notes.append(f"{name} is empty: it shows no failure, and no sign of a running "
                              "agent either")
    elif not stats.marked:
        analysis.notes.append(f"{name}: no line looks like an SSM Agent log line (no log level, "
                              "no agent name): is it the right file? What it shows says "
                              "nothing about the agent")


def analyse(paths: list[str], names: dict[str, str] | None = None) -> LogAnalysis:
    """Every path read in turn ("-" is standard input); UsageError when one cannot be read.
    ``names``: how to call a path in the report (a copy of standard input, say)."""
    analysis = LogAnalysis()
    for path in paths:
        name = (names or {}).get(path) or ("<stdin>" if path == "-" else path)
        stream = _open(path)
        try:
            head = _peek(stream)
            if diagnostics.looks_like_diagnostics(head) and _read_diagnostics(
                    analysis, stream, name):
                continue
            if diagnostics.looks_like_diagnostics(head):
                raise UsageError(f"{name} looks like ssm-cli get-diagnostics JSON but does not "
                                 "parse: pass the output of `ssm-cli get-diagnostics --output "
                                 "json` whole")
            _read_log(analysis, stream, name, head)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
    other = analysis.classifier.other_failures()
    if other is not None:
        exhausted = other.fields.get("exhausted")
        what = (f"resource exhaustion inside the OS ({', '.join(exhausted)}) and "
                if exhausted else "")
        analysis.notes.append(f"{other.count} other error line(s) outside the symptom catalogue, "
                              f"{what}likely consequences of the failures above; first: "
                              f"{other.evidence[0].splitlines()[0][:200]}")
    node_note = analysis.classifier.node_dependent_note()
    if node_note:
        analysis.notes.append(node_note)
    for service, count in sorted(analysis.working_lines.items()):
        analysis.working.setdefault(service, f"{count} log line(s) show it working")
    return analysis
