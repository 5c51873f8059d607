// One benchmark scenario, run in its own process by docks/bench.ts: a dock
// synced three times (first sync, unchanged re-sync, re-sync after 100
// changes) on a fresh convex-test backend with Convex's transaction limits
// enforced, against the provider emulator at 20 ms latency; or the paging
// comparison (one listing read with 1 and with DEFAULT_PAGE_CONCURRENCY pages in flight).
import { storable } from "../../convex/docks/parse";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { clearInterval, setInterval } from "node:timers";
import { convexTest } from "convex-test";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { DEFAULT_PAGE_CONCURRENCY, ProviderClient } from "../../convex/docks/http";
import schema from "../../convex/schema";
import type { Provider, SyncedType, SyncStats } from "../../convex/validators";
import { applyChanges, generateAccount, type ProviderAccount } from "../emulator/accounts";
import { startEmulator, type Emulator, type RequestRecord } from "../emulator/server";
import { ActionWorkerHost, CONVEX_ACTION_HEAP_MIB, HEAP_TARGET_MIB, mib, type HeapRun } from "./actionHeap";
import { startRemoteEmulator } from "./emulatorProcess";
import {
  inSyncScope,
  installTracking,
  instrumentedModules,
  nextSyncRun,
  SYNC_ACTION,
  takeLimitErrors,
  takeRecords,
  type TxRecord,
} from "./instrument";

export const LATENCY_MS = 20;
// The largest page each provider serves (and the client asks for).
export const PAGE_SIZE: Record<Provider, number> = { digitalocean: 200, vultr: 500, linode: 500 };
// Servers on every account: a realistic handful, listed alongside the storage.
const SERVERS = 20;
const SEED = 20_251_001;
// The "k = 100 changes" of the third sync: resized, added and removed items.
const CHANGE = { seed: 7, resize: 34, add: 33, remove: 33 };
// Convex's per-transaction limits, for the headroom figures.
export const LIMITS = { documentsRead: 32_000, documentsWritten: 16_000, bytes: 16 * 1024 * 1024 };
// The real DigitalOcean API allows 250 requests a minute.
const DO_RATE_LIMIT = { limit: 250, windowMs: 60_000 };
// Sequential over concurrent wall time the paging comparison must reach.
const PAGING_TARGET = 3;
// Rows per counting transaction: 8,000 rows of about 1 KB stay far inside 32,000 documents and 16 MiB.
const COUNT_PAGE = 8000;

const LIST_PATHS: Record<Provider, { servers: string; blockVolumes?: string; buckets?: string }> = {
  digitalocean: { servers: "/v2/droplets", blockVolumes: "/v2/volumes" },
  vultr: { servers: "/v2/instances", blockVolumes: "/v2/blocks" },
  linode: { servers: "/v4/linode/instances", blockVolumes: "/v4/volumes", buckets: "/v4/object-storage/buckets" },
};
// Read once per sync beside a listing (Linode's volume prices); neither a page nor a lookup.
const PRICE_PATHS = new Set(["/v4/volumes/types"]);
const URL_ENV: Record<Provider, string> = {
  vultr: "VULTR_API_URL",
  digitalocean: "DIGITALOCEAN_API_URL",
  linode: "LINODE_API_URL",
};

export type SyncScenario = {
  name: string;
  kind: "sync";
  provider: Provider;
  storage: "blockVolumes" | "buckets";
  items: number;
  /** Vultr buckets: the Object Storage subscriptions they are spread over. */
  objectStorages?: number;
  rateLimit?: boolean;
  quick: boolean;
};
export type PagingScenario = { name: string; kind: "paging"; items: number; quick: boolean };
export type Scenario = SyncScenario | PagingScenario;

