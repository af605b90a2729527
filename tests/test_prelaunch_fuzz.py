"""Fuzzing the template entrance with Hypothesis (issue 17).

Each example takes a bundled test template (tests/templates/, and the hand-written isolated
template), mutates it (a value of another type, null, a wrapping function the auditor does not
know, deep nesting, a large value, a key written twice, or bytes of the file itself) and runs
``python -m auditor prelaunch`` on it, in-process. The contract:

- exit 2 with exactly one line on stderr; or a report (exit 0, 1 or 3);
- never "internal error", never a traceback;
- when the mutation corrupts a resource (anything under ``Resources`` but the parameters a
  nested stack is passed and the collections of ``Fn::ForEach``, where another value is a
  legitimate change), no instance is manageable that was not manageable before: a template
  CloudFormation would refuse never turns into an all clear.

Profiles: ``ci`` (the default) is derandomized (a fixed seed) and bounded, well under a minute;
``long`` runs by hand, with a random seed and many more examples:

    SSM_AUDITOR_FUZZ=long .venv/bin/python -m pytest -q tests/test_prelaunch_fuzz.py
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.cli import main
from auditor.sources.template.load import load_template
from tests.fuzz_mutations import JUNK, at, other_type, replace, steps
from tests.prelaunch_helpers import isolated_template
from tests.test_prelaunch_interfaces import _on_interface

TEMPLATES = Path(__file__).parent / "templates"


def _variant(change: Any) -> Any:
    def build() -> dict:
        template = isolated_template()
        change(template["Resources"])
        return template
    return build


def _deny_heartbeat(resources: dict) -> None:
    resources["AppRole"]["Properties"]["Policies"] = [{"PolicyName": "deny", "PolicyDocument": {
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Action": "ssm:UpdateInstanceInformation", "Resource": "*"}]}}]


def _nacl_blocks(resources: dict) -> None:
    resources["AppAcl"] = {"Type": "AWS::EC2::NetworkAcl", "Properties": {"VpcId": {"Ref": "Vpc"}}}
    resources["AppAclAssociation"] = {"Type": "AWS::EC2::SubnetNetworkAclAssociation",
                                      "Properties": {"SubnetId": {"Ref": "AppSubnet"},
                                                     "NetworkAclId": {"Ref": "AppAcl"}}}
    for egress in (True, False):
        resources[f"AppAclWeb{egress}"] = {"Type": "AWS::EC2::NetworkAclEntry", "Properties": {
            "NetworkAclId": {"Ref": "AppAcl"}, "RuleNumber": 100, "Protocol": 6,
            "RuleAction": "allow", "Egress": egress, "CidrBlock": "0.0.0.0/0",
            "PortRange": {"From": 80, "To": 80}}}


# The hand-written template and variants of it, each blocked by one mechanism: a corrupted
# value must never unblock them.
VARIANTS = {
    "<isolated>": isolated_template,
    "<endpoint-group-blocks>": _variant(lambda r: r["EndpointSg"]["Properties"].update(
        SecurityGroupIngress=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                               "CidrIp": "192.168.0.0/16"}])),
    "<egress-locked>": _variant(lambda r: r["AppSg"]["Properties"].update(
        SecurityGroupEgress=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                              "CidrIp": "0.0.0.0/0"}])),
    "<private-dns-off>": _variant(lambda r: [r[name]["Properties"].update(
        PrivateDnsEnabled=False) for name in ("SsmEndpoint", "SsmMessagesEndpoint")]),
    "<metadata-off>": _variant(lambda r: r["App"]["Properties"].update(
        MetadataOptions={"HttpEndpoint": "disabled", "HttpTokens": "required"})),
    "<deny-heartbeat>": _variant(_deny_heartbeat),
    "<nacl-blocks>": _variant(_nacl_blocks),
    "<interface-without-public-ip>": lambda: _on_interface(isolated_template()),
}
BASES = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*")
               if path.suffix in (".yaml", ".json")) + list(VARIANTS)

settings.register_profile("ci", max_examples=40, derandomize=True, deadline=None,
                          database=None, suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=3000, deadline=None,
                          suppress_health_check=list(HealthCheck))
FUZZ = settings.get_profile(os.environ.get("SSM_AUDITOR_FUZZ", "ci"))


# --- running ------------------------------------------------------------------------------------


def _run(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["prelaunch", str(path), "--format", "json"])
    return code, out.getvalue(), err.getvalue()


def _verdicts(out: str) -> dict[str, str]:
    return {entry["instance_id"]: entry["verdict"] for entry in json.loads(out)["instances"]}


def _check_contract(code: int, out: str, err: str) -> dict[str, str] | None:
    """The verdicts of a report, or None for a one-line refusal; fails on anything else."""
    assert "internal error" not in err and "Traceback" not in err, err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("auditor: error: "), err
        return None
    assert code in (0, 1, 3), (code, err)
    assert all(line.startswith("auditor: warning: ") for line in err.splitlines()), err
    return _verdicts(out)


@cache
def _workspace(base: str) -> tuple[Path, Path, Any]:
    """A copy of the base template's folder (its nested templates beside it), the file to
    write the mutations to, and the base's body."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    if base in VARIANTS:
        body = VARIANTS[base]()
        target = folder / f"{base.strip('<>')}.json"
    else:
        source = TEMPLATES / base
        shutil.copytree(source.parent, folder, dirs_exist_ok=True)
        target = folder / source.name
        try:
            body = load_template(source).body
        except Exception:  # the Rain template: refused as it is
            body = None
    return folder, target, body


