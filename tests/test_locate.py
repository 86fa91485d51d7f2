"""kg.locate and `kg locate`: where a phrase is in the article, the selector a curator pastes, the claims quoting it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.locate import PhraseNotLocated, at, locate, occurrences


def test_at_gives_the_text_and_its_context():
    where = at("abcdefghijklmnopqrstuvwxyz0123456789", 20, 22)
    assert (where.exact, where.prefix, where.suffix) == ("uv", "efghijklmnopqrst", "wxyz0123456789")


def test_at_clips_the_context_at_the_ends_of_the_text():
    where = at("short text", 0, 5)
    assert (where.exact, where.prefix, where.suffix) == ("short", "", " text")


def test_the_article_figure_is_found_at_its_offsets(article_text):
    where = locate(article_text, "at least 68 ex-detainees")
    assert (where.start, where.end) == (2513, 2537)
    assert article_text[where.start:where.end] == "at least 68 ex-detainees"
    assert where.suffix == ".\n\nSource: moroc"


def test_a_phrase_that_occurs_twice_needs_a_start(article_text):
    assert occurrences(article_text, "Over the past two decades") == [68, 659]
    with pytest.raises(PhraseNotLocated, match=r"occurs 2 times: at 68-93, 659-684"):
        locate(article_text, "Over the past two decades", "article.txt")
    assert locate(article_text, "Over the past two decades", start=659).prefix == " anticipation.\n\n"


def test_the_turtle_escapes_quotes_and_line_breaks():
    assert at('say "hi"\nnow', 4, 8).turtle() == (
        'oa:exact "\\"hi\\"" ; oa:start 4 ; oa:end 8 ;\n    oa:prefix "say " ; oa:suffix "\\nnow"')


def invoke(*args, env=None):
    return CliRunner().invoke(main, ["locate", *args], env=env)


def test_cli_prints_offsets_selector_and_the_claims_quoting_the_phrase(article_text, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(article_text, encoding="utf-8")
    result = invoke("24 hours or less", env={"KG_ARTICLE": str(article)})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "1593-1609",
        'oa:exact "24 hours or less" ; oa:start 1593 ; oa:end 1609 ;',
        '    oa:prefix "ne urgently, in " ; oa:suffix ", if DGST collec"',
        "kg:claim-urgent-intervention-duration\t1552-1609\tsecurity services intervene urgently, in 24 hours or less",
    ]


def test_cli_chooses_an_occurrence_with_at(article_text, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(article_text, encoding="utf-8")
    result = invoke("Over the past two decades", "--text", str(article), "--at", "68")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "68-93"
    assert "kg:claim-attacks-low-compared-to-neighbors" not in result.output  # its quote starts after the phrase


def test_cli_phrase_not_found_is_a_one_line_error(article_text, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(article_text, encoding="utf-8")
    result = invoke("hundreds of cells", "--text", str(article))
    assert result.exit_code == 1
    assert result.output == f"Error: {article}: 'hundreds of cells' does not occur\n"


def test_cli_missing_text_file_is_named(tmp_path):
    missing = tmp_path / "missing.txt"
    result = invoke("anything", "--text", str(missing))
    assert result.exit_code == 1
    assert result.output == f"Error: {missing}: No such file or directory\n"
