// Dock mutations: the "sync dock" button (public) and the writes of a running
// sync (internal). Provider calls happen in ./actions.ts, never here.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { internalMutation, mutation, type MutationCtx } from "../_generated/server";
import { recordAudit } from "../lib/audit";
import { numberFromEnv } from "../lib/settings";
import { CAPABILITIES, requireDockRole, requireOrgRole } from "../lib/auth";
import { fail } from "../lib/errors";
import { requireName } from "../lib/names";
import { vProvider, vSyncedType, vSyncErrorCode, vSyncProgress, vSyncStats, type SyncedType } from "../validators";
import type { SyncMethod } from "./_types";
import {
  DEFAULT_SYNC_INTERVAL_MS,
  holdsLease,
  LEASE_TTL_MS,
  leaseIsLive,
  MAX_SYNC_INTERVAL_MS,
  MIN_SYNC_INTERVAL_MS,
  nextSyncDelayMs,
  overallStatus,
  summarizeErrorCode,
  summarizeErrors,
} from "./lease";
import { PROVIDER_NAMES } from "./http";
import { getAdapter } from "./registry";
import { withChunkWritten } from "./progress";
import { purgeDockBatch } from "./removal";
import { reapIfDead } from "./deadSync";
import { settleStaleRows, type ChunkResult } from "./sync";

export const vChunkResult = v.object({
  inserted: v.number(),
  updated: v.number(),
  unchanged: v.number(),
});

/**
 * Takes the dock's sync lease and schedules the sync action. Throws
 * ALREADY_SYNCING while a live sync holds the lease; a sync whose action died
 * is recorded as failed first and does not block a new one. Used by the
 * button and by the cron.
 */
export async function startSync(
  ctx: MutationCtx,
  dock: Doc<"docks">,
  now: number,
): Promise<string> {
  if (dock.deletingAt !== undefined) fail("NOT_FOUND", "No such dock.");
  if (leaseIsLive(dock, now) && !(await reapIfDead(ctx, dock, now))) {
    fail("ALREADY_SYNCING", `Dock "${dock.name}" is already syncing.`);
  }
  const leaseId = crypto.randomUUID();
  // Only ids travel to the action; it reads and decrypts the key itself.
  const syncJobId = await ctx.scheduler.runAfter(0, internal.docks.actions.syncDockResources, {
    dockId: dock._id,
    leaseId,
  });
  await ctx.db.patch("docks", dock._id, {
    syncState: "syncing",
    syncLeaseId: leaseId,
    syncJobId,
    syncStartedAt: now,
    // A new sync's progress starts afresh, whatever an earlier one left.
    syncProgress: { phase: "starting", types: [], updatedAt: now },
    // Not due again while this sync may run; finishSync sets the real time.
    // If the action dies, the cron sees its job's state within a minute.
    nextSyncAt: now + LEASE_TTL_MS,
  });
  return leaseId;
}

// Least time between the end of a sync and a "sync dock" press: pressing
// again and again would spend the provider's rate limit on identical listings.
export const DEFAULT_SYNC_BUTTON_COOLDOWN_MS = 60_000;

export const syncDock = mutation({
  args: { dockId: v.id("docks") },
  returns: v.null(),
  handler: async (ctx, { dockId }) => {
    const { user, dock } = await requireDockRole(ctx, dockId, CAPABILITIES.syncDock);
    const now = Date.now();
    const cooldown = numberFromEnv("SYNC_BUTTON_COOLDOWN_MS", DEFAULT_SYNC_BUTTON_COOLDOWN_MS);
    if (dock.syncState === "idle" && dock.lastSyncAt !== undefined && now - dock.lastSyncAt < cooldown) {
      fail(
        "SYNC_TOO_SOON",
        `Dock "${dock.name}" synced ${Math.round((now - dock.lastSyncAt) / 1000)} s ago; try again in ${Math.ceil((cooldown - (now - dock.lastSyncAt)) / 1000)} s.`,
      );
    }
    await startSync(ctx, dock, now);
    await recordAudit(ctx, dock, "dock.syncRequested", user._id);
    return null;
  },
});

export const renameDock = mutation({
  args: { dockId: v.id("docks"), name: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { user, dock } = await requireDockRole(ctx, args.dockId, CAPABILITIES.manageDocks);
    const name = requireName(args.name, "dock");
    if (name === dock.name) return null;
    await ctx.db.patch("docks", dock._id, { name });
    await recordAudit(ctx, dock, "dock.renamed", user._id, `"${dock.name}" -> "${name}"`);
    return null;
  },
});

