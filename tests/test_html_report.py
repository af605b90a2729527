"""`--format html`: the page's structure, read with the standard library's html.parser.

What a browser does with it (scripts, drawings, console errors, the 10,000-instance page) is
in test_html_browser.py; here, what the file holds: one row and one section per instance,
the shared tables the diagrams are drawn from, nothing that would be fetched, every value
from the estate escaped, and the fields other parts of the report add (organization, plan,
capabilities, log symptoms, new hop steps) shown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest

from auditor.cli import main
from auditor.reports import RenderOptions, formats, html_report, render
from auditor.reports.html_markup import anchor, script_json
from auditor.reports.html_style import CSS
from auditor.reports.json_report import instance_dict
from auditor.terminal import visible
from tests.html_reports import (
    CAPABILITIES,
    DEMO,
    DEMO_INSTANCES,
    EXTRA_HOPS,
    HOSTILE,
    IMDS_OFF,
    LOCKED_DOWN,
    demo_audit,
    hostile_estate,
    with_extra_hops,
)
from tests.html_tree import Element, parse
from tests.prelaunch_helpers import isolated_template, write

SSM_TIMEOUT = (
    "2026-11-20 10:00:01 ERROR [HealthCheck] error when calling AWS APIs. error details - "
    "RequestError: send request failed\n"
    'caused by: Post "https://ssm.eu-west-1.amazonaws.com/": dial tcp 52.95.120.1:443: i/o '
    "timeout\n")


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out


def page_of(capsys, *argv: str) -> tuple[int, str, Element]:
    code, out = run(capsys, *argv, "--format", "html")
    root, doctype = parse(out)
    assert doctype.lower() == "doctype html"
    return code, out, root


def json_of(capsys, *argv: str) -> tuple[int, dict]:
    code, out = run(capsys, *argv, "--format", "json")
    return code, json.loads(out)


def data_of(root: Element) -> dict[str, Any]:
    return json.loads(root.by_id("report-data").text())


def rows_of(root: Element) -> list[Element]:
    return root.by_id("instance-table").find("tbody").find_all("tr")


def sections_of(root: Element) -> dict[str, Element]:
    return {section.attrs["id"]: section for section in root.find_all("details", "inst")}


# --- the demo estate --------------------------------------------------------------------------


def test_html_is_a_format_of_every_report_command():
    assert "html" in formats()


def test_the_demo_page_has_a_row_and_a_section_per_instance(capsys):
    code, _, root = page_of(capsys, "--all", "--snapshot", str(DEMO))
    json_code, report = json_of(capsys, "--all", "--snapshot", str(DEMO))
    assert code == json_code == 1
    instances = report["instances"]
    rows = rows_of(root)
    assert [row.attrs["data-v"] for row in rows] == [i["verdict"] for i in instances]
    sections = sections_of(root)
    assert list(sections) == [anchor(i["instance_id"]) for i in instances]
    for row, instance in zip(rows, instances, strict=True):
        link = row.find("a")
        assert link.attrs["href"] == f"#{anchor(instance['instance_id'])}"
        assert link.attrs["href"][1:] in sections
        assert (row.attrs.get("data-c") or "").split() == list(dict.fromkeys(
            f["code"] for f in instance["findings"]))
        assert instance["verdict"].replace("_", " ") in row.text()
        assert (instance["name"] or "") in row.text()
    for section, instance in zip(sections.values(), instances, strict=True):
        summary = section.find("summary").text()
        assert instance["instance_id"] in summary
        assert instance["verdict"].replace("_", " ") in summary  # a word, not only a colour


def test_counts_by_verdict_and_the_chart_by_code(capsys):
    _, _, root = page_of(capsys, "--all", "--snapshot", str(DEMO))
    _, report = json_of(capsys, "--all", "--snapshot", str(DEMO))
    counts = {link.attrs["data-v"]: int(link.find(cls="count").text())
              for link in root.find(cls="counts").find_all("a")}
    assert {verdict: n for verdict, n in counts.items() if n} == report["summary"]
    instances_by_code: dict[str, int] = {}
    for instance in report["instances"]:
        for code in {f["code"] for f in instance["findings"]}:
            instances_by_code[code] = instances_by_code.get(code, 0) + 1
    bars = {bar.attrs["data-code"]: int(bar.find_all("text")[1].text().split()[0])
            for bar in root.find("svg", "chart").find_all("a")}
    assert bars == instances_by_code
    by_vpc = root.find("table", "groups")
    assert sum(int(row.find_all("td")[2].text()) for row in by_vpc.find("tbody").find_all("tr")
               ) == len(report["instances"])


def test_each_section_says_what_decides(capsys):
    _, _, root = page_of(capsys, "--all", "--snapshot", str(DEMO))
    locked = root.by_id(anchor(LOCKED_DOWN))
    deciding = [li.text() for li in locked.find_all("ul", "deciding")[0].find_all("li")]
    assert any("sg_egress" in line and "deny" in line for line in deciding)
    finding = locked.find("li", "finding")
    assert "SG_EGRESS_BLOCKS" in finding.text()
    assert "ssm, ssmmessages, ec2messages" in finding.find(cls="scope").text()
    fix = finding.find("a", data_fix="SG_EGRESS_BLOCKS")
    assert fix.attrs["href"] == "#code-SG_EGRESS_BLOCKS"
    entry = root.by_id("code-SG_EGRESS_BLOCKS")
    assert entry.find(cls="fix").find_all("code", "cmd")  # the fix's commands, to copy
    imds = root.by_id(anchor(IMDS_OFF))
    exact = [code.text() for code in imds.find_all("code", "cmd")]
    assert any(IMDS_OFF in command and "--http-endpoint enabled" in command
               for command in exact)
    healthy = root.by_id(anchor("i-0000000000000000d"))
    assert healthy.find(cls="quiet")  # nothing to say: one line
    assert not healthy.find_all(cls="services")


def test_the_diagrams_tables_share_proofs_and_hold_every_instance(capsys):
    _, _, root = page_of(capsys, "--all", "--snapshot", str(DEMO))
    _, report = json_of(capsys, "--all", "--snapshot", str(DEMO))
    data = data_of(root)
    assert len(data["instances"]) == len(report["instances"])
    distinct = {json.dumps([name, service], sort_keys=True)
                for instance in report["instances"]
                for services in [instance["services"], *(
                    capability.get("services", {})
                    for capability in instance.get("capabilities", {}).values()
                    if capability["status"] not in ("ok", "not_applicable")
                    and instance["verdict"] != "not_manageable")]
                for name, service in services.items()}
    assert len(data["proofs"]) == len(distinct)  # each proof written once, however shared
    for section in sections_of(root).values():
        entry = data["instances"][int(section.attrs["data-k"])]
        instance = next(i for i in report["instances"]
                        if anchor(i["instance_id"]) == section.attrs["id"])
        credential, *proofs = entry
        assert data["credentials"][credential]["credentials"] == instance["credentials"]
        for number, (name, service) in zip(proofs, instance["services"].items(), strict=True):
            proof = data["proofs"][number]
            assert (proof["service"], proof["status"], proof["via"]) == (
                name, service["status"], service["via"])
            assert [data["hops"][hop] for hop in data["paths"][proof["path"]]] == \
                service["path"]


def test_the_demo_draws_where_a_capability_stops_and_leaves_working_ones_quiet(capsys):
    _, _, root = page_of(capsys, "--all", "--snapshot", str(DEMO))
    data = data_of(root)
    sections = sections_of(root)
    db = sections[anchor("i-00000000000000037")]  # db-isolated-endpoints: no kms endpoint
    reached = dict(data["reached"][db.attrs["data-k"]])
    kms = data["proofs"][reached["session manager: kms"]]
    hops = [data["hops"][hop] for hop in data["paths"][kms["path"]]]
    assert kms["status"] == "blocked" and any(hop["decision"] == "deny" for hop in hops)
    # The section links to its capability table, written once for every instance sharing it.
    link = db.find("p", "caps").find("a")
    shared = root.by_id(link.attrs["href"].removeprefix("#"))
    assert "SESSION_KMS_UNREACHABLE" in shared.find("table", "caps").text()
    assert not db.find_all("table", "caps")
    healthy = sections[anchor("i-0000000000000000d")]  # web-public: every capability ok
    assert healthy.attrs["data-k"] not in data["reached"]


def test_capabilities_that_work_or_follow_an_unmanageable_agent_take_one_line(capsys):
    _, _, root = page_of(capsys, "--all", "--snapshot", str(DEMO))
    sections = sections_of(root)
    healthy = sections[anchor("i-0000000000000000d")]
    assert not healthy.find_all("table", "caps")
    assert healthy.find("p", "caps").text().split() == ["ok", "session", "manager", "\u00b7",
                                                         "ok", "patching"]
    locked = sections[anchor(LOCKED_DOWN)]  # SG_EGRESS_BLOCKS: the agent comes first
    line = locked.find("p", "caps").text()
    assert "SESSION_KMS_UNREACHABLE" in line and "the agent is not manageable" in line
    assert not locked.find_all("table", "caps")
    assert locked.attrs["data-k"] not in data_of(root)["reached"]
    # Its capabilities' unreachable services are in that line, not again among the findings.
    codes = [code.text() for code in locked.find("ul", "findings").find_all("code", "code")]
    assert "SG_EGRESS_BLOCKS" in codes and "SESSION_KMS_UNREACHABLE" not in codes


def test_the_page_loads_nothing_from_elsewhere(capsys):
    _, out, root = page_of(capsys, "--all", "--snapshot", str(DEMO))
    fetching = {"src", "srcset", "action", "formaction", "poster", "data", "background",
                "xlink:href", "ping", "manifest"}
    for element in root.iter():
        assert element.tag not in ("link", "iframe", "img", "object", "embed", "base", "image",
                                   "audio", "video", "source", "use")
        assert not fetching & set(element.attrs), element
        assert not any(name.startswith("on") for name in element.attrs), element
        href = element.attrs.get("href")
        assert href is None or href.startswith("#"), href
    scripts = root.find_all("script")
    assert [s.attrs.get("type") for s in scripts] == ["application/json", None]
    script = scripts[1].text()
    assert not re.search(r"https?:|//[a-z]|fetch\(|XMLHttpRequest|WebSocket|EventSource|"
                         r"sendBeacon|import\(|Worker\(|\.src\b|location\s*=", script)
    assert "url(" not in CSS and "@import" not in CSS
    policy = root.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in policy
    for source, name in ((scripts[1].text(), "script-src"), (root.find("style").text(),
                                                            "style-src")):
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"{name} 'sha256-{digest}'" in policy  # exactly this script and style run
    assert not re.search(r"https?://", out.split('id="report-data"')[0].split("<main>")[0])


def test_sections_are_kept_as_text_for_a_scripted_parser(capsys):
    """With JavaScript the browser reads <noscript> as raw text up to the first </noscript>:
    each section must be whole inside its own."""
    _, out, _ = page_of(capsys, "--all", "--snapshot", str(DEMO))
    hidden = re.findall(r'<noscript class="inst"[^>]*>(.*?)</noscript>', out, re.S)
    assert len(hidden) == DEMO_INSTANCES
    for markup in hidden:
        assert markup.startswith("<details") and markup.endswith("</details>")
        assert "<noscript" not in markup and "<script" not in markup


# --- hostile values ---------------------------------------------------------------------------


def test_values_from_the_estate_are_text_wherever_they_land(capsys, tmp_path):
    snapshot = hostile_estate(tmp_path)
    _, out, root = page_of(capsys, "--all", "--snapshot", str(snapshot))
    assert len(root.find_all("script")) == 2  # ours: the data and the page's script
    assert not root.find_all("img")
    for element in root.iter():
        assert not any(name.startswith("on") for name in element.attrs)
    assert "<script>window" not in out and "<img src" not in out
    hostile_row = next(row for row in rows_of(root) if HOSTILE in row.text())
    assert hostile_row.find_all("td")[2].text() == HOSTILE  # shown as it is, as text
    section = root.by_id(hostile_row.find("a").attrs["href"][1:])
    assert HOSTILE in section.find("summary").text()
    assert f"policy{HOSTILE}" in section.text()  # the deny's policy name, in its finding
    data = data_of(root)  # the JSON block parses, and holds the role name as it is
    assert any(HOSTILE in " ".join(entry["credentials"]["chain"])
               for entry in data["credentials"])
    block = out.split('<script type="application/json" id="report-data">')[1].split(
        "</script>")[0]
    assert not set("<>&\u2028\u2029") & set(block)
    for markup in re.findall(r'<noscript class="inst"[^>]*>(.*?)</noscript>', out, re.S):
        assert markup.endswith("</details>") and "</noscript" not in markup.lower()
    for element in root.iter():
        href = element.attrs.get("href")
        assert href is None or href.startswith("#")


def test_script_json_escapes_what_could_end_or_bend_the_block():
    encoded = script_json({"a": "</script><!--\u2028\u2029&"})
    assert not set("<>&\u2028\u2029") & set(encoded)
    assert json.loads(encoded) == {"a": "</script><!--\u2028\u2029&"}


# Escape sequences a terminal acts on (a title, a cleared screen, colours, C1's CSI), NUL, DEL,
# a carriage return and a bidirectional override that reorders what a reader sees.
CONTROL = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b1m\x00\x7f\u202eevil\r<b>bold</b>"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_control_characters_from_the_estate_are_shown_not_sent(capsys, tmp_path):
    snapshot = hostile_estate(tmp_path, CONTROL)
    _, out, root = page_of(capsys, "--all", "--snapshot", str(snapshot))
    assert not _UNSAFE.search(out), _UNSAFE.search(out)  # also on a terminal: --format html
    shown = visible(CONTROL)  # as the text report shows them
    assert "\\x1b]0;owned\\x07" in shown and "\\u202e" in shown
    hostile_row = next(row for row in rows_of(root) if shown in row.text())
    assert hostile_row.find_all("td")[2].text() == shown
    assert not hostile_row.find_all("b")
    section = root.by_id(hostile_row.find("a").attrs["href"][1:])
    assert shown in section.find("summary").text() and f"policy{shown}" in section.text()
    data = data_of(root)  # what the page's script draws: decoded, still nothing to act on
    assert not _UNSAFE.search(json.dumps(data, ensure_ascii=False))
    assert any(f"role{shown}" in " ".join(entry["credentials"]["chain"])
               for entry in data["credentials"])


def test_escape_sequences_in_log_evidence_are_shown_not_sent(capsys, tmp_path):
    log = tmp_path / "agent.log"
    log.write_text(SSM_TIMEOUT.replace("i/o timeout", "i/o \x1b]0;owned\x07\x1b[2Jtimeout"))
    _, out, root = page_of(capsys, "--instance", LOCKED_DOWN, "--snapshot", str(DEMO),
                           "--logs", str(log))
    assert not _UNSAFE.search(out)
    evidence = root.by_id(anchor(LOCKED_DOWN)).find("li", "symptom").find("pre").text()
    assert "i/o \\x1b]0;owned\\x07\\x1b[2Jtimeout" in evidence


def test_script_json_shows_control_characters_and_keeps_clean_data_as_it_is():
    clean = {"a": ["text", 1, None, True, {"b": "line\nbreak\ttab \\bin"}]}
    assert json.loads(script_json(clean)) == clean
    hostile = {"\x1bkey": ["\x9bx", {"c": "\u202e\r"}], "n": 2}
    assert json.loads(script_json(hostile)) == {
        "\\x1bkey": ["\\x9bx", {"c": "\\u202e\\x0d"}], "n": 2}


# --- what other parts of the report add -------------------------------------------------------


def _with(monkeypatch, extra_fields, extra_top=None) -> None:
    """The report's dictionaries with fields this renderer learns of only by reading them."""
    from auditor.reports import json_report

    def fields(audit, locate):
        return {**json_report.instance_fields(audit, locate), **extra_fields(audit)}

    monkeypatch.setattr(html_report, "instance_fields", fields)
    if extra_top:
        monkeypatch.setattr(html_report, "report_fields",
                            lambda report: {**json_report.report_fields(report), **extra_top})


