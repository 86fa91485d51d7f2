"""Serializations of the dataset: Turtle, JSON-LD (compacted with the local context, one object per entity),
N-Triples, N-Quads, TriG and RDF/XML, as a stream of byte chunks.

Quad formats (N-Quads, TriG) keep the named graphs; triple formats give the union of the graphs. N-Triples and
N-Quads are written a line at a time, so a large export never exists whole in memory; the other formats are
serialized by rdflib and then streamed in chunks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD
from rdflib.plugin import register
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.plugins.serializers.turtle import TurtleSerializer
from rdflib.serializer import Serializer

from kg.formats import GRAPH_FORMATS, Format, lookup
from kg.graph import ROOT, union
from kg.namespaces import CT, PREFIXES, SCHEMA, bind_prefixes, compact

CONTEXT_PATH = "ontology/context.jsonld"
CHUNK = 1 << 16

# Terms of other vocabularies common enough in the data to deserve a short name in JSON-LD.
COMMON_TERMS = {
    "label": RDFS.label,
    "comment": RDFS.comment,
    "prefLabel": SKOS.prefLabel,
    "altLabel": SKOS.altLabel,
    "definition": SKOS.definition,
    "example": SKOS.example,
    "name": SCHEMA.name,
    "description": SCHEMA.description,
}


def export(dataset: Dataset, fmt: str | Format) -> Iterator[bytes]:
    """Serialize `dataset` in `fmt` (a name, extension or media type of `GRAPH_FORMATS`) as byte chunks."""
    chosen = fmt if isinstance(fmt, Format) else lookup(GRAPH_FORMATS, fmt)
    if chosen.name == "nt":
        return _lines(_ntriples(dataset))
    if chosen.name == "nquads":
        return _lines(_nquads(dataset))
    if chosen.name == "json-ld":
        return _chunks(json.dumps(jsonld(dataset), ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    target = dataset if chosen.quads else bind_prefixes(union(dataset))
    serializer = LOSSLESS.get(chosen.name, chosen.rdflib)
    return _chunks(target.serialize(format=serializer, encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------------------------
# Turtle and TriG that keep every literal as written

# Turtle's shorthand for numbers and booleans, by datatype: a literal is written bare only if its lexical form is
# already in a shape that readers keep: rdflib reads `45.0` as that lexical form (not "45"^^xsd:decimal), `007` as 7.
SHORTHAND = {
    XSD.integer: re.compile(r"-?(0|[1-9][0-9]*)"),
    XSD.decimal: re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+"),
    XSD.double: re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?[eE][+-]?[0-9]+"),
    XSD.boolean: re.compile(r"true|false"),
}


class _LosslessLiterals:
    """rdflib writes numbers in Turtle's shorthand even when that changes them ("45"^^xsd:decimal as `45.0`)."""

    def label(self, node, position):
        if isinstance(node, Literal) and node.datatype in SHORTHAND:
            bare = node._literal_n3(use_plain=True)
            if bare != str(node) or not SHORTHAND[node.datatype].fullmatch(bare):
                return node._literal_n3(use_plain=False, qname_callback=lambda dt: self.get_pname(dt, False))
        return super().label(node, position)


class LosslessTurtleSerializer(_LosslessLiterals, TurtleSerializer):
    """Turtle that parses back to the very same literals."""


class LosslessTrigSerializer(_LosslessLiterals, TrigSerializer):
    """TriG that parses back to the very same literals."""


register("kg-turtle", Serializer, "kg.export", "LosslessTurtleSerializer")
register("kg-trig", Serializer, "kg.export", "LosslessTrigSerializer")
LOSSLESS = {"turtle": "kg-turtle", "trig": "kg-trig"}


# ---------------------------------------------------------------------------------------------------------------------
# Line formats, streamed


