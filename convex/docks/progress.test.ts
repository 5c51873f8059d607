// A running sync shows its phase and counts on the dock, and writes the dock
// a bounded number of times however large the listing: each write re-runs
// every dashboard subscribed to the dock list.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { generateAccount } from "../../docks/emulator/accounts";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import {
  newTest,
  observeWrites,
  seedDock,
  seedMember,
  seedOrg,
  startTestEmulator,
  syncNow,
  type TestConvex,
} from "../test.setup";
import { PROVIDERS, type Provider, type SyncProgress, type SyncedType } from "../validators";
import { PROGRESS_INTERVAL_MS, progressClock, SyncProgressTracker } from "./progress";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await emulator.close();
});

const LIST_PATHS: Record<Provider, string[]> = {
  vultr: ["/v2/instances", "/v2/blocks"],
  digitalocean: ["/v2/droplets", "/v2/volumes"],
  linode: ["/v4/linode/instances", "/v4/object-storage/buckets"],
};

/** A clock a test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("the progress tracker", () => {
  test("is due on each phase change and at most once per interval between them", () => {
    const clock = manualClock();
    const tracker = new SyncProgressTracker(clock);
    // startSync already wrote "starting".
    expect(tracker.take()).toBeUndefined();
    tracker.enter("listing", "servers");
    expect(tracker.take()).toMatchObject({ phase: "listing", type: "servers" });
    expect(tracker.take()).toBeUndefined();
    clock.advance(PROGRESS_INTERVAL_MS - 1);
    expect(tracker.take()).toBeUndefined();
    clock.advance(1);
    expect(tracker.take()).toMatchObject({ phase: "listing", type: "servers", updatedAt: clock.now() });
    // Entering the phase it is in is no change.
    tracker.enter("listing", "servers");
    expect(tracker.take()).toBeUndefined();
    tracker.enter("confirmingDeletions", "servers");
    expect(tracker.take()).toMatchObject({ phase: "confirmingDeletions", type: "servers" });
  });

  test("reports each type's pages, items and writes from the stats the sync keeps", () => {
    const tracker = new SyncProgressTracker(manualClock());
    const stats = { fetched: 0, inserted: 0, updated: 0, deleted: 0, unchanged: 0, skipped: 0, complete: false };
    tracker.track("blockVolumes", stats);
    tracker.enter("listing", "blockVolumes");
    tracker.page("blockVolumes");
    stats.fetched = 500;
    stats.inserted = 400;
    stats.skipped = 1;
    expect(tracker.take()?.types).toEqual([
      { type: "blockVolumes", pages: 1, fetched: 500, inserted: 400, updated: 0, unchanged: 0, skipped: 1, deleted: 0, done: false },
    ]);
  });
});

async function vultrDock(t: TestConvex, volumes: number) {
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const { as: viewer } = await seedMember(t, orgId, "viewer");
  const account = emulator.accounts.vultr;
  emulator.setAccount("vultr", generateAccount("vultr", { seed: 7, servers: 3, volumes, token: account.token }));
  const dockId = await seedDock(t, orgId, "vultr", account.token);
  return { orgId, as, viewer, dockId };
}

/** Syncs and returns the dock's writes during the sync, with each written progress. */
async function syncWatchingTheDock(t: TestConvex, as: ReturnType<TestConvex["withIdentity"]>, dockId: Id<"docks">) {
  let writes = 0;
  const snapshots: SyncProgress[] = [];
  const stop = observeWrites(dockId, (value) => {
    writes++;
    const progress = value.syncProgress as SyncProgress | { $undefined: null } | undefined;
    if (progress !== undefined && "phase" in progress) snapshots.push(progress);
  });
  try {
    const dock = await syncNow(t, as, dockId);
    return { dock, writes, snapshots };
  } finally {
    stop();
  }
}

