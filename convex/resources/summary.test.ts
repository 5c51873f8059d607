// The storage summary: who may read it, what each filter covers, and how a
// sync's changes move the totals (price unknown, detach, region), against
// syncs of the provider emulator over HTTP.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount } from "../../docks/emulator/accounts";
import type { Emulator } from "../../docks/emulator/server";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { purgeDockBatch } from "../docks/removal";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow, type TestConvex } from "../test.setup";
import type { Provider } from "../validators";
import { recount, summaryOfRows } from "./storageRecount.test.setup";
import { summarize } from "./summary";
import { rebuildBatch, startRebuild } from "./totals";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

const EMPTY = summarize([], []);

type Item = Record<string, unknown>;

async function orgWithDock(t: TestConvex, provider: Provider, role: "viewer" | "member" = "member") {
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const reader = role === "viewer" ? (await seedMember(t, orgId, "viewer")).as : as;
  const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
  await syncNow(t, as, dockId);
  return { orgId, as, reader, dockId };
}

function setVultrVolumes(change: (items: Item[]) => Item[]) {
  const account = emulator.accounts.vultr;
  emulator.setAccount("vultr", { ...account, volumes: change(account.volumes.map((v) => ({ ...v }))) });
}

const totalsDocs = (t: TestConvex, dockId: Id<"docks">) =>
  t.run((ctx) =>
    ctx.db
      .query("storageTotals")
      .withIndex("by_dock_type_region", (q) => q.eq("dockId", dockId))
      .collect(),
  );

describe("who reads the storage summary", () => {
  test("a viewer reads the org's summary, equal to a recount of its rows", async () => {
    const t = newTest();
    const { orgId, reader } = await orgWithDock(t, "vultr", "viewer");
    const summary = await reader.query(api.resources.summary.getStorageSummary, { orgId });
    expect(summary).toEqual(await recount(t, { orgIds: [orgId] }));
    expect(summary.blockVolumes.total.count).toBe(emulator.accounts.vultr.volumes.length);
  });

  test("a signed-in user outside the org gets the empty summary, for the org and for its dock", async () => {
    const t = newTest();
    const { orgId, dockId } = await orgWithDock(t, "vultr");
    const { as: stranger } = await seedMember(t, await seedOrg(t, "Elsewhere"), "owner");
    expect(await stranger.query(api.resources.summary.getStorageSummary, { orgId })).toEqual(EMPTY);
    expect(await stranger.query(api.resources.summary.getStorageSummary, { dockId })).toEqual(EMPTY);
    expect(await stranger.query(api.resources.summary.getStorageSummary, {})).toEqual(EMPTY);
  });

  test("an anonymous caller gets UNAUTHENTICATED, as from the row queries", async () => {
    const t = newTest();
    const { orgId } = await orgWithDock(t, "vultr");
    await expect(t.query(api.resources.summary.getStorageSummary, { orgId })).rejects.toThrow(/Sign in/);
    await expect(t.query(api.resources.queries.listBlockVolumes, { orgId })).rejects.toThrow(/Sign in/);
  });
});

describe("the dockId filter", () => {
  test("answers that dock's rows only, where the org answer holds both docks", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await orgWithDock(t, "vultr");
    const doDock = await seedDock(t, orgId, "digitalocean", emulator.accounts.digitalocean.token);
    await syncNow(t, as, doDock);
    const one = await as.query(api.resources.summary.getStorageSummary, { dockId: doDock });
    expect(one).toEqual(await recount(t, { dockId: doDock }));
    expect(one.blockVolumes.byProvider.map((p) => p.provider)).toEqual(["digitalocean"]);
    const whole = await as.query(api.resources.summary.getStorageSummary, { orgId });
    expect(whole.blockVolumes.byProvider.map((p) => p.provider)).toEqual(["vultr", "digitalocean"]);
    expect(await as.query(api.resources.summary.getStorageSummary, { orgId, dockId })).toEqual(
      await recount(t, { dockId }),
    );
  });

  test("a dock of another org answers the empty summary, with or without the caller's own orgId", async () => {
    const t = newTest();
    const mine = await orgWithDock(t, "vultr");
    const theirs = await orgWithDock(t, "digitalocean");
    const q = api.resources.summary.getStorageSummary;
    expect(await mine.as.query(q, { dockId: theirs.dockId })).toEqual(EMPTY);
    expect(await mine.as.query(q, { orgId: mine.orgId, dockId: theirs.dockId })).toEqual(EMPTY);
    // The other org's member, naming their own dock under an org they are not in.
    expect(await theirs.as.query(q, { orgId: mine.orgId, dockId: theirs.dockId })).toEqual(EMPTY);
  });
});

