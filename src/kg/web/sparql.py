"""The SPARQL 1.1 Protocol query operation at /sparql: GET, POST form and POST direct; read-only.

Every query is rewritten first (kg.rewrite: local services such as WDQS's label service), then passes the store's
`inspect` (form, nesting, outbound targets, the federation allow-list) before content negotiation and before the
engine; answers are cached per dataset version and carry an ETag, so a repeated
request costs a lookup or a 304. Answers of federated queries (SERVICE) depend on another endpoint: they are
neither cached nor given an ETag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from flask import Blueprint, Response, current_app, request

from kg.errors import EngineFailure, EnginesBusy, QueryTimeout
from kg.formats import GRAPH_FORMATS, RESULT_FORMATS
from kg.rewrite import rewrite
from kg.sparql_errors import QuerySyntaxError, explain
from kg.store import QueryRequest, guard
from kg.web import negotiation
from kg.web.errors import HTTPError
from kg.web.resources import get_allow_list, get_cache, get_counters, get_search, get_store

bp = Blueprint("sparql", __name__)

READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class Operation:
    """A query request as the protocol defines it, plus this endpoint's own parameters."""

    text: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    timeout: float | None = None
    dataset: str | None = None


def _parameters():
    """The request's parameters, and the query of a direct POST.

    :raise 400: a POST body shorter than its Content-Length (the client closed the connection early).
    :raise 403: an update operation.
    :raise 413: a query string longer than the request size cap.
    :raise 415: a POST body that is neither a form nor a UTF-8 SPARQL query.
    """
    if len(request.query_string) > current_app.config["MAX_REQUEST_BYTES"]:
        raise HTTPError(413, f"query string longer than {current_app.config['MAX_REQUEST_BYTES']} bytes")
    if "update" in request.args:
        raise HTTPError(403, READ_ONLY)
    if request.method != "POST":
        return request.args, None
    announced, received = request.content_length, len(request.get_data())  # cached for the form parser
    if announced is not None and received < announced:  # the client closed early: never run a cut query
        raise HTTPError(400, f"request body ended after {received} of the {announced} bytes of its Content-Length")
    media_type = request.mimetype
    if media_type == FORM:
        if "update" in request.form:
            raise HTTPError(403, READ_ONLY)
        values = request.args.copy()
        for key, value in request.form.items(multi=True):
            values.add(key, value)
        return values, None
    if media_type == DIRECT:
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise HTTPError(415, f"a direct POST query must be UTF-8, not {charset}")
        try:
            body = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPError(400, "the request body is not valid UTF-8") from None
        if "query" in request.args:
            raise HTTPError(400, "a direct POST carries its query in the body, not also in the URL")
        return request.args, body
    if media_type == UPDATE:
        raise HTTPError(403, READ_ONLY)
    shown = media_type or "none"
    raise HTTPError(415, f"unsupported request media type {shown!r}; send {FORM} or {DIRECT}")


def read_operation() -> Operation:
    """Read the protocol operation from the request.

    :raise 400: several queries, a POST without a query, or a bad timeout.
    """
    values, body = _parameters()
    queries = values.getlist("query") + ([body] if body is not None else [])
    if len(queries) > 1:
        raise HTTPError(400, "more than one query in the request")
    if not queries and request.method == "POST":
        raise HTTPError(400, "missing query")
    timeout = values.get("timeout")
    if timeout is not None:
        try:
            timeout = float(timeout)
        except ValueError:
            raise HTTPError(400, f"timeout must be a number of seconds, not {timeout!r}") from None
        if not timeout >= (least := current_app.config["MIN_TIMEOUT"]):
            raise HTTPError(400, f"timeout must be at least {least:g} seconds (min_timeout), not {timeout:g}")
    formats = tuple(v for name in negotiation.FORMAT_PARAMETERS for v in values.getlist(name))
    return Operation(
        text=queries[0] if queries else None,
        default_graphs=tuple(values.getlist("default-graph-uri")),
        named_graphs=tuple(values.getlist("named-graph-uri")),
        formats=formats,
        timeout=timeout,
        dataset=values.get("inference"),
    )


