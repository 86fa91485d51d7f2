"""`kg export --format claims-csv` and /export/claims.csv: every claim as one row, the same file from both."""

from __future__ import annotations

import csv
import io

from click.testing import CliRunner

from kg.claims_table import COLUMNS
from kg.cli import main

HEADER = ("claim,label,type,value,min,max,unit,value_kind,attribution_kind,modality,frequency,exhaustive,"
          "original_wording,period,period_start,period_end,claimant,reporter,source_document,source_date,series,rank,"
          "quotes,offsets")


def exported() -> str:
    result = CliRunner().invoke(main, ["export", "--format", "claims-csv"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


def by_claim(text: str) -> dict[str, dict[str, str]]:
    return {row["claim"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}


def test_header_is_the_documented_column_list():
    text = exported()
    assert text.split("\r\n")[0] == HEADER == ",".join(COLUMNS)


def test_one_row_per_claim_of_every_graph(dataset):
    rows = by_claim(exported())
    assert len(rows) == 30  # 26 of the article, 4 of the figures' history
    kinds = [row["attribution_kind"] for row in rows.values()]
    assert (kinds.count("ct:StatedByClaimant"), kinds.count("ct:ReportedFromDocument"),
            kinds.count("ct:OutletStatement")) == (10 + 4, 13, 3)  # the 4 reports of the history are stated


def test_exact_rows():
    lines = exported().split("\r\n")
    assert ("kg:claim-urgent-intervention-duration,\"When an imminent attack is suspected, security services intervene "
            "urgently, in 24 hours or less.\",ct:DurationClaim,24,,,HUR,ct:AtMost,ct:ReportedFromDocument,,"
            "ct:Sometimes,,24 hours or less,,,,kg:org-dgst,kg:org-morocco-world-news,kg:doc-dgst-press-release,"
            "2020-11,,,\"security services intervene urgently, in 24 hours or less | planning an imminent attack\","
            "1552-1609 | 1679-1706") in lines
    assert ("kg:claim-moussalaha-beneficiaries-to-2023-11,A report of November 2023 gave more than 300 beneficiaries "
            "of the Moussalaha program.,ct:CountClaim,300,,,,ct:MoreThan,ct:StatedByClaimant,,,,more than 300,so far,"
            "2017-01-01,2023-11-30,kg:source-unnamed-2023-11,,kg:doc-report-2023-11-moussalaha,2023-11,"
            "kg:measure-moussalaha-beneficiaries,wikibase:PreferredRank,,") in lines


def test_hedges_and_ranges_are_kept():
    rows = by_claim(exported())
    prevented = rows["kg:claim-attacks-prevented"]
    assert (prevented["value"], prevented["min"], prevented["max"], prevented["original_wording"]) == (
        "", "200", "999", "hundreds")
    assert prevented["offsets"] == "14-66 | 897-970"  # quotes in article order
    partner = rows["kg:claim-moussalaha-partner"]
    assert (partner["exhaustive"], partner["original_wording"]) == ("false", "other bodies such as")
    assert rows["kg:claim-monitoring-duration"]["modality"] == "ct:Possibly"
    assert rows["kg:claim-headline-hundreds-in-quotes"]["claimant"] == "kg:org-morocco-world-news"


def test_the_ui_download_is_the_same_file(client):
    response = client.get("/export/claims.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="morocco-ct-kg-claims.csv"'
    assert response.text == exported()
    assert client.get("/export/claims.csv", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_claims_page_links_the_download(client):
    page = client.get("/claims")
    assert page.status_code == 200
    assert 'href="/export/claims.csv"' in page.text
