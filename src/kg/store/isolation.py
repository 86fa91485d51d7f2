"""Evaluate queries in worker processes that are killed and replaced past the time limit or when they crash.

Each process that serves requests (a gunicorn worker) forks its own engines on first use, so they inherit the
loaded store without reloading it. A request goes to an idle engine over a pipe; the caller waits at most the
request's timeout, then kills that engine (which stops the work for certain) and forks a fresh one.
"""

from __future__ import annotations

import ctypes
import faulthandler
import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection

from kg.errors import EngineFailure, KGError, QueryTimeout
from kg.formats import Format
from kg.store import QueryRequest, QueryResponse, Store

_FORK = multiprocessing.get_context("fork")
log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def _engine_main(conn: Connection, store: Store) -> None:
    """Serve requests from `conn` until the pipe closes; die with the parent."""
    faulthandler.disable()  # a crash is reported once, by the parent, not as an inherited stack dump
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the closed pipe still ends an idle engine
        pass
    # Drop every inherited descriptor but the pipe (and stdio): a client's socket held open here would keep its
    # connection from closing. The in-memory pyoxigraph store holds no descriptors.
    keep = conn.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: QueryResponse | KGError = store.evaluate(request)
        except KGError as exc:
            reply = exc
        conn.send(reply)


class _Engine:
    def __init__(self, store: Store):
        self.conn, child = _FORK.Pipe()
        self.process = _FORK.Process(target=_engine_main, args=(child, store), daemon=True, name="kg-engine")
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class IsolatedStore(Store):
    """A store whose evaluation runs in up to `processes` forked engines per serving process."""

    def __init__(self, inner: Store, *, processes: int = 1):
        self.inner = inner
        self.version = inner.version
        self.processes = processes
        self._owner = None
        self._reset()

    def _reset(self) -> None:
        self._owner = os.getpid()
        self._idle: queue.LifoQueue[_Engine] = queue.LifoQueue()
        self._started = 0
        self._lock = threading.Lock()

    @property
    def datasets(self) -> tuple[str, ...]:
        return self.inner.datasets

    def graphs(self, dataset: str) -> frozenset[str]:
        return self.inner.graphs(dataset)

    def export(self, dataset: str, fmt: Format) -> Iterator[bytes]:
        """Exports run here, not in an engine: they read the whole dataset, with no query to bound."""
        return self.inner.export(dataset, fmt)

    def start(self) -> None:
        """Fork the engines now (a gunicorn worker does it before its first request) rather than on first use."""
        if self._owner != os.getpid():
            self._reset()
        with self._lock:
            while self._started < self.processes:
                self._started += 1
                self._idle.put(_Engine(self.inner))

    def _acquire(self) -> _Engine:
        if self._owner != os.getpid():  # forked: the parent's engines and pipes are not ours to use
            self._reset()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._started < self.processes:
                self._started += 1
                return _Engine(self.inner)
        return self._idle.get()

    def _replace(self, engine: _Engine) -> None:
        engine.stop()
        self._idle.put(_Engine(self.inner))

    def evaluate(self, request: QueryRequest) -> QueryResponse:
        engine = self._acquire()
        try:
            engine.conn.send(request)
            if not engine.conn.poll(request.timeout):
                self._replace(engine)
                raise QueryTimeout(f"query stopped after the time limit of {request.timeout:g} s")
            reply = engine.conn.recv()
        except (EOFError, OSError):
            engine.process.join(1)
            log.warning("query engine %s died (exit code %s); replacing it", engine.process.pid,
                        engine.process.exitcode)
            self._replace(engine)
            raise EngineFailure("the query engine died while evaluating this query; it has been restarted") from None
        self._idle.put(engine)
        if isinstance(reply, KGError):
            raise reply
        return reply

    def close(self) -> None:
        if self._owner != os.getpid():
            return
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                break
        self._started = 0
