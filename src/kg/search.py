"""Full-text search over the graph's labels, alternative names, descriptions and evidence quotes (SQLite FTS5).

The index is built from a SPARQL query over the store it searches, so it holds exactly what the store serves and
never drifts from it. It is built lazily in each process that searches (an SQLite connection must not cross a
fork) and is small: one row per (resource, field, text).

The same search is a local SPARQL service in Jena's pattern (`?s text:query "words"`, see `rewrite`): the triple
pattern is replaced by a VALUES block of the hits before the query reaches the guard and the engine, so it is never
an outbound request and every limit still applies.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import QueryError
from kg.namespaces import CT, DCTERMS, KG, OA, RDFS, SCHEMA, SKOS
from kg.sparql_tokens import significant  # strings, comments and IRIs are whole tokens
from kg.store import QueryRequest, Store

TEXT = "http://jena.apache.org/text#"  # Jena's namespace, so that queries written for Fuseki's text index run here
FIELDS = {  # property -> field, in the order a resource's fields are shown; a resource's text is indexed once
    RDFS.label: "label", SKOS.prefLabel: "label", SCHEMA.name: "label", SCHEMA.headline: "label",
    SKOS.altLabel: "alternative name", SCHEMA.alternateName: "alternative name",
    SKOS.definition: "description", SKOS.scopeNote: "description", DCTERMS.description: "description",
    RDFS.comment: "description", SCHEMA.description: "description",
}
FIELD_WEIGHTS = {"label": 4.0, "alternative name": 3.0, "quote": 2.0, "description": 1.5}
MAX_HITS = 1000  # most hits a search (or a text:query pattern) returns
_START, _END = "\x02", "\x03"  # highlight markers: control characters that the indexed text cannot hold
_TERM = re.compile(r'"([^"]*)"|([\w]+)(\*?)')

DOCUMENTS = f"""SELECT ?s ?p ?text ?type WHERE {{
  {{ VALUES ?p {{ {' '.join(f'<{p}>' for p in FIELDS)} }} ?s ?p ?text }}
  UNION {{ ?s <{CT.evidence}>/<{OA.hasSelector}>/<{OA.exact}> ?text BIND("quote" AS ?p) }}
  FILTER(isIRI(?s) && isLiteral(?text) && (STRSTARTS(STR(?s), "{KG}") || STRSTARTS(STR(?s), "{CT}")))
  OPTIONAL {{ SELECT ?s (MIN(?t) AS ?type) WHERE {{ ?s a ?t FILTER(STRSTARTS(STR(?t), "{CT}")) }} GROUP BY ?s }}
}}"""


@dataclass(frozen=True)
class Match:
    """One field of a hit: its text cut into (segment, matched) pieces, so a page can mark the matched words."""

    field: str
    text: str
    lang: str
    segments: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str
    type: str  # the resource's ct: class, or ""
    score: float
    matches: tuple[Match, ...] = field(default=())


def match_expression(text: str) -> str:
    """An FTS5 query for what a user typed: words (a trailing * for a prefix) and "quoted phrases", all required.

    Every term is quoted, so no input is FTS5 syntax: AND, NEAR, parentheses or a stray quote are plain words.
    """
    terms = []
    for phrase, word, star in _TERM.findall(text):
        words = re.findall(r"\w+", phrase) if phrase else [word]
        if words:
            terms.append('"' + " ".join(words) + '"' + ("*" if star else ""))
    return " ".join(terms)


def _segments(marked: str) -> tuple[tuple[str, bool], ...]:
    parts = re.split(f"({_START}.*?{_END})", marked)
    return tuple((p.strip(_START + _END), p.startswith(_START)) for p in parts if p)


class SearchIndex:
    """The full-text index of a store, built on first use in each process."""

    def __init__(self, store: Store, *, timeout: float = 30.0):
        self.store, self.timeout = store, timeout
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _documents(self) -> list[tuple[str, str, str, str, str]]:
        """(iri, field, text, language, ct: type) of every indexed text of the store's asserted dataset."""
        response = self.store.evaluate(QueryRequest(
            DOCUMENTS, "application/sparql-results+json", self.store.datasets[0], timeout=self.timeout,
            max_rows=1_000_000))
        rows = json.loads(response.body)["results"]["bindings"]
        order = {**{str(p): i for i, p in enumerate(FIELDS)}, "quote": len(FIELDS)}
        rows.sort(key=lambda r: (r["s"]["value"], order[r["p"]["value"]], r["text"]["value"]))
        seen, documents = set(), []
        for row in rows:
            iri, text = row["s"]["value"], row["text"]["value"]
            if (iri, text) not in seen:
                seen.add((iri, text))
                name = "quote" if row["p"]["value"] == "quote" else FIELDS[URIRef(row["p"]["value"])]
                lang, kind = row["text"].get("xml:lang", ""), row.get("type", {}).get("value", "")
                documents.append((iri, name, text, lang, kind))
        return documents

    def _connection(self) -> sqlite3.Connection:
        with self._lock:
            if self._db is None or self._pid != os.getpid():
                db = sqlite3.connect(":memory:", check_same_thread=False)
                db.execute("CREATE VIRTUAL TABLE documents USING fts5(iri UNINDEXED, field UNINDEXED, text, "
                           "lang UNINDEXED, type UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')")
                db.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?)", self._documents())
                self._db, self._pid = db, os.getpid()
            return self._db

    def labels(self) -> dict[str, str]:
        """The first label of every indexed resource."""
        rows = self._connection().execute("SELECT iri, text FROM documents WHERE field = 'label' ORDER BY rowid")
        labels: dict[str, str] = {}
        for iri, text in rows:
            labels.setdefault(iri, text)
        return labels

    def search(self, text: str, limit: int = 50) -> list[Hit]:
        """The resources whose indexed texts contain every term of `text`, best first (weighted BM25)."""
        expression = match_expression(text)
        if not expression:
            return []
        db = self._connection()
        with self._lock:
            rows = db.execute(
                "SELECT iri, field, text, lang, type, highlight(documents, 2, ?, ?), bm25(documents) FROM documents "
                "WHERE documents MATCH ? ORDER BY rank", (_START, _END, expression)).fetchall()
        labels = self.labels()
        grouped: dict[str, list] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(row)
        hits = []
        for iri, group in grouped.items():
            score = max(-bm25 * FIELD_WEIGHTS[name] for _, name, *_, bm25 in group)
            matches = tuple(Match(name, value, lang, _segments(marked)) for _, name, value, lang, _, marked, _ in group)
            hits.append(Hit(iri, labels.get(iri, iri), group[0][4], round(score, 4), matches))
        hits.sort(key=lambda h: (-h.score, h.iri))
        return hits[: max(0, min(limit, MAX_HITS))]


