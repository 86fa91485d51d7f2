"""The SHACL shapes: the shipped data and every valid example conform; every broken fixture is caught by its shape.

Each broken fixture (tests/fixtures/broken/*.ttl) is a small graph, pieces of the valid example plus one defect, with
a header naming the node shape it tests and every result it must produce:

    # tests: ctsh:PeriodShape
    # expect: shape=ctsh:Period-order focus=kg:period-since-2002 component=sh:LessThanOrEqualsConstraintComponent ...

`expect` keys are fields of kg.validate.Violation (shape, focus, component, and optionally path, constraint, value).
The fixture must produce exactly the expected results, no more.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SH

import kg
from kg.graph import load_shapes
from kg.namespaces import CTSH, bind_prefixes
from kg.validate import ShapesError

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = sorted((FIXTURES / "broken").glob("*.ttl"))
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
EXPECT_KEYS = {"shape", "focus", "component", "path", "constraint", "value"}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def node_shapes(shapes: Graph) -> set[URIRef]:
    return {s for s in shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)}


def parse_header(path: Path) -> tuple[str, list[dict[str, str]], str]:
    """The fixture's `tests:` node shape, its `expect:` results and its `Defect:` line."""
    tests, expects, defect = "", [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, _, rest = line.lstrip("# ").partition(":")
        if key == "tests":
            tests = rest.strip()
        elif key == "Defect":
            defect = rest.strip()
        elif key == "expect":
            # values may contain spaces (a literal such as "24 hours"): split before each `key=`
            pairs = re.findall(r"(\w+)=(.*?)(?=\s+\w+=|$)", rest.strip())
            expects.append(dict(pairs))
    return tests, expects, defect


def test_the_globs_found_the_fixtures():
    assert len(BROKEN) >= 50
    assert [p.name for p in VALID] == ["counts-over-nested-periods.ttl", "minimal.ttl"]


def test_the_shipped_data_conforms():
    report = kg.validate()
    assert report.conforms, report.text
    assert report.violations == []


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_conforms(path):
    report = kg.validate(files=[path])
    assert report.conforms, report.text


def test_valid_examples_give_every_node_shape_a_focus_node(shapes):
    """Brick style: each shape has at least one valid example (a node it targets in a valid fixture)."""
    graph = Graph()
    for path in VALID:
        graph.parse(path)
    graph += kg.load().graph(kg.graph.GRAPH.ontology)  # the value kinds are individuals of the ontology
    untargeted = []
    for shape in sorted(node_shapes(shapes)):
        nodes = set()
        for cls in shapes.objects(shape, SH.targetClass):
            nodes |= set(graph.query(
                "SELECT ?n WHERE { ?n a/rdfs:subClassOf* ?c }", initBindings={"c": cls}, initNs={"rdfs": RDFS}
            ))
        for prop in shapes.objects(shape, SH.targetSubjectsOf):
            nodes |= set(graph.subjects(prop, None))
        if not nodes:
            untargeted.append(shape)
    assert untargeted == []


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_fixture_is_caught_by_its_shape(path, shapes):
    tests, expects, defect = parse_header(path)
    assert defect, f"{path.name}: no '# Defect:' line"
    assert expects, f"{path.name}: no '# expect:' line"
    tested = CTSH[tests.removeprefix("ctsh:")]
    assert tested in node_shapes(shapes), f"{path.name}: {tests} is not a node shape"

    report = kg.validate(files=[path])

    assert not report.conforms
    unmatched = list(report.violations)
    for expect in expects:
        assert {"shape", "focus", "component"} <= expect.keys() <= EXPECT_KEYS, expect
        match = next((v for v in unmatched if all(getattr(v, k) == w for k, w in expect.items())), None)
        assert match is not None, f"{path.name}: no result {expect}\n{report.text}"
        unmatched.remove(match)
        shape = CTSH[match.shape.removeprefix("ctsh:")]
        assert shape == tested or (tested, SH.property, shape) in shapes, (
            f"{path.name}: {match.shape} is not {tests} nor one of its property shapes"
        )
    assert unmatched == [], f"{path.name}: unexpected results\n{report.text}"


def test_every_node_shape_has_a_broken_fixture(shapes):
    tested = {parse_header(path)[0] for path in BROKEN}
    names = {bind_prefixes(Graph()).namespace_manager.normalizeUri(s) for s in node_shapes(shapes)}
    assert sorted(names - tested) == []


def test_validation_leaves_literal_normalization_as_it_was():
    """pySHACL resets rdflib.NORMALIZE_LITERALS on return; the façade restores it (kg.graph keeps lexical forms)."""
    assert rdflib.NORMALIZE_LITERALS is False
    kg.validate(files=[VALID[0]])
    assert rdflib.NORMALIZE_LITERALS is False
    assert str(rdflib.Literal("PT24H", datatype=rdflib.XSD.duration)) == "PT24H"


@pytest.mark.parametrize(
    ("constraint", "reason"),
    [
        ('sh:property [ sh:path rdfs:label ; sh:minCount "one" ]', "sh:minCount must be a literal with datatype"),
        ('sh:sparql [ sh:select "SELECT $this WHERE { $this ?p }" ]', "Expected SelectQuery"),
    ],
    ids=["malformed-core-constraint", "sparql-that-does-not-parse"],
)
def test_an_unusable_shape_is_a_shapes_error(constraint, reason):
    shapes = Graph().parse(data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <https://example.org/Shape> a sh:NodeShape ; sh:targetClass <https://w3id.org/morocco-ct-kg/ontology#Claim> ;
            {constraint} .""", format="turtle")
    with pytest.raises(ShapesError, match=f"^the shapes cannot be applied: .*{reason}"):
        kg.validate(files=[VALID[0]], shapes=shapes)
