// One dock sync, start to finish, as the sync action runs it: decrypt the key,
// stream each supported type from the provider a page at a time, write it in
// bounded chunks as it arrives, settle what a complete listing no longer has,
// and record the outcome. The action holds a page, a chunk and the map of the
// dock's row ids by key, never the whole listing: Convex gives an action 64 MiB.
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { ActionCtx } from "../_generated/server";
import { utf8Length } from "../lib/documentLimits";
import { decryptApiKey, dockKeyBinding, spacesKeyBinding } from "../lib/encryption";
import { numberFromEnv } from "../lib/settings";
import {
  SYNCED_TYPES,
  type SyncedType,
  type SyncErrorCode,
  type SyncStats,
  type TypeSyncStats,
} from "../validators";
import type { DockAdapter, SyncedFields } from "./_types";
import {
  DEFAULT_PAGE_CONCURRENCY,
  DEFAULT_RETRY_POLICY,
  IncompleteListingError,
  ListingChangedError,
  ProviderClient,
  ProviderError,
  secretRedactor,
  type RetryPolicy,
  type S3KeyPair,
} from "./http";
import { parseS3KeyPair } from "./s3";
import { moreUrgentCode, SYNC_BUDGET_MS } from "./lease";
import { SyncProgressTracker } from "./progress";
import { redactStrings } from "./parse";
import { getAdapter } from "./registry";
import type { ChunkResult, ServerNames, StaleVerdicts } from "./sync";

// Per mutation call: items, and bytes of arguments. Far under Convex's limits
// (16,000 documents written, 4,096 index ranges read, 16 MiB of arguments per
// call), and small enough that a chunk in the action's memory stays a few MiB.
export const CHUNK_MAX_ITEMS = 500;
export const CHUNK_MAX_BYTES = 1024 * 1024;
// Rows settled per mutation: each is read whole, and a stored row may be up
// to ~70 KiB (parse.ts bounds an item at 64 KiB), so 100 stay under 8 MiB.
export const SETTLE_BATCH = 100;
// Row keys read per query of the key map, and the bytes of rows such a query
// may read (a page of large rows ends early and the next continues): far
// under Convex's 16 MiB and 32,000 documents read, and 8,192 array elements.
export const SCAN_PAGE = 4000;
export const SCAN_PAGE_BYTES = 8 * 1024 * 1024;
// Unlisted rows confirmed with the provider's single-item GET per type and
// sync; each costs one request (two at most). Rows past it stay, marked
// missing, until a later sync confirms them.
export const CONFIRM_LIMIT = 200;
// Failed lookups after which a sync asks no more.
export const LOOKUP_FAILURE_LIMIT = 3;
// Attempts per single-item lookup (the first included).
const LOOKUP_ATTEMPTS = 2;
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
  if (e instanceof IncompleteListingError || e instanceof KeysTooLarge) {
    return "INCOMPLETE_LISTING";
  }
  if (e instanceof ProviderError) {
    // A scope the key lacks shuts out one type; the key still works for the rest.
    if (e.status === 403 || e.scopeRefused === true) return "ACCESS_DENIED";
    if (e.status === 401) return "INVALID_CREDENTIALS";
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
// A chunk could not be written (not a provider failure).
class WriteFailed extends Error {}

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
  // The client for single-item lookups: fewer attempts, so a failing lookup
  // endpoint costs few requests.
  lookupClient: ProviderClient;
  // Removes every echo of the dock's token from a text.
  redact: (text: string) => string;
  type: SyncedType;
  // The dock's server names by key, read after the servers synced, for the
  // rows that name the server they are attached to.
  serverNames?: ServerNames;
  // The sync's live progress on the dock, shared by every type.
  progress: SyncProgressTracker;
  // What the type's prepare read for its parse this sync (undefined: none).
  context?: unknown;
};

/**
 * Writes the sync's progress to the dock if it is due (a phase change, or
 * the interval passed) and no chunk is there to carry it. Progress is only a
 * view: a failed write costs a snapshot, never the sync, but a lost lease
 * ends the sync as it would at its next chunk.
 */
async function reportProgress(run: TypeRun) {
  const progress = run.progress.take();
  if (progress === undefined) return;
  try {
    await run.ctx.runMutation(internal.docks.mutations.reportSyncProgress, {
      dockId: run.dockId,
      leaseId: run.leaseId,
      progress,
    });
  } catch (e) {
    if (isLeaseLost(e)) throw new LeaseLost();
  }
}

/**
 * The row fields with every echo of the dock's token removed. A provider or a
 * proxy can reflect the Authorization header into an item; what is stored is
 * shown to every viewer. Items that hold no echo (all but a hostile few) are
 * returned as they are after one scan of their JSON, which comes back too:
 * the chunk's byte count needs it.
 */
