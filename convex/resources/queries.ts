// Dashboard reads of synced resources, scoped to the caller's organizations.
// Without orgId: every org the caller belongs to; an org the caller is not a
// member of reads as empty, never as an error.
import { v } from "convex/values";
import type { Id } from "../_generated/dataModel";
import { query } from "../_generated/server";
import { readableOrgIds } from "../lib/auth";
import { vBlockVolumeDoc, vBucketDoc, vServerDoc } from "../validators";

// The array queries answer at most this many rows in all, which keeps them
// inside Convex's per-query read limits; larger inventories page instead.
export const LIST_LIMIT = 10_000;

/** Reads each org's rows through its by_orgId range, up to LIST_LIMIT in all. */
async function collectForOrgs<R>(
  orgIds: Id<"organizations">[],
  readOrg: (orgId: Id<"organizations">, limit: number) => Promise<R[]>,
): Promise<R[]> {
  const rows: R[] = [];
  for (const orgId of orgIds) {
    const remaining = LIST_LIMIT - rows.length;
    if (remaining <= 0) break;
    rows.push(...(await readOrg(orgId, remaining)));
  }
  return rows;
}

const orgArgs = { orgId: v.optional(v.id("organizations")) };

export const listServers = query({
  args: orgArgs,
  returns: v.array(vServerDoc),
  handler: async (ctx, { orgId }) => {
    const orgIds = await readableOrgIds(ctx, orgId);
    return await collectForOrgs(orgIds, (id, limit) =>
      ctx.db.query("servers").withIndex("by_orgId", (q) => q.eq("orgId", id)).take(limit),
    );
  },
});

export const listBlockVolumes = query({
  args: orgArgs,
  returns: v.array(vBlockVolumeDoc),
  handler: async (ctx, { orgId }) => {
    const orgIds = await readableOrgIds(ctx, orgId);
    return await collectForOrgs(orgIds, (id, limit) =>
      ctx.db.query("blockVolumes").withIndex("by_orgId", (q) => q.eq("orgId", id)).take(limit),
    );
  },
});

export const listBuckets = query({
  args: orgArgs,
  returns: v.array(vBucketDoc),
  handler: async (ctx, { orgId }) => {
    const orgIds = await readableOrgIds(ctx, orgId);
    return await collectForOrgs(orgIds, (id, limit) =>
      ctx.db.query("buckets").withIndex("by_orgId", (q) => q.eq("orgId", id)).take(limit),
    );
  },
});
