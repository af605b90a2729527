"""--verify-plan: the synthesized stacks, laid over the estate, prove what the plan promised."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditor import cli
from auditor.remediation.plan import load_plan
from auditor.remediation.verify import PLAN_FILE_NAME
from tests.cdk_synth import synth
from tests.checks import assert_one_line_error

DEMO = "demo/estate"


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    assert cli.main(["--all", "--snapshot", DEMO, "--format", "json", "--plan", str(path)]) == 1
    return path


@pytest.fixture(scope="module")
def cdk_out(demo_plan, tmp_path_factory) -> Path:
    """What `cdk synth -c plan=plan.json` writes: the stacks, and the plan copied beside them."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    synth(json.loads(demo_plan.read_text()), outdir)
    shutil.copyfile(demo_plan, outdir / PLAN_FILE_NAME)
    return outdir


def _verify(capsys, cdk_out: Path, *which: str) -> tuple[int, dict]:
    status = cli.main([*(which or ["--all"]), "--snapshot", DEMO, "--verify-plan",
                       str(cdk_out), "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


def test_the_synthesized_plan_proves_what_the_plan_promised(demo_plan, cdk_out, capsys):
    status, report = _verify(capsys, cdk_out)
    after = {i["instance_id"]: i["verdict"] for i in report["instances"]}
    promised = {i.instance_id: i.verdict_after for i in load_plan(demo_plan).instances}
    assert {iid: after[iid] for iid in promised} == promised
    assert list(promised.values()).count("manageable") >= 11
    before = report["source"]["after_plan"]["verdicts_before"]
    broken = [iid for iid, verdict in before.items()
              if verdict == "manageable" and after[iid] != "manageable"]
    assert broken == []
    assert status == 1  # the explicit deny and the boundary are left for review
    assumed = report["source"]["after_plan"]["manual_steps_assumed"]
    assert any("associate-iam-instance-profile" in command for command in assumed)
    assert any(command.startswith("# review") for command in
               report["source"]["after_plan"]["manual_steps_not_modelled"])


def test_the_text_report_says_before_and_after_per_instance(cdk_out, capsys):
    status = cli.main(["--instance", "i-00000000000000013", "--snapshot", DEMO,
                       "--verify-plan", str(cdk_out)])
    out = capsys.readouterr().out
    assert status == 0
    assert "i-00000000000000013: not manageable -> after this change: manageable" in out


def test_the_html_report_shows_before_and_after_per_instance(cdk_out, capsys):
    from tests.html_tree import parse

    status = cli.main(["--all", "--snapshot", DEMO, "--verify-plan", str(cdk_out),
                       "--format", "html"])
    root, _ = parse(capsys.readouterr().out)
    assert status == 1
    section = root.by_id("plan")
    rows = {row.find("a").text(): row.find_all("td")[1].text()
            for row in section.find("table").find("tbody").find_all("tr")}
    before, after = rows["i-00000000000000013 (batch-no-public-ip)"].split("then")
    assert (before.strip(" \u2192"), after.strip()) == ("not manageable", "manageable")
    assert any("associate-iam-instance-profile" in code.text()
               for code in section.find_all("code", "cmd"))  # assumed done, to copy


def test_without_the_plan_beside_the_stacks_no_manual_step_is_assumed(cdk_out, tmp_path, capsys):
    bare = tmp_path / "cdk.out"
    shutil.copytree(cdk_out, bare)
    (bare / PLAN_FILE_NAME).unlink()
    status, report = _verify(capsys, bare, "--instance", "i-00000000000000086")
    assert report["source"]["after_plan"]["plan_found"] is False
    # The role exists after the stacks, but nothing attaches its profile to the instance.
    assert report["instances"][0]["verdict"] == "not_manageable"
    assert status == 1


def test_verify_plan_usage_errors_are_one_line(tmp_path, capsys):
    status = cli.main(["--all", "--snapshot", DEMO, "--verify-plan", str(tmp_path / "none")])
    assert_one_line_error(status, capsys.readouterr().err, "not a directory")
    status = cli.main(["--all", "--snapshot", DEMO, "--verify-plan", str(tmp_path)])
    assert_one_line_error(status, capsys.readouterr().err, "no CloudFormation template")
    status = cli.main(["--all", "--snapshot", DEMO, "--verify-plan", str(tmp_path), "--plan",
                       str(tmp_path / "p.json")])
    assert_one_line_error(status, capsys.readouterr().err, "give one of them")
