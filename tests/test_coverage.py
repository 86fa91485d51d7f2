"""The statement coverage table (docs/coverage.md) against the graph and the article text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import URIRef

from kg.namespaces import CT, KG, OA

COVERAGE = Path(__file__).parent.parent / "docs" / "coverage.md"
ROW = re.compile(r"^\| (S\d+) \| (\d+)-(\d+) \| [^|]+ \| [^|]+ \| ([^|]+) \| ([^|]+) \|$")
SENTENCE_END = re.compile(r"[.!?][”\"]?(?=\s+[A-Z“\"])")


@dataclass(frozen=True)
class Row:
    sentence: str
    start: int
    end: int
    claims: tuple[URIRef, ...]
    nodes: tuple[URIRef, ...]


def iris(cell: str) -> tuple[URIRef, ...]:
    names = re.findall(r"`([^`]*)`", cell)
    assert all(n.startswith("kg:") for n in names), f"not a kg: name in {cell!r}"
    return tuple(KG[n.removeprefix("kg:")] for n in names)


def table() -> list[Row]:
    rows = []
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            sentence, start, end, claims, nodes = match.groups()
            rows.append(Row(sentence, int(start), int(end), iris(claims), iris(nodes)))
    return rows


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: split at line breaks, then after sentence-final punctuation followed by a new sentence."""
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for end in [m.end() + line.start() for m in SENTENCE_END.finditer(line.group())] + [line.end()]:
            while text[start] == " ":
                start += 1
            spans.append((start, end))
            start = end
    return spans


def evidence_spans(dataset, claim) -> list[tuple[int, int, str]]:
    spans = []
    for evidence in dataset.objects(claim, CT.evidence):
        for selector in dataset.objects(evidence, OA.hasSelector):
            spans.append(
                (
                    int(dataset.value(selector, OA.start)),
                    int(dataset.value(selector, OA.end)),
                    str(dataset.value(selector, OA.exact)),
                )
            )
    return spans


ROWS = table()


def test_table_was_read():
    assert len(ROWS) >= 15


def test_every_sentence_of_the_article_has_a_row(article_text):
    assert [(r.start, r.end) for r in ROWS] == sentences(article_text)


@pytest.mark.parametrize("row", [r for r in ROWS if r.claims], ids=lambda r: r.sentence)
def test_row_claims_have_evidence_in_the_sentence(dataset, row):
    for claim in row.claims:
        spans = evidence_spans(dataset, claim)
        assert spans, f"{claim} has no evidence"
        assert any(row.start <= s and e <= row.end for s, e, _ in spans), f"{claim} has no evidence in {row.sentence}"
    for node in row.nodes:
        assert (node, None, None) in dataset, f"{node} is not in the graph"


def test_boilerplate_rows_name_nothing():
    assert all(not r.nodes for r in ROWS if not r.claims)


def test_every_claim_of_the_graph_is_in_the_table(dataset):
    claims = {c for r in ROWS for c in r.claims}
    in_graph = set(dataset.subjects(CT.reportedIn, KG["doc-mwn-article"]))
    assert in_graph - claims == set()


def test_every_evidence_quote_is_at_its_offsets(dataset, article_text):
    selectors = list(dataset.subjects(OA.exact, None))
    assert len(selectors) >= 30
    for selector in selectors:
        quote = str(dataset.value(selector, OA.exact))
        start, end = int(dataset.value(selector, OA.start)), int(dataset.value(selector, OA.end))
        assert article_text[start:end] == quote, f"{selector}: {quote!r} is not at {start}-{end}"
        assert len(quote.split()) <= 12, f"{selector} quotes more than 12 words"


def test_every_quote_has_the_prefix_and_suffix_kg_locate_computes(dataset, article_text):
    """oa:prefix/oa:suffix are computed by kg.locate from the article, never typed: each quote is then unique."""
    from kg.locate import at

    selectors = list(dataset.subjects(OA.exact, None))
    assert len(selectors) >= 30
    for selector in selectors:
        start, end = int(dataset.value(selector, OA.start)), int(dataset.value(selector, OA.end))
        expected = at(article_text, start, end)
        prefix, suffix = str(dataset.value(selector, OA.prefix)), str(dataset.value(selector, OA.suffix))
        assert (prefix, suffix) == (expected.prefix, expected.suffix), selector
        assert article_text.count(prefix + expected.exact + suffix) == 1, f"{selector} is ambiguous"
