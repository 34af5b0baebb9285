// ---------------------------------------------------------------------------------------------------
// Browser glue (appended to core.mjs, without its `export`s, to make src/glasnost/bundle/verify_browser.js):
// WebCrypto for SHA-256 and Ed25519, DecompressionStream for deflate, the schemas (BUNDLE_SCHEMAS, put
// before this by the build) checked by core's small validator; no network. A page that inlines this gives an
// <input type="file" id="glasnost-bundle-file"> and an element id="glasnost-bundle-result"; a bundle
// dropped anywhere on the page is verified too.
// ---------------------------------------------------------------------------------------------------

const browserEnv = {
  validate: schemaValidator(BUNDLE_SCHEMAS),
  sha256: async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
  ed25519Verify: async (publicKey, signature, message) => {
    let key;
    try {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      if (e && e.name === "NotSupportedError") {
        throw new Invalid("unsupported", "this browser's WebCrypto has no Ed25519; verify with node verifiers/js/verify.mjs");
      }
      return false;
    }
    try {
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch {
      return false;
    }
  },
  inflateRaw: async (bytes, maxOutput) => {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    const reader = stream.getReader();
    const chunks = [];
    let total = 0;
    while (true) {
      const { done, value } = await reader.read(); // throws on damage and on data after the stream
      if (done) break;
      total += value.length;
      if (total > maxOutput) {
        await reader.cancel();
        throw new Error("decompresses past the size limit");
      }
      chunks.push(value);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  },
};

async function verifyDroppedFile(file, show) {
  show("checking " + file.name + " …", "", file.name);
  if (file.size > LIMITS.compressed) {
    show("not verified: container: the file is over the size limit for a bundle", "invalid", file.name);
    return;
  }
  const data = new Uint8Array(await file.arrayBuffer());
  const result = await verifyBundle(data, browserEnv, {});
  if (result.ok) {
    show("verified: signed by " + result.fingerprint + " (self-declared name: " + result.auditor + "), root " + result.root
      + ", " + result.responses + " responses; hashes, signature, canonical form, schemas and every summary figure checked", "verified", file.name);
  } else {
    show("not verified: " + result.reason + ": " + result.message, "invalid", file.name);
  }
}

(function attach() {
  if (typeof document === "undefined") return;
  const input = document.getElementById("glasnost-bundle-file");
  const out = document.getElementById("glasnost-bundle-result");
  if (!out) return;
  const show = (text, state, name) => {
    out.textContent = text; // never innerHTML: names and messages come from the bundle
    out.setAttribute("data-state", state);
    out.setAttribute("data-file", name);
  };
  if (input) input.addEventListener("change", () => input.files && input.files[0] && verifyDroppedFile(input.files[0], show));
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (file) verifyDroppedFile(file, show);
  });
})();