/**
 * Sets how often the cron re-syncs this dock, in milliseconds like every other
 * time in the API (and like the dock's `syncIntervalMs`); the next due time
 * moves with it. A whole number of ms within the bounds, else INVALID_ARGUMENT.
 */
export const setDockSyncInterval = mutation({
  args: { dockId: v.id("docks"), syncIntervalMs: v.number() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { user, dock } = await requireDockRole(ctx, args.dockId, CAPABILITIES.manageDocks);
    const intervalMs = args.syncIntervalMs;
    if (!Number.isInteger(intervalMs) || intervalMs < MIN_SYNC_INTERVAL_MS || intervalMs > MAX_SYNC_INTERVAL_MS) {
      fail(
        "INVALID_ARGUMENT",
        `syncIntervalMs must be a whole number of milliseconds from ${MIN_SYNC_INTERVAL_MS} (${MIN_SYNC_INTERVAL_MS / 60_000} minutes) ` +
          `to ${MAX_SYNC_INTERVAL_MS} (${MAX_SYNC_INTERVAL_MS / 60_000} minutes).`,
      );
    }
    const patch: Partial<Doc<"docks">> = { syncIntervalMs: intervalMs };
    // A dock between syncs is next due one new interval after its last sync;
    // a running sync sets its own next time when it finishes.
    if (dock.syncState === "idle" && dock.lastSyncAt !== undefined) {
      patch.nextSyncAt = dock.lastSyncAt + nextSyncDelayMs(intervalMs, dock.consecutiveFailures ?? 0);
    }
    await ctx.db.patch("docks", dock._id, patch);
    await recordAudit(ctx, dock, "dock.intervalChanged", user._id, `${intervalMs} ms (${intervalMs / 60_000} minutes)`);
    return null;
  },
});

/**
 * Removes a dock: hides it at once, ends any running sync (its lease is
 * dropped), and schedules the removal of its rows in bounded batches.
 */
export const deleteDock = mutation({
  args: { dockId: v.id("docks") },
  returns: v.null(),
  handler: async (ctx, { dockId }) => {
    const { user, dock } = await requireDockRole(ctx, dockId, CAPABILITIES.manageDocks);
    await ctx.db.patch("docks", dock._id, {
      deletingAt: Date.now(),
      syncState: "idle",
      syncLeaseId: undefined,
      syncJobId: undefined,
      syncProgress: undefined,
      // Never due again: the cron's range by nextSyncAt does not reach it.
      nextSyncAt: Number.MAX_SAFE_INTEGER,
      // Its totals go with its rows: nothing for the cron to rebuild.
      storageTotalsBuiltAt: dock.storageTotalsBuiltAt ?? Date.now(),
    });
    await recordAudit(ctx, dock, "dock.deleted", user._id);
    await ctx.scheduler.runAfter(0, internal.docks.mutations.purgeDock, { dockId });
    return null;
  },
});

/** Deletes one batch of a removed dock's rows; reschedules itself until the dock is gone. */
export const purgeDock = internalMutation({
  args: { dockId: v.id("docks") },
  returns: v.null(),
  handler: async (ctx, { dockId }) => {
    const dock = await ctx.db.get("docks", dockId);
    if (dock === null || dock.deletingAt === undefined) return null;
    const done = await purgeDockBatch(ctx, dock);
    if (done) await ctx.db.delete("docks", dockId);
    else await ctx.scheduler.runAfter(0, internal.docks.mutations.purgeDock, { dockId });
    return null;
  },
});

/**
 * Stores a rotated key that the action has verified and encrypted, if it
 * belongs to the dock's provider account. A key of another account would make
 * the next sync list that account and delete every row (and project link) of
 * this one, so it is refused with ACCOUNT_MISMATCH and the old key stays. A
 * dock created before accounts were recorded takes the account of its first
 * verified rotation.
 */
export const replaceDockKey = internalMutation({
  args: { dockId: v.id("docks"), encryptedApiKey: v.bytes(), accountId: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { user, dock } = await requireDockRole(ctx, args.dockId, CAPABILITIES.manageDocks);
    if (dock.accountId !== undefined && dock.accountId !== args.accountId) {
      fail(
        "ACCOUNT_MISMATCH",
        `This key belongs to another ${PROVIDER_NAMES[dock.provider]} account than the one dock "${dock.name}" ` +
          "syncs, so it was not stored and the dock keeps its current key. To sync that account, connect it as a new dock.",
      );
    }
    await ctx.db.patch("docks", dock._id, {
      encryptedApiKey: args.encryptedApiKey,
      accountId: args.accountId,
      consecutiveFailures: 0,
      keyRotatedAt: Date.now(),
    });
    await recordAudit(ctx, dock, "dock.keyRotated", user._id);
    return null;
  },
});

