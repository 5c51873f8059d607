// The "connect a provider" screen: create, rotate, rename and delete docks,
// and the audit trail they leave.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount, type ProviderAccount } from "../../docks/emulator/accounts";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { Provider } from "../validators";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow, type TestConvex } from "../test.setup";
import { PURGE_BATCH } from "./removal";
import { MAX_SYNC_INTERVAL_MS, MIN_SYNC_INTERVAL_MS } from "./lease";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

type Admin = Awaited<ReturnType<typeof admin>>;

// Well-formed but unknown to the emulator: long enough to reach the provider.
const REFUSED_KEY = "f".repeat(64);

async function admin(t: TestConvex = newTest()) {
  const orgId = await seedOrg(t);
  const { as, userId } = await seedMember(t, orgId, "admin");
  return { t, orgId, as, userId };
}

/** Connects the emulator's account for `provider` as `name` and waits for the first sync. */
async function connect(
  t: TestConvex,
  as: Admin["as"],
  orgId: Id<"organizations">,
  provider: Provider,
  name: string,
): Promise<Id<"docks">> {
  const dockId = await as.action(api.docks.actions.createDock, {
    orgId,
    name,
    provider,
    apiKey: emulator.accounts[provider].token,
  });
  await settle(t);
  return dockId;
}

