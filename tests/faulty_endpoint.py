"""Faulty AWS endpoints on 127.0.0.1, for the live-fault tests.

``FaultyProxy`` forwards every request to a moto server unless ``fault(service, operation)``
answers it itself: a status and a body (an HTML page, bytes that are not UTF-8, a throttling
error), ``SILENT`` (accept and never answer) or ``RESET`` (close the connection). ``silent_port``
is a listener that accepts connections and never answers; ``closed_port`` refuses them.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

SILENT = "silent"
RESET = "reset"
Answer = tuple[int, bytes] | str | None
Fault = Callable[[str, str], Answer]

_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


def operation_of(headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """(service, operation) of a signed AWS request: JSON APIs name it in X-Amz-Target, query
    APIs (EC2, IAM) in the Action parameter."""
    service = _SERVICE.search(headers.get("Authorization", ""))
    target = headers.get("X-Amz-Target", "")
    if target:
        operation = target.rsplit(".", 1)[-1]
    else:
        operation = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    return (service.group(1) if service else ""), operation


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer

    def log_message(self, *_args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = dict(self.headers.items())
        service, operation = operation_of(headers, body)
        self.server.seen.append((service, operation))
        answer = self.server.fault(service, operation)
        if answer == SILENT:
            self.server.release.wait(60)
            self.close_connection = True
            return
        if answer == RESET:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            return
        if answer is not None:
            status, content = answer
            self._send(status, {"Content-Type": "text/html"}, content)
            return
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=30)
        try:
            upstream.request("POST", self.path, body, headers)
            response = upstream.getresponse()
            content = response.read()
            self._send(response.status, dict(response.getheaders()), content)
        finally:
            upstream.close()

    do_GET = do_POST

    def _send(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection",
                                    "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, fault: Fault) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.fault = fault
        self.seen: list[tuple[str, str]] = []
        self.release = threading.Event()


@contextmanager
def faulty_proxy(upstream_url: str, fault: Fault) -> Iterator[_ProxyServer]:
    """A proxy in front of ``upstream_url`` (http://host:port); its URL is ``url(proxy)``."""
    server = _ProxyServer(upstream_url.split("//", 1)[-1], fault)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


@contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for connection in accepted:
            connection.close()
        listener.close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released): connections are refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
