"""Full-text search: /search (a page of hits with the matched words marked) and its JSON twin /search.json."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from kg.search import MAX_HITS
from kg.web.errors import HTTPError
from kg.web.resources import get_search
from kg.web.terms import link

bp = Blueprint("search", __name__)

MAX_QUERY_CHARS = 200


def _hits() -> tuple[str, list[dict]]:
    """The search words and the hits as plain data. :raise 400: too long a query or a bad limit."""
    words = request.args.get("q", "").strip()
    if len(words) > MAX_QUERY_CHARS:
        raise HTTPError(400, f"search text longer than {MAX_QUERY_CHARS} characters")
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        raise HTTPError(400, "limit must be a whole number") from None
    if not 1 <= limit <= MAX_HITS:
        raise HTTPError(400, f"limit must be between 1 and {MAX_HITS}")
    base = current_app.config["PUBLIC_BASE"]
    hits = [{
        "iri": hit.iri, "href": link(hit.iri, base), "label": hit.label, "type": hit.type, "score": hit.score,
        "matches": [{"field": m.field, "text": m.text,
                     "marks": [[start, start + len(piece)] for start, piece, marked in _offsets(m.segments) if marked]}
                    for m in hit.matches],
        "segments": [m.segments for m in hit.matches],
    } for hit in get_search().search(words, limit)]
    return words, hits


def _offsets(segments):
    start = 0
    for piece, marked in segments:
        yield start, piece, marked
        start += len(piece)


@bp.route("/search")
def search() -> str:
    """Hits for `q`, each linked to its page, with the matching words marked. :raise 400: bad parameters."""
    words, hits = _hits()
    return render_template("search.html", words=words, hits=hits)


@bp.route("/search.json")
def search_json() -> Response:
    """The hits for `q` as JSON: iri, label, type, score, and each matching field with the [start, end) of its
    marked words. :raise 400: bad parameters."""
    words, hits = _hits()
    for hit in hits:
        del hit["segments"]
    return jsonify({"query": words, "hits": hits})
