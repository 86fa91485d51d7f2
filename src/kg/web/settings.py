"""Every server setting in one declarative table: it drives the `kg serve` flags, the app config and the docs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str

    @property
    def key(self) -> str:
        """The Flask config key."""
        return self.name.upper()

    @property
    def flag(self) -> str:
        """The `kg serve` option."""
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("query_timeout", 10.0, "Time limit of one query in seconds; a request's `timeout` parameter may lower it"),
    Setting("min_timeout", 0.1, "Smallest `timeout` a request may ask for, in seconds (400 below it): shorter limits "
            "would only make the engines restart"),
    Setting("max_rows", 10_000, "Most result rows (or triples) returned; longer results are truncated and flagged"),
    Setting("max_request_bytes", 100_000, "Largest request body or query string accepted (413 above it)"),
    Setting("max_nesting", 100, "Deepest bracket nesting accepted in a query (400 above it, before the engine)"),
    Setting("union_default_graph", True, "Use the union of the named graphs as the default graph"),
    Setting("cache_bytes", 64_000_000, "Bytes of query answers kept per serving process (0 disables the cache)"),
    Setting("max_response_bytes", 16_000_000, "Largest answer in bytes; larger answers are cut at a row and flagged "
            "like `max_rows`"),
    Setting("cors_origin", "*", "Value of Access-Control-Allow-Origin on the query endpoint (empty disables CORS)"),
    Setting("allow_service", (), "SPARQL endpoint that SERVICE may call (repeatable; also $KG_FEDERATION_ALLOW); "
            "none by default: federation is off"),
    Setting("engines", 3, "Query engine processes (without network) per serving process; with 2 or more, one is "
            "kept for queries that ran fast before"),
    Setting("engine_memory_mb", 0, "Memory (address space) each engine may add to what it inherits, in MB; 0: half "
            "the machine's memory shared among all engines, 256 to 2048 each"),
    Setting("queue_wait", 2.0, "Seconds a query waits for a free engine before a 503 with Retry-After"),
    Setting("federation_engines", 1, "Engine processes with network, only for queries whose SERVICE calls are all "
            "allowed (only with `allow_service`)"),
    Setting("workers", 1, "Serving processes (gunicorn workers) of `kg serve`; each has its own engines"),
    Setting("threads", 32, "Connections each serving process handles at once; a slow client holds a thread, never "
            "an engine"),
    Setting("public_base", "", "Public URL that the graph's IRI base (https://w3id.org/morocco-ct-kg/) maps to, for "
                               "the links of the pages; empty: local paths"),
)


def defaults() -> dict[str, object]:
    return {s.key: s.default for s in SETTINGS}
