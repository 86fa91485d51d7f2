"""Evaluate queries in engine processes that have no network and bounded memory, and that are killed and replaced
past the time limit or when they fail.

Each serving process (a gunicorn worker) forks its own engines, so they inherit the loaded store without reloading
it. Right after the fork, before it reads any query, an engine contains itself:
- network: a new network namespace with no interface up (as root; otherwise a user namespace with it), or else a
  seccomp filter that refuses IPv4 and IPv6 sockets. The engine then checks that a connect to a loopback listener
  of its parent fails, and tells the parent which containment holds (`none` if nothing did). So a SERVICE call that a
  query check missed cannot leave the machine: outbound requests are impossible by construction.
- memory: an address-space limit (RLIMIT_AS) of what it inherited plus `memory_mb`; a query past it gets 503 and
  the engine is replaced.

Engines form a bounded pool. With two engines or more, one is kept for queries that ran fast before (their text
hashed), so a short query is answered while the others run long ones; a query waits at most `queue_wait` seconds
for an engine, then gets 503 with Retry-After. Queries with SERVICE calls (all allowed, as the query check decided)
run only on separate federation engines, which keep the network, and only when an allow-list is set.
"""

from __future__ import annotations

import ctypes
import errno
import faulthandler
import hashlib
import logging
import math
import multiprocessing
import os
import resource
import signal
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection

from kg.errors import (
    EngineFailure,
    EnginesBusy,
    KGError,
    MemoryLimit,
    OutboundRefused,
    QueryTimeout,
    RemoteFailure,
    RemoteTimeout,
)
from kg.formats import Format
from kg.store import QueryRequest, QueryResponse, Store

_FORK = multiprocessing.get_context("fork")
log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000

NAMESPACE, USER_NAMESPACE, SECCOMP, NONE = "network namespace", "user and network namespace", "seccomp", "none"
CONTAINMENTS = (NAMESPACE, USER_NAMESPACE, SECCOMP)  # tried in this order
NETWORKED = "network (federation engine)"
FAST_SECONDS = 0.5  # a query that finished this fast may use the engine kept for short queries
RESERVED_LIMIT = 2.0  # seconds: the time limit on that engine, so a query that ran fast once cannot hold it
KNOWN_FAST = 4096  # query hashes remembered as fast
START_TIMEOUT = 30.0  # seconds for a new engine to contain itself and report


def default_memory_mb(engines: int) -> int:
    """Half of the machine's memory shared among `engines` engine processes, within 256 MB to 2 GB each."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 1024
    return int(min(2048, max(256, total / 2**20 / 2 / max(engines, 1))))


def engine_options(config: Mapping[str, object]) -> dict[str, object]:
    """The IsolatedStore options of the app's settings (ENGINES, ENGINE_MEMORY_MB, QUEUE_WAIT, ...)."""
    engines, federation = int(config["ENGINES"]), int(config["FEDERATION_ENGINES"]) if config["ALLOW_SERVICE"] else 0
    memory = int(config["ENGINE_MEMORY_MB"]) or default_memory_mb(int(config["WORKERS"]) * (engines + federation))
    return {"processes": engines, "federation": federation, "memory_mb": memory, "queue_wait": config["QUEUE_WAIT"]}


# The engine process ------------------------------------------------------------------------------------------


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def _contain(kind: str) -> bool:
    """Cut this process off the network by `kind`; False if the platform does not allow it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if kind == NAMESPACE:
        return libc.unshare(_CLONE_NEWNET) == 0
    if kind == USER_NAMESPACE:
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
            return False
        _write("/proc/self/setgroups", "deny")  # keep the same ids inside, so file permissions stay as they were
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        return True
    try:
        import pyseccomp
    except (ImportError, OSError):  # not installed, or no libseccomp on this platform
        return False
    refuse = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for family in (socket.AF_INET, socket.AF_INET6):
        refuse.add_rule(pyseccomp.ERRNO(errno.EACCES), "socket", pyseccomp.Arg(0, pyseccomp.EQ, family))
    try:
        refuse.load()
    except (OSError, RuntimeError):
        return False
    return True


def _reaches(port: int) -> bool:
    """Whether a TCP connect to the parent's loopback listener succeeds from here."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def _contain_first(kinds: tuple[str, ...], probe_port: int) -> str:
    """Apply the first containment of `kinds` that the platform allows and that passes the loopback check."""
    for kind in kinds:
        try:
            contained = _contain(kind)
        except OSError:
            contained = False
        if contained:
            return kind if not _reaches(probe_port) else NONE
    return NONE