def test_organization_fields_give_tables_per_account_and_region(monkeypatch):
    report = demo_audit()
    accounts = {audit.instance.instance_id: ("111122223333" if i % 2 else "444455556666")
                for i, audit in enumerate(report.instances)}
    units = [{"account_id": "111122223333", "region": "eu-west-1", "status": "ok",
              "instances": 10},
             {"account_id": "444455556666", "region": "eu-west-1", "status": "ok",
              "instances": 11},
             {"account_id": "111122223333", "region": "eu-central-1", "status": "ok",
              "instances": 5},
             {"account_id": "444455556666", "region": "eu-central-1", "status": "ok",
              "instances": 5},
             {"account_id": "777788889999", "region": "us-east-1", "status": "error",
              "error": "AccessDenied: sts:AssumeRole on ssm-auditor-readonly", "instances": 0}]
    _with(monkeypatch, lambda audit: {"account_id": accounts[audit.instance.instance_id]},
          {"units": units})
    root, _ = parse(html_report.render(report))
    tables = {table.find("caption").text(): table for table in root.find_all("table", "groups")}
    by_unit = tables["By account and region"]
    rows = {tuple(td.text() for td in row.find_all("td")[:2]): row
            for row in by_unit.find("tbody").find_all("tr")}
    assert set(rows) == {(accounts[audit.instance.instance_id], audit.instance.region)
                         for audit in report.instances} | {("777788889999", "us-east-1")}
    assert {("111122223333", "eu-west-1"), ("444455556666", "eu-west-1"),
            ("111122223333", "eu-central-1"), ("444455556666", "eu-central-1")} < set(rows)
    assert "AccessDenied" in rows[("777788889999", "us-east-1")].text()
    assert "account" in [th.attrs.get("data-col") for th in
                         root.by_id("instance-table").find("thead").find_all("th")]
    assert {row.find_all("td")[3].text() for row in rows_of(root)} == set(accounts.values())
    assert root.find("input", name="account")  # and a filter on it
    assert "VPC" in [th.text() for th in tables["By VPC"].find("thead").find_all("th")]


