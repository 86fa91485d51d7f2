"""SHACL validation of the data against the shapes: one façade shared by the CLI, the tests and the server."""

from __future__ import annotations

from dataclasses import dataclass

from pyshacl import validate as shacl_validate
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import SH

from kg.graph import load, load_shapes
from kg.namespaces import GRAPH, bind_prefixes


@dataclass(frozen=True)
class Violation:
    """One SHACL result: which node broke which rule of which shape, on which path."""

    focus: str
    path: str | None
    shape: str
    component: str
    severity: str
    message: str

    def __str__(self) -> str:
        path = f" path {self.path}" if self.path else ""
        return f"{self.severity}: {self.focus}{path}: {self.message} [shape {self.shape}, {self.component}]"


@dataclass(frozen=True)
class Report:
    conforms: bool
    violations: list[Violation]
    graph: Graph

    @property
    def text(self) -> str:
        if self.conforms:
            return "Conforms: the data satisfies every shape."
        lines = [f"Does not conform: {len(self.violations)} result(s)."]
        lines += [f"- {v}" for v in self.violations]
        return "\n".join(lines)


def data_graph(dataset: Dataset) -> Graph:
    """The instance data to validate: every named graph but the ontology, merged."""
    merged = Graph()
    for graph in dataset.graphs():
        if graph.identifier != GRAPH.ontology:
            merged += graph
    return merged


def validate(dataset: Dataset | None = None, shapes: Graph | None = None) -> Report:
    """Validate the instance data of `dataset` (the shipped graph by default) against the shapes.

    The ontology is given to pySHACL as the ontology graph, so targets follow rdfs:subClassOf.
    """
    dataset = load() if dataset is None else dataset
    ontology = dataset.graph(GRAPH.ontology)
    conforms, report, _ = shacl_validate(
        data_graph(dataset),
        shacl_graph=load_shapes() if shapes is None else shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=False,
    )
    return Report(conforms=bool(conforms), violations=_violations(report), graph=bind_prefixes(report))


def _violations(report: Graph) -> list[Violation]:
    def short(term) -> str:
        return report.namespace_manager.normalizeUri(term) if isinstance(term, URIRef) else str(term)

    results = []
    for result in report.subjects(SH.resultSeverity, None):
        value = report.value
        path = value(result, SH.resultPath)
        results.append(
            Violation(
                focus=short(value(result, SH.focusNode)),
                path=short(path) if path is not None else None,
                shape=short(value(result, SH.sourceShape)),
                component=short(value(result, SH.sourceConstraintComponent)),
                severity=short(value(result, SH.resultSeverity)).removeprefix("sh:"),
                message=str(value(result, SH.resultMessage) or ""),
            )
        )
    return sorted(results, key=lambda v: (v.focus, v.shape, v.path or ""))
