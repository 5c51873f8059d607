// Removing a dock's rows after the dock is deleted: every resource table, with
// the rows' project links, a bounded batch per transaction.
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { dropDockTotals, TotalsWriter } from "../resources/totals";
import { RESOURCE_TABLES } from "../validators";
import { deleteProjectLinks } from "./sync";

// Rows per transaction: each is read whole (a stored row may be up to ~70 KiB)
// and may carry a few project links, so this stays far under Convex's 16 MiB
// and 32,000 documents read per transaction.
export const PURGE_BATCH = 100;

/** Deletes up to PURGE_BATCH of the dock's rows; true when none are left. */
export async function purgeDockBatch(ctx: MutationCtx, dock: Doc<"docks">): Promise<boolean> {
  let budget = PURGE_BATCH;
  // The storage totals shrink with each batch, so a purge stopped part-way
  // leaves totals that match the rows still there.
  const totals = new TotalsWriter(ctx, dock);
  for (const table of RESOURCE_TABLES) {
    const rows = await ctx.db
      .query(table as "blockVolumes")
      .withIndex("by_dockId", (q) => q.eq("dockId", dock._id))
      .take(budget + 1);
    const batch = rows.slice(0, budget);
    for (const row of batch) {
      await deleteProjectLinks(ctx, table, row._id);
      await ctx.db.delete(table as "blockVolumes", row._id);
      await totals.deleted(table, row);
    }
    budget -= batch.length;
    if (rows.length > batch.length || budget === 0) {
      await totals.flush();
      return false;
    }
  }
  await totals.flush();
  // The rows are gone; so goes anything left of the dock's totals.
  return await dropDockTotals(ctx, dock._id);
}
