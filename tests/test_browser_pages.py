"""The pages other than the query page (search, classes, claims, named queries, entity pages, error pages, about)
in a real headless Chromium against a live `kg serve`, as a user meets them: every expected value is asked of the
endpoint itself. One browser for the module (conftest's `browser`); the query page's own tests are test_browser.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import AXE

from kg.namespaces import CT, KG

WAIT = 15  # seconds for anything a page does


def sparql(base: str, query: str, inference: str | None = None) -> list[dict]:
    """The endpoint's answer to a SELECT query, asked without the browser: what the pages must show."""
    form = {"query": query, **({"inference": inference} if inference else {})}
    request = urllib.request.Request(base + "/sparql", data=urllib.parse.urlencode(form).encode(),
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["results"]["bindings"]


def _wait(browser, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(condition)


def _find(browser, selector: str):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, selector)


def _find_all(browser, selector: str) -> list:
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, selector)


def _go(browser, url: str) -> None:
    """Open `url` and wait until it has loaded (the query page: until its editor is drawn and, for a permalink,
    its results are shown)."""
    browser.get(url)
    _wait(browser, lambda b: b.execute_script("return document.readyState") == "complete")
    parts = urllib.parse.urlsplit(url)
    if parts.path == "/":
        _wait(browser, lambda b: _find_all(b, "#yasgui .CodeMirror"))
        if "query=" in parts.query:
            _wait(browser, lambda b: re.match(r"\d+ rows? in ", _find(b, "#status").text))
            _wait(browser, lambda b: _find_all(b, "#yasgui .tabPanel.active table.dataTable tbody tr"))


def _click(browser, element) -> None:
    """Follow a link or press a button as a user would, and wait for the page it leads to."""
    old = _find(browser, "html")
    element.click()
    _wait(browser, lambda b: old.id != _find(b, "html").id)
    _wait(browser, lambda b: b.execute_script("return document.readyState") == "complete")


def test_search_from_the_header_reaches_the_claim_and_its_quote(browser, live_server):
    from selenium.webdriver.common.keys import Keys

    base = live_server["url"]
    [row] = sparql(base, 'SELECT ?claim ?quote WHERE { ?claim ct:evidence/oa:hasSelector/oa:exact ?quote '
                         'FILTER(CONTAINS(LCASE(?quote), "tourists")) }')
    claim, quote = row["claim"]["value"], row["quote"]["value"]
    _go(browser, base + "/about")
    box = _find(browser, "header.site input[type=search]")
    old = _find(browser, "html")
    box.send_keys("tourists", Keys.ENTER)
    _wait(browser, lambda b: old.id != _find(b, "html").id)
    assert urllib.parse.urlsplit(browser.current_url)[2:4] == ("/search", "q=tourists")
    assert _find(browser, "header.site input[type=search]").get_attribute("value") == "tourists"
    hits = _find_all(browser, "ol.hits > li")
    assert _find(browser, "p.count").text == f"{len(hits)} results for “tourists”"
    marks = [m.text for m in _find_all(browser, "ol.hits mark")]
    assert marks and {m.lower() for m in marks} == {"tourists"}
    page = base + "/id/" + claim[len(KG):]
    [hit] = [h for h in hits if h.find_element("css selector", "a.hit").get_attribute("href") == page]
    quoted = [p.text for p in hit.find_elements("css selector", "p.match") if p.text.startswith("quote ")]
    assert quoted == [f"quote “{quote}”"]
    assert "tourists" in [m.text for m in hit.find_elements("css selector", "p.match mark")]
    _click(browser, hit.find_element("css selector", "a.hit"))
    assert browser.current_url == page
    assert [b.text for b in _find_all(browser, "section.evidence blockquote")] == [f"“{quote}”"]