export const SCENARIOS: Scenario[] = [
  ...([1_000, 10_000, 50_000] as const).flatMap((items) =>
    (["digitalocean", "vultr"] as const).map(
      (provider): Scenario => ({
        name: `${provider}-${items / 1000}k`,
        kind: "sync",
        provider,
        storage: "blockVolumes",
        items,
        quick: items <= 10_000,
      }),
    ),
  ),
  { name: "linode-20k-buckets", kind: "sync", provider: "linode", storage: "buckets", items: 20_000, quick: false },
  // Vultr lists subscriptions, then each one's buckets: 10 subscriptions of 500.
  {
    name: "vultr-5k-buckets",
    kind: "sync",
    provider: "vultr",
    storage: "buckets",
    items: 5_000,
    objectStorages: 10,
    quick: false,
  },
  { name: "linode-20k-volumes", kind: "sync", provider: "linode", storage: "blockVolumes", items: 20_000, quick: false },
  { name: "paging-digitalocean-10k", kind: "paging", items: 10_000, quick: true },
];
// Optional (--rate-limit): DigitalOcean 50,000 against the real 250 requests/minute.
export const RATE_LIMIT_SCENARIO: Scenario = {
  name: "digitalocean-50k-ratelimited",
  kind: "sync",
  provider: "digitalocean",
  storage: "blockVolumes",
  items: 50_000,
  rateLimit: true,
  quick: false,
};

export type ListCount = {
  type: SyncedType;
  path: string;
  requests: number;
  answered200: number;
  lookups: number;
  answered429: number;
  minimum: number;
  ratio: number;
};

export type PhaseName = "first" | "unchanged" | "changed";

export type PhaseResult = {
  phase: PhaseName;
  syncMs: number;
  // Of syncMs: from the first list request's arrival to the last answer (latency included).
  listingMs: number;
  // Of syncMs: inside the sync action's queries and mutations (convex-test's work).
  transactionMs: number;
  status: string;
  error?: string;
  list: ListCount[];
  // Top-level transactions the sync action ran, by kind and by function.
  mutations: number;
  queries: number;
  byFunction: Record<string, number>;
  documentsRead: number;
  // Written by syncDockResources and settleStaleResources: resource rows.
  rowsWritten: number;
  // Storage totals documents those same transactions wrote (resources/totals.ts).
  totalsWritten: number;
  // Everything the sync action wrote (rows plus the dock's status by finishSync).
  documentsWritten: number;
  // Rows added, removed or changed at the provider since the previous sync.
  expectedRowsWritten: number;
  maxTx: { documentsRead: number; documentsWritten: number; bytesRead: number; bytesWritten: number };
  // The trigger (insertDock / syncDock) and anything else outside the action.
  outside: { transactions: number; documentsRead: number; documentsWritten: number };
  rows: { storage: number; servers: number; expectedStorage: number; expectedServers: number };
  // Sum of sizeGb (volumes) or objectCount (buckets) in the table and at the provider.
  checksum: { table: number; provider: number };
  stats?: SyncStats;
  rateLimitWaitMs?: number;
  limitErrors: string[];
  // The sync action's own V8 heap, measured in a worker capped like a Convex
  // isolate (absent with --no-heap). MiB, one decimal.
  heap?: PhaseHeap;
};

export type PhaseHeap = {
  capMib: number;
  baselineMib?: number;
  peakMib: number;
  // Peak minus baseline: what the sync itself added.
  deltaMib?: number;
  // Largest heap right after a full collection (live data only).
  liveMib?: number;
  majorGcs?: number;
  oom: boolean;
  // After an out-of-memory exit: the same invocation re-run without the cap.
  uncapped?: { peakMib: number; liveMib?: number; baselineMib?: number };
  underTarget: boolean;
};

export type SyncResult = {
  scenario: string;
  kind: "sync";
  provider: Provider;
  storage: string;
  items: number;
  servers: number;
  rateLimit: boolean;
  pageConcurrency: number;
  // Average JSON size of one listed item, in bytes, as the provider sends it.
  itemBytes: { storage: number; servers: number };
  heapMode: boolean;
  ok: boolean;
  failures: string[];
  phases: PhaseResult[];
  // getStorageSummary for the org after the last sync: what it read, and the groups it answered.
  summaryQuery?: { documentsRead: number; regions: number; count: number };
  peakRssMb: number;
  peakHeapMb: number;
  totalMs: number;
};

type PagingSide = { concurrency: number; ms: number; requests: number; runsMs: number[] };
export type PagingLayout = { emulator: string; sequential: PagingSide; concurrent: PagingSide; ratio: number };

export type PagingResult = {
  scenario: string;
  kind: "paging";
  items: number;
  pages: number;
  ok: boolean;
  failures: string[];
  // First: the emulator in its own process (the target applies); then in this process.
  layouts: PagingLayout[];
  ratio: number;
  target: number;
  peakRssMb: number;
  peakHeapMb: number;
  totalMs: number;
};

export type Result = SyncResult | PagingResult;

const MB = 1024 * 1024;

