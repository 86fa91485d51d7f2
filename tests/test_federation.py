"""Federation: SERVICE reaches only allow-listed endpoints; a real Oxigraph server stands in for Wikidata's."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner
from conftest import DOCS, console_steps, fenced_blocks, free_port, run_curl_example, serving

import kg
from kg.cli import main
from kg.federation import AllowList, FederationRefused, Service, check, normalize, services
from kg.namespaces import PREFIXES

FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"

ARABIC_LABELS = """
SELECT ?attack ?place ?label WHERE {{
  ?attack wdt:P31 wd:Q2223653 ; wdt:P276 ?place .
  SERVICE <{endpoint}> {{ ?place rdfs:label ?label FILTER (LANG(?label) = "ar") }}
}}
ORDER BY ?attack
"""
EXPECTED = [
    ("https://w3id.org/morocco-ct-kg/id/event-2003-casablanca-bombings", "http://www.wikidata.org/entity/Q7903",
     "الدار البيضاء"),
    ("https://w3id.org/morocco-ct-kg/id/event-2011-marrakesh-bombing", "http://www.wikidata.org/entity/Q101625",
     "مراكش"),
]


def oxigraph_binary() -> str:
    found = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("the `oxigraph` server binary is needed (pip install oxigraph; it is in the test extra)")
    return found


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """A read-only Oxigraph server on 127.0.0.1 with the Wikidata-like fixture; its SPARQL query URL."""
    binary = oxigraph_binary()
    location = tmp_path_factory.mktemp("oxigraph")
    subprocess.run([binary, "load", "--location", str(location), "--file", str(FIXTURES / "endpoint.ttl")],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    server = subprocess.Popen([binary, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the Oxigraph server did not start")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def counting_endpoint():
    """A local HTTP server that counts the requests it receives (none must arrive when SERVICE is refused)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            hits.append(self.path)
            self.send_error(500)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql", hits
    server.shutdown()
    server.server_close()


def rows(result):
    return [tuple(str(term) for term in row) for row in result]


def test_services_are_found_everywhere_in_the_query():
    query = """PREFIX x: <http://a.example/>
    SELECT * { SERVICE SILENT x:sparql { ?s ?p ?o }
               OPTIONAL { SERVICE ?ep { ?a ?b ?c } }
               { SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?q ?r ?t } } }
               FILTER EXISTS { SERVICE wd:sparql { ?a ?b ?c } } }"""
    assert services(query) == [
        Service("http://a.example/sparql", None, True),
        Service(None, "ep", False),
        Service("https://query.wikidata.org/sparql", None, False),
        Service("http://www.wikidata.org/entity/sparql", None, False),
    ]
    assert services("DELETE { ?s ?p ?o } WHERE { SERVICE <http://x.example/s> { ?s ?p ?o } }") == [
        Service("http://x.example/s")
    ]
    assert services("SELECT * { ?s ?p ?o }") == []


def test_endpoints_compare_after_normalization_and_never_by_prefix():
    assert normalize("HTTPS://Query.Wikidata.org:443/sparql#x") == "https://query.wikidata.org/sparql"
    allow = AllowList.parse("https://query.wikidata.org/sparql, http://127.0.0.1:7878/query")
    assert allow.allows("https://QUERY.wikidata.org/sparql")
    assert allow.allows("http://127.0.0.1:7878/query")
    assert not allow.allows("https://query.wikidata.org/sparql/evil")
    assert not allow.allows("https://query.wikidata.org/sparq")
    assert not allow.allows("http://127.0.0.1:7879/query")
    assert AllowList.from_env({"KG_FEDERATION_ALLOW": "https://query.wikidata.org/sparql"}).allows(
        "https://query.wikidata.org/sparql")
    assert AllowList.from_env({}) == AllowList()


@pytest.mark.parametrize(
    ("query", "allow", "message"),
    [
        ("SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }", "",
         "SERVICE <https://query.wikidata.org/sparql> refused: federation is off (no endpoint is allowed; "
         "allow one with --allow-service or $KG_FEDERATION_ALLOW)"),
        ("SELECT * { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }", "https://query.wikidata.org/sparql",
         "SERVICE <http://evil.example/sparql> refused: not in the federation allow-list "
         "(https://query.wikidata.org/sparql)"),
        ("SELECT * { SERVICE ?where { ?s ?p ?o } }", "https://query.wikidata.org/sparql",
         "SERVICE ?where: an endpoint given by a variable cannot be checked against the allow-list"),
        ("SELECT * { SERVICE nope:x { ?s ?p ?o } }", "", "SERVICE nope:x: unknown prefix 'nope'"),
        ("SELECT * WHERE { SERVICE <http://x.example/> { ?s ?p ?o } } GROUP BY", "",
         "cannot check the SERVICE calls of a query that does not parse"),
        ("SELECT * WHERE " + "{" * 3000 + " SERVICE <http://x.example/> { ?s ?p ?o } " + "}" * 3000, "",
         "cannot check the SERVICE calls of a query that does not parse"),
    ],
)
def test_check_refuses_with_a_clear_reason(query, allow, message):
    with pytest.raises(FederationRefused) as caught:
        check(query, AllowList.parse(allow))
    assert str(caught.value) == message
    assert caught.value.status == 403


