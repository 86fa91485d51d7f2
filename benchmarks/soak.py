"""Soak test: 8 clients for 30 s against a live `kg serve` on 127.0.0.1, normal and pathological queries mixed.

Prints, per kind of request, how many were sent, their statuses and their p50/p99 latency; the 5xx count; and the
resident memory of the server's processes (the gunicorn master, its workers and their engines) before and after,
with the largest single process seen while it ran (a runaway query's engine, under its memory limit).
Normal queries must all succeed; pathological ones must get their 4xx/503, never hang and never take the server down.

    .venv/bin/python benchmarks/soak.py [--clients 8] [--seconds 30] [--engine-memory-mb 512]
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

from kg.queries import named_queries

ROOT = Path(__file__).resolve().parent.parent
DEPTH = 60
NORMAL = {
    "named query": lambda: random.choice(list(named_queries().values())).text,
    "named query, uncached": lambda: random.choice(list(named_queries().values())).text + f"\n# {random.random()}",
    "ASK {}": lambda: "ASK {}",
    "CONSTRUCT": lambda: f"CONSTRUCT WHERE {{ ?s a ?type }} # {random.random()}",
}
PATHOLOGICAL = {
    "cross product (time limit)": lambda: f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} "
                                          f"# {random.random()}",
    "nested OPTIONALs (memory)": lambda: "SELECT * WHERE { " + "".join(
        f"?s{i} ?p{i} ?o{i} OPTIONAL {{ " for i in range(DEPTH)) + "?s ?p ?o" + " }" * DEPTH
        + f" }} # {random.random()}",
    "CONCAT doubling (memory)": lambda: 'SELECT ?v30 WHERE { BIND("xxxxxxxx" AS ?v0) ' + "".join(
        f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1}) " for i in range(30)) + f"}} # {random.random()}",
    "deep nesting": lambda: "ASK {" + "{" * 10_000 + "}" * 10_000 + "}",
    "hidden SERVICE": lambda: "SELECT * WHERE { #\r SERVICE <http://127.0.0.1:8999/x> { ?s ?p ?o } }",
    "big answer": lambda: f"SELECT * WHERE {{ ?a ?b ?c . ?d ?e ?f }} # {random.random()}",
    "malformed": lambda: "SELEC ?x WHERE {",
}
EXPECTED_NORMAL = {200}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_rss(root: int) -> tuple[int, int]:
    """(sum, largest) resident memory in bytes over `root` and its descendants."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            rss[int(entry.name)] = int((entry / "statm").read_text().split()[1]) * 4096
        except (OSError, IndexError, ValueError):
            continue
    tree = {root}
    while grown := {p for p, parent in parents.items() if parent in tree} - tree:
        tree |= grown
    values = [rss.get(p, 0) for p in tree]
    return sum(values), max(values)


BUSY = "503 busy"  # every engine busy: told to retry (Retry-After), the load shedding the limits are for


def request(url: str, text: str | None) -> tuple[int | str, float]:
    """The status of one request (BUSY for a 503 that says every engine is busy; 0: no answer) and its time."""
    started = time.perf_counter()
    data = urllib.parse.urlencode({"query": text}).encode() if text is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        busy = exc.read().startswith(b"503: every query engine is busy")
        status = BUSY if busy else exc.code
    except OSError:
        status = 0  # no answer at all: a hang or a dropped connection
    return status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--pathological", type=float, default=0.2, help="share of pathological requests")
    parser.add_argument("--engine-memory-mb", type=int, default=512)
    parser.add_argument("--query-timeout", type=float, default=5)
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-c", "from kg.cli import main; main()", "serve", "--port", str(port),
                               "--engine-memory-mb", str(args.engine_memory_mb), "--query-timeout",
                               str(args.query_timeout)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while request(base + "/health", None)[0] != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("kg serve did not start")
            time.sleep(0.3)
        for text in (f() for f in NORMAL.values()):  # warm up, so "before" is the steady state
            request(base + "/sparql", text)
        before, _ = tree_rss(server.pid)
        results: dict[str, list[tuple[int, float]]] = defaultdict(list)
        peak, stop = [0], time.monotonic() + args.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < stop:
                kinds = PATHOLOGICAL if rng.random() < args.pathological else NORMAL
                kind = rng.choice(list(kinds))
                results[kind].append(request(base + "/sparql", kinds[kind]()))

        def sample() -> None:
            while time.monotonic() < stop:
                peak[0] = max(peak[0], tree_rss(server.pid)[1])
                time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        threads.append(threading.Thread(target=sample))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after, _ = tree_rss(server.pid)
        alive = request(base + "/health", None)[0]
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()

    print(f"{args.clients} clients, {args.seconds:g} s, {args.pathological:.0%} pathological, engine memory limit "
          f"{args.engine_memory_mb} MB, time limit {args.query_timeout:g} s")
    print(f"| {'kind':<28} | {'sent':>5} | {'statuses':<28} | {'p50 ms':>8} | {'p99 ms':>8} |")
    print(f"| {'-' * 28} | {'-' * 5}: | {'-' * 28} | {'-' * 7}: | {'-' * 7}: |")
    failures = Counter()
    for kind in [*NORMAL, *PATHOLOGICAL]:
        rows = results.get(kind, [])
        if not rows:
            continue
        statuses = Counter(s for s, _ in rows)
        times = sorted(t * 1000 for _, t in rows)
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        shown = ", ".join(f"{s}×{n}" for s, n in sorted(statuses.items(), key=str))
        print(f"| {kind:<28} | {len(rows):>5} | {shown:<28} | {statistics.median(times):>8.1f} | {p99:>8.1f} |")
        wrong = (lambda s: s not in (200, BUSY)) if kind in NORMAL else (lambda s: s == 0 or s not in (BUSY, 503)
                                                                          and s >= 500)
        failures.update({s: n for s, n in statuses.items() if wrong(s)})
    every = sorted(t * 1000 for rows in results.values() for _, t in rows)
    statuses = Counter(s for rows in results.values() for s, _ in rows)
    fives = sum(n for s, n in statuses.items() if s == BUSY or s >= 500)
    print(f"all: {len(every)} requests, p50 {statistics.median(every):.1f} ms, p99 "
          f"{every[int(len(every) * 0.99)]:.1f} ms; 5xx: {fives} ({statuses[BUSY]} told to retry, "
          f"{statuses[503]} stopped by a limit, {fives - statuses[BUSY] - statuses[503]} other)")
    print(f"failures (a normal query not answered, a pathological one not refused by a limit, no answer): "
          f"{dict(failures) or 'none'}; /health after: {alive}")
    print(f"server RSS (all processes): before {before / 2**20:.0f} MB, after {after / 2**20:.0f} MB "
          f"(growth {(after - before) / 2**20:+.0f} MB); largest process seen {peak[0] / 2**20:.0f} MB")
    if failures or alive != 200:
        sys.exit(1)


if __name__ == "__main__":
    main()
