"""The `kg` command line: a thin shell over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rdflib import BNode, Graph, URIRef

from kg import graph as graph_module
from kg.errors import KGError
from kg.formats import GRAPH_FORMATS, lookup
from kg.namespaces import bind_prefixes
from kg.queries import named_queries
from kg.query import run


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from None


def _dataset():
    try:
        return graph_module.load()
    except KGError as exc:
        _fail(exc)


@click.group()
@click.version_option(package_name="morocco-ct-kg")
def main() -> None:
    """The Morocco counterterrorism knowledge graph."""


@main.command()
def stats() -> None:
    """Print the size of each named graph and the counts of the main kinds of node."""
    dataset = _dataset()
    click.echo(f"{'graph':<60} {'triples':>8}")
    total = 0
    for source in graph_module.SOURCES:
        size = len(dataset.graph(source.graph))
        total += size
        click.echo(f"{source.graph:<60} {size:>8}")
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


def _cell(term) -> str:
    """IRIs as prefixed names, literals as their plain text: a table is for reading."""
    if term is None:
        return ""
    return term.n3(PREFIXES_NM) if isinstance(term, URIRef | BNode) else str(term)


def _table(result) -> str:
    names = [str(v) for v in result.vars]
    rows = [[_cell(term) for term in row] for row in result]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = [" | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


PREFIXES_NM = bind_prefixes(Graph()).namespace_manager


@main.command()
def queries() -> None:
    """List the named queries (the competency questions) with the question each answers."""
    for name, named in named_queries().items():
        click.echo(f"{name:<24} {named.question}")


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
def query(query: str, fmt: str) -> None:
    """Run QUERY (a named query such as `cells-since-2002`, a .rq file, or SPARQL text)."""
    dataset = _dataset()
    try:
        result = run(dataset, _query_text(query))
    except KGError as exc:
        _fail(exc)
    if result.type == "ASK":
        click.echo(json.dumps({"boolean": bool(result.askAnswer)}) if fmt == "json" else str(result.askAnswer).lower())
    elif result.type in ("CONSTRUCT", "DESCRIBE"):
        bind_prefixes(result.graph)
        click.echo(result.graph.serialize(format="json-ld" if fmt == "json" else "turtle"))
    elif fmt == "table":
        click.echo(_table(result))
    else:
        click.echo(result.serialize(format=fmt).decode("utf-8"), nl=False)


@main.command()
@click.option("--format", "fmt", default="turtle", show_default=True,
              help="turtle, json-ld, nt, nquads, trig or xml")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout)")
def export(fmt: str, output: str | None) -> None:
    """Serialize the graph; quad formats keep the named graphs, triple formats give their union."""
    try:
        chosen = lookup(GRAPH_FORMATS, fmt)
    except KGError as exc:
        _fail(exc)
    dataset = _dataset()
    target = dataset if chosen.quads else bind_prefixes(Graph() + dataset)
    data = target.serialize(format=chosen.rdflib, encoding="utf-8")
    if output:
        Path(output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


def _setting_options(command):
    """One `kg serve` option per entry of the settings table."""
    from kg.web.settings import SETTINGS

    for setting in reversed(SETTINGS):
        if isinstance(setting.default, bool):
            flag = f"{setting.flag}/--no-{setting.flag[2:]}"
            command = click.option(flag, setting.name, default=setting.default, show_default=True,
                                   help=setting.help)(command)
        else:
            command = click.option(setting.flag, setting.name, type=type(setting.default), default=setting.default,
                                   show_default=True, help=setting.help)(command)
    return command


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on")
@_setting_options
def serve(host: str, port: int, **settings) -> None:
    """Serve the SPARQL endpoint at http://HOST:PORT/sparql (gunicorn, embedded pyoxigraph store)."""
    from kg.serve import serve as run_server

    click.echo(f"Serving the SPARQL endpoint at http://{host}:{port}/sparql", err=True)
    try:
        run_server(host, port, {name.upper(): value for name, value in settings.items()})
    except KGError as exc:
        _fail(exc)
