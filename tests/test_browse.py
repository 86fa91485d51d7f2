"""Browsing pages through Flask's test client: classes, claims with filters, the named queries index and their
parameters, entity pages with the inference switch, error pages, the about page; JSON and CSV twins exactly."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

import kg
from kg.namespaces import KG
from kg.queries import NamedQuery, ParameterError, named_queries, parse_parameters, typed_term
from kg.web.browse import CLAIMS

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CLAIMS_HEADER = "claim,label,type,value,minValue,maxValue,kind,period,periodStart,periodEnd,claimant,source,quote"
K, CT = "https://w3id.org/morocco-ct-kg/id/", "https://w3id.org/morocco-ct-kg/ontology#"


@pytest.fixture
def client(make_app, inference_store):
    return make_app(store=inference_store).test_client()


def html(client, url: str, status: int = 200) -> str:
    response = client.get(url, headers={"Accept": BROWSER_ACCEPT})
    assert (response.status_code, response.mimetype) == (status, "text/html"), url
    return response.get_data(as_text=True)


def csv_lines(client, url: str) -> list[str]:
    response = client.get(url)
    assert (response.status_code, response.mimetype) == (200, "text/csv"), url
    return response.get_data(as_text=True).splitlines()


# Classes -------------------------------------------------------------------------------------------------------

def test_class_page_and_its_twins(client):
    assert csv_lines(client, "/classes/ct:TerroristAttack.csv") == [
        "instance,label",
        f"{K}event-2003-casablanca-bombings,2003 Casablanca bombings",
        f"{K}event-2011-marrakesh-bombing,2011 Marrakesh bombing",
        f"{K}event-2018-imlil-murders,2018 Imlil murders",
    ]
    got = client.get("/classes/ct:Country.json").get_json()
    assert [(b["instance"]["value"], b["label"]["value"]) for b in got["results"]["bindings"]] == [
        (f"{K}place-denmark", "Denmark"), (f"{K}place-morocco", "Morocco"), (f"{K}place-norway", "Norway")]
    page = html(client, "/classes/ct:TerroristAttack")
    assert "3 instances" in page and 'href="/id/event-2018-imlil-murders"' in page
    assert 'href="/classes/ct:TerroristAttack.csv"' in page


def test_class_pages_follow_inference(client):
    asserted = csv_lines(client, "/classes/schema:Place.csv")
    inferred = csv_lines(client, "/classes/schema:Place.csv?inference=owl-rl")
    assert asserted == ["instance,label"]  # no instance is typed schema:Place in the files
    assert f"{K}place-imlil,Imlil" in inferred and len(inferred) == 12
    assert 'href="/classes/schema:Place.csv?inference=owl-rl"' in html(client, "/classes/schema:Place?inference=owl-rl")


def test_classes_index_counts_instances(client):
    lines = csv_lines(client, "/classes.csv")
    assert lines[0] == "class,label,instances"
    assert f"{CT}TerroristAttack,terrorist attack,3" in lines and f"{CT}CountClaim,count claim,9" in lines
    counts = [int(line.rsplit(",", 1)[1]) for line in lines[1:]]
    assert counts == sorted(counts, reverse=True)
    assert 'href="/classes/ct:CountClaim"' in html(client, "/classes")


def test_unknown_class_name_is_404(client):
    response = client.get("/classes/nope:Thing")
    assert (response.status_code, response.get_data(as_text=True)) == (
        404, "404: no class 'nope:Thing': name it with a project prefix, such as ct:CountClaim\n")
    assert client.get("/classes/ct:CountClaim.xml").status_code == 404


# Claims --------------------------------------------------------------------------------------------------------

def test_claims_filtered_by_kind(client):
    assert csv_lines(client, "/claims.csv?kind=ct:AtLeast") == [CLAIMS_HEADER, (
        f'{K}claim-moussalaha-beneficiaries,"So far, at least 68 ex-detainees have benefited from the Moussalaha '
        f'program.",{CT}CountClaim,68,,,{CT}AtLeast,So far,2017-01-01,2020-11-30,{K}org-dgst,'
        f"{K}doc-dgst-press-release,“Moussalaha” has benefited at least 68 ex-detainees")]


def test_claims_filtered_by_claimant_and_measure(client):
    assert csv_lines(client, "/claims.csv?claimant=kg:org-dgst&measure=ct:CellDismantling") == [CLAIMS_HEADER, (
        f"{K}claim-cells-dismantled-last-three-years,Moroccan security services dismantled 32 terrorist cells in the "
        f"last three years.,{CT}CountClaim,32,,,{CT}Exact,In the last three years alone,2017-11-01,2020-11-30,"
        f"{K}org-dgst,{K}doc-dgst-press-release,"
        "In the last three years alone … Moroccan security services dismantled 32 terrorist cells"), (
        f"{K}claim-cells-dismantled-since-2002,Morocco has dismantled 207 terrorist cells since 2002.,{CT}CountClaim,"
        f"207,,,{CT}Exact,since 2002,2002-01-01,2020-11-30,{K}org-dgst,{K}doc-dgst-press-release,"
        "Morocco has dismantled 207 terrorist cells since 2002")]
    got = client.get("/claims.json", query_string={"type": f"{CT}QuantityClaim", "kind": "ct:Exact"}).get_json()
    assert [b["claim"]["value"][len(K):] for b in got["results"]["bindings"]] == [
        "claim-attacks-past-two-decades", "claim-cells-dismantled-2002-to-2020-10",
        "claim-cells-dismantled-2002-to-2021",
        "claim-cells-dismantled-last-three-years", "claim-cells-dismantled-since-2002",
        "claim-moussalaha-beneficiaries-to-2022-07"]  # the article's and the later reports' (data/history.ttl)


def test_all_claims_are_listed_once(client, dataset):
    claims = kg.query(dataset, "SELECT DISTINCT ?c WHERE { ?c ct:claimedBy ?who }")
    lines = csv_lines(client, "/claims.csv")
    assert lines[0] == CLAIMS_HEADER and len(claims) >= 20
    assert sorted(line.split(",", 1)[0] for line in lines[1:]) == sorted(str(row.c) for row in claims)


def test_claims_page_has_facets_and_escapes(client):
    page = html(client, "/claims?kind=ct:AtLeast")
    assert '<option value="ct:AtLeast" selected>at least (1)</option>' in page
    assert "1 claim</p>" in page and 'href="/claims.csv?kind=ct:AtLeast"' in page
    assert "“Moussalaha” has benefited at least 68 ex-detainees" in unescape(page)


@pytest.mark.parametrize("value", ["ct:AtLeast> } ?s ?p ?o {", "kg:", "javascript:alert(1)", "<x>"])
def test_claims_filter_that_is_not_an_iri_is_400(client, value):
    response = client.get("/claims.csv", query_string={"kind": value})
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("400: filter kind: ")


def test_claims_pages_cover_every_claim_once_with_their_twins(client):
    every = [line.split(",", 1)[0] for line in csv_lines(client, "/claims.csv")[1:]]
    assert len(every) > 20 and every == sorted(every)
    pages = -(-len(every) // 10)
    seen = []
    for page in range(1, pages + 1):
        lines = csv_lines(client, f"/claims.csv?per_page=10&page={page}")
        assert lines[0] == CLAIMS_HEADER
        rows = [line.split(",", 1)[0] for line in lines[1:]]
        bindings = client.get(f"/claims.json?page={page}&per_page=10").get_json()["results"]["bindings"]
        assert [b["claim"]["value"] for b in bindings] == rows
        text = html(client, f"/claims?per_page=10&page={page}")
        assert re.findall(r'<tr>\s*<td><a href="/id/([^"]+)"', text) == [r[len(K):] for r in rows]
        assert f"<span>Page {page} of {pages}</span>" in text
        assert f"{len(every)} claims, {len(seen) + 1}–{len(seen) + len(rows)} shown</p>" in text
        seen += rows
    assert seen == every


def test_claims_pages_link_to_their_neighbours_and_keep_the_filters(client):
    more = csv_lines(client, "/claims.csv?kind=ct:MoreThan")[1:]
    assert len(more) == 3
    response = client.get("/claims?kind=ct:MoreThan&per_page=2&page=1", headers={"Accept": BROWSER_ACCEPT})
    assert response.headers["Link"] == '</claims?kind=ct:MoreThan&per_page=2&page=2>; rel="next"'
    page = unescape(response.get_data(as_text=True))
    assert '<a rel="next" href="/claims?kind=ct:MoreThan&per_page=2&page=2">Next →</a>' in page
    assert 'rel="prev"' not in page and '<input type="hidden" name="per_page" value="2">' in page
    last = client.get("/claims.csv?kind=ct:MoreThan&per_page=2&page=2")
    assert last.headers["Link"] == '</claims.csv?kind=ct:MoreThan&per_page=2&page=1>; rel="prev"'
    assert last.get_data(as_text=True).splitlines()[1:] == more[2:]
    assert "Link" not in client.get("/claims.csv?kind=ct:MoreThan").headers  # one page


@pytest.mark.parametrize(("query", "status", "reason"), [
    ("page=0", 400, "page must be a whole number from 1 to 1000000"),
    ("page=two", 400, "page must be a whole number from 1 to 1000000"),
    ("page=%C2%B2", 400, "page must be a whole number from 1 to 1000000"),  # a superscript two is not a number
    ("per_page=1001", 400, "per_page must be a whole number from 1 to 1000"),
    ("per_page=-5", 400, "per_page must be a whole number from 1 to 1000"),
    ("page=99", 404, "no page 99: the claims fill 1 page of 50"),
])
def test_claims_pages_out_of_range(client, query, status, reason):
    for path in ("/claims", "/claims.csv"):
        response = client.get(f"{path}?{query}")
        assert (response.status_code, response.get_data(as_text=True)) == (status, f"{status}: {reason}\n")


def test_claims_query_has_no_filter_hole():
    assert CLAIMS.count("{filters}") == 1


# Named queries: the index and parameters -----------------------------------------------------------------------

def test_queries_index_and_twins(client):
    queries = named_queries()
    got = client.get("/queries.json").get_json()["queries"]
    assert [q["name"] for q in got] == list(queries)
    counts = next(q for q in got if q["name"] == "counts-of-a-claimant")
    assert counts["parameters"] == [{"name": "claimant", "type": "iri", "default": "", "description": (
        "The claimant, such as kg:org-dgst or kg:org-morocco-world-news; empty: every claimant")}]
    lines = csv_lines(client, "/queries.csv")
    assert lines[0] == "name,title,question,description,parameters,page,results" and len(lines) == len(queries) + 1
    assert any(line.startswith("counts-of-a-claimant,") and ",claimant,/queries/counts-of-a-claimant," in line
               for line in lines)
    page = html(client, "/queries")
    assert all(f'href="/queries/{name}"' in page for name in queries)


def test_parameter_is_bound_as_a_typed_term(client):
    header = "claimant,claim,value,min,max,kind,period,quote"
    dgst = csv_lines(client, "/queries/counts-of-a-claimant.csv?claimant=kg:org-dgst")
    assert dgst[:3] == [
        header,
        f"{K}org-dgst,{K}claim-attacks-past-two-decades,3,,,{CT}Exact,Over the past two decades,"
        '"Over the past two decades, Morocco has suffered three terrorist attacks"',
        f"{K}org-dgst,{K}claim-attacks-prevented,,200,999,{CT}Approximately,since 2002,"
        "Prevented ‘Hundreds’ of Terrorist Attacks Since 2002",
    ]
    assert len(dgst) == 8 and all(line.startswith(f"{K}org-dgst,") for line in dgst[1:])
    # the article reports every count from the DGST's press release: the outlet itself puts none forward
    assert csv_lines(client, "/queries/counts-of-a-claimant.csv?claimant=kg:org-morocco-world-news") == [header]
    unbound = client.get("/queries/counts-of-a-claimant.json").get_json()["results"]["bindings"]
    assert len(unbound) == 7  # every claimant: the query as written
    page = html(client, "/queries/counts-of-a-claimant?claimant=kg:org-dgst")
    assert '<input id="param-claimant" name="claimant" value="kg:org-dgst"' in page
    assert "VALUES ?claimant { &lt;https://w3id.org/morocco-ct-kg/id/org-dgst&gt; }" in page
    assert 'href="/queries/counts-of-a-claimant.csv?claimant=kg:org-dgst"' in page


def test_bad_parameter_value_is_400(client):
    response = client.get("/queries/counts-of-a-claimant.json", query_string={"claimant": "kg:x> } ?a ?b ?c {"})
    assert (response.status_code, response.get_data(as_text=True)) == (400, (
        "400: 'kg:x> } ?a ?b ?c {' is not an IRI: write a prefixed name such as kg:org-dgst, or an http(s) IRI\n"))


@pytest.mark.parametrize(("value", "kind", "term"), [
    ("2002", "integer", '"2002"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    ("2.50", "decimal", '"2.50"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
    ("2020-11-30", "date", '"2020-11-30"^^<http://www.w3.org/2001/XMLSchema#date>'),
    ("2017", "gYear", '"2017"^^<http://www.w3.org/2001/XMLSchema#gYear>'),
    ('say "hi" }\n', "string", '"say \\"hi\\" }"'),
    ("kg:org-dgst", "iri", "<https://w3id.org/morocco-ct-kg/id/org-dgst>"),
])
def test_typed_terms(value, kind, term):
    assert typed_term(value, kind).n3() == term


@pytest.mark.parametrize(("value", "kind"), [("x", "integer"), ("2020-13-01", "date"), ("17", "gYear"),
                                             ("yes", "boolean"), ("x", "no-such-type")])
def test_values_not_of_their_type_are_refused(value, kind):
    with pytest.raises(ParameterError):
        typed_term(value, kind)


def test_defaults_and_the_where_clause():
    text = ("# parameter: since | integer | 2002 | first year\n# parameter: who | iri | | claimant\n"
            "CONSTRUCT { ?s ?p ?o } WHERE { # {\n ?s ?p '{' }")
    query = NamedQuery("q", "t", "", "", text, None, parse_parameters(text))  # type: ignore[arg-type]
    assert query.bind({}) == text.replace(
        "WHERE {", 'WHERE { VALUES ?since { "2002"^^<http://www.w3.org/2001/XMLSchema#integer> }')
    with pytest.raises(ParameterError, match="write `name | type | default | description`"):
        parse_parameters("# parameter: since integer 2002\nSELECT * {}")


# Entity pages --------------------------------------------------------------------------------------------------

def test_morocco_lists_the_three_attacks_with_owl_rl_only(client):
    attacks = ["event-2003-casablanca-bombings", "event-2011-marrakesh-bombing", "event-2018-imlil-murders"]
    inferred = html(client, "/id/place-morocco?inference=owl-rl")
    section = inferred.split("<h2>Referenced by</h2>")[1]
    marked = section.split('<table class="triples inferred">')[1].split("</table>")[0]
    for slug in attacks:
        assert f'href="/id/{slug}?inference=owl-rl"' in marked
    assert '<span class="badge">inferred</span> by OWL 2 RL' in marked
    asserted = html(client, "/id/place-morocco").split("<h2>Referenced by</h2>")[1]
    assert "inferred" not in asserted and not any(f"/id/{slug}" in asserted for slug in attacks)


def test_imlil_is_shown_to_be_in_morocco(client):
    inferred = html(client, "/id/place-imlil?inference=owl-rl").split("<h2>Statements</h2>")[1]
    marked = inferred.split('<table class="triples inferred">')[1].split("</table>")[0]
    assert re.search(r'>ct:locatedIn</a></th><td><a class="iri" href="/id/place-morocco\?inference=owl-rl"', marked)
    assert "place-morocco" not in html(client, "/id/place-imlil").split("<h2>Statements</h2>")[1]


def test_claims_about_an_entity(client):
    page = unescape(html(client, "/id/place-morocco"))
    claims = page.split("<h2>Claims about this entity</h2>")[1].split("</table>")[0]
    assert ('<a href="/id/claim-cells-dismantled-since-2002">Morocco has dismantled 207 terrorist cells since 2002.</a>'
            in claims)
    assert "“Morocco has dismantled 207 terrorist cells since 2002”" in claims
    assert "since 2002 <span class=\"note\">2002-01-01 – 2020-11-30</span>" in claims


def test_wikidata_model_statements_with_references(client):
    page = html(client, "/id/place-casablanca")
    model = page.split("<h2>In Wikidata's model</h2>")[1].split("</table>")[0]
    assert '<a href="https://www.wikidata.org/wiki/Property:P17">P17</a>' in model
    assert 'title="http://www.wikidata.org/entity/Q1028">wd:Q1028</a> <span class="label">Morocco</span>' in model
    assert '<li>P248: <a class="iri" href="/id/source-reference-facts"' in model
    attack = html(client, "/id/event-2003-casablanca-bombings").split("<h2>In Wikidata's model</h2>")[1]
    assert '<li>P854: <a class="iri" href="https://en.wikipedia.org/wiki/2003_Casablanca_bombings"' in attack


def test_schema_org_json_ld_is_embedded(client):
    page = html(client, "/id/place-morocco")
    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', page).group(1)
    assert json.loads(embedded) == {
        "@context": "https://schema.org", "@id": str(KG["place-morocco"]), "@type": ["Country"], "name": "Morocco",
        "alternateName": ["the Kingdom"], "sameAs": ["http://www.wikidata.org/entity/Q1028"]}
    attack = html(client, "/id/event-2018-imlil-murders")
    embedded = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', attack).group(1))
    assert embedded["@type"] == ["Event"] and embedded["name"] == "2018 Imlil murders"


def test_unknown_inference_mode_is_400(client):
    response = client.get("/id/place-morocco?inference=magic")
    assert (response.status_code, response.get_data(as_text=True)) == (
        400, "400: unknown inference mode 'magic'; available: none, owl-rl, rdfs\n")


# Error pages, the about page, the favicon ----------------------------------------------------------------------

@pytest.mark.parametrize(("url", "status", "reason"), [
    ("/no/such/page", 404, "The requested URL was not found on the server."),
    ("/id/place-morocco?inference=magic", 400, "unknown inference mode &#39;magic&#39;; available: none, owl-rl, rdfs"),
])
def test_error_pages_have_navigation_and_one_line(client, url, status, reason):
    page = html(client, url, status=status)
    assert f'<p class="reason">{reason}' in page
    assert '<form class="site-search" role="search"' in page and '<a href="/claims">Claims</a>' in page


def test_406_and_503_pages(client, make_app, inference_store):
    response = client.get("/sparql?query=SELECT%20*%20%7B%7D", headers={"Accept": "text/html"})
    assert response.status_code == 406 and '<h1>Not Acceptable</h1>' in response.get_data(as_text=True)
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    timed = make_app(store=inference_store, QUERY_TIMEOUT=0.2).test_client()
    response = timed.get("/sparql", query_string={"query": slow, "format": "json"},
                         headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 503
    assert '<p class="reason">query stopped after the time limit of 0.2 s</p>' in response.get_data(as_text=True)


def test_about_page(client):
    page = html(client, "/about")
    assert '<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">' in page
    assert 'ENDPOINT = &#34;http://localhost/sparql&#34;' in page or 'ENDPOINT = "http://localhost/sparql"' in page
    assert "How to cite" in page


def test_every_page_has_the_search_box_and_favicon(client):
    for url in ("/", "/claims", "/classes", "/queries", "/about", "/ontology", "/id/org-dgst", "/search?q=x"):
        page = html(client, url)
        assert '<input type="search" id="site-search" name="q"' in page, url
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page, url
    with client.get("/static/favicon.svg") as response:
        assert (response.status_code, response.mimetype) == (200, "image/svg+xml")
