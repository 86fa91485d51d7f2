"""A live `kg serve` under load: slow queries and slow sockets never starve it; gunicorn's own pages never appear."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import serving

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
TIME_LIMIT = 6
QUEUE_WAIT = 1


@pytest.fixture(scope="module")
def server():
    """3 engines (2 general, 1 kept for short queries), in one gunicorn worker with 16 threads."""
    with serving("--engines", "3", "--threads", "16", "--query-timeout", str(TIME_LIMIT), "--queue-wait",
                 str(QUEUE_WAIT), "--engine-memory-mb", "300") as running:
        yield running


def _get(url: str, timeout: float = 30) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _query(server, text: str, timeout: float = 30) -> tuple[int, dict, bytes]:
    return _get(server["url"] + "/sparql?" + urllib.parse.urlencode({"query": text}), timeout)


def _raw(server, data: bytes) -> bytes:
    """Send `data` on a fresh connection and read until the server closes it (or 5 s)."""
    port = int(server["url"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and received.endswith(b"\n") and b"Content-Length" in received:
                    head, body = received.split(b"\r\n\r\n", 1)
                    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                    if len(body) >= length:
                        break
        except TimeoutError:
            pass
    return received


class Slowloris:
    """`count` connections that send a request one byte every `interval` seconds, never finishing it."""

    def __init__(self, server, count: int, interval: float = 1.0):
        port = int(server["url"].rsplit(":", 1)[1])
        self.socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        self.interval, self.stopped = interval, threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self):
        request = b"GET /sparql?query=ASK%20%7B%7D HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        for byte in request:
            for sock in self.socks:
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    pass
            if self.stopped.wait(self.interval):
                return

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        for sock in self.socks:
            sock.close()


def _descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    tree = {pid}
    while grown := {p for p, parent in parents.items() if parent in tree} - tree:
        tree |= grown
    return tree - {pid}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the server's processes from /proc")
def test_short_queries_are_answered_while_slow_queries_and_slow_sockets_hold_the_rest():
    with serving("--engines", "3", "--threads", "16", "--query-timeout", str(TIME_LIMIT), "--queue-wait",
                 str(QUEUE_WAIT), "--engine-memory-mb", "300") as server:
        processes = _descendants(server["pid"])
        assert len(processes) >= 4  # a worker and its 3 engines
        slow = {}
        threads = [threading.Thread(target=lambda i=i: slow.__setitem__(i, _query(server, f"{SLOW} # {i}")))
                   for i in range(3)]
        for thread in threads:
            thread.start()
        loris = Slowloris(server, 8)
        try:
            time.sleep(1)  # the slow queries now hold both general engines; the third waits for one
            started = time.monotonic()
            status, _, body = _query(server, "ASK {}")  # ran fast before: /health's probe asks it
            took = time.monotonic() - started
            assert (status, json.loads(body)) == (200, {"head": {}, "boolean": True})
            assert took < 5, f"ASK {{}} took {took:.2f} s while every other engine was busy"
            print(f"ASK {{}} answered in {took:.3f} s while both general engines ran slow queries")
            status, headers, body = _query(server, "ASK { ?s ?p ?o }")  # never seen: waits, then is told to retry
            assert (status, headers["Retry-After"]) == (503, "1")
            assert body == b"503: every query engine is busy; try again in 1 s\n"
            for thread in threads:
                thread.join(TIME_LIMIT + 10)
            statuses = sorted(s for s, _, _ in slow.values())
            assert statuses == [503, 503, 503]
            assert sum(b.startswith(b"503: query stopped after the time limit") for _, _, b in slow.values()) == 2
        finally:
            loris.close()
        status, _, body = _get(server["url"] + "/health")
        assert (status, json.loads(body)["status"]) == (200, "ok")
    deadline = time.monotonic() + 10
    while (left := {p for p in processes if Path(f"/proc/{p}").exists()}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, "engines or workers outlived the server"


def test_health_says_which_containment_holds(server):
    status, _, body = _get(server["url"] + "/health")
    assert (status, json.loads(body)["containment"]) == (200, "network namespace")


def test_a_malformed_chunked_body_is_a_400_with_our_reason(server):
    answer = _raw(server, b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\nzz\r\nASK {}\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.endswith(b"\r\n\r\n400: malformed request body: Invalid chunk size: b'zz'\n")


@pytest.mark.parametrize(("request_bytes", "status", "reason"), [
    (b"GET /sparql?query=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, b"414: Request Line is too large"),
    (b"GET /sparql HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431, b"431: Error parsing headers"),
    (b"GET /sparql HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X%d: a\r\n" % i for i in range(120)) + b"\r\n", 431,
     b"431: Error parsing headers"),
    (b"NONSENSE\r\n\r\n", 400, b"400: Invalid Request Line"),
], ids=["long-request-line", "long-header", "many-headers", "bad-request-line"])
def test_requests_gunicorn_refuses_get_our_one_line_plain_text(server, request_bytes, status, reason):
    answer = _raw(server, request_bytes)
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"Content-Type: text/plain; charset=utf-8" in head and b"X-Content-Type-Options: nosniff" in head
    assert body.startswith(reason) and body.count(b"\n") == 1 and b"<" not in body
