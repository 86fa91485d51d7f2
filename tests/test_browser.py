"""The query page in a real headless Chromium against a live `kg serve`: run an example, follow an IRI.

Debian's chromium and chromedriver (installed by .ci/run) are driven by selenium; nothing is downloaded, and the
browser is started with every background network feature off.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--window-size=1400,1000")
# The answer to "How many terrorist cells were dismantled since 2002, by whose account, with which evidence?"
CELLS_SINCE_2002 = [[
    "kg:claim-cells-dismantled-since-2002", "207 xsd:integer", "ct:Exact", "kg:org-dgst", "kg:doc-dgst-press-release",
    "2002-01-01 xsd:date", "2020-11-30 xsd:date", "since 2002", "Morocco has dismantled 207 terrorist cells since 2002",
    "230 xsd:integer", "283 xsd:integer",
]]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed (.ci/run installs them)")
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


def _rows(browser, timeout: float = 10) -> list[list[str]]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(lambda b: b.find_elements(By.CSS_SELECTOR, "table.results tbody tr"))
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")]


def test_run_an_example_and_follow_an_iri(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_server["url"] + "/")
    browser.find_element(By.CSS_SELECTOR, 'button.example[data-name="cells-since-2002"]').click()
    assert _rows(browser) == CELLS_SINCE_2002
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.results thead th")]
    assert headers == ["claim", "cells", "kind", "claimant", "source", "from", "to", "wording", "quote", "start", "end"]
    assert browser.find_element(By.ID, "status").text.startswith("1 row in ")
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a")]
    assert links == ["JSON", "CSV", "TSV"]
    assert browser.find_element(By.ID, "permalink").get_attribute("href").startswith(live_server["url"] + "/?query=")
    browser.find_element(By.LINK_TEXT, "kg:org-dgst").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url == live_server["url"] + "/id/org-dgst")
    assert browser.find_element(By.TAG_NAME, "h1").text == "General Directorate of Territorial Surveillance"


def test_ctrl_enter_runs_and_errors_show_in_one_line(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_server["url"] + "/")
    editor = browser.find_element(By.ID, "query")
    editor.clear()
    editor.send_keys("SELECT ?x WHERE { ?x ?y")
    editor.send_keys(Keys.CONTROL, Keys.ENTER)
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 10).until(lambda b: "error" in status.get_attribute("class"))
    assert status.text.startswith("400: ") and "\n" not in status.text


def test_permalink_runs_and_data_is_shown_as_text(browser, live_server):
    from selenium.webdriver.common.by import By

    literal = "<img src=x onerror=alert(1)>"
    browser.get(live_server["url"] + "/?query=" + quote(f"SELECT ?x WHERE {{ BIND('{literal}' AS ?x) }}"))
    assert _rows(browser) == [[literal]]
    assert browser.find_elements(By.CSS_SELECTOR, "#results img") == []


def test_ask_and_construct(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_server["url"] + "/?query=" + quote("ASK { kg:org-dgst ?p ?o }"))
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#results .boolean"))
    assert browser.find_element(By.CSS_SELECTOR, "#results .boolean").text == "true"
    browser.get(live_server["url"] + "/?query=" + quote("CONSTRUCT { kg:org-dgst skos:altLabel ?l } "
                                                         "WHERE { kg:org-dgst skos:altLabel ?l FILTER(?l = 'DGST') }"))
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#results pre"))
    assert 'kg:org-dgst skos:altLabel "DGST" .' in browser.find_element(By.CSS_SELECTOR, "#results pre").text
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a")]
    assert links == ["Turtle", "JSON-LD"]


def test_inference_mode_is_sent_kept_in_the_permalink_and_switchable(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    query = "SELECT ?event WHERE { ?event ct:occurredIn kg:place-morocco } ORDER BY ?event"
    browser.get(live_server["url"] + "/?inference=owl-rl&query=" + quote(query))
    assert _rows(browser) == [["kg:event-2003-casablanca-bombings"], ["kg:event-2011-marrakesh-bombing"],
                              ["kg:event-2018-imlil-murders"]]
    assert "inference=owl-rl" in browser.find_element(By.ID, "permalink").get_attribute("href")
    assert all("inference=owl-rl" in a.get_attribute("href")
               for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a"))
    Select(browser.find_element(By.ID, "inference")).select_by_value("none")
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "status").text.startswith("0 rows in "))
    assert "inference" not in browser.find_element(By.ID, "permalink").get_attribute("href")
