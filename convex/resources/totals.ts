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

/**
 * The summed fields of a totals document, as bigint: sums of whole numbers
 * stay exact however many rows are added and taken away, where a float sum
 * past 2^53 (or one huge value) would drift for good. Stored as decimal text
 * (StoredAmounts), so no sum can overflow either: int64 would at 2^63.
 */
export type TotalsAmounts = {
  count: bigint;
  sizeGb: bigint;
  unattachedCount: bigint;
  unattachedGb: bigint;
  sizeBytes: bigint;
  objectCount: bigint;
  // Rows whose size is unknown (buckets the provider reports no size for) or
  // unusable (not a whole number of GB or bytes from 0 to 2^53).
  unsizedCount: bigint;
  pricedCostMicros: bigint;
  unpricedCount: bigint;
};
export const AMOUNT_KEYS = [
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

/** The amounts as a totals document stores them: whole numbers in decimal. */
export type StoredAmounts = Record<keyof TotalsAmounts, string>;

export function storedAmounts(a: TotalsAmounts): StoredAmounts {
  return Object.fromEntries(AMOUNT_KEYS.map((k) => [k, a[k].toString()])) as StoredAmounts;
}

/** The amounts of a stored totals document. */
export function amountsOf(doc: StoredAmounts): TotalsAmounts {
  return Object.fromEntries(AMOUNT_KEYS.map((k) => [k, BigInt(doc[k])])) as TotalsAmounts;
}

export function zeroAmounts(): TotalsAmounts {
  return {
    count: 0n,
    sizeGb: 0n,
    unattachedCount: 0n,
    unattachedGb: 0n,
    sizeBytes: 0n,
    objectCount: 0n,
    unsizedCount: 0n,
    pricedCostMicros: 0n,
    unpricedCount: 0n,
  };
}

/** Whether `table` is one the totals cover. */
export function isStorageType(table: string): table is StorageType {
  return (STORAGE_TYPES as readonly string[]).includes(table);
}

/**
 * A size or count the totals can add: a whole number from 0 to 2^53, else
 * null. A provider's negative, fractional or astronomical value is not
 * added; the row counts as unsized instead.
 */
export function wholeAmount(x: unknown): bigint | null {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0 ? BigInt(x) : null;
}

/** Micro-dollars of a monthly cost, or null when unknown or unusable. */
export function costMicros(monthlyCost: unknown): bigint | null {
  if (typeof monthlyCost !== "number" || !Number.isFinite(monthlyCost) || monthlyCost < 0) return null;
  return wholeAmount(Math.round(monthlyCost * 1e6));
}

type AnyRow = Record<string, unknown>;

/** What one row adds to its group's totals. */
export function contributionOf(type: StorageType, row: AnyRow): TotalsAmounts {
  const amounts = zeroAmounts();
  amounts.count = 1n;
  if (type === "blockVolumes") {
    const size = wholeAmount(row.sizeGb);
    if (size === null) amounts.unsizedCount = 1n;
    else amounts.sizeGb = size;
    if (row.attachedToInstance === undefined) {
      amounts.unattachedCount = 1n;
      amounts.unattachedGb = size ?? 0n;
    }
  } else {
    // A bucket whose size the provider does not report (Vultr, S3 listings)
    // is counted apart, so a total never passes unknown off as 0 bytes.
    const size = wholeAmount(row.sizeBytes);
    const objects = wholeAmount(row.objectCount);
    if (size === null || objects === null) {
      amounts.unsizedCount = 1n;
    } else {
      amounts.sizeBytes = size;
      amounts.objectCount = objects;
    }
  }
  const micros = costMicros(row.monthlyCost);
  if (micros === null) amounts.unpricedCount = 1n;
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
    // Region names are the provider's text: a key no region can forge.
    const key = JSON.stringify([provider, type, region]);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { type, region, provider, amounts: zeroAmounts() };
      this.groups.set(key, group);
    }
    const c = contributionOf(type, row);
    for (const k of AMOUNT_KEYS) group.amounts[k] += sign === 1 ? c[k] : -c[k];
  }

  /** Writes the collected changes; returns how many totals documents it wrote. */
  async flush(): Promise<number> {
    let writes = 0;
    for (const group of this.groups.values()) {
      if (AMOUNT_KEYS.every((k) => group.amounts[k] === 0n)) continue;
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
          ...storedAmounts(group.amounts),
        });
        continue;
      }
      const next = amountsOf(existing);
      for (const k of AMOUNT_KEYS) next[k] += group.amounts[k];
      // No rows left in the group: nothing to show, and the table keeps only
      // groups that exist.
      if (next.count === 0n) await this.ctx.db.delete("storageTotals", existing._id);
      else await this.ctx.db.patch("storageTotals", existing._id, storedAmounts(next));
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
// Old totals documents deleted per transaction when a rebuild starts over:
// however many regions a provider named, each transaction stays bounded.
const CLEAR_BATCH = 1000;

