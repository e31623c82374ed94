// Validates docs/asyncapi.yaml with the official AsyncAPI parser and generates TypeScript models from it with
// Modelina, failing on any parser error or any model a generator would have to call AnonymousSchema_N.
// Usage: node tools/contract-js/check-asyncapi.mjs docs/asyncapi.yaml   (run by `make asyncapi-check`)
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";
import { TypeScriptGenerator } from "@asyncapi/modelina";

const file = process.argv[2];
const SEVERITY = ["error", "warning", "info", "hint"];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"), { source: file });
for (const d of diagnostics) {
  console.log(`${SEVERITY[d.severity]} ${d.code} ${d.path.join("/")}: ${d.message}`);
}
const errors = diagnostics.filter((d) => d.severity === 0);
if (!document || errors.length) {
  console.error(`asyncapi-check: ${file} has ${errors.length} parser error(s)`);
  process.exit(1);
}
const models = await new TypeScriptGenerator({ modelType: "interface" }).generate(document);
const names = models.map((m) => m.modelName).sort();
const anonymous = names.filter((n) => /anonymous/i.test(n));
console.log(`asyncapi-check: ${file} parsed (${diagnostics.length} non-error diagnostics); ${names.length} TypeScript models`);
if (!names.length || anonymous.length) {
  console.error(`asyncapi-check: anonymous models: ${anonymous.join(", ") || "(no models at all)"}`);
  process.exit(1);
}
console.log(names.join(" "));
