"""docs/validation.md matches the code: its console examples run with the output and exit status shown, and its
tables list exactly the node shapes, SPARQL rules and hygiene checks that exist. (Its ```python block runs in
test_docs.py.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import console_steps, fenced_blocks
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from kg.cli import main
from kg.graph import load_shapes
from kg.namespaces import bind_prefixes

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "validation.md"
TEXT = DOC.read_text(encoding="utf-8")


def console_sessions() -> list[tuple[list[str], str, int]]:
    """(kg arguments, expected output, expected exit status) for every `$ kg ...` followed by `$ echo $?`."""
    sessions = []
    for info, code in fenced_blocks(DOC):
        if info != "console":
            continue
        steps = console_steps(code)
        for (command, output), (echo, status) in zip(steps[::2], steps[1::2], strict=True):
            assert command.startswith("kg "), f"unexpected command in a console block: {command!r}"
            assert echo == "echo $?", "every example shows its exit status"
            sessions.append((shlex.split(command.removeprefix("kg ")), output + "\n", int(status)))
    return sessions


SESSIONS = console_sessions()


def table_names(heading: str) -> set[str]:
    """The first-column names of the table under `heading`."""
    section = TEXT.split(heading, 1)[1]
    table = re.search(r"\n(\|.*?)\n(?!\|)", section + "\n\n", re.DOTALL).group(1)
    return {m.group(1) for m in re.finditer(r"^\| `([^`]+)` \|", table, re.MULTILINE)}


def short(term: URIRef) -> str:
    return bind_prefixes(Graph()).namespace_manager.normalizeUri(term)


def test_the_examples_were_found():
    assert [status for _, _, status in SESSIONS] == [0, 1, 1, 2]


@pytest.mark.parametrize(("args", "expected", "status"), SESSIONS, ids=[" ".join(a) for a, _, _ in SESSIONS])
def test_console_example(monkeypatch, args, expected, status):
    monkeypatch.chdir(ROOT)  # the examples use paths relative to the repository
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == status
    assert result.output == expected


def test_the_node_shape_table_lists_every_node_shape():
    shapes = load_shapes()
    expected = {short(s) for s in shapes.subjects(RDF.type, SH.NodeShape)}
    assert table_names("## The shapes") == expected


def test_the_rule_table_lists_every_sparql_constraint():
    shapes = load_shapes()
    expected = {short(s) for s in shapes.subjects(RDF.type, SH.SPARQLConstraint)}
    assert table_names("### Cross-fact rules") == expected


def test_the_hygiene_table_lists_every_check():
    expected = {p.stem for p in (ROOT / "ontology" / "checks").glob("*.rq")}
    assert table_names("## Ontology hygiene checks") == expected
