"""What is served is what is in the files: every term the endpoint returns is the term of the data, lexical form and
all (pyoxigraph stores typed literals by value, so a non-canonical form such as "PT24H"^^xsd:duration would come
back as "P1D")."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from kg.inference import INFERENCE_MODES

NT = "application/n-triples"


def _get(url: str, accept: str) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=60) as response:
        assert response.status == 200
        return response.read()


def _served_as(literal: ox.Literal) -> ox.Literal:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), literal))
    return next(iter(store)).object


@pytest.mark.parametrize("mode", INFERENCE_MODES)
def test_every_literal_keeps_its_lexical_form_in_the_engine(datasets, mode):
    """The direct check, with a message that names the literal: the engine gives back each literal as written."""
    nquads = datasets[mode].serialize(format="nquads", encoding="utf-8")
    literals = {q.object for q in ox.parse(nquads, ox.RdfFormat.N_QUADS) if isinstance(q.object, ox.Literal)}
    assert len(literals) > 100
    changed = {str(lit): str(_served_as(lit)) for lit in literals if _served_as(lit) != lit}
    assert changed == {}, "literals the engine would rewrite (written -> served)"


def test_the_engine_rewrites_non_canonical_forms():
    """The check above can fail: these are forms pyoxigraph canonicalises."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    for lexical, datatype, served in [("PT24H", "duration", "P1D"), ("45.0", "decimal", "45"),
                                      ("2003-05-16T00:00:00+00:00", "dateTime", "2003-05-16T00:00:00Z"),
                                      ("1", "boolean", "true"), ("3.3E1", "double", "33")]:
        assert _served_as(ox.Literal(lexical, datatype=ox.NamedNode(xsd + datatype))).value == served


def _graph(data: bytes, fmt: str) -> Graph:
    return Graph().parse(data=data, format=fmt)


def _ground(graph: Graph) -> set:
    """The triples without blank nodes, as terms (rdflib compares literals by lexical form, datatype and language)."""
    return {t for t in graph if not any(isinstance(term, BNode) for term in t)}


@pytest.mark.parametrize("mode", INFERENCE_MODES)
def test_every_named_graph_is_served_term_for_term(live_server, mode):
    """CONSTRUCT each named graph through /sparql (N-Triples) and compare it with the export of that graph."""
    exported = Dataset()
    exported.parse(data=_get(f"{live_server['url']}/export/nquads?inference={mode}", "application/n-quads"),
                   format="nquads")
    names = sorted(g.identifier for g in exported.graphs() if isinstance(g.identifier, URIRef) and len(g))
    assert len(names) >= 5
    for name in names:
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"
        params = urllib.parse.urlencode({"query": query, "inference": mode})
        served = _graph(_get(f"{live_server['url']}/sparql?{params}", NT), "nt")
        expected = Graph()
        for triple in exported.graph(name):
            expected.add(triple)
        assert _ground(served) == _ground(expected), name
        assert isomorphic(served, expected), name
