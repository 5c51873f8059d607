// The fault matrix through the whole sync flow: "sync dock" -> action ->
// provider emulator over HTTP (with injected faults on the storage listing) ->
// internal mutations -> tables. Recoverable faults must end in a complete
// inventory after a bounded number of extra requests; persistent ones must
// leave the previous storage rows untouched, say what failed, and still sync
// the servers.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { applyChanges, generateAccount, type ProviderAccount } from "../../docks/emulator/accounts";
import type { Emulator, Fault } from "../../docks/emulator/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { Provider } from "../validators";
import {
  newTest,
  rowsOf,
  seedDock,
  seedMember,
  seedOrg,
  startTestEmulator,
  syncNow,
  type TestConvex,
} from "../test.setup";
import { DEFAULT_RETRY_POLICY, PROVIDER_NAMES } from "./http";
import { sameValue } from "./sync";
import { DEFAULT_SYNC_INTERVAL_MS, nextSyncDelayMs } from "./lease";

// Each storage listing the matrix runs through: the provider, where its items
// land, the account list they come from, the path they are listed from, the
// key the item has in fullApiData, the field its key is read from, and the
// provider's page maximum. Linode has two: volumes and buckets.
const LISTINGS = [
  { name: "vultr", provider: "vultr", table: "blockVolumes", list: "volumes", path: "/v2/blocks", serversPath: "/v2/instances", dataKey: "block", idField: "id", pageMax: 500 },
  { name: "digitalocean", provider: "digitalocean", table: "blockVolumes", list: "volumes", path: "/v2/volumes", serversPath: "/v2/droplets", dataKey: "volume", idField: "id", pageMax: 200 },
  { name: "linode volumes", provider: "linode", table: "blockVolumes", list: "volumes", path: "/v4/volumes", serversPath: "/v4/linode/instances", dataKey: "volume", idField: "id", pageMax: 500 },
  { name: "linode buckets", provider: "linode", table: "buckets", list: "buckets", path: "/v4/object-storage/buckets", serversPath: "/v4/linode/instances", dataKey: "bucket", idField: "label", pageMax: 500 },
] as const;
type Listing = (typeof LISTINGS)[number];

// The emulator's error messages, as the client reads them from each envelope.
const MESSAGE_500 = {
  vultr: "Internal server error, please try again later.",
  digitalocean: "Server was unable to give you a response. (server_error)",
  linode: "Please try again",
};
const MESSAGE_401 = {
  vultr: "Invalid or missing API token.",
  digitalocean: "Unable to authenticate you. (unauthorized)",
  linode: "Invalid Token",
};

// A working token without the endpoint's scope: Linode says so with a 401, the others with 403.
const MESSAGE_NO_SCOPE = {
  vultr: "403: Unauthorized access.",
  digitalocean: "403: You do not have access for the attempted action. (forbidden)",
  linode: "401: Your OAuth token is not authorized to use this endpoint.",
};

const ENV_KNOBS = ["SYNC_MAX_ATTEMPTS", "SYNC_REQUEST_TIMEOUT_MS"] as const;
let savedEnv: Record<string, string | undefined>;
let emulator: Emulator;

beforeEach(async () => {
  savedEnv = Object.fromEntries(ENV_KNOBS.map((k) => [k, process.env[k]]));
  delete process.env.SYNC_MAX_ATTEMPTS;
  emulator = await startTestEmulator();
});

