// The periodic re-sync: starts a sync for every dock that is due, reading
// docks through the by_nextSyncAt index a batch at a time (never a scan).
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation, type MutationCtx } from "../_generated/server";
import { reapIfDead } from "./deadSync";
import { LEASE_TTL_MS, leaseIsLive } from "./lease";
import { startSync } from "./mutations";

// Docks started per transaction; more due docks continue in a follow-up run.
export const DUE_BATCH = 100;

/**
 * Records running syncs whose action died as failed (with backoff), so a
 * dead sync shows within one cron period instead of when its lease expires.
 * Returns how many were dead and whether more running syncs remain unread.
 */
export async function reapDeadSyncs(ctx: MutationCtx, now: number) {
  const running = await ctx.db
    .query("docks")
    .withIndex("by_syncState", (q) => q.eq("syncState", "syncing"))
    .take(DUE_BATCH);
  let dead = 0;
  for (const dock of running) if (await reapIfDead(ctx, dock, now)) dead++;
  return { dead, more: running.length === DUE_BATCH && dead > 0 };
}

/** Starts syncs for up to DUE_BATCH due docks; returns how many were started and whether more are due. */
export async function scheduleDueDocks(ctx: MutationCtx, now: number) {
  const due = await ctx.db
    .query("docks")
    .withIndex("by_nextSyncAt", (q) => q.lte("nextSyncAt", now))
    .take(DUE_BATCH);
  let started = 0;
  for (const dock of due) {
    if (leaseIsLive(dock, now)) {
      // A sync from the button is running; look again when its lease ends.
      await ctx.db.patch("docks", dock._id, { nextSyncAt: dock.syncStartedAt! + LEASE_TTL_MS });
      continue;
    }
    // startSync moves nextSyncAt past now, so this range shrinks as it works.
    await startSync(ctx, dock, now);
    started++;
  }
  return { started, more: due.length === DUE_BATCH };
}

export const syncDueDocks = internalMutation({
  args: {},
  returns: v.object({ started: v.number(), dead: v.number(), more: v.boolean() }),
  handler: async (ctx) => {
    const now = Date.now();
    const reaped = await reapDeadSyncs(ctx, now);
    const result = await scheduleDueDocks(ctx, now);
    // Docks older than the storage totals, rebuilt in their own transaction:
    // however that goes, the due syncs above are started.
    const unbuilt = await ctx.db
      .query("docks")
      .withIndex("by_storageTotalsBuiltAt", (q) => q.eq("storageTotalsBuiltAt", undefined))
      .first();
    if (unbuilt !== null) await ctx.scheduler.runAfter(0, internal.resources.totals.rebuildUnbuiltStorageTotals, {});
    const more = result.more || reaped.more;
    if (more) await ctx.scheduler.runAfter(0, internal.docks.cron.syncDueDocks, {});
    return { started: result.started, dead: reaped.dead, more };
  },
});