def test_refused_service_sends_no_request(dataset, counting_endpoint):
    url, hits = counting_endpoint
    query = f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
    with pytest.raises(FederationRefused):
        kg.query(dataset, query)
    with pytest.raises(FederationRefused):
        kg.query(dataset, query, allow=AllowList.parse("https://query.wikidata.org/sparql"))
    # a variable bound at run time is checked when rdflib evaluates the SERVICE, too
    from kg.federation import allowing

    with pytest.raises(FederationRefused), allowing(AllowList()):
        list(dataset.query(f"SELECT * {{ BIND(<{url}> AS ?ep) SERVICE ?ep {{ ?s ?p ?o }} }}"))
    assert hits == []


def test_from_names_a_graph_of_the_dataset_and_fetches_nothing(dataset, counting_endpoint):
    url, hits = counting_endpoint
    result = kg.query(dataset, f"SELECT (COUNT(*) AS ?n) FROM <{url}> WHERE {{ ?s ?p ?o }}")
    assert rows(result) == [("0",)]
    assert hits == []


def test_allowed_service_on_rdflib_reaches_the_oxigraph_server(dataset, endpoint):
    result = kg.query(dataset, ARABIC_LABELS.format(endpoint=endpoint), allow=AllowList.of([endpoint]))
    assert rows(result) == EXPECTED


