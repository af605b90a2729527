"""Read agent logs as a stream of candidate records, in bounded memory.

A log is read in binary chunks. Each chunk is screened with fast substring searches
(``bytes.find``, one pass per needle) and only the lines that contain a needle are decoded and
turned into records: the head line of an agent message plus its continuation lines (``caused
by:``, tab-indented ``status code: 400, request id:``, rsyslog's ``#011`` for a tab, XML bodies,
PowerShell error blocks). Syslog, journald and ``amazon-ssm-agent[PID]:`` prefixes are stripped
before a line is interpreted; the verbatim line is kept for evidence.

Everything else (the bulk of a healthy log: INFO lines) is counted, never decoded.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
# A "line" longer than this is cut into pieces of this size: a 500 MB single line (or text with
# no line end at all) must not be held whole, nor decoded whole.
MAX_LINE_BYTES = 1 << 16
EVIDENCE_LINE_CHARS = 500
MAX_CONTINUATIONS = 12
MAX_LOOK_BACK = 12
# Lines kept back at the end of a chunk so a record whose continuation lines fall into the next
# chunk is still read whole.
TAIL_LINES = MAX_CONTINUATIONS + 1
# ...but never more than this: past it the window is read whole and nothing is carried (a
# record split there is read as two), so the memory held stays about CHUNK_BYTES + this.
MAX_CARRY_BYTES = 2 << 20

_PREFIXES = (
    # RFC 3164 syslog: "Oct 12 13:49:56 ip-10-0-0-1 amazon-ssm-agent[1860]: "
    re.compile(r"^(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) \S+ "
               r"(?P<prog>[\w./@-]+)(?:\[\d+\])?: ?"),
    # journald short-iso / rsyslog high precision: "2025-08-14T10:53:16-04:00 [host] prog[1]: "
    re.compile(r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) "
               r"(?:\S+ )?(?P<prog>[\w./@-]+)(?:\[\d+\])?: ?"),
    # the program name alone, as pasted from `journalctl -o cat` with a prefix or from syslog
    re.compile(r"^(?P<ts>)(?P<prog>[\w./@-]*amazon-ssm-agent[\w./@-]*)(?:\[\d+\])?: ?"),
)
_AGENT_TIMESTAMP = re.compile(r"^(\d{4}[-/]\d\d[-/]\d\d \d\d:\d\d:\d\d)(?:[.,]\d+)?")
_LEVEL = re.compile(r"^(?:\d{4}[-/]\d\d[-/]\d\d \d\d:\d\d:\d\d(?:[.,]\d+)? ?)?"
                    r"\s*(?:ERROR|WARN|INFO|DEBUG|TRACE|CRITICAL)\b")
_CONTINUATION = re.compile(
    r"^(?:[ \t+]|#011|caused by\b|status code:|request id:|<|\"http|err:|At line:\d"
    r"|(?:Post|Get|Put|Head) \"?https?://"
    r"|[A-Z][A-Za-z0-9]+(?:Error|Exception): )"
)


class NotText(ValueError):
    """The input holds binary data (NUL bytes), not a text log."""


@dataclass(frozen=True)
class Record:
    """One agent message: its lines verbatim, the same lines without prefixes, its time."""

    raw_lines: tuple[str, ...]
    lines: tuple[str, ...]
    timestamp: str | None
    source: str

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class ReadStats:
    lines: int = 0
    bytes: int = 0
    # counts of the needles given to read_records as `counted`, by name
    counted: dict[str, int] = field(default_factory=dict)
    # whether one of the `markers` given to read_records occurs (searched until one does)
    marked: bool = False
    # the bytes that follow the first occurrence of the `probe` given to read_records
    probed: bytes | None = None
    # lines cut because they were longer than MAX_LINE_BYTES
    cut_lines: int = 0

    def count(self, data: bytes, end: int, counted: dict[str, tuple[bytes, ...]],
              markers: tuple[bytes, ...] = (), probe: bytes = b"") -> None:
        self.lines += data.count(b"\n", 0, end)
        if not self.marked:
            self.marked = any(data.find(marker, 0, end) != -1 for marker in markers)
        if probe and self.probed is None:
            found = data.find(probe, 0, end)
            if found != -1:
                self.probed = data[found + len(probe):found + len(probe) + 8]
        for name, needles in counted.items():
            found = sum(data.count(needle, 0, end) for needle in needles)
            if found:
                self.counted[name] = self.counted.get(name, 0) + found


def strip_prefix(line: str) -> tuple[str, str | None]:
    """The line without a syslog/journald/program prefix, and the prefix's timestamp if any."""
    stripped, timestamp, _program = split_prefix(line)
    return stripped, timestamp


