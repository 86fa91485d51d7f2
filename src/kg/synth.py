"""Synthetic graphs of our shape at a requested size, for the scale benchmarks: `kg synth --triples N --out DIR`.

DIR is laid out like the repository (ontology/, data/, queries/), so `KG_HOME=DIR kg build --store DIR/store` builds
and serves it. The ontology, shapes and queries are copied as they are. The instance data is the shipped data (copy
0, unchanged) followed by renamed copies of it: in copy k every instance IRI (`kg:` namespace) gets the suffix
`-s<k>`, every blank node is new, labels end in " <k>", and the coordinates of places move by a small random offset
drawn from the seed. So every copy has the shipped shape (claims with their
evidence selectors, periods, places nested in places, events, organisations, Wikidata-model statements) and
validates against the same shapes; the competency questions answer for copy 0 what they answer on the shipped
graph. Triples that no renaming changes (Wikidata items' own statements, the ontology) are written once.

The data files hold N-Triples (a subset of Turtle) under the shipped file names. The size reached is the first
whole copy at or past N triples (a copy adds about 1,500 triples); the same N and seed give the same files.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from kg import graph
from kg.graph import SHAPES_PATH, SOURCES
from kg.namespaces import GRAPH, KG, SCHEMA

COPIED = ("ontology/ct.ttl", SHAPES_PATH, "ontology/context.jsonld")
LABELS = {"http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel",
          str(SCHEMA.name)}
COORDINATES = {str(SCHEMA.latitude): 90.0, str(SCHEMA.longitude): 180.0}
JITTER = 0.5  # degrees a copy's place may move from the original


def _node(term, copy: int) -> str:
    """A subject or object of the shipped data as it is named in copy `copy` (N-Triples syntax)."""
    if isinstance(term, ox.NamedNode) and term.value.startswith(str(KG)):
        return f"<{term.value}-s{copy}>"
    if isinstance(term, ox.BlankNode):
        return f"_:c{copy}x{term.value}"
    return str(term)


def _value(term, predicate: str, copy: int, rng: random.Random) -> str:
    """The object of a renamed subject in copy `copy`: labels numbered, coordinates moved, nodes renamed."""
    if not isinstance(term, ox.Literal):
        return _node(term, copy)
    if predicate in LABELS:
        return str(ox.Literal(f"{term.value} {copy}", language=term.language) if term.language
                   else ox.Literal(f"{term.value} {copy}", datatype=term.datatype))
    if predicate in COORDINATES:
        bound = COORDINATES[predicate]
        value = min(bound, max(-bound, float(term.value) + rng.uniform(-JITTER, JITTER)))
        return str(ox.Literal(f"{value:.6f}", datatype=term.datatype))
    return str(term)


def _copy(quads: list[ox.Quad], copy: int, rng: random.Random) -> Iterator[str]:
    """The N-Triples lines of copy `copy` of `quads`; for copies after the first, only the lines renaming changes."""
    for quad in quads:
        if copy == 0:
            yield f"{quad.subject} {quad.predicate} {quad.object} .\n"
            continue
        subject = _node(quad.subject, copy)
        if subject != str(quad.subject):
            yield f"{subject} {quad.predicate} {_value(quad.object, quad.predicate.value, copy, rng)} .\n"
        elif (renamed := _node(quad.object, copy)) != str(quad.object):
            yield f"{subject} {quad.predicate} {renamed} .\n"


def _parse(path: Path) -> list[ox.Quad]:
    """The triples of a file in the file's order, blank nodes numbered in order of appearance (pyoxigraph names
    them at random, which would make the output differ from run to run)."""
    names: dict[str, ox.BlankNode] = {}

    def stable(term):
        return names.setdefault(term.value, ox.BlankNode(f"b{len(names)}")) if isinstance(term, ox.BlankNode) else term

    return [ox.Quad(stable(q.subject), q.predicate, stable(q.object))
            for q in ox.parse(path=path, format=ox.RdfFormat.from_extension(path.suffix[1:]),
                              base_iri=path.resolve().as_uri())]


def synthesize(triples: int, out: Path, seed: int = 0, root: Path | None = None) -> int:
    """Write a graph of at least `triples` triples (asserted, ontology included) to `out`; return how many."""
    root, out = Path(root or graph.ROOT), Path(out)
    rng = random.Random(seed)
    for relative in COPIED:
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / relative, out / relative)
    shutil.copytree(root / "queries", out / "queries", dirs_exist_ok=True)
    instance = [s for s in SOURCES if s.graph != GRAPH.ontology]
    data = {relative: _parse(root / relative) for source in instance for relative in source.paths}
    total = len(_parse(root / "ontology/ct.ttl"))
    (out / "data").mkdir(exist_ok=True)
    handles = {relative: (out / relative).open("w", encoding="utf-8") for relative in data}
    try:
        copy = 0
        while copy == 0 or total < triples:
            for relative, quads in data.items():
                lines = list(dict.fromkeys(_copy(quads, copy, rng)))
                handles[relative].writelines(lines)
                total += len(lines)
            copy += 1
    finally:
        for handle in handles.values():
            handle.close()
    return total
