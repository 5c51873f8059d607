// What getStorageSummary must answer, recounted from the rows themselves: the
// tests' reference, written apart from the running totals it checks.
// (Two dots in the name keep Convex from deploying this file.)
import type { Doc, Id } from "../_generated/dataModel";
import type { TestConvex } from "../test.setup";
import { PROVIDERS, type StorageSummary } from "../validators";

type Sum = Record<string, number>;
type Row = Doc<"blockVolumes"> | Doc<"buckets">;

// What the totals may add: a whole number from 0 to 2^53; anything else (a
// provider's negative, fractional or astronomical value) is counted apart.
const whole = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
// Sums in bigint, as exact as the totals claim to be.
const total = (xs: number[]) => Number(xs.reduce((s, x) => s + BigInt(x), 0n));
const micros = (cost: unknown) =>
  typeof cost === "number" && Number.isFinite(cost) && cost >= 0 && whole(Math.round(cost * 1e6))
    ? Math.round(cost * 1e6)
    : null;

function costOf(rows: Row[]) {
  const priced = rows.map((r) => micros(r.monthlyCost)).filter((m): m is number => m !== null);
  return { knownMonthlyCost: total(priced) / 1e6, unpricedCount: rows.length - priced.length };
}

function volumeSum(rows: Doc<"blockVolumes">[]) {
  const sized = rows.filter((r) => whole(r.sizeGb));
  const unattached = rows.filter((r) => r.attachedToInstance === undefined);
  return {
    count: rows.length,
    sizeGb: total(sized.map((r) => r.sizeGb)),
    unsizedCount: rows.length - sized.length,
    unattachedCount: unattached.length,
    unattachedGb: total(unattached.filter((r) => whole(r.sizeGb)).map((r) => r.sizeGb)),
    ...costOf(rows),
  };
}

function bucketSum(rows: Doc<"buckets">[]) {
  const sized = rows.filter((r) => whole(r.sizeBytes) && whole(r.objectCount));
  return {
    count: rows.length,
    sizeBytes: total(sized.map((r) => r.sizeBytes!)),
    objectCount: total(sized.map((r) => r.objectCount!)),
    unsizedCount: rows.length - sized.length,
    ...costOf(rows),
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
