"""One renderer for every error: a status and a one-line reason, as plain text, JSON or (for browsers) HTML.

Library errors map to HTTP statuses in one table; werkzeug's own (404, 405, 413, 415) keep theirs. No traceback
or framework error page ever reaches a client.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from kg.errors import (
    EngineLimit,
    KGError,
    OutboundRefused,
    QueryError,
    QueryTimeout,
    RemoteFailure,
    RemoteTimeout,
    UnknownDataset,
)
from kg.federation import FederationRefused
from kg.formats import UnknownFormat
from kg.web.negotiation import NotAcceptable, best_media_type


class HTTPError(KGError):
    """An error raised by a view with its HTTP status."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


STATUS: tuple[tuple[type[KGError], int], ...] = (
    (HTTPError, 0),  # carries its own
    (NotAcceptable, 406),
    (UnknownFormat, 400),
    (UnknownDataset, 400),
    (FederationRefused, 403),  # a SERVICE call the allow-list does not name: a policy refusal, like an update
    (QueryError, 400),  # malformed or rejected (nesting, a FROM graph outside the dataset)
    (OutboundRefused, 403),  # an outbound request from an engine without network: refused by construction
    (QueryTimeout, 503),
    (EngineLimit, 503),  # every engine busy, a memory limit, an engine that died: retry later or ask less
    (RemoteFailure, 502),
    (RemoteTimeout, 504),
)
ERROR_TYPES = ("text/plain", "application/json", "text/html")


def status_of(exc: KGError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return exc.status if isinstance(exc, HTTPError) else status
    return 500


def render(status: int, reason: str, headers=None) -> Response:
    """The error response: plain text unless the client prefers JSON or HTML."""
    reason = " ".join(reason.split())
    media_type = best_media_type(request.headers.get("Accept"), ERROR_TYPES) or "text/plain"
    if media_type == "application/json":
        body = json.dumps({"status": status, "error": reason})
    elif media_type == "text/html":
        body = render_template("error.html", status=status, title=HTTPStatus(status).phrase, reason=reason)
    else:
        body = f"{status}: {reason}\n"
    response = Response(body, status=status, headers=headers, mimetype=media_type)
    counters = current_app.extensions.get("kg.counters")
    if counters is not None:
        counters.add("errors")
    return response


def _kg_error(exc: KGError) -> Response:
    retry_after = getattr(exc, "retry_after", None)
    return render(status_of(exc), str(exc), {"Retry-After": str(retry_after)} if retry_after else None)


def _http_error(exc: HTTPException) -> Response:
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return render(exc.code or 500, exc.description or exc.name, headers)


def init_app(app: Flask) -> None:
    app.register_error_handler(KGError, _kg_error)
    app.register_error_handler(HTTPException, _http_error)
