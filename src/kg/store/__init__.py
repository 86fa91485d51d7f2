"""The store layer: one small interface between the web layer and a SPARQL engine.

A store holds one or more datasets keyed by name (the inference mode: `none`, `rdfs`, `owl-rl`), answers queries
already serialized in the requested format, exports a whole dataset as a stream, and refuses what must not reach its
engine (`inspect`).
Backends, by name: `oxigraph` (`kg.store.oxigraph`, embedded, in memory or on disk), `rdflib` (`kg.store.reference`,
rdflib's engine: the reference of the differential tests) and `sparql` (`kg.store.remote`, any SPARQL 1.1 server by
URL). The embedded one is wrapped by `IsolatedStore`, so that evaluation runs in worker processes that can be killed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.errors import UnknownDataset
from kg.federation import NOTHING, AllowList
from kg.formats import Format
from kg.namespaces import QUERY_PREFIXES
from kg.store import guard

DEFAULT_DATASET = "none"
PREFIX_ITEMS: tuple[tuple[str, str], ...] = tuple(QUERY_PREFIXES.items())  # the project's and WDQS's


@dataclass(frozen=True)
class QueryRequest:
    """One query to evaluate: the text, where to evaluate it, the result format and the limits."""

    text: str
    media_type: str
    dataset: str = DEFAULT_DATASET
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    union_default_graph: bool = True
    base_iri: str | None = None  # for relative IRIs in the query; the protocol suggests the endpoint's URL
    timeout: float = 10.0
    max_rows: int = 10_000
    max_bytes: int = 16_000_000  # answers larger than this are cut, like the row cap
    federated: bool = False  # the query check found SERVICE calls (all allowed): it needs an engine with network


@dataclass(frozen=True)
class QueryResponse:
    """The serialized result: the body in `media_type`, how many rows (or triples) it has, whether it was cut."""

    body: bytes
    media_type: str
    rows: int
    truncated: bool


class Store(ABC):
    """A read-only SPARQL store holding datasets by name."""

    version: str
    containment = "none"  # how the engines are kept from making outbound requests (see kg.store.isolation)

    @property
    @abstractmethod
    def datasets(self) -> tuple[str, ...]:
        """The dataset names, the default first."""

    @abstractmethod
    def graphs(self, dataset: str) -> frozenset[str]:
        """The IRIs of the named graphs of `dataset`."""

    @abstractmethod
    def evaluate(self, request: QueryRequest) -> QueryResponse:
        """Evaluate a query that `inspect` accepted.

        :raise QueryError: the engine cannot parse or evaluate it.
        :raise QueryTimeout: it ran past `request.timeout`.
        :raise EngineFailure: the engine died.
        """

    @abstractmethod
    def export(self, dataset: str, fmt: Format) -> Iterator[bytes]:
        """The whole of `dataset` serialized in `fmt` (a graph format), as a stream of byte chunks.

        :raise UnknownDataset: `dataset` is not held.
        """

    def start(self) -> None:  # noqa: B027 (most backends have nothing to start)
        """Get ready to evaluate (start engine processes, connect), so the first query does not pay for it."""

    def close(self) -> None:  # noqa: B027 (most backends hold nothing to release)
        """Release engine resources (worker processes, files)."""

    def check_dataset(self, dataset: str) -> None:
        """:raise UnknownDataset: if the store holds no dataset of that name."""
        if dataset not in self.datasets:
            raise UnknownDataset(f"unknown inference mode {dataset!r}; available: {', '.join(self.datasets)}")

    def inspect(
        self,
        text: str,
        *,
        dataset: str = DEFAULT_DATASET,
        default_graphs: tuple[str, ...] = (),
        named_graphs: tuple[str, ...] = (),
        max_nesting: int = 100,
        allow: AllowList = NOTHING,
    ) -> guard.QueryInfo:
        """Scan a query before evaluation and refuse what must not reach the engine.

        Graphs the dataset does not hold (FROM, FROM NAMED, `default_graphs`, `named_graphs`) are empty graphs, never
        fetched and never refused: `guard.unknown_graphs` names them for the response.

        :raise QueryRejected: an update, or pathological nesting.
        :raise FederationRefused: a SERVICE call to an endpoint that `allow` does not name (none by default).
        :raise UnknownDataset: `dataset` is not held.
        """
        self.check_dataset(dataset)
        info = guard.scan(text, PREFIX_ITEMS)
        guard.check(info, max_nesting=max_nesting, allow=allow)
        return info


def export_quads(nquads: bytes, fmt: Format) -> Iterator[bytes]:
    """A dataset given as N-Quads, exported in `fmt` by `kg.export` (the project's prefixes, context and framing);
    N-Quads itself is passed through. The rdflib dataset lives for this export only."""
    if fmt.name == "nquads":
        return iter([nquads])
    from rdflib import Dataset

    from kg.export import export

    dataset = Dataset(default_union=True)
    dataset.parse(data=nquads, format="nquads")
    return export(dataset, fmt)


def is_url(location: str | Path | None) -> bool:
    return isinstance(location, str) and location.startswith(("http://", "https://"))


def open_store(location: str | Path | None = None, *, isolate: bool = True, timeout: float | None = None,
               **engine_options) -> Store:
    """The store `kg serve` fronts: a remote SPARQL server when `location` is a URL (loaded by `kg load --into`),
    else the embedded store built by `kg.build.store` (in memory, or on disk at `location`), evaluating in engine
    processes (`kg.store.isolation.IsolatedStore` with `engine_options`) unless `isolate` is false."""
    if is_url(location):
        from kg.store.remote import RemoteStore

        remote = RemoteStore(str(location), **({"timeout": timeout} if timeout else {}))
        remote.start()
        return remote
    from kg.build import store as build_store
    from kg.store.isolation import IsolatedStore

    store = build_store(Path(location) if location else None)
    return IsolatedStore(store, **engine_options) if isolate else store