describe("what a sync's changes do to the totals", () => {
  test("a volume without a price is counted as unpriced, never as free", async () => {
    const t = newTest();
    setVultrVolumes((items) => items.map((v, i) => (i === 0 ? { ...v, cost: undefined } : i === 1 ? { ...v, cost: "n/a" } : v)));
    const { orgId, as } = await orgWithDock(t, "vultr");
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    const priced = emulator.accounts.vultr.volumes.slice(2).map((v) => v.cost as number);
    expect(summary.blockVolumes.total.unpricedCount).toBe(2);
    expect(summary.blockVolumes.total.knownMonthlyCost).toBeCloseTo(priced.reduce((s, c) => s + c, 0), 6);
    expect(summary).toEqual(await recount(t, { orgIds: [orgId] }));

    // DigitalOcean gives no price at all: every volume is unpriced, and the known sum is 0.
    const doDock = await seedDock(t, orgId, "digitalocean", emulator.accounts.digitalocean.token);
    await syncNow(t, as, doDock);
    const onlyDo = await as.query(api.resources.summary.getStorageSummary, { dockId: doDock });
    expect(onlyDo.blockVolumes.total.unpricedCount).toBe(emulator.accounts.digitalocean.volumes.length);
    expect(onlyDo.blockVolumes.total.knownMonthlyCost).toBe(0);
  });

  test("detaching a volume moves its GB to unattached; the region's size stays", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await orgWithDock(t, "vultr");
    const before = await as.query(api.resources.summary.getStorageSummary, { orgId });
    const attached = emulator.accounts.vultr.volumes.find((v) => v.attached_to_instance !== "")!;
    setVultrVolumes((items) =>
      items.map((v) =>
        v.id === attached.id
          ? { ...v, attached_to_instance: "", attached_to_instance_ip: "", attached_to_instance_label: "" }
          : v,
      ),
    );
    await syncNow(t, as, dockId);
    const after = await as.query(api.resources.summary.getStorageSummary, { orgId });
    const region = (s: typeof after) => s.blockVolumes.byRegion.find((r) => r.region === attached.region)!.totals;
    expect(region(after).unattachedGb).toBe(region(before).unattachedGb + (attached.size_gb as number));
    expect(region(after).unattachedCount).toBe(region(before).unattachedCount + 1);
    expect(region(after).sizeGb).toBe(region(before).sizeGb);
    expect(after).toEqual(await recount(t, { orgIds: [orgId] }));
  });

  test("a volume moved to another region takes its totals there, and an emptied region disappears", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await orgWithDock(t, "vultr");
    const volumes = emulator.accounts.vultr.volumes;
    const alone = volumes.find((v) => volumes.filter((w) => w.region === v.region).length === 1) ?? volumes[0];
    setVultrVolumes((items) => items.map((v) => (v.id === alone.id ? { ...v, region: "zz-new" } : v)));
    await syncNow(t, as, dockId);
    const after = await as.query(api.resources.summary.getStorageSummary, { orgId });
    const moved = after.blockVolumes.byRegion.find((r) => r.region === "zz-new")!;
    expect(moved.totals.count).toBe(1);
    expect(moved.totals.sizeGb).toBe(alone.size_gb);
    expect(after).toEqual(await recount(t, { orgIds: [orgId] }));
    // One totals document per region with rows, none left at zero.
    const docs = await totalsDocs(t, dockId);
    expect(docs.every((d) => BigInt(d.count) > 0n)).toBe(true);
    const volumeRegions = docs.filter((d) => d.type === "blockVolumes").map((d) => d.region);
    expect(volumeRegions.sort()).toEqual(after.blockVolumes.byRegion.map((r) => r.region).sort());
  });
});