/** Samples rss and heapUsed every 50 ms; stop() returns the peaks. */
function memorySampler() {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  sample();
  const timer = setInterval(sample, 50);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { peakRssMb: Math.round(rss / MB), peakHeapMb: Math.round(heap / MB) };
    },
  };
}

function configureEnv(): void {
  process.env.ENCRYPTION_MASTER_KEY = randomBytes(32).toString("hex");
  // Fast retries for transient faults; a 429's Retry-After is still honoured.
  process.env.SYNC_RETRY_BASE_DELAY_MS = "10";
  process.env.SYNC_RETRY_MAX_DELAY_MS = "200";
  // The benchmark re-syncs at once, on purpose; the button's cooldown is not measured here.
  process.env.SYNC_BUTTON_COOLDOWN_MS = "1";
}

function pointAt(emulator: Emulator): void {
  for (const p of ["vultr", "digitalocean", "linode"] as const) process.env[URL_ENV[p]] = emulator.baseUrls[p];
  process.env.VULTR_S3_URL = emulator.vultrS3Url;
}

const minimumPages = (items: number, provider: Provider) => Math.max(1, Math.ceil(items / PAGE_SIZE[provider]));

const averageBytes = (items: unknown[]) =>
  items.length === 0 ? 0 : Math.round(items.reduce((sum: number, i) => sum + JSON.stringify(i).length, 0) / items.length);

/** The phase's heap figures from the one sync action run it should contain. */
function phaseHeap(runs: HeapRun[], fail: (message: string) => void): PhaseHeap | undefined {
  if (runs.length !== 1) {
    fail(`expected one run of the sync action in the heap worker, saw ${runs.length}`);
    if (runs.length === 0) return undefined;
  }
  const { capped, uncapped } = runs[runs.length - 1];
  const f = capped.figures;
  // Out of memory means the heap reached the cap, whatever the sampler last saw
  // (a synchronous stretch gives it no turn).
  const peakMib = capped.oom
    ? Math.max(mib(capped.lastSeenBytes)!, capped.capMib)
    : mib(f?.peakUsedBytes ?? capped.lastSeenBytes)!;
  const baselineMib = mib(f?.baselineBytes ?? capped.baselineBytes);
  const heap: PhaseHeap = {
    capMib: capped.capMib,
    baselineMib,
    peakMib,
    deltaMib: baselineMib === undefined ? undefined : Math.round((peakMib - baselineMib) * 10) / 10,
    liveMib: f === undefined || f.majorGcs === 0 ? undefined : mib(f.peakLiveBytes),
    majorGcs: f?.majorGcs,
    oom: capped.oom,
    underTarget: !capped.oom && peakMib <= HEAP_TARGET_MIB,
  };
  if (uncapped !== undefined) {
    const u = uncapped.figures;
    heap.uncapped = {
      peakMib: mib(u?.peakUsedBytes ?? uncapped.lastSeenBytes)!,
      liveMib: u === undefined || u.majorGcs === 0 ? undefined : mib(u.peakLiveBytes),
      baselineMib: mib(u?.baselineBytes),
    };
  }
  if (capped.oom) {
    const again = heap.uncapped;
    fail(
      `sync action OUT OF MEMORY: the worker's V8 heap hit the ${capped.capMib} MiB cap ` +
        `(last sampled ${mib(capped.lastSeenBytes)} MiB used, baseline ${baselineMib ?? "?"} MiB)` +
        (again === undefined ? "" : `; re-run uncapped it peaked at ${again.peakMib} MiB used, ${again.liveMib ?? "?"} MiB live`),
    );
  } else if (peakMib > CONVEX_ACTION_HEAP_MIB) {
    fail(`sync action heap peaked at ${peakMib} MiB, over Convex's ${CONVEX_ACTION_HEAP_MIB} MiB`);
  }
  return heap;
}

function heapLine(h: PhaseHeap): string {
  if (h.oom) {
    return (
      `heap OUT OF MEMORY at the ${h.capMib} MiB cap (baseline ${h.baselineMib ?? "?"} MiB)` +
      (h.uncapped === undefined ? "" : `; uncapped re-run: peak ${h.uncapped.peakMib} MiB, live ${h.uncapped.liveMib ?? "-"} MiB`)
    );
  }
  return (
    `heap baseline ${h.baselineMib} MiB, peak ${h.peakMib} MiB (+${h.deltaMib}), live ${h.liveMib ?? "-"} MiB, ` +
    `${h.majorGcs} full GCs; ${h.underTarget ? "under" : "OVER"} the ${HEAP_TARGET_MIB} MiB target, ` +
    `${h.peakMib <= CONVEX_ACTION_HEAP_MIB ? "within" : "OVER"} Convex's ${CONVEX_ACTION_HEAP_MIB} MiB`
  );
}

