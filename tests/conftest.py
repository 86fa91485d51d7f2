"""Shared fixtures: the built graph once per session (loading and reasoning are expensive)."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sparql_servers import answers, free_port, stop

import kg
from kg.linker import normalize

HERE = Path(__file__).parent
ROOT = HERE.parent
FIXTURES = HERE / "fixtures"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([^`\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def fenced_blocks(doc: Path) -> list[tuple[str, str]]:
    """(info string, code) of every fenced block of a Markdown file, in order: ("sparql", "SELECT ...")."""
    return FENCE.findall(doc.read_text(encoding="utf-8"))


def console_steps(code: str) -> list[tuple[str, str]]:
    """(command, output) for each `$ ` line of a console block; the output is the lines up to the next `$ `."""
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"a console block must start with a `$ ` line: {line!r}"
            steps[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in steps]


def run_curl_example(command: str, output: str, replacements: dict[str, str]) -> None:
    """Run a documented `curl` command (its URLs replaced) and compare its output with the documented one."""
    argv = shlex.split(command)
    for old, new in replacements.items():
        argv = [arg.replace(old, new) for arg in argv]
    assert argv[0] == "curl"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout.replace("\r\n", "\n").rstrip("\n") == output.rstrip("\n")


@pytest.fixture(scope="session", autouse=True)
def reasoning_cache(tmp_path_factory):
    """Closures are cached in a temporary directory, never in the repository's .cache/."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("kg-cache")
        patch.setenv("KG_CACHE_DIR", str(path))
        yield path



def pytest_configure(config):
    """Hypothesis keeps its files (examples, Unicode tables) in a temporary directory, never in the repository."""
    from hypothesis.configuration import set_hypothesis_home_dir

    config.hypothesis_home = tempfile.mkdtemp(prefix="kg-hypothesis-")
    set_hypothesis_home_dir(config.hypothesis_home)


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "hypothesis_home", ""), ignore_errors=True)


def copy_project(target: Path, **appended: str) -> Path:
    """The shipped ontology and data copied into `target`, with lines appended to data files by stem, so a test may
    change or write them: copy_project(tmp_path, **{"wikidata-accepted": "kg:x skos:exactMatch wd:Q1 .\n"})."""
    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, target / name)
    for stem, lines in appended.items():
        with (target / "data" / f"{stem}.ttl").open("a", encoding="utf-8") as handle:
            handle.write(lines)
    return target

@pytest.fixture(scope="session")
def dataset():
    return kg.load()


@pytest.fixture(scope="session")
def datasets(dataset):
    """The dataset under each inference mode (`none` is `dataset`); closures computed once, in the session's cache."""
    from kg.build import dataset as built
    from kg.inference import INFERENCE_MODES

    return {mode: dataset if mode == "none" else built(mode) for mode in INFERENCE_MODES}


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


@pytest.fixture(scope="session")
def inference_store(datasets):
    """The project's graph in the embedded engine under every inference mode (none, rdfs, owl-rl), built once."""
    from kg.graph import version
    from kg.store.oxigraph import OxigraphStore

    return OxigraphStore.from_datasets(datasets, version=version())


@pytest.fixture
def make_app(oxigraph_store):
    """Build apps on the session's store (evaluation in one engine process, 1 GB at most, unless ENGINES and
    ENGINE_MEMORY_MB say otherwise); their engines stop after the test."""
    from kg.store.isolation import IsolatedStore, engine_options
    from kg.web import create_app
    from kg.web.settings import defaults

    stores = []

    def make(store=None, **config):
        settings = {**defaults(), "ENGINES": 1, "ENGINE_MEMORY_MB": 1024, **config}
        isolated = IsolatedStore(store or oxigraph_store, **engine_options(settings))
        stores.append(isolated)
        return create_app({"TESTING": True, **config}, isolated)

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


# A local stand-in for the Wikidata action API ------------------------------------------------------------------

WIKIDATA_FIXTURES = FIXTURES / "wikidata"


def _json_lines(path: Path) -> list[dict]:
    """The entities of a file in the format of Wikidata's JSON dumps."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line.rstrip(",")) for line in lines if line not in ("[", "]")]


class FakeApi:
    """Answers wbsearchentities and wbgetentities; `script` queues answers (failures) to give first.

    Searches and lookups by title see the reconciler's test dump (dump.json); lookups by id also see the linked
    items of refresh.json (see tests/fixtures/wikidata/README.md: verified or fictional ids only).
    """

    def __init__(self):
        self.entities = {e["id"]: e for e in _json_lines(WIKIDATA_FIXTURES / "dump.json")}
        self.linked = {e["id"]: e for e in _json_lines(WIKIDATA_FIXTURES / "refresh.json")}
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.requests: list[tuple[dict[str, str], str]] = []

    def answer(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.script:
            return self.script.pop(0)
        if params.get("action") == "wbsearchentities":
            wanted = normalize(params["search"])
            hits = [{"id": key} for key, e in self.entities.items() if key.startswith("Q") and any(
                normalize(n["value"]).startswith(wanted)
                for n in [*e["labels"].values(), *(a for v in e["aliases"].values() for a in v)])]
            return 200, {}, json.dumps({"search": hits[: int(params["limit"])], "success": 1}).encode()
        if params.get("action") == "wbgetentities":
            if "titles" in params:
                found = {k: e for k, e in self.entities.items()
                         if e.get("sitelinks", {}).get("enwiki", {}).get("title") == params["titles"]}
                found = found or {"-1": {"site": "enwiki", "title": params["titles"], "missing": ""}}
            else:
                known = {**self.entities, **self.linked}
                found = {i: known.get(i, {"id": i, "missing": ""}) for i in params["ids"].split("|")}
            return 200, {}, json.dumps({"entities": found, "success": 1}).encode()
        return 400, {}, b"{}"


@pytest.fixture
def wikidata_api():
    """A FakeApi served on 127.0.0.1 (its `url` is the api.php address), stopped after the test."""
    fake = FakeApi()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            fake.requests.append((params, self.headers.get("User-Agent", "")))
            status, headers, body = fake.answer(params)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/w/api.php"
    yield fake
    server.shutdown()
    server.server_close()


LIVE_TIME_LIMIT = 3  # seconds: short, so the live time-limit test is quick


@contextlib.contextmanager
def serving(*options: str, env: dict[str, str] | None = None):
    """Run `kg serve` with `options` on a free port of 127.0.0.1; yield its URL and pid; stop it and its engines."""
    port = free_port()
    command = [sys.executable, "-c", "from kg.cli import main; main()", "serve", "--host", "127.0.0.1",
               "--port", str(port), *options]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not answers(base + "/health"):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"kg serve did not start: {server.communicate()[1].decode()}")
            time.sleep(0.2)
        yield {"url": base, "pid": server.pid}
    finally:
        stop(server)
        server.stderr.close()


@pytest.fixture(scope="session")
def live_server():
    """`kg serve` with 2 workers on a free port; stopped (with its engines) at the end of the session."""
    with serving("--workers", "2", "--query-timeout", str(LIVE_TIME_LIMIT)) as server:
        yield {**server, "time_limit": LIVE_TIME_LIMIT}


# Headless Chromium for the browser tests (tests/test_browser*.py) ------------------------------------------------

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--window-size=1400,1000")
AXE = FIXTURES / "axe.min.js"  # axe-core, vendored for the tests only


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """Where a module's browser tests save what the pages looked like (a temporary folder, never the repository)."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium per module (Debian's, driven by selenium), with no background network features."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed (.ci/run installs them)")
        pytest.skip("needs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()
