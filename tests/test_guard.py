"""The lexical scan that runs before the engine: form, nesting, FROM graphs, SERVICE targets."""

import pytest

from kg.errors import QueryRejected
from kg.federation import AllowList, FederationRefused
from kg.store import PREFIX_ITEMS
from kg.store.guard import check, scan, unknown_graphs

GRAPHS = frozenset({"http://example.org/g1", "https://w3id.org/morocco-ct-kg/graph/claims"})


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT"),
        ("PREFIX ex: <http://example.org/> ask { ex:a ?p ?o }", "ASK"),
        ("# a comment with SELECT\nCONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("BASE <http://example.org/> DESCRIBE <a>", "DESCRIBE"),
        ("INSERT DATA { <a> <b> <c> }", "INSERT"),
        ("PREFIX x: <http://x/> WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        ("LOAD <http://example.org/data.ttl>", "LOAD"),
        ("SELEC ?x", None),
    ],
)
def test_form(text, form):
    assert scan(text).form == form


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("ASK {}", 1),
        ("SELECT ?x WHERE { FILTER((((1)))) }", 5),
        ('SELECT ?x WHERE { ?x ?p "{{{{((((" }', 1),  # brackets in strings do not count
        ("SELECT ?x WHERE { ?x ?p '''(((\n(((''' }", 1),
        ("SELECT ?x WHERE { ?x <http://example.org/(((> ?o } # (((((", 1),
        ("SELECT ?x WHERE { FILTER(?x<?y) }", 2),  # a '<' that opens no IRI is an operator
        ("ASK " + "{" * 3000 + "}" * 3000, 3000),
    ],
)
def test_depth(text, depth):
    assert scan(text).depth == depth


def test_from_graphs_are_resolved_with_declared_and_engine_prefixes():
    info = scan(
        "PREFIX ex: <http://example.org/> SELECT * FROM ex:g1 FROM NAMED <http://example.org/g2> "
        "FROM NAMED graph:claims { ?s ?p ?o }",
        (("graph", "https://w3id.org/morocco-ct-kg/graph/"),),
    )
    assert info.from_graphs == ("http://example.org/g1",)
    assert info.from_named_graphs == ("http://example.org/g2", "https://w3id.org/morocco-ct-kg/graph/claims")


def test_service_targets():
    info = scan("SELECT * { SERVICE SILENT <http://example.org/sparql> { ?s ?p ?o } SERVICE ?svc { ?a ?b ?c } }")
    assert info.services == ("http://example.org/sparql", "?svc")


def test_keywords_inside_names_strings_and_variables_are_not_keywords():
    info = scan('SELECT ?service ?from WHERE { ?service ex:SERVICE "SERVICE FROM <x>" }', PREFIX_ITEMS)
    assert (info.services, info.from_graphs) == ((), ())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("INSERT DATA { <a> <b> <c> }", "read-only: SPARQL Update (INSERT)"),
        ("ASK " + "{" * 101 + "}" * 101, "nested 101 levels deep; the limit is 100"),
    ],
)
def test_refusals(text, reason):
    with pytest.raises(QueryRejected, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check(scan(text), max_nesting=100)


def test_graphs_the_dataset_does_not_hold_are_named_not_refused():
    info = scan("SELECT * FROM <http://example.org/g1> FROM NAMED <http://example.org/remote> { ?s ?p ?o }")
    check(info, max_nesting=100)
    assert unknown_graphs((*info.from_graphs, *info.from_named_graphs), GRAPHS) == ("http://example.org/remote",)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
         "SERVICE <http://example.org/sparql> refused: federation is off"),
        ("SELECT * { SERVICE <https://query.wikidata.org/sparql/> { ?s ?p ?o } }",
         "SERVICE <https://query.wikidata.org/sparql/> refused: not in the federation allow-list"),
        ("SELECT * { SERVICE SILENT $where { ?s ?p ?o } }", "SERVICE ?where: an endpoint given by a variable"),
        ("SELECT * { SERVICE <http://example.org/\\u0073parql> { ?s ?p ?o } }",
         "SERVICE <http://example.org/sparql> refused: federation is off"),
    ],
)
def test_service_calls_go_through_the_federation_gate(text, reason):
    allow = AllowList.of(["https://query.wikidata.org/sparql"]) if "wikidata" in text else AllowList()
    with pytest.raises(FederationRefused, match=reason.replace("?", r"\?")):
        check(scan(text), max_nesting=100, allow=allow)


def test_allowed_services_pass():
    allow = AllowList.of(["https://query.wikidata.org/sparql"])
    text = "PREFIX w: <HTTPS://Query.Wikidata.org:443/> SELECT * { SERVICE w:sparql { ?s ?p ?o } }"
    check(scan(text), max_nesting=100, allow=allow)
