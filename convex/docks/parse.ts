// Small readers for untrusted provider JSON: each says exactly what was wrong,
// so a malformed item is skipped with a reason instead of written half-formed.

export class ItemError extends Error {}

export type Item = Record<string, unknown>;

export function asItem(value: unknown): Item {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ItemError("item is not an object");
  }
  return value as Item;
}

/** A required non-empty string (ids, keys). */
export function requiredString(item: Item, field: string): string {
  const value = item[field];
  if (typeof value !== "string" || value === "") {
    throw new ItemError(`${field} is ${describe(value)}, expected a non-empty string`);
  }
  return value;
}

/** A required id that providers send as a number (DigitalOcean droplets, Linode instances). */
export function requiredNumericId(item: Item, field: string): string {
  const value = item[field];
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new ItemError(`${field} is ${describe(value)}, expected an integer`);
  }
  return String(value);
}

export function requiredNumber(item: Item, field: string): number {
  const value = item[field];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ItemError(`${field} is ${describe(value)}, expected a number`);
  }
  return value;
}

/** An optional string; "" and null mean absent (Vultr sends "" for none). */
export function optionalString(item: Item, field: string): string | undefined {
  const value = item[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    throw new ItemError(`${field} is ${describe(value)}, expected a string`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** The item with the named secret fields removed. */
export function withoutSecrets<T extends object>(item: T, secrets: readonly string[]): T {
  const copy = { ...item } as Record<string, unknown>;
  for (const s of secrets) delete copy[s];
  return copy as T;
}

/** Runs a parser and turns an ItemError into a skip reason. */
export function parseWith<R>(
  parse: (item: Item) => R,
): (raw: unknown) => { ok: true; fields: R } | { ok: false; reason: string } {
  return (raw) => {
    try {
      return { ok: true, fields: parse(asItem(raw)) };
    } catch (e) {
      if (e instanceof ItemError) return { ok: false, reason: e.message };
      throw e;
    }
  };
}

// Convex refuses field names that are empty, start with "$" or hold control
// characters, and a document over 1 MiB; one odd provider item must not fail
// the chunk it travels in. Strings this long are never inventory data.
const MAX_STORED_STRING = 4096;
const MAX_DEPTH = 12;
const STORABLE_KEY = /^[\x20-\x7e]+$/;

/** A copy of a provider value that Convex can store: odd keys dropped, long strings cut, deep nesting flattened. */
export function storable(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    return value.length > MAX_STORED_STRING ? `${value.slice(0, MAX_STORED_STRING)}…` : value;
  }
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value === null || typeof value !== "object") {
    return typeof value === "boolean" ? value : value === undefined ? null : String(value);
  }
  if (depth >= MAX_DEPTH) return JSON.stringify(value).slice(0, MAX_STORED_STRING);
  if (Array.isArray(value)) return value.map((v) => storable(v, depth + 1));
  const out: Item = {};
  for (const [key, v] of Object.entries(value as Item)) {
    if (!STORABLE_KEY.test(key) || key.startsWith("$")) continue;
    out[key] = storable(v, depth + 1);
  }
  return out;
}
