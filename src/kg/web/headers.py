"""The header policy, applied to every response of the app (pages, API, exports, errors) in one place.

- `X-Content-Type-Options: nosniff` everywhere, so no answer is ever run as something else;
- on HTML, a CSP that allows only this server's own assets (the pages run no inline script or style), error pages
  included;
- CORS on every machine-readable answer (the endpoint, exports, the JSON and CSV twins of the pages, their errors)
  and on no HTML page; a preflight advertises exactly the methods the route accepts.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

API_BLUEPRINTS = {"sparql", "descriptions", "exports", "health"}
TWINS = (".json", ".csv", ".<ext>")  # the machine-readable twins of the pages (/claims.csv, /classes.<ext>)
CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
EXPOSED_HEADERS = "ETag, Result-Truncated, Result-Rows, KG-Unknown-Graphs"


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
    return response


def is_api() -> bool:
    """Whether this request is for a read-only API route: the endpoint, its descriptions, exports, or a twin."""
    rule = request.url_rule
    return request.blueprint in API_BLUEPRINTS or (rule is not None and rule.rule.endswith(TWINS))


def add_cors_headers(response: Response) -> Response:
    """Let browser clients on other origins read the machine-readable answers (and their errors)."""
    origin = current_app.config["CORS_ORIGIN"]
    if not origin or not is_api():
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        methods = request.url_rule.methods - {"HEAD"} if request.url_rule else {"GET", "OPTIONS"}
        allowed = [m for m in ("GET", "POST", "OPTIONS") if m in methods]
        response.headers["Access-Control-Allow-Methods"] = ", ".join(allowed)
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    if origin != "*":
        response.vary.add("Origin")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_cors_headers)
    app.after_request(add_security_headers)
