// Validate rendered Gateway API and cert-manager objects against the schemas
// shipped in @kubernetes-models/gateway-api and @kubernetes-models/cert-manager.
//
//   node validate.mjs FILE.yaml [FILE.yaml ...]
//
// One line per object: "ok kind/name", "FAIL kind/name: reason", or
// "skip kind/name" for kinds neither package has a schema for (e.g. Kong's
// KongPlugin, built-in kinds). Exit 0 all ok/skipped, 1 any FAIL, 2 usage
// error (no arguments, unreadable file, YAML that does not parse).
//
// Limits of these schemas (checked against the installed versions):
// - Unknown fields are NOT rejected. The validators are precompiled ajv code
//   generated from the upstream Go API types; no schema sets
//   additionalProperties: false and validate() takes no options, so there is
//   no strict mode to turn on. A misspelt optional field passes.
// - CEL rules (x-kubernetes-validations, e.g. "an HTTPS listener needs tls")
//   are not checked (upstream kubernetes-models-ts issue #259).
// Types, required fields, enums, patterns, min/max are checked.
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import * as gatewayApi from "@kubernetes-models/gateway-api";
import * as certManager from "@kubernetes-models/cert-manager";

// Both packages export namespaces group -> version -> classes; every model
// class carries static apiVersion and kind. Collect them all, so any kind the
// packages cover (not just the ones we render today) is validated, not skipped.
const models = new Map();
function collect(ns, depth) {
  for (const value of Object.values(ns)) {
    if (typeof value === "function" && typeof value.apiVersion === "string" && typeof value.kind === "string") {
      models.set(`${value.apiVersion}/${value.kind}`, value);
    } else if (value && typeof value === "object" && depth < 3) {
      collect(value, depth + 1);
    }
  }
}
collect(gatewayApi, 0);
collect(certManager, 0);
// API groups the packages cover: an unknown kind/version in one of these is a
// typo the API server would reject, so it FAILs instead of being skipped.
const groups = new Set([...models.keys()].map((key) => key.split("/")[0]));

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml [FILE.yaml ...]");
  process.exit(2);
}

let failed = false;
for (const file of files) {
  let docs;
  try {
    // CORE_SCHEMA: plain JSON-like values only (no Date objects for
    // timestamp-looking strings, no YAML merge keys).
    docs = yaml.loadAll(readFileSync(file, "utf8"), null, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    console.error(`${file}: ${err.message}`);
    process.exit(2);
  }
  for (const obj of docs) {
    if (obj == null) continue; // empty document, e.g. a trailing "---"
    const kind = obj?.kind ?? "?";
    const label = `${kind}/${obj?.metadata?.name ?? "?"}`;
    if (typeof obj !== "object" || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      console.log(`FAIL ${label}: not a Kubernetes object (apiVersion/kind missing) in ${file}`);
      failed = true;
      continue;
    }
    const Model = models.get(`${obj.apiVersion}/${obj.kind}`);
    if (!Model && groups.has(obj.apiVersion.split("/")[0])) {
      console.log(`FAIL ${label}: no ${obj.kind} in ${obj.apiVersion} (unknown kind or version)`);
      failed = true;
      continue;
    }
    if (!Model) {
      console.log(`skip ${label}`);
      continue;
    }
    try {
      new Model(obj).validate(); // throws ValidationError listing every violation
      console.log(`ok ${label}`);
    } catch (err) {
      console.log(`FAIL ${label}: ${err?.message ?? err}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
