"""Local services as query rewrites: applied to a query's text before the guard and the engine see it.

A local service is answered here, by rewriting the query into plain SPARQL, so it is never an outbound request and
every limit (nesting, time, rows) still applies to what the engine runs. The chain, in order:
the full-text search pattern `?s text:query "words"` (kg.search), replaced by a VALUES block of its hits.
"""

from __future__ import annotations

from kg import search as full_text


def rewrite(text: str, *, search: full_text.SearchIndex | None = None) -> str:
    """`text` with every local service pattern replaced; `search` answers text:query (none: it is refused).

    :raise QueryError: a malformed local service pattern.
    """
    return full_text.rewrite(text, search)