@cache
def _baseline(base: str, form: str) -> dict[str, str] | None:
    _, target, body = _workspace(base)
    if body is None:
        return None
    target.write_text(_dump(body, form))
    code, out, err = _run(target)
    return _check_contract(code, out, err)


def _dump(body: Any, form: str) -> str:
    if form == "json":
        return json.dumps(body, indent=1)
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


# --- mutations ----------------------------------------------------------------------------------

_JUNK = JUNK
_other_type, _steps, _replace, _at = other_type, steps, replace, at


def _corrupts_a_resource(path: list) -> bool:
    """Whether the mutated value lies in a resource where any other value is invalid rather
    than another legitimate choice."""
    return (len(path) >= 2 and path[0] == "Resources"
            and not any(isinstance(key, str) and key.startswith("Fn::ForEach::") for key in path)
            and "Parameters" not in path)


MUTATIONS = ("type", "null", "unknown function", "nesting", "size")


class Case(tuple):
    """(base, form, body, path, kind), shown without the body when an example fails."""

    def __repr__(self) -> str:
        base, form, body, path, kind = self
        shown = repr(_at(body, path))
        return (f"Case(base={base!r}, form={form!r}, path={path!r}, kind={kind!r}, "
                f"value={shown[:200]}{'...' if len(shown) > 200 else ''})")


@st.composite
def mutated(draw: st.DrawFn) -> Case:
    # half the time a variant blocked by one mechanism, where an unblocking would show
    base = draw(st.one_of(st.sampled_from(list(VARIANTS)),
                          st.sampled_from([b for b in BASES if _workspace(b)[2] is not None])))
    body = _workspace(base)[2]
    data = draw(st.data())
    path = _steps(body, data)
    value = _at(body, path)
    kind = draw(st.sampled_from(MUTATIONS))
    if kind == "type":
        new: Any = draw(_other_type(value))
    elif kind == "null":
        new = None
    elif kind == "unknown function":
        new = {"Fn::NotAFunction": value}
    elif kind == "nesting":
        new = value
        for _ in range(draw(st.integers(1, 150))):
            new = [new]
    else:
        new = draw(st.sampled_from(["x" * 200_000, ["x"] * 20_000,
                                    {f"k{i}": i for i in range(5000)}]))
    form = draw(st.sampled_from(["json", "yaml"]))
    return Case((base, form, _replace(body, path, new), path, kind))


@given(mutated())
@FUZZ
def test_a_mutated_template_is_refused_in_one_line_or_proves_nothing_new(case):
    base, form, body, path, kind = case
    _, target, _ = _workspace(base)
    before = _baseline(base, form)
    target.write_text(_dump(body, form))
    after = _check_contract(*_run(target))
    if after is None or before is None or not _corrupts_a_resource(path):
        return
    for instance_id, verdict in after.items():
        if verdict == "manageable":
            assert before.get(instance_id) == "manageable", (base, kind, path, instance_id)


@given(st.sampled_from(BASES), st.data())
@FUZZ
def test_a_template_file_damaged_byte_by_byte_is_refused_in_one_line_or_read(base, data):
    _, target, body = _workspace(base)
    original = json.dumps(body, indent=1).encode() if base in VARIANTS \
        else (TEMPLATES / base).read_bytes()
    cut = data.draw(st.integers(0, len(original)))
    damage = data.draw(st.sampled_from(["truncate", "insert", "duplicate a line"]))
    if damage == "truncate":
        damaged = original[:cut]
    elif damage == "insert":
        damaged = original[:cut] + data.draw(st.binary(min_size=1, max_size=8)) + original[cut:]
    else:
        lines = original.splitlines(keepends=True)
        line = data.draw(st.integers(0, max(len(lines) - 1, 0)))
        damaged = b"".join(lines[:line + 1] + lines[line:line + 1] + lines[line + 1:])
    target.write_bytes(damaged)
    _check_contract(*_run(target))


@given(st.sampled_from([b for b in BASES if b.endswith(".json") or b in VARIANTS]),
       st.data())
@FUZZ
def test_a_key_written_twice_is_always_refused(base, data):
    _, target, body = _workspace(base)
    text = json.dumps(body)
    resources = list(body["Resources"])
    key = data.draw(st.sampled_from(resources))
    duplicated = text.replace('"Resources": {', f'"Resources": {{"{key}": {{}}, ', 1)
    target.write_text(duplicated)
    code, _, err = _run(target)
    assert code == 2 and "written twice" in err and err.count("\n") == 1, err
