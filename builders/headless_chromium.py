"""Drive a headless Chromium through the DevTools protocol, for the HTML report's tests and
benchmark: open a page, read its console errors and network requests, evaluate expressions,
take a screenshot.

The protocol runs over a pipe (``--remote-debugging-pipe``: JSON messages ended by a NUL byte,
the browser reading file descriptor 3 and writing 4), so no port is opened and no websocket
client is needed. The browser starts with a fresh profile and without anything that would call
home (``FLAGS``). ``decode_png`` reads its screenshots with the standard library alone.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--hide-scrollbars")
VIEWPORT = (1280, 900)


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    """The browser to use: ``SSM_AUDITOR_CHROMIUM``, else the first of ``NAMES`` on PATH."""
    chosen = os.environ.get("SSM_AUDITOR_CHROMIUM")
    if chosen:
        return chosen if shutil.which(chosen) else None
    return next((found for name in NAMES if (found := shutil.which(name))), None)


@dataclass
class PageLoad:
    """What happened while a page loaded and since."""

    session: str
    seconds: float  # from navigation to the load event, as this process saw it
    console: list[dict[str, Any]] = field(default_factory=list)  # errors and warnings
    requests: list[str] = field(default_factory=list)  # every URL the page asked for

    @property
    def errors(self) -> list[str]:
        return [entry["text"] for entry in self.console if entry["level"] == "error"]


class Browser:
    """One headless browser; ``open`` pages in it, one at a time."""

    def __init__(self, executable: str, timeout: float = 120.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="ssm-auditor-chromium-")
        to_browser, self._write_end = os.pipe()
        self._read_end, from_browser = os.pipe()
        # The browser reads commands on fd 3 and writes answers on fd 4.
        os.set_inheritable(to_browser, True)
        os.set_inheritable(from_browser, True)

        def place_pipes() -> None:
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self._process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self._profile}",
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(to_browser, from_browser, 3, 4), preexec_fn=place_pipes)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self._target: str | None = None

    # --- the protocol ------------------------------------------------------------------------

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("the browser did not answer in time")
            ready, _, _ = select.select([self._read_end], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._read_end, 1 << 20)
            if not chunk:
                error = self._process.stderr.read().decode(errors="replace") \
                    if self._process.stderr else ""
                raise BrowserError(f"the browser closed the pipe: {error.strip()[-500:]}")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        self._next_id += 1
        number = self._next_id
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write_end, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == number:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, session: str, timeout: float | None = None
                 ) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        for index, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(index)
        while True:
            event = self._receive(deadline)
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self.events.append(event)

    # --- pages -------------------------------------------------------------------------------

    def open(self, url: str, scripts: bool = True,
             viewport: tuple[int, int] = VIEWPORT) -> PageLoad:
        """Navigate a new tab to ``url`` and wait for its load event (the previous tab is
        closed: one page at a time)."""
        if self._target is not None:
            with suppress(BrowserError):
                self.call("Target.closeTarget", {"targetId": self._target})
        target = self._target = self.call("Target.createTarget",
                                          {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=session)
        self.call("Performance.enable", {"timeDomain": "threadTicks"}, session)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": viewport[0], "height": viewport[1], "deviceScaleFactor": 1,
                   "mobile": False}, session)
        if not scripts:
            self.call("Emulation.setScriptExecutionDisabled", {"value": True}, session)
        self.events.clear()
        start = time.monotonic()
        self.call("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        page = PageLoad(session, time.monotonic() - start)
        self.collect(page)
        return page

    def collect(self, page: PageLoad) -> None:
        """Move the events received so far into ``page``: console messages, requests."""
        self.call("Runtime.evaluate", {"expression": "0"}, page.session)  # drain the pipe
        for event in self.events:
            if event.get("sessionId") != page.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                              "warning"):
                text = " ".join(str(a.get("value", a.get("description", "")))
                                for a in params.get("args", []))
                page.console.append({"level": "error" if params["type"] == "error"
                                     else "warning", "text": text})
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                page.console.append({"level": "error", "text": details.get("exception", {})
                                     .get("description") or details.get("text", "")})
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                if entry.get("level") in ("error", "warning"):
                    page.console.append({"level": entry["level"], "text": entry.get("text", "")})
            elif method == "Network.requestWillBeSent":
                page.requests.append(params.get("request", {}).get("url", ""))
        self.events = [e for e in self.events if e.get("sessionId") != page.session]

    def evaluate(self, page: PageLoad, expression: str, timeout: float | None = None) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, page.session, timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description")
                               or details.get("text", "exception"))
        return result.get("result", {}).get("value")

    def metrics(self, page: PageLoad) -> dict[str, float]:
        """The renderer's counters: ``ThreadTime`` (CPU seconds of its main thread, steady on a
        busy machine where wall times are not), ``LayoutDuration``, ``Nodes``..."""
        answer = self.call("Performance.getMetrics", session=page.session)
        return {metric["name"]: metric["value"] for metric in answer["metrics"]}

    def timing(self, page: PageLoad) -> dict[str, float]:
        """The page's own navigation timing, in milliseconds from navigation start."""
        return self.evaluate(page, "JSON.parse(JSON.stringify("
                                   "performance.getEntriesByType('navigation')[0]))")

    def screenshot(self, page: PageLoad, scale: float = 1.0) -> bytes:
        """A PNG of the viewport, ``scale`` times its size."""
        x, y, width, height = self.evaluate(page, "[scrollX, scrollY, innerWidth, innerHeight]")
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "clip": {"x": x, "y": y, "width": width, "height": height,
                                      "scale": scale}}, page.session)
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        with suppress(BrowserError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for end in (self._write_end, self._read_end):
            with suppress(OSError):
                os.close(end)
        if self._process.stderr:
            self._process.stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)


@contextmanager
def browser(executable: str | None = None, timeout: float = 120.0) -> Iterator[Browser]:
    found = executable or find_chromium()
    if found is None:
        raise BrowserError("no Chromium found (apt-get install chromium)")
    started = Browser(found, timeout)
    try:
        yield started
    finally:
        started.close()


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) pixels of an 8-bit, non-interlaced PNG (what the
    browser's screenshots are)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, chunks, header = 8, [], b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError("only 8-bit RGB or RGBA, non-interlaced PNGs are read")
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else
                                      up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows
