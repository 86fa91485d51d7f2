"""The `kg` command line: a thin shell over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kg import graph as graph_module
from kg.errors import KGError
from kg.formats import GRAPH_FORMATS, lookup
from kg.namespaces import GRAPH
from kg.queries import named_queries
from kg.query import run
from kg.reason import ENGINES, INFERENCE_MODES, PROFILES


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from None


def _dataset(inference: str = "none"):
    try:
        return graph_module.load(inference=inference)
    except KGError as exc:
        _fail(exc)


INFERENCE_OPTION = click.option(
    "--inference", type=click.Choice(INFERENCE_MODES), default="none", show_default=True,
    help="Add the cached closure (computed first if missing) as the graph …/graph/inferred.",
)


def _graph_sizes(dataset) -> list[tuple[str, int]]:
    names = [source.graph for source in graph_module.SOURCES]
    if any(g.identifier == GRAPH.inferred for g in dataset.graphs()):
        names.append(GRAPH.inferred)
    return [(str(name), len(dataset.graph(name))) for name in names]


@click.group()
@click.version_option(package_name="morocco-ct-kg")
def main() -> None:
    """The Morocco counterterrorism knowledge graph."""


@main.command()
@INFERENCE_OPTION
def stats(inference: str) -> None:
    """Print the size of each named graph and the counts of the main kinds of node."""
    dataset = _dataset(inference)
    click.echo(f"{'graph':<60} {'triples':>8}")
    total = 0
    for name, size in _graph_sizes(dataset):
        total += size
        click.echo(f"{name:<60} {size:>8}")
    click.echo(f"{'total':<60} {total:>8}")
    counts = run(
        dataset,
        "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class . FILTER(STRSTARTS(STR(?class), STR(ct:))) }"
        " GROUP BY ?class ORDER BY DESC(?n) ?class",
    )
    click.echo(f"\n{'class':<40} {'instances':>9}")
    for row in counts:
        click.echo(f"{dataset.namespace_manager.normalizeUri(row[0]):<40} {int(row[1]):>9}")


@main.command()
def validate() -> None:
    """Check the data against the SHACL shapes; exit 0 if it conforms, 1 if not, 2 on a broken file."""
    from kg.validate import validate as run_validation

    try:
        report = run_validation(graph_module.load())
    except KGError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(report.text)
    sys.exit(0 if report.conforms else 1)


def _query_text(query: str) -> str:
    """A named query, a .rq file, or the query text itself."""
    queries = named_queries()
    if query in queries:
        return queries[query].text
    path = Path(query)
    if path.suffix == ".rq":
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            _fail(KGError(f"{path}: {exc.strerror}"))
    return query


def _table(result) -> str:
    names = [str(v) for v in result.vars]
    rows = [["" if term is None else term.n3(PREFIXES_NM) for term in row] for row in result]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = [" | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


PREFIXES_NM = graph_module.bind_prefixes(graph_module.Graph()).namespace_manager


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@INFERENCE_OPTION
def query(query: str, fmt: str, inference: str) -> None:
    """Run QUERY (a named query such as `cells-since-2002`, a .rq file, or SPARQL text)."""
    dataset = _dataset(inference)
    try:
        result = run(dataset, _query_text(query))
    except KGError as exc:
        _fail(exc)
    if result.type == "ASK":
        click.echo(json.dumps({"boolean": bool(result.askAnswer)}) if fmt == "json" else str(result.askAnswer).lower())
    elif result.type in ("CONSTRUCT", "DESCRIBE"):
        graph_module.bind_prefixes(result.graph)
        click.echo(result.graph.serialize(format="json-ld" if fmt == "json" else "turtle"))
    elif fmt == "table":
        click.echo(_table(result))
    else:
        click.echo(result.serialize(format=fmt).decode("utf-8"), nl=False)


@main.command()
@click.option("--format", "fmt", default="turtle", show_default=True,
              help="turtle, json-ld, nt, nquads, trig or xml (or a media type or file extension)")
@INFERENCE_OPTION
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout)")
def export(fmt: str, inference: str, output: str | None) -> None:
    """Serialize the graph, asserted only or with inferences; quad formats keep the named graphs."""
    from kg import export as export_module

    try:
        chosen = lookup(GRAPH_FORMATS, fmt)
    except KGError as exc:
        _fail(exc)
    dataset = _dataset(inference)
    if output:
        export_module.write(dataset, chosen, Path(output))
        return
    for chunk in export_module.export(dataset, chosen):
        sys.stdout.buffer.write(chunk)


@main.command()
@click.option("--profile", type=click.Choice(PROFILES), default="owl-rl", show_default=True)
@click.option("--engine", type=click.Choice(ENGINES), default="owlrl", show_default=True,
              help="owlrl (the reference) or fast (SPARQL rules on pyoxigraph; the same result for our ontology)")
@click.option("--refresh", is_flag=True, help="Compute the closure even if the cache has it.")
def reason(profile: str, engine: str, refresh: bool) -> None:
    """Compute the closure of the graph once and cache it; print the triples per named graph before and after."""
    from kg import reason as reason_module

    try:
        asserted = graph_module.load()
        result = reason_module.reason(profile, engine, refresh=refresh, asserted_dataset=asserted)
    except KGError as exc:
        _fail(exc)
    click.echo(f"{'computed' if result.computed else 'cached'}: {result.path}")
    sizes = [*_graph_sizes(asserted), (str(GRAPH.inferred), 0)]
    click.echo(f"{'graph':<60} {'before':>8} {'after':>8}")
    for name, size in sizes:
        after = result.triples if name == str(GRAPH.inferred) else size
        click.echo(f"{name:<60} {size:>8} {after:>8}")
    total = sum(size for _, size in sizes)
    click.echo(f"{'total':<60} {total:>8} {total + result.triples:>8}")


@main.command()
def context() -> None:
    """Print the JSON-LD context generated from the ontology (ontology/context.jsonld is this output)."""
    from kg import export as export_module

    dataset = _dataset()
    click.echo(json.dumps(export_module.build_context(dataset.graph(GRAPH.ontology)), indent=2, ensure_ascii=False))
