"""Fuzzing the logs entrance: mutated agent logs never crash, hang or print more than one line.

Every input built here (corpus excerpts with random bytes, huge lines, control characters and
escape sequences, other line ends and encodings, gzip streams whole, cut or corrupt, broken
ssm-cli get-diagnostics JSON) must give exit 0 with a report that follows the contract, or exit
2 with one line on stderr, never "internal error", and within a bounded time.

Profiles:

- default (CI): a fixed seed and FUZZ_CI_EXAMPLES examples per test, a few seconds;
- long, by hand: ``SSM_AUDITOR_FUZZ=long [SSM_AUDITOR_FUZZ_EXAMPLES=5000] python -m pytest -q
  tests/test_logs_fuzz.py`` runs a random seed and many more examples (Hypothesis prints the
  failing input and a seed to reproduce it). Run it under a memory limit (``ulimit -v 4000000``)
  so that a leak shows as a failing example (MemoryError), not as the machine's OOM killer.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.catalogue import LOG_LABELS
from auditor.cli import main

CORPUS = Path(__file__).resolve().parent / "corpus"
LOGS = sorted((CORPUS / "logs").glob("*.log"))
DIAGNOSTICS = sorted((CORPUS / "diagnostics").glob("*.json"))
FUZZ_CI_EXAMPLES = 40
MAX_SECONDS = 30  # per input
# Mutations compound (a huge line duplicated two thousand times): each input is cut to this size,
# so that the test, not the auditor, never holds gigabytes.
MAX_INPUT_BYTES = 4 << 20

_LONG = os.environ.get("SSM_AUDITOR_FUZZ") == "long"
PROFILE = settings(
    max_examples=int(os.environ.get("SSM_AUDITOR_FUZZ_EXAMPLES", "3000")) if _LONG
    else FUZZ_CI_EXAMPLES,
    derandomize=not _LONG,
    deadline=None,  # each run is timed by the test itself (MAX_SECONDS)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

_ESCAPES = (b"\x1b[2J", b"\x1b]0;title\x07", b"\x1b]8;;http://x\x1b\\", b"\x9b31m", b"\x07",
            b"\x08\x08\x08", b"\xe2\x80\xae", b"\r", b"\x00", b"\xff\xfe", b"\xc3\x28")
_TOKENS = (b"dial tcp ", b"ERROR ", b"WARN ", b"169.254.169.254 ", b"caused by: ", b"x509: ",
           b"hibernate", b"RequestManagedInstanceRoleToken ", b"too many open files ",
           b"\tstatus code: 400, request id: ", b"[CredentialRefresher] ", b"a")


@st.composite
def _mutation(draw) -> tuple:
    kind = draw(st.sampled_from(("insert", "replace", "huge_line", "escape", "truncate",
                                 "duplicate", "many_lines")))
    return (kind, draw(st.integers(0, 1 << 20)), draw(st.binary(max_size=48)),
            draw(st.sampled_from(_TOKENS)), draw(st.integers(1, 40_000)),
            draw(st.sampled_from(_ESCAPES)))


def _mutate(data: bytes, mutation: tuple) -> bytes:
    kind, where, noise, token, size, escape = mutation
    at = where % (len(data) + 1)
    if kind == "insert":
        return data[:at] + noise + data[at:]
    if kind == "replace":
        return data[:at] + noise + data[at + len(noise):]
    if kind == "huge_line":
        return data[:at] + token * size + data[at:]
    if kind == "escape":
        return data[:at] + escape * (1 + size % 8) + data[at:]
    if kind == "truncate":
        return data[:at]
    if kind == "duplicate":
        line_start = data.rfind(b"\n", 0, at) + 1
        line = data[line_start:data.find(b"\n", at) + 1 or len(data)] or b"ERROR x\n"
        copies = min(1 + size % 2000, MAX_INPUT_BYTES // len(line) + 1)
        return data[:line_start] + line * copies + data[line_start:]
    return data + (b"2024-01-01 00:00:00 INFO ok\n" + token + b"\n") * (size % 5000)


def _encode(data: bytes, encoding: str, where: int) -> bytes:
    if encoding == "crlf":
        return data.replace(b"\n", b"\r\n")
    if encoding == "cr":
        return data.replace(b"\n", b"\r")
    if encoding == "no_line_ends":
        return data.replace(b"\n", b" ")
    if encoding == "utf16":
        return data.decode("utf-8", errors="replace").encode("utf-16")
    if encoding == "bom":
        return b"\xef\xbb\xbf" + data
    if encoding.startswith("gzip"):
        packed = gzip.compress(data)
        if encoding == "gzip_cut":
            return packed[:max(2, where % len(packed))]
        if encoding == "gzip_corrupt":
            at = 10 + where % max(1, len(packed) - 10)
            return packed[:at] + bytes([packed[at] ^ 0x5A]) + packed[at + 1:]
        return packed
    return data


@st.composite
def mutated_logs(draw) -> bytes:
    data = draw(st.sampled_from(LOGS)).read_bytes()
    for mutation in draw(st.lists(_mutation(), max_size=4)):
        data = _mutate(data, mutation)[:MAX_INPUT_BYTES]
    encoding = draw(st.sampled_from(("utf8", "crlf", "cr", "no_line_ends", "utf16", "bom", "gzip",
                                     "gzip_cut", "gzip_corrupt")))
    return _encode(data, encoding, draw(st.integers(0, 1 << 16)))


@st.composite
def broken_diagnostics(draw) -> bytes:
    data = draw(st.sampled_from(DIAGNOSTICS)).read_bytes()
    shape = draw(st.sampled_from(("bytes", "nested", "types", "huge_number")))
    if shape == "nested":
        depth = draw(st.integers(1, 200_000))
        return b'{"DiagnosticsOutput": ' + b"[" * depth + b"]" * draw(st.integers(0, depth))
    if shape == "types":
        row = draw(st.sampled_from(("1", "null", '"x"', '{"Check": 5, "Status": [1], "Note": {}}',
                                    '{"Check": "Connectivity to ssm endpoint", "Status": '
                                    '"Failed", "Note": "\\u001b[2J dial tcp: i/o timeout"}')))
        return ('{"DiagnosticsOutput": [' + row + "]}").encode()
    if shape == "huge_number":
        return b'{"DiagnosticsOutput": [{"Check": ' + b"9" * draw(st.integers(1, 20_000)) + b"}]}"
    for mutation in draw(st.lists(_mutation(), max_size=3)):
        data = _mutate(data, mutation)[:MAX_INPUT_BYTES]
    return data


def _run(argv: list[str], stdin: bytes | None = None) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if stdin is None:
            code = main(argv)
        else:
            fake = io.TextIOWrapper(io.BufferedReader(io.BytesIO(stdin)))
            with mock.patch.object(sys, "stdin", fake):
                code = main(argv)
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - started


def _check(code: int, out: str, err: str, elapsed: float, fmt: str) -> None:
    assert elapsed < MAX_SECONDS, elapsed
    assert "internal error" not in err and "Traceback" not in err, err
    if code == 2:
        assert out == ""
        assert err.count("\n") == 1, err
        return
    assert code == 0, (code, err)
    assert err == ""
    if fmt == "json":
        report = json.loads(out)
        assert report["schema_version"] == 1
        assert report["primary"] in LOG_LABELS
        assert all(symptom["label"] in LOG_LABELS for symptom in report["symptoms"])
    else:
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out


@PROFILE
@given(data=mutated_logs(), fmt=st.sampled_from(("text", "json")), via_stdin=st.booleans())
def test_a_mutated_log_is_read_or_refused_in_one_line(data, fmt, via_stdin):
    if via_stdin:
        _check(*_run(["logs", "-", "--format", fmt], stdin=data), fmt)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "amazon-ssm-agent.log"
        path.write_bytes(data)
        _check(*_run(["logs", str(path), "--format", fmt]), fmt)


@PROFILE
@given(data=broken_diagnostics(), fmt=st.sampled_from(("text", "json")))
def test_broken_diagnostics_json_is_read_or_refused_in_one_line(data, fmt):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "diagnostics.json"
        path.write_bytes(data)
        _check(*_run(["logs", str(path), "--format", fmt]), fmt)


@PROFILE
@given(data=st.binary(max_size=4096), fmt=st.sampled_from(("text", "json")))
def test_random_bytes_are_read_or_refused_in_one_line(data, fmt):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.log"
        path.write_bytes(data)
        _check(*_run(["logs", str(path), "--format", fmt]), fmt)
