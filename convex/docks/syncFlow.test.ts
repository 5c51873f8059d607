// End-to-end sync through the real fetch path: "sync dock" -> action ->
// provider emulator over HTTP -> internal mutations -> tables -> queries.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { applyChanges, generateAccount } from "../../docks/emulator/accounts";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import {
  newTest,
  rowsOf,
  seedDock,
  seedMember,
  seedOrg,
  syncNow,
  startTestEmulator,
  type TestConvex,
} from "../test.setup";
import type { Provider } from "../validators";

let emulator: Emulator;

beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

function setStorage(provider: Provider, items: Record<string, unknown>[]) {
  const account = emulator.accounts[provider];
  emulator.setAccount(
    provider,
    provider === "linode" ? { ...account, buckets: items } : { ...account, volumes: items },
  );
}

async function dockFor(provider: Provider, t: TestConvex = newTest()) {
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
  return { t, orgId, as, dockId };
}

// Each storage listing a dock syncs: the provider, the table its items land
// in, the account list they come from, its path and fullApiData key, and the
// query that lists the table. Linode has two.
const LISTINGS = [
  { name: "vultr blocks", provider: "vultr", table: "blockVolumes", list: "volumes", path: "/v2/blocks", dataKey: "block" },
  { name: "digitalocean volumes", provider: "digitalocean", table: "blockVolumes", list: "volumes", path: "/v2/volumes", dataKey: "volume" },
  { name: "linode volumes", provider: "linode", table: "blockVolumes", list: "volumes", path: "/v4/volumes", dataKey: "volume" },
  { name: "linode buckets", provider: "linode", table: "buckets", list: "buckets", path: "/v4/object-storage/buckets", dataKey: "bucket" },
] as const;
type Listing = (typeof LISTINGS)[number];

function listingItems(listing: Listing): Record<string, unknown>[] {
  return emulator.accounts[listing.provider][listing.list];
}

function setListing(listing: Listing, items: Record<string, unknown>[]) {
  emulator.setAccount(listing.provider, { ...emulator.accounts[listing.provider], [listing.list]: items });
}

async function listingRows(t: TestConvex, listing: Listing, dockId: Id<"docks">) {
  return await rowsOf(t, listing.table, dockId);
}