def test_the_organization_writer_makes_the_same_page_from_units():
    import io

    report = demo_audit()
    out = io.StringIO()
    writer = html_report.UnitWriter(out)
    writer.begin({"kind": "organization", "organization": {"id": "o-abc", "units": 2}})
    documents = [dict(instance_dict(audit), account_id="111122223333")
                 for audit in report.instances]
    writer.unit({"unit": {"account_id": "111122223333", "region": "eu-west-1",
                          "status": "ok"}, "instances": documents[:10]})
    writer.unit({"unit": {"account_id": "111122223333", "region": "eu-west-2",
                          "status": "error", "error": "region disabled"},
                 "instances": []})
    writer.unit({"unit": {"account_id": "111122223333", "region": "eu-west-1",
                          "status": "ok"}, "instances": documents[10:]})
    writer.end([{"account_id": "111122223333", "region": "eu-west-1", "status": "ok",
                 "instances": DEMO_INSTANCES},
                {"account_id": "111122223333", "region": "eu-west-2", "status": "error",
                 "error": "region disabled", "instances": 0}], {"manageable": 4})
    root, _ = parse(out.getvalue())
    assert len(rows_of(root)) == len(sections_of(root)) == len(report.instances)
    assert "o-abc" in root.find("header").text()
    assert "region disabled" in root.find("table", "groups").text()
    standalone, _ = parse(html_report.render(report))
    assert [row.attrs["data-v"] for row in rows_of(root)] == [
        row.attrs["data-v"] for row in rows_of(standalone)]


