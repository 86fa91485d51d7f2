"""Build: the one place that turns the input files into what is served.

files -> asserted graphs (`kg.graph`) -> the closure of each inference mode (`kg.reason`), cached and verified ->
a store holding one dataset per mode (`kg.store.oxigraph`), in memory or on disk. `kg serve` and `kg build` call
it; the web app is handed the store and never parses or reasons.

The closure of the input files is cached in ``$KG_CACHE_DIR`` (default ``.cache/`` in the repository) as sorted
N-Triples whose first line records what it was computed from (a hash of the input files, the profile, the engine,
the reasoner's source and the owlrl version) and a hash of the rest of the file. A cache that fails that check
(cut, emptied, edited, not a regular file) is computed again with a one-line warning; it is written to a temporary
file and renamed, so a reader never sees half a file, and temporary files left by a killed writer are removed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from kg import graph
from kg.graph import SOURCES, Source
from kg.inference import BY_NAME, INFERENCE_MODES
from kg.namespaces import GRAPH, bind_prefixes

log = logging.getLogger(__name__)

# The fast engine computes the served closure: on the shipped graph it equals owlrl's (tests/test_reason.py), and it
# stays fast where owlrl takes minutes (100k triples) or does not finish (1M). owlrl takes over, with a warning, for
# an ontology the fast rules do not cover.
DEFAULT_ENGINE = "fast"
HEADER = "# kg closure"
BUILD_FILE = "build.json"


def cache_dir() -> Path:
    """Where closures are cached: $KG_CACHE_DIR, or `.cache/` in the repository."""
    return Path(os.environ.get("KG_CACHE_DIR") or graph.ROOT / ".cache")


def cache_key(inputs_version: str, profile: str, engine: str) -> str:
    """What a closure depends on: the input files, the profile, the engine, the reasoner's code and owlrl's version."""
    import owlrl

    from kg import reason

    digest = hashlib.sha256()
    for part in (inputs_version, profile, engine, owlrl.__version__,
                 Path(reason.__file__).read_text(encoding="utf-8")):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def cache_path(profile: str, engine: str = DEFAULT_ENGINE, root: Path | None = None, directory: Path | None = None,
               sources: tuple[Source, ...] = SOURCES) -> Path:
    """The cache file of the closure of the input files under `profile` by `engine`."""
    from kg.reason import check_profile

    key = cache_key(graph.version(root, sources), check_profile(profile), engine)
    return Path(directory or cache_dir()) / f"inferred-{profile}-{engine}-{key}.nt"


@dataclass(frozen=True)
class Closure:
    """A verified closure file: where it is, whether it was computed now, how many triples it has, its content hash."""

    path: Path
    computed: bool
    triples: int
    digest: str


class CacheInvalid(Exception):
    """A cache file that fails its check; the message says why, in a few words."""


def _header(key: str, digest: str, triples: int) -> bytes:
    return f"{HEADER} inputs={key} sha256={digest} triples={triples}\n".encode()


def verify(path: Path) -> Closure:
    """Check the cache file at `path` against its first line: :raise CacheInvalid: it does not match.

    The file is opened without following a symbolic link and must be a regular file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise CacheInvalid("missing") from None
    except OSError as exc:
        raise CacheInvalid("a symbolic link" if exc.errno == errno.ELOOP else exc.strerror or str(exc)) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise CacheInvalid("not a regular file")
        first, body = handle.readline(), handle.read()
    fields = dict(f.split("=", 1) for f in first.decode("ascii", "replace").split()[3:] if "=" in f)
    if not first.startswith(HEADER.encode() + b" ") or not {"inputs", "sha256", "triples"} <= fields.keys():
        raise CacheInvalid("no header line" if first else "empty")
    if fields["inputs"] != path.stem.rsplit("-", 1)[-1]:
        raise CacheInvalid("computed from other inputs")
    if hashlib.sha256(body).hexdigest() != fields["sha256"]:
        raise CacheInvalid("content hash differs (cut, edited or corrupted)")
    if str(body.count(b"\n")) != fields["triples"]:
        raise CacheInvalid("triple count differs")
    return Closure(path, False, int(fields["triples"]), fields["sha256"])


