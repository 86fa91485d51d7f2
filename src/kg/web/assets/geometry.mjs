// Writes the map view's boundaries: Morocco and its neighbours from world-atlas (Natural Earth 1:50m, public domain)
// as GeoJSON with coordinates rounded to 0.01 degree (about 1 km), small enough to ship with the page.
import { readFileSync, writeFileSync } from "node:fs";
import { feature } from "topojson-client";

const atlas = JSON.parse(readFileSync(new URL("node_modules/world-atlas/countries-50m.json", import.meta.url)));
// ISO 3166-1 numeric codes; the map is fitted to the `focus` ones (and to the marks it draws).
const COUNTRIES = { "504": true, "732": false, "012": false, "478": false, "724": false, "620": false, "788": false,
  "466": false };
const round = (value) => (Array.isArray(value) ? value.map(round) : Math.round(value * 100) / 100);
const features = feature(atlas, atlas.objects.countries).features
  .filter((f) => f.id in COUNTRIES)
  .map((f) => ({ type: "Feature", id: f.id, properties: { name: f.properties.name, focus: COUNTRIES[f.id] },
    geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) } }));
writeFileSync(process.argv[2], JSON.stringify({ type: "FeatureCollection", features }) + "\n");
