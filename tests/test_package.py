"""A built wheel gives a working `kg` anywhere: the ontology, data and named queries ship inside it (kg.paths).

The wheel is built from a copy of the project's files (a build writes build/ and *.egg-info beside its sources,
and tests never write into the repository), installed with `pip install --target` (its dependencies are those of
this environment), and its `kg` script is run from an empty directory, with HOME and the cache elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sparql_servers import free_port, running

from kg.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("pyproject.toml", "README.md", "src", "ontology", "data", "queries")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the installed `kg` script, the environment to run it in, an empty working directory)."""
    base = tmp_path_factory.mktemp("package")
    source = base / "source"
    source.mkdir()
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(base / "wheel"), str(source)], check=True, timeout=300,
                   capture_output=True)
    wheel = next((base / "wheel").glob("morocco_ct_kg-*.whl"))
    target = base / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True, timeout=300,
                   capture_output=True)
    home = base / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "PYTHONPATH": str(target),
           "LANG": "C.UTF-8"}
    work = base / "elsewhere"
    work.mkdir()
    return target / "bin" / "kg", env, work


def kg(installed, *args: str) -> subprocess.CompletedProcess:
    script, env, work = installed
    return subprocess.run([str(script), *args], cwd=work, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_the_wheel_ships_the_files_and_reads_them_from_inside_the_package(installed):
    script, env, work = installed
    done = subprocess.run([sys.executable, "-c", "import kg.paths as p; print(p.ROOT); print(p.cache_dir())"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=60, check=True)
    root, cache = done.stdout.splitlines()
    assert Path(root) == script.parent.parent / "kg" / "resources"
    assert Path(cache) == Path(env["HOME"]) / ".cache" / "morocco-ct-kg"  # never the installed package
    shipped = {p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file()}
    expected = {p.relative_to(ROOT).as_posix() for d in ("ontology", "data", "queries") for p in (ROOT / d).rglob("*")
                if p.is_file()}
    assert shipped == expected


def test_installed_kg_stats_and_queries_equal_those_of_the_checkout(installed):
    stats = kg(installed, "stats")
    assert (stats.returncode, stats.stderr) == (0, "")
    assert stats.stdout == CliRunner().invoke(main, ["stats"]).output
    queries = kg(installed, "queries")
    assert queries.returncode == 0
    assert queries.stdout == CliRunner().invoke(main, ["queries"]).output
    assert len(queries.stdout.splitlines()) >= 8


def test_installed_kg_query_and_validate(installed):
    query = kg(installed, "query", "cells-since-2002", "--format", "csv")
    assert query.returncode == 0
    assert query.stdout == CliRunner().invoke(main, ["query", "cells-since-2002", "--format", "csv"]).output
    assert "207" in query.stdout
    validate = kg(installed, "validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_installed_kg_serve_answers_queries_and_pages(installed, tmp_path):
    script, env, work = installed
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(script), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running(command, base + "/health", tmp_path / "serve.log", work, env=env):
        query = urllib.parse.urlencode({"query": "SELECT ?v WHERE { kg:claim-cells-dismantled-since-2002 "
                                                 "schema:value ?v }"})
        request = urllib.request.Request(f"{base}/sparql?{query}", headers={"Accept": "text/csv"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.read().decode().splitlines() == ["v", "207"]
        with urllib.request.urlopen(base + "/", timeout=30) as page:
            assert page.status == 200 and "text/html" in page.headers["Content-Type"]


def test_make_run_installs_only_what_serving_needs(tmp_path):
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    dry = subprocess.run(["make", "-n", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    installs = [line for line in dry.stdout.splitlines() if " install " in line and "--upgrade pip" not in line]
    assert installs == [".venv/bin/pip install --quiet -e ."]
    dry = subprocess.run(["make", "-n", "test"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    assert ".venv/bin/pip install --quiet -e '.[test]'" in dry.stdout.splitlines()
