// One dock sync, start to finish, as the sync action runs it: decrypt the key,
// stream each supported type from the provider a page at a time, write it in
// bounded chunks as it arrives, settle what a complete listing no longer has,
// and record the outcome. The action holds a page, a chunk and the map of the
// dock's row ids by key, never the whole listing: Convex gives an action 64 MiB.
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { ActionCtx } from "../_generated/server";
import { decryptApiKey, dockKeyBinding } from "../lib/encryption";
import { numberFromEnv } from "../lib/settings";
import {
  SYNCED_TYPES,
  type SyncedType,
  type SyncErrorCode,
  type SyncStats,
  type TypeSyncStats,
} from "../validators";
import type { DockAdapter, RawItem } from "./_types";
import { storable } from "./parse";
import {
  DEFAULT_PAGE_CONCURRENCY,
  DEFAULT_RETRY_POLICY,
  IncompleteListingError,
  ListingChangedError,
  ProviderClient,
  ProviderError,
  type RetryPolicy,
} from "./http";
import { SYNC_BUDGET_MS } from "./lease";
import { getAdapter } from "./registry";
import type { ChunkResult, StaleVerdicts } from "./sync";

// Per mutation call: items, and bytes of arguments. Far under Convex's limits
// (16,000 documents written, 4,096 index ranges read, 16 MiB of arguments per
// call), and small enough that a chunk in the action's memory stays a few MiB.
export const CHUNK_MAX_ITEMS = 1000;
export const CHUNK_MAX_BYTES = 2 * 1024 * 1024;
// Rows settled per mutation.
export const SETTLE_BATCH = 500;
// Row keys read per query of the key map, and the bytes of rows such a query
// may read (a page of large rows ends early and the next continues): far
// under Convex's 16 MiB and 32,000 documents read, and 8,192 array elements.
export const SCAN_PAGE = 4000;
export const SCAN_PAGE_BYTES = 8 * 1024 * 1024;
// Unlisted rows confirmed with the provider's single-item GET per type and
// sync; each costs one request. Rows past it wait for the two-listing rule.
export const CONFIRM_LIMIT = 100;
// Items named in the dock's stats (trimmed ones), the first few.
const MAX_NAMED_ITEMS = 5;
// Reads of a listing whose total moved while it was read, the first included.
const LISTING_ROUNDS = 2;

/** Retry and timeout settings; operators may tune them per deployment. */
export function retryPolicyFromEnv(): RetryPolicy {
  return {
    maxAttempts: numberFromEnv("SYNC_MAX_ATTEMPTS", DEFAULT_RETRY_POLICY.maxAttempts),
    baseDelayMs: numberFromEnv("SYNC_RETRY_BASE_DELAY_MS", DEFAULT_RETRY_POLICY.baseDelayMs),
    maxDelayMs: numberFromEnv("SYNC_RETRY_MAX_DELAY_MS", DEFAULT_RETRY_POLICY.maxDelayMs),
    timeoutMs: numberFromEnv("SYNC_REQUEST_TIMEOUT_MS", DEFAULT_RETRY_POLICY.timeoutMs),
  };
}

/** Collects items into chunks bounded by count and by serialized size, in order. */
export class Chunker<T> {
  private items: T[] = [];
  private bytes = 0;

  /** Adds an item; returns the chunk that had to be closed to make room, if any. */
  add(item: T, bytes: number): T[] | null {
    let closed: T[] | null = null;
    if (this.items.length > 0 && (this.items.length >= CHUNK_MAX_ITEMS || this.bytes + bytes > CHUNK_MAX_BYTES)) {
      closed = this.take();
    }
    this.items.push(item);
    this.bytes += bytes;
    return closed;
  }

  /** The open chunk (possibly empty); the chunker starts a new one. */
  take(): T[] {
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    return items;
  }
}

function emptyStats(): TypeSyncStats {
  return { fetched: 0, inserted: 0, updated: 0, deleted: 0, unchanged: 0, skipped: 0, complete: false };
}

// Error text stored on the dock is bounded: a provider can answer with any
// amount of text, and a dock document must stay far below Convex's 1 MiB.
export const MAX_ERROR_LENGTH = 500;