async function settle(t: TestConvex) {
  for (let i = 0; i < 200; i++) {
    await t.finishInProgressScheduledFunctions();
    const pending = await t.run(async (ctx) =>
      (await ctx.db.system.query("_scheduled_functions").collect()).filter(
        (f) => f.state.kind === "pending" || f.state.kind === "inProgress",
      ),
    );
    if (pending.length === 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("scheduled functions did not settle");
}

describe.each(["vultr", "digitalocean", "linode"] as const)("connecting a %s account", (provider) => {
  test("a valid key is checked with the provider, stored encrypted, and the first sync runs", async () => {
    const { t, orgId, as } = await admin();
    const token = emulator.accounts[provider].token;
    const dockId = await as.action(api.docks.actions.createDock, { orgId, name: " Main account ", provider, apiKey: token });
    const accountPath = provider === "linode" ? "/v4/profile" : "/v2/account";
    expect(emulator.countRequests({ provider, path: accountPath })).toBe(1);
    await settle(t);
    const [dock] = await as.query(api.docks.queries.listDocks, { orgId });
    expect(dock).toMatchObject({ _id: dockId, name: "Main account", provider, lastSyncStatus: "success" });
    expect(JSON.stringify(dock)).not.toContain(token);
    expect(Object.keys(dock)).not.toContain("encryptedApiKey");
  });

  test("a key the provider refuses gets INVALID_CREDENTIALS and nothing is stored", async () => {
    const { t, orgId, as } = await admin();
    await expect(
      as.action(api.docks.actions.createDock, { orgId, name: "Bad", provider, apiKey: REFUSED_KEY }),
    ).rejects.toThrow(/INVALID_CREDENTIALS/);
    expect(await t.run((ctx) => ctx.db.query("docks").collect())).toEqual([]);
    expect(await t.run((ctx) => ctx.db.query("auditLogs").collect())).toEqual([]);
  });
});

describe("dock lifecycle", () => {
  test("a provider outage while checking a key is PROVIDER_ERROR, not a bad key", async () => {
    const { orgId, as } = await admin();
    emulator.addFault({ provider: "vultr", path: "/v2/account", kind: "503", times: Infinity });
    await expect(
      as.action(api.docks.actions.createDock, { orgId, name: "V", provider: "vultr", apiKey: emulator.accounts.vultr.token }),
    ).rejects.toThrow(/PROVIDER_ERROR/);
  });

  test("rotating to a new valid key replaces the stored key; a refused key leaves the old one", async () => {
    const { t, orgId, as } = await admin();
    const dockId = await connect(t, as, orgId, "vultr", "V");
    const storedKey = async () => new Uint8Array((await t.run((ctx) => ctx.db.get("docks", dockId)))!.encryptedApiKey);
    const original = await storedKey();
    await expect(as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: REFUSED_KEY })).rejects.toThrow(
      /INVALID_CREDENTIALS/,
    );
    expect(await storedKey()).toEqual(original);

    const rotated = "ROTATED".padEnd(36, "0");
    emulator.setAccount("vultr", { ...emulator.accounts.vultr, token: rotated });
    await as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: rotated });
    expect(await storedKey()).not.toEqual(original);
    await as.mutation(api.docks.mutations.syncDock, { dockId });
    await settle(t);
    const [dock] = await as.query(api.docks.queries.listDocks, { orgId });
    expect(dock.lastSyncStatus).toBe("success");
  });

  test("renaming trims the name and rejects empty or overlong names", async () => {
    const { t, orgId, as } = await admin();
    const dockId = await connect(t, as, orgId, "linode", "Old");
    await as.mutation(api.docks.mutations.renameDock, { dockId, name: "  New name " });
    expect((await as.query(api.docks.queries.listDocks, {}))[0].name).toBe("New name");
    await expect(as.mutation(api.docks.mutations.renameDock, { dockId, name: "   " })).rejects.toThrow(/INVALID_ARGUMENT/);
    await expect(as.mutation(api.docks.mutations.renameDock, { dockId, name: "x".repeat(101) })).rejects.toThrow(
      /INVALID_ARGUMENT/,
    );
    expect((await as.query(api.docks.queries.listDocks, {}))[0].name).toBe("New name");
  });

  test("deleting a dock removes every row it synced and their project links, in batches, and then the dock", async () => {
    const t = newTest({ limits: true });
    const { orgId, as } = await admin(t);
    const count = PURGE_BATCH * 2 + 50;
    const token = `dop_v1_${"d".repeat(64)}`;
    emulator.setAccount("digitalocean", generateAccount("digitalocean", { seed: 4, servers: 6, volumes: count, token }));
    const dockId = await as.action(api.docks.actions.createDock, { orgId, name: "DO", provider: "digitalocean", apiKey: token });
    await settle(t);
    const volumes = await rowsOf(t, "blockVolumes", dockId);
    expect(volumes.length).toBe(count);
    await t.run(async (ctx) => {
      const projectId = await ctx.db.insert("projects", { orgId, name: "p" });
      for (const v of volumes.slice(0, 3)) {
        await ctx.db.insert("projectResources", { orgId, projectId, resourceTable: "blockVolumes", resourceId: v._id });
      }
    });
    // Another dock's rows are left alone.
    const keep = await connect(t, as, orgId, "vultr", "V");

    await as.mutation(api.docks.mutations.deleteDock, { dockId });
    expect((await as.query(api.docks.queries.listDocks, {})).map((d) => d._id)).toEqual([keep]);
    await expect(as.mutation(api.docks.mutations.syncDock, { dockId })).rejects.toThrow(/NOT_FOUND/);
    await settle(t);
    expect(await t.run((ctx) => ctx.db.get("docks", dockId))).toBeNull();
    expect(await rowsOf(t, "blockVolumes", dockId)).toEqual([]);
    expect(await rowsOf(t, "servers", dockId)).toEqual([]);
    expect(await t.run((ctx) => ctx.db.query("projectResources").collect())).toEqual([]);
    expect((await rowsOf(t, "blockVolumes", keep)).length).toBeGreaterThan(0);
  });

  test("every change to a dock is in the audit log, newest first, readable by admins only", async () => {
    const { t, orgId, as, userId } = await admin();
    const dockId: Id<"docks"> = await connect(t, as, orgId, "vultr", "A");
    await as.mutation(api.docks.mutations.renameDock, { dockId, name: "B" });
    await as.mutation(api.docks.mutations.syncDock, { dockId });
    await settle(t);
    await as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: emulator.accounts.vultr.token });
    await as.mutation(api.docks.mutations.deleteDock, { dockId });
    await settle(t);

    const log = await as.query(api.docks.queries.listAuditLogs, { orgId, paginationOpts: { numItems: 10, cursor: null } });
    expect(log.page.map((e) => e.action)).toEqual([
      "dock.deleted",
      "dock.keyRotated",
      "dock.syncRequested",
      "dock.renamed",
      "dock.created",
    ]);
    expect(log.page.every((e) => e.actorId === userId && e.dockId === dockId)).toBe(true);
    expect(JSON.stringify(log)).not.toContain(emulator.accounts.vultr.token);

    const { as: member } = await seedMember(t, orgId, "member");
    const hidden = await member.query(api.docks.queries.listAuditLogs, { orgId, paginationOpts: { numItems: 10, cursor: null } });
    expect(hidden.page).toEqual([]);
  });
});