def test_a_class_page_lists_its_instances_and_their_count(browser, live_server):
    base = live_server["url"]
    expected = [(r["i"]["value"], r["label"]["value"]) for r in sparql(
        base, "SELECT ?i ?label WHERE { ?i a ct:TerroristAttack ; rdfs:label ?label } ORDER BY LCASE(?label)")]
    assert len(expected) == 3
    _go(browser, base + "/classes")
    [row] = [tr for tr in _find_all(browser, "table.listing tbody tr") if tr.text.startswith("ct:TerroristAttack ")]
    assert row.find_element("css selector", "td.number").text == "3"
    _click(browser, row.find_element("css selector", "a"))
    assert urllib.parse.unquote(browser.current_url) == base + "/classes/ct:TerroristAttack"
    assert _find(browser, "p.count").text.startswith("3 instances")
    items = _find_all(browser, "ul.instances li")
    assert [(li.find_element("css selector", "a.iri").get_attribute("title"),
             li.find_element("css selector", ".label").text) for li in items] == expected


def _claims_shown(browser) -> list[str]:
    return [a.get_attribute("href") for a in _find_all(browser, "table.claims tbody tr td:first-child a")]


def test_the_claims_table_narrows_to_a_filter(browser, live_server):
    from selenium.webdriver.support.ui import Select

    base = live_server["url"]
    every = sparql(base, "SELECT DISTINCT ?c WHERE { ?c a/rdfs:subClassOf* ct:Claim }")
    more = sorted(base + "/id/" + r["c"]["value"][len(KG):] for r in sparql(
        base, "SELECT ?c WHERE { ?c ct:valueKind ct:MoreThan }"))
    assert 0 < len(more) < len(every)
    _go(browser, base + "/claims")
    assert len(_claims_shown(browser)) == len(every)
    Select(_find(browser, "form.filters select[name=kind]")).select_by_value("ct:MoreThan")
    _click(browser, _find(browser, "form.filters button[type=submit]"))
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(browser.current_url).query)["kind"] == ["ct:MoreThan"]
    assert sorted(_claims_shown(browser)) == more
    assert _find(browser, "p.count").text == f"{len(more)} claims"
    assert all(tr.find_elements("css selector", "td")[2].text == "ct:MoreThan"
               for tr in _find_all(browser, "table.claims tbody tr"))
    assert Select(_find(browser, "form.filters select[name=kind]")).first_selected_option.get_attribute(
        "value") == "ct:MoreThan"


