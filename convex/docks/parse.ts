// Small readers for untrusted provider JSON: each says exactly what was wrong,
// so a malformed item is skipped with a reason instead of written half-formed,
// and `storable` turns whatever a provider sent into a value Convex will store.
import { fieldNameProblem, utf8Length, wellFormed } from "../lib/documentLimits";

export class ItemError extends Error {}

export type Item = Record<string, unknown>;

export function asItem(value: unknown): Item {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ItemError("item is not an object");
  }
  return value as Item;
}

// Row text (names, regions, statuses) is shown in the dashboard; no provider
// label comes near this, so a longer one is cut rather than refused.
const MAX_ROW_TEXT = 512;
// An id keys the row and is compared with the next sync's: it is never cut,
// so one that Convex cannot hold or no provider would send skips the item.
// Real ids are short (a UUID is 36 characters, a Linode bucket key under 100);
// the sync action keeps every key of a listing in memory, so a longer one is
// not an id.
const MAX_ID_LENGTH = 256;

/** Text cut to `max` code units with the "…" marking the cut, never between a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = text.slice(0, max - 1);
  const last = kept.charCodeAt(kept.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) kept = kept.slice(0, -1);
  return `${kept}…`;
}

/** Provider text made fit for a row: valid Unicode, bounded length. */
export function rowText(text: string): string {
  return cut(wellFormed(text), MAX_ROW_TEXT);
}

/** The string as a row key, or an ItemError if it cannot be a real id. */
export function asId(value: string, field: string): string {
  if (value.length > MAX_ID_LENGTH) {
    throw new ItemError(`${field} is ${value.length} characters long, too long for an id`);
  }
  if (wellFormed(value) !== value) throw new ItemError(`${field} is not valid Unicode`);
  return value;
}

function rawString(item: Item, field: string): string {
  const value = item[field];
  if (typeof value !== "string" || value === "") {
    throw new ItemError(`${field} is ${describe(value)}, expected a non-empty string`);
  }
  return value;
}

/** A required non-empty string (regions, statuses), as row text. */
export function requiredString(item: Item, field: string): string {
  return rowText(rawString(item, field));
}

