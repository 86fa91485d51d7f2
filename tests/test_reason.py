"""Reasoning: the closure, its noise filter, the fast engine against owlrl, the cache, and questions only
inference answers."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

import kg
from kg import build, reason
from kg.cli import main
from kg.graph import SOURCES, write_atomically
from kg.namespaces import CT, GRAPH, KG

ROOT = Path(__file__).resolve().parents[1]
EX = "http://example.org/"


@pytest.fixture(scope="session")
def asserted_graph(dataset) -> Graph:
    return reason.asserted(dataset)


@pytest.fixture(scope="session")
def owl_rl(datasets):
    return datasets["owl-rl"]


@pytest.fixture(scope="session")
def rdfs(datasets):
    return datasets["rdfs"]


def rows(dataset, query: str) -> list[tuple[str, ...]]:
    return [tuple(dataset.namespace_manager.normalizeUri(term) for term in row) for row in kg.query(dataset, query)]


# --- the fast engine gives exactly owlrl's closure ------------------------------------------------------------------


@pytest.mark.parametrize("profile", reason.PROFILES)
def test_fast_engine_gives_exactly_the_owlrl_closure_of_the_shipped_graph(asserted_graph, profile):
    reference = set(reason.owlrl_closure(asserted_graph, profile))
    fast = set(reason.fast_closure(asserted_graph, profile))
    assert reference, "owlrl inferred nothing: the comparison would prove nothing"
    assert fast - reference == set(), "the fast engine inferred triples owlrl does not"
    assert reference - fast == set(), "owlrl inferred triples the fast engine does not"


def test_the_rules_our_ontology_uses_fire_on_the_shipped_graph(asserted_graph):
    """So the parity test above covers them; the others are there for other ontologies (and unit tests)."""
    fired = set()
    for rule in reason.RULES:
        store = ox.Store()
        store.extend(ox.Quad(*(reason.to_oxigraph(t) for t in triple)) for triple in asserted_graph)
        before = len(store)
        for update in rule.updates(store):
            store.update(update)
        if len(store) > before:
            fired.add(rule.name)
    assert fired == {"scm-sco", "scm-spo", "scm-dom1", "scm-rng1", "cax-sco", "prp-spo1", "prp-dom", "prp-rng",
                     "prp-inv1", "prp-trp", "prp-spo2"}


@pytest.mark.parametrize("profile", reason.PROFILES)
def test_fast_engine_matches_owlrl_on_the_rules_the_shipped_graph_does_not_use(profile):
    graph = Graph()
    ex = {name: URIRef(EX + name) for name in ("a", "i", "j", "p", "q", "r", "s", "C", "D", "E", "F", "x", "y")}
    graph.add((ex["p"], RDFS.subPropertyOf, ex["q"]))
    graph.add((ex["q"], RDFS.subPropertyOf, ex["r"]))
    graph.add((ex["s"], RDF.type, OWL.SymmetricProperty))
    graph.add((ex["C"], OWL.equivalentClass, ex["D"]))
    graph.add((ex["D"], RDFS.subClassOf, ex["E"]))
    graph.add((ex["r"], OWL.equivalentProperty, ex["s"]))
    graph.add((ex["x"], ex["p"], ex["y"]))
    graph.add((ex["a"], RDF.type, ex["C"]))
    graph.add((ex["r"], RDFS.domain, ex["E"]))
    graph.add((ex["r"], RDFS.range, ex["F"]))
    graph.add((ex["i"], OWL.inverseOf, ex["j"]))
    graph.add((ex["x"], ex["j"], ex["a"]))
    assert set(reason.fast_closure(graph, profile)) == set(reason.owlrl_closure(graph, profile))


def test_fast_engine_refuses_what_it_does_not_handle():
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(str(OWL.sameAs)), ox.NamedNode(EX + "b")))
    with pytest.raises(reason.ReasoningError, match="does not handle owl:sameAs"):
        reason.materialize(store, "owl-rl")


def test_fast_engine_closes_long_transitive_chains():
    graph = Graph()
    located_in = URIRef(EX + "in")
    graph.add((located_in, RDF.type, OWL.TransitiveProperty))
    for i in range(40):
        graph.add((URIRef(f"{EX}p{i}"), located_in, URIRef(f"{EX}p{i + 1}")))
    inferred = reason.fast_closure(graph, "owl-rl")
    assert set(inferred.triples((None, located_in, None))) == {
        (URIRef(f"{EX}p{i}"), located_in, URIRef(f"{EX}p{j}")) for i in range(40) for j in range(i + 2, 41)
    }
    assert set(inferred) == set(reason.owlrl_closure(graph, "owl-rl"))


# --- the planned engine gives exactly the naive rounds' closure ----------------------------------------------------

AXIOMS = (
    "{p} owl:inverseOf {q}", "{p} a owl:TransitiveProperty", "{p} a owl:SymmetricProperty",
    "{p} rdfs:subPropertyOf {q}", "{p} owl:equivalentProperty {q}", "{p} owl:propertyChainAxiom ( {q} {r} )",
    "{p} rdfs:domain {c}", "{p} rdfs:range {c}", "{c} rdfs:subClassOf {d}",
)


def same_closure(turtle: str, profile: str) -> bool:
    """Whether the planned and the naive engines close the graph to the same triples (same blank nodes in both)."""
    quads = list(ox.parse(turtle.encode(), ox.RdfFormat.TURTLE))
    closed = []
    for engine in (reason.materialize, reason.materialize_naive):
        store = ox.Store()
        store.extend(quads)
        engine(store, profile)
        closed.append(set(store))
    return closed[0] == closed[1]


def random_graph(rng) -> str:
    props, classes, nodes = [f":p{i}" for i in range(4)], [f":C{i}" for i in range(3)], [f":n{i}" for i in range(6)]
    lines = []
    for _ in range(rng.randint(1, 6)):
        p, q, r = (rng.choice(props) for _ in range(3))
        c, d = rng.choice(classes), rng.choice(classes)
        lines.append(rng.choice(AXIOMS).format(p=p, q=q, r=r, c=c, d=d))
    for _ in range(rng.randint(2, 10)):
        obj = rng.choice([*nodes, '"1"', '"x"@en'])
        lines.append(f"{rng.choice(nodes)} {rng.choice(props)} {obj}")
    lines += [f"{rng.choice(nodes)} a {rng.choice(classes)}" for _ in range(rng.randint(0, 2))]
    return f"@prefix : <{EX}> . @prefix owl: <{OWL}> . @prefix rdfs: <{RDFS}> .\n" + " .\n".join(lines) + " .\n"


LOCATED = f"""@prefix : <{EX}> . @prefix owl: <{OWL}> . @prefix rdfs: <{RDFS}> .
:in owl:inverseOf :has . :a :in :b . :b :in :c . :d :has :c . :c :in :e . :e :in "lit" . :x :at :a .
:sub rdfs:subPropertyOf :in . :z :sub :a . :in rdfs:domain :Place . :Place rdfs:subClassOf :Thing .
"""


@pytest.mark.parametrize("profile", reason.PROFILES)
@pytest.mark.parametrize("extra", [
    ":in a owl:TransitiveProperty . :has a owl:TransitiveProperty .",  # an inverse pair, both transitive
    ":in a owl:TransitiveProperty .",  # one of the pair transitive: needs a second pass
    ":has a owl:TransitiveProperty . :in owl:inverseOf :in .",  # a property its own inverse, in a pair
    ":in a owl:TransitiveProperty , owl:SymmetricProperty .",
    ":in a owl:TransitiveProperty . :at owl:propertyChainAxiom ( :at :in ) .",  # closed in one pass
    ":at owl:propertyChainAxiom ( :at :in ) .",  # :in not transitive: to a fixpoint
    ":in a owl:TransitiveProperty . :at owl:propertyChainAxiom ( :at :in ) . :at owl:propertyChainAxiom ( :in :at ) .",
    ":at rdfs:subPropertyOf :in . :in a owl:TransitiveProperty .",
    ":in owl:equivalentProperty :at . :at a owl:TransitiveProperty .",
    ":in rdfs:range owl:TransitiveProperty . :z :in :has .",  # a type derived late changes the schema
])
def test_planned_engine_gives_the_naive_closure(profile, extra):
    turtle = LOCATED + extra + "\n"
    assert same_closure(turtle, profile)


def test_planned_engine_gives_the_naive_closure_of_random_graphs():
    rng = random.Random(4)
    planned = 0
    for _ in range(300):
        turtle = random_graph(rng)
        for profile in reason.PROFILES:
            assert same_closure(turtle, profile), turtle
        store = ox.Store()
        store.load(turtle.encode(), ox.RdfFormat.TURTLE)
        planned += reason.property_plan(store, list(reason.PROPERTY_RULES)) is not None
    assert planned > 250, "the plan should apply to most random graphs, or the comparison proves little"


def test_planned_engine_falls_back_to_naive_rounds_for_a_blank_node_property():
    turtle = f"@prefix : <{EX}> . @prefix owl: <{OWL}> .\n[] owl:inverseOf :q . :a :q :b .\n"
    store = ox.Store()
    store.load(turtle.encode(), ox.RdfFormat.TURTLE)
    assert reason.property_plan(store, list(reason.PROPERTY_RULES)) is None
    assert same_closure(turtle, "owl-rl")


# --- the noise filter -----------------------------------------------------------------------------------------------


def test_inferred_graph_has_none_of_the_filtered_noise(owl_rl, rdfs):
    for dataset in (owl_rl, rdfs):
        inferred = dataset.graph(GRAPH.inferred)
        assert len(inferred) > 0
        assert [t for t in inferred if t[1] == OWL.sameAs] == []
        assert list(inferred.triples((None, RDF.type, OWL.Thing))) == []
        assert list(inferred.triples((None, RDF.type, RDFS.Resource))) == []
        assert list(inferred.triples((None, RDF.type, RDF.Property))) == []
        assert [t for t in inferred if isinstance(t[0], Literal)] == []
        assert [t for t in inferred if str(t[0]).startswith(reason.BUILT_IN)] == []
        assert [t for t in inferred if t[1] in reason.SCHEMA_PREDICATES and t[0] == t[2]] == []


def test_owlrl_leaves_rdflib_literal_conversions_as_they_were(asserted_graph):
    import rdflib.term

    before = dict(rdflib.term._toPythonMapping)
    reason.owlrl_closure(asserted_graph, "owl-rl")
    assert rdflib.term._toPythonMapping == before


def test_literal_copies_of_owlrl_rdfs_are_filtered():
    """owlrl's RDFS rules copy `true` to `1` and a string to its language-tagged twin; the filter drops them."""
    graph = Graph()
    graph.add((URIRef(EX + "a"), URIRef(EX + "flag"), Literal(True)))
    graph.add((URIRef(EX + "b"), URIRef(EX + "count"), Literal(1)))
    graph.add((URIRef(EX + "c"), URIRef(EX + "title"), Literal("Imlil")))
    graph.add((URIRef(EX + "c"), RDFS.label, Literal("Imlil", lang="en")))
    graph.add((URIRef(EX + "title"), RDFS.subPropertyOf, URIRef(EX + "name")))
    inferred = reason.owlrl_closure(graph, "rdfs")
    assert set(inferred) == {
        (URIRef(EX + "c"), URIRef(EX + "name"), Literal("Imlil")),
    }
    assert reason.noise_reason(
        (URIRef(EX + "a"), URIRef(EX + "flag"), Literal("1", datatype=XSD.integer)), graph, graph
    ) == "literal copy"


