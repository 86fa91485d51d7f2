// Result views beside YASR's table and raw response: Timeline, Map, Graph and BarChart, as YASR plugins.
// Each view draws SVG with DOM calls (textContent, attributes): no HTML strings, no inline styles, so the page's
// Content-Security-Policy needs nothing but 'self'.
import { geoMercator, geoPath } from "d3-geo";
import { forceCenter, forceCollide, forceLink, forceManyBody, forceSimulation } from "d3-force";

const SVG = "http://www.w3.org/2000/svg";
const XSD = "http://www.w3.org/2001/XMLSchema#";
const DATE_TYPES = new Set(["date", "dateTime", "dateTimeStamp", "gYear", "gYearMonth"].map((t) => XSD + t));
const NUMBER_TYPES = new Set(
  ["integer", "decimal", "double", "float", "int", "long", "short", "nonNegativeInteger", "positiveInteger"]
    .map((t) => XSD + t));
const WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";
const LATITUDE = /^lat(itude)?$/i, LONGITUDE = /^(lon|long|lng|longitude)$/i;

function svg(tag, attributes = {}, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (parent) parent.append(node);
  return node;
}

function text(parent, content, attributes) {
  const node = svg("text", attributes, parent);
  node.textContent = content;
  return node;
}

function titled(node, title) {
  const tip = svg("title", {}, node);
  tip.textContent = title;
  return node;
}

function note(yasr, message) {
  const paragraph = document.createElement("p");
  paragraph.className = "kg-view-note";
  paragraph.textContent = message;
  yasr.resultsEl.append(paragraph);
}

// A small drawing for a view's button (no letters: the button's name is its visible label).
const ICONS = {
  Timeline: [["line", { x1: 1, y1: 12, x2: 15, y2: 12 }], ["circle", { cx: 4, cy: 7, r: 2 }],
    ["rect", { x: 7, y: 3, width: 7, height: 3 }]],
  Map: [["path", { d: "M8 15 C3 9 3 7 3 6 a5 5 0 0 1 10 0 c0 1 0 3 -5 9 z" }]],
  Graph: [["line", { x1: 4, y1: 4, x2: 12, y2: 12 }], ["line", { x1: 4, y1: 4, x2: 13, y2: 4 }],
    ["circle", { cx: 4, cy: 4, r: 2.5 }], ["circle", { cx: 12, cy: 12, r: 2.5 }], ["circle", { cx: 13, cy: 4, r: 2 }]],
  "Bar chart": [["rect", { x: 1, y: 2, width: 13, height: 3 }], ["rect", { x: 1, y: 7, width: 9, height: 3 }],
    ["rect", { x: 1, y: 12, width: 5, height: 3 }]],
};
function icon(label) {
  const drawing = svg("svg", { class: "kg-view-icon", viewBox: "0 0 16 16", width: 14, height: 14, "aria-hidden": "true",
    focusable: "false" });
  for (const [tag, attributes] of ICONS[label]) svg(tag, attributes, drawing);
  return drawing;
}

