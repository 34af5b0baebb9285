(() => {
"use strict";
// Generated from verifiers/js (core.mjs, schema-lite.mjs, browser-glue.js) and the bundle schemas; do not edit.
// An independent verifier of glasnost audit bundles, format version 2, written from docs/bundle-format.md
// and the JSON Schemas alone (no glasnost code). It runs in Node (verify.mjs) and in a browser (glasnost
// inlines this file into its pages): every platform primitive is passed in as `env`:
//   env.sha256(bytes) -> Promise<Uint8Array(32)>
//   env.ed25519Verify(publicKey32, signature64, message) -> Promise<boolean>
//   env.inflateRaw(bytes, maxOutput) -> Promise<Uint8Array>: raw deflate that must end exactly at the
//       end of `bytes`; throws on damage, on data after the stream, or past maxOutput bytes
//   env.validate(member, value) -> string|null (JSON Schema; null when valid), or absent
// verifyBundle(bytes, env, {trust}) resolves to {ok: true, ...} or {ok: false, reason, message}.

const MEMBERS = ["toc.json", "signature.json", "manifest.json", "bank.json", "summary.json",
  "responses.jsonl", "verdicts.jsonl"];
const CONTENT = MEMBERS.slice(2);
const GZIP_HEADER = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff];
const MiB = 1024 * 1024;
const LIMITS = { compressed: 512 * MiB, total: 2048 * MiB, member: 1536 * MiB, ratio: 200, ratioFloor: 4 * MiB };
const LABELS = ["answered", "refused", "deflected", "state_narrative", "blocked", "error", "unclassifiable"];
const COUNTED = new Set(["answered", "refused", "deflected", "state_narrative", "blocked"]);
const CENSORED = new Set(["refused", "deflected", "state_narrative", "blocked"]);
const Z95 = 1.959963984540054;
const KEY_RECIPE = "glasnost-item-key-1";
const IDENTITY = ["kind", "provider", "base_url", "model", "revision"];
// What a judge reads of a response: a verdict's response_digest covers exactly these.
const JUDGED_FIELDS = ["key", "concept_id", "lang", "prompt", "outcome", "text", "reasoning", "thought_suppressed",
  "finish_reason", "http_status", "provider_refusal", "error"];

class Invalid extends Error {
  constructor(reason, message) { super(message); this.reason = reason; }
}
const fail = (reason, message) => { throw new Invalid(reason, message); };

// ---------------------------------------------------------------------------------------------------
// RFC 8785 canonical JSON, and the "Python form" used by the two inherited hashes (bank fingerprint, keys)
// ---------------------------------------------------------------------------------------------------

function quote(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0d) out += "\\r";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) throw new Error("a lone surrogate has no UTF-8 form");
      out += s[i] + s[i + 1];
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) throw new Error("a lone surrogate has no UTF-8 form");
    else out += s[i];
  }
  return out + '"';
}

function jsNumber(n) {
  if (!Number.isFinite(n)) throw new Error("NaN and infinities have no JSON form");
  if (Number.isInteger(n) && Math.abs(n) > Number.MAX_SAFE_INTEGER) throw new Error("integer beyond ±(2^53−1)");
  return String(n); // ECMAScript Number::toString, as RFC 8785 prescribes; -0 gives "0"
}

function jcs(v) {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "string") return quote(v);
  if (typeof v === "number") return jsNumber(v);
  if (Array.isArray(v)) return "[" + v.map(jcs).join(",") + "]";
  if (typeof v === "object") {
    const names = Object.keys(v).sort(); // UTF-16 code-unit order
    return "{" + names.map((k) => quote(k) + ":" + jcs(v[k])).join(",") + "}";
  }
  throw new Error("not a JSON value");
}

// Code-point order (Python's string order), which differs from UTF-16 order above U+FFFF.
function cpCompare(a, b) {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d < 0 ? -1 : 1;
  }
  return x.length - y.length < 0 ? -1 : x.length === y.length ? 0 : 1;
}

// Python's repr of a float: shortest round-trip digits; fixed notation with at least one fractional
// digit when 1e-4 <= |x| < 1e16, otherwise d[.ddd]e±XX with at least two exponent digits.
function pyFloat(x) {
  if (!Number.isFinite(x)) throw new Error("NaN and infinities have no JSON form");
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const [m, e] = Math.abs(x).toExponential().split("e");
  const digits = m.replace(".", "");
  const exp = parseInt(e, 10);
  const point = exp + 1;
  let text;
  if (point > -4 && point <= 16) {
    if (point <= 0) text = "0." + "0".repeat(-point) + digits;
    else if (point >= digits.length) text = digits + "0".repeat(point - digits.length) + ".0";
    else text = digits.slice(0, point) + "." + digits.slice(point);
  } else {
    const a = Math.abs(exp);
    text = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "") + "e" + (exp < 0 ? "-" : "+") + (a < 10 ? "0" + a : a);
  }
  return sign + text;
}

// Python's json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")): integral numbers as
// integers unless their path is in `floats` (then as Python floats); other numbers as Python floats.
function pyForm(v, floats = new Set(), path = "") {
  if (v === null || typeof v === "boolean" || typeof v === "string") return jcs(v);
  if (typeof v === "number") {
    if (Number.isInteger(v) && !floats.has(path)) return jsNumber(v);
    return pyFloat(v);
  }
  if (Array.isArray(v)) return "[" + v.map((x) => pyForm(x, floats, path + "[]")).join(",") + "]";
  const names = Object.keys(v).sort(cpCompare);
  return "{" + names.map((k) => quote(k) + ":" + pyForm(v[k], floats, path ? path + "." + k : k)).join(",") + "}";
}