# --- questions only inference answers -------------------------------------------------------------------------------

EVENTS_IN_MOROCCO = "SELECT ?event WHERE { ?event ct:occurredIn kg:place-morocco } ORDER BY ?event"


def test_events_in_morocco_through_place_containment(dataset, owl_rl):
    assert rows(dataset, EVENTS_IN_MOROCCO) == []
    assert rows(owl_rl, EVENTS_IN_MOROCCO) == [
        ("kg:event-2003-casablanca-bombings",),
        ("kg:event-2011-marrakesh-bombing",),
        ("kg:event-2018-imlil-murders",),
    ]


def test_inverse_properties(dataset, owl_rl):
    asks = [
        "ASK { kg:place-morocco ct:contains kg:place-imlil }",
        "ASK { kg:place-marrakesh ct:contains kg:place-argana-cafe }",
        "ASK { kg:org-dgapr ct:operates kg:program-moussalaha }",
        "ASK { kg:strategy-deradicalization ct:componentOf kg:strategy-morocco-counterterrorism }",
    ]
    for ask in asks:
        assert kg.query(dataset, ask).askAnswer is False, ask
        assert kg.query(owl_rl, ask).askAnswer is True, ask


def test_superclass_query_finds_the_dgst_as_a_security_agency(dataset, owl_rl, rdfs):
    query = "SELECT ?agency WHERE { ?agency a ct:SecurityAgency } ORDER BY ?agency"
    assert rows(dataset, query) == [("kg:org-moroccan-security-services",)]
    expected = [("kg:org-dgst",), ("kg:org-moroccan-security-services",)]
    assert rows(owl_rl, query) == expected
    assert rows(rdfs, query) == expected


