"""The `kg` command line: a thin shell over the library."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from kg import graph as graph_module
from kg.errors import DataFileError, KGError
from kg.federation import ENV_VAR, AllowList
from kg.formats import EXPORT_FORMATS, GRAPH_FORMATS, RESULT_FORMATS, lookup
from kg.inference import INFERENCE_MODES, PROFILES
from kg.linker import DEFAULT_API, MIN_SCORE, WikidataApi, online_entities, read_dump
from kg.linker import link as run_link
from kg.namespaces import GRAPH, bind_prefixes, compact
from kg.queries import named_queries
from kg.query import run
from kg.search import SearchIndex
from kg.sparql_errors import QuerySyntaxError
from kg.store.oxigraph import RESULT_MEDIA_TYPES
from kg.store.reference import RdflibStore


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from None


def _dataset(inference: str = "none"):
    from kg.build import dataset

    try:
        return dataset(inference)
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
        click.echo(f"{compact(row[0]):<40} {int(row[1]):>9}")


def _shown(path: Path) -> Path:
    """A path as the user would type it: relative to the working directory when it lies below it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


@main.command()
@click.option("--data", "files", multiple=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Validate this RDF file (repeatable) against the project's ontology and shapes, instead of the "
                   "shipped data.")
def validate(files: tuple[Path, ...]) -> None:
    """Check the data against the SHACL shapes; exit 0 if it conforms, 1 if not, 2 on a broken file.

    Each result names the node, the path, the value, the rule's message and the shape.
    """
    from kg.validate import validate as run_validation

    try:
        report = run_validation(files=files) if files else run_validation()
    except DataFileError as exc:
        where = f"{_shown(exc.path)}:{exc.line}" if exc.line else str(_shown(exc.path))
        click.echo(f"Error: {where}: {exc.reason}", err=True)
        sys.exit(2)
    except KGError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(report.text)
    sys.exit(0 if report.conforms else 1)


def _query_text(query: str) -> str:
    """A named query, a .rq file, or the query text itself (a single word is never SPARQL: it names a query)."""
    queries = named_queries()
    if query in queries:
        return queries[query].text
    path = Path(query)
    if path.suffix == ".rq":
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            _fail(KGError(f"{path}: {exc.strerror}"))
    if re.fullmatch(r"[\w.-]+", query):
        _fail(KGError(f"no named query {query!r}; the named queries are: {', '.join(queries)} "
                      "(`kg queries` gives the question each answers)"))
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
# `table`, then every format of the endpoint, results and graphs (xml is both: SPARQL XML results or RDF/XML)
QUERY_FORMATS = list(dict.fromkeys(["table", *(f.name for f in RESULT_FORMATS), *(f.name for f in GRAPH_FORMATS)]))


@main.command()
def queries() -> None:
    """List the named queries (the competency questions) with the question each answers."""
    for name, named in named_queries().items():
        click.echo(f"{name:<24} {named.question}")


def _search_index(text: str, asserted) -> SearchIndex | None:
    """The full-text index that answers `text:query`, as the endpoint's: built from the asserted dataset (loaded
    when `asserted` is None), only for a query that may use it (every text:query pattern spells "query")."""
    if "query" not in text:
        return None
    return SearchIndex(RdflibStore({"none": asserted or _dataset()}, version=graph_module.version()))


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(QUERY_FORMATS), default="table", show_default=True,
              help="table, or a format of the endpoint: results of SELECT and ASK in json, xml, csv or tsv; "
                   "graphs of CONSTRUCT and DESCRIBE in turtle, json-ld, nt, xml, trig or nquads (json: json-ld).")
@click.option("--allow-service", "allow_service", multiple=True, metavar="ENDPOINT",
              help=f"Let SERVICE call this SPARQL endpoint (repeatable; also ${ENV_VAR}). Off by default.")
