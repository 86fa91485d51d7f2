"""The W3C SPARQL 1.1 Protocol tests (query side), run from their manifest against the endpoint.

Every test of the manifest runs. This endpoint is read-only, so the update tests that expect success are expected
to be refused with 403 instead; every other expectation (status class, result kind, boolean) is the manifest's.
The data graphs the tests give data for are loaded as named graphs; `data0.rdf`, which the tests name without data,
is not held: like any graph the dataset does not hold, it is an empty graph (never fetched, never refused).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDFS

from kg.formats import GRAPH_FORMATS, RESULT_FORMATS
from kg.store.oxigraph import OxigraphStore

W3C = Path(__file__).parent / "fixtures" / "w3c"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
DATA0 = "http://kasei.us/2009/09/sparql/data/data0.rdf"
MANIFEST = "http://example/manifest"


def _manifest() -> Graph:
    return Graph().parse(W3C / "sparql11-protocol-manifest.ttl", format="turtle", publicID=MANIFEST)


def _cases():
    manifest = _manifest()
    head = manifest.value(URIRef(MANIFEST), MF.entries)
    cases = []
    for entry in Collection(manifest, head):
        requests = []
        for req in Collection(manifest, manifest.value(manifest.value(entry, MF.action), HT.requests)):
            headers = {}
            header_list = manifest.value(req, HT.headers)
            if header_list is not None:
                for header in Collection(manifest, header_list):
                    headers[str(manifest.value(header, HT.fieldName))] = str(manifest.value(header, HT.fieldValue))
            body = manifest.value(req, HT.body)
            response = manifest.value(req, HT.resp)
            requests.append({
                "method": str(manifest.value(req, HT.methodName)),
                "path": str(manifest.value(req, HT.absolutePath)),
                "headers": headers,
                "body": None if body is None else (str(manifest.value(body, CNT.chars)),
                                                   str(manifest.value(body, CNT.characterEncoding))),
                "status": {str(s).rsplit("StatusCode", 1)[1] for s in manifest.objects(response, MF.expectedStatus)},
                "format": manifest.value(response, MF.expectedFormat),
                "boolean": manifest.value(response, MF.expectedBoolean),
            })
        name = str(entry).rsplit("#", 1)[1]
        cases.append(pytest.param(name, requests, id=name))
    return cases


def _graph_data():
    manifest = _manifest()
    graphs = {}
    for data in manifest.objects(None, UT.graphData):
        graphs[str(manifest.value(data, RDFS.label))] = Path(str(manifest.value(data, UT.graph))).name
    return graphs


CASES = _cases()


def test_the_manifest_was_read():
    assert len(CASES) == 34
    assert _graph_data() == {f"http://kasei.us/2009/09/sparql/data/data{i}.rdf": f"data{i}.nt" for i in (1, 2, 3)}


@pytest.fixture(scope="module")
def w3c_store():
    nquads = b""
    for label, filename in _graph_data().items():
        triples = (W3C / f"protocol-{filename}").read_bytes()
        nquads += b"".join(line.rstrip(b" .\n") + f" <{label}> .\n".encode() for line in triples.splitlines(True)
                           if line.strip())
    return OxigraphStore({"none": OxigraphStore.load(nquads)}, version="w3c")


@pytest.mark.parametrize(("name", "requests"), CASES)
def test_protocol(make_app, w3c_store, name, requests):
    client = make_app(store=w3c_store).test_client()
    for req in requests:
        url = urlsplit(req["path"].replace("/sparql/", "/sparql", 1))
        data = None
        if req["body"] is not None:
            chars, encoding = req["body"]
            data = chars.encode(encoding)
        response = client.open(url.path, method=req["method"], query_string=url.query, data=data,
                               headers=req["headers"])
        expected = req["status"]
        if name.startswith("update_") and expected == {"2xx", "3xx"}:
            expected = {"4xx"}  # read-only
            assert response.status_code == 403
        assert f"{response.status_code // 100}xx" in expected, response.text
        if expected == {"4xx"} or response.status_code == 403:
            break  # the later requests of an update test check what the update would have written
        media_type = response.mimetype
        if req["format"] is not None:
            kind = str(req["format"])
            tables = {"boolean": RESULT_FORMATS[:2], "tabular": RESULT_FORMATS, "RDF": GRAPH_FORMATS}[kind]
            assert media_type in {f.media_type for f in tables}
        if req["boolean"] is not None:
            assert json.loads(response.data)["boolean"] is req["boolean"].toPython()


def test_a_graph_outside_the_dataset_is_empty(make_app, w3c_store):
    client = make_app(store=w3c_store).test_client()
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }", "default-graph-uri": DATA0},
                          headers={"Accept": "application/sparql-results+json"})
    assert (response.status_code, response.json["boolean"]) == (200, False)
    assert response.headers["KG-Unknown-Graphs"] == f"<{DATA0}>"


def test_the_store_holds_the_manifests_graphs(w3c_store):
    assert w3c_store.graphs("none") == set(_graph_data())
