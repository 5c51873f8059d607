// DigitalOcean Spaces buckets: how a bucket becomes a row, the dock's Spaces
// key (set, verified, removed, never shown), and whole syncs against the
// emulator's signature-checking Spaces ListBuckets.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount } from "../../../../docks/emulator/accounts";
import { startEmulator, type Emulator } from "../../../../docks/emulator/server";
import { api } from "../../../_generated/api";
import { newTest, rowsOf, seedMember, seedOrg, syncNow, useEmulator } from "../../../test.setup";
import { ProviderClient } from "../../http";
import { digitalOceanAdapter } from "./adapter";
import { isSpacesHost, parseSpacesBucket, SPACES_REGIONS, spacesBucketKey } from "./spaces";

describe("a Spaces bucket becomes a row", () => {
  test("keyed by region and name, with its endpoint, and size, objects and cost unknown", () => {
    const bucket = { name: "photos", date_created: "2024-03-01T00:00:00.000Z" };
    expect(parseSpacesBucket({ region: "ams3", bucket })).toEqual({
      ok: true,
      fields: {
        providerResourceId: "ams3/photos",
        name: "photos",
        region: "ams3",
        cluster: undefined,
        hostname: "photos.ams3.digitaloceanspaces.com",
        s3Endpoint: "ams3.digitaloceanspaces.com",
        status: "active",
        sizeBytes: undefined,
        objectCount: undefined,
        monthlyCost: undefined,
        fullApiData: { bucket },
      },
    });
    expect(spacesBucketKey("ams3", "photos")).toBe("ams3/photos");
  });

  test("the same name in two regions makes two keys", () => {
    const a = parseSpacesBucket({ region: "nyc3", bucket: { name: "logs" } });
    const b = parseSpacesBucket({ region: "fra1", bucket: { name: "logs" } });
    expect(a.ok && b.ok && a.fields.providerResourceId !== b.fields.providerResourceId).toBe(true);
  });

  test("a bucket without a name is skipped with a reason", () => {
    expect(parseSpacesBucket({ region: "nyc3", bucket: { date_created: "x" } }).ok).toBe(false);
  });

  test.each([
    ["nyc3.digitaloceanspaces.com", true],
    ["atl1.digitaloceanspaces.com", true],
    ["nyc3.digitaloceanspaces.com.evil.example", false],
    ["bucket.nyc3.digitaloceanspaces.com", false],
    ["nyc3.digitaloceanspaces.com:8443", false],
    ["127.0.0.1", false],
  ])("only a Spaces region endpoint gets the key: %s -> %s", (host, allowed) => {
    expect(isSpacesHost(host)).toBe(allowed);
  });
});

// ---------------------------------------------------------------------------
// Whole syncs

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({
    accounts: { digitalocean: generateAccount("digitalocean", { seed: 5, servers: 2, volumes: 3, buckets: 12 }) },
  });
  useEmulator(emulator);
});
afterEach(() => emulator.close());

const SPACES = (r: { path: string }) => r.path.startsWith("/s3/");

function spacesKey() {
  return emulator.accounts.digitalocean.spacesKey!;
}

function expectedKeys(): string[] {
  return emulator.accounts.digitalocean.buckets.map((b) => `${String(b.region)}/${String(b.name)}`).sort();
}

