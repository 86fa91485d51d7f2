"""Browsing without writing SPARQL: the classes with their instance counts (/classes), a page per class
(/classes/ct:CountClaim), every claim as a filterable table (/claims), and the about page.

Each page is one SPARQL query through the store; its JSON and CSV twins (`.json`, `.csv`) are that query's answer
as SPARQL results, negotiated, cached and ETagged like any query of /sparql. Filters and class names from the URL
enter the query only as IRIs checked by kg.queries.iri_term (a VALUES block), never as raw text.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, render_template, request, url_for

from kg.namespaces import CT, DCTERMS, GRAPH, OA, RDFS, SCHEMA, compact
from kg.queries import ParameterError, iri_term
from kg.web.errors import HTTPError
from kg.web.linked_data import LABEL, inference_mode, select
from kg.web.resources import get_store
from kg.web.sparql import Operation, answer

bp = Blueprint("browse", __name__)

TWINS = {"json": "application/sparql-results+json", "csv": "text/csv"}
CLASSES = f"""SELECT ?class ?label (COUNT(DISTINCT ?instance) AS ?instances) WHERE {{
  GRAPH ?g {{ ?instance a ?class }} FILTER(?g != <{GRAPH.ontology}> && !STRSTARTS(STR(?instance), "{CT}"))
  OPTIONAL {{ GRAPH <{GRAPH.ontology}> {{ ?class <{RDFS.label}> ?label }} }}
}} GROUP BY ?class ?label ORDER BY DESC(?instances) STR(?class)"""
INSTANCES = """SELECT ?instance ?label WHERE {{
  VALUES ?class {{ <{iri}> }} GRAPH ?g {{ ?instance a ?class }} FILTER(?g != <{ontology}>)
  BIND(?instance AS ?x) {label}
}} ORDER BY LCASE(STR(COALESCE(?label, ""))) STR(?instance)"""
# The claims filters: URL parameter -> (the claim's property path, what the filter is called)
FILTERS = {
    "type": (f"a/<{RDFS.subClassOf}>*", "claim class"),
    "kind": (f"<{CT.valueKind}>", "value kind"),
    "claimant": (f"<{CT.claimedBy}>", "claimant"),
    "measure": (f"<{CT.counts}>", "what is counted"),
    "about": (f"<{SCHEMA.about}>", "about"),
}
PER_PAGE, MAX_PER_PAGE = 50, 1000  # claims a page of /claims shows unless told, and at most
CLAIM = f"?claim a/<{RDFS.subClassOf}>* <{CT.Claim}>"
CLAIMS = f"""SELECT ?claim (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type) (SAMPLE(?v) AS ?value)
  (SAMPLE(?lo) AS ?minValue) (SAMPLE(?hi) AS ?maxValue) (SAMPLE(?k) AS ?kind) (SAMPLE(?w) AS ?period)
  (SAMPLE(?from) AS ?periodStart) (SAMPLE(?to) AS ?periodEnd) (SAMPLE(?c) AS ?claimant) (SAMPLE(?src) AS ?source)
  (GROUP_CONCAT(DISTINCT ?q; separator=" … ") AS ?quote)
WHERE {{ {{ SELECT * WHERE {{ {{filters}}
  {CLAIM} ; a ?t . ?t <{RDFS.subClassOf}>* <{CT.Claim}> .
  OPTIONAL {{ ?claim <{RDFS.label}> ?l }}
  OPTIONAL {{ ?claim <{SCHEMA.value}> ?v }}
  OPTIONAL {{ ?claim <{SCHEMA.minValue}> ?lo }}
  OPTIONAL {{ ?claim <{SCHEMA.maxValue}> ?hi }}
  OPTIONAL {{ ?claim <{CT.valueKind}> ?k }}
  OPTIONAL {{ ?claim <{CT.period}> ?p OPTIONAL {{ ?p <{CT.originalWording}> ?w }}
             OPTIONAL {{ ?p <{SCHEMA.startDate}> ?from }} OPTIONAL {{ ?p <{SCHEMA.endDate}> ?to }} }}
  OPTIONAL {{ ?claim <{CT.claimedBy}> ?c }}
  OPTIONAL {{ ?claim <{CT.statedIn}> ?src }}
  OPTIONAL {{ ?claim <{CT.evidence}>/<{OA.hasSelector}> ?sel . ?sel <{OA.exact}> ?q
             OPTIONAL {{ ?sel <{OA.start}> ?at }} }}
}} ORDER BY ?claim ?at }}  # quotes in the order of the article
}} GROUP BY ?claim ORDER BY ?claim"""
FACET = f"""SELECT ?value ?label (COUNT(DISTINCT ?claim) AS ?claims) WHERE {{
  {CLAIM} ; {{path}} ?value . BIND(?value AS ?x) {LABEL}
}} GROUP BY ?value ?label ORDER BY DESC(?claims) STR(?value)"""


def class_iri(name: str) -> str:
    """:raise 404: `name` is not a prefixed name of the project's prefixes (ct:CountClaim)."""
    try:
        return str(iri_term(name))
    except ParameterError:
        raise HTTPError(404, f"no class {name!r}: name it with a project prefix, such as ct:CountClaim") from None


def twin(text: str, ext: str, dataset: str | None = None) -> Response:
    """The query's answer as the `ext` twin of a page. :raise 404: an extension other than json or csv."""
    if ext not in TWINS:
        raise HTTPError(404, f"no {ext!r} version of this page; there are: {', '.join(TWINS)}")
    return answer(Operation(text=text, formats=(TWINS[ext],), dataset=dataset))


