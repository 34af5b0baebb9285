// A small JSON Schema (2020-12) validator for exactly the keywords the bundle schemas use
// (docs/bundle-format.md, "Schemas"), for platforms without a validator package (the browser).
// verify.mjs uses ajv; the conformance vectors hold the two to the same answers in tests/test_bundle_browser.py.
import { jcs } from "./core.mjs";

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

export function schemaValidator(schemas) {
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