afterEach(async () => {
  for (const k of ENV_KNOBS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  await emulator.close();
});

type Item = Record<string, unknown>;

function storageOf(listing: Listing, account: ProviderAccount = emulator.accounts[listing.provider]): Item[] {
  return account[listing.list];
}

/** The row key (providerResourceId) a storage item syncs to. */
function keyOf(listing: Listing, item: Item): string {
  return listing.list === "buckets" ? `${String(item.region)}/${String(item.label)}` : String(item.id);
}

/** Replaces the provider's account with a changed copy: storage moved, servers as given. */
function changeAccount(listing: Listing, change: { seed: number; add?: number; remove?: number; resize?: number }) {
  const { provider } = listing;
  emulator.setAccount(provider, applyChanges(provider, emulator.accounts[listing.provider], change));
}

/** Adds one server at the provider; returns how many it has now. */
function addServer(listing: Listing): number {
  const { provider } = listing;
  const account = emulator.accounts[listing.provider];
  const extra = generateAccount(provider, { seed: 99, servers: 1, volumes: 0, buckets: 0 }).servers[0];
  emulator.setAccount(provider, { ...account, servers: [...account.servers, extra] });
  return account.servers.length + 1;
}

/** A bigger storage account (two pages and more), same token. */
function useStorageCount(listing: Listing, count: number) {
  const { provider } = listing;
  emulator.setAccount(
    provider,
    generateAccount(provider, {
      seed: 21,
      servers: 3,
      volumes: count,
      buckets: count,
      token: emulator.accounts[listing.provider].token,
    }),
  );
}

async function dockFor(of: Listing | Provider, t: TestConvex = newTest()) {
  const provider = typeof of === "string" ? of : of.provider;
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
  return { t, as, dockId };
}

async function storageRows(t: TestConvex, listing: Listing, dockId: Id<"docks">) {
  return await rowsOf(t, listing.table, dockId);
}

function pagesOf(listing: Listing): number {
  return Math.max(1, Math.ceil(storageOf(listing).length / listing.pageMax));
}

function storageRequests(listing: Listing): number {
  const { provider } = listing;
  return emulator.countRequests({ provider, path: listing.path });
}

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** The storage rows hold exactly the provider's items, each verbatim in fullApiData. */
async function expectStorageMatchesProvider(t: TestConvex, listing: Listing, dockId: Id<"docks">) {
  const { dataKey } = listing;
  const rows = (await storageRows(t, listing, dockId)).sort(byKey((r) => r.providerResourceId));
  const items = storageOf(listing).slice().sort(byKey((i: Item) => keyOf(listing, i)));
  expect(rows.map((r) => r.providerResourceId)).toEqual(items.map((i) => keyOf(listing, i)));
  expect(rows.map((r) => r.fullApiData[dataKey])).toEqual(items);
}

/** Every server the provider lists has its row, and the servers listing was complete. */
async function expectServersSynced(t: TestConvex, of: Listing | Provider, dock: Doc<"docks">) {
  const provider = typeof of === "string" ? of : of.provider;
  const servers = await rowsOf(t, "servers", dock._id);
  expect(servers.map((s) => s.providerResourceId).sort()).toEqual(
    emulator.accounts[provider].servers.map((s) => String(s.id)).sort(),
  );
  expect(dock.lastSyncStats?.servers).toMatchObject({ complete: true, skipped: 0 });
  expect(dock.lastSyncStats?.servers?.error).toBeUndefined();
}

/** A complete, successful sync: storage and servers as the provider has them. */
async function expectCompleteSync(t: TestConvex, listing: Listing, dock: Doc<"docks">) {
  expect(dock.lastSyncStatus).toBe("success");
  expect(dock.lastSyncError).toBeUndefined();
  expect(dock.lastSyncStats?.[listing.table]).toMatchObject({
    fetched: storageOf(listing).length,
    skipped: 0,
    complete: true,
  });
  expect(dock.consecutiveFailures).toBe(0);
  expect(dock.nextSyncAt).toBe(dock.lastSyncAt! + DEFAULT_SYNC_INTERVAL_MS);
  await expectStorageMatchesProvider(t, listing, dock._id);
  await expectServersSynced(t, listing, dock);
}

/**
 * Syncs once cleanly, changes the provider's storage (so a fault-free listing
 * would insert, update and delete) and adds a server, then injects `fault`
 * (on the storage path) and syncs again.
 */
async function syncWithFault(listing: Listing, fault: Omit<Fault, "provider" | "path">) {
  const { provider } = listing;
  const { t, as, dockId } = await dockFor(listing);
  await syncNow(t, as, dockId);
  const before = await storageRows(t, listing, dockId);
  changeAccount(listing, { seed: 5, add: 2, remove: 2, resize: 1 });
  addServer(listing);
  emulator.resetRequests();
  emulator.addFault({ provider, path: listing.path, ...fault });
  const dock = await syncNow(t, as, dockId);
  return { t, as, dockId, before, dock };
}

/**
 * A listing that failed after `pagesRead` items arrived: those items are
 * written as the provider has them now, no row is deleted, the error is
 * recorded, servers synced, not backed off.
 */
async function expectNoRowLost(
  listing: Listing,
  run: Awaited<ReturnType<typeof syncWithFault>>,
  error: string,
  itemsRead: number,
) {
  const { t, dockId, before, dock } = run;
  const { table, dataKey } = listing;
  const rows = await storageRows(t, listing, dockId);
  const rowByKey = new Map(rows.map((r) => [r.providerResourceId, r]));
  for (const row of before) expect(rowByKey.has(row.providerResourceId)).toBe(true);
  const stats = dock.lastSyncStats?.[table];
  expect(stats).toMatchObject({ fetched: itemsRead, deleted: 0, complete: false, error });
  expect(stats!.inserted + stats!.updated + stats!.unchanged).toBe(itemsRead);
  // What did arrive is stored as the provider has it now.
  const listed = new Map(storageOf(listing).map((item) => [keyOf(listing, item), item]));
  let fresh = 0;
  for (const row of rows) {
    const item = listed.get(row.providerResourceId);
    if (item !== undefined && sameValue(row.fullApiData[dataKey], item)) fresh++;
  }
  expect(fresh).toBeGreaterThanOrEqual(itemsRead);
  expect(dock.lastSyncStatus).toBe("partial");
  expect(dock.lastSyncError).toBe(`${table}: ${error}`);
  await expectServersSynced(t, listing, dock);
  expect(dock.consecutiveFailures).toBe(0);
}

/** A failed storage listing: rows as they were, the error recorded, servers synced, not backed off. */
async function expectStorageKept(
  listing: Listing,
  run: Awaited<ReturnType<typeof syncWithFault>>,
  error: string,
) {
  const { t, dockId, before, dock } = run;
  const { table } = listing;
  expect(await storageRows(t, listing, dockId)).toEqual(before);
  expect(dock.lastSyncStatus).toBe("partial");
  expect(dock.lastSyncError).toBe(`${table}: ${error}`);
  expect(dock.lastSyncStats?.[table]).toMatchObject({
    fetched: 0,
    inserted: 0,
    updated: 0,
    deleted: 0,
    complete: false,
    error,
  });
  await expectServersSynced(t, listing, dock);
  // The servers synced, so this is not a failed sync: no backoff, due again after the interval.
  expect(dock.consecutiveFailures).toBe(0);
  expect(dock.nextSyncAt).toBe(dock.lastSyncAt! + DEFAULT_SYNC_INTERVAL_MS);
}

describe.each(LISTINGS)("a $name storage listing", (listing) => {
  const { provider, path, table, pageMax } = listing;
  const name = PROVIDER_NAMES[provider];

  describe("recovers from", () => {
    test("a 429 with Retry-After 0: retried once, and the inventory is complete", async () => {
      const { t, dock } = await syncWithFault(listing, { kind: "429", retryAfterSeconds: 0 });
      await expectCompleteSync(t, listing, dock);
      expect(storageRequests(listing)).toBe(pagesOf(listing) + 1);
    });

    test("two 503s: retried twice, and the inventory is complete", async () => {
      const { t, dock } = await syncWithFault(listing, { kind: "503", times: 2 });
      await expectCompleteSync(t, listing, dock);
      expect(storageRequests(listing)).toBe(pagesOf(listing) + 2);
    });

    test("a request that outlives SYNC_REQUEST_TIMEOUT_MS: abandoned, retried, and the inventory is complete", async () => {
      process.env.SYNC_REQUEST_TIMEOUT_MS = "300";
      const started = Date.now();
      const { t, dock } = await syncWithFault(listing, { kind: "timeout", delayMs: 10_000 });
      expect(Date.now() - started).toBeLessThan(8_000);
      await expectCompleteSync(t, listing, dock);
      expect(storageRequests(listing)).toBe(pagesOf(listing) + 1);
      // The abandoned request never got an answer.
      expect(emulator.countRequests({ provider, path, status: 0 })).toBe(1);
    });

    test("malformed JSON on page 2 once: page 2 is read again, and every page lands", async () => {
      useStorageCount(listing, pageMax + 5);
      const { t, dock } = await syncWithFault(listing, { kind: "malformed", page: 2, times: 1 });
      expect(pagesOf(listing)).toBe(2);
      await expectCompleteSync(t, listing, dock);
      expect(storageRequests(listing)).toBe(2 + 1);
    });
  });

  describe("fails, keeping the previous rows, on", () => {
    test("a persistent 500: status partial, the error names provider, path and HTTP 500, and it stopped after SYNC_MAX_ATTEMPTS requests", async () => {
      const run = await syncWithFault(listing, { kind: "500", times: Infinity });
      await expectStorageKept(listing, run, `${name} GET ${path} failed: HTTP 500: ${MESSAGE_500[provider]}`);
      expect(storageRequests(listing)).toBe(DEFAULT_RETRY_POLICY.maxAttempts);
    });

    test("a persistent 503 with SYNC_MAX_ATTEMPTS=2: exactly two requests", async () => {
      process.env.SYNC_MAX_ATTEMPTS = "2";
      const run = await syncWithFault(listing, { kind: "503", times: Infinity });
      expect(run.dock.lastSyncError).toMatch(/HTTP 503/);
      expect(await storageRows(run.t, listing, run.dockId)).toEqual(run.before);
      expect(storageRequests(listing)).toBe(2);
    });

    test("a 401: the error carries the provider's own message, and the request was not retried", async () => {
      const run = await syncWithFault(listing, { kind: "401", times: Infinity });
      await expectStorageKept(listing, run, `${name} GET ${path} failed: HTTP 401: ${MESSAGE_401[provider]}`);
      expect(storageRequests(listing)).toBe(1);
    });

    test("a token without this listing's scope: ACCESS_DENIED on this type only, the key not called refused, not retried", async () => {
      const run = await syncWithFault(listing, { kind: "no-scope", times: Infinity });
      await expectStorageKept(listing, run, `${name} GET ${path} failed: HTTP ${MESSAGE_NO_SCOPE[provider]}`);
      expect(run.dock.lastSyncStats?.[table]?.errorCode).toBe("ACCESS_DENIED");
      expect(run.dock.lastSyncErrorCode).toBe("ACCESS_DENIED");
      expect(storageRequests(listing)).toBe(1);
    });

    test("malformed JSON on page 2 every time: a readable error, page 1 read once and page 2 SYNC_MAX_ATTEMPTS times", async () => {
      useStorageCount(listing, pageMax + 5);
      const run = await syncWithFault(listing, { kind: "malformed", page: 2, times: Infinity });
      expect(pagesOf(listing)).toBe(2);
      expect(run.before.length).toBe(pageMax + 5);
      await expectNoRowLost(listing, run, `${name} GET ${path} failed: HTTP 200: the answer is not valid JSON`, pageMax);
      expect(storageRequests(listing)).toBe(1 + DEFAULT_RETRY_POLICY.maxAttempts);
    });
  });

  test("an item without its id is skipped and counted, the other items sync, and nothing is deleted", async () => {
    const { t, before, dock } = await syncWithFault(listing, { kind: "missing-id", times: 1 });
    const listed = storageOf(listing);
    const [idless, ...rest] = listed;
    const stats = dock.lastSyncStats?.[table];
    // The two removed at the provider are confirmed gone with its single-item
    // GET and deleted; the id-less item's row is not (its GET answers).
    expect(stats).toMatchObject({ fetched: listed.length, skipped: 1, inserted: 2, deleted: 2, complete: true });
    expect(dock.lastSyncStatus).toBe("partial");
    expect(stats?.errorCode).toBe("ITEMS_SKIPPED");
    expect(dock.lastSyncError).toMatch(new RegExp(`^${table}: 1 malformed item\\(s\\) skipped \\(${listing.idField} is missing`));

    const rows = await storageRows(t, listing, dock._id);
    const rowByKey = new Map(rows.map((r) => [r.providerResourceId, r]));
    // Every other listed item landed as the provider has it now (new, resized or unchanged)...
    for (const item of rest) {
      expect(rowByKey.get(keyOf(listing, item))?.fullApiData[listing.dataKey]).toEqual(item);
    }
    // ...the id-less one kept its row, and only the two the provider no longer has are gone.
    const keys = new Set(rows.map((r) => r.providerResourceId));
    expect(keys.has(keyOf(listing, idless))).toBe(true);
    const atProvider = new Set(listed.map((item) => keyOf(listing, item)));
    const gone = before.filter((row) => !keys.has(row.providerResourceId));
    expect(gone.length).toBe(2);
    for (const row of gone) expect(atProvider.has(row.providerResourceId)).toBe(false);
    expect(rows.length).toBe(before.length);
    await expectServersSynced(t, listing, dock);
  });

  test("an item removed at the provider while the listing is being read costs no other item its row", async () => {
    // Offset paging: removing the first item after page 1 was read shifts
    // every later item one place forward, so page 2 starts one item late.
    useStorageCount(listing, pageMax + 100);
    const { t, as, dockId } = await dockFor(listing);
    await syncNow(t, as, dockId);
    emulator.resetRequests();
    // Page 2 is answered only after 400 ms, by then from the changed account.
    emulator.addFault({ provider, path, page: 2, kind: "timeout", delayMs: 400 });
    const isPage2 = (r: Emulator["requests"][number]) =>
      r.path === path && (provider === "vultr" ? r.query.cursor !== undefined : r.query.page === "2");
    const removeFirstOnPage2 = (async () => {
      for (let i = 0; i < 2_000 && !emulator.requests.some(isPage2); i++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const account = emulator.accounts[provider];
      emulator.setAccount(
        provider,
        { ...account, [listing.list]: account[listing.list].slice(1) },
      );
    })();
    const [dock] = await Promise.all([syncNow(t, as, dockId), removeFirstOnPage2]);

    await expectStorageMatchesProvider(t, listing, dockId);
    expect(dock.lastSyncStats?.[table]).toMatchObject({ deleted: 1, complete: true });
  });
});

describe.each(LISTINGS)("a dock whose every listing fails, for its $name", (listing) => {
  const { provider } = listing;
  // Every listing of the provider: with one left working the sync is only partial.
  const paths = [listing.serversPath, ...LISTINGS.filter((l) => l.provider === provider).map((l) => l.path)];
  test("is in error, keeps all rows, backs off twice as long per failure, and recovers", async () => {
    const { t, as, dockId } = await dockFor(listing);
    await syncNow(t, as, dockId);
    const storage = await storageRows(t, listing, dockId);
    const servers = await rowsOf(t, "servers", dockId);
    // Every listing: a Vultr dock also lists its Object Storage subscriptions.
    for (const path of [...paths, ...(provider === "vultr" ? ["/v2/object-storage"] : [])]) {
      emulator.addFault({ provider, path, kind: "500", times: Infinity });
    }

    for (const failures of [1, 2]) {
      const dock = await syncNow(t, as, dockId);
      expect(dock.lastSyncStatus).toBe("error");
      expect(dock.lastSyncError).toContain(`servers: ${PROVIDER_NAMES[provider]} GET ${listing.serversPath} failed: HTTP 500`);
      expect(dock.lastSyncError).toContain(`${listing.table}: ${PROVIDER_NAMES[provider]} GET ${listing.path} failed: HTTP 500`);
      expect(dock.consecutiveFailures).toBe(failures);
      expect(dock.nextSyncAt).toBe(dock.lastSyncAt! + nextSyncDelayMs(DEFAULT_SYNC_INTERVAL_MS, failures));
      expect(dock.nextSyncAt! - dock.lastSyncAt!).toBe(DEFAULT_SYNC_INTERVAL_MS * 2 ** failures);
      expect(await storageRows(t, listing, dockId)).toEqual(storage);
      expect(await rowsOf(t, "servers", dockId)).toEqual(servers);
    }

    emulator.clearFaults();
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("success");
    expect(dock.consecutiveFailures).toBe(0);
    expect(dock.nextSyncAt).toBe(dock.lastSyncAt! + DEFAULT_SYNC_INTERVAL_MS);
  });
});

// Vultr buckets come from two listings: the subscriptions (cursor paging) and
// each subscription's bucket list. The same faults hit either, and the S3
// fallback where the bucket endpoint is missing.
type BucketFaultCase = { where: string; path: () => string; mode: "available" | "missing" };
const BUCKET_FAULT_CASES: BucketFaultCase[] = [
  { where: "the subscription listing", path: () => "/v2/object-storage", mode: "available" },
  {
    where: "a subscription's bucket list",
    path: () => `/v2/object-storage/${String(emulator.accounts.vultr.objectStorages![0].id)}/bucket`,
    mode: "available",
  },
  {
    where: "S3 ListBuckets (the bucket endpoint missing)",
    path: () => `/s3/${String(emulator.accounts.vultr.objectStorages![0].s3_hostname)}`,
    mode: "missing",
  },
];

const vultrBucketKey = (b: Item) => `${String(b.object_storage_id)}/${String(b.name)}`;

async function bucketsMatchProvider(t: TestConvex, dockId: Id<"docks">, viaS3: boolean) {
  const rows = (await rowsOf(t, "buckets", dockId)).sort(byKey((r) => r.providerResourceId));
  const items = emulator.accounts.vultr.buckets.slice().sort(byKey(vultrBucketKey));
  expect(rows.map((r) => r.providerResourceId)).toEqual(items.map(vultrBucketKey));
  // S3 writes dates its own way; through Vultr's endpoint the bucket is stored as served.
  if (!viaS3) expect(rows.map((r) => r.fullApiData.bucket)).toEqual(items.map((b) => ({ name: b.name, date_created: b.date_created })));
}

/** Syncs once, adds and removes buckets at Vultr, injects `fault` at the case's path and syncs again. */
async function syncBucketsWithFault(c: BucketFaultCase, fault: Omit<Fault, "provider" | "path">) {
  emulator.vultrBucketEndpoint = c.mode;
  const { t, as, dockId } = await dockFor("vultr");
  await syncNow(t, as, dockId);
  const before = await rowsOf(t, "buckets", dockId);
  emulator.setAccount(
    "vultr",
    applyChanges("vultr", emulator.accounts.vultr, { seed: 5, vultrObjectStorage: { addBuckets: 2, removeBuckets: 2 } }),
  );
  emulator.resetRequests();
  const at = path(c);
  emulator.addFault({ provider: "vultr", path: at, ...fault });
  const dock = await syncNow(t, as, dockId);
  // Requests of the listing: those before the first lookup (GET of one subscription).
  const listing = () => {
    const firstLookup = emulator.requests.findIndex((r) => /^\/v2\/object-storage\/[^/]+$/.test(r.path));
    return (firstLookup < 0 ? emulator.requests : emulator.requests.slice(0, firstLookup)).filter((r) => r.path === at).length;
  };
  return { t, dockId, before, dock, requests: listing };
}

const path = (c: BucketFaultCase) => c.path();

describe.each(BUCKET_FAULT_CASES)("Vultr buckets, faults on $where", (c) => {
  const viaS3 = c.mode === "missing";

  test("a 429 with Retry-After 0 is retried once, and the buckets are complete", async () => {
    const { t, dockId, dock, requests } = await syncBucketsWithFault(c, { kind: "429", retryAfterSeconds: 0 });
    expect(dock.lastSyncStatus).toBe("success");
    expect(dock.lastSyncStats?.buckets).toMatchObject({ complete: true, deleted: 2, inserted: 2 });
    await bucketsMatchProvider(t, dockId, viaS3);
    expect(requests()).toBe(2);
  });

  test("two 503s are retried, and the buckets are complete", async () => {
    const { t, dockId, dock, requests } = await syncBucketsWithFault(c, { kind: "503", times: 2 });
    expect(dock.lastSyncStatus).toBe("success");
    await bucketsMatchProvider(t, dockId, viaS3);
    expect(requests()).toBe(3);
  });

  test("a persistent 500 keeps every bucket row, says what failed, and the servers and volumes still sync", async () => {
    const { t, dockId, before, dock } = await syncBucketsWithFault(c, { kind: "500", times: Infinity });
    expect(dock.lastSyncStatus).toBe("partial");
    expect(dock.lastSyncStats?.buckets).toMatchObject({ deleted: 0, complete: false, errorCode: "PROVIDER_ERROR" });
    expect(dock.lastSyncError).toMatch(
      viaS3 ? /^buckets: Vultr GET S3 ListBuckets on .* HTTP 500: InternalError/ : /^buckets: Vultr GET \/v2\/object-storage.* HTTP 500/,
    );
    const rows = new Set((await rowsOf(t, "buckets", dockId)).map((r) => r.providerResourceId));
    for (const row of before) expect(rows.has(row.providerResourceId)).toBe(true);
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ complete: true });
    await expectServersSynced(t, "vultr", dock);
  });
});

// S3 answers XML and has no bearer token: these two are Vultr's JSON API's own.
describe.each(BUCKET_FAULT_CASES.filter((c) => c.mode === "available"))("Vultr buckets, JSON faults on $where", (c) => {
  test("a 401 is not retried and keeps every bucket row", async () => {
    const { t, dockId, before, dock, requests } = await syncBucketsWithFault(c, { kind: "401", times: Infinity });
    expect(dock.lastSyncStats?.buckets).toMatchObject({ deleted: 0, complete: false, errorCode: "INVALID_CREDENTIALS" });
    expect(dock.lastSyncError).toContain(MESSAGE_401.vultr);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(before.length);
    expect(requests()).toBe(1);
  });

  test("malformed JSON every time fails after SYNC_MAX_ATTEMPTS requests and keeps every bucket row", async () => {
    const { t, dockId, before, dock, requests } = await syncBucketsWithFault(c, { kind: "malformed", times: Infinity });
    expect(dock.lastSyncStats?.buckets).toMatchObject({ deleted: 0, complete: false });
    expect(dock.lastSyncError).toContain("the answer is not valid JSON");
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(before.length);
    expect(requests()).toBe(DEFAULT_RETRY_POLICY.maxAttempts);
  });
});
