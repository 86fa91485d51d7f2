"""Shared fixtures: the built graph once per session (loading and reasoning are expensive)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import kg

HERE = Path(__file__).parent
ROOT = HERE.parent
FIXTURES = HERE / "fixtures"


@pytest.fixture(scope="session")
def dataset():
    return kg.load()


@pytest.fixture(scope="session")
def article_text() -> str:
    """The article, from $KG_ARTICLE or ../shared/seed/article.txt beside the repository."""
    path = Path(os.environ.get("KG_ARTICLE") or ROOT.parent / "shared" / "seed" / "article.txt")
    if not path.is_file():
        pytest.fail(f"the article text is needed at {path}; set KG_ARTICLE to its path")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def oxigraph_store(dataset):
    """The project's graph in the embedded engine, built once."""
    from kg.graph import version
    from kg.store.oxigraph import OxigraphStore

    return OxigraphStore.from_datasets({"none": dataset}, version=version())


@pytest.fixture
def make_app(oxigraph_store):
    """Build apps on the session's store (evaluation in worker processes); their engines stop after the test."""
    from kg.store.isolation import IsolatedStore
    from kg.web import create_app

    stores = []

    def make(store=None, **config):
        isolated = IsolatedStore(store or oxigraph_store, processes=config.pop("ENGINES", 1))
        stores.append(isolated)
        return create_app({"TESTING": True, "STORE": isolated, **config})

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


LIVE_TIME_LIMIT = 3  # seconds: short, so the live time-limit test is quick


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def live_server():
    """`kg serve` with 2 workers on a free port; stopped (with its engines) at the end of the session."""
    port = _free_port()
    command = [sys.executable, "-c", "from kg.cli import main; main()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "2", "--query-timeout", str(LIVE_TIME_LIMIT)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not _answers(base + "/health"):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"kg serve did not start: {server.stderr.read().decode()}")
        time.sleep(0.2)
    yield {"url": base, "pid": server.pid, "time_limit": LIVE_TIME_LIMIT}
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    server.stderr.close()
