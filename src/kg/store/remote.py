"""The `sparql` backend: any SPARQL 1.1 server by URL, read through the protocol (`kg serve --store URL`), and the
writer that fills one (`kg load --into URL`).

`kg load` puts every named graph of the build into the server with a Graph Store Protocol PUT (which replaces the
graph, so a second run leaves the same data): the asserted graphs, the OWL 2 RL closure as `…/graph/inferred` and the
RDFS closure as `…/graph/inferred-rdfs` (one server holds one dataset, so the two closures need two names). Each
inference mode is then a dataset chosen per request with `default-graph-uri` and `named-graph-uri`: `none` the
asserted graphs, `owl-rl` those and `…/graph/inferred`, `rdfs` those and `…/graph/inferred-rdfs`. The project's
prefixes are declared in front of each query, since the server does not know them.

Results are read in a format pyoxigraph parses and written by the embedded backend's serializer
(`kg.store.oxigraph.respond`), so every backend answers in the same formats with the same row cap. The time limit
is enforced here (the whole exchange must end within it) and passed on as `timeout` in milliseconds (Virtuoso's
parameter; other servers ignore it and have their own, such as `oxigraph serve --timeout-s`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pyoxigraph as ox

from kg.errors import KGError, QueryError, QueryTimeout, RemoteFailure
from kg.formats import Format
from kg.graph import SOURCES
from kg.inference import INFERENCE_MODES
from kg.namespaces import GRAPH
from kg.store import PREFIX_ITEMS, QueryRequest, QueryResponse, Store, export_quads, guard

INFERRED = {"owl-rl": str(GRAPH.inferred), "rdfs": str(GRAPH["inferred-rdfs"])}
ASSERTED = tuple(str(source.graph) for source in SOURCES)
EMPTY_GRAPH = "urn:x-kg:empty"  # named as the default graph when a request's default graph must be empty
ACCEPT_RESULTS = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
ACCEPT_GRAPH = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
RESULT_TYPES = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                "application/sparql-results+xml": ox.QueryResultsFormat.XML}
GRAPH_TYPES = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
               "text/turtle": ox.RdfFormat.TURTLE, "application/rdf+xml": ox.RdfFormat.RDF_XML}
GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
CHUNK = 1 << 16


class RemoteStore(Store):
    """The datasets of the project held by the SPARQL server whose query endpoint is `url`."""

    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url, self.timeout = url, timeout
        self._graphs: dict[str, frozenset[str]] = {}
        self.version = ""

    def start(self) -> None:
        """Read which of the project's graphs the server holds (and how large they are, for the version).

        :raise RemoteFailure: the server cannot be reached, or holds none of the project's graphs.
        """
        if self._graphs:
            return
        body, media_type = self._request({"query": GRAPH_SIZES}, self.timeout, ACCEPT_RESULTS)
        sizes = {row["g"].value: row["n"].value for row in _solutions(body, media_type)
                 if row["g"].value in (*ASSERTED, *INFERRED.values())}
        asserted = frozenset(g for g in ASSERTED if g in sizes)
        if not asserted:
            raise RemoteFailure(f"{self.url} holds none of the project's graphs; fill it with `kg load --into`")
        self._graphs = {mode: asserted | ({INFERRED[mode]} if mode in INFERRED else set())
                        for mode in INFERENCE_MODES if mode not in INFERRED or INFERRED[mode] in sizes}
        self.version = hashlib.sha256(repr((self.url, sorted(sizes.items()))).encode()).hexdigest()[:16]

    @property
    def datasets(self) -> tuple[str, ...]:
        self.start()
        return tuple(self._graphs)

    def graphs(self, dataset: str) -> frozenset[str]:
        self.check_dataset(dataset)
        return self._graphs[dataset]

    def evaluate(self, request: QueryRequest) -> QueryResponse:
        self.check_dataset(request.dataset)
        held = self._graphs[request.dataset]
        params: list[tuple[str, str]] = [("query", self._prologue(request) + request.text)]
        info = guard.scan(request.text, PREFIX_ITEMS)
        if not (info.from_graphs or info.from_named_graphs):  # else the query's own dataset applies
            if request.default_graphs:
                default = [g for g in request.default_graphs if g in held] or [EMPTY_GRAPH]
            else:
                default = sorted(held) if request.union_default_graph else [EMPTY_GRAPH]
            if request.named_graphs:
                named = [g for g in request.named_graphs if g in held] or [EMPTY_GRAPH]
            else:
                named = sorted(held)
            params += [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]
        params.append(("timeout", str(int(request.timeout * 1000))))
        accept = ACCEPT_GRAPH if info.returns_graph else ACCEPT_RESULTS
        body, media_type = self._request(params, request.timeout, accept)
        try:
            if media_type in RESULT_TYPES:
                result = _solutions(body, media_type)
            elif media_type in GRAPH_TYPES:
                result = ox.parse(body, GRAPH_TYPES[media_type])
            else:
                raise RemoteFailure(f"{self.url} answered in {media_type or 'no media type'}, which is not a SPARQL "
                                  "result or RDF format")
            from kg.store.oxigraph import respond

            return respond(result, request)
        except (SyntaxError, ValueError) as exc:
            raise RemoteFailure(f"{self.url} sent a result that does not parse: {' '.join(str(exc).split())}") from None

    def export(self, dataset: str, fmt: Format) -> Iterator[bytes]:
        """The dataset read graph by graph from the server, exported as the embedded store exports it."""
        self.check_dataset(dataset)
        quads = []
        for graph in sorted(self._graphs[dataset]):
            text = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            body, media_type = self._request({"query": text}, max(self.timeout, 60.0), ACCEPT_GRAPH)
            if media_type not in GRAPH_TYPES:
                raise RemoteFailure(f"{self.url} answered a CONSTRUCT in {media_type or 'no media type'}")
            quads += [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))
                      for t in ox.parse(body, GRAPH_TYPES[media_type])]
        return export_quads(ox.serialize(quads, format=ox.RdfFormat.N_QUADS), fmt)

    @staticmethod
    def _prologue(request: QueryRequest) -> str:
        base = f"BASE <{request.base_iri}>\n" if request.base_iri else ""
        return base + "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIX_ITEMS)

    def _request(self, params, timeout: float, accept: str) -> tuple[bytes, str]:
        """POST a query (form-encoded, as the protocol allows); return the body and its media type within `timeout`.

        :raise QueryError: the server refused the query (4xx), with the first line of its reason.
        :raise QueryTimeout: no complete answer within `timeout`.
        :raise RemoteFailure: the server cannot be reached or failed (5xx).
        """
        deadline = time.monotonic() + timeout
        data = urlencode(params).encode()
        headers = {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"}
        try:
            with urllib.request.urlopen(urllib.request.Request(self.url, data, headers), timeout=timeout) as response:
                parts = []
                while chunk := response.read(CHUNK):
                    parts.append(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError
                media_type = response.headers.get_content_type()
                return b"".join(parts), media_type
        except urllib.error.HTTPError as exc:
            reason = _first_line(exc.read(4096)) or exc.reason
            if 400 <= exc.code < 500:
                raise QueryError(f"the SPARQL server refused the query ({exc.code}): {reason}") from None
            raise RemoteFailure(f"the SPARQL server failed ({exc.code}): {reason}") from None
        except TimeoutError:
            raise QueryTimeout(f"query stopped after the time limit of {timeout:g} s") from None
        except (urllib.error.URLError, OSError) as exc:
            if isinstance(getattr(exc, "reason", None), TimeoutError):
                raise QueryTimeout(f"query stopped after the time limit of {timeout:g} s") from None
            raise RemoteFailure(f"the SPARQL server at {self.url} cannot be reached: "
                              f"{getattr(exc, 'reason', None) or exc}") from None


def _solutions(body: bytes, media_type: str):
    """Parsed SPARQL results; JSON results with blank node ids that are not valid labels (Virtuoso's `nodeID://b1`)
    or the old `typed-literal` type are mended first."""
    if media_type not in RESULT_TYPES:
        raise RemoteFailure(f"expected SPARQL results, got {media_type or 'no media type'}")
    try:
        return ox.parse_query_results(body, RESULT_TYPES[media_type])
    except SyntaxError:
        if RESULT_TYPES[media_type] != ox.QueryResultsFormat.JSON:
            raise
    document = json.loads(body)
    for row in document.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "bnode":
                term["value"] = re.sub(r"[^A-Za-z0-9_]", "_", term["value"])
            elif term.get("type") == "typed-literal":
                term["type"] = "literal"
    return ox.parse_query_results(json.dumps(document).encode(), ox.QueryResultsFormat.JSON)


def _first_line(body: bytes) -> str:
    lines = [line.strip() for line in body.decode("utf-8", "replace").splitlines() if line.strip()]
    return " ".join(lines[0].split())[:300] if lines else ""


# ---------------------------------------------------------------------------------------------------------------------
# kg load --into


def graphs_to_load(built) -> list[tuple[str, bytes]]:
    """(graph IRI, N-Triples) of every graph `kg load` puts into a server, from a store built by `kg.build.store`;
    an asserted graph with no triples is given as b"" (removed from the server)."""
    found = [(graph, built.quads("none", graph) if graph in built.graphs("none") else b"") for graph in ASSERTED]
    for mode, graph in INFERRED.items():
        if mode in built.datasets:
            found.append((graph, built.quads(mode, str(GRAPH.inferred))))
    return found


def put_graph(url: str, graph: str, data: bytes, *, user: str | None = None, password: str | None = None,
              timeout: float = 600.0) -> None:
    """Replace `graph` at the Graph Store Protocol endpoint `url` by `data` (N-Triples), or remove it if `data` is
    empty.

    :raise KGError: the server refused or cannot be reached, with its reason.
    """
    target = f"{url}{'&' if '?' in url else '?'}{urlencode({'graph': graph})}"
    method = "PUT" if data else "DELETE"
    request = urllib.request.Request(target, data or None, {"Content-Type": "text/turtle"}, method=method)
    handlers = []
    if user:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, url, user, password or "")
        handlers = [urllib.request.HTTPDigestAuthHandler(passwords), urllib.request.HTTPBasicAuthHandler(passwords)]
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=timeout):
            pass
    except urllib.error.HTTPError as exc:
        if method == "DELETE" and exc.code == 404:
            return
        reason = _first_line(exc.read(4096)) or exc.reason
        raise KGError(f"{url}: the server refused graph {graph} ({exc.code}): {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise KGError(f"{url} cannot be reached: {getattr(exc, 'reason', None) or exc}") from None
