"""The reconciler (`kg link`): proposals from a test dump and from a local stand-in for the Wikidata API."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_project

import kg
from kg.cli import main
from kg.linker import (
    USER_AGENT,
    Entity,
    LinkError,
    WikidataApi,
    link,
    normalize,
    online_entities,
    read_dump,
    read_review,
)
from kg.namespaces import GRAPH, KG, SKOS, WD
from kg.wikidata import candidates

HERE = Path(__file__).parent
ROOT = HERE.parent
DUMP = HERE / "fixtures" / "wikidata" / "dump.json"

# The review file a first run writes from the test dump (fictional ids, see tests/fixtures/wikidata/README.md).
HEADER = "candidate\tcandidate_label\tproposed\tproposed_label\tscore\treasons\tdecision"
ROWS = [
    "kg:event-2003-casablanca-bombings\t2003 Casablanca bombings\tQ900000000001\t2003 Casablanca bombings\t100\t"
    "+50 English Wikipedia title '2003 Casablanca bombings'; "
    "+30 label '2003 Casablanca bombings'@en matches '2003 Casablanca bombings'; "
    "+15 type: instance of Q2223653 (terrorist attack); +10 country Q1028 (Morocco); +15 date 2003-05-16\tcandidate",
    "kg:event-2011-marrakesh-bombing\t2011 Marrakesh bombing\tQ900000000003\tArgana café bombing\t100\t"
    "+50 English Wikipedia title '2011 Marrakesh bombing'; "
    "+20 alias '2011 Marrakesh bombing'@en matches '2011 Marrakesh bombing'; "
    "+15 type: instance of Q2223653 (terrorist attack); +10 country Q1028 (Morocco); +15 date 2011-04-28\tcandidate",
    "kg:org-dgst\tGeneral Directorate of Territorial Surveillance\tQ900000000004\t"
    "General Directorate for Territorial Surveillance\t55\t"
    "+30 label 'General Directorate for Territorial Surveillance'@en matches "
    "'General Directorate for Territorial Surveillance'; +10 country Q1028 (Morocco); "
    "+15 date 1973-01-12\tcandidate",
    "kg:place-imlil\tImlil\tQ900000000006\tImlil\t40\t+30 label 'Imlil'@en matches 'Imlil'; "
    "+10 country Q1028 (Morocco)\tcandidate",
]


@pytest.fixture
def project(tmp_path):
    """A copy of the ontology and data in tmp_path, so a run may write its review and accepted files there."""
    return copy_project(tmp_path)


def dump_source(path):
    return lambda found: read_dump(path)


def test_candidates_carry_what_a_linker_needs(dataset):
    found = {c.iri.removeprefix(str(KG)): c for c in candidates(dataset)}
    assert sorted(found) == [
        "event-2003-casablanca-bombings", "event-2011-marrakesh-bombing", "event-2018-imlil-murders",
        "org-dgapr", "org-dgst", "org-mohammadia-league-of-ulemas", "org-morocco-world-news",
        "place-imlil", "place-jemaa-el-fnaa",
    ]
    imlil = found["event-2018-imlil-murders"]
    assert imlil.classes == ("Q132821", "Q2223653")
    assert imlil.countries == ("Q1028",)
    assert imlil.dates == ("2018-12-16",)
    assert imlil.enwiki is None, "the article's title names private persons"
    assert found["org-dgst"].labels == (
        ("General Directorate of Territorial Surveillance", "en"),
        ("General Directorate for Territorial Surveillance", "en"),
        ("DGST", ""),
        ("Direction générale de la surveillance du territoire", "fr"),
    )
    assert found["org-mohammadia-league-of-ulemas"].dates == ("2006",)


def test_normalize_ignores_case_accents_and_punctuation():
    assert normalize("Jemaa el-Fnaa") == normalize("JEMAA_EL_FNAA") == "jemaa el fnaa"
    assert normalize("Direction générale") == "direction generale"


def test_entity_reads_wikidata_json_and_skips_deprecated_statements():
    statement = {"rank": "deprecated", "mainsnak": {"snaktype": "value", "datavalue": {"value": {"id": "Q35"}}}}
    entity = Entity.from_json({"id": "Q900000000999", "claims": {"P17": [statement]},
                               "labels": {"fr": {"language": "fr", "value": "x"}}})
    assert entity.countries == ()
    assert entity.label == "x"


@pytest.mark.parametrize("compress", [None, gzip.open, bz2.open])
def test_dump_proposals_plain_gzip_and_bzip2(dataset, tmp_path, compress):
    path = DUMP
    if compress is not None:
        path = tmp_path / ("dump.json.gz" if compress is gzip.open else "dump.json.bz2")
        with compress(path, "wb") as handle:
            handle.write(DUMP.read_bytes())
    report = link(dataset, dump_source(path), tmp_path / "review.tsv", tmp_path / "accepted.ttl")
    assert (tmp_path / "review.tsv").read_text(encoding="utf-8").splitlines() == [HEADER, *ROWS]
    assert (report.candidates, report.proposals, report.new, report.accepted, report.rejected) == (9, 4, 4, 0, 0)
    assert "skos:exactMatch" not in (tmp_path / "accepted.ttl").read_text(encoding="utf-8")


def test_a_malformed_dump_line_is_reported_with_its_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[\n{"id": "Q900000000001", "labels": {}},\n{"id": "Q9000\n]\n', encoding="utf-8")
    with pytest.raises(LinkError, match=rf"^{bad}:3: not a Wikidata JSON entity \(JSONDecodeError\)$"):
        list(read_dump(bad))
    with pytest.raises(LinkError, match=r"cannot read the dump"):
        list(read_dump(tmp_path / "missing.json.gz"))


def test_review_decisions_survive_a_second_run_and_only_accepted_links_enter_the_data(project):
    review, accepted = project / "data" / "wikidata-review.tsv", project / "data" / "wikidata-accepted.ttl"
    link(kg.load(project), dump_source(DUMP), review, accepted)
    text = review.read_text(encoding="utf-8")
    text = text.replace("2003-05-16\tcandidate", "2003-05-16\taccepted")
    text = text.replace("(Morocco)\tcandidate", "(Morocco)\trejected")  # the Imlil proposal
    review.write_text(text, encoding="utf-8")

    report = link(kg.load(project), dump_source(DUMP), review, accepted)
    assert (report.accepted, report.rejected, report.new) == (1, 1, 0)
    decisions = {(p.candidate.removeprefix(str(KG)), p.proposed): p.decision for p in read_review(review)}
    assert decisions == {
        ("event-2003-casablanca-bombings", "Q900000000001"): "accepted",
        ("event-2011-marrakesh-bombing", "Q900000000003"): "candidate",
        ("org-dgst", "Q900000000004"): "candidate",
        ("place-imlil", "Q900000000006"): "rejected",
    }
    assert accepted.read_text(encoding="utf-8").splitlines()[-1] == (
        "kg:event-2003-casablanca-bombings skos:exactMatch wd:Q900000000001 ."
    )
    dataset = kg.load(project)
    links = set(dataset.graph(GRAPH.wikidata).subject_objects(SKOS.exactMatch))
    assert (KG["event-2003-casablanca-bombings"], WD.Q900000000001) in links
    assert not any(str(o).startswith(str(WD) + "Q9000000000") and s != KG["event-2003-casablanca-bombings"]
                   for s, o in links)
    # the linked candidate is no longer proposed; a third run still keeps every decision
    assert KG["event-2003-casablanca-bombings"] not in {c.iri for c in candidates(dataset)}
    link(dataset, dump_source(DUMP), review, accepted)
    assert {(p.candidate.removeprefix(str(KG)), p.proposed): p.decision for p in read_review(review)} == decisions


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("\tcandidate\n", "\tmaybe\n", 1),
         r"wikidata-review.tsv:2: decision must be candidate, accepted or rejected, not 'maybe'$"),
        (lambda t: t.replace("Q900000000001", "900000000001", 1),
         r"wikidata-review.tsv:2: '900000000001' is not a Wikidata item id \(Q followed by digits\)$"),
        (lambda t: t.replace("\tcandidate\n", "\taccepted\n", 1)
         + t.splitlines()[1].replace("Q900000000001", "Q900000000009").replace("\tcandidate", "\taccepted") + "\n",
         r"^kg:event-2003-casablanca-bombings has two accepted ids: Q900000000001 and Q900000000009$"),
        (lambda t: t.replace("kg:place-imlil", "kg:place-morocco")
         .replace("(Morocco)\tcandidate", "(Morocco)\taccepted"),
         r"^accepted link for kg:place-morocco, which is not a candidate to link$"),
    ],
)
def test_a_wrong_review_file_is_a_clear_error(project, edit, message):
    review, accepted = project / "data" / "wikidata-review.tsv", project / "data" / "wikidata-accepted.ttl"
    link(kg.load(project), dump_source(DUMP), review, accepted)
    review.write_text(edit(review.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(LinkError, match=message):
        link(kg.load(project), None, review, accepted)


# A local stand-in for the Wikidata action API -------------------------------------------------------------------


@pytest.fixture
def api(wikidata_api):
    return wikidata_api


def test_online_proposals_equal_the_dump_proposals(dataset, api, tmp_path):
    client = WikidataApi(api.url, sleep=pytest.fail)
    link(dataset, lambda found: online_entities(client, found), tmp_path / "review.tsv", tmp_path / "accepted.ttl")
    assert (tmp_path / "review.tsv").read_text(encoding="utf-8").splitlines() == [HEADER, *ROWS]
    assert {params["maxlag"] for params, _ in api.requests} == {"5"}
    assert {agent for _, agent in api.requests} == {USER_AGENT}
    assert {params["format"] for params, _ in api.requests} == {"json"}


def test_rate_limits_and_server_errors_are_retried_as_asked(dataset, api):
    maxlag = json.dumps({"error": {"code": "maxlag", "info": "Waiting for a database server: 3 seconds lagged",
                                   "lag": 3}}).encode()
    api.script = [(429, {"Retry-After": "2"}, b""), (200, {"Retry-After": "3"}, maxlag), (503, {}, b"")]
    slept: list[float] = []
    client = WikidataApi(api.url, sleep=slept.append)
    entities = client.entities(["Q900000000001"])
    assert [e.id for e in entities] == ["Q900000000001"]
    assert slept == [2.0, 3.0, 4.0]
    assert len(api.requests) == 4


@pytest.mark.parametrize(
    ("script", "message", "slept"),
    [
        ([(500, {}, b"")] * 4, r": HTTP 500 to wbgetentities; gave up after 4 attempts$", [1.0, 2.0, 4.0]),
        ([(429, {"Retry-After": "3600"}, b"")], r": HTTP 429 to wbgetentities; asked to wait 3600 s, "
         r"more than the 60 s allowed$", []),
        ([(200, {}, b"{not json")], r": malformed JSON in the answer to wbgetentities$", []),
        ([(200, {}, b"[]")], r": unexpected answer to wbgetentities: not a JSON object$", []),
        ([(200, {}, b'{"error": {"code": "badvalue", "info": "Bad value"}}')],
         r": API error badvalue: Bad value$", []),
        ([(404, {}, b"")], r": HTTP 404 Not Found to wbgetentities$", []),
    ],
)
def test_api_errors_are_bounded_and_clear(api, script, message, slept):
    api.script = list(script)
    waits: list[float] = []
    with pytest.raises(LinkError, match=rf"^{api.url}{message}"):
        WikidataApi(api.url, sleep=waits.append).entities(["Q900000000001"])
    assert waits == slept


def test_cli_link_from_a_dump_then_apply_only(tmp_path):
    review, accepted = tmp_path / "review.tsv", tmp_path / "accepted.ttl"
    args = ["--review", str(review), "--accepted", str(accepted)]
    result = CliRunner().invoke(main, ["link", "--dump", str(DUMP), *args])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "9 candidates without a link; 4 proposals (4 new); 0 accepted, 0 rejected",
        f"review file: {review}",
        f"accepted links: {accepted}",
    ]
    review.write_text(review.read_text(encoding="utf-8").replace("2003-05-16\tcandidate", "2003-05-16\taccepted"),
                      encoding="utf-8")
    applied = CliRunner().invoke(main, ["link", *args])
    assert applied.output.splitlines()[0] == "9 candidates without a link; 0 proposals (0 new); 1 accepted, 0 rejected"
    assert accepted.read_text(encoding="utf-8").endswith(
        "kg:event-2003-casablanca-bombings skos:exactMatch wd:Q900000000001 .\n")


def test_cli_link_online_errors_are_one_line(api, tmp_path):
    api.script = [(503, {}, b"")]
    args = ["--review", str(tmp_path / "r.tsv"), "--accepted", str(tmp_path / "a.ttl")]
    result = CliRunner().invoke(main, ["link", "--online", "--api-url", api.url, "--max-retries", "0", *args])
    assert result.exit_code == 1
    assert result.output == f"Error: {api.url}: HTTP 503 to wbgetentities; gave up after 1 attempt\n"
    closed = "http://127.0.0.1:9/w/api.php"
    result = CliRunner().invoke(main, ["link", "--online", "--api-url", closed, "--max-retries", "0", *args])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {closed}: cannot reach the API (")
    assert len(result.output.splitlines()) == 1
    both = CliRunner().invoke(main, ["link", "--online", "--dump", str(DUMP), *args])
    assert both.exit_code == 2
    assert "give --dump or --online, not both" in both.output

