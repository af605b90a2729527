"""The logs entrance under hostile input: bounded memory, no blocking, one line on refusal."""

from __future__ import annotations

import gzip
import io
import os
import stat
import threading
import time
import tracemalloc

import pytest

from auditor.cli import main
from auditor.logs import analysis as analysis_mod
from auditor.logs.analysis import analyse
from auditor.logs.reader import (
    CHUNK_BYTES,
    MAX_CARRY_BYTES,
    ReadStats,
    read_records,
)
from auditor.logs.symptoms import SCREEN
from tests.checks import assert_one_line_error


class _Endless(io.RawIOBase):
    """`total` bytes of `piece` repeated, produced as read (never held whole)."""

    def __init__(self, total: int, piece: bytes) -> None:
        self.left, self.piece, self.offset = total, piece, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        size = min(len(buffer), self.left)
        repeated = self.piece * (size // len(self.piece) + 2)
        buffer[:size] = repeated[self.offset:self.offset + size]
        self.offset = (self.offset + size) % len(self.piece)
        self.left -= size
        return size


def _peak_while_reading(total: int, piece: bytes) -> tuple[int, ReadStats, int]:
    stats = ReadStats()
    stream = io.BufferedReader(_Endless(total, piece), CHUNK_BYTES)
    tracemalloc.start()
    try:
        records = sum(1 for _ in read_records(stream, SCREEN, "t", stats))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, stats, records


@pytest.mark.parametrize("piece", [
    b"x" * 97,                                          # no line end at all
    b"2024-01-01 00:00:00 ERROR dial tcp timeout\r",    # classic Mac line ends
    b"ERROR dial tcp dial tcp ",                        # one endless failure line
])
def test_memory_does_not_grow_with_the_input_whatever_the_line_ends(piece):
    small, _stats, _records = _peak_while_reading(8 * CHUNK_BYTES, piece)
    peak, stats, _records = _peak_while_reading(48 * CHUNK_BYTES, piece)
    assert stats.bytes == 48 * CHUNK_BYTES
    assert peak < 1.5 * small, (small, peak)  # a buffer growing by a chunk would be 6 times
    assert peak < 8 * (CHUNK_BYTES + MAX_CARRY_BYTES), peak


def test_carriage_returns_alone_end_lines():
    piece = b"2024-01-01 00:00:00 ERROR ThrottlingException: Rate exceeded\r"
    _peak, stats, records = _peak_while_reading(3 * CHUNK_BYTES, piece)
    assert stats.lines == -(-3 * CHUNK_BYTES // len(piece))  # the last one, cut, counts too
    assert records > 0


def test_a_named_pipe_without_a_writer_does_not_block(tmp_path):
    fifo = tmp_path / "agent.log"
    os.mkfifo(fifo)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(analyse([str(fifo)])), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "reading a FIFO without a writer blocked"
    assert "empty" in result[0].notes[0]


def test_a_named_pipe_with_a_writer_is_read(tmp_path):
    fifo = tmp_path / "agent.log"
    os.mkfifo(fifo)
    line = b"2024-01-01 00:00:00 ERROR error details - ThrottlingException: Rate exceeded\n"

    def write() -> None:
        with open(fifo, "wb") as out:
            out.write(line * 3)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    # the writer's open blocks until a reader opens, and a reader that comes before the
    # writer's open reads an empty pipe: retry, pausing so a loaded machine schedules it
    for _ in range(200):
        report = analyse([str(fifo)])
        if report.symptoms:
            break
        time.sleep(0.05)
    writer.join(timeout=10)
    assert report.primary == "throttling"


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_devices_are_refused_in_one_line(capsys):
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    code = main(["logs", "/dev/null"])
    assert_one_line_error(code, capsys.readouterr().err, "/dev/null", "not a regular file")


def test_a_gzip_that_expands_too_far_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(analysis_mod, "MIN_GZIP_REFUSED_BYTES", 1 << 20)
    bomb = tmp_path / "syslog.2.gz"
    bomb.write_bytes(gzip.compress(b"A" * (64 << 20), compresslevel=9))
    code = main(["logs", str(bomb)])
    assert_one_line_error(code, capsys.readouterr().err, "syslog.2.gz", "gzip bomb")


def test_escape_sequences_from_a_log_are_shown_not_emitted(capsys, tmp_path):
    log = tmp_path / "agent.log"
    log.write_bytes(b"2024-01-01 00:00:00 ERROR ThrottlingException: Rate exceeded "
                    b"\x1b]0;owned\x07\x1b[2J\x1b[31mred\xe2\x80\xae\n")
    assert main(["logs", str(log)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b]0;owned\\x07\\x1b[2J" in out and "\\u202e" in out
    assert main(["logs", str(log), "--format", "json"]) == 0
    assert "\\u001b]0;owned" in capsys.readouterr().out  # JSON keeps the line, escaped by JSON