describe.each(LISTINGS)("syncing a dock's $name", (listing) => {
  const { provider } = listing;
  test("brings every server and storage item in, with the provider item in fullApiData", async () => {
    const { t, as, dockId } = await dockFor(provider);
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("success");
    expect(dock.lastSyncError).toBeUndefined();

    const rows = await listingRows(t, listing, dockId);
    expect(rows.length).toBe(listingItems(listing).length);
    expect(rows.length).toBeGreaterThan(0);
    const servers = await rowsOf(t, "servers", dockId);
    expect(servers.length).toBe(emulator.accounts[provider].servers.length);

    for (const row of rows) {
      expect(row.provider).toBe(provider);
      expect(row.fullApiData[listing.dataKey]).toBeDefined();
    }
    const stats = dock.lastSyncStats?.[listing.table];
    expect(stats).toMatchObject({ fetched: rows.length, inserted: rows.length, deleted: 0, complete: true });

    const listed =
      listing.table === "buckets"
        ? await as.query(api.resources.queries.listBuckets, {})
        : await as.query(api.resources.queries.listBlockVolumes, {});
    expect(listed.length).toBe(rows.length);
  });

  test("a second sync creates no duplicates and writes nothing when nothing changed", async () => {
    const { t, as, dockId } = await dockFor(provider);
    await syncNow(t, as, dockId);
    const first = await listingRows(t, listing, dockId);
    const dock = await syncNow(t, as, dockId);
    const second = await listingRows(t, listing, dockId);
    expect(second.length).toBe(first.length);
    // Same documents, untouched: same ids and the same updatedAt.
    expect(second.map((r) => [r._id, r.updatedAt])).toEqual(first.map((r) => [r._id, r.updatedAt]));
    expect(dock.lastSyncStats?.[listing.table]).toMatchObject({
      inserted: 0,
      updated: 0,
      deleted: 0,
      unchanged: first.length,
    });
  });

  test("an item deleted at the provider is gone after the next sync, with its project links", async () => {
    const { t, orgId, as, dockId } = await dockFor(provider);
    await syncNow(t, as, dockId);
    const before = await listingRows(t, listing, dockId);
    const gone = before[0];
    await t.run(async (ctx) => {
      const projectId = await ctx.db.insert("projects", { orgId, name: "web" });
      await ctx.db.insert("projectResources", {
        orgId,
        projectId,
        resourceTable: listing.table,
        resourceId: gone._id,
      });
    });
    setListing(
      listing,
      listingItems(listing).filter((_, i) => {
        const parsedKey = before.find((r) => r._id === gone._id)!.providerResourceId;
        const item = listingItems(listing)[i] as Record<string, unknown>;
        const key = listing.table === "buckets" ? `${String(item.region)}/${String(item.label)}` : String(item.id);
        return key !== parsedKey;
      }),
    );
    const dock = await syncNow(t, as, dockId);
    const after = await listingRows(t, listing, dockId);
    expect(after.length).toBe(before.length - 1);
    expect(after.find((r) => r._id === gone._id)).toBeUndefined();
    expect(dock.lastSyncStats?.[listing.table]?.deleted).toBe(1);
    const links = await t.run((ctx) => ctx.db.query("projectResources").collect());
    expect(links).toEqual([]);
  });

  test("every item is removed when the provider's list becomes empty", async () => {
    const { t, as, dockId } = await dockFor(provider);
    await syncNow(t, as, dockId);
    expect((await listingRows(t, listing, dockId)).length).toBeGreaterThan(0);
    setListing(listing, []);
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("success");
    expect(await listingRows(t, listing, dockId)).toEqual([]);
  });

  test("a persistent 500 on the storage listing keeps existing rows and records the error, while servers still sync", async () => {
    const { t, as, dockId } = await dockFor(provider);
    await syncNow(t, as, dockId);
    const before = await listingRows(t, listing, dockId);
    setListing(listing, []);
    // A new server appears; the storage listing fails on every attempt.
    const account = emulator.accounts[provider];
    const extra = generateAccount(provider, { seed: 99, servers: 1, volumes: 0, buckets: 0 }).servers[0];
    emulator.setAccount(provider, { ...emulator.accounts[provider], servers: [...account.servers, extra] });
    emulator.addFault({ provider, path: listing.path, kind: "500", times: Infinity });

    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("partial");
    expect(dock.lastSyncError).toMatch(/HTTP 500/);
    expect(await listingRows(t, listing, dockId)).toEqual(before);
    expect((await rowsOf(t, "servers", dockId)).length).toBe(account.servers.length + 1);
    expect(dock.lastSyncStats?.servers?.complete).toBe(true);
  });

  test("a malformed item is skipped and counted, the rest land, and its row is kept", async () => {
    const { t, as, dockId } = await dockFor(provider);
    await syncNow(t, as, dockId);
    const before = await listingRows(t, listing, dockId);
    emulator.addFault({ provider, path: listing.path, kind: "missing-id", times: Infinity });
    const dock = await syncNow(t, as, dockId);
    const stats = dock.lastSyncStats?.[listing.table];
    // Its row is not in the listing's keys, so the provider is asked for it
    // by id: it still exists, so the row stays.
    expect(stats).toMatchObject({ skipped: 1, deleted: 0, lookups: 1, errorCode: "ITEMS_SKIPPED" });
    expect(dock.lastSyncStatus).toBe("partial");
    expect(dock.lastSyncError).toMatch(/malformed/);
    expect((await listingRows(t, listing, dockId)).length).toBe(before.length);
    // Not marked missing either: an unreadable listing marks nothing.
    expect((await listingRows(t, listing, dockId)).filter((r) => r.missingSince !== undefined)).toEqual([]);
  });
});

