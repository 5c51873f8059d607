// A careless admin against the running totals and the live progress: deleting
// a dock while its sync is part-way, a rebuild started on a dock being
// removed, a new dock while every dock's totals rebuild.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount } from "../../docks/emulator/accounts";
import type { Emulator } from "../../docks/emulator/server";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { recount } from "../resources/storageRecount.test.setup";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow, type TestConvex } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function drain(t: TestConvex) {
  for (let i = 0; i < 200; i++) {
    await t.finishAllScheduledFunctions(() => undefined);
    await sleep(5);
  }
}

const leftovers = (t: TestConvex, dockId: Id<"docks">) =>
  t.run(async (ctx) => ({
    totals: (await ctx.db.query("storageTotals").collect()).filter((d) => d.dockId === dockId).length,
    rebuilds: (await ctx.db.query("storageTotalsRebuilds").collect()).filter((d) => d.dockId === dockId).length,
    volumes: (await ctx.db.query("blockVolumes").collect()).filter((d) => d.dockId === dockId).length,
    dock: (await ctx.db.get("docks", dockId)) !== null,
  }));

describe("a dock deleted while it syncs", () => {
  test("leaves no rows, totals or rebuild state, and the summary equals a recount throughout", { timeout: 120_000 }, async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "admin");
    emulator.setAccount("digitalocean", generateAccount("digitalocean", { seed: 5, servers: 2, volumes: 600 }));
    const dockId = await seedDock(t, orgId, "digitalocean", emulator.accounts.digitalocean.token);
    await syncNow(t, as, dockId);
    // The second sync stalls on page 2 of the volumes.
    emulator.setAccount("digitalocean", generateAccount("digitalocean", { seed: 6, servers: 2, volumes: 700 }));
    emulator.addFault({ provider: "digitalocean", path: "/v2/volumes", page: 2, kind: "timeout", delayMs: 400 });
    await sleep(5);
    await as.mutation(api.docks.mutations.syncDock, { dockId });
    await sleep(150);
    // Meanwhile the operator rebuilds every dock's totals.
    await t.mutation(internal.resources.totals.rebuildAllStorageTotals, {});
    await as.mutation(api.docks.mutations.deleteDock, { dockId });
    expect(await as.query(api.resources.summary.getStorageSummary, { orgId })).toEqual(
      await recount(t, { orgIds: [orgId] }),
    );
    await drain(t);
    expect(await leftovers(t, dockId)).toEqual({ totals: 0, rebuilds: 0, volumes: 0, dock: false });
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    expect(summary).toEqual(await recount(t, { orgIds: [orgId] }));
    expect(summary.docksRebuilding).toBe(0);
  });
});

describe("rebuilds and new docks", () => {
  test("a dock created and synced while every dock's totals rebuild is counted once", { timeout: 120_000 }, async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "admin");
    const a = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
    await syncNow(t, as, a);
    await t.mutation(internal.resources.totals.rebuildAllStorageTotals, {});
    const b = await seedDock(t, orgId, "linode", emulator.accounts.linode.token);
    await syncNow(t, as, b);
    await drain(t);
    expect(await as.query(api.resources.summary.getStorageSummary, { orgId })).toEqual(
      await recount(t, { orgIds: [orgId] }),
    );
  });
});
