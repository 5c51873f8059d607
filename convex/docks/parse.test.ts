import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { documentLimitProblems } from "../lib/documentLimits";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";
import {
  ItemError,
  optionalString,
  parseWith,
  requiredId,
  requiredString,
  rowText,
  STORABLE_LIMITS,
  storable,
  storableWithReport,
} from "./parse";
import { LONE_HIGH, LONE_LOW, nestedObject, storablePoisons, unusableIds, withProtoKey } from "./poison.test.setup";

/** The item as a sync stores it: two levels down in a row. */
function storedRowProblems(item: unknown) {
  return documentLimitProblems({ name: "x", fullApiData: { block: item } }, { isDocument: true });
}

describe("storable", () => {
  test("keeps nulls as null, at the top, nested and in arrays", () => {
    const item = { linode_id: null, next_backup_window: null, ipv6: null, list: [null, 1, { a: null }] };
    expect(storableWithReport(item)).toEqual({ value: item, trimmed: [] });
    expect(storable(null)).toBeNull();
  });

  test("a realistic item comes back equal and untrimmed", () => {
    const item = { id: "a1", size_gb: 40, tags: ["x"], region: { slug: "ams3", features: [] }, backups: { enabled: false } };
    expect(storableWithReport(item)).toEqual({ value: item, trimmed: [] });
  });

  test("a __proto__ key is dropped without touching any prototype", () => {
    const { value, trimmed } = storableWithReport(withProtoKey({ id: "a" }));
    expect(value).toEqual({ id: "a" });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value as object)).toEqual(["id"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(trimmed).toEqual(["field __proto__ dropped"]);
  });

  test("nesting 10,000 deep is cut so the stored row stays within Convex's depth", () => {
    const { value, trimmed } = storableWithReport({ id: "a", deep: nestedObject(10_000) });
    expect(storedRowProblems(value)).toEqual([]);
    expect(trimmed).toEqual([`value nested deeper than ${STORABLE_LIMITS.nesting} levels dropped`]);
    // The item keeps what fits: eleven levels of the chain below it.
    let level: unknown = (value as { deep: unknown }).deep;
    let depth = 1;
    while (typeof level === "object" && level !== null && "a" in level) {
      level = (level as { a: unknown }).a;
      depth++;
    }
    expect(depth).toBe(STORABLE_LIMITS.nesting - 1);
  });

  test("field names Convex refuses are dropped and long ones cut", () => {
    const long = "k".repeat(2000);
    const { value, trimmed } = storableWithReport({ id: "a", $where: 1, "": 2, "é": 3, "a\u0000": 4, [long]: "v", _id: "kept" });
    expect(value).toEqual({ id: "a", ["k".repeat(STORABLE_LIMITS.fieldNameLength)]: "v", _id: "kept" });
    expect(trimmed).toEqual([
      "field with a name Convex refuses dropped (x4)",
      `field name cut to ${STORABLE_LIMITS.fieldNameLength} chars`,
    ]);
  });

  test("two long names that cut to the same name keep the first", () => {
    const a = "n".repeat(300);
    const { value } = storableWithReport({ [`${a}1`]: 1, [`${a}2`]: 2 });
    expect(Object.values(value as object)).toEqual([1]);
  });

  test("objects, arrays and strings are bounded", () => {
    const fields = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`f${i}`, i]));
    const { value, trimmed } = storableWithReport({
      fields,
      list: new Array(10_000).fill(1),
      text: "x".repeat(2 * 1024 * 1024),
    });
    const v = value as { fields: object; list: unknown[]; text: string };
    expect(Object.keys(v.fields).length).toBe(STORABLE_LIMITS.fieldsPerObject);
    expect(v.list.length).toBe(STORABLE_LIMITS.arrayElements);
    expect(v.text.length).toBe(STORABLE_LIMITS.stringLength);
    expect(v.text.endsWith("…")).toBe(true);
    expect(trimmed).toEqual([
      `object cut to ${STORABLE_LIMITS.fieldsPerObject} fields`,
      `array cut to ${STORABLE_LIMITS.arrayElements} elements`,
      `string cut to ${STORABLE_LIMITS.stringLength} chars`,
    ]);
  });

  test("lone surrogates become U+FFFD; a cut never splits a pair", () => {
    expect(storable({ a: `x${LONE_HIGH}`, b: [LONE_LOW] })).toEqual({ a: "x\uFFFD", b: ["\uFFFD"] });
    const emoji = "\uD83D\uDE00";
    const text = "a".repeat(STORABLE_LIMITS.stringLength - 2) + emoji + "b";
    const stored = storable(text) as string;
    expect(documentLimitProblems(stored, { isDocument: false })).toEqual([]);
    expect(stored).toBe(`${"a".repeat(STORABLE_LIMITS.stringLength - 2)}…`);
  });

  test("an item over its byte budget loses its largest parts first", () => {
    const item = { id: "keep-me", label: "disk", small: { a: 1 }, big: { blob: "z".repeat(4000), more: new Array(1000).fill("y".repeat(70)) }, mid: "m".repeat(3000) };
    const { value, trimmed } = storableWithReport(item);
    expect(value).toEqual({ id: "keep-me", label: "disk", small: { a: 1 }, mid: "m".repeat(3000) });
    expect(trimmed).toEqual([`largest parts dropped to fit ${STORABLE_LIMITS.bytes} bytes`]);
  });

  test("many equally large parts are dropped from the end, keeping the leading fields", () => {
    const item = { id: "first", ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`blob_${i}`, "y".repeat(4000)])) };
    const { value } = storableWithReport(item);
    const kept = Object.keys(value as object);
    expect(kept[0]).toBe("id");
    expect(kept.length).toBeGreaterThan(10);
    expect(kept).toContain("blob_0");
    expect(kept).not.toContain("blob_299");
    expect(JSON.stringify(value).length).toBeLessThanOrEqual(STORABLE_LIMITS.bytes);
  });

  test("non-JSON values are stored safely: bigint as text, non-finite numbers as null, undefined dropped", () => {
    const { value, trimmed } = storableWithReport({ big: 2n ** 70n, nan: NaN, inf: -Infinity, gone: undefined, list: [undefined, () => 1] });
    expect(value).toEqual({ big: (2n ** 70n).toString(), nan: null, inf: null, list: [null, null] });
    expect(Object.keys(value as object)).not.toContain("gone");
    expect(trimmed).toEqual(["bigint stored as text", "non-finite number stored as null (x2)"]);
  });

  test.each(storablePoisons({ id: "x", label: "disk" }, "label"))(
    "an item with %s is stored within Convex's limits, and storing it again changes nothing",
    (_label, poison) => {
      const once = storableWithReport(poison);
      expect(storedRowProblems(once.value)).toEqual([]);
      const twice = storableWithReport(once.value);
      expect(twice).toEqual({ value: once.value, trimmed: [] });
      // What a sync sends on to its mutation must serialize.
      expect(() => JSON.stringify(once.value)).not.toThrow();
    },
  );
});

