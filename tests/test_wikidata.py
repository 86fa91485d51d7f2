"""Wikidata links and enrichment in Wikidata's model: verified ids only, real provenance, WDQS queries run here."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_project
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

import kg
from kg.cli import main
from kg.namespaces import GRAPH, KG, PR, PROV, WD, WDT, WIKIBASE
from kg.queries import named_queries
from kg.wikidata import VERIFIED_ITEMS, VERIFIED_PROPERTIES, links, quickstatements

HERE = Path(__file__).parent
ROOT = HERE.parent
FIXTURES = HERE / "fixtures" / "wikidata"
ID = re.compile(r"(?<![\w/-])(?:wd:|wdt:|p:|ps:|pq:|pr:|entity/|direct/|prop/|statement/|qualifier/|reference/)?"
                r"\b([QP][1-9][0-9]*)\b")

FICTIONAL = re.compile(r"[QP]900000000[0-9]{3}")


def shipped_files() -> list[Path]:
    files = [*ROOT.glob("data/*.ttl"), *ROOT.glob("queries/*.rq"), *ROOT.glob("docs/*.md"), ROOT / "README.md",
             *ROOT.glob("src/kg/**/*.py"), *ROOT.glob("ontology/*.ttl")]
    assert len(files) > 10
    return files


def test_only_verified_wikidata_ids_appear_in_the_project():
    verified = set(VERIFIED_ITEMS) | set(VERIFIED_PROPERTIES)
    found: dict[str, set[str]] = {}
    for path in shipped_files():
        for match in ID.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(1), set()).add(path.name)
    # the test fixtures' fictional ids (tests/fixtures/wikidata/README.md) may be shown in the docs, nowhere else
    fictional = {i: where for i, where in found.items() if FICTIONAL.fullmatch(i)}
    assert all(where == {"wikidata.md"} for where in fictional.values()), fictional
    unverified = {i: sorted(where) for i, where in found.items() if i not in verified and i not in fictional}
    assert unverified == {}
    assert {"Q1028", "Q2223653", "P1120", "P276"} <= set(found)


def test_verified_links_use_skos_exact_match(dataset):
    assert {k.removeprefix(str(KG)): v for k, v in links(dataset).items()} == {
        "place-morocco": "Q1028", "place-casablanca": "Q7903", "place-marrakesh": "Q101625",
        "org-islamic-state": "Q2429253", "place-denmark": "Q35", "place-norway": "Q20",
    }
    assert not list(dataset.triples((None, URIRef("http://www.w3.org/2002/07/owl#sameAs"), None)))


def test_wdqs_query_gives_the_expected_rows(dataset):
    query = named_queries()["wikidata-attacks-deaths"]
    assert query.title and query.description and query.question
    rows = [tuple(row) for row in kg.query(dataset, query.text)]
    when = lambda text: Literal(text, datatype=XSD.dateTime)  # noqa: E731
    deaths = lambda n: Literal(Decimal(n), datatype=XSD.decimal)  # noqa: E731
    assert rows == [
        (KG["event-2003-casablanca-bombings"], when("2003-05-16T00:00:00Z"), deaths(45), WD.Q7903,
         Literal("Casablanca", lang="en")),
        (KG["event-2011-marrakesh-bombing"], when("2011-04-28T00:00:00Z"), deaths(17), WD.Q101625,
         Literal("Marrakesh", lang="en")),
        (KG["event-2018-imlil-murders"], when("2018-12-16T00:00:00Z"), deaths(2), KG["place-imlil"],
         Literal("Imlil", lang="en")),
    ]


def test_every_truthy_value_has_a_full_statement_with_a_real_reference(dataset):
    model = dataset.graph(GRAPH["wikidata-model"])
    truthy = [(s, p, o) for s, p, o in model if str(p).startswith(str(WDT))]
    assert len(truthy) == 36
    assert len(set(model.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), WIKIBASE.Statement))) == 36
    for s, p, o in truthy:
        pid = str(p).removeprefix(str(WDT))
        statements = [st for st in model.objects(s, URIRef(f"http://www.wikidata.org/prop/{pid}"))
                      if (st, URIRef(f"http://www.wikidata.org/prop/statement/{pid}"), o) in model]
        assert len(statements) == 1, (s, p, o)
        assert (statements[0], URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), WIKIBASE.Statement) in model
        references = list(model.objects(statements[0], PROV.wasDerivedFrom))
        assert references, (s, p, o)
        for reference in references:
            urls = list(model.objects(reference, PR.P854))
            stated_in = list(model.objects(reference, PR.P248))
            assert urls or stated_in, reference
            assert all(str(u).startswith("https://en.wikipedia.org/wiki/") for u in urls)
            assert set(stated_in) <= {KG["doc-mwn-article"], KG["source-reference-facts"]}


def test_nothing_is_presented_as_read_from_wikidata(dataset):
    model = dataset.graph(GRAPH["wikidata-model"])
    assert not [o for o in model.objects(None, PR.P854) if "wikidata.org" in str(o)]
    description = str(model.value(GRAPH["wikidata-model"], URIRef("http://purl.org/dc/terms/description")))
    assert "not read from Wikidata" in description


def test_quickstatements_of_the_shipped_graph_lists_and_writes_nothing_unverified(dataset):
    text = quickstatements(dataset, date(2026, 11, 29))
    assert text == (FIXTURES / "quickstatements-shipped.txt").read_text(encoding="utf-8")
    assert not [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.fixture
def linked_project(tmp_path):
    """The shipped data plus an accepted link and a property for cell counts, both fictional (test-only ids)."""
    return copy_project(tmp_path, **{
        "wikidata-accepted": "kg:event-2011-marrakesh-bombing skos:exactMatch wd:Q900000000003 .\n",
        "wikidata": "ct:CellDismantling ct:wikidataProperty wd:P900000000001 .\n",
    })


def test_quickstatements_commands_carry_period_qualifiers_and_references(linked_project):
    text = quickstatements(kg.load(linked_project), date(2026, 11, 29))
    refs = 'S854\t"https://www.moroccoworldnews.com"\tS577\t+2020-11-00T00:00:00Z/10\tS813\t+2026-11-29T00:00:00Z/11'
    assert [line for line in text.splitlines() if line and not line.startswith("#")] == [
        f"Q1028\tP900000000001\t32\tP580\t+2017-11-00T00:00:00Z/10\tP582\t+2020-11-00T00:00:00Z/10\t{refs}",
        f"Q1028\tP900000000001\t207\tP580\t+2002-00-00T00:00:00Z/9\tP582\t+2020-11-00T00:00:00Z/10\t{refs}",
        f"Q900000000003\tP17\tQ1028\t{refs}",
        f"Q900000000003\tP276\tQ101625\t{refs}",
        f"Q900000000003\tP31\tQ2223653\t{refs}",
    ]
    assert "# kg:event-2018-imlil-murders: P276 kg:place-imlil: kg:event-2018-imlil-murders has no verified or " \
           "accepted Wikidata id" in text.splitlines()


def test_cli_export_quickstatements(tmp_path):
    out = tmp_path / "figures.qs"
    result = CliRunner().invoke(main, ["export", "--format", "quickstatements", "--retrieved", "2026-11-29",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == (FIXTURES / "quickstatements-shipped.txt").read_text(encoding="utf-8")
    bad = CliRunner().invoke(main, ["export", "--format", "qs", "--retrieved", "29/11/2026"])
    assert bad.exit_code == 2
