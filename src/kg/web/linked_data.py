"""Linked Data: each kg: IRI dereferences at /id/<slug>, the ct: terms at /ontology; HTML for people, RDF for machines.

Every page is made of SPARQL queries through the store. The RDF of /id/<slug> is the resource's concise bounded
description (its triples and those of the blank nodes it leads to); that of /ontology is the ontology's graph. Both
are answered like any graph query of /sparql (negotiated, cached, with an ETag).
"""

from __future__ import annotations

import json
import re
from itertools import groupby

from flask import Blueprint, Response, current_app, render_template, request

from kg.formats import GRAPH_FORMATS, Format
from kg.namespaces import CT, DCTERMS, GRAPH, KG, OA, RDF, RDFS, SKOS, WD
from kg.store import QueryRequest
from kg.web import negotiation
from kg.web.errors import HTTPError
from kg.web.resources import get_store
from kg.web.sparql import Operation, answer
from kg.web.terms import ONTOLOGY_IRI, show
from kg.web.ui import add_security_headers

bp = Blueprint("linked_data", __name__)
bp.after_request(add_security_headers)

SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*\Z")  # also what may stand between angle brackets in a query
HTML_PAGE = Format("html", "text/html", "html", ".html")  # offered beside the RDF formats, answered by a template
PAGE_FORMATS: tuple[Format, ...] = tuple(f for f in GRAPH_FORMATS if not f.quads)
LABEL = f"""OPTIONAL {{ SELECT ?x (SAMPLE(?l) AS ?label)
                       WHERE {{ GRAPH ?lg {{ ?x <{RDFS.label}>|<{SKOS.prefLabel}> ?l }} }} GROUP BY ?x }}"""


def select(text: str) -> list[dict]:
    """The bindings of a SELECT query on the whole dataset (every named graph), through the store."""
    store, config = get_store(), current_app.config
    response = store.evaluate(QueryRequest(
        text, "application/sparql-results+json", store.datasets[0], union_default_graph=True,
        timeout=config["QUERY_TIMEOUT"], max_rows=config["MAX_ROWS"],
    ))
    return json.loads(response.body)["results"]["bindings"]


def wanted_format() -> Format | None:
    """The RDF format the client asks for (`format` parameter, then Accept), or None for HTML.

    :raise 400: an unknown format name; :raise 406: nothing acceptable.
    """
    table = (HTML_PAGE, *PAGE_FORMATS)
    chosen = negotiation.choose(table, HTML_PAGE, request.headers.get("Accept"), request.args.getlist("format"),
                                what="a resource")
    return None if chosen is HTML_PAGE else chosen


def rdf(text: str, fmt: Format) -> Response:
    response = answer(Operation(text=text, formats=(fmt.media_type,)))
    response.headers["Vary"] = "Accept"
    return response


def page(template: str, **context) -> Response:
    response = Response(render_template(template, **context), mimetype=HTML_PAGE.media_type)
    response.headers["Vary"] = "Accept"
    return response


def grouped(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """Rows (sorted by ?g) grouped by the local name of their named graph: claims, enrichment, wikidata..."""
    return [(g[len(GRAPH):] if g.startswith(str(GRAPH)) else g, list(group))
            for g, group in groupby(rows, key=lambda row: row["g"]["value"])]


@bp.route("/id/<slug>")
def resource(slug: str) -> Response:
    """Describe kg:<slug>: an HTML page, or its concise bounded description in the negotiated RDF format.

    :raise 404: no such resource; :raise 406: no acceptable format.
    """
    iri = str(KG) + slug
    if not SLUG.match(slug) or not select(f"SELECT ?p WHERE {{ {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} UNION "
                                          f"{{ GRAPH ?g {{ ?s ?p <{iri}> }} }} }} LIMIT 1"):
        raise HTTPError(404, f"no resource kg:{slug} in this graph")
    fmt = wanted_format()
    if fmt is not None:
        return rdf(f"CONSTRUCT {{ <{iri}> ?p ?o . ?o ?p2 ?o2 }} WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} "
                   f"OPTIONAL {{ FILTER(isBlank(?o)) GRAPH ?g2 {{ ?o ?p2 ?o2 }} }} }}", fmt)
    outgoing = select(f"SELECT ?g ?p ?o ?label WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} BIND(?o AS ?x) {LABEL} }} "
                      "ORDER BY ?g ?p ?o")
    incoming = select(f"SELECT ?g ?s ?p ?label WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} BIND(?s AS ?x) {LABEL} }} "
                      "ORDER BY ?g ?p ?s")
    evidence = select(f"""SELECT ?quote ?start ?end WHERE {{
        <{iri}> <{CT.evidence}>/<{OA.hasSelector}> ?selector .
        ?selector <{OA.exact}> ?quote ; <{OA.start}> ?start ; <{OA.end}> ?end }} ORDER BY ?start""")

    def objects(*predicates) -> list[dict]:
        return [row for row in outgoing if row["p"]["value"] in map(str, predicates)]

    labels = objects(RDFS.label, SKOS.prefLabel)
    return page(
        "resource.html", iri=iri, slug=slug, outgoing=grouped(outgoing), incoming=grouped(incoming),
        label=labels[0]["o"]["value"] if labels else f"kg:{slug}", types=objects(RDF.type),
        wikidata=[row for row in objects(SKOS.exactMatch) if row["o"]["value"].startswith(str(WD))],
        evidence=evidence, claimants=objects(CT.claimedBy), sources=objects(CT.statedIn),
        formats=PAGE_FORMATS,
    )


@bp.route("/ontology")
def ontology() -> Response:
    """The ontology: an HTML page with one section per ct: term, or its graph in the negotiated RDF format.

    :raise 406: no acceptable format.
    """
    graph = GRAPH.ontology
    fmt = wanted_format()
    if fmt is not None:
        return rdf(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", fmt)
    rows = select(f"SELECT ?s ?p ?o ?label WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} FILTER(isIRI(?s)) "
                  f"BIND(?o AS ?x) {LABEL} }} ORDER BY ?s ?p ?o")
    terms = []
    for subject, group in groupby(rows, key=lambda row: row["s"]["value"]):
        group = list(group)
        if subject != ONTOLOGY_IRI and not subject.startswith(str(CT)):
            continue
        label = next((r["o"]["value"] for r in group if r["p"]["value"] in (str(RDFS.label), str(DCTERMS.title))),
                     subject)
        definition = next((r["o"]["value"] for r in group if r["p"]["value"] == str(SKOS.definition)), "")
        terms.append({"iri": subject, "anchor": subject[len(CT):] if subject != ONTOLOGY_IRI else "",
                      "label": label, "definition": definition, "rows": group})
    return page("ontology.html", terms=terms, formats=PAGE_FORMATS)


@bp.app_template_global("term")
def term(binding: dict | None):
    """A SPARQL JSON term as the templates show it (kg.web.terms.Shown)."""
    return show(binding, current_app.config["PUBLIC_BASE"])