describe("row text and ids", () => {
  test("row text is valid Unicode and at most 512 characters", () => {
    expect(rowText(`disk${LONE_HIGH}`)).toBe("disk\uFFFD");
    const long = rowText("n".repeat(5000));
    expect(long.length).toBe(512);
    expect(requiredString({ region: `ams${LONE_LOW}` }, "region")).toBe("ams\uFFFD");
    expect(optionalString({ label: "x".repeat(600) }, "label")?.length).toBe(512);
  });

  test.each([
    ["a lone surrogate", `vol${LONE_HIGH}`, /id is not valid Unicode/],
    ["2,000 characters", "i".repeat(2000), /id is 2000 characters long/],
  ])("an id with %s cannot be a real id", (_label, id, reason) => {
    expect(() => requiredId({ id }, "id")).toThrow(ItemError);
    expect(() => requiredId({ id }, "id")).toThrow(reason);
  });

  test("an id is kept exactly as sent", () => {
    expect(requiredId({ id: "ewr1/b-ü" }, "id")).toBe("ewr1/b-ü");
  });
});

describe("parseWith", () => {
  const parse = parseWith((item, store) => ({ id: requiredId(item, "id"), data: store(item) }));

  test("says what storing the item trimmed, and says nothing when nothing was", () => {
    expect(parse({ id: "a", $x: 1 })).toEqual({
      ok: true,
      fields: { id: "a", data: { id: "a" } },
      trimmed: ["field with a name Convex refuses dropped"],
    });
    expect(parse({ id: "a" })).toEqual({ ok: true, fields: { id: "a", data: { id: "a" } } });
    expect("trimmed" in parse({ id: "a" })).toBe(false);
  });

  test("an unexpected error in one item skips that item only", () => {
    const fragile = parseWith((item) => ({ n: (item.nested as { x: { y: number } }).x.y }));
    const results = [{ nested: { x: { y: 1 } } }, { nested: null }, { nested: { x: { y: 2 } } }].map(fragile);
    expect(results).toEqual([
      { ok: true, fields: { n: 1 } },
      { ok: false, reason: "item could not be read (TypeError)" },
      { ok: true, fields: { n: 2 } },
    ]);
  });
});

