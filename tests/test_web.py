"""The SPARQL endpoint through the Flask test client: protocol, formats, errors, limits, caching, CORS, health."""

from __future__ import annotations

import csv
import io
import os
import signal
import time

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS, VOID, XSD

from kg.graph import version
from kg.namespaces import CT, GRAPH, PREFIXES, SD, WD

VALUE = "SELECT ?v WHERE { kg:claim-cells-dismantled-since-2002 schema:value ?v }"
VALUE_JSON = {"head": {"vars": ["v"]}, "results": {"bindings": [
    {"v": {"type": "literal", "value": "207", "datatype": str(XSD.integer)}}]}}
CONSTRUCT = "CONSTRUCT { ?c schema:value ?v } WHERE { ?c a ct:CountClaim ; schema:value ?v }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_get_post_form_and_post_direct_give_the_same_answer(client):
    get = client.get("/sparql", query_string={"query": VALUE})
    form = client.post("/sparql", data={"query": VALUE})
    direct = client.post("/sparql", data=VALUE, content_type="application/sparql-query")
    for response in (get, form, direct):
        assert response.status_code == 200
        assert response.content_type == "application/sparql-results+json"
        assert response.json == VALUE_JSON


@pytest.mark.parametrize(
    ("accept", "content_type", "body"),
    [
        ("text/csv", "text/csv; charset=utf-8", "v\r\n207\r\n"),
        ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8", "?v\n207\n"),
    ],
)
def test_tabular_results(client, accept, content_type, body):
    response = client.get("/sparql", query_string={"query": VALUE}, headers={"Accept": accept})
    assert (response.content_type, response.text) == (content_type, body)


def test_xml_results(client):
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+xml"})
    assert response.content_type == "application/sparql-results+xml; charset=utf-8"
    assert "<boolean>true</boolean>" in response.text


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt"),
     ("application/rdf+xml", "xml"), ("application/trig", "trig"), ("application/n-quads", "nquads")],
)
def test_graph_results_in_every_format(client, dataset, accept, rdflib_format):
    response = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.content_type.split(";")[0] == accept
    expected = set(dataset.query(CONSTRUCT, initNs=dict(PREFIXES)).graph)
    got = Graph().parse(data=response.data, format=rdflib_format)
    assert set(got) == expected
    assert expected


def test_format_parameter_overrides_accept(client):
    response = client.get("/sparql", query_string={"query": VALUE, "format": "csv"}, headers={"Accept": "text/tsv"})
    assert response.text == "v\r\n207\r\n"


def test_describe(client):
    response = client.get("/sparql", query_string={"query": "DESCRIBE kg:org-dgst"},
                          headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert all(line.startswith("<https://w3id.org/morocco-ct-kg/id/org-dgst> ") for line in response.text.splitlines())


def test_default_graph_is_the_union_and_protocol_graphs_restrict_it(client):
    ontology_triple = "ASK { ct:CountClaim a owl:Class }"
    assert client.get("/sparql", query_string={"query": ontology_triple}).json["boolean"] is True
    only_claims = client.get("/sparql", query_string={"query": ontology_triple, "default-graph-uri": str(GRAPH.claims)})
    assert only_claims.json["boolean"] is False
    named = client.get("/sparql", query_string={
        "query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", "named-graph-uri": str(GRAPH.wikidata)})
    assert [b["g"]["value"] for b in named.json["results"]["bindings"]] == [str(GRAPH.wikidata)]


@pytest.mark.parametrize("args", [
    {"query": "ASK FROM <http://example.org/data> { ?s ?p ?o }"},
    {"query": "ASK FROM NAMED <http://example.org/data> { GRAPH ?g { ?s ?p ?o } }"},
    {"query": "ASK { ?s ?p ?o }", "default-graph-uri": "http://example.org/data"},
    {"query": "ASK { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": "http://example.org/data"},
])
def test_a_graph_the_dataset_does_not_hold_is_empty_and_named_in_a_header(client, args):
    """SPARQL 1.1 dataset semantics: an unknown graph is an empty graph (never fetched, never refused)."""
    response = client.get("/sparql", query_string=args, headers={"Accept": "application/sparql-results+json"})
    assert (response.status_code, response.json["boolean"]) == (200, False)
    assert response.headers["KG-Unknown-Graphs"] == "<http://example.org/data>"
    assert "KG-Unknown-Graphs" in response.headers["Access-Control-Expose-Headers"]


def test_from_replaces_the_union_default_graph(client):
    ontology_triple = "ASK FROM <%s> { ct:Claim a owl:Class }"
    assert client.get("/sparql", query_string={"query": ontology_triple % GRAPH.claims}).json["boolean"] is False
    assert client.get("/sparql", query_string={"query": ontology_triple % GRAPH.ontology}).json["boolean"] is True


def test_held_graphs_are_not_named_as_unknown(client):
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }", "default-graph-uri": str(GRAPH.claims)})
    assert response.json["boolean"] is True and "KG-Unknown-Graphs" not in response.headers


