"""The `kg` command line, run in-process through click's runner."""

from click.testing import CliRunner

from kg.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_stats_lists_every_named_graph():
    result = run("stats")
    assert result.exit_code == 0
    for name in ("ontology", "claims", "enrichment", "wikidata"):
        assert f"https://w3id.org/morocco-ct-kg/graph/{name}" in result.output


def test_query_csv_gives_the_exact_answer():
    result = run("query", "SELECT ?v WHERE { kg:claim-cells-dismantled-since-2002 schema:value ?v }", "--format", "csv")
    assert result.exit_code == 0
    assert result.output.splitlines() == ["v", "207"]


def test_malformed_query_is_a_one_line_error_not_a_traceback():
    result = CliRunner().invoke(main, ["query", "SELEC ?x"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: syntax error at line 1, column 1: expected a query form")


def test_queries_lists_every_named_query_with_its_question():
    result = run("queries")
    assert result.exit_code == 0
    assert "cells-since-2002         How many terrorist cells were dismantled since 2002" in result.output
    assert len(result.output.splitlines()) >= 8


def test_named_query_as_table():
    result = run("query", "lower-bounds")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "(3 rows)"
    assert "kg:claim-moussalaha-beneficiaries" in result.output


def test_export_nquads_keeps_the_named_graphs(tmp_path):
    target = tmp_path / "graph.nq"
    result = run("export", "--format", "nquads", "-o", str(target))
    assert result.exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert "<https://w3id.org/morocco-ct-kg/graph/claims> ." in text
    assert "<https://w3id.org/morocco-ct-kg/graph/enrichment> ." in text


def test_export_unknown_format_is_a_clear_error():
    result = CliRunner().invoke(main, ["export", "--format", "docx"])
    assert result.exit_code == 1
    assert "unknown format 'docx'" in result.output


def test_the_ui_doc_kg_examples_run_as_shown():
    """docs/ui.md's `$ kg` lines (text:query from the command line) print what the doc shows."""
    import shlex

    from conftest import ROOT, console_steps, fenced_blocks

    steps = [(command, output) for info, code in fenced_blocks(ROOT / "docs" / "ui.md") if info == "console"
             for command, output in console_steps(code) if command.startswith("kg ")]
    assert steps
    for command, output in steps:
        result = CliRunner().invoke(main, shlex.split(command)[1:])
        assert (result.exit_code, result.output.rstrip("\n")) == (0, output), command


def test_text_query_from_the_cli_matches_the_endpoint(client):
    query = 'SELECT ?s ?score ?text WHERE { (?s ?score ?text) text:query "cells dismantled" } ORDER BY ?s ?text'
    cli = CliRunner().invoke(main, ["query", query, "--format", "csv"])
    served = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert cli.exit_code == 0 and served.status_code == 200
    assert cli.output.replace("\r\n", "\n").strip() == served.text.replace("\r\n", "\n").strip()
    assert len(cli.output.splitlines()) > 5
