// A hostile provider against the running storage totals: values that are
// finite one by one but not when summed, and more regions than a rebuild
// reads. Each test compares getStorageSummary with a recount of the rows.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { generateAccount } from "../../docks/emulator/accounts";
import { api } from "../_generated/api";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow, type TestConvex } from "../test.setup";
import { recount } from "./storageRecount.test.setup";
import { rebuildBatch, startRebuild } from "./totals";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

type Item = Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setVultrVolumes(change: (items: Item[]) => Item[]) {
  const account = emulator.accounts.vultr;
  emulator.setAccount("vultr", { ...account, volumes: change(account.volumes.map((v) => ({ ...v }))) });
}

async function vultrOrg(t: TestConvex) {
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
  return { orgId, as, dockId };
}

describe("sizes and prices that are finite alone but not summed", () => {
  test("a volume whose cost is 1e303 dollars, later corrected, leaves the org's known cost NaN for good", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await vultrOrg(t);
    setVultrVolumes((items) => items.map((v, i) => (i === 0 ? { ...v, cost: 1e303 } : v)));
    await syncNow(t, as, dockId);
    await sleep(5);
    // The provider fixes the price on its next answer.
    setVultrVolumes((items) => items.map((v, i) => (i === 0 ? { ...v, cost: 10 } : v)));
    await syncNow(t, as, dockId);
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    const truth = await recount(t, { orgIds: [orgId] });
    expect(Number.isFinite(truth.blockVolumes.total.knownMonthlyCost)).toBe(true);
    expect(summary.blockVolumes.total.knownMonthlyCost).toBe(truth.blockVolumes.total.knownMonthlyCost);
  });

  test("two volumes of 1e308 GB, later resized to 100 GB, drop the other volumes of their regions from the size total", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await vultrOrg(t);
    setVultrVolumes((items) => items.map((v, i) => (i < 2 ? { ...v, size_gb: 1e308 } : v)));
    await syncNow(t, as, dockId);
    await sleep(5);
    setVultrVolumes((items) => items.map((v, i) => (i < 2 ? { ...v, size_gb: 100 } : v)));
    await syncNow(t, as, dockId);
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    const truth = await recount(t, { orgIds: [orgId] });
    expect(summary.blockVolumes.total.sizeGb).toBe(truth.blockVolumes.total.sizeGb);
  });

  test("a 1e300 GB volume resized to 10 GB wipes the other volumes' GB from the total", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await vultrOrg(t);
    setVultrVolumes((items) => items.map((v, i) => (i === 0 ? { ...v, size_gb: 1e300 } : v)));
    await syncNow(t, as, dockId);
    await sleep(5);
    setVultrVolumes((items) => items.map((v, i) => (i === 0 ? { ...v, size_gb: 10 } : v)));
    await syncNow(t, as, dockId);
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    const truth = await recount(t, { orgIds: [orgId] });
    expect(summary.blockVolumes.total.sizeGb).toBe(truth.blockVolumes.total.sizeGb);
  });

  test("a negative size is stored and subtracted from the region's total", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await vultrOrg(t);
    setVultrVolumes((items) => items.map((v, i) => (i === 0 ? { ...v, size_gb: -1e6 } : v)));
    await syncNow(t, as, dockId);
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    // A size below zero is no size: the item should be skipped (or its size unknown).
    expect(summary.blockVolumes.total.sizeGb).toBeGreaterThanOrEqual(0);
  });
});

describe("region names with odd characters", () => {
  test("a region name holding U+0000 is cut short in the summary and merges with the real region", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await vultrOrg(t);
    const real = String(emulator.accounts.vultr.volumes[1].region);
    setVultrVolumes((items) => items.map((v, i) => (i === 0 ? { ...v, region: `${real}\u0000spoof` } : v)));
    await syncNow(t, as, dockId);
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    const truth = await recount(t, { orgIds: [orgId] });
    expect(summary.blockVolumes.byRegion.map((r) => r.region)).toEqual(truth.blockVolumes.byRegion.map((r) => r.region));
  });
});

describe("more regions than one rebuild transaction reads", () => {
  test("a dock with 4,100 regions is double counted by a second rebuild", { timeout: 300_000 }, async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "viewer");
    // A dock older than the totals (storageTotalsBuiltAt absent), whose
    // provider named one region per volume: 4,100 groups.
    const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token, { storageTotalsBuiltAt: undefined });
    for (let b = 0; b < 4100; b += 500) {
      await t.run(async (ctx) => {
        for (let i = b; i < Math.min(b + 500, 4100); i++) {
          await ctx.db.insert("blockVolumes", {
            orgId, dockId, provider: "vultr", providerResourceId: `v${i}`, name: `v${i}`, status: "active",
            fullApiData: {}, updatedAt: 1, sizeGb: 10, region: `r${i}`,
          });
        }
      });
    }
    const rebuildToEnd = async () => {
      const runId = await t.run((ctx) => startRebuild(ctx, dockId));
      while (await t.run((ctx) => rebuildBatch(ctx, dockId, runId!))) {
        // next batch
      }
    };
    // The cron's healing of the old dock: exact.
    await rebuildToEnd();
    expect((await as.query(api.resources.summary.getStorageSummary, { orgId })).blockVolumes.total.count).toBe(4100);
    // The operator's documented repair, run once more (rebuildAllStorageTotals).
    await rebuildToEnd();
    const after = await as.query(api.resources.summary.getStorageSummary, { orgId });
    expect(after.blockVolumes.total.count).toBe(4100);
    expect(after).toEqual(await recount(t, { orgIds: [orgId] }));
  });
});

describe("an item listed twice", () => {
  test("the same volume on two pages with different sizes and regions is one row, counted once", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const account = generateAccount("digitalocean", { seed: 9, servers: 2, volumes: 450 });
    const dup = { ...account.volumes[0], size_gigabytes: 9999, region: { ...(account.volumes[0].region as Item), slug: "zz9" } };
    emulator.setAccount("digitalocean", { ...account, volumes: [...account.volumes.slice(0, 300), dup, ...account.volumes.slice(300)] });
    const dockId = await seedDock(t, orgId, "digitalocean", account.token);
    const dock = await syncNow(t, as, dockId);
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    expect({ status: dock.lastSyncStatus, count: summary.blockVolumes.total.count }).toMatchObject({ count: 450 });
    expect(summary).toEqual(await recount(t, { orgIds: [orgId] }));
  });
});