# The SPARQL service pattern ----------------------------------------------------------------------------------

def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, value, start, end) of the query's tokens, without spaces and comments."""
    return [(t.kind, t.text, t.start, t.end) for t in significant(text)]


def _string_value(token: str) -> str:
    quote = 3 if token[:3] in ('"""', "'''") else 1
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)),
                  token[quote:-quote])


def _text_prefixes(tokens) -> set[str]:
    """The prefixes bound to Jena's text namespace: `text:` unless the query binds it to something else."""
    declared = {}
    for i, (kind, value, *_) in enumerate(tokens[:-2]):
        if kind == "word" and value.upper() == "PREFIX" and tokens[i + 1][0] == "pname" and tokens[i + 2][0] == "iri":
            declared[tokens[i + 1][1].rstrip(":")] = tokens[i + 2][1][1:-1]
    prefixes = {p for p, ns in declared.items() if ns == TEXT}
    if "text" not in declared:
        prefixes.add("text")
    return prefixes


def _is_text_query(token, prefixes: set[str]) -> bool:
    kind, value = token[0], token[1]
    if kind == "iri":
        return value[1:-1] == TEXT + "query"
    return kind == "pname" and value.partition(":")[0] in prefixes and value.partition(":")[2] == "query"


def rewrite(text: str, index: SearchIndex | None) -> str:
    """Replace each `SUBJECT text:query OBJECT` triple pattern by a VALUES block of the index's hits.

    SUBJECT is `?s`, `(?s ?score)` or `(?s ?score ?literal)`: the resource, its score (xsd:decimal, higher is
    better) and the text that matched. OBJECT is `"words"` or `("words" limit)`. A pattern must stand as a triple
    of its own (followed by `.` or `}`). Queries without the pattern are returned unchanged.

    :raise QueryError: a malformed pattern, or a pattern where no index is available.
    """
    if "query" not in text:  # every text:query pattern spells it; most queries need no tokenizing
        return text
    tokens = _tokens(text)
    prefixes = _text_prefixes(tokens)
    spots = [i for i, token in enumerate(tokens) if _is_text_query(token, prefixes)]
    if not spots:
        return text
    if index is None:
        raise QueryError("text:query (full-text search) is not available here")
    out, done = [], 0
    for i in spots:
        subject_start, variables = _subject(tokens, i)
        words, limit, end = _object(text, tokens, i)
        if end < len(tokens) and tokens[end][1] not in (".", "}"):
            raise QueryError("a text:query pattern must be a triple of its own, followed by '.' or '}'")
        hits = index.search(words, limit)
        rows = []
        for hit in hits:
            for match in hit.matches[:1] if len(variables) < 3 else hit.matches:
                values = [URIRef(hit.iri), Literal(str(hit.score), datatype=XSD.decimal),
                          Literal(match.text, lang=match.lang or None)][: len(variables)]
                rows.append("(" + " ".join(v.n3() for v in values) + ")")
        out.append(text[done:tokens[subject_start][2]])
        out.append(f"VALUES ({' '.join(variables)}) {{ {' '.join(rows)} }}")
        done = tokens[end - 1][3]
    out.append(text[done:])
    return "".join(out)


