// Validators defined once: the field maps feed `defineTable` in schema.ts and the
// `args` / `returns` of every function, and `Infer` gives the TypeScript types.
import { paginationResultValidator } from "convex/server";
import { v, type Infer } from "convex/values";

export const vProvider = v.union(
  v.literal("vultr"),
  v.literal("digitalocean"),
  v.literal("linode"),
);
export type Provider = Infer<typeof vProvider>;
export const PROVIDERS: readonly Provider[] = ["vultr", "digitalocean", "linode"];

// Ordered from least to most privileged; auth.ts relies on this order.
export const ROLES = ["viewer", "member", "admin", "owner"] as const;
export const vRole = v.union(
  v.literal("viewer"),
  v.literal("member"),
  v.literal("admin"),
  v.literal("owner"),
);
export type Role = Infer<typeof vRole>;

// The resource types a sync fills, in the order they are synced: servers first,
// so block volumes can name the server they are attached to.
export const SYNCED_TYPES = ["servers", "blockVolumes", "buckets"] as const;
export const vSyncedType = v.union(
  v.literal("servers"),
  v.literal("blockVolumes"),
  v.literal("buckets"),
);
export type SyncedType = Infer<typeof vSyncedType>;

export const vResourceTable = v.union(
  v.literal("servers"),
  v.literal("webServices"),
  v.literal("domains"),
  v.literal("databases"),
  v.literal("blockVolumes"),
  v.literal("buckets"),
);
export type ResourceTable = Infer<typeof vResourceTable>;
export const RESOURCE_TABLES: ResourceTable[] = vResourceTable.members.map((m) => m.value);

export const userFields = {
  name: v.string(),
  // As the identity provider sent it (shown to people as they typed it).
  email: v.string(),
  // Trimmed and lower-cased email, the key addMemberByEmail looks up (by_email);
  // absent when the provider sent no email. Optional because rows stored
  // before it existed lack it until their user's next storeUser.
  normalizedEmail: v.optional(v.string()),
  tokenIdentifier: v.string(),
};

/** What users.me answers: never tokenIdentifier. */
export const vOwnUser = v.object({ _id: v.id("users"), name: v.string(), email: v.string() });

/** One org of the caller, for an org switcher. */
export const vMyOrganization = v.object({ orgId: v.id("organizations"), name: v.string(), role: vRole });

/** One member of an org, as other members see them. */
export const vMember = v.object({ userId: v.id("users"), name: v.string(), email: v.string(), role: vRole });

export const organizationFields = {
  name: v.string(),
};

export const membershipFields = {
  orgId: v.id("organizations"),
  userId: v.id("users"),
  role: vRole,
};

// Why a sync (or one type of it) did not fully succeed, for a UI to branch on;
// the human text is beside it. INVALID_CREDENTIALS: the key was refused
// (rotate it); ACCESS_DENIED: the key lacks a scope for this type;
// RATE_LIMITED: the provider's limit ran out; PROVIDER_ERROR: the provider
// failed or answered garbage; INCOMPLETE_LISTING: the listing could not be
// read whole (paging data missing or inconsistent); ITEMS_SKIPPED: some items
// could not be read; WRITE_FAILED: storing failed; SYNC_DIED: the sync action
// stopped without recording an outcome; CONFIGURATION: the deployment's setup
// (master key) is wrong.
export const vSyncErrorCode = v.union(
  v.literal("INVALID_CREDENTIALS"),
  v.literal("ACCESS_DENIED"),
  v.literal("RATE_LIMITED"),
  v.literal("PROVIDER_ERROR"),
  v.literal("INCOMPLETE_LISTING"),
  v.literal("ITEMS_SKIPPED"),
  v.literal("WRITE_FAILED"),
  v.literal("SYNC_DIED"),
  v.literal("CONFIGURATION"),
);
export type SyncErrorCode = Infer<typeof vSyncErrorCode>;

// What one sync did to one resource type.
export const vTypeSyncStats = v.object({
  fetched: v.number(),
  inserted: v.number(),
  updated: v.number(),
  deleted: v.number(),
  unchanged: v.number(),
  // Provider items that were malformed (no id, wrong-typed key fields).
  skipped: v.number(),
  // Items stored with parts cut to fit Convex's document limits, and the
  // keys of the first few.
  trimmed: v.optional(v.number()),
  trimmedKeys: v.optional(v.array(v.string())),
  // Rows a complete listing did not return whose item the provider has not
  // (yet) confirmed gone: kept, marked missingSince, and deleted once its
  // single-item GET answers 404 (at most CONFIRM_LIMIT asked per sync).
  missing: v.optional(v.number()),
  // Single-item requests made to confirm that unlisted items are gone.
  lookups: v.optional(v.number()),
  // False when the listing failed or was partial: then nothing was deleted.
  complete: v.boolean(),
  error: v.optional(v.string()),
  errorCode: v.optional(vSyncErrorCode),
});
export type TypeSyncStats = Infer<typeof vTypeSyncStats>;

