"""Ontology hygiene (OBO/COB style): each query in ontology/checks/ must return zero rows.

The queries run on the dataset with the shapes added as the named graph <.../graph/shapes>; the checks of
CLOSURE_CHECKS run on the dataset with its OWL 2 RL closure, since they are about what reasoning can entail. Each check
is also run on a copy with one planted defect, to prove it can fail (a misspelt graph name would make it pass
vacuously).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

import kg
from kg import build
from kg.graph import load_shapes, union
from kg.namespaces import CT, CTSH, GRAPH, KG, SCHEMA, bind_prefixes
from kg.reason import closure

CHECKS = sorted((Path(__file__).parents[1] / "ontology" / "checks").glob("*.rq"))
CLOSURE_CHECKS = {"no-claim-is-a-member"}


def hygiene_dataset(inference: str = "none") -> Dataset:
    dataset = build.dataset(inference)
    shapes = dataset.graph(GRAPH.shapes)
    shapes += load_shapes()
    return dataset


def rows(dataset: Dataset, check: Path) -> list[tuple[str, ...]]:
    def text(term) -> str:
        return dataset.namespace_manager.normalizeUri(term).strip("<>") if isinstance(term, URIRef) else str(term)

    return [tuple(text(term) for term in row) for row in kg.query(dataset, check.read_text())]


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    return {"none": bind_prefixes(hygiene_dataset()), "owl-rl": bind_prefixes(hygiene_dataset("owl-rl"))}


def test_the_glob_found_the_checks():
    assert [c.stem for c in CHECKS] == [
        "classes-have-shapes",
        "no-claim-is-a-member",
        "no-orphan-classes",
        "shapes-documented",
        "terms-declared",
        "terms-documented",
        "value-kinds-match-shape",
    ]


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_returns_no_rows(datasets, check):
    assert rows(datasets["owl-rl" if check.stem in CLOSURE_CHECKS else "none"], check) == []


def test_the_closure_holds_what_the_member_check_looks_for(datasets):
    """The closure does entail memberships (cells' affiliations): the check is not vacuous on the shipped data."""
    inferred = datasets["owl-rl"].graph(GRAPH.inferred)
    assert (KG["cells-dismantled-last-three-years-islamic-state"], SCHEMA.memberOf, KG["org-islamic-state"]) in inferred


def _undocumented_class(d: Dataset) -> None:
    d.graph(GRAPH.ontology).add((CT.Undocumented, RDF.type, OWL.Class))
    d.graph(GRAPH.ontology).add((CT.Undocumented, RDFS.subClassOf, SCHEMA.Thing))


def _blank_property_shape(d: Dataset) -> None:
    blank = BNode()
    d.graph(GRAPH.shapes).add((CTSH.ClaimShape, SH.property, blank))
    d.graph(GRAPH.shapes).add((blank, SH.path, RDFS.comment))


def _claim_affiliated(d: Dataset) -> None:
    """The defect issue 12 found: an affiliation on a claim, which OWL 2 RL turns into schema:memberOf."""
    d.graph(GRAPH.claims).add((KG["claim-cells-dismantled-last-three-years"], CT.affiliatedTo, KG["org-islamic-state"]))
    inferred = d.graph(GRAPH.inferred)
    inferred += closure(union(d, exclude=(GRAPH.shapes,)), "owl-rl", engine="fast")


PLANTED = {
    "classes-have-shapes": (
        lambda d: d.graph(GRAPH.claims).add((KG["thing-example"], RDF.type, SCHEMA.Thing)),
        ("schema:Thing", "https://w3id.org/morocco-ct-kg/graph/claims"),
    ),
    "no-claim-is-a-member": (
        _claim_affiliated,
        ("kg:claim-cells-dismantled-last-three-years", "schema:memberOf", "kg:org-islamic-state"),
    ),
    "no-orphan-classes": (
        lambda d: d.graph(GRAPH.ontology).add((CT.Orphan, RDF.type, OWL.Class)),
        ("ct:Orphan",),
    ),
    "shapes-documented": (_blank_property_shape, None),
    "terms-declared": (
        lambda d: d.graph(GRAPH.claims).add((KG["place-morocco"], CT.misspeltProperty, Literal("x"))),
        ("ct:misspeltProperty", "https://w3id.org/morocco-ct-kg/graph/claims"),
    ),
    "terms-documented": (_undocumented_class, ("ct:Undocumented", "skos:definition")),
    "value-kinds-match-shape": (
        lambda d: d.graph(GRAPH.ontology).add((CT.Roughly, SKOS.inScheme, CT.ValueKinds)),
        ("ct:Roughly", "in the scheme, not allowed by the shape"),
    ),
}


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_catches_a_planted_defect(check):
    plant, expected_row = PLANTED[check.stem]
    dataset = bind_prefixes(hygiene_dataset())
    plant(dataset)
    found = rows(dataset, check)
    assert found, f"{check.stem} missed its planted defect"
    if expected_row is not None:
        assert expected_row in found
