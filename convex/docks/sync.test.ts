// The chunked write path at sizes that span several chunks and key windows,
// with Convex's transaction limits enforced.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { applyChanges, generateAccount } from "../../docks/emulator/accounts";
import type { Emulator } from "../../docks/emulator/server";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, syncNow, startTestEmulator } from "../test.setup";
import { CHUNK_MAX_BYTES, CHUNK_MAX_ITEMS, CONFIRM_LIMIT, Chunker, SETTLE_BATCH } from "./syncFlow";
import { diffRow, sameValue } from "./sync";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

async function limitedDock(count: number) {
  const account = generateAccount("vultr", { seed: 31, servers: 10, volumes: count, token: "scale-token" });
  emulator.setAccount("vultr", account);
  const t = newTest({ limits: true });
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, "vultr", account.token);
  return { t, as, dockId, account };
}

describe("chunked sync", () => {
  test("a listing of several chunks lands whole, and an unchanged re-sync writes nothing", async () => {
    const count = CHUNK_MAX_ITEMS * 2 + 345;
    const { t, as, dockId } = await limitedDock(count);
    const first = await syncNow(t, as, dockId);
    expect(first.lastSyncStats?.blockVolumes).toMatchObject({ fetched: count, inserted: count });
    const rows = await rowsOf(t, "blockVolumes", dockId);
    expect(new Set(rows.map((r) => r.providerResourceId)).size).toBe(count);

    const again = await syncNow(t, as, dockId);
    expect(again.lastSyncStats?.blockVolumes).toMatchObject({
      inserted: 0,
      updated: 0,
      deleted: 0,
      unchanged: count,
    });
    const after = await rowsOf(t, "blockVolumes", dockId);
    expect(after.map((r) => r.updatedAt)).toEqual(rows.map((r) => r.updatedAt));
  });

  test("adds, removals and resizes spread over every chunk are each applied once", async () => {
    const count = CHUNK_MAX_ITEMS * 3;
    const { t, as, dockId, account } = await limitedDock(count);
    await syncNow(t, as, dockId);
    emulator.setAccount("vultr", applyChanges("vultr", account, { seed: 5, add: 40, remove: 300, resize: 25 }));
    const dock = await syncNow(t, as, dockId);
    // CONFIRM_LIMIT removals are confirmed with the provider and deleted now;
    // the rest are kept, marked missing, and confirmed by the next sync.
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({
      inserted: 40,
      deleted: CONFIRM_LIMIT,
      missing: 300 - CONFIRM_LIMIT,
      lookups: CONFIRM_LIMIT,
      updated: 25,
      unchanged: count - 300 - 25,
      complete: true,
    });
    const next = await syncNow(t, as, dockId);
    expect(next.lastSyncStats?.blockVolumes).toMatchObject({
      deleted: 300 - CONFIRM_LIMIT,
      lookups: 300 - CONFIRM_LIMIT,
      inserted: 0,
      updated: 0,
    });
    const rows = await rowsOf(t, "blockVolumes", dockId);
    const expected = emulator.accounts.vultr.volumes.map((v) => v.id).sort();
    expect(rows.map((r) => r.providerResourceId).sort()).toEqual(expected);
  });

  test("more stale rows than one settling batch are all removed when the listing empties, each confirmed gone", async () => {
    const count = SETTLE_BATCH * 2 + 70;
    const { t, as, dockId, account } = await limitedDock(count);
    await syncNow(t, as, dockId);
    emulator.setAccount("vultr", { ...account, volumes: [] });
    // Emptied at the provider: each sync confirms CONFIRM_LIMIT rows gone and
    // deletes them; the rest stay, marked missing, until they are confirmed.
    for (let left = count; left > 0; left -= CONFIRM_LIMIT) {
      const dock = await syncNow(t, as, dockId);
      expect(dock.lastSyncStats?.blockVolumes).toMatchObject({
        deleted: Math.min(left, CONFIRM_LIMIT),
        missing: Math.max(0, left - CONFIRM_LIMIT),
        complete: true,
      });
    }
    expect(await rowsOf(t, "blockVolumes", dockId)).toEqual([]);
  });
});

describe("row comparison", () => {
  test("values compare by content, and absent equals undefined", () => {
    expect(sameValue({ a: [1, { b: "x" }] }, { a: [1, { b: "x" }] })).toBe(true);
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameValue({ a: 1 }, { a: "1" })).toBe(false);
  });

  test("a field the provider stopped sending is cleared, provisioning fields are left alone", () => {
    const existing = { name: "v", attachedToInstance: "i-1", provisioningSource: "dashboard", updatedAt: 1 };
    expect(diffRow(existing, { name: "v" })).toEqual({ attachedToInstance: undefined });
    expect(diffRow(existing, { name: "v", attachedToInstance: "i-1" })).toBeNull();
  });
});

describe("chunking", () => {
  type Item = { key: string; bytes: number };
  const item = (key: string, bytes: number): Item => ({ key, bytes });
  function chunk(items: Item[]): Item[][] {
    const chunker = new Chunker<Item>();
    const chunks: Item[][] = [];
    for (const i of items) {
      const full = chunker.add(i, i.bytes);
      if (full !== null) chunks.push(full);
    }
    const last = chunker.take();
    if (last.length > 0) chunks.push(last);
    return chunks;
  }

  test("no chunk holds more than CHUNK_MAX_ITEMS items or CHUNK_MAX_BYTES of arguments, and order is kept", () => {
    const items = Array.from({ length: 5000 }, (_, i) => item(String(i).padStart(5, "0"), 1500 + (i % 7) * 1000));
    const chunks = chunk(items);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(CHUNK_MAX_ITEMS);
      expect(c.reduce((n, i) => n + i.bytes, 0)).toBeLessThanOrEqual(CHUNK_MAX_BYTES);
    }
    expect(chunks.flat().map((i) => i.key)).toEqual(items.map((i) => i.key));
    // Large items force chunks well below the item cap.
    expect(chunks.length).toBeGreaterThan(5000 / CHUNK_MAX_ITEMS);
  });

  test("one item larger than the byte budget still travels, alone", () => {
    const chunks = chunk([item("a", 10), item("b", CHUNK_MAX_BYTES + 1), item("c", 10)]);
    expect(chunks.map((c) => c.map((i) => i.key))).toEqual([["a"], ["b"], ["c"]]);
  });
});
