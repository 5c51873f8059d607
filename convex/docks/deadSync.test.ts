// A sync whose action dies mid-way (out of memory, out of time, a crash)
// records nothing itself; the cron, the button and the dock list must see it.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { newTest, observeWrites, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, type TestConvex } from "../test.setup";
import { parseVultrBlock } from "./adapters/vultr/adapter";
import { DEFAULT_SYNC_INTERVAL_MS, nextSyncDelayMs } from "./lease";
import * as syncFlow from "./syncFlow";

// The sync action's entry point, replaceable per test: the action module
// imports it from here, so a test can make one sync die part-way.
vi.mock("./syncFlow", async (importOriginal) => {
  const real = await importOriginal<typeof import("./syncFlow")>();
  return { ...real, runDockSync: vi.fn(real.runDockSync) };
});

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

/** The next sync writes one chunk, then its action dies as an out-of-memory kill would end it. */
function killNextSyncAfterOneChunk() {
  vi.mocked(syncFlow.runDockSync).mockImplementationOnce(async (ctx, dockId, leaseId) => {
    const parsed = parseVultrBlock(emulator.accounts.vultr.volumes[0]);
    if (!parsed.ok) throw new Error(parsed.reason);
    await ctx.runMutation(internal.docks.mutations.syncDockResources, {
      dockId,
      leaseId,
      fetchedData: { blockVolumes: [parsed.fields] },
      progress: {
        phase: "listing",
        type: "blockVolumes",
        types: [
          { type: "blockVolumes", pages: 1, fetched: 1, inserted: 0, updated: 0, unchanged: 0, skipped: 0, deleted: 0, done: false },
        ],
        updatedAt: Date.now(),
      },
    });
    throw new Error("JavaScript heap out of memory");
  });
}

async function setup() {
  const t = newTest();
  const orgId = await seedOrg(t);
  const member = await seedMember(t, orgId, "member");
  const viewer = await seedMember(t, orgId, "viewer");
  const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token, {
    syncIntervalMs: DEFAULT_SYNC_INTERVAL_MS,
  });
  return { t, orgId, member: member.as, viewer: viewer.as, dockId };
}

/** Waits until the dock's sync job has run to an end (success or failure). */
async function untilJobEnds(t: TestConvex, dockId: Id<"docks">) {
  for (let i = 0; i < 2000; i++) {
    await t.finishInProgressScheduledFunctions();
    const state = await t.run(async (ctx) => {
      const dock = await ctx.db.get("docks", dockId);
      const job = dock?.syncJobId ? await ctx.db.system.get("_scheduled_functions", dock.syncJobId) : null;
      return job?.state.kind;
    });
    if (state !== "pending" && state !== "inProgress") return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("the sync job did not end");
}

const dockOf = (t: TestConvex, dockId: Id<"docks">) => t.run((ctx) => ctx.db.get("docks", dockId));

async function pressSyncAndLetItDie(t: TestConvex, as: ReturnType<TestConvex["withIdentity"]>, dockId: Id<"docks">) {
  killNextSyncAfterOneChunk();
  await as.mutation(api.docks.mutations.syncDock, { dockId });
  await untilJobEnds(t, dockId);
  const dock = await dockOf(t, dockId);
  // Nothing recorded the death: the lease is still held, and the progress
  // it last wrote (with its chunk's row) is still on the dock.
  expect(dock?.syncState).toBe("syncing");
  expect(dock?.syncProgress?.types[0]).toMatchObject({ type: "blockVolumes", fetched: 1, inserted: 1 });
  return dock!;
}

describe("a sync whose action dies", () => {
  test("is recorded as failed by the next cron run, with a reason, and backoff applies", async () => {
    const { t, member, dockId } = await setup();
    await pressSyncAndLetItDie(t, member, dockId);

    const before = Date.now();
    const run = await t.mutation(internal.docks.cron.syncDueDocks, {});
    expect(run.dead).toBe(1);
    const dock = (await dockOf(t, dockId))!;
    expect(dock.syncState).toBe("idle");
    expect(dock.syncLeaseId).toBeUndefined();
    expect(dock.lastSyncStatus).toBe("error");
    expect(dock.lastSyncErrorCode).toBe("SYNC_DIED");
    expect(dock.lastSyncError).toMatch(/without recording an outcome/);
    expect(dock.consecutiveFailures).toBe(1);
    expect(dock.syncProgress).toBeUndefined();
    expect(dock.nextSyncAt).toBeGreaterThanOrEqual(before + nextSyncDelayMs(DEFAULT_SYNC_INTERVAL_MS, 1));
    // What the dead sync wrote before it died stays.
    expect(await rowsOf(t, "blockVolumes", dockId)).toHaveLength(1);
  });

  test("shows as failed in the dock list before the cron has run", async () => {
    const { t, member, viewer, dockId } = await setup();
    await pressSyncAndLetItDie(t, member, dockId);
    const [dock] = await viewer.query(api.docks.queries.listDocks, {});
    expect(dock).toMatchObject({ syncState: "idle", lastSyncStatus: "error", lastSyncErrorCode: "SYNC_DIED" });
    // A dead sync's last progress is not shown as if it were still moving.
    expect(dock.syncProgress).toBeUndefined();
  });

  test("does not block the button: pressing it records the failure and starts a new sync that completes", async () => {
    const { t, member, dockId } = await setup();
    await pressSyncAndLetItDie(t, member, dockId);
    const progress: unknown[] = [];
    const stop = observeWrites(dockId, (value) => progress.push(value.syncProgress));
    await member.mutation(api.docks.mutations.syncDock, { dockId });
    await untilJobEnds(t, dockId);
    stop();
    // The new sync starts its progress afresh, not from the dead sync's counts.
    // First the dead sync is recorded, its progress cleared (a patch's unset field)...
    expect(progress[0]).toEqual({ $undefined: null });
    expect(progress[1]).toEqual({ phase: "starting", types: [], updatedAt: expect.any(Number) });
    const dock = (await dockOf(t, dockId))!;
    expect(dock.syncState).toBe("idle");
    expect(dock.lastSyncStatus).toBe("success");
    expect(dock.consecutiveFailures).toBe(0);
    expect(await rowsOf(t, "blockVolumes", dockId)).toHaveLength(emulator.accounts.vultr.volumes.length);
  });

  test("a sync still running is left alone by the cron", async () => {
    const { t, member, dockId } = await setup();
    emulator.addFault({ provider: "vultr", path: "/v2/instances", kind: "timeout", delayMs: 300 });
    await member.mutation(api.docks.mutations.syncDock, { dockId });
    const run = await t.mutation(internal.docks.cron.syncDueDocks, {});
    expect(run.dead).toBe(0);
    expect((await dockOf(t, dockId))?.syncState).toBe("syncing");
    await untilJobEnds(t, dockId);
    expect((await dockOf(t, dockId))?.lastSyncStatus).toBe("success");
  });
});