def _limit_memory(memory_mb: int | None) -> None:
    """Cap the address space at what this process already maps (inherited from its parent) plus `memory_mb`."""
    if not memory_mb:
        return
    with open("/proc/self/status", encoding="ascii") as status:
        mapped = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    limit = mapped + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@dataclass(frozen=True)
class _Fatal:
    """A reply after which the engine exits: the error to raise to the caller."""

    error: KGError


def _evaluate(store: Store, request: QueryRequest, contained: bool) -> QueryResponse | KGError | _Fatal:
    try:
        return store.evaluate(request)
    except RemoteFailure as exc:
        if contained:  # the engine has no network: this was an outbound request, whatever the query check saw
            return OutboundRefused("outbound request refused: the query engines have no network "
                                   "(SERVICE calls only reach endpoints of the federation allow-list)")
        return exc
    except KGError as exc:
        return exc
    except MemoryError:
        return _Fatal(MemoryLimit(f"query stopped: it needed more than the engine memory limit; {_REPLACED}"))
    except Exception as exc:  # an engine bug must cost this query only, with a reason, never the server
        return _Fatal(EngineFailure(f"the query engine failed ({type(exc).__name__}: {' '.join(str(exc).split())})"
                                    f"; {_REPLACED}"))


_REPLACED = "the engine has been replaced"


def _engine_main(conn: Connection, store: Store, kinds: tuple[str, ...] | None, probe_port: int,
                 memory_mb: int | None) -> None:
    """Contain this process by the first of `kinds` that works (None: keep the network, for federation), report
    how, then serve requests from `conn` until the pipe closes; die with the parent."""
    faulthandler.disable()  # a crash is reported once, by the parent, not as an inherited stack dump
    os.environ["RUST_BACKTRACE"] = "0"  # nor as a Rust backtrace per allocation failure
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
    containment = NETWORKED if kinds is None else _contain_first(kinds, probe_port)
    _limit_memory(memory_mb)
    conn.send(containment)
    contained = containment != NETWORKED
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        reply = _evaluate(store, request, contained)
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(_Fatal(MemoryLimit(f"query stopped: its answer needed more than the engine memory limit; "
                                         f"{_REPLACED}")))
            return
        if isinstance(reply, _Fatal):
            return


# The parent's side -------------------------------------------------------------------------------------------


class _Engine:
    def __init__(self, store: Store, kinds: tuple[str, ...] | None, probe_port: int, memory_mb: int | None):
        self.conn, child = _FORK.Pipe()
        self.process = _FORK.Process(target=_engine_main, args=(child, store, kinds, probe_port, memory_mb),
                                     daemon=True, name="kg-engine")
        self.process.start()
        child.close()
        if not self.conn.poll(START_TIMEOUT):
            self.stop()
            raise EngineFailure("a query engine did not start")
        try:
            self.containment: str = self.conn.recv()
        except (EOFError, OSError):
            self.stop()
            raise EngineFailure("a query engine died while starting") from None

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class _Pool:
    """Engines of one kind: at most `size`, forked when first needed; a killed engine frees its slot."""

    def __init__(self, name: str, size: int, kinds: tuple[str, ...] | None):
        self.name, self.size, self.kinds = name, size, kinds
        self.idle: list[_Engine] = []
        self.free = size

    def take(self) -> _Engine | bool:
        """An idle engine, True if a slot is free for a new one, False if every engine is busy."""
        if self.idle:
            return self.idle.pop()
        if self.free:
            self.free -= 1
            return True
        return False