// The whole path: the emulator answers with hostile items among good ones,
// a real sync stores them (the test world checks every written row against
// Convex's limits) or skips them, and the good items land as before.
// The id each listing's test items get: text, or a number where the provider's ids are numbers.
const textId = (n: number | "nulls") => `zz-${n === "nulls" ? "nulls" : `poison-${n}`}`;
const numericId = (n: number | "nulls") => 990_000_000 + (n === "nulls" ? 999_999 : n);

describe.each([
  { name: "vultr blocks", provider: "vultr" as const, table: "blockVolumes" as const, list: "volumes" as const, idField: "id", id: textId, textField: "label", dataKey: "block" },
  { name: "digitalocean volumes", provider: "digitalocean" as const, table: "blockVolumes" as const, list: "volumes" as const, idField: "id", id: textId, textField: "name", dataKey: "volume" },
  { name: "linode volumes", provider: "linode" as const, table: "blockVolumes" as const, list: "volumes" as const, idField: "id", id: numericId, textField: "label", dataKey: "volume" },
  { name: "vultr buckets", provider: "vultr" as const, table: "buckets" as const, list: "buckets" as const, idField: "name", id: textId, textField: "date_created", dataKey: "bucket" },
  { name: "linode buckets", provider: "linode" as const, table: "buckets" as const, list: "buckets" as const, idField: "label", id: textId, textField: "hostname", dataKey: "bucket" },
])("a sync of $name with hostile items", ({ provider, table, list, idField, id, textField, dataKey }) => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  test("stores each within Convex's limits or skips it with a reason; the good items are unaffected", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const account = emulator.accounts[provider];
    const dockId = await seedDock(t, orgId, provider, account.token);
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    const goodRows = await rowsOf(t, table, dockId);

    const base = account[list][0];
    // The emulator's own JSON.stringify overflows at 10,000 levels, so the
    // deep items travel 1,000 deep here; still far past the stored depth.
    const poisons = storablePoisons(base, textField).map(([label, item]) =>
      label.includes("10,000-deep") || label.includes("10,000 levels") ? { ...base, deep: nestedObject(1000) } : item,
    );
    const stored = poisons.map((item, i) => ({ ...item, [idField]: id(i) }));
    const withNulls = { ...base, [idField]: id("nulls"), linode_id: null, next_backup_window: null, extra: { ipv6: null, list: [null] } };
    const skipped = unusableIds(base, idField).map(([, item]) => item);
    emulator.setAccount(provider, { ...account, [list]: [...account[list], ...stored, withNulls, ...skipped] });
    const dock = await syncNow(t, as, dockId);
    emulator.setAccount(provider, account);

    expect(dock.lastSyncError).toMatch(/2 malformed item\(s\) skipped/);
    // What was trimmed is counted and named in the dock's stats.
    const stats = dock.lastSyncStats?.[table];
    expect(stats?.trimmed).toBeGreaterThan(0);
    const poisonKeys = stored.map((_, i) => String(id(i)));
    expect(stats?.trimmedKeys?.some((k) => poisonKeys.some((p) => k.endsWith(p)))).toBe(true);
    const rows = await rowsOf(t, table, dockId);
    expect(rows.length).toBe(goodRows.length + stored.length + 1);
    for (const row of rows) expect(documentLimitProblems(row, { isDocument: true })).toEqual([]);
    const byKey = new Map(rows.map((r) => [r.providerResourceId, r]));
    for (const good of goodRows) expect(byKey.get(good.providerResourceId)?.fullApiData).toEqual(good.fullApiData);
    const nulls = rows.find((r) => r.providerResourceId.endsWith(String(id("nulls"))))!;
    expect(nulls.fullApiData[dataKey]).toMatchObject({ linode_id: null, next_backup_window: null, extra: { ipv6: null, list: [null] } });
  });
});
