"""Queries written as one writes them on query.wikidata.org run unchanged through /sparql and give the expected
answers: the label service (automatic Label, Description and AltLabel variables, explicit bindings, language
fallbacks, [AUTO_LANGUAGE]), wikibase:BestRank, psv: value nodes with time precision and coordinates, p:/ps:/pq:/pr:,
wdt:, #defaultView: comments, query hints, and no PREFIX line (WDQS predeclares them).

Each tests/fixtures/wdqs/NAME.rq has its answer in NAME.tsv (SPARQL TSV, which keeps datatypes and language tags);
rows are compared in order when the query has ORDER BY, as a multiset otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from SPARQLWrapper import TSV, SPARQLWrapper

from kg.wdqs import label_service

CORPUS = sorted((Path(__file__).parent / "fixtures" / "wdqs").glob("*.rq"))


def test_the_corpus_is_large_enough_and_every_query_has_an_answer():
    assert len(CORPUS) >= 12
    assert all(path.with_suffix(".tsv").is_file() for path in CORPUS)
    texts = [path.read_text() for path in CORPUS]
    assert not any("PREFIX" in text.upper() for text in texts)  # WDQS predeclares its prefixes
    for idiom in ("SERVICE wikibase:label", "[AUTO_LANGUAGE]", "wikibase:BestRank", "psv:", "pq:", "pr:", "wdt:",
                  "AltLabel", "Description", '"fr,en"', "#defaultView:", "wikibase:timePrecision", "hint:Query"):
        assert any(idiom in text for text in texts), idiom


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_wdqs_query_runs_unchanged(live_server, path):
    text = path.read_text()
    sparql = SPARQLWrapper(live_server["url"] + "/sparql")
    sparql.setQuery(text)
    sparql.setReturnFormat(TSV)
    got = sparql.query().response.read().decode("utf-8").splitlines()
    expected = path.with_suffix(".tsv").read_text(encoding="utf-8").splitlines()
    assert len(expected) > 1  # a header and at least one row
    assert got[0] == expected[0]
    if "ORDER BY" in text.upper():
        assert got[1:] == expected[1:]
    else:
        assert sorted(got[1:]) == sorted(expected[1:])


def test_an_optional_subject_left_unbound_gets_no_label(live_server):
    """WDQS binds no label for an unbound variable; matching it to every labelled node would multiply the rows."""
    text = ("SELECT ?place ?area ?areaLabel WHERE { VALUES ?place { wd:Q7903 } OPTIONAL { ?place wdt:P131 ?area } "
            'SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } }')
    sparql = SPARQLWrapper(live_server["url"] + "/sparql")
    sparql.setQuery(text)
    sparql.setReturnFormat(TSV)
    rows = sparql.query().response.read().decode("utf-8").splitlines()
    assert rows == ["?place\t?area\t?areaLabel", "<http://www.wikidata.org/entity/Q7903>\t\t"]


def test_the_label_service_is_never_a_federated_call():
    rewritten = label_service('SELECT ?x ?xLabel { ?x wdt:P17 wd:Q1028 SERVICE wikibase:label '
                              '{ bd:serviceParam wikibase:language "en". } }')
    assert "SERVICE" not in rewritten and "wikibase:label" not in rewritten
