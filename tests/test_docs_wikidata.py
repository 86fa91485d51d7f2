"""The examples of docs/wikidata.md, run in order: console blocks give exact output, python blocks are executed."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import console_steps, fenced_blocks

from kg.cli import main

HERE = Path(__file__).parent
DOC = HERE.parent / "docs" / "wikidata.md"
DOC_API = "http://127.0.0.1:8089/w/api.php"  # the doc's API address, served by the stand-in in the test


def blocks() -> list[tuple[str, str]]:
    found = [(info, code) for info, code in fenced_blocks(DOC) if info in ("console", "python")]
    assert len(found) >= 8
    return found


def test_the_wikidata_doc_examples_run(tmp_path, monkeypatch, wikidata_api):
    shutil.copy(HERE / "fixtures" / "wikidata" / "dump.json", tmp_path / "dump.json")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KG_FEDERATION_ALLOW", raising=False)
    namespace: dict = {}
    ran = 0
    for kind, text in blocks():
        if kind == "python":
            exec(compile(text, str(DOC), "exec"), namespace)
            ran += 1
            continue
        for command, output in console_steps(text):
            if command.startswith("curl "):
                continue  # run against a live server by tests/test_live.py
            expected = output.splitlines()
            words = [wikidata_api.url if word == DOC_API else word for word in shlex.split(command)]
            assert words[0] == "kg"
            result = CliRunner().invoke(main, words[1:])
            actual = result.output.splitlines()
            if expected and expected[-1] == "...":
                actual, expected = actual[: len(expected) - 1], expected[:-1]
            assert actual == expected, command
            ran += 1
    assert ran == 10
