"""Named SPARQL queries: `queries/<name>.rq` files with a header of `# key: value` lines.

The same files are the competency questions the tests check, the CLI's named queries and the UI's examples.
A query may declare parameters, one header line each, as Datasette does for canned queries:

    # parameter: claimant | iri | | The claimant, such as kg:org-dgst; empty: every claimant

(name | type | default | description). The name is a variable of the query; `bind` gives it a value by a VALUES
block at the start of the WHERE clause, holding one term serialized from its type (never the raw text). A
parameter left empty, with no default, stays unbound: the query's text as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import QueryError
from kg.graph import ROOT
from kg.namespaces import PREFIXES
from kg.sparql_tokens import significant  # strings, IRIs and comments are whole tokens

QUERIES_DIR = ROOT / "queries"
HEADER_KEYS = ("title", "description", "question")
PARAMETER_TYPES = ("iri", "string", "integer", "decimal", "date", "gYear", "boolean")
_IRI = re.compile(r"https?://[^\s<>\"{}|^`\\]+\Z")
_LOCAL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._~-]*\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ParameterError(QueryError):
    """A parameter value that does not read as its type, or a malformed parameter declaration (HTTP 400)."""


def iri_term(value: str) -> URIRef:
    """An IRI from a prefixed name of the project (`kg:org-dgst`) or an http(s) IRI.

    :raise ParameterError: anything else (nothing that could close the IRI and inject SPARQL gets through).
    """
    value = value.strip()
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES and _LOCAL.match(local):
        return URIRef(str(PREFIXES[prefix]) + local)
    if _IRI.match(value):
        return URIRef(value)
    raise ParameterError(f"{value!r} is not an IRI: write a prefixed name such as kg:org-dgst, or an http(s) IRI")


def typed_term(value: str, kind: str) -> URIRef | Literal:
    """`value` read as a term of `kind` (PARAMETER_TYPES). :raise ParameterError: it does not read as one."""
    value = value.strip()
    try:
        if kind == "iri":
            return iri_term(value)
        if kind == "string":
            return Literal(value)
        if kind == "integer":
            return Literal(str(int(value)), datatype=XSD.integer)
        if kind == "decimal":
            return Literal(str(Decimal(value)), datatype=XSD.decimal)
        if kind == "date":
            return Literal(date.fromisoformat(value).isoformat(), datatype=XSD.date)
        if kind == "gYear" and re.fullmatch(r"-?\d{4}", value):
            return Literal(value, datatype=XSD.gYear)
        if kind == "boolean" and value in ("true", "false"):
            return Literal(value, datatype=XSD.boolean)
    except (ValueError, InvalidOperation):
        pass
    if kind not in PARAMETER_TYPES:
        raise ParameterError(f"unknown parameter type {kind!r}; one of {', '.join(PARAMETER_TYPES)}")
    raise ParameterError(f"{value!r} is not a value of type {kind}")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str
    description: str

    @classmethod
    def parse(cls, line: str) -> Parameter:
        """`name | type | default | description`. :raise ParameterError: a malformed declaration."""
        fields = [f.strip() for f in line.split("|", 3)]
        if len(fields) != 4 or not _NAME.match(fields[0]) or fields[1] not in PARAMETER_TYPES:
            raise ParameterError(f"parameter {line!r}: write `name | type | default | description`, the type one "
                                 f"of {', '.join(PARAMETER_TYPES)}")
        parameter = cls(*fields)
        if parameter.default:
            typed_term(parameter.default, parameter.type)
        return parameter


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    question: str
    text: str
    path: Path
    parameters: tuple[Parameter, ...] = ()

    def bind(self, values: Mapping[str, str]) -> str:
        """The query with each parameter bound to its value in `values` (else its default) by a VALUES block at
        the start of the WHERE clause; empty values stay unbound.

        :raise ParameterError: a value that does not read as its parameter's type.
        """
        blocks = []
        for p in self.parameters:
            value = values.get(p.name, "").strip() or p.default
            if value:
                blocks.append(f"VALUES ?{p.name} {{ {typed_term(value, p.type).n3()} }}")
        if not blocks:
            return self.text
        at = where_group(self.text)
        return self.text[:at] + " " + " ".join(blocks) + self.text[at:]


def where_group(text: str) -> int:
    """The offset just after the `{` that opens the query's WHERE clause (the first `{` after WHERE, or the first
    `{` of a query written without the keyword), found on the query's tokens so strings, IRIs and comments
    cannot mislead it. :raise ParameterError: no WHERE clause."""
    after_where = False
    tokens = significant(text)
    has_where = any(t.kind == "word" and t.text.upper() == "WHERE" for t in tokens)
    for t in tokens:
        if t.kind == "word" and t.text.upper() == "WHERE":
            after_where = True
        elif t.text == "{" and (after_where or not has_where):
            return t.end
    raise ParameterError("a query with parameters needs a WHERE clause")


def parse_header(text: str) -> dict[str, str]:
    """Read the leading `# key: value` comment lines of a query."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line.lstrip("# ").partition(":")
        if sep and key.strip().lower() in HEADER_KEYS:
            header[key.strip().lower()] = value.strip()
    return header


def parse_parameters(text: str) -> tuple[Parameter, ...]:
    """The `# parameter: ...` lines of a query's header."""
    found = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line.lstrip("# ").partition(":")
        if sep and key.strip().lower() == "parameter":
            found.append(Parameter.parse(value))
    return tuple(found)


def load_query(path: Path) -> NamedQuery:
    text = Path(path).read_text(encoding="utf-8")
    header = parse_header(text)
    return NamedQuery(
        name=Path(path).stem,
        title=header.get("title", Path(path).stem),
        description=header.get("description", ""),
        question=header.get("question", ""),
        text=text,
        path=Path(path),
        parameters=parse_parameters(text),
    )


def named_queries(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every named query, by name, in name order."""
    return {q.name: q for q in (load_query(p) for p in sorted(Path(directory).glob("*.rq")))}