def test_rdfs_does_not_apply_owl_rules(rdfs):
    assert rows(rdfs, EVENTS_IN_MOROCCO) == []
    assert (KG["place-morocco"], CT.contains, KG["place-imlil"]) not in rdfs


# --- the cache ------------------------------------------------------------------------------------------------------


def copy_inputs(target: Path) -> Path:
    for source in SOURCES:
        for relative in source.paths:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / relative, target / relative)
    return target


def test_closure_is_computed_once_then_read_from_the_cache(tmp_path):
    first = build.closure("rdfs", "fast", directory=tmp_path)
    second = build.closure("rdfs", "fast", directory=tmp_path)
    assert first.computed is True and second.computed is False
    assert first.path == second.path and first.triples == second.triples > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.path.name]


def test_cache_key_follows_the_inputs(tmp_path):
    root = copy_inputs(tmp_path / "repo")
    before = build.cache_path("owl-rl", "fast", root, tmp_path / "cache")
    with (root / "data/enrichment.ttl").open("a", encoding="utf-8") as data:
        data.write("\nkg:place-temara ct:locatedIn kg:place-morocco .\n")
    after = build.cache_path("owl-rl", "fast", root, tmp_path / "cache")
    assert before != after
    assert before != build.cache_path("rdfs", "fast", root, tmp_path / "cache")
    assert before != build.cache_path("owl-rl", "owlrl", root, tmp_path / "cache")


