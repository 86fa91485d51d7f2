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
