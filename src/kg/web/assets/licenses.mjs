// Writes the licences of the npm packages whose code or data the built assets contain (YASGUI and what it bundles,
// d3, topojson-client, world-atlas) to the file named on the command line, so they ship beside the assets.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";

// Used to build or to test, never shipped: esbuild builds, axe-core runs in the browser tests only.
const NOT_SHIPPED = /^(esbuild|@esbuild\/.*|axe-core|topojson-client|@types\/.*)$/;
const root = new URL("node_modules/", import.meta.url);
const names = readdirSync(root).filter((n) => !n.startsWith("."))
  .flatMap((n) => (n.startsWith("@") ? readdirSync(new URL(n + "/", root)).map((m) => `${n}/${m}`) : [n]))
  .filter((n) => !NOT_SHIPPED.test(n) && existsSync(new URL(n + "/package.json", root))).sort();
const sections = names.map((name) => {
  const folder = new URL(name + "/", root);
  const manifest = JSON.parse(readFileSync(new URL("package.json", folder)));
  const { version } = manifest;
  const license = manifest.license || (manifest.licenses || []).map((l) => l.type).join(" OR ") || "no licence stated";
  const file = readdirSync(folder).find((f) => /^(licen[cs]e|copying)/i.test(f));
  const text = file ? readFileSync(new URL(file, folder), "utf8").trim() : `${license} (no licence file in the package)`;
  return `${name} ${version} — ${license}\n\n${text}\n`;
});
writeFileSync(process.argv[2], "Licences of the third-party code and data in this folder (see src/kg/web/assets/README.md)."
  + "\nThe map boundaries are Natural Earth data (public domain), as packaged by world-atlas.\n\n"
  + sections.join("\n" + "-".repeat(78) + "\n\n"));
