"""Real SPARQL servers on 127.0.0.1, free ports, data in a temporary directory: the Oxigraph server (PyPI `oxigraph`)
and Virtuoso Open Source (Debian `virtuoso-opensource`, installed by .ci/run). Used by tests/test_remote.py and
benchmarks/scale.py.

Each yields a `Server`: the query endpoint that `kg serve --store` reads, the Graph Store endpoint that `kg load
--into` writes (with the user and password it needs), and the pid.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VIRTUOSO = "/usr/bin/virtuoso-t"
START_TIMEOUT = 120  # seconds: a fresh Virtuoso database takes 10-20 s to create on a loaded machine


@dataclass(frozen=True)
class Server:
    name: str
    query: str
    store: str
    pid: int
    user: str | None = None
    password: str | None = None

    def load_options(self) -> list[str]:
        """The `kg load` options that put data into this server."""
        auth = ["--user", self.user, "--password", self.password] if self.user else []
        return ["--into", self.store, *auth]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether a GET of `url` succeeds now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop(process: subprocess.Popen) -> None:
    """Terminate `process`, killing it if it does not exit within 20 s."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running(command: list[str], ready: str, log: Path, cwd: Path, env: dict[str, str] | None = None):
    """Run `command` (output to `log`) until the `ready` URL answers; yield the process; stop it afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(ready):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
        yield process
    finally:
        stop(process)


def oxigraph_binary() -> str | None:
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


@contextlib.contextmanager
def oxigraph_server(directory: Path, timeout_s: int = 10):
    """`oxigraph serve` on a free port with its data in `directory`, its own query time limit `timeout_s`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [oxigraph_binary(), "serve", "--location", str(directory / "data"), "--bind", f"127.0.0.1:{port}",
               "--timeout-s", str(timeout_s)]
    with running(command, base + "/query?query=ASK%7B%7D", directory / "oxigraph.log", directory) as process:
        yield Server("oxigraph", base + "/query", base + "/store", process.pid)


VIRTUOSO_INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
MaxQueryMem = 500M
ThreadsPerQuery = 2
StopCompilerWhenXOverRunTime = 1
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = {timeout_s}
"""


def virtuoso_available() -> bool:
    return Path(VIRTUOSO).is_file()


@contextlib.contextmanager
def virtuoso_server(directory: Path, timeout_s: int = 10, buffers: int = 20_000):
    """Virtuoso (`virtuoso-t -f`, foreground) with a fresh database in `directory`, on free SQL and HTTP ports.

    Writes go to its authenticated Graph Store endpoint (/sparql-graph-crud-auth) as the fresh database's `dba`.
    """
    http_port, sql_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=directory, sql_port=sql_port, http_port=http_port, timeout_s=timeout_s,
                                       buffers=buffers, dirty=buffers * 3 // 4), encoding="utf-8")
    base = f"http://127.0.0.1:{http_port}"
    ready = base + "/sparql?query=ASK%7B%7D"
    with running([VIRTUOSO, "-f", "-c", str(ini)], ready, directory / "virtuoso.out", directory) as process:
        yield Server("virtuoso", base + "/sparql", base + "/sparql-graph-crud-auth", process.pid, "dba", "dba")
