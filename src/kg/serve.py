"""Run the web app under gunicorn (a production WSGI server): `kg serve`.

The app, and so the store, is built once in the gunicorn master and inherited by every worker; each worker forks
its own query engines on first use. Gunicorn's own worker timeout is set well past the query time limit, since the
engines, not gunicorn, enforce that limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask
from gunicorn.app.base import BaseApplication

from kg.store import Store
from kg.web import create_app

GUNICORN_GRACE = 30  # seconds beyond the query time limit before gunicorn itself would kill a silent worker


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
        "worker_class": "sync",
        "timeout": int(app.config["QUERY_TIMEOUT"]) + GUNICORN_GRACE,
        "graceful_timeout": 5,
        "keepalive": 5,
        "limit_request_line": 8190,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "post_worker_init": start_store,
        "worker_exit": close_store,
    }


def serve(host: str = "127.0.0.1", port: int = 5000, settings: Mapping[str, object] | None = None,
          store: Store | None = None) -> None:
    """Build the app on `store` with `settings` (Flask config keys) and serve it until interrupted."""
    app = create_app(settings, store)
    Server(app, gunicorn_options(app, host, port)).run()
