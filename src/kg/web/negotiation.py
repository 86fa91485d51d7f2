"""Content negotiation: one Accept parser, and the choice of a format from a kg.formats table.

An explicit `format` / `output` / `results` parameter overrides Accept (SPARQLWrapper sends all three, sometimes
twice: a name and a media type). Ties between equally acceptable formats go to the one the client listed first,
then to the table's default.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.errors import KGError
from kg.formats import Format, UnknownFormat, lookup

FORMAT_PARAMETERS = ("format", "output", "results")


class NotAcceptable(KGError):
    """No format the endpoint can produce fits the request (HTTP 406)."""


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    position: int

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")

    def matches(self, media_type: str) -> bool:
        kind, _, sub = media_type.partition("/")
        return self.type in ("*", kind) and self.subtype in ("*", sub)


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header, malformed entries skipped; an empty header accepts anything."""
    ranges = []
    for position, item in enumerate((header or "").split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(kind, sub, q, position))
    return ranges or [MediaRange("*", "*", 1.0, 0)]


def media_types(fmt: Format) -> tuple[str, ...]:
    return (fmt.media_type, *(a for a in fmt.aliases if "/" in a))


def best_media_type(header: str | None, offered: tuple[str, ...], aliases: frozenset[str] = frozenset()) -> str | None:
    """The offered media type the header accepts most (first offered wins ties), or None.

    `aliases` are offered only to clients that name them: a wildcard matches the canonical media type alone.
    """
    ranges = parse_accept(header)
    scored = []
    for index, media_type in enumerate(offered):
        matching = [r for r in ranges if r.matches(media_type) and (r.specificity == 2 or media_type not in aliases)]
        if not matching:
            continue
        best = max(matching, key=lambda r: (r.specificity, -r.position))
        if best.q > 0:
            scored.append((best.q, best.specificity, -best.position, -index, media_type))
    return max(scored)[-1] if scored else None


def choose(table: tuple[Format, ...], default: Format, accept: str | None, requested: list[str],
           other_tables: tuple[tuple[Format, ...], ...] = (), what: str = "this query") -> Format:
    """The format for a response: the first `requested` name that `table` knows, else the best Accept match.

    :raise UnknownFormat: a requested name that no table knows.
    :raise NotAcceptable: a requested format that does not apply, or an Accept header that nothing fits.
    """
    for name in requested:
        if not name:
            continue
        try:
            return lookup(table, name)
        except UnknownFormat:
            for other in other_tables:
                try:
                    lookup(other, name)
                except UnknownFormat:
                    continue
                raise NotAcceptable(f"format {name!r} does not apply to {what}; "
                                    f"available: {', '.join(f.name for f in table)}") from None
            raise
    ordered = (default, *(f for f in table if f is not default))
    offered = tuple(m for f in ordered for m in media_types(f))
    aliases = frozenset(m for f in ordered for m in media_types(f)[1:])
    chosen = best_media_type(accept, offered, aliases)
    if chosen is None:
        raise NotAcceptable(f"no acceptable format for {what} in Accept {accept!r}; "
                            f"available: {', '.join(f.media_type for f in table)}")
    return next(f for f in ordered if chosen in media_types(f))
