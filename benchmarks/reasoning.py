"""Benchmark the two reasoning engines on synthetic graphs of the shipped graph's shape; print a table.

    .venv/bin/python benchmarks/reasoning.py                  # 1k, 10k, 100k, 1M triples; owlrl capped at 120 s
    .venv/bin/python benchmarks/reasoning.py --sizes 1000 10000 --timeout 60

The synthetic graph is the shipped ontology plus generated instances that use it the way the data does: places in a
containment hierarchy (ct:locatedIn, transitive, with an inverse), attacks that occurred in sites (the property chain
ct:occurredIn o ct:locatedIn), agencies of the class hierarchy, programs and their operators (inverse properties),
strategies and their components, and claims with their period, evidence and claimant (domain/range, subproperties).

owlrl runs in a child process that is killed when it passes the timeout; once it has timed out at one size, it is
not run at larger ones (the closure time grows faster than the graph) and the table says "timeout". The fast engine
runs in this process. "same" compares the two inferred graphs where both finished. "naive close s" is the fast
engine's rules run in naive rounds (`kg.reason.materialize_naive`, the reference for the planned order), and
"= naive" says whether it inferred as many triples as the planned engine (up to --naive-up-to triples).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kg import reason  # noqa: E402
from kg.graph import ROOT as KG_ROOT  # noqa: E402
from kg.graph import parse_file  # noqa: E402

CT = "https://w3id.org/morocco-ct-kg/ontology#"
KG = "https://w3id.org/morocco-ct-kg/id/bench-"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
VALUE = "https://schema.org/value"
INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
COMPONENTS = ("Monitoring", "Analysis", "UrgentIntervention")


def block(i: int) -> list[tuple[str, str, str]]:
    """The triples of one country and what happens in it (subject, predicate, object in N-Triples syntax)."""

    def node(name: str) -> str:
        return f"<{KG}{name}-{i}>"

    def ct(name: str) -> str:
        return f"<{CT}{name}>"

    def a(subject: str, cls: str) -> tuple[str, str, str]:
        return subject, f"<{RDF_TYPE}>", ct(cls)

    def label(subject: str, text: str) -> tuple[str, str, str]:
        return subject, f"<{LABEL}>", f'"{text} {i}"@en'

    country, region = node("country"), f"<{KG}region-{i // 10}>"
    triples = [a(country, "Country"), label(country, "country"), (country, ct("locatedIn"), region)]
    agency, cell, doc = node("agency"), node("organization"), node("doc")
    triples += [a(agency, "IntelligenceAgency"), label(agency, "agency"), a(cell, "TerroristOrganization"),
                label(cell, "organization"), (agency, ct("parentOrganization"), node("ministry")),
                a(node("ministry"), "GovernmentAgency"), a(doc, "PressRelease"), (doc, f"<{LABEL}>", '"release"')]
    for p in range(3):
        province = node(f"province-{p}")
        triples += [a(province, "Province"), label(province, "province"), (province, ct("locatedIn"), country)]
        for c in range(2):
            city, site = node(f"city-{p}-{c}"), node(f"site-{p}-{c}")
            triples += [a(city, "City"), label(city, "city"), (city, ct("locatedIn"), province),
                        a(site, "Site"), label(site, "site"), (site, ct("locatedIn"), city)]
            event = node(f"event-{p}-{c}")
            triples += [a(event, "TerroristAttack"), label(event, "attack"), (event, ct("occurredIn"), site),
                        (event, ct("perpetratedBy"), cell), (event, ct("numberOfDeaths"), f'"{c + p}"^^<{INTEGER}>')]
    program, policy, strategy = node("program"), node("policy"), node("strategy")
    triples += [a(program, "Program"), (program, ct("operatedBy"), agency), (program, ct("realizes"), policy),
                a(policy, "ReintegrationPolicy"), a(strategy, "CounterterrorismStrategy"),
                (strategy, ct("adoptedBy"), country)]
    for name in COMPONENTS:
        component = node(f"component-{name}")
        triples += [a(component, name), (strategy, ct("hasComponent"), component),
                    (component, ct("implementedBy"), agency)]
    for k in range(2):
        claim, evidence, period = node(f"claim-{k}"), node(f"evidence-{k}"), node(f"period-{k}")
        triples += [a(claim, "CountClaim"), (claim, ct("claimedBy"), agency), (claim, ct("statedIn"), doc),
                    (claim, ct("evidence"), evidence), (claim, ct("period"), period),
                    (claim, ct("valueKind"), ct("Exact")), (claim, f"<{VALUE}>", f'"{10 * k + i}"^^<{INTEGER}>'),
                    (claim, ct("counts"), ct("CellDismantling")), a(evidence, "Evidence"), a(period, "Period")]
    return triples


def synthetic(size: int) -> str:
    """The ontology plus as many blocks as make about `size` triples, as N-Triples."""
    ontology = parse_file(KG_ROOT / "ontology/ct.ttl").serialize(format="nt")
    budget = size - len([line for line in ontology.splitlines() if line.strip()])
    lines, i = [], 0
    while budget > 0:
        triples = block(i)
        lines += [f"{s} {p} {o} .\n" for s, p, o in triples]
        budget -= len(triples)
        i += 1
    return ontology + "".join(lines)


def run_fast(data: str, profile: str, materialize=reason.materialize) -> tuple[float, float, int, int]:
    """Load into pyoxigraph and close; return load seconds, close seconds, inferred triples, rounds."""
    start = time.perf_counter()
    store = ox.Store()
    store.bulk_load(data.encode(), ox.RdfFormat.N_TRIPLES)
    loaded = time.perf_counter()
    before = len(store)
    rounds = materialize(store, profile)
    closed = time.perf_counter()
    return loaded - start, closed - loaded, len(store) - before, rounds


def _owlrl_child(data: str, profile: str, queue) -> None:
    start = time.perf_counter()
    graph = Graph()
    graph.parse(data=data, format="nt")
    parsed = time.perf_counter()
    inferred = reason.owlrl_closure(graph, profile)
    queue.put((parsed - start, time.perf_counter() - parsed, len(inferred)))


def run_owlrl(data: str, profile: str, timeout: float) -> tuple[float, float, int] | None:
    """Parse with rdflib and close with owlrl in a child process; None if it passes `timeout` seconds."""
    queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_owlrl_child, args=(data, profile, queue))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return None
    return queue.get(timeout=5)


def same_closure(data: str, profile: str) -> bool:
    graph = Graph()
    graph.parse(data=data, format="nt")
    return set(reason.owlrl_closure(graph, profile)) == set(reason.fast_closure(graph, profile))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--profile", choices=reason.PROFILES, default="owl-rl")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before owlrl is stopped (default 120)")
    parser.add_argument("--check-up-to", type=int, default=10_000,
                        help="compare the two engines' inferred graphs up to this size (default 10000)")
    parser.add_argument("--naive-up-to", type=int, default=1_000_000,
                        help="run the fast rules in naive rounds too, up to this size (default 1000000)")
    args = parser.parse_args(argv)

    header = (f"{'triples':>9} | {'owlrl parse s':>13} | {'owlrl close s':>13} | {'owlrl inferred':>14} | "
              f"{'fast load s':>11} | {'fast close s':>12} | {'fast inferred':>13} | {'rounds':>6} | same | "
              f"{'naive close s':>13} | = naive")
    print(f"profile {args.profile}; owlrl timeout {args.timeout:.0f} s")
    print(header)
    print("-" * len(header))
    owlrl_timed_out = False
    for size in args.sizes:
        data = synthetic(size)
        triples = data.count("\n")
        load_s, close_s, fast_inferred, rounds = run_fast(data, args.profile)
        owlrl_result = None if owlrl_timed_out else run_owlrl(data, args.profile, args.timeout)
        owlrl_timed_out = owlrl_result is None
        if owlrl_result is None:
            owlrl_cells = f"{'timeout':>13} | {'timeout':>13} | {'-':>14}"
        else:
            owlrl_cells = f"{owlrl_result[0]:>13.2f} | {owlrl_result[1]:>13.2f} | {owlrl_result[2]:>14}"
        same = ("yes" if same_closure(data, args.profile) else "NO") if size <= args.check_up_to else "-"
        naive_cells = f"{'-':>13} | -"
        if size <= args.naive_up_to:
            _, naive_s, naive_inferred, _ = run_fast(data, args.profile, reason.materialize_naive)
            naive_cells = f"{naive_s:>13.2f} | {'yes' if naive_inferred == fast_inferred else 'NO'}"
        print(f"{triples:>9} | {owlrl_cells} | {load_s:>11.2f} | {close_s:>12.2f} | {fast_inferred:>13} | "
              f"{rounds:>6} | {same:>4} | {naive_cells}", flush=True)


if __name__ == "__main__":
    main()
