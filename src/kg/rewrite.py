"""Local services as query rewrites, applied to every query before the guard and the engine see it.

One chain for every path (the endpoint, the CLI, the query page through the endpoint): each step takes the query
text and returns it, unchanged when it has nothing to do. A step answers a service locally, so that nothing is ever
requested from the network and every limit (nesting, time, rows) still applies to what the engine runs. In order:
WDQS's label service (kg.wdqs), then the full-text pattern `?s text:query "words"` (kg.search), replaced by a VALUES
block of its hits.
"""

from __future__ import annotations

from functools import lru_cache

from kg import search as full_text
from kg import wdqs


@lru_cache(maxsize=1024)
def rewrite(text: str, *, search: full_text.SearchIndex | None = None) -> str:
    """`text` through every rewrite of the chain; `search` answers text:query (without one, text:query is refused).

    :raise QueryError: a service call that a rewrite cannot answer, or a malformed local service pattern.
    """
    return full_text.rewrite(wdqs.label_service(text), search)
