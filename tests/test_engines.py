"""The query engines: no network, bounded memory, a bounded pool with a queue, byte caps (kg.store.isolation).

The containment is tested on the engines themselves, with no query check in front: a SERVICE that a check would miss
must still never reach a loopback listener. Runaway queries run under a small memory limit (this machine is shared).
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from kg.errors import EngineFailure, EnginesBusy, KGError, MemoryLimit, OutboundRefused, QueryTimeout
from kg.store import QueryRequest
from kg.store.isolation import CONTAINMENTS, NAMESPACE, NONE, SECCOMP, IsolatedStore
from kg.web.resources import ResultCache

JSON = "application/sparql-results+json"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DEPTH = 60
# The issue's runaways: OPTIONAL nested deep over ?s ?p ?o (a cross product held in memory), and a string doubled
NESTED_OPTIONALS = ("SELECT * WHERE { " + "".join(f"?s{i} ?p{i} ?o{i} OPTIONAL {{ " for i in range(DEPTH))
                    + "?s ?p ?o" + " }" * DEPTH + " }")
CONCAT_DOUBLING = ('SELECT ?v30 WHERE { BIND("xxxxxxxx" AS ?v0) '
                   + "".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1}) " for i in range(30)) + "}")
SMALL_LIMIT_MB = 200


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts (and answers none)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while self._running:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self._running = False
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def hidden_services(port: int) -> list:
    """A SERVICE to the listener, plain and hidden by each trick of issue 8 (which fooled the old lexical check)."""
    target = f"<http://127.0.0.1:{port}/x>"
    return [
        pytest.param(f"SELECT * WHERE {{ SERVICE {target} {{ ?s ?p ?o }} }}", id="plain"),
        pytest.param(f"SELECT * WHERE {{ #\r SERVICE {target} {{ ?s ?p ?o }} }}", id="bare-cr-comment"),
        pytest.param(f"SELECT * WHERE {{ BIND(kg:a\\# AS ?x) SERVICE {target} {{ ?s ?p ?o }} }}", id="escaped-hash"),
        pytest.param(f"SELECT * WHERE {{ BIND(kg:a\\' AS ?x) SERVICE {target} {{ ?s ?p ?o }} BIND('x' AS ?y) }}",
                     id="escaped-quote"),
    ]


TRICKS = [p.id for p in hidden_services(0)]


def trick(name: str, port: int) -> str:
    return next(p.values[0] for p in hidden_services(port) if p.id == name)


@pytest.fixture
def isolated(oxigraph_store):
    """Make IsolatedStores on the session's store; stop their engines after the test."""
    stores = []

    def make(**options):
        store = IsolatedStore(oxigraph_store, **{"memory_mb": 1024, **options})
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


# No network -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CONTAINMENTS)
@pytest.mark.parametrize("name", TRICKS)
def test_a_service_call_never_leaves_a_contained_engine(isolated, listener, kind, name):
    store = isolated(containments=(kind,))
    with pytest.raises(OutboundRefused, match="^outbound request refused: the query engines have no network"):
        store.evaluate(QueryRequest(trick(name, listener.port), JSON))
    assert store.containment == kind
    time.sleep(0.2)
    assert listener.accepted == 0


def test_a_federation_engine_has_the_network_the_others_lack(isolated, listener):
    """The control for the test above: the same call from an engine with network does reach the listener."""
    store = isolated(federation=1)
    store.start()
    with pytest.raises(KGError):
        store.evaluate(QueryRequest(trick("plain", listener.port), JSON, federated=True, timeout=2))
    assert listener.accepted >= 1
    assert store.containment == NAMESPACE  # the contained engines' containment, not the federation engine's


@pytest.mark.parametrize("name", TRICKS)
def test_the_endpoint_refuses_hidden_service_calls_and_makes_none(make_app, listener, name):
    """Whichever refuses it (the query check, or the engine that has no network), it is a 403 and no connection."""
    client = make_app().test_client()
    response = client.get("/sparql", query_string={"query": trick(name, listener.port)})
    assert response.status_code == 403
    assert response.text.count("\n") == 1
    time.sleep(0.2)
    assert listener.accepted == 0


def test_without_any_containment_the_engine_says_so(isolated):
    store = isolated(containments=())  # as on a platform that allows no namespace and no seccomp
    assert store.probe() == NONE
    store.start()
    assert store.evaluate(QueryRequest("ASK {}", JSON)).body == b'{"head":{},"boolean":true}'


def test_start_up_says_which_containment_holds_and_refuses_federation_without_one(make_app, oxigraph_store, capsys):
    from kg.serve import check_containment
    from kg.web import create_app

    assert check_containment(make_app()) == NAMESPACE
    assert "query engines: 1 general; containment: network namespace; memory limit per engine: 1024 MB" in (
        capsys.readouterr().err)
    bare = IsolatedStore(oxigraph_store, containments=())
    try:
        assert check_containment(create_app({}, bare)) == NONE
        assert "WARNING: the query engines cannot be kept off the network" in capsys.readouterr().err
        federated = create_app({"ALLOW_SERVICE": ("https://query.wikidata.org/sparql",)}, bare)
        with pytest.raises(KGError, match="^federation refused: it needs query engines without network"):
            check_containment(federated)
    finally:
        bare.close()