@INFERENCE_OPTION
def query(query: str, fmt: str, allow_service: tuple[str, ...], inference: str) -> None:
    """Run QUERY (a named query such as `cells-since-2002`, a .rq file, or SPARQL text)."""
    text = _query_text(query)
    dataset = _dataset(inference)
    try:
        allow = AllowList.from_env() | AllowList.of(allow_service)
        result = run(dataset, text, allow, search=_search_index(text, dataset if inference == "none" else None))
    except QuerySyntaxError as exc:
        _fail(KGError(f"{exc}\n{exc.excerpt}"))
    except KGError as exc:
        _fail(exc)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        name = {"table": "turtle", "json": "json-ld"}.get(fmt, fmt)
        if name not in (f.name for f in GRAPH_FORMATS):
            _fail(KGError(f"a {result.type} query gives a graph: --format {', '.join(f.name for f in GRAPH_FORMATS)}"))
        bind_prefixes(result.graph)
        click.echo(result.graph.serialize(format=lookup(GRAPH_FORMATS, name).rdflib))
    elif fmt == "table":
        click.echo(_table(result) if result.type == "SELECT" else str(result.askAnswer).lower())
    elif fmt not in (f.name for f in RESULT_FORMATS):
        names = ", ".join(f.name for f in RESULT_FORMATS)
        _fail(KGError(f"a {result.type} query gives results: --format table, {names}"))
    else:
        solutions = ox.parse_query_results(result.serialize(format="json"), ox.QueryResultsFormat.JSON)
        body = solutions.serialize(format=RESULT_MEDIA_TYPES[lookup(RESULT_FORMATS, fmt).media_type])
        click.echo(body.decode("utf-8"), nl=not body.endswith(b"\n"))


@main.command()
@click.option("--format", "fmt", default="turtle", show_default=True,
              help="turtle, json-ld, nt, nquads, trig, xml, quickstatements or claims-csv (or media type, extension)")
@INFERENCE_OPTION
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout)")
@click.option("--retrieved", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="QuickStatements only: the S813 (retrieved) date of the references [default: today]")
def export(fmt: str, inference: str, output: str | None, retrieved) -> None:
    """Serialize the graph, asserted only or with inferences; quad formats keep the named graphs.

    `--format quickstatements` writes the article's figures for linked Wikidata items, for a curator to review;
    `--format claims-csv` every claim as one row of a table (docs/data-model.md lists the columns).
    """
    from kg import export as export_module

    try:
        chosen = lookup(EXPORT_FORMATS, fmt)
    except KGError as exc:
        _fail(exc)
    dataset = _dataset(inference)
    if chosen.name == "quickstatements":
        from kg.wikidata import quickstatements

        try:
            chunks = [quickstatements(dataset, (retrieved or datetime.now()).date()).encode("utf-8")]
        except KGError as exc:
            _fail(exc)
    elif chosen.name == "claims-csv":
        from kg.claims_table import from_dataset

        chunks = [from_dataset(dataset).encode("utf-8")]
    else:
        chunks = export_module.export(dataset, chosen)
    if output:
        with Path(output).open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
    else:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)


@main.command()
@click.option("--profile", type=click.Choice(PROFILES), default="owl-rl", show_default=True)
@click.option("--engine", type=click.Choice(("fast", "owlrl")), default="fast", show_default=True,
              help="fast (SPARQL rules on pyoxigraph, what `kg serve` uses) or owlrl (the reference; the same result "
                   "for our ontology)")
@click.option("--refresh", is_flag=True, help="Compute the closure even if the cache has it.")
def reason(profile: str, engine: str, refresh: bool) -> None:
    """Compute the closure of the graph once and cache it; print the triples per named graph before and after."""
    from kg.build import closure

    try:
        asserted = graph_module.load()
        result = closure(profile, engine, refresh=refresh, asserted=asserted)
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


STORE_OPTION = click.option(
    "--store", "location", default=None, metavar="PATH|URL",
    help="PATH: the embedded store on disk there (built if missing or stale, else opened in seconds); URL: a SPARQL "
         "1.1 query endpoint loaded by `kg load --into` [default: the embedded store, in memory]")


@main.command()
@STORE_OPTION
def build(location: str | None) -> None:
    """Build the served store: the input files and each mode's verified closure, in memory or on disk (--store PATH)."""
    import time

    from kg.build import store as build_store
    from kg.store import is_url

    if is_url(location):
        raise click.UsageError("kg build makes the embedded store; to fill a remote server use `kg load --into URL`")
    start = time.perf_counter()
    try:
        built = build_store(Path(location) if location else None)
    except KGError as exc:
        _fail(exc)
    for mode in built.datasets:
        click.echo(f"{mode:<8} {built.size(mode):>10} quads in {len(built.graphs(mode))} graphs")
    click.echo(f"ready in {time.perf_counter() - start:.1f} s" + (f": {location}" if location else " (in memory)"))


