"""The embedded backend: pyoxigraph stores built once from rdflib datasets; pyoxigraph serializes every result.

Exports are written by `kg.export` from the rdflib datasets the stores were built from (kept for that), so they
have the project's prefixes, JSON-LD context and framing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyoxigraph as ox
from rdflib import Dataset

from kg.errors import KGError, QueryError
from kg.formats import Format
from kg.store import PREFIX_ITEMS, QueryRequest, QueryResponse, Store

GRAPH_MEDIA_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
RESULT_MEDIA_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
# Turtle-like outputs read better with the project's prefixes; line formats cannot use them.
PREFIXED = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG)


class _Full(Exception):
    """Raised into pyoxigraph's serializer to stop it once the row cap is passed."""


class _CappedBuffer:
    """A binary sink that stops the serializer after `limit` lines (one row or triple per line in TSV/N-Triples)."""

    def __init__(self, limit: int):
        self.limit, self.lines, self.parts = limit, 0, []

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.lines += data.count(b"\n")
        if self.lines > self.limit:
            raise _Full
        return len(data)

    def flush(self) -> None:
        pass

    def value(self) -> tuple[bytes, bool]:
        """The first `limit` lines and whether there were more."""
        data = b"".join(self.parts)
        if self.lines <= self.limit:
            return data, False
        cut = -1
        for _ in range(self.limit):
            cut = data.index(b"\n", cut + 1)
        return data[: cut + 1], True


def _capped(serialize, limit: int) -> tuple[bytes, bool]:
    sink = _CappedBuffer(limit)
    try:
        serialize(sink)
    except _Full:
        pass
    return sink.value()


class OxigraphStore(Store):
    """Datasets held in in-memory pyoxigraph stores."""

    def __init__(self, stores: Mapping[str, ox.Store], *, version: str, sources: Mapping[str, Dataset] | None = None):
        self._stores = dict(stores)
        self._sources = dict(sources or {})
        self._graphs = {name: frozenset(g.value for g in s.named_graphs()) for name, s in self._stores.items()}
        self.version = version

    @classmethod
    def from_datasets(cls, datasets: Mapping[str, Dataset], **kwargs) -> OxigraphStore:
        """Build one pyoxigraph store per rdflib dataset: serialized to N-Quads once and bulk-loaded."""
        return cls({name: cls.load(ds.serialize(format="nquads", encoding="utf-8")) for name, ds in datasets.items()},
                   sources=datasets, **kwargs)

    @staticmethod
    def load(nquads: bytes, empty_graphs: tuple[str, ...] = ()) -> ox.Store:
        store = ox.Store()
        store.bulk_load(nquads, ox.RdfFormat.N_QUADS)
        for iri in empty_graphs:
            store.add_graph(ox.NamedNode(iri))
        return store

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self._stores)

    def graphs(self, dataset: str) -> frozenset[str]:
        self.check_dataset(dataset)
        return self._graphs[dataset]

    def export(self, dataset: str, fmt: Format) -> Iterator[bytes]:
        from kg.export import export

        self.check_dataset(dataset)
        if dataset not in self._sources:
            raise KGError(f"dataset {dataset!r} was not built from an rdflib dataset: it cannot be exported")
        return export(self._sources[dataset], fmt)

    def evaluate(self, request: QueryRequest) -> QueryResponse:
        self.check_dataset(request.dataset)
        options: dict = {"prefixes": dict(PREFIX_ITEMS), "base_iri": request.base_iri}
        if request.default_graphs:
            options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
        else:
            options["use_default_graph_as_union"] = request.union_default_graph
        if request.named_graphs:
            options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
        try:
            result = self._stores[request.dataset].query(request.text, **options)
            return self._serialize(result, request)
        except SyntaxError as exc:
            raise QueryError(f"query failed: {' '.join(str(exc).split())}") from None
        except (OSError, ValueError) as exc:
            raise QueryError(f"query evaluation failed: {' '.join(str(exc).split())}") from None

    @staticmethod
    def _serialize(result, request: QueryRequest) -> QueryResponse:
        media_type = request.media_type
        if isinstance(result, ox.QueryBoolean):
            return QueryResponse(result.serialize(format=RESULT_MEDIA_TYPES[media_type]), media_type, 1, False)
        if isinstance(result, ox.QuerySolutions):
            tsv, truncated = _capped(lambda out: result.serialize(out, format=ox.QueryResultsFormat.TSV),
                                     request.max_rows + 1)
            rows = tsv.count(b"\n") - 1
            target = RESULT_MEDIA_TYPES[media_type]
            if target != ox.QueryResultsFormat.TSV:
                body = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV).serialize(format=target)
                if truncated and target == ox.QueryResultsFormat.JSON and body.startswith(b'{"head":{'):
                    body = b'{"head":{"truncated":true,' + body[len(b'{"head":{'):]
            else:
                body = tsv
            return QueryResponse(body, media_type, rows, truncated)
        nt, truncated = _capped(lambda out: result.serialize(out, format=ox.RdfFormat.N_TRIPLES), request.max_rows)
        target = GRAPH_MEDIA_TYPES[media_type]
        body = nt
        if target != ox.RdfFormat.N_TRIPLES:
            prefixes = {p: ns for p, ns in PREFIX_ITEMS if b"<" + ns.encode() in nt} if target in PREFIXED else None
            body = ox.serialize(ox.parse(nt, ox.RdfFormat.N_TRIPLES), format=target, prefixes=prefixes)
        return QueryResponse(body, media_type, nt.count(b"\n"), truncated)
