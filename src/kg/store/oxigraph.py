"""The embedded backend: one pyoxigraph store per dataset, in memory or on disk (built by `kg.build`); pyoxigraph
serializes every result, here and for the other backends (:func:`respond`).

Exports are read from the store and written by `kg.export` (`kg.store.export_quads`), so they have the project's
prefixes, JSON-LD context and framing; no rdflib dataset is kept while serving.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from kg.errors import QueryError
from kg.formats import Format
from kg.store import PREFIX_ITEMS, QueryRequest, QueryResponse, Store, export_quads

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
    """Datasets held in pyoxigraph stores: in memory, or opened read-only from the directories of `location`."""

    def __init__(self, stores: Mapping[str, ox.Store], *, version: str, location: Path | None = None):
        self._stores = dict(stores)
        self._graphs = {name: frozenset(g.value for g in s.named_graphs()) for name, s in self._stores.items()}
        self._location, self._pid, self._left = location, os.getpid(), []
        self.version = version

    @classmethod
    def open(cls, location: Path, modes: Iterable[str], *, version: str) -> OxigraphStore:
        """The on-disk datasets built by `kg.build.store(location)`, opened read-only."""
        return cls({mode: ox.Store.read_only(str(Path(location) / mode)) for mode in modes}, version=version,
                   location=Path(location))

    @classmethod
    def from_datasets(cls, datasets: Mapping[str, Dataset], **kwargs) -> OxigraphStore:
        """In-memory stores of rdflib datasets (serialized to N-Quads once and bulk-loaded): for tests and tools."""
        return cls({name: cls.load(ds.serialize(format="nquads", encoding="utf-8")) for name, ds in datasets.items()},
                   **kwargs)

    @staticmethod
    def load(nquads: bytes, empty_graphs: tuple[str, ...] = ()) -> ox.Store:
        store = ox.Store()
        store.bulk_load(nquads, ox.RdfFormat.N_QUADS)
        for iri in empty_graphs:
            store.add_graph(ox.NamedNode(iri))
        return store

    def _store(self, name: str) -> ox.Store:
        """The store of dataset `name`; on disk, opened again in a forked process, whose inherited descriptors may be
        closed (the engines close them). The old handles are kept, never dropped: dropping one would close
        descriptor numbers that may belong to something else by now."""
        if self._location is not None and self._pid != os.getpid():
            self._left.append(self._stores)
            self._stores = {mode: ox.Store.read_only(str(self._location / mode)) for mode in self._stores}
            self._pid = os.getpid()
        return self._stores[name]

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self._stores)

    def graphs(self, dataset: str) -> frozenset[str]:
        self.check_dataset(dataset)
        return self._graphs[dataset]

    def size(self, dataset: str) -> int:
        """The number of quads of `dataset`."""
        self.check_dataset(dataset)
        return len(self._store(dataset))

    def quads(self, dataset: str, graph: str) -> bytes:
        """The triples of one named graph of `dataset`, as N-Triples."""
        return self._store(dataset).dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))

    def export(self, dataset: str, fmt: Format) -> Iterator[bytes]:
        self.check_dataset(dataset)
        return export_quads(self._store(dataset).dump(format=ox.RdfFormat.N_QUADS), fmt)

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
            result = self._store(request.dataset).query(request.text, **options)
            return respond(result, request)
        except SyntaxError as exc:
            raise QueryError(f"query failed: {' '.join(str(exc).split())}") from None
        except (OSError, ValueError) as exc:
            raise QueryError(f"query evaluation failed: {' '.join(str(exc).split())}") from None


def respond(result, request: QueryRequest) -> QueryResponse:
    """A query result (pyoxigraph's boolean, solutions, or any iterable of triples) in the requested media type,
    cut at the row cap."""
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
    nt, truncated = _capped(lambda out: ox.serialize(result, out, format=ox.RdfFormat.N_TRIPLES), request.max_rows)
    target = GRAPH_MEDIA_TYPES[media_type]
    body = nt
    if target != ox.RdfFormat.N_TRIPLES:
        prefixes = {p: ns for p, ns in PREFIX_ITEMS if b"<" + ns.encode() in nt} if target in PREFIXED else None
        body = ox.serialize(ox.parse(nt, ox.RdfFormat.N_TRIPLES), format=target, prefixes=prefixes)
    return QueryResponse(body, media_type, nt.count(b"\n"), truncated)
