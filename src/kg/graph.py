"""Read the input files (the ontology and the instance data): into an rdflib Dataset, or into a pyoxigraph store for
large builds. Loading only: the closure and the served store are made by `kg.build`."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from kg.errors import DataFileError
from kg.namespaces import GRAPH, bind_prefixes

# Keep literals as written: rdflib's default rewrites lexical forms ("PT24H" becomes "P1D"), which would misquote
# the article and disagree with the serving engine. This is rdflib's one process-wide switch for it.
rdflib.NORMALIZE_LITERALS = False

ROOT = Path(os.environ.get("KG_HOME") or Path(__file__).resolve().parents[2])

FORMATS_BY_SUFFIX = {".ttl": "turtle", ".nt": "nt", ".trig": "trig", ".nq": "nquads", ".jsonld": "json-ld"}


@dataclass(frozen=True)
class Source:
    """One named graph of the dataset and the files it is read from."""

    name: str
    graph: URIRef
    paths: tuple[str, ...]
    description: str


SOURCES: tuple[Source, ...] = (
    Source("ontology", GRAPH.ontology, ("ontology/ct.ttl",), "The OWL ontology of the project."),
    Source(
        "claims",
        GRAPH.claims,
        ("data/claims.ttl",),
        "What the article states: claims with value, period, claimant, source and evidence.",
    ),
    Source(
        "enrichment",
        GRAPH.enrichment,
        ("data/enrichment.ttl",),
        "Facts beyond the article, from public reference sources, each with its provenance.",
    ),
    Source("history", GRAPH.history, ("data/history.ttl",), "Other reports of the article's figures, ranked."),
    Source(
        "wikidata",
        GRAPH.wikidata,
        ("data/wikidata.ttl", "data/wikidata-accepted.ttl"),
        "Verified links to Wikidata, the links accepted in review (`kg link`), and the candidates to link.",
    ),
    Source(
        "wikidata-model",
        GRAPH["wikidata-model"],
        ("data/wikidata-model.ttl",),
        "Enrichment in Wikidata's RDF model (wdt:, p:/ps:/pq:, pr: references), so WDQS queries run unchanged.",
    ),
    Source(
        "wikidata-refreshed",
        GRAPH["wikidata-refreshed"],
        ("data/wikidata-refreshed.ttl",),
        "Values read from Wikidata for the linked items by `kg link --online --refresh` (empty until then).",
    ),
)
SHAPES_PATH = "ontology/shapes.ttl"


@contextlib.contextmanager
def rdflib_settings_kept():
    """Run a library that changes rdflib's process-wide literal handling, then put it back as it was.

    pySHACL sets NORMALIZE_LITERALS to True when it returns (undoing the setting above), and owlrl replaces the
    lexical-to-Python table with a copy of its own (which changes how pySHACL's datatype checks read literals).
    """
    normalize, conversions = rdflib.NORMALIZE_LITERALS, dict(rdflib.term._toPythonMapping)
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
        rdflib.term._toPythonMapping.clear()
        rdflib.term._toPythonMapping.update(conversions)


def parse_file(path: Path, graph: Graph | None = None) -> Graph:
    """Parse one RDF file into `graph`; a broken file raises DataFileError naming the file and line."""
    graph = Graph() if graph is None else graph
    path = Path(path)
    fmt = FORMATS_BY_SUFFIX.get(path.suffix)
    if fmt is None:
        raise DataFileError(path, None, f"unknown RDF file type {path.suffix!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, None, exc.strerror or str(exc)) from None
    try:
        graph.parse(data=data, format=fmt, publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        raise DataFileError(path, exc.lines + 1, f"syntax error: {exc._why}") from None
    except (ValueError, SyntaxError) as exc:
        raise DataFileError(path, None, f"cannot parse: {exc}") from None
    return graph


def load(root: Path | None = None, sources: tuple[Source, ...] = SOURCES) -> Dataset:
    """Return the asserted dataset: one named graph per source; its default graph is their union."""
    root = Path(root or ROOT)
    dataset = bind_prefixes(Dataset(default_union=True))
    for source in sources:
        graph = dataset.graph(source.graph)
        for relative in source.paths:
            parse_file(root / relative, graph)
    return dataset


def load_into(store: ox.Store, root: Path | None = None, sources: tuple[Source, ...] = SOURCES,
              to_graph: ox.NamedNode | None = None) -> ox.Store:
    """Parse the input files into `store` with pyoxigraph (fast on large files, lexical forms kept): one named graph
    per source, or all into `to_graph`. A broken file raises DataFileError naming the file and line."""
    root = Path(root or ROOT)
    for source in sources:
        target = to_graph or ox.NamedNode(str(source.graph))
        for relative in source.paths:
            path = root / relative
            if path.suffix not in FORMATS_BY_SUFFIX:
                raise DataFileError(path, None, f"unknown RDF file type {path.suffix!r}")
            try:
                store.bulk_load(path=path, format=ox.RdfFormat.from_extension(path.suffix[1:]),
                                base_iri=path.resolve().as_uri(), to_graph=target)
            except OSError as exc:
                raise DataFileError(path, None, exc.strerror or str(exc)) from None
            except SyntaxError as exc:
                parse_file(path)  # rdflib's message names the line, as for every other loader
                raise DataFileError(path, None, f"syntax error: {exc}") from None
    return store


def union(dataset: Dataset, exclude: tuple[URIRef, ...] = ()) -> Graph:
    """The named graphs of `dataset`, but those in `exclude`, merged into one graph."""
    merged = Graph()
    for graph in dataset.graphs():
        if graph.identifier not in exclude:
            merged += graph
    return merged


def load_shapes(root: Path | None = None) -> Graph:
    """Return the SHACL shapes graph."""
    return bind_prefixes(parse_file(Path(root or ROOT) / SHAPES_PATH))


def version(root: Path | None = None, sources: tuple[Source, ...] = SOURCES) -> str:
    """A short hash of every input file: the dataset version used for caches and ETags."""
    root = Path(root or ROOT)
    digest = hashlib.sha256()
    for source in sources:
        for relative in source.paths:
            digest.update(relative.encode())
            digest.update((root / relative).read_bytes())
    return digest.hexdigest()[:16]


TEMPORARY = ".partial"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMPORARY, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_orphans(directory: Path) -> list[Path]:
    """Remove the temporary files of `write_atomically` in `directory` whose writer is gone (killed mid-write)."""
    removed = []
    for tmp in Path(directory).glob(f".*{TEMPORARY}"):
        parts = tmp.name.rsplit(".", 3)
        if len(parts) == 4 and parts[1].isdigit() and _alive(int(parts[1])):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
