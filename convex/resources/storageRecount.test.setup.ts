// What getStorageSummary must answer, recounted from the rows themselves: the
// tests' reference, written apart from the running totals it checks.
// (Two dots in the name keep Convex from deploying this file.)
import type { Doc, Id } from "../_generated/dataModel";
import type { TestConvex } from "../test.setup";
import { PROVIDERS, type StorageSummary } from "../validators";

type Sum = Record<string, number>;
type Row = Doc<"blockVolumes"> | Doc<"buckets">;

function volumeSum(rows: Doc<"blockVolumes">[]) {
  const priced = rows.filter((r) => r.monthlyCost !== undefined && Number.isFinite(r.monthlyCost));
  return {
    count: rows.length,
    sizeGb: rows.reduce((s, r) => s + r.sizeGb, 0),
    unattachedCount: rows.filter((r) => r.attachedToInstance === undefined).length,
    unattachedGb: rows.filter((r) => r.attachedToInstance === undefined).reduce((s, r) => s + r.sizeGb, 0),
    knownMonthlyCost: priced.reduce((s, r) => s + Math.round(r.monthlyCost! * 1e6), 0) / 1e6,
    unpricedCount: rows.length - priced.length,
  };
}

function bucketSum(rows: Doc<"buckets">[]) {
  const priced = rows.filter((r) => r.monthlyCost !== undefined && Number.isFinite(r.monthlyCost));
  return {
    count: rows.length,
    sizeBytes: rows.reduce((s, r) => s + (r.sizeBytes ?? 0), 0),
    objectCount: rows.reduce((s, r) => s + (r.sizeBytes === undefined ? 0 : (r.objectCount ?? 0)), 0),
    unsizedCount: rows.filter((r) => r.sizeBytes === undefined).length,
    knownMonthlyCost: priced.reduce((s, r) => s + Math.round(r.monthlyCost! * 1e6), 0) / 1e6,
    unpricedCount: rows.length - priced.length,
  };
}

function shape<R extends Row, S extends Sum>(rows: R[], sum: (rows: R[]) => S) {
  const providers = PROVIDERS.filter((p) => rows.some((r) => r.provider === p));
  const byRegion = providers.flatMap((provider) => {
    const regions = [...new Set(rows.filter((r) => r.provider === provider).map((r) => r.region))].sort();
    return regions.map((region) => ({
      provider,
      region,
      totals: sum(rows.filter((r) => r.provider === provider && r.region === region)),
    }));
  });
  return {
    total: sum(rows),
    byProvider: providers.map((provider) => ({ provider, totals: sum(rows.filter((r) => r.provider === provider)) })),
    byRegion,
  };
}

/** The summary of exactly these rows. */
export function summaryOfRows(volumes: Doc<"blockVolumes">[], buckets: Doc<"buckets">[]): StorageSummary {
  return {
    blockVolumes: shape(volumes, volumeSum),
    buckets: shape(buckets, bucketSum),
    docksRebuilding: 0,
  };
}

/** Every volume and bucket row of the orgs (or of one dock), read whole. */
export async function rowsIn(t: TestConvex, scope: { orgIds?: Id<"organizations">[]; dockId?: Id<"docks"> }) {
  return await t.run(async (ctx) => {
    const read = async <T extends "blockVolumes" | "buckets">(table: T) => {
      if (scope.dockId !== undefined) {
        const dockId = scope.dockId;
        return await ctx.db
          .query(table as "blockVolumes")
          .withIndex("by_dockId", (q) => q.eq("dockId", dockId))
          .collect();
      }
      const out: Doc<"blockVolumes">[] = [];
      for (const orgId of scope.orgIds ?? []) {
        out.push(
          ...(await ctx.db
            .query(table as "blockVolumes")
            .withIndex("by_orgId", (q) => q.eq("orgId", orgId))
            .collect()),
        );
      }
      return out;
    };
    return {
      volumes: await read("blockVolumes"),
      buckets: (await read("buckets")) as unknown as Doc<"buckets">[],
    };
  });
}

/**
 * The summary recounted from the rows of the orgs (or of one dock). While a
 * dock's totals are being rebuilt, only the rows its rebuild has passed count
 * (as documented in totals.ts), and the dock counts as rebuilding.
 */
export async function recount(t: TestConvex, scope: { orgIds?: Id<"organizations">[]; dockId?: Id<"docks"> }) {
  const { volumes, buckets } = await rowsIn(t, scope);
  const rebuilds = await t.run(async (ctx) => {
    const all = await ctx.db.query("storageTotalsRebuilds").collect();
    return all.filter((r) => (scope.dockId !== undefined ? r.dockId === scope.dockId : scope.orgIds?.includes(r.orgId)));
  });
  const counted = (type: "blockVolumes" | "buckets") => (row: Row) => {
    const state = rebuilds.find((r) => r.dockId === row.dockId && r.type === type);
    return state === undefined || row._creationTime <= state.cursor;
  };
  return {
    ...summaryOfRows(volumes.filter(counted("blockVolumes")), buckets.filter(counted("buckets"))),
    docksRebuilding: new Set(rebuilds.map((r) => r.dockId)).size,
  };
}