CAPABLE = "i-00000000000000010"  # app-behind-nat, manageable


def test_capabilities_are_shown_as_the_report_holds_them(monkeypatch):
    report = demo_audit()  # an instance whose agent is manageable: its capabilities in full
    _with(monkeypatch, lambda audit: {"capabilities": CAPABILITIES})
    root, _ = parse(html_report.render(report))
    link = root.by_id(anchor(CAPABLE)).find("p", "caps").find("a")
    table = root.by_id(link.attrs["href"].removeprefix("#")).find("table", "caps")
    rows = {row.find("th").text(): row for row in table.find("tbody").find_all("tr")}
    assert set(rows) == {"session manager", "patching"}
    session = rows["session manager"]
    assert "fail" in session.text() and "SESSION_KMS_DENIED" in session.text()
    assert "the key policy does not allow kms:Decrypt" in session.text()
    assert "arn:aws:iam::1:role/ops" in session.text()  # operator: shown as it is
    kms = session.find("ul", "services").find("li")
    assert "kms" in kms.text() and "blocked" in kms.text()
    assert "sg-0kms" in kms.find("ul", "deciding").text()  # the hop that refuses, in words
    assert "unknown" in rows["patching"].text()
    data = data_of(root)
    number = root.by_id(anchor(CAPABLE)).attrs["data-k"]
    [(label, proof)] = data["reached"][number]
    assert label == "session manager: kms" and data["proofs"][proof]["status"] == "blocked"
    assert [data["hops"][h]["resource_id"] for h in data["paths"][data["proofs"][proof]["path"]]
            ] == ["sg-0kms", "vpce-0kms"]