/** Stores a Spaces key pair that the action has verified and encrypted (setDockSpacesKey). */
export const storeDockSpacesKey = internalMutation({
  args: { dockId: v.id("docks"), encryptedSpacesKey: v.bytes() },
  returns: v.null(),
  handler: async (ctx, args) => {
    // Checked again here: the role may have changed while the pair was verified.
    const { user, dock } = await requireDockRole(ctx, args.dockId, CAPABILITIES.manageDocks);
    if (dock.provider !== "digitalocean") fail("INVALID_ARGUMENT", "A Spaces key belongs to a DigitalOcean dock only.");
    const replaced = dock.encryptedSpacesKey !== undefined;
    await ctx.db.patch("docks", dock._id, { encryptedSpacesKey: args.encryptedSpacesKey });
    await recordAudit(ctx, dock, "dock.spacesKeySet", user._id, replaced ? "replaced" : undefined);
    return null;
  },
});

/**
 * Removes a dock's Spaces key pair: its buckets are no longer synced. The
 * rows the last sync wrote stay (as of that sync) until the dock is deleted
 * or a pair is set again and a sync settles them.
 */
export const removeDockSpacesKey = mutation({
  args: { dockId: v.id("docks") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { user, dock } = await requireDockRole(ctx, args.dockId, CAPABILITIES.manageDocks);
    if (dock.encryptedSpacesKey === undefined) return null;
    await ctx.db.patch("docks", dock._id, { encryptedSpacesKey: undefined });
    await recordAudit(ctx, dock, "dock.spacesKeyRemoved", user._id);
    return null;
  },
});

/** Stores a verified, encrypted key as a new dock and starts its first sync. */
export const insertDock = internalMutation({
  args: {
    orgId: v.id("organizations"),
    name: v.string(),
    provider: vProvider,
    encryptedApiKey: v.bytes(),
    accountId: v.string(),
    encryptedSpacesKey: v.optional(v.bytes()),
  },
  returns: v.id("docks"),
  handler: async (ctx, args) => {
    // Checked again here: the role may have changed while the key was verified.
    const { user } = await requireOrgRole(ctx, args.orgId, CAPABILITIES.manageDocks);
    const existing = await ctx.db
      .query("docks")
      .withIndex("by_orgId", (q) => q.eq("orgId", args.orgId))
      .take(MAX_DOCKS_PER_ORG);
    if (existing.length >= MAX_DOCKS_PER_ORG) {
      fail("LIMIT_REACHED", `An organization holds at most ${MAX_DOCKS_PER_ORG} docks; delete one first.`);
    }
    const dockId = await ctx.db.insert("docks", {
      ...args,
      syncState: "idle",
      syncIntervalMs: DEFAULT_SYNC_INTERVAL_MS,
      // No rows yet: its storage totals are exact from the start.
      storageTotalsBuiltAt: Date.now(),
    });
    const dock = (await ctx.db.get("docks", dockId))!;
    await recordAudit(ctx, dock, "dock.created", user._id);
    await startSync(ctx, dock, Date.now());
    return dockId;
  },
});

// Docks one organization may hold: its dock list stays one small answer.
export const MAX_DOCKS_PER_ORG = 500;

const SYNC_METHODS: Record<SyncedType, "syncServers" | "syncBlockVolumes" | "syncBuckets"> = {
  servers: "syncServers",
  blockVolumes: "syncBlockVolumes",
  buckets: "syncBuckets",
};

async function leasedDock(ctx: MutationCtx, dockId: Id<"docks">, leaseId: string) {
  const dock = await ctx.db.get("docks", dockId);
  // The lease moved on (the dock was deleted, or a stale lease was taken over
  // by a newer sync): this sync must not write.
  if (!holdsLease(dock, leaseId)) fail("LEASE_LOST", "This sync no longer holds the dock's lease.");
  return dock;
}

/**
 * Writes one chunk of a listing: routes each type present in fetchedData to
 * the adapter's syncX. The items are row fields, parsed in the action from the
 * provider's items as they arrived.
 */
