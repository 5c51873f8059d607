// The periodic re-sync: starts a sync for every dock that is due, reading
// docks through the by_nextSyncAt index a batch at a time (never a scan).
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation, type MutationCtx } from "../_generated/server";
import { LEASE_TTL_MS, leaseIsLive } from "./lease";
import { startSync } from "./mutations";

// Docks started per transaction; more due docks continue in a follow-up run.
export const DUE_BATCH = 100;

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
  returns: v.object({ started: v.number(), more: v.boolean() }),
  handler: async (ctx) => {
    const result = await scheduleDueDocks(ctx, Date.now());
    if (result.more) await ctx.scheduler.runAfter(0, internal.docks.cron.syncDueDocks, {});
    return result;
  },
});