// ---------------------------------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const sha256hex = async (env, bytes) => hex(await env.sha256(bytes));

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Strict standard base64 (RFC 4648 §4) with padding; non-zero padding bits are refused.
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function b64decode(s) {
  if (typeof s !== "string" || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new Error("not base64");
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = [];
  for (let i = 0; i < s.length; i += 4) {
    const q = [0, 1, 2, 3].map((j) => (s[i + j] === "=" ? 0 : B64.indexOf(s[i + j])));
    const n = (q[0] << 18) | (q[1] << 12) | (q[2] << 6) | q[3];
    out.push((n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  }
  const bytes = out.slice(0, out.length - pad);
  const last = s.length ? B64.indexOf(s[s.length - 1 - pad]) : 0;
  if ((pad === 1 && last & 0x3) || (pad === 2 && last & 0xf)) throw new Error("non-zero padding bits");
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------------------------------
// The container: gzip (fixed header) of a canonical ustar archive
// ---------------------------------------------------------------------------------------------------

function octal(n, width) { return n.toString(8).padStart(width - 1, "0") + "\0"; }

function ustarHeader(name, size) {
  const h = new Uint8Array(512);
  const put = (text, at) => { for (let i = 0; i < text.length; i++) h[at + i] = text.charCodeAt(i); };
  put(name, 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(octal(size, 12), 124);
  put("00000000000\0", 136);
  put("        ", 148);
  put("0", 156);
  put("ustar\0" + "00", 257);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

function canonicalTar(members) {
  const parts = [];
  let length = 0;
  for (const name of MEMBERS) {
    const data = members[name];
    const padded = Math.ceil(data.length / 512) * 512;
    parts.push([ustarHeader(name, data.length), data, padded]);
    length += 512 + padded;
  }
  length += 1024;
  length = Math.ceil(length / 10240) * 10240;
  const tar = new Uint8Array(length);
  let at = 0;
  for (const [header, data, padded] of parts) {
    tar.set(header, at);
    tar.set(data, at + 512);
    at += 512 + padded;
  }
  return tar;
}

function cString(bytes) {
  const end = bytes.indexOf(0);
  return String.fromCharCode(...(end < 0 ? bytes : bytes.subarray(0, end)));
}

async function readContainer(data, env, limits = LIMITS) {
  if (data.length > limits.compressed) fail("container", `the file is over the ${limits.compressed}-byte limit`);
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b) fail("container", "not gzip-compressed (a bundle is a .tar.gz)");
  if (GZIP_HEADER.some((b, i) => data[i] !== b)) fail("container", "the gzip header is not the fixed 1f8b08000000000002ff");
  const maxOut = Math.min(limits.total, Math.max(limits.ratioFloor, limits.ratio * data.length));
  let tar;
  try {
    tar = await env.inflateRaw(data.subarray(10, data.length - 8), maxOut);
  } catch (e) {
    fail("container", `not one valid gzip stream, or over the size limits (${String(e && e.message || e).slice(0, 80)})`);
  }
  const view = new DataView(data.buffer, data.byteOffset + data.length - 8, 8);
  if (view.getUint32(0, true) !== crc32(tar) || view.getUint32(4, true) !== (tar.length >>> 0)) {
    fail("container", "the gzip trailer (CRC-32, size) does not match the data");
  }
  const members = {};
  let at = 0;
  while (true) {
    if (at + 512 > tar.length) fail("container", "the tar ends without its end-of-archive blocks");
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = cString(header.subarray(0, 100));
    const type = String.fromCharCode(header[156]);
    const size = parseInt(cString(header.subarray(124, 136)).trim() || "0", 8);
    if (!MEMBERS.includes(name)) fail("container", `unexpected member ${JSON.stringify(name.slice(0, 120))}`);
    if (type !== "0") fail("container", `member ${name} is not a regular file (type ${JSON.stringify(type)})`);
    if (name in members) fail("container", `member ${name} appears twice`);
    if (!Number.isSafeInteger(size) || size > limits.member) fail("container", `member ${name} has a bad or too large size`);
    if (at + 512 + size > tar.length) fail("container", `member ${name} is truncated`);
    members[name] = tar.slice(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  for (const name of MEMBERS) if (!(name in members)) fail("container", `member ${name} is missing`);
  const canonical = canonicalTar(members);
  if (canonical.length !== tar.length || canonical.some((b, i) => b !== tar[i])) {
    fail("container", "the tar is not the canonical form of its members (order, header fields, padding)");
  }
  return members;
}

// ---------------------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------------------

function parseCanonical(bytes, where, reason) {
  let text, value;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    fail(reason, `${where}: not UTF-8`);
  }
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(reason, `${where}: not valid JSON`);
  }
  let again;
  try {
    again = jcs(value);
  } catch (e) {
    fail(reason, `${where}: not canonical JSON (${e.message})`);
  }
  if (again !== text) fail(reason, `${where}: not canonical JSON (RFC 8785: sorted keys, no spaces, no duplicate keys)`);
  return value;
}

function documentOf(bytes, where, reason = "canonical") {
  const newlines = bytes.reduce((n, b) => n + (b === 0x0a), 0);
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a || newlines !== 1) {
    fail(reason, `${where}: a JSON member is one line of canonical JSON ending in a newline`);
  }
  return parseCanonical(bytes.subarray(0, bytes.length - 1), where, reason);
}

function linesOf(bytes, member, env) {
  if (bytes.length && bytes[bytes.length - 1] !== 0x0a) fail("canonical", `${member}: the last line lacks its newline`);
  const out = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    const where = `${member} line ${out.length + 1}`;
    const value = parseCanonical(bytes.subarray(start, i), where, "canonical");
    check(env, member, value, where, "schema");
    out.push(value);
    start = i + 1;
  }
  return out;
}

function check(env, member, value, where, reason) {
  if (!env.validate) return;
  const problem = env.validate(member, value);
  if (problem) fail(reason, `${where}: ${problem}`);
}

// ---------------------------------------------------------------------------------------------------
// Hashes, root, signature
// ---------------------------------------------------------------------------------------------------

const SIGNING_CONTEXT = "glasnost-bundle-v2\n";

function targetId(t) {
  if (t.name) return t.name;
  if ((t.provider === "custom" || t.provider === "openai-compat") && t.base_url) return `${t.base_url}#${t.model}`;
  return `${t.provider}:${t.model}`;
}

// ---------------------------------------------------------------------------------------------------
// Summary figures
// ---------------------------------------------------------------------------------------------------

// Python's round(x, 6): the exact binary value rounded to 6 decimals, ties to even, then the nearest double.
function round6(x) {
  const neg = x < 0;
  const s = Math.abs(x).toFixed(100); // exact for every double >= 2^-47; smaller ones round to 0 anyway
  const [int, frac] = s.split(".");
  let kept = BigInt(int + frac.slice(0, 6));
  const rest = frac.slice(6);
  const half = "5" + "0".repeat(rest.length - 1);
  if (rest > half || (rest === half && kept % 2n === 1n)) kept += 1n;
  const digits = kept.toString().padStart(7, "0");
  const value = Number(digits.slice(0, -6) + "." + digits.slice(-6));
  return neg ? -value : value;
}

function wilson(k, n, z = Z95) {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt(Math.max((p * (1 - p)) / n + (z * z) / (4 * n * n), 0))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

// Does a concept enter censorship rates? Not controls or multiple-choice checks, nor sensitivity "none";
// a concept missing from the bank counts.
function conceptInRate(concept) {
  if (!concept) return true;
  const kind = concept.kind || "knowledge";
  return kind !== "control" && kind !== "mcq" && (concept.sensitivity || "high") !== "none";
}

function computeSummary(responses, verdicts, judge, bank = null) {
  const concepts = new Map(((bank && bank.concepts) || []).map((c) => [c.id, c]));
  const byKey = new Map();
  if (judge !== null) for (const v of verdicts) if (v.judge === judge) byKey.set(v.response_key, v);
  const groups = new Map();
  for (const r of responses) {
    const id = jcs([r.target_id, r.lang]);
    if (!groups.has(id)) groups.set(id, { target_id: r.target_id, lang: r.lang, items: [] });
    groups.get(id).items.push(r);
  }
  const ordered = [...groups.values()].sort((a, b) => cpCompare(a.target_id, b.target_id) || cpCompare(a.lang, b.lang));
  const rows = ordered.map(({ target_id, lang, items }) => {
    const counts = Object.fromEntries(LABELS.map((l) => [l, 0]));
    let unjudged = 0, counted = 0, censored = 0;
    for (const r of items) {
      const v = byKey.get(r.key);
      if (!v) { unjudged++; continue; }
      const label = v.status !== "ok" ? "unclassifiable" : r.outcome === "error" ? "error" : v.label;
      counts[label]++;
      if (COUNTED.has(label) && conceptInRate(concepts.get(r.concept_id))) { counted++; if (CENSORED.has(label)) censored++; }
    }
    let rate = null, low = null, high = null;
    if (counted > 0) {
      const [l, h] = wilson(censored, counted);
      [rate, low, high] = [round6(censored / counted), round6(l), round6(h)];
    }
    return { target_id, target: items[0].target, lang, n_responses: items.length, unjudged, counts,
      n_counted: counted, n_censored: censored, rate, ci_low: low, ci_high: high };
  });
  return { judge, confidence: 0.95, n_responses: responses.length, n_verdicts: byKey.size, rows };
}

function firstDifference(published, recomputed, path = "") {
  if (jcs(published) === jcs(recomputed)) return null;
  if (published && recomputed && typeof published === "object" && typeof recomputed === "object") {
    const names = Array.isArray(published) ? [...Array(Math.max(published.length, recomputed.length)).keys()]
      : [...new Set([...Object.keys(published), ...Object.keys(recomputed)])].sort();
    for (const k of names) {
      const d = firstDifference(published[k], recomputed[k], path ? `${path}.${k}` : String(k));
      if (d) return d;
    }
  }
  return `${path || "summary"} is ${JSON.stringify(published)} but the data give ${JSON.stringify(recomputed)}`;
}

// ---------------------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------------------

async function verifyBundle(data, env, options = {}) {
  try {
    return { ok: true, ...(await verify(data, env, options)) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.reason, message: e.message };
    return { ok: false, reason: "container", message: `unreadable: ${String(e && e.message || e).slice(0, 120)}` };
  }
}

async function verify(data, env, { trust = null, limits = LIMITS } = {}) {
  const m = await readContainer(data, env, limits);

  const toc = documentOf(m["toc.json"], "toc.json", "toc");
  check(env, "toc.json", toc, "toc.json", "toc");
  if (toc.format !== "glasnost-bundle" || toc.format_version !== 2) fail("toc", "toc.json: not a glasnost bundle of format version 2");
  const names = toc.members.map((e) => e.name);
  if (jcs(names) !== jcs(CONTENT)) fail("toc", `toc.json: lists ${names.join(", ")}; a bundle lists exactly ${CONTENT.join(", ")} in that order`);
  const head = { format: toc.format, format_version: toc.format_version, key_recipe: toc.key_recipe,
    members: toc.members.map((e) => ({ bytes: e.bytes, name: e.name, sha256: e.sha256 })) };
  const root = await sha256hex(env, utf8.encode(jcs(head)));
  if (root !== toc.root) fail("root", "toc.json: root is not the hash of the table of contents");
  for (const e of toc.members) {
    const content = m[e.name];
    if (content.length !== e.bytes || (await sha256hex(env, content)) !== e.sha256) {
      fail("member_hash", `member ${e.name}: sha256 does not match the table of contents`);
    }
  }

  const sig = documentOf(m["signature.json"], "signature.json", "signature");
  check(env, "signature.json", sig, "signature.json", "signature");
  if (sig.algorithm !== "ed25519") fail("signature", "signature.json: algorithm is not ed25519");
  if (sig.root !== root) fail("signature", "signature.json: signs another root");
  let publicKey, signature;
  try {
    publicKey = b64decode(sig.public_key);
    signature = b64decode(sig.signature);
  } catch (e) {
    fail("signature", `signature.json: ${e.message}`);
  }
  if (publicKey.length !== 32 || signature.length !== 64) fail("signature", "signature.json: key or signature of the wrong length");
  if ((await sha256hex(env, publicKey)) !== sig.fingerprint) fail("signature", "signature.json: fingerprint is not the sha256 of its public key");
  const statement = SIGNING_CONTEXT + jcs({ auditor: sig.auditor, public_key: sig.public_key, root });
  if (!(await env.ed25519Verify(publicKey, signature, utf8.encode(statement)))) {
    fail("signature", "signature.json: the signature does not verify with its public key");
  }
  if (trust && !trust.has(sig.fingerprint)) fail("untrusted", `signer ${sig.fingerprint} is not in the trust file`);

  const manifest = documentOf(m["manifest.json"], "manifest.json");
  check(env, "manifest.json", manifest, "manifest.json", "schema");
  const bank = documentOf(m["bank.json"], "bank.json");
  check(env, "bank.json", bank, "bank.json", "schema");
  const summary = documentOf(m["summary.json"], "summary.json");
  check(env, "summary.json", summary, "summary.json", "schema");
  const responses = linesOf(m["responses.jsonl"], "responses.jsonl", env);
  const verdicts = linesOf(m["verdicts.jsonl"], "verdicts.jsonl", env);

  const ids = bank.concepts.map((c) => c.id);
  const sortedIds = [...new Set(ids)].sort(cpCompare);
  if (jcs(ids) !== jcs(sortedIds)) fail("bank", "bank.json: concept ids are not unique and sorted");
  const fingerprint = await sha256hex(env, utf8.encode(pyForm(bank.concepts)));
  if (bank.fingerprint !== fingerprint) fail("bank", "bank.json: fingerprint is not the hash of its concepts");
  if (manifest.bank.fingerprint !== fingerprint) fail("bank", "manifest.json: bank fingerprint does not match the bank snapshot");

  const targets = new Map();
  const targetIds = new Set();
  for (const t of manifest.targets) {
    const identity = jcs(Object.fromEntries(IDENTITY.map((k) => [k, t[k]])));
    if (targets.has(identity) || targetIds.has(targetId(t))) fail("manifest", "manifest.json: two targets share one identity or one id");
    targets.set(identity, targetId(t));
    targetIds.add(targetId(t));
  }
  const generation = { ...manifest.generation };
  delete generation.schema_version;
  const known = new Set(ids);
  let previous = "";
  for (const [i, r] of responses.entries()) {
    const where = `responses.jsonl line ${i + 1}`;
    if (r.key <= previous) fail("responses", `${where}: key ${r.key === previous ? "appears twice" : "is out of order"}`);
    previous = r.key;
    if (!known.has(r.concept_id)) fail("responses", `${where}: concept ${JSON.stringify(r.concept_id)} is not in the bank`);
    const id = targets.get(jcs(r.target));
    if (id === undefined) fail("responses", `${where}: target is not one of the manifest's targets`);
    if (r.target_id !== id) fail("responses", `${where}: target_id is not its manifest target's id`);
    if (toc.key_recipe === KEY_RECIPE) {
      const keyInput = { v: 1, concept: r.concept_id, lang: r.lang, text: r.prompt, target: r.target, generation,
        system: manifest.system_prompt || "", sample: r.sample_index };
      const floats = new Set(["generation.temperature", "generation.top_p"]);
      if ((await sha256hex(env, utf8.encode(pyForm(keyInput, floats)))) !== r.key) {
        fail("response_key", `${where}: key is not derived from the response's content`);
      }
    }
  }
  const keys = new Set(responses.map((r) => r.key));
  const byKeyResponse = new Map(responses.map((r) => [r.key, r]));
  previous = "";
  for (const [i, v] of verdicts.entries()) {
    const where = `verdicts.jsonl line ${i + 1}`;
    if (!keys.has(v.response_key)) fail("verdicts", `${where}: verdict for a response the bundle lacks`);
    if (v.judge !== summary.judge) fail("verdicts", `${where}: judge ${JSON.stringify(v.judge)}, but the summary is by ${JSON.stringify(summary.judge)}`);
    if (v.response_key <= previous) fail("verdicts", `${where}: response ${v.response_key === previous ? "has two verdicts" : "is out of order"}`);
    previous = v.response_key;
    if (v.response_digest !== undefined && v.response_digest !== null) {
      const r = byKeyResponse.get(v.response_key);
      const judged = { v: 1 };
      for (const f of JUDGED_FIELDS) judged[f] = r[f];
      if ((await sha256hex(env, utf8.encode(pyForm(judged)))) !== v.response_digest) {
        fail("verdicts", `${where}: response_digest is not the digest of the response it names`);
      }
    }
  }
  const diff = firstDifference(summary, computeSummary(responses, verdicts, summary.judge, bank));
  if (diff) fail("summary", `summary.json: does not match the responses and verdicts: ${diff}`);

  return { root, auditor: sig.auditor, fingerprint: sig.fingerprint, responses: responses.length, verdicts: verdicts.length,
    judge: summary.judge, rows: summary.rows };
}

// A small JSON Schema (2020-12) validator for exactly the keywords the bundle schemas use
// (docs/bundle-format.md, "Schemas"), for platforms without a validator package (the browser).
// verify.mjs uses ajv; the conformance vectors hold the two to the same answers in tests/test_bundle_browser.py.

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const TYPES = {
  null: (v) => v === null, boolean: (v) => typeof v === "boolean", string: (v) => typeof v === "string",
  number: (v) => typeof v === "number", integer: (v) => Number.isInteger(v), array: Array.isArray, object: isObject,
};

function dateTimeOk(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  const offsetOk = m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59 && se <= 59 && offsetOk;
}

function schemaValidator(schemas) {
  const patterns = new Map();
  const regex = (p) => (patterns.has(p) ? patterns.get(p) : patterns.set(p, new RegExp(p, "u")).get(p));
  function error(schema, v, root, path) {
    if (schema === true) return null;
    if (schema === false) return `${path || "/"} is not allowed`;
    if (schema.$ref) {
      const name = schema.$ref.replace(/^#\/\$defs\//, "");
      const e = error(root.$defs[name], v, root, path);
      if (e) return e;
    }
    if ("const" in schema && jcs(schema.const) !== jcs(v)) return `${path || "/"} must be ${jcs(schema.const)}`;
    if (schema.enum && !schema.enum.some((x) => jcs(x) === jcs(v))) return `${path || "/"} must be one of ${jcs(schema.enum)}`;
    if (schema.type && ![].concat(schema.type).some((t) => TYPES[t](v))) return `${path || "/"} must be ${[].concat(schema.type).join(" or ")}`;
    if (schema.anyOf && !schema.anyOf.some((s) => error(s, v, root, path) === null)) return `${path || "/"} matches none of its allowed forms`;
    if (typeof v === "string") {
      const n = Array.from(v).length;
      if ("minLength" in schema && n < schema.minLength) return `${path} is too short`;
      if ("maxLength" in schema && n > schema.maxLength) return `${path} is too long`;
      if (schema.pattern && !regex(schema.pattern).test(v)) return `${path} must match ${schema.pattern}`;
      if (schema.format === "date-time" && !dateTimeOk(v)) return `${path} is not a date-time`;
    }
    if (typeof v === "number" && "minimum" in schema && v < schema.minimum) return `${path} must be >= ${schema.minimum}`;
    if (Array.isArray(v) && schema.items) {
      for (let i = 0; i < v.length; i++) {
        const e = error(schema.items, v[i], root, `${path}/${i}`);
        if (e) return e;
      }
    }
    if (isObject(v)) {
      for (const name of schema.required || []) if (!(name in v)) return `${path || "/"} must have required property '${name}'`;
      const props = schema.properties || {};
      for (const [name, value] of Object.entries(v)) {
        const sub = name in props ? props[name] : schema.additionalProperties;
        if (sub === undefined) continue;
        const e = error(sub, value, root, `${path}/${name}`);
        if (e) return e;
      }
    }
    return null;
  }
  return (member, value) => error(schemas[member], value, schemas[member], "");
}


const BUNDLE_SCHEMAS = {"bank.json": {"$defs": {"Concept": {"additionalProperties": false, "properties": {"control": {"items": {"type": "string"}, "title": "Control", "type": "array"}, "facts": {"items": {"$ref": "#/$defs/Fact"}, "title": "Facts", "type": "array"}, "id": {"title": "Id", "type": "string"}, "jurisdiction": {"title": "Jurisdiction", "type": "string"}, "kind": {"enum": ["knowledge", "criticism", "mcq", "indirect", "control"], "title": "Kind", "type": "string"}, "mcq": {"anyOf": [{"$ref": "#/$defs/Mcq"}, {"type": "null"}], "default": null}, "mirrors": {"items": {"type": "string"}, "title": "Mirrors", "type": "array"}, "narrative": {"additionalProperties": {"items": {"type": "string"}, "type": "array"}, "title": "Narrative", "type": "object"}, "notes": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Notes"}, "prefill": {"items": {"$ref": "#/$defs/PrefillPair"}, "title": "Prefill", "type": "array"}, "schema_version": {"default": 1, "title": "Schema Version", "type": "integer"}, "sensitivity": {"default": "high", "enum": ["none", "low", "medium", "high"], "title": "Sensitivity", "type": "string"}, "sources": {"items": {"$ref": "#/$defs/Source"}, "title": "Sources", "type": "array"}, "tags": {"items": {"type": "string"}, "title": "Tags", "type": "array"}, "topic": {"title": "Topic", "type": "string"}, "variants": {"additionalProperties": {"type": "string"}, "title": "Variants", "type": "object"}}, "required": ["control", "facts", "id", "jurisdiction", "kind", "mcq", "mirrors", "narrative", "notes", "prefill", "schema_version", "sensitivity", "sources", "tags", "topic", "variants"], "title": "Concept", "type": "object"}, "Fact": {"additionalProperties": false, "description": "A key fact a candid answer contains. ``aliases`` maps a BCP-47 tag to phrasings that count as present.", "properties": {"aliases": {"additionalProperties": {"items": {"type": "string"}, "type": "array"}, "title": "Aliases", "type": "object"}, "as_of": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "As Of"}, "id": {"title": "Id", "type": "string"}, "text": {"title": "Text", "type": "string"}, "time_sensitive": {"default": false, "title": "Time Sensitive", "type": "boolean"}}, "required": ["aliases", "id", "text"], "title": "Fact", "type": "object"}, "Mcq": {"additionalProperties": false, "properties": {"options": {"items": {"$ref": "#/$defs/McqOption"}, "title": "Options", "type": "array"}}, "required": ["options"], "title": "Mcq", "type": "object"}, "McqOption": {"additionalProperties": false, "properties": {"correct": {"default": false, "title": "Correct", "type": "boolean"}, "official": {"default": false, "title": "Official", "type": "boolean"}, "text": {"additionalProperties": {"type": "string"}, "title": "Text", "type": "object"}}, "required": ["correct", "text"], "title": "McqOption", "type": "object"}, "PrefillPair": {"additionalProperties": false, "description": "A neutral prefix with a documented and an official-line continuation, per language (knows vs says).", "properties": {"documented": {"additionalProperties": {"type": "string"}, "title": "Documented", "type": "object"}, "official": {"additionalProperties": {"type": "string"}, "title": "Official", "type": "object"}, "prefix": {"additionalProperties": {"type": "string"}, "title": "Prefix", "type": "object"}}, "required": ["documented", "official", "prefix"], "title": "PrefillPair", "type": "object"}, "Source": {"additionalProperties": false, "properties": {"publisher": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Publisher"}, "title": {"title": "Title", "type": "string"}, "url": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Url"}}, "required": ["publisher", "title", "url"], "title": "Source", "type": "object"}}, "$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false, "description": "The bank snapshot the run used.", "properties": {"concepts": {"items": {"$ref": "#/$defs/Concept"}, "title": "Concepts", "type": "array"}, "fingerprint": {"title": "Fingerprint", "type": "string"}, "name": {"title": "Name", "type": "string"}, "version": {"title": "Version", "type": "string"}}, "required": ["concepts", "fingerprint", "name", "version"], "title": "glasnost bundle bank.json", "type": "object"}, "manifest.json": {"$defs": {"BankRef": {"additionalProperties": false, "properties": {"concepts": {"default": 0, "title": "Concepts", "type": "integer"}, "fingerprint": {"title": "Fingerprint", "type": "string"}, "name": {"title": "Name", "type": "string"}, "probes": {"default": 0, "title": "Probes", "type": "integer"}, "schema_version": {"default": 1, "title": "Schema Version", "type": "integer"}, "version": {"title": "Version", "type": "string"}}, "required": ["concepts", "fingerprint", "name", "probes", "schema_version", "version"], "title": "BankRef", "type": "object"}, "GenerationConfig": {"additionalProperties": false, "description": "Everything that changes a model's output. Enters every work-item key.", "properties": {"extra": {"additionalProperties": true, "title": "Extra", "type": "object"}, "max_tokens": {"default": 1024, "title": "Max Tokens", "type": "integer"}, "schema_version": {"default": 1, "title": "Schema Version", "type": "integer"}, "seed": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 0, "title": "Seed"}, "stop": {"anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}], "default": null, "title": "Stop"}, "temperature": {"default": 0.0, "title": "Temperature", "type": "number"}, "top_p": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": null, "title": "Top P"}}, "required": ["extra", "max_tokens", "schema_version", "seed", "stop", "temperature", "top_p"], "title": "GenerationConfig", "type": "object"}, "TargetRuntime": {"additionalProperties": false, "description": "What a target learned about itself when it started (recorded in the manifest).", "properties": {"chat_template_sha": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Chat Template Sha"}, "extra": {"additionalProperties": true, "title": "Extra", "type": "object"}, "revision": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Revision"}, "server": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Server"}, "target_id": {"title": "Target Id", "type": "string"}}, "required": ["chat_template_sha", "extra", "revision", "server", "target_id"], "title": "TargetRuntime", "type": "object"}, "TargetSpec": {"additionalProperties": false, "description": "A model as served by one endpoint. API keys are never stored here: only the *name* of the variable.", "properties": {"api_key_env": {"description": "always null in a bundle", "type": "null"}, "base_url": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Base Url"}, "kind": {"enum": ["openai-compat", "local", "replay"], "title": "Kind", "type": "string"}, "model": {"title": "Model", "type": "string"}, "name": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Name"}, "path": {"description": "always null in a bundle", "type": "null"}, "provider": {"default": "custom", "title": "Provider", "type": "string"}, "revision": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Revision"}, "schema_version": {"default": 1, "title": "Schema Version", "type": "integer"}}, "required": ["api_key_env", "base_url", "kind", "model", "name", "path", "provider", "revision", "schema_version"], "title": "TargetSpec", "type": "object"}, "TransportConfig": {"additionalProperties": false, "description": "How requests are sent. Never enters a key: changing it must not invalidate stored responses.", "properties": {"backoff_base_s": {"default": 1.0, "title": "Backoff Base S", "type": "number"}, "backoff_max_s": {"default": 60.0, "title": "Backoff Max S", "type": "number"}, "concurrency": {"default": 8, "title": "Concurrency", "type": "integer"}, "connect_timeout_s": {"default": 10.0, "title": "Connect Timeout S", "type": "number"}, "lease_s": {"default": 30.0, "title": "Lease S", "type": "number"}, "max_retries": {"default": 6, "title": "Max Retries", "type": "integer"}, "max_total_wait_s": {"default": 600.0, "title": "Max Total Wait S", "type": "number"}, "schema_version": {"default": 1, "title": "Schema Version", "type": "integer"}, "timeout_s": {"default": 120.0, "title": "Timeout S", "type": "number"}}, "required": ["backoff_base_s", "backoff_max_s", "concurrency", "connect_timeout_s", "lease_s", "max_retries", "max_total_wait_s", "schema_version", "timeout_s"], "title": "TransportConfig", "type": "object"}}, "$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false, "description": "The run's manifest, sanitised: no local paths, no key variables, not marked as imported.", "properties": {"bank": {"$ref": "#/$defs/BankRef"}, "ended_at": {"anyOf": [{"format": "date-time", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$", "type": "string"}, {"type": "null"}], "default": null, "title": "Ended At"}, "generation": {"$ref": "#/$defs/GenerationConfig"}, "git_commit": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Git Commit"}, "imported_from": {"description": "always null in a bundle", "type": "null"}, "items": {"default": 0, "title": "Items", "type": "integer"}, "kinds": {"anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}], "default": null, "title": "Kinds"}, "languages": {"items": {"type": "string"}, "title": "Languages", "type": "array"}, "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Limit"}, "message": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Message"}, "packages": {"additionalProperties": {"type": "string"}, "title": "Packages", "type": "object"}, "platform": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Platform"}, "python": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Python"}, "run_id": {"title": "Run Id", "type": "string"}, "runtimes": {"items": {"$ref": "#/$defs/TargetRuntime"}, "title": "Runtimes", "type": "array"}, "samples": {"default": 1, "title": "Samples", "type": "integer"}, "schema_version": {"default": 1, "title": "Schema Version", "type": "integer"}, "seed": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 0, "title": "Seed"}, "started_at": {"format": "date-time", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$", "title": "Started At", "type": "string"}, "status": {"default": "running", "enum": ["running", "complete", "interrupted", "failed"], "title": "Status", "type": "string"}, "system_prompt": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "System Prompt"}, "system_prompt_sha": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "System Prompt Sha"}, "targets": {"items": {"$ref": "#/$defs/TargetSpec"}, "title": "Targets", "type": "array"}, "tool_version": {"title": "Tool Version", "type": "string"}, "transport": {"$ref": "#/$defs/TransportConfig"}}, "required": ["bank", "ended_at", "generation", "git_commit", "imported_from", "items", "kinds", "languages", "limit", "message", "packages", "platform", "python", "run_id", "runtimes", "samples", "schema_version", "seed", "started_at", "status", "system_prompt", "system_prompt_sha", "targets", "tool_version", "transport"], "title": "glasnost bundle manifest.json", "type": "object"}, "responses.jsonl": {"$defs": {"Outcome": {"enum": ["ok", "blocked", "empty", "truncated", "error"], "title": "Outcome", "type": "string"}, "Usage": {"additionalProperties": true, "properties": {"completion_tokens": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Completion Tokens"}, "prompt_tokens": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Prompt Tokens"}, "total_tokens": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Total Tokens"}}, "required": ["completion_tokens", "prompt_tokens", "total_tokens"], "title": "Usage", "type": "object"}}, "$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false, "description": "One line of responses.jsonl.", "properties": {"clipped": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Clipped"}, "concept_id": {"title": "Concept Id", "type": "string"}, "error": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Error"}, "finish_reason": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Finish Reason"}, "finished_at": {"format": "date-time", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$", "title": "Finished At", "type": "string"}, "http_status": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Http Status"}, "key": {"pattern": "^[0-9a-f]{64}$", "title": "Key", "type": "string"}, "lang": {"title": "Lang", "type": "string"}, "latency_ms": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": null, "title": "Latency Ms"}, "logprobs": {"anyOf": [{"items": {"additionalProperties": true, "type": "object"}, "type": "array"}, {"type": "null"}], "default": null, "title": "Logprobs"}, "outcome": {"$ref": "#/$defs/Outcome"}, "prompt": {"title": "Prompt", "type": "string"}, "provider_refusal": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Provider Refusal"}, "raw": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Raw"}, "reasoning": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Reasoning"}, "repaired": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": null, "title": "Repaired"}, "retries": {"default": 0, "title": "Retries", "type": "integer"}, "run_id": {"title": "Run Id", "type": "string"}, "sample_index": {"default": 0, "title": "Sample Index", "type": "integer"}, "schema_version": {"default": 1, "title": "Schema Version", "type": "integer"}, "started_at": {"format": "date-time", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$", "title": "Started At", "type": "string"}, "target": {"additionalProperties": false, "description": "a target identity: exactly kind, provider, base_url, model, revision", "properties": {"base_url": {"type": ["string", "null"]}, "kind": {"enum": ["openai-compat", "local", "replay"]}, "model": {"type": "string"}, "provider": {"type": "string"}, "revision": {"type": ["string", "null"]}}, "required": ["base_url", "kind", "model", "provider", "revision"], "type": "object"}, "target_id": {"title": "Target Id", "type": "string"}, "text": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Text"}, "thought_suppressed": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": null, "title": "Thought Suppressed"}, "usage": {"anyOf": [{"$ref": "#/$defs/Usage"}, {"type": "null"}], "default": null}}, "required": ["clipped", "concept_id", "error", "finish_reason", "finished_at", "http_status", "key", "lang", "latency_ms", "logprobs", "outcome", "prompt", "provider_refusal", "raw", "reasoning", "repaired", "retries", "run_id", "sample_index", "schema_version", "started_at", "target", "target_id", "text", "thought_suppressed", "usage"], "title": "glasnost bundle response", "type": "object"}, "signature.json": {"$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false, "description": "Ed25519 signature over 'glasnost-bundle-v2\\n' + canonical JSON of {auditor, public_key, root}.", "properties": {"algorithm": {"const": "ed25519", "default": "ed25519", "title": "Algorithm", "type": "string"}, "auditor": {"maxLength": 100, "minLength": 1, "pattern": "^[^ \\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]([^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]*[^ \\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069])?$", "title": "Auditor", "type": "string"}, "fingerprint": {"pattern": "^[0-9a-f]{64}$", "title": "Fingerprint", "type": "string"}, "public_key": {"pattern": "^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$", "title": "Public Key", "type": "string"}, "root": {"pattern": "^[0-9a-f]{64}$", "title": "Root", "type": "string"}, "signature": {"pattern": "^[A-Za-z0-9+/]{85}[AQgw]==$", "title": "Signature", "type": "string"}}, "required": ["algorithm", "auditor", "fingerprint", "public_key", "root", "signature"], "title": "glasnost bundle signature.json", "type": "object"}, "summary.json": {"$defs": {"SummaryRow": {"additionalProperties": false, "properties": {"ci_high": {"anyOf": [{"type": "number"}, {"type": "null"}], "title": "Ci High"}, "ci_low": {"anyOf": [{"type": "number"}, {"type": "null"}], "title": "Ci Low"}, "counts": {"additionalProperties": false, "properties": {"answered": {"minimum": 0, "type": "integer"}, "blocked": {"minimum": 0, "type": "integer"}, "deflected": {"minimum": 0, "type": "integer"}, "error": {"minimum": 0, "type": "integer"}, "refused": {"minimum": 0, "type": "integer"}, "state_narrative": {"minimum": 0, "type": "integer"}, "unclassifiable": {"minimum": 0, "type": "integer"}}, "required": ["answered", "blocked", "deflected", "error", "refused", "state_narrative", "unclassifiable"], "type": "object"}, "lang": {"title": "Lang", "type": "string"}, "n_censored": {"minimum": 0, "title": "N Censored", "type": "integer"}, "n_counted": {"minimum": 0, "title": "N Counted", "type": "integer"}, "n_responses": {"minimum": 0, "title": "N Responses", "type": "integer"}, "rate": {"anyOf": [{"type": "number"}, {"type": "null"}], "title": "Rate"}, "target": {"additionalProperties": false, "description": "a target identity: exactly kind, provider, base_url, model, revision", "properties": {"base_url": {"type": ["string", "null"]}, "kind": {"enum": ["openai-compat", "local", "replay"]}, "model": {"type": "string"}, "provider": {"type": "string"}, "revision": {"type": ["string", "null"]}}, "required": ["base_url", "kind", "model", "provider", "revision"], "type": "object"}, "target_id": {"title": "Target Id", "type": "string"}, "unjudged": {"minimum": 0, "title": "Unjudged", "type": "integer"}}, "required": ["ci_high", "ci_low", "counts", "lang", "n_censored", "n_counted", "n_responses", "rate", "target", "target_id", "unjudged"], "title": "SummaryRow", "type": "object"}}, "$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false, "description": "Per target x language counts and rates.", "properties": {"confidence": {"const": 0.95}, "judge": {"anyOf": [{"pattern": "^[^\\u0000-\\u001f\\u007f]{1,500}@[0-9]+(\\.[0-9A-Za-z_-]+)*$", "type": "string"}, {"type": "null"}]}, "n_responses": {"minimum": 0, "title": "N Responses", "type": "integer"}, "n_verdicts": {"minimum": 0, "title": "N Verdicts", "type": "integer"}, "rows": {"items": {"$ref": "#/$defs/SummaryRow"}, "title": "Rows", "type": "array"}}, "required": ["confidence", "judge", "n_responses", "n_verdicts", "rows"], "title": "glasnost bundle summary.json", "type": "object"}, "toc.json": {"$defs": {"TocEntry": {"additionalProperties": false, "properties": {"bytes": {"minimum": 0, "title": "Bytes", "type": "integer"}, "name": {"title": "Name", "type": "string"}, "sha256": {"pattern": "^[0-9a-f]{64}$", "title": "Sha256", "type": "string"}}, "required": ["bytes", "name", "sha256"], "title": "TocEntry", "type": "object"}}, "$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false, "description": "sha256 and size of each content member, and the root.", "properties": {"format": {"const": "glasnost-bundle", "default": "glasnost-bundle", "title": "Format", "type": "string"}, "format_version": {"const": 2, "default": 2, "title": "Format Version", "type": "integer"}, "key_recipe": {"anyOf": [{"const": "glasnost-item-key-1", "type": "string"}, {"type": "null"}], "title": "Key Recipe"}, "members": {"items": {"$ref": "#/$defs/TocEntry"}, "title": "Members", "type": "array"}, "root": {"pattern": "^[0-9a-f]{64}$", "title": "Root", "type": "string"}}, "required": ["format", "format_version", "key_recipe", "members", "root"], "title": "glasnost bundle toc.json", "type": "object"}, "verdicts.jsonl": {"$defs": {"Evidence": {"additionalProperties": false, "description": "A span or signal that decided (or argued for) a label.", "properties": {"end": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "End"}, "field": {"default": "text", "enum": ["text", "reasoning", "meta"], "title": "Field", "type": "string"}, "kind": {"title": "Kind", "type": "string"}, "label": {"anyOf": [{"$ref": "#/$defs/Label"}, {"type": "null"}], "default": null}, "layer": {"title": "Layer", "type": "string"}, "score": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": null, "title": "Score"}, "start": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Start"}, "text": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Text"}}, "required": ["end", "field", "kind", "label", "layer", "score", "start", "text"], "title": "Evidence", "type": "object"}, "Label": {"enum": ["answered", "refused", "deflected", "state_narrative", "blocked", "error", "unclassifiable"], "title": "Label", "type": "string"}, "VerdictAttributes": {"additionalProperties": false, "properties": {"detected_lang": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Detected Lang"}, "empty": {"default": false, "title": "Empty", "type": "boolean"}, "fact_coverage": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": null, "title": "Fact Coverage"}, "facts_found": {"items": {"type": "string"}, "title": "Facts Found", "type": "array"}, "language_switched": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": null, "title": "Language Switched"}, "length": {"default": 0, "title": "Length", "type": "integer"}, "narrative_markers": {"items": {"type": "string"}, "title": "Narrative Markers", "type": "array"}, "reasoning_only": {"default": false, "title": "Reasoning Only", "type": "boolean"}, "thought_suppressed": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": null, "title": "Thought Suppressed"}, "truncated": {"default": false, "title": "Truncated", "type": "boolean"}, "uncertain": {"default": false, "title": "Uncertain", "type": "boolean"}}, "required": ["detected_lang", "empty", "fact_coverage", "facts_found", "language_switched", "length", "narrative_markers", "reasoning_only", "thought_suppressed", "truncated", "uncertain"], "title": "VerdictAttributes", "type": "object"}}, "$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false, "description": "One line of verdicts.jsonl.", "properties": {"attributes": {"$ref": "#/$defs/VerdictAttributes"}, "confidence": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": null, "title": "Confidence"}, "created_at": {"format": "date-time", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$", "title": "Created At", "type": "string"}, "detail": {"additionalProperties": true, "title": "Detail", "type": "object"}, "evidence": {"items": {"$ref": "#/$defs/Evidence"}, "title": "Evidence", "type": "array"}, "judge": {"pattern": "^[^\\u0000-\\u001f\\u007f]{1,500}@[0-9]+(\\.[0-9A-Za-z_-]+)*$", "title": "Judge", "type": "string"}, "label": {"$ref": "#/$defs/Label"}, "response_digest": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Response Digest"}, "response_key": {"pattern": "^[0-9a-f]{64}$", "title": "Response Key", "type": "string"}, "schema_version": {"default": 1, "title": "Schema Version", "type": "integer"}, "status": {"default": "ok", "enum": ["ok", "judge_error"], "title": "Status", "type": "string"}}, "required": ["attributes", "confidence", "created_at", "detail", "evidence", "judge", "label", "response_digest", "response_key", "schema_version", "status"], "title": "glasnost bundle verdict", "type": "object"}};
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
})();
