// Running storage totals (table storageTotals): one document per dock x type x
// region, changed in the same transaction as the blockVolumes/buckets rows,
// so getStorageSummary reads O(groups) documents instead of every row. Also
// the rebuild of a dock's totals from its rows, for rows older than the table.
// Not a query: resources/summary.ts reads these documents.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { internalMutation, type MutationCtx } from "../_generated/server";
import { STORAGE_TYPES, type Provider, type StorageType } from "../validators";

/** The summed fields of a totals document. */
export type TotalsAmounts = {
  count: number;
  sizeGb: number;
  unattachedCount: number;
  unattachedGb: number;
  sizeBytes: number;
  objectCount: number;
  unsizedCount: number;
  pricedCostMicros: number;
  unpricedCount: number;
};
const AMOUNT_KEYS = [
  "count",
  "sizeGb",
  "unattachedCount",
  "unattachedGb",
  "sizeBytes",
  "objectCount",
  "unsizedCount",
  "pricedCostMicros",
  "unpricedCount",
] as const satisfies readonly (keyof TotalsAmounts)[];

export function zeroAmounts(): TotalsAmounts {
  return {
    count: 0,
    sizeGb: 0,
    unattachedCount: 0,
    unattachedGb: 0,
    sizeBytes: 0,
    objectCount: 0,
    unsizedCount: 0,
    pricedCostMicros: 0,
    unpricedCount: 0,
  };
}

/** Whether `table` is one the totals cover. */
export function isStorageType(table: string): table is StorageType {
  return (STORAGE_TYPES as readonly string[]).includes(table);
}

// A non-finite number (a provider's bad value that slipped through) would
// poison a running sum for good; it counts as 0 (cost: as unknown).
const finite = (x: unknown): number => (typeof x === "number" && Number.isFinite(x) ? x : 0);

/**
 * Micro-dollars of a monthly cost, or null when unknown. Integers add and
 * subtract exactly, so totals never drift however often a price changes.
 */
export function costMicros(monthlyCost: unknown): number | null {
  return typeof monthlyCost === "number" && Number.isFinite(monthlyCost) ? Math.round(monthlyCost * 1e6) : null;
}

type AnyRow = Record<string, unknown>;

/** What one row adds to its group's totals. */
export function contributionOf(type: StorageType, row: AnyRow): TotalsAmounts {
  const amounts = zeroAmounts();
  amounts.count = 1;
  if (type === "blockVolumes") {
    amounts.sizeGb = finite(row.sizeGb);
    if (row.attachedToInstance === undefined) {
      amounts.unattachedCount = 1;
      amounts.unattachedGb = amounts.sizeGb;
    }
  } else {
    // A bucket whose size the provider does not report (Vultr, S3 listings)
    // is counted apart, so a total never passes unknown off as 0 bytes.
    if (typeof row.sizeBytes === "number") {
      amounts.sizeBytes = finite(row.sizeBytes);
      amounts.objectCount = finite(row.objectCount);
    } else {
      amounts.unsizedCount = 1;
    }
  }
  const micros = costMicros(row.monthlyCost);
  if (micros === null) amounts.unpricedCount = 1;
  else amounts.pricedCostMicros = micros;
  return amounts;
}

type Group = { type: StorageType; region: string; provider: Provider; amounts: TotalsAmounts };
type RebuildState = Doc<"storageTotalsRebuilds"> | null;

/**
 * Collects one transaction's changes to a dock's totals and writes each
 * touched group once, at flush: one read and at most one write per group,
 * none when the changes cancel out. Only this dock's documents are written,
 * so syncs of different docks never conflict on a totals document.
 */
export class TotalsWriter {
  private readonly groups = new Map<string, Group>();
  private readonly rebuilds = new Map<StorageType, RebuildState>();

  constructor(
    private readonly ctx: MutationCtx,
    private readonly dock: { _id: Id<"docks">; orgId: Id<"organizations"> },
  ) {}

  /** A row was inserted (its id, to learn its creation time during a rebuild). */
  async inserted(table: string, id: string, fields: AnyRow): Promise<void> {
    if (!isStorageType(table)) return;
    const state = await this.rebuildState(table);
    if (state !== null) {
      const row = await this.ctx.db.get(table as "blockVolumes", id as Id<"blockVolumes">);
      if (row === null || row._creationTime > state.cursor) return;
    }
    this.add(table, fields, 1);
  }

  /** A row was patched from `before` to `after` (the whole documents). */
  async changed(table: string, before: AnyRow & { _creationTime: number }, after: AnyRow): Promise<void> {
    if (!isStorageType(table) || !(await this.counts(table, before._creationTime))) return;
    this.add(table, before, -1);
    this.add(table, after, 1);
  }

  /** A row was deleted. */
  async deleted(table: string, row: AnyRow & { _creationTime: number }): Promise<void> {
    if (!isStorageType(table) || !(await this.counts(table, row._creationTime))) return;
    this.add(table, row, -1);
  }

