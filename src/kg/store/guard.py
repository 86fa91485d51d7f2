"""What may reach the engine: a lexical scan of a SPARQL request, run before any engine sees it.

The scan finds the query form, the deepest nesting of brackets, the graphs named by FROM / FROM NAMED and any
SERVICE call, without a full parse (pyoxigraph's parser overflows its stack, killing the process, on a few thousand
nested brackets). Refusals raise QueryRejected with a one-line reason, or FederationRefused (403) for a SERVICE call
that the federation allow-list does not name: `check_outbound` hands the calls it found to `kg.federation`, the one
gate. A graph named by FROM / FROM NAMED that the dataset does not hold is an empty graph (SPARQL 1.1 dataset
semantics, as in Oxigraph and Fuseki): never fetched, never refused, reported by `unknown_graphs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from kg.errors import QueryRejected
from kg.federation import NOTHING, AllowList, Service, check_calls

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")

# Order matters: comments, strings and IRIs hide brackets and keywords; a '<' that does not open an IRIREF is an
# operator (the SPARQL grammar's longest-match rule).
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<long_string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
    | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
    | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
    | (?P<pname>(?:[^\W\d][\w.-]*)?:(?:[\w:%\\-]|\.(?=[\w:%-]))*)
    | (?P<word>[^\W\d]\w*)
    | (?P<open>[({\[])
    | (?P<close>[)}\]])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


_SKIPPED = ("space", "comment", "long_string", "string")
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape(iri: str) -> str:
    """An IRIREF's \\u and \\U escapes decoded, as the engine decodes them."""
    def decode(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()  # out of range: the engine's parser refuses it

    return _UCHAR.sub(decode, iri)


@dataclass(frozen=True)
class QueryInfo:
    """What the scan learnt about a query."""

    form: str | None  # None when no form keyword was found: the engine's parser then says what is wrong
    depth: int
    from_graphs: tuple[str, ...]
    from_named_graphs: tuple[str, ...]
    services: tuple[str, ...]

    @property
    def returns_graph(self) -> bool:
        return self.form in GRAPH_FORMS


@lru_cache(maxsize=1024)
def scan(text: str, prefixes: tuple[tuple[str, str], ...] = ()) -> QueryInfo:
    """Tokenize `text` just enough to find its form, nesting depth, FROM graphs and SERVICE targets.

    `prefixes` are the prefixes the engine is given besides those the query declares. Malformed text is left to
    the engine's parser, which reports it precisely.
    """
    declared = dict(prefixes)
    base = ""
    form = None
    depth = max_depth = 0
    from_graphs: list[str] = []
    from_named: list[str] = []
    services: list[str] = []
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text) if m.lastgroup not in _SKIPPED]

    def iri_of(kind: str, value: str) -> str | None:
        if kind == "iri":
            return urljoin(base, _unescape(value[1:-1])) if base else _unescape(value[1:-1])
        if kind == "pname":
            prefix, _, local = value.partition(":")
            if prefix in declared:
                return declared[prefix] + local.replace("\\", "")
        return None

    for index, (kind, value) in enumerate(tokens):
        if kind == "open":
            depth += 1
            max_depth = max(max_depth, depth)
        elif kind == "close":
            depth -= 1
        elif kind == "word":
            keyword = value.upper()
            following = tokens[index + 1 : index + 4]
            if keyword == "PREFIX" and len(following) >= 2 and following[0][0] == "pname":
                declared[following[0][1].rstrip(":").partition(":")[0]] = following[1][1][1:-1]
            elif keyword == "BASE" and following and following[0][0] == "iri":
                base = following[0][1][1:-1]
            elif form is None and (keyword in QUERY_FORMS or keyword in UPDATE_KEYWORDS):
                form = keyword
            elif keyword == "FROM" and following:
                named = following[0][1].upper() == "NAMED" and following[0][0] == "word"
                target = following[1] if named and len(following) > 1 else following[0]
                iri = iri_of(*target)
                if iri is not None:
                    (from_named if named else from_graphs).append(iri)
            elif keyword == "SERVICE" and following:
                target = following[1] if following[0][1].upper() == "SILENT" and len(following) > 1 else following[0]
                services.append(iri_of(*target) or target[1])
    return QueryInfo(form, max_depth, tuple(from_graphs), tuple(from_named), tuple(services))


def check(info: QueryInfo, *, max_nesting: int, allow: AllowList = NOTHING) -> None:
    """Refuse an update, a query nested deeper than `max_nesting`, or a SERVICE call that `allow` does not name.

    :raise QueryRejected: with the reason.
    :raise FederationRefused: a SERVICE call that `allow` does not name.
    """
    if info.form in UPDATE_KEYWORDS:
        raise QueryRejected(f"this endpoint is read-only: SPARQL Update ({info.form}) is not accepted")
    if info.depth > max_nesting:
        raise QueryRejected(f"query nested {info.depth} levels deep; the limit is {max_nesting}")
    check_outbound(info, allow=allow)


def check_outbound(info: QueryInfo, *, allow: AllowList = NOTHING) -> None:
    """Refuse SERVICE calls that `allow` does not name (none by default).

    :raise FederationRefused: naming the first SERVICE refused.
    """
    check_calls([Service(None, s[1:]) if s[:1] in "?$" else Service(s) for s in info.services], allow)


def unknown_graphs(iris, graphs: frozenset[str]) -> tuple[str, ...]:
    """The graph IRIs among `iris` that the dataset does not hold, once each, in order: the engine reads them as
    empty graphs (nothing is ever fetched), and the endpoint tells the client which they were."""
    return tuple(dict.fromkeys(iri for iri in iris if iri not in graphs))
