"""The Wikidata Query Service's label service, answered locally by rewriting the query (never a request).

`SERVICE wikibase:label { bd:serviceParam wikibase:language "fr,en" . }` becomes OPTIONAL label patterns, one per
language in order, joined with COALESCE, placed at the end of the group that holds the service (WDQS evaluates the
service last, whatever its place). Bound as WDQS binds them:

- automatically, for every variable `?x` of the query that has `?xLabel`, `?xDescription` or `?xAltLabel` beside it
  (`rdfs:label`, `schema:description`, `skos:altLabel`; a missing label falls back to the IRI's last segment, as
  WDQS falls back to the item id; aliases are joined with ", ");
- or, when the block binds them itself (`?x rdfs:label ?name`), only those.

`[AUTO_LANGUAGE]` is English. The text is rewritten on its tokens (kg.sparql_tokens), so a comment or a string that
mentions the service changes nothing; the engine's parser then checks the result like any query.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib.namespace import RDFS, SKOS

from kg.errors import QueryError
from kg.namespaces import QUERY_PREFIXES, SCHEMA, WIKIBASE
from kg.sparql_tokens import Token, declared_prefixes, matching, tokenize

LABEL_SERVICE = str(WIKIBASE.label)
SERVICE_PARAM = "http://www.bigdata.com/rdf#serviceParam"
LANGUAGE = str(WIKIBASE.language)
AUTO_LANGUAGE = "[AUTO_LANGUAGE]"
DEFAULT_LANGUAGE = "en"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

# The suffixes of automatic variables: AltLabel before Label, which it ends with.
SUFFIXES = ("AltLabel", "Label", "Description")
EXPLICIT = {str(RDFS.label): "Label", str(SCHEMA.description): "Description",
            "http://schema.org/description": "Description", str(SKOS.altLabel): "AltLabel"}
PROPERTY = {"Label": str(RDFS.label), "Description": str(SCHEMA.description), "AltLabel": str(SKOS.altLabel)}


class LabelServiceError(QueryError):
    """A label service block that this emulation cannot answer (it names what is wrong)."""


@dataclass(frozen=True)
class _Binding:
    subject: str  # a variable (?x) or an <IRI>
    kind: str  # Label, Description or AltLabel
    target: str  # the variable bound, with its ?


def label_service(text: str) -> str:
    """`text` with every `SERVICE wikibase:label { … }` block replaced by local label patterns."""
    if "label" not in text:
        return text
    tokens = tokenize(text)
    significant = [t for t in tokens if t.significant]
    prefixes = {**QUERY_PREFIXES, **declared_prefixes(significant)}
    blocks = list(_label_blocks(significant, prefixes))
    if not blocks:
        return text
    inside = {i for start, _, end in blocks for i in range(start, end + 1)}
    variables = {t.text[1:] for i, t in enumerate(significant) if t.kind == "var" and i not in inside}
    edits: list[tuple[int, int, str]] = []
    fresh = iter(range(1, 1_000_000))
    for start, opening, end in blocks:
        languages, bindings = _read_block(significant[opening + 1 : end], prefixes, significant[start])
        bindings = bindings or _automatic(variables)
        # Later lines keep their numbers, so the engine's syntax errors point at the lines the user wrote.
        blank = "\n" * text.count("\n", significant[start].start, significant[end].end)
        edits.append((significant[start].start, significant[end].end, blank))
        group_end = _enclosing_group_end(significant, start)
        patterns = " ".join(_patterns(b, languages, fresh) for b in bindings)
        edits.append((significant[group_end].start, significant[group_end].start, f" {patterns} "))
    for begin, finish, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:begin] + replacement + text[finish:]
    return text


def _automatic(variables: set[str]) -> list[_Binding]:
    """?xLabel, ?xAltLabel and ?xDescription for every ?x of the query that has one of them beside it."""
    bindings = []
    for name in sorted(variables):
        suffix = next((s for s in SUFFIXES if name.endswith(s)), None)
        if suffix and (base := name[: -len(suffix)]) in variables:
            bindings.append(_Binding(f"?{base}", suffix, f"?{name}"))
    return bindings


def _iri(token: Token, prefixes: dict[str, str]) -> str | None:
    if token.kind == "iri":
        return token.text[1:-1]
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local.replace("\\", "")
    if token.kind == "word" and token.text == "a":
        return RDF_TYPE
    return None


def _label_blocks(tokens: list[Token], prefixes: dict[str, str]):
    """(index of SERVICE, of the block's opening brace, of its closing brace) for every label service call."""
    for index, token in enumerate(tokens):
        if token.kind != "word" or token.text.upper() != "SERVICE":
            continue
        target = index + 1
        if target < len(tokens) and tokens[target].text.upper() == "SILENT":
            target += 1
        if target + 1 >= len(tokens) or _iri(tokens[target], prefixes) != LABEL_SERVICE:
            continue
        if tokens[target + 1].text != "{" or (end := matching(tokens, target + 1)) is None:
            continue  # the engine's parser reports the malformed block
        yield index, target + 1, end


def _string_value(token: Token) -> str:
    quote = 3 if token.text[:3] in ('"""', "'''") else 1
    return token.text[quote:-quote]


def _read_block(tokens: list[Token], prefixes: dict[str, str], service: Token):
    """The languages and the explicit bindings of one block's triples (`tokens` between its braces)."""
    where = f"label service at line {service.line}, column {service.column}"
    # Split into triples: subject, then (predicate, object) pairs separated by ';' and ','; '.' ends a triple.
    triples, subject, predicate, expecting = [], None, None, "subject"
    for token in tokens:
        if token.text == ".":
            subject, predicate, expecting = None, None, "subject"
        elif token.text == ";":
            predicate, expecting = None, "predicate"
        elif token.text == ",":
            expecting = "object"
        elif token.kind in ("language",) or token.text == "^^":
            continue
        elif expecting == "subject":
            subject, expecting = token, "predicate"
        elif expecting == "predicate":
            predicate, expecting = token, "object"
        elif expecting == "object" and subject is not None and predicate is not None:
            triples.append((subject, predicate, token))
            expecting = "after"
    languages: list[str] = []
    bindings: list[_Binding] = []
    for subject, predicate, obj in triples:
        if _iri(subject, prefixes) == SERVICE_PARAM and _iri(predicate, prefixes) == LANGUAGE:
            if obj.kind != "string":
                raise LabelServiceError(f"{where}: wikibase:language takes a string such as \"en\" or \"fr,en\"")
            for language in _string_value(obj).split(","):
                language = language.strip()
                language = DEFAULT_LANGUAGE if language == AUTO_LANGUAGE else language
                if language and language not in languages:
                    languages.append(language)
        elif (kind := EXPLICIT.get(_iri(predicate, prefixes) or "")) and obj.kind == "var" \
                and subject.kind in ("var", "iri", "pname"):
            term = subject.text if subject.kind == "var" else f"<{_iri(subject, prefixes)}>"
            bindings.append(_Binding(term, kind, obj.text))
        else:
            raise LabelServiceError(
                f"{where}: only bd:serviceParam wikibase:language and ?x rdfs:label / schema:description / "
                f"skos:altLabel ?var are understood, not {subject.text} {predicate.text} {obj.text}"
            )
    if not languages:
        raise LabelServiceError(f'{where}: give the languages, e.g. bd:serviceParam wikibase:language "en"')
    return languages, bindings


def _enclosing_group_end(tokens: list[Token], index: int) -> int:
    """The index of the '}' that closes the innermost group around `tokens[index]`."""
    depth = 0
    for position in range(index - 1, -1, -1):
        token = tokens[position]
        if token.kind == "close":
            depth += 1
        elif token.kind == "open":
            if depth == 0 and token.text == "{":
                end = matching(tokens, position)
                if end is not None:
                    return end
            depth = max(depth - 1, 0)
    raise LabelServiceError("the label service must be inside a group { … }")


def _patterns(binding: _Binding, languages: list[str], fresh) -> str:
    """SPARQL that binds `binding.target` as WDQS would: the first language that has a value."""
    prop, subject, found = f"<{PROPERTY[binding.kind]}>", binding.subject, []
    parts = []
    for language in languages:
        value = f"?_wdqs{next(fresh)}"
        found.append(value)
        tag = _quoted(language)
        if binding.kind == "AltLabel":
            alias = f"?_wdqs{next(fresh)}"
            grouped = f"GROUP BY {subject}" if subject.startswith("?") else ""
            projected = subject if subject.startswith("?") else ""
            parts.append(f"OPTIONAL {{ SELECT {projected} (GROUP_CONCAT({alias}; separator=\", \") AS {value}) "
                         f"WHERE {{ {subject} {prop} {alias} FILTER(LANG({alias}) = {tag}) }} {grouped} }}")
        else:
            parts.append(f"OPTIONAL {{ {subject} {prop} {value} FILTER(LANG({value}) = {tag}) }}")
    if binding.kind == "Label":
        found.append(f'REPLACE(STR({subject}), "^.*[/#]", "")')
    parts.append(f"BIND(COALESCE({', '.join(found)}) AS {binding.target})")
    return " ".join(parts)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
