// TypeScript declarations from JSON Schemas with json-schema-to-typescript (run by tools/gen_bindings.py).
// Reads a JSON list of {schema, name, out} jobs on stdin; names the root type `name`, every nested object by
// its property (the schema titles are for people, not type names).
import { readFileSync, writeFileSync } from "node:fs";
import { compile } from "json-schema-to-typescript";

const pascal = (text) => text.replace(/(^|[-_.])([a-z])/g, (_, __, c) => c.toUpperCase()).replace(/[-_.]/g, "");

// Names every nested object type after its path (RefundFailedV2Detail, RefundFailedV2DetailData ...).
function nameObjects(node, name) {
  if (!node || typeof node !== "object") return;
  for (const [key, sub] of Object.entries(node.properties ?? {})) {
    if (sub && sub.type === "object") {
      sub.title = name + pascal(key);
      nameObjects(sub, sub.title);
    }
  }
}

const jobs = JSON.parse(readFileSync(0, "utf8"));
for (const job of jobs) {
  const schema = JSON.parse(readFileSync(job.schema, "utf8"));
  delete schema.title;
  delete schema.$id;
  nameObjects(schema, job.name);
  const ts = await compile(schema, job.name, {
    bannerComment: `/* ${job.name}: generated from ${job.schema.split("/schemas/")[1] ?? job.schema} by make bindings; do not edit. */`,
    additionalProperties: true,
    ignoreMinAndMaxItems: true,
    strictIndexSignatures: true,
    format: false,
  });
  writeFileSync(job.out, ts);
}