function storageItems(account: ProviderAccount, storage: SyncScenario["storage"]) {
  return storage === "buckets" ? account.buckets : account.volumes;
}

function itemKey(storage: SyncScenario["storage"], item: Record<string, unknown>): string {
  if (storage === "buckets" && item.object_storage_id !== undefined) return `${String(item.object_storage_id)}/${String(item.name)}`;
  return storage === "buckets" ? `${String(item.region)}/${String(item.label)}` : String(item.id);
}

// Vultr buckets carry no size or object count: their checksum is the length of their names.
const isVultrBuckets = (provider: Provider, storage: SyncScenario["storage"]) => provider === "vultr" && storage === "buckets";

function itemWeight(provider: Provider, storage: SyncScenario["storage"], item: Record<string, unknown>): number {
  if (isVultrBuckets(provider, storage)) return String(item.name).length;
  const value =
    storage === "buckets" ? item.objects : provider === "linode" ? item.size : provider === "vultr" ? item.size_gb : item.size_gigabytes;
  return typeof value === "number" ? value : 0;
}

/** Items added, removed or changed between two listings: the rows a sync must write. */
function changedCount(
  before: Record<string, unknown>[],
  after: Record<string, unknown>[],
  key: (item: Record<string, unknown>) => string,
): number {
  // Items are compared as they are stored: a part cut to fit Convex's limits
  // (a droplet listing thousands of volume ids) cannot make a row differ.
  const stored = (item: Record<string, unknown>) => JSON.stringify(storable(item));
  const old = new Map(before.map((item) => [key(item), stored(item)]));
  let n = 0;
  for (const item of after) {
    const k = key(item);
    const previous = old.get(k);
    if (previous === undefined || previous !== stored(item)) n++;
    old.delete(k);
  }
  return n + old.size;
}

/** The longest stall after a 429: from the refused request to its retry of the same page. */
function rateLimitWait(requests: RequestRecord[]): number {
  let longest = 0;
  requests.forEach((r, i) => {
    if (r.status !== 429) return;
    const retry = requests.slice(i + 1).find((n) => n.path === r.path && n.query.page === r.query.page);
    longest = Math.max(longest, (retry?.at ?? Date.now()) - r.at);
  });
  return longest;
}

function summarize(records: TxRecord[]) {
  const inSync = records.filter((r) => r.inSync);
  const outside = records.filter((r) => !r.inSync);
  const byFunction: Record<string, number> = {};
  for (const r of inSync) byFunction[r.fn] = (byFunction[r.fn] ?? 0) + 1;
  const sum = (rs: TxRecord[], f: (r: TxRecord) => number) => rs.reduce((s, r) => s + f(r), 0);
  const max = (f: (r: TxRecord) => number) => inSync.reduce((m, r) => Math.max(m, f(r)), 0);
  const rowWriters = new Set(["docks/mutations:syncDockResources", "docks/mutations:settleStaleResources"]);
  return {
    mutations: inSync.filter((r) => r.kind === "mutation").length,
    queries: inSync.filter((r) => r.kind === "query").length,
    byFunction,
    transactionMs: Math.round(sum(inSync, (r) => r.ms)),
    documentsRead: sum(inSync, (r) => r.reads),
    // A rolled-back transaction's writes were undone: only committed ones count
    // (its reads happened, and its attempted writes still show in maxTx).
    documentsWritten: sum(
      inSync.filter((r) => r.committed),
      (r) => r.writes,
    ),
    rowsWritten: sum(
      inSync.filter((r) => r.committed && rowWriters.has(r.fn)),
      (r) => r.writes - r.totalsWrites - r.dockWrites,
    ),
    totalsWritten: sum(
      inSync.filter((r) => r.committed && rowWriters.has(r.fn)),
      (r) => r.totalsWrites,
    ),
    maxTx: {
      documentsRead: max((r) => r.reads),
      documentsWritten: max((r) => r.writes),
      bytesRead: max((r) => r.bytesRead),
      bytesWritten: max((r) => r.bytesWritten),
    },
    outside: {
      transactions: outside.length,
      documentsRead: sum(outside, (r) => r.reads),
      documentsWritten: sum(
        outside.filter((r) => r.committed),
        (r) => r.writes,
      ),
    },
  };
}