def test_fields_no_version_knew_are_still_shown(monkeypatch):
    report = demo_audit()
    _with(monkeypatch, lambda audit: {"future_field": {"answer": "forty-two"}},
          {"template_warnings": ["a warning"]})
    root, _ = parse(html_report.render(report))
    assert "forty-two" in root.by_id(anchor(LOCKED_DOWN)).text()
    assert "a warning" in root.by_id("more").text()


def test_hops_of_any_step_reach_the_diagrams():
    root, _ = parse(html_report.render(with_extra_hops(demo_audit())))
    data = data_of(root)
    assert {hop.step for hop in EXTRA_HOPS} <= {hop["step"] for hop in data["hops"]}
    section = root.by_id(anchor(LOCKED_DOWN))
    deciding = section.find_all("ul", "deciding")[0].text()
    assert "pcx-0abc" in deciding and "thing-1" in deciding  # undecided and refusing hops
    assert "tgw-rtb-0abc" not in deciding  # an allowing hop is drawn, not listed


# --- plan, verification, logs, templates ------------------------------------------------------


def test_a_plan_shows_each_instance_before_and_after(capsys, tmp_path):
    plan_path = tmp_path / "plan.json"
    _, _, root = page_of(capsys, "--all", "--snapshot", str(DEMO), "--plan", str(plan_path))
    plan = json.loads(plan_path.read_text())
    section = root.by_id("plan")
    rows = section.find("table").find("tbody").find_all("tr")
    assert len(rows) == len(plan["instances"])
    for row, planned in zip(rows, plan["instances"], strict=True):
        assert planned["instance_id"] in row.text()
        cells = row.find_all("td")
        words = cells[1].text()
        assert planned["verdict_before"].replace("_", " ") in words
        assert planned["verdict_after"].replace("_", " ") in words
        for change in planned["fixed_by"]:
            assert root.by_id(f"change-{change}")
    commands = [code.text() for code in section.find_all("code", "cmd")]
    assert {step["command"] for step in plan["manual_steps"]} <= set(commands)
    imds = root.by_id(anchor(IMDS_OFF)).find(cls="plan")
    assert "manageable" in imds.text()
    assert any(IMDS_OFF in code.text() for code in imds.find_all("code", "cmd"))


