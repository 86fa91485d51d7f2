"""The namespaces of the project and the vocabularies it reuses, bound once for every serializer."""

from __future__ import annotations

from rdflib import Graph, Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, TIME, XSD

CT = Namespace("https://w3id.org/morocco-ct-kg/ontology#")
KG = Namespace("https://w3id.org/morocco-ct-kg/id/")
GRAPH = Namespace("https://w3id.org/morocco-ct-kg/graph/")
CTSH = Namespace("https://w3id.org/morocco-ct-kg/shapes#")
SCHEMA = Namespace("https://schema.org/")
OA = Namespace("http://www.w3.org/ns/oa#")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
P = Namespace("http://www.wikidata.org/prop/")
PS = Namespace("http://www.wikidata.org/prop/statement/")
PQ = Namespace("http://www.wikidata.org/prop/qualifier/")
PR = Namespace("http://www.wikidata.org/prop/reference/")
WIKIBASE = Namespace("http://wikiba.se/ontology#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")

PREFIXES: dict[str, Namespace] = {
    "ct": CT,
    "kg": KG,
    "ctsh": CTSH,
    "schema": SCHEMA,
    "prov": PROV,
    "time": TIME,
    "skos": SKOS,
    "oa": OA,
    "dcterms": DCTERMS,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "sh": SH,
    "wd": WD,
    "wdt": WDT,
    "p": P,
    "ps": PS,
    "pq": PQ,
    "pr": PR,
    "wikibase": WIKIBASE,
    "sd": SD,
    "void": VOID,
    "geo": GEO,
}


# The prefixes the Wikidata Query Service declares for every query, beyond those above (which mean the same there),
# so that a query pasted from WDQS runs without PREFIX lines. WDQS's `schema:` is http://schema.org/; ours (above)
# is https://schema.org/, the form our data uses (docs/wikidata.md lists the differences).
WDQS_PREFIXES: dict[str, str] = {
    "wds": "http://www.wikidata.org/entity/statement/",
    "wdv": "http://www.wikidata.org/value/",
    "wdref": "http://www.wikidata.org/reference/",
    "wdtn": "http://www.wikidata.org/prop/direct-normalized/",
    "psv": "http://www.wikidata.org/prop/statement/value/",
    "psn": "http://www.wikidata.org/prop/statement/value-normalized/",
    "pqv": "http://www.wikidata.org/prop/qualifier/value/",
    "pqn": "http://www.wikidata.org/prop/qualifier/value-normalized/",
    "prv": "http://www.wikidata.org/prop/reference/value/",
    "prn": "http://www.wikidata.org/prop/reference/value-normalized/",
    "wdno": "http://www.wikidata.org/prop/novalue/",
    "wdata": "http://www.wikidata.org/wiki/Special:EntityData/",
    "bd": "http://www.bigdata.com/rdf#",
    "hint": "http://www.bigdata.com/queryHints#",
    "cc": "http://creativecommons.org/ns#",
    "dct": "http://purl.org/dc/terms/",
    "ontolex": "http://www.w3.org/ns/lemon/ontolex#",
    "geof": "http://www.opengis.net/def/geosparql/function/",
}
# Every prefix a query may use without declaring it: the project's and WDQS's.
QUERY_PREFIXES: dict[str, str] = {**WDQS_PREFIXES, **{p: str(ns) for p, ns in PREFIXES.items()}}


# Longest namespace first, so that an IRI in wdt: or ps: is not shown as wd:… or p:….
_BY_LENGTH = sorted(((p, str(ns)) for p, ns in PREFIXES.items()), key=lambda item: -len(item[1]))


def compact(iri: str) -> str:
    """`iri` as a prefixed name when a project prefix covers it with a plain local name, else the IRI itself."""
    iri = str(iri)
    for prefix, namespace in _BY_LENGTH:
        local = iri[len(namespace):]
        if iri.startswith(namespace) and all(c.isalnum() or c in "-_." for c in local):
            return f"{prefix}:{local}"
    return iri


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes so every serialization reads the same way."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def sparql_prologue() -> str:
    """PREFIX lines for every predeclared prefix, for queries written without them."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in QUERY_PREFIXES.items())
