"""Full-text search: the index built from the store, the FTS5 query it makes of user input, /search and its JSON
twin, and `text:query` inside SPARQL as a local rewrite into VALUES."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDFS

from kg.errors import QueryError
from kg.namespaces import KG
from kg.search import SearchIndex, match_expression, rewrite
from kg.store.oxigraph import OxigraphStore

BROWSER_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"
TOURISTS = ["kg:event-2018-imlil-murders", "kg:claim-attack-imlil-2018"]


@pytest.fixture(scope="module")
def index(oxigraph_store):
    return SearchIndex(oxigraph_store)


def compact_hits(hits) -> list[str]:
    return [h.iri.replace(str(KG), "kg:") for h in hits]


@pytest.mark.parametrize(("typed", "expression"), [
    ("tourists", '"tourists"'),
    ("bomb* Casablanca", '"bomb"* "Casablanca"'),
    ('"two decades"', '"two decades"'),
    ('AND ( NEAR "', '"AND" "NEAR"'),
    ("Morocco's", '"Morocco" "s"'),
    ("  ", ""),
])
def test_user_input_becomes_quoted_terms(typed, expression):
    assert match_expression(typed) == expression


def test_a_word_of_an_evidence_quote_finds_its_claim_with_the_words_marked(index):
    hits = index.search("tourists")
    assert compact_hits(hits) == TOURISTS
    claim = hits[1]
    assert claim.type == "https://w3id.org/morocco-ct-kg/ontology#Claim"
    quote = claim.matches[0]
    assert (quote.field, quote.segments) == ("quote", (
        ("the murder of two Scandinavian ", False), ("tourists", True), (" in Imlil in 2018", False)))


def test_labels_alternative_names_and_prefixes(index):
    assert compact_hits(index.search("DGST"))[:1] == ["kg:org-dgst"]
    assert index.search("DGST")[0].matches[0].field == "alternative name"
    assert compact_hits(index.search("Marrakech"))[:1] == ["kg:place-marrakesh"]  # skos:altLabel
    assert compact_hits(index.search("bomb*", limit=2)) == ["kg:attack-kind-bombing", "kg:attack-kind-suicide-bombing"]
    assert index.search("") == [] and index.search("zzzunknownword") == []


def test_the_index_is_what_the_store_holds():
    """Built from a query over the store it searches: another store, another index."""
    dataset = Dataset(default_union=True)
    dataset.graph(URIRef("https://example.org/g")).add((KG["thing-x"], RDFS.label, Literal("a zeppelin", lang="en")))
    index = SearchIndex(OxigraphStore.from_datasets({"none": dataset}, version="test"))
    assert [(h.iri, h.label) for h in index.search("zeppelin")] == [(str(KG["thing-x"]), "a zeppelin")]
    assert index.search("tourists") == []


REWRITTEN = [
    ('SELECT ?s WHERE { ?s text:query ("tourists" 1) }',
     "SELECT ?s WHERE { VALUES (?s) { (<https://w3id.org/morocco-ct-kg/id/event-2018-imlil-murders>) } }"),
    ("PREFIX t: <http://jena.apache.org/text#> SELECT * { (?s ?score) t:query 'Scandinavian tourists' . }",
     "PREFIX t: <http://jena.apache.org/text#> SELECT * { VALUES (?s ?score) { "
     '(<https://w3id.org/morocco-ct-kg/id/event-2018-imlil-murders> "S"^^<http://www.w3.org/2001/XMLSchema#decimal>) '
     '(<https://w3id.org/morocco-ct-kg/id/claim-attack-imlil-2018> "S"^^<http://www.w3.org/2001/XMLSchema#decimal>)'
     " } . }"),
    ('SELECT * { (?s ?score ?text) <http://jena.apache.org/text#query> ("DGAPR" 1) }',
     'SELECT * { VALUES (?s ?score ?text) { (<https://w3id.org/morocco-ct-kg/id/org-dgapr> '
     '"S"^^<http://www.w3.org/2001/XMLSchema#decimal> "DGAPR") } }'),
    ('SELECT * { ?s text:query "zzzunknownword" }', "SELECT * { VALUES (?s) {  } }"),
]


@pytest.mark.parametrize(("text", "expected"), REWRITTEN)
def test_text_query_becomes_values_of_the_hits(index, text, expected):
    """Scores (BM25, which any change to the data moves) are checked for their order, and shown as S."""
    rewritten = rewrite(text, index)
    scores = [float(s) for s in re.findall(r'"([0-9.]+)"\^\^<http://www.w3.org/2001/XMLSchema#decimal>', rewritten)]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert re.sub(r'"[0-9.]+"(?=\^\^<http://www.w3.org/2001/XMLSchema#decimal>)', '"S"', rewritten) == expected


@pytest.mark.parametrize("text", [
    "SELECT * { ?s ?p ?o }",
    'SELECT * { ?s rdfs:label "text:query" } # ?s text:query "x"',
    'PREFIX text: <https://example.org/other#> SELECT * { ?s text:query "tourists" }',  # not Jena's namespace
])
def test_queries_without_the_pattern_are_unchanged(index, text):
    assert rewrite(text, index) == text


@pytest.mark.parametrize(("text", "reason"), [
    ('SELECT * { kg:x text:query "a" }', "text:query needs a variable subject"),
    ("SELECT * { ?s text:query ?words }", 'text:query takes "words" or ("words" limit)'),
    ('SELECT * { ?s text:query "a" ; rdfs:label ?l }', "a text:query pattern must be a triple of its own"),
])
def test_malformed_patterns_are_refused(index, text, reason):
    with pytest.raises(QueryError, match=re.escape(reason)):
        rewrite(text, index)


def test_without_an_index_the_pattern_is_refused():
    with pytest.raises(QueryError, match="not available"):
        rewrite('SELECT * { ?s text:query "a" }', None)


def test_search_json_twin(client):
    response = client.get("/search.json?q=tourists")
    assert (response.status_code, response.mimetype) == (200, "application/json")
    got = response.get_json()
    scores = [hit.pop("score") for hit in got["hits"]]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert got == {"query": "tourists", "hits": [
        {"iri": str(KG["event-2018-imlil-murders"]), "href": "/id/event-2018-imlil-murders",
         "label": "2018 Imlil murders",
         "type": "https://w3id.org/morocco-ct-kg/ontology#TerroristAttack", "matches": [
             {"field": "label", "text": "Murder of two Scandinavian tourists in Imlil", "marks": [[27, 35]]},
             {"field": "description", "marks": [[14, 22]], "text": (
                 "Murder of two tourists, one Danish and one Norwegian, at a camp on the trail from Imlil to Mount "
                 "Toubkal in the night of 16 to 17 December 2018, by four men who had pledged allegiance to the "
                 "Islamic State.")}]},
        {"iri": str(KG["claim-attack-imlil-2018"]), "href": "/id/claim-attack-imlil-2018",
         "label": "Morocco suffered the murder of two Scandinavian tourists in Imlil in 2018.",
         "type": "https://w3id.org/morocco-ct-kg/ontology#Claim", "matches": [
             {"field": "quote", "text": "the murder of two Scandinavian tourists in Imlil in 2018",
              "marks": [[31, 39]]},
             {"field": "label", "text": "Morocco suffered the murder of two Scandinavian tourists in Imlil in 2018.",
              "marks": [[48, 56]]}]},
    ]}


def test_search_page_marks_words_and_escapes_input(client):
    page = client.get("/search?q=tourists", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)
    assert '<a class="hit" href="/id/claim-attack-imlil-2018">' in page
    assert "“the murder of two Scandinavian <mark>tourists</mark> in Imlil in 2018”" in page
    assert "2 results for “tourists”" in page
    script = "<script>alert(1)</script>"
    page = client.get("/search?q=" + quote(script), headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)
    assert script not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(("url", "reason"), [
    ("/search.json?q=" + "a" * 201, "400: search text longer than 200 characters\n"),
    ("/search.json?q=a&limit=x", "400: limit must be a whole number\n"),
    ("/search.json?q=a&limit=0", "400: limit must be between 1 and 1000\n"),
])
def test_bad_search_parameters_are_400(client, url, reason):
    response = client.get(url, headers={"Accept": "text/plain"})
    assert (response.status_code, response.get_data(as_text=True)) == (400, reason)


def test_text_query_through_the_endpoint(client):
    query = 'SELECT ?s ?label WHERE { ?s text:query "tourists" . ?s rdfs:label ?label } ORDER BY ?s'
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    assert response.get_data(as_text=True).splitlines() == [
        "s,label",
        f"{KG['claim-attack-imlil-2018']},Morocco suffered the murder of two Scandinavian tourists in Imlil in 2018.",
        f"{KG['event-2018-imlil-murders']},2018 Imlil murders",
    ]


def test_text_query_does_not_bypass_the_guard(client):
    query = 'SELECT * WHERE { ?s text:query "tourists" . SERVICE <http://example.org/sparql> { ?s ?p ?o } }'
    assert client.get("/sparql", query_string={"query": query}).status_code == 403
    deep = "SELECT * WHERE { ?s text:query 'a' . " + "{" * 150 + "}" * 150 + " }"
    response = client.get("/sparql", query_string={"query": deep})
    assert (response.status_code, response.get_data(as_text=True)) == (
        400, "400: query nested 151 levels deep; the limit is 100\n")


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_search_text_is_answered(client, text):
    for url in ("/search.json", "/search"):
        assert client.get(url, query_string={"q": text}).status_code == 200