describe("a running sync's progress on the dock", () => {
  test("a listing of 6,000 volumes writes the dock as often as one of 6: once per phase change while the clock stands", async () => {
    vi.spyOn(progressClock, "now").mockReturnValue(1_000_000);
    const counts = [];
    for (const volumes of [6, 6000]) {
      const t = newTest();
      const { as, dockId } = await vultrDock(t, volumes);
      const { dock, writes, snapshots } = await syncWatchingTheDock(t, as, dockId);
      expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ fetched: volumes, inserted: volumes, complete: true });
      counts.push(writes);
      // The lease (1); listing servers, volumes and (an empty Object Storage)
      // buckets (3); the outcome (1).
      expect(snapshots.map((s) => [s.phase, s.type])).toEqual([
        ["starting", undefined],
        ["listing", "servers"],
        ["listing", "blockVolumes"],
        ["listing", "buckets"],
      ]);
    }
    expect(counts).toEqual([5, 5]);
  });

  test("writes at most once per interval beside its phase changes, however many pages and chunks", async () => {
    // Time moves a second each time the sync looks at the clock: a slow sync.
    const clock = manualClock();
    vi.spyOn(progressClock, "now").mockImplementation(() => clock.advance(1000));
    const t = newTest();
    const { as, dockId } = await vultrDock(t, 6000);
    const start = clock.now();
    const { dock, snapshots } = await syncWatchingTheDock(t, as, dockId);
    expect(dock.lastSyncStats?.blockVolumes?.fetched).toBe(6000);
    const elapsed = clock.now() - start;
    const phaseChanges = 3;
    const progressWrites = snapshots.length - 1; // the first is startSync's
    expect(progressWrites).toBeGreaterThan(phaseChanges);
    expect(progressWrites).toBeLessThanOrEqual(phaseChanges + Math.floor(elapsed / PROGRESS_INTERVAL_MS));
    // 6,000 volumes are 12 pages and 12 chunks: far fewer writes than either would cost one each.
    expect(progressWrites).toBeLessThan(12 + phaseChanges);
  });

  test("shows the type being listed with its pages, items and rows written so far, and clears it at the end", async () => {
    // Every look at the clock finds the interval passed: every chance to write is taken.
    const clock = manualClock();
    vi.spyOn(progressClock, "now").mockImplementation(() => clock.advance(PROGRESS_INTERVAL_MS));
    const t = newTest();
    const { as, dockId } = await vultrDock(t, 1200);
    const { dock, snapshots } = await syncWatchingTheDock(t, as, dockId);

    const volumes = snapshots
      .filter((s) => s.phase === "listing" && s.type === "blockVolumes")
      .map((s) => s.types.find((e) => e.type === "blockVolumes")!);
    expect(volumes.length).toBeGreaterThan(1);
    // Mid-way: some pages read and some rows written, not yet all.
    expect(volumes.some((v) => v.pages > 0 && v.inserted > 0 && v.inserted < 1200)).toBe(true);
    for (let i = 1; i < volumes.length; i++) {
      expect(volumes[i].fetched).toBeGreaterThanOrEqual(volumes[i - 1].fetched);
      expect(volumes[i].inserted).toBeGreaterThanOrEqual(volumes[i - 1].inserted);
    }
    for (const v of volumes) expect(v.inserted + v.updated + v.unchanged + v.skipped).toBeLessThanOrEqual(v.fetched);
    // Each type finished before the next started, and says so.
    const last = snapshots.at(-1)!;
    expect(last.types.map((e) => [e.type, e.done])).toEqual([
      ["servers", true],
      ["blockVolumes", true],
      ["buckets", false],
    ]);
    expect(last.types[0]).toMatchObject({ fetched: 3, inserted: 3 });

    expect(dock.syncState).toBe("idle");
    expect(dock.syncProgress).toBeUndefined();
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ fetched: 1200, inserted: 1200 });
  });

  test("confirming deletions shows as its own phase of the type", async () => {
    const t = newTest();
    const { as, dockId } = await vultrDock(t, 20);
    await syncNow(t, as, dockId);
    const account = emulator.accounts.vultr;
    emulator.setAccount("vultr", { ...account, volumes: account.volumes.slice(5) });
    const { dock, snapshots } = await syncWatchingTheDock(t, as, dockId);
    expect(snapshots.map((s) => [s.phase, s.type])).toEqual([
      ["starting", undefined],
      ["listing", "servers"],
      ["listing", "blockVolumes"],
      ["confirmingDeletions", "blockVolumes"],
      ["listing", "buckets"],
    ]);
    expect(dock.lastSyncStats?.blockVolumes?.deleted).toBe(5);
    expect(dock.syncProgress).toBeUndefined();
  });

  test.each(PROVIDERS)("a failed %s sync leaves no progress behind, and the next starts afresh", async (provider) => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
    for (const path of LIST_PATHS[provider]) emulator.addFault({ provider, path, kind: "401", times: Infinity });
    const failed = await syncWatchingTheDock(t, as, dockId);
    expect(failed.dock.lastSyncErrorCode).toBe("INVALID_CREDENTIALS");
    expect(failed.dock.syncProgress).toBeUndefined();
    emulator.clearFaults();
    const next = await syncWatchingTheDock(t, as, dockId);
    expect(next.snapshots[0]).toEqual({ phase: "starting", types: [], updatedAt: expect.any(Number) });
    expect(next.dock.lastSyncStatus).toBe("success");
  });

  test("a viewer sees a running sync's phase and counts in the dock list, and nothing more", async () => {
    const t = newTest();
    const { orgId, viewer, dockId } = await vultrDock(t, 6);
    const types: SyncedType[] = ["servers", "blockVolumes"];
    const progress: SyncProgress = {
      phase: "listing",
      type: "blockVolumes",
      types: types.map((type, i) => ({
        type,
        pages: 1,
        fetched: 3 + i,
        inserted: 3,
        updated: 0,
        unchanged: 0,
        skipped: i,
        deleted: 0,
        done: i === 0,
      })),
      updatedAt: 1_000_000,
    };
    await t.run((ctx) =>
      ctx.db.patch("docks", dockId, { syncState: "syncing", syncStartedAt: Date.now(), syncProgress: progress }),
    );
    const [dock] = await viewer.query(api.docks.queries.listDocks, { orgId });
    expect(dock.syncState).toBe("syncing");
    expect(dock.syncProgress).toEqual(progress);
  });
});
