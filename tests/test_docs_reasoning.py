"""The examples of docs/reasoning.md run as documented."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import fenced_blocks

from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reasoning.md"


def blocks(language: str) -> list[str]:
    return [code for info, code in fenced_blocks(DOC) if info == language]


def commands(prefix: str) -> list[list[str]]:
    found = []
    for block in blocks("sh"):
        for line in block.splitlines():
            if line.startswith(prefix):
                found.append(shlex.split(line[len(prefix) :], comments=True))
    return found


KG_COMMANDS = commands(".venv/bin/kg ")


def test_discovery_found_the_examples():
    assert len(KG_COMMANDS) == 10
    assert len(blocks("python")) == 1


@pytest.mark.parametrize("args", KG_COMMANDS, ids=" ".join)
def test_kg_example_runs(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    if "-o" in args:
        assert (tmp_path / args[args.index("-o") + 1]).stat().st_size > 0
    if args[0] == "query":
        assert "kg:event-2018-imlil-murders" in result.output


def test_python_example_runs():
    namespace: dict = {}
    exec(blocks("python")[0], namespace)
    assert {str(row[0]) for row in namespace["rows"]} == {
        "https://w3id.org/morocco-ct-kg/id/org-dgst",
        "https://w3id.org/morocco-ct-kg/id/org-moroccan-security-services",
    }


def test_quick_benchmark_example_runs(capsys, monkeypatch):
    quick = [c for c in commands(".venv/bin/python benchmarks/reasoning.py") if "--sizes" in c]
    assert len(quick) == 1
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    sys.modules.pop("reasoning", None)
    import reasoning

    reasoning.main(quick[0])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[-1].endswith("| yes")