def closure(profile: str, engine: str = DEFAULT_ENGINE, root: Path | None = None, directory: Path | None = None,
            refresh: bool = False, sources: tuple[Source, ...] = SOURCES,
            asserted: Dataset | None = None) -> Closure:
    """The closure of the input files under `profile`: from the cache if it passes its check, else computed (with
    `engine`) and cached. `asserted`, when given, is `kg.graph.load(root, sources)`, saving the owlrl engine a load.

    :raise ReasoningError: an unknown profile or engine, or a graph inconsistent under `profile`.
    """
    path = cache_path(profile, engine, root, directory, sources)
    if path.parent.is_dir():
        graph.remove_orphans(path.parent)
    if not refresh:
        try:
            return verify(path)
        except CacheInvalid as exc:
            if path.is_symlink() or path.exists():
                log.warning("%s: closure cache rejected (%s); computing it again", path, exc)
    lines = sorted(_compute(profile, engine, root, sources, asserted))
    body = "".join(lines).encode()
    digest = hashlib.sha256(body).hexdigest()
    if path.is_symlink():
        path.unlink()
    graph.write_atomically(path, _header(path.stem.rsplit("-", 1)[-1], digest, len(lines)) + body)
    return Closure(path, True, len(lines), digest)


def _compute(profile: str, engine: str, root: Path | None, sources: tuple[Source, ...],
             asserted: Dataset | None) -> list[str]:
    """The inferred triples as N-Triples lines."""
    from kg import reason

    if engine not in reason.ENGINES:
        raise reason.ReasoningError(f"unknown engine {engine!r}; known: {', '.join(reason.ENGINES)}")
    if engine == "fast":
        store = graph.load_into(ox.Store(), root, sources, to_graph=reason.ASSERTED_GRAPH)
        try:
            return [f"{row['s']} {row['p']} {row['o']} .\n" for row in reason.fast_inferred(store, profile)]
        except reason.ReasoningError as exc:
            log.warning("%s; using the owlrl engine", exc)
    dataset = asserted if asserted is not None else graph.load(root, sources)
    inferred = reason.owlrl_closure(reason.asserted(dataset), profile)
    return [line + "\n" for line in inferred.serialize(format="nt", encoding="utf-8").decode().splitlines() if line]


def dataset(inference: str = "none", root: Path | None = None, sources: tuple[Source, ...] = SOURCES,
            directory: Path | None = None) -> Dataset:
    """The asserted dataset as rdflib's, plus under a profile the (cached) closure as the graph `GRAPH.inferred`: for
    the library, the CLI's rdflib commands and the reference engine."""
    asserted = graph.load(root, sources)
    profile = _mode(inference).profile
    if profile is None:
        return asserted
    found = closure(profile, root=root, directory=directory, sources=sources, asserted=asserted)
    asserted.graph(GRAPH.inferred).parse(found.path, format="nt")
    return bind_prefixes(asserted)


def _mode(name: str):
    from kg.reason import ReasoningError

    if name not in BY_NAME:
        raise ReasoningError(f"unknown inference mode {name!r}; known: {', '.join(INFERENCE_MODES)}")
    return BY_NAME[name]


def store(location: Path | None = None, modes: tuple[str, ...] = INFERENCE_MODES, root: Path | None = None,
          sources: tuple[Source, ...] = SOURCES, directory: Path | None = None):
    """The embedded store of the input files, one pyoxigraph dataset per inference mode: in memory, or on disk at
    `location` (one directory per mode), where a store built from the same inputs and closures is opened as it is,
    in seconds, and any other is built again."""
    from kg.store.oxigraph import OxigraphStore

    version = graph.version(root, sources)
    closures = {mode: closure(_mode(mode).profile, root=root, directory=directory, sources=sources)
                for mode in modes if _mode(mode).profile}
    build = {"version": version, "modes": list(modes), "closures": {m: c.digest for m, c in closures.items()}}
    if location is not None:
        location = Path(location)
        if _read_build(location) == build:
            return OxigraphStore.open(location, modes, version=version)
        for mode in modes:
            shutil.rmtree(location / mode, ignore_errors=True)
        (location / BUILD_FILE).unlink(missing_ok=True)
        location.mkdir(parents=True, exist_ok=True)
    stores = {}
    for mode in modes:
        target = ox.Store(str(location / mode)) if location is not None else ox.Store()
        graph.load_into(target, root, sources)
        if mode in closures:
            target.bulk_load(path=closures[mode].path, format=ox.RdfFormat.N_TRIPLES,
                             to_graph=ox.NamedNode(str(GRAPH.inferred)))
        stores[mode] = target
    if location is None:
        return OxigraphStore(stores, version=version)
    for target in stores.values():
        target.optimize()
    del stores, target
    graph.write_atomically(location / BUILD_FILE, json.dumps(build, indent=2).encode() + b"\n")
    return OxigraphStore.open(location, modes, version=version)


def _read_build(location: Path) -> dict | None:
    try:
        return json.loads((location / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