describe("paging", () => {
  test("450 DigitalOcean volumes over 3 pages all land, in 3 requests", async () => {
    emulator.setAccount(
      "digitalocean",
      generateAccount("digitalocean", { seed: 7, servers: 5, volumes: 450, token: "do-token" }),
    );
    const { t, as, dockId } = await dockFor("digitalocean");
    await syncNow(t, as, dockId);
    expect((await rowsOf(t, "blockVolumes", dockId)).length).toBe(450);
    const pages = emulator.requests.filter((r) => r.path === "/v2/volumes");
    expect(pages.map((r) => [r.query.page, r.query.per_page]).sort()).toEqual([
      ["1", "200"],
      ["2", "200"],
      ["3", "200"],
    ]);
  });

  test("Vultr's cursor is followed to the end at 500 per page", async () => {
    emulator.setAccount("vultr", generateAccount("vultr", { seed: 8, servers: 3, volumes: 1201, token: "v-token" }));
    const { t, as, dockId } = await dockFor("vultr");
    await syncNow(t, as, dockId);
    expect((await rowsOf(t, "blockVolumes", dockId)).length).toBe(1201);
    const pages = emulator.requests.filter((r) => r.path === "/v2/blocks");
    expect(pages.length).toBe(3);
    expect(pages.every((r) => r.query.per_page === "500")).toBe(true);
    expect(pages[0].query.cursor).toBeUndefined();
    expect(pages[1].query.cursor).toBeTruthy();
  });

  test("Linode buckets are read 500 a page and every page is fetched", async () => {
    emulator.setAccount("linode", generateAccount("linode", { seed: 9, servers: 2, buckets: 1100, token: "l-token" }));
    const { t, as, dockId } = await dockFor("linode");
    await syncNow(t, as, dockId);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(1100);
    const pages = emulator.requests.filter((r) => r.path === "/v4/object-storage/buckets");
    expect(pages.map((r) => r.query.page).sort()).toEqual(["1", "2", "3"]);
    expect(pages.every((r) => r.query.page_size === "500")).toBe(true);
  });
});

describe("field behaviour across syncs", () => {
  test("two Linode buckets with one label in two regions are both kept", async () => {
    const { t, as, dockId } = await dockFor("linode");
    const base = emulator.accounts.linode.buckets[0];
    setStorage("linode", [
      { ...base, label: "assets", region: "us-ord", cluster: "us-ord-1" },
      { ...base, label: "assets", region: "fr-par", cluster: "fr-par-1" },
    ]);
    await syncNow(t, as, dockId);
    const rows = await rowsOf(t, "buckets", dockId);
    expect(rows.map((r) => [r.name, r.region, r.providerResourceId]).sort()).toEqual([
      ["assets", "fr-par", "fr-par/assets"],
      ["assets", "us-ord", "us-ord/assets"],
    ]);
  });

  test.each(["vultr", "digitalocean"] as const)(
    "a %s volume detached at the provider loses its attachment",
    async (provider) => {
      const { t, as, dockId } = await dockFor(provider);
      await syncNow(t, as, dockId);
      const attached = (await rowsOf(t, "blockVolumes", dockId)).filter((r) => r.attachedToInstance);
      expect(attached.length).toBeGreaterThan(0);
      emulator.setAccount(provider, applyChanges(provider, emulator.accounts[provider], { seed: 1, detach: 100 }));
      await syncNow(t, as, dockId);
      const rows = await rowsOf(t, "blockVolumes", dockId);
      for (const row of rows) {
        expect(row.attachedToInstance).toBeUndefined();
        expect(row.attachedToInstanceLabel).toBeUndefined();
      }
    },
  );

  test("a DigitalOcean volume is labelled with the name of the droplet it is attached to", async () => {
    const { t, as, dockId } = await dockFor("digitalocean");
    await syncNow(t, as, dockId);
    const servers = await rowsOf(t, "servers", dockId);
    const attached = (await rowsOf(t, "blockVolumes", dockId)).filter((r) => r.attachedToInstance);
    expect(attached.length).toBeGreaterThan(0);
    for (const volume of attached) {
      const droplet = servers.find((s) => s.providerResourceId === volume.attachedToInstance);
      expect(volume.attachedToInstanceLabel).toBe(droplet?.name);
      expect(volume.attachedToInstanceLabel).toBeTruthy();
    }
  });

  test("a resized volume is updated in place", async () => {
    const { t, as, dockId } = await dockFor("vultr");
    await syncNow(t, as, dockId);
    const before = await rowsOf(t, "blockVolumes", dockId);
    emulator.setAccount("vultr", applyChanges("vultr", emulator.accounts.vultr, { seed: 2, resize: 1 }));
    const dock = await syncNow(t, as, dockId);
    const after = await rowsOf(t, "blockVolumes", dockId);
    const changed = after.filter((r) => before.find((b) => b._id === r._id)!.sizeGb !== r.sizeGb);
    expect(changed.length).toBe(1);
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ updated: 1, inserted: 0, deleted: 0 });
  });

  test("a row created through the panel (provisioningSource) survives a sync that does not list it", async () => {
    const { t, orgId, as, dockId } = await dockFor("vultr");
    const provisioned = await t.run((ctx) =>
      ctx.db.insert("blockVolumes", {
        orgId,
        dockId,
        provider: "vultr",
        providerResourceId: "being-created",
        name: "new-volume",
        status: "pending",
        sizeGb: 10,
        region: "ewr",
        fullApiData: {},
        updatedAt: 0,
        provisioningSource: "dashboard",
        provisioningState: "creating",
      }),
    );
    await syncNow(t, as, dockId);
    expect(await t.run((ctx) => ctx.db.get("blockVolumes", provisioned))).not.toBeNull();
  });
});

