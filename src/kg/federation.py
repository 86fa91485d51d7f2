"""Federated queries: a SERVICE call reaches only an endpoint that the allow-list names; none by default.

Both engines evaluate SERVICE themselves: rdflib with urllib, pyoxigraph (0.5) with its own HTTP client and no
Python hook to intercept it. So the one gate is `check_calls(calls, allow)`, run before either engine sees the
query: `check(query, allow)` finds the calls by parsing (the library and `kg query`), the SPARQL endpoint's lexical
guard (`kg.store.guard`) finds them without a parse. It refuses SERVICE to an endpoint not on the list, SERVICE with
a variable (its target is unknown until evaluation), and SERVICE in a query it cannot parse. For rdflib a second
guard checks each SERVICE again at evaluation time, and FROM / FROM NAMED never fetch graphs from the web: they name
graphs of the dataset.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import rdflib.plugins.sparql
from pyparsing import ParseException, ParseResults
from rdflib import URIRef, Variable
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kg.errors import KGError
from kg.namespaces import PREFIXES

ENV_VAR = "KG_FEDERATION_ALLOW"
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"


class FederationRefused(KGError):
    """A query whose SERVICE call the allow-list does not permit (HTTP 403)."""

    status = 403


def normalize(iri: str) -> str:
    """The form endpoints are compared in: lower-case scheme and host, no default port, no fragment."""
    parts = urlsplit(iri.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FederationRefused(f"not an http(s) endpoint IRI: {iri!r}")
    host = parts.hostname.lower()
    default_port = {"http": 80, "https": 443}[parts.scheme.lower()]
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


@dataclass(frozen=True)
class AllowList:
    """The SPARQL endpoints a query may call with SERVICE, compared exactly after `normalize` (no prefixes)."""

    endpoints: frozenset[str] = frozenset()

    @classmethod
    def of(cls, endpoints: Iterable[str]) -> AllowList:
        return cls(frozenset(normalize(e) for e in endpoints))

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """Endpoints separated by spaces or commas, as in $KG_FEDERATION_ALLOW."""
        return cls.of(e for e in re.split(r"[\s,]+", text) if e)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AllowList:
        return cls.parse(environ.get(ENV_VAR, ""))

    def __or__(self, other: AllowList) -> AllowList:
        return AllowList(self.endpoints | other.endpoints)

    def allows(self, iri: str) -> bool:
        try:
            return normalize(iri) in self.endpoints
        except FederationRefused:
            return False


NOTHING = AllowList()


@dataclass(frozen=True)
class Service:
    """One SERVICE call of a query: its endpoint IRI, or the variable that names it."""

    endpoint: str | None
    variable: str | None = None
    silent: bool = False


def services(query: str, prefixes: Mapping[str, str] = PREFIXES) -> list[Service]:
    """Every SERVICE call in a query or update, nested ones included, in order of appearance.

    Prefixed names resolve against the query's PREFIX lines, then the project's prefixes.
    Raises FederationRefused when the text cannot be parsed but mentions SERVICE (fail closed).
    """
    try:
        tree = parseQuery(query)
    except (ParseException, RecursionError):
        try:
            tree = parseUpdate(query)
        except (ParseException, RecursionError):  # RecursionError: pathological nesting
            if re.search(r"\bSERVICE\b", query, re.IGNORECASE):
                raise FederationRefused("cannot check the SERVICE calls of a query that does not parse") from None
            return []
    known = {p: str(ns) for p, ns in prefixes.items()}
    known.update(_declared_prefixes(tree))
    return [_service(node, known) for node in _walk(tree) if node.name == "ServiceGraphPattern"]


def check(query: str, allow: AllowList = NOTHING) -> list[Service]:
    """Refuse the query unless every SERVICE call names an allowed endpoint; return the calls."""
    return check_calls(services(query), allow)


def check_calls(calls: list[Service], allow: AllowList = NOTHING) -> list[Service]:
    """The decision itself, for calls found by any scanner (`services` here, the endpoint's lexical guard)."""
    for call in calls:
        if call.endpoint is None:
            raise FederationRefused(
                f"SERVICE ?{call.variable}: an endpoint given by a variable cannot be checked against the allow-list"
            )
        if not allow.allows(call.endpoint):
            raise FederationRefused(_refusal(call.endpoint, allow))
    return calls


def _refusal(endpoint: str, allow: AllowList) -> str:
    if not allow.endpoints:
        return (f"SERVICE <{endpoint}> refused: federation is off (no endpoint is allowed; "
                f"allow one with --allow-service or ${ENV_VAR})")
    return f"SERVICE <{endpoint}> refused: not in the federation allow-list ({', '.join(sorted(allow.endpoints))})"


def _walk(node) -> Iterator[CompValue]:
    if isinstance(node, CompValue):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list | tuple | ParseResults):
        for item in node:
            yield from _walk(item)


def _field(node: CompValue, name: str) -> str:
    """A parse-tree field as text, "" when absent (CompValue.get returns the key itself for a missing field)."""
    return str(node[name]) if name in node else ""


def _declared_prefixes(tree) -> dict[str, str]:
    declared = {}
    for node in _walk(tree):
        if node.name == "PrefixDecl":
            declared[_field(node, "prefix")] = _field(node, "iri")
    return declared


def _service(node: CompValue, prefixes: Mapping[str, str]) -> Service:
    term = node["term"]
    silent = "silent" in node
    if isinstance(term, Variable):
        return Service(None, str(term), silent)
    if isinstance(term, CompValue) and term.name == "pname":
        prefix, local = _field(term, "prefix"), _field(term, "localname")
        if prefix not in prefixes:
            raise FederationRefused(f"SERVICE {prefix}:{local}: unknown prefix {prefix!r}")
        return Service(prefixes[prefix] + local, None, silent)
    return Service(str(term), None, silent)


# rdflib's engine: check each SERVICE again when it is evaluated, and never load FROM graphs from the web ----------

_current: contextvars.ContextVar[AllowList] = contextvars.ContextVar("kg_federation_allow", default=NOTHING)


@contextmanager
def allowing(allow: AllowList) -> Iterator[None]:
    """Run rdflib queries in this block with `allow` as the allow-list of the evaluation-time guard."""
    token = _current.set(allow)
    try:
        yield
    finally:
        _current.reset(token)


def _guard(ctx, part):
    """rdflib custom evaluation: refuse a SERVICE the allow-list does not name, let rdflib evaluate the others."""
    if part.name != "ServiceGraphPattern":
        raise NotImplementedError
    term = part["term"]
    endpoint = ctx[term] if isinstance(term, Variable) else term
    if not isinstance(endpoint, URIRef) or not _current.get().allows(str(endpoint)):
        raise FederationRefused(_refusal(str(endpoint), _current.get()))
    raise NotImplementedError


rdflib.plugins.sparql.CUSTOM_EVALS["kg-federation-guard"] = _guard
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
