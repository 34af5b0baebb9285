#!/usr/bin/env node
// Verify a glasnost audit bundle (format version 2) with Node's own crypto and zlib, and the published
// JSON Schemas (ajv). Usage: node verify.mjs BUNDLE... [--trust FILE] [--json] [--schemas DIR]
// One line per bundle. Exit 0: every bundle valid; 1: one is invalid (its line gives the reason code);
// 2: misuse (missing file, bad option).
import { createHash, createPublicKey, verify as edVerify } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { LIMITS, b64decode, verifyBundle } from "./core.mjs";

const SCHEMA_FILES = {
  "toc.json": "toc.schema.json", "signature.json": "signature.schema.json", "manifest.json": "manifest.schema.json",
  "bank.json": "bank.schema.json", "summary.json": "summary.schema.json", "responses.jsonl": "response.schema.json",
  "verdicts.jsonl": "verdict.schema.json",
};
const DEFAULT_SCHEMAS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "glasnost", "bundle", "schemas");

function usage(message) {
  process.stderr.write(`error: ${message}\nusage: node verify.mjs BUNDLE... [--trust FILE] [--json] [--schemas DIR]\n`);
  process.exit(2);
}

export function nodeEnv(schemaDir = DEFAULT_SCHEMAS) {
  const ajv = new Ajv2020({ strict: false, allErrors: false, unicodeRegExp: true });
  addFormats(ajv, ["date-time"]);
  const validators = {};
  for (const [member, file] of Object.entries(SCHEMA_FILES)) {
    validators[member] = ajv.compile(JSON.parse(readFileSync(join(schemaDir, file), "utf8")));
  }
  return {
    sha256: async (bytes) => new Uint8Array(createHash("sha256").update(bytes).digest()),
    ed25519Verify: async (publicKey, signature, message) => {
      // An Ed25519 SubjectPublicKeyInfo is a fixed 12-byte DER prefix and the 32 raw key bytes.
      const der = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(publicKey)]);
      try {
        return edVerify(null, message, createPublicKey({ key: der, format: "der", type: "spki" }), signature);
      } catch {
        return false;
      }
    },
    inflateRaw: async (bytes, maxOutput) => {
      const { buffer, engine } = inflateRawSync(bytes, { info: true, maxOutputLength: maxOutput });
      if (engine.bytesWritten !== bytes.length) throw new Error("data after the deflate stream");
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
    },
    validate: (member, value) => {
      const v = validators[member];
      if (v(value)) return null;
      const e = v.errors[0];
      return `${e.instancePath || "/"} ${e.message}`.slice(0, 200);
    },
  };
}

function readTrust(path) {
  const fingerprints = new Set();
  for (const [i, raw] of readFileSync(path, "utf8").split("\n").entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const parts = line.split(/\s+/);
    const key = parts[0] === "ed25519" ? parts[1] : parts[0];
    let bytes;
    try {
      bytes = b64decode(key);
    } catch {
      usage(`${path}:${i + 1}: expected \`ed25519 <base64 key> [name]\``);
    }
    if (bytes.length !== 32) usage(`${path}:${i + 1}: an Ed25519 key has 32 bytes`);
    fingerprints.add(createHash("sha256").update(bytes).digest("hex"));
  }
  if (!fingerprints.size) usage(`trust file ${path} holds no keys`);
  return fingerprints;
}

async function main(argv) {
  const files = [];
  let trust = null, json = false, schemas = DEFAULT_SCHEMAS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") json = true;
    else if (a === "--trust" || a === "--schemas") {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      if (a === "--trust") trust = argv[++i];
      else schemas = argv[++i];
    } else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else files.push(a);
  }
  if (!files.length) usage("give a bundle file");
  let trusted = null;
  if (trust !== null) {
    try {
      trusted = readTrust(trust);
    } catch (e) {
      usage(`cannot read trust file ${trust} (${e.code || e.message})`);
    }
  }
  const env = nodeEnv(schemas);
  let allValid = true;
  for (const file of files) {
    let data;
    try {
      data = statSync(file).size > LIMITS.compressed ? null : new Uint8Array(readFileSync(file));
    } catch (e) {
      usage(`cannot read ${file} (${e.code || e.message})`);
    }
    const result = data === null
      ? { ok: false, reason: "container", message: "the file is over the size limit for a bundle" }
      : await verifyBundle(data, env, { trust: trusted });
    allValid &&= result.ok;
    if (json) process.stdout.write(JSON.stringify({ file, ...result }) + "\n");
    else if (result.ok) process.stdout.write(`verified: signed by ${result.fingerprint} (${result.auditor.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, "?")}), root ${result.root}, ${result.responses} responses\n`);
    else process.stdout.write(`invalid: ${file}: ${result.reason}: ${result.message}\n`);
  }
  process.exit(allValid ? 0 : 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