/** A required string id, kept exactly as sent. */
export function requiredId(item: Item, field: string): string {
  return asId(rawString(item, field), field);
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

/**
 * A price as the provider gave it (US dollars a month), or undefined when it
 * is absent or not a usable amount. A bad price makes the cost unknown; it
 * never costs the user the row.
 */
export function optionalPrice(item: Item, field: string): number | undefined {
  const value = item[field];
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function rawOptionalString(item: Item, field: string): string | undefined {
  const value = item[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    throw new ItemError(`${field} is ${describe(value)}, expected a string`);
  }
  return value;
}

/** An optional string as row text; "" and null mean absent (Vultr sends "" for none). */
export function optionalString(item: Item, field: string): string | undefined {
  const value = rawOptionalString(item, field);
  return value === undefined ? undefined : rowText(value);
}

/** An optional string id, kept exactly as sent; "" and null mean absent. */
export function optionalId(item: Item, field: string): string | undefined {
  const value = rawOptionalString(item, field);
  return value === undefined ? undefined : asId(value, field);
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

/**
 * `value` with `redact` applied to every string in it, object keys included,
 * at any depth: how a sync keeps a secret the provider echoed (the token, a
 * subscription's S3 keys) out of what it stores. Items are depth-bounded by
 * the time they are stored (storable), so the recursion is too.
 */
export function redactStrings(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, redact));
  if (typeof value === "object" && value !== null && !(value instanceof ArrayBuffer)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, redact(k), { value: redactStrings(v, redact), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** Makes a value storable and notes what that changed (see `storableWithReport`). */
export type Store = (value: unknown) => unknown;

export type ParseResult<R> = { ok: true; fields: R; trimmed?: string[] } | { ok: false; reason: string };

/**
 * Runs a parser and turns a failure into a skip reason. The parser stores
 * provider data through `store`; what storing had to change comes back as
 * `trimmed`. Any error, not only an ItemError, skips just this item: the
 * items are untrusted, and an odd one must never stop its siblings. `context`
 * is the type's per-sync context (DockAdapter.prepare), passed through.
 */
export function parseWith<R, C = unknown>(
  parse: (item: Item, store: Store, context: C | undefined) => R,
): (raw: unknown, context?: C) => ParseResult<R> {
  return (raw, context) => {
    const trimmed: string[] = [];
    const store: Store = (value) => {
      const result = storableWithReport(value);
      for (const reason of result.trimmed) if (!trimmed.includes(reason)) trimmed.push(reason);
      return result.value;
    };
    try {
      const fields = parse(asItem(raw), store, context);
      return trimmed.length > 0 ? { ok: true, fields, trimmed } : { ok: true, fields };
    } catch (e) {
      if (e instanceof ItemError) return { ok: false, reason: e.message };
      if (e instanceof Error) return { ok: false, reason: `item could not be read (${e.name})` };
      throw e;
    }
  };
}

// Bounds for one stored provider item. A realistic item is 1-2 KB with a few
// dozen fields; these leave room for that many times over while keeping the
// stored row far inside Convex's limits (1 MiB, 1,024 fields, 8,192 elements,
// nesting 16 where the item already sits 2 levels down in fullApiData).
export const STORABLE_LIMITS = {
  stringLength: 4096,
  fieldNameLength: 256,
  fieldsPerObject: 512,
  arrayElements: 1000,
  /** Containers inside each other, the item itself counting as 1. */
  nesting: 12,
  /** Estimated serialized size of the whole item. */
  bytes: 64 * 1024,
  /** Values copied at most; the rest are dropped before any size is counted. */
  values: 50_000,
} as const;

// Own properties with these names turn into prototype changes the moment
// someone copies them with plain assignment; no provider sends them as data.
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

type StoredNode = {
  parent: number;
  /** The field name in an object parent; null in an array parent or at the root. */
  key: string | null;
  /** A new container ("object"/"array") or the stored scalar. */
  kind: "object" | "array" | "scalar";
  scalar: unknown;
  /** This node's own serialized bytes, its field name included. */
  bytes: number;
};

class Trims {
  private readonly counts = new Map<string, number>();
  add(reason: string, n = 1) {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }
  list(): string[] {
    return [...this.counts].map(([reason, n]) => (n === 1 ? reason : `${reason} (x${n})`));
  }
}

function storedScalar(value: unknown, trims: Trims): { keep: boolean; value: unknown; bytes: number } {
  if (value === null) return { keep: true, value: null, bytes: 4 };
  if (typeof value === "boolean") return { keep: true, value, bytes: 5 };
  if (typeof value === "number") {
    // JSON carries no NaN or Infinity; and NaN never equals itself, so a row
    // holding it would look changed on every sync.
    if (Number.isFinite(value)) return { keep: true, value, bytes: 9 };
    trims.add("non-finite number stored as null");
    return { keep: true, value: null, bytes: 4 };
  }
  if (typeof value === "bigint") {
    // Text keeps the exact digits and survives JSON on the way to a mutation.
    trims.add("bigint stored as text");
    const text = value.toString();
    return { keep: true, value: text, bytes: text.length + 2 };
  }
  if (typeof value === "string") {
    let text = wellFormed(value);
    if (text !== value) trims.add("lone surrogates replaced");
    if (text.length > STORABLE_LIMITS.stringLength) {
      trims.add(`string cut to ${STORABLE_LIMITS.stringLength} chars`);
      text = cut(text, STORABLE_LIMITS.stringLength);
    }
    return { keep: true, value: text, bytes: utf8Length(text) + 2 };
  }
  // undefined, functions and symbols are not data; JSON drops them too.
  return { keep: false, value: undefined, bytes: 0 };
}

/**
 * A copy of a provider value that Convex can store, and short reasons for
 * everything the copy leaves out or changes. Nulls stay null. Field names
 * Convex refuses (or that could reach a prototype) are dropped, long ones
 * cut; objects, arrays, nesting and strings are bounded (STORABLE_LIMITS);
 * lone surrogates become U+FFFD; and if the item is still over its byte
 * budget its largest parts are dropped. No recursion: any nesting is safe.
 * Storing a stored value again changes nothing.
 */
export function storableWithReport(value: unknown): { value: unknown; trimmed: string[] } {
  const trims = new Trims();
  const nodes: StoredNode[] = [];
  const stack: { source: unknown; parent: number; key: string | null; level: number }[] = [
    { source: value, parent: -1, key: null, level: 0 },
  ];
  let overBudget = 0;
  while (stack.length > 0) {
    const { source, parent, key, level } = stack.pop()!;
    if (nodes.length >= STORABLE_LIMITS.values) {
      overBudget++;
      continue;
    }
    const keyBytes = key === null ? 0 : key.length + 3;
    if (typeof source !== "object" || source === null) {
      const scalar = storedScalar(source, trims);
      if (!scalar.keep && parent === -1) return { value: null, trimmed: ["not a value, stored as null"] };
      if (!scalar.keep) continue;
      nodes.push({ parent, key, kind: "scalar", scalar: scalar.value, bytes: keyBytes + scalar.bytes });
      continue;
    }
    if (level + 1 > STORABLE_LIMITS.nesting) {
      trims.add(`value nested deeper than ${STORABLE_LIMITS.nesting} levels dropped`);
      if (parent === -1) return { value: null, trimmed: trims.list() };
      continue;
    }
    const index = nodes.length;
    if (Array.isArray(source)) {
      nodes.push({ parent, key, kind: "array", scalar: undefined, bytes: keyBytes + 2 });
      const length = Math.min(source.length, STORABLE_LIMITS.arrayElements);
      if (source.length > length) trims.add(`array cut to ${length} elements`);
      for (let i = length - 1; i >= 0; i--) {
        // An array keeps its positions: a missing element is null, as in JSON.
        const element: unknown = source[i];
        const stored = element === undefined || typeof element === "function" || typeof element === "symbol"
          ? null
          : element;
        stack.push({ source: stored, parent: index, key: null, level: level + 1 });
      }
      continue;
    }
    nodes.push({ parent, key, kind: "object", scalar: undefined, bytes: keyBytes + 2 });
    const fields: [string, unknown][] = [];
    const used = new Set<string>();
    for (const name of Object.keys(source)) {
      const field: unknown = (source as Item)[name];
      if (field === undefined || typeof field === "function" || typeof field === "symbol") continue;
      if (PROTOTYPE_KEYS.has(name)) {
        trims.add(`field ${name} dropped`);
        continue;
      }
      let stored = name;
      if (stored.length > STORABLE_LIMITS.fieldNameLength) {
        stored = stored.slice(0, STORABLE_LIMITS.fieldNameLength);
        trims.add(`field name cut to ${STORABLE_LIMITS.fieldNameLength} chars`);
      }
      if (fieldNameProblem(stored, false) !== null) {
        trims.add("field with a name Convex refuses dropped");
        continue;
      }
      if (used.has(stored)) {
        trims.add("field whose cut name repeats another dropped");
        continue;
      }
      if (fields.length >= STORABLE_LIMITS.fieldsPerObject) {
        trims.add(`object cut to ${STORABLE_LIMITS.fieldsPerObject} fields`);
        break;
      }
      used.add(stored);
      fields.push([stored, field]);
    }
    for (let i = fields.length - 1; i >= 0; i--) {
      stack.push({ source: fields[i][1], parent: index, key: fields[i][0], level: level + 1 });
    }
  }
  if (overBudget > 0) trims.add(`values past the first ${STORABLE_LIMITS.values} dropped`, overBudget);

  const dropped = dropLargestParts(nodes, trims);
  return { value: build(nodes, dropped), trimmed: trims.list() };
}

/** Marks the largest subtrees dropped until the item fits its byte budget. */
function dropLargestParts(nodes: StoredNode[], trims: Trims): Uint8Array {
  const dropped = new Uint8Array(nodes.length);
  let total = 0;
  for (const node of nodes) total += node.bytes;
  if (total <= STORABLE_LIMITS.bytes) return dropped;
  // Nodes are in document order, children after their parent, so one
  // backward pass sums each subtree.
  const subtree = nodes.map((n) => n.bytes);
  for (let i = nodes.length - 1; i > 0; i--) subtree[nodes[i].parent] += subtree[i];
  // A parent is always larger than any of its children, so it comes first;
  // among equals the later part goes first, keeping the leading fields
  // (where providers put ids and names).
  const order = nodes.map((_, i) => i).slice(1);
  order.sort((a, b) => subtree[b] - subtree[a] || b - a);
  let count = 0;
  for (const i of order) {
    if (total <= STORABLE_LIMITS.bytes) break;
    let ancestor = nodes[i].parent;
    while (ancestor > 0 && dropped[ancestor] === 0) ancestor = nodes[ancestor].parent;
    if (ancestor > 0) continue;
    dropped[i] = 1;
    total -= subtree[i];
    count++;
  }
  if (count > 0) trims.add(`largest parts dropped to fit ${STORABLE_LIMITS.bytes} bytes`, count);
  return dropped;
}

/** The stored copy, built in document order from the kept nodes. */
function build(nodes: StoredNode[], dropped: Uint8Array): unknown {
  const out: unknown[] = new Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (i > 0 && (dropped[i] === 1 || dropped[node.parent] === 1)) {
      // Dropping spreads to every descendant, which comes later in order.
      dropped[i] = 1;
      continue;
    }
    const value = node.kind === "object" ? {} : node.kind === "array" ? [] : node.scalar;
    out[i] = value;
    if (i === 0) continue;
    const parent = out[node.parent];
    if (Array.isArray(parent)) parent.push(value);
    // Plain assignment is safe: __proto__, the one field name that reaches a
    // setter on Object.prototype, never gets this far.
    else (parent as Item)[node.key!] = value;
  }
  return nodes.length === 0 ? null : out[0];
}

/** `storableWithReport` for callers that only need the value. */
export function storable(value: unknown): unknown {
  return storableWithReport(value).value;
}
