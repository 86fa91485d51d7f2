"""A smoke run of benchmarks/scale.py at 1k triples: it builds, opens and serves the on-disk store, starts the
Oxigraph server on the same data, and prints its tables with both servers giving the same rows (no timing asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "scale.py"


def test_scale_benchmark_smoke(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "1000", "--repeats", "2", "--timeout", "120",
                           "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if re.match(r"\s+\d+ \| [a-z-]+ +\|", line)]
    assert {line.split("|")[1].strip() for line in rows} == {
        "dgst-claims", "events-in-morocco", "figures-by-value-kind", "attacks-in-date-order", "places-on-a-map"}
    assert all(line.rstrip().endswith("| yes") for line in rows), done.stdout
    assert re.search(r"^\s+\d{4} \| +[\d.]+ \| +[\d.]+ \| +[\d.]+ \|", done.stdout, re.MULTILINE), done.stdout
    assert (tmp_path / "graph-1000" / "store" / "build.json").is_file()
