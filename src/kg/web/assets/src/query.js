// The query page: YASGUI (editor with tabs, results) against this server's endpoint, with everything it needs
// shipped with the page: completions come from our own prefixes, ontology and data, never prefix.cc or LOV.
// Bundled by build-assets.sh into static/query.js; Yasgui itself is static/yasgui.min.js.
import { MapView, VIEWS, isNumber, useTerms } from "./views.js";

const { Yasqe, Yasr } = window.Yasgui;
const config = JSON.parse(document.getElementById("kg-config").textContent);
const page = JSON.parse(document.getElementById("kg-page").textContent);
const root = document.getElementById("yasgui");
const status = document.getElementById("status");
const downloads = document.getElementById("downloads");
const permalink = document.getElementById("permalink");
const inference = document.getElementById("inference");
const cancel = document.getElementById("cancel");
const historyList = document.getElementById("history");
const namespaces = Object.entries(config.prefixes).sort((a, b) => b[1].length - a[1].length);
const KG = config.prefixes.kg, CT = config.prefixes.ct, WD = config.prefixes.wd;
const RESULT_FORMATS = [["json", "JSON", "json"], ["csv", "CSV", "csv"], ["tsv", "TSV", "tsv"]];
const GRAPH_FORMATS = [["turtle", "Turtle", "ttl"], ["json-ld", "JSON-LD", "jsonld"]];
const VIEW_NAMES = { table: "table", response: "response", ...Object.fromEntries(Object.keys(VIEWS).map((v) => [v, v])) };
const HISTORY_KEY = "kg-query-history", HISTORY_SIZE = 30;

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

useTerms(compact, link);

// YASR's table sorts every column as text ("10" before "2"): numeric literals sort, and type a column, as numbers.
const Table = Yasr.plugins.table;
const tableColumns = Table.prototype.getColumns;
Table.prototype.getColumns = function () {
  return tableColumns.call(this).map((column, index) => index === 0 ? column : {
    ...column,
    render: (cell, kind, ...rest) => (kind === "sort" || kind === "type") && isNumber(cell)
      ? Number(cell.value) : column.render(cell, kind === "type" ? "sort" : kind, ...rest),
  });
};
MapView.geometryUrl = root.dataset.geometry;
for (const [name, View] of Object.entries(VIEWS)) Yasr.registerPlugin(name, View);

// The project's prefixes hold in every query without PREFIX lines (the endpoint adds them), so the editor's
// grammar starts from them: no "prefix not defined" marks, and completion expands them.
const sparqlMode = Yasqe.modes.sparql11;
Yasqe.defineMode("sparql11", (options, modeOptions) => {
  const mode = sparqlMode(options, modeOptions);
  const startState = mode.startState;
  mode.startState = () => ({ ...startState(), prefixes: { ...config.prefixes } });
  return mode;
});

// Classes and properties of our ontology and data, asked once of our own endpoint.
let vocabulary;
function terms(kind) {
  vocabulary ||= fetch(config.endpoint, {
    method: "POST",
    headers: { Accept: "application/sparql-results+json" },
    body: new URLSearchParams({ query: `SELECT DISTINCT ?term ?kind WHERE {
      { { ?term a owl:Class } UNION { ?term a rdfs:Class } UNION { [] a ?term } BIND("class" AS ?kind) }
      UNION { { { ?term a rdf:Property } UNION { ?term a owl:ObjectProperty } UNION { ?term a owl:DatatypeProperty }
              UNION { [] ?term [] } } BIND("property" AS ?kind) }
      FILTER(isIRI(?term)) }` }),
  }).then((response) => response.json()).then((data) => data.results.bindings);
  return vocabulary.then((rows) => rows.filter((r) => r.kind.value === kind).map((r) => r.term.value).sort());
}
Yasqe.registerAutocompleter({
  ...Yasqe.Autocompleters.prefixes, persistenceId: null,
  get: Object.entries(config.prefixes).map(([prefix, ns]) => `${prefix}: <${ns}>`).sort(),
});
for (const kind of ["class", "property"]) {
  Yasqe.registerAutocompleter({ ...Yasqe.Autocompleters[kind], bulk: true, persistenceId: null,
    get: () => terms(kind) });
}

