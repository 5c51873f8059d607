// The sync lease and the schedule: one sync per dock at a time, dead leases
// recovered, the cron starting only due docks and backing off after failures.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { newTest, seedDock, seedMember, seedOrg, syncNow, startTestEmulator, type TestConvex } from "../test.setup";
import { DUE_BATCH } from "./cron";
import { DEFAULT_SYNC_INTERVAL_MS, LEASE_TTL_MS, MAX_BACKOFF_MS } from "./lease";
import { startSync } from "./mutations";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

async function setup() {
  const t = newTest();
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
  return { t, orgId, as, dockId };
}

const scheduledCount = (t: TestConvex) =>
  t.run(async (ctx) => (await ctx.db.system.query("_scheduled_functions").collect()).length);

const dockOf = (t: TestConvex, dockId: Id<"docks">) => t.run((ctx) => ctx.db.get("docks", dockId));

describe("the sync lease", () => {
  test("a second sync while one runs is refused with ALREADY_SYNCING and schedules nothing", async () => {
    const { t, as, dockId } = await setup();
    await as.mutation(api.docks.mutations.syncDock, { dockId });
    const scheduled = await scheduledCount(t);
    await expect(as.mutation(api.docks.mutations.syncDock, { dockId })).rejects.toThrow(/ALREADY_SYNCING/);
    expect(await scheduledCount(t)).toBe(scheduled);
    await t.finishInProgressScheduledFunctions();
  });

  test("a lease older than the action time limit is taken over, and the dead sync can no longer write", async () => {
    const { t, as, dockId } = await setup();
    const deadLease = "lease-of-a-crashed-action";
    await t.run((ctx) =>
      ctx.db.patch("docks", dockId, {
        syncState: "syncing",
        syncLeaseId: deadLease,
        syncStartedAt: Date.now() - LEASE_TTL_MS - 1,
      }),
    );
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("success");
    expect(dock.syncState).toBe("idle");
    await expect(
      t.mutation(internal.docks.mutations.syncDockResources, {
        dockId,
        leaseId: deadLease,
        fetchedData: { blockVolumes: [] },
      }),
    ).rejects.toThrow(/LEASE_LOST/);
  });

  test("a sync whose lease was taken over records nothing on the dock", async () => {
    const { t, dockId } = await setup();
    const leaseId = await t.run(async (ctx) => startSync(ctx, (await ctx.db.get("docks", dockId))!, Date.now()));
    await t.run((ctx) => ctx.db.patch("docks", dockId, { syncLeaseId: "newer-lease" }));
    await t.mutation(internal.docks.mutations.finishSync, { dockId, leaseId, stats: {}, fatalError: "old" });
    const dock = await dockOf(t, dockId);
    expect(dock?.lastSyncError).toBeUndefined();
    expect(dock?.syncLeaseId).toBe("newer-lease");
    await t.finishInProgressScheduledFunctions();
  });
});