def test_union_default_graph_can_be_turned_off(make_app):
    client = make_app(UNION_DEFAULT_GRAPH=False).test_client()
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).json["boolean"] is False


@pytest.mark.parametrize(
    ("request_args", "status", "reason"),
    [
        ({"query_string": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "400: more than one query"),
        ({"method": "POST", "data": {"default-graph-uri": str(GRAPH.claims)}}, 400, "400: missing query"),
        ({"query_string": {"query": "ASK {}", "timeout": "soon"}}, 400, "400: timeout must be a number"),
        ({"query_string": {"query": "ASK {}", "timeout": "1e-9"}}, 400,
         "400: timeout must be at least 0.1 seconds (min_timeout), not 1e-09"),
        ({"query_string": {"query": "ASK {}", "timeout": "nan"}}, 400, "400: timeout must be at least 0.1 seconds"),
        ({"query_string": {"query": "ASK {}", "inference": "owl-dl"}}, 400,
         "400: unknown inference mode 'owl-dl'; available: none"),
        ({"query_string": {"query": "ASK {" + "{" * 5000 + "}" * 5000 + "}"}}, 400,
         "400: query nested 5001 levels deep; the limit is 100"),
        ({"query_string": {"query": "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}}, 403,
         "403: SERVICE <http://example.org/sparql> refused: federation is off"),
        ({"query_string": {"query": "INSERT DATA { <a> <b> <c> }"}}, 400, "400: this endpoint is read-only"),
        ({"query_string": {"update": "CLEAR ALL"}}, 403, "403: this endpoint is read-only"),
        ({"method": "POST", "data": {"update": "LOAD <http://example.org/x>"}}, 403, "403: this endpoint is read-only"),
        ({"method": "POST", "data": "CLEAR ALL", "content_type": "application/sparql-update"}, 403, "403: this"),
        ({"method": "PUT", "query_string": {"query": "ASK {}"}}, 405, "405: The method is not allowed"),
        ({"method": "DELETE"}, 405, "405: The method is not allowed"),
        ({"method": "POST", "data": "ASK {}", "content_type": "text/plain"}, 415,
         "415: unsupported request media type 'text/plain'"),
        ({"method": "POST", "data": "ASK {}"}, 415, "415: unsupported request media type 'none'"),
        ({"method": "POST", "data": "ASK {}".encode("utf-16"),
          "content_type": "application/sparql-query; charset=UTF-16"}, 415, "415: a direct POST query must be UTF-8"),
        ({"method": "POST", "data": b"ASK { \xff }", "content_type": "application/sparql-query"}, 400,
         "400: the request body is not valid UTF-8"),
        ({"query_string": {"query": "ASK {}"}, "headers": {"Accept": "image/png"}}, 406,
         "406: no acceptable format for a ASK query"),
        ({"query_string": {"query": "ASK {}", "format": "turtle"}}, 406, "406: format 'turtle' does not apply"),
        ({"query_string": {"query": "ASK {}", "format": "yaml"}}, 400, "400: unknown format 'yaml'"),
        ({"method": "POST", "data": "ASK {" + " " * 200_000 + "}", "content_type": "application/sparql-query"}, 413,
         "413: "),
        ({"query_string": {"query": "ASK {" + " " * 200_000 + "}"}}, 413, "413: query string longer than 100000"),
        ({"path": "/nowhere"}, 404, "404: "),
    ],
)
def test_errors_are_one_line_with_a_reason(client, request_args, status, reason):
    """(Syntax errors add the query's line and a caret: tests/test_syntax_errors.py.)"""
    args = dict(request_args)
    response = client.open(args.pop("path", "/sparql"), method=args.pop("method", "GET"), **args)
    assert response.status_code == status
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.text.startswith(reason)
    assert response.text.count("\n") == 1
    assert "Traceback" not in response.text


def test_405_names_the_allowed_methods(client):
    assert set(client.put("/sparql").headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_errors_as_json_or_html_when_asked(client):
    as_json = client.get("/sparql", query_string={"query": "SELEC"}, headers={"Accept": "application/json"})
    assert as_json.json["status"] == 400
    assert as_json.json["error"] == ("syntax error at line 1, column 1: expected a query form: SELECT, CONSTRUCT, "
                                     'ASK or DESCRIBE, found "SELEC" (did you mean SELECT?)')
    assert (as_json.json["line"], as_json.json["column"]) == (1, 1)
    as_html = client.get("/sparql", query_string={"query": "SELEC <x>"}, headers={"Accept": "text/html"})
    assert as_html.content_type == "text/html; charset=utf-8"
    assert "&lt;" not in as_html.text or "<x>" not in as_html.text


def test_row_cap_truncates_and_flags(make_app):
    client = make_app(MAX_ROWS=5).test_client()
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    response = client.get("/sparql", query_string={"query": query})
    assert response.headers["Result-Truncated"] == "true"
    assert response.headers["Result-Rows"] == "5"
    assert response.json["head"]["truncated"] is True
    assert len(response.json["results"]["bindings"]) == 5
    as_csv = client.get("/sparql", query_string={"query": query, "format": "csv"})
    assert len(list(csv.reader(io.StringIO(as_csv.text)))) == 6
    graph = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "nt"})
    assert (graph.headers["Result-Truncated"], len(graph.text.splitlines())) == ("true", 5)
    small = client.get("/sparql", query_string={"query": VALUE})
    assert "Result-Truncated" not in small.headers
    assert "truncated" not in small.json["head"]


def test_time_limit_stops_the_query_and_the_engine_is_replaced(make_app):
    app = make_app(QUERY_TIMEOUT=0.5)
    client = app.test_client()
    started = time.perf_counter()
    response = client.get("/sparql", query_string={"query": SLOW})
    assert response.status_code == 503
    assert response.text == "503: query stopped after the time limit of 0.5 s\n"
    assert time.perf_counter() - started < 3
    assert client.get("/sparql", query_string={"query": VALUE}).json == VALUE_JSON
    assert client.get("/health").json["counters"]["timeouts"] == 1


def test_timeout_parameter_lowers_the_limit_but_never_raises_it(make_app):
    client = make_app(QUERY_TIMEOUT=0.4).test_client()
    started = time.perf_counter()
    lowered = client.get("/sparql", query_string={"query": SLOW + " # 1", "timeout": "0.2"})
    assert lowered.text == "503: query stopped after the time limit of 0.2 s\n"
    raised = client.get("/sparql", query_string={"query": SLOW + " # 2", "timeout": "100"})
    assert raised.text == "503: query stopped after the time limit of 0.4 s\n"
    assert time.perf_counter() - started < 4


def test_an_engine_crash_costs_only_its_own_request(make_app):
    app = make_app(MAX_NESTING=100_000)  # let a parser-crashing query through to prove the crash is contained
    client = app.test_client()
    response = client.post("/sparql", data="ASK {" + "{" * 20_000 + "}" * 20_000 + "}",
                           content_type="application/sparql-query")
    assert response.status_code == 503
    assert response.text.startswith("503: the query engine died while evaluating this query")
    assert client.get("/sparql", query_string={"query": VALUE}).json == VALUE_JSON
    assert client.get("/health").json["counters"]["engine_failures"] == 1


def test_an_engine_killed_from_outside_is_replaced(app):
    client = app.test_client()
    assert client.get("/sparql", query_string={"query": VALUE}).status_code == 200
    (engine,) = app.extensions["kg.store"]._general.idle
    os.kill(engine.process.pid, signal.SIGKILL)
    engine.process.join(5)
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 503
    assert client.get("/sparql", query_string={"query": "ASK {}"}).json == {"head": {}, "boolean": True}


def test_etag_gives_304_and_results_are_cached(client):
    first = client.get("/sparql", query_string={"query": VALUE})
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get("/sparql", query_string={"query": VALUE}, headers={"If-None-Match": etag})
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", etag)
    other_format = client.get("/sparql", query_string={"query": VALUE, "format": "csv"},
                              headers={"If-None-Match": etag})
    assert (other_format.status_code, other_format.text) == (200, "v\r\n207\r\n")
    assert client.get("/sparql", query_string={"query": VALUE}).json == VALUE_JSON
    counters = client.get("/health").json["counters"]
    assert (counters["queries"], counters["cache_hits"], counters["not_modified"]) == (3, 1, 1)


def test_cors(client):
    response = client.get("/sparql", query_string={"query": VALUE}, headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Result-Truncated" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/sparql", headers={"Origin": "https://example.org",
                                                    "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    error = client.get("/sparql", query_string={"query": "SELEC"})
    assert error.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/sparql?query=ASK%7B%7D", "/queries/cells-dismantled-since-2002.json",
                                  "/claims.csv", "/export/nt", "/queries/no-such-query.json"])
def test_every_read_only_api_route_has_cors_and_nosniff(client, path):
    response = client.get(path, headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/about", "/claims", "/no-such-page"])
def test_html_pages_and_their_errors_have_a_csp_and_no_cors(client, path):
    response = client.get(path, headers={"Origin": "https://example.org", "Accept": "text/html"})
    assert response.mimetype == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_preflight_advertises_only_the_methods_of_its_route(client):
    preflight = client.options("/export/nt", headers={"Origin": "https://example.org",
                                                       "Access-Control-Request-Method": "GET"})
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS"


def test_cors_can_be_turned_off(make_app):
    response = make_app(CORS_ORIGIN="").test_client().get("/sparql", query_string={"query": VALUE})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_service_description(client, dataset):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.data, format="turtle")
    service = URIRef("http://localhost/sparql")
    assert (service, SD.endpoint, service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert (service, SD.resultFormat, URIRef("http://www.w3.org/ns/formats/SPARQL_Results_CSV")) in graph
    counts = {graph.value(named, SD.name): graph.value(graph.value(named, SD.graph), VOID.triples).toPython()
              for named in graph.objects(None, SD.namedGraph)}
    assert counts == {g.identifier: len(g) for g in dataset.graphs() if len(g)}
    assert GRAPH.claims in counts


def test_void_description(client, dataset):
    response = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    graph = Graph().parse(data=response.data, format="json-ld")
    ds = URIRef("https://w3id.org/morocco-ct-kg/void#dataset")
    total = sum(len(g) for g in dataset.graphs())
    assert graph.value(ds, VOID.triples) == Literal(total)
    assert graph.value(ds, VOID.sparqlEndpoint) == URIRef("http://localhost/sparql")
    linkset = URIRef("https://w3id.org/morocco-ct-kg/void#wikidata-links")
    links = sum(1 for o in dataset.objects(None, SKOS.exactMatch) if str(o).startswith(str(WD)))
    assert graph.value(linkset, VOID.triples) == Literal(links)
    assert links > 0
    partitions = {graph.value(p, VOID["class"]): graph.value(p, VOID.entities).toPython()
                  for p in graph.objects(ds, VOID.classPartition)}
    assert partitions[CT.CountClaim] == len(set(dataset.subjects(RDF.type, CT.CountClaim))) > 0


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json
    assert (body["status"], body["datasets"]) == ("ok", ["none"])
    assert set(body["counters"]) == {"queries", "cache_hits", "not_modified", "errors", "timeouts", "engine_failures",
                                     "engines_busy"}
    assert body["containment"] == "network namespace"  # the suite runs as root on Linux (CI too)
    assert body["version"] == version()
