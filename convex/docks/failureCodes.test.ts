// Every way a sync or one of its types can fail leaves a code a dashboard can
// branch on beside the text, and a sync that partly worked reads "partial".
// (401, 429 and 500 are in syncErrors.test.ts; a dead action in deadSync.test.ts.)
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow, TEST_MASTER_KEY } from "../test.setup";
import { PROVIDERS, type Provider, type SyncErrorCode, type SyncStatus } from "../validators";
import { ERROR_TEXT_FOR_VIEWERS } from "./lease";
import { getAdapter } from "./registry";
import * as sync from "./sync";

// The settle write, replaceable per test (the mutation imports it from here).
vi.mock("./sync", async (importOriginal) => {
  const real = await importOriginal<typeof import("./sync")>();
  return { ...real, settleStaleRows: vi.fn(real.settleStaleRows) };
});

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
  process.env.SYNC_MAX_ATTEMPTS = "2";
});
afterEach(async () => {
  delete process.env.SYNC_MAX_ATTEMPTS;
  process.env.ENCRYPTION_MASTER_KEY = TEST_MASTER_KEY;
  vi.restoreAllMocks();
  await emulator.close();
});

// Each provider's storage: its table, the path it is listed from, and the
// adapter method that writes a chunk of it.
const STORAGE = {
  vultr: { table: "blockVolumes", path: "/v2/blocks", write: "syncBlockVolumes" },
  digitalocean: { table: "blockVolumes", path: "/v2/volumes", write: "syncBlockVolumes" },
  linode: { table: "buckets", path: "/v4/object-storage/buckets", write: "syncBuckets" },
} as const;

async function setup(provider: Provider) {
  const t = newTest();
  const orgId = await seedOrg(t);
  const { as: member } = await seedMember(t, orgId, "member");
  const { as: viewer } = await seedMember(t, orgId, "viewer");
  const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
  return { t, orgId, member, viewer, dockId };
}

/** The dock's outcome as a dashboard branches on it: status, and a code exactly when it is not a success. */
function expectOutcome(dock: Doc<"docks">, status: SyncStatus, code: SyncErrorCode) {
  expect(dock.lastSyncStatus).toBe(status);
  expect(dock.lastSyncErrorCode).toBe(code);
  expect(dock.lastSyncError).toBeDefined();
  for (const stats of Object.values(dock.lastSyncStats ?? {})) {
    // A type that did not fully succeed carries its own code beside its text.
    if (stats !== undefined && (!stats.complete || stats.error !== undefined)) {
      expect(stats.errorCode).toBeDefined();
      expect(stats.error).toBeDefined();
    }
  }
}

describe.each(PROVIDERS)("a %s sync that partly fails", (provider) => {
  const { table, path, write } = STORAGE[provider];

  test("a key without the scope for storage (HTTP 403) is ACCESS_DENIED on that type, the servers synced: partial", async () => {
    const { t, orgId, member, viewer, dockId } = await setup(provider);
    emulator.addFault({ provider, path, kind: "403", times: Infinity });
    const dock = await syncNow(t, member, dockId);
    expectOutcome(dock, "partial", "ACCESS_DENIED");
    expect(dock.lastSyncStats?.[table]).toMatchObject({ errorCode: "ACCESS_DENIED", complete: false });
    expect(dock.lastSyncStats?.servers).toMatchObject({ complete: true });
    expect(dock.lastSyncStats?.servers?.errorCode).toBeUndefined();
    const [seen] = await viewer.query(api.docks.queries.listDocks, { orgId });
    expect(seen.lastSyncError).toBe(ERROR_TEXT_FOR_VIEWERS.ACCESS_DENIED);
  });

  test("a listing whose paging cannot be trusted is INCOMPLETE_LISTING, and nothing is removed: partial", async () => {
    const { t, member, dockId } = await setup(provider);
    await syncNow(t, member, dockId);
    const before = await rowsOf(t, table, dockId);
    emulator.addFault({ provider, path, kind: "no-total", times: Infinity });
    const dock = await syncNow(t, member, dockId);
    expectOutcome(dock, "partial", "INCOMPLETE_LISTING");
    expect(dock.lastSyncStats?.[table]).toMatchObject({ errorCode: "INCOMPLETE_LISTING", complete: false, deleted: 0 });
    expect(await rowsOf(t, table, dockId)).toHaveLength(before.length);
  });

  test("a chunk that cannot be stored is WRITE_FAILED on that type: partial", async () => {
    const { t, member, dockId } = await setup(provider);
    vi.spyOn(getAdapter(provider), write).mockRejectedValue(new Error("the write was refused"));
    const dock = await syncNow(t, member, dockId);
    expectOutcome(dock, "partial", "WRITE_FAILED");
    expect(dock.lastSyncStats?.[table]).toMatchObject({ errorCode: "WRITE_FAILED", complete: false });
    expect(dock.lastSyncStats?.[table]?.error).toMatch(/writing failed/);
  });

  test("removing items the provider deleted that cannot be written is WRITE_FAILED, even beside skipped items: partial", async () => {
    const { t, member, dockId } = await setup(provider);
    await syncNow(t, member, dockId);
    // Two items deleted at the provider, and one item the listing cannot read.
    const account = emulator.accounts[provider];
    emulator.setAccount(
      provider,
      provider === "linode" ? { ...account, buckets: account.buckets.slice(2) } : { ...account, volumes: account.volumes.slice(2) },
    );
    emulator.addFault({ provider, path, kind: "missing-id" });
    vi.mocked(sync.settleStaleRows).mockRejectedValueOnce(new Error("the delete was refused"));
    const dock = await syncNow(t, member, dockId);
    expectOutcome(dock, "partial", "WRITE_FAILED");
    expect(dock.lastSyncStats?.[table]).toMatchObject({ errorCode: "WRITE_FAILED", complete: false, deleted: 0 });
    expect(dock.lastSyncStats?.[table]?.error).toMatch(/malformed item.*removing deleted items failed/);
  });

  test("a stored key the deployment's master key cannot open is CONFIGURATION: error, nothing asked of the provider", async () => {
    const { t, orgId, member, viewer, dockId } = await setup(provider);
    process.env.ENCRYPTION_MASTER_KEY = "b2".repeat(32);
    const dock = await syncNow(t, member, dockId);
    expectOutcome(dock, "error", "CONFIGURATION");
    expect(emulator.countRequests()).toBe(0);
    const [seen] = await viewer.query(api.docks.queries.listDocks, { orgId });
    expect(seen.lastSyncError).toBe(ERROR_TEXT_FOR_VIEWERS.CONFIGURATION);
  });
});
