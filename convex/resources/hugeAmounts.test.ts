// The totals' sums against huge amounts: every row's amount is at most
// 2^53 - 1, but 1,025 of them in one region pass what an int64 holds (2^63 - 1).
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount } from "../../docks/emulator/accounts";
import { startEmulator, type Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, syncNow, useEmulator } from "../test.setup";
import { recount } from "./storageRecount.test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({ accounts: { vultr: generateAccount("vultr", { seed: 3, servers: 1, volumes: 1100, buckets: 0 }) } });
  useEmulator(emulator);
});
afterEach(() => emulator.close());

describe("sums past int64", () => {
  test("1,100 volumes of 2^53 - 1 GB in one region: the sync stores every row and the summary equals a recount", { timeout: 300_000 }, async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.vultr;
    const region = String(account.volumes[0].region);
    emulator.setAccount("vultr", {
      ...account,
      volumes: account.volumes.map((v) => ({ ...v, region, size_gb: Number.MAX_SAFE_INTEGER })),
    });
    const dockId = await seedDock(t, orgId, "vultr", account.token);
    const synced = await syncNow(t, as, dockId);
    const rows = await rowsOf(t, "blockVolumes", dockId);
    expect({ status: synced.lastSyncStatus, rows: rows.length, error: synced.lastSyncError?.slice(0, 160) }).toEqual({
      status: "success",
      rows: 1100,
      error: undefined,
    });
    expect(await as.query(api.resources.summary.getStorageSummary, { orgId })).toEqual(await recount(t, { orgIds: [orgId] }));
  });
});

describe("a rebuild past int64", () => {
  test("a rebuild of 1,100 volumes of 2^53 - 1 GB in one region ends, and the dock stops counting as rebuilding", { timeout: 300_000 }, async () => {
    const { rebuildBatch, startRebuild } = await import("./totals");
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.vultr;
    emulator.setAccount("vultr", { ...account, volumes: account.volumes.slice(0, 1) });
    const dockId = await seedDock(t, orgId, "vultr", account.token);
    await syncNow(t, as, dockId);
    const [row] = await rowsOf(t, "blockVolumes", dockId);
    // Rows older than the totals: written without them.
    for (let b = 0; b < 1100; b += 275) {
      await t.run(async (ctx) => {
        const { _id, _creationTime, ...fields } = row;
        void _id;
        void _creationTime;
        for (let i = b; i < b + 275; i++) {
          await ctx.db.insert("blockVolumes", { ...fields, providerResourceId: `old-${i}`, sizeGb: Number.MAX_SAFE_INTEGER });
        }
      });
    }
    const runId = (await t.run((ctx) => startRebuild(ctx, dockId)))!;
    let outcome = "running";
    for (let i = 0; i < 50 && outcome === "running"; i++) {
      outcome = await t.run((ctx) => rebuildBatch(ctx, dockId, runId)).then(
        (more) => (more ? "running" : "done"),
        (e: Error) => `batch failed: ${e.message.slice(0, 90)}`,
      );
    }
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    expect({ outcome, docksRebuilding: summary.docksRebuilding }).toEqual({ outcome: "done", docksRebuilding: 0 });
  });
});
