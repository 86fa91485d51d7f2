"""Every claim as one row of a CSV table, for analysts who work in a spreadsheet: `kg export --format claims-csv`
and the download /export/claims.csv of the web UI.

Both run the same two SPARQL queries (the claims, then their quotes) and write the rows here, so the file is the same
whichever engine answers. IRIs are written as prefixed names (kg:, ct:); a claim quoted more than once has its quotes
in article order, joined by " | ", with their offsets in the same order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

from kg.namespaces import compact

COLUMNS = ("claim", "label", "type", "value", "min", "max", "unit", "value_kind", "attribution_kind", "modality",
           "frequency", "exhaustive", "original_wording", "period", "period_start", "period_end", "claimant",
           "reporter", "source_document", "source_date", "series", "rank", "quotes", "offsets")

PREFIXES = """PREFIX ct: <https://w3id.org/morocco-ct-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
PREFIX wikibase: <http://wikiba.se/ontology#>
"""

CLAIMS = PREFIXES + """SELECT ?claim ?label ?type ?value ?min ?max ?unit ?value_kind ?attribution_kind ?modality
       ?frequency ?exhaustive ?original_wording ?period ?period_start ?period_end ?claimant ?reporter
       ?source_document ?source_date ?series ?rank
WHERE {
  ?claim ct:attributionKind ?attribution_kind ; a ?type .
  FILTER(?type IN (ct:Claim, ct:CountClaim, ct:DurationClaim, ct:ShareClaim))
  OPTIONAL { ?claim rdfs:label ?label }
  OPTIONAL { ?claim schema:value ?figure
             OPTIONAL { ?figure schema:value ?amount ; schema:unitCode ?unit } }
  BIND(COALESCE(?amount, ?figure) AS ?value)
  OPTIONAL { ?claim schema:minValue ?min }
  OPTIONAL { ?claim schema:maxValue ?max }
  OPTIONAL { ?claim ct:valueKind ?value_kind }
  OPTIONAL { ?claim ct:modality ?modality }
  OPTIONAL { ?claim ct:frequency ?frequency }
  OPTIONAL { ?claim ct:exhaustive ?exhaustive }
  OPTIONAL { ?claim ct:originalWording ?original_wording }
  OPTIONAL { ?claim ct:period ?p . ?p ct:originalWording ?period ; schema:startDate ?period_start ;
                                      schema:endDate ?period_end }
  OPTIONAL { ?claim ct:claimedBy ?claimant }
  OPTIONAL { ?claim ct:reportedBy ?reporter }
  OPTIONAL { ?claim ct:statedIn ?source_document OPTIONAL { ?source_document schema:datePublished ?source_date } }
  OPTIONAL { ?claim ct:inSeries ?series }
  OPTIONAL { ?claim wikibase:rank ?rank }
}"""

# The sub-classes of ct:Claim a claim row names, most specific first (a count claim is not also written as a claim).
SPECIFIC = ("ct:CountClaim", "ct:DurationClaim", "ct:ShareClaim", "ct:Claim")

QUOTES = PREFIXES + """SELECT ?claim ?quote ?start ?end WHERE {
  ?claim ct:attributionKind ?kind ; ct:evidence/oa:hasSelector ?selector .
  ?selector oa:exact ?quote ; oa:start ?start ; oa:end ?end .
}"""


def _text(value: str, is_iri: bool) -> str:
    return compact(value) if is_iri else value


def rows(select: Callable[[str], Iterable[dict[str, tuple[str, bool]]]]) -> list[dict[str, str]]:
    """The table's rows, in claim order, from `select` (a query -> rows of variable -> (text, is an IRI))."""
    claims: dict[str, dict[str, str]] = {}
    for found in select(CLAIMS):
        claim = _text(*found["claim"])
        row = {name: _text(*found[name]) if name in found else "" for name in COLUMNS if name not in ("quotes",
                                                                                                       "offsets")}
        kept = claims.get(claim)
        if kept is None or SPECIFIC.index(row["type"]) < SPECIFIC.index(kept["type"]):
            claims[claim] = row
    quotes: dict[str, list[tuple[int, int, str]]] = {}
    for found in select(QUOTES):
        quotes.setdefault(_text(*found["claim"]), []).append(
            (int(found["start"][0]), int(found["end"][0]), found["quote"][0]))
    table = []
    for claim in sorted(claims):
        spans = sorted(quotes.get(claim, []))
        table.append({**claims[claim], "quotes": " | ".join(q for _, _, q in spans),
                      "offsets": " | ".join(f"{s}-{e}" for s, e, _ in spans)})
    return table


def to_csv(table: list[dict[str, str]]) -> str:
    """The rows as CSV (RFC 4180: CRLF line ends, quoted where needed), with the header line of COLUMNS."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


def from_dataset(dataset) -> str:
    """The CSV of an rdflib dataset (what `kg export --format claims-csv` writes)."""
    from rdflib import URIRef

    from kg.query import run

    def select(text: str):
        result = run(dataset, text)
        names = [str(v) for v in result.vars]
        for row in result:
            yield {n: (str(t), isinstance(t, URIRef)) for n, t in zip(names, row, strict=True) if t is not None}

    return to_csv(rows(select))


def from_bindings(select: Callable[[str], list[dict]]) -> str:
    """The CSV from SPARQL JSON bindings (what the web UI's store answers)."""

    def adapted(text: str):
        for binding in select(text):
            yield {n: (v["value"], v["type"] == "uri") for n, v in binding.items()}

    return to_csv(rows(adapted))
