"""Descriptions of the service and the data, computed by SPARQL CONSTRUCT queries on the store itself.

GET /sparql without a query gives the SPARQL 1.1 Service Description (formats, features (sd:BasicFederatedQuery
only when the federation allow-list names an endpoint), the entailment regime of the `inference` mode asked for
(sd:defaultEntailmentRegime; sd:defaultSupportedEntailmentProfile for OWL 2 RL), the default dataset and every
named graph with its triple count); /.well-known/void gives the VoID description (size, class and property
partitions, one subset per named graph, the linkset to Wikidata). Both are ordinary queries: negotiated, cached and
limited like any other; a browser (a client that prefers HTML to RDF) gets them as a page.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, request
from rdflib import BNode, Graph, URIRef

from kg.formats import GRAPH_FORMATS, RESULT_FORMATS
from kg.inference import BY_NAME
from kg.namespaces import KG, WD, compact
from kg.store import DEFAULT_DATASET
from kg.web.negotiation import best_media_type, media_types
from kg.web.resources import get_allow_list, get_store
from kg.web.sparql import Operation, answer, read_operation

bp = Blueprint("descriptions", __name__)

VOID_BASE = "https://w3id.org/morocco-ct-kg/void#"
TITLE = "Morocco counterterrorism knowledge graph"
IRI_SAFE = ":/?#[]@!$&'()*+,;=%"


def _iri(url: str) -> str:
    """`url` made safe to write between angle brackets in SPARQL."""
    return "<" + quote(url, safe=IRI_SAFE) + ">"


def service_description_query(endpoint: str, union_default_graph: bool, federation: bool = False,
                              inference: str = "none") -> str:
    """The description of the service as it answers with `inference` (its entailment regime and, for OWL 2 RL,
    its profile)."""
    formats = " ".join(f"<{f.iri}>" for f in (*RESULT_FORMATS, *GRAPH_FORMATS))
    regime, profile = BY_NAME[inference].regime, BY_NAME[inference].entailment_profile
    profile_triple = f"?service sd:defaultSupportedEntailmentProfile <{profile}> ." if profile else ""
    features = " ".join(f for f, on in (("sd:UnionDefaultGraph", union_default_graph),
                                         ("sd:BasicFederatedQuery", federation)) if on)
    return f"""PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX dcterms: <http://purl.org/dc/terms/>
CONSTRUCT {{
  ?service a sd:Service ; sd:endpoint ?service ; sd:supportedLanguage sd:SPARQL11Query ;
    dcterms:title "{TITLE} (SPARQL endpoint)" ;
    sd:resultFormat ?format ; sd:feature ?feature ; sd:defaultDataset ?dataset ;
    sd:defaultEntailmentRegime <{regime}> .
  {profile_triple}
  ?dataset a sd:Dataset ; sd:defaultGraph ?default ; sd:namedGraph ?named .
  ?default a sd:Graph ; void:triples ?total ; sd:entailmentRegime <{regime}> .
  ?named a sd:NamedGraph ; sd:name ?g ; sd:graph ?graph .
  ?graph a sd:Graph ; void:triples ?n .
}}
WHERE {{
  VALUES (?service ?dataset ?default) {{ ({endpoint} <{VOID_BASE}dataset> <{VOID_BASE}default-graph>) }}
  {{ VALUES ?format {{ {formats} }} }}
  UNION {{ VALUES ?feature {{ {features} }} }}
  UNION {{ SELECT (COUNT(*) AS ?total) WHERE {{ ?s ?p ?o }} }}
  UNION {{
    SELECT ?g ?n (BNODE() AS ?named) (BNODE() AS ?graph)
    WHERE {{ {{ SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g }} }}
  }}
}}"""


def void_query(endpoint: str) -> str:
    return f"""PREFIX void: <http://rdfs.org/ns/void#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
