"""Run SPARQL on the in-process rdflib dataset: the reference engine, used by the CLI and differential tests."""

from __future__ import annotations

from rdflib import Dataset
from rdflib.query import Result

from kg.errors import QueryError
from kg.federation import NOTHING, AllowList, FederationRefused, allowing, check
from kg.namespaces import QUERY_PREFIXES
from kg.rewrite import rewrite


def run(dataset: Dataset, text: str, allow: AllowList = NOTHING) -> Result:
    """Evaluate `text` on the dataset's union graph; the project's and WDQS's prefixes may be used without PREFIX
    lines, and local services (WDQS's label service) are rewritten first (kg.rewrite).

    SERVICE calls are refused unless `allow` names their endpoint (kg.federation); none is allowed by default.
    """
    text = rewrite(text)
    check(text, allow)
    try:
        with allowing(allow):
            result = dataset.query(text, initNs=QUERY_PREFIXES)
            if result.type == "SELECT":
                result.bindings  # evaluate now, while the allow-list applies: rdflib evaluates lazily  # noqa: B018
            return result
    except FederationRefused:
        raise
    except Exception as exc:  # rdflib raises pyparsing and many other types for a bad query
        reason = " ".join(str(exc).split())
        raise QueryError(f"query failed: {reason}") from None
