"""`kg synth`: synthetic graphs of the shipped graph's shape validate against the shapes and answer the competency
questions (copy 0 as the shipped graph does); the same size and seed give the same files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import kg
from kg import graph
from kg.cli import main
from kg.queries import named_queries
from kg.validate import validate

QUERIES = named_queries(Path(__file__).parent.parent / "queries")
AGGREGATE = re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    result = CliRunner().invoke(main, ["synth", "--triples", "3000", "--out", str(out), "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"\d+ triples written to {re.escape(str(out))}\n", result.output)
    return out


@pytest.fixture(scope="module")
def loaded(synthetic):
    return graph.load(synthetic)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_size_is_reached_in_whole_copies(synthetic, loaded, dataset):
    written = int(CliRunner().invoke(main, ["synth", "--triples", "3000", "--out", str(synthetic),
                                            "--seed", "7"]).output.split()[0])
    assert written == len(loaded) >= 3000
    assert len(dataset) < written < 3 * len(dataset)
    assert set(dataset.quads((None, None, None, None))) - set(loaded.quads((None, None, None, None))) <= {
        q for q in dataset.quads((None, None, None, None)) if any(type(t).__name__ == "BNode" for t in q[:3])}


def test_same_seed_same_files_other_seed_other_coordinates(synthetic, tmp_path):
    synthesize = ["synth", "--triples", "3000", "--out"]
    assert CliRunner().invoke(main, [*synthesize, str(tmp_path / "same"), "--seed", "7"]).exit_code == 0
    assert CliRunner().invoke(main, [*synthesize, str(tmp_path / "other"), "--seed", "8"]).exit_code == 0
    assert files(tmp_path / "same") == files(synthetic)
    other = files(tmp_path / "other")
    changed = {name for name, data in other.items() if data != files(synthetic)[name]}
    assert changed == {"data/enrichment.ttl"}  # where the coordinates are
    assert "https://schema.org/latitude" in other["data/enrichment.ttl"].decode()


def test_synthetic_graph_conforms_to_the_shapes(synthetic, loaded):
    report = validate(loaded, graph.load_shapes(synthetic))
    assert report.conforms, report.text


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_competency_questions_answer_on_the_synthetic_graph(loaded, dataset, name):
    text = QUERIES[name].text
    shipped, synthetic_rows = ({frozenset(r.items()) for r in kg.query(d, text).bindings} for d in (dataset, loaded))
    assert shipped
    if AGGREGATE.search(text):
        assert len(synthetic_rows) == len(shipped)  # the same groups; their counts grow with the copies
    else:
        assert shipped <= synthetic_rows
