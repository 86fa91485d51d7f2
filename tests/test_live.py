"""A live `kg serve` (gunicorn) on 127.0.0.1: real clients get the in-process graph's answers; limits hold.

SPARQLWrapper (JSON, XML, CSV, Turtle, JSON-LD) and rdflib's SPARQLStore run every query of queries/ (and a few
graph and boolean queries) and must give what rdflib's own engine gives on the in-process dataset.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import DOCS, console_steps, fenced_blocks, run_curl_example
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_isomorphic
from rdflib.query import Result
from SPARQLWrapper import CSV, JSON, JSONLD, TURTLE, XML, SPARQLWrapper

from kg.namespaces import PREFIXES, sparql_prologue
from kg.queries import named_queries
from kg.query import run

QUERIES = named_queries()
EXTRA_QUERIES = {
    "count-claims-graph": "CONSTRUCT { ?c a ct:CountClaim ; schema:value ?v } WHERE { ?c a ct:CountClaim ; "
                          "schema:value ?v }",
    "describe-dgst": "DESCRIBE kg:org-dgst",
    "ask-dgst": "ASK { kg:org-dgst ?p ?o }",
}
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _query_cases(*forms: str):
    """The queries of queries/ and the extra ones, as test parameters, keeping those of the given forms."""
    from kg.store.guard import scan

    texts = {name: q.text for name, q in QUERIES.items()}
    texts |= {name: sparql_prologue() + text for name, text in EXTRA_QUERIES.items()}
    return [pytest.param(text, id=name) for name, text in texts.items() if not forms or scan(text).form in forms]


def test_queries_were_found():
    assert QUERIES, "no .rq file found in queries/"


def _expected(dataset, text):
    """The answer of rdflib's engine on the in-process dataset: the reference."""
    return run(dataset, text)


def _rows(result, ordered: bool) -> list[tuple]:
    rows = [tuple("_:b" if isinstance(t, BNode) else t for t in row) for row in result]
    return rows if ordered else sorted(rows, key=lambda r: [("" if t is None else t.n3()) for t in r])


def _term(binding: dict | None):
    if binding is None:
        return None
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return "_:b"
    return Literal(value, lang=binding.get("xml:lang"), datatype=binding.get("datatype"))