export function withoutTokenEchoes<F>(fields: F, redact: (text: string) => string): { fields: F; json: string } {
  const json = JSON.stringify(fields);
  if (redact(json) === json) return { fields, json };
  const cleaned = redactStrings(fields, redact) as F;
  return { fields: cleaned, json: JSON.stringify(cleaned) };
}

// Characters of keys one listing may hold in the action: 100,000 keys of 80
// characters; real keys are 36 or fewer.
export const MAX_KEY_CHARS = 8_000_000;

/** The listing's keys outgrow what the action may hold. */
export class KeysTooLarge extends Error {
  constructor() {
    super("the listing's ids are too many or too long for one sync to hold");
  }
}

const LISTED = 1;
const PROVISIONED = 2;
const MARKED = 4;
// A key the listing returned that the dock has no row for.
const NEW_KEY = -1;

/**
 * The dock's rows of one type by key, read before the listing, and which keys
 * the listing returned since. Rows the listing never returned are the ones to
 * settle. Kept compact (about 0.2 KiB a row): a map from key to a slot, and
 * the slots' row ids, stored sizes and flags in parallel arrays.
 */
export class KnownRows {
  private readonly slots = new Map<string, number>();
  // Characters of the keys held: bounded, whatever a provider sends.
  private keyChars = 0;
  private readonly ids: string[] = [];
  private readonly sizes: number[] = [];
  private readonly flags: number[] = [];

  add(key: string, id: string, bytes: number, provisioned: boolean, marked: boolean) {
    this.keyChars += key.length;
    this.slots.set(key, this.ids.length);
    this.ids.push(id);
    this.sizes.push(bytes);
    this.flags.push((provisioned ? PROVISIONED : 0) | (marked ? MARKED : 0));
  }

  /**
   * Records that the listing returned `key`: its row (id and stored size),
   * null for a key the dock has no row for, or "repeated" when the listing
   * already returned it.
   */
  list(key: string): { id: string; bytes: number } | null | "repeated" {
    const slot = this.slots.get(key);
    if (slot === NEW_KEY || (slot !== undefined && this.flags[slot] & LISTED)) return "repeated";
    if (slot === undefined) {
      this.keyChars += key.length;
      if (this.keyChars > MAX_KEY_CHARS) throw new KeysTooLarge();
      this.slots.set(key, NEW_KEY);
      return null;
    }
    this.flags[slot] |= LISTED;
    return { id: this.ids[slot], bytes: this.sizes[slot] };
  }

  /** Rows the listing did not return, but for those created through the panel. */
  *unlisted(): Generator<{ id: string; key: string; marked: boolean }> {
    for (const [key, slot] of this.slots) {
      if (slot === NEW_KEY || this.flags[slot] & (LISTED | PROVISIONED)) continue;
      yield { id: this.ids[slot], key, marked: (this.flags[slot] & MARKED) !== 0 };
    }
  }
}

