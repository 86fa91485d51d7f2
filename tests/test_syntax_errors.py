"""Syntax errors that help, at the endpoint and in the CLI: line, column, the offending line with a caret, what was
expected there; an unknown prefix names itself and the predeclared ones; a name that is no named query says so."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.cli import QUERY_FORMATS, main
from kg.formats import GRAPH_FORMATS, RESULT_FORMATS
from kg.namespaces import QUERY_PREFIXES
from kg.queries import named_queries
from kg.sparql_errors import QuerySyntaxError, explain

FORM = "expected a query form: SELECT, CONSTRUCT, ASK or DESCRIBE"

CASES = [
    # (query, line, column, the reason after "syntax error at line L, column C: ")
    ("SELEC * WHERE { ?s ?p ?o }", 1, 1, f'{FORM}, found "SELEC" (did you mean SELECT?)'),
    ("SELECT * WHERE {\n  ?s foo:bar ?o }", 2, 6, 'unknown prefix "foo:"'),
    ("SELECT * WHERE {\n  ?s wdtt:P31 ?o }", 2, 6, 'unknown prefix "wdtt:" (did you mean "wdt:"?)'),
    ("SELECT *\nWHERE { ?s ?p ?o }\nLIMT 3", 3, 1, 'unknown word "LIMT" (did you mean LIMIT?)'),
    ("SELECT * WHERE {\n ?s ?p ?o", 1, 16, '"{" is never closed'),
    ("SELECT * WHERE { ?s ?p ?o ) }", 1, 27, 'expected "}" (for the "{" of line 1, column 16), found ")"'),
    ('SELECT * WHERE {\n  ?s ?p "abc }', 2, 9, "a string is never closed"),
    ("SELECT * WHERE { ?s ?p ?o }\nORDER ?s", 2, 7, 'expected BY after ORDER, found "?s"'),
    ("SELECT * WHERE { ?s <a b> ?o }", 1, 21, "invalid IRI"),
]


@pytest.mark.parametrize(("text", "line", "column", "reason"), CASES, ids=[c[0][:30] for c in CASES])
def test_plain_text_error_has_line_column_and_a_caret(client, text, line, column, reason):
    response = client.get("/sparql", query_string={"query": text})
    assert response.status_code == 400
    assert response.content_type == "text/plain; charset=utf-8"
    first, source, caret, end = response.text.split("\n")
    assert first.startswith(f"400: syntax error at line {line}, column {column}: {reason}")
    assert source == text.split("\n")[line - 1]
    assert caret == " " * (column - 1) + "^"
    assert end == ""


@pytest.mark.parametrize(("text", "line", "column", "reason"), CASES, ids=[c[0][:30] for c in CASES])
def test_json_error_gives_line_and_column(client, text, line, column, reason):
    response = client.get("/sparql", query_string={"query": text}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    body = response.get_json()
    assert (body["status"], body["line"], body["column"]) == (400, line, column)
    assert body["error"].startswith(f"syntax error at line {line}, column {column}: {reason}")


def test_unknown_prefix_lists_the_predeclared_ones_and_no_character_classes(client):
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s foo:bar ?o }"})
    first = response.text.split("\n")[0]
    assert first.endswith("or use a predeclared one: " + ", ".join(sorted(QUERY_PREFIXES)))
    assert "\\u{" not in response.text and "..=" not in response.text


def test_positions_are_those_of_the_query_as_written_not_as_rewritten(client):
    """The label service is rewritten before the engine parses the query; the error points into the user's text."""
    text = ('SELECT ?x ?xLabel WHERE {\n  ?x wdt:P17 wd:Q1028 .\n  SERVICE wikibase:label { bd:serviceParam '
            'wikibase:language "en". }\n} LIMT 3')
    lines = client.get("/sparql", query_string={"query": text}).text.split("\n")
    assert lines[:3] == ['400: syntax error at line 4, column 3: unknown word "LIMT" (did you mean LIMIT?)',
                         "} LIMT 3", "  ^"]


def test_the_engines_message_is_kept_when_no_token_check_applies():
    error = explain("SELECT ?x WHERE { ?s ?p ?o FILTER(?o = ) }",
                    "error at 1:40: expected one of ABS, AVG, ['0' ..= '9'], \"(\", Prefix not found")
    assert str(error) == 'syntax error at line 1, column 40: expected one of ABS, AVG, "(", found ")"'
    assert error.excerpt.split("\n")[1] == " " * 39 + "^"


def test_a_long_line_is_cut_around_the_column():
    text = "SELECT * WHERE { " + "?s ?p ?o . " * 30 + "?s ?p ?o LIMT }"
    error = explain(text)
    shown, caret = error.excerpt.split("\n")
    assert len(shown) <= 62 and "LIMT" in shown
    assert shown[len(caret) - 1: len(caret) + 3] == "LIMT"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.text(max_size=100))
def test_explain_never_fails_on_any_text(text, message):
    error = explain(text, message)
    assert isinstance(error, QuerySyntaxError) and error.line >= 1 and error.column >= 1
    assert error.excerpt.split("\n")[-1].endswith("^")


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_syntax_error_shows_the_caret():
    result = run("query", "SELECT * WHERE { ?s ?p ?o }\nORDER ?s")
    assert result.exit_code == 1
    assert result.output == ('Error: syntax error at line 2, column 7: expected BY after ORDER, found "?s"\n'
                             "ORDER ?s\n      ^\n")


def test_cli_names_a_missing_named_query_and_lists_them():
    result = run("query", "no-such-query")
    assert result.exit_code == 1
    assert result.output == (f"Error: no named query 'no-such-query'; the named queries are: "
                             f"{', '.join(named_queries())} (`kg queries` gives the question each answers)\n")


def test_cli_offers_every_format_of_the_endpoint():
    assert set(QUERY_FORMATS) == {"table", *(f.name for f in RESULT_FORMATS), *(f.name for f in GRAPH_FORMATS)}


def test_cli_result_formats():
    text = "SELECT ?v WHERE { kg:claim-cells-dismantled-since-2002 schema:value ?v }"
    assert run("query", text, "--format", "csv").output.splitlines() == ["v", "207"]
    assert run("query", text, "--format", "tsv").output == "?v\n207\n"
    value = {"type": "literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "207"}
    assert json.loads(run("query", text, "--format", "json").output) == {
        "head": {"vars": ["v"]}, "results": {"bindings": [{"v": value}]}}


def test_cli_xml_results_and_graph_formats():
    select = run("query", "ASK { kg:claim-cells-dismantled-since-2002 schema:value 207 }", "--format", "xml")
    assert "<boolean>true</boolean>" in select.output
    construct = ("CONSTRUCT { kg:claim-cells-dismantled-since-2002 schema:value ?v } WHERE "
                 "{ kg:claim-cells-dismantled-since-2002 schema:value ?v }")
    nt = run("query", construct, "--format", "nt")
    assert nt.output.strip() == ("<https://w3id.org/morocco-ct-kg/id/claim-cells-dismantled-since-2002> "
                                 '<https://schema.org/value> "207"^^<http://www.w3.org/2001/XMLSchema#integer> .')
    assert "<rdf:RDF" in run("query", construct, "--format", "xml").output
    wrong = run("query", construct, "--format", "csv")
    assert wrong.exit_code == 1
    assert wrong.output == "Error: a CONSTRUCT query gives a graph: --format turtle, json-ld, nt, xml, trig, nquads\n"