def split_prefix(line: str) -> tuple[str, str | None, str | None]:
    """(the line without its syslog/journald prefix, the prefix's timestamp, its program)."""
    if line[:4].isdigit() and line[4:5] in "-/" and line[10:11] != "T":
        return line, None, None  # the agent's own timestamp first: no prefix
    for pattern in _PREFIXES:
        match = pattern.match(line)
        if match:
            return (line[match.end():].replace("#011", "\t"), match.group("ts") or None,
                    match.group("prog"))
    return line, None, None


def is_foreign(program: str | None, line: str) -> bool:
    """A syslog line another program wrote (sshd, dockerd, cloud-init...) that names the agent
    nowhere (systemd's lines about amazon-ssm-agent.service are kept): its failures are not the
    agent's."""
    return program is not None and "ssm" not in line.lower()


def agent_timestamp(line: str) -> str | None:
    match = _AGENT_TIMESTAMP.match(line)
    return match.group(1).replace("/", "-") if match else None


def is_continuation(stripped: str) -> bool:
    """A line that belongs to the message above it (no timestamp, no level of its own)."""
    if not stripped or stripped[0].isdigit():
        return False
    if _LEVEL.match(stripped):
        return False
    return bool(_CONTINUATION.match(stripped))


def _decode(line: bytes) -> str:
    return line.decode("utf-8", errors="replace").rstrip("\r")


def _utf16_chunks(stream: BinaryIO, first: bytes, stats: ReadStats) -> Iterator[bytes]:
    """PowerShell's `>` writes UTF-16: re-encode it to UTF-8 as it streams."""
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    chunk = first
    while chunk:
        stats.bytes += len(chunk)
        yield decoder.decode(chunk).encode("utf-8")
        chunk = stream.read(CHUNK_BYTES)
    yield decoder.decode(b"", final=True).encode("utf-8")


def _looks_utf16(first: bytes) -> bool:
    """A UTF-16 byte order mark followed by text with a NUL in about every other byte."""
    if first[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return False
    sample = first[2:514]
    return bool(sample) and sample.count(0) >= len(sample) // 4


def _raw_chunks(stream: BinaryIO, stats: ReadStats) -> Iterator[bytes]:
    first = stream.read(CHUNK_BYTES)
    if _looks_utf16(first):
        yield from _utf16_chunks(stream, first, stats)
        return
    if b"\x00" in first[:8192]:
        raise NotText("binary data")
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8):]
    chunk = first
    while chunk:
        stats.bytes += len(chunk)
        yield chunk
        chunk = stream.read(CHUNK_BYTES)


def _chunks(stream: BinaryIO, stats: ReadStats) -> Iterator[bytes]:
    """The stream's bytes in chunks, with classic Mac line ends (a carriage return alone, and no
    line feed in the first chunk) turned into line feeds."""
    chunks = _raw_chunks(stream, stats)
    first = next(chunks, b"")
    if not first:
        return
    if b"\n" in first or b"\r" not in first:
        yield first
        yield from chunks
        return
    held = b""  # a CR at the end of a chunk may be the first half of a CRLF
    for chunk in itertools.chain((first,), chunks):
        chunk = held + chunk
        held = b"\r" if chunk.endswith(b"\r") else b""
        chunk = chunk[:len(chunk) - len(held)]
        yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if held:
        yield b"\n"


def _bounded_lines(chunks: Iterable[bytes], stats: ReadStats) -> Iterator[bytes]:
    """Blocks of complete lines: each block ends with a line feed and carries at most
    MAX_LINE_BYTES after its last one (an unfinished line longer than that is cut into pieces
    of MAX_LINE_BYTES), so what is held between chunks stays bounded."""
    pending = b""
    for chunk in chunks:
        data = pending + chunk if pending else chunk
        last = data.rfind(b"\n")
        body, pending = (data[:last + 1], data[last + 1:]) if last != -1 else (b"", data)
        if len(pending) > MAX_LINE_BYTES:
            pieces = len(pending) // MAX_LINE_BYTES
            stats.cut_lines += 1
            cut = b"\n".join(pending[i * MAX_LINE_BYTES:(i + 1) * MAX_LINE_BYTES]
                             for i in range(pieces)) + b"\n"
            body, pending = body + cut, pending[pieces * MAX_LINE_BYTES:]
        if body:
            yield body
    if pending:
        yield pending + b"\n"


def _line_bounds(data: bytes, position: int) -> tuple[int, int]:
    start = data.rfind(b"\n", 0, position) + 1
    end = data.find(b"\n", position)
    return start, len(data) if end == -1 else end