def etag_of(key) -> str:
    """A weak ETag for a response determined by `key` (which includes the dataset version)."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def not_modified(etag: str, headers: dict[str, str]) -> Response | None:
    """A 304 if this GET or HEAD request already holds `etag`, else None."""
    if request.method not in ("GET", "HEAD") or not request.if_none_match.contains_weak(etag):
        return None
    response = Response(status=304, headers=headers)
    response.set_etag(etag, weak=True)
    return response


def answer(operation: Operation) -> Response:
    """Evaluate a query (or take it from the cache) and return it in the negotiated format.

    :raise 304: the client's ETag is current (GET and HEAD).
    :raise 400, 406, 500, 503: through the error renderer.
    """
    store, config, counters = get_store(), current_app.config, get_counters()
    written = operation.text
    operation = replace(operation, text=rewrite(operation.text, search=get_search()))
    dataset = operation.dataset or store.datasets[0]
    text = operation.text
    info = store.inspect(text, dataset=dataset, default_graphs=operation.default_graphs,
                         named_graphs=operation.named_graphs, max_nesting=config["MAX_NESTING"],
                         allow=get_allow_list())
    cacheable = not info.services
    table, other = (GRAPH_FORMATS, RESULT_FORMATS) if info.returns_graph else (RESULT_FORMATS, GRAPH_FORMATS)
    fmt = negotiation.choose(table, table[0], request.headers.get("Accept"), list(operation.formats),
                             other_tables=(other,), what=f"a {info.form or 'SPARQL'} query")
    key = (store.version, dataset, operation.text, fmt.media_type, operation.default_graphs,
           operation.named_graphs, config["UNION_DEFAULT_GRAPH"], config["MAX_ROWS"], request.base_url)
    etag = etag_of(key)
    headers = {"Vary": "Accept", "Cache-Control": "no-cache"}
    if cacheable and (unchanged := not_modified(etag, headers)) is not None:
        counters.add("not_modified")
        return unchanged
    counters.add("queries")
    result = get_cache().get(key) if cacheable else None
    if result is not None:
        counters.add("cache_hits")
    else:
        limit = config["QUERY_TIMEOUT"]
        query = QueryRequest(
            text=text, media_type=fmt.media_type, dataset=dataset,
            default_graphs=operation.default_graphs, named_graphs=operation.named_graphs,
            # a dataset clause (FROM, FROM NAMED) replaces the dataset, so the union default graph no longer applies
            union_default_graph=config["UNION_DEFAULT_GRAPH"] and not (info.from_graphs or info.from_named_graphs),
            base_iri=request.base_url,
            timeout=min(operation.timeout or limit, limit), max_rows=config["MAX_ROWS"],
            max_bytes=config["MAX_RESPONSE_BYTES"], federated=bool(info.services),
        )
        try:
            result = store.evaluate(query)
        except QuerySyntaxError as exc:  # positions in the text as the client wrote it, not as rewritten
            raise explain(written, exc.engine_message) from None
        except QueryTimeout:
            counters.add("timeouts")
            raise
        except EnginesBusy:
            counters.add("engines_busy")
            raise
        except EngineFailure:
            counters.add("engine_failures")
            raise
        if cacheable:
            get_cache().put(key, result)
    response = Response(result.body, mimetype=result.media_type, headers=headers)
    if cacheable:
        response.set_etag(etag, weak=True)
    response.headers["Result-Rows"] = str(result.rows)
    named = (*info.from_graphs, *info.from_named_graphs, *operation.default_graphs, *operation.named_graphs)
    if unknown := guard.unknown_graphs(named, store.graphs(dataset)):
        response.headers["KG-Unknown-Graphs"] = " ".join(f"<{iri}>" for iri in unknown)  # read as empty graphs
    if result.truncated:
        response.headers["Result-Truncated"] = "true"
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    """Answer a SPARQL query; without one, describe the service.

    :raise 403: an update; :raise 405: a method other than GET, HEAD, POST or OPTIONS; :raise 413, 415.
    """
    from kg.web.descriptions import service_description

    operation = read_operation()
    if operation.text is None:
        return service_description(operation)
    return answer(operation)



