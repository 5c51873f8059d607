// The sync lease and the sync schedule of a dock, as plain functions: who may
// start a sync, when one counts as dead, and when a dock is next due.
import type { Doc } from "../_generated/dataModel";
import type { SyncErrorCode, SyncStats, SyncStatus } from "../validators";

// Convex ends an action after 10 minutes; a lease older than that plus a
// margin belongs to a sync that can no longer be running.
export const ACTION_TIME_LIMIT_MS = 10 * 60_000;
export const LEASE_TTL_MS = ACTION_TIME_LIMIT_MS + 60_000;
// The sync action stops starting provider requests after this long, so it
// can still record its outcome before the platform ends it.
export const SYNC_BUDGET_MS = 8 * 60_000;

export const DEFAULT_SYNC_INTERVAL_MS = 15 * 60_000;
// Bounds for a dock's own interval: more often than every 5 minutes spends
// the provider's rate limit for little; less than daily is stale inventory.
export const MIN_SYNC_INTERVAL_MS = 5 * 60_000;
export const MAX_SYNC_INTERVAL_MS = 24 * 60 * 60_000;
export const MAX_BACKOFF_MS = 60 * 60_000;

export function leaseIsLive(dock: Doc<"docks">, now: number): boolean {
  return (
    dock.syncState === "syncing" &&
    dock.syncStartedAt !== undefined &&
    now - dock.syncStartedAt < LEASE_TTL_MS
  );
}

export function holdsLease(dock: Doc<"docks"> | null, leaseId: string): dock is Doc<"docks"> {
  return dock !== null && dock.syncState === "syncing" && dock.syncLeaseId === leaseId;
}

/** How long after a sync the dock is due again: its interval, doubled per failure in a row, at most an hour. */
export function nextSyncDelayMs(intervalMs: number, consecutiveFailures: number): number {
  if (consecutiveFailures === 0) return intervalMs;
  return Math.max(intervalMs, Math.min(intervalMs * 2 ** consecutiveFailures, MAX_BACKOFF_MS));
}

/** The dock's overall status from its per-type outcomes. */
export function overallStatus(stats: SyncStats, fatalError: string | undefined): SyncStatus {
  if (fatalError !== undefined) return "error";
  const types = Object.values(stats).filter((s) => s !== undefined);
  const failed = types.filter((s) => s.error !== undefined && s.fetched === 0 && !s.complete);
  if (types.length > 0 && failed.length === types.length) return "error";
  return types.every((s) => s.complete && s.error === undefined) ? "success" : "partial";
}

/** One readable line of what went wrong, per type, for the dashboard. */
export function summarizeErrors(stats: SyncStats, fatalError: string | undefined): string | undefined {
  if (fatalError !== undefined) return fatalError;
  const lines = Object.entries(stats)
    .filter(([, s]) => s?.error !== undefined)
    .map(([type, s]) => `${type}: ${s!.error}`);
  // Each part is bounded where it is made; this bounds the whole as well.
  return lines.length > 0 ? lines.join("\n").slice(0, 2000) : undefined;
}

// When types fail differently, the dock shows the code that asks the most of
// the user: a refused key first (rotate it), then a setup problem, and so on.
const CODE_PRIORITY: SyncErrorCode[] = [
  "INVALID_CREDENTIALS",
  "CONFIGURATION",
  "ACCESS_DENIED",
  "RATE_LIMITED",
  "PROVIDER_ERROR",
  "INCOMPLETE_LISTING",
  "WRITE_FAILED",
  "SYNC_DIED",
  "ITEMS_SKIPPED",
];

/** Of two codes, the one that asks more of the user (see CODE_PRIORITY). */
export function moreUrgentCode(a: SyncErrorCode | undefined, b: SyncErrorCode): SyncErrorCode {
  return a !== undefined && CODE_PRIORITY.indexOf(a) < CODE_PRIORITY.indexOf(b) ? a : b;
}

/** The one code the dock shows for a sync that did not fully succeed. */
export function summarizeErrorCode(stats: SyncStats, fatalCode: SyncErrorCode | undefined): SyncErrorCode | undefined {
  if (fatalCode !== undefined) return fatalCode;
  const codes = new Set(Object.values(stats).map((s) => s?.errorCode));
  return CODE_PRIORITY.find((c) => codes.has(c));
}

// What a viewer reads instead of the provider's own text: a provider's answer
// can echo any part of what it was sent, and viewers need no more than this
// to know what is wrong. Members and above see the (redacted) full text.
export const ERROR_TEXT_FOR_VIEWERS: Record<SyncErrorCode, string> = {
  INVALID_CREDENTIALS: "The provider refused the dock's API key; an admin needs to rotate it.",
  ACCESS_DENIED: "The dock's API key may not read this resource type.",
  RATE_LIMITED: "The provider's rate limit ran out; the next sync tries again.",
  PROVIDER_ERROR: "The provider failed or gave an unreadable answer; the next sync tries again.",
  INCOMPLETE_LISTING: "The provider's listing could not be read whole; nothing was removed.",
  ITEMS_SKIPPED: "Some items could not be read and were skipped.",
  WRITE_FAILED: "Storing the inventory failed; the next sync tries again.",
  SYNC_DIED: "The sync stopped before it recorded an outcome.",
  CONFIGURATION: "The deployment's configuration prevents syncing; an administrator needs to fix it.",
};
