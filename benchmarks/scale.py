"""Benchmark the embedded on-disk store at growing sizes against the Oxigraph server on the same data; print a table.

    .venv/bin/python benchmarks/scale.py                        # 10k, 100k and 1M triples
    .venv/bin/python benchmarks/scale.py --sizes 10000 100000   # leave out 1M
    .venv/bin/python benchmarks/scale.py --sizes 1000 --repeats 3 --workdir /tmp/scale   # a smoke run

Per size: `kg synth` writes a graph of the shipped shape; `kg build --store` builds the on-disk store (asserted
graphs and each inference mode's closure, by the fast materializer) in a child process with an address-space limit
("build s"; "build MB" is the peak RSS of the largest child so far, which is the build); a second `kg build --store`
opens the existing store ("open s"); `kg serve --store` (gunicorn, engines) is started on it and timed until it
answers ("ready s"); the RSS and PSS of all its processes are summed once the engines run. The Oxigraph server
(`oxigraph serve-read-only --union-default-graph`, PyPI `oxigraph`) is started on a
copy of the same "none" dataset (the files pyoxigraph wrote). Then each query is sent `--repeats` times to both, one
at a time, each text made distinct by a trailing comment so that no result cache answers; the table gives p50 and
p99 in ms, the ratio kg/oxigraph of the p50s (above 1: kg is slower), and whether both gave the same number of rows.
Every child process is bounded in time (--timeout) and the builds in memory (--memory-gb).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))

from sparql_servers import free_port, stop  # noqa: E402

# Competency-shaped queries: by a named node, through place containment, an aggregate over every claim, an ordered
# scan of every attack, and every place with coordinates (one row per place: it grows with the graph).
QUERIES = ("dgst-claims", "events-in-morocco", "figures-by-value-kind", "attacks-in-date-order", "places-on-a-map")


def limit_memory(gigabytes: float):
    def apply() -> None:
        size = int(gigabytes * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return apply


def run(command: list[str], env: dict[str, str], timeout: float, memory_gb: float) -> tuple[float, str]:
    """Run a command to its end; return its wall seconds and output. :raise SystemExit: it failed."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit_memory(memory_gb))
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start, done.stdout


def get(connection: http.client.HTTPConnection, path: str, query: str) -> tuple[float, int]:
    """One GET of `query`; return seconds and number of result rows."""
    start = time.perf_counter()
    connection.request("GET", f"{path}?{urllib.parse.urlencode({'query': query})}",
                       headers={"Accept": "application/sparql-results+json"})
    response = connection.getresponse()
    body = response.read()
    seconds = time.perf_counter() - start
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}: {body[:300]!r}")
    document = json.loads(body)
    return seconds, len(document["results"]["bindings"]) if "results" in document else 1


def wait_ready(port: int, path: str, process: subprocess.Popen, timeout: float) -> float:
    """Seconds until the server on `port` answers a query at `path`."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited: {process.stderr.read()[-2000:]!r}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            get(connection, path, "ASK {}")
            connection.close()
            return time.perf_counter() - start
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{process.args[0]} not ready in {timeout} s")


def tree(pid: int) -> list[int]:
    """`pid` and every process under it."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS summed over the process tree of `pid`, in MB."""
    rss = pss = 0
    for process in tree(pid):
        try:
            for line in Path(f"/proc/{process}/smaps_rollup").read_text().splitlines():
                field, value = line.split(":", 1) if ":" in line else ("", "")
                if field in ("Rss", "Pss"):
                    kilobytes = int(value.split()[0])
                    rss, pss = (rss + kilobytes, pss) if field == "Rss" else (rss, pss + kilobytes)
        except OSError:
            continue
    return rss / 1024, pss / 1024


