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

/** The item with the named secret fields removed, for fullApiData. */
export function withoutSecrets(item: Item, secrets: readonly string[]): Item {
  const copy: Item = { ...item };
  for (const s of secrets) delete copy[s];
  return copy;
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