// "2011-04-28T11:50:00+01:00", "2018-12-16", "2017-11", "2017" as a time in ms (UTC), or NaN.
export function parseDate(value) {
  const match = /^(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(T[\d:.]+)?(Z|[+-]\d{2}:\d{2})?/.exec(value);
  if (!match) return NaN;
  const [, year, month = "01", day = "01", time = "T00:00:00", zone = "Z"] = match;
  return Date.parse(`${year}-${month}-${day}${time}${zone}`);
}

const isDate = (term) => term && term.type !== "uri" && DATE_TYPES.has(term.datatype) && !isNaN(parseDate(term.value));
export const isNumber = (term) => term && term.type !== "uri" && term.type !== "bnode" && NUMBER_TYPES.has(term.datatype);

// The helpers the page hands to the views: how to show an IRI and where to link it.
let terms = { compact: (iri) => iri, link: () => null };
export function useTerms(compact, link) {
  terms = { compact, link };
}

function show(term) {
  if (!term) return "";
  return term.type === "uri" ? terms.compact(term.value) : term.type === "bnode" ? "_:" + term.value : term.value;
}

// A label for a row: its first plain literal outside `skip`, else its first IRI.
function rowLabel(binding, vars, skip) {
  const free = vars.filter((v) => !skip.includes(v) && binding[v]);
  const literal = free.find((v) => binding[v].type !== "uri" && !isDate(binding[v]) && !isNumber(binding[v]));
  return show(binding[literal || free.find((v) => binding[v].type === "uri") || free[0]]);
}

function rowLink(binding, vars) {
  const iri = vars.find((v) => binding[v] && binding[v].type === "uri");
  return iri ? terms.link(binding[iri].value) : null;
}

function linked(parent, href) {
  if (!href) return parent;
  const anchor = svg("a", { href }, parent);
  return anchor;
}

class View {
  constructor(yasr) {
    this.yasr = yasr;
  }
  get vars() {
    return this.yasr.results?.getVariables() || [];
  }
  get bindings() {
    return this.yasr.results?.getBindings() || [];
  }
  canHandleResults() {
    return !this.yasr.results?.hasError() && this.bindings.length > 0 && this.usable();
  }
  getIcon() {
    return icon(this.label);
  }
  frame(className, width, height, label) {
    const figure = svg("svg", { class: "kg-view " + className, viewBox: `0 0 ${width} ${height}`,
      width, height, role: "group", "aria-label": label }, this.yasr.resultsEl);
    return figure;
  }
}

// Dated rows on a time axis: a point for one date, a bar from the first date to the second for a period.
export class Timeline extends View {
  priority = 1;
  label = "Timeline";
  usable() {
    return this.bindings.some((b) => this.vars.some((v) => isDate(b[v])));
  }
  draw() {
    const items = [];
    for (const binding of this.bindings) {
      const dates = this.vars.filter((v) => isDate(binding[v]));
      if (!dates.length) continue;
      const start = parseDate(binding[dates[0]].value);
      const end = dates[1] ? parseDate(binding[dates[1]].value) : start;
      items.push({ start: Math.min(start, end), end: Math.max(start, end), label: rowLabel(binding, this.vars, dates),
        href: rowLink(binding, this.vars), when: dates.map((v) => binding[v].value).join(" – ") });
    }
    items.sort((a, b) => a.start - b.start || a.end - b.end);
    const width = 1000, margin = 24, lane = 26;
    const years = items.flatMap((i) => [new Date(i.start).getUTCFullYear(), new Date(i.end).getUTCFullYear() + 1]);
    const first = Math.min(...years), last = Math.max(...years);
    const from = Date.UTC(first, 0, 1), to = Date.UTC(last, 0, 1);
    const x = (t) => margin + ((t - from) / (to - from || 1)) * (width - 2 * margin);
    // Greedy lanes: an item goes in the first lane whose last label ends before it starts.
    const laneEnds = [];
    for (const item of items) {
      const right = Math.max(x(item.end), x(item.start) + 8 + item.label.length * 6.5);
      let index = laneEnds.findIndex((end) => end < x(item.start) - 6);
      if (index < 0) index = laneEnds.push(0) - 1;
      laneEnds[index] = right;
      item.lane = index;
    }
    const height = 40 + laneEnds.length * lane;
    const figure = this.frame("kg-timeline", width, height, `Timeline of ${items.length} dated results`);
    const axis = svg("g", { class: "axis" }, figure);
    svg("line", { x1: margin, x2: width - margin, y1: height - 24, y2: height - 24 }, axis);
    const step = [1, 2, 5, 10, 20, 50, 100].find((s) => (last - first) / s <= 12) || 100;
    for (let year = Math.ceil(first / step) * step; year <= last; year += step) {
      const at = x(Date.UTC(year, 0, 1));
      svg("line", { class: "tick", x1: at, x2: at, y1: 8, y2: height - 20 }, axis);
      text(axis, String(year), { x: at, y: height - 6, "text-anchor": "middle" });
    }
    for (const item of items) {
      const y = 16 + item.lane * lane;
      const group = titled(svg("g", { class: "item", "data-start": new Date(item.start).toISOString().slice(0, 10) },
        linked(figure, item.href)), `${item.label} (${item.when})`);
      if (item.end > item.start) {
        svg("rect", { class: "period", x: x(item.start), y: y - 6, width: Math.max(x(item.end) - x(item.start), 2),
          height: 12, rx: 3 }, group);
      } else {
        svg("circle", { class: "instant", cx: x(item.start), cy: y, r: 6 }, group);
      }
      const room = Math.floor((width - x(item.start) - 12) / 6.5); // characters that fit before the right edge
      text(group, item.label.length > room ? item.label.slice(0, room - 1) + "…" : item.label,
        { x: x(item.start) + 9, y: y + 4 });
    }
  }
}

// Places on shipped boundaries (Natural Earth via world-atlas, see assets/README.md); no tile server.
export class MapView extends View {
  priority = 1;
  label = "Map";
  static geometry;
  static geometryUrl = "";
  points() {
    const wkt = this.vars.find((v) => this.bindings.some((b) => b[v]?.datatype === WKT));
    const lat = this.vars.find((v) => LATITUDE.test(v)), lon = this.vars.find((v) => LONGITUDE.test(v));
    const points = [];
    for (const binding of this.bindings) {
      let position;
      if (wkt && binding[wkt]) {
        const match = /^\s*(?:<[^>]*>\s*)?point\s*\(\s*(\S+)\s+(\S+)\s*\)/i.exec(binding[wkt].value);
        if (match) position = [Number(match[1]), Number(match[2])];
      } else if (lat && lon && binding[lat] && binding[lon]) {
        position = [Number(binding[lon].value), Number(binding[lat].value)];
      }
      if (!position || !position.every(Number.isFinite)) continue;
      points.push({ position, label: rowLabel(binding, this.vars, [wkt, lat, lon]), href: rowLink(binding, this.vars) });
    }
    return points;
  }
  usable() {
    return this.points().length > 0;
  }
  async initialize() {
    if (!MapView.geometry) MapView.geometry = fetch(MapView.geometryUrl).then((response) => response.json());
    await MapView.geometry;
  }
  async draw() {
    const countries = await MapView.geometry;
    const points = this.points();
    const width = 1000, height = 640;
    const focus = { type: "FeatureCollection", features: [
      ...countries.features.filter((f) => f.properties.focus),
      { type: "Feature", geometry: { type: "MultiPoint", coordinates: points.map((p) => p.position) } }] };
    const projection = geoMercator().fitExtent([[30, 30], [width - 30, height - 30]], focus);
    const path = geoPath(projection);
    const figure = this.frame("kg-map", width, height, `Map of ${points.length} places`);
    svg("rect", { class: "sea", width, height }, figure);
    for (const country of countries.features) {
      titled(svg("path", { class: "country", d: path(country), "data-name": country.properties.name }, figure),
        country.properties.name);
    }
    const seen = new Map();
    for (const point of points) {
      const [cx, cy] = projection(point.position);
      const key = point.position.join(",");
      const stacked = seen.get(key) || 0;
      seen.set(key, stacked + 1);
      const group = titled(svg("g", { class: "mark", "data-lon": point.position[0], "data-lat": point.position[1] },
        linked(figure, point.href)), `${point.label} (${point.position[1]}, ${point.position[0]})`);
      svg("circle", { cx, cy, r: 7 }, group);
      text(group, point.label, { x: cx + 10, y: cy + 4 + stacked * 16 });
    }
    const source = document.createElement("p");
    source.className = "kg-view-note";
    source.textContent = "Boundaries: Natural Earth (public domain), 1:50m, as shipped in world-atlas.";
    this.yasr.resultsEl.append(source);
  }
}

// Nodes and edges of a graph result (?subject ?predicate ?object, as CONSTRUCT and DESCRIBE give) or of a SELECT
// with ?source and ?target; laid out by d3-force, computed to rest before drawing (no animation).
export class Graph extends View {
  priority = 1;
  label = "Graph";
  static limit = 400;
  static drawn = 0;
  roles() {
    const vars = this.vars;
    if (vars.includes("subject") && vars.includes("object")) return ["subject", "predicate", "object"];
    if (vars.includes("source") && vars.includes("target")) return ["source", "label", "target"];
    return null;
  }
  usable() {
    return this.roles() !== null;
  }
  draw() {
    const [from, via, to] = this.roles();
    const nodes = new Map(), links = [];
    const node = (term) => {
      const key = term.type + " " + term.value + (term.type === "literal" ? " " + links.length : "");
      if (!nodes.has(key)) nodes.set(key, { id: key, term, label: show(term) });
      return nodes.get(key);
    };
    for (const binding of this.bindings) {
      if (!binding[from] || !binding[to]) continue;
      links.push({ source: node(binding[from]), target: node(binding[to]), label: show(binding[via]) });
    }
    if (nodes.size > Graph.limit) {
      note(this.yasr, `${nodes.size} nodes: too many to draw (the graph view draws at most ${Graph.limit}).`);
      return;
    }
    const width = 1000, height = Math.min(900, 300 + nodes.size * 12);
    const all = [...nodes.values()];
    forceSimulation(all)
      .force("link", forceLink(links).distance(110))
      .force("charge", forceManyBody().strength(-400))
      .force("collide", forceCollide(28))
      .force("center", forceCenter(width / 2, height / 2))
      .stop()
      .tick(300);
    const xs = all.map((n) => n.x), ys = all.map((n) => n.y);
    const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const scale = Math.min(1, (width - 240) / (maxX - minX || 1), (height - 60) / (maxY - minY || 1));
    for (const n of all) {
      n.x = 120 + (n.x - minX) * scale + ((width - 240) - (maxX - minX) * scale) / 2;
      n.y = 30 + (n.y - minY) * scale + ((height - 60) - (maxY - minY) * scale) / 2;
    }
    const figure = this.frame("kg-graph", width, height, `Graph of ${nodes.size} nodes and ${links.length} edges`);
    const arrow = "kg-arrow-" + ++Graph.drawn;
    const marker = svg("marker", { id: arrow, viewBox: "0 0 10 10", refX: 20, refY: 5, markerWidth: 8,
      markerHeight: 8, orient: "auto-start-reverse" }, svg("defs", {}, figure));
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z" }, marker);
    for (const link of links) {
      const group = titled(svg("g", { class: "edge" }, figure), link.label);
      svg("line", { x1: link.source.x, y1: link.source.y, x2: link.target.x, y2: link.target.y,
        "marker-end": `url(#${arrow})` }, group);
      text(group, link.label, { x: (link.source.x + link.target.x) / 2, y: (link.source.y + link.target.y) / 2 - 4,
        "text-anchor": "middle" });
    }
    for (const n of all) {
      const href = n.term.type === "uri" ? terms.link(n.term.value) : null;
      const group = titled(svg("g", { class: "node " + n.term.type, "data-term": n.term.value },
        linked(figure, href)), n.term.value);
      svg("circle", { cx: n.x, cy: n.y, r: n.term.type === "uri" ? 9 : 6 }, group);
      text(group, n.label.length > 40 ? n.label.slice(0, 39) + "…" : n.label, { x: n.x + 12, y: n.y + 4 });
    }
  }
}

// Grouped counts as horizontal bars: a label column and the first numeric column.
export class BarChart extends View {
  priority = 1;
  label = "Bar chart";
  columns() {
    const value = this.vars.find((v) => this.bindings.every((b) => !b[v] || isNumber(b[v])) &&
      this.bindings.some((b) => isNumber(b[v])));
    return value ? { value, label: this.vars.filter((v) => v !== value) } : null;
  }
  usable() {
    return this.columns() !== null;
  }
  draw() {
    const { value, label } = this.columns();
    const bars = this.bindings.filter((b) => isNumber(b[value]))
      .map((b) => ({ value: Number(b[value].value), label: rowLabel(b, label, []), href: rowLink(b, label) }));
    const width = 1000, row = 28, left = 320, right = 80;
    const height = 20 + bars.length * row;
    const top = Math.max(...bars.map((b) => b.value), 0);
    const figure = this.frame("kg-barchart", width, height, `Bar chart of ${value} for ${bars.length} rows`);
    bars.forEach((bar, index) => {
      const y = 10 + index * row;
      const size = top > 0 ? (Math.max(bar.value, 0) / top) * (width - left - right) : 0;
      const group = titled(svg("g", { class: "bar", "data-value": bar.value }, linked(figure, bar.href)),
        `${bar.label}: ${bar.value}`);
      text(group, bar.label.length > 48 ? bar.label.slice(0, 47) + "…" : bar.label,
        { x: left - 8, y: y + row / 2 + 4, "text-anchor": "end" });
      svg("rect", { x: left, y: y + 4, width: size, height: row - 8 }, group);
      text(group, String(bar.value), { class: "value", x: left + size + 6, y: y + row / 2 + 4 });
    });
  }
}

export const VIEWS = { timeline: Timeline, map: MapView, graph: Graph, barchart: BarChart };
