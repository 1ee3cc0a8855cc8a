// tests/tools/k8s-validate.mjs - validates Kubernetes objects against the Kubernetes API's own
// OpenAPI schemas, as compiled into the npm package kubernetes-models (pinned in package.json;
// its README names the Kubernetes release they come from). Reads a JSON array of objects on
// stdin; prints a JSON array of {kind, name, error} (error null when valid). Exit 0 when every
// object is valid, 1 when one is not, 2 when a kind has no schema here.
// What the schemas check: required fields, types, enums and formats; not unknown fields (the
// package's schemas allow them, as the API server's non-strict mode does).
import { readFileSync } from "node:fs";
const docs = JSON.parse(readFileSync(0, "utf8"));
const out = [];
let status = 0;
for (const doc of docs) {
  const path = `kubernetes-models/${doc.apiVersion}/${doc.kind}`;   // apiVersion "apps/v1", "v1"
  let Model;
  try {
    Model = (await import(path))[doc.kind];
  } catch (e) {
    Model = null;
  }
  if (!Model) {
    out.push({ kind: doc.kind, name: doc.metadata?.name, error: `no schema for ${doc.apiVersion} ${doc.kind}` });
    status = 2;
    continue;
  }
  try {
    new Model(doc).validate();
    out.push({ kind: doc.kind, name: doc.metadata?.name, error: null });
  } catch (e) {
    out.push({ kind: doc.kind, name: doc.metadata?.name, error: String(e.message || e) });
    if (status === 0) status = 1;
  }
}
console.log(JSON.stringify(out));
process.exit(status);
