"""The Morocco counterterrorism knowledge graph: load, query, validate and export it.

Importing `kg` loads neither a reasoner nor pySHACL (the web layer imports it): `kg.build` and `kg.validate` import
them when they run.
"""

from kg.graph import load
from kg.query import run as query
from kg.validate import validate

__all__ = ["load", "query", "validate"]
