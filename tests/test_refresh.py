"""`kg link --online --refresh`: Wikidata's values for the linked items, against the local stand-in API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_project
from rdflib import RDF, Literal, URIRef

import kg
from kg.cli import main
from kg.errors import KGError
from kg.graph import parse_file
from kg.linker import WikidataApi
from kg.namespaces import GEO, GRAPH, PR, PROV, WD, WDT, WIKIBASE, XSD
from kg.refresh import Difference, refresh, table

HERE = Path(__file__).parent
ROOT = HERE.parent
READ_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

# What the stand-in's refresh.json says against the shipped curated values (fictional differences).
SHIPPED_DIFFERENCES = [
    Difference("wd:Q20 = kg:place-norway", "label@fr", "Norvège", "(none)"),
    Difference("wd:Q1028 = kg:place-morocco", "P31", "(none)", "wd:Q900000000101"),
    Difference("wd:Q1028 = kg:place-morocco", "P17", "(none)", "wd:Q1028"),
    Difference("wd:Q7903 = kg:place-casablanca", "P625", "Point(-7.62 33.59917)", "Point(-7.5 33.5)"),
]


def test_the_shipped_refreshed_file_is_empty(dataset):
    assert len(parse_file(ROOT / "data" / "wikidata-refreshed.ttl")) == 0
    assert len(dataset.graph(GRAPH["wikidata-refreshed"])) == 0


def test_refresh_writes_what_wikidata_says_with_truthful_references(dataset, wikidata_api, tmp_path):
    path = tmp_path / "refreshed.ttl"
    report = refresh(dataset, WikidataApi(wikidata_api.url, sleep=pytest.fail), path, READ_AT)
    assert (report.items, report.statements) == (6, 7)
    assert report.differences == SHIPPED_DIFFERENCES
    [(params, _)] = wikidata_api.requests
    assert params["ids"] == "Q20|Q35|Q1028|Q7903|Q101625|Q2429253"
    assert (params["props"], params["languages"]) == ("labels|claims", "en|fr")

    graph = parse_file(path)
    # best rank only in the truthy values: the preferred coordinates, not the normal ones; deprecated P17 left out
    assert set(graph.objects(WD.Q101625, WDT.P625)) == {Literal("Point(-7.9811 31.6295)", datatype=GEO.wktLiteral)}
    assert set(graph.objects(WD.Q101625, WDT.P17)) == {WD.Q1028}
    assert len(list(graph.subjects(PR.P854, None))) == 3
    for statement in graph.subjects(RDF.type, WIKIBASE.Statement):
        [reference] = graph.objects(statement, PROV.wasDerivedFrom)
        [url] = graph.objects(reference, PR.P854)
        subject = next(s for s, p, o in graph.triples((None, None, statement)))
        assert url == URIRef("https://www.wikidata.org/wiki/" + str(subject).rsplit("/", 1)[1])
        assert list(graph.objects(reference, PR.P813)) == [Literal("2026-11-30T00:00:00Z", datatype=XSD.dateTime)]
        assert not list(graph.objects(reference, PR.P248))
    assert not [p for p in graph.predicates() if str(p).endswith("P856")], "properties outside the model are skipped"


@pytest.fixture
def project(tmp_path):
    """The shipped data with one accepted link to a fictional test-only item (Q900000000201 of refresh.json)."""
    accepted = "kg:event-2018-imlil-murders skos:exactMatch wd:Q900000000201 .\n"
    return copy_project(tmp_path, **{"wikidata-accepted": accepted})


def test_refreshed_values_go_to_their_own_graph_and_leave_the_curated_ones(project, wikidata_api):
    path = project / "data" / "wikidata-refreshed.ttl"
    curated = (project / "data" / "wikidata-model.ttl").read_bytes()
    report = refresh(kg.load(project), WikidataApi(wikidata_api.url), path, READ_AT)
    assert (project / "data" / "wikidata-model.ttl").read_bytes() == curated
    assert [d for d in report.differences if "Q900000000201" in d.entity] == [
        Difference("wd:Q900000000201 = kg:event-2018-imlil-murders", "label@en", "2018 Imlil murders",
                   "fictional attack (test only)"),
        Difference("wd:Q900000000201 = kg:event-2018-imlil-murders", "P131", "kg:place-al-haouz-province", "(none)"),
        Difference("wd:Q900000000201 = kg:event-2018-imlil-murders", "P276", "kg:place-imlil", "(none)"),
        Difference("wd:Q900000000201 = kg:event-2018-imlil-murders", "P585", "(none)", "2018-01-01"),
        Difference("wd:Q900000000201 = kg:event-2018-imlil-murders", "P1120", "2", "3"),
    ]
    dataset = kg.load(project)
    refreshed, model = dataset.graph(GRAPH["wikidata-refreshed"]), dataset.graph(GRAPH["wikidata-model"])
    item = WD.Q900000000201
    assert set(refreshed.objects(item, WDT.P1120)) == {Literal("3", datatype=XSD.decimal)}
    assert set(refreshed.objects(item, WDT.P585)) == {Literal("2018-01-01T00:00:00Z", datatype=XSD.dateTime)}
    assert set(model.objects(URIRef("https://w3id.org/morocco-ct-kg/id/event-2018-imlil-murders"), WDT.P1120)) == {
        Literal("2", datatype=XSD.decimal)}
    assert not set(refreshed.subjects(RDF.type, WIKIBASE.Statement)) & set(model.subjects(RDF.type,
                                                                                           WIKIBASE.Statement))


def test_a_rate_limit_is_waited_for(dataset, wikidata_api, tmp_path):
    wikidata_api.script = [(429, {"Retry-After": "2"}, b"")]
    slept: list[float] = []
    report = refresh(dataset, WikidataApi(wikidata_api.url, sleep=slept.append), tmp_path / "r.ttl", READ_AT)
    assert slept == [2.0]
    assert report.differences == SHIPPED_DIFFERENCES


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ([(200, {}, json.dumps({"error": {"code": "no-such-entity", "info": "Could not find an entity"}}).encode())],
         r": API error no-such-entity: Could not find an entity$"),
        ([(429, {"Retry-After": "1"}, b"")] * 2, r": HTTP 429 to wbgetentities; gave up after 2 attempts$"),
        ([(200, {}, b'{"success": 1}')], r": unexpected answer to wbgetentities: no entities$"),
    ],
)
def test_a_failed_fetch_leaves_the_previous_file(dataset, wikidata_api, tmp_path, script, message):
    path = tmp_path / "refreshed.ttl"
    path.write_text("# the previous refresh\n", encoding="utf-8")
    wikidata_api.script = list(script)
    with pytest.raises(KGError, match=rf"^{wikidata_api.url}{message}"):
        refresh(dataset, WikidataApi(wikidata_api.url, max_retries=1, sleep=lambda s: None), path, READ_AT)
    assert path.read_text(encoding="utf-8") == "# the previous refresh\n"
    assert [p.name for p in tmp_path.iterdir()] == ["refreshed.ttl"]


def test_cli_refresh_prints_the_differences_and_replaces_the_file(wikidata_api, tmp_path):
    path = tmp_path / "refreshed.ttl"
    path.write_text("# the previous refresh\n", encoding="utf-8")
    args = ["link", "--online", "--refresh", "--api-url", wikidata_api.url, "--refreshed", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"6 linked items read from Wikidata; 7 statements written to {path}",
        "4 differences from the curated values, for review:",
        *table(SHIPPED_DIFFERENCES),
    ]
    assert len(parse_file(path)) == 83  # 77 + a wikibase:BestRank type on each of the 6 best-rank statements

    wikidata_api.script = [(503, {}, b"")]
    failed = CliRunner().invoke(main, [*args, "--max-retries", "0"])
    assert failed.exit_code == 1
    assert failed.output == f"Error: {wikidata_api.url}: HTTP 503 to wbgetentities; gave up after 1 attempt\n"
    assert len(parse_file(path)) == 83  # the previous refresh is kept


def test_cli_refresh_needs_online(tmp_path):
    result = CliRunner().invoke(main, ["link", "--refresh", "--refreshed", str(tmp_path / "r.ttl")])
    assert result.exit_code == 2
    assert "--refresh reads from Wikidata: give --online" in result.output
    assert not (tmp_path / "r.ttl").exists()
