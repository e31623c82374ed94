"use strict";
// Validate a NovaMart Payments event against its consumer schema (shipped in @novamart/payments-events).
// The schema is picked as the service picks it: detail-type and the MAJOR of detail.metadata.schemaVersion;
// a major this package does not have is refused, never guessed.
const fs = require("node:fs");
const path = require("node:path");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const compiled = new Map();

function validatorFor(detailType, major) {
  const key = `${detailType}/v${major}`;
  if (!compiled.has(key)) {
    const file = path.join(__dirname, "schemas", detailType, `v${major}.json`);
    if (!/^[a-z_.]+$/.test(detailType) || !fs.existsSync(file)) {
      return null;
    }
    compiled.set(key, ajv.compile(JSON.parse(fs.readFileSync(file, "utf8"))));
  }
  return compiled.get(key);
}

/** Returns the list of problems (empty when the event is valid). */
function problems(event) {
  const version = event && event.detail && event.detail.metadata && event.detail.metadata.schemaVersion;
  const detailType = event && event["detail-type"];
  if (typeof detailType !== "string" || typeof version !== "string" || !/^\d+\./.test(version)) {
    return ["detail-type and detail.metadata.schemaVersion (MAJOR.MINOR) select the schema"];
  }
  const check = validatorFor(detailType, Number(version.split(".")[0]));
  if (check === null) {
    return [`no schema for ${detailType} major ${version.split(".")[0]}`];
  }
  return check(event) ? [] : check.errors.map((e) => `${e.instancePath || "/"}: ${e.keyword} failed`);
}

/** Throws an Error listing every problem; returns undefined when the event is valid. */
function validate(event) {
  const found = problems(event);
  if (found.length) {
    const error = new Error(found.join("; "));
    error.problems = found;
    throw error;
  }
}

module.exports = { validate, problems };
