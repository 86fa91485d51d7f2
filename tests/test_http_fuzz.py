"""No input gives a 500: every route of the app under random methods, parameters, headers and bodies, and a live
`kg serve` under malformed HTTP (chunked bodies, long request lines and headers, bad Content-Length, bytes that are
not ASCII), after which it still answers `ASK {}`.

A 503 is allowed (the engines' limits) if it says why in one line; a traceback never reaches a client.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.web.browse import FILTERS
from kg.web.negotiation import FORMAT_PARAMETERS

FUZZ = settings(max_examples=800, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
METHODS = st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"])
QUERIES = [
    "ASK {}", "SELECT * WHERE { ?s ?p ?o } LIMIT 2", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2",
    "DESCRIBE kg:place-morocco",
    "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "INSERT DATA { <a> <b> <c> }", "LOAD <http://example.org/>",
    "SELECT * { SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o } }", "SELECT * { SERVICE ?x { ?s ?p ?o } }",
    "ASK " + "{" * 150 + "}" * 150, "SELECT * WHERE { BIND(kg:a\\) AS ?x) }", "SELECT ?x WHERE { ?x rdfs:label ?l",
    "SELECT * FROM <http://example.org/g> { ?s ?p ?o }", "SELECT ?l { ?s rdfs:label ?l } ORDER BY ?l LIMIT 1",
    "SELECT * { ?s ?p ?o FILTER(REGEX(STR(?o), '(a+)+$')) } LIMIT 1", "ASK { ?s text:query 'morocco' }",
    "SELECT ?x WHERE { ?x wikibase:label ?y }", "#", "", "\x00", "ASK {} \ufffd",
    # issue 8: deep queries that the lexical scan let through to the engine's parser, which overflows its stack
    "SELECT * WHERE { ?s ?p kg:a" + "\\)" * 20_000 + " FILTER(" + "(" * 20_000 + "1" + ")" * 20_000 + ") }",
    "ASK { FILTER(" + "!" * 20_000 + "true) }",
    "ASK { FILTER(1<" + "(" * 20_000 + "1" + ")" * 20_000 + ")FILTER(2>1) }",
]
VALUES = st.one_of(
    st.sampled_from([
        *QUERIES, "1", "0", "-1", "1e-9", "nan", "inf", "1e309", "0x10", "99999999999999999999", "json", "xml", "csv",
        "tsv", "turtle", "jsonld", "text/html", "application/sparql-results+json", "*/*", "none", "rdfs", "owl-rl",
        "bogus", "http://example.org/g", "https://w3id.org/morocco-ct-kg/graph/claims", "ct:Attack", "ct:Nothing",
        "kg:place-morocco", "<http://x>", "not an iri", "Morocco", "a" * 300, "%", "é", "\u202e",
    ]),
    st.text(max_size=20),
)
# Appended to the query string as they are: percent escapes of invalid UTF-8, stray separators
RAW_QUERY_BITS = st.sampled_from(["", "&query=%FF%FE", "&q=%C3", "&%zz=1", "&&==&", "&query", "&timeout=%00",
                                  "&format=%E2%80%AE", "&inference=%FF"])
CONTENT_TYPES = st.sampled_from([
    None, "application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-query; charset=latin-1",
    "application/sparql-query; charset=utf-8", "application/sparql-update", "application/json", "text/plain",
    "application/octet-stream", "multipart/form-data; boundary=x", "multipart/form-data", "text/turtle; charset=\u00ff",
    ";;;", "application/x-www-form-urlencoded; charset=utf-16",
])
BODIES = st.one_of(
    st.sampled_from([q.encode() for q in QUERIES]),
    st.sampled_from([b"", b"\xff\xfe\x00", b"query=ASK%20%7B%7D", b"query=%FF", b"update=CLEAR%20ALL",
                     b'{"query": 1}', b"\xc3(",
                     b'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\nASK {}\r\n--x--\r\n']),
    st.binary(max_size=64),
)
ACCEPTS = st.sampled_from([
    None, "*/*", "text/html", "application/json", "application/sparql-results+json", "text/csv", "text/turtle",
    "application/ld+json", "application/rdf+xml", "image/png", "text/html;q=0, */*;q=0", "*/*;q=abc", ",,,", "a/b/c",
    "text/*;q=0.5, application/*", "application/json;q=2", "x" * 2000,
])


def routes(app) -> list[tuple[str, tuple[str, ...]]]:
    """Every URL rule of the app with its arguments."""
    return [(rule.rule, tuple(sorted(rule.arguments))) for rule in app.url_map.iter_rules()]


def known_values(client) -> dict[str, list[str]]:
    """Values that reach the routes' real work: named query names and their parameters, slugs, classes, formats."""
    queries = json.loads(client.get("/queries.json").data)["queries"]
    return {
        "name": [q["name"] for q in queries] + ["Attack", "turtle", "ttl", "jsonld", "nt", "trig", "nquads", "xml"],
        "slug": ["place-morocco", "org-morocco-world-news", "nothing-here"],
        "ext": ["json", "csv", "ttl", "html", "tsv", "xml", "zip"],
        "filename": ["query.js", "style.css", "THIRD-PARTY-LICENSES.txt", "missing.js"],
        "parameters": sorted({p["name"] for q in queries for p in q["parameters"]}),
    }


