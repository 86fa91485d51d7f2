"""The query page at / (editor, examples, results from /sparql) and the named queries (an index at /queries, a page
each at /queries/<name>, with a form for their parameters).

The named queries (queries/*.rq, the competency questions) are read once when the app is made.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request, url_for

from kg.inference import label as inference_label
from kg.namespaces import PREFIXES
from kg.queries import NamedQuery, named_queries
from kg.store import DEFAULT_DATASET, QueryRequest
from kg.web.errors import HTTPError
from kg.web.resources import get_store
from kg.web.sparql import Operation, answer

bp = Blueprint("ui", __name__)


DEFAULT_QUERY = """SELECT ?claim ?value ?label WHERE {
  ?claim a ct:CountClaim ; schema:value ?value ; rdfs:label ?label .
}
ORDER BY DESC(?value)
LIMIT 20
"""





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
                           inference_modes=[(m, inference_label(m)) for m in modes])


def _index_rows() -> list[dict]:
    """One dict per named query: the columns of /queries.json (parameters as objects) and /queries.csv."""
    return [{"name": q.name, "title": q.title, "question": q.question, "description": q.description,
             "parameters": [dataclasses.asdict(p) for p in q.parameters],
             "page": url_for("ui.named_query", name=q.name), "results": url_for("ui.named_query_results", name=q.name)}
            for q in get_queries().values()]


@bp.route("/queries")
def named_queries_index() -> str:
    """Every named query with the question it answers."""
    return render_template("queries.html", queries=get_queries().values())


@bp.route("/queries.json")
def named_queries_json() -> Response:
    """The named queries as JSON: name, title, question, description, parameters, page and results URLs."""
    return jsonify({"queries": _index_rows()})


@bp.route("/queries.csv")
def named_queries_csv() -> Response:
    """The named queries as CSV, one row each, the columns of the JSON twin (parameter names space-separated)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "title", "question", "description", "parameters", "page", "results"])
    for row in _index_rows():
        writer.writerow([*(row[k] for k in ("name", "title", "question", "description")),
                         " ".join(p["name"] for p in row["parameters"]), row["page"], row["results"]])
    return Response(out.getvalue(), mimetype="text/csv")


def _bound_text(named: NamedQuery) -> str:
    """The query with the request's parameter values bound. :raise 400: a value that is not of its type."""
    return named.bind({p.name: request.args.get(p.name, "") for p in named.parameters})


def _results(text: str) -> dict:
    """The SPARQL JSON answer of a SELECT query through the store, capped like any page's query."""
    store, config = get_store(), current_app.config
    response = store.evaluate(QueryRequest(text, "application/sparql-results+json", store.datasets[0],
                                           timeout=config["QUERY_TIMEOUT"], max_rows=config["MAX_ROWS"]))
    return {**json.loads(response.body), "truncated": response.truncated}


@bp.route("/queries/<name>")
def named_query(name: str) -> str:
    """A named query: its title, description, question, text, a form for its parameters, and its results with
    the parameters of the URL bound (as Datasette shows a canned query).

    :raise 404: unknown name; :raise 400: a parameter value that is not of its type.
    """
    named = get_query(name)
    values = {p.name: request.args.get(p.name, p.default) for p in named.parameters}
    bound = _bound_text(named)
    return render_template("named_query.html", named=named, values=values, bound=bound, results=_results(bound),
                           args={k: v for k, v in values.items() if v})


@bp.route("/queries/<name>.json")
def named_query_results(name: str) -> Response:
    """A named query's results as SPARQL JSON (JSON-LD for a graph query), its parameters bound from the URL.

    :raise 404: unknown name; :raise 400: a parameter value that is not of its type.
    """
    return answer(Operation(text=_bound_text(get_query(name)), formats=("application/json",)))


@bp.route("/queries/<name>.csv")
def named_query_csv(name: str) -> Response:
    """A named query's results as SPARQL CSV, its parameters bound from the URL.

    :raise 404: unknown name; :raise 400: a parameter value that is not of its type; :raise 406: a graph query.
    """
    return answer(Operation(text=_bound_text(get_query(name)), formats=("text/csv",)))
