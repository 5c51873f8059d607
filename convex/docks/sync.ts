// How provider items become rows, for every adapter: upsert one chunk through
// `by_dock_resource`, write only what changed. Rows the provider no longer
// lists are settled separately, after a complete listing (settleStaleRows).
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { TotalsWriter } from "../resources/totals";
import type { ResourceTable, SyncedType } from "../validators";
import type { SyncedFields } from "./_types";

export type ChunkResult = {
  inserted: number;
  updated: number;
  unchanged: number;
};

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
export function diffRow(
  existing: AnyFields,
  desired: AnyFields,
  keep: readonly string[] = [],
): AnyFields | null {
  const patch: AnyFields = {};
  let changed = false;
  for (const key of new Set([...Object.keys(existing), ...Object.keys(desired)])) {
    if (NOT_SYNC_OWNED.has(key) || keep.includes(key)) continue;
    if (!sameValue(existing[key], desired[key])) {
      patch[key] = desired[key];
      changed = true;
    }
  }
  return changed ? patch : null;
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

/** Server names by provider key, as the action listed them this sync. */
export type ServerNames = Map<string, string>;

export type Enrich<T extends SyncedType> = (
  ctx: MutationCtx,
  dock: Doc<"docks">,
  fields: SyncedFields<T>[],
  // When the action listed the dock's servers this sync: their names, so the
  // chunk need not read a server row per attachment.
  serverNames?: ServerNames,
) => Promise<void>;

/**
 * Upserts one chunk of one type's rows for a dock. The action parsed each
 * provider item once, from the item as it arrived (so trimming the stored copy
 * can never change a row's fields), and sends the row fields. Chunks arrive in
 * the provider's order, so they cover no key range; instead the action, which
 * read the dock's row ids by key before listing, passes each row's id
 * (`rowIds[i]`, null for a key the dock has no row for). A row is then read by
 * id, one read per item, and an item without a row is inserted without a
 * search: only the sync holding the dock's lease writes synced rows. Without
 * `rowIds` each item is looked up by key. Writes nothing for an item whose row
 * already says the same, so an unchanged re-sync writes no documents and wakes
 * no dashboard.
 */
export async function syncChunk<T extends SyncedType>(
  ctx: MutationCtx,
  dock: Doc<"docks">,
  tableName: T,
  rows: SyncedFields<T>[],
  now: number = Date.now(),
  enrich?: Enrich<T>,
  rowIds?: (string | null)[],
  serverNames?: ServerNames,
  // Fields this sync could not learn (their source failed, see
  // DockAdapter.preparedFields): an existing row keeps what it stored.
  keepFields: readonly string[] = [],
): Promise<ChunkResult> {
  const result: ChunkResult = { inserted: 0, updated: 0, unchanged: 0 };
  const byKey = new Map<string, { fields: SyncedFields<T>; rowId: string | null | undefined }>();
  rows.forEach((fields, i) => {
    // The action drops repeated keys; a repeat here keeps the last one.
    byKey.set(fields.providerResourceId as string, { fields, rowId: rowIds?.[i] });
  });
  const desiredRows = [...byKey.values()];
  if (enrich) await enrich(ctx, dock, desiredRows.map((d) => d.fields), serverNames);
  // Storage totals change in this same transaction, one write per group touched.
  const totals = new TotalsWriter(ctx, dock);

  for (const { fields, rowId } of desiredRows) {
    const key = fields.providerResourceId as string;
    const existing = await existingRow(ctx, tableName, dock._id, key, rowId);
    const desired: AnyFields = {
      ...fields,
      orgId: dock.orgId,
      dockId: dock._id,
      provider: dock.provider,
    };
    if (existing === null) {
      const id = await looseDb(ctx).insert(tableName, { ...desired, updatedAt: now });
      await totals.inserted(tableName, id, desired);
      result.inserted++;
      continue;
    }
    // A listed item is not missing: diffRow clears missingSince with the rest.
    const patch = diffRow(existing as AnyFields, desired, keepFields);
    if (patch === null) {
      result.unchanged++;
    } else {
      await looseDb(ctx).patch(tableName, existing._id, { ...patch, updatedAt: now });
      await totals.changed(tableName, existing, { ...existing, ...patch });
      result.updated++;
    }
  }
  await totals.flush();
  return result;
}

/** The item's row: by the id the action passed, else by key. */
async function existingRow(
  ctx: MutationCtx,
  tableName: SyncedType,
  dockId: Id<"docks">,
  key: string,
  rowId: string | null | undefined,
): Promise<Row | null> {
  if (rowId === null) return null;
  if (rowId !== undefined) {
    const id = ctx.db.normalizeId(tableName, rowId) as Id<"blockVolumes"> | null;
    const row = id === null ? null : await ctx.db.get(tableName as "blockVolumes", id);
    if (row !== null && row.dockId === dockId && row.providerResourceId === key) return row;
  }
  // No id, or the row changed since the action read it: look the key up.
  return await findByKey(ctx, tableName, dockId, key);
}

/** What the sync learnt of rows a complete listing did not return, by row id. */
export type StaleVerdicts = {
  // The provider answered 404 for the item: it is gone.
  gone: string[];
  // Not listed, and the provider was not asked or did not say: marked missing.
  missing: string[];
  // The provider still has the item (the listing skipped it): kept, unmarked.
  present: string[];
};

/**
 * Applies the verdicts: deletes rows whose item the provider confirmed gone
 * (with their project links), marks the unconfirmed ones missing (since the
 * sync's start; an existing mark is kept), unmarks the ones it still has.
 * Absence alone never deletes: a listing can skip live items. Re-checks each
 * row: still this dock's, and not created through the panel (those stay
 * until their own lifecycle removes them).
 */
export async function settleStaleRows(
  ctx: MutationCtx,
  dock: Doc<"docks">,
  tableName: SyncedType,
  verdicts: StaleVerdicts,
  syncStartedAt: number,
): Promise<{ deleted: number; marked: number }> {
  const result = { deleted: 0, marked: 0 };
  const totals = new TotalsWriter(ctx, dock);
  const rowOf = async (raw: string) => {
    const id = ctx.db.normalizeId(tableName, raw) as Id<"blockVolumes"> | null;
    if (id === null) return null;
    const row = await ctx.db.get(tableName as "blockVolumes", id);
    if (row === null || row.dockId !== dock._id || row.provisioningSource !== undefined) return null;
    return row;
  };
  for (const raw of verdicts.gone) {
    const row = await rowOf(raw);
    if (row === null) continue;
    await deleteProjectLinks(ctx, tableName, row._id);
    await ctx.db.delete(tableName as "blockVolumes", row._id);
    await totals.deleted(tableName, row);
    result.deleted++;
  }
  await totals.flush();
  for (const raw of verdicts.missing) {
    const row = await rowOf(raw);
    if (row === null) continue;
    if (row.missingSince === undefined) {
      await ctx.db.patch(tableName as "blockVolumes", row._id, { missingSince: syncStartedAt });
    }
    result.marked++;
  }
  for (const raw of verdicts.present) {
    const row = await rowOf(raw);
    if (row !== null && row.missingSince !== undefined) {
      await ctx.db.patch(tableName as "blockVolumes", row._id, { missingSince: undefined });
    }
  }
  return result;
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
