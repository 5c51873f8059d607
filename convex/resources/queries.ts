// Dashboard reads of synced resources, scoped to the caller's organizations.
// Without orgId: every org the caller belongs to; an org the caller is not a
// member of reads as empty, never as an error.
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import { query, type QueryCtx } from "../_generated/server";
import { readableOrgIds } from "../lib/auth";
import { collectForOrgs } from "../lib/boundedLists";
import {
  EMPTY_PAGE,
  vBlockVolumeDoc,
  vBucketDoc,
  vPage,
  vProvider,
  vResourceSort,
  vServerDoc,
} from "../validators";
import { checkFilters, paginatePlan, planPage, type PageFilters } from "./pageRanges";

const orgArgs = { orgId: v.optional(v.id("organizations")) };

export const listServers = query({
  args: orgArgs,
  returns: v.array(vServerDoc),
  handler: async (ctx, { orgId }) => {
    const orgIds = await readableOrgIds(ctx, orgId);
    return await collectForOrgs(
      orgIds,
      (id) => ctx.db.query("servers").withIndex("by_orgId", (q) => q.eq("orgId", id)),
      "read them page by page with paginateServers",
    );
  },
});

export const listBlockVolumes = query({
  args: orgArgs,
  returns: v.array(vBlockVolumeDoc),
  handler: async (ctx, { orgId }) => {
    const orgIds = await readableOrgIds(ctx, orgId);
    return await collectForOrgs(
      orgIds,
      (id) => ctx.db.query("blockVolumes").withIndex("by_orgId", (q) => q.eq("orgId", id)),
      "read them page by page with paginateBlockVolumes",
    );
  },
});

export const listBuckets = query({
  args: orgArgs,
  returns: v.array(vBucketDoc),
  handler: async (ctx, { orgId }) => {
    const orgIds = await readableOrgIds(ctx, orgId);
    return await collectForOrgs(
      orgIds,
      (id) => ctx.db.query("buckets").withIndex("by_orgId", (q) => q.eq("orgId", id)),
      "read them page by page with paginateBuckets",
    );
  },
});

export { MAX_PAGE_BYTES, MAX_PAGE_SIZE } from "./pageRanges";

const pageArgs = {
  orgId: v.id("organizations"),
  paginationOpts: paginationOptsValidator,
  dockId: v.optional(v.id("docks")),
  provider: v.optional(vProvider),
};

// The volume and bucket tables also filter by region (with the provider:
// region names are the provider's own) and sort by name or size; volumes also
// filter to the unattached ones. Which combinations are served, and why the
// rest are refused with FILTER_NOT_SUPPORTED: docs/find-and-sort.md.
const bucketPageArgs = {
  ...pageArgs,
  region: v.optional(v.string()),
  sort: v.optional(vResourceSort),
};

const volumePageArgs = {
  ...bucketPageArgs,
  unattachedOnly: v.optional(v.boolean()),
};

/** One page of a table for an org the caller may read (checked by the caller). */
async function paginateRows(ctx: QueryCtx, table: "servers" | "blockVolumes" | "buckets", args: PageFilters) {
  checkFilters(table, args);
  const plan = await planPage(ctx, table, args);
  if (plan === null) return EMPTY_PAGE;
  return await paginatePlan(ctx, table, plan, args.paginationOpts);
}

// The three tables share the index layout; the returns validator checks each row.
type PageOf<T> = { page: T[]; isDone: boolean; continueCursor: string };

export const paginateServers = query({
  args: pageArgs,
  returns: vPage(vServerDoc),
  handler: async (ctx, args) => {
    const readable = await readableOrgIds(ctx, args.orgId);
    if (readable.length === 0) return EMPTY_PAGE;
    return (await paginateRows(ctx, "servers", args)) as PageOf<Doc<"servers">>;
  },
});

export const paginateBlockVolumes = query({
  args: volumePageArgs,
  returns: vPage(vBlockVolumeDoc),
  handler: async (ctx, args) => {
    const readable = await readableOrgIds(ctx, args.orgId);
    if (readable.length === 0) return EMPTY_PAGE;
    return (await paginateRows(ctx, "blockVolumes", args)) as PageOf<Doc<"blockVolumes">>;
  },
});

export const paginateBuckets = query({
  args: bucketPageArgs,
  returns: vPage(vBucketDoc),
  handler: async (ctx, args) => {
    const readable = await readableOrgIds(ctx, args.orgId);
    if (readable.length === 0) return EMPTY_PAGE;
    return (await paginateRows(ctx, "buckets", args)) as PageOf<Doc<"buckets">>;
  },
});