export function truncate(text: string, max = MAX_ERROR_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    // ConvexError carries its message in data; keep only text a user can read.
    const data = (e as { data?: unknown }).data;
    if (typeof data === "object" && data !== null && "message" in data) return truncate(String(data.message));
    return truncate(e.message);
  }
  return truncate(String(e));
}

/** The code a UI branches on for a failed listing or request. */
export function errorCodeOf(e: unknown): SyncErrorCode {
  if (e instanceof IncompleteListingError) {
    return "INCOMPLETE_LISTING";
  }
  if (e instanceof ProviderError) {
    if (e.status === 401) return "INVALID_CREDENTIALS";
    if (e.status === 403) return "ACCESS_DENIED";
    if (e.status === 429) return "RATE_LIMITED";
    return "PROVIDER_ERROR";
  }
  const code = (e as { data?: { code?: string } } | null)?.data?.code;
  if (code === "CONFIGURATION") return "CONFIGURATION";
  return "PROVIDER_ERROR";
}

function isLeaseLost(e: unknown): boolean {
  const data = (e as { data?: { code?: string } } | null)?.data;
  return data?.code === "LEASE_LOST";
}

class LeaseLost extends Error {}

/** Runs `work` over `items` with at most `limit` in flight. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

type TypeRun = {
  ctx: ActionCtx;
  dockId: Id<"docks">;
  leaseId: string;
  startedAt: number;
  adapter: DockAdapter;
  client: ProviderClient;
  // Provider requests in flight at once (pages, or single-item lookups).
  concurrency: number;
  type: SyncedType;
};

// Marks a key as listed in a KnownRows map (row ids are never empty).
const LISTED = "";

/**
 * The dock's rows of one type by key, read before the listing: key -> row id,
 * or LISTED once the listing returned the key. Entries still holding an id at
 * the end are the rows the listing did not return. About 150 bytes a row.
 */
type KnownRows = { ids: Map<string, string>; provisioned: Set<string> };

async function readKnownRows(run: TypeRun): Promise<KnownRows> {
  const known: KnownRows = { ids: new Map(), provisioned: new Set() };
  let cursor: string | null = null;
  for (;;) {
    const page: {
      page: { id: string; key: string; provisioned: boolean }[];
      isDone: boolean;
      continueCursor: string;
    } = await run.ctx.runQuery(internal.docks.queries.listDockKeys, {
      dockId: run.dockId,
      resourceType: run.type,
      paginationOpts: { cursor, numItems: SCAN_PAGE, maximumBytesRead: SCAN_PAGE_BYTES },
    });
    for (const row of page.page) {
      known.ids.set(row.key, row.id);
      if (row.provisioned) known.provisioned.add(row.key);
    }
    if (page.isDone) return known;
    cursor = page.continueCursor;
  }
}

// "changed": the provider's list moved while it was read (a total changed),
// so items may have been skipped; reading it again usually succeeds.
type ListingOutcome = "complete" | "changed" | "failed";

/**
 * Streams one type's listing into the tables, and says whether it was read
 * whole (only then may anything be deleted). Writes every page it did read:
 * fresh items are never held back.
 */
