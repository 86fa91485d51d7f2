"""Syntax errors that help: where (line, column, the line with a caret under the spot) and what was expected.

The engine's parser decides what is valid; this module only explains a query it refused. pyoxigraph's messages
point at the furthest position its parser reached and list what it expected there, character classes included
("expected one of Prefix not found, ['%'], ['-' | '0' ..= '9' …"). First the query's tokens (kg.sparql_tokens) are
checked for the usual mistakes, each found where it is: an unterminated string, an undeclared prefix, a misspelt query
form, a bracket never closed, a misspelt keyword. Only if none is found is the engine's position kept, with its list
of expectations cut to the tokens and keywords a user can type.
"""

from __future__ import annotations

import difflib
import re

from kg.errors import QueryError
from kg.namespaces import QUERY_PREFIXES
from kg.sparql_tokens import PAIRS, Token, declared_prefixes, tokenize

QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATE_FORMS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
# Every bare word SPARQL 1.1 knows (keywords and built-in functions), and a few of pyoxigraph's extensions.
KEYWORDS = frozenset(word.upper() for word in """
    BASE PREFIX SELECT DISTINCT REDUCED AS CONSTRUCT WHERE DESCRIBE ASK FROM NAMED GROUP BY HAVING ORDER ASC DESC
    LIMIT OFFSET VALUES UNDEF OPTIONAL GRAPH SERVICE SILENT BIND MINUS FILTER UNION IN NOT EXISTS A TRUE FALSE
    LOAD CLEAR DROP CREATE ADD MOVE COPY TO INTO INSERT DELETE DATA WITH USING DEFAULT ALL
    STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE
    ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ
    NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL
    ISNUMERIC REGEX SUBSTR REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR
    LATERAL TRIPLE SUBJECT PREDICATE OBJECT ISTRIPLE ADJUST
""".split())
# The words a misspelling is compared with (the functions are left out: they would attract every short word).
_SUGGESTIONS = sorted(w for w in KEYWORDS if len(w) > 2 and w.isalpha() and w not in ("STR", "IRI", "URI"))
_ENGINE_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)
_CHARACTER_CLASS = re.compile(r"\[(?:'[^']*'|[^\]'])*\]")
_EXCERPT_WIDTH = 60


