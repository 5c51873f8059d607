// One dock sync, start to finish, as the sync action runs it: decrypt the key,
// list every supported type from the provider, write the listing in chunks,
// delete what a complete listing no longer has, record the outcome.
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { ActionCtx } from "../_generated/server";
import { decryptApiKey, dockKeyBinding } from "../lib/encryption";
import { numberFromEnv } from "../lib/settings";
import { SYNCED_TYPES, type SyncedType, type SyncStats, type TypeSyncStats } from "../validators";
import type { DockAdapter, RawItem } from "./_types";
import { storable } from "./parse";
import {
  DEFAULT_PAGE_CONCURRENCY,
  DEFAULT_RETRY_POLICY,
  ProviderClient,
  type RetryPolicy,
} from "./http";
import { SYNC_BUDGET_MS } from "./lease";
import { getAdapter } from "./registry";
import type { ChunkResult } from "./sync";

// Per mutation call: items, and bytes of arguments, both far under Convex's
// limits (16,000 documents written, 16 MiB of arguments per call).
export const CHUNK_MAX_ITEMS = 1000;
export const CHUNK_MAX_BYTES = 4 * 1024 * 1024;
export const DELETE_BATCH = 500;
const SCAN_PAGE = 1000;

type Keyed = { key: string; raw: RawItem; bytes: number };

/** Retry and timeout settings; operators may tune them per deployment. */
export function retryPolicyFromEnv(): RetryPolicy {
  return {
    maxAttempts: numberFromEnv("SYNC_MAX_ATTEMPTS", DEFAULT_RETRY_POLICY.maxAttempts),
    baseDelayMs: numberFromEnv("SYNC_RETRY_BASE_DELAY_MS", DEFAULT_RETRY_POLICY.baseDelayMs),
    maxDelayMs: numberFromEnv("SYNC_RETRY_MAX_DELAY_MS", DEFAULT_RETRY_POLICY.maxDelayMs),
    timeoutMs: numberFromEnv("SYNC_REQUEST_TIMEOUT_MS", DEFAULT_RETRY_POLICY.timeoutMs),
  };
}

