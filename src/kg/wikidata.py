"""Wikidata: the verified ids, the entities linked and still to link, and QuickStatements for curators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rdflib import Dataset, Literal, URIRef

from kg.errors import KGError
from kg.namespaces import CT, KG, WD, compact
from kg.query import run

# The only Wikidata ids the project may write: verified by the curators in several independent public files
# (../shared/seed/reference-facts.md). An id outside these tables reaches the data only through `kg link` review.
VERIFIED_ITEMS: dict[str, str] = {
    "Q1028": "Morocco",
    "Q7903": "Casablanca",
    "Q101625": "Marrakesh",
    "Q2429253": "Islamic State",
    "Q35": "Denmark",
    "Q20": "Norway",
    "Q2223653": "terrorist attack",
    "Q217327": "suicide attack",
    "Q132821": "murder",
    "Q83267": "crime",
}
VERIFIED_PROPERTIES: dict[str, str] = {
    "P31": "instance of",
    "P17": "country",
    "P276": "location",
    "P131": "located in the administrative territorial entity",
    "P585": "point in time",
    "P580": "start time",
    "P582": "end time",
    "P1120": "number of deaths",
    "P1339": "number of injured",
    "P8031": "perpetrator",
    "P8032": "victim",
    "P710": "participant",
    "P571": "inception",
    "P749": "parent organization",
    "P159": "headquarters location",
    "P112": "founded by",
    "P625": "coordinate location",
    "P856": "official website",
    "P973": "described at URL",
    "P1448": "official name",
    "P1813": "short name",
    "P1476": "title",
    "P577": "publication date",
    "P123": "publisher",
    "P50": "author",
    "P921": "main subject",
    "P1343": "described by source",
    "P854": "reference URL",
    "P813": "retrieved",
    "P248": "stated in",
    "P407": "language of work",
}
ITEM_ID = re.compile(r"Q[1-9][0-9]*")
PROPERTY_ID = re.compile(r"P[1-9][0-9]*")
# Properties whose values tell a linker when something happened or began.
DATE_PROPERTIES = ("P585", "P580", "P571")


class WikidataError(KGError):
    """A Wikidata id or value that cannot be written or read."""


def item_id(iri: URIRef | str) -> str | None:
    """The Q-id of a wd: entity IRI, or None for any other IRI."""
    text = str(iri)
    if text.startswith(str(WD)) and ITEM_ID.fullmatch(text[len(WD):]):
        return text[len(WD):]
    return None


def links(dataset: Dataset) -> dict[str, str]:
    """Every entity linked to a Wikidata item (verified in wikidata.ttl or accepted in review): IRI -> Q-id."""
    rows = run(dataset, "SELECT ?e ?w WHERE { ?e skos:exactMatch ?w . FILTER(STRSTARTS(STR(?w), STR(wd:))) }")
    return {str(e): qid for e, w in rows if (qid := item_id(w)) is not None and str(e).startswith(str(KG))}


@dataclass(frozen=True)
class Candidate:
    """An entity to link, with what a linker compares: labels, classes, country, dates, Wikipedia title."""

    iri: str
    labels: tuple[tuple[str, str], ...]  # (text, language tag or ""): preferred labels first, English first
    classes: tuple[str, ...]  # expected Wikidata classes (Q-ids)
    countries: tuple[str, ...]  # Q-ids
    dates: tuple[str, ...]  # ISO dates or years
    enwiki: str | None

    @property
    def label(self) -> str:
        english = [text for text, lang in self.labels if lang == "en"]
        return (english or [text for text, _ in self.labels] or [compact(self.iri)])[0]


CANDIDATE_QUERY = """
SELECT ?c ?kind ?value WHERE {
  ?c ct:wikidataCandidate true .
  {
    ?c skos:prefLabel ?value . BIND("pref" AS ?kind)
  } UNION {
    ?c rdfs:label|skos:altLabel|schema:name ?value . BIND("label" AS ?kind)
  } UNION {
    ?c ct:expectedWikidataClass ?value . BIND("class" AS ?kind)
  } UNION {
    ?c wdt:P17 ?value . BIND("country" AS ?kind)
  } UNION {
    ?c wdt:P585|wdt:P580|wdt:P571|schema:startDate|schema:foundingDate ?value . BIND("date" AS ?kind)
  } UNION {
    ?c ct:enwikiTitle ?value . BIND("enwiki" AS ?kind)
  }
}
"""


def candidates(dataset: Dataset) -> list[Candidate]:
    """The entities marked ct:wikidataCandidate that no link (verified or accepted) covers yet, by IRI."""
    linked = links(dataset)
    found: dict[str, dict[str, list]] = {}
    for c, kind, value in run(dataset, CANDIDATE_QUERY):
        if str(c) in linked:
            continue
        entry = found.setdefault(str(c), {k: [] for k in ("pref", "label", "class", "country", "date", "enwiki")})
        if kind.value in ("pref", "label"):
            pair = (str(value), value.language or "")
            if pair not in entry[kind.value]:
                entry[kind.value].append(pair)
        elif kind.value in ("class", "country"):
            if (qid := item_id(value)) is not None:
                entry[kind.value].append(qid)
        elif kind.value == "date":
            entry["date"].append(_iso_date(value))
        else:
            entry["enwiki"].append(str(value))
    return [
        Candidate(
            iri=iri,
            labels=_ordered(e["pref"]) + _ordered([pair for pair in e["label"] if pair not in e["pref"]]),
            classes=tuple(sorted(set(e["class"]))),
            countries=tuple(sorted(set(e["country"]))),
            dates=tuple(sorted(set(e["date"]))),
            enwiki=min(e["enwiki"]) if e["enwiki"] else None,
        )
        for iri, e in sorted(found.items())
    ]


def _ordered(labels: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """English first, then by language and text."""
    return tuple(sorted(labels, key=lambda pair: (pair[1] != "en", pair[1], pair[0])))


def _iso_date(value: Literal) -> str:
    """2003-05-16 for a date or dateTime, 2006 for a year; Wikidata's 1 January stands for a year-precision date."""
    text = str(value)[:10]
    return text[:4] if text.endswith("-01-01") and str(value).startswith(text + "T") else text


