// The dashboard's storage summary: per provider, region and type, summed from
// the running totals (./totals.ts), so it reads one document per dock x type x
// region whatever the number of rows. Not a row list: see ./queries.ts.
import type { Doc, Id } from "../_generated/dataModel";
import { query, type QueryCtx } from "../_generated/server";
import { readableOrgIds } from "../lib/auth";
import {
  PROVIDERS,
  storageSummaryArgs,
  vStorageSummary,
  type Provider,
  type StorageSummary,
  type StorageType,
} from "../validators";
import { zeroAmounts, type TotalsAmounts } from "./totals";

/**
 * Without orgId: every org the caller can read; an org the caller cannot read,
 * or a dock outside the readable orgs, answers the empty summary. Rows of a
 * dock being removed count until the purge deletes them, as the row queries
 * list them until then.
 */
export const getStorageSummary = query({
  args: storageSummaryArgs,
  returns: vStorageSummary,
  handler: async (ctx, { orgId, dockId }) => {
    const orgIds = await readableOrgIds(ctx, orgId);
    const { totals, rebuilds } = await readTotals(ctx, orgIds, dockId);
    return summarize(totals, rebuilds);
  },
});

async function readTotals(ctx: QueryCtx, orgIds: Id<"organizations">[], dockId: Id<"docks"> | undefined) {
  const totals: Doc<"storageTotals">[] = [];
  const rebuilds: Doc<"storageTotalsRebuilds">[] = [];
  if (dockId !== undefined) {
    const dock = await ctx.db.get("docks", dockId);
    if (dock === null || !orgIds.includes(dock.orgId)) return { totals, rebuilds };
    // A dock holds one document per type and region it has rows in.
    totals.push(
      ...(await ctx.db
        .query("storageTotals")
        .withIndex("by_dock_type_region", (q) => q.eq("dockId", dockId))
        .collect()),
    );
    rebuilds.push(
      ...(await ctx.db
        .query("storageTotalsRebuilds")
        .withIndex("by_dock_type", (q) => q.eq("dockId", dockId))
        .collect()),
    );
    return { totals, rebuilds };
  }
  for (const id of orgIds) {
    // Bounded by docks per org (MAX_DOCKS_PER_ORG) x types x regions.
    totals.push(
      ...(await ctx.db
        .query("storageTotals")
        .withIndex("by_orgId", (q) => q.eq("orgId", id))
        .collect()),
    );
    rebuilds.push(
      ...(await ctx.db
        .query("storageTotalsRebuilds")
        .withIndex("by_orgId", (q) => q.eq("orgId", id))
        .collect()),
    );
  }
  return { totals, rebuilds };
}

const volumeTotals = (a: TotalsAmounts) => ({
  count: a.count,
  sizeGb: a.sizeGb,
  unattachedCount: a.unattachedCount,
  unattachedGb: a.unattachedGb,
  knownMonthlyCost: a.pricedCostMicros / 1e6,
  unpricedCount: a.unpricedCount,
});
const bucketTotals = (a: TotalsAmounts) => ({
  count: a.count,
  sizeBytes: a.sizeBytes,
  objectCount: a.objectCount,
  unsizedCount: a.unsizedCount,
  knownMonthlyCost: a.pricedCostMicros / 1e6,
  unpricedCount: a.unpricedCount,
});

function addInto(into: TotalsAmounts, from: TotalsAmounts) {
  for (const k of Object.keys(into) as (keyof TotalsAmounts)[]) into[k] += from[k];
}

type Sums = { total: TotalsAmounts; byProvider: Map<Provider, TotalsAmounts>; byRegion: Map<string, TotalsAmounts> };

/** Sums totals documents into the answer: providers in PROVIDERS order, regions by name. */
export function summarize(
  docs: Doc<"storageTotals">[],
  rebuilds: Doc<"storageTotalsRebuilds">[],
): StorageSummary {
  const sums: Record<StorageType, Sums> = {
    blockVolumes: { total: zeroAmounts(), byProvider: new Map(), byRegion: new Map() },
    buckets: { total: zeroAmounts(), byProvider: new Map(), byRegion: new Map() },
  };
  for (const doc of docs) {
    const s = sums[doc.type];
    addInto(s.total, doc);
    const p = s.byProvider.get(doc.provider) ?? zeroAmounts();
    addInto(p, doc);
    s.byProvider.set(doc.provider, p);
    const key = `${doc.provider}\u0000${doc.region}`;
    const r = s.byRegion.get(key) ?? zeroAmounts();
    addInto(r, doc);
    s.byRegion.set(key, r);
  }
  const order = (p: string) => {
    const i = PROVIDERS.indexOf(p as Provider);
    return i === -1 ? PROVIDERS.length : i;
  };
  function shape<T>(s: Sums, totals: (a: TotalsAmounts) => T) {
    const byRegion = [...s.byRegion.entries()]
      .map(([key, a]) => {
        const [provider, region] = key.split("\u0000") as [Provider, string];
        return { provider, region, totals: totals(a) };
      })
      .sort((a, b) => order(a.provider) - order(b.provider) || (a.region < b.region ? -1 : a.region > b.region ? 1 : 0));
    const byProvider = [...s.byProvider.entries()]
      .sort(([a], [b]) => order(a) - order(b))
      .map(([provider, a]) => ({ provider, totals: totals(a) }));
    return { total: totals(s.total), byProvider, byRegion };
  }
  return {
    blockVolumes: shape(sums.blockVolumes, volumeTotals),
    buckets: shape(sums.buckets, bucketTotals),
    docksRebuilding: new Set(rebuilds.map((r) => r.dockId)).size,
  };
}