def nt_term(term) -> str:
    """A term in N-Triples syntax."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    text = str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if term.language:
        return f'"{text}"@{term.language}'
    return f'"{text}"^^<{term.datatype}>' if term.datatype else f'"{text}"'


def _ntriples(dataset: Dataset) -> Iterator[str]:
    for s, p, o in dataset.triples((None, None, None)):
        yield f"{nt_term(s)} {nt_term(p)} {nt_term(o)} .\n"


def _nquads(dataset: Dataset) -> Iterator[str]:
    for graph in sorted(dataset.graphs(), key=lambda g: str(g.identifier)):
        name = nt_term(graph.identifier)
        for s, p, o in graph:
            yield f"{nt_term(s)} {nt_term(p)} {nt_term(o)} {name} .\n"


def _lines(lines: Iterator[str]) -> Iterator[bytes]:
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if size >= CHUNK:
            yield "".join(batch).encode("utf-8")
            batch, size = [], 0
    if batch:
        yield "".join(batch).encode("utf-8")


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


# ---------------------------------------------------------------------------------------------------------------------
# JSON-LD


def build_context(ontology: Graph) -> dict:
    """The JSON-LD context: the project's prefixes, a term per ct: class and property, and a few common terms.

    Object properties are coerced to IRIs ("@type": "@id"). Everything is local: no remote context is referenced.
    """
    terms: dict[str, object] = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    for name, iri in COMMON_TERMS.items():
        terms[name] = compact(iri)
    ct_terms = sorted(
        {s for s in ontology.subjects(RDF.type, None) if isinstance(s, URIRef) and str(s).startswith(str(CT))},
        key=str,
    )
    for iri in ct_terms:
        types = set(ontology.objects(iri, RDF.type))
        name = str(iri)[len(str(CT)) :]
        if OWL.ObjectProperty in types:
            terms[name] = {"@id": compact(iri), "@type": "@id"}
        elif types & {OWL.Class, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property}:
            terms[name] = compact(iri)
    return {"@context": terms}


@cache
def _context_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def context(root: Path | None = None) -> dict:
    """The shipped context, `ontology/context.jsonld`."""
    return _context_file(Path(root or ROOT) / CONTEXT_PATH)


def jsonld(dataset: Dataset, context_document: dict | None = None) -> dict:
    """The union graph as JSON-LD compacted with the context, framed per entity.

    Each entity (a node with an IRI) is one object of "@graph", in IRI order; a blank node that only one entity
    refers to is embedded where it is referred to. The context is included inline, so the document stands alone.
    """
    document = context_document or context()
    compacted = json.loads(
        union(dataset).serialize(format="json-ld", context=document["@context"], auto_compact=True)
    )
    nodes = compacted.get("@graph", [compacted] if "@id" in compacted else [])
    return {"@context": document["@context"], "@graph": _frame(nodes)}


def _frame(nodes: list[dict]) -> list[dict]:
    """One object per entity; a blank node referred to exactly once is embedded where it is referred to."""
    by_id = {node["@id"]: node for node in nodes if "@id" in node}
    references: dict[str, int] = {}

    def count(value) -> None:
        if isinstance(value, list):
            for inner in value:
                count(inner)
        elif isinstance(value, dict):
            if set(value) == {"@id"}:
                references[value["@id"]] = references.get(value["@id"], 0) + 1
                return
            for key, inner in value.items():
                if key != "@id":
                    count(inner)

    count(nodes)
    embeddable = {i for i, n in references.items() if n == 1 and i.startswith("_:") and i in by_id}
    embedded: set[str] = set()

    def embed(value):
        if isinstance(value, list):
            return [embed(inner) for inner in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"@id"} and value["@id"] in embeddable and value["@id"] not in embedded:
            embedded.add(value["@id"])
            return embed({k: v for k, v in by_id[value["@id"]].items() if k != "@id"})
        return {key: embed(inner) for key, inner in value.items()}

    # Entities first, in IRI order; then blank nodes no entity embeds (a cycle of blank nodes, say).
    roots = sorted(nodes, key=lambda node: (node.get("@id", "").startswith("_:"), node.get("@id", "")))
    framed = []
    for node in roots:
        if node.get("@id") not in embedded:
            framed.append((node.get("@id"), embed(node)))
    return [value for node_id, value in framed if node_id not in embedded]