export const vSyncStats = v.object({
  servers: v.optional(vTypeSyncStats),
  blockVolumes: v.optional(vTypeSyncStats),
  buckets: v.optional(vTypeSyncStats),
});
export type SyncStats = Infer<typeof vSyncStats>;

export const vSyncStatus = v.union(
  v.literal("success"),
  v.literal("partial"),
  v.literal("error"),
);
export type SyncStatus = Infer<typeof vSyncStatus>;

// What a running sync has done so far, on the dock while it runs (see
// docks/progress.ts for when it is written). Counts only, never text.
export const vSyncPhase = v.union(
  // The lease is taken; the action is reading the key and the dock's rows.
  v.literal("starting"),
  // `type`'s listing is being read page by page and written in chunks.
  v.literal("listing"),
  // `type`'s rows a complete listing did not return are being confirmed gone
  // with the provider and settled (deleted or marked missing).
  v.literal("confirmingDeletions"),
);
export type SyncPhase = Infer<typeof vSyncPhase>;

export const vTypeSyncProgress = v.object({
  type: vSyncedType,
  // Provider pages read, and the items in them.
  pages: v.number(),
  fetched: v.number(),
  // Rows written so far: inserted, updated; unchanged rows are not written.
  inserted: v.number(),
  updated: v.number(),
  unchanged: v.number(),
  skipped: v.number(),
  deleted: v.number(),
  // The type's sync ended (its outcome is in lastSyncStats once the sync ends).
  done: v.boolean(),
});
export type TypeSyncProgress = Infer<typeof vTypeSyncProgress>;

export const vSyncProgress = v.object({
  phase: vSyncPhase,
  // The type being listed or settled; absent while starting.
  type: v.optional(vSyncedType),
  // Every type this sync has reached, in sync order.
  types: v.array(vTypeSyncProgress),
  // Milliseconds since the epoch when the action took this snapshot.
  updatedAt: v.number(),
});
export type SyncProgress = Infer<typeof vSyncProgress>;

// A dock's sync status as the dashboard shows it; no key material.
export const dockStatusFields = {
  // "syncing" while a sync holds the lease (syncLeaseId, syncStartedAt).
  syncState: v.union(v.literal("idle"), v.literal("syncing")),
  syncStartedAt: v.optional(v.number()),
  lastSyncStatus: v.optional(vSyncStatus),
  lastSyncAt: v.optional(v.number()),
  lastSyncError: v.optional(v.string()),
  lastSyncErrorCode: v.optional(vSyncErrorCode),
  lastSyncStats: v.optional(vSyncStats),
  // Set while syncState is "syncing": the running sync's phase and counts so
  // far. A new sync starts it afresh; the sync's end (finished, failed or
  // reaped as dead) clears it, and lastSyncStats holds the outcome.
  syncProgress: v.optional(vSyncProgress),
  // Scheduling for the cron: when this dock is next due, and how many syncs
  // in a row failed (drives the backoff).
  syncIntervalMs: v.optional(v.number()),
  nextSyncAt: v.optional(v.number()),
  consecutiveFailures: v.optional(v.number()),
};

export const dockFields = {
  orgId: v.id("organizations"),
  name: v.string(),
  provider: vProvider,
  // AES-256-GCM ciphertext of the provider API token (lib/encryption.ts).
  encryptedApiKey: v.bytes(),
  // When the key was last replaced: a sync that started before it ran on the
  // old key, so its outcome says nothing about the new one.
  keyRotatedAt: v.optional(v.number()),
  // DigitalOcean only: AES-256-GCM ciphertext (lib/encryption.ts, bound to the
  // org and to this use) of a Spaces access key pair, as JSON
  // {accessKeyId, secretAccessKey}. DigitalOcean's API lists no Spaces
  // buckets; S3 ListBuckets with this pair does. Absent: buckets not synced.
  encryptedSpacesKey: v.optional(v.bytes()),
  // Which provider account the key belongs to, as the provider's account call
  // names it (not a secret): "team:<uuid>" or "user:<uuid>" on DigitalOcean,
  // "email:<address>" on Vultr, "uid:<n>" on Linode. A rotated key must name
  // the same one. Absent on docks created before it was recorded; the first
  // verified rotation records it.
  accountId: v.optional(v.string()),
  // Set when the dock is being removed: it is hidden and its rows are being
  // deleted in batches; the dock document goes last.
  deletingAt: v.optional(v.number()),
  // When the dock's storage totals (storageTotals) were last known to count
  // every row: set at creation and when a rebuild completes. Absent on docks
  // older than the totals: the cron rebuilds those (resources/totals.ts).
  storageTotalsBuiltAt: v.optional(v.number()),
  // Identifies the sync that holds the lease; only that sync may write.
  syncLeaseId: v.optional(v.string()),
  // The scheduled job running that sync: when it failed or vanished without
  // recording an outcome, the cron, the button and the dock list see it.
  syncJobId: v.optional(v.id("_scheduled_functions")),
  ...dockStatusFields,
};