export type SyncOptions = {
  // Run the sync action in a worker capped at Convex's 64 MiB and measure its heap (default).
  heap: boolean;
};

export async function runSyncScenario(
  spec: SyncScenario,
  log: (line: string) => void,
  options: SyncOptions = { heap: true },
): Promise<SyncResult> {
  const began = performance.now();
  const memory = memorySampler();
  configureEnv();
  installTracking();
  const { provider, storage } = spec;
  const failures: string[] = [];
  const phases: PhaseResult[] = [];
  let summaryQuery: SyncResult["summaryQuery"];
  const pageConcurrency = Number(process.env.SYNC_PAGE_CONCURRENCY ?? DEFAULT_PAGE_CONCURRENCY);

  let account = generateAccount(provider, {
    seed: SEED,
    servers: SERVERS,
    volumes: storage === "blockVolumes" ? spec.items : 0,
    buckets: storage === "buckets" ? spec.items : 0,
    objectStorages: spec.objectStorages,
  });
  const itemBytes = { storage: averageBytes(storageItems(account, storage)), servers: averageBytes(account.servers) };
  log(`average item size: ${itemBytes.storage} B per ${storage === "buckets" ? "bucket" : "volume"}, ${itemBytes.servers} B per server`);
  const emulator = await startEmulator({
    latencyMs: LATENCY_MS,
    accounts: { [provider]: account },
    rateLimit: spec.rateLimit === true ? { [provider]: DO_RATE_LIMIT } : undefined,
  });
  pointAt(emulator);
  try {
    // The worker copies process.env when each run starts: the key and the
    // emulator's URLs are set by now.
    const host = options.heap ? new ActionWorkerHost(SYNC_ACTION, { scope: inSyncScope }) : undefined;
    const modules = instrumentedModules(
      host === undefined
        ? undefined
        : { fn: SYNC_ACTION, handler: (ctx, args) => host.run(ctx as Parameters<ActionWorkerHost["run"]>[0], args) },
    );
    const t = convexTest({ schema, modules, transactionLimits: true });
    const user = t.withIdentity({ tokenIdentifier: "https://auth.example|bench", name: "Bench Admin" });
    await user.mutation(api.users.storeUser, {});
    const orgId = await user.mutation(api.organizations.createOrganization, { name: "Bench Org" });
    // Proof that the prototype patch reached the tracker convex-test uses.
    const setup = takeRecords();
    if (setup.length === 0 || setup.every((r) => r.reads + r.writes === 0)) {
      throw new Error("the TransactionMetricsTracker patch saw no reads or writes: it patched another module instance");
    }

    const countRows = async (table: "blockVolumes" | "buckets" | "servers", dockId: Id<"docks">) => {
      // Paginated through by_dockId, one transaction per page, well inside the limits.
      let cursor: string | null = null;
      let count = 0;
      let weight = 0;
      for (;;) {
        const page: { n: number; w: number; isDone: boolean; continueCursor: string } = await t.run(async (ctx) => {
          const result = await ctx.db
            .query(table as "blockVolumes")
            .withIndex("by_dockId", (q) => q.eq("dockId", dockId))
            .paginate({ cursor, numItems: COUNT_PAGE });
          let w = 0;
          for (const row of result.page as Record<string, unknown>[]) {
            const value =
              table === "buckets"
                ? isVultrBuckets(provider, storage) ? String(row.name).length : row.objectCount
                : table === "blockVolumes" ? row.sizeGb : 0;
            w += typeof value === "number" ? value : 0;
          }
          return { n: result.page.length, w, isDone: result.isDone, continueCursor: result.continueCursor };
        });
        count += page.n;
        weight += page.w;
        if (page.isDone) return { count, weight };
        cursor = page.continueCursor;
      }
    };

    let dockId: Id<"docks"> | undefined;
    let previous: ProviderAccount = { ...account, servers: [], volumes: [], buckets: [] };
    const measure = async (phase: PhaseName, start: () => Promise<void>): Promise<PhaseResult> => {
      takeRecords();
      takeLimitErrors();
      emulator.resetRequests();
      const done = nextSyncRun();
      await start();
      const run = await done;
      await t.finishInProgressScheduledFunctions();
      const records = takeRecords();
      const limitErrors = takeLimitErrors();
      const requests = [...emulator.requests];
      const current = emulator.accounts[provider];
      const items = storageItems(current, storage);

      // Vultr buckets: the subscriptions' bucket lists are part of the listing
      // (one each); lookups start with the first GET of one subscription.
      const firstLookup = isVultrBuckets(provider, storage)
        ? requests.findIndex((r) => /^\/v2\/object-storage\/[^/]+$/.test(r.path))
        : -1;
      const listingRequests = firstLookup < 0 ? requests : requests.slice(0, firstLookup);
      const bucketLists: ListCount[] = !isVultrBuckets(provider, storage)
        ? []
        : [
            {
              type: "buckets",
              path: "/v2/object-storage/{id}/bucket",
              requests: listingRequests.filter((r) => /\/bucket$/.test(r.path)).length,
              answered200: listingRequests.filter((r) => /\/bucket$/.test(r.path) && r.status === 200).length,
              answered429: listingRequests.filter((r) => /\/bucket$/.test(r.path) && r.status === 429).length,
              minimum: (current.objectStorages ?? []).length,
              ratio: listingRequests.filter((r) => /\/bucket$/.test(r.path)).length / Math.max(1, (current.objectStorages ?? []).length),
              lookups: firstLookup < 0 ? 0 : requests.length - firstLookup,
            },
          ];
      const list: ListCount[] = (["servers", storage] as const).map((type) => {
        const path = type !== "servers" && isVultrBuckets(provider, storage) ? "/v2/object-storage" : LIST_PATHS[provider][type]!;
        const mine = requests.filter((r) => r.path === path);
        const listed =
          type === "servers" ? current.servers.length : isVultrBuckets(provider, storage) ? (current.objectStorages ?? []).length : items.length;
        const minimum = minimumPages(listed, provider);
        return {
          type,
          path,
          requests: mine.length,
          answered200: mine.filter((r) => r.status === 200).length,
          answered429: mine.filter((r) => r.status === 429).length,
          minimum,
          ratio: mine.length / minimum,
          // Single-item GETs that confirm an unlisted item is gone before its row is deleted.
          lookups: isVultrBuckets(provider, storage)
            ? 0
            : requests.filter((r) => r.path.startsWith(`${path}/`) && !PRICE_PATHS.has(r.path)).length,
        };
      });
      list.push(...bucketLists);
      const dock = await t.run((ctx) => ctx.db.get("docks", dockId!));
      const storageRows = await countRows(storage, dockId!);
      const serverRows = await countRows("servers", dockId!);
      const expectedRowsWritten =
        changedCount(storageItems(previous, storage), items, (i) => itemKey(storage, i)) +
        changedCount(previous.servers, current.servers, (i) => String(i.id));
      const listed = requests.filter((r) => list.some((l) => l.path === r.path)).map((r) => r.at);
      const result: PhaseResult = {
        phase,
        syncMs: Math.round(run.ms),
        listingMs: listed.length === 0 ? 0 : Math.max(...listed) - Math.min(...listed) + LATENCY_MS,
        status: dock?.lastSyncStatus ?? "never synced",
        error: run.error ?? dock?.lastSyncError,
        list,
        ...summarize(records),
        expectedRowsWritten,
        rows: {
          storage: storageRows.count,
          servers: serverRows.count,
          expectedStorage: items.length,
          expectedServers: current.servers.length,
        },
        checksum: { table: storageRows.weight, provider: items.reduce((s, i) => s + itemWeight(provider, storage, i), 0) },
        stats: dock?.lastSyncStats,
        limitErrors,
      };
      if (requests.some((r) => r.status === 429)) result.rateLimitWaitMs = rateLimitWait(requests);

      const fail = (message: string) => failures.push(`${phase}: ${message}`);
      if (host !== undefined) result.heap = phaseHeap(host.take(), fail);
      // After an out-of-memory exit the same sync ran again uncapped: its requests doubled.
      const rerun = result.heap?.uncapped !== undefined;
      if (result.status !== "success") fail(`sync ended "${result.status}": ${result.error ?? "no error recorded"}`);
      for (const e of limitErrors) fail(`Convex limit hit: ${e}`);
      for (const l of list) {
        // Under the rate limit the refused requests are retried; the pages answered must still be the minimum.
        const counted = spec.rateLimit === true ? l.answered200 : l.requests;
        if (counted !== l.minimum && !rerun) fail(`${l.path}: ${counted} list requests, minimum ${l.minimum}`);
      }
      if (result.rows.storage !== result.rows.expectedStorage) {
        fail(`${result.rows.storage} ${storage} rows, provider has ${result.rows.expectedStorage}`);
      }
      if (result.rows.servers !== result.rows.expectedServers) {
        fail(`${result.rows.servers} servers rows, provider has ${result.rows.expectedServers}`);
      }
      if (result.checksum.table !== result.checksum.provider) {
        fail(`row contents differ from the provider (checksum ${result.checksum.table} vs ${result.checksum.provider})`);
      }
      if (result.rowsWritten !== expectedRowsWritten) {
        fail(`${result.rowsWritten} rows written, ${expectedRowsWritten} items changed at the provider`);
      }
      previous = current;
      log(
        `${phase.padEnd(9)} ${(result.syncMs / 1000).toFixed(1).padStart(6)} s ` +
          `(listing ${(result.listingMs / 1000).toFixed(1)} s, transactions ${(result.transactionMs / 1000).toFixed(1)} s)  ${result.status}  ` +
          `${result.mutations} mutations, ${result.documentsRead} read, ${result.rowsWritten} rows written, ` +
          `${result.totalsWritten} totals written, ` +
          `${result.list.reduce((n, l) => n + l.lookups, 0)} deletion lookups` +
          (result.rateLimitWaitMs !== undefined ? `, waited ${(result.rateLimitWaitMs / 1000).toFixed(1)} s after 429` : ""),
      );
      if (result.heap !== undefined) log(`${phase.padEnd(9)} ${heapLine(result.heap)}`);
      return result;
    };

    phases.push(
      await measure("first", async () => {
        dockId = await user.action(api.docks.actions.createDock, {
          orgId,
          name: `bench ${spec.name}`,
          provider,
          apiKey: account.token,
        });
      }),
    );
    const resync = () => user.mutation(api.docks.mutations.syncDock, { dockId: dockId! }).then(() => undefined);
    phases.push(await measure("unchanged", resync));
    if (spec.rateLimit !== true) {
      if (isVultrBuckets(provider, storage)) {
        // Vultr buckets have nothing to resize: 50 removed and 50 added.
        account = applyChanges(provider, account, { seed: CHANGE.seed, vultrObjectStorage: { addBuckets: 50, removeBuckets: 50 } });
      } else {
        const changed = applyChanges(provider, account, CHANGE);
        // Only the measured storage changes: Linode's applyChanges changes its
        // volumes and its buckets alike.
        account = storage === "buckets" ? { ...changed, volumes: account.volumes } : { ...changed, buckets: account.buckets };
      }
      emulator.setAccount(provider, account);
      phases.push(await measure("changed", resync));
    }
    // The dashboard's storage summary: its reads must not grow with the rows.
    takeRecords();
    const summary = await user.query(api.resources.summary.getStorageSummary, { orgId });
    const read = takeRecords().find((r) => r.fn === "resources/summary:getStorageSummary");
    const byType = summary[storage === "buckets" ? "buckets" : "blockVolumes"];
    summaryQuery = { documentsRead: read?.reads ?? -1, regions: byType.byRegion.length, count: byType.total.count };
    log(`summary   getStorageSummary read ${summaryQuery.documentsRead} documents for ${summaryQuery.count} ${storage} in ${summaryQuery.regions} regions`);
    if (summaryQuery.count !== storageItems(account, storage).length) {
      failures.push(`summary counts ${summaryQuery.count} ${storage}, the provider has ${storageItems(account, storage).length}`);
    }
  } catch (e) {
    failures.push(`aborted: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await emulator.close();
  }
  return {
    scenario: spec.name,
    kind: "sync",
    provider,
    storage,
    items: spec.items,
    servers: SERVERS,
    rateLimit: spec.rateLimit === true,
    pageConcurrency,
    itemBytes,
    heapMode: options.heap,
    ok: failures.length === 0,
    failures,
    phases,
    summaryQuery,
    ...memory.stop(),
    totalMs: Math.round(performance.now() - began),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Layout = {
  baseUrl: string;
  countRequests(): Promise<number>;
  resetRequests(): Promise<void>;
};

async function compareConcurrency(
  spec: PagingScenario,
  token: string,
  layout: Layout,
  failures: string[],
  label: string,
): Promise<PagingLayout> {
  const pages = minimumPages(spec.items, "digitalocean");
  const once = async (concurrency: number) => {
    await layout.resetRequests();
    const client = new ProviderClient({ provider: "digitalocean", token, baseUrl: layout.baseUrl, concurrency });
    const started = performance.now();
    const items = await client.listAll<unknown>("/v2/volumes", "volumes");
    const ms = performance.now() - started;
    if (items.length !== spec.items) failures.push(`${label}, concurrency ${concurrency}: ${items.length} items listed`);
    const requests = await layout.countRequests();
    if (requests !== pages) failures.push(`${label}, concurrency ${concurrency}: ${requests} requests for ${pages} pages`);
    return { ms, requests };
  };
  await once(DEFAULT_PAGE_CONCURRENCY); // warm-up: connections, JIT
  const seq: { ms: number; requests: number }[] = [];
  const con: { ms: number; requests: number }[] = [];
  // Alternated, so that a slow moment of the machine hits both sides.
  for (let round = 0; round < 3; round++) {
    seq.push(await once(1));
    con.push(await once(DEFAULT_PAGE_CONCURRENCY));
  }
  const side = (concurrency: number, runs: { ms: number; requests: number }[]) => ({
    concurrency,
    ms: Math.round(median(runs.map((r) => r.ms))),
    requests: runs[0].requests,
    runsMs: runs.map((r) => Math.round(r.ms)),
  });
  const sequential = side(1, seq);
  const concurrent = side(DEFAULT_PAGE_CONCURRENCY, con);
  const ratio = Math.round((sequential.ms / concurrent.ms) * 100) / 100;
  return { emulator: label, sequential, concurrent, ratio };
}

/**
 * One DigitalOcean volume listing read through ProviderClient with 1 page in
 * flight and with DEFAULT_PAGE_CONCURRENCY, against the emulator in its own process (the provider's
 * work on another core, as in production; the target applies here) and in
 * this process (provider and client share one event loop).
 */
export async function runPagingScenario(spec: PagingScenario, log: (line: string) => void): Promise<PagingResult> {
  const began = performance.now();
  const memory = memorySampler();
  const failures: string[] = [];
  const shape = { seed: SEED, servers: SERVERS, volumes: spec.items };
  const token = generateAccount("digitalocean", shape).token;
  const layouts: PagingLayout[] = [];

  const remote = await startRemoteEmulator({ provider: "digitalocean", account: shape, latencyMs: LATENCY_MS });
  try {
    layouts.push(
      await compareConcurrency(
        spec,
        token,
        {
          baseUrl: remote.baseUrls.digitalocean,
          countRequests: () => remote.countRequests("/v2/volumes"),
          resetRequests: () => remote.resetRequests(),
        },
        failures,
        "separate process",
      ),
    );
  } finally {
    await remote.close();
  }
  const local = await startEmulator({ latencyMs: LATENCY_MS, accounts: { digitalocean: generateAccount("digitalocean", shape) } });
  try {
    layouts.push(
      await compareConcurrency(
        spec,
        token,
        {
          baseUrl: local.baseUrls.digitalocean,
          countRequests: async () => local.countRequests({ path: "/v2/volumes" }),
          resetRequests: async () => local.resetRequests(),
        },
        failures,
        "same process",
      ),
    );
  } finally {
    await local.close();
  }
  for (const l of layouts) {
    log(
      `emulator in ${l.emulator}: sequential ${l.sequential.ms} ms, concurrent ${l.concurrent.ms} ms, ` +
        `${l.sequential.requests}/${l.concurrent.requests} requests: ${l.ratio.toFixed(2)}x`,
    );
  }
  const ratio = layouts[0].ratio;
  if (ratio < PAGING_TARGET) failures.push(`sequential/concurrent ${ratio.toFixed(2)} with the emulator in its own process, target ${PAGING_TARGET}`);
  return {
    scenario: spec.name,
    kind: "paging",
    items: spec.items,
    pages: minimumPages(spec.items, "digitalocean"),
    ok: failures.length === 0,
    failures: [...new Set(failures)],
    layouts,
    ratio,
    target: PAGING_TARGET,
    ...memory.stop(),
    totalMs: Math.round(performance.now() - began),
  };
}