export const syncDockResources = internalMutation({
  args: {
    dockId: v.id("docks"),
    leaseId: v.string(),
    fetchedData: v.object({
      servers: v.optional(v.array(v.any())),
      blockVolumes: v.optional(v.array(v.any())),
      buckets: v.optional(v.array(v.any())),
    }),
    // Names of the dock's servers this sync listed, by provider key, that the
    // chunk's volumes are attached to (a volume row shows its server's name).
    serverNames: v.optional(v.array(v.object({ key: v.string(), name: v.string() }))),
    // Per type, the row id of each item's key as the action read it.
    rowIds: v.optional(
      v.object({
        servers: v.optional(v.array(v.union(v.string(), v.null()))),
        blockVolumes: v.optional(v.array(v.union(v.string(), v.null()))),
        buckets: v.optional(v.array(v.union(v.string(), v.null()))),
      }),
    ),
    // The sync's progress when one is due (docks/progress.ts): stored on the
    // dock with this chunk's writes added, so progress costs no mutation of
    // its own while chunks flow.
    progress: v.optional(vSyncProgress),
    // Fields existing rows keep this chunk: their source (a type's prepare)
    // failed this sync (DockAdapter.preparedFields).
    keepFields: v.optional(v.array(v.string())),
  },
  returns: v.object({
    servers: v.optional(vChunkResult),
    blockVolumes: v.optional(vChunkResult),
    buckets: v.optional(vChunkResult),
  }),
  handler: async (ctx, args) => {
    const dock = await leasedDock(ctx, args.dockId, args.leaseId);
    const adapter = getAdapter(dock.provider);
    const results: Partial<Record<SyncedType, ChunkResult>> = {};
    for (const type of ["servers", "blockVolumes", "buckets"] as const) {
      const items = args.fetchedData[type];
      const method: SyncMethod | undefined = adapter[SYNC_METHODS[type]];
      if (items === undefined || method === undefined) continue;
      const names = args.serverNames && new Map(args.serverNames.map((s) => [s.key, s.name]));
      results[type] = await method(ctx, dock, items, args.rowIds?.[type], names, args.keepFields);
    }
    if (args.progress !== undefined) {
      await ctx.db.patch("docks", dock._id, { syncProgress: withChunkWritten(args.progress, results) });
    }
    return results;
  },
});

/**
 * Settles rows a complete listing did not return: deletes those the provider
 * confirmed gone, marks the unconfirmed ones missing, unmarks those it still
 * has. See settleStaleRows.
 */
export const settleStaleResources = internalMutation({
  args: {
    dockId: v.id("docks"),
    leaseId: v.string(),
    resourceType: vSyncedType,
    verdicts: v.object({ gone: v.array(v.string()), missing: v.array(v.string()), present: v.array(v.string()) }),
    syncStartedAt: v.number(),
  },
  returns: v.object({ deleted: v.number(), marked: v.number() }),
  handler: async (ctx, args) => {
    const dock = await leasedDock(ctx, args.dockId, args.leaseId);
    return await settleStaleRows(ctx, dock, args.resourceType, args.verdicts, args.syncStartedAt);
  },
});

/** Stores a running sync's progress on the dock when no chunk is there to carry it (a phase change, lookups). */
export const reportSyncProgress = internalMutation({
  args: { dockId: v.id("docks"), leaseId: v.string(), progress: vSyncProgress },
  returns: v.null(),
  handler: async (ctx, args) => {
    const dock = await leasedDock(ctx, args.dockId, args.leaseId);
    await ctx.db.patch("docks", dock._id, { syncProgress: args.progress });
    return null;
  },
});

/** Records a sync's outcome on the dock, releases the lease and sets the next due time. */
export const finishSync = internalMutation({
  args: {
    dockId: v.id("docks"),
    leaseId: v.string(),
    stats: vSyncStats,
    fatalError: v.optional(v.string()),
    fatalCode: v.optional(vSyncErrorCode),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const dock = await ctx.db.get("docks", args.dockId);
    if (!holdsLease(dock, args.leaseId)) return null;
    const now = Date.now();
    const fatalError = args.fatalError === undefined ? undefined : args.fatalError.slice(0, 2000);
    const status = overallStatus(args.stats, fatalError);
    // The key was replaced while this sync ran on the old one: its failures
    // say nothing of the new key, which is tried again at once.
    const staleKey =
      dock.keyRotatedAt !== undefined && dock.syncStartedAt !== undefined && dock.keyRotatedAt > dock.syncStartedAt;
    const failures = staleKey ? 0 : status === "error" ? (dock.consecutiveFailures ?? 0) + 1 : 0;
    await ctx.db.patch("docks", dock._id, {
      syncState: "idle",
      syncLeaseId: undefined,
      syncJobId: undefined,
      syncProgress: undefined,
      lastSyncStatus: status,
      lastSyncAt: now,
      lastSyncError: summarizeErrors(args.stats, fatalError),
      lastSyncErrorCode: status === "success" ? undefined : summarizeErrorCode(args.stats, args.fatalCode),
      lastSyncStats: args.stats,
      consecutiveFailures: failures,
      nextSyncAt: now + nextSyncDelayMs(dock.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS, failures),
    });
    if (staleKey && status !== "success") await startSync(ctx, (await ctx.db.get("docks", dock._id))!, now);
    return null;
  },
});
