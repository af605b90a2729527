"""A report format is one module in auditor/reports, a command one module in auditor/commands:
both are found by their module's name, nothing else to register."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import auditor.commands
import auditor.reports
from auditor.cli import main
from auditor.reports import RenderOptions, formats, render
from tests.prelaunch_helpers import isolated_template, write

DEMO = str(Path(__file__).resolve().parents[1] / "demo" / "estate")


def test_the_formats_are_the_report_modules_text_and_json_first():
    assert formats()[:2] == ("text", "json")
    assert set(formats()) >= {"text", "json", "sarif"}
    assert "log_symptoms" not in formats()  # the logs command's document, not an audit report


def test_a_new_format_joins_by_one_module(tmp_path, monkeypatch, capsys):
    (tmp_path / "csv_report.py").write_text(
        "def render(report, options):\n"
        "    return '\\n'.join(f'{a.instance.instance_id},{a.verdict}' "
        "for a in report.instances)\n")
    monkeypatch.setattr(auditor.reports, "__path__", [*auditor.reports.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "auditor.reports.csv_report", raising=False)
    assert "csv" in formats()

    status = main(["--instance", "i-0000000000000008f", "--snapshot", DEMO, "--format", "csv"])

    assert (status, capsys.readouterr().out) == (1, "i-0000000000000008f,not_manageable\n")
    sys.modules.pop("auditor.reports.csv_report", None)


def test_a_new_command_joins_by_one_module(tmp_path, monkeypatch, capsys):
    (tmp_path / "hello.py").write_text(
        "def run(argv):\n    print('hello', *argv)\n    return 0\n")
    monkeypatch.setattr(auditor.commands, "__path__",
                        [*auditor.commands.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "auditor.commands.hello", raising=False)
    assert auditor.commands.commands() >= {"hello", "snapshot", "logs", "prelaunch"}
    assert "audit" not in auditor.commands.commands()  # the default: no name needed

    assert main(["hello", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"
    sys.modules.pop("auditor.commands.hello", None)


def test_every_format_renders_a_prelaunch_report_with_its_template_lines(tmp_path, capsys):
    template = isolated_template()
    template["Resources"]["EndpointSg"]["Properties"]["SecurityGroupIngress"] = []
    path = write(tmp_path, template)
    lines = {}
    for name in ("text", "json", "sarif"):
        assert main(["prelaunch", str(path), "--format", name, "--color", "never"]) == 1
        lines[name] = capsys.readouterr().out

    text = lines["text"]
    assert f"    template {path}:" in text and text.split(f"    template {path}:")[1].split(
        "\n")[0].endswith(" App")
    assert f"      in {path}:" in text and " EndpointSg" in text.split(f"      in {path}:")[1]
    [app] = json.loads(lines["json"])["instances"]
    assert (app["logical_id"], app["template"]["path"]) == ("App", str(path))
    assert {f["logical_id"] for f in app["findings"] if f["code"] ==
            "ENDPOINT_SG_INGRESS_BLOCKS"} == {"EndpointSg"}
    results = json.loads(lines["sarif"])["runs"][0]["results"]
    assert any(r["locations"][0]["logicalLocations"][0]["name"] == "EndpointSg"
               for r in results)


def test_the_audit_json_says_nothing_of_templates():
    from auditor.audit import run_audit
    from auditor.sources.description import SourceDescription
    from auditor.sources.parse import build_estate
    from auditor.sources.snapshot import read_snapshot

    estates = [build_estate(raw, None) for raw in read_snapshot(DEMO)]
    report = run_audit(estates, ["i-0000000000000008f"], SourceDescription("snapshot"))
    document = json.loads(render(report, "json", RenderOptions()))
    assert "unresolved" not in document and "not_read" not in document
    assert "logical_id" not in document["instances"][0]


def test_compact_and_indented_json_say_the_same_with_template_lines(tmp_path):
    from auditor.prelaunch import check
    from auditor.sources.template.load import load_templates

    template = isolated_template()
    template["Resources"]["EndpointSg"]["Properties"]["SecurityGroupIngress"] = []
    templates = load_templates(write(tmp_path, template))
    base, described = check.read_base(None, False, None, None)
    result = check.check_templates(templates, base, described)
    documents = [json.loads(render(result.report, "json",
                                   RenderOptions(locate=result.locate, indent=indent)))
                 for indent in (True, False)]
    assert documents[0] == documents[1]
    assert documents[0]["instances"][0]["logical_id"] == "App"
    assert documents[0]["not_read"] == {} and documents[0]["unresolved"] == {}