/** Cuts key-sorted items into chunks bounded by count and by serialized size. */
export function chunkItems(items: Keyed[]): Keyed[][] {
  const chunks: Keyed[][] = [];
  let current: Keyed[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= CHUNK_MAX_ITEMS || bytes + item.bytes > CHUNK_MAX_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function emptyStats(fetched: number): TypeSyncStats {
  return { fetched, inserted: 0, updated: 0, deleted: 0, unchanged: 0, skipped: 0, complete: false };
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

function isLeaseLost(e: unknown): boolean {
  const data = (e as { data?: { code?: string } } | null)?.data;
  return data?.code === "LEASE_LOST";
}

class LeaseLost extends Error {}

/** Writes one type's complete or partial listing; deletes stale rows only if complete. */
async function syncType(
  ctx: ActionCtx,
  dockId: Id<"docks">,
  leaseId: string,
  adapter: DockAdapter,
  type: SyncedType,
  items: RawItem[],
): Promise<TypeSyncStats> {
  const stats = emptyStats(items.length);
  const parse = adapter.parse[type]!;
  const keyed: Keyed[] = [];
  const seen = new Set<string>();
  const skipReasons: string[] = [];
  let duplicates = 0;
  for (const raw of items) {
    const parsed = parse(raw);
    if (!parsed.ok) {
      stats.skipped++;
      if (skipReasons.length < 3) skipReasons.push(truncate(parsed.reason, 100));
      continue;
    }
    const key = parsed.fields.providerResourceId;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    // Made storable before it crosses into the mutation: Convex refuses some
    // field names even in arguments, and one odd item must not fail its chunk.
    const clean = storable(raw);
    keyed.push({ key, raw: clean, bytes: JSON.stringify(clean).length });
  }
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const chunks = chunkItems(keyed);
  const candidates: { id: string; key: string }[] = [];
  const unscanned: { after: string; before?: string }[] = [];
  // With nothing listed, one empty chunk still walks the dock's rows.
  const plan = chunks.length > 0 ? chunks : [[]];
  try {
    for (let i = 0; i < plan.length; i++) {
      const window = {
        from: i === 0 ? undefined : plan[i][0].key,
        before: i === plan.length - 1 ? undefined : plan[i + 1][0].key,
      };
      const result = await ctx.runMutation(internal.docks.mutations.syncDockResources, {
        dockId,
        leaseId,
        fetchedData: { [type]: plan[i].map((k) => k.raw) },
        window,
      });
      const r = result[type] as ChunkResult;
      stats.inserted += r.inserted;
      stats.updated += r.updated;
      stats.unchanged += r.unchanged;
      candidates.push(...r.staleCandidates);
      if (r.scanAfter !== undefined) unscanned.push({ after: r.scanAfter, before: window.before });
    }
  } catch (e) {
    if (isLeaseLost(e)) throw new LeaseLost();
    stats.error = `writing failed: ${errorMessage(e)}`;
    return stats;
  }

  const problems: string[] = [];
  if (stats.skipped > 0) {
    problems.push(`${stats.skipped} malformed item(s) skipped (${skipReasons.join("; ")})`);
  }
  if (duplicates > 0) problems.push(`${duplicates} item(s) listed twice`);
  if (problems.length > 0) {
    // Some item could not be read, so its row cannot be told from a stale one.
    stats.error = truncate(`${problems.join(", ")}; rows not in the listing were kept`);
    return stats;
  }

  try {
    for (const range of unscanned) {
      let cursor: string | null = null;
      for (;;) {
        const page: { page: { id: string; key: string }[]; isDone: boolean; continueCursor: string } =
          await ctx.runQuery(internal.docks.queries.listDockKeys, {
          dockId,
          resourceType: type,
          after: range.after,
          before: range.before,
          paginationOpts: { cursor, numItems: SCAN_PAGE },
        });
        candidates.push(...page.page);
        if (page.isDone) break;
        cursor = page.continueCursor;
      }
    }
    const stale = candidates.filter((c) => !seen.has(c.key)).map((c) => c.id);
    for (let i = 0; i < stale.length; i += DELETE_BATCH) {
      stats.deleted += await ctx.runMutation(internal.docks.mutations.deleteStaleResources, {
        dockId,
        leaseId,
        resourceType: type,
        ids: stale.slice(i, i + DELETE_BATCH),
      });
    }
    stats.complete = true;
  } catch (e) {
    if (isLeaseLost(e)) throw new LeaseLost();
    stats.error = `removing deleted items failed: ${errorMessage(e)}`;
  }
  return stats;
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
  const finish = (fatalError?: string) =>
    ctx.runMutation(internal.docks.mutations.finishSync, { dockId, leaseId, stats, fatalError });

  let token: string;
  try {
    token = await decryptApiKey(dock.encryptedApiKey, dockKeyBinding(dock.orgId));
  } catch (e) {
    await finish(errorMessage(e));
    return;
  }
  const adapter = getAdapter(dock.provider);
  const client = new ProviderClient({
    provider: dock.provider,
    token,
    retry: retryPolicyFromEnv(),
    deadline: startedAt + SYNC_BUDGET_MS,
    concurrency: numberFromEnv("SYNC_PAGE_CONCURRENCY", DEFAULT_PAGE_CONCURRENCY),
  });

  const types = SYNCED_TYPES.filter((t) => adapter.fetch[t] !== undefined);
  // Listings of different types are independent: fetch them side by side.
  const listings = await Promise.allSettled(types.map((t) => adapter.fetch[t]!(client)));
  try {
    for (let i = 0; i < types.length; i++) {
      const listing = listings[i];
      if (listing.status === "rejected") {
        stats[types[i]] = { ...emptyStats(0), error: errorMessage(listing.reason) };
        continue;
      }
      stats[types[i]] = await syncType(ctx, dockId, leaseId, adapter, types[i], listing.value);
    }
  } catch (e) {
    // Another sync owns the dock now; it records its own outcome.
    if (e instanceof LeaseLost) return;
    await finish(`sync failed: ${errorMessage(e)}`);
    return;
  }
  await finish();
}
