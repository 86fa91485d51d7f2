"""Competency questions: every queries/<name>.rq runs on the built graph and gives the answer in <name>.srj."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib.query import Result

import kg
from kg.queries import HEADER_KEYS, named_queries

QUERIES_DIR = Path(__file__).parent.parent / "queries"
QUERIES = named_queries(QUERIES_DIR)


def rows(result: Result, ordered: bool) -> list[tuple]:
    """The result's rows as tuples of terms in variable order; sorted unless the query fixes the order."""
    variables = list(result.vars or [])
    table = [tuple(row.get(v) if hasattr(row, "get") else row[v] for v in variables) for row in result.bindings]
    return table if ordered else sorted(table, key=lambda r: tuple("" if t is None else t.n3() for t in r))


def expected_result(name: str) -> Result:
    path = QUERIES_DIR / f"{name}.srj"
    assert path.is_file(), f"{name}.rq has no expected answer {path.name} beside it"
    with path.open("rb") as source:
        return Result.parse(source, format="json")


def test_queries_were_found():
    assert len(QUERIES) >= 8


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_has_a_header(name):
    query = QUERIES[name]
    for key in HEADER_KEYS:
        assert getattr(query, key), f"{name}.rq lacks the header line '# {key}: ...'"
    assert query.question.endswith("?")


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_competency_question_gives_its_expected_answer(dataset, name):
    query = QUERIES[name]
    ordered = re.search(r"\bORDER\s+BY\b", query.text, re.IGNORECASE) is not None
    actual = kg.query(dataset, query.text)
    expected = expected_result(name)
    assert [str(v) for v in actual.vars] == [str(v) for v in expected.vars]
    assert rows(actual, ordered) == rows(expected, ordered)
    assert rows(actual, ordered), f"{name} answers nothing"
