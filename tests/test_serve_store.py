"""`kg serve --store PATH` on an existing on-disk store: gunicorn and the engines start from it as it is (build.json
and every file of the store untouched, so nothing was parsed or loaded again) and answer every competency question,
in every inference mode, as the embedded store does; the serving process holds no rdflib graph and never loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import serving
from test_backends import answer
from test_remote import Fronted, get

from kg.inference import INFERENCE_MODES
from kg.queries import named_queries

QUERIES = named_queries()


def snapshot(location: Path) -> dict[str, tuple[int, int]]:
    """Every file of the store with its size and modification time."""
    return {str(p.relative_to(location)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(location.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    location = tmp_path_factory.mktemp("disk") / "store"
    done = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", "build", "--store", str(location)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return location


def test_kg_serve_starts_from_the_store_as_it_is_and_answers_as_the_embedded_store(built, inference_store):
    before, build_json = snapshot(built), (built / "build.json").read_bytes()
    start = time.monotonic()
    with serving("--store", str(built), "--workers", "1") as live:
        print(f"kg serve --store PATH answered /health {time.monotonic() - start:.1f} s after its start")  # -rP
        status, body = get(live["url"], {"query": "ASK {}"})
        assert status == 200
        with open(f"/proc/{live['pid']}/cmdline", "rb") as cmdline:
            assert str(built).encode() in cmdline.read()
        for mode in INFERENCE_MODES:
            for name, query in QUERIES.items():
                assert answer(Fronted(live["url"]), query.text, mode) == answer(inference_store, query.text, mode), (
                    name, mode)
    assert (built / "build.json").read_bytes() == build_json
    assert snapshot(built) == before
    assert json.loads(build_json)["version"] == inference_store.version


SERVING_PROCESS = textwrap.dedent("""
    import gc, json, sys
    import rdflib
    from kg import graph
    from kg.store import open_store
    from kg.web import create_app

    def refuse(*args, **kwargs):
        raise AssertionError("the serving process parsed a file")

    graph.load = graph.load_into = graph.parse_file = refuse
    app = create_app({}, open_store(sys.argv[1], isolate=False))
    client = app.test_client()
    paths = ["/sparql?query=SELECT%20*%20WHERE%20%7B%3Fs%20%3Fp%20%3Fo%7D%20LIMIT%2010", "/", "/id/org-dgst",
             "/queries/cells-since-2002", "/search?q=dgst"]
    statuses = [client.get(path).status_code for path in paths]
    gc.collect()
    graphs = [type(o).__name__ for o in gc.get_objects() if isinstance(o, rdflib.Graph)]
    print(json.dumps({"statuses": statuses, "graphs": graphs, "pyshacl": "pyshacl" in sys.modules}))
""")


def test_the_serving_process_never_parses_and_holds_no_rdflib_graph(built):
    done = subprocess.run([sys.executable, "-c", SERVING_PROCESS, str(built)], capture_output=True, text=True,
                          timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"statuses": [200] * 5, "graphs": [], "pyshacl": False}
