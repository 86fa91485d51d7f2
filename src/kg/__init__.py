"""The Morocco counterterrorism knowledge graph: load, query, validate and export it."""

from kg.graph import load
from kg.query import run as query
from kg.validate import validate

__all__ = ["load", "query", "validate"]
