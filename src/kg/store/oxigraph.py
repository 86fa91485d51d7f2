"""The embedded backend: one pyoxigraph store per dataset, in memory or on disk (built by `kg.build`); pyoxigraph
serializes every result, here and for the other backends (:func:`respond`).

Exports are read from the store and written by `kg.export` (`kg.store.export_quads`), so they have the project's
prefixes, JSON-LD context and framing; no rdflib dataset is kept while serving.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from kg.errors import QueryError, RemoteFailure
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
    """Raised into pyoxigraph's serializer to stop it once the row or byte cap is passed."""


def _head(data: bytes, lines: int, size: int) -> bytes:
    """The longest run of whole lines at the start of `data` with at most `lines` lines and `size` bytes."""
    cut = -1
    for _ in range(lines):
        end = data.find(b"\n", cut + 1)
        if end < 0 or end >= size:
            break
        cut = end
    return data[: cut + 1]


class _CappedBuffer:
    """A binary sink that stops the serializer after `limit` lines (one row or triple per line in TSV/N-Triples)
    or `size` bytes."""

    def __init__(self, limit: int, size: int):
        self.limit, self.size, self.lines, self.bytes, self.parts = limit, size, 0, 0, []

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.lines += data.count(b"\n")
        self.bytes += len(data)
        if self.lines > self.limit or self.bytes > self.size:
            raise _Full
        return len(data)

    def flush(self) -> None:
        pass

    def value(self) -> tuple[bytes, bool]:
        """The first `limit` lines within `size` bytes, and whether there was more."""
        data = b"".join(self.parts)
        if self.lines <= self.limit and self.bytes <= self.size:
            return data, False
        return _head(data, self.limit, self.size), True


def _capped(serialize, limit: int, size: int) -> tuple[bytes, bool]:
    sink = _CappedBuffer(limit, size)
    try:
        serialize(sink)
    except _Full:
        pass
    return sink.value()


def _fitted(lines: bytes, convert, size: int, header: int) -> tuple[bytes, bytes, bool]:
    """`convert(lines)`, dropping last lines (after `header` ones) until it fits in `size` bytes; also the lines
    kept and whether any were dropped. Other formats can be larger than the TSV or N-Triples they are made from."""
    body, cut = convert(lines), False
    while len(body) > size and (kept := lines.count(b"\n") - header) > 0:
        lines = _head(lines, header + min(kept - 1, int(kept * size / len(body) * 0.9)), len(lines))
        body, cut = convert(lines), True
    return body, lines, cut


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
            raise QueryError(f"query failed: {_one_line(exc)}") from None
        except OSError as exc:
            if _network_error(exc):
                raise RemoteFailure(f"a SERVICE endpoint could not be reached: {_one_line(exc)}") from None
            raise QueryError(f"query evaluation failed: {_one_line(exc)}") from None
        except RuntimeError as exc:  # pyoxigraph's other errors, such as a SERVICE answer it cannot parse
            if request.federated:
                raise RemoteFailure(f"a SERVICE endpoint gave an unusable answer: {_one_line(exc)}") from None
            raise QueryError(f"query evaluation failed: {_one_line(exc)}") from None
        except ValueError as exc:
            raise QueryError(f"query evaluation failed: {_one_line(exc)}") from None


def respond(result, request: QueryRequest) -> QueryResponse:
    """A query result (pyoxigraph's boolean, solutions, or any iterable of triples) in the requested media type,
    cut at the row cap and the byte cap."""
    media_type = request.media_type
    if isinstance(result, ox.QueryBoolean):
        return QueryResponse(result.serialize(format=RESULT_MEDIA_TYPES[media_type]), media_type, 1, False)
    if isinstance(result, ox.QuerySolutions):
        tsv, truncated = _capped(lambda out: result.serialize(out, format=ox.QueryResultsFormat.TSV),
                                 request.max_rows + 1, request.max_bytes)
        target = RESULT_MEDIA_TYPES[media_type]

        def convert(lines: bytes) -> bytes:
            if target == ox.QueryResultsFormat.TSV:
                return lines
            return ox.parse_query_results(lines, ox.QueryResultsFormat.TSV).serialize(format=target)

        body, tsv, cut = _fitted(tsv, convert, request.max_bytes, header=1)
        truncated |= cut
        if truncated and target == ox.QueryResultsFormat.JSON and body.startswith(b'{"head":{'):
            body = b'{"head":{"truncated":true,' + body[len(b'{"head":{'):]
        return QueryResponse(body, media_type, tsv.count(b"\n") - 1, truncated)
    nt, truncated = _capped(lambda out: ox.serialize(result, out, format=ox.RdfFormat.N_TRIPLES), request.max_rows,
                            request.max_bytes)
    target = GRAPH_MEDIA_TYPES[media_type]

    def convert(lines: bytes) -> bytes:
        if target == ox.RdfFormat.N_TRIPLES:
            return lines
        prefixes = {p: ns for p, ns in PREFIX_ITEMS if b"<" + ns.encode() in lines} if target in PREFIXED else None
        return ox.serialize(ox.parse(lines, ox.RdfFormat.N_TRIPLES), format=target, prefixes=prefixes)

    body, nt, cut = _fitted(nt, convert, request.max_bytes, header=0)
    return QueryResponse(body, media_type, nt.count(b"\n"), truncated or cut)


# A SERVICE call that cannot connect: refused, unreachable, no route, name lookup failed, or (seccomp) no socket
_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ETIMEDOUT,
                   errno.EACCES, errno.EPERM, errno.EADDRNOTAVAIL}


_OS_ERROR = re.compile(r"\(os error (\d+)\)")  # pyoxigraph names the errno in the message, not in `errno`


def _network_error(exc: OSError) -> bool:
    code = exc.errno
    if code is None and (found := _OS_ERROR.search(str(exc))):
        code = int(found.group(1))
    return code in _NETWORK_ERRNOS or isinstance(exc, ConnectionError) or "lookup address" in str(exc)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