def _died(engine: _Engine, memory_mb: int | None) -> KGError:
    engine.process.join(1)
    code = engine.process.exitcode
    log.warning("query engine %s died (exit code %s); replacing it", engine.process.pid, code)
    if code == -signal.SIGABRT and memory_mb:  # pyoxigraph aborts when an allocation fails
        return MemoryLimit(f"query stopped: it needed more than the engine memory limit of {memory_mb} MB; "
                           f"{_REPLACED}")
    return EngineFailure(f"the query engine died while evaluating this query (exit code {code}); {_REPLACED}")


class IsolatedStore(Store):
    """A store whose evaluation runs in `processes` contained engines (plus `federation` networked ones) per
    serving process."""

    def __init__(self, inner: Store, *, processes: int = 1, federation: int = 0, memory_mb: int | None = None,
                 queue_wait: float = 2.0, containments: tuple[str, ...] = CONTAINMENTS):
        self.inner = inner
        self.version = inner.version
        self.processes, self.federation, self.memory_mb, self.queue_wait = processes, federation, memory_mb, queue_wait
        self.containments = containments
        self.containment = "not started"
        self._owner = None
        self._reset()

    def _reset(self) -> None:
        """Fresh pools: at start, and in a forked child, where the parent's engines and pipes are not ours to use."""
        self._owner = os.getpid()
        self._lock = threading.Condition()
        reserved = 1 if self.processes >= 2 else 0
        self._general = _Pool("general", self.processes - reserved, self.containments)
        self._reserved = _Pool("reserved", reserved, self.containments)
        self._networked = _Pool("federation", self.federation, None)
        self._fast: OrderedDict[bytes, None] = OrderedDict()
        if getattr(self, "_probe", None) is not None:
            self._probe.close()  # a forked child's copy of its parent's listener, or this process's own, closed
        self._probe = socket.create_server(("127.0.0.1", 0))  # never accepts: only an engine's check connects

    @property
    def datasets(self) -> tuple[str, ...]:
        return self.inner.datasets

    def graphs(self, dataset: str) -> frozenset[str]:
        return self.inner.graphs(dataset)

    def export(self, dataset: str, fmt: Format) -> Iterator[bytes]:
        """Exports run here, not in an engine: they read the whole dataset, with no query to bound."""
        return self.inner.export(dataset, fmt)

    def _own(self) -> None:
        if self._owner != os.getpid():
            self._reset()

    def start(self) -> None:
        """Fork every engine now (a gunicorn worker does it before its first request) and log their containment."""
        self._own()
        for pool in (self._general, self._reserved, self._networked):
            with self._lock:
                slots, pool.free = pool.free, 0
            for _ in range(slots):
                self._release(pool, self._fork(pool))
        if self.containment == NONE:
            log.error("query engines are NOT contained: no network namespace or seccomp filter could be applied, "
                      "so a SERVICE call that the query check misses would reach the network")
        log.info("query engines: %s", self.describe())

    def probe(self) -> str:
        """Start one engine and stop it, to learn which containment this platform allows (before serving)."""
        self._own()
        engine = _Engine(self.inner, self.containments, self._probe.getsockname()[1], self.memory_mb)
        engine.stop()
        self.containment = engine.containment
        return self.containment

    def describe(self) -> str:
        """The pools, the containment and the memory limit, in a line for the start-up log."""
        pools = ", ".join(f"{p.size} {p.name}" for p in (self._general, self._reserved, self._networked) if p.size)
        memory = f"{self.memory_mb} MB" if self.memory_mb else "no limit"
        return f"{pools}; containment: {self.containment}; memory limit per engine: {memory}"

    def _fork(self, pool: _Pool) -> _Engine:
        try:
            engine = _Engine(self.inner, pool.kinds, self._probe.getsockname()[1], self.memory_mb)
        except EngineFailure:
            with self._lock:
                pool.free += 1
                self._lock.notify()
            raise
        if pool.kinds is not None:
            self.containment = engine.containment
        return engine

    @staticmethod
    def _first_free(pools: list[_Pool]) -> tuple[_Pool, _Engine | bool] | None:
        for pool in pools:
            got = pool.take()
            if got is not False:
                return pool, got
        return None

    def _acquire(self, pools: list[_Pool]) -> tuple[_Pool, _Engine]:
        """An engine of the first of `pools` that has one free, waiting at most `queue_wait` seconds.

        :raise EnginesBusy: none became free in time.
        """
        deadline = time.monotonic() + self.queue_wait
        with self._lock:
            while (found := self._first_free(pools)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    retry = max(1, math.ceil(self.queue_wait))
                    raise EnginesBusy(f"every query engine is busy; try again in {retry} s", retry)
                self._lock.wait(remaining)
        pool, got = found
        return pool, (self._fork(pool) if got is True else got)

    def _release(self, pool: _Pool, engine: _Engine) -> None:
        with self._lock:
            pool.idle.append(engine)
            self._lock.notify()

    def _discard(self, pool: _Pool, engine: _Engine) -> None:
        engine.stop()
        with self._lock:
            pool.free += 1
            self._lock.notify()

    @staticmethod
    def _key(request: QueryRequest) -> bytes:
        text = repr((request.dataset, request.text, request.default_graphs, request.named_graphs))
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    def _pools_for(self, request: QueryRequest, key: bytes) -> list[_Pool]:
        if request.federated:
            return [self._networked]
        with self._lock:
            fast = key in self._fast
        return [self._reserved, self._general] if fast else [self._general]

    def _remember(self, key: bytes, fast: bool) -> None:
        with self._lock:
            if not fast:
                self._fast.pop(key, None)
                return
            self._fast[key] = None
            self._fast.move_to_end(key)
            while len(self._fast) > KNOWN_FAST:
                self._fast.popitem(last=False)

    def evaluate(self, request: QueryRequest) -> QueryResponse:
        self._own()
        key = self._key(request)
        pools = self._pools_for(request, key)
        if not any(p.size for p in pools):
            raise OutboundRefused("federation is off: no engine may make outbound requests")
        pool, engine = self._acquire([p for p in pools if p.size])
        timeout = min(request.timeout, RESERVED_LIMIT) if pool is self._reserved else request.timeout
        started = time.monotonic()
        try:
            engine.conn.send(request)
            if not engine.conn.poll(timeout):
                self._discard(pool, engine)
                self._remember(key, fast=False)
                if request.federated:
                    raise RemoteTimeout(f"query stopped after the time limit of {timeout:g} s, waiting on a SERVICE "
                                        f"endpoint")
                raise QueryTimeout(f"query stopped after the time limit of {timeout:g} s")
            reply = engine.conn.recv()
        except (EOFError, OSError):
            self._discard(pool, engine)
            self._remember(key, fast=False)
            raise _died(engine, self.memory_mb) from None
        if isinstance(reply, _Fatal):
            self._discard(pool, engine)
            self._remember(key, fast=False)
            raise reply.error
        self._release(pool, engine)
        if isinstance(reply, KGError):
            raise reply
        if not request.federated:
            self._remember(key, fast=time.monotonic() - started < FAST_SECONDS)
        return reply

    def close(self) -> None:
        """Stop the idle engines (busy ones are stopped by their callers) and the listener of their check."""
        if self._owner != os.getpid():
            return
        with self._lock:
            engines = [e for p in (self._general, self._reserved, self._networked) for e in p.idle]
            for pool in (self._general, self._reserved, self._networked):
                pool.idle, pool.free = [], pool.size
        for engine in engines:
            engine.stop()
        self._probe.close()
        self._probe, self._owner = None, None  # a later query starts afresh
