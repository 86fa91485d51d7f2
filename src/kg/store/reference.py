"""The `rdflib` backend: rdflib's own SPARQL engine on rdflib datasets, the reference that the differential tests
compare the other backends with. Slow (rdflib spends 10-20 ms parsing each query); never used for serving.

It answers on the union default graph only; a request that names its own dataset (`default-graph-uri`,
`named-graph-uri`) is refused, since rdflib has no protocol-level dataset.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyoxigraph as ox
from rdflib import Dataset

from kg.errors import QueryError
from kg.formats import Format
from kg.namespaces import PREFIXES
from kg.store import QueryRequest, QueryResponse, Store


class RdflibStore(Store):
    """rdflib datasets by name, evaluated by rdflib."""

    def __init__(self, datasets: Mapping[str, Dataset], *, version: str):
        self._datasets = dict(datasets)
        self._graphs = {name: frozenset(str(g.identifier) for g in ds.graphs() if len(g))
                        for name, ds in self._datasets.items()}
        self.version = version

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self._datasets)

    def graphs(self, dataset: str) -> frozenset[str]:
        self.check_dataset(dataset)
        return self._graphs[dataset]

    def evaluate(self, request: QueryRequest) -> QueryResponse:
        from kg.store.oxigraph import respond

        self.check_dataset(request.dataset)
        if request.default_graphs or request.named_graphs or not request.union_default_graph:
            raise QueryError("the rdflib backend answers on the union default graph only")
        try:
            result = self._datasets[request.dataset].query(request.text, initNs=dict(PREFIXES),
                                                          base=request.base_iri)
            if result.type in ("CONSTRUCT", "DESCRIBE"):
                parsed = ox.parse(result.graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
            else:
                parsed = ox.parse_query_results(result.serialize(format="json"), ox.QueryResultsFormat.JSON)
        except Exception as exc:  # rdflib raises pyparsing and many other types for a bad query
            raise QueryError(f"query failed: {' '.join(str(exc).split())}") from None
        return respond(parsed, request)

    def export(self, dataset: str, fmt: Format) -> Iterator[bytes]:
        from kg.export import export

        self.check_dataset(dataset)
        return export(self._datasets[dataset], fmt)
