"""The Flask application: the SPARQL endpoint, the descriptions of the service and the data, /health, the query
page, the named queries, the Linked Data pages, search, browsing and the exports."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from kg.errors import KGError
from kg.federation import AllowList
from kg.store import Store
from kg.web import browse, descriptions, errors, exports, headers, health, linked_data, resources, search, sparql, ui
from kg.web.settings import defaults


def create_app(config: Mapping[str, object] | None = None, store: Store | None = None) -> Flask:
    """Build the app on `store`: the settings' defaults, then `config` (setting keys such as QUERY_TIMEOUT).

    ALLOW_SERVICE (endpoint IRIs) is the federation allow-list; $KG_FEDERATION_ALLOW is read by `kg serve`, not here.
    The app never parses or reasons: `kg.store.open_store` (which `kg serve` calls) builds the store it is handed.
    """
    if store is None:
        raise KGError("create_app needs a store: kg.store.open_store() builds the embedded one")
    app = Flask(__name__)
    app.config.from_mapping(defaults())
    if config:
        app.config.from_mapping(config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_REQUEST_BYTES"]
    allow = app.config["ALLOW_SERVICE"]
    app.extensions["kg.federation"] = AllowList.parse(allow) if isinstance(allow, str) else AllowList.of(allow)
    resources.init_app(app, store)
    errors.init_app(app)
    headers.init_app(app)
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