  /** Adds a row's contribution unconditionally (the rebuild's own scan). */
  add(type: StorageType, row: AnyRow, sign: 1 | -1): void {
    const region = typeof row.region === "string" ? row.region : "";
    const provider = row.provider as Provider;
    const key = `${provider}\u0000${type}\u0000${region}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { type, region, provider, amounts: zeroAmounts() };
      this.groups.set(key, group);
    }
    const c = contributionOf(type, row);
    for (const k of AMOUNT_KEYS) group.amounts[k] += sign * c[k];
  }

  /** Writes the collected changes; returns how many totals documents it wrote. */
  async flush(): Promise<number> {
    let writes = 0;
    for (const group of this.groups.values()) {
      if (AMOUNT_KEYS.every((k) => group.amounts[k] === 0)) continue;
      const existing = await this.ctx.db
        .query("storageTotals")
        .withIndex("by_dock_type_region", (q) =>
          q.eq("dockId", this.dock._id).eq("type", group.type).eq("region", group.region),
        )
        .unique();
      writes++;
      if (existing === null) {
        await this.ctx.db.insert("storageTotals", {
          orgId: this.dock.orgId,
          dockId: this.dock._id,
          provider: group.provider,
          type: group.type,
          region: group.region,
          ...group.amounts,
        });
        continue;
      }
      const next = zeroAmounts();
      for (const k of AMOUNT_KEYS) next[k] = existing[k] + group.amounts[k];
      // No rows left in the group: nothing to show, and the table keeps only
      // groups that exist.
      if (next.count === 0) await this.ctx.db.delete("storageTotals", existing._id);
      else await this.ctx.db.patch("storageTotals", existing._id, next);
    }
    this.groups.clear();
    return writes;
  }

  // During a rebuild only rows the rebuild has passed are in the totals; a
  // change to a later row is counted when the rebuild reaches it.
  private async counts(type: StorageType, creationTime: number): Promise<boolean> {
    const state = await this.rebuildState(type);
    return state === null || creationTime <= state.cursor;
  }

  private async rebuildState(type: StorageType): Promise<RebuildState> {
    if (!this.rebuilds.has(type)) {
      const state = await this.ctx.db
        .query("storageTotalsRebuilds")
        .withIndex("by_dock_type", (q) => q.eq("dockId", this.dock._id).eq("type", type))
        .unique();
      this.rebuilds.set(type, state);
    }
    return this.rebuilds.get(type)!;
  }
}

// ---------------------------------------------------------------------------
// Rebuild: recount a dock's totals from its rows, in bounded batches, while
// its syncs and its purge keep running. The start drops the dock's totals and
// sets each type's cursor before every row; each batch counts the next rows
// in creation order and moves the cursor past them, in one transaction.
// Writers count a change only for rows at or before the cursor (TotalsWriter),
// so every row is counted exactly once, by whichever transaction is
// serialized first. Run for every dock with
//   npx convex run resources/totals:rebuildAllStorageTotals
// or for one with
//   npx convex run resources/totals:rebuildDockStorageTotals '{"dockId":"..."}'

// Rows counted per batch: each is read whole (up to ~70 KiB), so 200 stay far
// under the 16 MiB read per transaction.
export const REBUILD_BATCH = 200;
// Docks started per rebuildAllStorageTotals transaction (each schedules one job).
const DOCKS_PER_BATCH = 100;
// A dock holds a few groups per type (one per region); more than this would
// be a bug, and the start reads them in one transaction.
const MAX_GROUPS_PER_DOCK = 4000;

/** Starts (or restarts) the rebuild of a dock's totals; returns the run id. */
export async function startRebuild(ctx: MutationCtx, dockId: Id<"docks">): Promise<string | null> {
  const dock = await ctx.db.get("docks", dockId);
  if (dock === null) return null;
  const runId = crypto.randomUUID();
  const totals = await ctx.db
    .query("storageTotals")
    .withIndex("by_dock_type_region", (q) => q.eq("dockId", dockId))
    .take(MAX_GROUPS_PER_DOCK);
  for (const doc of totals) await ctx.db.delete("storageTotals", doc._id);
  for (const type of STORAGE_TYPES) {
    const state = await ctx.db
      .query("storageTotalsRebuilds")
      .withIndex("by_dock_type", (q) => q.eq("dockId", dockId).eq("type", type))
      .unique();
    // Every creation time is positive: -1 is before every row.
    if (state === null) await ctx.db.insert("storageTotalsRebuilds", { orgId: dock.orgId, dockId, type, runId, cursor: -1 });
    else await ctx.db.patch("storageTotalsRebuilds", state._id, { runId, cursor: -1 });
  }
  return runId;
}

/**
 * Counts the next batch of one type's rows for the run; false when the run
 * is complete (or was replaced by a newer start).
 */
export async function rebuildBatch(
  ctx: MutationCtx,
  dockId: Id<"docks">,
  runId: string,
  batchSize: number = REBUILD_BATCH,
): Promise<boolean> {
  const states = await ctx.db
    .query("storageTotalsRebuilds")
    .withIndex("by_dock_type", (q) => q.eq("dockId", dockId))
    .take(STORAGE_TYPES.length);
  const state = states.find((s) => s.runId === runId);
  if (state === undefined) return false;
  const rows = await ctx.db
    .query(state.type as "blockVolumes")
    .withIndex("by_dockId", (q) => q.eq("dockId", dockId).gt("_creationTime", state.cursor))
    .take(batchSize);
  let batch: Doc<"blockVolumes">[] = rows;
  if (rows.length === batchSize) {
    // Rows sharing the last creation time are counted together, so the
    // cursor (a creation time) never splits them.
    const last = rows[rows.length - 1]._creationTime;
    const tied = await ctx.db
      .query(state.type as "blockVolumes")
      .withIndex("by_dockId", (q) => q.eq("dockId", dockId).eq("_creationTime", last))
      .collect();
    batch = [...rows.filter((r) => r._creationTime !== last), ...tied];
  }
  const writer = new TotalsWriter(ctx, { _id: dockId, orgId: state.orgId });
  for (const row of batch) writer.add(state.type, row, 1);
  await writer.flush();
  if (rows.length < batchSize) {
    await ctx.db.delete("storageTotalsRebuilds", state._id);
    const more = states.some((s) => s._id !== state._id && s.runId === runId);
    if (!more) {
      // Every type of the run is counted: the dock's totals are whole.
      const dock = await ctx.db.get("docks", dockId);
      if (dock !== null) await ctx.db.patch("docks", dockId, { storageTotalsBuiltAt: Date.now() });
    }
    return more;
  }
  await ctx.db.patch("storageTotalsRebuilds", state._id, { cursor: batch[batch.length - 1]._creationTime });
  return true;
}

// Docks whose totals were never built, started per cron run.
export const UNBUILT_BATCH = 100;

/**
 * Starts the rebuild of docks whose totals were never built (docks older
 * than the totals table), so a deployment's existing docks heal on their
 * own within minutes of the push; a dock already rebuilding is left to its
 * run. Returns how many were started.
 */
export async function startUnbuiltRebuilds(ctx: MutationCtx): Promise<number> {
  const unbuilt = await ctx.db
    .query("docks")
    .withIndex("by_storageTotalsBuiltAt", (q) => q.eq("storageTotalsBuiltAt", undefined))
    .take(UNBUILT_BATCH);
  let started = 0;
  for (const dock of unbuilt) {
    // A dock being removed loses its rows anyway; its purge subtracts them.
    if (dock.deletingAt !== undefined) continue;
    const running = await ctx.db
      .query("storageTotalsRebuilds")
      .withIndex("by_dock_type", (q) => q.eq("dockId", dock._id))
      .first();
    if (running !== null) continue;
    const runId = await startRebuild(ctx, dock._id);
    if (runId === null) continue;
    await ctx.scheduler.runAfter(0, internal.resources.totals.rebuildStorageTotalsBatch, { dockId: dock._id, runId });
    started++;
  }
  return started;
}

export const rebuildDockStorageTotals = internalMutation({
  args: { dockId: v.id("docks") },
  returns: v.null(),
  handler: async (ctx, { dockId }) => {
    const runId = await startRebuild(ctx, dockId);
    if (runId !== null) {
      await ctx.scheduler.runAfter(0, internal.resources.totals.rebuildStorageTotalsBatch, { dockId, runId });
    }
    return null;
  },
});

export const rebuildStorageTotalsBatch = internalMutation({
  args: { dockId: v.id("docks"), runId: v.string() },
  returns: v.null(),
  handler: async (ctx, { dockId, runId }) => {
    if (await rebuildBatch(ctx, dockId, runId)) {
      await ctx.scheduler.runAfter(0, internal.resources.totals.rebuildStorageTotalsBatch, { dockId, runId });
    }
    return null;
  },
});

/** Starts the rebuild of every dock's totals, a page of docks per transaction. */
export const rebuildAllStorageTotals = internalMutation({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.null(),
  handler: async (ctx, { cursor }) => {
    const page = await ctx.db.query("docks").paginate({ cursor: cursor ?? null, numItems: DOCKS_PER_BATCH });
    for (const dock of page.page) {
      await ctx.scheduler.runAfter(0, internal.resources.totals.rebuildDockStorageTotals, { dockId: dock._id });
    }
    if (!page.isDone) {
      await ctx.scheduler.runAfter(0, internal.resources.totals.rebuildAllStorageTotals, {
        cursor: page.continueCursor,
      });
    }
    return null;
  },
});
