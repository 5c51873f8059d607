// How provider items become rows, for every adapter: upsert one chunk through
// `by_dock_resource`, write only what changed, and report the dock's rows in
// the chunk's key window that the provider did not return (stale candidates).
// Deleting stale rows is a separate step, run only after a complete listing.
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { ResourceTable, SyncedType } from "../validators";
import type { Parsed, RawItem, SyncedFields } from "./_types";

/**
 * The slice of the key space one chunk covers: keys k with from <= k < before
 * (either side open when absent). The action cuts the sorted listing into
 * chunks whose windows together cover every key once, so each existing row is
 * read by exactly one chunk.
 */
export type SyncWindow = { from?: string; before?: string };

export type ChunkResult = {
  inserted: number;
  updated: number;
  unchanged: number;
  skipped: number;
  // Items whose key appeared more than once in the chunk (the listing shifted).
  duplicates: number;
  // Why items were skipped, the first few, for the dock's error message.
  skipReasons: string[];
  // Rows of the dock inside the window that no item of this chunk names.
  staleCandidates: { id: string; key: string }[];
  // Set when the window held more rows than one transaction should read: rows
  // with keys after this one (and before window.before) were not scanned.
  scanAfter?: string;
};

// Rows read per window: well under Convex's 32,000 documents and 16 MiB per
// transaction even with a full chunk of writes and large fullApiData.
export const WINDOW_READ_LIMIT = 4000;
const MAX_SKIP_REASONS = 5;
const ASCII_KEY = /^[\x20-\x7e]*$/;

// Fields a sync never writes: they belong to the panel's own provisioning.
const NOT_SYNC_OWNED = new Set([
  "_id",
  "_creationTime",
  "updatedAt",
  "provisioningSource",
  "provisioningState",
  "provisionedAt",
  "provisionedBy",
  "provisioningError",
]);

type Row = Doc<SyncedType>;
type AnyFields = Record<string, unknown>;

/** Structural equality for Convex values (what fullApiData and fields hold). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameValue(x, bb[i]));
  }
  if (a instanceof ArrayBuffer || b instanceof ArrayBuffer) return false;
  const ka = Object.keys(a).filter((k) => (a as AnyFields)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as AnyFields)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue((a as AnyFields)[k], (b as AnyFields)[k]));
}

/** The patch that turns `existing` into `desired`; a field now absent is cleared. */
export function diffRow(existing: AnyFields, desired: AnyFields): AnyFields | null {
  const patch: AnyFields = {};
  let changed = false;
  for (const key of new Set([...Object.keys(existing), ...Object.keys(desired)])) {
    if (NOT_SYNC_OWNED.has(key)) continue;
    if (!sameValue(existing[key], desired[key])) {
      patch[key] = desired[key];
      changed = true;
    }
  }
  return changed ? patch : null;
}

export function inWindow(key: string, window: SyncWindow): boolean {
  return (window.from === undefined || key >= window.from) &&
    (window.before === undefined || key < window.before);
}

// The generic table handle: every synced table has the same index and the same
// key field, which TypeScript cannot see through a union of table names.
function table(ctx: MutationCtx, name: SyncedType) {
  return ctx.db.query(name as "blockVolumes");
}

// Writes to any synced table; the schema validates every document at runtime.
type LooseDb = {
  insert(table: SyncedType, doc: AnyFields): Promise<string>;
  patch(table: SyncedType, id: string, fields: AnyFields): Promise<void>;
};
function looseDb(ctx: MutationCtx): LooseDb {
  return ctx.db as unknown as LooseDb;
}

/** Reads up to `limit` of the dock's rows in the window, in key order. */
async function readWindow(
  ctx: MutationCtx,
  name: SyncedType,
  dockId: Id<"docks">,
  window: SyncWindow,
  limit: number,
): Promise<Row[]> {
  return await table(ctx, name)
    .withIndex("by_dock_resource", (q) => {
      const eq = q.eq("dockId", dockId);
      const lower = window.from === undefined ? eq : eq.gte("providerResourceId", window.from);
      return window.before === undefined ? lower : lower.lt("providerResourceId", window.before);
    })
    .take(limit);
}

async function findByKey(
  ctx: MutationCtx,
  name: SyncedType,
  dockId: Id<"docks">,
  key: string,
): Promise<Row | null> {
  return await table(ctx, name)
    .withIndex("by_dock_resource", (q) => q.eq("dockId", dockId).eq("providerResourceId", key))
    .unique();
}

export type Enrich<T extends SyncedType> = (
  ctx: MutationCtx,
  dock: Doc<"docks">,
  fields: SyncedFields<T>[],
) => Promise<void>;