CONSTRUCT {{
  ?dataset a void:Dataset ; dcterms:title "{TITLE}" ; void:sparqlEndpoint ?endpoint ;
    void:uriSpace "{KG}" ; void:triples ?triples ; void:distinctSubjects ?subjects ;
    void:classes ?classes ; void:properties ?properties ;
    void:classPartition ?cp ; void:propertyPartition ?pp ; void:subset ?graphset, ?linkset .
  ?cp void:class ?class ; void:entities ?entities .
  ?pp void:property ?property ; void:triples ?ptriples .
  ?graphset a void:Dataset ; dcterms:source ?g ; void:triples ?gtriples .
  ?linkset a void:Linkset ; void:linkPredicate skos:exactMatch ; void:subjectsTarget ?dataset ;
    void:objectsTarget ?wikidata ; void:triples ?links .
  ?wikidata a void:Dataset ; dcterms:title "Wikidata" ; foaf:homepage <https://www.wikidata.org/> ;
    void:uriSpace "{WD}" .
}}
WHERE {{
  VALUES (?dataset ?endpoint ?linkset ?wikidata) {{
    (<{VOID_BASE}dataset> {endpoint} <{VOID_BASE}wikidata-links> <{VOID_BASE}wikidata>)
  }}
  {{ SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
     WHERE {{ ?s ?p ?o }} }}
  UNION {{ SELECT (COUNT(DISTINCT ?c) AS ?classes) WHERE {{ ?x a ?c }} }}
  UNION {{ SELECT ?class ?entities (BNODE() AS ?cp)
     WHERE {{ {{ SELECT ?class (COUNT(DISTINCT ?x) AS ?entities) WHERE {{ ?x a ?class }} GROUP BY ?class }} }} }}
  UNION {{ SELECT ?property ?ptriples (BNODE() AS ?pp)
     WHERE {{ {{ SELECT ?property (COUNT(*) AS ?ptriples) WHERE {{ ?s ?property ?o }} GROUP BY ?property }} }} }}
  UNION {{ SELECT ?g ?gtriples (BNODE() AS ?graphset)
     WHERE {{ {{ SELECT ?g (COUNT(*) AS ?gtriples) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g }} }} }}
  UNION {{ SELECT (COUNT(*) AS ?links)
     WHERE {{ ?s skos:exactMatch ?o FILTER(STRSTARTS(STR(?o), "{WD}")) }} }}
}}"""


def service_description(operation: Operation) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint, as an RDF graph in the negotiated format (a page for
    browsers)."""
    inference = operation.dataset or DEFAULT_DATASET
    get_store().check_dataset(inference)
    text = service_description_query(_iri(request.base_url), current_app.config["UNION_DEFAULT_GRAPH"],
                                     federation=bool(get_allow_list().endpoints), inference=inference)
    return _described(operation, text, "SPARQL endpoint", "service description")


@bp.route("/.well-known/void", methods=["GET"])
def void() -> Response:
    """The VoID description of the dataset, as an RDF graph in the negotiated format (a page for browsers)."""
    operation = read_operation()
    endpoint = _iri(request.host_url.rstrip("/") + "/sparql")
    return _described(operation, void_query(endpoint), "VoID description", "VoID description")


def _described(operation: Operation, text: str, title: str, what: str) -> Response:
    """The description as RDF, or as an HTML page when the client prefers HTML to every RDF format (a browser
    following a link); an explicit `format` parameter always gets RDF."""
    if operation.formats or not _prefers_html(request.headers.get("Accept")):
        return answer(Operation(text=text, formats=operation.formats, dataset=operation.dataset))
    triples = answer(Operation(text=text, formats=("nt",), dataset=operation.dataset))
    graph = Graph().parse(data=triples.get_data(), format="nt")
    links = [(f.name, f.media_type) for f in GRAPH_FORMATS if not f.quads]
    page = render_template("description.html", title=title, what=what, nodes=_tree(graph), formats=links,
                           triples=len(graph))
    return Response(page, mimetype="text/html", headers={"Vary": "Accept"})


def _prefers_html(accept: str | None) -> bool:
    rdf = tuple(m for f in GRAPH_FORMATS for m in media_types(f))
    aliases = frozenset(m for f in GRAPH_FORMATS for m in media_types(f)[1:])
    return best_media_type(accept, (*rdf, "text/html"), aliases) == "text/html"


def _term(term) -> dict:
    shown = compact(term) if isinstance(term, URIRef) else str(term)
    href = str(term) if isinstance(term, URIRef) and str(term).startswith(("http://", "https://")) else None
    return {"text": shown, "href": href}


def _tree(graph: Graph) -> list[dict]:
    """Every subject that is an IRI with its properties, in order; blank-node objects nested in their place."""
    def rows(subject, path: frozenset) -> list[dict]:
        found = []
        for predicate, obj in graph.predicate_objects(subject):
            nested = rows(obj, path | {obj}) if isinstance(obj, BNode) and obj not in path else None
            found.append({"predicate": _term(predicate), "object": _term(obj), "nested": nested})
        return sorted(found, key=lambda r: (r["predicate"]["text"], r["nested"] is not None, _key(r)))

    def _key(row: dict) -> str:
        nested = row["nested"]
        return " ".join(f"{r['predicate']['text']} {r['object']['text']}" for r in nested) if nested else \
            row["object"]["text"]

    subjects = sorted({s for s in graph.subjects() if isinstance(s, URIRef)}, key=str)
    return [{"subject": _term(s), "rows": rows(s, frozenset({s}))} for s in subjects]