describe("sync interval", () => {
  test("an admin sets a dock's interval in ms, the unit the dock reports; the next due time moves with it; out-of-range intervals are refused", async () => {
    const { t, orgId, as } = await admin();
    const dockId = await connect(t, as, orgId, "vultr", "V");
    await as.mutation(api.docks.mutations.setDockSyncInterval, { dockId, syncIntervalMs: 60 * 60_000 });
    const dock = (await t.run((ctx) => ctx.db.get("docks", dockId)))!;
    expect(dock.syncIntervalMs).toBe(60 * 60_000);
    expect(dock.nextSyncAt).toBe(dock.lastSyncAt! + 60 * 60_000);
    // Below 5 minutes, above a day, not a whole number of ms, and a value in
    // minutes (the unit this call took before) are all refused.
    for (const syncIntervalMs of [60_000, 0, -5 * 60_000, 24 * 60 * 60_000 + 1, 30 * 60_000 + 0.5, Number.NaN, 60]) {
      await expect(as.mutation(api.docks.mutations.setDockSyncInterval, { dockId, syncIntervalMs })).rejects.toThrow(
        /INVALID_ARGUMENT/,
      );
    }
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))!.syncIntervalMs).toBe(60 * 60_000);
    // The bounds themselves are accepted, and the dock list reports the same unit.
    for (const syncIntervalMs of [MIN_SYNC_INTERVAL_MS, MAX_SYNC_INTERVAL_MS]) {
      await as.mutation(api.docks.mutations.setDockSyncInterval, { dockId, syncIntervalMs });
      const [listed] = await as.query(api.docks.queries.listDocks, { orgId });
      expect(listed.syncIntervalMs).toBe(syncIntervalMs);
    }
  });
});

// ---------------------------------------------------------------------------
// Rotation stays within one provider account

/** What the dock must record for an emulated account (see each adapter's api.ts). */
function accountIdOf(provider: Provider, account: ProviderAccount): string {
  const { owner } = account;
  if (provider === "vultr") return `email:${owner.email}`;
  if (provider === "digitalocean") return `team:${owner.teamUuid}`;
  return `uid:${owner.uid}`;
}

/** A fresh token for the same account, shaped like the provider's (and at least 32 characters). */
function newTokenFor(provider: Provider): string {
  if (provider === "vultr") return "NEWKEY".padEnd(36, "7");
  if (provider === "digitalocean") return `dop_v1_${"7".repeat(64)}`;
  return "7".repeat(64);
}

/** The dock's synced rows of every type, by id, and its project links. */
async function inventory(t: TestConvex, dockId: Id<"docks">) {
  return {
    servers: (await rowsOf(t, "servers", dockId)).map((r) => r._id).sort(),
    blockVolumes: (await rowsOf(t, "blockVolumes", dockId)).map((r) => r._id).sort(),
    buckets: (await rowsOf(t, "buckets", dockId)).map((r) => r._id).sort(),
    links: (await t.run((ctx) => ctx.db.query("projectResources").collect())).map((l) => l.resourceId).sort(),
  };
}

/** Links the dock's first storage row (volume or bucket) to a project, as the panel would. */
async function linkToProject(t: TestConvex, orgId: Id<"organizations">, provider: Provider, dockId: Id<"docks">) {
  const table = provider === "linode" ? "buckets" : "blockVolumes";
  const [row] = await rowsOf(t, table, dockId);
  await t.run(async (ctx) => {
    const projectId = await ctx.db.insert("projects", { orgId, name: "prod" });
    await ctx.db.insert("projectResources", { orgId, projectId, resourceTable: table, resourceId: row._id });
  });
}

