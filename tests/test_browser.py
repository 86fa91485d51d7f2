"""The query page (YASGUI editor and result views) in a real headless Chromium against a live `kg serve`.

Debian's chromium and chromedriver (installed by .ci/run) are driven by selenium; nothing is downloaded, the browser
starts with every background network feature off, and the tests check that the page itself asks nothing of any host
but the server. One browser for the module; each test starts from an empty localStorage (Yasgui keeps its tabs there).
"""

from __future__ import annotations

import json
import random
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import AXE

WAIT = 15  # seconds for anything the page does; the slowest is a query cut by the server's time limit
# The one message the CSP is expected to print: column-resizer injects a <style> element, which style-src 'self'
# refuses; its rules are shipped in static/query.css instead.
REFUSED_STYLE = "Applying inline style violates the following Content Security Policy directive"


def _wait(browser, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(condition)


def _open(browser, url: str) -> None:
    """Open `url` with no tabs or history left from an earlier test, and wait for the editor."""
    from selenium.webdriver.common.by import By

    browser.get(url)
    browser.execute_script("localStorage.clear()")
    browser.get(url)
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#yasgui .CodeMirror"))


def _editor(browser):
    return "document.querySelector('#yasgui .tabPanel.active .CodeMirror').CodeMirror"


def _type_and_run(browser, query: str) -> None:
    """Put `query` in the editor and run it with Ctrl+Enter, as a user would."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.execute_script(f"{_editor(browser)}.setValue(arguments[0])", query)
    field = browser.find_element(By.CSS_SELECTOR, "#yasgui .tabPanel.active .CodeMirror textarea")
    field.send_keys(Keys.CONTROL, Keys.ENTER)


def _status(browser, starts: str) -> str:
    from selenium.webdriver.common.by import By

    _wait(browser, lambda b: b.find_element(By.ID, "status").text.startswith(starts))
    return browser.find_element(By.ID, "status").text


def _rows(browser) -> list[list[str]]:
    """The visible page of the results table, without its row-number column."""
    return browser.execute_script("""return [...document.querySelectorAll(
        '#yasgui .tabPanel.active .yasr_results table.dataTable tbody tr')].map(
        (tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent.trim()))""")


def _select(endpoint: str, query: str) -> list[dict]:
    """The endpoint's own answer, asked without the browser: what the views must draw."""
    request = urllib.request.Request(endpoint, data=urllib.parse.urlencode({"query": query}).encode(),
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["results"]["bindings"]


def _outside_requests(browser) -> list[str]:
    """Every URL the page asked for (network schemes only) that is not on 127.0.0.1."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            urls.append(message["params"].get("request", {}).get("url") or message["params"].get("url"))
    urls = [u for u in urls if re.match(r"(https?|wss?)://", u)]
    assert any(u.endswith("/sparql") for u in urls), "the log shows none of the page's own requests"
    return [u for u in urls if urllib.parse.urlsplit(u).hostname != "127.0.0.1"]


def _console_errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and REFUSED_STYLE not in e["message"]]


def test_an_example_runs_offline_with_downloads_named_after_it(browser, live_server, screenshots):
    from selenium.webdriver.common.by import By

    browser.get_log("performance")  # only this page's requests below
    _open(browser, live_server["url"] + "/")
    browser.find_element(By.CSS_SELECTOR, 'button.example[data-name="cells-since-2002"]').click()
    assert _status(browser, "1 row in ")
    [row] = _rows(browser)
    assert row[:4] == ["kg:claim-cells-dismantled-since-2002", '"207"^^xsd:integer', "ct:Exact", "kg:org-dgst"]
    headers = browser.execute_script("""return [...document.querySelectorAll(
        '#yasgui .tabPanel.active .yasr_results table.dataTable thead th')].slice(1).map((th) => th.textContent)""")
    assert headers == ["claim", "cells", "kind", "claimant", "source", "from", "to", "wording", "quote", "start", "end"]
    links = browser.find_elements(By.CSS_SELECTOR, "#downloads a")
    assert [a.text for a in links] == ["JSON", "CSV", "TSV"]
    assert [a.get_attribute("download") for a in links] == [
        "cells-dismantled-since-2002.json", "cells-dismantled-since-2002.csv", "cells-dismantled-since-2002.tsv"]
    with urllib.request.urlopen(links[1].get_attribute("href"), timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        assert response.read().decode().splitlines()[0].startswith("claim,cells,kind,claimant")
    assert _outside_requests(browser) == []
    assert _console_errors(browser) == []
    browser.save_screenshot(str(screenshots / "query-table.png"))


def test_results_are_sorted_and_paged(browser, live_server):
    from selenium.webdriver.common.by import By

    numbers = list(range(1, 61))
    random.Random(7).shuffle(numbers)
    _open(browser, live_server["url"] + "/")
    _type_and_run(browser, f"SELECT ?n WHERE {{ VALUES ?n {{ {' '.join(map(str, numbers))} }} }}")
    assert _status(browser, "60 rows in ")
    page = _rows(browser)
    assert len(page) == 50 and [r[0] for r in page] == [f'"{n}"^^xsd:integer' for n in numbers[:50]]
    header = browser.find_element(By.CSS_SELECTOR, '#yasgui .tabPanel.active th[data-dt-column="1"]')
    first = lambda count: [r[0] for r in _rows(browser)][:count]  # noqa: E731
    header.click()
    _wait(browser, lambda b: first(3) == ['"1"^^xsd:integer', '"2"^^xsd:integer', '"3"^^xsd:integer'])
    header.click()
    _wait(browser, lambda b: first(2) == ['"60"^^xsd:integer', '"59"^^xsd:integer'])
    browser.find_element(By.CSS_SELECTOR, "#yasgui .tabPanel.active .dt-paging button.next").click()
    _wait(browser, lambda b: first(50) == [f'"{n}"^^xsd:integer' for n in range(10, 0, -1)])


def _reported_position(endpoint: str, query: str) -> tuple[int, int]:
    """Where the endpoint says `query` is malformed: JSON {"line", "column"} or "line L, column C" / "at L:C"."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(endpoint + "?" + urllib.parse.urlencode({"query": query}), timeout=30)
    reason = refused.value.read().decode()
    try:
        body = json.loads(reason)
        return body["line"], body["column"]
    except ValueError:
        found = re.search(r"line (\d+), column (\d+)", reason) or re.search(r"\bat (\d+):(\d+)", reason)
        return int(found[1]), int(found[2])


def _error_mark(browser) -> tuple[int, int, str] | None:
    """The error mark's line and column (1-based) and the character it covers."""
    return browser.execute_script(f"""const cm = {_editor(browser)};
        const mark = cm.getAllMarks().find((m) => m.className === 'kg-error-mark');
        if (!mark) return null;
        const {{from, to}} = mark.find();
        return [from.line + 1, from.ch + 1, cm.getRange(from, to)]""")


@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT ?x\nWHERE { ?x ?y ?z }\nLIMIT abc", "a"),  # inside a line: that character
    ("SELECT ?x\nWHERE {\n  ?x ?y\n}\n", "}"),  # the end of the query: its last character
])
def test_syntax_errors_are_marked_where_the_endpoint_says(browser, live_server, query, expected):
    from selenium.webdriver.common.by import By

    line, column = _reported_position(live_server["url"] + "/sparql", query)
    _open(browser, live_server["url"] + "/")
    _type_and_run(browser, query)
    status = _status(browser, "400")
    reason = status.split("\n")[0]  # the reason's first line; the endpoint's caret lines may follow
    assert f"line {line}, column {column}" in reason or f"{line}:{column}" in reason
    assert "error" in browser.find_element(By.ID, "status").get_attribute("class")
    if column <= len(query.split("\n")[line - 1]):
        assert _error_mark(browser) == [line, column, expected]
    else:  # past the end: the last character
        last = query.rstrip().split("\n")
        assert _error_mark(browser) == [len(last), len(last[-1]), expected]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#yasgui .tabPanel.active .kg-error-badge")) == 1
    browser.execute_script(f"{_editor(browser)}.replaceRange(' ', {{line: 0, ch: 0}})")
    assert _error_mark(browser) is None
    assert browser.find_elements(By.CSS_SELECTOR, "#yasgui .kg-error-badge") == []


