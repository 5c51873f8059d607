// The data model: tenancy (users, organizations, memberships), docks (connected
// provider accounts) and the universal resource tables that syncs fill.
// Field maps live in ./validators.ts so args and returns are derived from them.
import { defineSchema, defineTable } from "convex/server";
import {
  auditLogFields,
  bucketFields,
  blockVolumeFields,
  dockFields,
  membershipFields,
  organizationFields,
  projectFields,
  projectResourceFields,
  resourceFields,
  serverFields,
  storageTotalsFields,
  storageTotalsRebuildFields,
  userFields,
} from "./validators";

// Every universal resource table has the same three indexes: dashboards read
// by org, syncs and dock removal walk a dock, upserts find one provider item.
function resourceTable<F extends typeof resourceFields>(fields: F) {
  return (
    defineTable(fields)
      // Named by the specification; the array queries read an org in
      // creation order through it.
      // eslint-disable-next-line @convex-dev/no-duplicate-indexes
      .index("by_orgId", ["orgId"])
      // Named by the specification; lists a dock's rows in creation order,
      // where by_dock_resource lists them by provider key.
      // eslint-disable-next-line @convex-dev/no-duplicate-indexes
      .index("by_dockId", ["dockId"])
      .index("by_dock_resource", ["dockId", "providerResourceId"])
      // The dashboard's provider filter.
      .index("by_org_provider", ["orgId", "provider"])
  );
}

export default defineSchema({
  // Written on first sign-in; never deleted by this module.
  users: defineTable(userFields)
    .index("by_tokenIdentifier", ["tokenIdentifier"])
    // addMemberByEmail's case-insensitive lookup (normalizedEmail, not email).
    .index("by_email", ["normalizedEmail"]),
  organizations: defineTable(organizationFields),
  memberships: defineTable(membershipFields)
    .index("by_userId", ["userId"])
    // Members of an org in the order they joined.
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_orgId", ["orgId"])
    .index("by_org_user", ["orgId", "userId"]),

  // Written by dock management and by the sync flow (status fields only).
  docks: defineTable(dockFields)
    .index("by_orgId", ["orgId"])
    .index("by_nextSyncAt", ["nextSyncAt"])
    // The cron's look at running syncs, to see one whose action died.
    .index("by_syncState", ["syncState"]),

  // Append-only: written by dock management and syncs, read by admins.
  auditLogs: defineTable(auditLogFields).index("by_orgId", ["orgId"]),

  projects: defineTable(projectFields).index("by_orgId", ["orgId"]),
  // Links a resource row to a project; deleted together with the resource.
  projectResources: defineTable(projectResourceFields)
    .index("by_project", ["projectId"])
    .index("by_resource", ["resourceTable", "resourceId"]),

  // Universal resource tables: written and deleted only by the sync flow
  // (rows with provisioningSource are never deleted by a sync).
  servers: resourceTable(serverFields),
  webServices: resourceTable(resourceFields),
  domains: resourceTable(resourceFields),
  databases: resourceTable(resourceFields),
  blockVolumes: resourceTable(blockVolumeFields),
  buckets: resourceTable(bucketFields),

  // Running storage totals per dock x type x region: written in the same
  // transactions as the blockVolumes and buckets rows (sync, stale-row
  // settling, dock purge) and by the rebuild; deleted when their count is 0.
  storageTotals: defineTable(storageTotalsFields)
    .index("by_orgId", ["orgId"])
    .index("by_dock_type_region", ["dockId", "type", "region"]),
  // A dock's totals rebuild in progress; deleted when it completes.
  storageTotalsRebuilds: defineTable(storageTotalsRebuildFields)
    .index("by_orgId", ["orgId"])
    .index("by_dock_type", ["dockId", "type"]),
});
