"""Linked Data: each kg: IRI dereferences at /id/<slug>, the ct: terms at /ontology; HTML for people, RDF for machines.

Every page is made of SPARQL queries through the store. The RDF of /id/<slug> is the resource's concise bounded
description (its triples and those of the blank nodes it leads to); that of /ontology is the ontology's graph. Both
are answered like any graph query of /sparql (negotiated, cached, with an ETag).

A resource page has an inference switch (`?inference=owl-rl`): the facts of the OWL 2 RL closure are then listed
too, marked as inferred, and its links keep the mode. It lists the claims about the resource (quote, claimant,
period), the facts of its Wikidata item in Wikidata's model with their references, and embeds its schema.org
description as JSON-LD for search engines.
"""

from __future__ import annotations

import dataclasses
import json
import re
from itertools import groupby

from flask import Blueprint, Response, current_app, g, render_template, request

from kg.formats import GRAPH_FORMATS, Format
from kg.inference import label as inference_label
from kg.namespaces import CT, DCTERMS, GRAPH, KG, OA, PQ, PR, PROV, PS, RDF, RDFS, SCHEMA, SKOS, WD, P
from kg.store import QueryRequest
from kg.web import negotiation
from kg.web.errors import HTTPError
from kg.web.resources import get_store
from kg.web.sparql import Operation, answer
from kg.web.terms import ONTOLOGY_IRI, show

bp = Blueprint("linked_data", __name__)

SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*\Z")  # also what may stand between angle brackets in a query
HTML_PAGE = Format("html", "text/html", "html", ".html")  # offered beside the RDF formats, answered by a template
PAGE_FORMATS: tuple[Format, ...] = tuple(f for f in GRAPH_FORMATS if not f.quads)
LABEL = f"""OPTIONAL {{ SELECT ?x (SAMPLE(?l) AS ?label) WHERE {{
  GRAPH ?lg {{ ?x <{RDFS.label}>|<{SKOS.prefLabel}> ?l }} FILTER(LANG(?l) IN ("en", "")) }} GROUP BY ?x }}"""


WIKIDATA_MODEL = GRAPH["wikidata-model"]
INFERRED = "inferred"  # the local name of the graph of a closure (kg.reason)


def select(text: str, dataset: str | None = None) -> list[dict]:
    """The bindings of a SELECT query on the whole of `dataset` (every named graph), through the store."""
    store, config = get_store(), current_app.config
    response = store.evaluate(QueryRequest(
        text, "application/sparql-results+json", dataset or store.datasets[0], union_default_graph=True,
        timeout=config["QUERY_TIMEOUT"], max_rows=config["MAX_ROWS"],
    ))
    return json.loads(response.body)["results"]["bindings"]


