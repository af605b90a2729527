"""The bounded JSON/YAML reader every entrance uses (auditor/sources/bounded_read.py): limits,
special files, duplicate keys, numbers, shapes; and the limits table generated from
auditor/limits.py."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from auditor import limits
from auditor.errors import UsageError
from auditor.sources import bounded_read
from auditor.sources.bounded_read import expect, load_yaml, parse_json, read_json, read_text

ROOT = Path(__file__).resolve().parent.parent
SMALL = limits.Limit("test size", 64, "bytes", "", "", "")


def _refused(call, *words: str) -> str:
    with pytest.raises(UsageError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


# --- files ------------------------------------------------------------------------------------


def test_special_files_are_refused_without_reading_them(tmp_path):
    _refused(lambda: read_text("/dev/zero", "template /dev/zero", SMALL),
             "template /dev/zero", "not a regular file")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: opening it for reading must not wait for one
    _refused(lambda: read_text(fifo, "manifest", SMALL), "not a regular file")
    link = tmp_path / "link.json"
    link.symlink_to("/dev/zero")
    _refused(lambda: read_json(link, "template link.json", SMALL), "not a regular file")


def test_files_past_the_size_limit_are_refused(tmp_path):
    path = tmp_path / "big.json"
    path.write_text("[" + "1," * 40 + "1]")
    _refused(lambda: read_json(path, "template big.json", SMALL),
             "template big.json is larger than the test size limit (64 bytes")
    path.write_text("[1]")
    assert read_json(path, "template", SMALL) == [1]


def test_missing_directories_and_bytes_that_are_not_utf8(tmp_path):
    _refused(lambda: read_text(tmp_path / "none", "x", SMALL), "x does not exist")
    _refused(lambda: read_text(tmp_path, "x", SMALL), "is a directory")
    (tmp_path / "latin1").write_bytes(b"{\"a\": \"\xe9\"}")
    _refused(lambda: read_text(tmp_path / "latin1", "x", SMALL), "not UTF-8 text (byte 7)")
    (tmp_path / "bom").write_bytes(b"\xef\xbb\xbf[1]")
    assert read_json(tmp_path / "bom", "x", SMALL) == [1]


# --- JSON -------------------------------------------------------------------------------------


def test_nesting_past_the_limit_is_refused_before_the_recursion_limit():
    depth = limits.NESTING_DEPTH.value
    assert parse_json("[" * depth + "]" * depth, "f") is not None
    _refused(lambda: parse_json('{"a": ' + "[" * depth + "]" * depth + "}", "f"),
             "f: a" + "[0]" * (depth - 2), "nests deeper than the nesting depth limit")
    _refused(lambda: parse_json("[" * 100_000 + "]" * 100_000, "f"), "nests deeper")


@pytest.mark.parametrize("text, words", [
    ("[" + "9" * 4301 + "]", ("an integer of 4,301 digits", "integer digits limit")),
    ('{"HopLimit": Infinity}', ("Infinity is not a JSON number",)),
    ("[NaN]", ("NaN is not a JSON number",)),
    ("[-Infinity]", ("-Infinity is not a JSON number",)),
    ("[1e999]", ("the number 1e999 is out of range",)),
])
def test_numbers_python_cannot_hold_are_refused(text, words):
    _refused(lambda: parse_json(text, "f"), "f is refused", *words)


def test_a_key_written_twice_is_refused_naming_where():
    _refused(lambda: parse_json('{"Resources": {"A": {"Type": "x", "Type": "y"}}}', "f"),
             "f: Resources.A: the key 'Type' is written twice")
    assert parse_json('{"a": 4300, "b": [1.5, "x"]}', "f") == {"a": 4300, "b": [1.5, "x"]}


def test_invalid_json_is_one_line():
    _refused(lambda: parse_json('{"a": }', "f"), "f is not valid JSON: Expecting value")


# --- YAML -------------------------------------------------------------------------------------

ALIAS_BOMB = "\n".join(
    ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi",
                                                                  strict=True)]) + "\n"


def test_an_alias_bomb_is_refused_before_it_is_expanded():
    assert len(ALIAS_BOMB) < 1400  # 9**9 strings once expanded
    _refused(lambda: load_yaml(ALIAS_BOMB, "template t.yaml"),
             "template t.yaml (line", "its aliases expand it past the values after expansion "
             "limit (1,000,000 values")
    # aliases that repeat a value, within the limit, are fine
    assert load_yaml("a: &x [1, 2]\nb: *x\n", "t") == {"a": [1, 2], "b": [1, 2]}


def test_an_alias_inside_its_own_anchor_is_refused():
    _refused(lambda: load_yaml("a: &x [1, *x]\n", "t"), "an endless value")


def test_yaml_nesting_duplicates_and_numbers():
    depth = limits.NESTING_DEPTH.value
    _refused(lambda: load_yaml("a: " + "[" * depth + "]" * depth, "t"), "nests deeper")
    _refused(lambda: load_yaml("[" * 100_000, "t"), "nests deeper")
    _refused(lambda: load_yaml("a: 1\nb: 2\na: 3\n", "t"),
             "(line 3)", "the key 'a' is written twice in one mapping (lines 1 and 3")
    _refused(lambda: load_yaml("a: " + "1" * 4301, "t"), "an integer of 4,301 digits")
    _refused(lambda: load_yaml("a: .inf", "t"), "(line 1)", "the number .inf is not finite")
    _refused(lambda: load_yaml("a: 2020-02-30", "t"), "t is not valid YAML")
    assert load_yaml("base: &b {x: 1}\nuse:\n  <<: *b\n  x: 2\n", "t")["use"] == {"x": 2}
    # found by the fuzzer: PyYAML reads the first characters when the loader is made
    _refused(lambda: load_yaml("\x00Resources: {}", "t"), "t is not valid YAML",
             "unacceptable character #x0000")


# --- shapes -----------------------------------------------------------------------------------


def test_expect_names_the_file_the_path_and_what_was_expected():
    assert expect({"a": 1}, "a mapping", "m.json") == {"a": 1}
    _refused(lambda: expect([], "a mapping", "cdk.out/manifest.json"),
             "cdk.out/manifest.json: the top level: expected a mapping, found a list")
    _refused(lambda: expect(True, "text", "m", ("artifacts", "App", "properties", "x", 0)),
             "m: artifacts.App.properties.x[0]: expected text, found a boolean")


# --- the limits table -------------------------------------------------------------------------


def test_the_limits_document_is_generated_from_the_limits_data():
    spec = importlib.util.spec_from_file_location("render_limits_doc",
                                                  ROOT / "scripts" / "render_limits_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render() == (ROOT / "docs" / "LIMITS.md").read_text(), \
        "docs/LIMITS.md is out of date: run python scripts/render_limits_doc.py"
    for limit in limits.ALL:
        assert f"| {limit.name} |" in module.render()


def test_the_reader_module_stays_on_the_bottom_floor():
    # Reusable by every entrance and by the CDK app: it imports nothing of the auditor but
    # the limits and the error type.
    source = Path(bounded_read.__file__).read_text()
    imports = {line.split()[1] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert {name for name in imports if name.startswith("auditor")} == {
        "auditor", "auditor.errors", "auditor.limits"}