def latencies(port: int, path: str, text: str, repeats: int) -> tuple[list[float], int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    samples, rows = [], 0
    for i in range(repeats):
        seconds, rows = get(connection, path, f"{text}\n# {time.time_ns()} {i}")
        samples.append(seconds * 1000)
    connection.close()
    return samples, rows


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def served(command, path: str, texts: dict[str, str], args, env: dict[str, str] | None = None):
    """Start `command(port)`, then its seconds to ready, each query's latencies and its memory; stop it."""
    port = free_port()
    server = subprocess.Popen(command(port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready_s = wait_ready(port, path, server, args.timeout)
        times = {name: latencies(port, path, text, args.repeats) for name, text in texts.items()}
        return ready_s, times, memory_mb(server.pid)
    finally:
        stop(server)


def measure(size: int, workdir: Path, args) -> dict:
    from kg.queries import named_queries

    data = workdir / f"graph-{size}"
    shutil.rmtree(data, ignore_errors=True)
    env = {**os.environ, "KG_HOME": str(data), "KG_CACHE_DIR": str(data / ".cache")}
    kg = [str(BIN / "kg")]
    _, written = run([*kg, "synth", "--triples", str(size), "--out", str(data)], dict(os.environ), args.timeout,
                     args.memory_gb)
    triples = int(written.split()[0])
    build_s, _ = run([*kg, "build", "--store", str(data / "store")], env, args.timeout, args.memory_gb)
    build_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    build_json = (data / "store" / "build.json").read_bytes()
    open_s, _ = run([*kg, "build", "--store", str(data / "store")], env, args.timeout, args.memory_gb)
    assert (data / "store" / "build.json").read_bytes() == build_json, "the second build rebuilt the store"
    texts = {name: query.text for name, query in named_queries(data / "queries").items() if name in QUERIES}

    ready_s, kg_times, kg_memory = served(
        lambda port: [*kg, "serve", "--store", str(data / "store"), "--host", "127.0.0.1", "--port", str(port),
                      "--workers", "1"], "/sparql", texts, args, env)
    oxigraph_data = data / "oxigraph"
    shutil.copytree(data / "store" / "none", oxigraph_data)
    oxigraph_ready_s, oxigraph_times, oxigraph_memory = served(
        lambda port: [str(BIN / "oxigraph"), "serve-read-only", "--location", str(oxigraph_data),
                      "--bind", f"127.0.0.1:{port}", "--union-default-graph"], "/query", texts, args)
    stored = json.loads(build_json)
    return {"size": size, "triples": triples, "build": build_s, "build_peak": build_peak_mb, "open": open_s,
            "ready": ready_s, "oxigraph_ready": oxigraph_ready_s, "memory": kg_memory,
            "oxigraph_memory": oxigraph_memory, "kg": kg_times, "oxigraph": oxigraph_times, "modes": stored["modes"]}


def print_table(results: list[dict]) -> None:
    print(f"{'triples':>8} | {'build s':>7} | {'build MB':>8} | {'open s':>6} | {'ready s':>7} | {'ox ready s':>10} | "
          f"{'RSS MB':>7} | {'PSS MB':>7} | {'ox RSS MB':>9}")
    for r in results:
        print(f"{r['triples']:>8} | {r['build']:>7.1f} | {r['build_peak']:>8.0f} | {r['open']:>6.1f} | "
              f"{r['ready']:>7.1f} | {r['oxigraph_ready']:>10.1f} | {r['memory'][0]:>7.0f} | {r['memory'][1]:>7.0f} | "
              f"{r['oxigraph_memory'][0]:>9.0f}")
    print()
    print(f"{'triples':>8} | {'query':<22} | {'rows':>5} | {'kg p50':>7} | {'kg p99':>7} | {'ox p50':>7} | "
          f"{'ox p99':>7} | {'kg/ox':>5} | same rows")
    for r in results:
        for name, (samples, rows) in r["kg"].items():
            peer, peer_rows = r["oxigraph"][name]
            p50, peer_p50 = statistics.median(samples), statistics.median(peer)
            print(f"{r['triples']:>8} | {name:<22} | {rows:>5} | {p50:>7.1f} | {percentile(samples, .99):>7.1f} | "
                  f"{peer_p50:>7.1f} | {percentile(peer, .99):>7.1f} | {p50 / peer_p50:>5.1f} | "
                  f"{'yes' if rows == peer_rows else 'NO'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=20, help="requests per query and server (default 20)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds any one step may take (default 900)")
    parser.add_argument("--memory-gb", type=float, default=3.0, help="address-space limit of the builds (default 3)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the graphs and stores go (default: a "
                        "temporary directory, removed at the end)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kg-scale-"))
    try:
        results = []
        for size in args.sizes:
            results.append(measure(size, workdir, args))
            print(f"measured {size} triples", file=sys.stderr, flush=True)
        print(f"modes served: {', '.join(results[0]['modes'])}; {args.repeats} requests per query; "
              "times in ms; ox = the Oxigraph server")
        print_table(results)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