def _previous_start(data: bytes, start: int) -> int:
    return data.rfind(b"\n", 0, start - 1) + 1 if start > 0 else -1


class _Window:
    """Complete lines of the stream, with lookups by offset and decoded lines cached."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._decoded: dict[int, tuple[str, str, str | None]] = {}

    def line(self, start: int) -> tuple[str, str, str | None, int]:
        """(verbatim, stripped, prefix timestamp, end offset) of the line starting at start."""
        end = self.data.find(b"\n", start)
        end = len(self.data) if end == -1 else end
        if start not in self._decoded:
            raw = _decode(self.data[start:min(end, start + MAX_LINE_BYTES)])
            stripped, prefix_ts, program = split_prefix(raw)
            if is_foreign(program, raw):
                stripped = ""  # read as nothing: neither a failure nor a continuation
            self._decoded[start] = (raw, stripped, prefix_ts)
        raw, stripped, prefix_ts = self._decoded[start]
        return raw, stripped, prefix_ts, end


def _record_at(window: _Window, start: int, source: str) -> tuple[Record, int, int]:
    """The record containing the line at start: (record, head offset, end offset)."""
    head = start
    for _ in range(MAX_LOOK_BACK):
        if head == 0 or not is_continuation(window.line(head)[1]):
            break
        head = _previous_start(window.data, head)
    raw, stripped, prefix_ts, end = window.line(head)
    raws, lines = [raw[:EVIDENCE_LINE_CHARS]], [stripped]
    timestamp = agent_timestamp(stripped) or prefix_ts
    for _ in range(MAX_CONTINUATIONS):
        following = end + 1
        if following >= len(window.data):
            break
        raw, stripped, _ts, next_end = window.line(following)
        if not is_continuation(stripped):
            break
        raws.append(raw[:EVIDENCE_LINE_CHARS])
        lines.append(stripped)
        end = next_end
    return Record(tuple(raws), tuple(lines), timestamp, source), head, end


def _candidates(data: bytes, needles: Iterable[bytes], limit: int) -> list[int]:
    """Sorted start offsets (below limit) of the lines that contain a needle."""
    starts: set[int] = set()
    for needle in needles:
        position = data.find(needle, 0, limit + len(needle))
        while position != -1:
            start, end = _line_bounds(data, position)
            if start < limit:
                starts.add(start)
            position = data.find(needle, end, limit + len(needle))
    return sorted(starts)


class _Scanner:
    """Feeds windows of complete lines; remembers how far records already reached."""

    def __init__(self, needles: tuple[bytes, ...], source: str) -> None:
        self.needles = needles
        self.source = source
        self.read_up_to = 0  # offset in the next window up to which records were read

    def records(self, data: bytes, limit: int) -> Iterator[Record]:
        """Records whose line with a needle starts before limit."""
        window = _Window(data)
        read_up_to = self.read_up_to
        for start in _candidates(data, self.needles, limit):
            if start < read_up_to:
                continue
            record, head, end = _record_at(window, start, self.source)
            if head >= read_up_to:
                yield record
            read_up_to = max(read_up_to, end + 1)
        self.read_up_to = max(0, read_up_to - limit)


def _tail_cut(data: bytes) -> int:
    """Offset of the first of the last TAIL_LINES lines of data (which ends with a newline)."""
    position = len(data) - 1
    for _ in range(TAIL_LINES):
        previous = data.rfind(b"\n", 0, position)
        if previous == -1:
            return 0
        position = previous
    return position + 1


def read_records(stream: BinaryIO, needles: tuple[bytes, ...], source: str, stats: ReadStats,
                 counted: dict[str, tuple[bytes, ...]] | None = None,
                 markers: tuple[bytes, ...] = (), probe: bytes = b"") -> Iterator[Record]:
    """Records around the lines that contain a needle, in file order, each once; the lines
    and the occurrences of the `counted` needles are counted into stats, whether any of the
    `markers` occurs, and what follows the first `probe`."""
    counted = counted or {}
    scanner = _Scanner(needles, source)
    carry = b""
    for block in _bounded_lines(_chunks(stream, stats), stats):
        complete = carry + block if carry else block
        cut = _tail_cut(complete)
        if len(complete) - cut > MAX_CARRY_BYTES:
            cut = len(complete)
        stats.count(complete, cut, counted, markers, probe)
        yield from scanner.records(complete, cut)
        carry = complete[cut:]
    if carry:
        stats.count(carry, len(carry), counted, markers, probe)
        yield from scanner.records(carry, len(carry))
