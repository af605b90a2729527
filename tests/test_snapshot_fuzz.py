"""Fuzzing the snapshot entrance and the command line with Hypothesis (issue 17).

Each example takes the demo snapshot (demo/estate, 21 instances blocked by one mechanism
each), corrupts it and audits it in-process (``python -m auditor --all --snapshot DIR``):

- a value somewhere in a file replaced by null, a value of another JSON type, another shape
  (a list for a mapping, a value wrapped in a list or a mapping), deep nesting, a large value,
  text that differs from AWS's only by case or spaces, a key spelt another way, an unknown
  key, control characters and escape sequences in text, a resource described twice;
- or the bytes of a file damaged: cut, random bytes inserted, a file of null, nothing or
  another document, an integer past Python's limit, a number JSON does not have, a key written
  twice, nesting a hundred thousand deep, a directory or a FIFO in place of the file.

The contract: exit 2 with exactly one line on stderr, or a report (exit 0, 1 or 3) in which no
instance is manageable that was not manageable before the corruption; never "internal error",
never a traceback; in the text report no control character but newlines and tabs.

A second test does the same to command lines (every command, known and unknown options,
empty, odd and hostile values) with no AWS to reach: exit 2 in one line, or a report.

Profiles: ``ci`` (the default) is derandomized and bounded (well under a minute); ``long`` runs
by hand with a random seed and many more examples:

    SSM_AUDITOR_FUZZ=long [SSM_AUDITOR_FUZZ_EXAMPLES=3000] .venv/bin/python -m pytest -q \\
        tests/test_snapshot_fuzz.py
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.cli import main
from tests.fuzz_mutations import JUNK, at, other_type, replace, steps

DEMO = Path(__file__).resolve().parents[1] / "demo" / "estate"
_LONG = os.environ.get("SSM_AUDITOR_FUZZ") == "long"
FUZZ = settings(
    max_examples=int(os.environ.get("SSM_AUDITOR_FUZZ_EXAMPLES", "3000")) if _LONG else 60,
    derandomize=not _LONG, deadline=None, database=None,
    suppress_health_check=list(HealthCheck))
# Control characters a terminal would act on; newlines and tabs are layout.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- the demo snapshot, its baseline, a workspace ----------------------------------------------


@cache
def _files() -> dict[str, Any]:
    return {str(path.relative_to(DEMO)): json.loads(path.read_text())
            for path in sorted(DEMO.rglob("*.json"))}


@cache
def _workspace() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="snapshot-fuzz-")) / "estate"
    shutil.copytree(DEMO, folder)
    return folder


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:  # --help, --version: argparse's own exit
            code = stop.code if isinstance(stop.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def _audit(text_format: bool) -> tuple[int, str, str]:
    return _run(["--all", "--snapshot", str(_workspace()), "--format",
                 "text" if text_format else "json"])


@cache
def _baseline() -> dict[str, str]:
    code, out, err = _audit(False)
    assert code == 1, err
    return {entry["instance_id"]: entry["verdict"] for entry in json.loads(out)["instances"]}


def _check_contract(code: int, out: str, err: str) -> None:
    assert "internal error" not in err and "Traceback" not in err, err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("auditor: error: "), err
        assert not _CONTROL.search(err), err
        return
    assert code in (0, 1, 3), (code, err)
    assert all(line.startswith("auditor: ") for line in err.splitlines()), err


def _check_audit(code: int, out: str, err: str, text_format: bool) -> None:
    """The contract, and no instance manageable that was not before."""
    _check_contract(code, out, err)
    if code == 2:
        return
    before = _baseline()
    if text_format:
        assert not _CONTROL.search(out), _CONTROL.search(out)
        manageable = re.findall(r"^  OK manageable +(\S+)", out, re.MULTILINE)
    else:
        manageable = [entry["instance_id"] for entry in json.loads(out)["instances"]
                      if entry["verdict"] == "manageable"]
    for instance_id in manageable:
        assert before.get(instance_id) == "manageable", instance_id


@contextlib.contextmanager
def _written(changes: dict[str, bytes | str | None]) -> Any:
    """The workspace with these files replaced (None: a directory in the file's place), put
    back afterwards."""
    root = _workspace()
    try:
        for name, content in changes.items():
            path = root / name
            if content is None:
                path.unlink()
                path.mkdir()
            elif content == "fifo":
                path.unlink()
                os.mkfifo(path)
            else:
                path.write_bytes(content if isinstance(content, bytes) else content.encode())
        yield
    finally:
        for name in changes:
            path = root / name
            if path.is_dir():
                path.rmdir()
            elif path.exists() or path.is_fifo():
                path.unlink()
            shutil.copyfile(DEMO / name, path)


# --- structural mutations -----------------------------------------------------------------------

_ESCAPES = ("\x1b[31m", "\x1b]0;title\x07", "\x1b[2J", "\r", "\x00", "\u202e", "\x9b1m")


def _rename(body: Any, path: list, new_key: str) -> Any:
    """The key at the end of ``path`` written as ``new_key`` (same place, same value)."""
    body = copy.deepcopy(body)
    parent = at(body, path[:-1])
    items = [(new_key if key == path[-1] else key, value) for key, value in parent.items()]
    parent.clear()
    parent.update(items)
    return body


def _case_variants(text: str) -> list[str]:
    return [variant for variant in (text.upper(), text.title(), f" {text}", f"{text} ",
                                    text.swapcase()) if variant != text]


MUTATIONS = ("null", "type", "shape", "nesting", "size", "case", "key spelling", "unknown key",
             "escapes", "described twice")


class Case(tuple):
    """(file, path, kind, document): shown without the document when an example fails."""

    def __repr__(self) -> str:
        name, path, kind, body = self
        shown = repr(at(body, path) if kind != "key spelling" else path)
        return (f"Case(file={name!r}, path={path!r}, kind={kind!r}, "
                f"value={shown[:200]}{'...' if len(shown) > 200 else ''})")


@st.composite
def mutated(draw: st.DrawFn) -> Case:
    files = _files()
    name = draw(st.sampled_from(sorted(files)))
    body = files[name]
    data = draw(st.data())
    path = steps(body, data, 5)
    value = at(body, path)
    kind = draw(st.sampled_from(MUTATIONS))
    if kind == "null":
        return Case((name, path, kind, replace(body, path, None)))
    if kind == "type":
        junk = draw(other_type(value))
        return Case((name, path, kind, replace(body, path, junk)))
    if kind == "shape":
        shaped = draw(st.sampled_from([[value], {"Value": value}, list(value.values())
                                       if isinstance(value, dict) else {"0": value}]))
        return Case((name, path, kind, replace(body, path, shaped)))
    if kind == "nesting":
        nested = value
        for _ in range(draw(st.integers(1, 400))):
            nested = [nested]
        return Case((name, path, kind, replace(body, path, nested)))
    if kind == "size":
        big = draw(st.sampled_from(["x" * 300_000, [value] * 5_000,
                                    {f"Extra{i}": i for i in range(3000)}]))
        return Case((name, path, kind, replace(body, path, big)))
    if kind == "case" and isinstance(value, str) and _case_variants(value):
        variant = draw(st.sampled_from(_case_variants(value)))
        return Case((name, path, kind, replace(body, path, variant)))
    if kind == "key spelling" and path and isinstance(path[-1], str) \
            and _case_variants(path[-1]):
        return Case((name, path, kind,
                     _rename(body, path, draw(st.sampled_from(_case_variants(path[-1]))))))
    if kind == "unknown key" and isinstance(value, dict):
        return Case((name, [*path, "NotAnAwsField"], kind,
                     replace(body, [*path, "NotAnAwsField"], draw(JUNK))))
    if kind == "escapes" and isinstance(value, str):
        escape = draw(st.sampled_from(_ESCAPES))
        return Case((name, path, kind, replace(body, path, f"{value}{escape}x")))
    if kind == "described twice" and isinstance(value, list) and value \
            and isinstance(value[0], dict):
        twin = copy.deepcopy(value[0])
        key = draw(st.sampled_from(sorted(twin)))
        twin[key] = draw(JUNK)
        return Case((name, path, kind, replace(body, path, [*value, twin])))
    return Case((name, path, "null", replace(body, path, None)))


@given(mutated(), st.booleans())
@FUZZ
def test_a_corrupted_snapshot_is_refused_in_one_line_or_proves_nothing_new(case, text_format):
    name, _, _, body = case
    with _written({name: json.dumps(body, indent=1)}):
        _check_audit(*_audit(text_format), text_format)


# --- damaged bytes ------------------------------------------------------------------------------

DAMAGES = ("cut", "insert bytes", "null", "empty", "another document", "huge integer",
           "not a JSON number", "key written twice", "deep", "directory", "fifo", "not UTF-8")


@given(st.sampled_from(sorted(_files())), st.sampled_from(DAMAGES), st.data(), st.booleans())
@FUZZ
def test_a_damaged_snapshot_file_is_refused_in_one_line_or_read(name, damage, data, text_format):
    original = (DEMO / name).read_bytes()
    where = data.draw(st.integers(0, len(original)))
    content: bytes | str | None
    if damage == "cut":
        content = original[:where]
    elif damage == "insert bytes":
        content = original[:where] + data.draw(st.binary(min_size=1, max_size=8)) \
            + original[where:]
    elif damage in ("null", "empty", "another document"):
        content = {"null": b"null", "empty": b"",
                   "another document": b'{"Reservations": [], "Vpcs": []}'}[damage]
    elif damage == "huge integer":
        content = original.replace(b": 1", b": 1" + b"7" * 5000, 1) if b": 1" in original \
            else b"[" + b"7" * 5000 + b"]"
    elif damage == "not a JSON number":
        literal = data.draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999"]))
        content = re.sub(rb": \d+", b": " + literal, original, count=1) \
            if re.search(rb": \d+", original) else b"[" + literal + b"]"
    elif damage == "key written twice":
        content = re.sub(rb'\{\n( *)"', rb'{\n\1"Twice": 1, "Twice": 2,\n\1"', original, count=1)
    elif damage == "deep":
        depth = data.draw(st.sampled_from([70, 999, 100_000]))
        content = original.replace(b"[", b"[" + b"[" * depth + b"0" + b"]" * depth + b",", 1) \
            if b"[\n" in original else b"[" * depth + b"]" * depth
    elif damage == "directory":
        content = None
    elif damage == "fifo":
        content = "fifo"
    else:
        content = original[:where] + b"\xff\xfe" + original[where:]
    with _written({name: content}):
        _check_audit(*_audit(text_format), text_format)


def test_a_manifest_that_records_describe_instances_as_denied_is_exit_2():
    manifest = json.loads((DEMO / "manifest.json").read_text())
    manifest["errors"] = {"eu-west-1": {"instances": "AccessDenied: not authorized"}}
    with _written({"manifest.json": json.dumps(manifest)}):
        code, out, err = _audit(False)
    assert (code, out) == (2, "")
    assert "DescribeInstances could not be read" in err and "AccessDenied" in err


def test_an_instance_described_twice_differently_is_refused():
    answer = _files()["eu-west-1/describe-instances.json"]
    twin = copy.deepcopy(answer["Reservations"][0])
    twin["Instances"][0]["SubnetId"] = "subnet-0000000000000000f"
    body = {**answer, "Reservations": [*answer["Reservations"], twin]}
    with _written({"eu-west-1/describe-instances.json": json.dumps(body)}):
        code, _, err = _audit(False)
    assert code == 2 and "described twice" in err, err


# --- command lines ------------------------------------------------------------------------------

_OPTIONS = ("--instance", "--all", "--snapshot", "--region", "--profile", "--format", "--color",
            "-v", "--logs", "--plan", "--verify-plan", "--plan-s3-gateway", "--deadline",
            "--out", "--live", "--subnet", "--security-group", "--parameter", "--imdsv2",
            "--platform", "--instance-profile", "--public-ip", "--frobnicate", "-", "--",
            "--version", "--help")


@cache
def _scratch() -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="cli-fuzz-"))
    (folder / "junk.json").write_bytes(b'{"kind": "ssm-auditor-remediation-plan", ')
    (folder / "empty").mkdir()
    (folder / "log.txt").write_text("2024-01-01 ERROR [ssm] dial tcp \x1b[31m timeout\n")
    os.mkfifo(folder / "fifo")
    return {"junk": str(folder / "junk.json"), "empty dir": str(folder / "empty"),
            "log": str(folder / "log.txt"), "fifo": str(folder / "fifo"),
            "new file": str(folder / "out" / "plan.json")}


def _values() -> st.SearchStrategy[str]:
    scratch = _scratch()
    return st.one_of(
        st.sampled_from(["", " ", "demo/estate", str(DEMO), "/dev/zero", "/dev/null",
                         "/nonexistent", "i-0000000000000000d", "i-00000000000000013",
                         "eu-west-1", "us-east-1", "-1", "0", "nan", "inf", "1e999",
                         "9" * 5000, "é", "\x1b[31mred", "a\x00b", "text", "json", "sarif",
                         "always", "x=1", "=", "subnet-00000000000000004",
                         "sg-00000000000000018", *scratch.values()]),
        st.text(max_size=12))


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    argv = list(draw(st.sampled_from([[], ["snapshot"], ["logs"], ["prelaunch"]])))
    for _ in range(draw(st.integers(0, 6))):
        argv.append(draw(st.sampled_from(_OPTIONS)))
        if draw(st.booleans()):
            argv.append(draw(_values()))
    return argv


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials and nothing to reach: a live read fails at once, in one line."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


@given(command_lines())
@FUZZ
def test_any_command_line_is_refused_in_one_line_or_answered(no_aws, argv):
    code, out, err = _run(argv)
    if code == 0 and ("--help" in argv or "--version" in argv):
        return
    _check_contract(code, out, err)