export const projectFields = {
  orgId: v.id("organizations"),
  name: v.string(),
};

export const projectResourceFields = {
  orgId: v.id("organizations"),
  projectId: v.id("projects"),
  resourceTable: vResourceTable,
  resourceId: v.string(),
};

// Set when a resource was created through this control panel rather than
// discovered by a sync; such rows are never deleted by a sync.
export const provisioningFields = {
  provisioningSource: v.optional(v.string()),
  provisioningState: v.optional(v.string()),
  provisionedAt: v.optional(v.number()),
  provisionedBy: v.optional(v.id("users")),
  provisioningError: v.optional(v.string()),
};

// The universal pattern: common fields, provider specifics in fullApiData.
export const resourceFields = {
  orgId: v.id("organizations"),
  dockId: v.id("docks"),
  provider: vProvider,
  // The provider's own key for the item, unique within a dock.
  providerResourceId: v.string(),
  name: v.string(),
  status: v.string(),
  // The provider's item under its own name (block, volume, bucket, instance,
  // droplet, linode), minus secrets.
  fullApiData: v.record(v.string(), v.any()),
  // Milliseconds since the epoch of the last sync that changed this row.
  updatedAt: v.number(),
  // Set (ms since the epoch) by the first complete listing that did not
  // return the item while the provider had not confirmed it gone; cleared when
  // it is listed again. The row is deleted only once the provider's
  // single-item GET answers 404.
  missingSince: v.optional(v.number()),
  ...provisioningFields,
};

export const serverFields = {
  ...resourceFields,
  region: v.optional(v.string()),
  publicIpv4: v.optional(v.string()),
};

export const blockVolumeFields = {
  ...resourceFields,
  sizeGb: v.number(),
  region: v.string(),
  attachedToInstance: v.optional(v.string()),
  attachedToInstanceLabel: v.optional(v.string()),
  mountId: v.optional(v.string()),
  blockType: v.optional(v.string()),
  filesystemType: v.optional(v.string()),
  // US dollars a month, where the provider gives a price (Vultr's `cost`);
  // absent means unknown, never free.
  monthlyCost: v.optional(v.number()),
};

export const bucketFields = {
  ...resourceFields,
  region: v.string(),
  // Linode's deprecated cluster id, or Vultr's Object Storage cluster id;
  // kept for display.
  cluster: v.optional(v.string()),
  hostname: v.optional(v.string()),
  s3Endpoint: v.optional(v.string()),
  // Absent means unknown, never empty: Linode's listing gives both, Vultr's
  // bucket listings (its API and S3 ListBuckets) give neither.
  sizeBytes: v.optional(v.number()),
  objectCount: v.optional(v.number()),
  // US dollars a month, where the provider prices the bucket itself; absent
  // means unknown. Vultr prices the subscription, not its buckets: absent.
  monthlyCost: v.optional(v.number()),
};

// Running storage totals, one document per dock x type x region, kept by the
// same transactions that write blockVolumes and buckets rows (see
// resources/totals.ts). Sizes are sums of the rows' own units; cost is summed
// in integer micro-dollars so that adding and subtracting stays exact.
export const vStorageType = v.union(v.literal("blockVolumes"), v.literal("buckets"));
export type StorageType = Infer<typeof vStorageType>;
export const STORAGE_TYPES: readonly StorageType[] = ["blockVolumes", "buckets"];

export const storageTotalsFields = {
  orgId: v.id("organizations"),
  dockId: v.id("docks"),
  provider: vProvider,
  type: vStorageType,
  region: v.string(),
  // Sums of whole numbers as decimal text (resources/totals.ts,
  // StoredAmounts): exact whatever is added and taken away, and unbounded,
  // where a float drifts past 2^53 and an int64 overflows at 2^63.
  count: v.string(),
  // Volumes: sum of sizeGb, and of the rows without attachedToInstance.
  sizeGb: v.string(),
  unattachedCount: v.string(),
  unattachedGb: v.string(),
  // Buckets: sums of sizeBytes and objectCount over the rows that report a
  // size.
  sizeBytes: v.string(),
  objectCount: v.string(),
  // Rows of either type whose size is unknown or unusable (not a whole
  // number from 0 to 2^53): counted, not summed.
  unsizedCount: v.string(),
  // Sum of monthlyCost (US dollars a month) in micro-dollars over the rows
  // that carry one, and how many rows carry none (unknown, not free).
  pricedCostMicros: v.string(),
  unpricedCount: v.string(),
};

