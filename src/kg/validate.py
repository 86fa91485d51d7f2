"""SHACL validation of the data against the shapes: one façade shared by the CLI, the tests and the server."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pyparsing import ParseBaseException
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH

from kg.errors import KGError
from kg.graph import SOURCES, Source, load, load_shapes, rdflib_settings_kept, union
from kg.namespaces import GRAPH, PREFIXES, bind_prefixes


class ShapesError(KGError):
    """The shapes cannot be applied (a malformed shape or SPARQL constraint)."""


@dataclass(frozen=True)
class Violation:
    """One SHACL result: which node broke which rule of which shape, on which path, with which value."""

    focus: str
    path: str | None
    value: str | None
    shape: str
    component: str
    constraint: str | None
    severity: str
    message: str

    def __str__(self) -> str:
        path = f" path {self.path}" if self.path else ""
        value = f" value {self.value}" if self.value is not None and self.value != self.focus else ""
        rule = f"shape {self.shape}, {self.component}"
        if self.constraint:
            rule += f" {self.constraint}"
        return f"{self.severity}: {self.focus}{path}{value}: {self.message} [{rule}]"


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
    """The instance data to validate: every named graph but the ontology (and inferences), merged."""
    return union(dataset, exclude=(GRAPH.ontology, GRAPH.inferred))


def file_sources(files: Iterable[Path | str]) -> tuple[Source, ...]:
    """The sources for validating other data files: the project's ontology plus the files, as one named graph."""
    ontology = next(s for s in SOURCES if s.graph == GRAPH.ontology)
    paths = tuple(str(Path(f).resolve()) for f in files)
    return ontology, Source("input", GRAPH.input, paths, "Data files given for validation.")


def validate(
    dataset: Dataset | None = None, shapes: Graph | None = None, *, files: Iterable[Path | str] | None = None
) -> Report:
    """Validate the instance data against the shapes: `dataset`, the data `files`, or else the shipped graph.

    The ontology is given to pySHACL as the ontology graph, so targets and sh:class follow rdfs:subClassOf.
    A broken data or shapes file raises DataFileError (naming file and line); an unusable shape, ShapesError.
    """
    if dataset is not None and files is not None:
        raise ValueError("give a dataset or files, not both")
    if dataset is None:
        dataset = load(sources=file_sources(files)) if files is not None else load()
    from pyshacl import validate as shacl_validate  # here: importing pySHACL is slow, and `import kg` must not pay
    from pyshacl.errors import ReportableRuntimeError

    ontology = dataset.graph(GRAPH.ontology)
    try:
        with rdflib_settings_kept():
            conforms, report, _ = shacl_validate(
                data_graph(dataset),
                shacl_graph=load_shapes() if shapes is None else shapes,
                ont_graph=ontology,
                inference="none",
                advanced=True,
                allow_warnings=False,
            )
    except (ReportableRuntimeError, ParseBaseException) as exc:  # a malformed shape, or SPARQL that does not parse
        reason = str(exc).strip().splitlines()[0]
        raise ShapesError(f"the shapes cannot be applied: {reason}") from None
    bind_prefixes(report)
    return Report(conforms=bool(conforms), violations=_violations(report), graph=report)


_IRI_IN_TEXT = re.compile(
    "(?:" + "|".join(re.escape(ns) for ns in sorted(map(str, PREFIXES.values()), key=len, reverse=True)) + r")[\w-]+"
)


def _violations(report: Graph) -> list[Violation]:
    def short(term) -> str | None:
        if term is None:
            return None
        return report.namespace_manager.normalizeUri(term) if isinstance(term, URIRef) else str(term)

    def path_text(path) -> str | None:
        # A complex SHACL path is a blank-node structure; write it the way SPARQL writes property paths.
        if not isinstance(path, BNode):
            return short(path)
        for predicate, operator in ((SH.inversePath, "^"), (SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"),
                                    (SH.zeroOrOnePath, "?")):
            inner = report.value(path, predicate)
            if inner is not None:
                inner_text = path_text(inner)
                return f"^{inner_text}" if operator == "^" else f"({inner_text}){operator}"
        alternatives = report.value(path, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(path_text(p) for p in Collection(report, alternatives)) + ")"
        return "/".join(path_text(p) for p in Collection(report, path))

    def shorten_iris(message: str) -> str:
        # pySHACL fills SPARQL message templates ({?var}) with full IRIs; write them as prefixed names.
        return _IRI_IN_TEXT.sub(lambda m: short(URIRef(m.group(0))), message)

    results = set()  # a property shape shared by two node shapes reports the same result twice
    for result in report.subjects(SH.resultSeverity, None):
        value = report.value
        results.add(
            Violation(
                focus=short(value(result, SH.focusNode)),
                path=path_text(value(result, SH.resultPath)),
                value=short(value(result, SH.value)),
                shape=short(value(result, SH.sourceShape)),
                component=short(value(result, SH.sourceConstraintComponent)),
                constraint=short(value(result, SH.sourceConstraint)),
                severity=short(value(result, SH.resultSeverity)).removeprefix("sh:"),
                message=shorten_iris(str(value(result, SH.resultMessage) or "")),
            )
        )
    return sorted(results, key=lambda v: (v.focus, v.shape, v.path or "", v.value or ""))
