"""Named SPARQL queries: `queries/<name>.rq` files with a header of `# key: value` lines.

The same files are the competency questions the tests check, the CLI's named queries and the UI's examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kg.graph import ROOT

QUERIES_DIR = ROOT / "queries"
HEADER_KEYS = ("title", "description", "question")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    question: str
    text: str
    path: Path


def parse_header(text: str) -> dict[str, str]:
    """Read the leading `# key: value` comment lines of a query."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line.lstrip("# ").partition(":")
        if sep and key.strip().lower() in HEADER_KEYS:
            header[key.strip().lower()] = value.strip()
    return header


def load_query(path: Path) -> NamedQuery:
    text = Path(path).read_text(encoding="utf-8")
    header = parse_header(text)
    return NamedQuery(
        name=Path(path).stem,
        title=header.get("title", Path(path).stem),
        description=header.get("description", ""),
        question=header.get("question", ""),
        text=text,
        path=Path(path),
    )


def named_queries(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every named query, by name, in name order."""
    return {q.name: q for q in (load_query(p) for p in sorted(Path(directory).glob("*.rq")))}
