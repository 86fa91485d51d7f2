"""The Flask application: the SPARQL endpoint, the descriptions of the service and the data, /health, the query
page, the named queries, the Linked Data pages, search, browsing and the exports."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from kg.federation import AllowList
from kg.web import browse, descriptions, errors, exports, health, linked_data, resources, search, sparql, ui
from kg.web.settings import defaults


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: the settings' defaults, then `config` (setting keys such as QUERY_TIMEOUT, or STORE).

    ALLOW_SERVICE (endpoint IRIs) is the federation allow-list; $KG_FEDERATION_ALLOW is read by `kg serve`, not here.

    Without a STORE, the store is opened from `kg.graph.load()` (evaluation in worker processes).
    """
    app = Flask(__name__)
    app.config.from_mapping(defaults())
    if config:
        app.config.from_mapping(config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_REQUEST_BYTES"]
    allow = app.config["ALLOW_SERVICE"]
    app.extensions["kg.federation"] = AllowList.parse(allow) if isinstance(allow, str) else AllowList.of(allow)
    store = app.config.get("STORE")
    if store is None:
        from kg.store import open_store

        store = open_store(processes=app.config["ENGINES"])
    resources.init_app(app, store)
    errors.init_app(app)
    ui.init_app(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(descriptions.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(ui.bp)
    app.register_blueprint(linked_data.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(browse.bp)
    app.register_blueprint(exports.bp)
    return app