describe("who may sync", () => {
  test("a viewer cannot sync, and nothing is scheduled", async () => {
    const { t, orgId, dockId } = await dockFor("vultr");
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    await expect(viewer.mutation(api.docks.mutations.syncDock, { dockId })).rejects.toThrow(/FORBIDDEN/);
    const scheduled = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(scheduled).toEqual([]);
    const dock = await t.run((ctx) => ctx.db.get("docks", dockId));
    expect(dock?.syncState).toBe("idle");
  });

  test("a user of another org cannot sync the dock", async () => {
    const { t, dockId } = await dockFor("vultr");
    const otherOrg = await seedOrg(t, "Other");
    const { as: outsider } = await seedMember(t, otherOrg, "owner");
    // NOT_FOUND, as for a dock that does not exist: ids of other orgs reveal nothing.
    await expect(outsider.mutation(api.docks.mutations.syncDock, { dockId })).rejects.toThrow(/NOT_FOUND/);
    expect(await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect())).toEqual([]);
  });

  test("without an identity syncing is refused", async () => {
    const { t, dockId } = await dockFor("vultr");
    await expect(t.mutation(api.docks.mutations.syncDock, { dockId })).rejects.toThrow(/UNAUTHENTICATED/);
  });
});

describe("the API key", () => {
  test("appears in no query result, scheduled function argument or stored error", async () => {
    const token = emulator.accounts.digitalocean.token;
    const { t, as, dockId } = await dockFor("digitalocean");
    await syncNow(t, as, dockId);
    // A failing sync too: 401 answers and errors must not carry the token.
    emulator.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "401", times: Infinity });
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncError).toMatch(/401/);

    const everything = JSON.stringify(
      await t.run(async (ctx) => ({
        docks: (await ctx.db.query("docks").collect()).map(({ encryptedApiKey: _k, ...rest }) => rest),
        volumes: await ctx.db.query("blockVolumes").collect(),
        servers: await ctx.db.query("servers").collect(),
        scheduled: await ctx.db.system.query("_scheduled_functions").collect(),
      })),
    );
    expect(everything).not.toContain(token);
    const results = JSON.stringify([
      await as.query(api.resources.queries.listBlockVolumes, {}),
      await as.query(api.resources.queries.listServers, {}),
    ]);
    expect(results).not.toContain(token);
    const storedKey = await t.run(async (ctx) => (await ctx.db.get("docks", dockId))!.encryptedApiKey);
    expect(new TextDecoder("latin1").decode(storedKey)).not.toContain(token);
  });
});