describe("a dock being removed", () => {
  test("counts until its rows are purged, shrinks with each batch, and leaves no totals behind", async () => {
    const t = newTest();
    // 232 rows: the purge takes three batches of PURGE_BATCH.
    emulator.setAccount("vultr", generateAccount("vultr", { seed: 7, servers: 2, volumes: 230 }));
    const { orgId, as, dockId } = await orgWithDock(t, "vultr");
    await t.run((ctx) => ctx.db.patch("docks", dockId, { deletingAt: 1, syncState: "idle" }));
    // The row queries list a removed dock's rows until they are deleted; so does the summary.
    const atStart = await as.query(api.resources.summary.getStorageSummary, { orgId });
    expect(atStart.blockVolumes.total.count).toBe(230);
    expect(atStart).toEqual(await recount(t, { orgIds: [orgId] }));
    let batches = 0;
    for (;;) {
      // One batch, as a purge stopped part-way leaves the dock.
      const done = await t.run(async (ctx) => purgeDockBatch(ctx, (await ctx.db.get("docks", dockId))!));
      batches++;
      expect(await as.query(api.resources.summary.getStorageSummary, { orgId })).toEqual(
        await recount(t, { orgIds: [orgId] }),
      );
      if (done) break;
    }
    expect(batches).toBeGreaterThan(2);
    expect(await totalsDocs(t, dockId)).toEqual([]);
  });

  test("deleteDock and its scheduled purge leave the org's summary empty and no totals behind", async () => {
    const t = newTest();
    const { orgId, dockId } = await orgWithDock(t, "linode");
    const { as: admin } = await seedMember(t, orgId, "admin");
    expect((await admin.query(api.resources.summary.getStorageSummary, { orgId })).buckets.total.count).toBe(
      emulator.accounts.linode.buckets.length,
    );
    await admin.mutation(api.docks.mutations.deleteDock, { dockId });
    await t.finishAllScheduledFunctions(() => undefined);
    expect(await t.run((ctx) => ctx.db.get("docks", dockId))).toBeNull();
    expect(await admin.query(api.resources.summary.getStorageSummary, { orgId })).toEqual(EMPTY);
    expect(await totalsDocs(t, dockId)).toEqual([]);
  });
});

describe("rebuilding a dock's totals", () => {
  test("counts rows stored before the totals existed, once, while a sync runs between its batches", async () => {
    const t = newTest();
    const { orgId, as, dockId } = await orgWithDock(t, "vultr");
    // As a deployment that had rows before this table: no totals at all.
    await t.run(async (ctx) => {
      for (const doc of await ctx.db.query("storageTotals").collect()) await ctx.db.delete("storageTotals", doc._id);
    });
    expect((await as.query(api.resources.summary.getStorageSummary, { orgId })).blockVolumes.total.count).toBe(0);

    const runId = (await t.run((ctx) => startRebuild(ctx, dockId)))!;
    await t.run((ctx) => rebuildBatch(ctx, dockId, runId, 3));
    expect((await as.query(api.resources.summary.getStorageSummary, { orgId })).docksRebuilding).toBe(1);
    // The account changes and a sync writes while the rebuild is part-way.
    setVultrVolumes((items) => [
      ...items.slice(2).map((v, i) => (i === 0 ? { ...v, size_gb: (v.size_gb as number) + 100 } : v)),
      { ...items[0], id: "added-0000-0000-0000", region: "zz-new" },
    ]);
    await syncNow(t, as, dockId);
    while (await t.run((ctx) => rebuildBatch(ctx, dockId, runId, 3)));
    expect(await as.query(api.resources.summary.getStorageSummary, { orgId })).toEqual(
      await recount(t, { orgIds: [orgId] }),
    );
  });

  test("a dock of 1,200 volumes of 40 KB is rebuilt in batches inside Convex's transaction limits", async () => {
    const t = newTest({ limits: true });
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "viewer");
    const dockId = await seedDock(t, orgId, "vultr", "v".repeat(36));
    const notes = Object.fromEntries(Array.from({ length: 10 }, (_, n) => [`note_${n}`, "n".repeat(4000)]));
    for (let batch = 0; batch < 12; batch++) {
      await t.run(async (ctx) => {
        for (let i = 0; i < 100; i++) {
          await ctx.db.insert("blockVolumes", {
            orgId,
            dockId,
            provider: "vultr",
            providerResourceId: `vol-${batch}-${i}`,
            name: "volume",
            sizeGb: 10 + i,
            region: `r${i % 7}`,
            status: "active",
            updatedAt: 0,
            ...(i % 3 === 0 ? {} : { monthlyCost: 1.05 }),
            fullApiData: { block: { id: `vol-${batch}-${i}`, ...notes } },
          });
        }
      });
    }
    await t.mutation(internal.resources.totals.rebuildDockStorageTotals, { dockId });
    await t.finishAllScheduledFunctions(() => undefined);
    const summary = await as.query(api.resources.summary.getStorageSummary, { orgId });
    expect(summary.blockVolumes.total.count).toBe(1200);
    expect(summary.blockVolumes.byRegion).toHaveLength(7);
    // 792 priced rows at $1.05: exact, as the sum is kept in micro-dollars.
    expect(summary.blockVolumes.total.knownMonthlyCost).toBe(831.6);
    expect(summary.blockVolumes.total.unpricedCount).toBe(408);
    expect(summary).toEqual(await recountInPages(t, orgId));
  });

  test("rebuildAllStorageTotals rebuilds every dock through the scheduler", async () => {
    const t = newTest();
    const a = await orgWithDock(t, "vultr");
    const b = await orgWithDock(t, "linode");
    const expected = [await recount(t, { orgIds: [a.orgId] }), await recount(t, { orgIds: [b.orgId] })];
    await t.run(async (ctx) => {
      for (const doc of await ctx.db.query("storageTotals").collect()) await ctx.db.patch("storageTotals", doc._id, { count: "99" });
    });
    await t.mutation(internal.resources.totals.rebuildAllStorageTotals, {});
    await t.finishAllScheduledFunctions(() => undefined);
    expect(await a.as.query(api.resources.summary.getStorageSummary, { orgId: a.orgId })).toEqual(expected[0]);
    expect(await b.as.query(api.resources.summary.getStorageSummary, { orgId: b.orgId })).toEqual(expected[1]);
  });
});