def test_a_verification_shows_each_instance_before_and_after():
    report = demo_audit()
    before = {audit.instance.instance_id: "not_manageable" for audit in report.instances}
    report.source.after_plan = {"cdk_out": "cdk.out", "stacks": ["EndpointsStack"],
                                "plan_found": True, "manual_steps_assumed": ["aws ec2 x"],
                                "manual_steps_not_modelled": [], "unresolved": {},
                                "verdicts_before": before}
    root, _ = parse(html_report.render(report))
    rows = root.by_id("plan").find("table").find("tbody").find_all("tr")
    assert len(rows) == len(report.instances)
    healthy = next(row for row in rows if "i-0000000000000000d" in row.text())
    assert "not manageable" in healthy.text() and "✔" not in healthy.text()
    assert "aws ec2 x" in root.by_id("plan").text()


def test_log_symptoms_sit_beside_the_findings_they_bear_on(capsys, tmp_path):
    log = tmp_path / "agent.log"
    log.write_text(SSM_TIMEOUT)
    _, _, root = page_of(capsys, "--instance", LOCKED_DOWN, "--snapshot", str(DEMO),
                         "--logs", str(log))
    finding = root.by_id(anchor(LOCKED_DOWN)).find("li", "finding")
    assert "SG_EGRESS_BLOCKS" in finding.text()
    symptom = finding.find("li", "symptom")
    assert "confirmed" in symptom.text() and "endpoint_unreachable" in symptom.text()
    assert "i/o timeout" in symptom.find("pre").text()
    assert "agent.log" in root.by_id(anchor(LOCKED_DOWN)).text()


def test_prelaunch_writes_the_page_with_where_each_resource_is_written(capsys, tmp_path):
    template = isolated_template()
    template["Resources"]["EndpointSg"]["Properties"]["SecurityGroupIngress"] = []
    path = write(tmp_path, template)
    code, out = run(capsys, "prelaunch", str(path), "--format", "html")
    json_code, _ = run(capsys, "prelaunch", str(path), "--format", "json")
    assert code == json_code == 1
    root, _ = parse(out)
    [row] = rows_of(root)
    section = root.by_id(row.find("a").attrs["href"][1:])
    assert f"template {path}:" in section.find(cls="facts").text()
    assert " App " in section.find(cls="facts").text()
    finding = next(f for f in section.find_all("li", "finding")
                   if "ENDPOINT_SG_INGRESS_BLOCKS" in f.text())
    assert "(EndpointSg)" in finding.find("p").text()  # where the finding's resource is written


def test_a_template_that_launches_nothing_says_so(capsys, tmp_path):
    template = tmp_path / "empty.yaml"
    template.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    _, out = run(capsys, "prelaunch", str(template), "--format", "html")
    root, _ = parse(out)
    assert "Nothing to check" in root.find(cls="nothing").text()


@pytest.mark.parametrize("verbose", [False, True])
def test_render_options_do_not_change_the_page(verbose):
    report = demo_audit()
    assert render(report, "html", RenderOptions(verbose=verbose)) == render(report, "html")
