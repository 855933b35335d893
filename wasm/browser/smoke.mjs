// Loads the wasm-bindgen package from wasm/dist/browser (the --target web output, which runs in Node as well when
// handed the module bytes) and checks its three exports answer as documented. Run by `wasm/build.sh --check`:
//   node wasm/browser/smoke.mjs wasm/dist/browser [envelope.jws]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";

const [dir, envelopePath] = process.argv.slice(2);
const pkg = await import(resolve(dir, "nv2_wasm.js"));
pkg.initSync({ module: readFileSync(join(dir, "nv2_wasm_bg.wasm")) });

const version = JSON.parse(pkg.version());
assert.equal(version.wire, 1);
assert.match(version.package, /^\d+\.\d+\.\d+/);

const skip = {
  version: 1,
  target: {
    type: "manifest",
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    size: 2,
  },
  policy: { statement: { name: "skip", registryScopes: ["*"], signatureVerification: { level: "skip" } } },
  now: "2025-06-01T00:00:00Z",
};
const skipped = JSON.parse(pkg.verify(JSON.stringify(skip)));
assert.deepEqual(skipped.verdict.decision, { result: "skipped" });
assert.equal(skipped.verdict.accepted, true);

const strict = structuredClone(skip);
strict.policy.statement = { name: "strict", registryScopes: ["*"], signatureVerification: { level: "strict" },
  trustStores: ["ca:none"], trustedIdentities: ["*"] };
const rejected = JSON.parse(pkg.verify(JSON.stringify(strict)));
assert.deepEqual(rejected.verdict.decision, { result: "rejected", rejection: "no-signature" });
assert.equal(JSON.parse(pkg.verify("{")).error.kind, "request-invalid");
assert.equal(JSON.parse(pkg.verify('{"version":2}')).error.kind, "unsupported-version");

assert.equal(JSON.parse(pkg.inspect(new Uint8Array([1, 2, 3]))).error.kind, "envelope-invalid");
if (envelopePath) {
  const view = JSON.parse(pkg.inspect(readFileSync(envelopePath), "jws")).envelope;
  assert.ok(view, "the envelope decodes");
  assert.equal(view.format, "jws");
  assert.ok(view.certificateChain.length > 0 && view.certificateChain[0].subject);
  console.log(`browser package: ${view.algorithm} envelope from ${view.certificateChain[0].subject}`);
}
console.log("browser package: 7 passed, 0 failed");