/**
 * Upserts one chunk of provider items of one type for a dock. Writes nothing
 * for an item whose row already says the same, so an unchanged re-sync writes
 * no documents and wakes no dashboard.
 */
export async function syncChunk<T extends SyncedType>(
  ctx: MutationCtx,
  dock: Doc<"docks">,
  tableName: T,
  items: RawItem[],
  parse: (item: RawItem) => Parsed<T>,
  window: SyncWindow = {},
  now: number = Date.now(),
  enrich?: Enrich<T>,
): Promise<ChunkResult> {
  const result: ChunkResult = {
    inserted: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    duplicates: 0,
    skipReasons: [],
    staleCandidates: [],
  };
  const byKey = new Map<string, SyncedFields<T>>();
  for (const raw of items) {
    const parsed = parse(raw);
    if (!parsed.ok) {
      result.skipped++;
      if (result.skipReasons.length < MAX_SKIP_REASONS) result.skipReasons.push(parsed.reason);
      continue;
    }
    const key = parsed.fields.providerResourceId as string;
    if (byKey.has(key)) result.duplicates++;
    byKey.set(key, parsed.fields);
  }
  const desiredRows = [...byKey.values()];
  if (enrich) await enrich(ctx, dock, desiredRows);

  const existingRows = await readWindow(ctx, tableName, dock._id, window, WINDOW_READ_LIMIT + 1);
  const truncated = existingRows.length > WINDOW_READ_LIMIT;
  if (truncated) existingRows.pop();
  const lastRead = existingRows.at(-1)?.providerResourceId;
  const existingByKey = new Map(existingRows.map((r) => [r.providerResourceId, r]));

  for (const fields of desiredRows) {
    const key = fields.providerResourceId as string;
    let existing = existingByKey.get(key) ?? null;
    // Trust "not in the window read" only when the read covered this key;
    // otherwise look it up, so no item is ever inserted twice.
    // Keys outside printable ASCII may order differently in JavaScript and in
    // the index, so for those the window is not trusted either.
    const covered =
      ASCII_KEY.test(key) &&
      inWindow(key, window) &&
      (!truncated || (lastRead !== undefined && key <= lastRead));
    if (existing === null && !covered) existing = await findByKey(ctx, tableName, dock._id, key);
    existingByKey.delete(key);

    const desired: AnyFields = {
      ...fields,
      orgId: dock.orgId,
      dockId: dock._id,
      provider: dock.provider,
    };
    if (existing === null) {
      await looseDb(ctx).insert(tableName, { ...desired, updatedAt: now });
      result.inserted++;
      continue;
    }
    const patch = diffRow(existing as AnyFields, desired);
    if (patch === null) {
      result.unchanged++;
    } else {
      await looseDb(ctx).patch(tableName, existing._id, { ...patch, updatedAt: now });
      result.updated++;
    }
  }

  for (const row of existingByKey.values()) {
    // A row whose key lies outside the window was found by point lookup above
    // or belongs to another chunk; only rows this window owns are reported.
    if (!inWindow(row.providerResourceId, window)) continue;
    // Created through the panel: kept until its own lifecycle removes it.
    if (row.provisioningSource !== undefined) continue;
    result.staleCandidates.push({ id: row._id, key: row.providerResourceId });
  }
  if (truncated && lastRead !== undefined) result.scanAfter = lastRead;
  return result;
}

/**
 * Deletes resource rows a complete listing no longer returns, with their
 * project links. Re-checks each row: still this dock's, and not provisioned
 * through the panel (those stay until their own lifecycle removes them).
 */
export async function deleteStaleRows(
  ctx: MutationCtx,
  dock: Doc<"docks">,
  tableName: SyncedType,
  ids: string[],
): Promise<number> {
  let deleted = 0;
  for (const raw of ids) {
    const id = ctx.db.normalizeId(tableName, raw);
    if (id === null) continue;
    const row = await ctx.db.get(tableName, id as Id<"blockVolumes">);
    if (row === null || row.dockId !== dock._id || row.provisioningSource !== undefined) continue;
    await deleteProjectLinks(ctx, tableName, id);
    await ctx.db.delete(tableName, id as Id<"blockVolumes">);
    deleted++;
  }
  return deleted;
}

const LINK_BATCH = 100;

export async function deleteProjectLinks(
  ctx: MutationCtx,
  tableName: ResourceTable,
  resourceId: string,
): Promise<void> {
  for (;;) {
    const links = await ctx.db
      .query("projectResources")
      .withIndex("by_resource", (q) => q.eq("resourceTable", tableName).eq("resourceId", resourceId))
      .take(LINK_BATCH);
    for (const link of links) await ctx.db.delete("projectResources", link._id);
    if (links.length < LINK_BATCH) return;
  }
}
