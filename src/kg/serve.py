"""Run the web app under gunicorn (a production WSGI server): `kg serve`.

The app, and so the store, is built once in the gunicorn master and inherited by every worker; each worker forks
its own query engines before its first request. Workers are gunicorn's threaded workers: a connection, slow or
idle, holds a thread, while the queries run in the bounded pool of engines (`kg.store.isolation`), so slow clients
never hold an engine. Gunicorn's own worker timeout is set well past the query time limit, since the engines, not
gunicorn, enforce that limit; its own error pages (malformed requests, header limits) are replaced by ours: plain
text with a one-line reason, like every other error of the endpoint.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from flask import Flask
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import ParseException
from gunicorn.workers.gthread import ThreadWorker

from kg.errors import KGError
from kg.store import Store
from kg.store.isolation import NONE, IsolatedStore
from kg.web import create_app
from kg.web.errors import render

GUNICORN_GRACE = 30  # seconds beyond the query time limit before gunicorn itself would kill a silent worker
MAX_HEADER_FIELDS = 100
MAX_HEADER_BYTES = 8190


def _write_error(sock, status: int, reason: str, message: str) -> None:
    """Gunicorn's answer to a request it cannot parse, as our one-line plain text instead of its HTML page."""
    body = f"{status}: {' '.join((message or reason).split())}\n".encode("latin-1", "replace")
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


class Worker(ThreadWorker):
    """Gunicorn's threaded worker, answering the requests gunicorn itself refuses in our format."""

    def init_process(self) -> None:
        util.write_error = _write_error  # gunicorn has no hook for its error pages; this worker process only
        super().init_process()


def _malformed_body(exc: ParseException):
    """A body gunicorn cannot decode while the app reads it (for example a bad chunk size): 400, not 500."""
    return render(400, f"malformed request body: {exc}")


class Server(BaseApplication):
    """Gunicorn serving an already built Flask app."""

    def __init__(self, app: Flask, options: Mapping[str, object]):
        self.application, self.options = app, dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def gunicorn_options(app: Flask, host: str, port: int) -> dict[str, object]:
    def start_store(worker) -> None:
        app.extensions["kg.store"].start()

    def close_store(server, worker) -> None:
        app.extensions["kg.store"].close()

    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": app.config["WORKERS"],
        "worker_class": Worker,
        "threads": app.config["THREADS"],
        "timeout": int(app.config["QUERY_TIMEOUT"]) + GUNICORN_GRACE,
        "graceful_timeout": 5,
        "keepalive": 5,
        "limit_request_line": 8190,
        "limit_request_fields": MAX_HEADER_FIELDS,
        "limit_request_field_size": MAX_HEADER_BYTES,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "post_worker_init": start_store,
        "worker_exit": close_store,
    }


def check_containment(app: Flask) -> str:
    """Find how the engines are kept off the network, say it, and refuse federation if they cannot be.

    :raise KGError: federation is on (`allow_service`) but no containment is possible.
    """
    store = app.extensions["kg.store"]
    containment = store.probe() if isinstance(store, IsolatedStore) else store.containment
    if containment == NONE:
        print("WARNING: the query engines cannot be kept off the network on this platform (no network namespace, "
              "no seccomp filter): only the query check stands between a SERVICE call and the network",
              file=sys.stderr, flush=True)
        if app.config["ALLOW_SERVICE"]:
            raise KGError("federation refused: it needs query engines without network for every other query, "
                          "and this platform allows neither a network namespace nor a seccomp filter")
    else:
        described = store.describe() if isinstance(store, IsolatedStore) else f"containment: {containment}"
        print(f"query engines: {described}", file=sys.stderr, flush=True)
    return containment


def serve(host: str = "127.0.0.1", port: int = 5000, settings: Mapping[str, object] | None = None,
          store: Store | None = None) -> None:
    """Build the app on `store` with `settings` (Flask config keys) and serve it until interrupted.

    :raise KGError: federation asked for on a platform where the engines cannot be contained.
    """
    app = create_app(settings, store)
    app.register_error_handler(ParseException, _malformed_body)
    check_containment(app)
    Server(app, gunicorn_options(app, host, port)).run()