/** Deletes up to CLEAR_BATCH of a dock's totals documents; true when none are left. */
async function clearTotalsBatch(ctx: MutationCtx, dockId: Id<"docks">): Promise<boolean> {
  const docs = await ctx.db
    .query("storageTotals")
    .withIndex("by_dock_type_region", (q) => q.eq("dockId", dockId))
    .take(CLEAR_BATCH);
  for (const doc of docs) await ctx.db.delete("storageTotals", doc._id);
  return docs.length < CLEAR_BATCH;
}

/**
 * Starts (or restarts) the rebuild of a dock's totals; returns the run id.
 * Reads and writes one document per type: the dock's old totals are deleted
 * by the run's first batches (rebuildBatch), before anything is counted.
 */
export async function startRebuild(ctx: MutationCtx, dockId: Id<"docks">): Promise<string | null> {
  const dock = await ctx.db.get("docks", dockId);
  if (dock === null) return null;
  const runId = crypto.randomUUID();
  for (const type of STORAGE_TYPES) {
    const state = await ctx.db
      .query("storageTotalsRebuilds")
      .withIndex("by_dock_type", (q) => q.eq("dockId", dockId).eq("type", type))
      .unique();
    // Every creation time is positive: -1 is before every row, so no writer
    // counts anything (and no totals document appears) until the old ones are
    // gone and the batches move the cursor.
    const fields = { runId, cursor: -1, cleared: false, startedAt: Date.now() };
    if (state === null) await ctx.db.insert("storageTotalsRebuilds", { orgId: dock.orgId, dockId, type, ...fields });
    else await ctx.db.patch("storageTotalsRebuilds", state._id, fields);
  }
  return runId;
}

/**
 * Deletes what is left of a dock's totals and rebuild records once its rows
 * are gone (the end of a purge): nothing, normally, as each purge batch
 * subtracts what it deletes, but a rebuild caught part-way leaves its
 * documents. CLEAR_BATCH at a time; true when none are left.
 */
export async function dropDockTotals(ctx: MutationCtx, dockId: Id<"docks">): Promise<boolean> {
  if (!(await clearTotalsBatch(ctx, dockId))) return false;
  const states = await ctx.db
    .query("storageTotalsRebuilds")
    .withIndex("by_dock_type", (q) => q.eq("dockId", dockId))
    .take(STORAGE_TYPES.length);
  for (const state of states) await ctx.db.delete("storageTotalsRebuilds", state._id);
  return true;
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
  const run = states.filter((s) => s.runId === runId);
  if (run.length === 0) return false;
  if (run.some((s) => s.cleared === false)) {
    // First the dock's old totals go, CLEAR_BATCH at a time.
    if (await clearTotalsBatch(ctx, dockId)) {
      for (const s of run) await ctx.db.patch("storageTotalsRebuilds", s._id, { cleared: true });
    }
    return true;
  }
  const state = run[0];
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

// A rebuild this old has stopped (its batches run back to back in seconds).
const STALE_REBUILD_MS = 60 * 60 * 1000;

// Docks whose totals were never built, started per cron run, and looked at.
export const UNBUILT_BATCH = 100;
const UNBUILT_SCAN = 1000;

/**
 * Starts the rebuild of docks whose totals were never built (docks older
 * than the totals table), so a deployment's existing docks heal on their
 * own within minutes of the push; a dock already rebuilding is left to its
 * run. Returns how many were started.
 */
export async function startUnbuiltRebuilds(ctx: MutationCtx): Promise<number> {
  // Read past the docks it skips (being removed, already rebuilding), so
  // they cannot hold the docks behind them back.
  const unbuilt = await ctx.db
    .query("docks")
    .withIndex("by_storageTotalsBuiltAt", (q) => q.eq("storageTotalsBuiltAt", undefined))
    .take(UNBUILT_SCAN);
  let started = 0;
  for (const dock of unbuilt) {
    if (started >= UNBUILT_BATCH) break;
    // A dock being removed loses its rows and totals with its purge: nothing
    // to build, and marked so it leaves this range for the docks behind it.
    if (dock.deletingAt !== undefined) {
      await ctx.db.patch("docks", dock._id, { storageTotalsBuiltAt: Date.now() });
      continue;
    }
    const running = await ctx.db
      .query("storageTotalsRebuilds")
      .withIndex("by_dock_type", (q) => q.eq("dockId", dock._id))
      .first();
    // A run still going is left to it; one whose batches stopped is started over.
    if (running !== null && (running.startedAt ?? 0) > Date.now() - STALE_REBUILD_MS) continue;
    const runId = await startRebuild(ctx, dock._id);
    if (runId === null) continue;
    await ctx.scheduler.runAfter(0, internal.resources.totals.rebuildStorageTotalsBatch, { dockId: dock._id, runId });
    started++;
  }
  return started;
}

/** The cron's healing, in a transaction of its own so it can never hold up the due syncs. */
export const rebuildUnbuiltStorageTotals = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => await startUnbuiltRebuilds(ctx),
});

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
