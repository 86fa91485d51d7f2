"""The backends behind one interface: every competency question gives the same answer on the embedded store
(pyoxigraph, in memory and on disk) as on the reference engine (rdflib), in every inference mode; the on-disk store
is reopened as built, and rebuilt when an input changes."""

from __future__ import annotations

import json
import re

import pytest

from kg import build
from kg.graph import version
from kg.inference import INFERENCE_MODES
from kg.queries import named_queries
from kg.store import QueryRequest
from kg.store.oxigraph import OxigraphStore
from kg.store.reference import RdflibStore

QUERIES = named_queries()
JSON = "application/sparql-results+json"


def answer(store, text: str, dataset: str = "none") -> tuple[list[str], list]:
    """The variables and rows of a SELECT (sorted unless the query orders them), or the boolean of an ASK."""
    body = json.loads(store.evaluate(QueryRequest(text, JSON, dataset=dataset)).body)
    if "boolean" in body:
        return [], [body["boolean"]]
    variables = body["head"]["vars"]
    rows = [tuple(tuple(sorted(b[v].items())) if v in b else None for v in variables)
            for b in body["results"]["bindings"]]
    ordered = re.search(r"\bORDER\s+BY\b", text, re.IGNORECASE) is not None
    return variables, rows if ordered else sorted(rows, key=repr)


@pytest.fixture(scope="module")
def reference(datasets):
    return RdflibStore(datasets, version=version())


@pytest.fixture(scope="module")
def embedded():
    return build.store()


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory):
    return build.store(tmp_path_factory.mktemp("store") / "kg")


def test_queries_were_found():
    assert len(QUERIES) >= 8


@pytest.mark.parametrize("mode", INFERENCE_MODES)
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_embedded_store_answers_as_the_reference(reference, embedded, on_disk, name, mode):
    text = QUERIES[name].text
    expected = answer(reference, text, mode)
    assert expected[1], f"{name} answers nothing under {mode}"
    assert answer(embedded, text, mode) == expected
    assert answer(on_disk, text, mode) == expected


def test_both_hold_the_same_graphs(reference, embedded, on_disk):
    for mode in INFERENCE_MODES:
        assert embedded.graphs(mode) == on_disk.graphs(mode) == reference.graphs(mode)


def test_on_disk_store_is_reopened_as_built(tmp_path):
    location = tmp_path / "kg"
    first = build.store(location)
    built = (location / build.BUILD_FILE).stat().st_mtime_ns
    again = build.store(location)
    assert (location / build.BUILD_FILE).stat().st_mtime_ns == built
    assert isinstance(again, OxigraphStore) and again.version == first.version
    assert [again.size(m) for m in INFERENCE_MODES] == [first.size(m) for m in INFERENCE_MODES]


def test_on_disk_store_is_rebuilt_when_an_input_changes(tmp_path):
    from conftest import copy_project

    root = copy_project(tmp_path / "project", enrichment="kg:place-temara ct:locatedIn kg:place-morocco .\n")
    location = tmp_path / "kg"
    before = build.store(location, root=root)
    with (root / "data" / "enrichment.ttl").open("a", encoding="utf-8") as data:
        data.write("kg:place-rabat ct:locatedIn kg:place-morocco .\n")
    after = build.store(location, root=root)
    assert after.version != before.version and after.size("none") == before.size("none") + 1
