"""Run SPARQL on the in-process rdflib dataset: the reference engine, used by the CLI and differential tests."""

from __future__ import annotations

from rdflib import Dataset
from rdflib.query import Result

from kg.errors import QueryError
from kg.namespaces import PREFIXES


def run(dataset: Dataset, text: str) -> Result:
    """Evaluate `text` on the dataset's union graph; the project's prefixes may be used without PREFIX lines."""
    try:
        return dataset.query(text, initNs=dict(PREFIXES))
    except Exception as exc:  # rdflib raises pyparsing and many other types for a bad query
        reason = " ".join(str(exc).split())
        raise QueryError(f"query failed: {reason}") from None
