"""Browsers at /sparql and /.well-known/void get a page (the description made readable, with a link to the query
page); SPARQL clients keep getting the description as RDF from the same address (content negotiation)."""

from __future__ import annotations

import html

import pytest
from conftest import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from kg.namespaces import SD, VOID

CHROME = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
          "application/signed-exchange;v=b3;q=0.7")
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PATHS = ("/sparql", "/.well-known/void")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("accept", [CHROME, FIREFOX, "text/html"])
def test_a_browser_gets_a_page(client, path, accept):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert "Accept" in response.headers["Vary"]
    assert '<a href="/">query page</a>' in response.text
    assert '<a href="?format=turtle" type="text/turtle">turtle</a>' in response.text


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("accept", "media_type"), [
    (None, "text/turtle"), ("*/*", "text/turtle"), ("application/rdf+xml", "application/rdf+xml"),
    ("application/ld+json", "application/ld+json"), ("text/turtle, text/html;q=0.5", "text/turtle"),
    ("application/n-triples, */*;q=0.1", "application/n-triples"),
])
def test_machine_clients_keep_getting_rdf(client, path, accept, media_type):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("path", PATHS)
def test_an_explicit_format_wins_over_a_browsers_accept(client, path):
    response = client.get(path, query_string={"format": "turtle"}, headers={"Accept": CHROME})
    assert response.mimetype == "text/turtle"


def test_the_page_shows_every_triple_of_the_service_description(client):
    rdf = Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).text, format="turtle")
    page = html.unescape(client.get("/sparql", headers={"Accept": CHROME}).text)
    assert f"({len(rdf)} triples)" in page
    assert (URIRef("http://localhost/sparql"), RDF.type, SD.Service) in rdf
    counts = {str(rdf.value(n, SD.name)): int(rdf.value(rdf.value(n, SD.graph), VOID.triples))
              for n in rdf.subjects(RDF.type, SD.NamedGraph)}
    assert len(counts) >= 6
    for name, triples in counts.items():  # each named graph, nested under the dataset, with its size
        assert f'<a href="{name}">{name}</a></dd>' in page
        assert f"<dd>{triples}</dd>" in page
    titles = [str(o) for o in rdf.objects(None, URIRef("http://purl.org/dc/terms/title")) if isinstance(o, Literal)]
    assert all(title in page for title in titles)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


@pytest.mark.parametrize(("link", "heading"), [("SPARQL endpoint", "SPARQL endpoint"), ("VoID", "VoID description")])
def test_the_footer_links_open_pages_in_chromium(chromium, live_server, link, heading):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chromium.get(live_server["url"] + "/about")
    chromium.find_element(By.LINK_TEXT, link).click()
    WebDriverWait(chromium, 10).until(lambda b: b.find_elements(By.TAG_NAME, "h1"))
    assert chromium.find_element(By.TAG_NAME, "h1").text == heading
    chromium.find_element(By.LINK_TEXT, "query page").click()
    WebDriverWait(chromium, 10).until(lambda b: b.current_url == live_server["url"] + "/")
