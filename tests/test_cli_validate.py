"""`kg validate`: exit 0 when the data conforms, 1 with a report naming node, path and rule, 2 on a broken file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kg.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args):
    return CliRunner().invoke(main, ["validate", *map(str, args)], catch_exceptions=False)


def test_shipped_data_conforms_exit_0():
    result = run()
    assert result.exit_code == 0
    assert result.stdout == "Conforms: the data satisfies every shape.\n"


def test_valid_fixture_conforms_exit_0():
    result = run("--data", FIXTURES / "valid" / "minimal.ttl")
    assert result.exit_code == 0
    assert result.stdout == "Conforms: the data satisfies every shape.\n"


def test_violation_exit_1_names_node_path_value_and_rule():
    result = run("--data", FIXTURES / "broken" / "period-start-after-end.ttl")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Does not conform: 1 result(s).",
        "- Violation: kg:period-since-2002 path schema:startDate value 2021-01-01: "
        "The period's schema:startDate must not be after its schema:endDate. "
        "[shape ctsh:Period-order, sh:LessThanOrEqualsConstraintComponent]",
    ]


def test_several_files_are_validated_together_and_sparql_rules_are_named():
    result = run("--data", FIXTURES / "broken" / "period-start-after-end.ttl",
                 "--data", FIXTURES / "broken" / "evidence-offsets-do-not-match-quote.ttl")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Does not conform: 2 result(s).",
        "- Violation: kg:evidence-strategy-selector path oa:end value 41: oa:end - oa:start is 31, but the quote has "
        "30 characters. [shape ctsh:TextSelectorShape, sh:SPARQLConstraintComponent ctsh:OffsetsMatchQuoteLength]",
        "- Violation: kg:period-since-2002 path schema:startDate value 2021-01-01: "
        "The period's schema:startDate must not be after its schema:endDate. "
        "[shape ctsh:Period-order, sh:LessThanOrEqualsConstraintComponent]",
    ]


def test_syntax_error_exit_2_names_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the repository, the path is shown as given: absolute
    path = FIXTURES / "syntax" / "missing-dot.ttl"
    result = run("--data", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {path}:8: syntax error: expected '.' or '}}' or ']' at end of statement\n"


def test_unterminated_string_exit_2_names_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = FIXTURES / "syntax" / "unterminated-string.ttl"
    result = run("--data", path)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}:6: syntax error: newline found in string literal\n"


def test_missing_file_exit_2(tmp_path):
    result = run("--data", tmp_path / "absent.ttl")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'absent.ttl'}: No such file or directory\n"


def test_console_script_exit_code_and_relative_path():
    """The installed `kg` script, in a real process from the fixtures folder: exit status 2 and file:line."""
    kg_script = Path(sys.executable).with_name("kg")
    done = subprocess.run(
        [kg_script, "validate", "--data", "missing-dot.ttl"],
        cwd=FIXTURES / "syntax", capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "Error: missing-dot.ttl:8: syntax error: expected '.' or '}' or ']' at end of statement\n"
    assert "Traceback" not in done.stderr
