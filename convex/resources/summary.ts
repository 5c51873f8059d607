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
import { collectForOrgs } from "../lib/boundedLists";
import { AMOUNT_KEYS, amountsOf, zeroAmounts, type TotalsAmounts } from "./totals";

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

// Said when an answer would pass the bounds: the summary of one org, or of
// one dock, is the narrower question.
const NARROWER = "ask for one organization (orgId) or one dock (dockId)";

/**
 * The totals documents in scope, at most LIST_MAX_ROWS of them (and 8 MiB):
 * past that, TOO_MANY_ROWS rather than a read past Convex's limits or an
 * answer past its 8,192 array elements (byRegion has one entry per document
 * at most). An org at MAX_DOCKS_PER_ORG docks in 8 regions each fits.
 */
async function readTotals(ctx: QueryCtx, orgIds: Id<"organizations">[], dockId: Id<"docks"> | undefined) {
  let scope = orgIds;
  let byDock: Id<"docks"> | undefined;
  if (dockId !== undefined) {
    const dock = await ctx.db.get("docks", dockId);
    if (dock === null || !orgIds.includes(dock.orgId)) return { totals: [], rebuilds: [] };
    scope = [dock.orgId];
    byDock = dock._id;
  }
  const totals = await collectForOrgs(
    scope,
    (id) =>
      byDock === undefined
        ? ctx.db.query("storageTotals").withIndex("by_orgId", (q) => q.eq("orgId", id))
        : ctx.db.query("storageTotals").withIndex("by_dock_type_region", (q) => q.eq("dockId", byDock)),
    NARROWER,
  );
  // One document per dock and type being rebuilt: no more than the docks.
  const rebuilds = await collectForOrgs(
    scope,
    (id) =>
      byDock === undefined
        ? ctx.db.query("storageTotalsRebuilds").withIndex("by_orgId", (q) => q.eq("orgId", id))
        : ctx.db.query("storageTotalsRebuilds").withIndex("by_dock_type", (q) => q.eq("dockId", byDock)),
    NARROWER,
  );
  return { totals, rebuilds };
}

// The answer's numbers: exact up to 2^53 (9 PB in bytes), then as close as a
// double gets; the stored sums stay exact either way.
const n = (x: bigint) => Number(x);
const dollars = (micros: bigint) => Number(micros) / 1e6;
const volumeTotals = (a: TotalsAmounts) => ({
  count: n(a.count),
  sizeGb: n(a.sizeGb),
  unsizedCount: n(a.unsizedCount),
  unattachedCount: n(a.unattachedCount),
  unattachedGb: n(a.unattachedGb),
  knownMonthlyCost: dollars(a.pricedCostMicros),
  unpricedCount: n(a.unpricedCount),
});
const bucketTotals = (a: TotalsAmounts) => ({
  count: n(a.count),
  sizeBytes: n(a.sizeBytes),
  objectCount: n(a.objectCount),
  unsizedCount: n(a.unsizedCount),
  knownMonthlyCost: dollars(a.pricedCostMicros),
  unpricedCount: n(a.unpricedCount),
});

function addInto(into: TotalsAmounts, from: TotalsAmounts) {
  for (const k of AMOUNT_KEYS) into[k] += from[k];
}

type RegionSum = { provider: Provider; region: string; amounts: TotalsAmounts };
type Sums = { total: TotalsAmounts; byProvider: Map<Provider, TotalsAmounts>; byRegion: Map<string, RegionSum> };

/** Sums totals documents into the answer: providers in PROVIDERS order, regions by name. */
export function summarize(
  docs: Doc<"storageTotals">[],
  rebuilds: Doc<"storageTotalsRebuilds">[],
): StorageSummary {
  const sums: Record<StorageType, Sums> = {
    blockVolumes: { total: zeroAmounts(), byProvider: new Map(), byRegion: new Map() },
    buckets: { total: zeroAmounts(), byProvider: new Map(), byRegion: new Map() },
  };
  // A rebuild that has not yet deleted a dock's old totals counts nothing of
  // it so far: those documents are on their way out.
  const clearing = new Set(rebuilds.filter((r) => r.cleared === false).map((r) => r.dockId));
  for (const doc of docs) {
    if (clearing.has(doc.dockId)) continue;
    const s = sums[doc.type];
    const amounts = amountsOf(doc);
    addInto(s.total, amounts);
    const p = s.byProvider.get(doc.provider) ?? zeroAmounts();
    addInto(p, amounts);
    s.byProvider.set(doc.provider, p);
    // Region names are the provider's text: a key no region can forge.
    const key = JSON.stringify([doc.provider, doc.region]);
    const r = s.byRegion.get(key) ?? { provider: doc.provider, region: doc.region, amounts: zeroAmounts() };
    addInto(r.amounts, amounts);
    s.byRegion.set(key, r);
  }
  const order = (p: string) => {
    const i = PROVIDERS.indexOf(p as Provider);
    return i === -1 ? PROVIDERS.length : i;
  };
  function shape<T>(s: Sums, totals: (a: TotalsAmounts) => T) {
    const byRegion = [...s.byRegion.values()]
      .map(({ provider, region, amounts }) => ({ provider, region, totals: totals(amounts) }))
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
