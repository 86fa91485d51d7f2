"""Locate a phrase in a source text: the offsets, prefix and suffix of a Web Annotation text selector.

Curators quote a short phrase of a document as a claim's evidence; `kg locate` computes where it is, so offsets,
prefix and suffix are never typed by hand, and tests/test_coverage.py checks the shipped selectors with the same
function against the article.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kg.errors import KGError

# Code points of context kept before and after a quote: enough to tell apart a phrase that occurs twice.
CONTEXT = 16


class PhraseNotLocated(KGError):
    """A phrase that does not occur in the source text, or occurs more than once and was not chosen."""


@dataclass(frozen=True)
class Location:
    """Where a phrase is in a text: offsets in Unicode code points from 0, end exclusive, and the text around it."""

    exact: str
    start: int
    end: int
    prefix: str
    suffix: str

    def turtle(self) -> str:
        """The selector's properties as they are written in data/claims.ttl."""
        return (f"oa:exact {_string(self.exact)} ; oa:start {self.start} ; oa:end {self.end} ;\n"
                f"    oa:prefix {_string(self.prefix)} ; oa:suffix {_string(self.suffix)}")


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def at(text: str, start: int, end: int) -> Location:
    """The location of text[start:end], with up to CONTEXT code points of prefix and suffix."""
    return Location(text[start:end], start, end, text[max(0, start - CONTEXT):start], text[end:end + CONTEXT])


def occurrences(text: str, phrase: str) -> list[int]:
    """The start offsets of every occurrence of `phrase` in `text`, overlapping ones included."""
    starts, start = [], text.find(phrase)
    while phrase and start != -1:
        starts.append(start)
        start = text.find(phrase, start + 1)
    return starts


def locate(text: str, phrase: str, source: str | Path = "the text", start: int | None = None) -> Location:
    """The one occurrence of `phrase` in `text` (or the one at `start`); PhraseNotLocated names `source` otherwise."""
    found = occurrences(text, phrase)
    if start is not None:
        if start not in found:
            raise PhraseNotLocated(f"{source}: {phrase!r} does not occur at {start}{_listed(found, len(phrase))}")
        found = [start]
    if not found:
        raise PhraseNotLocated(f"{source}: {phrase!r} does not occur")
    if len(found) > 1:
        raise PhraseNotLocated(f"{source}: {phrase!r} occurs {len(found)} times{_listed(found, len(phrase))}; "
                               "choose one with --at START")
    return at(text, found[0], found[0] + len(phrase))


def _listed(starts: list[int], length: int) -> str:
    return (": at " + ", ".join(f"{s}-{s + length}" for s in starts)) if starts else ""
