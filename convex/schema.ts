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
    .index("by_syncState", ["syncState"])
    // The cron's look for docks whose storage totals were never built.
    .index("by_storageTotalsBuiltAt", ["storageTotalsBuiltAt"]),

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
  // The volume and bucket tables' filters and sorts, each an index range
  // (docs/find-and-sort.md): a filter set's fields in equality, then the sort
  // field. "attached" ranges read attachedToInstance = undefined (unattached).
  blockVolumes: resourceTable(blockVolumeFields)
    .index("by_org_sizeGb", ["orgId", "sizeGb"])
    .index("by_org_name", ["orgId", "name"])
    .index("by_org_provider_sizeGb", ["orgId", "provider", "sizeGb"])
    .index("by_org_provider_name", ["orgId", "provider", "name"])
    .index("by_org_provider_region_sizeGb", ["orgId", "provider", "region", "sizeGb"])
    .index("by_org_provider_region_name", ["orgId", "provider", "region", "name"])
    .index("by_org_region_sizeGb", ["orgId", "region", "sizeGb"])
    .index("by_org_region_name", ["orgId", "region", "name"])
    .index("by_dock_sizeGb", ["dockId", "sizeGb"])
    .index("by_dock_name", ["dockId", "name"])
    .index("by_org_attached_sizeGb", ["orgId", "attachedToInstance", "sizeGb"])
    .index("by_org_attached_name", ["orgId", "attachedToInstance", "name"])
    .index("by_org_provider_attached_sizeGb", ["orgId", "provider", "attachedToInstance", "sizeGb"])
    .index("by_org_provider_attached_name", ["orgId", "provider", "attachedToInstance", "name"])
    .index("by_org_provider_region_attached_sizeGb", ["orgId", "provider", "region", "attachedToInstance", "sizeGb"])
    .index("by_org_provider_region_attached_name", ["orgId", "provider", "region", "attachedToInstance", "name"])
    .index("by_org_region_attached_sizeGb", ["orgId", "region", "attachedToInstance", "sizeGb"])
    .index("by_org_region_attached_name", ["orgId", "region", "attachedToInstance", "name"])
    .index("by_dock_attached_sizeGb", ["dockId", "attachedToInstance", "sizeGb"])
    .index("by_dock_attached_name", ["dockId", "attachedToInstance", "name"])
    .searchIndex("search_name", { searchField: "name", filterFields: ["orgId", "provider", "dockId", "region"] }),
  buckets: resourceTable(bucketFields)
    .index("by_org_sizeBytes", ["orgId", "sizeBytes"])
    .index("by_org_name", ["orgId", "name"])
    .index("by_org_provider_sizeBytes", ["orgId", "provider", "sizeBytes"])
    .index("by_org_provider_name", ["orgId", "provider", "name"])
    .index("by_org_provider_region_sizeBytes", ["orgId", "provider", "region", "sizeBytes"])
    .index("by_org_provider_region_name", ["orgId", "provider", "region", "name"])
    .index("by_org_region_sizeBytes", ["orgId", "region", "sizeBytes"])
    .index("by_org_region_name", ["orgId", "region", "name"])
    .index("by_dock_sizeBytes", ["dockId", "sizeBytes"])
    .index("by_dock_name", ["dockId", "name"])
    .searchIndex("search_name", { searchField: "name", filterFields: ["orgId", "provider", "dockId", "region"] }),

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