def test_the_claims_table_pages_forward_and_back(browser, live_server):
    base = live_server["url"]
    every = sorted(base + "/id/" + r["c"]["value"][len(KG):] for r in sparql(
        base, "SELECT DISTINCT ?c WHERE { ?c a/rdfs:subClassOf* ct:Claim }"))
    _go(browser, base + "/claims?per_page=10")
    seen = _claims_shown(browser)
    while _find_all(browser, "nav.pages a[rel=next]"):
        _click(browser, _find(browser, "nav.pages a[rel=next]"))
        seen += _claims_shown(browser)
    pages = -(-len(every) // 10)
    assert seen == every and pages >= 3
    assert _find(browser, "nav.pages span").text == f"Page {pages} of {pages}"
    _click(browser, _find(browser, "nav.pages a[rel=prev]"))
    assert _claims_shown(browser) == every[(pages - 2) * 10:(pages - 1) * 10]


COUNTS_OF = """SELECT ?claim ?quote WHERE {{ ?claim a ct:CountClaim ; ct:claimedBy {claimant} ;
  ct:valueKind ?kind ; ct:evidence/oa:hasSelector/oa:exact ?quote }}"""


def test_a_named_query_form_binds_its_parameter_and_shows_the_rows(browser, live_server):
    base = live_server["url"]
    _go(browser, base + "/queries")
    [link] = [a for a in _find_all(browser, "ul.queries li > a") if a.get_attribute("href").endswith(
        "/queries/counts-of-a-claimant")]
    assert "parameters: claimant" in link.find_element("xpath", "..").text
    _click(browser, link)
    for claimant in ("kg:org-ministry-of-interior", "kg:org-dgst"):
        solutions = sparql(base, COUNTS_OF.format(claimant=claimant))  # a row per claim and quote
        field = _find(browser, "form.parameters input#param-claimant")
        assert _find(browser, "label[for=param-claimant]").text.startswith("claimant")
        field.clear()
        field.send_keys(claimant)
        _click(browser, _find(browser, "form.parameters button[type=submit]"))
        assert urllib.parse.parse_qs(urllib.parse.urlsplit(browser.current_url).query) == {"claimant": [claimant]}
        rows = _find_all(browser, "table.results tbody tr")
        assert len(rows) == len(solutions)
        assert _find(browser, "p.count").text == f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
        column = [th.text for th in _find_all(browser, "table.results thead th")].index("claim") if rows else 0
        shown = {tr.find_elements("css selector", "td")[column].find_element("css selector", "a").get_attribute(
            "title") for tr in rows}
        assert shown == {r["claim"]["value"] for r in solutions}
        assert f"VALUES ?claimant {{ {claimant.replace('kg:', '<' + str(KG))}> }}" in _find(
            browser, "pre.code").text
        assert bool(solutions) == (claimant == "kg:org-dgst")  # the ministry's counts have no quote


def _triples(browser) -> list[tuple[str, str, str, str, bool]]:
    """Every row of the page's triple tables: (section, graph, predicate IRI, other end's IRI or text, inferred)."""
    return [tuple(row) for row in browser.execute_script("""let section = ''; const rows = [];
        for (const el of document.querySelectorAll('main h2, main table.triples')) {
          if (el.tagName === 'H2') { section = el.textContent.trim(); continue; }
          for (const tr of el.querySelectorAll('tbody tr')) {
            const other = tr.querySelector('td [title]');
            rows.push([section, el.querySelector('caption .graph').textContent, tr.querySelector('th [title]').title,
                       other ? other.title : tr.querySelector('td').textContent.trim(),
                       el.classList.contains('inferred')]);
          }
        }
        return rows""")]


# as plain strings: an rdflib URIRef is never equal to a str
OCCURRED_IN, LOCATED_IN = str(CT.occurredIn), str(CT.locatedIn)
MOROCCO, IMLIL = str(KG["place-morocco"]), str(KG["place-imlil"])


def test_entity_pages_show_inferred_facts_only_with_inference(browser, live_server):
    base = live_server["url"]
    attacks = {mode: sorted(r["e"]["value"] for r in sparql(
        base, "SELECT ?e WHERE { ?e ct:occurredIn kg:place-morocco }", mode)) for mode in ("none", "owl-rl")}
    assert attacks["none"] == [] and len(attacks["owl-rl"]) == 3
    occurred = lambda: sorted(  # noqa: E731
        (row[3], row[1], row[4]) for row in _triples(browser) if row[0] == "Referenced by" and row[2] == OCCURRED_IN)
    _go(browser, base + "/id/place-morocco")
    assert _find(browser, "h1").text == "Morocco"
    assert _find(browser, 'nav.switch a[aria-current="page"]').text == "asserted"
    assert occurred() == []
    assert _find_all(browser, "table.triples.inferred") == []
    [switch] = [a for a in _find_all(browser, "nav.switch a") if a.text == "with OWL 2 RL"]
    _click(browser, switch)
    assert browser.current_url == base + "/id/place-morocco?inference=owl-rl"
    assert occurred() == [(e, "inferred", True) for e in attacks["owl-rl"]]
    assert all(t.find_element("css selector", "caption .badge").text == "inferred"
               for t in _find_all(browser, "table.triples.inferred"))

    in_morocco = ("Statements", "inferred", LOCATED_IN, MOROCCO, True)
    assert sparql(base, "SELECT * WHERE { kg:place-imlil ct:locatedIn kg:place-morocco }") == []
    assert len(sparql(base, "SELECT * WHERE { kg:place-imlil ct:locatedIn kg:place-morocco }", "owl-rl")) == 1
    [imlil, *_] = [a for a in _find_all(browser, "table.triples.inferred a.iri")
                   if a.get_attribute("title") == IMLIL]
    _click(browser, imlil)  # the link keeps the mode
    assert browser.current_url == base + "/id/place-imlil?inference=owl-rl"
    assert _find(browser, "h1").text == "Imlil"
    assert in_morocco in _triples(browser)
    [asserted] = [a for a in _find_all(browser, "nav.switch a") if a.text == "asserted"]
    _click(browser, asserted)
    assert browser.current_url == base + "/id/place-imlil"
    assert [row for row in _triples(browser) if row[2] == LOCATED_IN and row[3] == MOROCCO] == []
    assert (  # still in Morocco's province, as asserted
        "Statements", "enrichment", LOCATED_IN, str(KG["place-al-haouz-province"]), False) in _triples(browser)
    embedded = json.loads(browser.execute_script(
        "return document.querySelector('script[type=\"application/ld+json\"]').textContent"))
    assert (embedded["@context"], embedded["@id"], embedded["name"]) == ("https://schema.org", IMLIL, "Imlil")


ERRORS = {  # a URL that fails, by status
    404: "/id/no-such-thing",
    406: "/sparql?" + urllib.parse.urlencode({"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1",
                                               "format": "csv"}),
    400: "/claims?kind=nope",
}
PHRASES = {404: "Not Found", 406: "Not Acceptable", 400: "Bad Request"}


def _plain_reason(url: str) -> tuple[int, str]:
    """The status and one-line reason the server gives a client that asks for plain text."""
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/plain"}), timeout=30)
    status, _, reason = failed.value.read().decode().partition(": ")
    return int(status), reason.strip()


@pytest.mark.parametrize("status", list(ERRORS))
def test_error_pages_are_styled_with_navigation_and_a_reason(browser, live_server, status):
    base = live_server["url"]
    plain_status, reason = _plain_reason(base + ERRORS[status])
    assert plain_status == status and "\n" not in reason
    _go(browser, base + ERRORS[status])
    assert browser.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus") == status
    assert browser.title.startswith(f"{status} {PHRASES[status]} ·")
    assert _find(browser, ".kicker").text == f"Error {status}"
    assert _find(browser, "p.reason").text == reason
    assert browser.execute_script(  # the site's stylesheet applies (the CSP lets it load)
        "return getComputedStyle(document.querySelector('header.site')).backgroundColor") == "rgb(23, 33, 43)"
    nav = [a.text for a in _find_all(browser, "header.site nav a")]
    assert nav == ["Query", "Claims", "Classes", "Queries", "Ontology", "About"]
    [claims] = [a for a in _find_all(browser, "main a") if a.text == "claims"]
    _click(browser, claims)
    assert browser.current_url == base + "/claims"


def test_the_about_page_example_runs_as_shown(browser, live_server):
    base = live_server["url"]
    _go(browser, base + "/about")
    assert _find(browser, "h1").text == "About this knowledge graph"
    headings = [h.text for h in _find_all(browser, "main h2")]
    assert headings == ["What it holds", "Sources and licence", "How to cite", "Query it from Python"]
    [licence] = sparql(base, "SELECT ?l WHERE { GRAPH ?g { ?o dcterms:license ?l } }")
    assert _find(browser, "a[rel=license]").get_attribute("href") == licence["l"]["value"]
    code = _find(browser, "#python-example").text
    assert f'ENDPOINT = "{base}/sparql"' in code
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "about.html", "exec"), {})
    expected = sparql(base, "SELECT ?claim ?value WHERE { ?claim a ct:CountClaim ; schema:value ?value } "
                            "ORDER BY ?claim")
    assert printed.getvalue().splitlines() == [f"{r['claim']['value']} {r['value']['value']}" for r in expected]
    assert len(expected) > 3


