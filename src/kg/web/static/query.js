// The query page: run the editor's query against the SPARQL endpoint and show the answer.
// Everything from the server or the query is inserted as text (textContent), never as HTML.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("kg-config").textContent);
  const form = document.getElementById("query-form");
  const editor = document.getElementById("query");
  const status = document.getElementById("status");
  const results = document.getElementById("results");
  const downloads = document.getElementById("downloads");
  const permalink = document.getElementById("permalink");
  const inference = document.getElementById("inference");
  const namespaces = Object.entries(config.prefixes).sort((a, b) => b[1].length - a[1].length);
  const KG = config.prefixes.kg, CT = config.prefixes.ct, WD = config.prefixes.wd;
  const XSD_STRING = config.prefixes.xsd + "string";
  const RESULT_FORMATS = [["json", "JSON"], ["csv", "CSV"], ["tsv", "TSV"]];
  const GRAPH_FORMATS = [["turtle", "Turtle"], ["json-ld", "JSON-LD"]];

  // The same rules as kg/web/terms.py.
  function compact(iri) {
    for (const [prefix, ns] of namespaces) {
      if (iri.startsWith(ns) && /^[\p{L}\p{N}_.-]*$/u.test(iri.slice(ns.length))) return prefix + ":" + iri.slice(ns.length);
    }
    return iri;
  }

  function link(iri) {
    if (iri.startsWith(KG)) return config.base + "/id/" + iri.slice(KG.length);
    if (iri === CT.slice(0, -1)) return config.base + "/ontology";
    if (iri.startsWith(CT)) return config.base + "/ontology#" + iri.slice(CT.length);
    if (iri.startsWith(WD)) {
      const local = iri.slice(WD.length);
      return "https://www.wikidata.org/wiki/" + (local.startsWith("P") ? "Property:" + local : local);
    }
    return /^https?:\/\//i.test(iri) ? iri : null;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function termNode(term) {
    const cell = document.createDocumentFragment();
    if (!term) return cell;
    if (term.type === "uri") {
      const href = link(term.value);
      const node = element(href ? "a" : "span", "iri", compact(term.value));
      if (href) node.href = href;
      node.title = term.value;
      cell.append(node);
    } else if (term.type === "bnode") {
      cell.append(element("span", "bnode", "_:" + term.value));
    } else {
      // Short values (dates, numbers) stay on one line; long text wraps.
      cell.append(element("span", term.value.length <= 24 ? "literal short" : "literal", term.value));
      const note = term["xml:lang"] ? "@" + term["xml:lang"]
        : term.datatype && term.datatype !== XSD_STRING ? compact(term.datatype) : "";
      if (note) cell.append(" ", element("span", "note", note));
    }
    return cell;
  }

  function table(data) {
    const vars = data.head.vars;
    const node = element("table", "results");
    const header = node.createTHead().insertRow();
    for (const name of vars) header.append(element("th", "", name));
    const body = node.createTBody();
    for (const binding of data.results.bindings) {
      const row = body.insertRow();
      for (const name of vars) row.insertCell().append(termNode(binding[name]));
    }
    return node;
  }

  // The query and the chosen inference mode as request parameters; the default mode is left out.
  function parameters(query) {
    const params = new URLSearchParams({ query });
    if (inference.value !== config.defaultInference) params.set("inference", inference.value);
    return params;
  }

  function url(query, format) {
    const params = parameters(query);
    if (format) params.set("format", format);
    return config.endpoint + "?" + params;
  }

  function showDownloads(query, formats) {
    downloads.replaceChildren("Download: ");
    formats.forEach(([format, label], index) => {
      const anchor = element("a", "", label);
      anchor.href = url(query, format);
      anchor.download = "results." + (format === "turtle" ? "ttl" : format === "json-ld" ? "jsonld" : format);
      downloads.append(index ? " · " : "", anchor);
    });
    downloads.hidden = false;
  }

  function say(text, className) {
    status.className = className || "";
    status.textContent = text;
  }

  async function run() {
    const query = editor.value;
    const address = "?" + parameters(query);
    permalink.href = address;
    history.replaceState(null, "", address);
    results.replaceChildren();
    downloads.hidden = true;
    say("Running…");
    const started = performance.now();
    let response;
    try {
      response = await fetch(config.endpoint, {
        method: "POST",
        headers: { Accept: "application/sparql-results+json, text/turtle" },
        body: parameters(query),
      });
    } catch (error) {
      say("The endpoint could not be reached: " + error.message, "error");
      return;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    if (!response.ok) {
      const text = (await response.text()).replace(/\s+/g, " ").trim();
      say(text || response.status + " " + response.statusText, "error");
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    const truncated = response.headers.get("Result-Truncated") === "true";
    const rows = response.headers.get("Result-Rows");
    const cut = truncated ? " — truncated: the server's row cap was reached" : "";
    if (type.startsWith("application/sparql-results+json")) {
      const data = await response.json();
      if ("boolean" in data) {
        results.append(element("p", "boolean " + data.boolean, String(data.boolean)));
        say("ASK answered in " + seconds + " s");
      } else {
        const count = data.results.bindings.length;
        results.append(table(data));
        say(count + (count === 1 ? " row" : " rows") + " in " + seconds + " s" + cut, truncated ? "warning" : "");
      }
      showDownloads(query, RESULT_FORMATS);
    } else {
      results.append(element("pre", "code", await response.text()));
      say(rows + (rows === "1" ? " triple" : " triples") + " in " + seconds + " s" + cut, truncated ? "warning" : "");
      showDownloads(query, GRAPH_FORMATS);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  inference.addEventListener("change", run);
  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", () => {
      editor.value = config.examples[button.dataset.name];
      run();
    });
  }
  if (form.dataset.run) run();
})();
