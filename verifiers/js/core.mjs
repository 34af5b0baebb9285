// An independent verifier of glasnost audit bundles, format version 2, written from docs/bundle-format.md
// and the JSON Schemas alone (no glasnost code). It runs in Node (verify.mjs) and in a browser (glasnost
// inlines this file into its pages): every platform primitive is passed in as `env`:
//   env.sha256(bytes) -> Promise<Uint8Array(32)>
//   env.ed25519Verify(publicKey32, signature64, message) -> Promise<boolean>
//   env.inflateRaw(bytes, maxOutput) -> Promise<Uint8Array>: raw deflate that must end exactly at the
//       end of `bytes`; throws on damage, on data after the stream, or past maxOutput bytes
//   env.validate(member, value) -> string|null (JSON Schema; null when valid), or absent
// verifyBundle(bytes, env, {trust}) resolves to {ok: true, ...} or {ok: false, reason, message}.

export const MEMBERS = ["toc.json", "signature.json", "manifest.json", "bank.json", "summary.json",
  "responses.jsonl", "verdicts.jsonl"];
export const CONTENT = MEMBERS.slice(2);
const GZIP_HEADER = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff];
const MiB = 1024 * 1024;
export const LIMITS = { compressed: 512 * MiB, total: 2048 * MiB, member: 1536 * MiB, ratio: 200, ratioFloor: 4 * MiB };
const LABELS = ["answered", "refused", "deflected", "state_narrative", "blocked", "error", "unclassifiable"];
const COUNTED = new Set(["answered", "refused", "deflected", "state_narrative", "blocked"]);
const CENSORED = new Set(["refused", "deflected", "state_narrative", "blocked"]);
const Z95 = 1.959963984540054;
const KEY_RECIPE = "glasnost-item-key-1";
const IDENTITY = ["kind", "provider", "base_url", "model", "revision"];
// What a judge reads of a response: a verdict's response_digest covers exactly these.
const JUDGED_FIELDS = ["key", "concept_id", "lang", "prompt", "outcome", "text", "reasoning", "thought_suppressed",
  "finish_reason", "http_status", "provider_refusal", "error"];

export class Invalid extends Error {
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

export function jcs(v) {
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
export function cpCompare(a, b) {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d < 0 ? -1 : 1;
  }
  return x.length - y.length < 0 ? -1 : x.length === y.length ? 0 : 1;
}

// Python's repr of a float: shortest round-trip digits; fixed notation with at least one fractional
// digit when 1e-4 <= |x| < 1e16, otherwise d[.ddd]e±XX with at least two exponent digits.
export function pyFloat(x) {
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
export function pyForm(v, floats = new Set(), path = "") {
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
export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
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
export function b64decode(s) {
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

export function ustarHeader(name, size) {
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

export function canonicalTar(members) {
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

export async function readContainer(data, env, limits = LIMITS) {
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

export function targetId(t) {
  if (t.name) return t.name;
  if ((t.provider === "custom" || t.provider === "openai-compat") && t.base_url) return `${t.base_url}#${t.model}`;
  return `${t.provider}:${t.model}`;
}

// ---------------------------------------------------------------------------------------------------
// Summary figures
// ---------------------------------------------------------------------------------------------------

// Python's round(x, 6): the exact binary value rounded to 6 decimals, ties to even, then the nearest double.
export function round6(x) {
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

export function wilson(k, n, z = Z95) {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt(Math.max((p * (1 - p)) / n + (z * z) / (4 * n * n), 0))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

// Does a concept enter censorship rates? Not controls or multiple-choice checks, nor sensitivity "none";
// a concept missing from the bank counts.
export function conceptInRate(concept) {
  if (!concept) return true;
  const kind = concept.kind || "knowledge";
  return kind !== "control" && kind !== "mcq" && (concept.sensitivity || "high") !== "none";
}

export function computeSummary(responses, verdicts, judge, bank = null) {
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

export async function verifyBundle(data, env, options = {}) {
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
