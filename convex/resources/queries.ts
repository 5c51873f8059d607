// Dashboard reads of synced resources, scoped to the caller's organizations.
// Without orgId: every org the caller belongs to; an org the caller is not a
// member of reads as empty, never as an error.
import { paginationOptsValidator, type PaginationOptions } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import { query, type QueryCtx } from "../_generated/server";
import { readableOrgIds } from "../lib/auth";
import { collectForOrgs } from "../lib/boundedLists";
import {
  EMPTY_PAGE,
  vBlockVolumeDoc,
  vBucketDoc,
  vPage,
  vProvider,
  vServerDoc,
  type Provider,
} from "../validators";

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

// A page never holds more than this many rows or reads more than this many
// bytes, whatever the client asks: a page of large rows ends early (isDone
// false) and the next page continues, so paging always reaches every row.
export const MAX_PAGE_SIZE = 500;
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

const pageArgs = {
  orgId: v.id("organizations"),
  paginationOpts: paginationOptsValidator,
  dockId: v.optional(v.id("docks")),
  provider: v.optional(vProvider),
};

type PageArgs = {
  orgId: Id<"organizations">;
  paginationOpts: PaginationOptions;
  dockId?: Id<"docks">;
  provider?: Provider;
};

/**
 * Which index range answers a page request, or null when nothing can match
 * (a dock of another org, a provider the dock is not on). The dock filter
 * reads by_dockId, the provider filter by_org_provider, else by_orgId.
 */
async function pageRange(ctx: QueryCtx, args: PageArgs) {
  const opts = {
    ...args.paginationOpts,
    numItems: Math.min(args.paginationOpts.numItems, MAX_PAGE_SIZE),
    maximumBytesRead: Math.min(args.paginationOpts.maximumBytesRead ?? MAX_PAGE_BYTES, MAX_PAGE_BYTES),
  };
  if (args.dockId !== undefined) {
    const dock = await ctx.db.get("docks", args.dockId);
    if (dock === null || dock.orgId !== args.orgId) return null;
    if (args.provider !== undefined && args.provider !== dock.provider) return null;
    return { kind: "dock" as const, dockId: dock._id, opts };
  }
  if (args.provider !== undefined) return { kind: "provider" as const, provider: args.provider, opts };
  return { kind: "org" as const, opts };
}

/** One page of a table for an org the caller may read (checked by the caller). */
async function paginateRows(ctx: QueryCtx, table: "servers" | "blockVolumes" | "buckets", args: PageArgs) {
  const range = await pageRange(ctx, args);
  if (range === null) return EMPTY_PAGE;
  const q = ctx.db.query(table as "blockVolumes");
  const indexed =
    range.kind === "dock"
      ? q.withIndex("by_dockId", (r) => r.eq("dockId", range.dockId))
      : range.kind === "provider"
        ? q.withIndex("by_org_provider", (r) => r.eq("orgId", args.orgId).eq("provider", range.provider))
        : q.withIndex("by_orgId", (r) => r.eq("orgId", args.orgId));
  return await indexed.paginate(range.opts);
}

// The three tables share the index layout; the returns validator checks each row.
type PageOf<T> = { page: T[]; isDone: boolean; continueCursor: string };

export const paginateServers = query({
  args: pageArgs,
  returns: vPage(vServerDoc),
  handler: async (ctx, args) => {
    const readable = await readableOrgIds(ctx, args.orgId);
    if (readable.length === 0) return EMPTY_PAGE;
    return (await paginateRows(ctx, "servers", args)) as unknown as PageOf<Doc<"servers">>;
  },
});

export const paginateBlockVolumes = query({
  args: pageArgs,
  returns: vPage(vBlockVolumeDoc),
  handler: async (ctx, args) => {
    const readable = await readableOrgIds(ctx, args.orgId);
    if (readable.length === 0) return EMPTY_PAGE;
    return await paginateRows(ctx, "blockVolumes", args);
  },
});

export const paginateBuckets = query({
  args: pageArgs,
  returns: vPage(vBucketDoc),
  handler: async (ctx, args) => {
    const readable = await readableOrgIds(ctx, args.orgId);
    if (readable.length === 0) return EMPTY_PAGE;
    return (await paginateRows(ctx, "buckets", args)) as unknown as PageOf<Doc<"buckets">>;
  },
});