describe("the cron", () => {
  test("starts only the docks that are due and not already syncing", async () => {
    const { t, orgId, dockId: due } = await setup();
    const token = emulator.accounts.vultr.token;
    const now = Date.now();
    await t.run((ctx) => ctx.db.patch("docks", due, { nextSyncAt: now - 1000 }));
    const later = await seedDock(t, orgId, "vultr", token, { nextSyncAt: now + 60_000 });
    const busy = await seedDock(t, orgId, "vultr", token, {
      nextSyncAt: now - 1000,
      syncState: "syncing",
      syncLeaseId: "running",
      syncStartedAt: now - 5000,
    });

    const result = await t.mutation(internal.docks.cron.syncDueDocks, {});
    expect(result).toEqual({ started: 1, dead: 0, more: false });
    expect((await dockOf(t, due))?.syncState).toBe("syncing");
    expect((await dockOf(t, later))?.syncState).toBe("idle");
    expect((await dockOf(t, busy))?.syncLeaseId).toBe("running");
    // The busy dock is looked at again when its lease would end.
    expect((await dockOf(t, busy))?.nextSyncAt).toBe(now - 5000 + LEASE_TTL_MS);
    await t.finishInProgressScheduledFunctions();
  });

  test("never starts a dock that is being deleted", async () => {
    const { t, orgId, dockId } = await setup();
    const { as: admin } = await seedMember(t, orgId, "admin");
    await t.run((ctx) => ctx.db.patch("docks", dockId, { nextSyncAt: Date.now() - 1000 }));
    await admin.mutation(api.docks.mutations.deleteDock, { dockId });
    expect(await t.mutation(internal.docks.cron.syncDueDocks, {})).toEqual({ started: 0, dead: 0, more: false });
    await t.finishInProgressScheduledFunctions();
  });

  test("more due docks than one batch are started over several runs", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const past = Date.now() - 1000;
    await t.run(async (ctx) => {
      for (let i = 0; i < DUE_BATCH + 20; i++) {
        await ctx.db.insert("docks", {
          orgId,
          name: `dock ${i}`,
          provider: "vultr",
          encryptedApiKey: new ArrayBuffer(40),
          syncState: "idle",
          nextSyncAt: past,
        });
      }
    });
    const first = await t.run((ctx) =>
      ctx.db.query("docks").withIndex("by_nextSyncAt", (q) => q.lte("nextSyncAt", Date.now())).collect(),
    );
    expect(first.length).toBe(DUE_BATCH + 20);
    const run = await t.mutation(internal.docks.cron.syncDueDocks, {});
    expect(run).toEqual({ started: DUE_BATCH, dead: 0, more: true });
    const second = await t.mutation(internal.docks.cron.syncDueDocks, {});
    expect(second).toEqual({ started: 20, dead: 0, more: false });
  });

  test("backs off exponentially after failures in a row, at most an hour, and resets on success", async () => {
    const { t, dockId } = await setup();
    const delays: number[] = [];
    for (let failure = 0; failure < 4; failure++) {
      const leaseId = await t.run(async (ctx) => {
        await ctx.db.patch("docks", dockId, { syncState: "idle" });
        return await startSync(ctx, (await ctx.db.get("docks", dockId))!, Date.now());
      });
      await t.mutation(internal.docks.mutations.finishSync, { dockId, leaseId, stats: {}, fatalError: "down" });
      const dock = (await dockOf(t, dockId))!;
      delays.push(dock.nextSyncAt! - dock.lastSyncAt!);
      expect(dock.consecutiveFailures).toBe(failure + 1);
    }
    expect(delays).toEqual([
      Math.min(DEFAULT_SYNC_INTERVAL_MS * 2, MAX_BACKOFF_MS),
      Math.min(DEFAULT_SYNC_INTERVAL_MS * 4, MAX_BACKOFF_MS),
      MAX_BACKOFF_MS,
      MAX_BACKOFF_MS,
    ]);
    await t.finishInProgressScheduledFunctions();
    const ok = await t.run(async (ctx) => {
      await ctx.db.patch("docks", dockId, { syncState: "idle" });
      return await startSync(ctx, (await ctx.db.get("docks", dockId))!, Date.now());
    });
    await t.mutation(internal.docks.mutations.finishSync, { dockId, leaseId: ok, stats: {} });
    const dock = (await dockOf(t, dockId))!;
    expect(dock.consecutiveFailures).toBe(0);
    expect(dock.nextSyncAt! - dock.lastSyncAt!).toBe(DEFAULT_SYNC_INTERVAL_MS);
    await t.finishInProgressScheduledFunctions();
  });

  test("a dock that failed with a bad key is due again only after its backoff", async () => {
    const { t, as, dockId } = await setup();
    emulator.addFault({ provider: "vultr", path: "/v2/blocks", kind: "401", times: Infinity });
    emulator.addFault({ provider: "vultr", path: "/v2/instances", kind: "401", times: Infinity });
    emulator.addFault({ provider: "vultr", path: "/v2/object-storage", kind: "401", times: Infinity });
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("error");
    expect(dock.consecutiveFailures).toBe(1);
    expect(await t.mutation(internal.docks.cron.syncDueDocks, {})).toEqual({ started: 0, dead: 0, more: false });
  });
});
