#!/usr/bin/env bash
# Rebuilds the query page's assets in src/kg/web/static/ from the npm packages pinned in package-lock.json.
# Needs node and npm (the npm registry only); the results are committed, so serving never needs either.
set -euo pipefail
cd "$(dirname "$0")"
static=../static
npm ci --no-audit --no-fund
# YASGUI as its authors build it (editor, tabs, table and raw views).
cp node_modules/@zazuko/yasgui/build/yasgui.min.js node_modules/@zazuko/yasgui/build/yasgui.min.css "$static/"
# The page's own code and the Timeline, Map, Graph and BarChart views, with the parts of d3 they use.
npx esbuild src/query.js --bundle --minify --format=iife --target=es2020 --legal-comments=eof \
  --outfile="$static/query.js"
node geometry.mjs "$static/maghreb.json"
# The licences of everything the assets contain, shipped beside them.
node licenses.mjs "$static/THIRD-PARTY-LICENSES.txt"
# axe-core for the browser tests' accessibility checks (injected by the tests, never served).
cp node_modules/axe-core/axe.min.js ../../../../tests/fixtures/axe.min.js
ls -l "$static"/yasgui.min.js "$static"/yasgui.min.css "$static"/query.js "$static"/maghreb.json \
  "$static"/THIRD-PARTY-LICENSES.txt
