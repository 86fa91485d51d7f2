"""Content negotiation, pinned by a case table: Accept header (and format parameter) -> chosen format."""

import pytest

from kg.formats import GRAPH_FORMATS, RESULT_FORMATS, UnknownFormat
from kg.web.negotiation import NotAcceptable, choose, parse_accept

SPARQLWRAPPER_JSON = "application/sparql-results+json,application/json,text/javascript,application/javascript"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

RESULT_CASES = [
    (None, [], "json"),
    ("", [], "json"),
    ("*/*", [], "json"),
    ("application/sparql-results+json", [], "json"),
    ("application/sparql-results+xml", [], "xml"),
    ("application/sparql-results+xml, application/rdf+xml", [], "xml"),  # rdflib's SPARQLStore
    ("application/sparql-results+xml,application/rdf+xml,*/*", [], "xml"),
    (SPARQLWRAPPER_JSON, [], "json"),
    ("text/csv", [], "csv"),
    ("text/tab-separated-values", [], "tsv"),
    ("text/csv;q=0.5, text/tab-separated-values", [], "tsv"),
    ("text/csv, text/tab-separated-values", [], "csv"),
    ("text/*", [], "csv"),
    ("application/json", [], "json"),
    ("application/xml", [], "xml"),
    (BROWSER, [], "xml"),  # application/xml;q=0.9 beats */*;q=0.8
    ("application/sparql-results+json;q=0, */*", [], "xml"),
    ("text/csv; charset=utf-8", [], "csv"),
    ("garbage, text/csv", [], "csv"),
    ("text/turtle", ["csv"], "csv"),  # a parameter overrides Accept
    ("*/*", ["tsv", "text/tab-separated-values"], "tsv"),  # SPARQLWrapper sends both
    ("*/*", ["application/sparql-results+xml"], "xml"),
]

GRAPH_CASES = [
    (None, [], "turtle"),
    ("*/*", [], "turtle"),
    ("text/turtle", [], "turtle"),
    ("application/turtle,text/turtle", [], "turtle"),
    ("application/ld+json", [], "json-ld"),
    ("application/ld+json,application/x-json+ld", [], "json-ld"),
    ("application/n-triples", [], "nt"),
    ("application/rdf+xml", [], "xml"),
    ("application/sparql-results+xml, application/rdf+xml", [], "xml"),  # rdflib's SPARQLStore
    ("application/json", [], "json-ld"),
    ("application/trig", [], "trig"),
    ("application/n-quads", [], "nquads"),
    ("text/plain", [], "nt"),
    ("*/*", ["json-ld", "application/ld+json"], "json-ld"),
    ("*/*", ["xml"], "xml"),
    ("*/*", ["turtle"], "turtle"),
]


@pytest.mark.parametrize(("accept", "requested", "expected"), RESULT_CASES)
def test_result_formats(accept, requested, expected):
    assert choose(RESULT_FORMATS, RESULT_FORMATS[0], accept, requested, (GRAPH_FORMATS,)).name == expected


@pytest.mark.parametrize(("accept", "requested", "expected"), GRAPH_CASES)
def test_graph_formats(accept, requested, expected):
    assert choose(GRAPH_FORMATS, GRAPH_FORMATS[0], accept, requested, (RESULT_FORMATS,)).name == expected


@pytest.mark.parametrize("accept", ["text/html", "image/png", "application/sparql-results+json;q=0", "text/turtle"])
def test_nothing_acceptable_for_results(accept):
    with pytest.raises(NotAcceptable):
        choose(RESULT_FORMATS, RESULT_FORMATS[0], accept, [], (GRAPH_FORMATS,))


def test_a_graph_format_requested_for_results_is_not_acceptable():
    with pytest.raises(NotAcceptable, match="does not apply"):
        choose(RESULT_FORMATS, RESULT_FORMATS[0], None, ["turtle"], (GRAPH_FORMATS,))


def test_an_unknown_format_name_is_an_error():
    with pytest.raises(UnknownFormat):
        choose(RESULT_FORMATS, RESULT_FORMATS[0], None, ["yaml"], (GRAPH_FORMATS,))


def test_parse_accept_reads_q_values_and_skips_garbage():
    ranges = parse_accept("text/csv;q=0.3, nonsense, */*;q=bad, application/json")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [("text", "csv", 0.3), ("*", "*", 0.0),
                                                            ("application", "json", 1.0)]