def test_seccomp_engines_still_answer_queries(isolated):
    store = isolated(containments=(SECCOMP,))
    response = store.evaluate(QueryRequest("SELECT ?v WHERE { kg:claim-cells-dismantled-since-2002 schema:value ?v }",
                                           "text/csv"))
    assert (response.body, store.containment) == (b"v\r\n207\r\n", SECCOMP)


# Bounded memory ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [NESTED_OPTIONALS, CONCAT_DOUBLING], ids=["nested-optionals", "concat-doubling"])
def test_a_runaway_query_stops_at_the_memory_limit_and_only_its_engine_is_replaced(isolated, query):
    store = isolated(processes=2, memory_mb=SMALL_LIMIT_MB)
    store.start()
    kept = [e.process.pid for e in store._reserved.idle]
    with pytest.raises(MemoryLimit, match=f"^query stopped: it needed more than the engine memory limit of "
                                          f"{SMALL_LIMIT_MB} MB; the engine has been replaced$"):
        store.evaluate(QueryRequest(query, JSON))
    assert [e.process.pid for e in store._reserved.idle] == kept and all(
        e.process.is_alive() for e in store._reserved.idle)
    assert store.evaluate(QueryRequest("ASK { ?s ?p ?o }", JSON)).body == b'{"head":{},"boolean":true}'


def test_a_runaway_query_is_a_503_with_its_reason(make_app):
    client = make_app(ENGINE_MEMORY_MB=SMALL_LIMIT_MB).test_client()
    response = client.get("/sparql", query_string={"query": CONCAT_DOUBLING})
    assert (response.status_code, response.text) == (
        503, f"503: query stopped: it needed more than the engine memory limit of {SMALL_LIMIT_MB} MB; "
             f"the engine has been replaced\n")
    assert client.get("/sparql", query_string={"query": "ASK {}"}).json == {"head": {}, "boolean": True}
    assert client.get("/health").json["counters"]["engine_failures"] == 1


def test_an_error_inside_the_engine_is_mapped_and_the_engine_replaced(isolated):
    store = isolated()
    with pytest.raises(EngineFailure, match=r"^the query engine failed \(KeyError: 'text/nonsense'\); "
                                            r"the engine has been replaced$"):
        store.evaluate(QueryRequest("ASK {}", "text/nonsense"))
    assert store.evaluate(QueryRequest("ASK {}", JSON)).body == b'{"head":{},"boolean":true}'


# The pool: a queue, and an engine kept for short queries -------------------------------------------------------


def _in_background(store, request) -> tuple[threading.Thread, dict]:
    outcome = {}

    def run():
        try:
            outcome["response"] = store.evaluate(request)
        except KGError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _busy(store, pool, timeout=5.0):
    deadline = time.monotonic() + timeout
    while (pool.idle or pool.free) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pool.idle and not pool.free, "the slow query never took its engine"


def test_a_query_waits_briefly_for_a_busy_engine_then_gets_told_to_retry(isolated):
    store = isolated(queue_wait=0.3)
    store.start()
    thread, outcome = _in_background(store, QueryRequest(SLOW, JSON, timeout=3))
    _busy(store, store._general)
    with pytest.raises(EnginesBusy, match=r"^every query engine is busy; try again in 1 s$") as busy:
        store.evaluate(QueryRequest("ASK { ?s ?p ?o }", JSON))
    assert busy.value.retry_after == 1
    thread.join(10)
    assert isinstance(outcome["error"], QueryTimeout)
    assert store.evaluate(QueryRequest("ASK { ?s ?p ?o }", JSON)).body == b'{"head":{},"boolean":true}'


def test_a_query_that_ran_fast_before_is_answered_while_the_other_engines_are_busy(isolated):
    store = isolated(processes=3, queue_wait=0.3)
    store.start()
    assert store.evaluate(QueryRequest("ASK {}", JSON)).rows == 1  # now known to be fast
    running = [_in_background(store, QueryRequest(SLOW + f" # {i}", JSON, timeout=4)) for i in range(2)]
    _busy(store, store._general)
    assert store.evaluate(QueryRequest("ASK {}", JSON)).body == b'{"head":{},"boolean":true}'
    with pytest.raises(EnginesBusy):  # a query never seen before waits for the busy engines
        store.evaluate(QueryRequest("ASK { ?s ?p ?o }", JSON))
    for thread, outcome in running:
        thread.join(10)
        assert isinstance(outcome["error"], QueryTimeout)


def test_every_engine_busy_is_a_503_with_retry_after(make_app):
    app = make_app(QUEUE_WAIT=0.2)
    client = app.test_client()
    store = app.extensions["kg.store"]
    thread, _ = _in_background(store, QueryRequest(SLOW, JSON, timeout=3))
    _busy(store, store._general)
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert response.text == "503: every query engine is busy; try again in 1 s\n"
    thread.join(10)
    assert client.get("/health").json["counters"]["engines_busy"] == 1


# Bytes: the answer cap and the result cache --------------------------------------------------------------------