@main.command()
@click.option("--into", "url", required=True, metavar="URL",
              help="The server's Graph Store Protocol endpoint (Oxigraph: http://HOST:PORT/store)")
@STORE_OPTION
@click.option("--user", default=None, help="User for HTTP authentication (digest or basic) at URL")
@click.option("--password", default=None, envvar="KG_LOAD_PASSWORD", help="Password for --user ($KG_LOAD_PASSWORD)")
@click.option("--timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds to wait for the server to take one graph.")
def load(url: str, location: str | None, user: str | None, password: str | None, timeout: float) -> None:
    """Put the built dataset into a remote SPARQL server, one named graph at a time (a Graph Store Protocol PUT of
    each asserted graph and of each mode's inferred graph); running it again leaves the same data."""
    from kg.build import store as build_store
    from kg.store import remote

    try:
        built = build_store(Path(location) if location else None)
        graphs = remote.graphs_to_load(built)
        total = sum(len(data) for _, data in graphs)
        with click.progressbar(length=total, label=f"loading into {url}", show_pos=False, show_percent=True) as bar:
            for iri, data in graphs:
                remote.put_graph(url, iri, data, user=user, password=password, timeout=timeout)
                bar.update(len(data))
    except KGError as exc:
        _fail(exc)
    lines = sum(data.count(b"\n") for _, data in graphs)
    click.echo(f"{len(graphs)} graphs, {lines} triples loaded into {url}")


@main.command()
@click.option("--triples", type=click.IntRange(min=1), required=True, help="How many triples, at least.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, metavar="DIR",
              help="Directory to write, laid out like the repository (KG_HOME=DIR kg build --store DIR/store)")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed and size give the same files.")
def synth(triples: int, out: Path, seed: int) -> None:
    """Write a synthetic graph of the shipped graph's shape with at least N triples, for the scale benchmarks."""
    from kg.synth import synthesize

    click.echo(f"{synthesize(triples, out, seed)} triples written to {out}")


@main.command()
@click.argument("phrase")
@click.option("--text", "path", type=click.Path(dir_okay=False, path_type=Path), default=None, envvar="KG_ARTICLE",
              help="The source text [default: $KG_ARTICLE, the article]")
@click.option("--at", "start", type=click.IntRange(min=0), default=None, metavar="START",
              help="Choose the occurrence that starts at this offset, when the phrase occurs more than once.")
