// Parse a Mermaid file with Mermaid's own parser (run by tests/test_graph.py when
// `make mermaid-parser` has installed mermaid and jsdom). Usage:
//   node tests/mermaid_parse.mjs NODE_MODULES_PARENT FILE.mmd
// Prints {"ok": true, "nodes": N, "edges": M} or {"ok": false, "error": "..."}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, file] = process.argv.slice(2);
const require = createRequire(join(dir, "package.json"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import(pathToFileURL(require.resolve("mermaid")).href);
mermaid.initialize({ startOnLoad: false }); // default limits: maxEdges 500, maxTextSize 50000
const text = readFileSync(file, "utf8");
try {
  await mermaid.parse(text);
  const { db } = await mermaid.mermaidAPI.getDiagramFromText(text);
  const vertices = db.getVertices();
  const ids = vertices instanceof Map ? [...vertices.keys()] : Object.keys(vertices);
  console.log(JSON.stringify({ ok: true, nodes: ids.length, edges: db.getEdges().length }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error.message || error).slice(0, 400) }));
}