# Every page, at desktop and phone width ------------------------------------------------------------------------

PAGES = {  # a name for its screenshots -> its path
    "query": "/?query=" + urllib.parse.quote("SELECT ?claim ?label ?value WHERE { ?claim a ct:CountClaim ; "
                                             "rdfs:label ?label ; schema:value ?value } ORDER BY ?claim"),
    "search": "/search?q=tourists",
    "classes": "/classes",
    "class": "/classes/ct:TerroristAttack",
    "claims": "/claims?kind=ct:MoreThan",
    "queries": "/queries",
    "named-query": "/queries/counts-of-a-claimant?claimant=kg:org-dgst",
    "entity": "/id/place-morocco",
    "entity-inferred": "/id/place-morocco?inference=owl-rl",
    "claim": "/id/claim-attack-imlil-2018",
    "ontology": "/ontology",
    "about": "/about",
    **{f"error-{status}": path for status, path in ERRORS.items()},
}
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": False}  # an iPhone-sized viewport
DESKTOP = {**PHONE, "width": 1400, "height": 1000}


@contextlib.contextmanager
def viewport(browser, metrics: dict):
    """The page seen through a viewport of `metrics` (CSS pixels) while in the block."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _screenshot(browser, path: Path, metrics: dict) -> None:
    """The whole page (at most 4000 pixels of it) at the width of `metrics`, saved as PNG; its path printed.

    The viewport is made as tall as the page for the picture (Chromium's captureBeyondViewport leaves parts of the
    query page blank), then put back."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": min(height, 4000)})
    browser.execute_async_script(  # the query page redraws its table on a resize: let it settle
        "const done = arguments[0]; setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(done)), 500)")
    browser.save_screenshot(str(path))
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    print(f"screenshot: {path}")