def locate(phrase: str, path: Path | None, start: int | None) -> None:
    """Print where PHRASE occurs in the source text (offsets, prefix, suffix, as a Turtle selector) and, in the
    article, the claims whose evidence overlaps it: what a curator needs to add a quote as evidence."""
    from kg.locate import covering_claims
    from kg.locate import locate as find

    if path is None:
        raise click.UsageError("no source text: give --text FILE or set KG_ARTICLE to the article's path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(KGError(f"{path}: {getattr(exc, 'strerror', None) or exc}"))
    try:
        where = find(text, phrase, path, start)
    except KGError as exc:
        _fail(exc)
    click.echo(f"{where.start}-{where.end}")
    click.echo(where.turtle())
    for claim, quote, s, e in covering_claims(_dataset(), where):
        click.echo(f"{compact(claim)}\t{s}-{e}\t{quote}")


@main.command()
def context() -> None:
    """Print the JSON-LD context generated from the ontology (ontology/context.jsonld is this output)."""
    from kg import export as export_module

    dataset = _dataset()
    click.echo(json.dumps(export_module.build_context(dataset.graph(GRAPH.ontology)), indent=2, ensure_ascii=False))


@main.command()
@click.option("--dump", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A Wikidata JSON dump (one entity per line; .gz or .bz2 read as such).")
@click.option("--online", is_flag=True, help="Ask the live Wikidata API (wbsearchentities, wbgetentities).")
@click.option("--api-url", default=DEFAULT_API, show_default=True, help="The action API to ask with --online.")
@click.option("--review", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The review file [default: data/wikidata-review.tsv]")
@click.option("--accepted", "accepted_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the accepted links are written [default: data/wikidata-accepted.ttl]")
@click.option("--min-score", type=click.IntRange(0, 100), default=MIN_SCORE, show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds to wait for one API answer.")
@click.option("--max-retries", type=click.IntRange(0, 10), default=3, show_default=True,
              help="Retries of an API call answered by HTTP 429, 5xx or maxlag.")
@click.option("--refresh", is_flag=True,
              help="With --online: instead of proposing links, read the linked items' values from Wikidata into the "
                   "refreshed file and print where they differ from the curated ones.")
@click.option("--refreshed", "refreshed_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where --refresh writes [default: data/wikidata-refreshed.ttl]")
def link(dump: Path | None, online: bool, api_url: str, review: Path | None, accepted_path: Path | None,
         min_score: int, timeout: float, max_retries: int, refresh: bool, refreshed_path: Path | None) -> None:
    """Propose Wikidata ids for the candidates into the review file; write the accepted links.

    Without --dump or --online, only apply the decisions of the review file. With --online --refresh, read what
    Wikidata says about the linked items instead, write it to its own graph and list the differences.
    """
    if dump and online:
        raise click.UsageError("give --dump or --online, not both")
    if refresh:
        if not online:
            raise click.UsageError("--refresh reads from Wikidata: give --online")
        _refresh(WikidataApi(api_url, timeout=timeout, max_retries=max_retries),
                 refreshed_path or graph_module.ROOT / "data" / "wikidata-refreshed.ttl")
        return
    if dump:
        def source(found):
            return read_dump(dump)
    elif online:
        api = WikidataApi(api_url, timeout=timeout, max_retries=max_retries)

        def source(found):
            return online_entities(api, found)
    else:
        source = None
    review = review or graph_module.ROOT / "data" / "wikidata-review.tsv"
    accepted_path = accepted_path or graph_module.ROOT / "data" / "wikidata-accepted.ttl"
    dataset = _dataset()
    try:
        report = run_link(dataset, source, review, accepted_path, min_score)
    except KGError as exc:
        _fail(exc)
    click.echo(f"{report.candidates} candidates without a link; {report.proposals} proposals "
               f"({report.new} new); {report.accepted} accepted, {report.rejected} rejected")
    if source is not None:
        click.echo(f"review file: {review}")
    click.echo(f"accepted links: {accepted_path}")


def _refresh(api: WikidataApi, path: Path) -> None:
    from kg.refresh import refresh, table

    dataset = _dataset()
    try:
        report = refresh(dataset, api, path, datetime.now(UTC))
    except KGError as exc:
        _fail(exc)
    click.echo(f"{report.items} linked items read from Wikidata; {report.statements} statements written to {path}")
    if report.differences:
        click.echo(f"{len(report.differences)} differences from the curated values, for review:")
        for line in table(report.differences):
            click.echo(line)
    else:
        click.echo("no differences from the curated values")


def _setting_options(command):
    """One `kg serve` option per entry of the settings table."""
    from kg.web.settings import SETTINGS

    for setting in reversed(SETTINGS):
        if isinstance(setting.default, bool):
            flag = f"{setting.flag}/--no-{setting.flag[2:]}"
            command = click.option(flag, setting.name, default=setting.default, show_default=True,
                                   help=setting.help)(command)
        elif isinstance(setting.default, tuple):
            command = click.option(setting.flag, setting.name, multiple=True, metavar="IRI",
                                   help=setting.help)(command)
        else:
            command = click.option(setting.flag, setting.name, type=type(setting.default), default=setting.default,
                                   show_default=True, help=setting.help)(command)
    return command


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on")
@STORE_OPTION
@_setting_options
def serve(host: str, port: int, location: str | None, **settings) -> None:
    """Serve the SPARQL endpoint at http://HOST:PORT/sparql (gunicorn), on the embedded pyoxigraph store (built
    first, or opened from --store PATH) or on a remote SPARQL server (--store URL)."""
    from kg.serve import serve as run_server
    from kg.store import open_store
    from kg.store.isolation import engine_options

    try:
        settings["allow_service"] = (*sorted(AllowList.from_env().endpoints), *settings["allow_service"])
        config = {name.upper(): value for name, value in settings.items()}
        store = open_store(location, timeout=settings["query_timeout"], **engine_options(config))
        click.echo(f"Serving the SPARQL endpoint at http://{host}:{port}/sparql", err=True)
        run_server(host, port, config, store)
    except KGError as exc:
        _fail(exc)
