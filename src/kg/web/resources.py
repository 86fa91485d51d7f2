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

COUNTERS = ("queries", "cache_hits", "not_modified", "errors", "timeouts", "engine_failures", "engines_busy")


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
    """A least-recently-used map from a query's cache key to its serialized result, per serving process, holding at
    most `max_bytes` of answers (bodies and keys, which hold the query text); an answer larger than a quarter of
    that is not kept, so one answer cannot empty the cache."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[tuple, tuple[QueryResponse, int]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _size(key: tuple, response: QueryResponse) -> int:
        return len(response.body) + sum(len(part) for part in key if isinstance(part, str | bytes)) + 200

    def get(self, key: tuple) -> QueryResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: tuple, response: QueryResponse) -> None:
        size = self._size(key, response)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._entries:
                self.bytes -= self._entries.pop(key)[1]
            self._entries[key] = (response, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                self.bytes -= self._entries.popitem(last=False)[1][1]


def init_app(app: Flask, store: Store) -> None:
    app.extensions["kg.store"] = store
    app.extensions["kg.search"] = SearchIndex(store, timeout=app.config["QUERY_TIMEOUT"])  # built on first use
    app.extensions["kg.cache"] = ResultCache(app.config["CACHE_BYTES"])
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
