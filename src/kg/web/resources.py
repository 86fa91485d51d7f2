"""The app's shared resources (store, search index, result cache, counters), registered once and reached through
accessors."""

from __future__ import annotations

import multiprocessing
import threading
from collections import OrderedDict

from flask import Flask, current_app

from kg.federation import AllowList
from kg.search import SearchIndex
from kg.store import QueryResponse, Store

COUNTERS = ("queries", "cache_hits", "not_modified", "errors", "timeouts", "engine_failures")


class Counters:
    """Counters in shared memory: made before gunicorn forks its workers, so /health sums every worker's requests."""

    def __init__(self):
        self._values = multiprocessing.get_context("fork").Array("q", len(COUNTERS))

    def add(self, name: str, n: int = 1) -> None:
        with self._values.get_lock():
            self._values[COUNTERS.index(name)] += n

    def snapshot(self) -> dict[str, int]:
        with self._values.get_lock():
            return dict(zip(COUNTERS, self._values[:], strict=True))


class ResultCache:
    """A least-recently-used map from a query's cache key to its serialized result, per serving process."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[tuple, QueryResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> QueryResponse | None:
        with self._lock:
            response = self._entries.get(key)
            if response is not None:
                self._entries.move_to_end(key)
            return response

    def put(self, key: tuple, response: QueryResponse) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = response
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def init_app(app: Flask, store: Store) -> None:
    app.extensions["kg.store"] = store
    app.extensions["kg.search"] = SearchIndex(store, timeout=app.config["QUERY_TIMEOUT"])  # built on first use
    app.extensions["kg.cache"] = ResultCache(app.config["CACHE_SIZE"])
    app.extensions["kg.counters"] = Counters()


def get_store() -> Store:
    return current_app.extensions["kg.store"]


def get_search() -> SearchIndex:
    """The full-text index of the store (kg.search), built from the store itself so it never drifts from it."""
    return current_app.extensions["kg.search"]


def get_cache() -> ResultCache:
    return current_app.extensions["kg.cache"]


def get_counters() -> Counters:
    return current_app.extensions["kg.counters"]


def get_allow_list() -> AllowList:
    """The endpoints SERVICE may call (the `allow_service` setting); empty: federation is off."""
    return current_app.extensions["kg.federation"]
