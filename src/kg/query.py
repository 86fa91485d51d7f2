"""Run SPARQL on the in-process rdflib dataset: the reference engine, used by the CLI and differential tests."""

from __future__ import annotations

from pyparsing import ParseBaseException
from rdflib import Dataset
from rdflib.query import Result

from kg.errors import QueryError
from kg.federation import NOTHING, AllowList, FederationRefused, allowing, check
from kg.namespaces import QUERY_PREFIXES
from kg.rewrite import rewrite
from kg.search import SearchIndex
from kg.sparql_errors import explain


def run(dataset: Dataset, text: str, allow: AllowList = NOTHING, search: SearchIndex | None = None) -> Result:
    """Evaluate `text` on the dataset's union graph; the project's and WDQS's prefixes may be used without PREFIX
    lines, and local services (WDQS's label service, and `text:query` when given a `search` index) are rewritten
    first (kg.rewrite).

    SERVICE calls are refused unless `allow` names their endpoint (kg.federation); none is allowed by default.
    """
    written, text = text, rewrite(text, search=search)
    check(text, allow)
    try:
        with allowing(allow):
            result = dataset.query(text, initNs=QUERY_PREFIXES)
            if result.type == "SELECT":
                result.bindings  # evaluate now, while the allow-list applies: rdflib evaluates lazily  # noqa: B018
            return result
    except FederationRefused:
        raise
    except ParseBaseException as exc:
        raise explain(written, f"error at {exc.lineno}:{exc.col}: {exc.msg}") from None
    except Exception as exc:  # rdflib raises pyparsing and many other types for a bad query
        if str(exc).startswith("Unknown namespace prefix"):
            raise explain(written) from None
        reason = " ".join(str(exc).split())
        raise QueryError(f"query failed: {reason}") from None
