"""Benchmark the SPARQL endpoint against its peers with wrk: requests/s and p50/p99 latency, with ratios.

Servers, all loaded with the same N-Quads and queried with the same requests (GET, SPARQL JSON results):
  kg           `kg serve`'s app under gunicorn (this project; benchmarked through the same Server class)
  rdflib-ep    rdflib-endpoint (PyPI `rdflib-endpoint`, FastAPI + rdflib), the Python peer
  oxigraph     the Oxigraph server (PyPI `oxigraph`, `oxigraph serve-read-only`, Rust), the practical limit
Scenarios: the competency questions of queries/ on the article graph, and a filter+order query over a synthetic
100k-triple graph; each "distinct" (every request's text differs, so no result cache can help) and "repeated".

Usage: .venv/bin/python benchmarks/endpoint.py [--duration 5] [--only kg,oxigraph]
Needs `pip install -e '.[bench]'` and Debian's `wrk`. Every run is bounded (wrk -d); servers bind 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HEAVY = """PREFIX ex: <http://example.org/bench/>
SELECT ?item ?label ?value WHERE {
  ?item a ex:Item ; ex:label ?label ; ex:value ?value ; ex:category ?category .
  FILTER(?value > 900 && ?category IN (ex:c3, ex:c5, ex:c7))
}
ORDER BY DESC(?value) ?item
LIMIT 50"""
LUA = """
local queries = {%(queries)s}
local distinct = %(distinct)s
local counter = 0
local id = 0
local threads = {}
function setup(thread)
  id = id + 1
  thread:set("id", id)
end
function request()
  counter = counter + 1
  local q = queries[(counter %% #queries) + 1]
  if distinct then
    q = q .. "%%0A%%23" .. (id * 10000000 + counter)
  end
  return wrk.format("GET", "/sparql?query=" .. q, {["Accept"] = "application/sparql-results+json"})
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def synthetic_nquads(items: int = 12_500) -> bytes:
    """About 100k triples: items with a type, label, value, category, date, link and two tags each."""
    ex, graph = "http://example.org/bench/", "<http://example.org/bench/graph>"
    lines = []
    for i in range(items):
        s = f"<{ex}item{i}>"
        lines += [
            f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ex}Item> {graph} .",
            f'{s} <{ex}label> "Item number {i}" {graph} .',
            f'{s} <{ex}value> "{(i * 7919) % 1000}"^^<http://www.w3.org/2001/XMLSchema#integer> {graph} .',
            f"{s} <{ex}category> <{ex}c{i % 10}> {graph} .",
            f'{s} <{ex}date> "{2000 + i % 20}-01-01"^^<http://www.w3.org/2001/XMLSchema#date> {graph} .',
            f"{s} <{ex}next> <{ex}item{(i + 1) % items}> {graph} .",
            f"{s} <{ex}tag> <{ex}t{i % 50}> {graph} .",
            f"{s} <{ex}tag> <{ex}t{(i * 3) % 50}x> {graph} .",
        ]
    return ("\n".join(lines) + "\n").encode()


def article_nquads() -> bytes:
    import kg

    return kg.load().serialize(format="nquads", encoding="utf-8")


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    probe = url + "?" + urllib.parse.urlencode({"query": "ASK {}"})
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.args}")
        try:
            with urllib.request.urlopen(probe, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server not ready: {process.args}")


def start(server: str, data: Path, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if server == "kg":
        command = [sys.executable, __file__, "_serve-kg", str(data), str(port)]
    elif server == "rdflib-ep":
        command = [sys.executable, __file__, "_serve-rdflib", str(data), str(port)]
    else:
        location = workdir / f"oxigraph-{data.stem}"
        if not location.exists():
            subprocess.run([str(BIN / "oxigraph"), "load", "--location", str(location), "--file", str(data)],
                           check=True, capture_output=True)
        # No --timeout-s: with it, oxigraph 0.5.13 starts a thread per query and, under wrk, panics ("failed to
        # allocate an alternative stack") and stops answering, so it runs here without a time limit.
        command = [str(BIN / "oxigraph"), "serve-read-only", "--location", str(location), "--bind",
                   f"127.0.0.1:{port}", "--union-default-graph"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/sparql" if server != "oxigraph" else f"http://127.0.0.1:{port}/query"
    try:
        wait_ready(url, process)
    except SystemExit:
        stop(process)
        raise
    return process, url


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rows(url: str, query: str) -> int:
    request = urllib.request.Request(url + "?" + urllib.parse.urlencode({"query": query}),
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return len(json.load(response)["results"]["bindings"])


def run_wrk(url: str, queries: list[str], distinct: bool, connections: int, duration: int, workdir: Path) -> dict:
    encoded = ", ".join(json.dumps(urllib.parse.quote(q, safe="")) for q in queries)
    script = workdir / "bench.lua"
    script.write_text(LUA % {"queries": encoded, "distinct": "true" if distinct else "false"})
    base = url.rsplit("/", 1)[0]
    path_fix = url.rsplit("/", 1)[1]
    script.write_text(script.read_text().replace('"/sparql?query="', f'"/{path_fix}?query="'))
    threads = min(connections, 2)
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
                           "--latency", "-s", str(script), base], capture_output=True, text=True,
                          timeout=duration + 60, check=True)
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.MULTILINE))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": to_ms(latency["50"]), "p99": to_ms(latency["99"]),
            "failed": int(failed.group(1)) if failed else 0, "socket": errors.group(1) if errors else ""}


