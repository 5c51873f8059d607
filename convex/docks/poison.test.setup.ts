// Hostile provider items for parser tests: each breaks one of Convex's value
// limits or a JavaScript object's assumptions. Test-only (two dots keep Convex
// from deploying it).
import { expect } from "vitest";
import { documentLimitProblems } from "../lib/documentLimits";

type Item = Record<string, unknown>;

export const LONE_HIGH = "\uD800";
export const LONE_LOW = "\uDC00";

/** `depth` objects inside each other, built without recursion. */
export function nestedObject(depth: number): unknown {
  let value: unknown = { leaf: null };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** The item as JSON.parse would give it back with an own `__proto__` key. */
export function withProtoKey(item: Item): Item {
  return JSON.parse(`{"__proto__":{"polluted":true},${JSON.stringify(item).slice(1)}`) as Item;
}

/**
 * Items that must be stored after trimming: [label, item]. `textField` names
 * a row text field (label or name) the poison also reaches.
 */
export function storablePoisons(base: Item, textField: string): [string, Item][] {
  const manyFields: Item = { ...base };
  for (let i = 0; i < 2000; i++) manyFields[`extra_${i}`] = i;
  return [
    ["a __proto__ key", withProtoKey(base)],
    ["nesting 10,000 levels deep", { ...base, deep: nestedObject(10_000) }],
    ["a 10,000-deep array", { ...base, deep: nestedArray(10_000) }],
    ["a 2,000-char field name", { ...base, ["k".repeat(2000)]: "v" }],
    ["2,000 fields", manyFields],
    ["a 10,000-element array", { ...base, tags: Array.from({ length: 10_000 }, (_, i) => `tag-${i}`) }],
    [
      "lone surrogates in its name and nested strings",
      { ...base, [textField]: `disk${LONE_HIGH}`, meta: { note: `a${LONE_LOW}b`, list: [LONE_HIGH] } },
    ],
    ["a 2 MB string", { ...base, notes: "x".repeat(2 * 1024 * 1024) }],
    ["$-keys", { ...base, $where: "1", nested: { $gt: 2, ok: 1 } }],
    ["_-keys at its top level", { ...base, _id: "fake", _creationTime: 1, _private: true }],
    ["an empty and a control-character field name", { ...base, "": 1, "a\u0001b": 2, "é": 3 }],
    ["many large strings", Object.fromEntries([...Object.entries(base), ...Array.from({ length: 300 }, (_, i) => [`blob_${i}`, "y".repeat(4000)])])],
  ];
}

function nestedArray(depth: number): unknown {
  let value: unknown = [null];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Items whose key cannot be a real id: [label, item]. */
export function unusableIds(base: Item, idField: string): [string, Item][] {
  return [
    ["an id with a lone surrogate", { ...base, [idField]: `vol${LONE_HIGH}` }],
    ["an id of 2,000 characters", { ...base, [idField]: "i".repeat(2000) }],
  ];
}

/** The row a sync would write from these fields; Convex's limits must hold for it. */
export function rowProblems(fields: object) {
  const row = Object.fromEntries(
    Object.entries({ ...fields, orgId: "org", dockId: "dock", provider: "vultr", updatedAt: 0 }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return documentLimitProblems(row, { isDocument: true });
}

type ParseOutcome = { ok: true; fields: object; trimmed?: string[] } | { ok: false; reason: string };

/**
 * Parses the poison between two good siblings: the poison becomes a row
 * within Convex's limits (trimmed) and the siblings parse exactly as alone.
 */
export function expectStoredBetweenSiblings(parse: (raw: unknown) => ParseOutcome, siblings: Item[], poison: Item) {
  const alone = siblings.map((s) => parse(s));
  const [before, parsed, after] = [parse(siblings[0]), parse(poison), parse(siblings[1])];
  expect([before, after]).toEqual(alone);
  expect(parsed.ok).toBe(true);
  if (!parsed.ok) return;
  expect(rowProblems(parsed.fields)).toEqual([]);
  expect(Object.getPrototypeOf(parsed.fields)).toBe(Object.prototype);
  expect(({} as Item).polluted).toBeUndefined();
}
