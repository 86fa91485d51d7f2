"""The documentation's examples run: each ```sparql block answers the ```csv block after it; ```python blocks run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kg

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def blocks(language: str) -> list[tuple[str, str, str | None]]:
    """(document, code, the csv block right after it or None) for every block in `language`."""
    found = []
    for doc in DOCS:
        matches = list(BLOCK.finditer(doc.read_text(encoding="utf-8")))
        for i, match in enumerate(matches):
            if match.group(1) == language:
                after = matches[i + 1] if i + 1 < len(matches) else None
                csv = after.group(2) if after is not None and after.group(1) == "csv" else None
                found.append((doc.name, match.group(2), csv))
    return found


SPARQL = blocks("sparql")
PYTHON = blocks("python")


def test_examples_were_found():
    assert len(SPARQL) >= 2 and len(PYTHON) >= 1


@pytest.mark.parametrize(("doc", "query", "expected"), SPARQL, ids=[f"{d}:{i}" for i, (d, _, _) in enumerate(SPARQL)])
def test_sparql_example(dataset, doc, query, expected):
    result = kg.query(dataset, query)
    if expected is None:
        assert len(result) > 0, f"an example in {doc} answers nothing"
    else:
        actual = result.serialize(format="csv").decode("utf-8").replace("\r\n", "\n")
        assert actual.strip() == expected.strip()


@pytest.mark.parametrize(("doc", "code", "_"), PYTHON, ids=[f"{d}:{i}" for i, (d, _, _) in enumerate(PYTHON)])
def test_python_example(doc, code, _):
    exec(compile(code, doc, "exec"), {})