def test_cache_is_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "closure.nt"
    write_atomically(path, b"old\n")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, b"new\n")
    assert path.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["closure.nt"]


def test_cache_directory_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    assert build.cache_dir() == tmp_path
    assert build.cache_path("owl-rl").parent == tmp_path


# A cache that fails its check is computed again, with one warning line, and served as computed: never accepted as
# it is, never a traceback. `damage` takes the good file's bytes and the path, and leaves the bad file there.
def _cut_at_a_line(data: bytes, path: Path) -> None:
    lines = data.splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))


def _poisoned(data: bytes, path: Path) -> None:
    path.write_bytes(data + b'<https://w3id.org/morocco-ct-kg/id/org-dgst> '
                            b'<http://www.w3.org/2000/01/rdf-schema#label> "POISONED <script>" .\n')


def _cut_mid_line(data: bytes, path: Path) -> None:
    path.write_bytes(data[: len(data) // 2 + 7])


def _nul_bytes(data: bytes, path: Path) -> None:
    path.write_bytes(data[:200] + b"\0" * 64 + data[264:])


def _symlink(data: bytes, path: Path) -> None:
    path.unlink()
    path.symlink_to("/etc/passwd")


def _header_only(data: bytes, path: Path) -> None:
    path.write_bytes(data.splitlines(keepends=True)[0])


DAMAGE = {
    "cut at a line boundary": _cut_at_a_line,
    "emptied": lambda data, path: path.write_bytes(b""),
    "an extra triple": _poisoned,
    "cut mid-line": _cut_mid_line,
    "NUL bytes": _nul_bytes,
    "a symlink to /etc/passwd": _symlink,
    "the header line only": _header_only,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_cache_is_rebuilt_with_one_warning_line(tmp_path, damage, caplog):
    good = build.closure("owl-rl", directory=tmp_path)
    data = good.path.read_bytes()
    DAMAGE[damage](data, good.path)
    caplog.clear()
    with caplog.at_level("WARNING", logger="kg.build"):
        again = build.closure("owl-rl", directory=tmp_path)
    assert again.computed is True and (again.triples, again.digest) == (good.triples, good.digest)
    assert good.path.read_bytes() == data and not good.path.is_symlink()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "\n" not in warnings[0] and warnings[0].startswith(f"{good.path}: closure cache")
    assert Path("/etc/passwd").read_bytes()  # the link's target is read by nobody and left alone


def test_a_damaged_cache_is_never_served(tmp_path, monkeypatch):
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    good = build.closure("owl-rl")
    _poisoned(good.path.read_bytes(), good.path)
    inferred = build.dataset("owl-rl").graph(GRAPH.inferred)
    assert len(inferred) == good.triples and "POISONED" not in inferred.serialize(format="nt")


def test_an_orphan_temporary_file_is_removed(tmp_path):
    orphan = tmp_path / ".inferred-owl-rl-fast-0.nt.999999999.x1y2z3.partial"
    orphan.write_bytes(b"half a closure")
    live = tmp_path / f".inferred-owl-rl-fast-0.nt.{os.getpid()}.a1b2c3.partial"
    live.write_bytes(b"being written")
    build.closure("owl-rl", directory=tmp_path)
    assert not orphan.exists() and live.exists()


def test_kg_build_starts_on_a_damaged_cache_with_one_warning(tmp_path):
    env = {**os.environ, "KG_CACHE_DIR": str(tmp_path)}
    good = build.closure("owl-rl", directory=tmp_path)
    _cut_mid_line(good.path.read_bytes(), good.path)
    done = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", "build"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [f"{good.path}: closure cache rejected (content hash differs (cut, edited or "
                                        f"corrupted)); computing it again"]
    assert "owl-rl" in done.stdout


# --- the command line -----------------------------------------------------------------------------------------------


def test_kg_reason_reports_the_triples_per_graph_before_and_after(tmp_path, monkeypatch, dataset):
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["reason", "--engine", "fast"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"computed: {tmp_path}")
    inferred = len(reason.fast_closure(reason.asserted(dataset), "owl-rl"))
    assert f"{GRAPH.inferred}" in lines[-2] and lines[-2].split()[1:] == ["0", str(inferred)]
    again = CliRunner().invoke(main, ["reason", "--engine", "fast"], catch_exceptions=False)
    assert again.output.splitlines()[0].startswith("cached: ")


def test_kg_query_with_inference():
    result = CliRunner().invoke(main, ["query", EVENTS_IN_MOROCCO, "--inference", "owl-rl", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "event",
        str(KG["event-2003-casablanca-bombings"]),
        str(KG["event-2011-marrakesh-bombing"]),
        str(KG["event-2018-imlil-murders"]),
    ]
