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


class UnknownDataset(KGError):
    """A dataset name (inference mode) that the store does not hold."""


class EngineLimit(KGError):
    """A query refused or stopped by a limit of the engines (503): the client may retry later, or a smaller query.

    `retry_after`, when set, is the number of seconds a client should wait (the HTTP `Retry-After` header).
    """

    retry_after: int | None = None


class EnginesBusy(EngineLimit):
    """Every query engine stayed busy for as long as a query may wait for one."""

    def __init__(self, reason: str, retry_after: int):
        super().__init__(reason)
        self.retry_after = retry_after


class EngineFailure(EngineLimit):
    """The query engine died or failed while evaluating a query (it is replaced; other queries are unaffected)."""


class MemoryLimit(EngineFailure):
    """A query needed more memory than an engine may use (the engine is replaced)."""


class OutboundRefused(KGError):
    """A query tried an outbound request (SERVICE) in an engine that has no network (HTTP 403)."""


class RemoteFailure(KGError):
    """A server we depend on failed (HTTP 502): a SERVICE endpoint that the allow-list names, or the remote SPARQL
    server behind `kg serve --store URL`, could not be reached or gave an unusable answer."""


class RemoteTimeout(KGError):
    """A federated query ran past its time limit, waiting on a SERVICE endpoint (HTTP 504)."""