def _subject(tokens, i: int) -> tuple[int, list[str]]:
    """Where the pattern's subject starts and its variables."""
    if i >= 1 and tokens[i - 1][0] == "var":
        return i - 1, [tokens[i - 1][1]]
    if i >= 3 and tokens[i - 1][1] == ")":
        start = i - 2
        while start > 0 and tokens[start][0] == "var":
            start -= 1
        variables = [t[1] for t in tokens[start + 1 : i - 1]]
        if tokens[start][1] == "(" and 1 <= len(variables) <= 3:
            return start, variables
    raise QueryError("text:query needs a variable subject: ?s, (?s ?score) or (?s ?score ?literal)")


_STRING = (r"""'{3}(?:[^'\\]|\\.|'(?!''))*'{3}|"{3}(?:[^"\\]|\\.|"(?!""))*"{3}"""  # long strings, then short
           r"""|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")
_OBJECT = re.compile(rf"\s*(?:(?P<words>{_STRING})|\(\s*(?P<listed>{_STRING})\s*(?P<limit>\d+)?\s*\))", re.DOTALL)


def _object(text: str, tokens, i: int) -> tuple[str, int, int]:
    """The pattern's words, its hit limit, and the index of the first token after the pattern."""
    match = _OBJECT.match(text, tokens[i][3])
    if match is None:
        raise QueryError('text:query takes "words" or ("words" limit) as its object')
    words = _string_value(match.group("words") or match.group("listed"))
    limit = int(match.group("limit")) if match.group("limit") else MAX_HITS
    after = next((j for j in range(i + 1, len(tokens)) if tokens[j][2] >= match.end()), len(tokens))
    return words, limit, after