describe.each(["vultr", "digitalocean", "linode"] as const)("rotating a %s dock's key", (provider) => {
  test("the dock records which provider account its key belongs to", async () => {
    const { t, orgId, as } = await admin();
    const dockId = await connect(t, as, orgId, provider, "Main");
    const dock = await t.run((ctx) => ctx.db.get("docks", dockId));
    expect(dock?.accountId).toBe(accountIdOf(provider, emulator.accounts[provider]));
    // The identity is bookkeeping for rotation, not something the dashboard lists.
    expect(Object.keys((await as.query(api.docks.queries.listDocks, { orgId }))[0])).not.toContain("accountId");
  });

  test("a new key of the same account replaces the old one and the next sync keeps every row", async () => {
    const { t, orgId, as } = await admin();
    const dockId = await connect(t, as, orgId, provider, "Main");
    await linkToProject(t, orgId, provider, dockId);
    const before = await t.run((ctx) => ctx.db.get("docks", dockId));
    const rows = await inventory(t, dockId);

    const token = newTokenFor(provider);
    emulator.setAccount(provider, { ...emulator.accounts[provider], token });
    await as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: token });

    const after = await t.run((ctx) => ctx.db.get("docks", dockId));
    expect(new Uint8Array(after!.encryptedApiKey)).not.toEqual(new Uint8Array(before!.encryptedApiKey));
    expect(after?.accountId).toBe(before?.accountId);
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    expect(await inventory(t, dockId)).toEqual(rows);
  });

  test("a valid key of another account is refused with ACCOUNT_MISMATCH; the old key, rows and project links stay", async () => {
    const { t, orgId, as } = await admin();
    const original = emulator.accounts[provider];
    const dockId = await connect(t, as, orgId, provider, "Main");
    await linkToProject(t, orgId, provider, dockId);
    const before = await t.run((ctx) => ctx.db.get("docks", dockId));
    const rows = await inventory(t, dockId);
    expect(rows.links.length).toBe(1);

    // Another account of the same provider, with a key the provider accepts.
    const other = generateAccount(provider, { seed: 77, servers: 1, volumes: 1, buckets: 1 });
    expect(accountIdOf(provider, other)).not.toBe(accountIdOf(provider, original));
    emulator.setAccount(provider, other);
    let error: { code?: string; message?: string } = {};
    await as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: other.token }).catch((e: unknown) => {
      error = (e as { data?: typeof error }).data ?? {};
    });
    expect(error.code).toBe("ACCOUNT_MISMATCH");
    expect(error.message).toMatch(/another .* account/);
    expect(error.message).toMatch(/keeps its current key/);
    expect(error.message).not.toContain(other.token);

    const after = await t.run((ctx) => ctx.db.get("docks", dockId));
    expect(new Uint8Array(after!.encryptedApiKey)).toEqual(new Uint8Array(before!.encryptedApiKey));
    expect(after?.accountId).toBe(before?.accountId);
    const log = await as.query(api.docks.queries.listAuditLogs, { orgId, paginationOpts: { numItems: 10, cursor: null } });
    expect(log.page.map((e) => e.action)).not.toContain("dock.keyRotated");

    // The next sync still uses the old key: while the emulator serves the other
    // account that key is refused and nothing is deleted; once the old account
    // answers again, the sync succeeds with the same rows and links.
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("error");
    expect(await inventory(t, dockId)).toEqual(rows);
    emulator.setAccount(provider, original);
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    expect(await inventory(t, dockId)).toEqual(rows);
  });

  test("a dock stored without an account takes the account of its first verified rotation, then holds to it", async () => {
    const { t, orgId, as } = await admin();
    const account = emulator.accounts[provider];
    const dockId = await seedDock(t, orgId, provider, account.token);
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))?.accountId).toBeUndefined();

    await as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: account.token });
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))?.accountId).toBe(accountIdOf(provider, account));

    const other = generateAccount(provider, { seed: 78, servers: 1, volumes: 1, buckets: 1 });
    emulator.setAccount(provider, other);
    await expect(as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: other.token })).rejects.toThrow(
      /ACCOUNT_MISMATCH/,
    );
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))?.accountId).toBe(accountIdOf(provider, account));
  });
});

describe("account identity per provider", () => {
  test("a DigitalOcean user outside any team is known by the user's uuid", async () => {
    const { t, orgId, as } = await admin();
    const account = emulator.accounts.digitalocean;
    emulator.setAccount("digitalocean", { ...account, owner: { ...account.owner, teamUuid: undefined } });
    const dockId = await connect(t, as, orgId, "digitalocean", "Solo");
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))?.accountId).toBe(`user:${account.owner.uuid}`);
  });

  test("Vultr's account email in another letter case is the same account", async () => {
    const { t, orgId, as } = await admin();
    const account = emulator.accounts.vultr;
    const dockId = await connect(t, as, orgId, "vultr", "V");
    const token = newTokenFor("vultr");
    emulator.setAccount("vultr", { ...account, token, owner: { ...account.owner, email: account.owner.email.toUpperCase() } });
    await as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: token });
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))?.accountId).toBe(`email:${account.owner.email}`);
  });
});