def inference_mode() -> str:
    """The `inference` parameter (none, rdfs, owl-rl), kept in the links of the page as `g.inference`.

    :raise 400: a mode the store does not hold.
    """
    mode = request.args.get("inference") or get_store().datasets[0]
    get_store().check_dataset(mode)
    g.inference = mode if mode != get_store().datasets[0] else None
    return mode


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

    :raise 404: no such resource; :raise 406: no acceptable format; :raise 400: an unknown inference mode.
    """
    iri = str(KG) + slug
    dataset = inference_mode()
    if not SLUG.match(slug) or not select(f"SELECT ?p WHERE {{ {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} UNION "
                                          f"{{ GRAPH ?g {{ ?s ?p <{iri}> }} }} }} LIMIT 1"):
        raise HTTPError(404, f"no resource kg:{slug} in this graph")
    fmt = wanted_format()
    if fmt is not None:
        return rdf(f"CONSTRUCT {{ <{iri}> ?p ?o . ?o ?p2 ?o2 }} WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} "
                   f"OPTIONAL {{ FILTER(isBlank(?o)) GRAPH ?g2 {{ ?o ?p2 ?o2 }} }} }}", fmt)
    outgoing = select(f"SELECT ?g ?p ?o ?label WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} BIND(?o AS ?x) {LABEL} }} "
                      "ORDER BY ?g ?p ?o", dataset)
    incoming = select(f"SELECT ?g ?s ?p ?label WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} BIND(?s AS ?x) {LABEL} }} "
                      "ORDER BY ?g ?p ?s", dataset)
    evidence = select(f"""SELECT ?quote ?start ?end WHERE {{
        <{iri}> <{CT.evidence}>/<{OA.hasSelector}> ?selector .
        ?selector <{OA.exact}> ?quote ; <{OA.start}> ?start ; <{OA.end}> ?end }} ORDER BY ?start""")

    def objects(*predicates) -> list[dict]:
        return [row for row in outgoing if row["p"]["value"] in map(str, predicates)]

    labels = objects(RDFS.label, SKOS.prefLabel)
    label = labels[0]["o"]["value"] if labels else f"kg:{slug}"
    wikidata = [row for row in objects(SKOS.exactMatch) if row["o"]["value"].startswith(str(WD))]
    return page(
        "resource.html", iri=iri, slug=slug, outgoing=grouped(outgoing), incoming=grouped(incoming),
        label=label, types=objects(RDF.type), wikidata=wikidata,
        evidence=evidence, claimants=objects(CT.claimedBy), sources=objects(CT.statedIn),
        claims=claims_about(iri), statements=wikidata_statements([iri, *(w["o"]["value"] for w in wikidata)]),
        json_ld=schema_org(iri, label, outgoing, wikidata), formats=PAGE_FORMATS,
        inference=dataset, modes=get_store().datasets,
        inference_label=inference_label(dataset),
    )


def claims_about(iri: str) -> list[dict]:
    """The claims about `iri`: label, quote, claimant, period wording and dates (asserted facts)."""
    return select(f"""SELECT ?claim ?claimLabel ?quote ?claimant ?claimantLabel ?period ?from ?to WHERE {{
        ?claim <{SCHEMA.about}> <{iri}> ; <{CT.claimedBy}> ?claimant .
        OPTIONAL {{ ?claim <{RDFS.label}> ?claimLabel }}
        OPTIONAL {{ ?claimant <{RDFS.label}> ?claimantLabel }}
        OPTIONAL {{ ?claim <{CT.evidence}>/<{OA.hasSelector}>/<{OA.exact}> ?quote }}
        OPTIONAL {{ ?claim <{CT.period}> ?p OPTIONAL {{ ?p <{CT.originalWording}> ?period }}
                   OPTIONAL {{ ?p <{SCHEMA.startDate}> ?from }} OPTIONAL {{ ?p <{SCHEMA.endDate}> ?to }} }}
    }} ORDER BY ?claim ?quote""")


def wikidata_statements(items: list[str]) -> list[dict]:
    """The full statements (p:/ps:/pq:) of `items` in the graph of Wikidata's model, each with its qualifiers and
    references, one dict per statement: property id, value, rank, qualifiers and references as (property, term)."""
    rows = select(f"""SELECT ?item ?statement ?p ?value ?label ?rank ?q ?qv ?ref ?r ?rv WHERE {{
        VALUES ?item {{ {' '.join(f'<{i}>' for i in items)} }}
        GRAPH <{WIKIDATA_MODEL}> {{
          ?item ?claim ?statement . ?statement ?ps ?value .
          FILTER(STRSTARTS(STR(?claim), "{P}") && ?ps = IRI(CONCAT("{PS}", STRAFTER(STR(?claim), "{P}"))))
          BIND(STRAFTER(STR(?claim), "{P}") AS ?p)
          OPTIONAL {{ ?statement <http://wikiba.se/ontology#rank> ?rank }}
          OPTIONAL {{ ?statement ?q ?qv FILTER(STRSTARTS(STR(?q), "{PQ}")) }}
          OPTIONAL {{ ?statement <{PROV.wasDerivedFrom}> ?ref . ?ref ?r ?rv FILTER(STRSTARTS(STR(?r), "{PR}")) }}
        }}
        BIND(?value AS ?x) {LABEL}
    }} ORDER BY ?item ?p ?statement ?q ?ref ?r""")
    statements: dict[str, dict] = {}
    for row in rows:
        entry = statements.setdefault(row["statement"]["value"], {
            "item": row["item"], "property": row["p"]["value"], "value": row["value"], "label": row.get("label"),
            "rank": row.get("rank"), "qualifiers": [], "references": {}})
        if "q" in row and (row["q"]["value"][len(PQ):], row["qv"]) not in entry["qualifiers"]:
            entry["qualifiers"].append((row["q"]["value"][len(PQ):], row["qv"]))
        if "ref" in row:
            pairs = entry["references"].setdefault(row["ref"]["value"], [])
            if (row["r"]["value"][len(PR):], row["rv"]) not in pairs:
                pairs.append((row["r"]["value"][len(PR):], row["rv"]))
    return list(statements.values())


def schema_org(iri: str, label: str, outgoing: list[dict], wikidata: list[dict]) -> dict:
    """The resource's schema.org description as JSON-LD: its most specific schema.org types (through the
    ontology's subclass axioms), name, alternate names, description and its Wikidata item as sameAs."""
    types = select(f"""SELECT DISTINCT ?type WHERE {{ <{iri}> a/<{RDFS.subClassOf}>* ?type
        FILTER(STRSTARTS(STR(?type), "{SCHEMA}"))
        FILTER NOT EXISTS {{ <{iri}> a/<{RDFS.subClassOf}>* ?narrower . ?narrower <{RDFS.subClassOf}>+ ?type
                             FILTER(STRSTARTS(STR(?narrower), "{SCHEMA}")) }} }} ORDER BY ?type""")
    literal = lambda *ps: sorted({r["o"]["value"] for r in outgoing  # noqa: E731
                                  if r["p"]["value"] in map(str, ps) and r["o"]["type"] == "literal"})
    description = {"@context": "https://schema.org", "@id": iri, "name": label}
    if types:
        description["@type"] = [t["type"]["value"][len(SCHEMA):] for t in types]
    if alternates := [a for a in literal(SKOS.altLabel, SCHEMA.name) if a != label]:
        description["alternateName"] = alternates
    if text := literal(SKOS.definition, DCTERMS.description, SCHEMA.description):
        description["description"] = text[0]
    if wikidata:
        description["sameAs"] = [w["o"]["value"] for w in wikidata]
    return description


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
    """A SPARQL JSON term as the templates show it (kg.web.terms.Shown); links to resource pages keep the page's
    inference mode."""
    base = current_app.config["PUBLIC_BASE"].rstrip("/")
    shown = show(binding, base)
    mode = g.get("inference")
    if mode and shown.href and shown.href.startswith(f"{base}/id/"):
        shown = dataclasses.replace(shown, href=f"{shown.href}?inference={mode}")
    return shown