// The inference mode is the page's, not a tab's: sent as the endpoint's `inference` parameter.
function inferenceArgs() {
  return inference.value === config.defaultInference ? [] : [{ name: "inference", value: inference.value }];
}

function address(query, extra = {}) {
  const params = new URLSearchParams({ query, ...extra });
  for (const { name, value } of inferenceArgs()) params.set(name, value);
  return params;
}

const yasgui = new window.Yasgui(root, {
  persistenceId: "kg-query",
  populateFromUrl: false,
  autofocus: false,
  copyEndpointOnNewTab: true,
  endpointCatalogueOptions: { getData: () => [{ endpoint: config.endpoint }], keys: [] },
  // Yasgui wants an absolute endpoint; `args` (the inference mode) is set on the tab before each request.
  requestConfig: { endpoint: new URL(config.endpoint, location.href).href, method: "POST", args: [],
    acceptHeaderSelect: "application/sparql-results+json", acceptHeaderGraph: "text/turtle" },
  yasqe: { value: page.query, editorHeight: "18rem", resizeable: true, screenReaderLabel: "SPARQL query" },
  yasr: { prefixes: config.prefixes, defaultPlugin: "table", pluginOrder: ["table", ...Object.keys(VIEWS), "response"] },
});

// A tablist may hold only tabs (WAI-ARIA), so YASGUI's "+" button moves just after the list.
const addTab = yasgui.tabElements.addTabEl;
yasgui.tabElements.addTabEl = null; // new tabs are then appended to the list, as they were put before "+"
addTab.className = "kg-add-tab";
yasgui.tabElements._tabsListEl.after(addTab);

function say(text, className = "") {
  status.className = className;
  status.textContent = text;
}

// WDQS's `#defaultView:Map` comment chooses the view a query opens in.
function defaultView(query) {
  const match = /^\s*#\s*defaultView\s*:\s*(\w+)/im.exec(query);
  return match && VIEW_NAMES[match[1].toLowerCase()];
}

// Where the endpoint says a query is malformed: JSON {line, column} if it sends them, else "line L, column C" or
// "at L:C" in its one-line reason.
function errorPosition(message) {
  try {
    const body = JSON.parse(message);
    if (Number.isInteger(body.line)) return { line: body.line, column: body.column || 1, text: body.error };
  } catch {
    // a plain-text reason
  }
  const match = /line (\d+), column (\d+)/i.exec(message) || /\bat (\d+):(\d+)/.exec(message);
  return match ? { line: Number(match[1]), column: Number(match[2]), text: message } : null;
}

const marks = new WeakMap();
function clearMark(yasqe) {
  const mark = marks.get(yasqe);
  if (!mark) return;
  mark.text.clear();
  yasqe.setGutterMarker(mark.line, "gutterErrorBar", null);
  marks.delete(yasqe);
}

// The endpoint may report the end of the query (past the last character, or on an empty last line): the mark
// then goes on the last character before that point.
function markError(yasqe, position) {
  let line = Math.min(position.line, yasqe.lineCount()) - 1;
  let ch = Math.max(position.column - 1, 0);
  while (line > 0 && !yasqe.getLine(line).slice(0, ch + 1).trim()) ch = yasqe.getLine(--line).length;
  const content = yasqe.getLine(line);
  if (ch >= content.length) ch = Math.max(content.trimEnd().length - 1, 0);
  const badge = document.createElement("span");
  badge.className = "kg-error-badge";
  badge.textContent = "!";
  badge.title = position.text;
  yasqe.setGutterMarker(line, "gutterErrorBar", badge);
  const text = yasqe.markText({ line, ch }, { line, ch: ch + 1 },
    { className: "kg-error-mark", attributes: { title: position.text } });
  marks.set(yasqe, { line, text });
}

function showDownloads(tab, query, graph) {
  const name = tab.getName().toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "") || "results";
  downloads.replaceChildren("Download: ");
  (graph ? GRAPH_FORMATS : RESULT_FORMATS).forEach(([format, label, extension], index) => {
    const anchor = document.createElement("a");
    anchor.textContent = label;
    anchor.href = config.endpoint + "?" + address(query, { format });
    anchor.download = `${name}.${extension}`;
    downloads.append(index ? " · " : "", anchor);
  });
  downloads.hidden = false;
}