// A dock's totals being rebuilt from its rows: rows created at or before
// `cursor` (_creationTime) are already counted, later ones not yet.
export const storageTotalsRebuildFields = {
  orgId: v.id("organizations"),
  dockId: v.id("docks"),
  type: vStorageType,
  runId: v.string(),
  cursor: v.number(),
  // False until the run has deleted the dock's old totals, in batches, before
  // counting anything (absent: cleared, as runs started before this field).
  cleared: v.optional(v.boolean()),
  // When the run started: a run whose batches stopped (a crash) is started
  // over by the cron once it is an hour old.
  startedAt: v.optional(v.number()),
};

// What getStorageSummary answers, ready to render: per type, the whole, per
// provider and per provider x region. Cost: knownMonthlyCost sums the rows
// with a price; unpricedCount rows have none, so the true cost is higher.
const vCost = { knownMonthlyCost: v.number(), unpricedCount: v.number() };
export const vVolumeTotals = v.object({
  count: v.number(),
  // Over the volumes whose size is a whole number of GB; unsizedCount
  // volumes have an unusable size (a provider's garbage) and are not summed.
  sizeGb: v.number(),
  unsizedCount: v.number(),
  unattachedCount: v.number(),
  unattachedGb: v.number(),
  ...vCost,
});
export const vBucketTotals = v.object({
  count: v.number(),
  // Over the buckets whose provider reports a size; unsizedCount buckets
  // report none (their size and object count are unknown, not 0).
  sizeBytes: v.number(),
  objectCount: v.number(),
  unsizedCount: v.number(),
  ...vCost,
});
function vTypeSummary<T extends typeof vVolumeTotals | typeof vBucketTotals>(totals: T) {
  return v.object({
    total: totals,
    byProvider: v.array(v.object({ provider: vProvider, totals })),
    byRegion: v.array(v.object({ provider: vProvider, region: v.string(), totals })),
  });
}
export const vStorageSummary = v.object({
  blockVolumes: vTypeSummary(vVolumeTotals),
  buckets: vTypeSummary(vBucketTotals),
  // Docks in scope whose totals are being rebuilt (resources/totals.ts):
  // while above 0 the figures leave out part of those docks' rows.
  docksRebuilding: v.number(),
});
export type StorageSummary = Infer<typeof vStorageSummary>;
export const storageSummaryArgs = {
  orgId: v.optional(v.id("organizations")),
  dockId: v.optional(v.id("docks")),
};

// Rows as the dashboard queries return them.
export const vServerDoc = v.object({
  _id: v.id("servers"),
  _creationTime: v.number(),
  ...serverFields,
});
export const vBlockVolumeDoc = v.object({
  _id: v.id("blockVolumes"),
  _creationTime: v.number(),
  ...blockVolumeFields,
});
export const vBucketDoc = v.object({
  _id: v.id("buckets"),
  _creationTime: v.number(),
  ...bucketFields,
});

export const vAuditAction = v.union(
  v.literal("dock.created"),
  v.literal("dock.keyRotated"),
  v.literal("dock.renamed"),
  v.literal("dock.intervalChanged"),
  v.literal("dock.deleted"),
  v.literal("dock.syncRequested"),
  v.literal("dock.spacesKeySet"),
  v.literal("dock.spacesKeyRemoved"),
);
export type AuditAction = Infer<typeof vAuditAction>;

// Who did what to which dock. Never holds key material.
export const auditLogFields = {
  orgId: v.id("organizations"),
  // Absent for the scheduler's own syncs.
  actorId: v.optional(v.id("users")),
  action: vAuditAction,
  // Kept as the id string: the dock may be gone when the entry is read.
  dockId: v.string(),
  dockName: v.string(),
  provider: vProvider,
  details: v.optional(v.string()),
  at: v.number(),
};

export const vAuditLogDoc = v.object({
  _id: v.id("auditLogs"),
  _creationTime: v.number(),
  ...auditLogFields,
});

/**
 * How the volume and bucket tables are ordered: "size" largest first
 * (sizeGb, sizeBytes), "name" A to Z (Convex's string order: by code point,
 * so "Zeta" before "alpha"); absent, the stored order (oldest row first).
 */
export const vResourceSort = v.union(v.literal("name"), v.literal("size"));
export type ResourceSort = Infer<typeof vResourceSort>;

/** What `.paginate()` returns, for a row validator: the returns of every paginated query. */
export const vPage = paginationResultValidator;

/** The answer of a paginated query where the caller may see nothing. */
export const EMPTY_PAGE = { page: [], isDone: true, continueCursor: "" };
