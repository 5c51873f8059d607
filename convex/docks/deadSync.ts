// A sync whose action died (out of memory, out of time, a crash) records
// nothing itself. Each sync's scheduled job is kept on the dock, and whoever
// looks next (the cron each minute, the "sync dock" button, the dock list)
// reads the job's state: a job that failed, was canceled, vanished, or ended
// while its lease is still held means the sync is dead.
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { DEFAULT_SYNC_INTERVAL_MS, nextSyncDelayMs } from "./lease";

/** Why the dock's running sync is dead, or null while it may still be running. */
export async function deadSyncReason(ctx: QueryCtx, dock: Doc<"docks">): Promise<string | null> {
  if (dock.syncState !== "syncing" || dock.syncJobId === undefined) return null;
  const job = await ctx.db.system.get("_scheduled_functions", dock.syncJobId);
  if (job === null) return "The sync stopped without recording an outcome (its job is gone).";
  switch (job.state.kind) {
    case "failed":
      return "The sync stopped without recording an outcome (the action failed: out of memory, out of time, or a crash).";
    case "canceled":
      return "The sync was canceled before it recorded an outcome.";
    case "success":
      // finishSync releases the lease before the action returns; a job that
      // succeeded while the lease is still held ended without recording.
      return "The sync ended without recording an outcome.";
    default:
      return null;
  }
}

/** Marks a dead sync failed on the dock: the lease is released and backoff applies. */
export async function recordDeadSync(
  ctx: MutationCtx,
  dock: Doc<"docks">,
  reason: string,
  now: number,
): Promise<void> {
  const failures = (dock.consecutiveFailures ?? 0) + 1;
  await ctx.db.patch("docks", dock._id, {
    syncState: "idle",
    syncLeaseId: undefined,
    syncJobId: undefined,
    syncProgress: undefined,
    lastSyncStatus: "error",
    lastSyncAt: now,
    lastSyncError: reason,
    lastSyncErrorCode: "SYNC_DIED",
    lastSyncStats: undefined,
    consecutiveFailures: failures,
    nextSyncAt: now + nextSyncDelayMs(dock.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS, failures),
  });
}

/** Records the dock's sync as failed if it is dead; true when it was. */
export async function reapIfDead(ctx: MutationCtx, dock: Doc<"docks">, now: number): Promise<boolean> {
  const reason = await deadSyncReason(ctx, dock);
  if (reason === null) return false;
  await recordDeadSync(ctx, dock, reason, now);
  return true;
}