# QuickStatements ----------------------------------------------------------------------------------------------

PUBLISHER_URL = "https://www.moroccoworldnews.com"

FIGURES_QUERY = """
SELECT ?claim ?about ?kind ?value ?valueKind ?periodLabel ?startYear ?startMonth ?endYear ?endMonth ?property
WHERE {
  ?claim a ct:CountClaim ; schema:about ?about ; ct:counts ?kind ; ct:valueKind ?valueKind ;
    ct:reportedIn/schema:publisher/schema:url ?publisher .
  OPTIONAL { ?claim schema:value ?value }
  OPTIONAL {
    ?claim ct:period ?period .
    ?period rdfs:label ?periodLabel .
    OPTIONAL { ?period time:hasBeginning/time:inXSDgYear ?startYear }
    OPTIONAL { ?period time:hasBeginning/time:inXSDgYearMonth ?startMonth }
    OPTIONAL { ?period time:hasEnd/time:inXSDgYear ?endYear }
    OPTIONAL { ?period time:hasEnd/time:inXSDgYearMonth ?endMonth }
  }
  OPTIONAL { ?kind ct:wikidataProperty ?property }
}
ORDER BY ?claim
"""

ARTICLE_STATEMENTS_QUERY = """
SELECT ?subject ?property ?value WHERE {
  ?subject ?p ?statement .
  ?statement a wikibase:Statement ; prov:wasDerivedFrom/pr:P248 kg:doc-mwn-article ; ?ps ?value .
  FILTER(STRSTARTS(STR(?p), STR(p:)) && STRSTARTS(STR(?ps), STR(ps:)))
  BIND(STRAFTER(STR(?p), STR(p:)) AS ?property)
  FILTER(STRAFTER(STR(?ps), STR(ps:)) = ?property)
}
ORDER BY ?subject ?property ?value
"""

ARTICLE_QUERY = """
SELECT ?title ?published WHERE { kg:doc-mwn-article rdfs:label ?title ; schema:datePublished ?published }
"""


