"""The documentation's examples run: each ```sparql block answers the ```csv block after it; ```python blocks run.

The python blocks of docs/reasoning.md and docs/wikidata.md run in their own tests (test_docs_reasoning.py,
test_docs_wikidata.py), which check what they print; they are not run a second time here.
"""

from __future__ import annotations

import pytest
from conftest import DOCS, fenced_blocks

import kg

RUN_ELSEWHERE = ("reasoning.md", "wikidata.md")


def blocks(language: str) -> list[tuple[str, str, str | None]]:
    """(document, code, the csv block right after it or None) for every block in `language`."""
    found = []
    for doc in DOCS:
        fenced = fenced_blocks(doc)
        for (info, code), (next_info, next_code) in zip(fenced, [*fenced[1:], ("", "")], strict=False):
            if info == language:
                found.append((doc.name, code, next_code if next_info == "csv" else None))
    return found


SPARQL = blocks("sparql")
PYTHON = [block for block in blocks("python") if block[0] not in RUN_ELSEWHERE]


def test_examples_were_found():
    assert len(SPARQL) >= 2 and len(PYTHON) >= 1
    assert [doc for doc, _, expected in SPARQL if expected is None] == [], "a sparql example without its csv answer"


@pytest.mark.parametrize(("doc", "query", "expected"), SPARQL, ids=[f"{d}:{i}" for i, (d, _, _) in enumerate(SPARQL)])
def test_sparql_example(dataset, doc, query, expected):
    actual = kg.query(dataset, query).serialize(format="csv").decode("utf-8").replace("\r\n", "\n")
    assert actual.strip() == (expected or "").strip()


@pytest.mark.parametrize(("doc", "code", "_"), PYTHON, ids=[f"{d}:{i}" for i, (d, _, _) in enumerate(PYTHON)])
def test_python_example(doc, code, _):
    exec(compile(code, doc, "exec"), {})


@pytest.mark.parametrize(("doc", "query", "expected"), SPARQL, ids=[f"{d}:{i}" for i, (d, _, _) in enumerate(SPARQL)])
def test_sparql_example_through_the_endpoint(client, doc, query, expected):
    """The serving engine gives the docs' tables too, value for value (what is served is what is in the files)."""
    response = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.text.replace("\r\n", "\n").strip() == (expected or "").strip()
