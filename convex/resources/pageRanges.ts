// Which index range answers a page of the volume or bucket table for a set of
// filters and a sort: every combination served is one index range (never a
// .filter), and the choice depends on the arguments alone, so a cursor stays
// valid for every page of the same arguments. The index design and the
// combinations refused are in docs/find-and-sort.md.
import type { PaginationOptions } from "convex/server";
import type { Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { fail } from "../lib/errors";
import { checkedPageOptions, readPage } from "../lib/pages";
import type { Provider, ResourceSort } from "../validators";

// A page never holds more than this many rows or reads more than this many
// bytes, whatever the client asks: a page of large rows ends early (isDone
// false) and the next page continues, so paging always reaches every row.
export const MAX_PAGE_SIZE = 500;
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

export type PageFilters = {
  orgId: Id<"organizations">;
  paginationOpts: PaginationOptions;
  dockId?: Id<"docks">;
  provider?: Provider;
  region?: string;
  sort?: ResourceSort;
  unattachedOnly?: boolean;
};

export type SortableTable = "blockVolumes" | "buckets";

const SIZE_FIELD = { blockVolumes: "sizeGb", buckets: "sizeBytes" } as const;

/** An index name and the values of its leading fields, in index order. */
export type IndexPlan = {
  index: string;
  equal: [field: string, value: unknown][];
  order: "asc" | "desc";
};

/**
 * Refuses, with FILTER_NOT_SUPPORTED, a combination no index serves; the
 * same arguments are refused whoever asks and whatever the data, so a
 * client learns it from its first call.
 */
export function checkFilters(table: SortableTable | "servers", args: PageFilters): void {
  if (table !== "blockVolumes" && args.unattachedOnly === true) {
    fail("FILTER_NOT_SUPPORTED", "Only block volumes can be filtered to the unattached ones.");
  }
  if (table === "servers" && (args.region !== undefined || args.sort !== undefined)) {
    fail("FILTER_NOT_SUPPORTED", "Servers are listed in stored order, without a region filter.");
  }
  if (args.region !== undefined && args.dockId !== undefined) {
    fail(
      "FILTER_NOT_SUPPORTED",
      "A region filter cannot be combined with a dock filter; filter by the dock's provider and the region instead.",
    );
  }
}

/**
 * The sort a page is read in. A region or unattached filter without one reads
 * largest first: the stored order means nothing to an operator there, and
 * the biggest unattached volumes are the ones worth cutting first. It
 * depends on the arguments alone, so every page of the same arguments reads
 * the same index.
 */
export function effectiveSort(args: Pick<PageFilters, "sort" | "region" | "unattachedOnly">): ResourceSort | undefined {
  if (args.sort !== undefined) return args.sort;
  return args.region !== undefined || args.unattachedOnly === true ? "size" : undefined;
}

/**
 * The index range for a page, or null when nothing can match (a dock of
 * another org or gone, a provider the dock is not on). Call checkFilters
 * first; the caller checks that args.orgId is readable.
 */
export async function planPage(
  ctx: QueryCtx,
  table: SortableTable | "servers",
  args: PageFilters,
): Promise<IndexPlan | null> {
  const unattached = args.unattachedOnly === true ? "_attached" : "";
  const sort = effectiveSort(args);
  const sortField = sort === "name" ? "name" : sort === "size" && table !== "servers" ? SIZE_FIELD[table] : undefined;
  const order = sort === "size" ? "desc" : "asc";
  let scope: string;
  let equal: [string, unknown][];
  if (args.dockId !== undefined) {
    const dock = await ctx.db.get("docks", args.dockId);
    if (dock === null || dock.orgId !== args.orgId) return null;
    if (args.provider !== undefined && args.provider !== dock.provider) return null;
    scope = "dock";
    equal = [["dockId", dock._id]];
  } else if (args.provider !== undefined && args.region !== undefined) {
    scope = "org_provider_region";
    equal = [["orgId", args.orgId], ["provider", args.provider], ["region", args.region]];
  } else if (args.region !== undefined) {
    // A region name alone: the same name on two providers (rare) matches both.
    scope = "org_region";
    equal = [["orgId", args.orgId], ["region", args.region]];
  } else if (args.provider !== undefined) {
    scope = "org_provider";
    equal = [["orgId", args.orgId], ["provider", args.provider]];
  } else {
    scope = "org";
    equal = [["orgId", args.orgId]];
  }
  if (unattached !== "") {
    // Convex indexes a missing field as undefined (it sorts before null), and
    // `.eq(field, undefined)` is the range of the rows without it.
    equal.push(["attachedToInstance", undefined]);
  }
  if (sortField === undefined) {
    // The stored order: the indexes the specification named (a region or
    // unattached filter always has a sort: effectiveSort).
    const index = { dock: "by_dockId", org_provider: "by_org_provider", org: "by_orgId" }[scope];
    if (index === undefined) throw new Error(`no stored-order index for ${scope}`);
    return { index, equal, order };
  }
  return { index: `by_${scope}${unattached}_${sortField}`, equal, order };
}

/** The client's page options within MAX_PAGE_SIZE rows and MAX_PAGE_BYTES read; INVALID_ARGUMENT when out of range. */
export function cappedPageOptions(opts: PaginationOptions): PaginationOptions {
  return checkedPageOptions(opts, MAX_PAGE_SIZE, MAX_PAGE_BYTES);
}

type LooseRange = { eq(field: string, value: unknown): LooseRange };
type LoosePaged = {
  withIndex(index: string, range: (q: LooseRange) => LooseRange): {
    order(order: "asc" | "desc"): { paginate(opts: PaginationOptions): Promise<unknown> };
  };
};

/**
 * One page through the plan's index. The index name is built from the plan,
 * so the typed builder cannot check it: pageRanges.test.ts (the index design)
 * checks every plan a served combination makes against the schema.
 */
export async function paginatePlan(
  ctx: QueryCtx,
  table: SortableTable | "servers",
  plan: IndexPlan,
  opts: PaginationOptions,
): Promise<unknown> {
  const q = ctx.db.query(table) as unknown as LoosePaged;
  const checked = cappedPageOptions(opts);
  return await readPage(checked, () =>
    q
      .withIndex(plan.index, (r) => plan.equal.reduce((range, [field, value]) => range.eq(field, value), r))
      .order(plan.order)
      .paginate(checked),
  );
}