async function doDock(withKey: boolean) {
  const t = newTest();
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "admin");
  const key = spacesKey();
  const dockId = await as.action(api.docks.actions.createDock, {
    orgId,
    name: "DO",
    provider: "digitalocean",
    apiKey: emulator.accounts.digitalocean.token,
    ...(withKey ? { spacesAccessKeyId: key.accessKeyId, spacesSecretAccessKey: key.secretAccessKey } : {}),
  });
  // The first sync createDock started, run to its end: each test syncs again on its own terms.
  for (;;) {
    await t.finishInProgressScheduledFunctions();
    const dock = await t.run((ctx) => ctx.db.get("docks", dockId));
    if (dock?.syncState === "idle" && dock.lastSyncAt !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { t, orgId, as, dockId };
}

describe("a DigitalOcean dock with a Spaces key", () => {
  test("gets one row per Spaces bucket, one ListBuckets per region, names shared across regions included", async () => {
    const { t, as, dockId } = await doDock(true);
    emulator.resetRequests();
    const synced = await syncNow(t, as, dockId);
    expect(synced.lastSyncStatus).toBe("success");
    expect(synced.lastSyncStats?.buckets).toMatchObject({ fetched: 12, unchanged: 12, skipped: 0, complete: true });
    expect(synced.lastSyncStats?.servers?.complete).toBe(true);
    const rows = await rowsOf(t, "buckets", dockId);
    expect(rows.map((r) => r.providerResourceId).sort()).toEqual(expectedKeys());
    const names = rows.map((r) => r.name);
    expect(new Set(names).size).toBeLessThan(names.length);
    for (const row of rows) {
      expect(row.provider).toBe("digitalocean");
      expect(row.sizeBytes).toBeUndefined();
      expect(row.monthlyCost).toBeUndefined();
      expect(row.s3Endpoint).toBe(`${row.region}.digitaloceanspaces.com`);
    }
    // Every Spaces region once, each signed and accepted: no paging in ListBuckets.
    const asked = emulator.requests.filter(SPACES);
    expect(asked.map((r) => r.path).sort()).toEqual(SPACES_REGIONS.map((r) => `/s3/${r}.digitaloceanspaces.com`).sort());
    expect(asked.every((r) => r.status === 200)).toBe(true);
  });

  test("the dock shows that a key is set, never the key; the stored pair is ciphertext", async () => {
    const { t, as, dockId } = await doDock(true);
    const dock = await as.query(api.docks.queries.getDock, { dockId });
    expect(dock?.hasSpacesKey).toBe(true);
    const shown = JSON.stringify(await as.query(api.docks.queries.listDocks, {}));
    expect(shown).not.toContain(spacesKey().accessKeyId);
    expect(shown).not.toContain(spacesKey().secretAccessKey);
    const stored = await t.run((ctx) => ctx.db.get("docks", dockId));
    const bytes = Buffer.from(stored!.encryptedSpacesKey!).toString("latin1");
    expect(bytes).not.toContain(spacesKey().secretAccessKey);
    expect(bytes).not.toContain(spacesKey().accessKeyId);
  });

  test("a removed bucket loses its row once its region's listing, read whole, lacks it", async () => {
    const { t, as, dockId } = await doDock(true);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(12);
    const account = emulator.accounts.digitalocean;
    const [gone] = account.buckets;
    emulator.setAccount("digitalocean", { ...account, buckets: account.buckets.slice(1) });
    const synced = await syncNow(t, as, dockId);
    expect(synced.lastSyncStats?.buckets).toMatchObject({ deleted: 1, lookups: 1, complete: true });
    const keys = (await rowsOf(t, "buckets", dockId)).map((r) => r.providerResourceId);
    expect(keys).not.toContain(`${String(gone.region)}/${String(gone.name)}`);
    expect(keys.sort()).toEqual(expectedKeys());
  });

  test("a refused signature fails the buckets alone with ACCESS_DENIED, keeps every row, and the error holds neither half of the key", async () => {
    const { t, as, dockId } = await doDock(true);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(12);
    const account = emulator.accounts.digitalocean;
    const key = spacesKey();
    // The secret regenerated at DigitalOcean; the dock still holds the old one.
    emulator.setAccount("digitalocean", {
      ...account,
      buckets: account.buckets.slice(2),
      spacesKey: { ...key, secretAccessKey: "regenerated-secret-regenerated-secret-0000" },
    });
    const refused = await syncNow(t, as, dockId);
    expect(refused.lastSyncStatus).toBe("partial");
    expect(refused.lastSyncStats?.servers?.complete).toBe(true);
    expect(refused.lastSyncStats?.blockVolumes?.complete).toBe(true);
    expect(refused.lastSyncStats?.buckets).toMatchObject({ complete: false, deleted: 0, errorCode: "ACCESS_DENIED" });
    expect(refused.lastSyncStats?.buckets?.error).toMatch(/S3 ListBuckets on nyc3\.digitaloceanspaces\.com failed: HTTP 403: SignatureDoesNotMatch/);
    expect(refused.lastSyncStats?.buckets?.error).not.toContain(key.accessKeyId.slice(0, 12));
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(12);
  });

  test("a lookup that cannot read its region's list is an error, never gone", async () => {
    const client = new ProviderClient({
      provider: "digitalocean",
      token: emulator.accounts.digitalocean.token,
      s3Key: spacesKey(),
    });
    const [bucket] = emulator.accounts.digitalocean.buckets;
    const region = String(bucket.region);
    expect(await digitalOceanAdapter.lookup.buckets!(client, `${region}/${String(bucket.name)}`)).not.toBeNull();
    expect(await digitalOceanAdapter.lookup.buckets!(client, `${region}/no-such-bucket`)).toBeNull();
    emulator.addFault({ provider: "digitalocean", path: "/s3/sgp1.digitaloceanspaces.com", kind: "500", times: Infinity });
    const fresh = new ProviderClient({ provider: "digitalocean", token: "x".repeat(40), s3Key: spacesKey() });
    await expect(digitalOceanAdapter.lookup.buckets!(fresh, "sgp1/no-such-bucket")).rejects.toThrow(/HTTP 500/);
    await expect(digitalOceanAdapter.lookup.buckets!(fresh, "nowhere/x")).rejects.toThrow(/not a Spaces bucket key/);
  });
});

describe("a DigitalOcean dock without a Spaces key", () => {
  test("syncs servers and volumes, does not sync buckets, and asks Spaces nothing", async () => {
    const { t, as, dockId } = await doDock(false);
    emulator.resetRequests();
    const synced = await syncNow(t, as, dockId);
    expect(synced.lastSyncStatus).toBe("success");
    expect(synced.lastSyncStats?.buckets).toBeUndefined();
    expect(synced.lastSyncError).toBeUndefined();
    expect(await rowsOf(t, "buckets", dockId)).toEqual([]);
    expect(emulator.requests.filter(SPACES)).toEqual([]);
    expect((await as.query(api.docks.queries.getDock, { dockId }))?.hasSpacesKey).toBe(false);
  });

  test("gets buckets once a key is set, stops syncing them once it is removed; both are audited", async () => {
    const { t, orgId, as, dockId } = await doDock(false);
    const key = spacesKey();
    await as.action(api.docks.actions.setDockSpacesKey, { dockId, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    expect((await syncNow(t, as, dockId)).lastSyncStats?.buckets?.inserted).toBe(12);
    await as.mutation(api.docks.mutations.removeDockSpacesKey, { dockId });
    const after = await syncNow(t, as, dockId);
    expect(after.lastSyncStats?.buckets).toBeUndefined();
    expect(after.encryptedSpacesKey).toBeUndefined();
    const log = await as.query(api.docks.queries.listAuditLogs, { orgId, paginationOpts: { cursor: null, numItems: 20 } });
    expect(log.page.map((e) => e.action)).toEqual(expect.arrayContaining(["dock.spacesKeySet", "dock.spacesKeyRemoved"]));
    expect(JSON.stringify(log.page)).not.toContain(key.accessKeyId);
  });
});

describe("setting a Spaces key", () => {
  test("a pair Spaces refuses is INVALID_CREDENTIALS and nothing is stored", async () => {
    const { t, as, dockId } = await doDock(false);
    const key = spacesKey();
    await expect(
      as.action(api.docks.actions.setDockSpacesKey, { dockId, accessKeyId: key.accessKeyId, secretAccessKey: "w".repeat(43) }),
    ).rejects.toThrow(/INVALID_CREDENTIALS|Spaces refused/);
    await expect(
      as.action(api.docks.actions.setDockSpacesKey, { dockId, accessKeyId: "DO00UNKNOWNUNKNOWN00", secretAccessKey: key.secretAccessKey }),
    ).rejects.toThrow(/InvalidAccessKeyId/);
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))?.encryptedSpacesKey).toBeUndefined();
  });

  test.each([
    ["", "s".repeat(43), /empty/],
    ["DO00SHORT", "s".repeat(43), /too short/],
    ["DO00ABCDEFGHIJKLMNOP", "short", /too short/],
    ["DO00 ABCDEFGHIJKLMNOP", "s".repeat(43), /spaces or characters/],
    ["DO00ABCDEFGHIJKLMNOP", "s".repeat(300), /too long/],
  ])("refuses a malformed pair (%s) before sending it anywhere", async (id, secret, message) => {
    const { as, dockId } = await doDock(false);
    emulator.resetRequests();
    await expect(as.action(api.docks.actions.setDockSpacesKey, { dockId, accessKeyId: id, secretAccessKey: secret })).rejects.toThrow(message);
    expect(emulator.requests.filter(SPACES)).toEqual([]);
  });

  test("a Spaces key on another provider's dock is INVALID_ARGUMENT, on create and later", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "admin");
    const key = spacesKey();
    await expect(
      as.action(api.docks.actions.createDock, {
        orgId,
        name: "V",
        provider: "vultr",
        apiKey: emulator.accounts.vultr.token,
        spacesAccessKeyId: key.accessKeyId,
        spacesSecretAccessKey: key.secretAccessKey,
      }),
    ).rejects.toThrow(/DigitalOcean dock only/);
    await expect(
      as.action(api.docks.actions.createDock, {
        orgId,
        name: "D",
        provider: "digitalocean",
        apiKey: emulator.accounts.digitalocean.token,
        spacesAccessKeyId: key.accessKeyId,
      }),
    ).rejects.toThrow(/both/);
    const vultr = await as.action(api.docks.actions.createDock, { orgId, name: "V", provider: "vultr", apiKey: emulator.accounts.vultr.token });
    await expect(
      as.action(api.docks.actions.setDockSpacesKey, { dockId: vultr, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }),
    ).rejects.toThrow(/DigitalOcean dock only/);
  });
});
