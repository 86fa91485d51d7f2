"""docs/scaling.md's console examples run as shown (`...` stands for a time), in a fresh directory, with the
Oxigraph server of tests/sparql_servers.py standing in for the one at 127.0.0.1:7878."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import console_steps, fenced_blocks
from sparql_servers import oxigraph_server

DOC = Path(__file__).parent.parent / "docs" / "scaling.md"
STEPS = [step for info, code in fenced_blocks(DOC) if info == "console" for step in console_steps(code)]


def matches(expected: str, actual: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual.rstrip("\n")) is not None


def test_the_examples_were_found():
    assert [command.split()[1 if command.startswith("KG_HOME") else 0:][:2] for command, _ in STEPS] == [
        ["kg", "build"], ["kg", "build"], ["kg", "synth"], ["kg", "build"], ["kg", "load"], ["kg", "load"]]


def test_console_examples_run_as_shown(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "KG_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("KG_HOME", None)
    (tmp_path / "oxigraph").mkdir()
    with oxigraph_server(tmp_path / "oxigraph") as server:
        port = server.store.split(":")[2].split("/")[0]
        for command, expected in STEPS:
            command, expected = (text.replace(":7878/", f":{port}/") for text in (command, expected))
            done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=240)
            assert done.returncode == 0, done.stderr
            assert matches(expected, done.stdout), f"{command}:\n{done.stdout}"
