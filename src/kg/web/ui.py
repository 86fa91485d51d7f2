"""The query page at / (editor, examples, results from /sparql) and the named queries at /queries/<name>.

The named queries (queries/*.rq, the competency questions) are read once when the app is made.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for

from kg.inference import BY_NAME
from kg.namespaces import PREFIXES
from kg.queries import NamedQuery, named_queries
from kg.store import DEFAULT_DATASET
from kg.web.errors import HTTPError
from kg.web.resources import get_store
from kg.web.sparql import Operation, answer

bp = Blueprint("ui", __name__)


CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
DEFAULT_QUERY = """SELECT ?claim ?value ?label WHERE {
  ?claim a ct:CountClaim ; schema:value ?value ; rdfs:label ?label .
}
ORDER BY DESC(?value)
LIMIT 20
"""


def add_security_headers(response: Response) -> Response:
    """No script, style or frame from anywhere but this server; the pages run no inline script."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


bp.after_request(add_security_headers)


def init_app(app: Flask) -> None:
    app.extensions["kg.queries"] = named_queries()


def get_queries() -> dict[str, NamedQuery]:
    return current_app.extensions["kg.queries"]


def get_query(name: str) -> NamedQuery:
    """:raise 404: no named query of that name."""
    try:
        return get_queries()[name]
    except KeyError:
        raise HTTPError(404, f"no named query {name!r}") from None


@bp.route("/")
def index() -> str:
    """The query page; `?query=` fills the editor and runs it (a permalink)."""
    config = {
        "endpoint": url_for("sparql.sparql"),
        "base": current_app.config["PUBLIC_BASE"].rstrip("/"),
        "prefixes": {prefix: str(ns) for prefix, ns in PREFIXES.items()},
        "examples": {q.name: q.text for q in get_queries().values()},
        "defaultInference": DEFAULT_DATASET,
    }
    query = request.args.get("query")
    modes = get_store().datasets
    inference = request.args.get("inference", DEFAULT_DATASET)
    return render_template("query.html", query=query or DEFAULT_QUERY, run=bool(query), config=config,
                           examples=get_queries().values(), default_inference=DEFAULT_DATASET,
                           inference=inference if inference in modes else DEFAULT_DATASET,
                           inference_modes=[(m, BY_NAME[m].label if m in BY_NAME else m) for m in modes])


@bp.route("/queries/<name>")
def named_query(name: str) -> str:
    """A named query: its title, description, question and text. :raise 404: unknown name."""
    return render_template("named_query.html", named=get_query(name))


@bp.route("/queries/<name>.json")
def named_query_results(name: str) -> Response:
    """A named query's results as SPARQL JSON (JSON-LD for a graph query). :raise 404: unknown name."""
    return answer(Operation(text=get_query(name).text, formats=("application/json",)))