EVERYTHING = "SELECT * WHERE { ?s ?p ?o }"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_an_answer_larger_than_the_byte_cap_is_cut_and_flagged(make_app, fmt):
    client = make_app(MAX_RESPONSE_BYTES=4000).test_client()
    whole = make_app().test_client().get("/sparql", query_string={"query": EVERYTHING, "format": fmt})
    response = client.get("/sparql", query_string={"query": EVERYTHING, "format": fmt})
    assert response.status_code == 200
    assert len(response.data) <= 4000 < len(whole.data)
    assert response.headers["Result-Truncated"] == "true"
    assert 0 < int(response.headers["Result-Rows"]) < int(whole.headers["Result-Rows"])
    if fmt == "json":
        body = json.loads(response.data)
        assert body["head"]["truncated"] is True
        assert len(body["results"]["bindings"]) == int(response.headers["Result-Rows"])


@pytest.mark.parametrize("fmt", ["turtle", "json-ld", "nt", "xml"])
def test_a_graph_larger_than_the_byte_cap_is_cut_and_flagged(make_app, fmt):
    client = make_app(MAX_RESPONSE_BYTES=4000).test_client()
    response = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": fmt})
    assert response.status_code == 200
    assert len(response.data) <= 4000
    assert response.headers["Result-Truncated"] == "true"
    assert int(response.headers["Result-Rows"]) > 0


def test_a_single_row_larger_than_the_byte_cap_is_cut_to_no_rows(make_app):
    doubling = 'SELECT ?v14 WHERE { BIND("x" AS ?v0) ' + "".join(
        f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1}) " for i in range(14)) + "}"  # one 16 KB value
    response = make_app(MAX_RESPONSE_BYTES=8000).test_client().get("/sparql", query_string={"query": doubling})
    assert response.json == {"head": {"truncated": True, "vars": ["v14"]}, "results": {"bindings": []}}
    assert (response.headers["Result-Rows"], response.headers["Result-Truncated"]) == ("0", "true")


def test_the_result_cache_is_bounded_in_bytes():
    from kg.store import QueryResponse

    cache = ResultCache(max_bytes=10_000)
    for i in range(20):
        cache.put(("q", str(i)), QueryResponse(b"x" * 1000, JSON, 1, False))
    assert cache.bytes <= 10_000
    assert cache.get(("q", "0")) is None and cache.get(("q", "19")) is not None
    cache.put(("q", "big"), QueryResponse(b"x" * 3000, JSON, 1, False))  # over a quarter of the cache: not kept
    assert cache.get(("q", "big")) is None


def test_varying_a_comment_does_not_grow_the_cache_past_its_bytes(make_app):
    app = make_app(CACHE_BYTES=50_000)
    client = app.test_client()
    sizes = [len(client.get("/sparql", query_string={"query": f"{EVERYTHING} LIMIT 20 # {i}"}).data)
             for i in range(40)]
    assert sum(sizes) > 50_000
    cache = app.extensions["kg.cache"]
    assert 0 < cache.bytes <= 50_000
    assert cache.get(next(iter(cache._entries))) is not None and len(cache._entries) < 40



# Remote failures of allowed SERVICE calls ----------------------------------------------------------------------


@pytest.fixture
def garbage_endpoint():
    """A SPARQL endpoint stand-in on 127.0.0.1 that answers every query with text that is not SPARQL results."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b"not SPARQL results"
            self.send_response(200)
            self.send_header("Content-Type", JSON)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


def test_an_allowed_endpoint_that_answers_garbage_is_a_502(make_app, garbage_endpoint):
    client = make_app(ALLOW_SERVICE=(garbage_endpoint,)).test_client()
    query = f"SELECT * WHERE {{ SERVICE <{garbage_endpoint}> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 502
    assert response.text.startswith("502: a SERVICE endpoint gave an unusable answer: ")
    assert client.get("/sparql", query_string={"query": query}).status_code == 502  # the engine lived on


def test_an_allowed_endpoint_that_cannot_be_reached_is_a_502(make_app):
    with socket.socket() as sock:  # a port with no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}/sparql"
    client = make_app(ALLOW_SERVICE=(endpoint,)).test_client()
    query = f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 502
    assert response.text.startswith("502: a SERVICE endpoint could not be reached: ")


def test_security_md_gives_every_limit_with_its_setting_default_and_test():
    from pathlib import Path

    from kg.web.settings import SETTINGS

    root = Path(__file__).parent.parent
    rows = [line.split("|") for line in (root / "SECURITY.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and "` | `" in line]
    documented = {cells[2].strip(" `"): (cells[3].strip(" `"), cells[5].strip(" `")) for cells in rows}
    limits = {s.name: s for s in SETTINGS if isinstance(s.default, int | float) and not isinstance(s.default, bool)}
    assert len(limits) >= 10 and limits.keys() <= documented.keys()
    for name, (default, test) in documented.items():
        assert default == str(limits[name].default), name
        path, _, function = test.partition("::")
        assert (root / path).is_file(), test
        assert not function or f"def {function}(" in (root / path).read_text(encoding="utf-8"), test
