"""The serialization formats, one table each for graphs and for query results, keyed by name and media type."""

from __future__ import annotations

from dataclasses import dataclass

from kg.errors import KGError

W3C = "http://www.w3.org/ns/formats/"


class UnknownFormat(KGError):
    """A format name or media type that no table lists."""


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    rdflib: str
    extension: str
    aliases: tuple[str, ...] = ()
    quads: bool = False
    iri: str = ""  # the W3C format IRI (http://www.w3.org/ns/formats/), for service descriptions

    def keys(self) -> tuple[str, ...]:
        return (self.name, self.media_type, self.rdflib, self.extension.lstrip("."), *self.aliases)


GRAPH_FORMATS: tuple[Format, ...] = (
    Format("turtle", "text/turtle", "turtle", ".ttl",
           ("ttl", "application/x-turtle", "application/turtle", "n3", "text/n3"), iri=W3C + "Turtle"),
    Format("json-ld", "application/ld+json", "json-ld", ".jsonld", ("jsonld", "json", "application/json"),
           iri=W3C + "JSON-LD"),
    Format("nt", "application/n-triples", "nt", ".nt", ("ntriples", "n-triples", "text/plain"), iri=W3C + "N-Triples"),
    Format("xml", "application/rdf+xml", "xml", ".rdf", ("rdf", "rdfxml", "rdf/xml", "rdf+xml", "application/xml"),
           iri=W3C + "RDF_XML"),
    Format("trig", "application/trig", "trig", ".trig", (), quads=True, iri=W3C + "TriG"),
    Format("nquads", "application/n-quads", "nquads", ".nq", ("nq", "n-quads"), quads=True, iri=W3C + "N-Quads"),
)

RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "json", ".srj", ("srj", "application/json"),
           iri=W3C + "SPARQL_Results_JSON"),
    Format("xml", "application/sparql-results+xml", "xml", ".srx", ("srx", "application/xml"),
           iri=W3C + "SPARQL_Results_XML"),
    Format("csv", "text/csv", "csv", ".csv", iri=W3C + "SPARQL_Results_CSV"),
    Format("tsv", "text/tab-separated-values", "tsv", ".tsv", iri=W3C + "SPARQL_Results_TSV"),
)


# Formats written by a project writer rather than an rdflib serializer: `kg export` only, not content negotiation.
EXPORT_FORMATS: tuple[Format, ...] = (
    *GRAPH_FORMATS,
    Format("quickstatements", "text/plain", "", ".qs", ("qs",)),  # kg.wikidata.quickstatements
    Format("claims-csv", "text/csv", "", ".csv", ()),  # kg.claims_table: one row per claim
)


def lookup(table: tuple[Format, ...], key: str) -> Format:
    """Find a format by name, alias, extension or media type (parameters such as charset are ignored)."""
    wanted = key.split(";")[0].strip().lower()
    for fmt in table:
        if wanted in fmt.keys():
            return fmt
    names = ", ".join(f.name for f in table)
    raise UnknownFormat(f"unknown format {key!r}; known: {names}")