def to_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def serve_kg(data: str, port: str) -> None:
    """Serve an N-Quads file with the project's app and gunicorn launcher (what `kg serve` runs)."""
    from kg.serve import Server, gunicorn_options
    from kg.store.isolation import IsolatedStore
    from kg.store.oxigraph import OxigraphStore
    from kg.web import create_app

    store = OxigraphStore({"none": OxigraphStore.load(Path(data).read_bytes())}, version=Path(data).stem)
    app = create_app({}, IsolatedStore(store))
    Server(app, gunicorn_options(app, "127.0.0.1", int(port))).run()


def serve_rdflib_endpoint(data: str, port: str) -> None:
    """rdflib-endpoint as its CLI runs it (Dataset with default union, uvicorn), without per-request access logs."""
    import uvicorn
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    graph = Dataset(default_union=True)
    graph.parse(data, format="nquads")
    app = SparqlEndpoint(graph=graph, path="/sparql")
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "_serve-kg":
        serve_kg(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 4 and sys.argv[1] == "_serve-rdflib":
        serve_rdflib_endpoint(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--only", default="kg,rdflib-ep,oxigraph", help="servers to run, comma-separated")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    servers = args.only.split(",")
    sys.path.insert(0, str(ROOT / "src"))
    from kg.queries import named_queries

    competency = [q.text for q in named_queries().values()]
    workdir = Path(tempfile.mkdtemp(prefix="kg-bench-"))
    datasets = {"article": workdir / "article.nq", "synthetic-100k": workdir / "synthetic.nq"}
    datasets["article"].write_bytes(article_nquads())
    datasets["synthetic-100k"].write_bytes(synthetic_nquads())
    scenarios = [("article", "competency", competency), ("synthetic-100k", "filter+order", [HEAVY])]
    results = []
    try:
        for data_name, label, queries in scenarios:
            for server in servers:
                process, url = start(server, datasets[data_name], workdir)
                try:
                    counts = [rows(url, q) for q in queries]
                    for distinct in (True, False):
                        for connections in (1, 8):
                            result = run_wrk(url, queries, distinct, connections, args.duration, workdir)
                            kind = "distinct" if distinct else "repeated"
                            results.append({"data": data_name, "queries": f"{label}, {kind}", "c": connections,
                                            "server": server, "rows": sum(counts), **result})
                            print(json.dumps(results[-1]), file=sys.stderr)
                finally:
                    stop(process)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(results)


def print_table(results: list[dict]) -> None:
    by_key = {(r["data"], r["queries"], r["c"], r["server"]): r for r in results}
    print("| data | queries | c | server | req/s | p50 ms | p99 ms | non-2xx | rows | kg / server |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        kg = by_key.get((r["data"], r["queries"], r["c"], "kg"))
        ratio = f"{kg['rps'] / r['rps']:.2f}x" if kg and r["server"] != "kg" and r["rps"] else ""
        print(f"| {r['data']} | {r['queries']} | {r['c']} | {r['server']} | {r['rps']:.4g} | {r['p50']:.2f} | "
              f"{r['p99']:.2f} | {r['failed']} | {r['rows']} | {ratio} |")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