function remember(query) {
  const past = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]").filter((entry) => entry.query !== query);
  past.unshift({ query, inference: inference.value, at: new Date().toISOString() });
  localStorage.setItem(HISTORY_KEY, JSON.stringify(past.slice(0, HISTORY_SIZE)));
  showHistory();
}

function showHistory() {
  const past = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
  historyList.replaceChildren(...past.map((entry) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "past";
    const words = entry.query.replace(/^\s*(#.*|PREFIX.*)\n/gim, "").replace(/\s+/g, " ").trim();
    button.textContent = words.length > 70 ? words.slice(0, 69) + "…" : words;
    button.title = entry.query;
    button.addEventListener("click", () => open(entry.query, "History", entry.inference));
    const time = document.createElement("time");
    time.dateTime = entry.at;
    time.textContent = entry.at.slice(0, 16).replace("T", " ");
    item.append(button, " ", time);
    return item;
  }));
}

// Per tab: the request's start, the status line, the error mark, the view and the downloads.
const running = new Map();
const watched = new WeakSet();
function watch(tab) {
  const yasqe = tab.getYasqe();
  if (watched.has(yasqe)) return;
  watched.add(yasqe);
  yasqe.on("queryResponse", (_yasqe, response, duration) => {
    const query = running.get(tab);
    running.delete(tab);
    cancel.hidden = running.size === 0;
    if (query === undefined) return;
    const seconds = (duration / 1000).toFixed(2);
    if (response instanceof Error) {
      if (response.name === "AbortError") return say("Cancelled.", "warning");
      const position = errorPosition(response.message);
      if (position) markError(yasqe, position);
      return say(response.message.replace(/\s+/g, " ").trim(), "error");
    }
    const type = response.headers.get("Content-Type") || "";
    const truncated = response.headers.get("Result-Truncated") === "true";
    const cut = truncated ? " — truncated: the server's row cap was reached" : "";
    const graph = !type.startsWith("application/sparql-results+json");
    if (graph) {
      const rows = response.headers.get("Result-Rows");
      say(rows + (rows === "1" ? " triple" : " triples") + " in " + seconds + " s" + cut, truncated ? "warning" : "");
    } else {
      const data = JSON.parse(response.content);
      if ("boolean" in data) say("ASK answered in " + seconds + " s");
      else {
        const count = data.results.bindings.length;
        say(count + (count === 1 ? " row" : " rows") + " in " + seconds + " s" + cut, truncated ? "warning" : "");
      }
    }
    showDownloads(tab, query, graph);
  });
  yasqe.on("change", () => clearMark(yasqe));
}

yasgui.on("queryBefore", (_yasgui, tab) => {
  watch(tab);
  tab.setRequestConfig({ args: inferenceArgs() });
  const query = tab.getQuery();
  running.set(tab, query);
  cancel.hidden = false;
  clearMark(tab.getYasqe());
  const view = defaultView(query);
  if (view) tab.getYasr().selectPlugin(view);
  const params = address(query);
  permalink.href = "?" + params;
  history.replaceState(null, "", "?" + params);
  downloads.hidden = true;
  say("Running…");
  remember(query);
});
yasgui.on("queryAbort", (_yasgui, tab) => {
  running.delete(tab);
  cancel.hidden = running.size === 0;
  say("Cancelled.", "warning");
});

function run(tab = yasgui.getTab()) {
  tab.query().catch(() => {}); // the outcome is shown by the queryResponse handler
}

// Opens a query in a tab of its own (the current tab if it already holds it), sets the mode, runs it.
function open(query, name, mode) {
  if (mode && [...inference.options].some((o) => o.value === mode)) inference.value = mode;
  let tab = yasgui.getTab();
  if (tab.getQuery() !== query) {
    const existing = Object.values(yasgui._tabs).find((t) => t.getQuery() === query);
    tab = existing || yasgui.addTab(true, { name, yasqe: { value: query } });
    yasgui.selectTabId(tab.getId());
  }
  run(tab);
}

cancel.addEventListener("click", () => yasgui.getTab().getYasqe().abortQuery());
inference.addEventListener("change", () => run());
for (const button of document.querySelectorAll("button.example")) {
  button.addEventListener("click", () => open(config.examples[button.dataset.name], button.textContent.trim()));
}
showHistory();
if (page.run) open(page.query, "Query");
