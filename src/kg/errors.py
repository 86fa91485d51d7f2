"""Typed errors: every failure a user can cause has a class and a one-line message."""

from __future__ import annotations

from pathlib import Path


class KGError(Exception):
    """Base class for errors the project reports to users (CLI message, HTTP 4xx)."""


class DataFileError(KGError):
    """A data, ontology or shapes file that cannot be read or parsed."""

    def __init__(self, path: Path, line: int | None, reason: str):
        self.path, self.line, self.reason = Path(path), line, reason
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {reason}")


class QueryError(KGError):
    """A SPARQL query that cannot be parsed or evaluated."""


class QueryRejected(QueryError):
    """A query refused before evaluation: an update, too deep a nesting, or an outbound request."""


class QueryTimeout(KGError):
    """A query stopped because it ran past its time limit."""


class EngineFailure(KGError):
    """The query engine died while evaluating a query (it is replaced; other queries are unaffected)."""


class RemoteError(KGError):
    """The remote SPARQL server of the `sparql` backend cannot be reached, failed, or answered something unreadable."""


class UnknownDataset(KGError):
    """A dataset name (inference mode) that the store does not hold."""