def test_a_running_query_can_be_cancelled(browser, live_server):
    from selenium.webdriver.common.by import By

    _open(browser, live_server["url"] + "/")
    cancel = browser.find_element(By.ID, "cancel")
    assert not cancel.is_displayed()
    _type_and_run(browser, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    _wait(browser, lambda b: cancel.is_displayed())
    cancel.click()
    assert _status(browser, "Cancelled.") == "Cancelled."
    assert not cancel.is_displayed()
    assert _rows(browser) == []


def test_history_keeps_queries_and_their_inference_mode(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    query = "SELECT ?event WHERE { ?event ct:occurredIn kg:place-morocco } ORDER BY ?event"
    _open(browser, live_server["url"] + "/")
    Select(browser.find_element(By.ID, "inference")).select_by_value("owl-rl")
    _type_and_run(browser, query)
    _status(browser, "3 rows in ")
    _type_and_run(browser, "SELECT ?x WHERE { BIND(1 AS ?x) }")
    _status(browser, "1 row in ")
    browser.refresh()  # the history outlives the page
    past = _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#history button.past"))
    # newest first; changing the mode re-ran the page's first query, which is the oldest entry
    assert [b.get_attribute("title") for b in past][:2] == ["SELECT ?x WHERE { BIND(1 AS ?x) }", query]
    Select(browser.find_element(By.ID, "inference")).select_by_value("none")
    browser.find_elements(By.CSS_SELECTOR, "#history button.past")[1].click()
    assert _status(browser, "3 rows in ")
    assert Select(browser.find_element(By.ID, "inference")).first_selected_option.get_attribute("value") == "owl-rl"


def test_permalink_keeps_the_inference_mode_and_data_is_shown_as_text(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    query = "SELECT ?event WHERE { ?event ct:occurredIn kg:place-morocco } ORDER BY ?event"
    _open(browser, live_server["url"] + "/?inference=owl-rl&query=" + urllib.parse.quote(query))
    _status(browser, "3 rows in ")
    assert _rows(browser) == [["kg:event-2003-casablanca-bombings"], ["kg:event-2011-marrakesh-bombing"],
                              ["kg:event-2018-imlil-murders"]]
    permalink = browser.find_element(By.ID, "permalink").get_attribute("href")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(permalink).query) == {"query": [query], "inference": ["owl-rl"]}
    downloads = browser.find_elements(By.CSS_SELECTOR, "#downloads a")
    assert downloads and all("inference=owl-rl" in a.get_attribute("href") for a in downloads)
    _open(browser, permalink)  # the permalink itself gives the same answer
    _status(browser, "3 rows in ")
    Select(browser.find_element(By.ID, "inference")).select_by_value("none")
    _status(browser, "0 rows in ")
    assert "inference" not in browser.find_element(By.ID, "permalink").get_attribute("href")

    literal = "<img src=x onerror=alert(1)>"
    query = f"SELECT ?x WHERE {{ BIND('{literal}' AS ?x) }}"
    _open(browser, live_server["url"] + "/?query=" + urllib.parse.quote(query))
    _status(browser, "1 row in ")
    assert _rows(browser) == [[literal]]
    assert browser.find_elements(By.CSS_SELECTOR, "#yasgui img") == []


def test_ask_and_construct(browser, live_server):
    from selenium.webdriver.common.by import By

    _open(browser, live_server["url"] + "/?query=" + urllib.parse.quote("ASK { kg:org-dgst ?p ?o }"))
    assert _status(browser, "ASK answered in ")
    assert browser.find_element(By.CSS_SELECTOR, "#yasgui .tabPanel.active .booleanResult").text == "True"
    _open(browser, live_server["url"] + "/?query=" + urllib.parse.quote(
        "CONSTRUCT { kg:org-dgst skos:altLabel ?l } WHERE { kg:org-dgst skos:altLabel ?l FILTER(?l = 'DGST') }"))
    assert _status(browser, "1 triple in ")
    links = browser.find_elements(By.CSS_SELECTOR, "#downloads a")
    assert [(a.text, a.get_attribute("download")) for a in links] == [
        ("Turtle", "query.ttl"), ("JSON-LD", "query.jsonld")]
    with urllib.request.urlopen(links[0].get_attribute("href"), timeout=30) as response:
        assert '"DGST"' in response.read().decode()


QUERIES = Path(__file__).parent.parent / "queries"
# Each example query that opens in a view, with the SVG elements the view draws: one per row of its answer
# (timeline items, map marks, bars, graph edges), as the endpoint itself gives it.
VIEW_EXAMPLES = [("dated-events-and-periods", "timeline", "svg.kg-timeline g.item"),
                 ("places-on-a-map", "map", "svg.kg-map g.mark"),
                 ("figures-by-value-kind", "barchart", "svg.kg-barchart g.bar"),
                 ("imlil-neighbourhood", "graph", "svg.kg-graph g.edge")]


def _drawn(browser, selector: str) -> list:
    from selenium.webdriver.common.by import By

    return _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#yasgui .tabPanel.active " + selector))


@pytest.mark.parametrize(("name", "view", "selector"), VIEW_EXAMPLES)
def test_each_view_opens_from_its_example(browser, live_server, screenshots, name, view, selector):
    from selenium.webdriver.common.by import By

    text = (QUERIES / f"{name}.rq").read_text()
    assert f"#defaultView:{ {'barchart': 'BarChart'}.get(view, view.title()) }" in text
    rows = _select(live_server["url"] + "/sparql", text)
    _open(browser, live_server["url"] + "/")
    browser.find_element(By.CSS_SELECTOR, f'button.example[data-name="{name}"]').click()
    drawn = _drawn(browser, selector)
    selected = browser.find_element(By.CSS_SELECTOR, "#yasgui .tabPanel.active .yasr_btn.selected")
    assert f"select_{view}" in selected.get_attribute("class").split()
    if view == "timeline":
        assert len(drawn) == len(rows) == sum(1 for r in rows if "start" in r)
        days = sorted((r["start"]["value"] + "-01-01")[:10] for r in rows)  # "2017" and "2017-11" start on day 1
        assert sorted(g.get_attribute("data-start") for g in drawn) == days
    elif view == "map":
        placed = [r for r in rows if "lat" in r and "lon" in r]
        assert len(drawn) == len(placed) > 0
        marks = sorted((float(g.get_attribute("data-lat")), float(g.get_attribute("data-lon"))) for g in drawn)
        assert marks == sorted((float(r["lat"]["value"]), float(r["lon"]["value"])) for r in placed)
        assert len(_drawn(browser, "svg.kg-map path.country")) > 5  # the shipped boundaries, no tiles
    elif view == "barchart":
        assert [float(g.get_attribute("data-value")) for g in drawn] == [float(r["figures"]["value"]) for r in rows]
    else:
        assert len(drawn) == len(rows) > 0
        terms = {r[v]["value"] for r in rows for v in ("subject", "object")}
        nodes = _drawn(browser, "svg.kg-graph g.node")
        assert sorted(g.get_attribute("data-term") for g in nodes) == sorted(terms)
    browser.execute_script("arguments[0].scrollIntoView()", drawn[0])
    browser.save_screenshot(str(screenshots / f"view-{view}.png"))
    # the user may switch to the table and back
    browser.find_element(By.CSS_SELECTOR, "#yasgui .tabPanel.active .yasr_btn.select_table").click()
    assert len(_rows(browser)) == len(rows)
    browser.find_element(By.CSS_SELECTOR, f"#yasgui .tabPanel.active .yasr_btn.select_{view}").click()
    assert len(_drawn(browser, selector)) == len(drawn)


def test_a_construct_result_is_drawn_as_a_graph(browser, live_server):
    from selenium.webdriver.common.by import By

    query = ("#defaultView:Graph\nCONSTRUCT { kg:event-2018-imlil-murders ?p ?o }\n"
             "WHERE { kg:event-2018-imlil-murders ?p ?o FILTER(isIRI(?o)) }")
    _open(browser, live_server["url"] + "/")
    _type_and_run(browser, query)
    _wait(browser, lambda b: re.match(r"\d+ triples? in ", b.find_element(By.ID, "status").text))
    triples = int(browser.find_element(By.ID, "status").text.split()[0])
    assert len(_drawn(browser, "svg.kg-graph g.edge")) == triples > 0
    assert browser.find_elements(By.CSS_SELECTOR, "#yasgui .tabPanel.active svg.kg-graph g.node.uri")


def _tab_to(browser, selector: str, limit: int = 60) -> int:
    """Press Tab until the element matching `selector` has the focus; how many presses it took."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for presses in range(1, limit + 1):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.execute_script("return document.activeElement.matches(arguments[0])", selector):
            return presses
    raise AssertionError(f"{selector} is not reached with {limit} presses of Tab")


def test_keyboard_only_editing_running_and_views(browser, live_server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _open(browser, live_server["url"] + "/")
    assert _tab_to(browser, "#yasgui .tabPanel.active .CodeMirror textarea") < 20  # past the site header
    query = "SELECT ?event ?start WHERE { ?event a ct:TerroristAttack ; schema:startDate ?start }"
    (ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(query)
     .key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform())
    _status(browser, "3 rows in ")
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()  # leaves the editor, where Tab indents
    _tab_to(browser, "#yasgui .tabPanel.active .yasr_btn.select_timeline")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert len(_drawn(browser, "svg.kg-timeline g.item")) == 3
    _tab_to(browser, "#yasgui .tabPanel.active svg.kg-timeline a")  # the items link to their pages


def test_no_serious_accessibility_violations(browser, live_server):
    """axe-core (vendored for the tests only, tests/fixtures/axe.min.js) on the page with results and a view.

    The site header and footer (base.html) are checked with the other pages in test_browser_pages.py."""
    from selenium.webdriver.common.by import By

    _open(browser, live_server["url"] + "/")
    browser.find_element(By.CSS_SELECTOR, 'button.example[data-name="places-on-a-map"]').click()
    _drawn(browser, "svg.kg-map g.mark")
    browser.execute_script(AXE.read_text())
    result = browser.execute_async_script("""const done = arguments[arguments.length - 1];
        axe.run({ exclude: [["header.site"], ["footer"]] }, { resultTypes: ["violations"] }).then((r) => done(
          r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }))))""")
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious)


def test_the_docs_view_example_opens_in_its_view(browser, live_server):
    """docs/ui.md's #defaultView example (whose answer test_docs.py checks) draws a bar per row of that answer."""
    from conftest import DOCS, fenced_blocks

    [doc] = [d for d in DOCS if d.name == "ui.md"]
    blocks = fenced_blocks(doc)
    [(query, answer)] = [(code, after) for (info, code), (_, after) in zip(blocks, blocks[1:], strict=False)
                         if info == "sparql" and "#defaultView:BarChart" in code]
    _open(browser, live_server["url"] + "/?query=" + urllib.parse.quote(query))
    bars = _drawn(browser, "svg.kg-barchart g.bar")
    assert [float(b.get_attribute("data-value")) for b in bars] == [
        float(line.rsplit(",", 1)[1]) for line in answer.strip().splitlines()[1:]]


def test_completion_offers_our_own_vocabulary(browser, live_server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, live_server["url"] + "/")
    browser.execute_script(f"{_editor(browser)}.setValue('SELECT * WHERE {{ ?claim a ct:Count'); "
                           f"{_editor(browser)}.setCursor({{line: 0, ch: 100}}); {_editor(browser)}.focus()")
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(" ").key_up(Keys.CONTROL).perform()
    hints = _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints li"))
    assert "ct:CountClaim" in [h.text for h in hints]
    assert _outside_requests(browser) == []
