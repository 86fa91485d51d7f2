"""Inference on the endpoint (`inference=none|rdfs|owl-rl`, advertised as the entailment regime), the exports at
/export/<format> and the JSON-LD context at /context.jsonld."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from kg import export
from kg.graph import union, version
from kg.inference import BY_NAME, INFERENCE_MODES
from kg.namespaces import GRAPH, KG, SD

EVENTS_IN_MOROCCO = "SELECT ?event WHERE { ?event ct:occurredIn kg:place-morocco } ORDER BY ?event"
EVENTS = [str(KG[f"event-{slug}"]) for slug in ("2003-casablanca-bombings", "2011-marrakesh-bombing",
                                                 "2018-imlil-murders")]


@pytest.fixture(scope="session")
def inference_store(datasets):
    from kg.store.oxigraph import OxigraphStore

    return OxigraphStore.from_datasets(datasets, version=version())


@pytest.fixture
def client(make_app, inference_store):
    return make_app(inference_store).test_client()


def column(response, name: str) -> list[str]:
    assert response.status_code == 200, response.data
    return [b[name]["value"] for b in response.json["results"]["bindings"]]


def ask(client, query: str, inference: str) -> bool:
    response = client.get("/sparql", query_string={"query": query, "inference": inference},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.data
    return response.json["boolean"]


@pytest.mark.parametrize(("inference", "expected"), [("none", []), ("rdfs", []), ("owl-rl", EVENTS)])
def test_events_in_morocco_through_place_containment(client, inference, expected):
    response = client.get("/sparql", query_string={"query": EVENTS_IN_MOROCCO, "inference": inference},
                          headers={"Accept": "application/sparql-results+json"})
    assert column(response, "event") == expected


def test_inference_off_by_default(client):
    response = client.get("/sparql", query_string={"query": EVENTS_IN_MOROCCO},
                          headers={"Accept": "application/sparql-results+json"})
    assert column(response, "event") == []


@pytest.mark.parametrize("query", [
    "ASK { kg:place-morocco ct:contains kg:place-imlil }",
    "ASK { kg:org-dgapr ct:operates kg:program-moussalaha }",
    "ASK { kg:strategy-deradicalization ct:componentOf kg:strategy-morocco-counterterrorism }",
])
def test_inverse_properties(client, query):
    assert (ask(client, query, "none"), ask(client, query, "owl-rl")) == (False, True)


@pytest.mark.parametrize(("inference", "expected"), [
    ("none", [str(KG["org-moroccan-security-services"])]),
    ("rdfs", [str(KG["org-dgst"]), str(KG["org-moroccan-security-services"])]),
    ("owl-rl", [str(KG["org-dgst"]), str(KG["org-moroccan-security-services"])]),
])
def test_superclass_query(client, inference, expected):
    query = "SELECT ?agency WHERE { ?agency a ct:SecurityAgency } ORDER BY ?agency"
    response = client.get("/sparql", query_string={"query": query, "inference": inference},
                          headers={"Accept": "application/sparql-results+json"})
    assert column(response, "agency") == expected


def test_unknown_inference_mode_is_a_400(client):
    response = client.get("/sparql", query_string={"query": EVENTS_IN_MOROCCO, "inference": "owl-full"})
    assert (response.status_code, response.data) == (
        400, b"400: unknown inference mode 'owl-full'; available: none, owl-rl, rdfs\n")


@pytest.mark.parametrize("inference", INFERENCE_MODES)
def test_service_description_advertises_the_entailment_regime(client, datasets, inference):
    response = client.get("/sparql", query_string={"inference": inference}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.data, format="turtle")
    service = URIRef("http://localhost/sparql")
    regime, profile = BY_NAME[inference].regime, BY_NAME[inference].entailment_profile
    assert list(graph.objects(service, SD.defaultEntailmentRegime)) == [regime]
    assert list(graph.objects(service, SD.defaultSupportedEntailmentProfile)) == ([profile] if profile else [])
    default = graph.value(graph.value(service, SD.defaultDataset), SD.defaultGraph)
    assert list(graph.objects(default, SD.entailmentRegime)) == [regime]
    names = set(graph.objects(None, SD.name))
    assert (GRAPH.inferred in names) == (inference != "none")
    assert names == {g.identifier for g in datasets[inference].graphs() if len(g)}


@pytest.mark.parametrize("inference", INFERENCE_MODES)
@pytest.mark.parametrize("fmt", ["turtle", "json-ld", "nt", "xml"])
def test_triple_exports_are_the_union_graph(client, datasets, fmt, inference):
    response = client.get(f"/export/{fmt}", query_string={"inference": inference})
    chosen = export.lookup(export.GRAPH_FORMATS, fmt)
    assert response.status_code == 200
    assert response.mimetype == chosen.media_type
    suffix = "" if inference == "none" else f"-{inference}"
    assert response.headers["Content-Disposition"] == f'inline; filename="morocco-ct-kg{suffix}{chosen.extension}"'
    parsed = Graph().parse(data=response.data, format=chosen.rdflib)
    assert isomorphic(parsed, union(datasets[inference]))


@pytest.mark.parametrize("fmt", ["trig", "nquads", "nq"])
def test_quad_exports_keep_the_named_graphs(client, datasets, fmt):
    response = client.get(f"/export/{fmt}", query_string={"inference": "owl-rl"})
    assert response.status_code == 200
    assert response.is_streamed
    parsed = Dataset()
    parsed.parse(data=response.data, format=export.lookup(export.GRAPH_FORMATS, fmt).rdflib)
    expected = {g.identifier: g for g in datasets["owl-rl"].graphs() if len(g)}
    actual = {g.identifier: g for g in parsed.graphs() if len(g)}
    assert set(actual) == set(expected) and GRAPH.inferred in actual
    for name, graph in expected.items():
        assert isomorphic(actual[name], graph), name


def test_export_etag_gives_304(client):
    first = client.get("/export/nt")
    etag = first.headers["ETag"]
    second = client.get("/export/nt", headers={"If-None-Match": etag})
    assert (second.status_code, second.data) == (304, b"")
    other = client.get("/export/nt", query_string={"inference": "rdfs"}, headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_unknown_export_format_is_a_404(client):
    response = client.get("/export/yaml")
    assert (response.status_code, response.data) == (
        404, b"404: unknown format 'yaml'; known: turtle, json-ld, nt, xml, trig, nquads\n")


def test_context_is_served_at_a_stable_url(client):
    response = client.get("/context.jsonld")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.json == export.context()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(client.get("/export/json-ld").data)["@context"] == response.json["@context"]


def test_open_store_holds_every_inference_mode():
    from kg.store import open_store

    store = open_store(isolate=False)
    assert store.datasets == ("none", "owl-rl", "rdfs")
    assert str(GRAPH.inferred) in store.graphs("owl-rl") and str(GRAPH.inferred) not in store.graphs("none")



def page(client, url: str) -> str:
    response = client.get(url, headers={"Accept": "text/html"})
    assert (response.status_code, response.mimetype) == (200, "text/html")
    return response.get_data(as_text=True)


def test_query_page_inference_selector_offers_the_store_modes_and_keeps_the_chosen_one(client):
    options = re.findall(r'<option value="([^"]+)"( selected)?>', page(client, "/?inference=owl-rl"))
    assert [value for value, _ in options] == list(client.application.extensions["kg.store"].datasets)
    assert [value for value, selected in options if selected] == ["owl-rl"]
    unknown = re.findall(r'<option value="([^"]+)" selected>', page(client, "/?inference=" + quote("<script>")))
    assert unknown == ["none"]
