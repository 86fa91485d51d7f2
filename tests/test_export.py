"""Exports: every format parses back isomorphic to the dataset; JSON-LD agrees with an independent processor."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyld import jsonld
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import XSD

from kg import export
from kg.cli import main
from kg.formats import GRAPH_FORMATS
from kg.graph import union
from kg.namespaces import GRAPH, bind_prefixes

ROOT = Path(__file__).resolve().parents[1]
FORMATS = [fmt.name for fmt in GRAPH_FORMATS]


def exported(dataset, fmt: str) -> bytes:
    return b"".join(export.export(dataset, fmt))


def assert_isomorphic(expected: Graph, actual: Graph, what: str) -> None:
    if not isomorphic(expected, actual):
        _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
        missing = sorted(only_expected.serialize(format="nt").splitlines())[:5]
        extra = sorted(only_actual.serialize(format="nt").splitlines())[:5]
        pytest.fail(f"{what}: not isomorphic; missing {missing}; extra {extra}")


def named_graphs(dataset: Dataset) -> dict[str, Graph]:
    return {str(g.identifier): g for g in dataset.graphs() if len(g)}


def test_discovery_found_every_format():
    assert FORMATS == ["turtle", "json-ld", "nt", "xml", "trig", "nquads"]


@pytest.mark.parametrize("inference", ["none", "owl-rl"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_export_parses_back_isomorphic(datasets, fmt, inference):
    dataset = datasets[inference]
    chosen = {f.name: f for f in GRAPH_FORMATS}[fmt]
    data = exported(dataset, fmt)
    if chosen.quads:
        parsed = Dataset()
        parsed.parse(data=data, format=chosen.rdflib)
        expected, actual = named_graphs(dataset), named_graphs(parsed)
        assert sorted(actual) == sorted(expected)
        for name, graph in expected.items():
            assert_isomorphic(graph, actual[name], f"{fmt} graph {name}")
    else:
        parsed = Graph()
        parsed.parse(data=data, format=chosen.rdflib)
        assert_isomorphic(union(dataset), parsed, fmt)


def test_quad_exports_keep_the_inferred_graph_apart(datasets):
    parsed = Dataset()
    parsed.parse(data=exported(datasets["owl-rl"], "nquads"), format="nquads")
    assert len(parsed.graph(GRAPH.inferred)) == len(datasets["owl-rl"].graph(GRAPH.inferred)) > 0
    assert str(GRAPH.inferred) not in named_graphs(datasets["none"])


def refuse_remote(url, options=None):
    raise AssertionError(f"the JSON-LD processor tried to load {url}")


@pytest.mark.parametrize("inference", ["none", "owl-rl"])
def test_jsonld_expanded_by_pyld_gives_the_turtle_graph(datasets, inference, monkeypatch):
    monkeypatch.setattr(jsonld, "_default_document_loader", refuse_remote)
    dataset = datasets[inference]
    document = json.loads(exported(dataset, "json-ld"))
    expanded = jsonld.expand(document, {"documentLoader": refuse_remote})
    nquads = jsonld.to_rdf(expanded, {"format": "application/n-quads", "documentLoader": refuse_remote})
    from_pyld = Graph()
    from_pyld.parse(data=nquads, format="nt")
    from_turtle = Graph()
    from_turtle.parse(data=exported(dataset, "turtle"), format="turtle")
    assert_isomorphic(from_turtle, from_pyld, "pyld's JSON-LD against the Turtle export")


def test_jsonld_is_one_object_per_entity_with_the_local_context(datasets):
    document = json.loads(exported(datasets["none"], "json-ld"))
    assert document["@context"] == export.context()["@context"]
    ids = [node["@id"] for node in document["@graph"]]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    names = datasets["none"].namespace_manager
    iris = {s for s in union(datasets["none"]).subjects() if isinstance(s, URIRef)}
    subjects = {names.normalizeUri(s).strip("<>") for s in iris}
    assert set(ids) == subjects, "an entity is missing, or a blank node was not embedded"
    dgst = next(node for node in document["@graph"] if node["@id"] == "kg:org-dgst")
    assert dgst["@type"] == "IntelligenceAgency" and "DGST" in dgst["altLabel"]


def test_context_file_is_generated_from_the_ontology(dataset):
    shipped = json.loads((ROOT / export.CONTEXT_PATH).read_text(encoding="utf-8"))
    assert shipped == export.build_context(dataset.graph(GRAPH.ontology)), "regenerate: kg context > " + (
        export.CONTEXT_PATH
    )


def test_context_refers_to_nothing_remote():
    terms = export.context()["@context"]
    assert isinstance(terms, dict)

    def walk(value):
        if isinstance(value, dict):
            assert "@import" not in value and "@context" not in value and "@base" not in value
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            raise AssertionError("a context array could name a remote context")

    walk(terms)
    jsonld.expand({"@context": terms, "@id": "kg:x", "label": "x"}, {"documentLoader": refuse_remote})


def test_turtle_export_is_readable_with_prefixes(datasets):
    text = exported(datasets["none"], "turtle").decode("utf-8")
    assert "@prefix ct: <https://w3id.org/morocco-ct-kg/ontology#> ." in text
    assert "@prefix kg: <https://w3id.org/morocco-ct-kg/id/> ." in text
    assert "kg:org-dgst a ct:IntelligenceAgency" in text


def test_line_formats_stream_in_chunks(datasets, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 1024)
    chunks = list(export.export(datasets["none"], "nquads"))
    assert len(chunks) > 10
    lines = b"".join(chunks).decode("utf-8").splitlines()
    assert len(lines) == sum(len(g) for g in datasets["none"].graphs())
    assert all(line.endswith(" .") for line in lines)


def test_kg_export_writes_a_file_with_inferences(tmp_path):
    target = tmp_path / "graph.nq"
    result = CliRunner().invoke(main, ["export", "--format", "nquads", "--inference", "owl-rl", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"<{GRAPH.inferred}> ." in target.read_text(encoding="utf-8")


def test_kg_export_unknown_format_is_a_one_line_error():
    result = CliRunner().invoke(main, ["export", "--format", "yaml"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: unknown format 'yaml'; known: turtle, json-ld, nt, xml, trig, nquads, quickstatements, claims-csv\n"
    )


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_turtle_keeps_literals_as_written(fmt):
    dataset = bind_prefixes(Dataset(default_union=True))
    graph = dataset.graph(GRAPH.claims)
    subject = URIRef("https://w3id.org/morocco-ct-kg/id/x")
    lexical = [("45", XSD.decimal), ("1", XSD.boolean), ("1e3", XSD.double), ("007", XSD.integer),
               ("2.5", XSD.decimal), ("12", XSD.integer)]
    written = [Literal(text, datatype=datatype) for text, datatype in lexical]
    for i, literal in enumerate(written):
        graph.add((subject, URIRef(f"https://w3id.org/morocco-ct-kg/ontology#p{i}"), literal))
    text = exported(dataset, fmt).decode("utf-8")
    assert re.search(r"ct:p4 2\.5\b", text) and re.search(r"ct:p5 12\b", text), "shorthand kept where it is exact"
    parsed = Dataset(default_union=True)
    parsed.parse(data=text, format=fmt)
    assert sorted(parsed.objects(subject, None)) == sorted(written)