def test_allowed_service_on_pyoxigraph_reaches_the_oxigraph_server(dataset, endpoint):
    store = pyoxigraph.Store()
    store.load(dataset.serialize(format="nquads", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_QUADS)
    query = ARABIC_LABELS.format(endpoint=endpoint)
    check(query, AllowList.of([endpoint]))  # the gate the server runs before pyoxigraph sees the query
    solutions = store.query(query, prefixes={p: str(ns) for p, ns in PREFIXES.items()},
                            use_default_graph_as_union=True)
    assert [tuple(s[v].value for v in ("attack", "place", "label")) for s in solutions] == EXPECTED


def test_cli_query_allows_a_service_only_when_asked(endpoint, monkeypatch):
    monkeypatch.delenv("KG_FEDERATION_ALLOW", raising=False)
    query = ARABIC_LABELS.format(endpoint=endpoint)
    refused = CliRunner().invoke(main, ["query", query, "--format", "csv"])
    assert refused.exit_code == 1
    assert refused.output == (f"Error: SERVICE <{endpoint}> refused: federation is off (no endpoint is allowed; "
                              "allow one with --allow-service or $KG_FEDERATION_ALLOW)\n")
    allowed = CliRunner().invoke(main, ["query", query, "--format", "csv", "--allow-service", endpoint])
    assert allowed.exit_code == 0, allowed.output
    assert allowed.output.splitlines() == ["attack,place,label"] + [",".join(row) for row in EXPECTED]
    monkeypatch.setenv("KG_FEDERATION_ALLOW", endpoint)
    from_env = CliRunner().invoke(main, ["query", query, "--format", "csv"])
    assert from_env.exit_code == 0, from_env.output


# The SPARQL endpoint (/sparql): the `allow_service` setting, the same gate -------------------------------------

SD_FEDERATED = "http://www.w3.org/ns/sparql-service-description#BasicFederatedQuery"
DOCUMENTED_URL, DOCUMENTED_ENDPOINT = "http://127.0.0.1:5000", "https://query.wikidata.org/sparql"


@pytest.fixture(scope="module")
def silent_endpoint():
    """A stand-in endpoint that accepts connections, reads the request and never answers.

    Yields its URL and a list of (request bytes, seconds until the client closed the connection), one per connection.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    closed: list[tuple[bytes, float]] = []

    def hold(conn: socket.socket) -> None:
        started, received = time.monotonic(), b""
        conn.settimeout(20)  # bounded: a client that never closes is recorded as 20 s
        with conn:
            try:
                while chunk := conn.recv(4096):
                    received += chunk
            except OSError:
                pass
        closed.append((received, time.monotonic() - started))

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=hold, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/sparql", closed
    listener.close()


def test_endpoint_refuses_service_by_default_and_sends_nothing(client, counting_endpoint):
    url, hits = counting_endpoint
    response = client.get("/sparql", query_string={"query": ARABIC_LABELS.format(endpoint=url)})
    assert response.status_code == 403
    assert response.text == (f"403: SERVICE <{url}> refused: federation is off (no endpoint is allowed; "
                             "allow one with --allow-service or $KG_FEDERATION_ALLOW)\n")
    assert hits == []


def test_endpoint_refuses_what_the_allow_list_does_not_name(make_app, counting_endpoint):
    url, hits = counting_endpoint
    client = make_app(ALLOW_SERVICE=("https://query.wikidata.org/sparql",)).test_client()
    cases = {
        f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}":
            f"SERVICE <{url}> refused: not in the federation allow-list (https://query.wikidata.org/sparql)",
        f"SELECT * {{ BIND(<{url}> AS ?ep) SERVICE ?ep {{ ?s ?p ?o }} }}":
            "SERVICE ?ep: an endpoint given by a variable cannot be checked against the allow-list",
        "SELECT * { SERVICE ?ep { ?s ?p ?o } VALUES ?ep { <https://query.wikidata.org/sparql> } }":
            "SERVICE ?ep: an endpoint given by a variable cannot be checked against the allow-list",
        f"PREFIX x: <{url[:-len('sparql')]}> SELECT * {{ SERVICE SILENT x:sparql {{ ?s ?p ?o }} }}":
            f"SERVICE <{url}> refused: not in the federation allow-list (https://query.wikidata.org/sparql)",
    }
    for query, reason in cases.items():
        response = client.post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
        assert (response.status_code, response.json) == (403, {"status": 403, "error": reason})
    assert hits == []


def test_endpoint_joins_our_graph_with_an_allowed_endpoint(make_app, endpoint):
    app = make_app(ALLOW_SERVICE=(endpoint,))
    client = app.test_client()
    query = ARABIC_LABELS.format(endpoint=endpoint.replace("http://127.0.0.1", "HTTP://127.0.0.1"))
    for _ in range(2):
        response = client.get("/sparql", query_string={"query": query})
        assert response.status_code == 200
        bindings = response.json["results"]["bindings"]
        assert [tuple(b[v]["value"] for v in ("attack", "place", "label")) for b in bindings] == EXPECTED
        assert "ETag" not in response.headers  # the answer depends on another endpoint: neither cached nor tagged
    assert app.extensions["kg.counters"].snapshot()["cache_hits"] == 0


def test_service_description_advertises_federation_only_when_allowed(make_app, endpoint):
    from rdflib import Graph, URIRef

    for allow, advertised in (((), False), ((endpoint,), True)):
        response = make_app(ALLOW_SERVICE=allow).test_client().get("/sparql", headers={"Accept": "text/turtle"})
        graph = Graph().parse(data=response.text, format="turtle")
        assert ((URIRef("http://localhost/sparql"), None, URIRef(SD_FEDERATED)) in graph) is advertised


def test_a_bad_allow_list_entry_stops_the_app_from_starting(make_app):
    with pytest.raises(FederationRefused, match="not an http"):
        make_app(ALLOW_SERVICE=("query.wikidata.org/sparql",))


def test_endpoint_service_call_cannot_outlive_the_time_limit(make_app, silent_endpoint):
    url, closed = silent_endpoint
    before = len(closed)
    client = make_app(ALLOW_SERVICE=(url,), QUERY_TIMEOUT=5.0).test_client()
    started = time.monotonic()
    response = client.get("/sparql", query_string={"query": f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
                                                   "timeout": "1"})
    elapsed = time.monotonic() - started
    assert (response.status_code, response.text) == (
        504, "504: query stopped after the time limit of 1 s, waiting on a SERVICE endpoint\n")
    assert 0.9 < elapsed < 2
    deadline = time.monotonic() + 5
    while len(closed) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    received, held = closed[before]
    assert received.startswith(b"POST /sparql ")  # the call was made, and its connection died with the engine
    assert held < 2


@pytest.fixture(scope="module")
def federated_server(endpoint, silent_endpoint):
    """`kg serve` (1 gunicorn worker) allowing the Oxigraph stand-in (flag), the silent one ($KG_FEDERATION_ALLOW)."""
    import os

    env = {**os.environ, "KG_FEDERATION_ALLOW": silent_endpoint[0]}
    with serving("--workers", "1", "--query-timeout", "3", "--allow-service", endpoint, env=env) as server:
        yield server["url"]


def _federated_examples() -> list:
    """Each `$ curl` line of a ```console federated block in the docs, with its output."""
    return [pytest.param(command, output, id=f"{doc.name}:{command[:50]}")
            for doc in DOCS for info, code in fenced_blocks(doc) if info == "console federated"
            for command, output in console_steps(code)]


FEDERATED_EXAMPLES = _federated_examples()


def test_federated_examples_were_found():
    assert len(FEDERATED_EXAMPLES) == 1


@pytest.mark.parametrize(("command", "output"), FEDERATED_EXAMPLES)
def test_federated_doc_example_on_the_live_server(federated_server, endpoint, command, output):
    """The documented example, with the stand-in in place of WDQS: `kg serve --allow-service`, under gunicorn."""
    run_curl_example(command, output, {DOCUMENTED_URL: federated_server, DOCUMENTED_ENDPOINT: endpoint})


def test_live_service_call_to_a_silent_endpoint_is_cut_at_the_limit(federated_server, silent_endpoint):
    url, closed = silent_endpoint
    before = len(closed)
    query = urllib.parse.urlencode({"query": f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"})
    started = time.monotonic()
    try:
        urllib.request.urlopen(f"{federated_server}/sparql?{query}", timeout=20)
        status = 200
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    assert (status, body) == (504, b"504: query stopped after the time limit of 3 s, waiting on a SERVICE endpoint\n")
    assert 2.9 < time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while len(closed) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert closed[before][1] < 4, "the SERVICE connection must close when the engine is stopped"
