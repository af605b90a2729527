"""`--format html` in a real browser: Debian's Chromium, headless, driven through the DevTools
protocol (builders/headless_chromium.py).

The demo page loads without a console error and asks for nothing but itself, draws every
instance's paths, filters and sorts; a hostile Name tag stays text; without JavaScript the
sections are there; the 10,000-instance page opens within the bound docs/BENCHMARK.md states.
Skipped, and says why, where no Chromium is installed (scripts/test.sh installs Debian's when
it runs as root).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.reports import html_report
from auditor.reports.html_markup import anchor
from builders import headless_chromium
from builders.headless_chromium import Browser, PageLoad, decode_png, file_url
from tests.html_reports import (
    CENTRAL_EGRESS,
    DEMO_INSTANCES,
    EXTRA_HOPS,
    HOSTILE,
    IMDS_OFF,
    LOCKED_DOWN,
    PEERED,
    VIA_TGW,
    demo_audit,
    fleet_audit,
    hostile_estate,
    with_extra_hops,
)

# The bounds this machine meets with room (2 shared cores, other jobs running): the issue's
# 2 s for the demo page; for the 10,000-instance page, the main thread's CPU time (steady where
# wall time is not) and a wall time for a loaded machine. Measured figures: docs/BENCHMARK.md.
DEMO_READY_MS = 2000
FLEET_MAIN_THREAD_CPU_S = 8.0
FLEET_READY_WALL_S = 60.0
FLEET_MAX_BYTES = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = headless_chromium.find_chromium()
    if executable is None:
        pytest.skip("no Chromium to test the HTML report in: `apt-get install -y chromium` "
                    "(scripts/test.sh does it when it runs as root on Debian)")
    with headless_chromium.browser(executable) as started:
        yield started


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("html") / "demo.html"
    path.write_text(html_report.render(demo_audit()), encoding="utf-8")
    return path


def settle(browser: Browser, page: PageLoad, expression: str, timeout: float = 5.0):
    """``expression`` once the events it depends on (a section's toggle) have run."""
    deadline = time.monotonic() + timeout
    while True:
        value = browser.evaluate(page, f"new Promise(done => setTimeout(() => done({expression})"
                                       ", 30))")
        if value or time.monotonic() > deadline:
            return value


def open_all(browser: Browser, page: PageLoad) -> None:
    browser.evaluate(page, "document.querySelectorAll('details.inst').forEach("
                           "d => { d.open = true; }); 1")


def test_the_demo_page_loads_clean_and_fast(browser, demo_page):
    page = browser.open(file_url(demo_page))
    assert page.errors == [], page.console
    assert page.requests == [file_url(demo_page)]  # nothing but itself
    timing = browser.timing(page)
    assert timing["domContentLoadedEventEnd"] < DEMO_READY_MS, timing
    assert browser.evaluate(page, "document.querySelectorAll('#instance-table tbody tr')"
                                  ".length") == DEMO_INSTANCES
    assert browser.evaluate(page, "document.querySelectorAll('details.inst').length") \
        == DEMO_INSTANCES
    width, height, rows = decode_png(browser.screenshot(page, scale=0.25))
    pixels = [row[x:x + 3] for row in rows for x in range(0, len(row), 4)]
    not_white = sum(1 for pixel in pixels if min(pixel) < 235)
    assert len(set(pixels)) > 20 and not_white > 0.03 * width * height  # not a blank page


def test_every_section_is_drawn_when_opened(browser, demo_page):
    page = browser.open(file_url(demo_page))
    assert browser.evaluate(page, "document.querySelectorAll('.dg svg').length") == 0
    open_all(browser, page)
    drawn = settle(browser, page, "[...document.querySelectorAll('details.inst')].every("
                                  "d => d.querySelectorAll('.dg svg').length >= 2)")
    assert drawn
    browser.collect(page)
    assert page.errors == [], page.console
    assert page.requests == [file_url(demo_page)]


def test_the_deciding_hop_is_red_and_says_so(browser, demo_page):
    page = browser.open(file_url(demo_page) + f"#{anchor(LOCKED_DOWN)}")
    nodes = settle(browser, page, f"""[...document.querySelectorAll(
        '#{anchor(LOCKED_DOWN)} .dg g.node')].map(n => [n.getAttribute('class'),
        n.querySelector('.rid').textContent, n.querySelector('.state').textContent])""")
    deciding = [node for node in nodes if "blocks here" in node[2]]
    assert deciding and all(cls == "node r" for cls, _, _ in deciding)
    assert {rid for _, rid, _ in deciding} == {"sg-00000000000000016"}
    assert all("\u2716" in state for _, _, state in deciding)  # a mark, not only a colour
    page = browser.open(file_url(demo_page) + f"#{anchor(VIA_TGW)}")
    undecided = settle(browser, page, f"""[...document.querySelectorAll(
        '#{anchor(VIA_TGW)} .dg g.node.a')].map(n => n.querySelector('.state').textContent)""")
    assert "? undecided" in undecided  # the transit gateway's hop
    assert all(state.startswith("?") for state in undecided)  # amber always with its mark


def test_fixes_are_shown_in_place_with_copy_buttons(browser, demo_page):
    page = browser.open(file_url(demo_page) + f"#{anchor(IMDS_OFF)}")
    state = settle(browser, page, f"""(() => {{
        const s = document.getElementById('{anchor(IMDS_OFF)}');
        return s.dataset.drawn !== undefined && [s.querySelectorAll('a[data-fix]').length,
            s.querySelectorAll('code.cmd + button.copy').length,
            s.querySelector('.fix').textContent];
    }})()""")
    links, buttons, fix = state
    assert links == 0 and buttons >= 2  # the catalogue's commands and this instance's own
    assert "modify-instance-metadata-options" in fix


def test_filters_and_sorting(browser, demo_page):
    page = browser.open(file_url(demo_page))

    def shown(field: str, value: str) -> int:
        return settle(browser, page, f"""(() => {{
            const form = document.getElementById('filters');
            form.reset(); form.elements['{field}'].value = {json.dumps(value)};
            form.dispatchEvent(new Event('submit', {{cancelable: true}}));
            return document.querySelectorAll('#instance-table tbody tr:not([hidden])').length;
        }})()""")

    assert shown("v", "unknown") == 5  # three of eu-west-1, forwards-to-on-prem, the VPN spoke
    assert shown("code", "NACL_BLOCKS") == 2  # one in each region
    assert shown("name", "nat-") == 2
    assert shown("vpc", "vpc-0000000000000003a") == 3
    assert shown("subnet", "subnet-00000000000000005") == 4
    names = browser.evaluate(page, """(() => {
        document.querySelector('#instance-table th[data-col=name] button').click();
        return [...document.querySelectorAll('#instance-table tbody tr')].map(
            r => r.cells[2].textContent);
    })()""")
    assert names == sorted(names)
    verdicts = browser.evaluate(page, """(() => {
        document.querySelector('#instance-table th[data-col=verdict] button').click();
        return [...document.querySelectorAll('#instance-table tbody tr')].map(r => r.dataset.v);
    })()""")
    assert verdicts[0] == "not_manageable" and verdicts[-1] == "not_applicable"


def test_a_hostile_name_tag_renders_as_text(browser, tmp_path):
    from auditor.audit import audit_raws
    from auditor.sources.description import SourceDescription
    from auditor.sources.snapshot import read_snapshot

    report, _ = audit_raws(read_snapshot(hostile_estate(tmp_path)), None,
                           SourceDescription("snapshot", path="hostile"))
    path = tmp_path / "hostile.html"
    path.write_text(html_report.render(report), encoding="utf-8")
    page = browser.open(file_url(path))
    open_all(browser, page)
    shown = settle(browser, page, """(() => {
        const sections = [...document.querySelectorAll('details.inst')];
        return sections.every(s => s.dataset.drawn !== undefined) && {
            pwned: window.__pwned === undefined ? null : window.__pwned,
            cells: [...document.querySelectorAll('#instance-table tbody tr')].map(
                r => r.cells[2].textContent),
            summaries: sections.map(s => s.querySelector('summary b').textContent),
            scripts: document.scripts.length,
            images: document.images.length};
    })()""")
    assert shown["pwned"] is None
    assert HOSTILE in shown["cells"]
    assert any(HOSTILE in summary for summary in shown["summaries"])
    assert shown["scripts"] == 2 and shown["images"] == 0
    browser.collect(page)
    assert page.errors == [], page.console
    assert page.requests == [file_url(path)]


def test_without_javascript_the_sections_are_there(browser, demo_page):
    page = browser.open(file_url(demo_page), scripts=False)
    static = browser.evaluate(page, """({
        sections: document.querySelectorAll('details.inst').length,
        rows: document.querySelectorAll('#instance-table tbody tr').length,
        findings: document.querySelectorAll('details.inst li.finding').length,
        drawn: document.querySelectorAll('.dg svg').length,
        filters: getComputedStyle(document.getElementById('filters')).display})""")
    assert static["sections"] == static["rows"] == DEMO_INSTANCES
    assert static["findings"] > 20
    assert static["drawn"] == 0 and static["filters"] == "none"


def test_hop_steps_of_the_shared_networks_and_unknown_ones_are_drawn(browser, tmp_path):
    path = tmp_path / "steps.html"
    path.write_text(html_report.render(with_extra_hops(demo_audit())), encoding="utf-8")
    page = browser.open(file_url(path) + f"#{anchor(LOCKED_DOWN)}")
    nodes = settle(browser, page, f"""[...document.querySelectorAll(
        '#{anchor(LOCKED_DOWN)} .dg g.node')].map(n => [n.querySelector('.kind').textContent,
        n.querySelector('.rid').textContent, n.getAttribute('class')])""")
    kinds = {rid: (kind, cls) for kind, rid, cls in nodes}
    assert kinds["tgw-rtb-0abc"] == ("transit gateway route table", "node g")
    assert kinds["pcx-0abc"] == ("peering connection", "node a")
    assert kinds["Z0123"] == ("hosted zone", "node g")
    assert kinds["thing-1"] == ("some future step", "node r")  # its own name, drawn
    assert {hop.resource_id for hop in EXTRA_HOPS} <= set(kinds)


def diagram(browser: Browser, page: PageLoad, instance_id: str) -> list[list[str]]:
    """The boxes of an instance's first diagram: [kind, resource id, class, state text]."""
    return settle(browser, page, f"""[...document.querySelector(
        '#{anchor(instance_id)} .dg svg').querySelectorAll('g.node')].map(n => [
        n.querySelector('.kind').textContent, n.querySelector('.rid').textContent,
        n.getAttribute('class'), n.querySelector('.state').textContent])""")


def test_a_path_through_a_transit_gateway_is_drawn_hop_by_hop(browser, demo_page):
    """The demo's spoke that leaves by the hub's NAT gateway: each box names its resource, in
    the order the traffic meets them, both transit gateway route tables (the way there and the
    way back) apart; a spoke that relies on a peer's NAT gateway stops at the peering box."""
    page = browser.open(file_url(demo_page) + f"#{anchor(CENTRAL_EGRESS)}")
    boxes = diagram(browser, page, CENTRAL_EGRESS)
    kinds = [kind for kind, _, _, _ in boxes]
    assert kinds[0] == "instance"
    assert all(cls == "node g" for _, _, cls, _ in boxes[1:]), boxes
    wanted = ["security group", "route table", "transit gateway attachment", "network ACL",
              "route table", "transit gateway route table", "transit gateway route table",
              "network ACL", "route table", "NAT gateway", "network ACL", "route table",
              "network ACL", "route table", "internet gateway"]
    at = 0
    for kind in kinds[1:]:  # ``wanted`` in this order (DNS boxes aside)
        if at < len(wanted) and kind == wanted[at]:
            at += 1
    assert at == len(wanted), kinds
    ids = {kind: [rid for k, rid, _, _ in boxes if k == kind] for kind in kinds}
    assert all(rid.startswith("tgw-attach-") for rid in ids["transit gateway attachment"])
    there, back = ids["transit gateway route table"]
    assert there != back and there.startswith("tgw-rtb-") and back.startswith("tgw-rtb-")

    page = browser.open(file_url(demo_page) + f"#{anchor(PEERED)}")
    boxes = diagram(browser, page, PEERED)
    deciding = [box for box in boxes if "blocks here" in box[3]]
    assert len(deciding) == 1, boxes
    kind, rid, cls, _ = deciding[0]
    assert (kind, cls) == ("peering connection", "node r") and rid.startswith("pcx-")


def test_the_fleet_page_opens_and_draws_on_demand(browser, tmp_path):
    report = fleet_audit()
    path = tmp_path / "fleet.html"
    path.write_text(html_report.render(report), encoding="utf-8")
    assert path.stat().st_size < FLEET_MAX_BYTES
    page = browser.open(file_url(path))
    wall, cpu = page.seconds, browser.metrics(page)["ThreadTime"]  # a new renderer per page
    assert page.errors == [], page.console
    assert wall < FLEET_READY_WALL_S and cpu < FLEET_MAIN_THREAD_CPU_S, (wall, cpu)
    counts = browser.evaluate(page, """({
        rows: document.querySelectorAll('#instance-table tbody tr').length,
        built: document.querySelectorAll('details.inst').length,
        kept: document.querySelectorAll('noscript.inst').length})""")
    assert counts == {"rows": 10_000, "built": 0, "kept": 10_000}  # sections built on demand
    last = report.instances[-1].instance.instance_id
    start = time.monotonic()
    drawn = settle(browser, page, f"""(() => {{
        const link = document.querySelector('#instance-table a[href="#{anchor(last)}"]');
        if (!document.getElementById('{anchor(last)}')) {{ link.click(); }}
        const section = document.getElementById('{anchor(last)}');
        return section && section.open && section.querySelectorAll('.dg svg').length;
    }})()""")
    assert drawn and time.monotonic() - start < 5.0


def test_printing_shows_every_section_drawn_and_no_controls(browser, demo_page):
    import base64

    page = browser.open(file_url(demo_page))
    browser.evaluate(page, """window.addEventListener('beforeprint', () => {
        window.printed = [...document.querySelectorAll('details.inst')].map(
            d => d.open && d.querySelectorAll('.dg svg').length >= 2);
    }); 1""")  # after the page's own listener, which opens and draws them
    pdf = base64.b64decode(browser.call("Page.printToPDF", {"printBackground": True},
                                        page.session)["data"])
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(
        b"/Type /Page ") + pdf.count(b"/Type /Page/") > 5
    printed = browser.evaluate(page, "window.printed")
    assert printed == [True] * DEMO_INSTANCES
    assert browser.evaluate(page, "document.querySelectorAll('details.inst[open]').length") == 0
    browser.call("Emulation.setEmulatedMedia", {"media": "print"}, page.session)
    browser.evaluate(page, "document.querySelector('details.inst').open = true; 1")
    hidden = settle(browser, page, """[...document.querySelectorAll('#filters, button.copy')]
        .map(e => getComputedStyle(e).display)""")
    assert len(hidden) > 1 and set(hidden) == {"none"}  # the page's controls are not printed


def test_the_services_capabilities_reach_are_drawn_too(browser, tmp_path, monkeypatch):
    from auditor.reports import json_report
    from tests.html_reports import CAPABILITIES

    CAPABLE = "i-00000000000000010"  # app-behind-nat: a manageable agent

    monkeypatch.setattr(html_report, "instance_fields", lambda audit, locate: {
        **json_report.instance_fields(audit, locate), "capabilities": CAPABILITIES})
    path = tmp_path / "capabilities.html"
    path.write_text(html_report.render(demo_audit()), encoding="utf-8")
    page = browser.open(file_url(path) + f"#{anchor(CAPABLE)}")
    figures = settle(browser, page, f"""[...document.querySelectorAll(
        '#{anchor(CAPABLE)} .dg figure')].map(f => [f.querySelector('figcaption')
        .textContent, [...f.querySelectorAll('g.node.r .rid')].map(n => n.textContent)])""")
    assert ["session manager: kms path blocked", ["sg-0kms", "kms.eu-west-1.amazonaws.com"]] \
        in figures
    browser.collect(page)
    assert page.errors == [], page.console


def press(browser: Browser, page: PageLoad, key: str, code: str, keycode: int) -> None:
    for kind in ("keyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", {
            "type": kind, "key": key, "code": code, "windowsVirtualKeyCode": keycode,
            **({"text": "\r"} if key == "Enter" and kind == "keyDown" else {})}, page.session)


def test_the_keyboard_reaches_and_opens_everything(browser, demo_page):
    page = browser.open(file_url(demo_page))
    press(browser, page, "Tab", "Tab", 9)
    assert browser.evaluate(page, "document.activeElement.className") == "skip"
    browser.evaluate(page, f"""document.querySelector(
        '#instance-table a[href="#{anchor(LOCKED_DOWN)}"]').focus(); 1""")
    press(browser, page, "Enter", "Enter", 13)  # follow the row's link
    assert settle(browser, page, f"""(() => {{
        const s = document.getElementById('{anchor(LOCKED_DOWN)}');
        return s.open && s.querySelectorAll('.dg svg').length >= 2; }})()""")
    browser.evaluate(page, f"document.querySelector('#{anchor(IMDS_OFF)} > summary').focus(); 1")
    press(browser, page, "Enter", "Enter", 13)  # a section's header opens it
    assert settle(browser, page, f"document.getElementById('{anchor(IMDS_OFF)}').open")
    browser.evaluate(page, "document.querySelector('#instance-table th[data-col=name] button')"
                           ".focus(); 1")
    press(browser, page, "Enter", "Enter", 13)  # a header sorts
    assert browser.evaluate(page, "document.querySelector('#instance-table th[data-col=name]')"
                                  ".getAttribute('aria-sort')") == "ascending"