@bp.route("/classes")
@bp.route("/classes.<ext>")
def classes(ext: str | None = None):
    """Every class of the data with its number of instances (asserted, or with `inference=owl-rl`)."""
    dataset = inference_mode()
    if ext:
        return twin(CLASSES, ext, dataset)
    rows = select(CLASSES, dataset)
    return render_template("classes.html", rows=rows, inference=dataset, modes=get_store().datasets,
                           total=sum(int(r["instances"]["value"]) for r in rows))


@bp.route("/classes/<name>")
@bp.route("/classes/<name>.<ext>")
def class_page(name: str, ext: str | None = None):
    """The instances of one class, with their labels and count. :raise 404: not a class name."""
    iri = class_iri(name)
    dataset = inference_mode()
    text = INSTANCES.format(iri=iri, ontology=GRAPH.ontology, label=LABEL)
    if ext:
        return twin(text, ext, dataset)
    rows = select(text, dataset)
    about = select(f"SELECT ?label ?definition WHERE {{ GRAPH <{GRAPH.ontology}> {{ OPTIONAL {{ <{iri}> "
                   f"<{RDFS.label}> ?label }} OPTIONAL {{ <{iri}> <http://www.w3.org/2004/02/skos/core#definition> "
                   f"?definition }} }} }} LIMIT 1")
    return render_template("class.html", iri=iri, name=compact(iri), rows=rows, about=about[0] if about else {},
                           inference=dataset, modes=get_store().datasets)


def claim_filters() -> tuple[dict[str, str], str]:
    """The filters of the request (parameter -> IRI) and the SPARQL that applies them.

    :raise 400: a filter value that is not an IRI.
    """
    chosen, patterns = {}, []
    for name, (path, _) in FILTERS.items():
        value = request.args.get(name, "").strip()
        if not value:
            continue
        try:
            iri = iri_term(value)
        except ParameterError as exc:
            raise HTTPError(400, f"filter {name}: {exc}") from None
        chosen[name] = str(iri)
        patterns.append(f"VALUES ?{name}Filter {{ {iri.n3()} }} ?claim {path} ?{name}Filter .")
    return chosen, " ".join(patterns)


def _whole_number(name: str, default: int, most: int) -> int:
    """The URL parameter `name`, from 1 to `most`. :raise 400: anything else."""
    value = request.args.get(name, "").strip() or str(default)
    if not re.fullmatch(r"[0-9]{1,9}", value) or not 1 <= int(value) <= most:
        raise HTTPError(400, f"{name} must be a whole number from 1 to {most}")
    return int(value)


def claim_page() -> tuple[int, int]:
    """The page of the claims table the request asks for (`page`, from 1) and its size (`per_page`).

    :raise 400: either is not a whole number in range.
    """
    return _whole_number("page", 1, 1_000_000), _whole_number("per_page", PER_PAGE, MAX_PER_PAGE)


def _linked(response: Response, neighbours: dict[str, int]) -> Response:
    """`response` with a Link header (RFC 8288) to the previous and next pages, as the page itself links them."""
    if neighbours:
        response.headers["Link"] = ", ".join(
            f'<{url_for(request.endpoint, **request.view_args, **{**request.args.to_dict(), "page": n})}>; rel="{rel}"'
            for rel, n in neighbours.items())
    return response


@bp.route("/claims")
@bp.route("/claims.<ext>")
def claims(ext: str | None = None):
    """Every claim (value, kind, period, claimant, source, quote), filtered by type, kind, claimant, measure or
    about (`?kind=ct:AtLeast`), a page at a time (`?page=2&per_page=10`; 50 claims a page unless told); the twins
    give the same page. :raise 400: a filter value that is not an IRI, or a page or page size out of range."""
    chosen, patterns = claim_filters()
    page, per_page = claim_page()
    text = CLAIMS.replace("{filters}", patterns) + f"\nLIMIT {per_page} OFFSET {(page - 1) * per_page}"
    [count] = select(f"SELECT (COUNT(DISTINCT ?claim) AS ?claims) WHERE {{ {patterns} {CLAIM} }}")
    total = int(count["claims"]["value"])
    pages = max(1, -(-total // per_page))
    if page > pages:
        raise HTTPError(404, f"no page {page}: the claims fill {pages} page{'s' if pages > 1 else ''} "
                             f"of {per_page}")
    neighbours = {rel: n for rel, n in (("prev", page - 1), ("next", page + 1)) if 1 <= n <= pages}
    if ext:
        return _linked(twin(text, ext), neighbours)
    facets = [(name, label, chosen.get(name, ""), select(FACET.replace("{path}", path)))
              for name, (path, label) in FILTERS.items()]
    args = request.args.to_dict()
    return _linked(Response(render_template(
        "claims.html", rows=select(text), facets=facets, chosen=chosen, query=text, args=args, total=total,
        page=page, pages=pages, first=(page - 1) * per_page + 1,
        neighbours={rel: {**args, "page": n} for rel, n in neighbours.items()})), neighbours)


@bp.route("/about")
def about() -> str:
    """What the graph is, its sources and licence, how to cite it and how to query it from Python."""
    licence = select(f"SELECT ?license WHERE {{ GRAPH <{GRAPH.ontology}> {{ ?o <{DCTERMS.license}> ?license }} }}")
    endpoint = request.url_root.rstrip("/") + url_for("sparql.sparql")
    return render_template("about.html", endpoint=endpoint, version=get_store().version,
                           licence=licence[0]["license"]["value"] if licence else None)