async function writeListing(run: TypeRun, stats: TypeSyncStats, known: KnownRows): Promise<ListingOutcome> {
  const { ctx, dockId, leaseId, adapter, type } = run;
  const parse = adapter.parse[type]!;
  const skipReasons: string[] = [];
  const trimmedKeys: string[] = [];
  let duplicates = 0;
  const chunker = new Chunker<{ raw: RawItem; rowId: string | null }>();

  const flush = async (items: { raw: RawItem; rowId: string | null }[]) => {
    if (items.length === 0) return;
    const result = await ctx.runMutation(internal.docks.mutations.syncDockResources, {
      dockId,
      leaseId,
      fetchedData: { [type]: items.map((i) => i.raw) },
      rowIds: { [type]: items.map((i) => i.rowId) },
    });
    const r = result[type] as ChunkResult;
    stats.inserted += r.inserted;
    stats.updated += r.updated;
    stats.unchanged += r.unchanged;
  };

  let listingError: unknown = undefined;
  try {
    for await (const page of adapter.list[type]!(run.client)) {
      stats.fetched += page.length;
      for (const raw of page) {
        const parsed = parse(raw);
        if (!parsed.ok) {
          stats.skipped++;
          if (skipReasons.length < 3) skipReasons.push(truncate(parsed.reason, 100));
          continue;
        }
        const key = parsed.fields.providerResourceId;
        const rowId = known.ids.get(key);
        if (rowId === LISTED) {
          duplicates++;
          continue;
        }
        known.ids.set(key, LISTED);
        if (parsed.trimmed !== undefined && parsed.trimmed.length > 0) {
          stats.trimmed = (stats.trimmed ?? 0) + 1;
          if (trimmedKeys.length < MAX_NAMED_ITEMS) trimmedKeys.push(truncate(key, 100));
        }
        // Made storable before it crosses into the mutation: Convex refuses
        // some field names even in arguments, and one odd item must not fail
        // its chunk.
        const clean = storable(raw);
        const full = chunker.add({ raw: clean, rowId: rowId ?? null }, JSON.stringify(clean).length);
        if (full !== null) await flush(full);
      }
    }
  } catch (e) {
    if (isLeaseLost(e)) throw new LeaseLost();
    listingError = e;
  }
  try {
    await flush(chunker.take());
  } catch (e) {
    if (isLeaseLost(e)) throw new LeaseLost();
    stats.error = `writing failed: ${errorMessage(e)}`;
    stats.errorCode = "WRITE_FAILED";
    return "failed";
  }
  if (trimmedKeys.length > 0) stats.trimmedKeys = trimmedKeys;
  if (listingError !== undefined) {
    stats.error = errorMessage(listingError);
    stats.errorCode = errorCodeOf(listingError);
    return listingError instanceof ListingChangedError ? "changed" : "failed";
  }
  const problems: string[] = [];
  if (stats.skipped > 0) {
    problems.push(`${stats.skipped} malformed item(s) skipped (${skipReasons.join("; ")})`);
  }
  if (duplicates > 0) problems.push(`${duplicates} item(s) listed twice`);
  if (problems.length > 0) {
    stats.error = truncate(problems.join(", "));
    stats.errorCode = "ITEMS_SKIPPED";
  }
  return "complete";
}

/**
 * Settles the dock's rows that a complete listing did not return. Offset
 * paging can miss a live item when the provider's list shifts while it is
 * read, so absence alone never deletes a row: each candidate (up to
 * CONFIRM_LIMIT) is asked for with the provider's single-item GET and deleted
 * only on a 404; the rest are marked missing and deleted when the next
 * complete listing misses them too. A listing with unreadable items marks
 * nothing, since one of them may be the missing row's item.
 */
async function settleUnlisted(run: TypeRun, stats: TypeSyncStats, known: KnownRows) {
  const { ctx, dockId, leaseId, type } = run;
  const candidates: { id: string; key: string }[] = [];
  for (const [key, id] of known.ids) {
    if (id !== LISTED && !known.provisioned.has(key)) candidates.push({ id, key });
  }
  if (candidates.length === 0) return;

  const verdicts: StaleVerdicts = { gone: [], missing: [], present: [] };
  const lookup = run.adapter.lookup[type]!;
  const markable = stats.skipped === 0;
  const confirmable = candidates.slice(0, CONFIRM_LIMIT);
  await eachLimited(confirmable, run.concurrency, async (row) => {
    try {
      const item = await lookup(run.client, row.key);
      (item === null ? verdicts.gone : verdicts.present).push(row.id);
    } catch {
      // Unknown: the provider did not say. The two-listing rule decides.
      if (markable) verdicts.missing.push(row.id);
    }
  });
  if (markable) verdicts.missing.push(...candidates.slice(CONFIRM_LIMIT).map((r) => r.id));
  stats.lookups = confirmable.length;

  let marked = 0;
  const batches = Math.max(
    Math.ceil(verdicts.gone.length / SETTLE_BATCH),
    Math.ceil(verdicts.missing.length / SETTLE_BATCH),
    Math.ceil(verdicts.present.length / SETTLE_BATCH),
  );
  for (let i = 0; i < batches; i++) {
    const slice = (ids: string[]) => ids.slice(i * SETTLE_BATCH, (i + 1) * SETTLE_BATCH);
    const result = await ctx.runMutation(internal.docks.mutations.settleStaleResources, {
      dockId,
      leaseId,
      resourceType: type,
      verdicts: { gone: slice(verdicts.gone), missing: slice(verdicts.missing), present: slice(verdicts.present) },
      syncStartedAt: run.startedAt,
    });
    stats.deleted += result.deleted;
    marked += result.marked;
  }
  stats.missing = marked;
}