def _wrapper(live_server, text: str, fmt: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(live_server["url"] + "/sparql")
    sparql.setQuery(text)
    sparql.setReturnFormat(fmt)
    return sparql


@pytest.mark.parametrize("text", _query_cases("SELECT", "ASK"))
def test_sparqlwrapper_json_and_xml(live_server, dataset, text):
    expected = _expected(dataset, text)
    ordered = "ORDER BY" in text.upper()
    as_json = _wrapper(live_server, text, JSON).query().convert()
    as_xml = Result.parse(io.BytesIO(_wrapper(live_server, text, XML).query().response.read()), format="xml")
    if expected.type == "ASK":
        assert as_json["boolean"] is expected.askAnswer
        assert as_xml.askAnswer is expected.askAnswer
        return
    variables = [str(v) for v in expected.vars]
    assert as_json["head"]["vars"] == variables
    json_rows = [tuple(_term(b.get(v)) for v in variables) for b in as_json["results"]["bindings"]]
    assert _rows(json_rows, ordered) == _rows(expected, ordered)
    assert _rows(as_xml, ordered) == _rows(expected, ordered)
    assert expected.bindings, "a competency question with no answer"


@pytest.mark.parametrize("text", _query_cases("SELECT"))
def test_sparqlwrapper_csv(live_server, dataset, text):
    expected = _expected(dataset, text)
    body = _wrapper(live_server, text, CSV).query().convert()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows[0] == [str(v) for v in expected.vars]
    want = [["" if t is None else str(t) for t in row] for row in expected]
    ordered = "ORDER BY" in text.upper()
    assert (rows[1:] if ordered else sorted(rows[1:])) == (want if ordered else sorted(want))


@pytest.mark.parametrize("text", _query_cases("CONSTRUCT", "DESCRIBE"))
@pytest.mark.parametrize("fmt", [TURTLE, JSONLD])
def test_sparqlwrapper_graphs(live_server, dataset, text, fmt):
    expected = _expected(dataset, text).graph
    got = _wrapper(live_server, text, fmt).query().convert()
    if isinstance(got, bytes):
        got = Graph().parse(data=got, format="turtle" if fmt == TURTLE else "json-ld")
    assert to_isomorphic(got) == to_isomorphic(expected)
    assert len(expected) > 0


@pytest.mark.parametrize("text", _query_cases())
def test_rdflib_sparqlstore(live_server, dataset, text):
    graph = Graph(store="SPARQLStore")
    graph.open(live_server["url"] + "/sparql")
    expected = _expected(dataset, text)
    got = graph.query(text, initNs=dict(PREFIXES))
    if expected.type == "ASK":
        assert got.askAnswer is expected.askAnswer
    elif expected.type == "SELECT":
        ordered = "ORDER BY" in text.upper()
        assert _rows(got, ordered) == _rows(expected, ordered)
    else:
        assert to_isomorphic(got.graph) == to_isomorphic(expected.graph)


def _cpu_seconds(root_pid: int) -> float:
    """CPU time used so far by the server's worker processes and their engines."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, changed = {root_pid}, True
    while changed:
        grown = tree | {pid for pid, (ppid, _) in parents.items() if ppid in tree}
        changed, tree = grown != tree, grown
    return sum(parents[pid][1] for pid in tree if pid in parents) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process CPU times from /proc")
def test_slow_query_is_cut_off_while_other_requests_are_answered(live_server):
    time_limit = live_server["time_limit"]
    url = live_server["url"] + "/sparql?"
    slow = {}

    def run_slow():
        started = time.monotonic()
        slow["status"], slow["body"] = _get(url + urllib.parse.urlencode({"query": SLOW}), timeout=30)
        slow["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    status, body = _get(url + urllib.parse.urlencode({"query": "ASK { kg:org-dgst ?p ?o }"}))
    fast_seconds = time.monotonic() - started
    assert (status, json.loads(body)["boolean"]) == (200, True)
    assert fast_seconds < 1
    assert thread.is_alive(), "the slow query should still be running while the fast one is answered"
    thread.join(30)
    assert slow["status"] == 503
    assert slow["body"] == f"503: query stopped after the time limit of {time_limit} s\n".encode()
    assert time_limit - 0.5 < slow["seconds"] < time_limit + 2
    before = _cpu_seconds(live_server["pid"])
    time.sleep(1)
    assert _cpu_seconds(live_server["pid"]) - before < 0.3, "no process may go on computing the stopped query"
    status, body = _get(live_server["url"] + "/health")
    health = json.loads(body)
    assert (status, health["status"]) == (200, "ok")
    assert health["counters"]["timeouts"] >= 1


DOCUMENTED_URL = "http://127.0.0.1:5000"


def _console_examples() -> list:
    """Each `$ curl ...` line of a ```console block in the docs, with the output lines after it."""
    return [pytest.param(command, output, id=f"{doc.name}:{command[:60]}")
            for doc in DOCS for info, code in fenced_blocks(doc) if info == "console"
            for command, output in console_steps(code) if command.startswith("curl ")]


CONSOLE = _console_examples()


def test_console_examples_were_found():
    assert len(CONSOLE) >= 5


@pytest.mark.parametrize(("command", "output"), CONSOLE)
def test_console_example(live_server, command, output):
    run_curl_example(command, output, {DOCUMENTED_URL: live_server["url"]})


def test_settings_are_documented():
    from kg.web.settings import SETTINGS

    text = (Path(__file__).parent.parent / "docs" / "serving.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `") and "` | `" in line]
    documented = {row.split("|")[1].strip(" `"): (row.split("|")[2].strip(" `"), row.split("|")[3].strip())
                  for row in rows}
    assert {s.name: (str(s.default), s.help) for s in SETTINGS}.items() <= documented.items()
