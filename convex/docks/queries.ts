// Dock reads: the dashboard's dock list (never any key material) and the
// internal reads of the sync action. Resource reads: ../resources/queries.ts.
import { paginationOptsValidator } from "convex/server";
import { v, type Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import { internalQuery, query, type QueryCtx } from "../_generated/server";
import {
  CAPABILITIES,
  getCurrentUserOrNull,
  getMembership,
  readableDock,
  readableOrgIds,
  requireDockRole,
  requireOrgRole,
  roleAtLeast,
} from "../lib/auth";
import {
  dockStatusFields,
  EMPTY_PAGE,
  vAuditLogDoc,
  vPage,
  vProvider,
  vRole,
  vSyncedType,
} from "../validators";
import { collectForOrgs } from "../lib/boundedLists";
import { checkedPageOptions, readPage } from "../lib/pages";
import { utf8Length } from "../lib/documentLimits";
import { deadSyncReason } from "./deadSync";
import { ERROR_TEXT_FOR_VIEWERS, holdsLease } from "./lease";

/** The dock as the sync action needs it, or null when the lease moved on. */
export const getDockForSync = internalQuery({
  args: { dockId: v.id("docks"), leaseId: v.string() },
  returns: v.union(
    v.null(),
    v.object({
      provider: vProvider,
      encryptedApiKey: v.bytes(),
      encryptedSpacesKey: v.optional(v.bytes()),
      name: v.string(),
      orgId: v.id("organizations"),
    }),
  ),
  handler: async (ctx, { dockId, leaseId }) => {
    const dock = await ctx.db.get("docks", dockId);
    if (!holdsLease(dock, leaseId)) return null;
    return {
      provider: dock.provider,
      encryptedApiKey: dock.encryptedApiKey,
      encryptedSpacesKey: dock.encryptedSpacesKey,
      name: dock.name,
      orgId: dock.orgId,
    };
  },
});

/**
 * A page of the dock's rows of one type as (id, key), in key order: what the
 * sync action reads before listing, to pass each item's row id to the writes
 * and to find the rows a complete listing did not return.
 */
export const listDockKeys = internalQuery({
  args: {
    dockId: v.id("docks"),
    resourceType: vSyncedType,
    paginationOpts: paginationOptsValidator,
  },
  returns: v.object({
    // bytes: the row's stored size (UTF-8 of its JSON), so the action can bound
    // what a chunk reads as well as what it sends.
    page: v.array(
      v.object({ id: v.string(), key: v.string(), provisioned: v.boolean(), bytes: v.number(), missing: v.boolean() }),
    ),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, args) => {
    const result = await ctx.db
      .query(args.resourceType as "blockVolumes")
      .withIndex("by_dock_resource", (q) => q.eq("dockId", args.dockId))
      .paginate(args.paginationOpts);
    return {
      page: result.page.map((r) => ({
        id: r._id,
        key: r.providerResourceId,
        provisioned: r.provisioningSource !== undefined,
        bytes: utf8Length(JSON.stringify(r)),
        missing: r.missingSince !== undefined,
      })),
      isDone: result.isDone,
      continueCursor: result.continueCursor,
    };
  },
});

/**
 * A page of the dock's server names by provider key: after the servers are
 * synced, the sync action reads them once so that volume rows can name their
 * server without a read per attachment in each chunk.
 */
export const listServerNames = internalQuery({
  args: { dockId: v.id("docks"), paginationOpts: paginationOptsValidator },
  returns: v.object({
    page: v.array(v.object({ key: v.string(), name: v.string() })),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, args) => {
    const result = await ctx.db
      .query("servers")
      .withIndex("by_dock_resource", (q) => q.eq("dockId", args.dockId))
      .paginate(args.paginationOpts);
    return {
      page: result.page.map((r) => ({ key: r.providerResourceId, name: r.name })),
      isDone: result.isDone,
      continueCursor: result.continueCursor,
    };
  },
});

/** Runs the access check for an action (the caller's identity travels with runQuery). */
export const checkOrgRole = internalQuery({
  args: { orgId: v.id("organizations"), minimum: vRole },
  returns: v.null(),
  handler: async (ctx, { orgId, minimum }) => {
    await requireOrgRole(ctx, orgId, minimum);
    return null;
  },
});

// Running syncs the dock list looks at for a dead action, per answer.
const DEAD_CHECKS = 1000;

export const vDockSummary = v.object({
  _id: v.id("docks"),
  _creationTime: v.number(),
  orgId: v.id("organizations"),
  name: v.string(),
  provider: vProvider,
  // Whether a Spaces key pair is stored (DigitalOcean); never the key or its id.
  hasSpacesKey: v.boolean(),
  ...dockStatusFields,
});

type DockSummary = Infer<typeof vDockSummary>;

/**
 * The summary as a viewer sees it: codes and counts, but no provider text,
 * which may echo part of what the provider was sent.
 */
export function forViewer(summary: DockSummary): DockSummary {
  const code = summary.lastSyncErrorCode;
  const stats = summary.lastSyncStats;
  const plain = (s: NonNullable<NonNullable<DockSummary["lastSyncStats"]>["servers"]>) =>
    s.error === undefined ? s : { ...s, error: s.errorCode ? ERROR_TEXT_FOR_VIEWERS[s.errorCode] : "Failed." };
  return {
    ...summary,
    lastSyncError:
      summary.lastSyncError === undefined ? undefined : code ? ERROR_TEXT_FOR_VIEWERS[code] : "The last sync failed.",
    lastSyncStats:
      stats === undefined
        ? undefined
        : {
            servers: stats.servers && plain(stats.servers),
            blockVolumes: stats.blockVolumes && plain(stats.blockVolumes),
            buckets: stats.buckets && plain(stats.buckets),
          },
  };
}

/**
 * A dock as the dashboard shows it, listed field by field so no new secret
 * field can leak by default; a viewer's copy has fixed error texts. With
 * `checkDead`, a sync whose action died shows as failed at once (the cron
 * records it, with backoff, within a minute).
 */
async function dockSummary(ctx: QueryCtx, dock: Doc<"docks">, viewer: boolean, checkDead: boolean) {
  const summary: DockSummary = {
    _id: dock._id,
    _creationTime: dock._creationTime,
    orgId: dock.orgId,
    name: dock.name,
    provider: dock.provider,
    hasSpacesKey: dock.encryptedSpacesKey !== undefined,
    syncState: dock.syncState,
    syncStartedAt: dock.syncStartedAt,
    lastSyncStatus: dock.lastSyncStatus,
    lastSyncAt: dock.lastSyncAt,
    lastSyncError: dock.lastSyncError,
    lastSyncErrorCode: dock.lastSyncErrorCode,
    lastSyncStats: dock.lastSyncStats,
    // Counts and phase names only: as safe for viewers as lastSyncStats.
    syncProgress: dock.syncProgress,
    syncIntervalMs: dock.syncIntervalMs,
    nextSyncAt: dock.nextSyncAt,
    consecutiveFailures: dock.consecutiveFailures,
  };
  if (checkDead && dock.syncState === "syncing") {
    const dead = await deadSyncReason(ctx, dock);
    if (dead !== null) {
      Object.assign(summary, {
        syncState: "idle",
        syncStartedAt: undefined,
        syncProgress: undefined,
        lastSyncStatus: "error",
        lastSyncError: dead,
        lastSyncErrorCode: "SYNC_DIED",
      });
    }
  }
  return viewer ? forViewer(summary) : summary;
}

/**
 * The docks of the caller's orgs (or of one org) with their sync status.
 * Viewers get error codes and fixed texts instead of the provider's words.
 */
export const listDocks = query({
  args: { orgId: v.optional(v.id("organizations")) },
  returns: v.array(vDockSummary),
  handler: async (ctx, { orgId }) => {
    const orgIds = await readableOrgIds(ctx, orgId);
    const user = orgIds.length > 0 ? await getCurrentUserOrNull(ctx) : null;
    const viewerOnly = new Set<string>();
    for (const id of orgIds) {
      const membership = user === null ? null : await getMembership(ctx, id, user._id);
      if (membership === null || !roleAtLeast(membership.role, CAPABILITIES.readProviderErrors)) viewerOnly.add(id);
    }
    // Every live dock of the caller's orgs, or TOO_MANY_ROWS (then per org).
    const docks = await collectForOrgs(
      orgIds,
      async function* (id) {
        for await (const dock of ctx.db.query("docks").withIndex("by_orgId", (q) => q.eq("orgId", id))) {
          if (dock.deletingAt === undefined) yield dock;
        }
      },
      "list the docks of one organization at a time (orgId)",
    );
    const result = [];
    let deadChecks = 0;
    for (const dock of docks) {
      // A sync whose action died shows as failed at once; the cron records it
      // (with backoff) within a minute. Each look is one read, and a query
      // may read 4,096 ranges: past DEAD_CHECKS the cron alone tells.
      const checkDead = dock.syncState === "syncing" && deadChecks < DEAD_CHECKS;
      if (checkDead) deadChecks++;
      result.push(await dockSummary(ctx, dock, viewerOnly.has(dock.orgId), checkDead));
    }
    return result;
  },
});

/**
 * One dock, for a dock's own page (live progress while it syncs); null when
 * it is gone, being removed, or in an org the caller does not belong to, so
 * a stale link renders "not found" without telling which.
 */
export const getDock = query({
  args: { dockId: v.id("docks") },
  returns: v.union(v.null(), vDockSummary),
  handler: async (ctx, { dockId }) => {
    const readable = await readableDock(ctx, dockId);
    if (readable === null) return null;
    const viewer = !roleAtLeast(readable.role, CAPABILITIES.readProviderErrors);
    return await dockSummary(ctx, readable.dock, viewer, true);
  },
});

/** The access check for dock actions: the caller may manage this live dock. */
export const checkDockAccess = internalQuery({
  args: { dockId: v.id("docks"), minimum: vRole },
  returns: v.object({ provider: vProvider, orgId: v.id("organizations") }),
  handler: async (ctx, { dockId, minimum }) => {
    const { dock } = await requireDockRole(ctx, dockId, minimum);
    return { provider: dock.provider, orgId: dock.orgId };
  },
});

const MAX_AUDIT_PAGE = 200;
// An entry is small; the byte bound holds a page re-run with endCursor (which
// reads to the cursor, whatever numItems says) inside Convex's limits too.
const MAX_AUDIT_PAGE_BYTES = 4 * 1024 * 1024;

/** The org's audit log, newest first; admins and owners only (others see an empty page). */
export const listAuditLogs = query({
  args: { orgId: v.id("organizations"), paginationOpts: paginationOptsValidator },
  returns: vPage(vAuditLogDoc),
  handler: async (ctx, { orgId, paginationOpts }) => {
    const readable = await readableOrgIds(ctx, orgId, CAPABILITIES.readAudit);
    if (readable.length === 0) return EMPTY_PAGE;
    const opts = checkedPageOptions(paginationOpts, MAX_AUDIT_PAGE, MAX_AUDIT_PAGE_BYTES);
    return await readPage(opts, () =>
      ctx.db
        .query("auditLogs")
        .withIndex("by_orgId", (q) => q.eq("orgId", orgId))
        .order("desc")
        .paginate(opts),
    );
  },
});
