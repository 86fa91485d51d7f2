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
    assert result.output.startswith("Error: query failed:")
