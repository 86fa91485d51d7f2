"""Local services as query rewrites, applied to every query before the guard and the engine see it.

One chain for every path (the endpoint, the CLI, the query page through the endpoint): each step takes the query
text and returns it, unchanged when it has nothing to do. A step answers a service locally (WDQS's label service,
kg.wdqs), so that nothing is ever requested from the network and every limit still applies to the result.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from kg import wdqs

REWRITES: tuple[Callable[[str], str], ...] = (wdqs.label_service,)


@lru_cache(maxsize=1024)
def rewrite(text: str) -> str:
    """`text` through every rewrite of the chain, in order.

    :raise QueryError: a service call that a rewrite cannot answer (it says why).
    """
    for step in REWRITES:
        text = step(text)
    return text