describe("docks older than the totals", () => {
  test("the cron rebuilds a dock that has rows but no totals, marks it built, and leaves built docks alone", async () => {
    const t = newTest();
    const old = await orgWithDock(t, "vultr");
    const built = await orgWithDock(t, "linode");
    const expected = await recount(t, { orgIds: [old.orgId] });
    const builtBefore = await built.as.query(api.resources.summary.getStorageSummary, { orgId: built.orgId });
    // As a deployment has it before the totals existed: rows, no totals, no mark.
    await t.run(async (ctx) => {
      const totals = await ctx.db
        .query("storageTotals")
        .withIndex("by_dock_type_region", (q) => q.eq("dockId", old.dockId))
        .collect();
      for (const doc of totals) await ctx.db.delete("storageTotals", doc._id);
      await ctx.db.patch("docks", old.dockId, { storageTotalsBuiltAt: undefined });
    });
    expect((await old.as.query(api.resources.summary.getStorageSummary, { orgId: old.orgId })).blockVolumes.total.count).toBe(0);

    await t.mutation(internal.docks.cron.syncDueDocks, {});
    await t.finishAllScheduledFunctions(() => undefined);

    expect(await old.as.query(api.resources.summary.getStorageSummary, { orgId: old.orgId })).toEqual(expected);
    const docks = await t.run(async (ctx) => [await ctx.db.get("docks", old.dockId), await ctx.db.get("docks", built.dockId)]);
    expect(docks[0]?.storageTotalsBuiltAt).toBeGreaterThan(0);
    expect(await built.as.query(api.resources.summary.getStorageSummary, { orgId: built.orgId })).toEqual(builtBefore);
    // A second cron run finds nothing to rebuild.
    await t.mutation(internal.docks.cron.syncDueDocks, {});
    expect(await t.run((ctx) => ctx.db.query("storageTotalsRebuilds").collect())).toEqual([]);
  });

  test("a dock created through createDock is built from the start: the cron starts no rebuild for it", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "admin");
    const dockId = await as.action(api.docks.actions.createDock, {
      orgId,
      name: "New",
      provider: "digitalocean",
      apiKey: emulator.accounts.digitalocean.token,
    });
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))?.storageTotalsBuiltAt).toBeGreaterThan(0);
    await t.mutation(internal.docks.cron.syncDueDocks, {});
    expect(await t.run((ctx) => ctx.db.query("storageTotalsRebuilds").collect())).toEqual([]);
  });
});

// The recount for rows too large to read in one transaction under the limits.
async function recountInPages(t: TestConvex, orgId: Id<"organizations">) {
  const volumes = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await t.run((ctx) =>
      ctx.db
        .query("blockVolumes")
        .withIndex("by_orgId", (q) => q.eq("orgId", orgId))
        .paginate({ cursor, numItems: 200 }),
    );
    volumes.push(...page.page);
    if (page.isDone) return summaryOfRows(volumes, []);
    cursor = page.continueCursor;
  }
}