def _qs_time(year: Literal | None, month: Literal | None) -> str | None:
    """+2002-00-00T00:00:00Z/9 for a year, +2020-11-00T00:00:00Z/10 for a month (QuickStatements V1 syntax)."""
    if month is not None:
        return f"+{str(month)[:7]}-00T00:00:00Z/10"
    if year is not None:
        return f"+{str(year)[:4]}-00-00T00:00:00Z/9"
    return None


def quickstatements(dataset: Dataset, retrieved: date) -> str:
    """QuickStatements (V1) for a curator: the article's figures and facts that belong on linked Wikidata items.

    Written: exact counts about a linked item whose counted kind names a Wikidata property (ct:wikidataProperty),
    with the period as start/end time qualifiers, and the article's statements (wikidata-model.ttl statements
    referenced by the article) on linked items. Every command carries the references S854 (the publisher's site:
    the article's own URL is not known), S577 (the article's date, month precision) and S813 (`retrieved`).
    Everything else (no verified or accepted id, no property, a bound rather than an exact value) is listed in
    comments, not written.
    """
    linked = links(dataset)
    article = list(run(dataset, ARTICLE_QUERY))
    if not article:
        raise WikidataError("the article (kg:doc-mwn-article) has no title and date to cite")
    title, published = article[0]
    references = [
        "S854", f'"{PUBLISHER_URL}"',
        "S577", f"+{str(published)[:7]}-00T00:00:00Z/10",
        "S813", f"+{retrieved.isoformat()}T00:00:00Z/11",
    ]
    commands: list[str] = []
    skipped: list[str] = []

    def item_of(iri) -> str | None:
        return item_id(iri) or linked.get(str(iri))

    for row in run(dataset, FIGURES_QUERY):
        claim, about, kind, value, value_kind = row[:5]
        period_label, start_year, start_month, end_year, end_month, prop = row[5:]
        item = item_of(about)
        amount = str(value) if value is not None else "a range"
        what = f"{compact(claim)}: {amount} {compact(kind)}"
        what += f" ({period_label})" if period_label is not None else ""
        what += f" about {compact(about)}" + (f" = {item}" if item else "")
        if item is None:
            skipped.append(f"{what}: {compact(about)} has no verified or accepted Wikidata id")
        elif value is None or value_kind != CT.Exact:
            skipped.append(f"{what}: not an exact value ({compact(value_kind)})")
        elif prop is None or (pid := _property_id(prop)) is None:
            skipped.append(f"{what}: no Wikidata property (ct:wikidataProperty) for {compact(kind)}")
        else:
            qualifiers = []
            if (start := _qs_time(start_year, start_month)) is not None:
                qualifiers += ["P580", start]
            if (end := _qs_time(end_year, end_month)) is not None:
                qualifiers += ["P582", end]
            commands.append("\t".join([item, pid, str(value), *qualifiers, *references]))

    for subject, prop, value in run(dataset, ARTICLE_STATEMENTS_QUERY):
        item = item_of(subject)
        target = item_id(value) if isinstance(value, URIRef) else None
        what = f"{compact(subject)}: {prop} {compact(value)}"
        if item is None:
            skipped.append(f"{what}: {compact(subject)} has no verified or accepted Wikidata id")
        elif target is None:
            skipped.append(f"{what}: the value has no verified or accepted Wikidata id")
        else:
            commands.append("\t".join([item, str(prop), target, *references]))

    header = [
        "# QuickStatements (V1 format) for a curator to review before submitting; nothing here is submitted.",
        f"# Source: {title}, Morocco World News, {str(published)[:7]} (date inferred).",
        "# References: S854 the publisher's site (the article's own URL is not known), S577 the article's month,",
        "# S813 the day the curator retrieved it.",
    ]
    lines = header + [""] + (commands or ["# No command: no figure or fact has both a linked item and a property."])
    if skipped:
        lines += ["", "# Not written (no verified or accepted id, no property, or not an exact value):"]
        lines += [f"# {entry}" for entry in skipped]
    return "\n".join(lines) + "\n"


def _property_id(iri) -> str | None:
    text = str(iri)
    if text.startswith(str(WD)) and PROPERTY_ID.fullmatch(text[len(WD):]):
        return text[len(WD):]
    return None
