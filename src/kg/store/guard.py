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

# SPARQL 1.1's token rules as pyoxigraph applies them (comments end at \n or \r; PN_LOCAL_ESC in names; no \u
# decoding outside strings and IRIs), with possessive quantifiers so that no match backtracks: linear time. A '<' is
# taken as an IRI or as an operator by the scan's context, not here.
ESC = r"\\[_~.\-!$&'()*+,;=/?#@%]"
LOCAL_CHAR = r"[\w:\-\u00b7]|%[0-9A-Fa-f]{2}|" + ESC
_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]++)"
    r"|(?P<comment>\#[^\r\n]*+)"
    r"|(?P<string>'''(?:[^'\\]++|\\.|'(?!''))*+(?:'''|\Z)|\"\"\"(?:[^\"\\]++|\\.|\"(?!\"\"))*+(?:\"\"\"|\Z)"
    r"|'(?:[^'\\\n\r]++|\\.)*+(?:'|.*\Z)|\"(?:[^\"\\\n\r]++|\\.)*+(?:\"|.*\Z))"
    r"|(?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]++)"
    r"|(?P<pname>(?:[^\W\d][\w.\-\u00b7]*+)?+:(?:" + LOCAL_CHAR + r"|\.++(?=" + LOCAL_CHAR + r"))*+)"
    r"|(?P<run>[^\W\d][\w.\-\u00b7]*+)"
    r"|(?P<number>\d++(?:\.\d*+)?+(?:[eE][+-]?\d++)?+|\.\d++(?:[eE][+-]?\d++)?+)"
    r"|(?P<language>@[a-zA-Z]++(?:-[a-zA-Z0-9]++)*+)"
    r"|(?P<open>[({\[])|(?P<close>[)}\]])"
    r"|(?P<op>\|\||&&|!=|<=|>=|\^\^|[!=<>+\-*/|^])"
    r"|(?P<other>.)",
    re.DOTALL,
)
_IRI = re.compile(r"<(?:[^<>\"{}|^`\\\x00-\x20]++|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+>")
_WORD = re.compile(r"[^\W\d]\w*+|\w++|.", re.DOTALL)
OPERATORS_PER_LEVEL = 4  # the engine crashes on ~4,500 nested brackets, ~7,000-9,500 chained operators
_OPERAND_ENDS = frozenset(("var", "number", "string", "iri", "pname", "language", "close"))
_EXPRESSION_CLAUSES = frozenset(("SELECT", "BY", "HAVING"))
_CLAUSE_ENDS = frozenset(("WHERE", "FROM", "LIMIT", "OFFSET", "VALUES"))


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


def _bracket_peak(iri: str) -> int:
    """How deep the parentheses and brackets inside an IRI's text go, were it read as tokens."""
    depth = peak = 0
    for char in iri:
        depth += (char in "([") - (char in ")]")
        peak = max(peak, depth)
    return peak


def _tokens(text: str) -> tuple[list[tuple[str, str]], int]:
    """The significant tokens of `text` and the deepest nesting they reach, in one linear pass.

    The nesting counts brackets, every OPERATORS_PER_LEVEL chained operators as one more level (the engine
    recurses on them too) and, inside expressions, the brackets in IRIs: an IRIREF holds no space or brace, so
    nothing but depth can hide in one that the engine reads as a less-than. A '<' after an operand inside an
    expression is less-than, as in the engine's grammar; anywhere else it opens an IRI.
    """
    tokens: list[tuple[str, str]] = []
    frames: list[list] = []  # per open bracket: [is_expression, operators so far]
    operators = max_depth = 0
    pending = clause = operand = False  # after FILTER/BIND; in SELECT/GROUP BY/ORDER BY/HAVING; after an operand
    position, length = 0, len(text)
    while position < length:
        in_expression = bool(frames) and frames[-1][0]
        if text[position] == "<" and not (in_expression and operand) and (iri := _IRI.match(text, position)):
            kind, value = "iri", iri.group()
            if in_expression:  # only there may the engine read this '<' as less-than
                max_depth = max(max_depth, len(frames) + _bracket_peak(value) + operators // OPERATORS_PER_LEVEL)
        else:
            match = _TOKEN.match(text, position)
            kind, value = match.lastgroup, match.group()
        position += len(value)
        if kind in ("space", "comment"):
            continue
        pieces = [(kind, value)] if kind != "run" else [
            ("word" if p[0].isalpha() or p[0] == "_" else "op" if p == "-" else "number" if p[0].isdigit() else "other",
             p) for p in _WORD.findall(value)]
        for kind, value in pieces:
            keyword = value.upper() if kind == "word" else ""
            if kind == "open":
                frames.append([value == "(" and (in_expression or pending or clause), 0])
                pending = False
                if value == "{":
                    clause = False
            elif kind == "close":
                if frames:
                    operators -= frames.pop()[1]
            elif kind == "op":
                if frames:
                    frames[-1][1] += 1
                    operators += 1
            elif keyword in ("FILTER", "BIND"):
                pending = True
            elif keyword in _EXPRESSION_CLAUSES:
                clause = True
            elif keyword in _CLAUSE_ENDS:
                clause = False
            max_depth = max(max_depth, len(frames) + operators // OPERATORS_PER_LEVEL)
            operand = kind in _OPERAND_ENDS or keyword in ("TRUE", "FALSE")
            tokens.append((kind, value))
    return tokens, max_depth


@lru_cache(maxsize=1024)
def scan(text: str, prefixes: tuple[tuple[str, str], ...] = ()) -> QueryInfo:
    """Tokenize `text` just enough to find its form, nesting depth, FROM graphs and SERVICE targets.

    `prefixes` are the prefixes the engine is given besides those the query declares. Malformed text is left to
    the engine's parser, which reports it precisely.
    """
    declared = dict(prefixes)
    base = ""
    form = None
    from_graphs: list[str] = []
    from_named: list[str] = []
    services: list[str] = []
    tokens, max_depth = _tokens(text)

    def iri_of(kind: str, value: str) -> str | None:
        if kind == "iri":
            return urljoin(base, _unescape(value[1:-1])) if base else _unescape(value[1:-1])
        if kind == "pname":
            prefix, _, local = value.partition(":")
            if prefix in declared:
                return declared[prefix] + local.replace("\\", "")
        return None

    for index, (kind, value) in enumerate(tokens):
        if kind == "word":
            keyword = value.upper()
            following = tokens[index + 1 : index + 4]
            if keyword == "PREFIX" and len(following) >= 2 and following[0][0] == "pname":
                declared[following[0][1].rstrip(":").partition(":")[0]] = iri_of(*following[1]) or ""
            elif keyword == "BASE" and following and following[0][0] == "iri":
                base = iri_of(*following[0])
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
