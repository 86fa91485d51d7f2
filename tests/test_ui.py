"""The query page, the named query pages and the Linked Data pages, through Flask's test client."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg.namespaces import CT, GRAPH, KG
from kg.queries import named_queries

QUERIES = named_queries()
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SCRIPT = "<script>alert(1)</script>"
RDF_TYPES = [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt"),
             ("application/rdf+xml", "xml")]


def html(client, url: str, status: int = 200) -> str:
    response = client.get(url, headers={"Accept": BROWSER_ACCEPT})
    assert (response.status_code, response.mimetype) == (status, "text/html")
    return response.get_data(as_text=True)


def test_query_page_lists_every_named_query(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    config = json.loads(re.search(r'<script type="application/json" id="kg-config">(.*?)</script>', page).group(1))
    assert QUERIES and config["examples"] == {name: q.text for name, q in QUERIES.items()}
    assert (config["endpoint"], config["base"], config["prefixes"]["kg"]) == ("/sparql", "", str(KG))
    for name, named in QUERIES.items():
        assert f'data-name="{name}">{named.title}</button>' in page.replace("&#39;", "'")
    assert '<script src="/static/query.js" defer></script>' in page


def test_query_string_is_escaped(client):
    page = client.get("/?query=" + quote(f"SELECT * WHERE {{ ?s ?p '{SCRIPT}' }}")).get_data(as_text=True)
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'data-run="true"' in page


def test_static_files_are_served(client):
    for path, media_type in (("/static/query.js", "text/javascript"), ("/static/style.css", "text/css")):
        with client.get(path) as response:
            assert (response.status_code, response.mimetype) == (200, media_type)


def test_named_query_page(client):
    named = QUERIES["cells-since-2002"]
    page = html(client, "/queries/cells-since-2002")
    for text in (named.title, named.question, '"/queries/cells-since-2002.json"',
                 '<a class="button" href="/?query=%23'):
        assert text in page
    assert "?claim a ct:CountClaim ;" in page


@pytest.mark.parametrize("name", list(QUERIES))
def test_named_query_json_twin(client, name):
    response = client.get(f"/queries/{name}.json")
    assert (response.status_code, response.mimetype) == (200, "application/sparql-results+json")
    expected = json.loads(Path(QUERIES[name].path.with_suffix(".srj")).read_text(encoding="utf-8"))
    got = response.get_json()
    assert got["head"]["vars"] == expected["head"]["vars"]
    key = lambda b: json.dumps(b, sort_keys=True)  # noqa: E731
    assert sorted(map(key, got["results"]["bindings"])) == sorted(map(key, expected["results"]["bindings"]))


def test_unknown_named_query_is_404(client):
    response = client.get("/queries/no-such-query.json")
    assert (response.status_code, response.get_data(as_text=True)) == (404, "404: no named query 'no-such-query'\n")


def test_resource_page_groups_triples_by_graph(client):
    page = html(client, "/id/org-dgst")
    assert "<h1>General Directorate of Territorial Surveillance</h1>" in page
    graphs = re.findall(r'<caption>graph <span class="graph">([\w-]+)</span></caption>', page)
    assert graphs == ["claims", "enrichment", "wikidata", "wikidata-model", "claims"]  # statements, then referrers
    assert '<a class="iri" href="/ontology#IntelligenceAgency"' in page
    assert '<a class="iri" href="/id/claim-cells-dismantled-since-2002"' in page  # a claim that DGST makes


def test_claim_page_shows_its_evidence(client):
    page = html(client, "/id/claim-cells-dismantled-since-2002")
    assert "<blockquote>“Morocco has dismantled 207 terrorist cells since 2002”</blockquote>" in page
    assert "characters 230–283 of the article" in page
    assert 'claimed by <a class="iri" href="/id/org-dgst"' in page
    assert 'stated in <a class="iri" href="/id/doc-dgst-press-release"' in page


def test_linked_entity_links_to_wikidata(client):
    page = html(client, "/id/place-morocco")
    assert ('<p class="wikidata">Wikidata: <a class="iri" href="https://www.wikidata.org/wiki/Q1028" '
            'title="http://www.wikidata.org/entity/Q1028">wd:Q1028</a></p>') in page


def _description(dataset, iri) -> Graph:
    """What the CBD of `iri` must be: its triples in every named graph (the data has no blank nodes there)."""
    expected = Graph()
    for s, p, o, _ in dataset.quads((URIRef(iri), None, None, None)):
        expected.add((s, p, o))
    return expected


@pytest.mark.parametrize(("media_type", "parser"), RDF_TYPES)
def test_resource_rdf_by_content_negotiation(client, dataset, media_type, parser):
    response = client.get("/id/org-dgst", headers={"Accept": media_type})
    assert (response.status_code, response.mimetype) == (200, media_type)
    assert response.headers["Vary"] == "Accept"
    got = Graph().parse(data=response.data, format=parser)
    assert (KG["org-dgst"], RDF.type, CT.IntelligenceAgency) in got
    assert (KG["org-dgst"], SKOS.altLabel, Literal("DGST")) in got
    assert set(got) == set(_description(dataset, KG["org-dgst"]))


def test_format_parameter_overrides_accept(client):
    response = client.get("/id/org-dgst?format=ttl", headers={"Accept": BROWSER_ACCEPT})
    assert response.mimetype == "text/turtle"
    assert client.get("/id/org-dgst?format=html", headers={"Accept": "text/turtle"}).mimetype == "text/html"


@pytest.mark.parametrize("url", ["/id/no-such-thing", "/id/a%3Eb", "/id/.hidden"])
def test_unknown_resource_is_404(client, url):
    response = client.get(url)
    slug = url.rsplit("/", 1)[1].replace("%3E", ">")
    reason = f"no resource kg:{slug} in this graph"
    assert (response.status_code, response.get_data(as_text=True)) == (404, f"404: {reason}\n")
    assert f'<p class="reason">{reason.replace(">", "&gt;")}</p>' in html(client, url, status=404)


def test_unacceptable_format_is_406(client):
    assert client.get("/id/org-dgst", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/id/org-dgst?format=csv").status_code == 400


def test_ontology_page_and_rdf(client):
    page = html(client, "/ontology")
    assert '<section class="term" id="CountClaim">' in page
    assert '<a href="#CountClaim">CountClaim</a>' in page
    got = Graph().parse(data=client.get("/ontology", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert (CT.CountClaim, RDF.type, OWL.Class) in got
    assert (CT.CountClaim, RDFS.label, None) in got


def test_public_base_maps_our_iris(make_app):
    client = make_app(PUBLIC_BASE="https://kg.example.org/").test_client()
    page = html(client, "/id/claim-cells-dismantled-since-2002")
    assert 'claimed by <a class="iri" href="https://kg.example.org/id/org-dgst"' in page
    assert 'href="https://kg.example.org/ontology#CountClaim"' in page
    assert '"base": "https://kg.example.org"' in client.get("/").get_data(as_text=True)


def test_literals_from_the_data_are_escaped(make_app):
    from kg.store.oxigraph import OxigraphStore

    data = Dataset()
    data.graph(GRAPH.claims).add((KG.x, RDFS.label, Literal(SCRIPT)))
    data.graph(GRAPH.claims).add((KG.x, RDFS.seeAlso, URIRef("javascript:alert(1)")))
    client = make_app(OxigraphStore.from_datasets({"none": data}, version="xss")).test_client()
    page = html(client, "/id/x")
    assert SCRIPT not in page
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page
    assert 'href="javascript:' not in page
    assert '<span class="iri" title="javascript:alert(1)">javascript:alert(1)</span>' in page