/** Syncs one resource type of the dock; never throws but for a lost lease. */
async function syncType(run: TypeRun): Promise<TypeSyncStats> {
  // What an earlier round of a listing that moved under the pager wrote.
  const carried = { inserted: 0, updated: 0 };
  for (let round = 1; ; round++) {
    const stats = emptyStats();
    let known: KnownRows;
    try {
      known = await readKnownRows(run);
    } catch (e) {
      stats.error = `reading the dock's rows failed: ${errorMessage(e)}`;
      stats.errorCode = "WRITE_FAILED";
      return stats;
    }
    const outcome = await writeListing(run, stats, known);
    if (outcome === "changed" && round < LISTING_ROUNDS) {
      carried.inserted += stats.inserted;
      carried.updated += stats.updated;
      continue;
    }
    // Rows the first round wrote read as unchanged in the second.
    stats.unchanged = Math.max(0, stats.unchanged - carried.inserted - carried.updated);
    stats.inserted += carried.inserted;
    stats.updated += carried.updated;
    if (outcome !== "complete") return stats;
    try {
      await settleUnlisted(run, stats, known);
      stats.complete = true;
    } catch (e) {
      if (isLeaseLost(e)) throw new LeaseLost();
      stats.error = truncate(
        [stats.error, `removing deleted items failed: ${errorMessage(e)}`].filter(Boolean).join("; "),
      );
      stats.errorCode ??= errorCodeOf(e);
    }
    return stats;
  }
}

/** Runs one sync for a dock under the given lease. */
export async function runDockSync(
  ctx: ActionCtx,
  dockId: Id<"docks">,
  leaseId: string,
): Promise<void> {
  const startedAt = Date.now();
  const dock = await ctx.runQuery(internal.docks.queries.getDockForSync, { dockId, leaseId });
  if (dock === null) return;
  const stats: SyncStats = {};
  const finish = (fatalError?: string, fatalCode?: SyncErrorCode) =>
    ctx.runMutation(internal.docks.mutations.finishSync, { dockId, leaseId, stats, fatalError, fatalCode });

  let token: string;
  try {
    token = await decryptApiKey(dock.encryptedApiKey, dockKeyBinding(dock.orgId));
  } catch (e) {
    await finish(errorMessage(e), "CONFIGURATION");
    return;
  }
  const adapter = getAdapter(dock.provider);
  const concurrency = numberFromEnv("SYNC_PAGE_CONCURRENCY", DEFAULT_PAGE_CONCURRENCY);
  const client = new ProviderClient({
    provider: dock.provider,
    token,
    retry: retryPolicyFromEnv(),
    deadline: startedAt + SYNC_BUDGET_MS,
    concurrency,
  });

  // One type at a time, servers first: a volume's row names the server it is
  // attached to, and one streamed listing at a time bounds the action's memory.
  const types = SYNCED_TYPES.filter((t) => adapter.list[t] !== undefined);
  try {
    for (const type of types) {
      stats[type] = await syncType({ ctx, dockId, leaseId, startedAt, adapter, client, concurrency, type });
    }
  } catch (e) {
    // Another sync owns the dock now; it records its own outcome.
    if (e instanceof LeaseLost) return;
    await finish(`sync failed: ${errorMessage(e)}`, "WRITE_FAILED");
    return;
  }
  await finish();
}
