"""/health for process managers: 200 when the engine answers a trivial query, 503 when not; with the engines'
containment and the counters."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify

from kg.errors import KGError
from kg.store import QueryRequest
from kg.web.resources import get_counters, get_store

bp = Blueprint("health", __name__)
PROBE_TIMEOUT = 5.0


@bp.route("/health", methods=["GET"])
def health():
    """Report whether the engine answers, the dataset version, how the engines are kept off the network, and the
    counters summed over every worker."""
    store = get_store()
    started = time.perf_counter()
    try:
        store.evaluate(QueryRequest("ASK {}", "application/sparql-results+json", store.datasets[0],
                                    timeout=PROBE_TIMEOUT))
        status, code = "ok", 200
    except KGError as exc:
        status, code = f"failing: {exc}", 503
    body = {
        "status": status,
        "version": store.version,
        "datasets": list(store.datasets),
        "containment": store.containment,
        "probe_ms": round((time.perf_counter() - started) * 1000, 3),
        "counters": get_counters().snapshot(),
    }
    response = jsonify(body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response