def _overflowing(browser) -> list[str]:
    """The elements that reach past the right edge of the viewport (what makes a page scroll sideways)."""
    return browser.execute_script("""const width = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width + 0.5
          && !el.parentElement.closest('.scroll, pre, .CodeMirror, .yasr_results'))
          .slice(0, 8).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().replace(/\\s+/g, '.') : '')
            + ' ' + Math.round(el.getBoundingClientRect().right))""")


@pytest.mark.parametrize("name", list(PAGES))
def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, screenshots, name):
    with viewport(browser, PHONE):
        _go(browser, live_server["url"] + PAGES[name])
        for moment in ("loaded", "resized"):  # the screenshot resizes the viewport, as turning a phone does
            width, inner, client = browser.execute_script("const html = document.documentElement; return "
                                                          "[html.scrollWidth, window.innerWidth, html.clientWidth]")
            assert inner == PHONE["width"]
            assert width <= client <= inner, (moment, _overflowing(browser))  # client: less a vertical scrollbar
            if moment == "loaded":
                _screenshot(browser, screenshots / f"{name}-375px.png", PHONE)


# Known and left to the query page's owner: YASR's page-size <select class="tableSizer"> has no label; it needs an
# aria-label set from src/kg/web/assets/src/query.js (CSS cannot give one). Listed so that every other rule holds.
KNOWN_VIOLATIONS = {"query": [{"id": "select-name", "impact": "critical", "nodes": [".tableSizer"]}]}


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violations(browser, live_server, screenshots, name):
    """axe-core (tests/fixtures/axe.min.js, injected as test_browser.py does) on the whole page, header and footer
    included; a desktop screenshot of each page is saved beside the phone ones."""
    with viewport(browser, DESKTOP):
        _go(browser, live_server["url"] + PAGES[name])
        _screenshot(browser, screenshots / f"{name}-desktop.png", DESKTOP)
        browser.execute_script(AXE.read_text())
        found = browser.execute_async_script("""const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ["violations"] }).then((r) => done(r.violations.map((v) => (
              { id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }))))""")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert serious == KNOWN_VIOLATIONS.get(name, []), json.dumps(serious, indent=1)


def test_page_weight_on_a_first_visit(browser, live_server):
    """Each page's bytes over the wire on a first visit (browser cache off): the document and everything it loads,
    from Chromium's resource timing. Printed as a table (-s) for the closing note; a page of the site stays under
    400 kB (the ontology, every ct: term on one page, is the largest), the query page (YASGUI's editor and the
    views) under 1.5 MB."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    lines, totals = [f"{'page':<16} {'requests':>8} {'document':>9} {'total kB':>9}"], {}
    try:
        for name, path in PAGES.items():
            with viewport(browser, DESKTOP):
                _go(browser, live_server["url"] + path)
            document, resources = browser.execute_script("""return [
                performance.getEntriesByType('navigation')[0].transferSize,
                performance.getEntriesByType('resource').map((r) => r.transferSize)]""")
            assert document > 0 and all(size > 0 for size in resources)  # nothing came from a cache
            totals[name] = document + sum(resources)
            lines.append(f"{name:<16} {1 + len(resources):>8} {document / 1000:>8.1f}k {totals[name] / 1000:>8.1f}k")
    finally:
        browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    print("\n" + "\n".join(lines))
    assert {name for name, total in totals.items() if total > (1_500_000 if name == "query" else 400_000)} == set()