class QuerySyntaxError(QueryError):
    """A query the parser refused, with its position: `line`, `column` (1-based) and the offending `line_text`."""

    def __init__(self, what: str, line: int, column: int, line_text: str, engine_message: str | None = None):
        # all in args, so that it crosses process boundaries (the engines run in other processes)
        super().__init__(what, line, column, line_text, engine_message)
        self.what, self.line, self.column, self.line_text = what, line, column, line_text
        self.engine_message = engine_message  # to explain again on the text as written, before the rewrites

    def __str__(self) -> str:
        return f"syntax error at line {self.line}, column {self.column}: {self.what}"

    @property
    def excerpt(self) -> str:
        """The offending line (cut around the column when long) and a caret under the column."""
        text, column = self.line_text.rstrip(), self.column - 1
        start = max(0, min(column - _EXCERPT_WIDTH // 2, len(text) - _EXCERPT_WIDTH))
        shown = text[start: start + _EXCERPT_WIDTH]
        pad = "".join("\t" if c == "\t" else " " for c in shown[: column - start])
        return f"{'…' if start else ''}{shown}{'…' if start + _EXCERPT_WIDTH < len(text) else ''}\n" \
               f"{' ' if start else ''}{pad}^"


def explain(text: str, engine_message: str | None = None) -> QuerySyntaxError:
    """The syntax error of `text`, a query the engine refused with `engine_message` (pyoxigraph's, if any)."""
    tokens = tokenize(text)
    significant = [t for t in tokens if t.significant]
    lines = text.split("\n")

    def at(token: Token | None, what: str) -> QuerySyntaxError:
        if token is None:  # the end of the query
            return QuerySyntaxError(what, len(lines), len(lines[-1]) + 1, lines[-1], engine_message)
        return QuerySyntaxError(what, token.line, token.column, lines[token.line - 1], engine_message)

    match = _ENGINE_POSITION.match(engine_message or "")
    checks = [_unterminated, _unknown_prefix, _query_form, _brackets, _by, _unknown_word]
    if match and "IRI parsing failed" in match.group(3):
        checks.insert(0, lambda tokens: _invalid_iri(tokens, int(match.group(1)), int(match.group(2))))
    for check in checks:
        found = check(significant)
        if found is not None:
            return at(*found)
    if match is None:
        reason = " ".join((engine_message or "the query cannot be parsed").split())
        return at(significant[0] if significant else None, reason)
    line, column = int(match.group(1)), int(match.group(2))
    token = _token_at(significant, line, column)
    found = f"found {_shown(token)}" if token else "found the end of the query"
    return QuerySyntaxError(f"{_expectations(match.group(3))}, {found}", line, column,
                            lines[line - 1] if line <= len(lines) else "", engine_message)


def _shown(token: Token) -> str:
    return f'"{token.text}"' if len(token.text) <= 30 else f'"{token.text[:30]}…"'


def _token_at(tokens: list[Token], line: int, column: int) -> Token | None:
    """The first token that ends after (line, column)."""
    for token in tokens:
        last_line = token.line + token.text.count("\n")
        if last_line > line or (last_line == line and (token.line < line or token.column + len(token.text) > column)):
            return token
    return None


def _expectations(message: str) -> str:
    """pyoxigraph's "expected one of …" without character classes and parser-internal names."""
    message = " ".join(message.split())
    listed = message.removeprefix("expected one of ").removeprefix("expected ")
    items = [item.strip() for item in _CHARACTER_CLASS.sub("", listed).split(", ")]
    if "IRI parsing failed" in items:
        return "an invalid IRI"
    kept = [item for item in items if item.startswith('"') or re.fullmatch(r"[A-Za-z_]+", item) and item.isupper()]
    if not kept:
        return "unexpected input"
    return "expected " + (kept[0] if len(kept) == 1 else "one of " + ", ".join(kept))


def _unterminated(tokens: list[Token]):
    for token in tokens:
        if token.kind == "unterminated":
            return token, "a string is never closed (its closing quote is missing)"
    return None


def _unknown_prefix(tokens: list[Token]):
    known = {**QUERY_PREFIXES, **declared_prefixes(tokens)}
    for index, token in enumerate(tokens):
        if token.kind != "pname":
            continue
        prefix = token.text.partition(":")[0]
        if prefix == "_" or prefix in known:
            continue
        if index and tokens[index - 1].kind == "word" and tokens[index - 1].text.upper() == "PREFIX":
            continue  # a declaration (without its IRI: the engine reports that)
        close = difflib.get_close_matches(prefix, sorted(QUERY_PREFIXES), n=1)
        hint = f' (did you mean "{close[0]}:"?)' if close else ""
        names = ", ".join(sorted(QUERY_PREFIXES))
        return token, (f'unknown prefix "{prefix}:"{hint}; declare it with PREFIX {prefix}: <…>, '
                       f"or use a predeclared one: {names}")
    return None


def _query_form(tokens: list[Token]):
    index = 0
    while index < len(tokens) and tokens[index].kind == "word" and tokens[index].text.upper() in ("PREFIX", "BASE"):
        index += 3 if tokens[index].text.upper() == "PREFIX" else 2
    if index >= len(tokens):
        return None, "expected a query form: SELECT, CONSTRUCT, ASK or DESCRIBE"
    token = tokens[index]
    if token.kind == "word" and token.text.upper() in (*QUERY_FORMS, *UPDATE_FORMS):
        return None
    forms = "SELECT, CONSTRUCT, ASK or DESCRIBE"
    return token, f"expected a query form: {forms}, found {_shown(token)}{_did_you_mean(token)}"


def _brackets(tokens: list[Token]):
    opened: list[Token] = []
    for token in tokens:
        if token.kind == "open":
            opened.append(token)
        elif token.kind == "close":
            if not opened:
                return token, f'unexpected "{token.text}": nothing is open'
            last = opened.pop()
            if PAIRS[last.text] != token.text:
                return token, (f'expected "{PAIRS[last.text]}" (for the "{last.text}" of line {last.line}, '
                               f'column {last.column}), found "{token.text}"')
    if opened:
        return opened[-1], f'"{opened[-1].text}" is never closed'
    return None


def _invalid_iri(tokens: list[Token], line: int, column: int):
    """The '<' that opens the IRI the engine could not read (the tokenizer reads a '<' that opens no IRI as '<')."""
    before = [t for t in tokens if t.text == "<" and (t.line, t.column) < (line, column)]
    if not before:
        return None
    return before[-1], "invalid IRI: an IRI between < and > has no spaces, quotes, braces, |, ^ or `"


def _by(tokens: list[Token]):
    for token, following in zip(tokens, tokens[1:] + [None], strict=True):
        if token.kind == "word" and token.text.upper() in ("GROUP", "ORDER") and \
                (following is None or following.text.upper() != "BY"):
            found = _shown(following) if following else "the end of the query"
            return following, f"expected BY after {token.text.upper()}, found {found}"
    return None


def _unknown_word(tokens: list[Token]):
    for index, token in enumerate(tokens):
        if token.kind != "word" or token.text.upper() in KEYWORDS:
            continue
        if index and tokens[index - 1].text == "^^":
            continue
        return token, f"unknown word {_shown(token)}{_did_you_mean(token)}"
    return None


def _did_you_mean(token: Token) -> str:
    close = difflib.get_close_matches(token.text.upper(), _SUGGESTIONS, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""