def body_has_reason(response) -> bool:
    """A 503 says why, in one line of plain text, in JSON, or on an HTML page."""
    text = response.get_data(as_text=True)
    if response.mimetype == "text/plain":
        return text.startswith("503: ") and text.count("\n") == 1
    if response.mimetype == "application/json":
        return isinstance(json.loads(text)["error"], str)
    return response.mimetype == "text/html" and "503" in text


@pytest.fixture
def fuzzed(make_app):
    """A client of the app on the session's store (a short time limit, so that no generated query holds the run),
    its routes and the known values of their arguments."""
    app = make_app(QUERY_TIMEOUT=2.0)
    client = app.test_client()
    return client, routes(app), known_values(client)


@FUZZ
@given(data=st.data())
def test_no_request_gets_a_500(fuzzed, data):
    client, rules, known = fuzzed
    rule, arguments = data.draw(st.one_of(st.just(("/sparql", ())), st.sampled_from(rules)), label="rule")
    path = rule
    for argument in arguments:
        value = data.draw(st.one_of(st.sampled_from(known[argument]), st.text(min_size=1, max_size=12)),
                          label=argument)
        path = path.replace(f"<{argument}>", quote(value, safe=""))
        path = path.replace(f"<path:{argument}>", quote(value, safe="/"))
    names = ["query", "timeout", "default-graph-uri", "named-graph-uri", "inference", "q", "page", "limit", "update",
             *FORMAT_PARAMETERS, *FILTERS, *known["parameters"]]
    parameters = data.draw(st.lists(st.tuples(st.sampled_from(names), VALUES), max_size=4), label="parameters")
    query_string = "&".join(f"{quote(k)}={quote(v)}" for k, v in parameters) + data.draw(RAW_QUERY_BITS)
    method = data.draw(st.one_of(st.sampled_from(["GET", "POST"]), METHODS), label="method")
    headers = {}
    if (accept := data.draw(ACCEPTS, label="accept")) is not None:
        headers["Accept"] = accept
    if data.draw(st.booleans()):
        headers.update({"Origin": "http://example.org", "Access-Control-Request-Method": data.draw(METHODS),
                        "If-None-Match": data.draw(st.sampled_from(['W/"x"', "*", "", '"unterminated']))})
    body, content_type = None, None
    if method in ("POST", "PUT", "PATCH"):
        body, content_type = data.draw(BODIES, label="body"), data.draw(CONTENT_TYPES, label="content type")
    with client.open(path, method=method, query_string=query_string, data=body, content_type=content_type,
                     headers=headers) as response:
        text = response.get_data(as_text=True)
        assert "Traceback" not in text
        assert response.status_code < 500 or (response.status_code == 503 and body_has_reason(response)), \
            f"{method} {path}?{query_string!r}: {response.status_code} {text[:300]!r}"


# A live server under malformed HTTP ------------------------------------------------------------------------------

POST = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"


def exchange(server, data: bytes) -> bytes:
    """Send `data` on a new connection, close our side, and read everything the server answers."""
    port = int(server["url"].rsplit(":", 1)[1])
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize(("request_bytes", "status"), [
    (CHUNKED + b"ffffffffffffffffffff\r\nASK {}\r\n0\r\n\r\n", 400),
    (CHUNKED + b"6\r\nASK {}XX0\r\n\r\n", 400),  # a chunk not followed by CRLF
    (CHUNKED + b"6;\x01\x02\r\nASK {}\r\n0\r\n\r\n", 400),  # control bytes in a chunk extension
    (CHUNKED + b"6\r\nASK", 400),  # the body ends inside a chunk
    (b"GET /sparql?query=" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /sparql HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", 431),
    (POST + b"Content-Length: abc\r\n\r\nASK {}", 400),
    (POST + b"Content-Length: -1\r\n\r\nASK {}", 400),
    (POST + b"Content-Length: 6\r\nContent-Length: 7\r\n\r\nASK {}", 400),
    (POST + b"Content-Length: 99999999999999999999999\r\n\r\nASK {}", 413),
    (POST + b"Content-Length: 100\r\n\r\nASK {}", 400),  # the body ends before its length: never run a cut query
    (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100"
     b"\r\n\r\nquery=ASK%20%7B%7D", 400),
    ("GET /sparql?query=ASK{}é HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 400),
    (b"GET /id/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("GÉT /sparql HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 400),
    (b"GET /sparql\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
], ids=["chunk-size-too-large", "chunk-without-crlf", "chunk-extension-control-bytes", "chunk-cut",
        "request-line-20kb", "header-200kb", "content-length-not-a-number", "content-length-negative",
        "content-length-twice", "content-length-huge", "content-length-longer-than-body",
        "form-content-length-longer-than-body", "non-ascii-query", "non-ascii-path", "non-ascii-method",
        "nul-in-request-line"])
def test_malformed_http_gets_our_4xx_and_the_server_still_answers(live_server, request_bytes, status):
    answer = exchange(live_server, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), head[:200]
    assert b"Content-Type: text/plain; charset=utf-8" in head
    assert body.startswith(b"%d: " % status) and body.count(b"\n") == 1 and b"<" not in body, body[:200]
    after = exchange(live_server, b"GET /sparql?query=ASK%20%7B%7D HTTP/1.1\r\nHost: x\r\n"
                                  b"Accept: application/sparql-results+json\r\nConnection: close\r\n\r\n")
    assert after.startswith(b"HTTP/1.1 200 ") and after.endswith(b'{"head":{},"boolean":true}')
