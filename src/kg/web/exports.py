"""Downloads of the whole graph: /export/<format> (asserted only, or with `?inference=rdfs|owl-rl`) and the JSON-LD
context of the exports at /context.jsonld.

Exports are streamed from the store (N-Triples and N-Quads a line at a time) and carry a weak ETag of the dataset
version, so a client that has the current file gets a 304.
"""

from __future__ import annotations

import functools
import json

from flask import Blueprint, Response, request

from kg.formats import GRAPH_FORMATS, UnknownFormat, lookup
from kg.store import DEFAULT_DATASET
from kg.web.errors import HTTPError
from kg.web.resources import get_store
from kg.web.sparql import etag_of, not_modified

bp = Blueprint("exports", __name__)

FILE_STEM = "morocco-ct-kg"


@bp.route("/export/claims.csv", methods=["GET"])
def claims_csv() -> Response:
    """Every claim as one row of a CSV table (kg.claims_table), the same file as `kg export --format claims-csv`."""
    from kg.claims_table import from_bindings
    from kg.web.linked_data import select

    store = get_store()
    headers = {"Cache-Control": "no-cache", "Content-Disposition": f'attachment; filename="{FILE_STEM}-claims.csv"'}
    etag = etag_of((store.version, "claims-csv"))
    if (unchanged := not_modified(etag, headers)) is not None:
        return unchanged
    response = Response(from_bindings(select), mimetype="text/csv", headers=headers)
    response.set_etag(etag, weak=True)
    return response


@bp.route("/export/<name>", methods=["GET"])
def export(name: str) -> Response:
    """The whole dataset in the format `name` (turtle, json-ld, nt, xml, trig, nquads, or an extension).

    :raise 404: no such format; :raise 400: an unknown `inference` mode.
    """
    try:
        fmt = lookup(GRAPH_FORMATS, name)
    except UnknownFormat as exc:
        raise HTTPError(404, str(exc)) from None
    store = get_store()
    dataset = request.args.get("inference") or DEFAULT_DATASET
    store.check_dataset(dataset)
    suffix = "" if dataset == DEFAULT_DATASET else f"-{dataset}"
    headers = {"Cache-Control": "no-cache",
               "Content-Disposition": f'inline; filename="{FILE_STEM}{suffix}{fmt.extension}"'}
    etag = etag_of((store.version, dataset, fmt.name))
    if (unchanged := not_modified(etag, headers)) is not None:
        return unchanged
    response = Response(store.export(dataset, fmt), mimetype=fmt.media_type, headers=headers)
    response.set_etag(etag, weak=True)
    return response


@functools.cache
def _context_body() -> tuple[bytes, str]:
    """The context as served, and its ETag: made once, since the shipped context never changes while serving."""
    from kg.export import context as shipped_context

    body = json.dumps(shipped_context(), ensure_ascii=False, indent=2).encode("utf-8")
    return body, etag_of(body)


@bp.route("/context.jsonld", methods=["GET"])
def context() -> Response:
    """The JSON-LD context the JSON-LD export is compacted with (the exports also carry it inline)."""
    body, etag = _context_body()
    headers = {"Cache-Control": "no-cache"}
    if (unchanged := not_modified(etag, headers)) is not None:
        return unchanged
    response = Response(body, mimetype="application/ld+json", headers=headers)
    response.set_etag(etag, weak=True)
    return response
