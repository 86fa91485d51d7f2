"""SPARQL text as tokens with their positions: what the query rewrites and the syntax-error messages work on.

Comments, strings and IRIs are whole tokens, so a keyword or a brace inside them is never taken for one (the rewrites
must not be fooled by a `SERVICE` in a comment). This is not a parser: the engine's parser decides what is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Order matters: comments, strings and IRIs hide brackets and keywords; a '<' that does not open an IRIREF is an
# operator (the SPARQL grammar's longest-match rule). An unterminated string is one `unterminated` token.
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<unterminated>'''|\"\"\"|['"][^\n]*)
    | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
    | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
    | (?P<pname>(?:[^\W\d][\w.-]*)?:(?:[\w:%\\-]|\.(?=[\w:%-]))*)
    | (?P<language>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
    | (?P<number>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
    | (?P<word>[^\W\d]\w*)
    | (?P<open>[({\[])
    | (?P<close>[)}\]])
    | (?P<other>\^\^|\|\||&&|!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)
PAIRS = {"(": ")", "{": "}", "[": "]"}


@dataclass(frozen=True)
class Token:
    kind: str  # space, comment, string, unterminated, iri, var, pname, language, number, word, open, close, other
    text: str
    start: int  # offset in the text
    line: int  # 1-based
    column: int  # 1-based, in characters

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def significant(self) -> bool:
        return self.kind not in ("space", "comment")


def tokenize(text: str) -> list[Token]:
    """Every token of `text`, spaces and comments included, so that the texts of the tokens join back to `text`."""
    tokens, line, line_start = [], 1, 0
    for match in _TOKEN.finditer(text):
        start = match.start()
        tokens.append(Token(match.lastgroup, match.group(), start, line, start - line_start + 1))
        newlines = match.group().count("\n")
        if newlines:
            line += newlines
            line_start = start + match.group().rindex("\n") + 1
    return tokens


def significant(text: str) -> list[Token]:
    """The tokens of `text` without spaces and comments."""
    return [t for t in tokenize(text) if t.significant]


def matching(tokens: list[Token], index: int) -> int | None:
    """The index of the bracket that closes `tokens[index]`, or None if it is never closed."""
    depth = 0
    for position in range(index, len(tokens)):
        kind = tokens[position].kind
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                return position
    return None


def declared_prefixes(tokens: list[Token]) -> dict[str, str]:
    """The PREFIX declarations of a query (significant tokens), prefix -> namespace IRI."""
    declared = {}
    for index, token in enumerate(tokens[:-2]):
        if token.kind == "word" and token.text.upper() == "PREFIX" and tokens[index + 1].kind == "pname" \
                and tokens[index + 2].kind == "iri":
            declared[tokens[index + 1].text[:-1]] = tokens[index + 2].text[1:-1]
    return declared
