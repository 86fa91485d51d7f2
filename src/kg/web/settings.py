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
    Setting("max_rows", 10_000, "Most result rows (or triples) returned; longer results are truncated and flagged"),
    Setting("max_request_bytes", 100_000, "Largest request body or query string accepted (413 above it)"),
    Setting("max_nesting", 100, "Deepest bracket nesting accepted in a query (400 above it, before the engine)"),
    Setting("union_default_graph", True, "Use the union of the named graphs as the default graph"),
    Setting("cache_size", 512, "Number of query results kept per serving process (0 disables the cache)"),
    Setting("cors_origin", "*", "Value of Access-Control-Allow-Origin on the query endpoint (empty disables CORS)"),
    Setting("allow_service", (), "SPARQL endpoint that SERVICE may call (repeatable; also $KG_FEDERATION_ALLOW); "
            "none by default: federation is off"),
    Setting("engines", 1, "Query engine processes per serving process"),
    Setting("workers", 4, "Serving processes (gunicorn workers) of `kg serve`"),
    Setting("public_base", "", "Public URL that the graph's IRI base (https://w3id.org/morocco-ct-kg/) maps to, for "
                               "the links of the pages; empty: local paths"),
)


def defaults() -> dict[str, object]:
    return {s.key: s.default for s in SETTINGS}