async function readKnownRows(run: TypeRun): Promise<KnownRows> {
  const known = new KnownRows();
  let cursor: string | null = null;
  for (;;) {
    const page: {
      page: { id: string; key: string; provisioned: boolean; bytes: number; missing: boolean }[];
      isDone: boolean;
      continueCursor: string;
    } = await run.ctx.runQuery(internal.docks.queries.listDockKeys, {
      dockId: run.dockId,
      resourceType: run.type,
      paginationOpts: { cursor, numItems: SCAN_PAGE, maximumBytesRead: SCAN_PAGE_BYTES },
    });
    for (const row of page.page) {
      known.add(row.key, row.id, row.bytes, row.provisioned, row.missing);
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
  const chunker = new Chunker<{ fields: SyncedFields<SyncedType>; rowId: string | null }>();

  const flush = async (items: { fields: SyncedFields<SyncedType>; rowId: string | null }[]) => {
    if (items.length === 0) return;
    const attachedTo = new Set(items.map((i) => (i.fields as { attachedToInstance?: string }).attachedToInstance));
    const serverNames =
      run.serverNames === undefined
        ? undefined
        : [...attachedTo].flatMap((key) => {
            const name = key === undefined ? undefined : run.serverNames!.get(key);
            return name === undefined ? [] : [{ key: key!, name }];
          });
    let result;
    try {
      result = await ctx.runMutation(internal.docks.mutations.syncDockResources, {
        dockId,
        leaseId,
        fetchedData: { [type]: items.map((i) => i.fields) },
        rowIds: { [type]: items.map((i) => i.rowId) },
        serverNames,
        // When due, the progress rides on this chunk instead of a write of its own.
        progress: run.progress.take(),
        // A prepare that failed leaves what it feeds (a cost) as rows stored it.
        keepFields: run.context === undefined ? run.adapter.preparedFields[type]?.slice() : undefined,
      });
    } catch (e) {
      throw isLeaseLost(e) ? new LeaseLost() : new WriteFailed(errorMessage(e));
    }
    const r = result[type] as ChunkResult;
    stats.inserted += r.inserted;
    stats.updated += r.updated;
    stats.unchanged += r.unchanged;
  };

  let listingError: unknown = undefined;
  try {
    for await (const page of adapter.list[type]!(run.client)) {
      stats.fetched += page.length;
      run.progress.page(type);
      for (const raw of page) {
        const parsed = parse(raw, run.context);
        if (!parsed.ok) {
          stats.skipped++;
          if (skipReasons.length < 3) skipReasons.push(truncate(parsed.reason, 100));
          continue;
        }
        const key = parsed.fields.providerResourceId;
        // An id holding the dock's token (a provider or proxy reflecting the
        // Authorization header) cannot be stored, shown or matched again.
        if (run.redact(key) !== key) {
          stats.skipped++;
          if (skipReasons.length < 3) skipReasons.push("the item's id holds the dock's API token");
          continue;
        }
        const existing = known.list(key);
        if (existing === "repeated") {
          duplicates++;
          continue;
        }
        if (parsed.trimmed !== undefined && parsed.trimmed.length > 0) {
          stats.trimmed = (stats.trimmed ?? 0) + 1;
          if (trimmedKeys.length < MAX_NAMED_ITEMS) trimmedKeys.push(truncate(key, 100));
        }
        const { fields, json } = withoutTokenEchoes(parsed.fields, run.redact);
        // A chunk is bounded by what it sends and by what it reads: the row it
        // replaces may be larger than the item.
        const bytes = Math.max(utf8Length(json), existing?.bytes ?? 0);
        const full = chunker.add({ fields, rowId: existing?.id ?? null }, bytes);
        if (full !== null) await flush(full);
      }
      // Pages whose items all wait in the open chunk still show.
      await reportProgress(run);
    }
  } catch (e) {
    if (e instanceof LeaseLost || isLeaseLost(e)) throw new LeaseLost();
    listingError = e;
  }
  try {
    if (!(listingError instanceof WriteFailed)) await flush(chunker.take());
  } catch (e) {
    if (e instanceof LeaseLost) throw e;
    listingError = e;
  }
  if (trimmedKeys.length > 0) stats.trimmedKeys = trimmedKeys;
  if (listingError instanceof WriteFailed) {
    stats.error = `writing failed: ${listingError.message}`;
    stats.errorCode = "WRITE_FAILED";
    return "failed";
  }
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
 * read, and a broken provider can answer a consistent but short list, so
 * absence alone never deletes a row: each candidate (up to CONFIRM_LIMIT per
 * sync) is asked for with the provider's single-item GET and deleted only on
 * its 404; the others are kept and marked missing until a later sync confirms.
 */
async function settleUnlisted(run: TypeRun, stats: TypeSyncStats, known: KnownRows) {
  const { ctx, dockId, leaseId, type } = run;
  const all = [...known.unlisted()];
  if (all.length === 0) return;
  run.progress.enter("confirmingDeletions", type);
  await reportProgress(run);
  // Each sync starts the confirmations at another place, so rows that keep
  // answering (items the listing cannot read) never hold the budget forever.
  const start = run.startedAt % all.length;
  const candidates = [...all.slice(start), ...all.slice(0, start)];
  // A listing with unreadable items marks nothing it could not confirm: one
  // of those items may be the row's.
  const markable = stats.skipped === 0;

  const verdicts: StaleVerdicts = { gone: [], missing: [], present: [] };
  const lookup = run.adapter.lookup[type]!;
  const confirmable = candidates.slice(0, CONFIRM_LIMIT);
  let asked = 0;
  let failures = 0;
  await eachLimited(confirmable, run.concurrency, async (row) => {
    // A lookup endpoint that keeps failing is not asked for every row: the
    // rest wait, marked missing, for a later sync.
    if (failures >= LOOKUP_FAILURE_LIMIT) {
      if (markable) verdicts.missing.push(row.id);
      return;
    }
    asked++;
    try {
      const item = await lookup(run.lookupClient, row.key);
      (item === null ? verdicts.gone : verdicts.present).push(row.id);
    } catch {
      failures++;
      if (markable) verdicts.missing.push(row.id);
    }
    await reportProgress(run);
  });
  stats.lookups = asked;
  // Rows already marked need no write; they are only counted.
  let alreadyMarked = 0;
  for (const row of candidates.slice(CONFIRM_LIMIT)) {
    if (row.marked) alreadyMarked++;
    else if (markable) verdicts.missing.push(row.id);
  }

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
  stats.missing = marked + alreadyMarked;
}

/**
 * The type's per-sync parse context, or undefined when it has none or it
 * could not be read: what it adds (a price) is then unknown, and the listing
 * goes on. Read with the lookup client, so a failing endpoint costs few requests.
 */
async function prepareContext(run: TypeRun): Promise<unknown> {
  const prepare = run.adapter.prepare[run.type];
  if (prepare === undefined) return undefined;
  try {
    return await prepare(run.lookupClient);
  } catch {
    return undefined;
  }
}

/** Syncs one resource type of the dock; never throws but for a lost lease. */
async function syncType(run: TypeRun): Promise<TypeSyncStats> {
  run.context = await prepareContext(run);
  // What an earlier round of a listing that moved under the pager wrote.
  const carried = { inserted: 0, updated: 0 };
  for (let round = 1; ; round++) {
    const stats = emptyStats();
    run.progress.track(run.type, stats);
    run.progress.enter("listing", run.type);
    await reportProgress(run);
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
      if (e instanceof LeaseLost || isLeaseLost(e)) throw new LeaseLost();
      stats.error = truncate(
        [stats.error, `removing deleted items failed: ${errorMessage(e)}`].filter(Boolean).join("; "),
      );
      // Lookups never throw here (a failed one keeps its row): what failed is
      // a settle write, and that outranks items skipped in the listing.
      stats.errorCode = moreUrgentCode(stats.errorCode, "WRITE_FAILED");
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
  // The dock's second credential (a Spaces key pair), if it holds one; a pair
  // that does not decrypt costs only the types that need it.
  let s3Key: S3KeyPair | undefined;
  let s3KeyError: string | undefined;
  if (dock.encryptedSpacesKey !== undefined) {
    try {
      s3Key = parseS3KeyPair(await decryptApiKey(dock.encryptedSpacesKey, spacesKeyBinding(dock.orgId)));
    } catch (e) {
      s3KeyError = `the Spaces key: ${errorMessage(e)}`;
    }
  }
  const adapter = getAdapter(dock.provider);
  const concurrency = numberFromEnv("SYNC_PAGE_CONCURRENCY", DEFAULT_PAGE_CONCURRENCY);
  const options = {
    provider: dock.provider,
    token,
    s3Key,
    retry: retryPolicyFromEnv(),
    deadline: startedAt + SYNC_BUDGET_MS,
    concurrency,
  };
  const client = new ProviderClient(options);
  const lookupClient = new ProviderClient({
    ...options,
    retry: { ...options.retry, maxAttempts: Math.min(options.retry.maxAttempts, LOOKUP_ATTEMPTS) },
    // A window the listing used up pauses the lookups too.
    pace: client.pace,
  });
  const redactors = [token, s3Key?.secretAccessKey, s3Key?.accessKeyId].flatMap((secret) =>
    secret === undefined ? [] : [secretRedactor(secret)],
  );
  const redact = (text: string) => redactors.reduce((out, r) => r(out), text);
  let serverNames: ServerNames | undefined;
  const readServerNames = async (): Promise<ServerNames> => {
    const names: ServerNames = new Map();
    let cursor: string | null = null;
    for (;;) {
      const page: { page: { key: string; name: string }[]; isDone: boolean; continueCursor: string } =
        await ctx.runQuery(internal.docks.queries.listServerNames, {
          dockId,
          paginationOpts: { cursor, numItems: SCAN_PAGE, maximumBytesRead: SCAN_PAGE_BYTES },
        });
      for (const row of page.page) names.set(row.key, row.name);
      if (page.isDone) return names;
      cursor = page.continueCursor;
    }
  };

  // One type at a time, servers first: a volume's row names the server it is
  // attached to, and one streamed listing at a time bounds the action's memory.
  // A type that needs a key pair the dock does not hold is not synced: its
  // stats stay absent, which is how the dock says so.
  const types = SYNCED_TYPES.filter(
    (t) => adapter.list[t] !== undefined && (adapter.needsS3Key[t] !== true || s3Key !== undefined || s3KeyError !== undefined),
  );
  const progress = new SyncProgressTracker();
  try {
    for (const type of types) {
      if (adapter.needsS3Key[type] === true && s3Key === undefined) {
        stats[type] = { ...emptyStats(), error: truncate(s3KeyError ?? ""), errorCode: "CONFIGURATION" };
        continue;
      }
      // The servers as they stand after their own sync (listed now, or kept
      // when their listing failed or an item was unreadable).
      if (type !== "servers" && adapter.needsServerNames && serverNames === undefined) {
        serverNames = await readServerNames();
      }
      const run: TypeRun = { ctx, dockId, leaseId, startedAt, adapter, client, concurrency, lookupClient, redact, type, serverNames, progress };
      stats[type] = await syncType(run);
      progress.done(type);
    }
  } catch (e) {
    // Another sync owns the dock now; it records its own outcome.
    if (e instanceof LeaseLost) return;
    await finish(`sync failed: ${errorMessage(e)}`, "WRITE_FAILED");
    return;
  }
  await finish();
}
